#!/usr/bin/env python3
"""bench - mimewatch's collection benchmark (`make bench`).

Starts mimewatch-sim over TLS on 127.0.0.1 with --records N (split over the
three types), runs `mimewatch fetch` and measures wall time, CPU seconds
(user + sys of the child, from wait4), peak RSS (its VmHWM: see
benchutil.py) and the requests the tenant saw; then runs tests/bench/pycollector.py, a plain Python collector, under
the interpreter running this script (sys.executable: the real interpreter,
not a pyenv or $(PYTHON3) shim, whose wrapper would be timed too) against a
fresh tenant with the same records, and prints both side by side with the
targets of HACKING, "Performance targets":
  >= 50,000 records/s; CPU per record <= 1/2 of Python's (aim 1/5);
  peak RSS < 64 MiB; requests <= 1.05 x full pages.
The CPU ratio is mimewatch's CPU seconds per record over Python's.
--repeat N runs each collector N times, alternating, prints every run and
the medians, and takes the ratio as the median of each pair's: on a shared
machine one run of each can differ by 15% from the next.

Then, unless --no-breakdown, a third run: `mimewatch fetch` of as many
records (or --breakdown-records) from a fresh tenant under `perf record
-F 999` (sampling, no call graphs), and the share of mimewatch's CPU
samples by shared object from `perf report --sort dso`: kernel, SQLite,
TLS (libssl + libcrypto), libcurl, libc, json-c, zlib, mimewatch's own
code, other. Without a usable perf it prints "breakdown: unavailable (perf not
usable: REASON)" and goes on.

Then, unless --no-siem, a SIEM backfill (HACKING "Batch files"):
mimewatch-sim --siem-events N (default 1,000,000; --quick 30,000) lays N
events out in gzip'd NDJSON batch files of 2,000 events (--siem-file-events)
over the 7 days before today, every SIEM type alike, made ahead by the sim
(the bench waits for them before it starts the clock: the sim's CPU is not
the collector's). `mimewatch fetch` collects type siem alone over API 2.0
(OAuth, the /siem/v1/batch/events/cg listing, pre-signed links, lookback
7d) with the store's production commits (a transaction a file); then
pycollector.py --siem does the same job against a fresh tenant. Printed
side by side: events/s (wall), CPU s per 100k events, peak RSS, store
bytes per event (the store's files, -wal and -shm included, after the run,
over the events) and requests (listings + files + token); the same targets
as TTP's (>= 50,000 events/s, CPU ratio <= 1/2, RSS < 64 MiB), and the
same perf breakdown. Each collector must have stored exactly N distinct
events (counted in its store) and written N NDJSON lines, or the bench
fails.

Page size: 100 by default, the page size the targets are stated at (and
mimewatch's default and largest: Mimecast documents 1..100; the simulated
tenant accepts up to 500). --page-size changes it for both collectors, for
experiments: such a run is labelled as one and does not count toward the
targets. The load average is printed at the start and the end: figures
taken on a busy machine are worth less.
Exit 0 when every run collected every record, and every SIEM run stored
every event exactly once (and, with --strict, every target of both parts
was met), 1 otherwise."""

import argparse
import contextlib
import glob
import math
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_PAGE_SIZE = 100


