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
    wall, cpu_seconds, peak_rss_kb): mwtest.run_process, CPU from wait4
    (user + sys of the child and the children it waited for), peak RSS from
    VmHWM polled as it runs (see above)."""
    hwm = [0]

    def poll(pid):
        h = vm_hwm_kb(pid)
        if h:
            hwm[0] = max(hwm[0], h)
    rc, out, err, wall, cpu, _ = mwtest.run_process(argv, timeout, env=env, cwd=cwd,
                                                    on_poll=poll)
    return rc, out, err, wall, cpu, hwm[0]
