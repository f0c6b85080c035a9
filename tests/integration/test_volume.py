#!/usr/bin/env python3
"""The store's volume controls (issue 15 item 7): max_store and
keep_delivered: false, through the real binary against mimewatch-sim.

test_budget_prunes_delivered: `max_store: 2M` and a fetch of 3 x 3000
  records (~8 MiB stored without a budget): every record reaches the NDJSON
  once; the store's pages in use end under the budget; what was deleted is
  exactly what the store no longer holds, the oldest of each type in
  delivery order, and nothing inside the dedup horizon (the last overlap
  before the horizon); a second fetch re-reads the overlap and stores and
  delivers nothing again.
test_budget_holds_while_output_down: a HEC output answering 503: the
  store fills to max_store with records HEC lacks, collection holds with
  class store_full naming the output (status --json, status, the console's
  home screen), then the
  receiver recovers, HEC gets every record once, the store is pruned and
  collection finishes by itself: 0 lost, 0 duplicated in NDJSON and HEC.
test_fetch_gives_up_when_held: the same hold under `fetch --retry-budget
  3s` exits 1 with the hold and its remedy on stderr, nothing lost; the
  next fetch, HEC back, delivers the rest: 0 lost, 0 duplicated.
test_pass_through: `keep_delivered: false`: after a fetch of 3 x 6000
  records over 25 hours the store holds exactly the records of the last
  overlap; a second fetch re-reads them as duplicates (0 new, 0 duplicated
  lines).
test_config_errors: bad sizes and pass-through without outputs stop
  loading with FILE:LINE: where: what; the fix (exit 2).
"""

import json
import os
import re
import sqlite3
import time

import mwout
import mwtest
import uitest
from mwout import StrictHttp, add_outputs, env_with, wait_until
from mwtest import Sim, check, eq, mc_time

ITEM = "issue15 volume"
TYPES3 = ["url", "impersonation", "attachment"]
MIB = 1024 * 1024


def prepend(sim, top):
    text = sim.read_config()
    with open(sim.config, "w") as f:
        f.write(top + text)
    os.chmod(sim.config, 0o600)


def store_used(sim):
    """(pages in use x page size, file bytes): what max_store counts."""
    db = os.path.join(sim.state_dir, "store.db")
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        pc = con.execute("PRAGMA page_count").fetchone()[0]
        fl = con.execute("PRAGMA freelist_count").fetchone()[0]
        ps = con.execute("PRAGMA page_size").fetchone()[0]
    finally:
        con.close()
    return (pc - fl) * ps, os.path.getsize(db)


def stored(sim):
    """{type: {id: record time}} of the records the store still holds."""
    db = os.path.join(sim.state_dir, "store.db")
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        rows = con.execute("SELECT s.type, r.id, r.time FROM records r JOIN sources s "
                           "ON s.id = r.source").fetchall()
    finally:
        con.close()
    out = {}
    for t, i, tm in rows:
        out.setdefault(t, {})[i] = tm
    return out


def horizons(sim):
    return {t: mc_time(s["horizon"]) for t, s in sim.type_status().items()}


def type_status(sim, env):
    """sim.type_status with the environment a token_env output needs."""
    r = sim.mw(["status", "--json"], env=env)
    check(r.rc in (0, 1), "status --json exit %s\n%s" % (r.rc, r))
    for i in json.loads(r.out)["integrations"]:
        if i["name"] == "sim":
            return {t["type"]: t for t in i["types"]}
    raise mwtest.CheckFailed("status --json lists no integration sim:\n%s" % r.out)


def exact_ndjson(sim, n, what):
    """Every type's NDJSON holds its n records, each once; returns
    {type: [line ids in delivery order]}."""
    out = {}
    for t in TYPES3:
        lines = sim.ndjson("sim", t)
        ids = [l["id"] for l in lines]
        eq(len(ids) - len(set(ids)), 0, "%s: duplicated %s lines" % (what, t))
        eq(len(ids), n, "%s: %s lines" % (what, t))
        got = mwtest.message_ids(l["record"] for l in lines)
        eq(sorted(got), sorted(mwtest.message_ids(sim.truth(t))), "%s: %s records" % (what, t))
        out[t] = ids
    return out


def overlap_reread(sim, n):
    """A second fetch reads the last overlap again: the store knows every
    record of it, so nothing is new and no line is written twice."""
    r = sim.fetch()
    for t in TYPES3:
        check(re.search(r"sim/%s: 0 new, [1-9]\d* duplicates dropped" % t, r.out),
              "the overlap re-read stored %s records again:\n%s" % (t, r.out))
    exact_ndjson(sim, n, "second fetch")


