#!/usr/bin/env python3
"""test_preview - the console's log preview, record detail and export, driven
through script mode against mimewatch-sim (stdlib only).

Each test fetches from a simulated tenant with hostile records (every fifth),
then runs the real console with --script and compares the dumped screens with
what the NDJSON output says the store holds: the newest record on top, the
columns of each type, exact counts for a text filter and for threats only,
every key of a record in its detail, hostile strings escaped and no raw
control character on screen, an export whose lines equal the NDJSON lines of
the same records, a store of a million records opened and paged at once,
g and G at the top and bottom of every list (issue 14.21), the preview of
a type whose collection fails showing its error and remedy (issue 14.7),
moving the selection pausing following, so the selected record stays
selected (issue 14.2), and T switching the list's and the detail's times to
local time and back, the time heading naming the zone (issue 14.8).

Binaries: $MIMEWATCH and $MIMEWATCH_SIM, as for tests/integration.
"""

import calendar
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time

import mwtest
import uitest
from mwtest import Skip, check, eq

COLS, ROWS = 100, 30
# Body layout of the preview (ui/view_logs.c): row 0 the header, 1 the type
# tabs, 2 the state line, 3 the column headings, rows from 4 on.
STATE, HEADINGS, FIRST_ROW = 2, 3, 4
DATA_ROWS = ROWS - 3 - 4

# The column headings at 100 columns, exactly as src/logtypes.c lists them.
# The time column names its zone: UTC until T (issue 14.8), and carries the
# sort's mark: the time, newest first (issue 14.18).
HEADING_LINES = {
    "url": " Time (UTC) \u25bc         User                  URL              Action   Scan result "
           "Category",
    "impersonation": " Time (UTC) \u25bc        Sender             Recipient           Subject          "
                     "Hits Action   Malicious",
    "attachment": " Time (UTC) \u25bc        Sender       Recipient    File name        File type     "
                  "Result    Action",
}
TABS = "  1 URL Protect   2 Impersonation Protect   3 Attachment Protect"
THREAT_RULE = {"url": ("scanResult", ("malicious",)),
               "impersonation": ("taggedMalicious", ("true",)),
               "attachment": ("result", ("malicious", "unsafe"))}
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                         "\u2060\u2066-\u2069\ufeff]")


def show_time(rfc3339, offset=0):
    """An NDJSON "time" as the preview shows it: 2024-11-17 17:02:30; offset
    seconds east of UTC for local time."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(mwtest.mc_time(rfc3339) + offset))


string_values, text_matches = uitest.string_values, uitest.text_matches


def is_threat(type_, record):
    field, values = THREAT_RULE[type_]
    v = record.get(field)
    if isinstance(v, bool):
        v = "true" if v else "false"
    return v in values


def escaped(s):
    """What the sanitiser (src/sanitize.h) shows for a string."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in "\t\r\n":
            out.append({"\t": "\\t", "\r": "\\r", "\n": "\\n"}[ch])
        elif o < 0x20 or 0x7F <= o < 0xA0:
            out.append("\\x%02x" % o)
        elif RAW_CONTROL.match(ch):
            out.append("<U+%04X>" % o)
        else:
            out.append(ch)
    return "".join(out)


def fmt_count(n):
    return "{:,}".format(n)


class Console:
    """Runs the console in script mode; dumps land in the sim's directory."""

    def __init__(self, sim):
        self.sim = sim
        self.n = 0

    def run(self, lines, size=(COLS, ROWS), timeout=90, env=None, cwd=None):
        self.n += 1
        base = os.path.join(self.sim.dir, "ui%d" % self.n)
        os.mkdir(base, 0o700)
        script = []
        dumps = []
        for line in lines:
            if line.startswith("dump "):
                name = line[5:]
                dumps.append(name)
                line = "dump " + os.path.join(base, name)
            script.append(line)
        path = os.path.join(base, "script")
        with open(path, "w") as f:
            f.write("\n".join(script + ["quit"]) + "\n")
        e = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color")
        e.pop("NO_COLOR", None)
        e.update(env or {})
        t0 = time.monotonic()
        self.started = time.time()
        r = self.sim.mw(["--script", path, "--size", "%dx%d" % size], timeout=timeout, env=e,
                        preexec=(lambda: os.chdir(cwd)) if cwd else None)
        self.wall = time.monotonic() - t0
        eq(r.rc, 0, "console exit status\n%s" % r)
        check("script line" not in r.err, "the script failed:\n%s" % r)
        out = {}
        for name in dumps:
            p = os.path.join(base, name)
            check(os.path.exists(p), "no dump %s\n%s" % (name, r))
            with open(p, "rb") as f:
                data = f.read()
            text = data.decode("utf-8")
            bad = RAW_CONTROL.search(text)
            check(not bad, "dump %s holds a raw control character: %r"
                  % (name, bad and bad.group(0)))
            out[name] = text.split("\n")
        return out


fetched_sim = uitest.fetched_sim   # hostile records, every fifth


def rows_of(screen):
    return [l for l in screen[FIRST_ROW:FIRST_ROW + DATA_ROWS] if l.strip()]


def test_preview_types_newest_first():
    with fetched_sim() as sim:
        lines = {t: sim.ndjson("sim", t) for t in mwtest.TYPES}
        d = Console(sim).run(["wait-idle", "key Enter", "wait-idle", "dump url",
                              "key Tab", "wait-idle", "dump imp", "key Tab", "wait-idle",
                              "dump att", "key Tab", "wait-idle", "dump url2", "key 3",
                              "dump three", "key 2", "dump two", "key 1", "dump one"])
        for name, t in (("url", "url"), ("imp", "impersonation"), ("att", "attachment"),
                        ("url2", "url"), ("three", "attachment"), ("two", "impersonation"),
                        ("one", "url")):
            s = d[name]
            label = {"url": "URL Protect", "impersonation": "Impersonation Protect",
                     "attachment": "Attachment Protect"}[t]
            check(s[0].startswith(" mimewatch \u2014 sim \u00b7 %s " % label),
                  "%s: header %r" % (name, s[0]))
            eq(s[1], TABS, "%s: the type tabs" % name)
            eq(s[STATE], " %d records \u00b7 following" % len(lines[t]), "%s: state" % name)
            eq(s[HEADINGS], HEADING_LINES[t], "%s: column headings" % name)
            rows = rows_of(s)
            eq(len(rows), DATA_ROWS, "%s: rows on screen" % name)
            # Newest first: the screen's rows are the last NDJSON lines, reversed.
            for i, row in enumerate(rows):
                want = lines[t][len(lines[t]) - 1 - i]
                check(row.startswith(" " + show_time(want["time"]) + " "),
                      "%s: row %d %r, expected the time of %r" % (name, i, row, want["time"]))
            times = [r[1:20] for r in rows]
            eq(times, sorted(times, reverse=True), "%s: rows newest first" % name)


