#!/usr/bin/env python3
"""bench - mimewatch's collection benchmark (`make bench`).

Starts mimewatch-sim over TLS on 127.0.0.1 with --records N (split over the
three types), runs `mimewatch fetch` and measures wall time, CPU seconds
(user + sys of the child, from wait4), peak RSS and the requests the tenant
saw; then runs tests/bench/pycollector.py, a plain Python collector, against
a fresh tenant with the same records, and prints both side by side with the
targets of HACKING, "Performance targets":
  >= 50,000 records/s; CPU per record <= 1/2 of Python's (aim 1/5);
  peak RSS < 64 MiB; requests <= 1.05 x full pages.

Page size: the tenant accepts 1..500, so both collectors ask for 500 (the
largest page Mimecast is known to accept; mimewatch's default is 100):
--page-size changes it. Exit 0 when both runs collected every record (and,
with --strict, every target was met), 1 otherwise."""

import argparse
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mimewatch", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--records", type=int, default=1000000,
                    help="records per run, split over the 3 types (default 1000000)")
    ap.add_argument("--quick", action="store_true", help="30000 records, for CI")
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--no-python", action="store_true", help="skip the Python collector")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return ap.parse_args()


args = parse_args()
os.environ["MIMEWATCH"] = os.path.abspath(args.mimewatch)
os.environ["MIMEWATCH_SIM"] = os.path.abspath(args.sim)
# A program run by `make bench`, outside automake's test environment: it
# finds the test harness (tests/lib/mwtest.py) itself.
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import mwtest  # noqa: E402  (needs the two variables above)

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


def run_mimewatch(per_type, page_size):
    with mwtest.Sim(sim_args(per_type)) as sim:
        sim.edit_config(page_size=str(page_size))
        rc, out, err, wall, cpu, rss = mwtest.run_process(
            [mwtest.MIMEWATCH, "--config", sim.config, "fetch"], 3600)
        if rc != 0:
            sys.stderr.write("bench: mimewatch fetch exited %d\n%s%s" % (rc, out, err))
        st = sim.stats()
        return dict(rc=rc, wall=wall, cpu=cpu, rss_kb=rss, requests=log_requests(st),
                    lines=count_lines(sim), early=st.get("early_requests", 0))


def run_python(per_type, page_size):
    with mwtest.Sim(sim_args(per_type)) as sim:
        rc, out, err, wall, cpu, rss = mwtest.run_process(
            [sys.executable, os.path.join(HERE, "pycollector.py"), "--base-url", sim.base_url,
             "--ca-file", sim.ca_file, "--out", sim.out_dir, "--page-size", str(page_size),
             "--lookback", "25h"], 3600)
        if rc != 0:
            sys.stderr.write("bench: pycollector exited %d\n%s%s" % (rc, out, err))
        st = sim.stats()
        return dict(rc=rc, wall=wall, cpu=cpu, rss_kb=rss, requests=log_requests(st),
                    lines=count_lines(sim), early=st.get("early_requests", 0))


def main():
    total = 30000 if args.quick else args.records
    per_type = max(1, total // 3)
    total = per_type * 3
    page = args.page_size
    full_pages = 3 * math.ceil(per_type / page)
    print("bench: %d records (%d per type) over TLS on 127.0.0.1, page size %d, "
          "%d full pages" % (total, per_type, page, full_pages), flush=True)
    runs = [("mimewatch", run_mimewatch(per_type, page))]
    if not args.no_python:
        runs.append(("python", run_python(per_type, page)))

    ok = True
    print()
    print("%-10s %10s %9s %14s %13s %9s %14s" % ("collector", "records", "wall s",
                                                  "records/s", "CPU s/100k", "RSS MiB",
                                                  "req/full pages"))
    for name, r in runs:
        rate = r["lines"] / r["wall"] if r["wall"] > 0 else 0
        cpu100k = r["cpu"] * 100000.0 / max(r["lines"], 1)
        r["cpu100k"] = cpu100k
        print("%-10s %10d %9.2f %14.0f %13.3f %9.1f %8d/%-5d" % (
            name, r["lines"], r["wall"], rate, cpu100k, r["rss_kb"] / 1024.0, r["requests"],
            full_pages))
        if r["rc"] != 0 or r["lines"] != total:
            print("bench: %s collected %d of %d records (exit %d)" % (name, r["lines"], total,
                                                                   r["rc"]))
            ok = False
    mw = runs[0][1]
    misses = []
    rate = mw["lines"] / mw["wall"] if mw["wall"] > 0 else 0
    if rate < 50000:
        misses.append("records/s %.0f < 50000" % rate)
    if mw["rss_kb"] / 1024.0 >= 64:
        misses.append("peak RSS %.1f MiB >= 64" % (mw["rss_kb"] / 1024.0))
    if mw["requests"] > 1.05 * full_pages:
        misses.append("requests %d > 1.05 x %d full pages" % (mw["requests"], full_pages))
    if mw["early"]:
        misses.append("%d early requests" % mw["early"])
    if len(runs) > 1:
        ratio = mw["cpu100k"] / runs[1][1]["cpu100k"] if runs[1][1]["cpu100k"] else 0
        print("\nCPU ratio mimewatch/python: %.3f (target <= 0.5, aim 0.2)" % ratio)
        if ratio > 0.5:
            misses.append("CPU ratio %.3f > 0.5" % ratio)
    if misses:
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
