#!/usr/bin/env python3
"""test_secret_echo - issue 10 item 6: secrets echoed by a server.

A server may quote what it was sent in its refusal. mimewatch-sim's `echo`
fault is such a server: what=auth answers a 401 whose message quotes the
request's Authorization header (API 1.0 "MC key:signature", API 2.0
"Bearer <token>"), what=form answers the token request with a 401 quoting
the posted form, client_secret percent-encoded. tests/lib/
strict_http.py's `echo` fault is such a receiver for the HEC and
Elasticsearch outputs: its refusal quotes the Authorization header and the
token raw, base64 and percent-encoded; for Elasticsearch's basic auth
(username, password_file) the "Basic" credentials, base64 of
user:password, in the same forms (test_echo_receiver_basic).

The form echo and the receiver's raw, base64 and percent-encoded echoes
place the secret across the place where mimewatch cuts the message to fit
(the 384 bytes of a Mimecast message, the 160 of HEC's text, the 200-byte
excerpt of a receiver's answer): a scrub after the cut would leave its
first half.

A Kafka output's sasl_password has no server to echo it (the mock cluster
refuses SASL before any credential is sent): test_kafka_sasl_password checks
our own messages and logs.

Through the real binary (validate, fetch, status, status --json, all
--verbose), no secret of the client or the output may appear, raw, as
base64, percent-encoded, or its first 12 bytes in any of those forms, in any
stdout or stderr, or in the bytes of state_dir/store.db and its -wal. The
refusal must still be reported, with the secret replaced by "[secret]".
"""

import base64
import glob
import os
import urllib.parse

import mwout
import mwtest
from mwout import StrictHttp, add_outputs, env_with
from mwtest import Sim, check, eq
from test_secrets import Canaries, Capture, Leaks, SimCreds, write_config

MARKER = "[secret]"
MESSAGE_CUT = 383   # mc_result.message holds 383 characters


def forms(value):
    """value as a server may quote it: raw, base64, percent-encoded."""
    b = value.encode() if isinstance(value, str) else value
    out = {"raw": b, "base64": base64.b64encode(b),
           "percent-encoded": urllib.parse.quote(b, safe="").encode()}
    return out


def needles(secrets):
    """(label, bytes): every form of every secret, and the first 12 bytes of
    each form (what a message cut in the middle of it would keep)."""
    out, seen = [], set()
    for s in secrets:
        b = s.encode() if isinstance(s, str) else s
        values = [b]
        if b" " in b:
            values.append(b.split(b" ", 1)[1])  # "Bearer tok" -> "tok"
        for v in values:
            for kind, f in forms(v).items():
                short = v[:10].decode("latin-1")
                for label, n in (("%s of %s..." % (kind, short), f),
                                 ("first 12 bytes of the %s of %s..." % (kind, short), f[:12])):
                    if len(n) >= 8 and n not in seen:
                        seen.add(n)
                        out.append((label, n))
    return out


def scan_store(leaks, state_dir):
    files = [p for p in glob.glob(os.path.join(state_dir, "store.db*"))
             if p.endswith(("store.db", "-wal"))]
    check(any(p.endswith("store.db") for p in files), "no store.db in %s" % state_dir)
    for p in files:
        with open(p, "rb") as f:
            leaks.text(p, f.read())


def run_commands(sim, cfg, env, leaks, expect_validate=1, budget="5s"):
    """validate, fetch, status, status --json (all --verbose); returns the
    text they printed."""
    said = []
    for args, rcs in ((["validate"], (expect_validate,)),
                      (["fetch", "--retry-budget", budget], (1,)),
                      (["status"], (0, 1)), (["status", "--json"], (0, 1))):
        r = sim.mw(["--verbose"] + args, config=cfg, env=env)
        leaks.result(r, "mimewatch " + " ".join(args))
        check(r.rc in rcs, "%s: exit %s, expected %s\n%s" % (" ".join(args), r.rc, rcs, r))
        said.append(r.out + r.err)
    return "\n".join(said)


def mimecast_echo(api, what, creds, long_client_id=False):
    """One integration against the sim's echo fault, behind the recording
    forwarder (the exact Authorization values and tokens sent)."""
    with Sim(["--records", "20", "--span", "1h"], api=api, tls=False) as sim:
        cap = Capture(sim.port)
        try:
            cfg = os.path.join(sim.dir, "echo.yaml")
            if long_client_id:
                # the form quoted after "Client authentication failed for
                # request body: client_id=<id>&client_secret=": the secret's
                # middle on the message's cut
                lead = len("Client authentication failed for request body: client_id=")
                half = len(urllib.parse.quote(creds.client_secret, safe="")) // 2
                n = MESSAGE_CUT - lead - len("&client_secret=") - half
                creds.client_id = ("mwcanary-client-" + "x" * n)[:n]
            env = write_config(cfg, sim, cap.url, creds, api=api,
                               forms=("inline", "file") if api == "v1" else ("file",))
            sim.faults("echo:what=%s,%scount=0" % (what, "type=all," if what == "auth" else ""))
            leaks = Leaks()
            said = run_commands(sim, cfg, env, leaks)
            sim.faults("")
            scan_store(leaks, sim.state_dir)
            sent = cap.sent()
            check(cap.requests > 0, "the forwarder saw no request")
            n, size = leaks.assert_none(needles(creds.secrets() + sent),
                                        "echo %s what=%s" % (api, what))
            check(MARKER in said, "the echoed refusal is not reported (with %s in place of "
                  "the secret):\n%s" % (MARKER, said[-3000:]))
            mwtest.report("10.6 secret echo", "places scanned (%s what=%s)" % (api, what), n,
                          "%d bytes, %d sent credentials" % (size, len(sent)))
        finally:
            cap.close()


