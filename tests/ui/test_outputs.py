#!/usr/bin/env python3
"""The outputs on the home screen, in script mode against mimewatch-sim:
an NDJSON output and a syslog output whose receiver is a dead 127.0.0.1
port. After collection the NDJSON row is "ok", nothing behind, every stored
record delivered; the dead one is "retrying" with its error under it and
every stored record behind. `t` on an output's row sends a test record
through the store (the collector carries it out) and shows the result: the
NDJSON's directory check, the syslog's refusal. `t` on an integration's row
still opens troubleshooting; the help lists `t`. In a real terminal (tmux)
an output's mark and state have the colours of an integration's.

The clock is pinned (MIMEWATCH_NOW) for the simulator and the console, so
ages are "0s". Exact screen text; the simulator's temporary directory and
the dead port are the only values put into the expected lines; the words of
the collector's errors (which carry a remedy) are read back from the store
and must be drawn whole."""

import os
import re
import shlex
import socket
import sqlite3
import time

import uitest
from uitest import check, eq, mwtest

NOW = "1731862800"          # 2024-11-17 17:00:00 UTC, as test_golden
RECORDS = 40                # per type: 120 stored
TICK, CROSS = "\u2714", "\u2718"
HEADING = " outputs           state     lag               delivered   type          target"


def dead_port():
    """A loopback port nobody listens on: bound, then closed."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pinned_env():
    env = dict(os.environ)
    env["MIMEWATCH_NOW"] = NOW
    return env


def sim():
    # The budget refills on the monotonic clock: an hour per request keeps it still.
    return mwtest.Sim(["--seed", "7", "--refill-ms", "3600000", "--records", str(RECORDS)],
                      env=pinned_env())


def add_dead_syslog(s):
    port = dead_port()
    with open(s.config, "a") as f:
        f.write("  - type: syslog\n    name: siem\n    url: tcp://127.0.0.1:%d\n" % port)
    os.chmod(s.config, 0o600)
    return port


def output_row(name, type_, state, lag, delivered, target, mark, cursor=False):
    """One output's row exactly as view_home.c lays it out (columns of 18,
    10, 18, 12 and 14 from column 1, the target last)."""
    return ("%s%s %-15s %-9s %-17s %-11s %-13s %s" % (
        ">" if cursor else " ", mark, name, state, lag, delivered, type_, target)).rstrip()


def run(s, commands):
    r = uitest.run_script(commands, args=["--config", s.config], env={"MIMEWATCH_NOW": NOW})
    eq(r.rc, 0, "exit status (%s)" % r)
    check("script line" not in r.err, "the script failed: %s" % r)
    return r


def store_rows(s, sql, *args):
    """Rows from the store, read-only, after the console has exited."""
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(s.state_dir, "store.db"),
                          uri=True, timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def hints_at(screen):
    """The index of the key hints' line, above the status message."""
    return max(k for k, line in enumerate(screen) if "? help" in line)


def check_wrapped(lines, text, indent, what):
    """lines draw text whole, wrapped at spaces, each indented by indent
    columns and inside the 100-column screen."""
    for line in lines:
        check(line.startswith(" " * indent) and line[indent] != " ",
              "%s: indented by %d: %r" % (what, indent, line))
        check(len(line) <= 99, "%s: inside the screen: %r" % (what, line))
    eq(" ".join(line[indent:] for line in lines), text, what)


def outputs_block(lines):
    """The lines from the outputs' heading to the first blank line after it."""
    check(HEADING in lines, "no outputs heading %r in:\n%s" % (HEADING, "\n".join(lines)))
    i = lines.index(HEADING)
    check(lines[i - 1] == "", "a blank line above the outputs' heading:\n%s" % "\n".join(lines))
    out = []
    for line in lines[i + 1:]:
        if not line:
            break
        out.append(line)
    return out


def test_rows_after_collection():
    with sim() as s:
        port = add_dead_syslog(s)
        r = run(s, ["wait-idle", "dump home", "quit"])
        home = r.dumps["home"]
        got = outputs_block(home)
        total = sum(s.store_counts().values())
        eq(total, 3 * RECORDS, "records stored")
        eq(got[:2], [
            output_row("ndjson", "ndjson", "ok", "0 behind", str(total), s.out_dir, TICK),
            output_row("siem", "syslog", "retrying", "%d behind, 0s" % total, "0",
                       "tcp://127.0.0.1:%d" % port, CROSS),
        ], "the outputs' rows\n%s" % "\n".join(home))
        # The last error under the dead one, whole, as the store holds it.
        (state, error), = store_rows(s, "SELECT state, error FROM outputs WHERE name='siem'")
        eq(state, "retrying", "siem's stored state")
        check(error.startswith("output siem: cannot connect to 127.0.0.1:%d: Connection "
                               "refused" % port), "siem's stored error: %r" % error)
        check(1 <= len(got) - 2 <= 6, "one to six error lines:\n%s" % "\n".join(got))
        check_wrapped(got[2:], error, 5, "siem's error under its row")
        eq(sum(len(s.ndjson("sim", t)) for t in mwtest.TYPES), total, "NDJSON lines")
        # Still the integrations' layout above.
        check(home[1].startswith(" integration / type"), "column titles: %r" % home[1])
        check(home[2].startswith(">" + TICK + " sim"), "cursor on the integration: %r" % home[2])


