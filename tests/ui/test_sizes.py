#!/usr/bin/env python3
"""test_sizes - tiny and odd terminals (issue 4, item 14).

Every size from 1x1 to 30x10 (300 sizes) in script mode, against
mimewatch-sim with collection running: the screen dump has exactly ROWS
lines none wider than COLS, and it is exactly the too-small screen ("terminal
too small (need 60x15)" and "now CxR; q quits", centred, cut with an
ellipsis where it does not fit). The short form walks the 300 sizes in one
console by `resize` and starts a sample of them with --size; the long form
starts every one with --size as well. Sizes at the edge of the minimum
(59x15, 60x14, 60x15, 61x16) show the right screen with no line too wide.
Shrinking step by step down to 1x1 and back while records stream, in script
mode and in a real pseudo-terminal. TERM dumb, unset, unknown ("nosuchterm"),
vt100, linux, and NO_COLOR in a pty: no crash, no sanitizer report, the
terminal restored, a clear message where the console cannot run, and no
colour SGR (30-37, 38, 40-47, 48, 90-107) at all under NO_COLOR.
"""

import re
import signal
import time

import uitest
from uitest import check, eq
import test_signals  # the pty harness

mwtest = uitest.mwtest
ITEM = "14 sizes"
MIN_COLS, MIN_ROWS = 60, 15
MSG1 = "terminal too small (need %dx%d)" % (MIN_COLS, MIN_ROWS)
ELLIPSIS = "\u2026"
TIMEOUT = 3.0 * mwtest.SCALE


def cut(text, cols):
    if cols <= 0:
        return ""
    if len(text) <= cols:
        return text
    return text[:cols - 1] + ELLIPSIS


def too_small_screen(cols, rows):
    """The exact too-small screen (ui_main.c draw_too_small) as dump lines."""
    lines = [""] * rows
    y = rows // 2
    x = (cols - len(MSG1)) // 2 if cols > len(MSG1) else 0
    lines[y] = (" " * x + cut(MSG1, cols - x)).rstrip()
    msg2 = "now %dx%d; q quits" % (cols, rows)
    if y + 1 < rows:
        x2 = (cols - len(msg2)) // 2 if cols > len(msg2) else 0
        lines[y + 1] = (" " * x2 + cut(msg2, cols)).rstrip()
    return lines


def check_dump(lines, cols, rows, what):
    eq(len(lines), rows, "%s: rows in the dump" % what)
    wide = [(i, ln) for i, ln in enumerate(lines) if len(ln) > cols]
    eq(wide[:2], [], "%s: lines wider than %d columns" % (what, cols))
    if cols < MIN_COLS or rows < MIN_ROWS:
        eq(lines, too_small_screen(cols, rows), "%s: the too-small screen" % what)
    else:
        check(lines[0].startswith(" mimewatch \u2014 integrations"),
              "%s: header %r" % (what, lines[0]))
        check(uitest.line_with(lines, "sim") is not None, "%s: no integration row:\n%s"
              % (what, "\n".join(lines)))


def streaming_sim(records=1000, rate=300000):
    # Pages of 100 records drip at `rate` bytes a second: records keep
    # arriving for a few seconds.
    return mwtest.Sim(["--records", str(records), "--span", "1h",
                       "--fault", "slow:after=3,count=0,bytes=%d" % rate])


def script(sim, commands, size, env=None):
    r = uitest.run_script(commands, args=["--config", sim.config], size=size, env=env)
    eq(r.rc, 0, "console exit status at %dx%d (%s)" % (size + (r,)))
    check("script line" not in r.err, "the script failed: %s" % r)
    for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        check(bad not in r.err, "%s at %dx%d:\n%s" % ((bad,) + size + (r.err[-3000:],)))
    return r


ALL = [(c, r) for c in range(1, 31) for r in range(1, 11)]
EDGE = [(59, 15), (60, 14), (60, 15), (61, 16), (80, 24)]


def test_every_size_by_resize():
    """The 300 sizes (and the edge of the minimum) one after the other in
    one console, each dumped."""
    with streaming_sim() as sim:
        cmds = ["sleep 300"]
        for c, r in ALL + EDGE:
            cmds += ["resize %d %d" % (c, r), "dump s%dx%d" % (c, r)]
        cmds.append("quit")
        t0 = time.monotonic()
        run = script(sim, cmds, (100, 30))
        mwtest.report(ITEM, "sizes walked by resize in one console", len(ALL + EDGE),
                      "%.1f s" % (time.monotonic() - t0))
        for c, r in ALL + EDGE:
            check_dump(run.dumps["s%dx%d" % (c, r)], c, r, "resize to %dx%d" % (c, r))


