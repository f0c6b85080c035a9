#!/usr/bin/env python3
"""Disk full (issue 4 item 3): the state dir and the NDJSON output on a
small tmpfs (root only; skipped otherwise), filled to the last byte while
fetch and run collect. No crash; `status` and `status --json` say "disk
full: free space on <dir>"; collection pauses with no horizon ahead of the
stored data; once space returns (the filler deleted, or the tmpfs remounted
bigger) every record arrives exactly once."""

import os
import signal
import sqlite3
import subprocess
import time

import mwstate
import mwtest
from mwtest import TYPES, Sim, check, eq

RECORDS = mwtest.scaled(2000, 10000)  # per type


class Tmpfs:
    def __init__(self, path, size):
        self.path = path
        if os.geteuid() != 0:
            raise mwtest.Skip("mounting a tmpfs needs root")
        os.makedirs(path, mode=0o700, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs",
                            path], capture_output=True, text=True)
        if r.returncode != 0:
            raise mwtest.Skip("mount -t tmpfs failed: %s" % r.stderr.strip())
        self.mounted = True

    def remount(self, size):
        r = subprocess.run(["mount", "-o", "remount,size=%s" % size, self.path],
                           capture_output=True, text=True)
        eq(r.returncode, 0, "remount %s: %s" % (size, r.stderr))

    def umount(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.path], capture_output=True)
            self.mounted = False


def fill(path):
    """Writes path until ENOSPC (to the last byte); returns bytes written."""
    n = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (1 << 20, 1 << 16, 4096, 512, 1):
            buf = b"\0" * chunk
            while True:
                try:
                    w = os.write(fd, buf)
                except OSError as ex:
                    if ex.errno != 28:
                        raise
                    break
                n += w
                if w < chunk:
                    break
    finally:
        os.close(fd)
    return n


def stored(sim):
    try:
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(sim.state_dir, "store.db"),
                              uri=True, timeout=30)
        try:
            return con.execute("SELECT count(*) FROM records").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return -1


def wait_for(what, cond, timeout):
    return mwtest.wait_for(cond, timeout, what)


def wait_stable(sim, secs):
    """Waits until the store's record count stays the same for secs;
    returns it."""
    last, since = stored(sim), time.monotonic()
    deadline = time.monotonic() + 60 * mwtest.SCALE
    while time.monotonic() < deadline:
        time.sleep(0.2)
        n = stored(sim)
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= secs:
            return n
    raise mwtest.CheckFailed("collection never paused on the full disk (records %d)" % last)


def check_status_full(sim, fs):
    st = sim.mw(["status"])
    eq(st.rc, 1, "status exit on a full disk\n%s" % st)
    want = ("disk full: free space on %s; collection is paused, nothing is lost, and it "
            "resumes where it stopped" % sim.state_dir)
    check(want in st.out.splitlines(), "status does not say %r\n%s" % (want, st))
    check("    error: disk full: free space on %s; delivery resumes where it stopped"
          % sim.out_dir in st.out.splitlines(), "status names no full output dir\n%s" % st)
    js = sim.status_json()
    eq(js.get("disk_full"), True, "status --json disk_full")
    eq(js["outputs"][0]["disk_full"], True, "status --json outputs[0].disk_full")
    eq(js["outputs"][0]["state"], "error", "status --json outputs[0].state")
    check(js["outputs"][0]["error"].startswith("disk full: free space on %s" % sim.out_dir),
          "status --json outputs[0].error %r" % js["outputs"][0]["error"])


def setup(sim, size):
    fs = Tmpfs(os.path.join(sim.dir, "fs"), size)
    sim.edit_config(state_dir='"%s/state"' % fs.path, dir='"%s/out"' % fs.path)
    sim.state_dir = os.path.join(fs.path, "state")
    sim.out_dir = os.path.join(fs.path, "out")
    return fs


def sim_args():
    # ~25 pages a second: the backfill lasts a few seconds, so the disk
    # fills in the middle of it.
    return ["--records", str(RECORDS), "--span", "6h", "--rate-limit", "10",
            "--refill-ms", "30"]


