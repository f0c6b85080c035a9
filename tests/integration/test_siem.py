#!/usr/bin/env python3
"""SIEM events (issue 15). API 2.0: batch files per sub-type and day,
collected exactly once (HACKING, "Batch files"). The real binary against
mimewatch-sim over TLS: a backfill of several days x every sub-type equals
the simulator's truth (GET /_sim/siem) exactly, in the store and in the
NDJSON, and so it does under each fault of the files (an expired link, a
file cut short, a gzip that does not decompress, a file listed twice, a day
with no file) and of the listing (429, 5xx, a cut body, a revoked token);
a file that keeps failing is skipped with a warning naming it; kill -9 at
random moments loses and duplicates nothing; validate names the
permission. API 1.0: get-siem-logs, a file a call and the next token in a
header, equal to the truth (GET /_sim/siem1) under the listing faults and
a kill -9 loop."""

import collections
import contextlib
import glob
import json
import os
import random
import signal
import time

import mwtest
from mwtest import Sim, check, eq

DAY = 86400
LOOKBACK_DAYS = 3
PERMISSION = "Security Events and Data Retrieval | Threat and Security Events (SIEM) | Read"


def first_day(lookback_days=LOOKBACK_DAYS):
    now = int(time.time())
    t = now - lookback_days * DAY
    return t - t % DAY


def truth(sim, since):
    """Every event the simulator's files hold from the day since on."""
    st, body = sim.http("GET", "/_sim/siem")
    eq(st, 200, "GET /_sim/siem status")
    evs = [json.loads(line) for line in body.split(b"\n") if line.strip()]
    return [e for e in evs if e["timestamp"] >= since * 1000]


def key(rec):
    return json.dumps(rec, sort_keys=True, separators=(",", ":"))


@contextlib.contextmanager
def siem_sim(args=(), lookback="%dd" % LOOKBACK_DAYS, siem_types=None):
    """The simulator, its v2 integration collecting siem alone."""
    with Sim(list(args), api="v2") as sim:
        sim.edit_config(types="[siem]", lookback=lookback)
        if siem_types:
            text = sim.read_config().replace("types: [siem]\n", "types: [siem]\n"
                                             "    siem_types: %s\n" % siem_types)
            with open(sim.config, "w") as f:
                f.write(text)
        yield sim


def assert_exact(sim, want, what):
    """The NDJSON and the store hold want exactly: nothing lost, nothing
    twice."""
    got = [x["record"] for x in sim.ndjson("sim-v2", "siem")]
    gc, wc = collections.Counter(map(key, got)), collections.Counter(map(key, want))
    lost = sum((wc - gc).values())
    dup = sum(n - 1 for n in gc.values() if n > 1)
    extra = sum((gc - wc).values())
    eq((lost, dup, extra), (0, 0, 0), "%s: (lost, duplicated, not in the truth) of %d events"
       % (what, len(want)))
    counts = sim.store_counts()  # also: no (source, id) twice
    eq(counts.get(("sim-v2", "siem"), 0), len(want), "%s: records in the store" % what)
    by_type = collections.Counter(r["type"] for r in got)
    eq(len(by_type), 10, "%s: sub-types collected (%r)" % (what, sorted(by_type)))


def test_siem_backfill():
    with siem_sim() as sim:
        since = first_day()
        r = sim.fetch(timeout=300)
        want = truth(sim, since)
        check(len(want) > 300, "the sim holds %d events over the days asked" % len(want))
        spans = sim.mw(["status", "--coverage", "--json"])
        eq(spans.rc, 0, "status --coverage\n%s" % spans)
        check("sim-v2/siem: %d new" % len(want) in r.out, "fetch's line\n%s" % r)
        assert_exact(sim, want, "backfill")
        # nothing comes twice: every file is in the ledger
        r = sim.fetch(timeout=120)
        check("sim-v2/siem: 0 new" in r.out, "second fetch\n%s" % r)
        assert_exact(sim, want, "after a second fetch")
        st = sim.type_status("sim-v2")["siem"]
        eq(st["class"], "ok", "status class")
        eq(st["records_total"], len(want), "status total")


