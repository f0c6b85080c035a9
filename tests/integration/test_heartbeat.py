#!/usr/bin/env python3
"""Heartbeat records (issue 5 item 5) through the real binary.

test_heartbeat_run: `heartbeat: 10s` and `mimewatch run` for ~25 s: one
  health record per integration every 10 s arrives in the NDJSON
  (<dir>/sim/heartbeat/) and at a HEC output (strict_http.py), with the
  contract's fields (id heartbeat-sim-<epoch>, time, host, per type state,
  lag, counts, last success, error; per output state and lag) and sane
  values. A `fetch` with the same config writes no heartbeat.
"""

import json
import os
import re
import socket
import time

import mwout
import mwtest
from mwout import StrictHttp, add_outputs, env_with, wait_until
from mwtest import TYPES, Sim, check, eq, mc_time

ITEM = "issue5 heartbeat"
HB_KEYS = {"mimewatch", "integration", "host", "types", "outputs"}
TYPE_KEYS = {"state", "lag_seconds", "records_24h", "total", "last_success", "error_class",
             "error"}
OUT_KEYS = {"state", "lag_records", "lag_seconds"}
STATES = {"ok", "retrying", "error", "idle"}
EXTRA = set()   # keys beyond the contract's (reported, not refused)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_heartbeat(line, n, t_start, t_end, last):
    """One NDJSON heartbeat line; last: the final one (collection done)."""
    eq(sorted(line), ["id", "integration", "record", "time", "type"], "heartbeat line keys")
    eq(line["integration"], "sim", "heartbeat integration")
    eq(line["type"], "heartbeat", "heartbeat type")
    m = re.match(r"^heartbeat-sim-(\d+)$", line["id"])
    check(m, "heartbeat id %r is not heartbeat-sim-<epoch>" % line["id"])
    epoch = int(m.group(1))
    t = mc_time(line["time"])
    check(abs(t - epoch) <= 1, "heartbeat time %s vs id epoch %d" % (line["time"], epoch))
    check(t_start - 2 <= epoch <= t_end + 2, "heartbeat epoch %d outside the run %d..%d"
          % (epoch, t_start, t_end))
    rec = line["record"]
    eq(set(rec), HB_KEYS, "heartbeat record keys")
    eq(rec["mimewatch"], "heartbeat", "record.mimewatch")
    eq(rec["integration"], "sim", "record.integration")
    eq(rec["host"], socket.gethostname(), "record.host")
    eq(sorted(rec["types"]), sorted(TYPES), "record.types keys")
    for ty, s in rec["types"].items():
        check(TYPE_KEYS <= set(s), "record.types.%s keys %s lack %s"
              % (ty, sorted(s), sorted(TYPE_KEYS - set(s))))
        EXTRA.update(set(s) - TYPE_KEYS)
        check(isinstance(s["state"], str) and s["state"], "types.%s.state %r" % (ty, s["state"]))
        for k in ("lag_seconds", "records_24h", "total"):
            check(is_int(s[k]) and s[k] >= 0, "types.%s.%s = %r" % (ty, k, s[k]))
        check(s["records_24h"] <= s["total"], "types.%s records_24h %d > total %d"
              % (ty, s["records_24h"], s["total"]))
        check(s["total"] <= n, "types.%s.total %d > the tenant's %d" % (ty, s["total"], n))
        check(isinstance(s["error_class"], str), "types.%s.error_class %r"
              % (ty, s["error_class"]))
        check(isinstance(s["error"], str), "types.%s.error %r" % (ty, s["error"]))
        if s["last_success"] is not None:
            ls = mc_time(s["last_success"])
            check(t_start - 2 <= ls <= epoch + 1, "types.%s.last_success %s outside the run"
                  % (ty, s["last_success"]))
        if last:
            eq(s["total"], n, "types.%s.total in the last heartbeat" % ty)
            check(s["last_success"] is not None, "types.%s.last_success null after polls" % ty)
            eq(s["error"], "", "types.%s.error of a healthy type" % ty)
            check(s["lag_seconds"] < 3600, "types.%s.lag_seconds %d" % (ty, s["lag_seconds"]))
    eq(sorted(rec["outputs"]), ["hec", "ndjson"], "record.outputs names")
    for name, o in rec["outputs"].items():
        eq(set(o), OUT_KEYS, "outputs.%s keys" % name)
        check(o["state"] in STATES, "outputs.%s.state %r" % (name, o["state"]))
        check(is_int(o["lag_records"]) and 0 <= o["lag_records"] <= 3 * n + 10,
              "outputs.%s.lag_records %r" % (name, o["lag_records"]))
        check(is_int(o["lag_seconds"]) and o["lag_seconds"] >= 0,
              "outputs.%s.lag_seconds %r" % (name, o["lag_seconds"]))
    return epoch


