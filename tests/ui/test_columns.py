#!/usr/bin/env python3
"""test_columns - the preview's columns (issue 14.18), driven through script
mode against mimewatch-sim (stdlib only): s sorts by the next column shown
and S reverses it, with the rows checked one by one against the records the
NDJSON output holds (text case-insensitively, numbers by value, equal values
newer first), together with the filter and threats only; the sorted column's
heading carries its direction (ASCII under LANG=C); following is paused while
sorted and Space goes back to the time order; columns chosen, moved and
widened in the chooser (C) and < > are remembered per log type in
state_dir/console.json (0600, written by rename, never through a symlink)
across a console restart; a damaged file is ignored with a message naming
it, and the next change writes it again.

Binaries: $MIMEWATCH and $MIMEWATCH_SIM, as for tests/integration.
"""

import json
import os
import stat
import time

import mwtest
import uitest
from mwtest import check, eq

COLS, ROWS = 100, 30
STATE, HEADINGS, FIRST_ROW = 2, 3, 4
DATA_ROWS = ROWS - 3 - 4
UP, DOWN = "\u25b2", "\u25bc"


def fetched_sim(records=60):
    return uitest.fetched_sim(records=records, hostile_every=0)


def console(sim, lines, size=(COLS, ROWS), env=None):
    """The console in script mode on sim's config: its dumps by name."""
    r = uitest.run_script(lines + ["quit"], args=["--config", sim.config],
                          size=size, env=env)
    eq(r.rc, 0, "console exit status\n%s" % r)
    check("script line" not in r.err, "the script failed:\n%s" % r)
    return r.dumps


def rows_of(screen):
    return [l for l in screen[FIRST_ROW:FIRST_ROW + DATA_ROWS]
            if l.strip() and not l.startswith(" No record")]


def show_time(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(mwtest.mc_time(t)))


def sort_key(v):
    """store/sort.c's order: missing or empty first, then JSON numbers by
    value, then text case-insensitively by its first 47 bytes."""
    if v is None or v == "":
        return (0, 0, "", "")
    if isinstance(v, bool):
        v = "true" if v else "false"
    if isinstance(v, (int, float)):
        return (1, v, "", "")
    b = v.encode("utf-8")[:47]
    return (2, 0, b.lower(), b)


def expected(lines, field, desc, keep=lambda rec: True):
    """The NDJSON lines (in rowid order) that keep accepts, sorted as the
    preview sorts them: by field, equal values newer first."""
    idx = [i for i, l in enumerate(lines) if keep(l["record"])]
    if desc:
        idx.sort(key=lambda i: (sort_key(lines[i]["record"].get(field)), i), reverse=True)
    else:
        # ascending by value, and equal values newer (larger rowid) first
        idx.sort(key=lambda i: (sort_key(lines[i]["record"].get(field)), -i))
    return [lines[i] for i in idx]


def check_rows(screen, want, what, cell=None):
    """The rows shown are want's first rows, in order: each row's time, and
    (cell: (start column, width, field)) the start of that column's value."""
    rows = rows_of(screen)
    eq(len(rows), min(len(want), DATA_ROWS), "%s: rows shown" % what)
    for i, row in enumerate(rows):
        rec = want[i]
        check(row.startswith(" " + show_time(rec["time"]) + " "),
              "%s: row %d is %r; expected the record of %s (%r)"
              % (what, i, row, rec["time"], cell and rec["record"].get(cell[2])))
        if cell:
            x, w, field = cell
            v = rec["record"].get(field)
            v = "" if v is None else (json.dumps(v) if not isinstance(v, str) else v)
            shown = row[x:x + w].rstrip()
            cut = shown.endswith("\u2026")
            shown = shown.rstrip("\u2026")
            check(v.startswith(shown) and (v == shown.rstrip() or (cut and len(shown) >= w - 3)),
                  "%s: row %d shows %r in %s, expected %r" % (what, i, shown, field, v))


