#!/usr/bin/env python3
"""Kafka output through the real binary (issue 5 item 4) against librdkafka's
mock cluster (tests/lib/mockcluster, 3 brokers, started by the test).

test_fetch_consume: `mimewatch fetch` with a kafka output whose topic is a
  template; every topic is read back: 0 lost, 0 duplicated, key = record id,
  value length = its NDJSON line, each record in the topic its template
  names; status ok, delivered = records.
test_run_broker_down: `mimewatch run` streams a rate-limited backfill;
  broker 2 goes down mid-stream and comes back, then every broker goes down
  (status: retrying with the error and a lag) and comes back: 0 lost,
  0 duplicated (the idempotent producer), counts reported.
test_throughput: records/s `mimewatch fetch` delivers to kafka.
"""

import os
import time

import mwout
import mwtest
from mwout import MockCluster, add_outputs, ndjson_records, outputs_status, wait_until
from mwtest import TYPES, Sim, check, eq

ITEM = "issue5 kafka"
TOPIC = "mwtest.{integration}.{type}.v1"


def topic_of(t):
    return TOPIC.replace("{integration}", "sim").replace("{type}", t)


def kafka_output(mc, extra=""):
    return "  - type: kafka\n    name: kf\n    brokers: %s\n    topic: %s\n%s" % (
        mc.bootstrap, TOPIC, extra)


def create_topics(mc, partitions=3):
    for t in TYPES:
        mc.cmd("create %s %d" % (topic_of(t), partitions))


def consume_check(mc, want, what):
    """Reads every topic back; returns (lost, duplicated); wrong keys,
    foreign keys, wrong topics and wrong value lengths fail."""
    keys = []
    for t in TYPES:
        for part, off, key, vlen in mc.consume(topic_of(t)):
            check(key in want, "%s: key %r in %s is no record id" % (what, key, topic_of(t)))
            wt, line = want[key]
            eq(wt, t, "%s: topic of record %s (%s)" % (what, key, topic_of(t)))
            eq(vlen, len(line), "%s: value length of %s (its NDJSON line)" % (what, key))
            keys.append(key)
    lost, dup, foreign = mwout.tally(keys, want)
    eq(foreign, 0, "%s: foreign keys" % what)
    return lost, dup


def test_fetch_consume():
    n = mwtest.scaled(500, 3000)
    with Sim(["--records", str(n)]) as sim:
        mc = MockCluster(sim.dir)
        create_topics(mc)
        add_outputs(sim, kafka_output(mc))
        sim.fetch(timeout=120)
        want = ndjson_records(sim)
        eq(len(want), 3 * n, "NDJSON records")
        lost, dup = consume_check(mc, want, "fetch")
        eq((lost, dup), (0, 0), "kafka (lost, duplicated) after fetch")
        st = outputs_status(sim)
        eq(st["kf"]["state"], "ok", "kf state (error %r)" % st["kf"]["error"])
        eq(st["kf"]["type"], "kafka", "kf type")
        eq(st["kf"]["target"], mc.bootstrap, "kf target")
        eq(st["kf"]["lag_records"], 0, "kf lag_records")
        eq(st["kf"]["delivered"], 3 * n, "kf delivered")
        # A second fetch sends nothing again.
        sim.fetch(timeout=60)
        eq(consume_check(mc, want, "second fetch"), (0, 0), "(lost, duplicated) after a "
           "second fetch")
        mc.stop()