def check_pruned(sim, order, overlap, what):
    """What the store no longer holds is, per type, a prefix of the delivery
    order, and holds nothing of the dedup horizon; returns records deleted."""
    kept, hz = stored(sim), horizons(sim)
    times = {l["id"]: mc_time(l["time"]) for t in TYPES3 for l in sim.ndjson("sim", t)}
    deleted = 0
    for t in TYPES3:
        have = kept.get(t, {})
        gone = [i for i in order[t] if i not in have]
        deleted += len(gone)
        for i in gone:
            check(times[i] < hz[t] - overlap, "%s: %s record %s (time %d) inside the dedup "
                  "horizon %d was deleted" % (what, t, i, times[i], hz[t] - overlap))
        # Oldest first: past the first record kept outside the horizon,
        # nothing was deleted.
        first_kept = next((k for k, i in enumerate(order[t])
                           if i in have and times[i] < hz[t] - overlap), len(order[t]))
        check(all(i in have for i in order[t][first_kept:]), "%s: %s records deleted after "
              "one kept (not oldest first)" % (what, t))
    return deleted


def test_budget_prunes_delivered():
    n = 3000
    with Sim(["--records", str(n)]) as sim:
        prepend(sim, "max_store: 2M\n")
        r = sim.fetch()
        order = exact_ndjson(sim, n, "fetch")
        used, size = store_used(sim)
        kept = stored(sim)
        nkept = sum(len(v) for v in kept.values())
        check(used <= 2 * MIB, "pages in use %d over max_store 2M" % used)
        deleted = check_pruned(sim, order, 600, "fetch")
        eq(deleted + nkept, 3 * n, "records deleted + records kept")
        check(deleted > 0, "max_store deleted nothing")
        mwtest.report(ITEM, "max_store 2M, 9000 records fetched: deleted, kept, in use, file",
                      "%d, %d, %.2f MiB, %.2f MiB" % (deleted, nkept, used / MIB, size / MIB),
                      "all 9000 in NDJSON once")
        st = sim.status_json()
        for o in st["outputs"]:
            eq(o["lag_records"], 0, "lag of output %s" % o["name"])
        overlap_reread(sim, n)


def hec_down(sim):
    """max_store: 2M and a HEC output whose receiver answers 503 to every
    request until rx.reset(); (rx, the environment with its token)."""
    rx = StrictHttp(sim.dir)
    add_outputs(sim, "  - type: hec\n    name: hec\n    url: %s\n"
                "    token_env: MW_TEST_HEC_TOKEN\n" % rx.hec_url, top="max_store: 2M\n")
    rx.fault("503", 1000000)
    return rx, env_with(MW_TEST_HEC_TOKEN=rx.hec_token)


