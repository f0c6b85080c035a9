#!/usr/bin/env python3
"""Config errors of outputs (issue 5; HACKING, "Outputs and delivery"): for
every output kind a missing required key, a bad url scheme, a secret file of
mode 0644 (refused ssh-style) and a misspelt key (named, with a suggestion) make
`mimewatch validate` exit 2 before any network use, with FILE:LINE and a
message naming the output, the key and the fix. Also duplicate names,
batch/timeout/heartbeat ranges and unknown template placeholders.
"""

import os

import mwout
import mwtest
from mwout import add_outputs
from mwtest import Sim, check, eq

# (what, output YAML, [substrings the message must hold], key whose line is blamed)
# {d} is the temp dir; {sec} a secret file of mode 0644 there.
CASES = [
    ("ndjson: missing dir", "  - type: ndjson\n    name: nd2\n", ["dir: missing"], "type"),
    ("ndjson: misspelt key", "  - type: ndjson\n    name: nd2\n    dri: {d}/o2\n",
     ["unknown key 'dri'", "did you mean 'dir'"], "dri"),
    ("syslog: missing url", "  - type: syslog\n    hostname: h.example\n",
     ["syslog", "url: missing", "relp://"], "type"),
    ("syslog: bad scheme", "  - type: syslog\n    url: udp://127.0.0.1:514\n",
     ["syslog", "url:", "udp://127.0.0.1:514", "tcp://"], "url"),
    ("syslog: misspelt key", "  - type: syslog\n    url: tcp://127.0.0.1:514\n"
     "    hostnam: h.example\n", ["unknown key 'hostnam'", "did you mean 'hostname'"],
     "hostnam"),
    ("syslog: ca_file without tls", "  - type: syslog\n    url: tcp://127.0.0.1:514\n"
     "    ca_file: {d}/certs/sim-ca.pem\n", ["ca_file", "tls://"], "ca_file"),
    ("hec: missing url", "  - type: hec\n    token: abc\n", ["hec", "url: missing"], "type"),
    ("hec: bad scheme", "  - type: hec\n    url: ftp://127.0.0.1:8088/services/collector/event\n"
     "    token: abc\n", ["hec", "url:", "ftp://", "https://"], "url"),
    ("hec: missing token", "  - type: hec\n    url: https://127.0.0.1:8088/services/collector"
     "/event\n", ["hec", "token", "missing"], "type"),
    ("hec: token_file 0644", "  - type: hec\n    url: https://127.0.0.1:8088/services/"
     "collector/event\n    token_file: {sec}\n", ["{sec}", "0644", "chmod 600"], None),
    ("hec: misspelt key", "  - type: hec\n    url: https://127.0.0.1:8088/services/collector"
     "/event\n    tokn_env: X\n", ["unknown key 'tokn_env'", "did you mean 'token_env'"],
     "tokn_env"),
    ("elasticsearch: missing url", "  - type: elasticsearch\n    index: x-{type}\n",
     ["elasticsearch", "url: missing"], "type"),
    ("elasticsearch: bad scheme", "  - type: elasticsearch\n    url: es.example:9200\n",
     ["elasticsearch", "url:", "es.example:9200", "https://"], "url"),
    ("elasticsearch: api_key_file 0644", "  - type: elasticsearch\n    url: https://127.0.0.1:"
     "9200\n    api_key_file: {sec}\n", ["{sec}", "0644", "chmod 600"], None),
    ("elasticsearch: misspelt key", "  - type: elasticsearch\n    url: https://127.0.0.1:9200"
     "\n    indx: a\n", ["unknown key 'indx'", "did you mean 'index'"], "indx"),
    ("elasticsearch: unknown placeholder", "  - type: elasticsearch\n    url: https://127.0.0"
     ".1:9200\n    index: m-{tenant}\n", ["index", "{tenant}", "{integration}"], "index"),
    ("kafka: missing brokers", "  - type: kafka\n    topic: t\n", ["kafka", "brokers: missing"],
     "type"),
    ("kafka: brokers without port", "  - type: kafka\n    brokers: k1.example:9092,k2.example\n",
     ["kafka", "brokers:", "k2.example", "host:port"], "brokers"),
    ("kafka: misspelt key", "  - type: kafka\n    brokers: 127.0.0.1:9092\n    topik: t\n",
     ["unknown key 'topik'", "did you mean 'topic'"], "topik"),
    ("kafka: bad security_protocol", "  - type: kafka\n    brokers: 127.0.0.1:9092\n"
     "    security_protocol: tls\n", ["kafka", "security_protocol", "'tls'", "sasl_ssl"],
     "security_protocol"),
    ("kafka: sasl without username", "  - type: kafka\n    brokers: 127.0.0.1:9092\n"
     "    security_protocol: sasl_ssl\n    sasl_mechanism: PLAIN\n    sasl_password: x\n",
     ["kafka", "sasl_username: missing"], "type"),
    ("kafka: ca_file with plaintext", "  - type: kafka\n    brokers: 127.0.0.1:9092\n"
     "    ca_file: {d}/certs/sim-ca.pem\n", ["kafka", "ca_file", "uses no TLS",
                                          "security_protocol: ssl"], "ca_file"),
    ("kafka: unreadable client_key", "  - type: kafka\n    brokers: 127.0.0.1:9092\n"
     "    security_protocol: ssl\n    client_cert: {d}/certs/sim-ca.pem\n"
     "    client_key: {d}/no-such.key\n", ["kafka", "client_key", "cannot read",
                                         "No such file"], "client_key"),
    ("kafka: sasl_password_file 0644", "  - type: kafka\n    brokers: 127.0.0.1:9092\n"
     "    security_protocol: sasl_plaintext\n    sasl_mechanism: SCRAM-SHA-256\n"
     "    sasl_username: mw\n    sasl_password_file: {sec}\n",
     ["{sec}", "0644", "chmod 600"], None),
    ("kafka: sasl_password_env unset", "  - type: kafka\n    brokers: 127.0.0.1:9092\n"
     "    security_protocol: sasl_plaintext\n    sasl_mechanism: PLAIN\n"
     "    sasl_username: mw\n    sasl_password_env: MW_TEST_NO_SUCH_VAR\n",
     ["sasl_password_env", "MW_TEST_NO_SUCH_VAR", "not set"], "sasl_password_env"),
    ("unknown output type", "  - type: splunk\n    url: https://x\n",
     ["'splunk' is not an output type", "hec"], "type"),
    ("two syslog outputs without names", "  - type: syslog\n    url: tcp://127.0.0.1:514\n"
     "  - type: syslog\n    url: relp://127.0.0.1:2514\n", ["name: 'syslog' is already used", "own name"], None),
    ("batch out of range", "  - type: syslog\n    url: tcp://127.0.0.1:514\n    batch: 0\n",
     ["batch", "1 to 10000"], "batch"),
    ("timeout not a duration", "  - type: syslog\n    url: tcp://127.0.0.1:514\n"
     "    timeout: soon\n", ["timeout", "soon"], "timeout"),
]

