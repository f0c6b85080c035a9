#!/usr/bin/env python3
"""Syslog over TLS with certificates (issue 16 item 2) through the real binary
against a real rsyslogd the test starts itself (mwout.Rsyslog(tls_auth=True):
a CA, a server certificate for localhost, a client certificate CN
mw-client.example signed by that CA, a second CA and a "rogue" client
certificate signed by it, all made with openssl; imrelp with tls="on" on the
OpenSSL library, once without client authentication and once with
tls.authMode="name" and tls.permittedPeer; imtcp over the ossl driver with
StreamDriver.AuthMode "x509/name" and PermittedPeer).

test_relp_tls_delivery: `mimewatch fetch` to relp+tls:// (both imrelp
  inputs) and tls:// with a client certificate: every record arrives exactly
  once per output, MSG byte-equal to its NDJSON line; status says ok,
  delivered = records.
test_relp_tls_wrong_ca: relp+tls:// with ca_file the other CA: fetch exits 1,
  the output is in state error (fatal: not retried in a loop) with a message
  naming ca_file; rsyslogd received nothing. With ca_file fixed, the next
  fetch delivers every record exactly once: nothing was lost.
test_relp_tls_client_refused: the receiver requires a client certificate and
  gets one signed by another CA: error naming client_cert, nothing received;
  with the right certificate every record arrives once.
test_tls_client_cert: tls:// to the imtcp input that requires a client
  certificate: without one, error naming client_cert (the TLS 1.3 alert,
  seen before any record counts as delivered), nothing received; with the
  rogue one the same; with the right one every record arrives once.
"""

import os
import time

import mwtest
from mwout import HOSTNAME, Rsyslog, add_outputs, ndjson_records, outputs_status
from mwtest import Sim, check, eq
from test_out_syslog import check_messages

ITEM = "issue16 syslog tls"

# librelp keeps the receiver's certificate after every RELP/TLS session
# (HACKING, "TLS and credentials of the outputs"); tests/lsan.supp names
# librelp, but LeakSanitizer's fast unwinder stops inside libcrypto, which
# has no frame pointers, before librelp's frame: the slow one reaches it.
# Only this file's processes pay for it.
if os.environ.get("ASAN_OPTIONS") is not None:
    os.environ["ASAN_OPTIONS"] += ":fast_unwind_on_malloc=0"


def output(rs, name, kind, ca=None, cert=None, key=None):
    y = "  - type: syslog\n    name: %s\n    url: %s\n    hostname: %s\n" % (
        name, rs.url(kind), HOSTNAME)
    if ca:
        y += "    ca_file: %s\n" % ca
    if cert:
        y += "    client_cert: %s\n    client_key: %s\n" % (cert, key)
    return y


def fetch_fails(sim, name, want):
    """fetch exits 1; the output is in state error with every string of
    want in its error; returns that error."""
    # a budget: a refusal taken for a network error would otherwise be
    # retried for fetch's default budget before the state check says so
    r = sim.fetch(budget="30s", expect_rc=1, timeout=120)
    st = outputs_status(sim)[name]
    eq(st["state"], "error", "%s state (error %r)\n%s" % (name, st["error"], r))
    for w in want:
        check(w in st["error"], "%s error lacks %r: %r" % (name, w, st["error"]))
    eq(st["delivered"], 0, "%s delivered" % name)
    return st["error"]


def all_delivered(sim, rs, name, kind, want):
    rs.wait_count(kind, len(want), timeout=30)
    time.sleep(0.3)
    check_messages(rs, kind, want)
    st = outputs_status(sim)[name]
    eq(st["state"], "ok", "%s state (error %r)" % (name, st["error"]))
    eq(st["delivered"], len(want), "%s delivered" % name)
    eq(st["lag_records"], 0, "%s lag_records" % name)