FAULTS = [
    # [SEK-HELPERS] [ELA-SIEM-CEL]: an expired link answers 403; listed again
    "siem_expired:count=3",
    # elastic/integrations#5053: a file cut short stores nothing of it
    "siem_cut:count=2",
    "siem_badgzip:count=2",
    # UNCONFIRMED whether a file can come twice: the ledger takes it once
    "siem_twice:count=0",
    # what a day with no file answers is UNCONFIRMED: an empty value
    "siem_noday",
    # the listing: the usual retry and 429 machinery
    "500:type=siem,count=2",
    "503:type=siem,after=5,count=2",
    "429:type=siem,count=2",
    "truncate:type=siem,after=3,count=1",
    "token_revoked:type=siem,after=4,count=1",
]


def one_fault(spec):
    lookback = 3 if spec == "siem_noday" else 1
    with siem_sim(["--fault", spec], lookback="%dd" % lookback) as sim:
        if spec.startswith("siem_twice"):
            sim.edit_config(page_size="1")  # pages of one file: each listed twice
        r = sim.fetch(timeout=300, expect_rc=None)
        eq(r.rc, 0, "fetch under %s\n%s" % (spec, r))
        assert_exact(sim, truth(sim, first_day(lookback)), spec)
        if spec == "siem_noday":
            st, body = sim.http("GET", "/_sim/siem")
            day = time.strftime("%Y-%m-%d", time.gmtime(first_day(0) - 2 * DAY))
            check(day.encode() not in body, "siem_noday left no day empty")
    return spec


def test_siem_faults():
    mwtest.run_parallel([("fault %s" % f, one_fault, (f,)) for f in FAULTS], width=2)


def test_siem_file_skipped():
    """A file that fails FILE_TRIES times is skipped, said in status with
    its name and day; the rest is collected."""
    with siem_sim(["--fault", "siem_cut:count=5"], lookback="1d",
                  siem_types="[receipt]") as sim:
        r = sim.fetch(timeout=300, expect_rc=None)
        eq(r.rc, 0, "fetch\n%s" % r)
        got = [x["record"] for x in sim.ndjson("sim-v2", "siem")]
        want = [e for e in truth(sim, first_day(1)) if e["type"] == "receipt"]
        missing = collections.Counter(map(key, want)) - collections.Counter(map(key, got))
        n_missing = sum(missing.values())
        check(3 <= n_missing <= 7, "one file's events (3 to 7) missing, got %d" % n_missing)
        st = sim.type_status("sim-v2")["siem"]
        check("1 batch files skipped; the last, /siem-files/receipt/" in st.get("warning", "")
              and "after 5 tries: file cut short" in st.get("warning", "") and
              "/siem-files/" in st.get("warning", ""),
              "status warning names the skipped file: %r" % st.get("warning"))
        ev = sim.mw(["status", "--events"])
        check("file skipped" in ev.out, "an event says so\n%s" % ev)


def test_siem_nextloop():
    """A listing whose @nextPage names the same page again ends after a few
    listings that bring nothing new, said; fetch finishes."""
    with siem_sim(["--fault", "siem_nextloop:count=0"], lookback="1d",
                  siem_types="[receipt]") as sim:
        sim.edit_config(page_size="1")
        r = sim.fetch(timeout=120)
        got = [x["record"] for x in sim.ndjson("sim-v2", "siem")]
        want = [e for e in truth(sim, first_day(1)) if e["type"] == "receipt"]
        check(0 < len(got) < len(want), "only the first file of each day comes: %d of %d\n%s"
              % (len(got), len(want), r))
        eq(len(set(map(key, got))), len(got), "no event twice")
        st = sim.type_status("sim-v2")["siem"]
        check("pagination did not end" in (st.get("warning") or ""),
              "status warns: %r" % st.get("warning"))
        lists = sim.stats()["requests"].get("/siem/v1/batch/events/cg", 0)
        check(0 < lists < 40, "a few listings, not a circle: %d" % lists)


def moved_config(sim, tag):
    """sim's config with a state_dir and NDJSON directory of its own: the
    same integration on another machine. Returns (config, out dir)."""
    text = sim.read_config()
    out = os.path.join(sim.dir, "out-" + tag)
    for old, new in ((sim.state_dir, os.path.join(sim.dir, "state-" + tag)),
                     (sim.out_dir, out)):
        check('"%s"' % old in text, "no %s in the config:\n%s" % (old, text))
        text = text.replace('"%s"' % old, '"%s"' % new)
    path = os.path.join(sim.dir, "config-%s.yaml" % tag)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path, out


