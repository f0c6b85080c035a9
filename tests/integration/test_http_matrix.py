#!/usr/bin/env python3
"""The HTTP fault matrix (issue 4 item 5): every way a Mimecast answer can go
wrong, one simulated tenant each, run side by side.

Each fault hits url's second page and every page after it (count=0), so
page 1 (100 records) is committed and page 2 never arrives intact. For each
fault: exactly those 100 records and nothing of the faulted page are stored
(no partial commit), the horizon stays where it was (never set), the class,
code and remedy are exactly the ones errclass/mcapi give for it (on stderr
and in status --json), the process does not spin (CPU seconds bounded), and
after the fault is cleared a fetch gets every record exactly once.

"hang" (headers never sent) and "drip" (one byte a second) must end by the
client's own rules: under 100 bytes/s for 30 s gives up (mcapi.c
LOW_SPEED_BYTES, DEFAULT_LOW_SPEED_S); the test watches the first such
request end and the retry start.

A table line per fault goes to report(): class, retries, committed, CPU s.
"""

import os
import signal
import threading
import time

import mwtest
from mwtest import TYPES, Sim, check, eq

N = 300
SIM_ARGS = ["--records", str(N), "--span", "1h"]
ITEM = "5 http-matrix"

NET = "network trouble reaching 127.0.0.1; will retry (check DNS, firewall and proxy if it persists)"
BUSY = "Mimecast is busy or failing; will retry"
MALFORMED = "the response was cut short or malformed; will retry"
CUT = "the response was cut short (truncated body); will retry"
TIMEOUT = ("127.0.0.1 stopped answering (no headers, or under 100 bytes/s for 30 s, or no "
           "complete answer in 120 s); will retry")
REM_SIG = ("the Application Key, Access Key or Secret Key is wrong: copy them again; keys must "
           "belong to the same API application")
REM_418 = ("set Authentication Cache TTL to Never Expire in the service user's authentication "
           "profile, then create new Access and Secret keys")
REM_403 = "add `Monitoring | URL Protection | Read` to the service user's role"

# name: (fault kind and keys, class, HTTP status, code, remedy)
FAILING = [
    ("short Content-Length", "truncate", "retry later", 200, "CURLE_PARTIAL_FILE", CUT),
    ("cut chunked body", "chunkcut", "retry later", 200, "CURLE_PARTIAL_FILE", CUT),
    ("reset mid-body", "reset", "retry later", 200, "CURLE_RECV_ERROR", NET),
    ("500", "500", "retry later", 500, "err_server_error", BUSY),
    ("502", "502", "retry later", 502, "", BUSY),
    ("503", "503", "retry later", 503, "", BUSY),
    ("401", "401", "invalid signature", 401, "err_xdk_invalid_signature", REM_SIG),
    ("403", "403", "permission missing", 403, "err_xdk_forbidden", REM_403),
    ("418", "418", "binding expired", 418, "err_xdk_binding_expired", REM_418),
    ("200 with fail[]", "failarr", "retry later", 200, "err_internal",
     "Mimecast reported a temporary failure; will retry"),
    ("invalid JSON", "badjson", "retry later", 200, "", MALFORMED),
    ("trailing garbage", "trailing", "retry later", 200, "", MALFORMED),
]
SLOW = [
    ("headers never sent", "hang"),
    ("1 byte a second", "drip"),
]
CPU_LIMIT = 2.0  # seconds for a fetch of a few seconds: far above normal, far below a spin


def line_for(err, name="sim", type_="url"):
    lines = [l for l in err.splitlines() if l.startswith("mimewatch: %s/%s:" % (name, type_))]
    return lines[0] if lines else ""


def clear_and_complete(sim, name="sim"):
    sim.faults("")
    time.sleep(1.1)
    r = sim.fetch(budget="20s")
    mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES}, name=name)
    return r


