#!/usr/bin/env python3
"""Issue 4 item 11b: the terminal-injection corpus (mimewatch-sim
--hostile-corpus: CSI, OSC title/8/52, DCS, APC, PM, SOS, raw 0x9B and
U+009B, CR BS TAB VT FF DEL NUL, bidi, zero-width, 10,000 combining marks,
invalid and overlong UTF-8, lone surrogate escapes, wide CJK, emoji) in every
string field of every type, through fetch into the NDJSON output, the store
and the preview's export (`x`).

Every line must be strict UTF-8 JSON that is safe to `cat`: no raw byte
below 0x20 but the newline, no DEL, no C1 (raw or as UTF-8), every control
written \\u00xx in lower-case hex, no other escape than \\" and \\\\, no lone
surrogate; invalid UTF-8 becomes U+FFFD. Apart from that encoding each
`record` is the tenant's record unchanged: same keys in the same order,
same values (compared with /_sim/records). An impersonation id holding
U+0000 cannot be stored as it is (the store keys on C strings; a cut would
merge distinct records): that record is set aside, counted and kept,
safe-encoded, in the reject file."""

import json
import os
import re
import sqlite3

import mwtest
from mwtest import TYPES, TIME_FIELD, Sim, check, eq

# The corpus has 13 entries; a record's field f carries entry j + f, so 13
# consecutive hostile records put every entry into every field.
NCORPUS = 13
EVERY = mwtest.scaled(1, 2)
RECORDS = mwtest.scaled(NCORPUS, 200 * NCORPUS)
MARKERS = ("PWNED-CSI", "PWNED-TITLE", "PWNED-LINK", "PWNED-OSC52", "PWNED-DCS", "PWNED-APC",
           "PWNED-PM", "PWNED-SOS", "PWNED-RAW9B", "PWNED-C29B", "PWNED-C1OSC", "PWNED-CR",
           "PWNED-BIDI", "PWNED-UTF8", "PWNED-SURR", "PWNED-WIDE", "PWNED-MARKS", "PWNED-CJK",
           "PWNED-KEY")
SURROGATE = re.compile("[\ud800-\udfff]")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Escapes the safe encoding may use (jsonout.h): \" \\ and \u00xx for C0,
# DEL and C1, lower-case.
ALLOWED_U = re.compile(r"00(?:[01][0-9a-f]|7f|[89][0-9a-f])")


def pairs(items):
    """object_pairs_hook keeping key order and duplicate keys."""
    return ("{}", [(k, v) for k, v in items])


def fix_surrogates(v):
    """What the product must make of lone surrogate escapes: U+FFFD."""
    if isinstance(v, str):
        return SURROGATE.sub("\ufffd", v)
    if isinstance(v, tuple):
        return ("{}", [(fix_surrogates(k), fix_surrogates(x)) for k, x in v[1]])
    if isinstance(v, list):
        return [fix_surrogates(x) for x in v]
    return v


def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, tuple):
        for k, x in v[1]:
            yield k
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)


def get(obj, key):
    for k, v in obj[1]:
        if k == key:
            return v
    raise mwtest.CheckFailed("no %r in %r" % (key, [k for k, _ in obj[1]]))


_truth = {}


def truth(sim, t):
    """The tenant's records of type t as the product must write them:
    invalid UTF-8 as U+FFFD (maximal subparts, as Python's 'replace'
    decoder does), lone surrogates as U+FFFD."""
    if (sim.dir, t) in _truth:
        return _truth[(sim.dir, t)]
    st, body = sim.http("GET", "/_sim/records?type=" + t)
    eq(st, 200, "GET /_sim/records?type=%s" % t)
    out = []
    for line in body.split(b"\n"):
        if line.strip():
            out.append(fix_surrogates(json.loads(line.decode("utf-8", "replace"),
                                                 object_pairs_hook=pairs)))
    _truth[(sim.dir, t)] = out
    return out