def cpu_ratio(series, repeat, label, misses):
    """Prints the CPU ratio: each pair's (alternating runs share the
    machine's load), the ratio their median, the pair itself with one run
    each; a miss when over the target."""
    pairs = [m["cpu100k"] / p["cpu100k"]
             for m, p in zip(series["mimewatch"], series["python"]) if p["cpu100k"]]
    ratio = statistics.median(pairs) if pairs else 0
    print("\n%s: %.3f%s (target <= 0.5, aim 0.2)" % (label, ratio, (
        ", the median of %d pairs (%s)" % (len(pairs), ", ".join("%.3f" % x for x in pairs)))
        if repeat > 1 else ""))
    if ratio > 0.5:
        misses.append("CPU ratio %.3f > 0.5" % ratio)
    return ratio


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mimewatch", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--records", type=int, default=1000000,
                    help="records per run, split over the 3 types (default 1000000)")
    ap.add_argument("--quick", action="store_true", help="30000 records, for CI")
    ap.add_argument("--page-size", type=int, default=TARGET_PAGE_SIZE,
                    help="page size of both collectors (default %d; any other value is "
                    "an experiment, not counted toward the targets)" % TARGET_PAGE_SIZE)
    ap.add_argument("--repeat", type=int, default=1,
                    help="timed runs of each collector, alternating (default 1); with more "
                    "than one, every run is printed and the figures are medians, the CPU "
                    "ratio the median of each pair's ratio")
    ap.add_argument("--no-python", action="store_true", help="skip the Python collector")
    ap.add_argument("--no-breakdown", action="store_true",
                    help="skip the perf run that splits mimewatch's CPU by library")
    ap.add_argument("--breakdown-records", type=int, default=0,
                    help="records of the perf run at most (default: as many as the "
                    "timed runs)")
    ap.add_argument("--perf", default="perf", help="the perf program (default: perf)")
    ap.add_argument("--no-siem", action="store_true", help="skip the SIEM backfill")
    ap.add_argument("--siem-events", type=int, default=1000000,
                    help="events of the SIEM backfill (default 1000000; --quick: 30000)")
    ap.add_argument("--siem-file-events", type=int, default=2000,
                    help="events a SIEM batch file holds (default 2000, mimewatch-sim's)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return ap.parse_args()


args = parse_args()
os.environ["MIMEWATCH"] = os.path.abspath(args.mimewatch)
os.environ["MIMEWATCH_SIM"] = os.path.abspath(args.sim)
# A program run by `make bench`, outside automake's test environment: it
# finds the test harness (tests/lib/mwtest.py) itself.
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import mwtest  # noqa: E402  (needs the two variables above)
import benchutil  # noqa: E402
from benchutil import loadavg  # noqa: E402

TYPES = mwtest.TYPES


def sim_args(per_type):
    # A bucket large enough that the quota never shapes the figures.
    return ["--records", str(per_type), "--span", "24h", "--rate-limit", "1000000",
            "--refill-ms", "1"]


def count_lines(sim):
    n = 0
    for path in mwtest.glob.glob(os.path.join(sim.out_dir, "**", "*.ndjson"), recursive=True):
        with open(path, "rb") as f:
            n += sum(1 for _ in f)
    return n


def log_requests(st):
    return sum(st.get("requests", {}).get(mwtest.PATHS[t], 0) for t in TYPES)


def busy():
    """Says so when other work shares the machine: CPU seconds, not only
    wall time, grow and scatter then (shared caches and cores)."""
    try:
        one = os.getloadavg()[0]
    except OSError:
        return
    if one >= 0.5 * (os.cpu_count() or 1) + 0.5:
        print("bench: the machine is busy (1-minute load %.2f on %d CPUs): figures are noisier "
              "and slower than on an idle machine" % (one, os.cpu_count() or 1), flush=True)


def run_mimewatch(per_type, page_size):
    with mwtest.Sim(sim_args(per_type)) as sim:
        sim.edit_config(page_size=str(page_size))
        rc, out, err, wall, cpu, rss = benchutil.run_process(
            [mwtest.MIMEWATCH, "--config", sim.config, "fetch"], 3600)
        if rc != 0:
            sys.stderr.write("bench: mimewatch fetch exited %d\n%s%s" % (rc, out, err))
        st = sim.stats()
        return dict(rc=rc, wall=wall, cpu=cpu, rss_kb=rss, requests=log_requests(st),
                    lines=count_lines(sim), early=st.get("early_requests", 0))


def python_interpreter():
    """The interpreter to time: the one running this script (sys.executable
    is the real binary even when `make bench` started us through a shim)."""
    exe = os.path.realpath(sys.executable)
    try:
        with open(exe, "rb") as f:
            elf = f.read(4) == b"\x7fELF"
    except OSError:
        elf = False
    return exe, elf


def run_python(per_type, page_size, exe):
    with mwtest.Sim(sim_args(per_type)) as sim:
        rc, out, err, wall, cpu, rss = benchutil.run_process(
            [exe, os.path.join(HERE, "pycollector.py"), "--base-url", sim.base_url,
             "--ca-file", sim.ca_file, "--out", sim.out_dir, "--page-size", str(page_size),
             "--lookback", "25h"], 3600)
        if rc != 0:
            sys.stderr.write("bench: pycollector exited %d\n%s%s" % (rc, out, err))
        st = sim.stats()
        return dict(rc=rc, wall=wall, cpu=cpu, rss_kb=rss, requests=log_requests(st),
                    lines=count_lines(sim), early=st.get("early_requests", 0))


# ---- where mimewatch's CPU goes (perf) ------------------------------------------------

# (label, test on perf's shared-object name), first match wins.
BREAKDOWN = (
    ("kernel", lambda d: d.startswith("[kernel") or d in ("[unknown]",)),
    ("SQLite", lambda d: d.startswith("libsqlite3")),
    ("TLS", lambda d: d.startswith("libssl") or d.startswith("libcrypto")),
    ("libcurl", lambda d: d.startswith("libcurl")),
    ("libc", lambda d: d.startswith("libc.so") or d.startswith("libc-")),
    ("json-c", lambda d: d.startswith("libjson-c")),
    ("zlib", lambda d: d.startswith("libz.so")),   # the SIEM files' gunzip
    ("mimewatch", lambda d: d == os.path.basename(mwtest.MIMEWATCH)),
)
DSO_LINE = re.compile(r"^\s*([0-9.]+)%\s+(\d+)\s+(.+?)\s*$")


def perf_reason(text, rc):
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("[ perf")]
    why = lines[0] if lines else "exit status %s" % rc
    return why[:160]


