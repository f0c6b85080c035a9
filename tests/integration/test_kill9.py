#!/usr/bin/env python3
"""Durability (issue 4 item 1): SIGKILL fetch and run at random moments
(0.2 to 3 s), again and again. After every kill the store, read read-only,
must hold no horizon or window progress ahead of the stored data (every
ground-truth record older than the horizon stored; mwstate.py says exactly
what that means) and no horizon gone back; the committed part of every
NDJSON file must be whole, valid, unduplicated lines matching the store. A
final clean fetch must leave exactly every record in the store and in the
NDJSON: 0 lost, 0 duplicated, every line valid JSON.

Every log type is collected, audit events (whose pages come newest first,
so a kill lands mid-window with the older part unread) and DLP logs beside
the TTP three (issue 15).

Short form (make check): 5 x 4,000 records, 10 kills. Long form (MW_LONG=1):
5 x 33,334 records, 50 kills. MW_KILL_LOOPS and MW_KILL_RECORDS
(per type) override; MW_SEED makes the kill moments reproducible."""

import os
import random
import signal
import time

import mwstate
import mwtest
from mwtest import ALL_TYPES as TYPES, Sim, check, eq

LOOPS = int(os.environ.get("MW_KILL_LOOPS", str(mwtest.scaled(10, 50))))
RECORDS = int(os.environ.get("MW_KILL_RECORDS", str(mwtest.scaled(4000, 33334))))
PAGE = 100


def test_kill9_loop():
    seed = int(os.environ.get("MW_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print("kill9: seed %d, %d loops, %d records per type" % (seed, LOOPS, RECORDS), flush=True)
    # Pace the tenant so the backfill lasts about as long as the kill loop
    # (70% of the expected 1.6 s a kill): most kills then land mid-window,
    # mid-commit or mid-delivery rather than on an idle process.
    pages = len(TYPES) * ((RECORDS + PAGE - 1) // PAGE)
    refill = max(5, int(1000.0 * LOOPS * 1.6 * 0.7 / pages))
    with Sim(["--records", str(RECORDS), "--span", "6h", "--rate-limit", "10",
              "--refill-ms", str(refill)]) as sim:
        sim.edit_config(types="[%s]" % ", ".join(TYPES))
        truth = mwstate.truth_times(sim, TYPES)
        for t in TYPES:
            eq(len(truth[t]), RECORDS, "ground truth %s" % t)
        restarts = killed_alive = killed_fetch = killed_run = 0
        horizons = None
        committed = 0
        for i in range(LOOPS):
            cmd = ["fetch"] if i % 3 != 2 else ["run"]
            errpath = os.path.join(sim.dir, "kill9-%d.err" % i)
            with open(errpath, "wb") as errf:
                p = mwtest.mimewatch_bg(cmd, config=sim.config, stderr=errf)
            delay = rng.uniform(0.2, 3.0)
            alive = mwtest.kill9_after(p, delay)
            with open(errpath, "rb") as f:
                err = f.read().decode("utf-8", "replace")
            if alive:
                killed_alive += 1
                if cmd[0] == "fetch":
                    killed_fetch += 1
                else:
                    killed_run += 1
            else:
                # A fetch that ended on its own must have succeeded.
                eq(p.returncode, 0, "loop %d: %s exited by itself (stderr %r); status"
                   % (i, cmd[0], err[-600:]))
            check("Sanitizer" not in err and "runtime error" not in err,
                  "loop %d: a sanitizer report:\n%s" % (i, err[-3000:]))
            restarts += 1
            where = "after kill %d (%s at %.2fs, seed %d): " % (i + 1, cmd[0], delay, seed)
            horizons = mwstate.check_horizons(sim, truth, prev=horizons, where=where)
            n = mwstate.check_ndjson_committed(sim, where=where)
            check(n >= committed, "%scommitted NDJSON lines went back from %d to %d"
                  % (where, committed, n))
            committed = n
        r = sim.fetch(timeout=600)
        rep = r.report()
        for t in TYPES:
            eq(rep[("sim", t)]["failed"], False, "final fetch sim/%s FAILED\n%s" % (t, r))
        mwstate.check_horizons(sim, truth, prev=horizons, where="after the final fetch: ")
        lost, dup, invalid, lines = mwstate.count_lost_dup(sim, truth)
        total = len(TYPES) * RECORDS
        mwtest.report("1 kill-9", "records", total, "%d types x %d" % (len(TYPES), RECORDS))
        mwtest.report("1 kill-9", "restarts", restarts, "SIGKILL after 0.2-3 s, seed %d" % seed)
        mwtest.report("1 kill-9", "kills landing mid-run", killed_alive,
                      "%d fetch, %d run; the rest had already exited" % (killed_fetch,
                                                                          killed_run))
        mwtest.report("1 kill-9", "lost", lost, "store and NDJSON")
        mwtest.report("1 kill-9", "duplicated", dup, "store and NDJSON")
        mwtest.report("1 kill-9", "NDJSON lines invalid", invalid, "of %d" % lines)
        eq(lost, 0, "records lost after %d kills (seed %d)" % (restarts, seed))
        eq(dup, 0, "records duplicated after %d kills (seed %d)" % (restarts, seed))
        eq(invalid, 0, "invalid NDJSON lines")
        eq(lines, total, "NDJSON lines")
        check(killed_alive >= LOOPS // 2, "only %d of %d kills landed while mimewatch was "
              "running: the test proved little (seed %d)" % (killed_alive, LOOPS, seed))
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})


if __name__ == "__main__":
    mwtest.main([test_kill9_loop])
