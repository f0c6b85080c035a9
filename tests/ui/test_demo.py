#!/usr/bin/env python3
"""`mimewatch --demo` runs its two simulated tenants as mimewatch-sim child
processes (the console links no part of the simulator): they die with the
console however it ends (quit, SIGTERM, and kill -9, through
PR_SET_PDEATHSIG), and a simulator that cannot be found or does not start
is exit 2 with a message naming it, leaving nothing in TMPDIR.

The test makes itself a child subreaper, so a simulator orphaned by the
console's death becomes its child: it can then tell "exited" from "still
running" and reap what it finds."""

import ctypes
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import uitest
from uitest import check, eq

mwtest = uitest.mwtest
PR_SET_CHILD_SUBREAPER = 36
GONE_LIMIT = 5.0 * mwtest.SCALE


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise uitest.Skip("prctl(PR_SET_CHILD_SUBREAPER) failed: errno %d" % ctypes.get_errno())


def children(ppid):
    """Pids of the live mimewatch-sim processes whose parent is ppid."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if comm == "mimewatch-sim" and fields[0] != "Z" and int(fields[1]) == ppid:
            found.append(int(d))
    return sorted(found)


def alive(pid):
    """Running (not a zombie); reaps it when it has become our zombie."""
    try:
        r, _ = os.waitpid(pid, os.WNOHANG)
        if r == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def start_demo(script_lines):
    work = tempfile.mkdtemp(prefix="uidemo-")
    tmpdir = os.path.join(work, "tmp")
    os.mkdir(tmpdir, 0o700)
    script = os.path.join(work, "script")
    with open(script, "w") as f:
        f.write("\n".join(script_lines) + "\n")
    env = uitest.ui_env()
    env["TMPDIR"] = tmpdir
    p = subprocess.Popen([mwtest.MIMEWATCH, "--demo", "--script", script],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env, start_new_session=True)
    mwtest._procs.append(p)
    # The config is written once both simulators have reported their ports.
    mwtest.wait_for(lambda: glob.glob(os.path.join(tmpdir, "mimewatch-demo.*", "config.yaml"))
                    or p.poll() is not None, 30, "the demo's config")
    sims = children(p.pid)
    eq(len(sims), 2, "mimewatch-sim children of the console (exit %s)" % p.poll())
    return p, sims, work, tmpdir


def wait_gone(pids, what):
    end = time.monotonic() + GONE_LIMIT
    while time.monotonic() < end and any(alive(x) for x in pids):
        time.sleep(0.05)
    left = [x for x in pids if alive(x)]
    for x in left:
        os.kill(x, signal.SIGKILL)
        os.waitpid(x, 0)
    eq(left, [], "mimewatch-sim still running %.0f s after %s" % (GONE_LIMIT, what))


def test_kill9_leaves_no_sim():
    become_subreaper()
    p, sims, work, _ = start_demo(["sleep 60000", "quit"])
    try:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        p.stderr.close()
        wait_gone(sims, "kill -9 of the console")
    finally:
        mwtest.stop_bg(p, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


def test_quit_and_sigterm_reap_sims():
    become_subreaper()
    for how in ("quit", "SIGTERM"):
        p, sims, work, tmpdir = start_demo(["wait-idle", "sleep %d" % (1 if how == "quit"
                                                                       else 60000), "quit"])
        try:
            if how == "SIGTERM":
                os.kill(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=30 * mwtest.SCALE)
            except subprocess.TimeoutExpired:
                raise mwtest.CheckFailed("the console did not exit after %s" % how)
            err = p.stderr.read().decode("utf-8", "replace")
            p.stderr.close()
            eq(p.returncode, 0 if how == "quit" else 128 + signal.SIGTERM,
               "console exit status after %s; stderr: %s" % (how, err))
            # The console reaped them itself: none became ours.
            for x in sims:
                try:
                    r, _ = os.waitpid(x, os.WNOHANG)
                except ChildProcessError:
                    r = 0
                eq(r, 0, "mimewatch-sim %d left to the subreaper after %s" % (x, how))
                check(not alive(x), "mimewatch-sim %d running after %s" % (x, how))
            eq(os.listdir(tmpdir), [], "files left in TMPDIR after %s" % how)
        finally:
            mwtest.stop_bg(p, signal.SIGKILL)
            shutil.rmtree(work, ignore_errors=True)


def test_sim_missing_or_failing():
    for sim, want in (("/nonexistent/mimewatch-sim", "/nonexistent/mimewatch-sim (MIMEWATCH_SIM)"),
                      ("/bin/false", "/bin/false exited with status 1")):
        r = uitest.run_script(["quit"], args=["--demo"], env={"MIMEWATCH_SIM": sim})
        eq(r.rc, 2, "exit status with MIMEWATCH_SIM=%s" % sim)
        check(want in r.err, "the message names %r: %r" % (want, r.err))
        eq(r.leftovers, [], "files left in TMPDIR with MIMEWATCH_SIM=%s" % sim)


if __name__ == "__main__":
    uitest.main([test_kill9_leaves_no_sim, test_quit_and_sigterm_reap_sims,
                 test_sim_missing_or_failing])