def test_echo_auth_v1():
    """API 1.0: the 401 quotes "Authorization: MC <access key>:<signature>"."""
    mimecast_echo("v1", "auth", Canaries())


def test_echo_auth_v2():
    """API 2.0: the 401 quotes "Authorization: Bearer <token>" (the sim's own
    client credentials, so that a token is issued first)."""
    mimecast_echo("v2", "auth", SimCreds())


def test_echo_form_v2():
    """API 2.0: the token request's 401 quotes the posted form, the client
    secret percent-encoded and spanning the message's cut."""
    mimecast_echo("v2", "form", Canaries(), long_client_id=True)


def test_echo_receiver():
    """HEC and Elasticsearch receivers quoting the token and API key in
    their refusal, a quoted token across the cut of each message."""
    tag = os.urandom(4).hex()
    hec_token = "mwhecTOK%s+/=%s" % (tag, os.urandom(10).hex())
    es_key = base64.b64encode(("mwes-%s:%s" % (tag, os.urandom(12).hex())).encode()).decode()
    with Sim(["--records", "30", "--span", "1h"]) as sim:
        rx = StrictHttp(sim.dir, hec_token=hec_token, es_key=es_key)
        try:
            key_file = os.path.join(sim.dir, "es.key")
            mwout.write_secret(key_file, es_key)
            add_outputs(sim, "  - type: hec\n    name: hec\n    url: %s\n"
                        "    token_env: MW_ECHO_HEC_TOKEN\n"
                        "  - type: elasticsearch\n    name: es\n    url: %s\n"
                        "    api_key_file: %s\n" % (rx.hec_url, rx.es_url, key_file))
            env = env_with(MW_ECHO_HEC_TOKEN=hec_token)
            leaks = Leaks()
            said = []
            # The token raw, base64 and percent-encoded, each across the cut
            # (HEC: its text, cut to 159 characters, 9 bytes into the body;
            # Elasticsearch 403: the answer's first 200 bytes); then the
            # Authorization header whole.
            for form, cut in (("raw", {"hec": 9 + 159, "es": 200}),
                              ("base64", {"hec": 9 + 159, "es": 200}),
                              ("urlencoded", {"hec": 9 + 159, "es": 200}),
                              ("header", None), ("all", None)):
                rx.reset()
                rx.fault("echo", count=1000000, status=403, form=form, cut=cut)
                r = sim.mw(["--verbose", "fetch", "--retry-budget", "3s"], env=env)
                leaks.result(r, "fetch (receiver echoing %s)" % form)
                eq(r.rc, 1, "fetch while the receivers refuse (%s)\n%s" % (form, r))
                said.append(r.err)
                st = rx.state()
                for k in ("hec", "es"):
                    check(any(q["fault"] == "echo" and q["kind"] == k for q in st["requests"]),
                          "%s: the receiver echoed nothing (%s): %r" % (k, form,
                                                                       st["requests"][:5]))
            said = "\n".join(said) + run_commands(sim, sim.config, env, leaks,
                                                   expect_validate=0, budget="3s")
            scan_store(leaks, sim.state_dir)
            n, size = leaks.assert_none(needles([hec_token, es_key, "Splunk " + hec_token,
                                                 "ApiKey " + es_key]), "receiver echo")
            outs = mwout.outputs_status(sim, env=env)
            for name in ("hec", "es"):
                eq(outs[name]["state"], "error", "%s state after refusals" % name)
                check(MARKER in (outs[name]["error"] or ""),
                      "%s's error should report the refusal with %s:\n%r"
                      % (name, MARKER, outs[name]["error"]))
            check(MARKER in said, "the refusals are not reported:\n%s" % said[-3000:])
            mwtest.report("10.6 secret echo", "places scanned (HEC/ES receiver)", n,
                          "%d bytes" % size)
        finally:
            rx.stop()


