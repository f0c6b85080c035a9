#!/usr/bin/env python3
"""Coverage and backfills (issue 14.15): a reset forward leaves a gap in
what was collected (the store's spans); `mimewatch backfill NAME TYPE
--since T --until T` queues a backfill of exactly that span, carried out by
the next fetch (or at once by a running collector) with the same paging as
regular windows, beside the regular cursor; afterwards the store and the
NDJSON hold exactly the tenant's records, none twice, and the span is
covered. A `run` killed with SIGKILL in the middle of a backfill resumes it
from its stored position: nothing lost, nothing twice."""

import json
import os
import signal
import sqlite3
import time

import mwtest
from mwtest import TYPES, Sim, check, eq


def store_rows(sim, sql):
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(sim.state_dir, "store.db"),
                          uri=True, timeout=30)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def spans(sim, type_):
    return store_rows(sim, "SELECT p.t_from, p.t_to FROM spans p JOIN sources s "
                           "ON s.id=p.source WHERE s.type='%s' ORDER BY p.t_from" % type_)


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def coverage(sim):
    """{type: coverage object} of sim from status --coverage --json."""
    r = sim.mw(["status", "--coverage", "--json"])
    eq(r.rc, 0, "status --coverage --json\n%s" % r)
    return {c["type"]: c for c in json.loads(r.out)["coverage"] if c["integration"] == "sim"}


def url_count(sim):
    return sim.store_counts().get(("sim", "url"), 0)


def gap_by_reset(sim, since):
    """url's horizon reset forward (never collected: to now - since), then a
    fetch: url's older records are a gap; the other types are whole."""
    r = sim.mw(["reset", "--yes", "--since", since, "sim", "url"])
    eq(r.rc, 0, "reset\n%s" % r)
    sim.fetch()
    got = url_count(sim)
    want = len(sim.truth("url"))
    check(0 < got < want, "a gap: %d of %d url records after the reset forward" % (got, want))
    sp = spans(sim, "url")
    eq(len(sp), 1, "one collected span of url after the fetch: %r" % (sp,))
    return sp[0]


def test_gap_backfill():
    with Sim(["--records", "600", "--span", "6h"]) as sim:
        t0 = int(time.time())
        span = gap_by_reset(sim, "2h")
        # the regular window starts at the new horizon less the overlap
        check(abs(span[0] - (t0 - 7200 - 600)) <= 5, "url's span starts at the reset "
              "horizon less the overlap: %r (now %d)" % (span, t0))
        ev = sim.mw(["status", "--events"]).out
        check(" sim/url  reset: horizon moved from never to " in ev,
              "the reset is an event:\n" + ev)
        cov = coverage(sim)
        eq(len(cov["url"]["gaps"]), 1, "status --coverage: url's gap %r" % cov["url"])
        eq(cov["url"]["gaps"][0]["to"], rfc3339(span[0]), "the gap ends where url's span begins")

        r = sim.mw(["backfill", "sim", "url", "--since", str(t0 - 7 * 3600),
                    "--until", str(span[0])])
        eq(r.rc, 0, "backfill\n%s" % r)
        check("backfill queued" in r.out, "backfill says it is queued: %r" % r.out)
        bad = sim.mw(["backfill", "sim", "url", "--since", "10", "--until", "5"])
        eq(bad.rc, 2, "a span that ends before it starts is refused\n%s" % bad)
        bad = sim.mw(["backfill", "sim", "nosuchtype", "--since", "5", "--until", "10"])
        eq(bad.rc, 2, "an unknown type is refused\n%s" % bad)

        before = sim.stats()
        r = sim.fetch()
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})
        # paged like a regular window, and url's regular cursor untouched
        reqs = sim.path_requests("url") - sim.path_requests("url", before)
        check(1 <= reqs <= 8, "the backfill of ~500 records took %d url requests" % reqs)
        sp = spans(sim, "url")
        eq(len(sp), 1, "the gap is covered: one span %r" % (sp,))
        check(sp[0][0] <= t0 - 7 * 3600 and sp[0][1] >= t0 - 5, "the span reaches from the "
              "backfill's start to the horizon: %r" % (sp,))
        eq(store_rows(sim, "SELECT state FROM backfills"), [(2,)], "the backfill is done")
        cov = coverage(sim)["url"]
        eq([b["state"] for b in cov["backfills"]], ["done"], "status --coverage: %r" % cov)
        eq(len(cov["gaps"]), 1, "only the days before the backfill are a gap: %r" % cov)
        eq(cov["gaps"][0]["to"], rfc3339(sp[0][0]), "the gap ends where the span begins")
        eq(cov["records_30d"], 600, "status --coverage counts url's records")
        text = sim.mw(["status", "--coverage"]).out
        check("sim/url: 600 records in 30 days" in text and "  backfill " in text,
              "status --coverage in words:\n" + text)
        eq(sim.type_status()["url"]["records_total"], 600, "status counts the backfill's records")
        # nothing left to do: another fetch collects nothing more
        sim.fetch()
        eq(url_count(sim), 600, "url records after another fetch")


def test_backfill_kill9():
    with Sim(["--records", "400", "--span", "6h", "--rate-limit", "2",
              "--refill-ms", "60"]) as sim:
        t0 = int(time.time())
        span = gap_by_reset(sim, "1h")
        sim.edit_config(page_size="5", interval="1h")
        run = mwtest.mimewatch_bg(["run"], config=sim.config)
        try:
            # handed to the running collector through the store
            r = sim.mw(["backfill", "sim", "url", "--since", str(t0 - 7 * 3600),
                        "--until", str(span[0])])
            eq(r.rc, 0, "backfill handed to run\n%s" % r)

            def midway():
                rows = store_rows(sim, "SELECT state, win_received FROM backfills")
                return rows and rows[0][0] == 0 and rows[0][1] >= 40
            mwtest.wait_for(midway, 60, "the backfill halfway")
            os.kill(run.pid, signal.SIGKILL)
            run.wait(20)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        got = url_count(sim)
        check(got < len(sim.truth("url")), "killed before the backfill ended: %d" % got)
        ev = sim.mw(["status", "--events"]).out
        sim.fetch(timeout=300)
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})
        eq(store_rows(sim, "SELECT state FROM backfills"), [(2,)], "the backfill is done")
        ev = sim.mw(["status", "--events"]).out
        check("backfill started: " in ev and ", resumed" in ev,
              "the fetch resumed the backfill:\n" + ev)
        eq(len(spans(sim, "url")), 1, "the gap is covered")


if __name__ == "__main__":
    mwtest.main([test_gap_backfill, test_backfill_kill9])