def check_safe_bytes(what, raw):
    """raw: one line without its newline. Returns the parsed line."""
    bad = sorted({b for b in raw if b < 0x20 or b == 0x7F})
    check(not bad, "%s: raw control bytes %r in %r" % (what, bad, raw[:200]))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as ex:
        raise mwtest.CheckFailed("%s: not strict UTF-8 (%s): %r" % (what, ex, raw[:200]))
    m = re.search("[\x80-\x9f]", text)
    check(not m, "%s: raw C1 character U+%04X" % (what, ord(m.group()) if m else 0))
    i = 0
    while True:
        i = text.find("\\", i)
        if i < 0:
            break
        nxt = text[i + 1:i + 2]
        if nxt in ('"', "\\"):
            i += 2
            continue
        check(nxt == "u" and ALLOWED_U.fullmatch(text[i + 2:i + 6] or ""),
              "%s: escape %r at %d is not \\\" \\\\ or a lower-case \\u00xx control: %r"
              % (what, text[i:i + 6], i, text[max(0, i - 40):i + 40]))
        i += 6
    try:
        line = json.loads(text, object_pairs_hook=pairs)
    except ValueError as ex:
        raise mwtest.CheckFailed("%s: not valid JSON (%s): %r" % (what, ex, raw[:200]))
    for s in strings(line):
        check(not SURROGATE.search(s), "%s: a lone surrogate in %r" % (what, s[:80]))
    return text, line


def mid_key(record):
    """The messageId's plain prefix names the tenant's record."""
    mid = get(record, "messageId")
    m = re.match(r"<sim-[a-z]+-\d+@\d+\.sim\.example>", mid)
    check(m, "messageId %r has no <sim-TYPE-N@SEED.sim.example> prefix" % mid[:80])
    return m.group()


def check_lines(what, t, raws, want):
    """Checks every line of a type against the tenant's records; returns
    {messageId: raw record JSON}."""
    by_mid = {mid_key(r): r for r in want}
    seen = {}
    for n, raw in enumerate(raws, 1):
        w = "%s %s line %d" % (what, t, n)
        text, line = check_safe_bytes(w, raw)
        eq([k for k, _ in line[1]], ["integration", "type", "id", "time", "record"], w + " keys")
        rec = get(line, "record")
        key = mid_key(rec)
        check(key not in seen, "%s: %s twice" % (w, key))
        check(key in by_mid, "%s: %s is not a tenant record" % (w, key))
        exp = by_mid[key]
        if rec != exp:
            diff = [k for (k, v), (k2, v2) in zip(rec[1], exp[1]) if k != k2 or v != v2]
            raise mwtest.CheckFailed("%s: record differs from the tenant's in %r: got %r, "
                                     "expected %r" % (w, diff or "keys", rec[1][:3], exp[1][:3]))
        eq(mwtest.mc_time(get(line, "time")), mwtest.mc_time(get(rec, TIME_FIELD[t])),
           w + " time")
        if t == "impersonation":
            eq(get(line, "id"), get(rec, "id"), w + " id vs the record's id")
        seen[key] = text[text.index(',"record":') + 10:-1]
    eq(sorted(seen), sorted(by_mid), "%s %s: records (none lost, none extra)" % (what, t))
    return seen


def nul_id(t, rec):
    return t == "impersonation" and "\x00" in get(rec, "id")


def kept(t, want):
    """The tenant's records the product must store (not set aside)."""
    return [r for r in want if not nul_id(t, r)]


def check_rejects(sim, rep):
    """Exactly the records with a NUL in their id are set aside, counted and
    kept in the (safe) reject file; returns how many."""
    want = [r for r in truth(sim, "impersonation") if nul_id("impersonation", r)]
    check(want, "the corpus put no U+0000 into an impersonation id")
    for t in TYPES:
        eq(rep[("sim", t)]["rej"], len(want) if t == "impersonation" else 0,
           "sim/%s records set aside" % t)
    path = os.path.join(sim.state_dir, "rejects", "sim-impersonation.ndjson")
    with open(path, "rb") as f:
        data = f.read()
    check(data.endswith(b"\n"), "%s does not end in a newline" % path)
    got = {}
    for n, raw in enumerate(data[:-1].split(b"\n"), 1):
        _, line = check_safe_bytes("reject line %d" % n, raw)
        eq(get(line, "reason"), "record id contains U+0000", "reject line %d reason" % n)
        rec = get(line, "record")
        got[mid_key(rec)] = rec
    eq(sorted(got), sorted(mid_key(r) for r in want), "records in the reject file")
    for r in want:
        eq(got[mid_key(r)], r, "the reject file's record")
    eq(sim.type_status()["impersonation"].get("rejected"), len(want),
       "status --json impersonation rejected")
    return len(want)


def corpus_sim():
    return Sim(["--records", str(RECORDS), "--hostile-every", str(EVERY), "--hostile-corpus",
                "--span", "6h"])


