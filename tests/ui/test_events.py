#!/usr/bin/env python3
"""The events screen (issue 14.16): E opens the collector's recent events,
newest first, from any screen; rows arrive while it is open; times follow T;
it scrolls (Up/Down/PgUp/PgDn/g/G) and Esc or q goes back. The console
collects from a tenant that answers one 429, on a pinned clock."""

import re

import mwtest
import uitest
from uitest import check, eq, need_line

NOW = "1731862800"          # 2024-11-17 17:00:00 UTC
T = "2024-11-17 17:00:00"
SPAN = "2024-11-17T15:00:00Z to 2024-11-17T16:59:59Z"   # [now - lookback, now - lag]
TYPES = ("url", "impersonation", "attachment")


def env():
    return {"MIMEWATCH_NOW": NOW, "XDG_STATE_HOME": "/nonexistent"}


def row(ev_time, who, kind):
    """The start of an event's row, up to its kind (the text is cut at the
    screen's edge; the pane below the list shows the selected one in full)."""
    return "%-19s  %-17s  %s: " % (ev_time, who, kind)


def pane(lines):
    """The selected event in full: the lines between the rule and the footer (then the message line)."""
    rule = max(i for i, l in enumerate(lines) if l.startswith("\u2500" * 20))
    return " ".join(l.strip() for l in lines[rule + 1:-2] if l.strip())


def test_events_screen():
    with mwtest.Sim(["--seed", "7", "--records", "120", "--span", "1h"],
                    env={"MIMEWATCH_NOW": NOW}) as sim:
        sim.faults("429:type=url,reset=1200,count=1")
        # E before the collector has begun: the rows arrive while it is open
        r = uitest.run_script(["key E", "wait-idle", "dump events",
                               "key T", "dump local", "key T",
                               "key G", "dump bottom", "key Up", "dump wait",
                               "key PgUp", "dump pgup", "key PgDn", "dump pgdn",
                               "key g", "dump top", "key Down", "dump down",
                               "key q", "dump home", "key E", "key Esc", "dump home2",
                               "key ?", "key G", "dump help", "quit"],
                              args=["--config", sim.config], size=(100, 30),
                              env=dict(env(), TZ="Asia/Kolkata"))
        eq(r.rc, 0, "console exit status (%s)" % r)
        s = r.dumps["events"]
        screen = "\n".join(s)
        check(s[0].startswith(" mimewatch \u2014 events"), "header names the screen: %r" % s[0])
        eq(s[1].rstrip(), " Time (UTC)           Integration/type   Event", "the heading")
        rows = [l for l in s[2:] if l[1:3] == "20"]
        eq(len(rows), 7, "events: a start and an end per type, and the 429 wait\n" + screen)
        for t in TYPES:
            started = need_line(s, row(T, "sim/" + t, "window started"), "sim/%s start" % t)
            finished = need_line(s, row(T, "sim/" + t, "window finished"), "sim/%s end" % t)
            check(s.index(finished) < s.index(started),
                  "sim/%s: newest first, the end above the start:\n%s" % (t, screen))
        wait = need_line(s, row(T, "sim/url", "429 wait"), "the 429 wait")
        check(s.index(wait) < s.index(need_line(s, row(T, "sim/url", "window started"), "")),
              "the 429 wait above the url window's start:\n" + screen)
        # the newest is selected, and shown in full below the list
        check(rows[0].startswith(">") and " window finished: " in rows[0],
              "the newest (a window's end) selected: %r" % rows[0])
        eq(pane(s), "window finished: %s, 120 records received" % SPAN, "the selected in full")

        # T: the same rows in local time, the heading naming the zone
        loc = r.dumps["local"]
        eq(loc[1].rstrip(), " Time (IST)           Integration/type   Event", "heading in IST")
        need_line(loc, row("2024-11-17 22:30:00", "sim/url", "window started"),
                  "a row in local time")

        # G: the oldest, url's window start; Up: its 429 wait, in full
        check(selected(r.dumps["bottom"]).startswith(">" + row(T, "sim/url", "window started")),
              "G selects the oldest: %r" % selected(r.dumps["bottom"]))
        eq(pane(r.dumps["bottom"]), "window started: " + SPAN, "the oldest in full")
        w = pane(r.dumps["wait"])
        check(re.match(r"^429 wait: every type on these credentials waits 1\.[23] s "
                       r"\(X-RateLimit-Reset 1200 ms\)$", w), "the 429 wait in full: %r" % w)
        # PgUp from the second oldest reaches the newest; PgDn the oldest
        eq(selected(r.dumps["pgup"]), selected(s), "PgUp")
        eq(selected(r.dumps["pgdn"]), selected(r.dumps["bottom"]), "PgDn")
        eq(selected(r.dumps["top"]), selected(s), "g selects the newest")
        eq(selected(r.dumps["down"]), ">" + rows[1][1:], "Down: the next one")

        # q and Esc go back to home; ? lists E
        for d in ("home", "home2"):
            check("integrations" in r.dumps[d][0], "%s: back on home: %r" % (d, r.dumps[d][0]))
        need_line(r.dumps["help"], "   E        events: the collector's recent events, "
                  "newest first", "the help lists E")


def line_of(lines, who, kind):
    for l in lines:
        if (" %s " % who) in l and (" %s:" % kind) in l:
            return l
    raise mwtest.CheckFailed("no %s %s row in:\n%s" % (who, kind, "\n".join(lines)))


def selected(lines):
    """The highlighted row: script mode marks it (see uitest's dumps)."""
    for l in lines[2:]:
        if l.startswith(">"):
            return l
    return None


if __name__ == "__main__":
    mwtest.main([test_events_screen])
