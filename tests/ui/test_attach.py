#!/usr/bin/env python3
"""test_attach - the console attached to a running `mimewatch run` service.

`mimewatch run` collects from mimewatch-sim (records keep arriving in real
time, one per type every 500 ms; the poll interval is an hour, so the
service polls once at start and then only when asked). The console opened in
script mode on the same config must: say in the header that it is attached
to mimewatch run (pid N), run no collector of its own (the simulator sees no
request from it), show the records the service collected, and carry `f`
(fetch now) and `p` (pause) to the service through the store, as
`mimewatch status --json` then shows.

Binaries: $MIMEWATCH and $MIMEWATCH_SIM, as for tests/integration.
"""

import os
import time

import uitest
from uitest import check, eq, type_row

mwtest = uitest.mwtest
TYPES = mwtest.TYPES
# Columns of a type row (ui/view_home.c), as test_home.py reads them.
COL_STATE, COL_TOTAL = (23, 39), (61, 71)


def cell(line, span):
    return line[span[0]:span[1]].strip()


def requests(sim):
    st = sim.stats()
    return {t: sim.path_requests(t, st) for t in TYPES}


def run_log(sim):
    with open(os.path.join(sim.dir, "run.log"), "rb") as f:
        return f.read().decode("utf-8", "replace")[-2000:]


def wait_collected(sim, service):
    """Until every type has collected once: {type: status}."""
    deadline = time.monotonic() + 30 * mwtest.SCALE
    while True:
        check(service.poll() is None, "mimewatch run exited with %s:\n%s"
              % (service.returncode, run_log(sim)))
        ts = sim.type_status()
        if all(t in ts and ts[t]["state"] == "idle" and ts[t]["records_total"] > 0 and
               ts[t]["last_success"] for t in TYPES):
            return ts
        check(time.monotonic() < deadline, "the service did not collect within 30 s: %r" % ts)
        time.sleep(0.2)


def console(sim, commands):
    r = uitest.run_script(commands, args=["--config", sim.config])
    eq(r.rc, 0, "console exit status (%s)" % r)
    check("script line" not in r.err, "the script failed: %s" % r)
    return r


def test_attached_to_run():
    with mwtest.Sim(["--span", "10m", "--spacing-ms", "500"]) as sim:
        sim.edit_config(interval="1h")
        log = open(os.path.join(sim.dir, "run.log"), "wb")
        service = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=log)
        try:
            before = wait_collected(sim, service)
            js = sim.status_json()
            eq(js.get("collector_pid"), service.pid, "status --json names the service")
            asked = requests(sim)

            # 1. attached, no collector of its own, the service's records shown
            r = console(sim, ["wait-idle", "dump home", "sleep 2500", "wait-idle",
                              "dump later", "quit"])
            home = r.dumps["home"]
            check(home[0].startswith(" mimewatch \u2014 integrations"), home[0])
            check(home[0].endswith("attached to mimewatch run (pid %d)" % service.pid),
                  "header: %r" % home[0])
            for t in TYPES:
                row = type_row(home, "sim", t)
                eq(cell(row, COL_TOTAL), str(before[t]["records_total"]),
                   "sim/%s total on the home screen" % t)
                eq(cell(row, COL_STATE), "idle", "sim/%s state" % t)
            eq(requests(sim), asked, "requests to the tenant while the console was open "
               "(a second collector would have polled)")
            eq(r.dumps["later"][0], home[0], "still attached 2.5 s later")
            eq(sim.status_json().get("collector_pid"), service.pid, "the service still runs")

            # 2. f and p reach the service through the store
            time.sleep(1.5)          # new records arrive meanwhile (every 500 ms)
            t0 = int(time.time())
            r = console(sim, ["wait-idle", "key f", "wait-idle", "dump fetched", "key p",
                              "wait-idle", "dump paused", "quit"])
            # wait-idle waited for both requests: the service carried them out
            after = sim.type_status()
            now_asked = requests(sim)
            for t in TYPES:
                check(now_asked[t] > asked[t], "fetch now sent no %s request (%d -> %d)"
                      % (t, asked[t], now_asked[t]))
                check(mwtest.mc_time(after[t]["last_success"]) >= t0,
                      "sim/%s: no success since fetch now: %r" % (t, after[t]))
                check(after[t]["records_total"] > before[t]["records_total"],
                      "sim/%s: fetch now collected nothing new (%d -> %d)"
                      % (t, before[t]["records_total"], after[t]["records_total"]))
                eq(cell(type_row(r.dumps["fetched"], "sim", t), COL_TOTAL),
                   str(after[t]["records_total"]),
                   "sim/%s total on the home screen after fetch now" % t)
            paused = after
            for t in TYPES:
                eq(paused[t]["paused"], True, "status --json: sim/%s paused" % t)
                eq(paused[t]["state"], "paused", "status --json: sim/%s state" % t)
                eq(cell(type_row(r.dumps["paused"], "sim", t), COL_STATE), "paused",
                   "sim/%s paused on the home screen" % t)
            check(r.dumps["paused"][0].endswith(
                "attached to mimewatch run (pid %d)" % service.pid), r.dumps["paused"][0])

            # 3. p again resumes (the service polls once more on resume or not,
            # but the state is no longer paused)
            r = console(sim, ["wait-idle", "key p", "wait-idle", "dump resumed", "quit"])
            resumed = sim.type_status()
            for t in TYPES:
                eq(resumed[t]["paused"], False, "status --json: sim/%s resumed" % t)
                check(cell(type_row(r.dumps["resumed"], "sim", t), COL_STATE) != "paused",
                      "sim/%s still paused on the home screen" % t)
            eq(service.poll(), None, "mimewatch run is still running")
        finally:
            rc = mwtest.stop_bg(service)
            log.close()
        eq(rc, 0, "mimewatch run exit status on SIGTERM")


if __name__ == "__main__":
    uitest.main([test_attached_to_run])