def test_cursor_and_test_records():
    with sim() as s:
        port = add_dead_syslog(s)
        # End: the last row (siem); Up: ndjson.
        r = run(s, ["wait-idle", "key End", "dump on-siem", "key t", "dump sending",
                    "wait-idle", "dump siem-tested", "key Up", "key t", "wait-idle",
                    "dump ndjson-tested", "key f", "dump f-on-output", "quit"])
        total = sum(s.store_counts().values())
        # What the collector recorded for the two requests (state 2 done ok, 3 failed).
        reqs = store_rows(s, "SELECT arg, state, result FROM requests WHERE "
                          "action='test-output' ORDER BY id")
        eq([(a, st) for a, st, _ in reqs], [("siem", 3), ("ndjson", 2)], "the requests")
        failure, ok_result = reqs[0][2], reqs[1][2]
        siem = output_row("siem", "syslog", "retrying", "%d behind, 0s" % total, "0",
                          "tcp://127.0.0.1:%d" % port, CROSS, cursor=True)
        got = outputs_block(r.dumps["on-siem"])
        eq(got[1], siem, "the cursor on the siem row")
        check(not r.dumps["on-siem"][2].startswith(">"), "cursor left the integration")

        eq(r.dumps["sending"][-1], " sending test record to siem...", "status line while sent")

        check(failure.startswith("output siem: cannot connect to 127.0.0.1:%d: Connection "
                                 "refused" % port), "the stored failure: %r" % failure)
        done = r.dumps["siem-tested"]
        eq(uitest.status_message(done), "test record to siem: " + failure,
           "status line: the failure, in full")
        # The failure's whole text also stands under the list.
        bar = [i for i, line in enumerate(done) if "test record to siem" in line and
               line.startswith("\u2500\u2500 ")]
        eq(len(bar), 1, "one result bar in:\n%s" % "\n".join(done))
        check(done[bar[0]].startswith("\u2500\u2500 test record to siem \u2500"),
              "result bar: %r" % done[bar[0]])
        check_wrapped(done[bar[0] + 1:hints_at(done)], failure, 2, "the failure under the bar")

        ok = r.dumps["ndjson-tested"]
        eq(outputs_block(ok)[0], output_row("ndjson", "ndjson", "ok", "0 behind", str(total),
                                            s.out_dir, TICK, cursor=True),
           "the cursor on the ndjson row")
        result = ok_result
        check(result.startswith("%s is writable" % s.out_dir), "the stored ok result: %r"
              % result)
        status = "test record to ndjson: " + result
        # An ok result stands under the list only when the status line,
        # three lines at most, cuts it.
        bar = [i for i, line in enumerate(ok) if line.startswith("\u2500\u2500 test record to")]
        check(len(status) < 3 * 90, "the ok result fits three lines: %r" % status)
        eq(uitest.status_message(ok), status, "status line: the ok result, in full")
        eq(bar, [], "no result bar for an ok result that fits")
        # The probe file is gone and no test record reached the data files
        # (the collector's lock on the directory stays while it runs).
        eq(sorted(os.listdir(s.out_dir)), [".mimewatch.lock", "sim"],
           "what is in the NDJSON dir")
        eq(sum(len(s.ndjson("sim", t)) for t in mwtest.TYPES), total, "NDJSON lines")

        eq(r.dumps["f-on-output"][-1], " this is an output: t sends it a test record; the "
           "other keys act on an integration's rows", "f on an output's row")


def test_idle_output_is_not_failed():
    """Issue 14.10: an output with nothing to send yet (every type refused,
    so nothing was collected) is idle, a neutral state: neither the tick of
    ok nor the cross of a failure; "--" in the C locale. Idle lasts until
    its first delivery, so each locale gets a store of its own."""
    denied = []
    for t in mwtest.TYPES:
        denied += ["--deny-permission", t]
    for locale, mark in (("C.UTF-8", "-"), ("C", "--")):
        with mwtest.Sim(["--seed", "7", "--refill-ms", "3600000", "--records", "5"] + denied,
                        env=pinned_env()) as s:
            r = uitest.run_script(["wait-idle", "dump home", "quit"],
                                  args=["--config", s.config],
                                  env={"MIMEWATCH_NOW": NOW, "LC_ALL": locale})
            eq(r.rc, 0, "exit status (%s)" % r)
            got = outputs_block(r.dumps["home"])
            what = "the idle output's row (LC_ALL=%s)\n%s" % (locale, "\n".join(r.dumps["home"]))
            if mark == "-":
                eq(got, [output_row("ndjson", "ndjson", "idle", "0 behind", "0", s.out_dir,
                                    mark)], what)
            else:   # a two-column mark: the columns stay where they are
                eq([x.split()[:4] for x in got], [["--", "ndjson", "idle", "0"]], what)