# Client certificates and Elasticsearch's basic auth (issue 16 item 2).
CASES += [
    ("syslog: relp+tls without ca_file", "  - type: syslog\n    url: relp+tls://localhost:2514\n",
     ["relp+tls://", "ca_file", "trust store"], "url"),
    ("syslog: client_cert without client_key", "  - type: syslog\n    url: tls://localhost:"
     "6514\n    client_cert: {d}/certs/sim-ca.pem\n", ["client_cert without client_key"],
     "client_cert"),
    ("syslog: client_cert with tcp", "  - type: syslog\n    url: tcp://127.0.0.1:514\n"
     "    client_cert: {d}/certs/sim-ca.pem\n    client_key: {d}/certs/sim-ca.pem\n",
     ["client_cert", "tls://", "relp+tls://"], "client_cert"),
    ("hec: client_key unreadable", "  - type: hec\n    url: https://127.0.0.1:8088/services/"
     "collector/event\n    token: abc\n    client_cert: {d}/certs/sim-ca.pem\n"
     "    client_key: {d}/no-such.key\n", ["client_key", "no-such.key", "cannot read"],
     "client_key"),
    ("elasticsearch: api_key and username", "  - type: elasticsearch\n    url: https://127.0.0"
     ".1:9200\n    api_key: k\n    username: u\n    password: p\n",
     ["api_key", "username/password", "keep one"], "username"),
    ("elasticsearch: password_file 0644", "  - type: elasticsearch\n    url: https://127.0.0"
     ".1:9200\n    username: u\n    password_file: {sec}\n", ["{sec}", "0644", "chmod 600"],
     None),
]


