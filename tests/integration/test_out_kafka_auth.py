#!/usr/bin/env python3
"""Kafka output security (issue 16 item 2) through the real binary, as far
as this machine can test it (HACKING, "Outputs and delivery", says what is
left untested and why).

librdkafka 2.0.2's mock cluster (tests/lib/mockcluster) listens in
plaintext only and its ApiVersions lists no SaslHandshake: a producer set
up for SASL stops before it sends any credential, librdkafka's
_AUTHENTICATION "SASL Handshake not supported by broker". Debian 12 ships
no Kafka broker. So SASL is tested up to that refusal, and TLS against
openssl s_server holding a certificate of a test CA (it completes the
handshake and shows what the client sent, but speaks no Kafka).

test_sasl_refused_by_mock: sasl_plaintext with PLAIN, SCRAM-SHA-256 and
  SCRAM-SHA-512 (the password by _env, _file and inline) against the mock:
  fetch exits 1, the output is in error (not retrying) with the class "SASL
  authentication failure" and its remedy, no topic holds a record, and the
  password is in no output; the same output set back to plaintext then
  delivers every record exactly once.
test_tls_wrong_ca: ca_file naming another CA: "TLS failure" with the
  ca_file remedy, state error; s_server got no request.
test_tls_host_mismatch: brokers naming an address the certificate does not
  (127.0.0.2): "TLS failure" too.
test_tls_right_ca: the right ca_file, with client_cert and client_key
  signed by the same CA and s_server demanding a client certificate: the
  handshake completes (s_server saw the client's certificate and decrypted
  librdkafka's first request, ApiVersions from client id "mimewatch"); the
  output then times out retrying (no Kafka there), with no TLS failure.
"""

import os
import socket
import subprocess
import time

import mwout
import mwtest
from mwout import MockCluster, add_outputs, env_with, ndjson_records, outputs_status
from mwtest import Sim, check, eq
from test_out_kafka import consume_check, create_topics, kafka_output

PASSWORD = "mw-kafka-Pw-%s" % os.urandom(6).hex()


def said(r):
    return r.out + r.err


def sasl_fetch(sim, mc, mechanism, form, env):
    """One fetch with a SASL kafka output (password given in form); returns
    the output's status."""
    sec = os.path.join(sim.dir, "kafka.pass")
    mwout.write_secret(sec, PASSWORD)
    secret = {"env": "    sasl_password_env: MW_KAFKA_PASSWORD\n",
              "file": "    sasl_password_file: %s\n" % sec,
              "inline": "    sasl_password: %s\n" % PASSWORD}[form]
    with open(sim.config, "w") as f:
        f.write(sim.base_config)
    add_outputs(sim, kafka_output(mc, "    timeout: 3s\n    security_protocol: sasl_plaintext\n"
                                  "    sasl_mechanism: %s\n    sasl_username: mw\n%s"
                                  % (mechanism, secret)))
    r = sim.mw(["--verbose", "fetch", "--retry-budget", "3s"], env=env, timeout=120)
    check(PASSWORD not in said(r), "fetch shows the SASL password (%s)" % form)
    eq(r.rc, 1, "fetch with a SASL output the mock refuses (%s, %s)\n%s"
       % (mechanism, form, r))
    check("SASL authentication failure" in r.err,
          "fetch's stderr lacks the SASL class (%s):\n%s" % (mechanism, r.err[-2000:]))
    st = sim.mw(["status", "--json"], env=env)
    check(PASSWORD not in said(st), "status --json shows the SASL password")
    return outputs_status(sim, env=env)["kf"]


def test_sasl_refused_by_mock():
    n = 50
    with Sim(["--records", str(n), "--span", "1h"]) as sim:
        mc = MockCluster(sim.dir)
        try:
            create_topics(mc)
            sim.base_config = sim.read_config()
            env = env_with(MW_KAFKA_PASSWORD=PASSWORD)
            for mech, form in (("PLAIN", "env"), ("SCRAM-SHA-256", "file"),
                               ("scram-sha-512", "inline")):
                st = sasl_fetch(sim, mc, mech, form, env)
                eq(st["state"], "error", "kf state after the SASL refusal (%s)" % mech)
                err = st["error"] or ""
                for w in ("SASL authentication failure", "SASL Handshake not supported",
                          "sasl_username", "sasl_password", "sasl_mechanism"):
                    check(w in err, "kf error lacks %r (%s): %r" % (w, mech, err))
                eq(st["delivered"], 0, "kf delivered while refused (%s)" % mech)
            want = ndjson_records(sim)
            eq(len(want), 3 * n, "NDJSON records")
            eq(consume_check(mc, want, "after the refusals"), (3 * n, 0),
               "(lost, duplicated) while every SASL attempt was refused")
            for leaf in ("store.db", "store.db-wal"):
                p = os.path.join(sim.state_dir, leaf)
                if os.path.exists(p):
                    with open(p, "rb") as f:
                        check(PASSWORD.encode() not in f.read(), "%s holds the SASL password"
                              % leaf)
            # The same output without SASL: the records still wait in the
            # store and go out once each.
            with open(sim.config, "w") as f:
                f.write(sim.base_config)
            add_outputs(sim, kafka_output(mc, "    timeout: 3s\n"))
            sim.fetch(timeout=120)
            eq(consume_check(mc, want, "plaintext after the refusals"), (0, 0),
               "(lost, duplicated) once the output is plaintext again")
            st = outputs_status(sim)["kf"]
            eq((st["state"], st["delivered"]), ("ok", 3 * n), "kf state, delivered")
            mwtest.report("issue16 kafka", "SASL PLAIN/SCRAM-256/SCRAM-512 against the mock "
                          "cluster: refused, error class", "SASL authentication failure",
                          "mock 2.0.2 has no SaslHandshake; %d records delivered once "
                          "after plaintext" % (3 * n))
        finally:
            mc.stop()


