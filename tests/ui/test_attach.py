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

When that run exits (SIGTERM or kill -9) the console, now in a real terminal
(tmux), must say so within 5 s, claim no collecting, count the requests left
waiting for a collector, and offer c, which collects in the console (it then
holds the lock, and carries out what was left); or, when a new run starts,
attach to it within 5 s and hand it the next request.

Binaries: $MIMEWATCH and $MIMEWATCH_SIM, as for tests/integration.
"""

import os
import shlex
import signal
import sqlite3
import time

import uitest
from uitest import check, eq, type_row
from test_terminal import Tmux

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
                eq(cell(row, COL_TOTAL), "{:,}".format(before[t]["records_total"]),
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
                   "{:,}".format(after[t]["records_total"]),
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


# ---- the run exits under an attached console ---------------------------------------------

ROWS = 30
EXITED = "the collector (pid %d) has exited; press C to collect in this console"
COL_NEXT = (77, 87)


def start_run(sim, log):
    return mwtest.mimewatch_bg(["run"], config=sim.config, stderr=log)


def open_console(sim):
    """The console in tmux on sim's config: (Tmux, the console's pid)."""
    d = os.path.join(sim.dir, "tty")
    os.mkdir(d, 0o700)
    pidfile = os.path.join(d, "pid")
    t = Tmux("echo $$ > %s; exec %s --config %s" % (
        shlex.quote(pidfile), shlex.quote(mwtest.MIMEWATCH), shlex.quote(sim.config)),
        rows=ROWS)
    pid = int(mwtest.wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(),
                              10, "the console's pid"))
    return t, pid


def screen_lines(screen):
    lines = screen.split("\n")
    return lines + [""] * (ROWS - len(lines))


def header(screen):
    return screen_lines(screen)[0].rstrip()


def status_line(screen):
    return screen_lines(screen)[ROWS - 1].strip()


def kill_run(service, sig):
    os.kill(service.pid, sig)
    service.wait(timeout=20 * mwtest.SCALE)
    return time.monotonic()


def wait_exited_shown(t, service, killed_at):
    """Within 5 s of the run's death: the header, the status line, no row
    collecting."""
    msg = EXITED % service.pid
    screen = t.wait_for(msg, timeout=5)
    took = time.monotonic() - killed_at
    check(took < 5 * mwtest.SCALE, "noticed after %.1f s" % took)
    check(header(screen).endswith("mimewatch run (pid %d) exited: not collecting" % service.pid),
          "header: %r" % header(screen))
    eq(status_line(screen), msg, "status line")
    check("attached to" not in screen, "still claims to be attached:\n" + screen)
    lines = screen_lines(screen)
    integ = uitest.need_line(lines, " sim ", "the integration's row")
    check("not collecting" in integ, "integration row: %r" % integ)
    for ty in TYPES:
        row = type_row(lines, "sim", ty)
        check(cell(row, COL_STATE) != "collecting", "sim/%s claims collecting: %r" % (ty, row))
        eq(cell(row, COL_NEXT), "-", "sim/%s next poll with nothing to poll" % ty)
    return screen


def lock_pid(sim):
    with open(os.path.join(sim.state_dir, "lock")) as f:
        return int(f.read().strip() or 0)


def store_requests(sim):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(sim.state_dir, "store.db"), uri=True)
    try:
        return db.execute("SELECT action, state FROM requests ORDER BY id").fetchall()
    finally:
        db.close()


def gone_or_zombie(pid):
    # Read in one go: the process may be reaped between a check that
    # /proc/PID exists and the read of its stat (a CI run under ASan).
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def quit_console(t, pid):
    t.keys("q")
    mwtest.wait_for(lambda: gone_or_zombie(pid), 20, "the console to quit")


def exit_then_collect_here(sig):
    with mwtest.Sim(["--span", "10m", "--spacing-ms", "500"]) as sim:
        sim.edit_config(interval="1h")
        log = open(os.path.join(sim.dir, "run.log"), "wb")
        service = start_run(sim, log)
        t = None
        try:
            wait_collected(sim, service)
            t, cpid = open_console(sim)
            screen = t.wait_for("attached to mimewatch run (pid %d)" % service.pid)
            check(header(screen).endswith("attached to mimewatch run (pid %d)" % service.pid),
                  "header: %r" % header(screen))

            screen = wait_exited_shown(t, service, kill_run(service, sig))
            totals = {ty: int(cell(type_row(screen_lines(screen), "sim", ty), COL_TOTAL).replace(",", ""))
                      for ty in TYPES}

            # A request now waits: nobody carries it out, the screen says so.
            asked = requests(sim)
            t.keys("f")
            screen = t.wait_for("1 request waiting for a collector: press C to collect in "
                                "this console")
            eq(status_line(screen), "fetch sim: requested; waiting for a collector (none runs: "
               "C collects in this console)", "status line after f")
            time.sleep(1.5)
            eq(requests(sim), asked, "requests to the tenant with no collector")
            eq(store_requests(sim)[-1], ("fetch", 0), "the fetch, left in the store")

            # c: this console collects, and carries out what was left.
            t.keys("C")
            screen = t.wait_for("collecting in this console (the collector, pid %d, had exited)"
                                % service.pid, timeout=5)
            check(header(screen).endswith("collecting in this console"),
                  "header: %r" % header(screen))
            eq(lock_pid(sim), cpid, "the lock file names the console")
            mwtest.wait_for(lambda: all(n > asked[ty] for ty, n in requests(sim).items()), 20,
                            "the console's collector to poll every type")
            mwtest.wait_for(lambda: all(st == 2 for _, st in store_requests(sim)), 20,
                            "the fetch left in the store to be carried out")
            mwtest.wait_for(lambda: all(
                int(cell(type_row(screen_lines(t.capture()), "sim", ty), COL_TOTAL).replace(",", "")) > totals[ty]
                for ty in TYPES), 10, "new records on the console's home screen")
            check("waiting for a collector" not in t.capture(), "still waiting:\n" + t.capture())
            js = sim.status_json()
            eq(js.get("collector_pid"), cpid, "status --json names the console")
            quit_console(t, cpid)
        finally:
            if t:
                t.close()
            mwtest.stop_bg(service)
            log.close()


def test_run_stopped_collect_here():
    exit_then_collect_here(signal.SIGTERM)


def test_run_killed_collect_here():
    exit_then_collect_here(signal.SIGKILL)


def test_run_killed_new_run_attached():
    with mwtest.Sim(["--span", "10m", "--spacing-ms", "500"]) as sim:
        sim.edit_config(interval="1h")
        log = open(os.path.join(sim.dir, "run.log"), "wb")
        service = start_run(sim, log)
        second = t = None
        try:
            wait_collected(sim, service)
            t, cpid = open_console(sim)
            t.wait_for("attached to mimewatch run (pid %d)" % service.pid)
            wait_exited_shown(t, service, kill_run(service, signal.SIGKILL))

            t0 = int(time.time())
            second = start_run(sim, log)
            started = time.monotonic()
            screen = t.wait_for("a new mimewatch run (pid %d) collects: attached to it"
                                % second.pid, timeout=5)
            check(time.monotonic() - started < 5 * mwtest.SCALE, "attached too late")
            check(header(screen).endswith("attached to mimewatch run (pid %d)" % second.pid),
                  "header: %r" % header(screen))
            eq(lock_pid(sim), second.pid, "the lock file names the new run")
            # its start-up poll over, f reaches it through the store
            mwtest.wait_for(lambda: all(s["last_success"] and mwtest.mc_time(s["last_success"]) >= t0 and
                                        s["state"] == "idle"
                                        for s in sim.type_status().values()),
                            30, "the new run's first poll")
            asked = requests(sim)
            t.keys("f")
            screen = t.wait_for("fetch sim: requested from the mimewatch run service")
            mwtest.wait_for(lambda: all(n > asked[ty] for ty, n in requests(sim).items()), 20,
                            "the new run to carry out fetch now")
            eq([st for _, st in store_requests(sim)], [2] * len(store_requests(sim)),
               "every request done")
            eq(second.poll(), None, "the new run still runs")
            quit_console(t, cpid)
        finally:
            if t:
                t.close()
            if second:
                mwtest.stop_bg(second)
            mwtest.stop_bg(service)
            log.close()


def test_attached_shard():
    """A run --shard K/N: the header says which shard it is and how many of
    the config's integrations it takes (HACKING, "Many tenants")."""
    with mwtest.Sim(["--span", "10m", "--spacing-ms", "500"]) as sim:
        sim.edit_config(interval="1h")
        log = open(os.path.join(sim.dir, "run.log"), "wb")
        service = mwtest.mimewatch_bg(["run", "--shard", "1/1"], config=sim.config, stderr=log)
        try:
            wait_collected(sim, service)
            r = console(sim, ["wait-idle", "dump home", "quit"])
            header = r.dumps["home"][0]
            check(header.endswith("attached to mimewatch run (pid %d), shard 1/1: 1 of 1 "
                                  "integrations" % service.pid), "header: %r" % header)
        finally:
            mwtest.stop_bg(service)
            log.close()


if __name__ == "__main__":
    uitest.main([test_attached_to_run, test_attached_shard, test_run_stopped_collect_here,
                 test_run_killed_collect_here, test_run_killed_new_run_attached])