def out_events(out):
    evs = []
    for path in sorted(glob.glob(os.path.join(out, "sim-v2", "siem", "*.ndjson"))):
        with open(path, encoding="utf-8") as f:
            evs += [json.loads(l)["record"] for l in f if l.strip()]
    return evs


def test_siem_state_moves():
    """state export carries each sub-type's day, listing token and the
    day's files taken; after state import the new owner takes no file the
    old one took (with the token, and with the token cleared, when only
    the ledger stands between it and the day's files again). Without the
    import, every event comes again: the check can fail."""
    with siem_sim() as sim:
        since = first_day()
        sim.fetch(timeout=300)
        old = sim.ndjson("sim-v2", "siem")
        exported = os.path.join(sim.dir, "siem.state")
        r = sim.mw(["state", "export", "sim-v2", "--output", exported])
        eq(r.rc, 0, "state export\n%s" % r)
        with open(exported) as f:
            state = json.load(f)
        siem = [t for t in state["types"] if t["type"] == "siem"]
        eq(len(siem), 1, "the exported types: %r" % state["types"])
        batches = siem[0].get("batches", [])
        eq(len(batches), 10, "sub-types exported: %r" % [b["subtype"] for b in batches])
        today = int(time.time()) // DAY * DAY
        check(all(b["day"] == today for b in batches), "every sub-type reads today: %r"
              % [(b["subtype"], b["day"]) for b in batches])
        check(sum(len(b["files"]) for b in batches) >= 10, "today's files taken: %r" % batches)

        def moved(tag, state_file):
            config, out = moved_config(sim, tag)
            if state_file:
                r = sim.mw(["state", "import", state_file], config=config)
                eq(r.rc, 0, "state import (%s)\n%s" % (tag, r))
                check("sim-v2/siem receipt: day " in r.out, "import says\n%s" % r)
            files = sim.stats()["requests"].get("other", 0)
            r = sim.mw(["fetch"], config=config, timeout=300)
            eq(r.rc, 0, "fetch on the new owner (%s)\n%s" % (tag, r))
            return out_events(out), sim.stats()["requests"].get("other", 0) - files

        # a hostile or damaged listing is refused before anything is written
        config_bad, _ = moved_config(sim, "bad")
        for tag, bad in (("twice", batches[:1] * 2),
                         ("nofiles", [dict(batches[0], files=None)]),
                         ("badfile", [dict(batches[0], files=[{"key": "", "records": 1}])]),
                         ("badsub", [dict(batches[0], subtype="a/../b")]),
                         ("longtoken", [dict(batches[0], next_page="x" * 5000)])):
            path = os.path.join(sim.dir, tag + ".state")
            with open(path, "w") as f:
                json.dump(dict(state, types=[dict(siem[0], batches=bad)]), f)
            r = sim.mw(["state", "import", path], config=config_bad)
            eq(r.rc, 2, "state import of %s\n%s" % (tag, r))
            check("a batch listing (sub-type, day, next_page, files)" in r.err,
                  "%s: the refusal\n%s" % (tag, r))
        check(not os.path.exists(os.path.join(sim.dir, "state-bad", "store.db")),
              "a refused import made a store")

        # with the token, and with it cleared: the ledger alone
        cleared = os.path.join(sim.dir, "cleared.state")
        for b in batches:
            b["next_page"] = ""
        with open(cleared, "w") as f:
            json.dump(state, f)
        for tag, path in (("new", exported), ("ledger", cleared)):
            got, downloads = moved(tag, path)
            want = truth(sim, since)
            both = collections.Counter(map(key, [x["record"] for x in old] + got))
            dup = sum(n - 1 for n in both.values() if n > 1)
            lost = sum((collections.Counter(map(key, want)) - both).values())
            eq((lost, dup), (0, 0), "%s: (lost, duplicated) over both owners" % tag)
            check(downloads <= 10, "%s: %d files taken again" % (tag, downloads))
        got, downloads = moved("none", None)
        eq(len(got), len(truth(sim, since)), "without an import: every event again")
        check(downloads > 10, "without an import: every file again (%d)" % downloads)