def test_pruned_records_said():
    """keep_delivered: false deleted what the NDJSON output has: the state
    line says how many are stored and up to when delivered ones were
    deleted; the list, and m's, hold exactly what remains."""
    with mwtest.Sim(["--records", "3000"]) as sim:
        text = sim.read_config()
        with open(sim.config, "w") as f:
            f.write("keep_delivered: false\n" + text)
        sim.fetch()
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(sim.state_dir, "store.db"),
                              uri=True)
        kept = {i for (i,) in con.execute("SELECT r.id FROM records r JOIN sources s ON "
                                          "s.id = r.source WHERE s.type = 'url'")}
        con.close()
        lines = sim.ndjson("sim", "url")
        gone = [l for l in lines if l["id"] not in kept]
        check(0 < len(kept) < DATA_ROWS, "url records kept: %d" % len(kept))
        newest_gone = max(mwtest.mc_time(l["time"]) for l in gone)
        threats = [l for l in lines if l["id"] in kept and
                   l["record"].get("scanResult") == "malicious"]
        d = Console(sim).run(["wait-idle", "key Enter", "wait-idle", "dump url", "key m",
                              "wait-idle", "dump threats"], size=(160, ROWS))
        want = (" 3,000 records \u00b7 %d stored; delivered ones to %s deleted "
                "(keep_delivered: false) \u00b7 following"
                % (len(kept), time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(newest_gone))))
        eq(d["url"][STATE].rstrip(), want, "state line over pruned records")
        eq(len(rows_of(d["url"])), len(kept), "rows of the pruned preview")
        eq(len(rows_of(d["threats"])), len(threats), "threat rows of the pruned preview")


def test_scrolling_pages():
    with fetched_sim() as sim:
        lines = sim.ndjson("sim", "url")
        n = len(lines)
        page = DATA_ROWS - 1
        d = Console(sim).run(["wait-idle", "key Enter", "wait-idle", "dump start", "key PgDn",
                              "dump pgdn", "key End", "wait-idle", "dump end", "key PgUp",
                              "wait-idle", "dump pgup", "key Home", "wait-idle", "dump home"]
                             + ["key Down"] * 30 + ["dump down30"] + ["key Up"] * 10
                             + ["dump up10"] + ["key Up"] * 25 + ["dump up35", "key Space",
                                                                  "dump following"])

        def tops(screen):
            return [r[1:20] for r in rows_of(screen)]

        def want(newest_index):
            return [show_time(lines[i]["time"])
                    for i in range(newest_index, max(newest_index - DATA_ROWS, -1), -1)]

        eq(tops(d["start"]), want(n - 1), "the first page")
        eq(tops(d["pgdn"]), want(n - 1 - page), "one page down")
        eq(tops(d["end"]), want(DATA_ROWS - 1), "End: the oldest page")
        eq(tops(d["pgup"]), want(DATA_ROWS - 1 + page), "PgUp from the end")
        eq(tops(d["home"]), want(n - 1), "Home")
        eq(tops(d["down30"]), want(n - 1 - (30 - DATA_ROWS + 1)), "30 rows down")
        eq(tops(d["up10"]), want(n - 1 - (30 - DATA_ROWS + 1)), "10 up: the window stays")
        eq(tops(d["up35"]), want(n - 1), "back at the top")
        eq(d["start"][STATE], " %d records \u00b7 following" % n, "following at first")
        eq(d["pgdn"][STATE], " %d records \u00b7 paused, 0 new" % n, "scrolling pauses")
        eq(d["following"][STATE], " %d records \u00b7 following" % n, "Space follows again")


def test_g_and_G_top_and_bottom():
    """Issue 14.21: g and G go to the top and the bottom of every list, as
    Home and End do, and the help lists them."""
    with fetched_sim() as sim:
        lines = sim.ndjson("sim", "url")
        n = len(lines)
        d = Console(sim).run(["wait-idle", "key G", "dump home_G", "key g", "dump home_g",
                              "key Enter", "wait-idle", "key G", "wait-idle", "dump prev_G",
                              "key g", "wait-idle", "dump prev_g", "key Enter", "wait-idle",
                              "key G", "dump rec_G", "key g", "dump rec_g", "key Esc",
                              "key ?", "dump help", "key G", "dump help_G", "key End",
                              "dump help_End", "key g", "dump help_g"], size=(COLS, 20))

        def selected(screen):
            return [i for i, line in enumerate(screen) if line.startswith(">")]

        def last_row(screen):     # above the footer and the status line
            return max(i for i, line in enumerate(screen[:20 - 2]) if line.strip())

        eq(selected(d["home_G"]), [last_row(d["home_G"])], "G on home: the last row\n%s"
           % "\n".join(d["home_G"]))
        eq(selected(d["home_g"]), [2], "g on home: the first row")
        rows = 20 - 3 - 4

        def tops(screen):
            return [r[1:20] for r in rows_of(screen)][:rows]

        oldest = [show_time(lines[i]["time"]) for i in range(rows - 1, -1, -1)]
        newest = [show_time(lines[i]["time"]) for i in range(n - 1, n - 1 - rows, -1)]
        eq(tops(d["prev_G"]), oldest, "G in the preview: the oldest records")
        eq(tops(d["prev_g"]), newest, "g in the preview: the newest records")
        pos_G = re.search(r"lines (\d+)-(\d+) of (\d+)", d["rec_G"][1])
        pos_g = re.search(r"lines (\d+)-(\d+) of (\d+)", d["rec_g"][1])
        check(pos_G and pos_g, "the detail's position: %r %r" % (d["rec_G"][1], d["rec_g"][1]))
        eq(pos_G.group(2), pos_G.group(3), "G in the detail: its last line shown")
        check(int(pos_G.group(1)) > 1, "the detail scrolled (a record longer than the page)")
        eq(pos_g.group(1), "1", "g in the detail: its first line")
        eq(d["help_G"], d["help_End"], "G in the help is End")
        check(d["help_G"] != d["help"], "the help scrolled")
        eq(d["help_g"], d["help"], "g in the help: back to the top")
        for key, what in (("g", "top: the first line, as Home"),
                          ("G", "bottom: the last line, as End")):
            check(any(line.startswith("   %-8s %s" % (key, what)) for line in d["help"] +
                      d["help_G"]), "the help lists %s:\n%s" % (key, "\n".join(d["help_G"])))


def test_failing_type_shows_its_error():
    # Issue 14.7: the demo's globex-us cannot read impersonation logs (its
    # service user lacks the permission). Its preview said "No records yet;
    # they appear here as they are collected", which they never would be:
    # it must say why, and the fix, as home does under the type.
    # acme-eu and its types, acme-v2 and its types (siem too: batch files
    # are API 2.0's), globex-us, url
    downs = ["key Down"] * (2 * (1 + len(mwtest.ALL_TYPES)) + 1 + 2)
    r = uitest.run_script(["wait-idle", "dump home"] + downs + ["dump sel", "key Enter",
                          "wait-idle", "dump preview", "key q"], args=["--demo"])
    eq(r.rc, 0, "exit status (%s)" % r)
    sel = [l for l in r.dumps["sel"] if l.startswith(">")]
    check(len(sel) == 1 and sel[0].split()[1:3] == ["impersonation", "error"],
          "the cursor on globex-us impersonation: %r" % sel)
    s = r.dumps["preview"]
    check(s[0].startswith(" mimewatch \u2014 globex-us \u00b7 Impersonation Protect "),
          "header: %r" % s[0])
    body = s[FIRST_ROW:FIRST_ROW + 4]
    eq(body[0].rstrip(), " No Impersonation Protect records yet:", "first line: %r" % body)
    eq(body[1].strip(), "permission missing (HTTP 403 err_xdk_forbidden)", "error line")
    check("Monitoring | Impersonation Protection | Read" in body[2],
          "remedy line names the exact permission: %r" % body)
    check(not any("appear here as they are collected" in l for l in s),
          "the promise that records will come is gone: %r" % body)