def test_every_size_at_start():
    sizes = mwtest.scaled([(1, 1), (1, 10), (30, 1), (2, 2), (7, 3), (13, 5), (30, 10),
                           (59, 15), (60, 14)], ALL + EDGE)
    with streaming_sim() as sim:
        t0 = time.monotonic()
        for c, r in sizes:
            run = script(sim, ["sleep 50", "dump a", "key x", "key ?", "key Down", "key Enter",
                               "dump b", "quit"], (c, r))
            check_dump(run.dumps["a"], c, r, "--size %dx%d" % (c, r))
            # Keys do nothing on a screen that cannot be seen (q still quits).
            if c < MIN_COLS or r < MIN_ROWS:
                eq(run.dumps["b"], run.dumps["a"], "--size %dx%d after keys" % (c, r))
        mwtest.report(ITEM, "console starts at tiny sizes", len(sizes),
                      "%.1f s" % (time.monotonic() - t0))
        # q quits the too-small screen.
        run = uitest.run_script(["key q", "sleep 5000", "dump never"],
                                args=["--config", sim.config], size=(20, 5))
        eq(run.rc, 0, "exit status after q on the too-small screen")
        check("never" not in run.dumps, "q did not quit the too-small screen")


def test_shrink_while_streaming_script():
    with streaming_sim() as sim:
        steps = []
        c, r = 100, 30
        while c > 1 or r > 1:
            steps.append((c, r))
            c, r = max(1, c - 3), max(1, r - 1)
        steps.append((1, 1))
        cmds = ["sleep 200"]
        for way, seq in (("down", steps), ("up", steps[::-1])):
            for c, r in seq:
                cmds += ["resize %d %d" % (c, r), "sleep 20", "dump %s%dx%d" % (way, c, r)]
        cmds += ["wait-idle", "dump end", "quit"]
        run = script(sim, cmds, (100, 30))
        for way in ("down", "up"):
            for c, r in steps:
                check_dump(run.dumps["%s%dx%d" % (way, c, r)], c, r,
                           "%s to %dx%d" % ("shrinking" if way == "down" else "growing", c, r))
        check_dump(run.dumps["end"], 100, 30, "at the end")
        # The totals moved between the first 100x30 screen and the last:
        # records streamed in while the size went down to 1x1 and back.
        first = [uitest.type_row(run.dumps["down100x30"], "sim", t) for t in mwtest.TYPES]
        back = [uitest.type_row(run.dumps["up100x30"], "sim", t) for t in mwtest.TYPES]
        check(first != back, "nothing changed on screen while resizing: no records "
              "streamed\n%s" % "\n".join(first))
        counts = sim.store_counts()
        for t in mwtest.TYPES:
            eq(counts.get(("sim", t)), 1000, "%s records stored while resizing" % t)


def pty_run(sim, env=None, cols=100, rows=30):
    return test_signals.PtyConsole(sim, "job", cols=cols, rows=rows, env=env)


def quit_pty(c, what):
    t0 = time.monotonic()
    c.send(b"q")
    rc, took, _ = c.exited(t0, what)
    eq(rc, 0, "%s: exit status after q" % what)
    check(took <= TIMEOUT, "%s: %.2f s to exit after q" % (what, took))
    c.check_terminal(what)
    c.check_sanitizers(what)


def test_pty_tiny_sizes():
    sizes = mwtest.scaled([(1, 1), (2, 2), (30, 10), (59, 14)],
                          [(1, 1), (1, 10), (30, 1), (2, 2), (7, 3), (13, 5), (30, 10),
                           (59, 14), (59, 15), (60, 14)])
    with streaming_sim(600) as sim:
        for c, r in sizes:
            con = pty_run(sim, cols=c, rows=r)
            try:
                # Started (bracketed paste on), then still running a while.
                con.wait_output(b"\x1b[?2004h", timeout=20)
                if c >= 31:
                    con.wait_output(b"terminal too small", timeout=TIMEOUT)
                time.sleep(0.5)
                check(con.wait_event("exit", 0) is None, "the console exited at %dx%d: %r"
                      % (c, r, con.output()[-300:]))
                quit_pty(con, "pty at %dx%d" % (c, r))
            finally:
                con.close()