def test_run_broker_down():
    n = mwtest.scaled(3000, 20000)   # per type, ~10 pages/s of 100
    with Sim(["--records", str(n), "--rate-limit", "5", "--refill-ms", "100"]) as sim:
        mc = MockCluster(sim.dir)
        create_topics(mc)
        mc.cmd("create %s 1" % topic_of("heartbeat"))
        # The heartbeat adds a record every 10 s: the all-brokers-down step
        # below always has something to send, even when a loaded machine
        # let collection finish first.
        add_outputs(sim, kafka_output(mc, "    batch: 100\n    timeout: 3s\n"),
                    top="heartbeat: 10s\n")
        errf = open(os.path.join(sim.dir, "run.err"), "wb")
        p = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=errf)
        states = set()
        try:
            wait_until(lambda: outputs_status(sim)["kf"]["delivered"] >= 3 * n // 4, 60,
                       "a quarter of the stream delivered to kafka", 0.2)
            mc.cmd("down 2")
            t_down = time.monotonic()
            at_down = outputs_status(sim)["kf"]["delivered"]
            while time.monotonic() - t_down < 4:
                states.add(outputs_status(sim)["kf"]["state"])
                time.sleep(0.3)
            during = outputs_status(sim)["kf"]
            mc.cmd("up 2")
            wait_until(lambda: outputs_status(sim)["kf"]["state"] == "ok", 30,
                       "kf ok again after broker 2 came back", 0.2)
            # Then every broker down while records still arrive: the send
            # times out (3s) and status says retrying, with the error.
            for b in (1, 2, 3):
                mc.cmd("down %d" % b)
            st = wait_until(lambda: (lambda s: s if s["state"] == "retrying" else None)(
                outputs_status(sim)["kf"]), 45, "kf retrying with every broker down", 0.3)
            check(st["error"] and st["lag_records"] > 0, "kf retrying without error or lag: %r"
                  % st)
            for b in (1, 2, 3):
                mc.cmd("up %d" % b)
            t_up = time.monotonic()
            wait_until(lambda: mwout.ndjson_count(sim) >= 3 * n, 90, "collection to finish")

            def done():
                s = outputs_status(sim)["kf"]
                return s["lag_records"] == 0 and s["state"] == "ok" and s
            wait_until(done, 90, "kafka to catch up", 0.3)
            caught = time.monotonic() - t_up
        finally:
            rc = mwtest.stop_bg(p)
            errf.close()
        eq(rc, 0, "mimewatch run exit status")
        want = ndjson_records(sim)
        eq(len(want), 3 * n, "NDJSON records")
        lost, dup = consume_check(mc, want, "broker down and up")
        mwtest.report(ITEM, "broker 2 down 4s, then all down: lost", lost,
                      "%d records; down at %d delivered" % (3 * n, at_down))
        mwtest.report(ITEM, "broker 2 down 4s, then all down: duplicated", dup,
                      "idempotent producer")
        mwtest.report(ITEM, "states seen while broker 2 was down", "/".join(sorted(states)),
                      "delivered %d of %d at the end of the outage" % (during["delivered"],
                                                                       3 * n))
        mwtest.report(ITEM, "all brokers down: state, lag_records", "%s, %d"
                      % (st["state"], st["lag_records"]),
                      "caught up %.1fs after they came back" % caught)
        eq((lost, dup), (0, 0), "kafka (lost, duplicated) across broker 2 down and up")
        mc.stop()


def test_throughput():
    n = mwtest.scaled(3000, 10000)   # per type: 9,000 or 30,000 records
    with Sim(["--records", str(n)]) as sim:
        sim.edit_config(page_size=100)
        sim.fetch(timeout=120)
        mc = MockCluster(sim.dir)
        create_topics(mc)
        add_outputs(sim, kafka_output(mc))
        r = sim.fetch(timeout=120)
        eq(outputs_status(sim)["kf"]["lag_records"], 0, "kf lag")
        mwtest.report("issue5 outputs", "fetch delivering %d records: kafka (records/s)"
                      % (3 * n), "%.0f" % (3 * n / r.wall),
                      "%.2fs wall; mock cluster in-process on the same 2 cores; batch 500"
                      % r.wall)
        eq(consume_check(mc, ndjson_records(sim), "throughput"), (0, 0),
           "(lost, duplicated)")
        mc.stop()


if __name__ == "__main__":
    mwtest.main([test_fetch_consume, test_run_broker_down, test_throughput])
