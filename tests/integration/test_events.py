#!/usr/bin/env python3
"""Events (issue 14.16): `mimewatch status --events` prints the collector's
recent events newest first, one a line (time UTC, integration/type, kind:
text), and --json the same; a fetch against a tenant that answers one 429
and one 503 shows each window's start and finish, the 429 wait and the
retry with its reason, in the words below; API 2.0 tokens (the first, and
one after a 401), an output's error (once, not per try) and a config reload
(SIGHUP to `run`) each make one."""

import calendar
import re
import time

import mwtest
from mwtest import TYPES, Sim, check, eq

N = 300
LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)  (\S+)  ([^:]+): (.*)$")


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_time(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def test_fetch_events():
    with Sim(["--records", str(N), "--span", "1h"]) as sim:
        r = sim.mw(["status", "--events"])
        eq((r.rc, r.out), (0, ""), "status --events before any collection")
        sim.faults("429:type=url,reset=1500,count=1\n503:type=attachment,count=1")
        t0 = int(time.time())
        sim.fetch(budget="60s")
        t1 = int(time.time())
        horizon = {t: st["horizon"] for t, st in sim.type_status().items()}

        r = sim.mw(["status", "--events"])
        eq(r.rc, 0, "status --events exit\n%s" % r)
        rows = []
        for line in r.out.splitlines():
            m = LINE.match(line)
            check(m, "status --events line %r is not 'TIME  WHO  KIND: TEXT'" % line)
            rows.append(m.groups())
        times = [parse_time(x[0]) for x in rows]
        check(all(t0 <= t <= t1 for t in times), "event times %r outside the fetch [%d, %d]"
              % (times, t0, t1))
        check(times == sorted(times, reverse=True), "events not newest first:\n%s" % r.out)

        def index(who, kind, text):
            for i, (_, w, k, t) in enumerate(rows):
                if w == who and k == kind and (t == text if isinstance(text, str)
                                                 else text.match(t)):
                    return i
            raise mwtest.CheckFailed("no event %s  %s: %s in\n%s"
                                     % (who, kind, getattr(text, "pattern", text), r.out))

        # The sim writes lookback as its records' reach plus an hour: 2h, or
        # 7201s when a second passed between its start and the config.
        with open(sim.config, encoding="utf-8") as f:
            m = re.search(r"lookback: (\d+)([smhd])\n", f.read())
        lookback = int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        for t in TYPES:
            # The first window is [now - lookback, now - lag] (lag 1s in the
            # sim's config); its end is the horizon the fetch left.
            to = parse_time(horizon[t])
            span = "%s to %s" % (rfc3339(to - lookback + 1), horizon[t])
            started = index("sim/" + t, "window started", span)
            finished = index("sim/" + t, "window finished",
                             "%s, %d records received" % (span, N))
            check(finished < started, "sim/%s: finished listed after started:\n%s"
                  % (t, r.out))
            eq(sum(1 for x in rows if x[1] == "sim/" + t and x[2].startswith("window")), 2,
               "sim/%s: window events (one start, one finish, none per page)" % t)

        wait = index("sim/url", "429 wait", re.compile(
            r"^every type on these credentials waits (\d+\.\d) s "
            r"\(X-RateLimit-Reset 1500 ms\)$"))
        secs = float(LINE.match(r.out.splitlines()[wait]).group(4).split()[6])
        check(1.4 <= secs <= 1.7, "429 wait %.1f s for a reset of 1500 ms (+0-10%% jitter)"
              % secs)
        check(wait < index("sim/url", "window started", re.compile(".")),
              "the 429 wait is not newer than its window's start:\n%s" % r.out)
        retry = index("sim/attachment", "retry", re.compile(
            r"^HTTP 503: Mimecast is busy or failing; will retry; next try in 1\.[01] s$"))
        check(retry < index("sim/attachment", "window started", re.compile(".")),
              "the retry is not newer than its window's start:\n%s" % r.out)

        # --json: the same events, in the same order.
        r2 = sim.mw(["status", "--events", "--json"])
        eq(r2.rc, 0, "status --events --json exit\n%s" % r2)
        import json
        js = json.loads(r2.out)["events"]
        eq(len(js), len(rows), "events in --json and in text")
        for j, row in zip(js, rows):
            who = j["integration"] + ("/" + j["type"] if j["type"] else "")
            eq((j["time"], who, j["kind"], j["text"]), row, "a --json event")

        # Without --events, status prints what it always did.
        r3 = sim.mw(["status"])
        check("window started" not in r3.out and "sim/url" not in r3.out,
              "plain status shows events:\n%s" % r3.out)


def test_token_events():
    # API 2.0: the first token, then one asked for after the tenant refused
    # a token it had issued (a 401 on a log request): one event each, under
    # the integration alone (the token is its credentials', not a type's).
    with Sim(["--records", "30", "--span", "1h"], api="v2") as sim:
        sim.faults("token_expired:after=1,count=1")
        sim.fetch(budget="60s")
        out = sim.mw(["status", "--events"]).out
        texts = [m.group(2, 3, 4)[1:] for m in map(LINE.match, out.splitlines())
                 if m.group(2) == "sim-v2"]
        eq(texts, [("token refreshed", "API 2.0 token renewed after a 401 (valid 1799 s)"),
                   ("token refreshed", "API 2.0 token obtained (valid 1799 s)")],
           "token events, newest first\n" + out)


def test_output_event():
    # A receiver that refuses connections: the output's retrying, once
    # (not once per try), under "-".
    import mwout
    with Sim(["--records", "5", "--span", "1h"]) as sim:
        mwout.add_outputs(sim, "  - type: syslog\n    url: tcp://127.0.0.1:1\n")
        sim.fetch(budget="3s", expect_rc=1)
        out = sim.mw(["status", "--events"]).out
        rows = [m.group(2, 3, 4) for m in map(LINE.match, out.splitlines())
                if m.group(3).startswith("output")]
        eq(rows, [("-", "output retrying", "output 'syslog': cannot connect to 127.0.0.1:1: "
                   "Connection refused; retrying with backoff, nothing is lost: delivery "
                   "resumes where it stopped")], "output events\n" + out)


def test_reload_event():
    with Sim(["--records", "10", "--span", "1h"]) as sim:
        p = mwtest.mimewatch_bg(["run"], config=sim.config)
        try:
            mwtest.wait_for(lambda: "window finished" in sim.mw(["status", "--events"]).out,
                            30, "the first window")
            import signal
            p.send_signal(signal.SIGHUP)
            mwtest.wait_for(lambda: "-  config reload: reloaded: 3 collections"
                            in sim.mw(["status", "--events"]).out, 30, "the reload event")
        finally:
            mwtest.stop_bg(p)


if __name__ == "__main__":
    mwtest.main([test_fetch_events, test_token_events, test_output_event, test_reload_event])
