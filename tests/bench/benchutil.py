"""benchutil - what bench.py and bench_outputs.py share (stdlib only).

run_process() is mwtest.run_process with the peak RSS taken from the
child's VmHWM in /proc instead of wait4's ru_maxrss: Linux carries the
parent's high-water mark across fork (or vfork/posix_spawn) and exec into
the child's ru_maxrss, so a child of this Python process never reports less
than the benchmark's own RSS (about 25 MiB), whatever it really used.
VmHWM is the kernel's own high-water mark of the child's memory map, read
every 10 ms while it runs; the last read is at most 10 ms before the exit.
"""

import os
import signal
import subprocess
import tempfile
import time

import mwtest

TICK = os.sysconf("SC_CLK_TCK")


def loadavg():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "unknown"


def vm_hwm_kb(pid):
    """VmHWM of pid in kB, or None (gone, a zombie, or not readable)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def proc_cpu(pid):
    """User + system CPU seconds of a running process (all its threads,
    from /proc/PID/stat), or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(TICK)
    except (OSError, ValueError, IndexError):
        return None


def run_process(argv, timeout, env=None, cwd=None):
    """Runs argv to completion (killed at timeout); returns (rc, out, err,
    wall, cpu_seconds, peak_rss_kb): CPU from wait4 (user + sys of the child
    and the children it waited for), peak RSS from VmHWM (see above)."""
    outf = tempfile.TemporaryFile()
    errf = tempfile.TemporaryFile()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=outf, stderr=errf, stdin=subprocess.DEVNULL, env=env,
                         cwd=cwd, start_new_session=True)
    mwtest._procs.append(p)
    timed_out = False
    hwm = 0
    while True:
        h = vm_hwm_kb(p.pid)
        if h:
            hwm = max(hwm, h)
        pid, status, rusage = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if time.monotonic() - t0 > timeout:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            pid, status, rusage = os.wait4(p.pid, 0)
            break
        time.sleep(0.01)
    rc = p.returncode = os.waitstatus_to_exitcode(status)
    mwtest._procs.remove(p)
    wall = time.monotonic() - t0
    outf.seek(0)
    errf.seek(0)
    out = outf.read().decode("utf-8", "replace")
    err = errf.read().decode("utf-8", "replace")
    outf.close()
    errf.close()
    if timed_out:
        err += "\n[bench: killed after the %.0fs timeout]\n" % timeout
    return rc, out, err, wall, rusage.ru_utime + rusage.ru_stime, hwm