def test_pty_shrink_while_streaming():
    with streaming_sim() as sim:
        con = pty_run(sim)
        try:
            con.wait_output(b"integrations", timeout=20)
            test_signals.wait_collecting(sim, lambda: con.wait_event("exit", 0) is None)
            before = test_signals.stored_total(sim)
            c, r = 100, 30
            while c > 1 or r > 1:
                c, r = max(1, c - 3), max(1, r - 1)
                test_signals.set_size(con.master, c, r)
                time.sleep(0.05)
                check(con.wait_event("exit", 0) is None, "the console exited at %dx%d" % (c, r))
            mark = con.mark()
            test_signals.set_size(con.master, 29, 9)
            con.wait_output(b"now 29x9", since=mark, timeout=TIMEOUT)
            mark = con.mark()
            test_signals.set_size(con.master, 100, 30)
            con.wait_output(b"integrations", since=mark, timeout=TIMEOUT)
            check(test_signals.stored_total(sim) > before, "no record arrived while shrinking")
            quit_pty(con, "pty shrink while streaming")
        finally:
            con.close()


SGR = re.compile(rb"\x1b\[([0-9;:]*)m")


def colour_sgr(data):
    found = []
    for m in SGR.finditer(data):
        for p in re.split(rb"[;:]", m.group(1)):
            if p.isdigit() and (30 <= int(p) <= 38 or 40 <= int(p) <= 48 or
                                90 <= int(p) <= 107):
                found.append(m.group(0))
    return found


def test_pty_terms():
    results = {}
    with streaming_sim(600) as sim:
        for label, env in (("dumb", {"TERM": "dumb"}), ("unset", {"TERM": None}),
                           ("nosuchterm", {"TERM": "nosuchterm"}), ("vt100", {"TERM": "vt100"}),
                           ("linux", {"TERM": "linux"}), ("xterm-256color", {}),
                           ("linux NO_COLOR", {"TERM": "linux", "NO_COLOR": "1"}),
                           ("xterm-256color NO_COLOR", {"NO_COLOR": "1"})):
            e = dict(env)
            unset = "TERM" in e and e["TERM"] is None
            if unset:
                del e["TERM"]
            con = test_signals.PtyConsole(sim, "job", env=e, unset=("TERM",) if unset else ())
            try:
                if label in ("dumb", "unset", "nosuchterm"):
                    rc, took, _ = con.exited(time.monotonic(), "TERM=" + label)
                    eq(rc, 2, "TERM=%s: exit status" % label)
                    out = con.output().decode("utf-8", "replace")
                    want = {"dumb": "TERM is dumb", "unset": "TERM is not set",
                            "nosuchterm": "TERM=nosuchterm"}[label]
                    check(want in out, "TERM=%s: message %r" % (label, out))
                    check("mimewatch fetch" in out or "fetch, run, status" in out,
                          "TERM=%s: no pointer to the headless commands: %r" % (label, out))
                    check(not SGR.search(con.output()) and b"\x1b[?1049h" not in con.output(),
                          "TERM=%s: escape sequences written: %r" % (label, con.output()[:200]))
                    con.check_terminal("TERM=" + label)
                    con.check_sanitizers("TERM=" + label)
                    results[label] = "refused"
                else:
                    con.wait_output(b"integrations", timeout=20)
                    test_signals.wait_collecting(sim, lambda: con.wait_event("exit", 0) is None)
                    time.sleep(0.5)
                    # A resize to too small and back: every screen drawn.
                    mark = con.mark()
                    test_signals.set_size(con.master, 40, 10)
                    con.wait_output(b"now 40x10", since=mark, timeout=TIMEOUT)
                    mark = con.mark()
                    test_signals.set_size(con.master, 100, 30)
                    con.wait_output(b"integrations", since=mark, timeout=TIMEOUT)
                    quit_pty(con, "TERM " + label)
                    results[label] = len(colour_sgr(con.output()))
            finally:
                con.close()
    for label, n in results.items():
        mwtest.report(ITEM, "colour SGR codes written, %s" % label, n)
    check(results["linux"] > 0 and results["xterm-256color"] > 0,
          "colour terminals drew no colour (the NO_COLOR check could not fail): %r" % results)
    eq(results["vt100"], 0, "colour codes on a vt100")
    eq(results["linux NO_COLOR"], 0, "colour codes with NO_COLOR on linux")
    eq(results["xterm-256color NO_COLOR"], 0, "colour codes with NO_COLOR on xterm-256color")


if __name__ == "__main__":
    uitest.main([test_every_size_by_resize, test_every_size_at_start,
                 test_shrink_while_streaming_script, test_pty_tiny_sizes,
                 test_pty_shrink_while_streaming, test_pty_terms])