def test_corpus_in_every_field():
    """The corpus reaches every string field: each marker in each field."""
    with corpus_sim() as sim:
        for t in TYPES:
            want = truth(sim, t)
            eq(len(want), RECORDS, "tenant %s records" % t)
            fields = {}
            for r in want[EVERY - 1::EVERY]:
                for k, v in r[1]:
                    for s in strings(v):
                        for m in MARKERS:
                            if m in s:
                                fields.setdefault(k, set()).add(m)
            # every top-level string field but the time field carries
            # (nested) corpus text, and the plain fields every marker
            plain = [k for k, v in want[EVERY - 1][1] if isinstance(v, str) and
                     k != TIME_FIELD[t]]
            check(len(plain) >= 8, "%s: only %d string fields" % (t, len(plain)))
            for k in plain:
                missing = set(MARKERS) - {"PWNED-KEY"} - fields.get(k, set())
                if k == "id":   # the long entries stay out of the id (4 KiB limit)
                    missing -= {"PWNED-MARKS", "PWNED-CJK"}
                check(not missing, "%s field %r never carries %s" % (t, k, sorted(missing)))
            check(any(k.startswith("PWNED-KEY") for k, _ in want[EVERY - 1][1]),
                  "%s: no hostile key" % t)


def test_ndjson_and_store():
    """fetch: every NDJSON line safe and equal to the tenant's record; the
    store holds the same bytes."""
    with corpus_sim() as sim:
        r = sim.fetch()
        rep = r.report()
        nrej = check_rejects(sim, rep)
        for t in TYPES:
            eq((rep[("sim", t)]["new"], rep[("sim", t)]["failed"]),
               (len(kept(t, truth(sim, t))), False), "sim/%s (new, failed)\n%s" % (t, r))
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(sim.state_dir, "store.db"),
                              uri=True)
        hostile = 0
        try:
            for t in TYPES:
                want = kept(t, truth(sim, t))
                raws = sim.ndjson_raw("sim", t)
                eq(len(raws), len(want), "%s NDJSON lines" % t)
                got = check_lines("NDJSON", t, raws, want)
                hostile += sum(1 for v in got.values() if "PWNED" in v)
                rows = con.execute("SELECT r.json FROM records r JOIN sources s ON "
                                   "r.source = s.id WHERE s.type = ?", (t,)).fetchall()
                stored = sorted(bytes(j, "utf-8") if isinstance(j, str) else j
                                for j, in rows)
                eq(stored, sorted(v.encode("utf-8") for v in got.values()),
                   "%s: the store's record JSON vs the NDJSON's" % t)
        finally:
            con.close()
        eq(hostile, 3 * (RECORDS // EVERY) - nrej, "hostile records in the NDJSON")
        mwtest.report("11 hostile text", "records set aside (U+0000 in the id)", nrej,
                      "counted, kept in the reject file")
        mwtest.report("11 hostile text", "ndjson hostile records checked", hostile,
                      "every line strict UTF-8 JSON, controls \\u00xx, equal to the tenant's")


def test_preview_export():
    """The preview's export (`x`) writes the same safe lines."""
    import uitest
    with corpus_sim() as sim:
        sim.fetch()
        exp_dir = os.path.join(sim.dir, "export")
        os.mkdir(exp_dir, 0o700)
        script = ["wait-idle", "key Enter", "wait-idle"]
        paths = {}
        for k, t in enumerate(TYPES, 1):
            paths[t] = os.path.join(exp_dir, "%s.ndjson" % t)
            script += ["key %d" % k, "wait-idle", "key x", "key C-e", "key C-u",
                       "type " + paths[t], "key Enter", "wait-idle", "dump " + t]
        script += ["quit"]
        run = uitest.run_script(script, args=["--config", sim.config], size=(120, 40))
        eq(run.rc, 0, "console exit\n%s" % run)
        for t in TYPES:
            check(os.path.exists(paths[t]), "no export %s; screen:\n%s"
                  % (paths[t], run.screen(t) if t in run.dumps else "(none)"))
            eq(os.stat(paths[t]).st_mode & 0o777, 0o600, "mode of the export")
            with open(paths[t], "rb") as f:
                data = f.read()
            check(data.endswith(b"\n"), "the %s export does not end in a newline" % t)
            raws = data[:-1].split(b"\n")
            want = kept(t, truth(sim, t))
            eq(len(raws), len(want), "%s export lines" % t)
            check_lines("export", t, raws, want)
            with open(sim.ndjson_files("sim", t)[0], "rb") as f:
                eq(sorted(raws), sorted(f.read()[:-1].split(b"\n")),
                   "%s: the export's lines vs the NDJSON output's" % t)


if __name__ == "__main__":
    mwtest.main([test_corpus_in_every_field, test_ndjson_and_store, test_preview_export])
