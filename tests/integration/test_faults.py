#!/usr/bin/env python3
"""Every fault the simulated tenant can inject: the exit status, the error
class on stderr and in status --json, the horizon kept on failure, and after
the fault is cleared exactly every record, none duplicated."""

import re
import time

import mwtest
from mwtest import TYPES, TIME_FIELD, Sim, check, eq

N = 300  # per type: 3 full pages of 100
SIM_ARGS = ["--records", str(N), "--span", "1h"]


def all_truth(sim):
    return {t: sim.truth(t) for t in TYPES}


def retryable(spec):
    """The fault hits url's second page twice; the same fetch must ride it
    out with >= 2 retries and end with every record."""
    with Sim(SIM_ARGS) as sim:
        sim.faults(spec)
        r = sim.fetch(budget="60s", timeout=120)
        rep = r.report()
        for t in TYPES:
            check(("sim", t) in rep, "no report line for sim/%s\n%s" % (t, r))
            eq(rep[("sim", t)]["failed"], False, "sim/%s FAILED\n%s" % (t, r))
            eq(rep[("sim", t)]["new"], N, "sim/%s new records\n%s" % (t, r))
        check(rep[("sim", "url")]["retries"] >= 2, "fault %r: url retries %d, expected >= 2\n%s"
              % (spec, rep[("sim", "url")]["retries"], r))
        st = sim.stats()
        mwtest.assert_exact_records(sim, all_truth(sim))
        return r, st


def test_500():
    retryable("500:type=url,after=1,count=2")


def test_502():
    retryable("502:type=url,after=1,count=2")


def test_503():
    retryable("503:type=url,after=1,count=2")


def test_failarr():
    retryable("failarr:type=url,after=1,count=2")


def test_truncate():
    retryable("truncate:type=url,after=1,count=2")


def test_reset():
    retryable("reset:type=url,after=1,count=2")


def test_badjson():
    retryable("badjson:type=url,after=1,count=2")


def test_trailing():
    retryable("trailing:type=url,after=1,count=2")


def test_emptynext():
    emptynext("emptynext:type=url,after=1,count=1")


def test_emptynext_first_page():
    emptynext("emptynext:type=url,after=0,count=1")


def emptynext(spec):
    # An empty page that still carries `next` (a quirk of real Mimecast):
    # whatever fetch makes of it, nothing may be lost for good.
    with Sim(SIM_ARGS) as sim:
        sim.faults(spec)
        r = sim.fetch(budget="20s")
        check(("sim", "url") in r.report(), "no report line for sim/url\n%s" % r)
        sim.faults("")
        time.sleep(1.5)  # a fetch within the same second asks for nothing new
        sim.fetch(budget="20s")
        mwtest.assert_exact_records(sim, all_truth(sim))


def test_slow():
    # One page dripped at 20 kB/s: slow is not a failure, even with a short
    # retry budget; nothing is retried and nothing lost.
    with Sim(SIM_ARGS) as sim:
        sim.faults("slow:type=url,after=1,count=1,bytes=20000")
        r = sim.fetch(budget="2s", timeout=180)
        rep = r.report()
        check(r.wall >= 1.0, "the slow page took only %.2fs: fault not applied?" % r.wall)
        eq(rep[("sim", "url")]["failed"], False, "sim/url FAILED\n%s" % r)
        eq(rep[("sim", "url")]["new"], N, "sim/url new records")
        mwtest.assert_exact_records(sim, all_truth(sim))


