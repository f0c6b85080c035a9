#!/usr/bin/env python3
"""start: and batch_bytes: of an output (issue 16 item 3), through the real
binary against mimewatch-sim and tests/lib/strict_http.py.

test_start_now: the store holds the url records; a HEC output with
  start: now is added along with the two other types: it receives exactly
  those two types' records, while the default NDJSON output has all three.
  Changing start to oldest afterwards moves nothing (the offset exists).
test_batch_bytes: batch: 500 with batch_bytes: 4K: every HEC request holds
  one record or at most 4K of lines plus the record that reached it; more
  requests than batch alone makes; every record once. A bad size is
  refused at load naming the key.
"""

import json
import os

import mwout
import mwtest
from mwout import StrictHttp, add_outputs, env_with, ndjson_records, outputs_status
from mwtest import Sim, check, eq

ALL = "[url, impersonation, attachment]"


def hec_output(rx, extra=""):
    return ("  - type: hec\n    url: %s\n    token_env: MW_TEST_HEC_TOKEN\n%s"
            % (rx.hec_url, extra))


def test_start_now():
    n = 150
    with Sim(["--records", str(n)]) as sim:
        rx = StrictHttp(sim.dir)
        env = env_with(MW_TEST_HEC_TOKEN=rx.hec_token)
        sim.edit_config(types="[url]")
        sim.fetch()
        eq(len(ndjson_records(sim, types=["url"])), n, "url records before the output")
        sim.edit_config(types=ALL)
        add_outputs(sim, hec_output(rx, "    start: now\n"))
        r = sim.mw(["fetch"], env=env)
        eq(r.rc, 0, "fetch with the new output\n%s" % r)
        want = ndjson_records(sim)
        eq(len(want), 3 * n, "NDJSON (start: oldest by default) has every type")
        later = {i: v for i, v in want.items() if v[0] != "url"}
        st = rx.state()
        lost, dup, foreign = mwout.tally(st["hec_ids"], later)
        eq((len(st["hec_ids"]), lost, dup, foreign), (2 * n, 0, 0, 0),
           "hec with start: now: (received, lost, duplicated, not collected after it)")
        eq(outputs_status(sim, env=env)["hec"]["lag_records"], 0, "hec lag")

        # The offset exists: start: oldest now changes nothing.
        sim.edit_config(start="oldest")
        r = sim.mw(["fetch"], env=env)
        eq(r.rc, 0, "fetch after start: oldest\n%s" % r)
        eq(len(rx.state()["hec_ids"]), 2 * n, "hec records after start changed to oldest")
        rx.stop()


def test_batch_bytes():
    n = 100
    with Sim(["--records", str(n)]) as sim:
        rx = StrictHttp(sim.dir)
        env = env_with(MW_TEST_HEC_TOKEN=rx.hec_token)
        add_outputs(sim, hec_output(rx, "    batch: 500\n    batch_bytes: 4K\n"))
        r = sim.mw(["fetch"], env=env)
        eq(r.rc, 0, "fetch\n%s" % r)
        want = ndjson_records(sim)
        st = rx.state()
        lost, dup, foreign = mwout.tally(st["hec_ids"], want)
        eq((lost, dup, foreign), (0, 0, 0), "hec (lost, duplicated, foreign)")
        eq(st["violations"], [], "protocol violations")
        reqs = [q for q in st["requests"] if q["kind"] == "hec" and q["status"] == 200]
        longest = max(len(line) + 1 for _, line in want.values())
        for q in reqs:
            # a HEC event wraps the line in a few dozen bytes of framing
            check(q["n"] == 1 or q["bytes"] <= 4096 + 2 * longest,
                  "a request of %d records and %d bytes exceeds batch_bytes 4K" %
                  (q["n"], q["bytes"]))
        check(len(reqs) >= len(want) * min(len(l) + 1 for _, l in want.values()) // 4096,
              "%d requests for %d records: batch_bytes did not split" % (len(reqs), len(want)))
        check(len(reqs) > 1, "one request: batch_bytes did not split")
        check(any(q["n"] > 1 for q in reqs), "no request held more than one record")
        mwtest.report("issue16 outputs", "HEC requests for %d records at batch_bytes 4K"
                      % len(want), len(reqs), "batch 500 alone: 1")

        sim.edit_config(batch_bytes="100M")
        r = sim.mw(["fetch"], env=env)
        eq(r.rc, 2, "fetch with batch_bytes 100M\n%s" % r)
        check("batch_bytes" in r.err and "64M" in r.err, "the error names the key and "
              "the bound:\n%s" % r.err)
        rx.stop()


if __name__ == "__main__":
    mwtest.main([test_start_now, test_batch_bytes])