@contextlib.contextmanager
def ttp_sim(per_type, page_size):
    with mwtest.Sim(sim_args(per_type)) as sim:
        sim.edit_config(page_size=str(page_size))
        yield sim


def run_breakdown(open_sim):
    """(shares {label: percent}, samples, other DSOs, None) or
    (None, 0, None, reason); open_sim() gives the tenant, its config ready."""
    perf = shutil.which(args.perf)
    if not perf:
        return None, 0, None, "%s not found" % args.perf
    tmp = tempfile.mkdtemp(prefix="mwbench-perf-")
    data = os.path.join(tmp, "perf.data")
    try:
        with open_sim() as sim:
            rc, out, err, wall, cpu, rss = mwtest.run_process(
                [perf, "record", "-F", "999", "-o", data, "--", mwtest.MIMEWATCH,
                 "--config", sim.config, "fetch"], 3600)
        if not os.path.exists(data):
            return None, 0, None, "perf record: " + perf_reason(err, rc)
        if rc != 0:   # perf record exits with mimewatch's status
            return None, 0, None, "mimewatch fetch exited %d under perf: %s" % (
                rc, perf_reason(err, rc))
        r = subprocess.run([perf, "report", "-i", data, "--sort", "dso", "--stdio", "-n",
                            "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=600)
        if r.returncode != 0:
            return None, 0, None, "perf report: " + perf_reason(
                r.stderr.decode(errors="replace"), r.returncode)
        samples = {}
        for line in r.stdout.decode(errors="replace").splitlines():
            m = DSO_LINE.match(line)
            if m:
                samples[m.group(3)] = samples.get(m.group(3), 0) + int(m.group(2))
        total = sum(samples.values())
        if not total:
            return None, 0, None, "perf recorded no samples"
        shares = {label: 0 for label, _ in BREAKDOWN}
        shares["other"] = 0
        others = {}
        for dso, n in samples.items():
            for label, test in BREAKDOWN:
                if test(dso):
                    shares[label] += n
                    break
            else:
                shares["other"] += n
                others[dso] = n
        pct = {k: 100.0 * v / total for k, v in shares.items()}
        top = sorted(others.items(), key=lambda kv: -kv[1])[:4]
        return pct, total, ["%s %.1f%%" % (d, 100.0 * n / total) for d, n in top], None
    except (OSError, subprocess.SubprocessError) as ex:
        return None, 0, None, str(ex)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def print_breakdown(open_sim):
    """Prints the breakdown of one perf run; False when mimewatch failed."""
    pct, nsamples, others, why = run_breakdown(open_sim)
    if pct is None and why.startswith("mimewatch"):
        print("breakdown: unavailable (%s)" % why)
        return False
    if pct is None:
        print("breakdown: unavailable (perf not usable: %s)" % why)
        return True
    order = [l for l, _ in BREAKDOWN] + ["other"]
    print("breakdown (%d samples): " % nsamples +
          ", ".join("%s %.1f%%" % (l, pct[l]) for l in order))
    if others:
        print("  other: " + ", ".join(others))
    return True


# ---- the SIEM backfill (batch files, API 2.0) ---------------------------------------

SIEM_LOOKBACK = "7d"   # every day the sim's files lie on (Mimecast keeps 7)


def siem_sim_args(events):
    return ["--siem-events", str(events), "--siem-file-events", str(args.siem_file_events),
            "--rate-limit", "1000000", "--refill-ms", "1"]


def siem_made(sim):
    """Waits until the sim has made every file (gzip'd, in memory): making
    them costs the sim seconds of CPU that would otherwise lie on the
    collector's path. Returns (seconds waited, files, gzip bytes)."""
    t0 = time.monotonic()
    while True:
        st = sim.stats()["siem_files"]
        if st["made"] >= st["total"]:
            return time.monotonic() - t0, st["total"], st["gzip_bytes"]
        if time.monotonic() - t0 > 600:
            raise mwtest.CheckFailed("mimewatch-sim made %d of %d SIEM files in 600 s"
                                     % (st["made"], st["total"]))
        time.sleep(0.05)


@contextlib.contextmanager
def siem_sim(events):
    """A fresh tenant with the backfill's files made, its v2 integration
    collecting siem alone (every SIEM type: none is off beside a TTP type
    that is not collected)."""
    with mwtest.Sim(siem_sim_args(events), api="v2") as sim:
        sim.edit_config(types="[siem]", lookback=SIEM_LOOKBACK, page_size=str(args.page_size))
        sim.siem_prep = siem_made(sim)
        yield sim


def store_figures(db, sql):
    """(rows, distinct ids, bytes of the store's files: db, -wal, -shm)."""
    size = sum(os.path.getsize(p) for p in glob.glob(glob.escape(db) + "*")
               if os.path.isfile(p))
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=60)
    try:
        rows, distinct = con.execute(sql).fetchone()
    finally:
        con.close()
    return rows, distinct, size


def siem_requests(st):
    req = st.get("requests", {})
    return (req.get("/siem/v1/batch/events/cg", 0), req.get("other", 0),
            req.get("/oauth/token", 0))


def siem_result(sim, rc, wall, cpu, rss, db, sql):
    rows, distinct, size = store_figures(db, sql)
    listings, files, tokens = siem_requests(sim.stats())
    return dict(rc=rc, wall=wall, cpu=cpu, rss_kb=rss, stored=rows, distinct=distinct,
                store_bytes=size, lines=count_lines(sim), listings=listings, files=files,
                requests=listings + files + tokens, prep=sim.siem_prep[0], gz=sim.siem_prep[2])


def run_mimewatch_siem(events):
    with siem_sim(events) as sim:
        rc, out, err, wall, cpu, rss = benchutil.run_process(
            [mwtest.MIMEWATCH, "--config", sim.config, "fetch"], 3600)
        if rc != 0:
            sys.stderr.write("bench: mimewatch fetch (siem) exited %d\n%s%s" % (rc, out, err))
        return siem_result(sim, rc, wall, cpu, rss, os.path.join(sim.state_dir, "store.db"),
                           "SELECT COUNT(*), COUNT(DISTINCT r.id) FROM records r "
                           "JOIN sources s ON r.source = s.id WHERE s.type = 'siem'")


def run_python_siem(events, exe):
    with siem_sim(events) as sim:
        db = os.path.join(sim.dir, "pycollector.db")
        rc, out, err, wall, cpu, rss = benchutil.run_process(
            [exe, os.path.join(HERE, "pycollector.py"), "--siem", db, "--name", "sim-v2",
             "--base-url", sim.base_url, "--ca-file", sim.ca_file, "--out", sim.out_dir,
             "--page-size", str(args.page_size), "--lookback", SIEM_LOOKBACK], 3600)
        if rc != 0:
            sys.stderr.write("bench: pycollector --siem exited %d\n%s%s" % (rc, out, err))
        return siem_result(sim, rc, wall, cpu, rss, db,
                           "SELECT COUNT(*), COUNT(DISTINCT id) FROM records")


def print_siem_row(label, r):
    print("%-14s %9d %8.2f %8.2f %12.3f %10.0f %9.1f %10.0f %7d (%d+%d)" % (
        label, r["distinct"], r["wall"], r["cpu"], r["cpu100k"], r["rate"],
        r["rss_kb"] / 1024.0, r["bpe"], r["requests"], r["listings"], r["files"]))


def siem_part():
    """The SIEM backfill; (ok, targets missed)."""
    events = 30000 if args.quick else args.siem_events
    repeat = max(1, args.repeat)
    nfiles = -(-events // args.siem_file_events)
    print("\nSIEM backfill: %d events in %d gzip'd NDJSON batch files of %d over the 7 days "
          "before today, 10 types, API 2.0 over TLS on 127.0.0.1, listing pageSize %d, "
          "lookback %s" % (events, nfiles, args.siem_file_events, args.page_size,
                           SIEM_LOOKBACK), flush=True)
    series = {"mimewatch": [], "python": []}
    exe = python_interpreter()[0]
    for _ in range(repeat):
        series["mimewatch"].append(run_mimewatch_siem(events))
        if not args.no_python:
            series["python"].append(run_python_siem(events, exe))
    names = [name for name in ("mimewatch", "python") if series[name]]
    first = series[names[0]][0]
    print("the sim made its files before each run in %s s (%.1f MB gzip'd, %.0f bytes an "
          "event; untimed)" % (", ".join("%.1f" % r["prep"] for n in names for r in series[n]),
                               first["gz"] / 1e6, first["gz"] / events))
    print("events = distinct ids in the collector's store; store B/ev = bytes of its store "
          "files\n(db, -wal, -shm) after the run / events; requests = listings + files + "
          "token (listings+files)")
    print("%-14s %9s %8s %8s %12s %10s %9s %10s %15s" % (
        "collector", "events", "wall s", "CPU s", "CPU s/100k", "events/s", "RSS MiB",
        "store B/ev", "requests"))
    ok = True
    for name in names:
        for k, r in enumerate(series[name]):
            r["rate"] = r["distinct"] / r["wall"] if r["wall"] > 0 else 0
            r["cpu100k"] = r["cpu"] * 100000.0 / max(r["distinct"], 1)
            r["bpe"] = r["store_bytes"] / max(r["distinct"], 1)
            print_siem_row(name if repeat == 1 else "%s #%d" % (name, k + 1), r)
            if r["rc"] != 0 or r["stored"] != events or r["distinct"] != events or \
                    r["lines"] != events:
                print("bench: SIEM %s stored %d events (%d distinct) of %d, wrote %d NDJSON "
                      "lines (exit %d)" % (name, r["stored"], r["distinct"], events,
                                           r["lines"], r["rc"]))
                ok = False
    summary = {}
    for name in names:
        rs = series[name]
        if repeat == 1:
            summary[name] = rs[0]
            continue
        summary[name] = {key: statistics.median(r[key] for r in rs)
                         for key in ("distinct", "wall", "cpu", "cpu100k", "rate", "rss_kb",
                                     "bpe", "requests", "listings", "files")}
        print_siem_row("%s med" % name, summary[name])
    mw = summary["mimewatch"]
    misses = []
    if mw["rate"] < 50000:
        misses.append("events/s %.0f < 50000" % mw["rate"])
    if mw["rss_kb"] / 1024.0 >= 64:
        misses.append("peak RSS %.1f MiB >= 64" % (mw["rss_kb"] / 1024.0))
    if "python" in summary:
        cpu_ratio(series, repeat, "SIEM CPU ratio mimewatch/python (CPU s per event)", misses)
    if not args.no_breakdown:
        print("\nbreakdown of mimewatch's CPU (SIEM): a separate `mimewatch fetch` of the %d "
              "events under `perf record -F 999`, as above" % events, flush=True)
        ok = print_breakdown(lambda: siem_sim(events)) and ok
    return ok, misses


def print_row(label, r, full_pages):
    print("%-14s %9d %8.2f %8.2f %12.3f %10.0f %9.1f %6.3f (%d/%d)" % (
        label, r["lines"], r["wall"], r["cpu"], r["cpu100k"], r["rate"],
        r["rss_kb"] / 1024.0, r["reqratio"], r["requests"], full_pages))


def main():
    total = 30000 if args.quick else args.records
    per_type = max(1, total // 3)
    total = per_type * 3
    page = args.page_size
    full_pages = 3 * math.ceil(per_type / page)
    print("bench: load average at start: %s (%d CPUs)" % (loadavg(), os.cpu_count() or 0),
          flush=True)
    busy()
    print("bench: %d records (%d per type) over TLS on 127.0.0.1, page size %d, "
          "%d full pages" % (total, per_type, page, full_pages), flush=True)
    experiment = page != TARGET_PAGE_SIZE
    if experiment:
        print("bench: EXPERIMENT: page size %d, not %d: these figures do not count toward "
              "the targets of HACKING \"Performance targets\"" % (page, TARGET_PAGE_SIZE),
              flush=True)
    repeat = max(1, args.repeat)
    if not args.no_python:
        exe, elf = python_interpreter()
        print("bench: python collector timed as %s (Python %d.%d.%d)%s"
              % (exe, sys.version_info[0], sys.version_info[1], sys.version_info[2],
                 "" if elf else " - WARNING: not an ELF binary, a wrapper may be timed too"),
              flush=True)
    # Alternating, so that a change in the machine's load falls on both.
    series = {"mimewatch": [], "python": []}
    for _ in range(repeat):
        series["mimewatch"].append(run_mimewatch(per_type, page))
        if not args.no_python:
            series["python"].append(run_python(per_type, page, exe))
    names = [name for name in ("mimewatch", "python") if series[name]]
    ok = True
    print()
    print("CPU = user + sys seconds of the collector process (wait4); records/s = records / "
          "wall seconds;\npeak RSS = the process's VmHWM (/proc, polled every 10 ms: wait4's "
          "ru_maxrss would include\nthis script's own RSS, inherited across fork and exec); "
          "req/full page = requests / full pages\n(%d = ceil(records per type / page size) x 3 "
          "types)" % full_pages)
    print("%-14s %9s %8s %8s %12s %10s %9s %15s" % ("collector", "records", "wall s", "CPU s",
                                                    "CPU s/100k", "records/s", "RSS MiB",
                                                    "req/full page"))
    for name in names:
        for k, r in enumerate(series[name]):
            r["rate"] = r["lines"] / r["wall"] if r["wall"] > 0 else 0
            r["cpu100k"] = r["cpu"] * 100000.0 / max(r["lines"], 1)
            r["reqratio"] = r["requests"] / full_pages
            print_row(name if repeat == 1 else "%s #%d" % (name, k + 1), r, full_pages)
            if r["rc"] != 0 or r["lines"] != total:
                print("bench: %s collected %d of %d records (exit %d)" % (
                    name, r["lines"], total, r["rc"]))
                ok = False
    # One run each is that run; more, the medians (printed as a row).
    summary = {}
    for name in names:
        rs = series[name]
        if repeat == 1:
            summary[name] = rs[0]
            continue
        summary[name] = {key: statistics.median(r[key] for r in rs)
                         for key in ("lines", "wall", "cpu", "cpu100k", "rate", "rss_kb",
                                     "reqratio", "requests")}
        summary[name].update(rc=max(r["rc"] for r in rs), early=sum(r["early"] for r in rs))
        print_row("%s med" % name, summary[name], full_pages)
    mw = summary["mimewatch"]
    misses = []
    if mw["rate"] < 50000:
        misses.append("records/s %.0f < 50000" % mw["rate"])
    if mw["rss_kb"] / 1024.0 >= 64:
        misses.append("peak RSS %.1f MiB >= 64" % (mw["rss_kb"] / 1024.0))
    if mw["requests"] > 1.05 * full_pages:
        misses.append("requests %d > 1.05 x %d full pages" % (mw["requests"], full_pages))
    if mw["early"]:
        misses.append("%d early requests" % mw["early"])
    if "python" in summary:
        cpu_ratio(series, repeat, "CPU ratio mimewatch/python (CPU s per record)", misses)

    if not args.no_breakdown:
        bt = min(total, max(3, args.breakdown_records)) if args.breakdown_records else total
        bper = max(1, bt // 3)
        print("\nbreakdown of mimewatch's CPU: a separate `mimewatch fetch` of %d records "
              "under `perf record -F 999` (sampling at 999 Hz, no call graphs; kernel and "
              "user time), share of samples by shared object from `perf report --sort dso`; "
              "kernel = [kernel.*], TLS = libssl + libcrypto, mimewatch = its own code"
              % (3 * bper), flush=True)
        ok = print_breakdown(lambda: ttp_sim(bper, page)) and ok

    if not args.no_siem:
        siem_ok, siem_misses = siem_part()
        ok = ok and siem_ok
        misses += ["SIEM " + m for m in siem_misses]

    print("\nbench: load average at end: %s" % loadavg())
    busy()
    if experiment:
        print("EXPERIMENT (page size %d): not a measurement of the targets" % page)
    elif misses:
        print("targets missed: " + "; ".join(misses))
    else:
        print("all targets of HACKING \"Performance targets\" met")
    if not ok or (args.strict and misses):
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        mwtest._kill_all()