def failing_case(label, kind, cls, status, code, remedy):
    with Sim(SIM_ARGS) as sim:
        sim.faults("%s:type=url,after=1,count=0" % kind)
        r = sim.fetch(budget="2s", timeout=90, expect_rc=1)
        rep = r.report()
        url = rep.get(("sim", "url"))
        check(url, "%s: no report line for sim/url\n%s" % (label, r))
        eq(url["failed"], True, "%s: sim/url FAILED" % label)
        eq(url["new"], 100, "%s: sim/url new (page 1 only, nothing of the faulted page)" % label)
        eq(url["horizon"], "never", "%s: sim/url horizon in the report" % label)
        if cls == "retry later":
            check(url["retries"] >= 1, "%s: retries %d, expected >= 1" % (label, url["retries"]))
        else:
            eq(url["retries"], 0, "%s: a permanent failure is not retried" % label)
        for t in ("impersonation", "attachment"):
            eq(rep[("sim", t)]["new"], N, "%s: sim/%s (not hit) new" % (label, t))
        counts = sim.store_counts()
        eq(counts.get(("sim", "url")), 100, "%s: url records in the store" % label)
        line = line_for(r.err)
        want = "mimewatch: sim/url: %s (HTTP %d%s)" % (cls, status, " " + code if code else "")
        check(line.startswith(want), "%s: stderr should start %r, got %r" % (label, want, line))
        check(line.endswith("; remedy: " + remedy), "%s: stderr remedy: want %r in %r"
              % (label, remedy, line))
        st = sim.type_status()["url"]
        eq(st["class_name"], cls, "%s: status --json class_name" % label)
        eq(st["http_status"], status, "%s: status --json http_status" % label)
        eq(st["code"], code, "%s: status --json code" % label)
        eq(st["remedy"], remedy, "%s: status --json remedy" % label)
        eq(st["horizon"], None, "%s: status --json horizon" % label)
        check(r.cpu < CPU_LIMIT * mwtest.SCALE, "%s: fetch used %.2f CPU s in %.1f s: a busy "
              "loop" % (label, r.cpu, r.wall))
        clear_and_complete(sim)
        return (cls, url["retries"], counts[("sim", "url")], r.cpu)