def test_relp_tls_delivery():
    n = mwtest.scaled(300, 3000)
    with Sim(["--records", str(n)]) as sim:
        rs = Rsyslog(sim.dir, tls_auth=True)
        rs.start()
        add_outputs(sim, output(rs, "s_relptls", "relptls", rs.ca_file, rs.client_cert,
                                rs.client_key) +
                    output(rs, "s_relptls_auth", "relptls_auth", rs.ca_file, rs.client_cert,
                           rs.client_key) +
                    output(rs, "s_tls_auth", "tls_auth", rs.ca_file, rs.client_cert,
                           rs.client_key))
        sim.fetch(timeout=180)
        want = ndjson_records(sim)
        eq(len(want), 3 * n, "records in the NDJSON")
        for name, kind in (("s_relptls", "relptls"), ("s_relptls_auth", "relptls_auth"),
                           ("s_tls_auth", "tls_auth")):
            all_delivered(sim, rs, name, kind, want)
        rs.stop()
        mwtest.report(ITEM, "relp+tls:// and tls:// with a client certificate: records "
                      "delivered exactly once", "%d x 3 outputs" % (3 * n))


def test_relp_tls_wrong_ca():
    n = mwtest.scaled(200, 2000)
    with Sim(["--records", str(n)]) as sim:
        rs = Rsyslog(sim.dir, tls_auth=True)
        rs.start()
        base = sim.read_config()
        add_outputs(sim, output(rs, "s_relptls", "relptls", rs.other_ca, rs.client_cert,
                                rs.client_key))
        err = fetch_fails(sim, "s_relptls", ["ca_file", "certificate", "refused"])
        eq(rs.count("relptls"), 0, "messages rsyslogd received with the wrong CA")
        with open(sim.config, "w") as f:
            f.write(base)
        add_outputs(sim, output(rs, "s_relptls", "relptls", rs.ca_file, rs.client_cert,
                                rs.client_key))
        sim.fetch(timeout=180)
        want = ndjson_records(sim)
        all_delivered(sim, rs, "s_relptls", "relptls", want)
        rs.stop()
        mwtest.report(ITEM, "relp+tls:// wrong CA: error, then 0 lost after the fix",
                      "%d records; error: %s" % (len(want), err[:120]))


def test_relp_tls_client_refused():
    n = mwtest.scaled(200, 2000)
    with Sim(["--records", str(n)]) as sim:
        rs = Rsyslog(sim.dir, tls_auth=True)
        rs.start()
        base = sim.read_config()
        add_outputs(sim, output(rs, "s_relp", "relptls_auth", rs.ca_file, rs.rogue_cert,
                                rs.rogue_key))
        err = fetch_fails(sim, "s_relp", ["client_cert", rs.rogue_cert])
        eq(rs.count("relptls_auth"), 0, "messages rsyslogd took from a refused client")
        with open(sim.config, "w") as f:
            f.write(base)
        add_outputs(sim, output(rs, "s_relp", "relptls_auth", rs.ca_file, rs.client_cert,
                                rs.client_key))
        sim.fetch(timeout=180)
        all_delivered(sim, rs, "s_relp", "relptls_auth", ndjson_records(sim))
        rs.stop()
        mwtest.report(ITEM, "relp+tls:// client certificate refused: error, then 0 lost",
                      "error: %s" % err[:120])


def test_tls_client_cert():
    n = mwtest.scaled(200, 2000)
    with Sim(["--records", str(n)]) as sim:
        rs = Rsyslog(sim.dir, tls_auth=True)
        rs.start()
        base = sim.read_config()
        add_outputs(sim, output(rs, "s_tls", "tls_auth", rs.ca_file))
        err = fetch_fails(sim, "s_tls", ["client_cert", "client_key"])
        eq(rs.count("tls_auth"), 0, "messages rsyslogd took without a client certificate")
        with open(sim.config, "w") as f:
            f.write(base)
        add_outputs(sim, output(rs, "s_tls", "tls_auth", rs.ca_file, rs.rogue_cert,
                                rs.rogue_key))
        fetch_fails(sim, "s_tls", ["client_cert", rs.rogue_cert])
        eq(rs.count("tls_auth"), 0, "messages rsyslogd took from a refused client")
        with open(sim.config, "w") as f:
            f.write(base)
        add_outputs(sim, output(rs, "s_tls", "tls_auth", rs.ca_file, rs.client_cert,
                                rs.client_key))
        sim.fetch(timeout=180)
        all_delivered(sim, rs, "s_tls", "tls_auth", ndjson_records(sim))
        rs.stop()
        mwtest.report(ITEM, "tls:// receiver requiring a client certificate: error without, "
                      "0 lost with", "error: %s" % err[:120])


if __name__ == "__main__":
    mwtest.main([test_relp_tls_delivery, test_relp_tls_wrong_ca, test_relp_tls_client_refused,
                 test_tls_client_cert])