def test_t_on_integration_and_help():
    with sim() as s:
        add_dead_syslog(s)
        r = run(s, ["wait-idle", "key t", "dump trouble", "key q", "key ?", "dump help",
                    "quit"])
        check(r.dumps["trouble"][0].startswith(" mimewatch \u2014 troubleshooting"),
              "t on an integration's row opens troubleshooting: %r" % r.dumps["trouble"][0])
        h = r.dumps["help"]
        eq([line for line in h if line.startswith("   t ")],
           ["   t        test/diagnose: send a test record (an output's row) or troubleshoot "
            "(an integration's)"], "help's t line")


def test_footer():
    with sim() as s:
        add_dead_syslog(s)
        r = run(s, ["wait-idle", "dump home", "quit"])
        # Too wide for 100 columns: the last hints give way, ? and q stay.
        eq(r.dumps["home"][-2], " Enter preview  a add  e edit  d delete  v validate  f fetch"
           "  p pause  q quit  ? help", "the footer")


SGR = re.compile(r"\x1b\[([0-9;:]*)m")
FG = {"31": "red", "32": "green", "33": "yellow", "36": "cyan", "91": "red", "92": "green",
      "93": "yellow", "96": "cyan"}


def coloured_runs(line):
    """A captured line (tmux capture-pane -e) as [(foreground, text)]."""
    runs, fg, pos = [], "default", 0
    for m in SGR.finditer(line + "\x1b[m"):
        if m.start() > pos:
            runs.append((fg, line[pos:m.start()]))
        params = [p for p in re.split("[;:]", m.group(1))] or ["0"]
        i = 0
        while i < len(params):
            p = params[i]
            if p in ("", "0", "39"):
                fg = "default"
            elif p in FG:
                fg = FG[p]
            elif p == "38" and i + 2 < len(params) and params[i + 1] == "5":
                fg = {"1": "red", "2": "green", "3": "yellow", "6": "cyan"}.get(
                    params[i + 2], "colour" + params[i + 2])
                i += 2
            i += 1
        pos = m.end()
    return runs


def colour_of(line, text):
    for fg, run in coloured_runs(line):
        if text in run:
            return fg
    raise mwtest.CheckFailed("%r not in one colour run of %r" % (text, line))


def test_colours_in_a_real_terminal():
    import test_terminal
    with sim() as s:
        port = add_dead_syslog(s)
        t = test_terminal.Tmux("%s --config %s" % (shlex.quote(mwtest.MIMEWATCH),
                                                   shlex.quote(s.config)),
                                    env={"MIMEWATCH_NOW": NOW})
        try:
            t.wait_for("retrying")
            t.wait_for("0 behind")
            time.sleep(0.3)
            lines = t.capture(escapes=True).split("\n")
            t.keys("q")
        finally:
            t.close()
        nd = [x for x in lines if "ndjson" in x and "behind" in x]
        dead = [x for x in lines if "siem" in x and "syslog" in x and
                "127.0.0.1:%d" % port in x]
        eq((len(nd), len(dead)), (1, 1), "one row each in:\n%s" % "\n".join(lines))
        # The same roles as an integration's row: a green tick and "ok" when
        # fine; a red cross and a yellow "retrying" while it retries (an
        # integration whose type retries has a red cross, the type's state
        # is yellow); the error under it in yellow as well.
        eq(colour_of(nd[0], TICK), "green", "ndjson's mark")
        eq(colour_of(nd[0], "ok"), "green", "ndjson's state")
        eq(colour_of(dead[0], CROSS), "red", "siem's mark")
        eq(colour_of(dead[0], "retrying"), "yellow", "siem's state")
        err = lines[lines.index(dead[0]) + 1]
        eq(colour_of(err, "Connection refused"), "yellow", "siem's error line")
        eq(colour_of(dead[0], "127.0.0.1:%d" % port), "cyan", "the target (muted)")


if __name__ == "__main__":
    uitest.main([test_rows_after_collection, test_cursor_and_test_records,
                 test_idle_output_is_not_failed, test_t_on_integration_and_help, test_footer,
                 test_colours_in_a_real_terminal])