def test_budget_holds_while_output_down():
    n = 3000
    with Sim(["--records", str(n)]) as sim:
        rx, env = hec_down(sim)
        p = mwtest.mimewatch_bg(["run"], config=sim.config, env=env)
        try:
            def held():
                ts = type_status(sim, env)
                return ts if all(s["class"] == "store_full" for s in ts.values()) else None
            ts = wait_until(held, 60, "every type held with class store_full")
            msg = ts["url"]["message"]
            check(re.search(r"^store over max_store 2M \(\d+\.\d MiB in use\) with \d+ "
                            r"undelivered records: output 'hec' is behind \(retrying\)$", msg),
                  "held message: %r" % msg)
            check("raise max_store" in ts["url"]["remedy"], "remedy: %r" % ts["url"]["remedy"])
            eq(ts["url"]["class_name"], "store over max_store", "class name")
            r = sim.mw(["status"], env=env)
            eq(r.rc, 1, "status exit while held\n%s" % r)
            check(re.search(r"store over max_store \(max_store 2M, \d+ undelivered\): store "
                            r"over max_store 2M", r.out) and
                  "remedy: fix output 'hec' or raise max_store" in r.out,
                  "status shows no held line:\n%s" % r.out)
            home = uitest.run_script(["wait-idle", "dump home", "quit"],
                                     args=["--config", sim.config], size=(120, 40),
                                     env={"MW_TEST_HEC_TOKEN": rx.hec_token})
            eq(home.rc, 0, "console exit status\n%s" % home)
            text = home.screen("home")
            check(len(re.findall(r"store over max_store \(max_store 2M, \d+ undelivered\)",
                                 text)) == 3 and
                  "fix output 'hec' or raise max_store" in text,
                  "the home screen does not show the hold:\n%s" % text)
            used, size = store_used(sim)
            total = sum(s["records_total"] for s in ts.values())
            check(total < 3 * n, "collection held, yet %d records stored" % total)
            check(used <= 2 * MIB + MIB // 2, "held at %d bytes in use, past max_store" % used)
            time.sleep(2)
            ts2 = type_status(sim, env)
            eq(sum(s["records_total"] for s in ts2.values()), total,
               "records stored while held")
            mwtest.report(ITEM, "held: records stored, in use, file", "%d, %.2f MiB, %.2f MiB"
                          % (total, used / MIB, size / MIB), "HEC answering 503")
            rx.reset()
            t0 = time.monotonic()

            def done():
                ts = type_status(sim, env)
                return (all(s["records_total"] == n and s["class"] == "ok"
                            for s in ts.values()) and
                        len(rx.state()["hec_ids"]) >= 3 * n)
            wait_until(done, 180, "collection to resume and HEC to get every record")
            mwtest.report(ITEM, "from the receiver's recovery to every record delivered",
                          "%.1f s" % (time.monotonic() - t0), "HEC backoff included")
        finally:
            mwtest.stop_bg(p)
        want = mwout.ndjson_records(sim, TYPES3)
        eq(len(want), 3 * n, "NDJSON records")
        st = rx.state()
        eq(mwout.tally(st["hec_ids"], want), (0, 0, 0), "hec (lost, duplicated, foreign)")
        used, size = store_used(sim)
        check(used <= 2 * MIB, "pages in use %d over max_store 2M at the end" % used)
        r = sim.mw(["status", "--events"], env=env)
        check("store full" in r.out and "store under budget" in r.out,
              "events lack the hold and its end:\n%s" % r.out)


def test_fetch_gives_up_when_held():
    n = 3000
    with Sim(["--records", str(n)]) as sim:
        rx, env = hec_down(sim)
        r = sim.mw(["fetch", "--retry-budget", "3s"], env=env)
        eq(r.rc, 1, "fetch held past its retry budget\n%s" % r)
        for t in TYPES3:
            check(re.search(r"mimewatch: sim/%s: store over max_store .*output 'hec' is behind "
                            r".*; remedy: fix output 'hec' or raise max_store" % t, r.err),
                  "fetch's stderr lacks the hold of %s:\n%s" % (t, r.err))
        held = sum(len(v) for v in stored(sim).values())
        eq(len(mwout.ndjson_records(sim, TYPES3)), held, "NDJSON lines of the held fetch")
        rx.reset()
        r = sim.mw(["fetch"], env=env)
        eq(r.rc, 0, "fetch once HEC is back\n%s" % r)
        want = mwout.ndjson_records(sim, TYPES3)
        eq(len(want), 3 * n, "NDJSON records")
        eq(mwout.tally(rx.state()["hec_ids"], want), (0, 0, 0),
           "hec (lost, duplicated, foreign)")


def test_pass_through():
    n = 6000
    with Sim(["--records", str(n)]) as sim:
        prepend(sim, "keep_delivered: false\n")
        sim.fetch()
        order = exact_ndjson(sim, n, "fetch")
        hz = horizons(sim)
        kept = stored(sim)
        times = {l["id"]: mc_time(l["time"]) for t in TYPES3 for l in sim.ndjson("sim", t)}
        for t in TYPES3:
            want = sorted(i for i in order[t] if times[i] >= hz[t] - 600)
            eq(sorted(kept.get(t, {})), want, "%s records kept: the last overlap" % t)
        used, size = store_used(sim)
        nkept = sum(len(v) for v in kept.values())
        mwtest.report(ITEM, "keep_delivered: false, 18000 records over 25 h: kept, in use, "
                      "file", "%d, %.2f MiB, %.2f MiB" % (nkept, used / MIB, size / MIB),
                      "the records of the last 10m overlap")
        check(nkept < 3 * n // 20, "pass-through kept %d of %d records" % (nkept, 3 * n))
        overlap_reread(sim, n)


def test_config_errors():
    with Sim(["--records", "10"]) as sim:
        text = sim.read_config()
        cases = [
            ("max_store: 20GB\n", "1: max_store: '20GB' is not a size; write an integer and "
             "K, M, G or T (KiB to TiB), e.g. max_store: 20G"),
            ("max_store: 100K\n", "1: max_store: below 1M"),
            ("keep_delivered: maybe\n", "1: keep_delivered: 'maybe' is neither true nor false"),
        ]
        for top, want in cases:
            with open(sim.config, "w") as f:
                f.write(top + text)
            r = sim.mw(["fetch"])
            eq(r.rc, 2, "fetch with %r\n%s" % (top, r))
            check(sim.config + ":" + want in r.err, "stderr lacks %r:\n%s" % (want, r.err))
        no_outputs = text[:text.index("outputs:")]
        with open(sim.config, "w") as f:
            f.write("keep_delivered: false\n" + no_outputs)
        r = sim.mw(["fetch"])
        eq(r.rc, 2, "fetch with pass-through and no outputs\n%s" % r)
        check(sim.config + ":1: keep_delivered: false with no outputs" in r.err,
              "stderr:\n%s" % r.err)


if __name__ == "__main__":
    mwtest.main([test_budget_prunes_delivered, test_budget_holds_while_output_down,
                 test_fetch_gives_up_when_held, test_pass_through, test_config_errors])