# ---- TLS against openssl s_server ----------------------------------------------------

def sh(cwd, cmd):
    r = subprocess.run(cmd, shell=True, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    check(r.returncode == 0, "%s failed:\n%s" % (cmd, r.stdout.decode(errors="replace")))


def make_pki(d):
    """mwout's CA and localhost/127.0.0.1 server certificate, another CA,
    and a client certificate (CN mw-kafka-client) of the first CA."""
    mwout.make_certs(d)
    sh(d, "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mw-other-ca "
       "-keyout other.key -out other.pem")
    sh(d, "openssl req -newkey rsa:2048 -nodes -subj /CN=mw-kafka-client -keyout client.key "
       "-out client.csr && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
       "-CAcreateserial -days 2 -out client.pem")
    for f in ("other.key", "client.key", "client.pem"):
        os.chmod(os.path.join(d, f), 0o600)


class TlsListener:
    """openssl s_server on host:free port with the server certificate; with
    verify, it demands a client certificate of the test CA. Its stdin stays
    open (at end of input it quits); its output is the log."""

    def __init__(self, d, host="127.0.0.1", verify=False):
        self.host, self.port = host, mwout.free_port()
        self.log = os.path.join(d, "s_server.%d.log" % self.port)
        argv = ["openssl", "s_server", "-accept", "%s:%d" % (host, self.port),
                "-cert", os.path.join(d, "server.pem"), "-key", os.path.join(d, "server.key")]
        if verify:
            argv += ["-Verify", "1", "-CAfile", os.path.join(d, "ca.pem")]
        self.out = open(self.log, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        mwout.wait_until(lambda: "ACCEPT" in self.text(), 10, "s_server to listen")

    def text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("latin-1")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def tls_fetch(sim, host, port, extra):
    """fetch with a kafka ssl output to host:port; the output's status."""
    with open(sim.config, "w") as f:
        f.write(sim.base_config)
    add_outputs(sim, "  - type: kafka\n    name: kf\n    brokers: %s:%d\n    timeout: 3s\n"
                "    security_protocol: ssl\n%s" % (host, port, extra))
    r = sim.mw(["fetch", "--retry-budget", "3s"], timeout=120)
    eq(r.rc, 1, "fetch with a kafka output to s_server\n%s" % r)
    return outputs_status(sim)["kf"], r


def tls_case(fn):
    """Runs fn(sim, d) with the PKI made in the sim's directory."""
    with Sim(["--records", "5", "--span", "1h"]) as sim:
        make_pki(sim.dir)
        sim.base_config = sim.read_config()
        fn(sim, sim.dir)


def check_tls_failure(st, r, what, remedy):
    eq(st["state"], "error", "kf state (%s): a TLS failure is not retried" % what)
    err = st["error"] or ""
    for w in ("TLS failure", "certificate verify failed", remedy):
        check(w in err, "kf error lacks %r (%s): %r" % (w, what, err))
    check("TLS failure" in r.err, "fetch's stderr lacks the TLS class (%s):\n%s"
          % (what, r.err[-2000:]))


def test_tls_wrong_ca():
    def run(sim, d):
        srv = TlsListener(d)
        try:
            st, r = tls_fetch(sim, "localhost", srv.port, "    ca_file: %s/other.pem\n" % d)
            check_tls_failure(st, r, "wrong CA", "check ca_file")
            check("mimewatch" not in srv.text(), "s_server got a request over a connection "
                  "the client should have refused")
        finally:
            srv.stop()
    tls_case(run)


def test_tls_host_mismatch():
    def run(sim, d):
        try:
            socket.create_connection(("127.0.0.2", 9), timeout=1).close()
        except ConnectionRefusedError:
            pass
        except OSError as ex:
            raise mwtest.Skip("127.0.0.2 is not reachable here: %s" % ex)
        srv = TlsListener(d, host="127.0.0.2")
        try:
            st, r = tls_fetch(sim, "127.0.0.2", srv.port, "    ca_file: %s/ca.pem\n" % d)
            check_tls_failure(st, r, "host not in the certificate",
                              "names its host as brokers writes it")
        finally:
            srv.stop()
    tls_case(run)


def test_tls_right_ca():
    def run(sim, d):
        srv = TlsListener(d, verify=True)
        try:
            t0 = time.monotonic()
            st, r = tls_fetch(sim, "localhost", srv.port,
                              "    ca_file: %s/ca.pem\n    client_cert: %s/client.pem\n"
                              "    client_key: %s/client.key\n" % (d, d, d))
            text = srv.text()
            check("CN = mw-kafka-client" in text or "CN=mw-kafka-client" in text,
                  "s_server saw no client certificate:\n%s" % text[-2000:])
            check("CIPHER is" in text and "mimewatch" in text,
                  "s_server did not complete a handshake and read the first request:\n%s"
                  % text[-2000:])
            err = st["error"] or ""
            check("TLS failure" not in err + r.err, "a TLS failure with the right CA: %r"
                  % err)
            eq(st["state"], "retrying", "kf state (s_server speaks no Kafka): %r" % err)
            check("not acknowledged" in err, "kf error is not the timeout: %r" % err)
            mwtest.report("issue16 kafka", "ssl with ca_file and client_cert against openssl "
                          "s_server", "handshake done", "%.1fs; wrong CA and wrong host: "
                          "TLS failure, state error" % (time.monotonic() - t0))
        finally:
            srv.stop()
    tls_case(run)


if __name__ == "__main__":
    mwtest.main([test_sasl_refused_by_mock, test_tls_wrong_ca, test_tls_host_mismatch,
                 test_tls_right_ca])