def proc_cpu(pid):
    """utime+stime of a live process, seconds (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slow_case(label, kind):
    """fetch against a page that never completes: the first request must end
    by the low-speed rule (~30 s), classed retry later with the timeout
    remedy; nothing of it stored; no spinning while it waits."""
    with Sim(SIM_ARGS) as sim:
        sim.faults("%s:type=url,after=1,count=0" % kind)
        t0 = time.monotonic()
        p = mwtest.mimewatch_bg(["fetch", "--retry-budget", "10m"], config=sim.config)
        st = None
        deadline = t0 + 75 * mwtest.SCALE
        while time.monotonic() < deadline:
            check(p.poll() is None, "%s: fetch exited early with %s" % (label, p.returncode))
            try:
                st = sim.type_status()["url"]
            except mwtest.CheckFailed:
                st = None  # the store may not be readable yet
            if st and st["class_name"] == "retry later":
                break
            time.sleep(0.5)
        ended = time.monotonic() - t0
        cpu = proc_cpu(p.pid)
        counts = sim.store_counts()
        rc = mwtest.stop_bg(p, signal.SIGTERM, timeout=10)
        check(st and st["class_name"] == "retry later", "%s: no 'retry later' within %.0fs: %r"
              % (label, ended, st))
        check(25 <= ended <= 50 * mwtest.SCALE, "%s: the stalled request ended after %.1fs, "
              "expected about 30 s (low-speed rule)" % (label, ended))
        eq(st["code"], "CURLE_OPERATION_TIMEDOUT", "%s: status --json code" % label)
        eq(st["http_status"], 200 if kind == "drip" else 0, "%s: status --json http_status"
           % label)
        eq(st["remedy"], TIMEOUT, "%s: status --json remedy" % label)
        eq(st["horizon"], None, "%s: status --json horizon" % label)
        eq(counts.get(("sim", "url")), 100, "%s: url records in the store" % label)
        # Interrupted before its windows completed: 1, but promptly and by itself.
        eq(rc, 1, "%s: fetch exit status after SIGTERM while retrying" % label)
        check(cpu < CPU_LIMIT * mwtest.SCALE, "%s: %.2f CPU s while waiting %.0f s: a busy loop"
              % (label, cpu, ended))
        clear_and_complete(sim)
        mwtest.report(ITEM, label + ": stalled request ended after", "%.1fs" % ended,
                      "low-speed rule: < 100 B/s for 30 s")
        return ("retry later", 1, counts[("sim", "url")], cpu)


def emptynext_case():
    # Empty pages that carry next for ever: fetch must not follow them
    # endlessly; the window is cut at the records it has (the horizon never
    # passes stored data), and the rest comes once the fault is gone.
    label = "empty page with next"
    with Sim(SIM_ARGS) as sim:
        sim.faults("emptynext:type=url,after=1,count=0")
        r = sim.fetch(budget="2s", timeout=90, expect_rc=1)
        url = r.report()[("sim", "url")]
        eq(url["new"], 100, "%s: sim/url new" % label)
        check(url["retries"] >= 1, "%s: retries %d" % (label, url["retries"]))
        counts = sim.store_counts()
        eq(counts.get(("sim", "url")), 100, "%s: url records in the store" % label)
        line = line_for(r.err)
        check(line.startswith("mimewatch: sim/url: retry later (HTTP 0 empty page with next)"),
              "%s: stderr %r" % (label, line))
        truth = sim.truth("url")
        st = sim.type_status()["url"]
        last_stored = mwtest.mc_time(truth[99]["date"])
        check(st["horizon"] is None or mwtest.mc_time(st["horizon"]) <= last_stored,
              "%s: horizon %s is past the last stored record %s"
              % (label, st["horizon"], truth[99]["date"]))
        check(r.cpu < CPU_LIMIT * mwtest.SCALE, "%s: %.2f CPU s" % (label, r.cpu))
        clear_and_complete(sim)
        return ("retry later", url["retries"], counts[("sim", "url")], r.cpu)


def expired_token_case():
    # API 2.0: a token the tenant calls expired mid-window is replaced and
    # the page asked again: nothing fails, nothing is lost.
    label = "expired token"
    with Sim(SIM_ARGS, api="v2") as sim:
        sim.faults("token_expired:type=url,after=1,count=1")
        r = sim.fetch(budget="20s", timeout=90)
        url = r.report()[("sim-v2", "url")]
        eq(url["failed"], False, "%s: FAILED" % label)
        eq(url["new"], N, "%s: new" % label)
        st = sim.stats()
        eq(st["requests"]["/oauth/token"], 2, "%s: token requests (first and renewed)" % label)
        eq(st["status"].get("401"), 1, "%s: 401s sent" % label)
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES}, name="sim-v2")
        check(r.cpu < CPU_LIMIT * mwtest.SCALE, "%s: %.2f CPU s" % (label, r.cpu))
        return ("ok", url["retries"], url["new"], r.cpu)


def run_parallel(jobs, width):
    """jobs: [(label, fn, args)]; runs width at a time; {label: result or exception}."""
    out = {}
    sem = threading.Semaphore(width)

    def one(label, fn, args):
        with sem:
            try:
                out[label] = fn(*args)
            except BaseException as ex:  # reported per fault below
                out[label] = ex

    threads = [threading.Thread(target=one, args=j) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_http_fault_matrix():
    jobs = [(label, slow_case, (label, kind)) for label, kind in SLOW]
    jobs += [(c[0], failing_case, c) for c in FAILING]
    jobs += [("empty page with next", emptynext_case, ()),
             ("expired token", expired_token_case, ())]
    # The two slow ones take ~30 s each and start first; the rest share the
    # remaining slots and finish in their shadow.
    res = run_parallel(jobs, 5)
    errors = []
    for label, _, _ in jobs:
        v = res.get(label)
        if isinstance(v, BaseException):
            errors.append("%s: %s" % (label, v))
            continue
        cls, retries, committed, cpu = v
        mwtest.report(ITEM, label, "class=%s retries=%d committed=%d cpu=%.2fs"
                      % (cls, retries, committed, cpu))
    check(not errors, "\n".join(errors))


if __name__ == "__main__":
    mwtest.main([test_http_fault_matrix])
