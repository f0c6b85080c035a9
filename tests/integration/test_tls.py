#!/usr/bin/env python3
"""TLS (issue 4 item 8): verification always on, never retried, never
downgraded, never redirected.

- the sim's self-signed certificate without ca_file: refused, class
  "certificate or host-name failure" with the remedy, no HTTP request made;
- a certificate for another name (mimewatch-sim --cert-name) with the right
  ca_file: refused on the host name;
- the right ca_file: every record arrives;
- a server offering only TLS 1.1 and 1.0 (--tls-max 1.1): refused with the
  old-protocol remedy, not retried;
- a 302 to another listener: that listener receives no connection at all,
  so no request and no credential.
"""

import re
import socket
import ssl
import threading

import mwtest
from mwtest import TYPES, Sim, check, eq

ITEM = "8 tls"
CERT_REMEDY = ("the certificate of 127.0.0.1 was not accepted: check that base_url names the "
               "Mimecast host; if a TLS-inspecting proxy or private CA signs it, set ca_file "
               "to that CA; otherwise the host is not who it claims")
OLD_REMEDY = ("127.0.0.1 offers no TLS 1.2 or later and mimewatch refuses older protocols: "
              "check that base_url names the Mimecast host and that no proxy in between "
              "downgrades the connection")
SIM_ARGS = ["--records", "50", "--span", "1h"]


def refused(sim, what, code, text, remedy):
    r = sim.fetch(budget="5s", timeout=60, expect_rc=1)
    rep = r.report()
    for t in TYPES:
        row = rep.get(("sim", t))
        check(row, "%s: no report line for sim/%s\n%s" % (what, t, r))
        eq(row["failed"], True, "%s: sim/%s FAILED" % (what, t))
        eq(row["new"], 0, "%s: sim/%s new" % (what, t))
        eq(row["retries"], 0, "%s: sim/%s retries (TLS failures are never retried)" % (what, t))
        line = [l for l in r.err.splitlines() if l.startswith("mimewatch: sim/%s:" % t)]
        want = "mimewatch: sim/%s: certificate or host-name failure (no response, %s): " % (t, code)
        check(line and line[0].startswith(want), "%s: stderr should start %r: %r"
              % (what, want, line))
        check(text in line[0], "%s: stderr lacks %r: %r" % (what, text, line[0]))
        check(line[0].endswith("; remedy: " + remedy), "%s: remedy in %r" % (what, line[0]))
    st = sim.type_status()
    for t in TYPES:
        eq(st[t]["class_name"], "certificate or host-name failure", "%s: class of %s" % (what, t))
        eq(st[t]["remedy"], remedy, "%s: status remedy of %s" % (what, t))
        eq(st[t]["horizon"], None, "%s: horizon of %s" % (what, t))
    eq(sim.store_counts().get(("sim", "url"), 0), 0, "%s: records stored" % what)
    mwtest.report(ITEM, what, "refused", line[0].split(": ", 2)[2][:90])
    return r


def stats_any_name(sim):
    """/_sim/stats trusting the sim's CA whatever name its certificate has."""
    import http.client
    import json
    ctx = ssl.create_default_context(cafile=sim.ca_file)
    ctx.check_hostname = False
    c = http.client.HTTPSConnection("127.0.0.1", sim.port, timeout=30, context=ctx)
    try:
        c.request("GET", "/_sim/stats")
        return json.loads(c.getresponse().read())
    finally:
        c.close()


def test_self_signed_without_ca_file():
    with Sim(SIM_ARGS) as sim:
        text = re.sub(r"(?m)^\s*ca_file:.*\n", "", sim.read_config())
        with open(sim.config, "w") as f:
            f.write(text)
        refused(sim, "self-signed, no ca_file", "CURLE_PEER_FAILED_VERIFICATION",
                "self-signed certificate", CERT_REMEDY)
        st = sim.stats()
        eq(sum(st["requests"].values()), 0, "HTTP requests that reached the tenant")


def test_wrong_host_name():
    with Sim(SIM_ARGS + ["--cert-name", "wrong.example"]) as sim:
        refused(sim, "certificate for another host name", "CURLE_PEER_FAILED_VERIFICATION",
                "target host name '127.0.0.1'", CERT_REMEDY)
        eq(sum(stats_any_name(sim)["requests"].values()), 0,
           "HTTP requests that reached the tenant")


def test_right_ca_file():
    with Sim(SIM_ARGS) as sim:
        r = sim.fetch()
        for t in TYPES:
            eq(r.report()[("sim", t)]["new"], 50, "sim/%s new" % t)
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})


def test_old_tls_refused():
    with Sim(SIM_ARGS + ["--tls-max", "1.1"]) as sim:
        # The tenant really offers nothing newer: a TLS 1.2+ client fails.
        ctx = ssl.create_default_context(cafile=sim.ca_file)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname="127.0.0.1"):
                    pass
            ok12 = True
        except (ssl.SSLError, OSError):
            ok12 = False
        check(not ok12, "mimewatch-sim --tls-max 1.1 accepted a TLS 1.2 handshake")
        refused(sim, "server offering only TLS 1.1/1.0", "CURLE_SSL_CONNECT_ERROR", "",
                OLD_REMEDY)


class Recorder:
    """A TCP listener that records every connection and byte it receives."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.conns, self.data, self.stop = 0, b"", False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self.conns += 1
            c.settimeout(1)
            try:
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    self.data += b
            except OSError:
                pass
            c.close()

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


def test_redirect_not_followed():
    rec = Recorder()
    try:
        for target in ("https://127.0.0.1:%d/api/ttp/url/get-logs" % rec.port,
                       "http://localhost:%d/steal" % rec.port):
            with Sim(SIM_ARGS) as sim:
                sim.faults("redirect:type=url,count=0,to=%s" % target)
                r = sim.fetch(budget="5s", timeout=60, expect_rc=1)
                rep = r.report()
                eq(rep[("sim", "url")]["failed"], True, "redirect: sim/url FAILED")
                eq(rep[("sim", "url")]["new"], 0, "redirect: sim/url new")
                eq(rep[("sim", "url")]["retries"], 0, "redirect: retries")
                for t in ("impersonation", "attachment"):
                    eq(rep[("sim", t)]["new"], 50, "redirect: sim/%s (not redirected) new" % t)
                line = [l for l in r.err.splitlines() if l.startswith("mimewatch: sim/url:")]
                check(line and line[0].startswith("mimewatch: sim/url: bad request (HTTP 302)"),
                      "redirect: stderr %r" % line)
                st = sim.type_status()["url"]
                eq(st["class_name"], "bad request", "redirect: class")
                eq(st["http_status"], 302, "redirect: http_status")
                eq(sim.stats()["status"].get("302"), 1, "302s the tenant sent")
        eq(rec.conns, 0, "connections to the redirect target")
        eq(rec.data, b"", "bytes (requests, credentials) sent to the redirect target")
        mwtest.report(ITEM, "302 to another listener", "0 connections, 0 bytes",
                      line[0].split(": ", 2)[2][:90])
    finally:
        rec.close()


if __name__ == "__main__":
    mwtest.main([test_self_signed_without_ca_file, test_wrong_host_name, test_right_ca_file,
                 test_old_tls_refused, test_redirect_not_followed])