def finish(sim, truth, item, mode, before, during, full_secs, rc):
    lost, dup, invalid, lines = mwstate.count_lost_dup(sim, truth)
    mwtest.report(item, "%s: records stored when the disk filled" % mode, before,
                  "of %d" % (3 * RECORDS))
    mwtest.report(item, "%s: records stored while full" % mode, during,
                  "paused; disk full for %.1f s" % full_secs)
    mwtest.report(item, "%s: exit status" % mode, rc, "no crash")
    mwtest.report(item, "%s: lost" % mode, lost, "once space returned")
    mwtest.report(item, "%s: duplicated" % mode, dup, "store and NDJSON")
    eq((lost, dup, invalid), (0, 0, 0), "(lost, duplicated, invalid lines)")
    eq(lines, 3 * RECORDS, "NDJSON lines")
    mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})


def test_diskfull_fetch():
    with Sim(sim_args()) as sim:
        fs = setup(sim, "64m")
        try:
            truth = mwstate.truth_times(sim)
            errpath = os.path.join(sim.dir, "fetch.err")
            with open(errpath, "wb") as errf:
                p = mwtest.mimewatch_bg(["fetch", "--retry-budget", "60s"], config=sim.config,
                                        stderr=errf)
            wait_for("the first records", lambda: stored(sim) > 0, 30)
            filler = os.path.join(fs.path, "filler")
            fill(filler)
            t_full = time.monotonic()
            before = stored(sim)
            check(p.poll() is None, "fetch ended before the disk filled (%s)" % p.returncode)
            check_status_full(sim, fs)
            during = wait_stable(sim, 3)
            check(during < 3 * RECORDS, "every record stored despite the full disk")
            mwstate.check_horizons(sim, truth, where="disk full: ")
            check(p.poll() is None, "fetch gave up or crashed on the full disk: %s"
                  % p.returncode)
            os.unlink(filler)
            full_secs = time.monotonic() - t_full
            try:
                rc = p.wait(timeout=120 * mwtest.SCALE)
            finally:
                mwtest.stop_bg(p, signal.SIGKILL)
            with open(errpath, "rb") as f:
                err = f.read().decode("utf-8", "replace")
            eq(rc, 0, "fetch exit once space returned (stderr %r)" % err[-1500:])
            check("disk full: free space on %s" % sim.out_dir in err or
                  "disk full: free space on %s" % sim.state_dir in err,
                  "fetch never said disk full: %r" % err[-1500:])
            mwstate.check_horizons(sim, truth, where="after: ")
            st = sim.mw(["status"])
            eq(st.rc, 0, "status once space returned\n%s" % st)
            finish(sim, truth, "3 disk full", "fetch", before, during, full_secs, rc)
        finally:
            fs.umount()


def test_diskfull_run():
    with Sim(sim_args()) as sim:
        fs = setup(sim, "32m")
        try:
            truth = mwstate.truth_times(sim)
            errpath = os.path.join(sim.dir, "run.err")
            with open(errpath, "wb") as errf:
                p = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=errf)
            wait_for("the first records", lambda: stored(sim) > 0, 30)
            filler = os.path.join(fs.path, "filler")
            fill(filler)
            t_full = time.monotonic()
            before = stored(sim)
            check_status_full(sim, fs)
            during = wait_stable(sim, 3)
            check(during < 3 * RECORDS, "every record stored despite the full disk")
            mwstate.check_horizons(sim, truth, where="disk full: ")
            check(p.poll() is None, "run died on the full disk: %s" % p.returncode)
            # Space returns: a bigger file system (the filler stays).
            fs.remount("160m")
            full_secs = time.monotonic() - t_full
            wait_for("every record stored and delivered",
                     lambda: stored(sim) == 3 * RECORDS and
                     sum(len(sim.ndjson_raw("sim", t)) for t in TYPES) == 3 * RECORDS, 120)
            rc = mwtest.stop_bg(p)
            with open(errpath, "rb") as f:
                err = f.read().decode("utf-8", "replace")
            eq(rc, 0, "run exit on SIGTERM (stderr %r)" % err[-1500:])
            check("disk full: free space on" in err, "run never said disk full: %r"
                  % err[-1500:])
            mwstate.check_horizons(sim, truth, where="after: ")
            finish(sim, truth, "3 disk full", "run", before, during, full_secs, rc)
        finally:
            fs.umount()


if __name__ == "__main__":
    mwtest.main([test_diskfull_fetch, test_diskfull_run])
