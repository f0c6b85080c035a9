#!/usr/bin/env python3
"""Durability: SIGKILL fetch and run at random moments, again and again; a
final clean fetch must leave exactly every record in the store and in the
NDJSON, none duplicated, no torn line.

MW_KILL_LOOPS (default 10) and MW_KILL_RECORDS (default 20000 per type)
scale it up; MW_SEED makes the kill moments reproducible."""

import json
import os
import random
import signal
import time

import mwtest
from mwtest import TYPES, Sim, check, eq

LOOPS = int(os.environ.get("MW_KILL_LOOPS", "10"))
RECORDS = int(os.environ.get("MW_KILL_RECORDS", "20000"))


def test_kill9_loop():
    seed = int(os.environ.get("MW_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print("kill9: seed %d, %d loops, %d records per type" % (seed, LOOPS, RECORDS), flush=True)
    # A token bucket of ~65 requests/s stretches the backfill over several
    # seconds (more under sanitizers), so most kills land mid-window.
    with Sim(["--records", str(RECORDS), "--span", "6h", "--rate-limit", "20",
              "--refill-ms", "15"]) as sim:
        restarts = killed_alive = 0
        for i in range(LOOPS):
            cmd = ["fetch"] if i % 3 != 2 else ["run"]
            errpath = os.path.join(sim.dir, "kill9-%d.err" % i)
            with open(errpath, "wb") as errf:
                p = mwtest.mimewatch_bg(cmd, config=sim.config, stderr=errf)
            delay = rng.uniform(0.2, 3.0)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and p.poll() is None:
                time.sleep(0.01)
            if p.poll() is None:
                killed_alive += 1
            else:
                # A fetch that ended on its own must have succeeded.
                with open(errpath, "rb") as f:
                    err = f.read().decode("utf-8", "replace")
                eq(p.returncode, 0, "loop %d: %s exited by itself (stderr %r); status"
                   % (i, cmd[0], err[-600:]))
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
            mwtest.stop_bg(p)
            restarts += 1
        r = sim.fetch(timeout=300)
        rep = r.report()
        truth = {t: sim.truth(t) for t in TYPES}
        lost = dup = 0
        counts = sim.store_counts()
        for t in TYPES:
            eq(len(truth[t]), RECORDS, "ground truth %s" % t)
            eq(rep[("sim", t)]["failed"], False, "final fetch sim/%s FAILED" % t)
            raws = sim.ndjson_raw("sim", t)  # raises on a torn last line
            got = []
            for n, raw in enumerate(raws, 1):
                line = json.loads(raw.decode("utf-8"))
                got.append(line["record"]["messageId"])
            lost += len(set(mwtest.message_ids(truth[t])) - set(got))
            dup += len(got) - len(set(got))
            eq(counts.get(("sim", t)), RECORDS, "records of %s in the store" % t)
        print("kill9: restarts=%d (%d killed while running) lost=%d duplicated=%d"
              % (restarts, killed_alive, lost, dup), flush=True)
        eq(lost, 0, "records lost after %d kills (seed %d)" % (restarts, seed))
        eq(dup, 0, "records duplicated after %d kills (seed %d)" % (restarts, seed))
        check(killed_alive >= 1, "no kill landed while mimewatch was running: the test proved "
              "nothing (seed %d)" % seed)
        mwtest.assert_exact_records(sim, truth)


if __name__ == "__main__":
    mwtest.main([test_kill9_loop])
