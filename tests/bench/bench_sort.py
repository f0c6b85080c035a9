#!/usr/bin/env python3
"""bench_sort - what sorting the preview by a column costs with a big store.

Seeds the URL type of a fetched mimewatch-sim store with --records rows
(default a million, generated inside SQLite by uitest.seed_url_records, as
test_preview's million-record test does: ~200-byte records, 977 users),
then drives the real console in script mode and times, from the dumps'
modification times (script mode runs a frame's pending work slices before
it reads the next line, so these are upper bounds of the latency, not of
the longest slice):
  open     Enter to the first preview frame (the store's order)
  s-frame  s to the next frame (must be one work slice: the console keeps
           taking keys while the sort reads; the frame says "sorting")
  sorted   s to the sorted first page (the newest STORE_SORT_MAX records)
  reverse  S to the reversed page (a new sort of the same bound)
  filter   a filter matching one user in 977 while sorted: the sort reads
           every record to find its matches (the whole store, sliced)
  back     s cycled back to the time: the store's order again
Figures, not pass/fail; exit 1 only when a screen is not what it must be.

  python3 tests/bench/bench_sort.py (MIMEWATCH, MIMEWATCH_SIM and
  PYTHONPATH=tests/lib as for the tests)"""

import argparse
import os
import sys
import time

import mwtest
import uitest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=1000000)
    a = ap.parse_args()
    with mwtest.Sim(["--records", "50"]) as sim:
        sim.fetch()
        db = os.path.join(sim.state_dir, "store.db")
        base = int(time.time()) - a.records - 3600
        t0 = time.monotonic()
        uitest.seed_url_records(db, a.records, base)
        sys.stderr.write("bench_sort: %d records generated in %.1fs\n"
                         % (a.records, time.monotonic() - t0))
        work = os.path.join(sim.dir, "bench")
        os.mkdir(work, 0o700)
        names = ["start", "open", "s-frame", "sorted", "reverse", "filter", "back"]
        d = {n: os.path.join(work, n) for n in names}
        script = ["wait-idle", "dump " + d["start"], "key Enter", "wait-idle",
                  "dump " + d["open"], "key s", "dump " + d["s-frame"], "wait-idle",
                  "dump " + d["sorted"], "key S", "wait-idle", "dump " + d["reverse"],
                  "key /", "type user976@", "key Enter", "wait-idle", "dump " + d["filter"]]
        script += ["key Esc", "wait-idle"] + ["key s"] * 5 + ["wait-idle", "dump " + d["back"],
                                                             "quit"]
        path = os.path.join(work, "script")
        with open(path, "w") as f:
            f.write("\n".join(script) + "\n")
        e = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color",
                 XDG_STATE_HOME=os.path.join(work, "xdg"))
        t0 = time.monotonic()
        r = sim.mw(["--script", path, "--size", "100x30"], timeout=600, env=e)
        wall = time.monotonic() - t0
        if r.rc != 0:
            sys.exit("console failed:\n%s" % r)
        at = {n: os.stat(d[n]).st_mtime_ns / 1e6 for n in names}
        screen = {n: open(d[n], encoding="utf-8").read().split("\n") for n in names}
        ok = ("sorting" in screen["s-frame"][2] and "User" in screen["sorted"][2] and
              "newest 100,000 only" in screen["sorted"][2] and "\u25bc" in screen["reverse"][3]
              and "user976@" in screen["filter"][4] and "following" in screen["back"][2])
        print("records %d; console wall %.1fs" % (a.records, wall))
        for a_, b_, what in (("start", "open", "open (Enter to the first frame)"),
                             ("open", "s-frame", "s to the next frame (one slice)"),
                             ("open", "sorted", "s to the sorted first page"),
                             ("sorted", "reverse", "S to the reversed page"),
                             ("reverse", "filter", "a 1-in-977 filter, sorted, to its page"),
                             ("filter", "back", "Esc and s back to the time order")):
            print("  %-42s %8.0f ms" % (what, at[b_] - at[a_]))
        for n in ("s-frame", "sorted", "filter"):
            print("  [%s] %s" % (n, screen[n][2].strip()))
        if not ok:
            for n in names:
                print("\n".join(screen[n]))
            sys.exit(1)


if __name__ == "__main__":
    main()