def test_moving_pauses_following():
    # Issue 14.2: the demo's records keep arriving. Down moved the selection
    # while following went on, so the rows slid under it and Enter opened
    # another record than the one selected. Moving pauses following (as
    # less +F does): the page and the selected record stay until Space.
    r = uitest.run_script(["wait-idle", "key Enter", "wait-idle", "dump start", "key Down",
                           "key Down", "dump moved", "sleep 12500", "wait-idle", "dump later",
                           "key Enter", "wait-idle", "dump detail", "key q", "key Space",
                           "wait-idle", "dump resumed"], args=["--demo"], size=(COLS, ROWS))
    eq(r.rc, 0, "exit status (%s)" % r)
    d = r.dumps
    eq(d["start"][STATE].split("\u00b7")[-1].strip(), "following", "following at first")
    eq(d["moved"][STATE].split("\u00b7")[-1].strip(), "paused, 0 new", "Down pauses")
    arrived = re.search(r"paused, (\d+) new", d["later"][STATE])
    check(arrived and int(arrived.group(1)) > 0,
          "records arrived while paused: %r" % d["later"][STATE])
    eq(rows_of(d["later"]), rows_of(d["moved"]), "the page stays as it was")
    picked = rows_of(d["moved"])[2][1:20]
    check(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", picked), "a time: %r" % picked)
    check(any(l.startswith("   time: " + picked) for l in d["detail"]),
          "Enter opened the selected record (%s):\n%s" % (picked, "\n".join(d["detail"])))
    eq(d["resumed"][STATE].split("\u00b7")[-1].strip(), "following", "Space follows again")
    check(rows_of(d["resumed"])[0] != rows_of(d["moved"])[0], "the newest rows came on top")


# Many host addresses (MIMEWATCH_HOST_ADDRS, the tests' seam) make the
# IP-not-allowed remedy long: six lines at 80 columns, cut after four before
# issue 14.5.
LONG_ADDRS = ", ".join(["192.0.2.%d" % i for i in range(10, 18)] +
                       ["2001:db8:%x::10" % i for i in range(0x100, 0x106)])
LONG_IP_REMEDY = ("allow this host's address (%s) in the Permitted IP Ranges of the service "
                  "user's authentication profile; Mimecast may see a NAT address instead"
                  % LONG_ADDRS)


def test_failing_type_long_remedy_wraps():
    with mwtest.Sim(["--records", "20", "--fault", "ipdeny:type=url,count=0"]) as sim:
        out = Console(sim).run(["wait-idle", "key Enter", "wait-idle", "dump preview"],
                               size=(80, 24), env={"MIMEWATCH_HOST_ADDRS": LONG_ADDRS})
        s = out["preview"]
        check(s[0].startswith(" mimewatch \u2014 sim \u00b7 URL Protect "), "header: %r" % s[0])
        body = s[FIRST_ROW:]
        eq(body[0], " No URL Protect records yet:", "first line")
        eq(body[1], "   IP not allowed (HTTP 401 err_xdk_ip_not_permitted)", "error line")
        rem = []
        for line in body[2:]:
            if line.startswith("     ") and line[5] != " ":
                rem.append(line)
            else:
                break
        eq(" ".join(l.strip() for l in rem), LONG_IP_REMEDY, "the remedy in full, wrapped")
        eq(rem[0], "     allow this host's address (192.0.2.10, 192.0.2.11, 192.0.2.12, "
           "192.0.2.13,", "wrapped at a space")
        eq(rem[-1], "     authentication profile; Mimecast may see a NAT address instead",
           "the remedy's last word on screen")
        check(all(len(l) <= 80 for l in s), "nothing past column 80")


def test_filter_and_threats_exact():
    with fetched_sim() as sim:
        imp = sim.ndjson("sim", "impersonation")
        url = sim.ndjson("sim", "url")
        needle = "q4 PLAN"
        want_text = [l for l in imp if text_matches(l["record"], needle)]
        want_both = [l for l in want_text if is_threat("impersonation", l["record"])]
        want_thr_imp = [l for l in imp if is_threat("impersonation", l["record"])]
        want_thr_url = [l for l in url if is_threat("url", l["record"])]
        check(0 < len(want_text) < DATA_ROWS, "the sim has %d records with %r"
              % (len(want_text), needle))
        check(0 < len(want_both) < len(want_text), "threats among them: %d" % len(want_both))
        # Keys are not searched: a key name matches nothing.
        console = Console(sim)
        d = console.run(["wait-idle", "key Enter", "key 2", "key /", "type " + needle,
                         "key Enter", "wait-idle", "dump text", "key m", "wait-idle",
                         "dump both", "key Esc", "wait-idle", "dump cleared", "key m",
                         "wait-idle", "dump threats", "key 1", "wait-idle",
                         "dump url_threats", "key m", "key /", "type senderAddress",
                         "key Enter", "wait-idle", "dump key_only", "key Esc",
                         "key Esc", "dump home"])
        dot = " \u00b7 "
        eq(d["text"][STATE], " %d records%sfilter \"%s\"%s%d matching%sfollowing"
           % (len(imp), dot, needle, dot, len(want_text), dot), "state with a text filter")
        rows = rows_of(d["text"])
        eq(len(rows), len(want_text), "rows shown for the text filter")
        for i, row in enumerate(rows):
            want = want_text[len(want_text) - 1 - i]
            check(row.startswith(" " + show_time(want["time"]) + " "),
                  "filtered row %d %r, expected %r" % (i, row, want["time"]))
            check("q4 planning" in row.lower(), "row without the filter text: %r" % row)
        eq(d["both"][STATE], " %d records%sfilter \"%s\"%sthreats only%s%d matching%sfollowing"
           % (len(imp), dot, needle, dot, dot, len(want_both), dot), "text and threats")
        eq(len(rows_of(d["both"])), len(want_both), "rows for text and threats")
        for row in rows_of(d["both"]):
            check(row.rstrip().endswith(" true"), "a row that is no threat: %r" % row)
        # Esc clears both filters and stays.
        eq(d["cleared"][STATE], " %d records%sfollowing" % (len(imp), dot), "Esc clears")
        eq(d["threats"][STATE], " %d records%sthreats only%s%d matching%sfollowing"
           % (len(imp), dot, dot, len(want_thr_imp), dot), "threats only")
        eq(d["url_threats"][STATE], " %d records%sthreats only%s%d matching%sfollowing"
           % (len(url), dot, dot, len(want_thr_url), dot), "threats only, url")
        for row in rows_of(d["url_threats"]):
            check(" malicious " in row, "url row that is no threat: %r" % row)
        eq(d["key_only"][STATE], " %d records%sfilter \"senderAddress\"%s0 matching%sfollowing"
           % (len(url), dot, dot, dot), "a key name matches no record")
        check(any("No record matches the filter" in l for l in d["key_only"]),
              "no empty-filter message:\n%s" % "\n".join(d["key_only"]))
        # Esc without a filter goes back to the integrations.
        check("integrations" in d["home"][0], "second Esc did not go back: %r" % d["home"][0])
        # Inside long values too (URLs run to hundreds of characters).
        needle = "LOGIN.SIM.example/"
        want_url = [l for l in url if text_matches(l["record"], needle)]
        check(len(want_url) > DATA_ROWS, "the sim has %d URLs with %r" % (len(want_url), needle))
        check(any(len(l["record"]["url"]) > 200 for l in want_url), "no long URL among them")
        d = console.run(["wait-idle", "key Enter", "key /", "type " + needle, "key Enter",
                         "wait-idle", "dump url_text"])
        eq(d["url_text"][STATE], " %d records%sfilter \"%s\"%s%d matching%sfollowing"
           % (len(url), dot, needle, dot, len(want_url), dot), "a filter on URLs")
        eq([r[1:20] for r in rows_of(d["url_text"])],
           [show_time(l["time"]) for l in want_url[::-1][:DATA_ROWS]], "rows of the URL filter")


def test_filter_terms_as_you_type():
    """Issue 14.17: the filter applies as it is typed (Esc in the prompt
    undoes it), a field:value term looks only in that field (sender: is the
    Sender column's senderAddress), terms are ANDed, and from: bounds the
    record's time; the counts are exact."""
    with fetched_sim() as sim:
        # Attachment records: every recipient is at sim.example, outbound
        # senders too, inbound ones elsewhere (src/sim/records.c).
        imp = sim.ndjson("sim", "attachment")
        domain = "sim.example"
        word = "clean"

        def sender_has(l):
            return domain in str(l["record"].get("senderAddress", "")).lower()

        want_sender = [l for l in imp if sender_has(l)]
        want_and = [l for l in want_sender if text_matches(l["record"], word)]
        # a domain seen elsewhere in a record but not in its sender
        elsewhere = [l for l in imp if text_matches(l["record"], domain) and not sender_has(l)]
        cut = imp[-5]["time"]
        want_from = [l for l in imp if mwtest.mc_time(l["time"]) >= mwtest.mc_time(cut)]
        check(want_sender and len(want_sender) < len(imp), "the sim's senders: %d of %d"
              % (len(want_sender), len(imp)))
        check(elsewhere, "records naming %s outside the sender: the field term must "
              "leave them out" % domain)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mwtest.mc_time(cut)))
        d = Console(sim).run(["wait-idle", "key Enter", "key 3", "wait-idle", "key /",
                              "type sender:" + domain, "sleep 800", "wait-idle", "dump typing",
                              "key Esc", "wait-idle", "dump undone", "key /",
                              "type sender:%s %s" % (domain, word), "key Enter", "wait-idle",
                              "dump and", "key Esc", "key /", "type from:" + stamp,
                              "key Enter", "wait-idle", "dump from"])
        dot = " \u00b7 "

        def state(text, n):
            return " %d records%sfilter \"%s\"%s%d matching%sfollowing" % (
                len(imp), dot, text, dot, n, dot)
        eq(d["typing"][STATE], state("sender:" + domain, len(want_sender)),
           "applied while the prompt is open (%d elsewhere only)" % len(elsewhere))
        check(any(l.startswith(" Filter: sender:" + domain) for l in d["typing"]),
              "the prompt is still open:\n%s" % "\n".join(d["typing"]))
        eq(d["undone"][STATE], " %d records%sfollowing" % (len(imp), dot), "Esc undoes it")
        eq(d["and"][STATE], state("sender:%s %s" % (domain, word), len(want_and)),
           "terms ANDed")
        eq(d["from"][STATE], state("from:" + stamp, len(want_from)), "from: the time")
        eq(len(rows_of(d["from"])), len(want_from), "the rows from then on")


