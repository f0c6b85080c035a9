"""mwstate - read-only checks of mimewatch's durable state, shared by the
durability tests (test_kill9, test_torn_state, test_diskfull,
test_syscall_faults). stdlib only; never writes the store.

The invariants are the collector's own (collector.c, store.h):
- horizon H of a source: every record older than H has been collected, so
  every ground-truth record with time < H must be in the store;
- a window in progress [win_from, win_to] resumes after win_progress, the
  newest record time stored in it, and a refused page token restarts it at
  win_progress - overlap: every record in [win_from, win_progress) must be
  stored, and win_from <= win_progress <= win_to;
- an NDJSON output's committed state (outputs.last_rowid, output_files.size)
  names whole lines: the first `size` bytes of each file are complete, valid
  JSON lines holding exactly the store's rows up to last_rowid, once each.
"""

import json
import os
import sqlite3

import mwtest
from mwtest import NEWEST_FIRST, REC_KEY_SQL, TYPES, TIME_FIELD, check, eq


def truth_times(sim, types=TYPES):
    """{type: {messageId: epoch seconds}} of the tenant's records now."""
    out = {}
    for t in types:
        recs = sim.truth(t)
        out[t] = {mwtest.rec_key(r): mwtest.mc_time(r[TIME_FIELD[t]]) for r in recs}
    return out


def _connect(sim):
    db = os.path.join(sim.state_dir, "store.db")
    check(os.path.exists(db), "no store at %s" % db)
    return sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)


def check_horizons(sim, truth, name="sim", prev=None, where=""):
    """Asserts the horizon and window invariants of every type against the
    ground truth; returns {type: horizon}. prev (a former return value)
    also asserts no horizon went backwards."""
    con = _connect(sim)
    horizons = {}
    try:
        for t in truth:
            row = con.execute("SELECT id FROM sources WHERE integration=? AND type=?",
                              (name, t)).fetchone()
            if row is None:
                horizons[t] = 0
                continue
            src = row[0]
            cur = con.execute("SELECT horizon,in_window,win_from,win_to,win_progress "
                              "FROM cursors WHERE source=?", (src,)).fetchone()
            stored = {}
            n = 0
            for mid, tm in con.execute("SELECT %s,time FROM records WHERE source=?"
                                       % (REC_KEY_SQL % ("json", "json")), (src,)):
                stored[mid] = tm
                n += 1
            eq(len(stored), n, "%s%s/%s: distinct messageIds in the store" % (where, name, t))
            extra = set(stored) - set(truth[t])
            check(not extra, "%s%s/%s: %d stored records the tenant never had, e.g. %r"
                  % (where, name, t, len(extra), sorted(extra)[:2]))
            for mid, tm in stored.items():
                if truth[t][mid] != tm:
                    raise mwtest.CheckFailed("%s%s/%s: %s stored with time %d, the tenant "
                                             "says %d" % (where, name, t, mid, tm,
                                                          truth[t][mid]))
            if cur is None:
                horizons[t] = 0
                continue
            h, in_win, wf, wt, wp = cur
            horizons[t] = h
            missing = sorted(m for m, tm in truth[t].items() if tm < h and m not in stored)
            check(not missing, "%s%s/%s: horizon %d is ahead of the stored data: %d records "
                  "older than it are not in the store, e.g. %r"
                  % (where, name, t, h, len(missing), missing[:2]))
            # Newest first, progress is the newest record received and the
            # window's older part is read last: only the horizon promises.
            if in_win and t not in NEWEST_FIRST:
                check(wf <= wp <= wt, "%s%s/%s: window [%d, %d] with progress %d outside it"
                      % (where, name, t, wf, wt, wp))
                gap = sorted(m for m, tm in truth[t].items()
                             if wf <= tm < wp and m not in stored)
                check(not gap, "%s%s/%s: window progress %d is ahead of the stored data: "
                      "%d records in [%d, %d) missing, e.g. %r"
                      % (where, name, t, wp, len(gap), wf, wp, gap[:2]))
            if prev is not None:
                check(h >= prev.get(t, 0), "%s%s/%s: horizon went back from %d to %d"
                      % (where, name, t, prev.get(t, 0), h))
    finally:
        con.close()
    return horizons


def check_ndjson_committed(sim, output="ndjson", where=""):
    """The committed prefix of every NDJSON file is whole valid lines, each
    stored row up to last_rowid exactly once. Returns the committed line
    count. (A tail past the committed size is allowed here: the next start
    cuts it off.)"""
    con = _connect(sim)
    try:
        row = con.execute("SELECT last_rowid FROM outputs WHERE name=?", (output,)).fetchone()
        last = row[0] if row else 0
        files = con.execute("SELECT path,size FROM output_files WHERE output=?",
                            (output,)).fetchall()
        want = {}
        for integ, typ, rid in con.execute(
                "SELECT s.integration,s.type,r.id FROM records r JOIN sources s "
                "ON s.id=r.source WHERE r.rowid<=?", (last,)):
            want.setdefault((integ, typ), set()).add(rid)
    finally:
        con.close()
    got = {}
    for path, size in files:
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        check(len(data) >= size, "%s%s is %d bytes, shorter than its committed %d"
              % (where, path, len(data), size))
        data = data[:size]
        check(not data or data.endswith(b"\n"),
              "%s%s: the committed %d bytes end inside a line: %r"
              % (where, path, size, data[-80:]))
        for i, raw in enumerate(data.split(b"\n")[:-1], 1):
            try:
                obj = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as ex:
                raise mwtest.CheckFailed("%s%s line %d (committed) is not valid JSON (%s): %r"
                                         % (where, path, i, ex, raw[:160]))
            key = (obj["integration"], obj["type"])
            ids = got.setdefault(key, [])
            ids.append(obj["id"])
    total = 0
    for key in set(want) | set(got):
        ids = got.get(key, [])
        dup = len(ids) - len(set(ids))
        eq(dup, 0, "%s%s/%s: duplicated lines in the committed NDJSON" % ((where,) + key))
        eq(set(ids), want.get(key, set()), "%s%s/%s: committed NDJSON ids vs store rows <= "
           "last_rowid %d" % ((where,) + key + (last,)))
        total += len(ids)
    return total


def count_lost_dup(sim, truth, name="sim"):
    """(lost, duplicated, invalid lines, lines) over every type, in the
    NDJSON and in the store: counted, not asserted, so a test can report()
    them before failing. A torn last line counts as invalid."""
    lost = dup = invalid = lines = 0
    con = _connect(sim)
    try:
        for t in truth:
            ids = []
            for path in sim.ndjson_files(name, t):
                with open(path, "rb") as f:
                    data = f.read()
                parts = data.split(b"\n")
                if parts[-1] == b"":
                    parts.pop()
                for raw in parts:
                    lines += 1
                    try:
                        ids.append(mwtest.rec_key(json.loads(raw.decode("utf-8"))["record"]))
                    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
                        invalid += 1
            dup += len(ids) - len(set(ids))
            lost += len(set(truth[t]) - set(ids))
            rows = [r[0] for r in con.execute(
                "SELECT %s FROM records r JOIN sources s ON s.id=r.source WHERE "
                "s.integration=? AND s.type=?" % (REC_KEY_SQL % ("r.json", "r.json")),
                (name, t))]
            dup += len(rows) - len(set(rows))
            lost += len(set(truth[t]) - set(rows))
    finally:
        con.close()
    return lost, dup, invalid, lines
