#!/usr/bin/env python3
"""API 2.0: OAuth2 client credentials, bearer tokens, expiry and refresh."""

import mwtest
from mwtest import TYPES, Sim, check, eq

NAME = "sim-v2"


def oauth_requests(st):
    return st.get("requests", {}).get("/oauth/token", 0)


def test_v2_fetch():
    with Sim(["--records", "1000", "--span", "2h"], api="v2") as sim:
        text = sim.read_config()
        check("api: v2" in text and NAME in text, "--api v2 config lacks 'api: v2'/%s:\n%s"
              % (NAME, text))
        r = sim.fetch()
        st = sim.stats()
        eq(oauth_requests(st), 1, "POST /oauth/token requests for one short fetch")
        for t in TYPES:
            eq(r.report()[(NAME, t)]["new"], 1000, "%s/%s new" % (NAME, t))
        eq(st.get("status", {}).get("401", 0), 0, "401s the tenant sent")
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES}, name=NAME)
        r = sim.mw(["validate"])
        eq(r.rc, 0, "validate over API 2.0\n%s" % r)


def test_v2_token_expiry():
    # Tokens live 5 s; a small bucket stretches the fetch to ~10 s.
    with Sim(["--records", "3000", "--span", "2h", "--token-ttl", "5", "--rate-limit", "10",
              "--refill-ms", "120"], api="v2") as sim:
        r = sim.fetch(timeout=60)
        st = sim.stats()
        check(r.wall > 6, "the fetch took only %.1fs; it must outlive a 5 s token" % r.wall)
        check(oauth_requests(st) >= 2, "only %d token requests during a %.1fs fetch with 5 s "
              "tokens" % (oauth_requests(st), r.wall))
        eq(st.get("early_requests"), 0, "early_requests")
        for t in TYPES:
            rep = r.report()[(NAME, t)]
            eq(rep["failed"], False, "%s/%s FAILED" % (NAME, t))
            eq(rep["new"], 3000, "%s/%s new" % (NAME, t))
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES}, name=NAME)


def test_v2_token_expired_fault():
    with Sim(["--records", "300", "--span", "1h"], api="v2") as sim:
        sim.faults("token_expired:type=url,after=1,count=1")
        r = sim.fetch()
        st = sim.stats()
        eq(st.get("status", {}).get("401", 0), 1, "401 token_expired responses sent")
        eq(oauth_requests(st), 2, "token requests: the first, and one after token_expired")
        for t in TYPES:
            eq(r.report()[(NAME, t)]["new"], 300, "%s/%s new" % (NAME, t))
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES}, name=NAME)


def test_v2_wrong_secret():
    with Sim(["--records", "10"], api="v2") as sim:
        sim.edit_config(client_secret="not-the-secret")
        r = sim.fetch(budget="10s", expect_rc=1)
        for t in TYPES:
            eq(r.report()[(NAME, t)]["failed"], True,
               "%s/%s FAILED with a wrong secret" % (NAME, t))
        check("invalid signature" in r.err, "a wrong client_secret should be 'invalid "
              "signature':\n%s" % r)
        check("not-the-secret" not in r.out + r.err, "fetch printed the client secret")


if __name__ == "__main__":
    mwtest.main([test_v2_fetch, test_v2_token_expiry, test_v2_token_expired_fault,
                 test_v2_wrong_secret])