def test_sort_by_values():
    with fetched_sim() as sim:
        url = sim.ndjson("sim", "url")
        imp = sim.ndjson("sim", "impersonation")
        d = console(sim, ["wait-idle", "key Enter", "wait-idle", "key s", "wait-idle",
                          "dump user", "key S", "wait-idle", "dump user-desc",
                          "key /", "type payroll", "key Enter", "wait-idle", "dump filtered",
                          "key m", "wait-idle", "dump threats",
                          "key Esc", "key s", "key s", "key s", "key s", "key s",
                          "wait-idle", "dump time", "key S", "wait-idle", "dump time-asc",
                          "key 2", "key s", "key s", "key s", "key s", "wait-idle",
                          "dump hits", "key S", "wait-idle", "dump hits-desc",
                          "key Space", "wait-idle", "dump follow"])
        # URL: the User column starts at 22 and is 22 wide at 100 columns.
        user = (22, 22, "userEmailAddress")
        eq(d["user"][STATE].strip(), "%d records \u00b7 sorted by User %s \u00b7 paused, 0 new"
           % (len(url), UP), "state, sorted")
        check(d["user"][HEADINGS].startswith(" Time (UTC)           User %s " % UP),
              "headings %r" % d["user"][HEADINGS])
        check_rows(d["user"], expected(url, "userEmailAddress", 0), "by User", user)
        check(("User %s" % DOWN) in d["user-desc"][HEADINGS], "the direction's mark")
        check_rows(d["user-desc"], expected(url, "userEmailAddress", 1), "by User, reversed",
                   user)
        # The filter and threats only keep working under a sort.
        def payroll(r):
            return uitest.text_matches(r, "payroll")
        check("filter \"payroll\"" in d["filtered"][STATE], "state %r" % d["filtered"][STATE])
        check_rows(d["filtered"], expected(url, "userEmailAddress", 1, payroll),
                   "by User, reversed, filtered", user)
        # (none is a threat: the message says so, whole)
        check(" No record matches the filter; Esc clears it." in d["threats"], "the message")
        check_rows(d["threats"], expected(url, "userEmailAddress", 1,
                                          lambda r: payroll(r) and
                                          r.get("scanResult") == "malicious"),
                   "by User, reversed, filtered, threats only", user)
        # s went round the columns back to the time: the store's own order,
        # following again.
        eq(d["time"][STATE].strip(), "%d records \u00b7 following" % len(url), "state")
        check_rows(d["time"], list(reversed(url)), "the time, newest first")
        check(d["time-asc"][HEADINGS].startswith(" Time (UTC) %s" % UP), "time ascending")
        check_rows(d["time-asc"], sorted(url, key=lambda l: mwtest.mc_time(l["time"])),
                   "the time, oldest first")
        # Impersonation: Hits is the fourth column after the time; numbers by value.
        hits = d["hits"][HEADINGS].index(" Action ") - 4
        # Hits is 4 wide: its heading is cut for the mark.
        check(d["hits"][HEADINGS][hits:].startswith("H\u2026 %s " % UP), "hits heading %r"
              % d["hits"][HEADINGS])
        check_rows(d["hits"], expected(imp, "hits", 0), "by Hits", (hits, 4, "hits"))
        check_rows(d["hits-desc"], expected(imp, "hits", 1), "by Hits, reversed",
                   (hits, 4, "hits"))
        # Space follows again, in the time order.
        check(d["follow"][STATE].endswith("following"), "Space: %r" % d["follow"][STATE])
        check(d["follow"][HEADINGS].startswith(" Time (UTC) %s" % DOWN), "Space: headings")


def test_ascii_marks():
    """LANG=C: the direction's mark is v or ^, the separator a dash."""
    with fetched_sim(records=20) as sim:
        d = console(sim, ["wait-idle", "key Enter", "wait-idle", "dump time", "key s",
                          "wait-idle", "dump user"], env={"LANG": "C", "LC_ALL": "C"})
        check(d["time"][HEADINGS].startswith(" Time (UTC) v "), "%r" % d["time"][HEADINGS])
        check(" User ^ " in d["user"][HEADINGS], "%r" % d["user"][HEADINGS])
        check("sorted by User ^ - paused, 0 new" in d["user"][STATE], "%r" % d["user"][STATE])


def state_file(sim):
    return os.path.join(sim.state_dir, "console.json")