def test_detail_every_key_and_hostile_escaped():
    with fetched_sim() as sim:
        console = Console(sim)
        for t, key, label in (("url", "1", "URL Protect"),
                              ("impersonation", "2", "Impersonation Protect")):
            lines = sim.ndjson("sim", t)
            # The newest hostile record: how far down the newest-first table.
            k = next(i for i in range(len(lines))
                     if mwtest.has_controls(lines[len(lines) - 1 - i]["record"]))
            target = lines[len(lines) - 1 - k]
            check(k < DATA_ROWS, "hostile record %d rows down" % k)
            d = console.run(["wait-idle", "key Enter", "key " + key, "wait-idle",
                             "dump table"] + ["key Down"] * k
                            + ["key Enter", "dump detail", "key q", "dump back"],
                            size=(250, 200))
            # The cursor's marker (">", issue 14.19) aside, every line as shown.
            detail = [" " + l[1:] if l.startswith(">") else l for l in d["detail"]]
            check(detail[0].startswith(" mimewatch \u2014 sim \u00b7 %s record" % label),
                  "detail header %r" % detail[0])
            text = "\n".join(detail)
            eq(detail[2].strip(), "Stored record", "detail title")
            check("   id: %s" % target["id"] in detail, "no id line for %s" % target["id"])
            check("   time: %s UTC" % show_time(target["time"]) in detail, "no time line")
            check(" Fields (%d)" % len(target["record"]) in detail,
                  "Fields heading does not count %d keys" % len(target["record"]))
            for name in target["record"]:
                check(re.search(r"(?m)^   %s:( |$)" % re.escape(name), text),
                      "%s detail lacks the key %r" % (t, name))
            # Escapes are shown, never interpreted; nothing is cut at a NUL.
            check("\\x1b" in text, "no \\x1b escape in the detail")
            check("<U+202E>" in text or "<U+200B>" in text, "no <U+...> escape in the detail")
            shown = 0
            for name, value in target["record"].items():
                if isinstance(value, str) and mwtest.has_controls(value) and len(value) < 120:
                    line = "   %s: %s" % (name, escaped(value))
                    check(line in detail, "no line %r in the %s detail" % (line, t))
                    shown += 1
            check(shown > 0, "the record has no short hostile value to look for")
            check("\\x1b" in "\n".join(d["table"]), "the table shows no escape")
            check(d["back"][STATE].startswith(" %d records" % len(lines)),
                  "q went back to the table")
        check("\\x00 end" in text, "the subject was cut at its NUL")


def cursor_lines(screen):
    """The detail's cursor line (ui/view_record.c marks it with ">")."""
    return [l for l in screen if l.startswith(">")]


def status_of(screen):
    return screen[ROWS - 1].strip()


