#!/usr/bin/env python3
"""test_signals - the console and `mimewatch run` under signals and a
terminal that goes away (issue 4, item 13).

The console runs in a real pseudo-terminal as a job of a small shell-like
parent (its own process group, the terminal's foreground group, the pty as
its controlling terminal), against mimewatch-sim with collection running: a
slow-body fault keeps a page transfer in flight when the signal lands. For
SIGINT, SIGTERM, SIGHUP, SIGTSTP then SIGCONT, a storm of resizes
(TIOCSWINSZ: the kernel sends SIGWINCH) and the master closing under it (an
SSH drop, with the console as a job, as the session leader, and holding a
terminal that is not its controlling one, so no SIGHUP comes), it must:
leave the terminal settings exactly as they were (termios of the slave
before start and after exit, every field), exit within 3 s with 128+signal,
leave the store consistent (no duplicate, nothing the tenant never had,
every record up to the horizon present), let a following fetch end with
0 lost and 0 duplicated, and never spin once the terminal is gone.
`mimewatch run` must stop cleanly on SIGINT and SIGTERM, and on SIGHUP
reload and keep running from where it was (no page asked twice).

Figures: exit times after each signal, CPU seconds after the hang-up.
"""

import fcntl
import os
import random
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time

import uitest
from uitest import check, eq

mwtest = uitest.mwtest
TYPES = mwtest.TYPES
ITEM = "13 signals"
EXIT_LIMIT = 3.0 * mwtest.SCALE
RECORDS = 600           # per type: six pages of 100
TICK = os.sysconf("SC_CLK_TCK")

# The parent the console runs under, as a shell runs a job: it takes the
# pty as its controlling terminal, starts the console in its own process
# group, makes that the foreground group, and reports on fd 3 the child's
# pid, stops, continues and exit (status and CPU seconds) on a pipe.
#   leader: no parent; the console itself is the session leader (ssh host cmd)
#   noctty: the pty is the console's terminal but not its controlling one, so
#           a hang-up sends no SIGHUP and only poll() can tell
WRAPPER = r'''
import fcntl, os, signal, sys, termios
mode, repfd, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
if mode == "leader":
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    for s in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(s, signal.SIG_DFL)
    os.execv(argv[0], argv)
rep = os.fdopen(repfd, "w", buffering=1)
if mode == "job":
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
for s in (signal.SIGTTOU, signal.SIGHUP, signal.SIGINT, signal.SIGTSTP):
    signal.signal(s, signal.SIG_IGN)
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    if mode == "job":
        os.tcsetpgrp(0, os.getpid())
    for s in (signal.SIGTTOU, signal.SIGHUP, signal.SIGINT, signal.SIGTSTP, signal.SIGPIPE,
              signal.SIGXFSZ):
        signal.signal(s, signal.SIG_DFL)
    os.close(repfd)
    os.execv(argv[0], argv)
try:
    os.setpgid(pid, pid)
except OSError:
    pass
rep.write("pid %d\n" % pid)
while True:
    _, st, ru = os.wait4(pid, os.WUNTRACED | os.WCONTINUED)
    if os.WIFSTOPPED(st):
        rep.write("stopped %d\n" % os.WSTOPSIG(st))
    elif os.WIFCONTINUED(st):
        rep.write("continued\n")
    else:
        rep.write("exit %d %.3f\n" % (os.waitstatus_to_exitcode(st), ru.ru_utime + ru.ru_stime))
        break
'''