def test_choices_persist():
    """Sort, widths and shown columns survive a restart, per log type."""
    with fetched_sim(records=30) as sim:
        first = console(sim, ["wait-idle", "key Enter", "wait-idle", "key s", "key >",
                              "key >", "key C", "key Down", "key Down", "key Space",
                              "key Down", "key K", "dump chooser", "key Esc", "wait-idle",
                              "dump url", "key 3", "key s", "key s", "wait-idle",
                              "dump attachment"])
        ch = first["chooser"]
        check(ch[0].startswith(" mimewatch \u2014 columns \u00b7 URL Protect "), ch[0])
        check(any("[ ]   URL" in l for l in ch), "URL hidden in the chooser:\n%s"
              % "\n".join(ch))
        st = os.lstat(state_file(sim))
        check(stat.S_ISREG(st.st_mode), "console.json is a file")
        eq(stat.S_IMODE(st.st_mode), 0o600, "console.json's mode")
        with open(state_file(sim)) as f:
            saved = json.load(f)
        u = saved["columns"]["url"]
        eq(u["sort"], "userEmailAddress", "url's sort")
        eq(u["descending"], False, "url's direction")
        eq(u["hidden"], ["url"], "url's hidden columns")
        eq(u["order"][:4], ["date", "userEmailAddress", "action", "url"], "url's order")
        check(u["widths"].get("userEmailAddress", 0) > 0, "the widened column: %r" % u)
        eq(saved["columns"]["attachment"]["sort"], "recipientAddress", "attachment's sort")
        eq(saved["columns"]["impersonation"]["sort"], "eventTime", "impersonation: untouched")
        check("URL" not in first["url"][HEADINGS].split(), "URL hidden: %r"
              % first["url"][HEADINGS])
        # A new console shows the same screens.
        again = console(sim, ["wait-idle", "key Enter", "wait-idle", "dump url", "key 3",
                              "wait-idle", "dump attachment"])
        for n in ("url", "attachment"):
            eq(again[n][1:-2], first[n][1:-2], "%s after a restart" % n)
        eq(os.listdir(sim.state_dir).count("console.json"), 1, "one file")
        check(not [f for f in os.listdir(sim.state_dir) if ".tmp." in f], "no temp file left")


def test_damaged_state_file():
    with fetched_sim(records=20) as sim:
        path = state_file(sim)
        for text, why in (("{\"columns\": {\"url\": ", "not valid JSON"),
                          ("[1, 2]", "not a JSON object"),
                          ("{\"columns\":{\"url\":{\"widths\":{\"url\":\"wide\"}}}}",
                           "columns.url.widths.url is not a width from 4 to 400"),
                          ("{\"columns\":{\"impersonation\":{\"order\":\"date\"}}}",
                           "columns.impersonation.order is not a list")):
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o600)
            d = console(sim, ["wait-idle", "key Enter", "wait-idle", "dump preview"],
                        size=(200, 30))
            msg = "ignored %s: %s" % (path, why)
            check(any(msg in l and "the columns are the defaults" in l for l in d["preview"]),
                  "no %r in:\n%s" % (msg, "\n".join(d["preview"])))
            check(d["preview"][HEADINGS].startswith(" Time (UTC) %s" % DOWN),
                  "defaults: %r" % d["preview"][HEADINGS])
            eq(len(rows_of(d["preview"])), 20, "rows despite the damaged file")
        # The next change writes the file again, whole.
        console(sim, ["wait-idle", "key Enter", "wait-idle", "key s", "wait-idle"])
        with open(path) as f:
            eq(json.load(f)["columns"]["url"]["sort"], "userEmailAddress", "rewritten")


def test_never_through_a_symlink():
    with fetched_sim(records=10) as sim:
        target = os.path.join(sim.dir, "elsewhere.json")
        with open(target, "w") as f:
            f.write("precious\n")
        os.symlink(target, state_file(sim))
        console(sim, ["wait-idle", "key Enter", "wait-idle", "key s", "wait-idle"])
        with open(target) as f:
            eq(f.read(), "precious\n", "the symlink's target")
        st = os.lstat(state_file(sim))
        check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
              "console.json replaced by a 0600 file")


if __name__ == "__main__":
    mwtest.main([test_sort_by_values, test_ascii_marks, test_choices_persist,
                 test_damaged_state_file, test_never_through_a_symlink])