def test_detail_search_and_cursor():
    """Issue 14.19: the detail's cursor starts on the record's first field
    and Up moves it; / searches the lines shown case-insensitively, jumps to
    the first match and says which of how many, n and N go round the
    matches; a search that finds nothing says so; Esc clears the search,
    then goes back."""
    with fetched_sim(records=40) as sim:
        lines = sim.ndjson("sim", "url")
        rec = lines[-2]["record"]         # the second newest: no hostile value
        check(not mwtest.has_controls(rec), "the second newest record is plain")
        hits = [k for k, v in rec.items() if isinstance(v, str) and
                "example" in (k + v).lower()]
        check(not any("example" in json.dumps(v).lower() for v in rec.values()
                      if not isinstance(v, str)), "only string values to find")
        check(len(hits) >= 2, "at least two fields to find: %r" % hits)
        first_key = next(iter(rec))
        d = Console(sim).run(["wait-idle", "key Enter", "wait-idle", "key Enter", "key J",
                              "dump open", "key Up", "dump up", "key Down", "key /",
                              "type EXAMPLE", "dump prompt", "key Enter", "dump m1", "key N",
                              "dump last", "key n", "dump wrap", "key n", "dump m2", "key /",
                              "key End"] + ["key Backspace"] * 7 +
                             ["type zz-nothing", "key Enter", "dump none", "key Esc",
                              "dump cleared", "key Esc", "dump back"], env={"TMUX": ""})

        def field_line(k):
            return ">  %s: %s" % (k, rec[k])

        eq(cursor_lines(d["open"]), [field_line(first_key)], "the cursor on the first field")
        eq(cursor_lines(d["up"]), [">Fields (%d)" % len(rec)], "Up: the heading above")
        eq(d["prompt"][ROWS - 3], " Search: EXAMPLE", "the search prompt")
        eq(cursor_lines(d["m1"]), [field_line(hits[0])], "the first match")
        eq(status_of(d["m1"]), "match 1 of %d" % len(hits), "the first match's message")
        eq(cursor_lines(d["last"]), [field_line(hits[-1])], "N from the first: the last")
        eq(status_of(d["last"]), "match %d of %d" % (len(hits), len(hits)), "N wraps around")
        eq(cursor_lines(d["wrap"]), [field_line(hits[0])], "n from the last: the first")
        eq(status_of(d["wrap"]), "match 1 of %d" % len(hits), "n wraps around")
        eq(status_of(d["m2"]), "match 2 of %d" % len(hits), "n: the second")
        eq(cursor_lines(d["m2"]), [field_line(hits[1])], "n: the second match")
        eq(status_of(d["none"]), "no match for zz-nothing", "no match")
        check("record" in d["cleared"][0], "Esc cleared the search and stayed: %r"
              % d["cleared"][0])
        eq(status_of(d["cleared"]), "", "the search's message cleared")
        check(d["back"][STATE].startswith(" %d records" % len(lines)),
              "the second Esc went back: %r" % d["back"][STATE])


def test_detail_search_across_wrap():
    """Issue 14.19: / in the detail searched each screen line alone, so a
    term that a long value's wrap cut in two was never found. It is found
    on the line where it starts, and n counts it once."""
    with fetched_sim(records=40) as sim:
        keys = ["wait-idle", "key Enter", "wait-idle", "key Enter", "key J"]
        c = Console(sim)
        d = c.run(keys + ["dump open"], size=(60, ROWS), env={"TMUX": ""})
        scr = d["open"]
        at = next((i for i, l in enumerate(scr) if l[1:].startswith("  url: ")), None)
        check(at is not None, "the url field shown:\n%s" % "\n".join(scr))
        head, cont = scr[at].rstrip(), scr[at + 1].strip()
        check(cont and not scr[at + 1].startswith("   url"),
              "the url wraps at 60 columns:\n%s" % "\n".join(scr))
        term = head[-4:] + cont[:4]     # cut by the wrap
        check(term.lower() not in " ".join(l.lower() for l in scr),
              "the term is on no one line: %r" % term)
        d = c.run(keys + ["key /", "type " + term, "key Enter", "dump found"],
                  size=(60, ROWS), env={"TMUX": ""})
        found = d["found"]
        eq(status_of(found), "match 1 of 1", "the cut term found once:\n%s" % "\n".join(found))
        eq([l.rstrip() for l in cursor_lines(found)], [">" + scr[at][1:].rstrip()],
           "the cursor on the line where it starts")


def test_detail_older_newer_records():
    """Issue 14.19: J and K step to the older and newer record of the
    preview's list without going back, past the rows the preview had read,
    and the preview's selection follows; at either end they say so; with a
    filter they step through the matching records only."""
    with fetched_sim() as sim:
        lines = sim.ndjson("sim", "url")
        n = len(lines)
        far = 60                            # past the preview's buffer of rows
        c = Console(sim)
        d = c.run(["wait-idle", "key Enter", "wait-idle", "key Enter", "key K",
                              "dump newest", "key J", "dump j1", "key K", "dump k1"]
                             + ["key J"] * far + ["dump far", "key q", "key Enter",
                                                  "dump reopened", "key q", "key End",
                                                  "wait-idle", "key Enter", "key J",
                                                  "dump oldest"])

        def shows(screen, rec, what):
            check("   id: %s" % rec["id"] in screen, "%s: not the record %s:\n%s"
                  % (what, rec["id"], "\n".join(screen)))

        shows(d["newest"], lines[-1], "K on the newest")
        eq(status_of(d["newest"]), "no newer record", "K on the newest says so")
        shows(d["j1"], lines[-2], "J")
        shows(d["k1"], lines[-1], "J then K")
        shows(d["far"], lines[n - 1 - far], "J %d times" % far)
        shows(d["reopened"], lines[n - 1 - far], "back and Enter: the selection followed")
        shows(d["oldest"], lines[0], "J on the oldest")
        eq(status_of(d["oldest"]), "no older record", "J on the oldest says so")

        matching = [l for l in reversed(lines) if text_matches(l["record"], "evil.example")]
        check(len(matching) >= 3, "records matching the filter")
        f = c.run(["wait-idle", "key Enter", "wait-idle", "key /",
                              "type evil.example", "key Enter", "wait-idle", "key Enter",
                              "key J", "dump f1", "key J", "dump f2", "key K", "key K",
                              "key K", "dump f0"], size=(250, 60))
        shows(f["f1"], matching[1], "J with a filter")
        shows(f["f2"], matching[2], "J J with a filter")
        shows(f["f0"], matching[0], "K back to the first match")
        eq(f["f0"][60 - 1].strip(), "no newer record", "K on the first match")


def json_string(s):
    """A string as the raw view writes it: JSON's quote and backslash
    escaped, every control then shown by the sanitiser."""
    return '"%s"' % escaped(s.replace("\\", "\\\\").replace('"', '\\"'))


