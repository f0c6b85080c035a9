#!/usr/bin/env python3
"""Collecting exactly once: counts, content, ids, encoding, request budget,
re-fetch, records arriving in real time, late records."""

import hashlib
import json
import math
import re
import time

import mwtest
from mwtest import TYPES, TIME_FIELD, Sim, check, eq

N = 5000
PAGE = 100
C1_RE = re.compile("[\u0080-\u009f]")


def controls_in(obj):
    """The set of C0, DEL and C1 characters in every string of obj."""
    if isinstance(obj, str):
        return {c for c in obj if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F}
    if isinstance(obj, dict):
        return set().union(set(), *(controls_in(k) | controls_in(v) for k, v in obj.items()))
    if isinstance(obj, list):
        return set().union(set(), *(controls_in(v) for v in obj))
    return set()


def check_line_bytes(t, i, raw):
    """Valid UTF-8, and nothing that could drive a terminal."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as ex:
        raise mwtest.CheckFailed("%s line %d is not valid UTF-8: %s" % (t, i, ex))
    bad = [b for b in raw if b < 0x20 or b == 0x7F]
    check(not bad, "%s line %d holds raw control bytes %r: %r" % (t, i, sorted(set(bad)),
                                                                  raw[:160]))
    m = C1_RE.search(text)
    check(not m, "%s line %d holds a raw C1 character U+%04X" % (t, i, ord(m.group()) if m
                                                                 else 0))


def test_backfill_exact():
    with Sim(["--records", str(N), "--span", "6h"]) as sim:
        r = sim.fetch()
        rep = r.report()
        stats = sim.stats()
        truth = {t: sim.truth(t) for t in TYPES}
        for t in TYPES:
            eq(len(truth[t]), N, "ground truth %s records" % t)
            eq(mwtest.message_ids(truth[t]), mwtest.expected_ids(t, N),
               "ground truth %s messageIds (oldest first)" % t)
            check(("sim", t) in rep, "fetch printed no line for sim/%s\n%s" % (t, r))
            eq(rep[("sim", t)]["new"], N, "sim/%s new records reported" % t)
            eq(rep[("sim", t)]["failed"], False, "sim/%s FAILED" % t)
            eq(rep[("sim", t)]["rej"], 0, "sim/%s rejected" % t)
            budget = math.floor(1.05 * math.ceil(N / PAGE) + 2)
            reqs = sim.path_requests(t, stats)
            check(reqs <= budget, "%s: %d requests reached the tenant, budget %d (1.05 x %d "
                  "full pages + 2)" % (t, reqs, budget, math.ceil(N / PAGE)))
            check(rep[("sim", t)]["req"] <= budget, "%s: fetch reports %d requests, budget %d"
                  % (t, rep[("sim", t)]["req"], budget))
        check("records in %s" % sim.out_dir in r.out,
              "fetch did not print 'records in %s'\n%s" % (sim.out_dir, r))
        eq(stats.get("early_requests"), 0, "early_requests")
        mwtest.assert_exact_records(sim, truth)

        for t in TYPES:
            raws = sim.ndjson_raw("sim", t)
            by_mid = {rec["messageId"]: rec for rec in truth[t]}
            hostile_seen = 0
            for i, raw in enumerate(raws, 1):
                check_line_bytes(t, i, raw)
                line = json.loads(raw.decode("utf-8"))
                eq(sorted(line.keys()), ["id", "integration", "record", "time", "type"],
                   "%s line %d keys" % (t, i))
                eq(line["integration"], "sim", "%s line %d integration" % (t, i))
                eq(line["type"], t, "%s line %d type" % (t, i))
                rec = line["record"]
                want = by_mid[rec["messageId"]]
                if rec != want:
                    diff = sorted(k for k in set(rec) | set(want) if rec.get(k) != want.get(k))
                    raise mwtest.CheckFailed("%s line %d: record differs from the tenant's "
                                             "in %r" % (t, i, diff))
                eq(mwtest.mc_time(line["time"]), mwtest.mc_time(want[TIME_FIELD[t]]),
                   "%s line %d time vs the record's %s" % (t, i, TIME_FIELD[t]))
                check(line["time"].endswith("Z") or line["time"].endswith("+00:00"),
                      "%s line %d time %r is not RFC 3339 UTC" % (t, i, line["time"]))
                if t == "impersonation":
                    eq(line["id"], rec["id"], "impersonation line %d id" % i)
                else:
                    check(re.fullmatch(r"[0-9a-f]{64}", line["id"]),
                          "%s line %d id %r is not 64 hex digits" % (t, i, line["id"]))
                    if not mwtest.has_controls(rec) and not mwtest.has_float(rec):
                        eq(line["id"], mwtest.canonical_id(rec),
                           "%s line %d id vs SHA-256 of the canonical record" % (t, i))
                ctl = controls_in(rec)
                low = raw.lower()
                for c in sorted(ctl):
                    esc = ("\\u%04x" % ord(c)).encode()
                    check(esc in low, "%s line %d: U+%04X is not written as %s: %r"
                          % (t, i, ord(c), esc.decode(), raw[:200]))
                if "\x1b" in ctl:
                    hostile_seen += 1
            check(hostile_seen >= N // 50 - 1, "%s: only %d hostile records seen (every 50th "
                  "expected)" % (t, hostile_seen))
        mwtest.check_modes(sim.state_dir)
        mwtest.check_modes(sim.out_dir, skip_roots=True)

        # A second fetch: the overlap is re-read, and dropped as duplicates.
        size1 = sim.ndjson_size()
        horizons = {t: mwtest.mc_time(rep[("sim", t)]["horizon"]) for t in TYPES}
        before = sim.stats()
        r2 = sim.fetch()
        rep2 = r2.report()
        after = sim.stats()
        for t in TYPES:
            eq(rep2[("sim", t)]["new"], 0, "second fetch: sim/%s new" % t)
            overlap_from = horizons[t] - 600
            want_dup = sum(1 for rec in truth[t]
                           if mwtest.mc_time(rec[TIME_FIELD[t]]) >= overlap_from)
            eq(rep2[("sim", t)]["dup"], want_dup, "second fetch: sim/%s duplicates dropped "
               "(records since horizon %d - 10m overlap)" % (t, horizons[t]))
            reqs = sim.path_requests(t, after) - sim.path_requests(t, before)
            check(reqs <= math.ceil(want_dup / PAGE) + 2, "second fetch: %s made %d requests "
                  "for %d overlap records" % (t, reqs, want_dup))
        eq(sim.ndjson_size(), size1, "NDJSON bytes after a second fetch")
        mwtest.assert_exact_records(sim, truth)


def _visible_until(truth, t, until):
    return [rec for rec in truth if mwtest.mc_time(rec[TIME_FIELD[t]]) <= until]


def test_realtime_two_fetches():
    # Records keep arriving (10 a second per type); two fetches 4 s apart.
    with Sim(["--start-ago", "5m", "--spacing-ms", "100"]) as sim:
        sim.edit_config(lag="1s")
        r1 = sim.fetch()
        time.sleep(4)
        t2 = int(time.time())
        r2 = sim.fetch()
        rep1, rep2 = r1.report(), r2.report()
        for t in TYPES:
            truth = sim.truth(t)
            lines = sim.ndjson("sim", t)
            got = mwtest.message_ids(l["record"] for l in lines)
            eq(len(got), len(set(got)), "%s: duplicated lines" % t)
            check(set(got) <= set(mwtest.message_ids(truth)),
                  "%s: records the tenant does not have" % t)
            # Everything older than the second fetch's now - lag - 1 s must be in.
            want = mwtest.message_ids(_visible_until(truth, t, t2 - 2))
            lost = set(want) - set(got)
            check(not lost, "%s: %d records lost between two fetches, e.g. %r"
                  % (t, len(lost), sorted(lost)[:3]))
            check(len(want) >= 2900, "%s: only %d records before the second fetch" % (t, len(want)))
            eq(rep1[("sim", t)]["new"] + rep2[("sim", t)]["new"], len(got),
               "%s: new records of both fetches vs NDJSON lines" % t)
            check(rep2[("sim", t)]["new"] >= 30, "%s: second fetch got only %d new records in 4 s"
                  % (t, rep2[("sim", t)]["new"]))


def test_late_records():
    # 20% of the records become visible 3 s after their time; overlap 10m.
    with Sim(["--start-ago", "2m", "--spacing-ms", "100", "--late", "0.2",
              "--late-delay", "3s"]) as sim:
        sim.edit_config(lag="1s", overlap="10m")
        t1 = int(time.time())
        sim.fetch()
        first = {t: set(mwtest.message_ids(l["record"] for l in sim.ndjson("sim", t)))
                 for t in TYPES}
        time.sleep(5)
        sim.fetch()
        missed_first = 0
        for t in TYPES:
            truth = sim.truth(t)
            lines = sim.ndjson("sim", t)
            got = mwtest.message_ids(l["record"] for l in lines)
            eq(len(got), len(set(got)), "%s: duplicated lines" % t)
            want = set(mwtest.message_ids(_visible_until(truth, t, t1 - 1)))
            lost = want - set(got)
            check(not lost, "%s: %d late records lost, e.g. %r" % (t, len(lost),
                                                                   sorted(lost)[:3]))
            missed_first += len(want - first[t])
        # Otherwise the test proved nothing: the first fetch must have missed some.
        check(missed_first > 0, "no record was late at the first fetch: the late option "
              "did not take effect, the test proves nothing")


def test_newest_first_reads_back():
    """Issue 15, audit's pages newest first. A reset that reaches further
    back than what was collected re-reads the newest records first: pages of
    nothing but duplicates, each going further back, until the older records
    come. That is no pagination loop: every record arrives, once. A tenant
    that serves the window's newest records again and again still is one:
    the window closes with a warning, without waiting out a retry budget."""
    with Sim(["--records", "1000", "--span", "1h"]) as sim:
        sim.edit_config(types="[audit, dlp]", lookback="30m")
        first = sim.fetch().report()
        for t in ("audit", "dlp"):
            check(300 < first[("sim", t)]["new"] < 700, "first fetch sim/%s: %r"
                  % (t, first[("sim", t)]))
        sim.edit_config(lookback="2h")
        r = sim.mw(["reset", "--yes", "sim"])
        eq(r.rc, 0, "reset\n%s" % r)
        again = sim.fetch().report()
        for t in ("audit", "dlp"):
            eq(first[("sim", t)]["new"] + again[("sim", t)]["new"], 1000,
               "sim/%s new over both fetches" % t)
            eq(sim.type_status()[t]["warning"] or "", "", "sim/%s status warning" % t)
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in ("audit", "dlp")})
    with Sim(["--records", "1000", "--span", "1h", "--fault",
              "repeatpages:type=audit,after=3"]) as sim:
        sim.edit_config(types="[audit]")
        r = sim.fetch(budget="10m", timeout=60)
        check(r.wall < 30 * mwtest.SCALE, "fetch took %.1fs" % r.wall)
        st = sim.type_status()["audit"]
        check("pagination did not end" in (st["warning"] or ""), "audit warning %r"
              % st["warning"])


def test_newest_first_day_windows():
    """Issue 15: audit's pages come newest first, so one window of a 10-day
    first poll stored its newest page first and its oldest last, on top
    of the rowid order the preview and the outputs follow. Its windows
    span a day (window_max), oldest first: the output goes back in time
    by less than a day anywhere, and every record comes once."""
    with Sim(["--records", "300", "--span", "10d"]) as sim:
        sim.edit_config(types="[audit]", lookback="11d", page_size="10")
        r = sim.fetch()
        eq(r.report()[("sim", "audit")]["new"], 300, "sim/audit new")
        mwtest.assert_exact_records(sim, {"audit": sim.truth("audit")})
        times = [mwtest.mc_time(l["record"][TIME_FIELD["audit"]])
                 for l in sim.ndjson("sim", "audit")]
        newest, back = 0, 0
        for t in times:
            newest = max(newest, t)
            back = max(back, newest - t)
        check(back < 86400, "the output goes back %.1f days" % (back / 86400))
        # 11 windows (each starting the 10m overlap before the last one's
        # end, the 12th reaches now less the lag), 2 to 4 pages each
        check(24 <= sim.path_requests("audit") <= 50,
              "audit requests: %d" % sim.path_requests("audit"))


def test_refused_page_token():
    """Issue 15: a page token the tenant refuses (the sim's pagetoken fault,
    as an expired token after an outage) mid-window. Oldest first (DLP) the
    window is read again from the newest record stored less the overlap;
    newest first (audit) that point has only the newer part behind it, so
    the window is read again from its start. Every record, once. A token
    refused again on the re-read is a failure, reported, with nothing lost
    of what was stored."""
    with Sim(["--records", "1000", "--span", "1h", "--fault",
              "pagetoken:type=audit,after=2,count=1", "--fault",
              "pagetoken:type=dlp,after=2,count=1"]) as sim:
        sim.edit_config(types="[audit, dlp]")
        r = sim.fetch()
        for t in ("audit", "dlp"):
            got = r.report()[("sim", t)]
            eq(got["new"], 1000, "sim/%s new" % t)
            eq(got["retries"], 1, "sim/%s retries (the refused page)" % t)
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in ("audit", "dlp")})
        # audit read its first 3 pages again (10 + 1 refused + 3), DLP from
        # its third page's newest record less the 10-minute overlap
        eq(sim.path_requests("audit"), 14, "audit requests")
    with Sim(["--records", "1000", "--span", "1h", "--fault",
              "pagetoken:type=audit,after=2,count=0"]) as sim:
        sim.edit_config(types="[audit]")
        r = sim.fetch(budget="2s", expect_rc=1)
        got = r.report()[("sim", "audit")]
        eq(got["failed"], True, "audit FAILED")
        eq(got["horizon"], "never", "audit horizon")
        eq(sim.store_counts().get(("sim", "audit")), 300, "audit records stored")
        check("bad request (HTTP 400 err_validation_invalid_page_token)" in r.err,
              "stderr names the refusal:\n%s" % r)


def test_retention_clamps():
    """Issue 15: a lookback past a type's retention warns at load (TTP's
    about 30 days); it reaches back only as far as Mimecast documents
    keeping a type (audit, 60 days), and a reset further back than that
    asks no further back either, and says so in the events. Where the
    retention is only what peers assume (TTP, DLP: Azure's v2 connector
    asks TTP logs 60 days back), the whole lookback is asked for."""
    # 97 records over 100 days: none within hours of a retention boundary.
    # The first is at the span's start, the sim's now - 100d: a lookback of
    # 100d from the fetch's later now would miss it on a slow machine, so
    # the lookback reaches a day further.
    with Sim(["--records", "97", "--span", "100d"]) as sim:
        sim.edit_config(types="[url, audit, dlp]", lookback="101d")
        r = sim.fetch()
        check("reaches past the about 30 days Mimecast keeps TTP logs" in r.err,
              "the lookback warning\n%s" % r)
        now = time.time()
        kept = [x for x in sim.truth("audit")
                if mwtest.mc_time(x[TIME_FIELD["audit"]]) >= now - 60 * 86400 + 60]
        check(0 < len(kept) < len(sim.truth("audit")), "audit records on both sides of 60d")
        eq(r.report()[("sim", "audit")]["new"], len(kept), "sim/audit new (the last 60 days)")
        for t in ("url", "dlp"):
            eq(r.report()[("sim", t)]["new"], len(sim.truth(t)),
               "sim/%s new: all 101 days asked for" % t)
        eq(sim.path_requests("dlp"), 1, "dlp requests")
        # Audit's windows span a day each (its window_max), each the next
        # starting the overlap (10m) before the last one's end: 60 days less
        # the lag (30s) take 61. Oldest window first, each page committed
        # oldest first, so with a record or so a day the output is in time
        # order, where one 60-day window put its oldest page last.
        eq(sim.path_requests("audit"), 1 + math.ceil((60 * 86400 - 30 - 86400) / (86400 - 600)),
           "audit requests: a window a day")
        times = [mwtest.mc_time(l["record"][TIME_FIELD["audit"]])
                 for l in sim.ndjson("sim", "audit")]
        eq(times, sorted(times), "audit lines in time order")
        r = sim.mw(["reset", "--yes", "--since", "90d", "sim", "audit"])
        eq(r.rc, 0, "reset\n%s" % r)
        r = sim.fetch()
        eq(r.report()[("sim", "audit")]["new"], 0, "audit new after the reset")
        ev = sim.mw(["status", "--events"]).out
        check(re.search(r"sim/audit\s+retention: horizon \S+ is older than the 60 days "
                        r"Mimecast keeps audit events", ev), "the retention event:\n%s" % ev)


if __name__ == "__main__":
    mwtest.main([test_backfill_exact, test_realtime_two_fetches, test_late_records,
                 test_newest_first_reads_back, test_newest_first_day_windows,
                 test_refused_page_token,
                 test_retention_clamps])
