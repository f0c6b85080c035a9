#!/usr/bin/env python3
"""Switching an integration from API 1.0 to 2.0 by hand (issue 9, item 8).

mimewatch.yaml(5) says how: api: v2, the four 1.0 keys replaced by
client_id and client_secret, the name kept, because the store keys the
cursors and records by integration name and type. Between two `mimewatch
fetch` runs against mimewatch-sim (which serves both APIs) the config is
edited that way; the second fetch must go on from the first one's horizon:
no NDJSON line written twice, none lost, the earlier lines untouched. A half
edit is refused with the field and the fix named, and changes nothing.
"""

import re
import sqlite3
import time

import mwstate
import mwtest
from mwtest import TYPES, Sim, check, eq

V2_CLIENT_ID = "mwsim-client"
V2_CLIENT_SECRET = "mwsim-client-secret-0123456789"
V1_KEYS = ("app_id", "app_key", "access_key", "secret_key")


def switch_by_hand(sim, keep=()):
    """The edit the man page describes, on the sim's config: api: v2, the
    1.0 keys replaced by client_id and client_secret (those in keep are left
    behind, as a half-done edit would), everything else as it was."""
    out = []
    for line in sim.read_config().splitlines(True):
        m = re.match(r"^(\s*)(api|%s):" % "|".join(V1_KEYS), line)
        if not m:
            out.append(line)
        elif m.group(2) == "api":
            out.append("%sapi: v2\n" % m.group(1))
        elif m.group(2) in keep:
            out.append(line)
        elif m.group(2) == "app_id":
            out.append("%sclient_id: %s\n" % (m.group(1), V2_CLIENT_ID))
        elif m.group(2) == "app_key":
            out.append("%sclient_secret: %s\n" % (m.group(1), V2_CLIENT_SECRET))
    with open(sim.config, "w") as f:
        f.write("".join(out))


def sources(sim):
    con = sqlite3.connect("file:%s/store.db?mode=ro" % sim.state_dir, uri=True, timeout=30)
    try:
        return dict(con.execute("SELECT type, id FROM sources WHERE integration='sim'"))
    finally:
        con.close()


def test_switch_between_fetches():
    # records keep arriving, one every 0.5 s a type, so the second fetch has new ones
    with Sim(["--span", "20m", "--spacing-ms", "500"]) as sim:
        r1 = sim.fetch()
        h1 = mwstate.check_horizons(sim, mwstate.truth_times(sim), where="v1: ")
        src1 = sources(sim)
        lines1 = {t: sim.ndjson_raw("sim", t) for t in TYPES}
        for t in TYPES:
            check(r1.report()[("sim", t)]["new"] > 0, "the v1 fetch collected no %s\n%s"
                  % (t, r1))
        tokens1 = sim.stats().get("requests", {}).get("/oauth/token", 0)
        eq(tokens1, 0, "token requests while on API 1.0")

        switch_by_hand(sim)
        text = sim.read_config()
        check("api: v2" in text and "name: sim" in text and "client_id: " in text, text)
        for k in V1_KEYS:
            check(not re.search(r"(?m)^\s*%s:" % k, text), "%s left in:\n%s" % (k, text))
        time.sleep(2)

        r2 = sim.fetch()
        truth = mwstate.truth_times(sim)
        h2 = mwstate.check_horizons(sim, truth, prev=h1, where="v2: ")
        eq(sources(sim), src1, "the integration's sources in the store")
        check(sim.stats().get("requests", {}).get("/oauth/token", 0) >= 1,
              "the second fetch asked for no API 2.0 token")
        for t in TYPES:
            rep = r2.report()[("sim", t)]
            check(rep["new"] > 0, "%s: nothing new after the switch\n%s" % (t, r2))
            check(h2[t] > h1[t], "%s: horizon %d -> %d" % (t, h1[t], h2[t]))
            # only the overlap (10m, both ends in: times are whole seconds) before the
            # kept horizon is read again, never the whole lookback
            again = sum(1 for tm in truth[t].values() if h1[t] - 600 <= tm <= h1[t])
            check(rep["dup"] <= again, "%s: %d records read again, more than the %d of the "
                  "overlap: the horizon was not kept\n%s" % (t, rep["dup"], again, r2))
            lines2 = sim.ndjson_raw("sim", t)
            eq(lines2[:len(lines1[t])], lines1[t], "%s: the lines written on API 1.0" % t)
        below = {t: {m: tm for m, tm in truth[t].items() if tm < h2[t]} for t in TYPES}
        lost, dup, invalid, lines = mwstate.count_lost_dup(sim, below)
        mwtest.report("9.8", "NDJSON lines duplicated / lost after a v1->v2 switch",
                      "%d / %d" % (dup, lost), "%d lines" % lines)
        eq((lost, dup, invalid), (0, 0, 0), "(lost, duplicated, invalid) NDJSON lines")
        eq(mwstate.check_ndjson_committed(sim), sum(sim.store_counts().values()),
           "committed NDJSON lines vs stored records")


def test_half_switch_refused():
    with Sim(["--records", "30", "--span", "1h"]) as sim:
        sim.fetch()
        h1 = mwstate.check_horizons(sim, mwstate.truth_times(sim))
        before = sim.store_counts()
        switch_by_hand(sim, keep=("access_key",))
        line = next(i for i, l in enumerate(sim.read_config().splitlines(), 1)
                    if l.strip().startswith("access_key:"))
        for cmd in (["fetch"], ["validate"]):
            r = sim.mw(cmd)
            eq(r.rc, 2, "%s with a 1.0 key left on api: v2\n%s" % (cmd[0], r))
            check("%s:%d: integration 'sim': access_key: is an API 1.0 key, and this "
                  "integration has api: v2; to switch to API 2.0 replace app_id, app_key, "
                  "access_key and secret_key with client_id and client_secret and keep the "
                  "name (its cursors and records are kept), or set api: v1"
                  % (sim.config, line) in r.err, "the error does not name the key and the "
                  "fix:\n%s" % r)
            check(mwtest.SIM_ACCESS_KEY[:24] not in r.out + r.err, "the key was echoed")

        # the client keys still to add: named, with where they come from
        text = re.sub(r"(?m)^\s*(access_key|client_id|client_secret):.*\n", "",
                      sim.read_config())
        with open(sim.config, "w") as f:
            f.write(text)
        r = sim.mw(["fetch"])
        eq(r.rc, 2, "fetch with api: v2 and no client keys\n%s" % r)
        check("integration 'sim': client_id: missing; add the Client ID of the API 2.0 "
              "application" in r.err, r.err)
        eq(sim.store_counts(), before, "records after refused runs")
        eq(mwstate.check_horizons(sim, mwstate.truth_times(sim)), h1,
           "horizons after refused runs")


if __name__ == "__main__":
    mwtest.main([test_switch_between_fetches, test_half_switch_refused])