def test_detail_raw_json_hostile():
    """Issue 14.19: r shows the stored record as pretty JSON, its strings
    escaped as the fields view shows them (a hostile record's controls never
    reach the terminal raw); r again the fields, which are the default."""
    with fetched_sim(records=40) as sim:
        lines = sim.ndjson("sim", "url")
        rec = lines[-1]["record"]
        check(mwtest.has_controls(rec), "the newest record is hostile")
        d = Console(sim).run(["wait-idle", "key Enter", "wait-idle", "key Enter", "key r",
                              "dump raw", "key r", "dump fields"], size=(250, 60))
        raw = d["raw"]
        text = "\n".join(raw)
        check(any(l.startswith(" Stored JSON (") for l in raw), "the raw heading:\n%s" % text)
        eq(raw[raw.index("   {") - 1][:14], " Stored JSON (", "the JSON under its heading")
        keys = list(rec)
        shown = 0
        for i, k in enumerate(keys):
            v = rec[k]
            check(re.search(r'(?m)^.?    %s: ' % re.escape(json_string(k)), text),
                  "no member %r in the raw view:\n%s" % (k, text))
            if isinstance(v, str) and len(v) < 150:
                line = "    %s: %s%s" % (json_string(k), json_string(v),
                                         "," if i + 1 < len(keys) else "")
                check(any(l[1:] == line for l in raw), "no line %r in:\n%s" % (line, text))
                shown += mwtest.has_controls(v)
        check(shown > 0, "a short hostile value was looked for")
        check("\\x1b" in text, "the escape shown as \\x1b")
        eq(cursor_lines(raw), [">" + "    %s: %s," % (json_string(keys[0]),
                                                    json_string(rec[keys[0]]))],
           "the cursor on the first member")
        check(" Fields (%d)" % len(rec) in d["fields"], "r again: the fields")
        check(not any(l.startswith(" Stored JSON") for l in d["fields"]), "no raw JSON")


def test_detail_copy_osc52():
    """Issue 14.19: y copies the value of the field under the cursor with
    OSC 52 (script mode writes the sequence to $MIMEWATCH_OSC52_FILE) when
    terminfo has Ms; a terminal without it is told; a line without a field
    copies nothing; a credential's field, or a value holding a secret of the
    config, is never copied."""
    import base64
    with fetched_sim(records=40) as sim:
        db = os.path.join(sim.state_dir, "store.db")
        con = sqlite3.connect(db, timeout=30)
        src = con.execute("SELECT id FROM sources WHERE integration='sim' AND type='url'"
                          ).fetchone()[0]
        base = max(mwtest.mc_time(l["time"]) for l in sim.ndjson("sim", "url")) + 1
        rec = {"userEmailAddress": "x@sim.example", "url": "https://sim.example/a?b=c",
               "accessToken": "tok-0123", "note": "keys: " + mwtest.SIM_SECRET_KEY}
        con.execute("INSERT INTO records(source, id, time, collected, threat, json) "
                    "VALUES (?, 'secret-test', ?, ?, 0, ?)",
                    (src, base, base, json.dumps(rec, separators=(",", ":"))))
        uitest.note_runs(con)
        con.execute("UPDATE cursors SET total = total + 1 WHERE source = ?", (src,))
        con.execute("UPDATE outputs SET last_rowid = (SELECT max(rowid) FROM records)")
        con.commit()
        con.close()
        osc = os.path.join(sim.dir, "osc52")
        keys = ["wait-idle", "key Enter", "wait-idle", "key Enter", "key Down", "key y",
                "dump url", "key Up", "key Up", "key y", "dump heading", "key Down",
                "key Down", "key Down", "key y", "dump token", "key Down", "key y",
                "dump note"]
        c = Console(sim)
        d = c.run(keys, env={"TMUX": "", "MIMEWATCH_OSC52_FILE": osc})
        eq(status_of(d["url"]), "copied url (%d bytes)" % len(rec["url"]), "y on url")
        eq(status_of(d["heading"]), "copy: no field on this line", "y on a heading")
        eq(status_of(d["token"]), "copy: accessToken looks like a secret; not copied",
           "y on a credential's field")
        eq(status_of(d["note"]), "copy: note looks like a secret; not copied",
           "y on a value holding the config's secret key")
        with open(osc, "rb") as f:
            eq(f.read(), b"\x1b]52;c;" + base64.b64encode(rec["url"].encode()) + b"\x07",
               "the OSC 52 bytes: the url alone")
        os.unlink(osc)
        d = c.run(keys[:7], env={"TMUX": "", "TERM": "vt100", "MIMEWATCH_OSC52_FILE": osc})
        eq(status_of(d["url"]), "copy: this terminal does not take OSC 52 (in tmux: set -g "
           "set-clipboard on)", "y where terminfo has no Ms")
        check(not os.path.exists(osc), "nothing written without Ms")


# A zone without summer time and with a half-hour offset, so a shifted time
# is exact and cannot be mistaken for UTC: Asia/Kolkata, IST, +05:30 (tzdata,
# which tests/setup installs).
LOCAL_TZ, LOCAL_LABEL, LOCAL_OFFSET = "Asia/Kolkata", "IST", 5 * 3600 + 30 * 60


def test_time_zone_toggle():
    """Issue 14.8: the time column names its zone, UTC by default; T shows
    local time (TZ) in the list, the detail and back in the list, the
    status line says which; T again returns to UTC. A prompt takes a typed T
    as text."""
    with fetched_sim() as sim:
        lines = sim.ndjson("sim", "url")
        n = len(lines)
        d = Console(sim).run(["wait-idle", "key Enter", "wait-idle", "dump utc", "key T",
                              "dump local", "key Enter", "dump detail_local", "key T",
                              "dump detail_utc", "key T", "dump detail_local2", "key q",
                              "dump back_local", "key T", "dump back_utc", "key /",
                              "type xT", "dump prompt", "key Esc", "dump after_prompt"],
                             env={"TZ": LOCAL_TZ})
        local_heading = HEADING_LINES["url"].replace("Time (UTC)", "Time (%s)" % LOCAL_LABEL)
        check(len(local_heading) == len(HEADING_LINES["url"]), "the label keeps the layout")

        def status(screen):   # the status line, below the footer
            return screen[ROWS - 1].strip()

        def rows_at(screen, offset):
            rows = rows_of(screen)
            eq(len(rows), DATA_ROWS, "rows on screen")
            for i, row in enumerate(rows):
                want = show_time(lines[n - 1 - i]["time"], offset)
                eq(row[1:20], want, "row %d's time (offset %ds): %r" % (i, offset, row))
            return [r[20:] for r in rows]

        eq(d["utc"][HEADINGS], HEADING_LINES["url"], "the heading names UTC")
        rest = rows_at(d["utc"], 0)
        eq(d["local"][HEADINGS], local_heading, "after T the heading names the local zone")
        eq(rows_at(d["local"], LOCAL_OFFSET), rest, "after T: the same rows, times shifted")
        eq(status(d["local"]), "times in local time (%s)" % LOCAL_LABEL, "T says so")

        newest = lines[n - 1]
        local_time = "   time: %s %s" % (show_time(newest["time"], LOCAL_OFFSET), LOCAL_LABEL)
        utc_time = "   time: %s UTC" % show_time(newest["time"])
        check(local_time in d["detail_local"], "the detail in local time: no %r in\n%s"
              % (local_time, "\n".join(d["detail_local"])))
        collected = [l for l in d["detail_local"] if l.startswith("   collected: ")]
        check(len(collected) == 1 and collected[0].rstrip().endswith(" " + LOCAL_LABEL),
              "collected in local time: %r" % collected)
        check(utc_time in d["detail_utc"], "T in the detail: UTC again, no %r in\n%s"
              % (utc_time, "\n".join(d["detail_utc"])))
        eq(status(d["detail_utc"]), "times in UTC", "T back says so")
        check(local_time in d["detail_local2"], "T in the detail: local again")
        eq(d["back_local"][HEADINGS], local_heading, "back in the list: still local")
        eq(rows_at(d["back_local"], LOCAL_OFFSET), rest, "back in the list: local times")
        eq(d["back_utc"][HEADINGS], HEADING_LINES["url"], "T again: UTC")
        eq(rows_at(d["back_utc"], 0), rest, "T again: the UTC times")
        # The filter prompt is modal: T is text there, the times stay.
        eq(d["prompt"][ROWS - 3].rstrip(), " Filter: xT", "a typed T in the prompt")
        eq(d["prompt"][HEADINGS], HEADING_LINES["url"], "T typed into the prompt")
        eq(d["after_prompt"][HEADINGS], HEADING_LINES["url"], "the prompt left: still UTC")


