#!/usr/bin/env python3
"""Syscall faults on the commit path (issue 4 item 4): strace injects EIO or
ENOSPC into write, pwrite64, fsync, fdatasync, ftruncate, link and rename at
the Nth call (and from the Nth call on) while `fetch` collects on top of an
existing state and while it creates a new one. After each: no crash; the
fetch exits non-zero with a message naming the failure, or rides it out; no
horizon ahead of the stored data; the committed NDJSON whole; then a clean
fetch loads the old state and ends with exactly every record, 0 lost, 0
duplicated, every NDJSON line valid. Skipped without strace (Debian
package strace)."""

import os
import re
import shutil
import subprocess

import mwstate
import mwtest
from mwtest import TYPES, Sim, check, eq

N = 300  # per type
# SQLite says only "disk I/O error" when an fsync fails, whatever errno.
ERRNO_TEXT = {"EIO": ("Input/output error", "disk I/O error", "I/O error"),
              "ENOSPC": ("disk full", "No space left on device", "disk I/O error")}

# (scenario, syscall, injection points). "N+" fails every call from the Nth
# on. resume: fetch on top of an old state; new: fetch creating the store.
POINTS_SHORT = [
    ("resume", "pwrite64", ["1", "60", "10+"]),
    ("resume", "fsync", ["1", "1+"]),
    ("resume", "fdatasync", ["1"]),
    ("resume", "write", ["3"]),
    ("resume", "ftruncate", ["1"]),
    ("resume", "rename", ["1"]),
    ("new", "pwrite64", ["5+"]),
    ("new", "fdatasync", ["2+"]),
]
POINTS_LONG = [(sc, call, whens) for sc in ("resume", "new") for call, whens in [
    ("pwrite64", ["1", "2", "3", "4", "6", "10", "15", "30", "60", "90", "120", "200", "300",
                  "1+", "10+", "100+"]),
    ("fsync", ["1", "2", "3", "4", "5", "6", "8", "10", "15", "1+", "3+"]),
    ("fdatasync", ["1", "2", "3", "4", "6", "8", "11", "1+", "4+"]),
    ("write", ["1", "2", "3", "4", "5", "6", "8", "10", "15", "20", "1+", "5+"]),
    ("ftruncate", ["1", "2", "3", "4", "1+"]),
    ("link", ["1", "1+"]),
    ("rename", ["1", "1+"]),
    ("unlink", ["1", "2"]),
]]


def strace():
    path = shutil.which("strace")
    if not path:
        raise mwtest.Skip("strace is not installed (apt-get install strace)")
    r = subprocess.run([path, "-f", "-o", "/dev/null", "-e", "inject=getpid:error=EIO:when=1",
                        "true"], capture_output=True, text=True)
    if r.returncode != 0:
        raise mwtest.Skip("strace cannot trace here: %s" % r.stderr.strip()[:200])
    return path


def injected_fetch(sim, sc, call, err, when, tag):
    trace = os.path.join(sim.dir, "trace-%s" % tag)
    argv = [sc, "-f", "-qq", "-o", trace, "-e", "trace=%s" % call,
            "-e", "inject=%s:error=%s:when=%s" % (call, err, when),
            mwtest.MIMEWATCH, "--config", sim.config, "fetch", "--retry-budget", "4s"]
    # LeakSanitizer cannot run under ptrace; ASan and UBSan still do.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    rc, out, err_text, wall, cpu, rss = mwtest.run_process(argv, 120 * mwtest.SCALE, env=env)
    with open(trace, errors="replace") as f:
        hits = [line for line in f if "(INJECTED)" in line]
    os.unlink(trace)
    return rc, out, err_text, hits


def run_points(points):
    sc = strace()
    tally = {"exit non-zero with a message": 0, "rode it out": 0, "not reached": 0}
    cases = total_lost = total_dup = 0
    with Sim(["--records", str(N), "--span", "1h"]) as sim:
        truth = mwstate.truth_times(sim)
        # The old state: url and impersonation complete, attachment after
        # its first page (then 403).
        sim.faults("403:type=attachment,after=1,count=0")
        sim.fetch(expect_rc=1)
        sim.faults("")
        tmpl_state, tmpl_out = sim.state_dir + ".tmpl", sim.out_dir + ".tmpl"
        shutil.copytree(sim.state_dir, tmpl_state)
        shutil.copytree(sim.out_dir, tmpl_out)
        for scenario, call, whens in points:
            if True:
                for when in whens:
                    for err in ("EIO", "ENOSPC"):
                        tag = "%s %s:%s:when=%s" % (scenario, call, err, when)
                        shutil.rmtree(sim.state_dir, ignore_errors=True)
                        shutil.rmtree(sim.out_dir, ignore_errors=True)
                        if scenario == "resume":
                            shutil.copytree(tmpl_state, sim.state_dir)
                            shutil.copytree(tmpl_out, sim.out_dir)
                        rc, out, err_text, hits = injected_fetch(sim, sc, call, err, when,
                                                                 re.sub(r"\W", "_", tag))
                        cases += 1
                        check(rc in (0, 1, 2), "%s: fetch died: exit %s\n%s" % (tag, rc,
                                                                                 err_text[-2000:]))
                        check("Sanitizer" not in err_text and "runtime error" not in err_text,
                              "%s: a sanitizer report\n%s" % (tag, err_text[-3000:]))
                        if not hits:
                            tally["not reached"] += 1
                        elif rc != 0:
                            tally["exit non-zero with a message"] += 1
                            lines = [l for l in err_text.splitlines()
                                     if l.startswith("mimewatch: ")]
                            # A failed write to stderr is a message lost with it.
                            mute = any(re.search(r"\bwrite\(2,", h) for h in hits)
                            check(mute or lines, "%s: exit %d without a message" % (tag, rc))
                            check(mute or any(any(x in l for x in ERRNO_TEXT[err])
                                              for l in lines),
                                  "%s: exit %d; no message names the %s:\n%s"
                                  % (tag, rc, err, err_text[-1500:]))
                        else:
                            tally["rode it out"] += 1
                        if os.path.exists(os.path.join(sim.state_dir, "store.db")):
                            mwstate.check_horizons(sim, truth, where=tag + ": ")
                            mwstate.check_ndjson_committed(sim, where=tag + ": ")
                        r = sim.fetch(timeout=120)
                        for t in TYPES:
                            eq(r.report()[("sim", t)]["failed"], False,
                               "%s: the clean fetch after it failed %s\n%s" % (tag, t, r))
                        mwstate.check_horizons(sim, truth, where=tag + ", then clean: ")
                        lost, dup, invalid, lines_n = mwstate.count_lost_dup(sim, truth)
                        total_lost += lost
                        total_dup += dup
                        eq((lost, dup, invalid, lines_n), (0, 0, 0, 3 * N),
                           "%s, then a clean fetch: (lost, duplicated, invalid, lines)" % tag)
    item = "4 syscall faults"
    mwtest.report(item, "injection points", cases, "write pwrite64 fsync fdatasync ftruncate "
                  "link rename x EIO ENOSPC x N, on an old state and a new one")
    for k, v in tally.items():
        mwtest.report(item, k, v, "")
    mwtest.report(item, "lost after the clean fetch", total_lost, "summed over every point")
    mwtest.report(item, "duplicated after the clean fetch", total_dup, "summed over every point")
    check(tally["exit non-zero with a message"] + tally["rode it out"] >= cases // 2,
          "most injections never reached: %r" % tally)


def test_syscall_faults():
    run_points(mwtest.scaled(POINTS_SHORT, POINTS_LONG))


if __name__ == "__main__":
    mwtest.main([test_syscall_faults])