def permanent(spec, cls, status, types_hit, code=None, text=None):
    """A fault that needs a person: fetch gives up (exit 1), names the class
    on stderr and in status --json, keeps the horizon; types not hit are
    still collected; after clearing, a fetch gets exactly everything."""
    with Sim(SIM_ARGS) as sim:
        sim.faults(spec)
        r = sim.fetch(budget="20s", timeout=90, expect_rc=1)
        check(r.wall < 30 * mwtest.SCALE, "%s: fetch took %.1fs, a permanent failure must not "
              "be retried for long" % (spec, r.wall))
        rep = r.report()
        st = sim.type_status()
        for t in TYPES:
            check(("sim", t) in rep, "no report line for sim/%s\n%s" % (t, r))
            if t in types_hit:
                eq(rep[("sim", t)]["failed"], True, "%s: sim/%s reported FAILED" % (spec, t))
                eq(rep[("sim", t)]["new"], 0, "%s: sim/%s new" % (spec, t))
                eq(rep[("sim", t)]["horizon"], "never", "%s: sim/%s horizon" % (spec, t))
                want = "mimewatch: sim/%s: %s (HTTP %d" % (t, cls, status)
                line = [l for l in r.err.splitlines() if l.startswith("mimewatch: sim/%s:" % t)]
                check(line and line[0].startswith(want),
                      "%s: stderr should start a line with %r, got %r\n%s"
                      % (spec, want, line, r))
                check("remedy: " in line[0], "%s: no remedy on stderr: %r" % (spec, line[0]))
                if code:
                    check(code in line[0], "%s: stderr line lacks the code %s: %r"
                          % (spec, code, line[0]))
                if text:
                    check(text in line[0], "%s: stderr line lacks %r: %r" % (spec, text, line[0]))
                eq(st[t]["class_name"], cls, "%s: status --json class_name of %s" % (spec, t))
                eq(st[t]["http_status"], status, "%s: status --json http_status of %s"
                   % (spec, t))
                eq(st[t]["horizon"], None, "%s: status --json horizon of %s" % (spec, t))
                eq(sim.ndjson("sim", t), [], "%s: NDJSON lines of %s" % (spec, t))
            else:
                eq(rep[("sim", t)]["failed"], False, "%s: sim/%s (not hit) FAILED" % (spec, t))
                eq(rep[("sim", t)]["new"], N, "%s: sim/%s (not hit) new" % (spec, t))
                eq(st[t]["class_name"], "ok", "%s: status class_name of %s (not hit)"
                   % (spec, t))
        sim.faults("")
        r2 = sim.fetch(budget="20s")
        for t in types_hit:
            eq(r2.report()[("sim", t)]["new"], N, "after clearing %s: sim/%s new" % (spec, t))
        mwtest.assert_exact_records(sim, all_truth(sim))
        st = sim.type_status()
        for t in TYPES:
            eq(st[t]["class_name"], "ok", "after clearing %s: status class_name of %s"
               % (spec, t))


def test_401():
    permanent("401:count=0", "invalid signature", 401, TYPES, code="err_xdk_invalid_signature")


def test_403():
    permanent("403:type=url,count=0", "permission missing", 403, ["url"],
              code="err_xdk_forbidden", text="Monitoring | URL Protection | Read")


def test_418():
    permanent("418:count=0", "binding expired", 418, TYPES, text="Never Expire")


def test_ipdeny():
    permanent("ipdeny:count=0", "IP not allowed", 401, TYPES, code="err_xdk_ip_not_permitted")


def test_retry_budget_keeps_horizon():
    # Records arrive in real time; a good fetch sets the horizon, a 503 that
    # never ends exhausts a 3 s budget: exit 1, "retry later", horizon kept;
    # then everything arrives once.
    with Sim(["--start-ago", "30m", "--spacing-ms", "500"]) as sim:
        sim.fetch()
        h1 = {t: s["horizon"] for t, s in sim.type_status().items()}
        for t in TYPES:
            check(h1[t] is not None, "no horizon for %s after a good fetch" % t)
        time.sleep(2)
        sim.faults("503:count=0")
        r = sim.fetch(budget="3s", timeout=90, expect_rc=1)
        for t in TYPES:
            rep = r.report()[("sim", t)]
            eq(rep["failed"], True, "503 forever: sim/%s FAILED" % t)
            check(rep["retries"] >= 1, "503 forever: sim/%s retries %d" % (t, rep["retries"]))
            check(re.search(r"^mimewatch: sim/%s: retry later \(HTTP 503" % t, r.err, re.M),
                  "503 forever: stderr lacks 'mimewatch: sim/%s: retry later (HTTP 503'\n%s"
                  % (t, r))
        st = sim.type_status()
        for t in TYPES:
            eq(st[t]["horizon"], h1[t], "503 forever: horizon of %s" % t)
            eq(st[t]["class_name"], "retry later", "503 forever: class_name of %s" % t)
        sim.faults("")
        t2 = int(time.time())
        sim.fetch()
        for t in TYPES:
            truth = sim.truth(t)
            got = mwtest.message_ids(l["record"] for l in sim.ndjson("sim", t))
            eq(len(got), len(set(got)), "%s: duplicated lines" % t)
            want = {rec["messageId"] for rec in truth
                    if mwtest.mc_time(rec[TIME_FIELD[t]]) <= t2 - 2}
            lost = want - set(got)
            check(not lost, "%s: %d records lost, e.g. %r" % (t, len(lost), sorted(lost)[:3]))


if __name__ == "__main__":
    mwtest.main([test_500, test_502, test_503, test_failarr, test_truncate, test_reset,
                 test_badjson, test_trailing, test_emptynext, test_emptynext_first_page,
                 test_slow, test_401, test_403, test_418, test_ipdeny,
                 test_retry_budget_keeps_horizon])