def test_siem_reset():
    """reset moves every sub-type's listing back to the day of the new
    horizon and forgets the files taken since, so they are read again; the
    store drops their events as duplicates: nothing twice, nothing lost.
    With a running collector the reset is handed to it and does the same."""
    with siem_sim() as sim:
        since = first_day()
        sim.fetch(timeout=300)
        want = truth(sim, since)
        assert_exact(sim, want, "before the reset")

        def downloads():
            return sim.stats()["requests"].get("other", 0)

        def reread(what, since_days):
            before = downloads()
            r = sim.fetch(timeout=300)
            check("sim-v2/siem: 0 new" in r.out, "%s: fetch after the reset\n%s" % (what, r))
            n = downloads() - before
            check(n >= 10 * since_days, "%s: only %d files read again (10 sub-types, %d "
                  "days)" % (what, n, since_days))
            assert_exact(sim, truth(sim, since), what)
            return n

        r = sim.mw(["backfill", "sim-v2", "siem", "--since", str(since), "--until",
                    str(since + DAY)])
        eq(r.rc, 2, "backfill of siem\n%s" % r)
        check("no span to read again; `mimewatch reset --since DURATION sim-v2 siem`" in r.err,
              "backfill's refusal names no fix:\n%s" % r)
        r = sim.mw(["reset", "--yes", "--since", "1d", "sim-v2", "siem"])
        eq(r.rc, 0, "reset\n%s" % r)
        check("sim-v2/siem: horizon reset to" in r.out, "reset says\n%s" % r)
        one_day = reread("reset --since 1d", 1)
        r = sim.mw(["reset", "--yes", "--since", "3d", "sim-v2", "siem"])
        eq(r.rc, 0, "reset\n%s" % r)
        three_days = reread("reset --since 3d", 3)
        check(three_days > one_day, "3 days read again (%d files) but no more than 1 (%d)"
              % (three_days, one_day))

        # handed to a running collector
        service = mwtest.mimewatch_bg(["run"], config=sim.config)
        try:
            mwtest.wait_for(lambda: json.loads(sim.mw(["status", "--json"]).out)
                            .get("collector_pid") == service.pid, 20, "the run to start")
            before = downloads()
            r = sim.mw(["reset", "--yes", "--since", "1d", "sim-v2", "siem"])
            eq(r.rc, 0, "reset handed over\n%s" % r)
            check("by the running collector" in r.out, "reset says\n%s" % r)
            mwtest.wait_for(lambda: downloads() - before >= one_day, 60,
                            "the running collector to read the day's files again")
        finally:
            eq(mwtest.stop_bg(service), 0, "run's exit on SIGTERM")
        assert_exact(sim, truth(sim, since), "after the handed-over reset")


def kill_loop(sim, loops, rng):
    """fetch (run every third time) SIGKILLed after 0.2 to 2.5 s, loops
    times; the store holds no id twice after any kill. Returns the kills
    that landed while mimewatch ran."""
    killed = 0
    for i in range(loops):
        p = mwtest.mimewatch_bg(["fetch"] if i % 3 != 2 else ["run"], config=sim.config)
        killed += mwtest.kill9_after(p, rng.uniform(0.2, 2.5))
        sim.store_counts()
    return killed


