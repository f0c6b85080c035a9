#!/usr/bin/env python3
"""mimewatch replay (issue 16 item 9): a span of stored records delivered
once more to one output, through the real binary against mimewatch-sim and
tests/lib/strict_http.py.

test_replay: after a fetch to NDJSON and HEC, replay to HEC (one type) and
  to NDJSON (every type) re-delivers exactly the records whose time is in
  [since, until): the same ids, and for NDJSON the same bytes; nothing
  else. Each output's offset (delivered_rowid) is unchanged, status shows
  the replay's result, and a fetch afterwards delivers nothing again.
  A bad output name exits 2 naming the outputs; a bad span exits 2.
test_replay_running: while `mimewatch run` collects, replay is handed to
  it and runs beside collection: the same exact ids (HEC) and lines
  (NDJSON), offsets unchanged, status "done: N records".
"""

import calendar
import collections
import json
import os
import time

import mwout
import mwtest
from mwout import StrictHttp, add_outputs, env_with, outputs_status
from mwtest import Sim, check, eq


def epoch(rfc3339):
    return calendar.timegm(time.strptime(rfc3339[:19], "%Y-%m-%dT%H:%M:%S"))


def raw_lines(sim):
    out = []
    for t in mwtest.TYPES:
        out += sim.ndjson_raw("sim", t)
    return out


def with_hec(sim):
    """A strict HEC receiver and an output to it: (receiver, env)."""
    rx = StrictHttp(sim.dir)
    add_outputs(sim, "  - type: hec\n    url: %s\n    token_env: MW_TEST_HEC_TOKEN\n"
                % rx.hec_url)
    return rx, env_with(MW_TEST_HEC_TOKEN=rx.hec_token)


def test_replay():
    n = 120
    with Sim(["--records", str(n)]) as sim:
        rx, env = with_hec(sim)
        r = sim.mw(["fetch"], env=env)
        eq(r.rc, 0, "fetch\n%s" % r)
        first = raw_lines(sim)
        eq(len(first), 3 * n, "NDJSON lines after fetch")
        eq(len(rx.state()["hec_ids"]), 3 * n, "hec records after fetch")
        objs = [(json.loads(l), l) for l in first]
        times = sorted(epoch(o["time"]) for o, _ in objs)
        since, until = times[len(times) // 4], times[len(times) // 2]
        check(since < until, "a span of some seconds: %d..%d" % (since, until))
        in_span = [(o, l) for o, l in objs if since <= epoch(o["time"]) < until]
        before = outputs_status(sim, env=env)

        # HEC, one type.
        want = sorted(o["id"] for o, _ in in_span if o["type"] == "url")
        check(len(want) > 0, "url records in the span")
        r = sim.mw(["replay", "hec", "--since", str(since), "--until", str(until),
                    "--type", "url"], env=env)
        eq(r.rc, 0, "replay hec\n%s" % r)
        check("%d records re-delivered" % len(want) in r.out, "replay says the count:\n%s" % r)
        ids = rx.state()["hec_ids"]
        eq(sorted(ids[3 * n:]), want, "ids the replay re-delivered to hec")
        eq(rx.state()["violations"], [], "protocol violations")

        # NDJSON, every type: the same bytes again.
        r = sim.mw(["replay", "ndjson", "--since", str(since), "--until", str(until)], env=env)
        eq(r.rc, 0, "replay ndjson\n%s" % r)
        after = raw_lines(sim)
        extra = collections.Counter(after) - collections.Counter(first)
        eq(sorted(extra.elements()), sorted(l for _, l in in_span),
           "lines the replay added to the NDJSON files")
        eq(collections.Counter(first) - collections.Counter(after), collections.Counter(),
           "lines lost")

        st = outputs_status(sim, env=env)
        for name in ("hec", "ndjson"):
            eq(st[name]["delivered_rowid"], before[name]["delivered_rowid"],
               "%s offset after replay" % name)
            check(st[name]["replay"].startswith("done: "), "%s replay state %r"
                  % (name, st[name]["replay"]))
        check(st["hec"]["replay"].startswith("done: %d records" % len(want)),
              "hec replay state %r" % st["hec"]["replay"])

        # The offset stayed: a fetch delivers nothing again.
        r = sim.mw(["fetch"], env=env)
        eq(r.rc, 0, "fetch after replay\n%s" % r)
        eq(len(raw_lines(sim)), len(after), "NDJSON lines after another fetch")
        eq(len(rx.state()["hec_ids"]), 3 * n + len(want), "hec records after another fetch")

        r = sim.mw(["replay", "nosuch", "--since", str(since)], env=env)
        eq(r.rc, 2, "replay to an unknown output\n%s" % r)
        check("nosuch" in r.err and "ndjson" in r.err and "hec" in r.err,
              "the error names the outputs:\n%s" % r.err)
        r = sim.mw(["replay", "hec", "--since", str(until), "--until", str(since)], env=env)
        eq(r.rc, 2, "replay of a reversed span\n%s" % r)
        mwtest.report("issue16 replay", "records re-delivered (hec url, ndjson all)",
                      "%d, %d" % (len(want), len(in_span)), "offsets unchanged")
        rx.stop()


def wait_replay(sim, env, name, want):
    def done():
        st = outputs_status(sim, env=env)[name]["replay"]
        check(not st.startswith("failed"), "%s replay failed: %s" % (name, st))
        return st.startswith("done: %d records" % want)
    mwout.wait_until(done, 60, "the %s replay done" % name)


def test_replay_running():
    n = 120
    with Sim(["--records", str(n)]) as sim:
        rx, env = with_hec(sim)
        p = mwtest.mimewatch_bg(["run"], config=sim.config, env=env)
        try:
            mwout.wait_until(lambda: len(rx.state()["hec_ids"]) >= 3 * n
                             and len(raw_lines(sim)) >= 3 * n, 60, "run delivering")
            first = raw_lines(sim)
            eq(len(first), 3 * n, "NDJSON lines after run delivered")
            objs = [(json.loads(l), l) for l in first]
            times = sorted(epoch(o["time"]) for o, _ in objs)
            since, until = times[len(times) // 3], times[2 * len(times) // 3]
            in_span = [(o, l) for o, l in objs if since <= epoch(o["time"]) < until]
            before = outputs_status(sim, env=env)

            r = sim.mw(["replay", "hec", "--since", str(since), "--until", str(until)],
                       env=env)
            eq(r.rc, 0, "replay hec while run collects\n%s" % r)
            check("started by the running collector" in r.out, "hand-over said:\n%s" % r)
            wait_replay(sim, env, "hec", len(in_span))
            eq(sorted(rx.state()["hec_ids"][3 * n:]), sorted(o["id"] for o, _ in in_span),
               "ids the running collector's replay re-delivered to hec")

            r = sim.mw(["replay", "ndjson", "--since", str(since), "--until", str(until)],
                       env=env)
            eq(r.rc, 0, "replay ndjson while run collects\n%s" % r)
            wait_replay(sim, env, "ndjson", len(in_span))
            extra = collections.Counter(raw_lines(sim)) - collections.Counter(first)
            eq(sorted(extra.elements()), sorted(l for _, l in in_span),
               "lines the running collector's replay added")
            st = outputs_status(sim, env=env)
            for name in ("hec", "ndjson"):
                eq(st[name]["delivered_rowid"], before[name]["delivered_rowid"],
                   "%s offset after the replay" % name)
        finally:
            eq(mwtest.stop_bg(p), 0, "run's exit status after SIGTERM")
        rx.stop()


if __name__ == "__main__":
    mwtest.main([test_replay, test_replay_running])