def set_size(fd, cols, rows):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def proc_cpu(pid):
    """CPU seconds of a live process (all its threads), None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return None


def san_env(logdir):
    """Sanitizer reports go to files we look at, not onto the pty."""
    env = {}
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        old = os.environ.get(var, "")
        env[var] = (old + ":" if old else "") + "log_path=" + os.path.join(logdir, var[:5])
    return env


class PtyConsole:
    """The console on a fresh pty. Output is drained all the time (a full
    pty would block the console); events of the parent are timestamped."""

    def __init__(self, sim, mode="job", cols=100, rows=30, env=None, unset=()):
        self.sim, self.mode = sim, mode
        self.master, self.slave = os.openpty()
        set_size(self.slave, cols, rows)
        self.before = termios.tcgetattr(self.slave)
        self.out = bytearray()
        self.lock = threading.Lock()
        self.events = []
        self.closing = False
        self.closed_at = None
        self.sandir = os.path.join(sim.dir, "san")
        os.makedirs(self.sandir, exist_ok=True)
        e = uitest.ui_env(san_env(self.sandir))
        e.update(env or {})
        for var in unset:
            e.pop(var, None)
        rfd, wfd = os.pipe()
        argv = [sys.executable, "-c", WRAPPER, mode, str(wfd), mwtest.MIMEWATCH, "--config", sim.config]
        self.proc = subprocess.Popen(argv, stdin=self.slave, stdout=self.slave,
                                     stderr=self.slave, env=e, start_new_session=True,
                                     pass_fds=(wfd,) if mode != "leader" else (),
                                     close_fds=True)
        mwtest._procs.append(self.proc)
        os.close(wfd)
        self.rep = os.fdopen(rfd, "r")
        self.t_out = threading.Thread(target=self._drain, daemon=True)
        self.t_out.start()
        if mode == "leader":
            self.pid = self.proc.pid
            self.rep.close()
            threading.Thread(target=self._wait_leader, daemon=True).start()
        else:
            threading.Thread(target=self._events, daemon=True).start()
            self.pid = int(self.wait_event("pid", 10)[1][0])

    def _drain(self):
        while True:
            if self.closing:
                # Closed here, between reads: a read in progress would hold
                # the master open and delay the hang-up.
                os.close(self.master)
                self.closed_at = time.monotonic()
                return
            r, _, _ = select.select([self.master], [], [], 0.02)
            if r:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    while not self.closing:
                        time.sleep(0.01)
                    continue
                with self.lock:
                    self.out.extend(data)

    def _events(self):
        for line in self.rep:
            with self.lock:
                self.events.append((time.monotonic(), line.split()))

    def _wait_leader(self):
        _, st, ru = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(st)
        with self.lock:
            self.events.append((time.monotonic(), ["exit", str(self.proc.returncode),
                                                   "%.3f" % (ru.ru_utime + ru.ru_stime)]))

    def wait_event(self, kind, timeout, since=0.0):
        end = time.monotonic() + timeout * mwtest.SCALE
        while True:
            with self.lock:
                for t, ev in self.events:
                    if ev[0] == kind and t >= since:
                        return t, ev[1:]
            if time.monotonic() >= end:
                return None
            time.sleep(0.01)

    def mark(self):
        with self.lock:
            return len(self.out)

    def output(self, since=0):
        with self.lock:
            return bytes(self.out[since:])

    def wait_output(self, text, since=0, timeout=20):
        end = time.monotonic() + timeout * mwtest.SCALE
        while time.monotonic() < end:
            if text in self.output(since):
                return time.monotonic()
            time.sleep(0.02)
        raise mwtest.CheckFailed("%r never appeared on the terminal; last output %r"
                                 % (text, self.output(since)[-600:]))

    def send(self, data):
        os.write(self.master, data)

    def hang_up(self):
        self.closing = True
        end = time.monotonic() + 5
        while self.closed_at is None and time.monotonic() < end:
            time.sleep(0.005)
        check(self.closed_at is not None, "the master was not closed")
        return self.closed_at

    def exited(self, t0, what):
        """Waits for the exit; returns (rc, seconds since t0, cpu seconds)."""
        ev = self.wait_event("exit", EXIT_LIMIT + 10)
        if ev is None:
            cpu0 = proc_cpu(self.pid)
            time.sleep(2)
            cpu1 = proc_cpu(self.pid)
            raise mwtest.CheckFailed(
                "%s: the console did not exit within %.0f s (CPU %.2f s in the last 2 s)"
                % (what, EXIT_LIMIT + 10, (cpu1 or 0) - (cpu0 or 0)))
        t, (rc, cpu) = ev
        return int(rc), t - t0, float(cpu)

    def check_terminal(self, what):
        after = termios.tcgetattr(self.slave)
        names = ("iflag", "oflag", "cflag", "lflag", "ispeed", "ospeed", "cc")
        diff = [n for n, a, b in zip(names, self.before, after) if a != b]
        eq(diff, [], "%s: termios fields that differ from before the console" % what)

    def check_sanitizers(self, what):
        found = sorted(os.listdir(self.sandir))
        logs = ""
        for f in found:
            with open(os.path.join(self.sandir, f), errors="replace") as fh:
                logs += fh.read()[:3000]
        clog = os.path.join(self.sim.state_dir, "console.log")
        if os.path.exists(clog):
            with open(clog, errors="replace") as fh:
                text = fh.read()
            for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
                check(bad not in text, "%s: %s in console.log:\n%s" % (what, bad, text[-3000:]))
        eq(found, [], "%s: sanitizer reports\n%s" % (what, logs))

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        if self.mode != "leader":
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
        self.closing = True
        self.t_out.join(5)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if self.proc in mwtest._procs:
            mwtest._procs.remove(self.proc)
        os.close(self.slave)


# ---- the store and the following fetch ------------------------------------------------

def store_rows(sim):
    """{type: (horizon, [(time, messageId)])} read-only from the store."""
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(sim.state_dir, "store.db"),
                          uri=True, timeout=30)
    try:
        out = {}
        for sid, t in con.execute("SELECT id, type FROM sources WHERE integration='sim'"):
            row = con.execute("SELECT horizon FROM cursors WHERE source=?", (sid,)).fetchone()
            recs = con.execute("SELECT time, json_extract(json, '$.messageId') FROM records "
                               "WHERE source=?", (sid,)).fetchall()
            out[t] = (row[0] if row else 0, recs)
        return out
    finally:
        con.close()


def stored_total(sim):
    db = os.path.join(sim.state_dir, "store.db")
    if not os.path.exists(db):
        return 0
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM records").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def wait_collecting(sim, is_alive, timeout=30):
    """Until some records are committed (the rest is stuck in slow pages)."""
    end = time.monotonic() + timeout * mwtest.SCALE
    while time.monotonic() < end:
        check(is_alive(), "mimewatch exited before collecting")
        if stored_total(sim) > 0:
            return
        time.sleep(0.05)
    raise mwtest.CheckFailed("nothing committed within %.0f s" % (timeout * mwtest.SCALE))


def check_state(sim, truth, what):
    """What the stopped process left: no duplicate, nothing unknown, every
    record at or before the horizon present, nothing at all lost later."""
    rows = store_rows(sim)
    committed = 0
    for t in TYPES:
        horizon, recs = rows.get(t, (0, []))
        ids = [m for _, m in recs]
        eq(len(ids) - len(set(ids)), 0, "%s: %s duplicated in the store" % (what, t))
        known = {r["messageId"]: mwtest.mc_time(r[mwtest.TIME_FIELD[t]]) for r in truth[t]}
        unknown = set(ids) - set(known)
        eq(sorted(unknown)[:3], [], "%s: %s records the tenant never had" % (what, t))
        missing = [m for m, tm in known.items() if tm < horizon and m not in set(ids)]
        eq(len(missing), 0, "%s: %s records before the horizon %d missing from the store"
           % (what, t, horizon))
        committed += len(ids)
    check(committed > 0, "%s: nothing was committed before the signal (the test proved "
          "nothing)" % what)
    return committed


def following_fetch(sim, truth, what):
    sim.faults("")
    r = sim.fetch(timeout=120)
    rep = r.report()
    for t in TYPES:
        eq(rep[("sim", t)]["failed"], False, "%s: the following fetch of %s failed\n%s"
           % (what, t, r))
    mwtest.assert_exact_records(sim, truth)


def slow_sim():
    # Two pages per type come fast, then every body drips at 20 kB/s: a
    # transfer is in flight whenever the signal lands.
    return mwtest.Sim(["--records", str(RECORDS), "--span", "1h",
                       "--fault", "slow:after=6,count=0,bytes=20000"])


def start_console(sim, mode="job", **kw):
    c = PtyConsole(sim, mode, **kw)
    try:
        c.wait_output(b"integrations", timeout=20)
        wait_collecting(sim, lambda: c.wait_event("exit", 0) is None)
        time.sleep(0.3)
    except BaseException:
        c.close()
        raise
    return c


# ---- the console ---------------------------------------------------------------------------

def test_console_stop_signals():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        name = signal.Signals(sig).name
        with slow_sim() as sim:
            truth = {t: sim.truth(t) for t in TYPES}
            c = start_console(sim)
            try:
                t0 = time.monotonic()
                os.kill(c.pid, sig)
                rc, took, cpu = c.exited(t0, name)
                mwtest.report(ITEM, "console exit after %s (s)" % name, "%.2f" % took)
                eq(rc, 128 + sig, "console exit status after %s" % name)
                check(took <= EXIT_LIMIT, "console took %.2f s to exit after %s" % (took, name))
                c.check_terminal("after %s" % name)
                out = c.output()
                check(out.rstrip(b"\r\n").endswith(b"\x1b>") or b"\x1b[?1049l" in out,
                      "after %s: the alternate screen was not left: %r" % (name, out[-200:]))
                check(b"\x1b[?2004l" in out, "after %s: bracketed paste not turned off" % name)
                c.check_sanitizers(name)
            finally:
                c.close()
            check_state(sim, truth, "console after %s" % name)
            following_fetch(sim, truth, "console after %s" % name)


def test_console_tstp_cont():
    with slow_sim() as sim:
        truth = {t: sim.truth(t) for t in TYPES}
        c = start_console(sim)
        try:
            t0 = time.monotonic()
            mark = c.mark()
            os.killpg(c.pid, signal.SIGTSTP)        # as ^Z does: the whole job
            ev = c.wait_event("stopped", EXIT_LIMIT, since=t0)
            check(ev is not None, "the console did not stop within %.0f s of SIGTSTP; "
                  "output %r" % (EXIT_LIMIT, c.output(mark)[-300:]))
            mwtest.report(ITEM, "console stopped after SIGTSTP (s)", "%.3f" % (ev[0] - t0))
            # Stopped: the shell gets its terminal back as it was.
            c.check_terminal("while stopped by SIGTSTP")
            check(b"\x1b[?2004l" in c.output(mark), "bracketed paste left on while stopped")
            time.sleep(0.3)
            mark = c.mark()
            set_size(c.master, 90, 28)               # the shell's window changed meanwhile
            t1 = time.monotonic()
            os.killpg(c.pid, signal.SIGCONT)
            check(c.wait_event("continued", 5, since=t1) is not None, "no SIGCONT seen")
            c.wait_output(b"integrations", since=mark, timeout=5)
            check(b"\x1b[?2004h" in c.output(mark), "bracketed paste not back after SIGCONT")
            check(termios.tcgetattr(c.slave) != c.before,
                  "after SIGCONT the console did not take the terminal back")
            time.sleep(0.5)
            check(c.wait_event("exit", 0) is None, "the console exited after SIGCONT")
            t2 = time.monotonic()
            c.send(b"q")
            rc, took, _ = c.exited(t2, "q after SIGCONT")
            mwtest.report(ITEM, "console exit after q, after SIGTSTP/SIGCONT (s)", "%.2f" % took)
            eq(rc, 0, "console exit status after q")
            check(took <= EXIT_LIMIT, "console took %.2f s to exit after q" % took)
            c.check_terminal("after SIGTSTP, SIGCONT and q")
            c.check_sanitizers("SIGTSTP/SIGCONT")
        finally:
            c.close()
        check_state(sim, truth, "console after SIGTSTP/SIGCONT")
        following_fetch(sim, truth, "console after SIGTSTP/SIGCONT")


def test_console_resize_storm():
    n, secs = mwtest.scaled((200, 2.0), (1000, 10.0))
    rng = random.Random(13)
    with slow_sim() as sim:
        truth = {t: sim.truth(t) for t in TYPES}
        c = start_console(sim)
        try:
            cpu0 = proc_cpu(c.pid)
            t0 = time.monotonic()
            for i in range(n):
                # Sizes from 1x1 to 200x60, most of them below the minimum.
                set_size(c.master, rng.randint(1, 200), rng.randint(1, 60))
                time.sleep(max(0.0, t0 + (i + 1) * secs / n - time.monotonic()))
                check(c.wait_event("exit", 0) is None, "the console exited during the "
                      "resize storm (after %d resizes): %r" % (i + 1, c.wait_event("exit", 0)))
            storm = time.monotonic() - t0
            cpu = proc_cpu(c.pid) - cpu0
            mwtest.report(ITEM, "resizes", n, "in %.1f s" % storm)
            mwtest.report(ITEM, "console CPU during the resize storm (s)", "%.2f" % cpu)
            # The last size wins: the too-small screen names it, then the
            # normal screen comes back.
            mark = c.mark()
            set_size(c.master, 37, 11)
            t1 = time.monotonic()
            c.wait_output(b"now 37x11", since=mark, timeout=EXIT_LIMIT)
            mwtest.report(ITEM, "too-small screen shown after the last resize (s)",
                          "%.2f" % (time.monotonic() - t1))
            mark = c.mark()
            set_size(c.master, 100, 30)
            c.wait_output(b"integrations", since=mark, timeout=EXIT_LIMIT)
            t2 = time.monotonic()
            c.send(b"q")
            rc, took, _ = c.exited(t2, "q after the resize storm")
            eq(rc, 0, "console exit status after the resize storm")
            check(took <= EXIT_LIMIT, "console took %.2f s to exit after q" % took)
            c.check_terminal("after %d resizes" % n)
            c.check_sanitizers("resize storm")
        finally:
            c.close()
        check_state(sim, truth, "console after the resize storm")
        following_fetch(sim, truth, "console after the resize storm")


def test_console_hangup():
    """The master closes under the console (an SSH drop)."""
    # leader: `ssh host mimewatch`; noctty: no SIGHUP at all; job: under a shell.
    for mode in mwtest.scaled(("leader", "noctty"), ("job", "leader", "noctty")):
        with slow_sim() as sim:
            truth = {t: sim.truth(t) for t in TYPES}
            c = start_console(sim, mode)
            try:
                cpu0 = proc_cpu(c.pid)
                t0 = c.hang_up()
                rc, took, cpu = c.exited(t0, "hang-up (%s)" % mode)
                after = cpu - cpu0
                mwtest.report(ITEM, "console exit after the terminal closed, %s (s)" % mode,
                              "%.2f" % took)
                mwtest.report(ITEM, "console CPU after the terminal closed, %s (s)" % mode,
                              "%.2f" % after)
                eq(rc, 128 + signal.SIGHUP, "console exit status after the hang-up (%s)" % mode)
                check(took <= EXIT_LIMIT, "console took %.2f s to exit after the hang-up (%s)"
                      % (took, mode))
                check(after <= 0.5 * mwtest.SCALE, "console used %.2f s CPU after the hang-up "
                      "(%s): spinning" % (after, mode))
                c.check_sanitizers("hang-up (%s)" % mode)
            finally:
                c.close()
            check_state(sim, truth, "console after the hang-up (%s)" % mode)
            following_fetch(sim, truth, "console after the hang-up (%s)" % mode)


# ---- mimewatch run -------------------------------------------------------------------------

def run_log(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def test_run_stop_signals():
    for sig in (signal.SIGINT, signal.SIGTERM):
        name = signal.Signals(sig).name
        with slow_sim() as sim:
            truth = {t: sim.truth(t) for t in TYPES}
            logpath = os.path.join(sim.dir, "run.log")
            with open(logpath, "wb") as log:
                p = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=log)
            try:
                wait_collecting(sim, lambda: p.poll() is None)
                time.sleep(0.3)
                t0 = time.monotonic()
                os.kill(p.pid, sig)
                try:
                    rc = p.wait(EXIT_LIMIT + 10)
                except subprocess.TimeoutExpired:
                    rc = None
                took = time.monotonic() - t0
            finally:
                mwtest.stop_bg(p, signal.SIGKILL)
            mwtest.report(ITEM, "run exit after %s (s)" % name, "%.2f" % took)
            eq(rc, 0, "run exit status after %s\n%s" % (name, run_log(logpath)))
            check(took <= EXIT_LIMIT, "run took %.2f s to exit after %s" % (took, name))
            check("everything collected is committed" in run_log(logpath), run_log(logpath))
            check_state(sim, truth, "run after %s" % name)
            following_fetch(sim, truth, "run after %s" % name)


def test_run_sighup_reloads():
    """SIGHUP mid-backfill: run reloads, keeps running, and resumes the
    window where it was: each page is asked for once (one more at most per
    reload, for a transfer the reload cut), nothing collected twice."""
    pages = 10
    hups = 3
    with mwtest.Sim(["--records", str(pages * 100), "--span", "1h",
                     "--fault", "slow:count=0,bytes=300000"]) as sim:
        truth = {t: sim.truth(t) for t in TYPES}
        logpath = os.path.join(sim.dir, "run.log")
        with open(logpath, "wb") as log:
            p = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=log)
        try:
            wait_collecting(sim, lambda: p.poll() is None)
            for i in range(hups):
                os.kill(p.pid, signal.SIGHUP)
                time.sleep(0.3)
                check(p.poll() is None, "run exited after SIGHUP %d: %s\n%s"
                      % (i + 1, p.returncode, run_log(logpath)))
            mid = stored_total(sim)
            check(mid < 3 * pages * 100, "the backfill ended before the reloads (%d records): "
                  "the test proved nothing" % mid)
            end = time.monotonic() + 60 * mwtest.SCALE
            while time.monotonic() < end and stored_total(sim) < 3 * pages * 100:
                check(p.poll() is None, "run exited: %s\n%s" % (p.returncode, run_log(logpath)))
                time.sleep(0.1)
            eq(stored_total(sim), 3 * pages * 100, "records stored after the reloads")
            time.sleep(1.0)     # the output thread delivers the last page
            check(p.poll() is None, "run exited after the backfill")
            rc = mwtest.stop_bg(p, signal.SIGTERM)
        finally:
            mwtest.stop_bg(p, signal.SIGKILL)
        eq(rc, 0, "run exit status on SIGTERM\n%s" % run_log(logpath))
        log = run_log(logpath)
        eq(log.count("config reloaded"), hups, "reloads logged:\n%s" % log)
        st = sim.stats()
        for t in TYPES:
            asked = sim.path_requests(t, st)
            mwtest.report(ITEM, "run: %s pages asked for %d pages, %d SIGHUPs" % (t, pages, hups),
                          asked)
            check(pages <= asked <= pages + hups, "run asked %d pages of %s for %d (position "
                  "lost on reload?)" % (asked, t, pages))
        mwtest.assert_exact_records(sim, truth)


if __name__ == "__main__":
    uitest.main([test_console_stop_signals, test_console_tstp_cont, test_console_resize_storm,
                 test_console_hangup, test_run_stop_signals, test_run_sighup_reloads])