def test_echo_receiver_basic():
    """An Elasticsearch receiver quoting the Basic credentials of a user and
    password in its refusal: neither the password, nor user:password, nor
    their base64 may be shown or stored."""
    tag = os.urandom(4).hex()
    user = "mw-user-%s" % tag
    password = "mwPW%s+/=%s" % (tag, os.urandom(10).hex())
    pair = "%s:%s" % (user, password)
    basic = base64.b64encode(pair.encode()).decode()
    with Sim(["--records", "30", "--span", "1h"]) as sim:
        rx = StrictHttp(sim.dir, es_basic=pair)
        try:
            pw_file = os.path.join(sim.dir, "es.password")
            mwout.write_secret(pw_file, password)
            add_outputs(sim, "  - type: elasticsearch\n    name: es\n    url: %s\n"
                        "    username: %s\n    password_file: %s\n" % (rx.es_url, user, pw_file))
            env = env_with()
            leaks = Leaks()
            said = []
            for form, cut in (("raw", {"es": 200}), ("base64", {"es": 200}),
                              ("urlencoded", {"es": 200}), ("header", None), ("all", None)):
                rx.reset()
                rx.fault("echo", count=1000000, status=403, form=form, cut=cut)
                r = sim.mw(["--verbose", "fetch", "--retry-budget", "3s"], env=env)
                leaks.result(r, "fetch (receiver echoing Basic credentials, %s)" % form)
                eq(r.rc, 1, "fetch while the receiver refuses (%s)\n%s" % (form, r))
                said.append(r.err)
                st = rx.state()
                check(st["es_basic_requests"] > 0, "no request came with basic auth (%s)" % form)
                check(any(q["fault"] == "echo" and q["kind"] == "es" for q in st["requests"]),
                      "the receiver echoed nothing (%s)" % form)
            said = "\n".join(said) + run_commands(sim, sim.config, env, leaks,
                                                   expect_validate=0, budget="3s")
            scan_store(leaks, sim.state_dir)
            # user:password in full (its first bytes are the user name, no
            # secret), the rest also cut short.
            whole = [("%s of user:password" % k, f) for k, f in forms(pair).items()]
            n, size = leaks.assert_none(needles([password, basic, "Basic " + basic]) + whole,
                                        "receiver echo of basic auth")
            es = mwout.outputs_status(sim, env=env)["es"]
            eq(es["state"], "error", "es state after refusals")
            check(MARKER in (es["error"] or ""), "es's error should report the refusal with "
                  "%s:\n%r" % (MARKER, es["error"]))
            check(MARKER in said, "the refusals are not reported:\n%s" % said[-3000:])
            mwtest.report("10.6 secret echo", "places scanned (ES basic auth receiver)", n,
                          "%d bytes" % size)
        finally:
            rx.stop()


def test_kafka_sasl_password():
    """A Kafka output's sasl_password (file, then environment): librdkafka's
    mock cluster refuses SASL before any credential is sent (it has no
    SaslHandshake; test_out_kafka_auth), so nothing can echo it back; what
    is checked is that our own messages, librdkafka's log lines at
    --verbose, status and the store never hold it while the refusal is
    reported."""
    password = "mwkafkaPW%s+/=%s" % (os.urandom(4).hex(), os.urandom(10).hex())
    with Sim(["--records", "30", "--span", "1h"]) as sim:
        mc = mwout.MockCluster(sim.dir)
        try:
            pw_file = os.path.join(sim.dir, "kafka.pw")
            mwout.write_secret(pw_file, password)
            base = sim.read_config()
            env = env_with(MW_ECHO_KAFKA_PW=password)
            leaks = Leaks()
            said = []
            for form in ("sasl_password_file: %s" % pw_file,
                         "sasl_password_env: MW_ECHO_KAFKA_PW"):
                with open(sim.config, "w") as f:
                    f.write(base)
                add_outputs(sim, "  - type: kafka\n    name: kf\n    brokers: %s\n"
                            "    timeout: 3s\n    security_protocol: sasl_plaintext\n"
                            "    sasl_mechanism: SCRAM-SHA-512\n    sasl_username: mw\n"
                            "    %s\n" % (mc.bootstrap, form))
                said.append(run_commands(sim, sim.config, env, leaks, expect_validate=0,
                                         budget="3s"))
                err = mwout.outputs_status(sim, env=env)["kf"]["error"] or ""
                check("SASL authentication failure" in err,
                      "the refusal is not reported (%s): %r" % (form, err))
            leaks.text("mockcluster's log", open(mc.log, "rb").read())
            scan_store(leaks, sim.state_dir)
            n, size = leaks.assert_none(needles([password]), "kafka sasl_password")
            mwtest.report("10.6 secret echo", "places scanned (kafka sasl_password)", n,
                          "%d bytes" % size)
        finally:
            mc.stop()


if __name__ == "__main__":
    mwtest.main([test_echo_auth_v1, test_echo_auth_v2, test_echo_form_v2,
                 test_echo_receiver, test_echo_receiver_basic, test_kafka_sasl_password])