def line_of(text, key, start):
    """1-based line of the first `key:` at or after line start (1-based)."""
    lines = text.split("\n")
    for i in range(start - 1, len(lines)):
        s = lines[i].strip()
        if s.startswith("- "):
            s = s[2:]
        if s.startswith(key + ":"):
            return i + 1
    raise AssertionError("no %s: in the config" % key)


def test_output_config_errors():
    with Sim([], write_config=True) as sim:
        base = sim.read_config()
        sec = os.path.join(sim.dir, "secret.txt")
        mwout.write_secret(sec, "s3cr3t-value", 0o644)
        failures = []
        for what, y, want, blame in CASES:
            y = y.replace("{d}", sim.dir).replace("{sec}", sec)
            with open(sim.config, "w") as f:
                f.write(base)
            add_outputs(sim, y)
            r = sim.mw(["validate"], timeout=30)
            msg = r.err
            try:
                eq(r.rc, 2, "exit status")
                eq(r.out, "", "stdout (no check may run on a broken config)")
                for w in want:
                    w = w.replace("{sec}", sec)
                    check(w in msg, "message lacks %r" % w)
                check("s3cr3t-value" not in msg + r.out, "the message shows the secret")
                if blame:
                    ln = line_of(sim.read_config(), blame, len(base.rstrip("\n").split("\n")))
                    check("config.yaml:%d:" % ln in msg, "message does not blame line %d"
                          % ln)
            except mwtest.CheckFailed as ex:
                failures.append("%s: %s\n    stderr: %s" % (what, ex, msg.strip()[:400]))
        check(not failures, "%d of %d cases:\n  %s" % (len(failures), len(CASES),
                                                     "\n  ".join(failures)))
        mwtest.report("issue5 config", "output config errors refused with exit 2 + message",
                      "%d/%d" % (len(CASES), len(CASES)))


def test_heartbeat_range():
    with Sim([]) as sim:
        base = sim.read_config()
        for val, ok in (("5s", False), ("9s", False), ("10s", True), ("2d", False),
                        ("often", False)):
            with open(sim.config, "w") as f:
                f.write("heartbeat: %s\n" % val + base)
            r = sim.mw(["validate"], timeout=60)
            if ok:
                eq(r.rc, 0, "validate with heartbeat: %s\n%s" % (val, r))
            else:
                eq(r.rc, 2, "validate with heartbeat: %s\n%s" % (val, r))
                check("config.yaml:1:" in r.err and "heartbeat" in r.err,
                      "heartbeat: %s: message %r" % (val, r.err))


def test_secret_0600_accepted():
    """The same secret file at 0600, and token_env, are accepted."""
    with Sim([]) as sim:
        sec = os.path.join(sim.dir, "secret.txt")
        mwout.write_secret(sec, "s3cr3t-value", 0o600)
        add_outputs(sim, "  - type: hec\n    url: https://127.0.0.1:1/services/collector/event"
                    "\n    token_file: %s\n  - type: elasticsearch\n    url: http://127.0.0.1:1"
                    "\n    api_key_env: MW_TEST_ES_KEY\n  - type: kafka\n    brokers: "
                    "127.0.0.1:1\n  - type: syslog\n    url: relp://127.0.0.1:1\n" % sec)
        r = sim.mw(["status", "--json"], env=mwout.env_with(MW_TEST_ES_KEY="k"))
        eq(r.rc, 0, "status with every output kind configured\n%s" % r)
        check("s3cr3t-value" not in r.out + r.err, "status shows the token")
        st = mwout.outputs_status(sim, env=mwout.env_with(MW_TEST_ES_KEY="k"))
        eq(sorted(st), ["elasticsearch", "hec", "kafka", "ndjson", "syslog"], "output names")
        for name, o in st.items():
            eq(o["state"], "idle" if name != "ndjson" else o["state"], "%s state" % name)
        # api_key_env set to nothing: refused, naming the variable.
        r = sim.mw(["validate"], env=mwout.env_with(MW_TEST_ES_KEY=""))
        eq(r.rc, 2, "validate with an empty api_key_env\n%s" % r)
        check("MW_TEST_ES_KEY" in r.err, "message does not name the variable: %r" % r.err)


if __name__ == "__main__":
    mwtest.main([test_output_config_errors, test_heartbeat_range, test_secret_0600_accepted])
