#!/usr/bin/env python3
"""mimewatch run as a systemd Type=notify service, with a stub NOTIFY_SOCKET
standing in for systemd: READY=1 once collecting, watchdog pings at half of
WATCHDOG_USEC from the collector loop (and none without a watchdog), SIGHUP
reloads the config (RELOADING=1 then READY=1) without losing position, SIGTERM
gives STOPPING=1 and exit 0, and log lines carry syslog priority prefixes
when stderr goes to the journal (JOURNAL_STREAM)."""

import os
import signal
import socket
import time

import mwtest
from mwtest import TYPES, Sim, check, eq


class Notify:
    """A datagram socket that records what systemd would receive."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.msgs = []  # (monotonic time, text)

    def drain(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            self.msgs.append((time.monotonic(), data.decode()))

    def wait_for(self, text, seconds, start=None):
        """The index of the first message from start (default: the
        next to arrive) holding the line text, or None."""
        end = time.monotonic() + seconds * mwtest.SCALE
        seen = len(self.msgs) if start is None else start
        while True:
            for i in range(seen, len(self.msgs)):
                if text in self.msgs[i][1].split("\n"):
                    return i
            seen = len(self.msgs)
            if time.monotonic() >= end:
                return None
            self.drain(0.1)

    def count(self, text, since=0.0):
        return sum(1 for t, m in self.msgs if t >= since and text in m.split("\n"))

    def close(self):
        self.sock.close()


def service_env(sim, notify, watchdog_usec=None):
    env = dict(os.environ)
    env["NOTIFY_SOCKET"] = notify.path
    env.pop("WATCHDOG_PID", None)
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    else:
        env.pop("WATCHDOG_USEC", None)
    return env


def test_ready_watchdog_reload_stop():
    with Sim(["--records", "3000", "--span", "2h"]) as sim:
        sim.edit_config(interval="10s")
        notify = Notify(os.path.join(sim.dir, "notify"))
        errpath = os.path.join(sim.dir, "run.err")
        with open(errpath, "wb") as errf:
            p = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=errf,
                                    env=service_env(sim, notify, 1000000))
        check(notify.wait_for("READY=1", 20, start=0) is not None,
              "no READY=1 from mimewatch run: %r" % notify.msgs)
        ready = [m for _, m in notify.msgs if "READY=1" in m.split("\n")][0]
        check(any(l.startswith("STATUS=") for l in ready.split("\n")),
              "READY=1 came without a STATUS= line: %r" % ready)
        # Watchdog: 1 s interval, so a ping at least every 0.5 s.
        t0 = time.monotonic()
        notify.drain(4.0)
        pings = notify.count("WATCHDOG=1", since=t0)
        mwtest.report("service", "watchdog pings in 4 s (WATCHDOG_USEC 1 s)", pings)
        check(pings >= 6, "only %d watchdog pings in 4 s with WATCHDOG_USEC=1s" % pings)
        check(pings <= 40, "%d watchdog pings in 4 s: pinging in a busy loop" % pings)
        # Everything collected so far, then a reload must keep the position.
        deadline = time.monotonic() + 60 * mwtest.SCALE
        while time.monotonic() < deadline:
            counts = sim.store_counts()
            if sum(counts.get(("sim", t), 0) for t in TYPES) == 3 * 3000:
                break
            time.sleep(0.5)
        t1 = time.monotonic()
        os.kill(p.pid, signal.SIGHUP)
        i = notify.wait_for("RELOADING=1", 10)
        check(i is not None, "no RELOADING=1 after SIGHUP: %r" % notify.msgs[-5:])
        check(notify.wait_for("READY=1", 10, start=i + 1) is not None,
              "no READY=1 after the reload")
        check(p.poll() is None, "mimewatch run exited on SIGHUP")
        notify.drain(1.0)
        eq(mwtest.stop_bg(p), 0, "exit status of mimewatch run after SIGTERM")
        notify.drain(0.5)
        check(notify.count("STOPPING=1") == 1, "STOPPING=1 sent %d times"
              % notify.count("STOPPING=1"))
        notify.close()
        # Position kept: the reload asked for no record again beyond the overlap.
        r = sim.fetch()
        for t in TYPES:
            eq(r.report()[("sim", t)]["new"], 0, "%s: new records after reload + fetch" % t)
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})
        mwtest.report("service", "reload to READY", "%.2fs" % (
            [t for t, m in notify.msgs if "READY=1" in m.split("\n") and t > t1][0] - t1))


def test_reload_with_fixed_keys_rechecks_at_once():
    # Issue 14.3: a type that failed on a wrong secret waited for its next
    # poll (the interval, 10 minutes here) after the config was fixed and
    # reloaded, and home kept showing the old error. A reload that changes
    # an integration's keys (or URL, CA, ...) re-checks its failed types at
    # once; one that changes nothing leaves their schedule alone.
    with Sim(["--records", "300"]) as sim:
        good = mwtest.SIM_SECRET_KEY
        wrong = '"%s"' % ("B" * 86 + "==")
        sim.edit_config(secret_key=wrong, interval="10m")
        notify = Notify(os.path.join(sim.dir, "notify"))
        p = mwtest.mimewatch_bg(["run"], config=sim.config, env=service_env(sim, notify))
        try:
            check(notify.wait_for("READY=1", 20, start=0) is not None, "no READY=1")
            deadline = time.monotonic() + 20 * mwtest.SCALE
            while time.monotonic() < deadline:
                st = sim.type_status()
                if all(st.get(t, {}).get("state") == "error" for t in TYPES):
                    break
                time.sleep(0.2)
            check(all(st.get(t, {}).get("state") == "error" for t in TYPES),
                  "every type fails on the wrong secret: %r" % st)
            # A reload that changes nothing: no request before the next poll.
            before = sim.stats().get("requests", {})
            os.kill(p.pid, signal.SIGHUP)
            i = notify.wait_for("RELOADING=1", 10)
            check(i is not None and notify.wait_for("READY=1", 10, start=i + 1) is not None,
                  "the reload: %r" % notify.msgs[-5:])
            time.sleep(2.0)
            eq(sim.stats().get("requests", {}), before,
               "requests after a reload that fixed nothing")
            sim.edit_config(secret_key='"%s"' % good)
            t0 = time.monotonic()
            os.kill(p.pid, signal.SIGHUP)
            want = {t: len(sim.truth(t)) for t in TYPES}
            deadline = t0 + 15 * mwtest.SCALE
            while time.monotonic() < deadline:
                counts = sim.store_counts()
                if all(counts.get(("sim", t), 0) == want[t] for t in TYPES):
                    break
                time.sleep(0.2)
            took = time.monotonic() - t0
            for t in TYPES:
                eq(counts.get(("sim", t), 0), want[t], "%s records within %.0fs of the fixed "
                   "config's reload (the interval is 10 minutes)" % (t, took))
            st = sim.type_status()
            for t in TYPES:
                check(st[t]["state"] != "error", "%s state after the fix: %r" % (t, st[t]))
        finally:
            eq(mwtest.stop_bg(p), 0, "exit status of mimewatch run after SIGTERM")
            notify.close()
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})
        mwtest.report("service", "reload with fixed keys: collected after", "%.1fs" % took)


def test_no_watchdog_no_pings():
    with Sim(["--records", "100"]) as sim:
        notify = Notify(os.path.join(sim.dir, "notify"))
        p = mwtest.mimewatch_bg(["run"], config=sim.config, env=service_env(sim, notify))
        check(notify.wait_for("READY=1", 20, start=0) is not None, "no READY=1")
        notify.drain(2.0)
        eq(notify.count("WATCHDOG=1"), 0, "watchdog pings without WATCHDOG_USEC")
        eq(mwtest.stop_bg(p), 0, "exit status after SIGTERM")
        notify.close()


def test_journal_priority_prefixes():
    with Sim(["--records", "100"]) as sim:
        env = dict(os.environ)
        env["JOURNAL_STREAM"] = "8:12345"
        errpath = os.path.join(sim.dir, "run.err")
        with open(errpath, "wb") as errf:
            p = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=errf, env=env)
        time.sleep(2.0 * mwtest.SCALE)
        eq(mwtest.stop_bg(p), 0, "exit status after SIGTERM")
        with open(errpath, encoding="utf-8") as f:
            lines = [l for l in f.read().split("\n") if l]
        check(lines, "mimewatch run wrote no log lines")
        for l in lines:
            check(len(l) > 3 and l[0] == "<" and l[1] in "01234567" and l[2] == ">",
                  "a journal log line without a <N> priority prefix: %r" % l)
        # Without the journal, plain lines as before.
        with open(errpath, "wb") as errf:
            p = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=errf)
        time.sleep(1.0 * mwtest.SCALE)
        eq(mwtest.stop_bg(p), 0, "exit status after SIGTERM")
        with open(errpath, encoding="utf-8") as f:
            lines = [l for l in f.read().split("\n") if l]
        check(lines and all(l.startswith("mimewatch: ") for l in lines),
              "plain stderr lines changed: %r" % lines[:3])


if __name__ == "__main__":
    mwtest.main([test_ready_watchdog_reload_stop, test_reload_with_fixed_keys_rechecks_at_once,
                 test_no_watchdog_no_pings,
                 test_journal_priority_prefixes])