def test_export_equals_ndjson_lines():
    with fetched_sim() as sim:
        imp_raw = sim.ndjson_raw("sim", "impersonation")
        needle = "invoice"
        want = [raw for raw in imp_raw if text_matches(json.loads(raw)["record"], needle)]
        out = os.path.join(sim.dir, "exported.ndjson")
        allout = os.path.join(sim.dir, "all-url.ndjson")
        exists = os.path.join(sim.dir, "exists.ndjson")
        with open(exists, "w") as f:
            f.write("keep me\n")
        d = Console(sim).run(["wait-idle", "key Enter", "key 2", "key /", "type INVOICE",
                              "key Enter", "wait-idle", "key x", "key C-u", "type " + out,
                              "key Enter", "wait-idle", "dump done", "key 1", "key Esc",
                              "key x", "key C-u", "type " + allout, "key Enter", "wait-idle",
                              "dump all", "key x", "key C-u", "type " + exists, "key Enter",
                              "wait-idle", "dump exists"])
        eq(d["done"][-2], " exported %s records to %s" % (fmt_count(len(want)), out),
           "export message")
        with open(out, "rb") as f:
            got = f.read()
        eq(got, b"".join(raw + b"\n" for raw in want), "exported lines")
        eq(os.stat(out).st_mode & 0o777, 0o600, "mode of the export")
        url_raw = sim.ndjson_raw("sim", "url")
        with open(allout, "rb") as f:
            eq(f.read(), b"".join(raw + b"\n" for raw in url_raw), "unfiltered export")
        eq(d["all"][-2], " exported %d records to %s" % (len(url_raw), allout), "message")
        eq(d["exists"][-2], " export: %s exists; press x for exists-2.ndjson" % exists,
           "export over an existing file")
        with open(exists) as f:
            eq(f.read(), "keep me\n", "the existing file")


def test_export_names_in_full_and_free():
    # Issue 14.11: x proposed "mimewatch-sim-url.ndjson", relative to
    # wherever the console was started, said so without its directory, and
    # the second export stopped at "exists". Now the prompt holds the full
    # path, a name already taken gets -2, -3, and a typed relative name is
    # resolved (and reported) in full.
    with fetched_sim() as sim:
        url_raw = sim.ndjson_raw("sim", "url")
        want = b"".join(raw + b"\n" for raw in url_raw)
        cwd = os.path.join(sim.dir, "work")
        os.mkdir(cwd, 0o700)
        first = os.path.join(cwd, "mimewatch-sim-url.ndjson")
        second = os.path.join(cwd, "mimewatch-sim-url-2.ndjson")
        third = os.path.join(cwd, "mine.ndjson")
        d = Console(sim).run(["wait-idle", "key Enter", "wait-idle", "key x", "dump prompt1",
                              "key Enter", "wait-idle", "dump done1", "key x", "dump prompt2",
                              "key Enter", "wait-idle", "dump done2", "key x", "key C-u",
                              "type mine.ndjson", "key Enter", "wait-idle", "dump done3",
                              "key x", "key C-u", "type mine.ndjson", "key Enter",
                              "wait-idle", "dump taken", "key x", "dump prompt4"], cwd=cwd)
        prompt = lambda name: [l for l in d[name] if l.startswith(" Export to file: ")]
        eq([l.rstrip() for l in prompt("prompt1")], [" Export to file: " + first],
           "the first proposal, in full")
        eq([l.rstrip() for l in prompt("prompt2")], [" Export to file: " + second],
           "the second proposal: the first is taken")
        eq(d["done1"][-2], " exported %d records to %s" % (len(url_raw), first), "message 1")
        eq(d["done2"][-2], " exported %d records to %s" % (len(url_raw), second), "message 2")
        eq(d["done3"][-2], " exported %d records to %s" % (len(url_raw), third),
           "a relative name, reported in full")
        for p in (first, second, third):
            with open(p, "rb") as f:
                eq(f.read(), want, "content of %s" % p)
        third2 = os.path.join(cwd, "mine-2.ndjson")
        eq(d["taken"][-2], " export: %s exists; press x for mine-2.ndjson" % third,
           "a typed name already taken")
        eq([l.rstrip() for l in prompt("prompt4")], [" Export to file: " + third2],
           "x after that proposes the free name")


def test_export_long_path_in_full_at_80_columns():
    # Issue 14.11 at 80 columns: a path longer than the status line was
    # cut ("...mimewatch-sim-attachmen..."). A message takes the bottom
    # lines it needs (up to three), the key hints above it, and the screen
    # gives up those rows.
    with fetched_sim() as sim:
        n = len(sim.ndjson("sim", "url"))
        cwd = os.path.join(sim.dir, "a-working-directory-with-a-long-name",
                           "and-another-level-below-it")
        os.makedirs(cwd, 0o700)
        path = os.path.join(cwd, "mimewatch-sim-url.ndjson")
        d = Console(sim).run(["wait-idle", "key Enter", "wait-idle", "key x", "key Enter",
                              "wait-idle", "dump done", "key Down", "dump next"],
                             size=(80, 24), cwd=cwd)
        text = " exported %d records to %s" % (n, path)
        check(len(text) > 80, "the message needs more than one line: %d" % len(text))
        screen = [l.rstrip() for l in d["done"]]
        k = next((i for i, l in enumerate(screen) if l.startswith(" exported ")), None)
        check(k is not None, "no message on\n%s" % "\n".join(screen))
        lines = [l[1:] for l in screen[k:] if l.strip()]
        eq(lines[0], "exported %d records to" % n, "the message's first line")
        eq("".join(lines[1:]), path, "the path, in full, on the lines below")
        check(k >= 24 - 3, "the message is at the bottom: line %d" % k)
        check("? help" in screen[k - 1] and " q " in screen[k - 1] + " ",
              "the key hints stay, above it: %r" % screen[k - 1])