def test_heartbeat_run():
    n = 50
    with Sim(["--records", str(n)]) as sim:
        rx = StrictHttp(sim.dir)
        add_outputs(sim, "  - type: hec\n    url: %s\n    token_env: MW_TEST_HEC_TOKEN\n"
                    % rx.hec_url, top="heartbeat: 10s\n")
        env = env_with(MW_TEST_HEC_TOKEN=rx.hec_token)
        r = sim.mw(["fetch"], env=env)
        eq(r.rc, 0, "fetch exit status\n%s" % r)
        eq(sim.ndjson_files("sim", "heartbeat"), [], "heartbeat files after a fetch")
        t_start = time.time()
        errf = open(os.path.join(sim.dir, "run.err"), "wb")
        p = mwtest.mimewatch_bg(["run"], config=sim.config, env=env, stderr=errf)
        try:
            wait_until(lambda: mwout.ndjson_count(sim, ("heartbeat",)) >= 2, 35,
                       "two heartbeats in the NDJSON", 0.2)
            hb = sim.ndjson("sim", "heartbeat")
            ids = [h["id"] for h in hb]
            wait_until(lambda: set(ids) <= set(rx.state()["hec_ids"]), 20,
                       "the heartbeats at the HEC output", 0.2)
        finally:
            rc = mwtest.stop_bg(p)
            errf.close()
        t_end = time.time()
        eq(rc, 0, "mimewatch run exit status")
        hb = sim.ndjson("sim", "heartbeat")
        check(2 <= len(hb) <= 4, "%d heartbeats in %.0fs at 10s" % (len(hb), t_end - t_start))
        epochs = [check_heartbeat(h, n, int(t_start), int(t_end) + 1, i == len(hb) - 1)
                  for i, h in enumerate(hb)]
        for a, b in zip(epochs, epochs[1:]):
            check(9 <= b - a <= 12, "heartbeats %d s apart (interval 10s)" % (b - a))
        eq(len(set(h["id"] for h in hb)), len(hb), "distinct heartbeat ids")
        st = rx.state()
        eq(st["violations"], [], "HEC protocol violations")
        got = [i for i in st["hec_ids"] if i.startswith("heartbeat-")]
        check(set(ids) <= set(got) <= set(h["id"] for h in hb),
              "HEC heartbeats %r vs NDJSON %r" % (got, [h["id"] for h in hb]))
        eq(len(got), len(set(got)), "HEC heartbeats duplicated")
        if EXTRA:
            mwtest.report(ITEM, "per-type keys beyond the contract", ",".join(sorted(EXTRA)))
        # The HEC event carries the NDJSON object itself.
        byid = {h["id"]: h for h in hb}
        evs = [e for e in rx.hec_events() if e["event"]["type"] == "heartbeat"]
        eq(len(evs), len(got), "heartbeat events in the HEC bodies")
        for e in evs:
            eq(e["event"], byid[e["event"]["id"]], "HEC event of %s" % e["event"]["id"])
            eq(e["sourcetype"], "mimecast:heartbeat", "HEC sourcetype of a heartbeat")
        mwtest.report(ITEM, "heartbeats in %.0fs of run at 10s (ndjson, hec)"
                      % (t_end - t_start), "%d, %d" % (len(hb), len(got)),
                      "spacing %s s" % ",".join(str(b - a) for a, b in
                                                zip(epochs, epochs[1:])))
        rx.stop()


if __name__ == "__main__":
    mwtest.main([test_heartbeat_run])
