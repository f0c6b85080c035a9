#!/usr/bin/env python3
"""HEC and Elasticsearch over HTTPS with client certificates and
Elasticsearch basic auth (issue 16 item 2), through the real binary against
tests/lib/strict_http.py started by the test over HTTPS (mwout.StrictHttp
with tls and client_cert: a CA, a server certificate for localhost, a
client certificate signed by the CA, a second CA and a "rogue" client
certificate signed by it, made with openssl; Python's ssl with
verify_mode CERT_REQUIRED and the test CA), taking Elasticsearch's
"Basic" credentials as well as its API key.

test_client_cert_basic_auth: hec (token) and elasticsearch (username and
  password_file) with ca_file, client_cert and client_key: every record
  arrives exactly once at each, no protocol violation, every bulk request
  carried the Basic credentials; status ok, delivered = records.
test_client_cert_refused: without a client certificate, then with one
  signed by another CA: fetch exits 1, both outputs in state error naming
  client_cert, nothing stored by the receiver; with the right certificate
  every record arrives exactly once (nothing lost).
test_basic_auth_refused: a wrong password: fetch exits 1, the
  elasticsearch output in state error naming the user and the password keys
  (HTTP 401, basic auth), the password nowhere in stdout, stderr or status;
  with the password fixed every record arrives exactly once.
"""

import os

import mwout
import mwtest
from mwout import StrictHttp, add_outputs, env_with, ndjson_records, outputs_status
from mwtest import Sim, check, eq
from test_out_http import check_exact

ITEM = "issue16 http tls"
USER = "mw-writer"
PASSWORD = "pw-%s" % os.urandom(8).hex()


def outputs(rx, pw_file, cert=None, key=None):
    tls = "    ca_file: %s\n" % rx.ca_file
    if cert:
        tls += "    client_cert: %s\n    client_key: %s\n" % (cert, key)
    return ("  - type: hec\n    name: hec\n    url: %s\n    token_env: MW_TEST_HEC_TOKEN\n%s"
            "  - type: elasticsearch\n    name: es\n    url: %s\n    username: %s\n"
            "    password_file: %s\n%s" % (rx.hec_url, tls, rx.es_url, USER, pw_file, tls))


def setup(sim, rx, password=PASSWORD, cert=True, rogue=False):
    """Writes the outputs into a fresh copy of the sim's config; returns env."""
    pw_file = os.path.join(sim.dir, "es.password")
    mwout.write_secret(pw_file, password)
    if not hasattr(sim, "base_config"):
        sim.base_config = sim.read_config()
    with open(sim.config, "w") as f:
        f.write(sim.base_config)
    c, k = (None, None)
    if cert:
        c, k = (rx.rogue_cert, rx.rogue_key) if rogue else (rx.client_cert, rx.client_key)
    add_outputs(sim, outputs(rx, pw_file, c, k))
    return env_with(MW_TEST_HEC_TOKEN=rx.hec_token)


def no_password(r, what):
    check(PASSWORD not in r.out + r.err, "%s prints the password\n%s" % (what, r))


def test_client_cert_basic_auth():
    n = mwtest.scaled(300, 3000)
    with Sim(["--records", str(n)]) as sim:
        rx = StrictHttp(sim.dir, client_cert=True, es_basic="%s:%s" % (USER, PASSWORD))
        env = setup(sim, rx)
        r = sim.mw(["fetch"], env=env, timeout=180)
        eq(r.rc, 0, "fetch\n%s" % r)
        no_password(r, "fetch")
        want = ndjson_records(sim)
        eq(len(want), 3 * n, "NDJSON records")
        st = check_exact(rx, want, "client certificate + basic auth")
        check(st["es_basic_requests"] > 0, "no bulk request came with basic auth")
        eq(st["auth_failures"], 0, "requests refused for their credentials")
        outs = outputs_status(sim, env=env)
        for name in ("hec", "es"):
            eq(outs[name]["state"], "ok", "%s state (error %r)" % (name, outs[name]["error"]))
            eq(outs[name]["delivered"], 3 * n, "%s delivered" % name)
        rx.stop()
        mwtest.report(ITEM, "HTTPS with a client certificate, ES basic auth: exactly once",
                      "%d records x 2 outputs" % (3 * n))


def test_client_cert_refused():
    n = mwtest.scaled(200, 2000)
    with Sim(["--records", str(n)]) as sim:
        rx = StrictHttp(sim.dir, client_cert=True, es_basic="%s:%s" % (USER, PASSWORD))
        errors = []
        for rogue, cert, want in ((False, False, "set client_cert and client_key"),
                                  (True, True, "refused the client certificate")):
            env = setup(sim, rx, cert=cert, rogue=rogue)
            r = sim.mw(["fetch"], env=env, timeout=180)
            eq(r.rc, 1, "fetch with %s\n%s" % ("the rogue certificate" if rogue else
                                               "no certificate", r))
            outs = outputs_status(sim, env=env)
            for name in ("hec", "es"):
                o = outs[name]
                eq(o["state"], "error", "%s state (error %r)" % (name, o["error"]))
                check("TLS failure" in o["error"] and want in o["error"],
                      "%s error lacks 'TLS failure' and %r: %r" % (name, want, o["error"]))
                eq(o["delivered"], 0, "%s delivered" % name)
                errors.append(o["error"])
            st = rx.state()
            eq((st["hec_events"], st["es_docs"]), (0, 0), "records the receiver stored")
        env = setup(sim, rx)
        r = sim.mw(["fetch"], env=env, timeout=180)
        eq(r.rc, 0, "fetch with the right certificate\n%s" % r)
        check_exact(rx, ndjson_records(sim), "after the certificate was fixed")
        rx.stop()
        mwtest.report(ITEM, "HTTPS client certificate missing or refused: TLS error, 0 lost",
                      errors[0][:160])


def test_basic_auth_refused():
    n = mwtest.scaled(200, 2000)
    with Sim(["--records", str(n)]) as sim:
        rx = StrictHttp(sim.dir, client_cert=True, es_basic="%s:%s" % (USER, PASSWORD))
        env = setup(sim, rx, password=PASSWORD[::-1])
        r = sim.mw(["fetch"], env=env, timeout=180)
        eq(r.rc, 1, "fetch with a wrong password\n%s" % r)
        check(PASSWORD[::-1] not in r.out + r.err, "fetch prints the wrong password\n%s" % r)
        es = outputs_status(sim, env=env)["es"]
        eq(es["state"], "error", "es state (error %r)" % es["error"])
        for w in ('user "%s"' % USER, "HTTP 401", "basic auth", "password_file"):
            check(w in es["error"], "es error lacks %r: %r" % (w, es["error"]))
        check(PASSWORD[::-1] not in es["error"], "status shows the password")
        st = rx.state()
        eq(st["es_docs"], 0, "documents stored with a wrong password")
        check(st["auth_failures"] > 0, "the receiver saw no refused credentials")
        env = setup(sim, rx)
        r = sim.mw(["fetch"], env=env, timeout=180)
        eq(r.rc, 0, "fetch with the password fixed\n%s" % r)
        no_password(r, "fetch")
        check_exact(rx, ndjson_records(sim), "after the password was fixed")
        rx.stop()
        mwtest.report(ITEM, "ES basic auth refused: 401 naming the user, 0 lost", es["error"][:160])


if __name__ == "__main__":
    mwtest.main([test_client_cert_basic_auth, test_client_cert_refused, test_basic_auth_refused])