def test_messages_stay_with_their_screen():
    # Issue 14.13: a status message set on one screen lingered on the next:
    # home's "validate sim: ..." over the preview, the preview's "exported
    # ... to ..." back on home. A message now goes with its screen.
    with fetched_sim() as sim:
        cwd = os.path.join(sim.dir, "work")
        os.mkdir(cwd, 0o700)
        d = Console(sim).run(["wait-idle", "key v", "wait-idle", "dump home_v", "key Enter", "wait-idle",
                              "dump preview", "key x", "key Enter", "wait-idle", "dump done",
                              "key Esc", "wait-idle", "dump home", "key ?", "key q",
                              "dump home2"], cwd=cwd)
        check(d["home_v"][-2].startswith(" validate sim: "), "home says what v did: %r"
              % d["home_v"][-2])
        eq(d["preview"][-2].strip(), "", "home's message is not the preview's")
        check(d["done"][-2].startswith(" exported "), "the preview says what x did: %r"
              % d["done"][-2])
        eq(d["home"][-2].strip(), "", "the preview's message is not home's")
        eq(d["home2"][-2].strip(), "", "nor after the help")


def test_resize_keeps_the_preview():
    with fetched_sim() as sim:
        n = len(sim.ndjson("sim", "attachment"))
        d = Console(sim).run(["wait-idle", "key Enter", "key 3", "wait-idle", "resize 40 10",
                              "dump tiny", "resize 70 40", "wait-idle", "dump tall",
                              "resize 100 30", "dump back"])
        check(any("terminal too small" in l for l in d["tiny"]), "no too-small screen")
        eq(d["tall"][STATE], " %d records \u00b7 following" % n, "state after resize")
        eq(len([l for l in d["tall"][FIRST_ROW:FIRST_ROW + 33] if l.strip()]), 33,
           "a taller screen shows more rows")
        eq(d["back"][HEADINGS], HEADING_LINES["attachment"], "headings after resizing back")


def test_million_records_open_fast():
    big = int(os.environ.get("MW_PREVIEW_RECORDS", "1000000"))
    with fetched_sim(records=50) as sim:
        db = os.path.join(sim.state_dir, "store.db")
        base = max(mwtest.mc_time(l["time"]) for l in sim.ndjson("sim", "url")) + 1
        t0 = time.monotonic()
        # Generated inside SQLite: a million rows in seconds, newer than
        # everything fetched, one in seven a threat.
        uitest.seed_url_records(db, big, base)
        gen = time.monotonic() - t0
        total = big + len(sim.ndjson("sim", "url"))
        keys = ["key Down", "key Down", "key PgDn", "key PgDn", "key Up", "key PgUp",
                "key Home", "key m", "key m", "key Space", "key Space", "key Tab",
                "key Tab", "key Tab", "key End", "key Up", "key PgUp", "key Home",
                "key 2", "key 1"]
        eq(len(keys), 20, "keypresses")
        c = Console(sim)
        d = c.run(["key Enter", "dump first"] + keys + ["dump last"])
        first_ms = (os.path.getmtime(os.path.join(sim.dir, "ui1", "first")) - c.started) * 1000
        newest = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(base + big - 1))
        eq(d["first"][STATE], " %s records \u00b7 following" % fmt_count(total), "state")
        check(d["first"][FIRST_ROW].startswith(" %s  user%d@big.example " % (newest,
                                                                            (big - 1) % 977)),
              "first row %r" % d["first"][FIRST_ROW])
        eq(len(rows_of(d["first"])), DATA_ROWS, "rows of the first frame")
        check(d["last"][STATE].startswith(" %s records" % fmt_count(total)),
              "last state %r" % d["last"][STATE])
        check(c.wall < 5 * mwtest.SCALE, "open + 20 keys took %.2fs" % c.wall)
        sys.stderr.write("test_preview: %d records generated in %.1fs; first frame %.0f ms "
                         "after start; start + 20 keys + quit in %.2fs\n"
                         % (big, gen, first_ms, c.wall))


def test_tmux_real_terminal():
    if not shutil.which("tmux"):
        raise Skip("no tmux")
    with fetched_sim() as sim:
        n = len(sim.ndjson("sim", "url"))
        sock = os.path.join(sim.dir, "tmux.sock")
        tmux = ["tmux", "-S", sock]
        env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color")
        cmd = "%s --config %s" % (mwtest.MIMEWATCH, sim.config)
        subprocess.run(tmux + ["-f", "/dev/null", "new-session", "-d", "-x", str(COLS), "-y",
                               str(ROWS), cmd], check=True, env=env)
        try:
            def screen():
                return subprocess.run(tmux + ["capture-pane", "-p"], capture_output=True,
                                      text=True).stdout.split("\n")

            def wait_for(pred, what, timeout=20):
                deadline = time.monotonic() + timeout * mwtest.SCALE
                while time.monotonic() < deadline:
                    s = screen()
                    if pred(s):
                        return s
                    time.sleep(0.1)
                raise mwtest.CheckFailed("%s; screen:\n%s" % (what, "\n".join(screen())))

            wait_for(lambda s: any(" sim " in l for l in s), "home never showed sim")
            subprocess.run(tmux + ["send-keys", "Enter"], check=True)
            s = wait_for(lambda s: len(s) > HEADINGS and s[HEADINGS] == HEADING_LINES["url"],
                         "the URL preview did not open")
            eq(s[STATE], " %d records \u00b7 following" % n, "state in tmux")
            subprocess.run(tmux + ["send-keys", "/", "i", "n", "v", "Enter"], check=True)
            wait_for(lambda s: s[STATE].startswith(" %d records \u00b7 filter \"inv\"" % n),
                     "the filter did not show")
            subprocess.run(tmux + ["send-keys", "q"], check=True)
            wait_for(lambda s: "integrations" in s[0], "q did not go back")
            subprocess.run(tmux + ["send-keys", "q"], check=True)
            deadline = time.monotonic() + 10 * mwtest.SCALE
            while time.monotonic() < deadline:
                r = subprocess.run(tmux + ["has-session"], capture_output=True)
                if r.returncode != 0:
                    break
                time.sleep(0.1)
            else:
                raise mwtest.CheckFailed("the console did not quit on q")
        finally:
            subprocess.run(tmux + ["kill-server"], capture_output=True)


if __name__ == "__main__":
    mwtest.main([test_preview_types_newest_first, test_pruned_records_said, test_scrolling_pages, test_g_and_G_top_and_bottom,
                 test_failing_type_shows_its_error, test_failing_type_long_remedy_wraps,
                 test_moving_pauses_following, test_filter_and_threats_exact,
                 test_filter_terms_as_you_type,
                 test_detail_every_key_and_hostile_escaped, test_detail_search_and_cursor,
                 test_detail_search_across_wrap,
                 test_detail_older_newer_records, test_detail_raw_json_hostile,
                 test_detail_copy_osc52, test_time_zone_toggle,
                 test_export_equals_ndjson_lines,
                 test_export_names_in_full_and_free, test_export_long_path_in_full_at_80_columns,
                 test_messages_stay_with_their_screen, test_resize_keeps_the_preview, test_million_records_open_fast,
                 test_tmux_real_terminal])