def test_siem_kill9():
    loops = int(os.environ.get("MW_KILL_LOOPS", str(mwtest.scaled(8, 30))))
    seed = int(os.environ.get("MW_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    # page_size 1: a listing per file, so kills land between and inside
    # a file's listing, download and commit
    with siem_sim(["--rate-limit", "10", "--refill-ms", "20"], lookback="7d") as sim:
        sim.edit_config(page_size="1")
        want = truth(sim, first_day(7))
        killed = kill_loop(sim, loops, rng)
        sim.fetch(timeout=600)
        mwtest.report("15 siem kill-9", "events", len(want), "seed %d" % seed)
        mwtest.report("15 siem kill-9", "kills landing mid-run", killed, "of %d" % loops)
        assert_exact(sim, want, "after %d kills (seed %d)" % (loops, seed))
        check(killed >= loops // 2, "only %d of %d kills landed mid-run" % (killed, loops))


def test_siem_validate():
    with siem_sim() as sim:
        r = sim.mw(["validate"])
        eq(r.rc, 0, "validate\n%s" % r)
    with siem_sim(["--deny-permission", "siem"]) as sim:
        r = sim.mw(["validate"])
        eq(r.rc, 1, "validate without the permission\n%s" % r)
        check(PERMISSION in r.out + r.err, "the remedy names %r\n%s" % (PERMISSION, r))


# ---- API 1.0: get-siem-logs -----------------------------------------------------------

V1_PERMISSION = "Gateway | Tracking | Read"


def truth_v1(sim):
    st, body = sim.http("GET", "/_sim/siem1")
    eq(st, 200, "GET /_sim/siem1 status")
    return [json.loads(line) for line in body.split(b"\n") if line.strip()]


def assert_exact_v1(sim, want, what):
    got = [x["record"] for x in sim.ndjson("sim", "siem")]
    gc, wc = collections.Counter(map(key, got)), collections.Counter(map(key, want))
    lost = sum((wc - gc).values())
    dup = sum(n - 1 for n in gc.values() if n > 1)
    eq((lost, dup, len(got)), (0, 0, len(want)), "%s: (lost, duplicated, events)" % what)
    eq(sim.store_counts().get(("sim", "siem"), 0), len(want), "%s: in the store" % what)


@contextlib.contextmanager
def siem_v1(args=()):
    with Sim(list(args), api="v1") as sim:
        sim.edit_config(types="[siem]")
        yield sim


def test_siem_v1_backfill():
    """Without a token the oldest file kept comes first [MC-SIEM1]: the
    whole stream, then isLastToken ends the poll; the next fetch asks with
    the kept token and finds nothing new."""
    with siem_v1() as sim:
        r = sim.fetch(timeout=300)
        want = truth_v1(sim)
        check(len(want) > 300, "the sim's stream holds %d events" % len(want))
        assert_exact_v1(sim, want, "backfill")
        r = sim.fetch(timeout=120)
        check("sim/siem: 0 new" in r.out and "1 requests" in r.out, "second fetch\n%s" % r)
        assert_exact_v1(sim, want, "after a second fetch")
        # a reset cannot take the 1.0 stream back: said, the token kept
        r = sim.mw(["reset", "--yes", "sim", "siem"])
        eq(r.rc, 0, "reset\n%s" % r)
        check("sim/siem: API 1.0's get-siem-logs goes on from its token" in r.out,
              "reset does not say the 1.0 stream stays:\n%s" % r)
        r = sim.fetch(timeout=120)
        check("sim/siem: 0 new" in r.out and "1 requests" in r.out, "after the reset\n%s" % r)


def one_fault_v1(spec):
    with siem_v1(["--fault", spec]) as sim:
        r = sim.fetch(timeout=300, expect_rc=None)
        eq(r.rc, 0, "fetch under %s\n%s" % (spec, r))
        assert_exact_v1(sim, truth_v1(sim), spec)
    return spec


def test_siem_v1_faults():
    faults = ["500:type=siem,after=3,count=2", "429:type=siem,after=5,count=2",
              "truncate:type=siem,after=7,count=1", "badjson:type=siem,after=9,count=1",
              "chunkcut:type=siem,after=11,count=1"]
    mwtest.run_parallel([("fault %s" % f, one_fault_v1, (f,)) for f in faults], width=2)


def test_siem_v1_kill9():
    loops = int(os.environ.get("MW_KILL_LOOPS", str(mwtest.scaled(8, 30))))
    seed = int(os.environ.get("MW_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    with siem_v1(["--rate-limit", "10", "--refill-ms", "15"]) as sim:
        want = truth_v1(sim)
        killed = kill_loop(sim, loops, rng)
        sim.fetch(timeout=600)
        mwtest.report("15 siem 1.0 kill-9", "kills landing mid-run", killed, "of %d" % loops)
        assert_exact_v1(sim, want, "after %d kills (seed %d)" % (loops, seed))
        check(killed >= loops // 2, "only %d of %d kills landed mid-run" % (killed, loops))


def test_siem_v1_validate():
    with siem_v1(["--deny-permission", "siem"]) as sim:
        r = sim.mw(["validate"])
        eq(r.rc, 1, "validate without the permission\n%s" % r)
        check(V1_PERMISSION in r.out + r.err, "the remedy names %r\n%s" % (V1_PERMISSION, r))


if __name__ == "__main__":
    mwtest.main([test_siem_backfill, test_siem_faults, test_siem_file_skipped,
                 test_siem_nextloop, test_siem_state_moves, test_siem_reset, test_siem_kill9, test_siem_validate,
                 test_siem_v1_backfill, test_siem_v1_faults, test_siem_v1_kill9,
                 test_siem_v1_validate])
