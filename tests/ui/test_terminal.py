#!/usr/bin/env python3
"""The console in a real terminal (tmux): it opens and quits leaving the tty
settings exactly as they were, TERM=dumb or unset gets a message pointing
to the headless commands, NO_COLOR draws no colour, and resizing while
records stream shows the too-small screen and comes back, and moving the
selection pauses following (issue 14.2); the mouse (click and wheel), and
--no-mouse (issue 14.20); Home, End, PgUp, PgDn and Delete as tmux sends them, and a
lone Esc going back promptly (14.1); at 80 columns every footer keeps
`? help` and `q`, and an unknown key says so (14.4)."""

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time

import uitest
from uitest import Skip, check, eq

mwtest = uitest.mwtest


class Tmux:
    """One detached tmux session on its own server socket."""

    def __init__(self, command, env=None, cols=100, rows=30):
        if not shutil.which("tmux"):
            raise Skip("tmux is not installed")
        self.dir = tempfile.mkdtemp(prefix="uitmux-")
        self.sock = os.path.join(self.dir, "sock")
        e = uitest.ui_env(env)
        e["TMPDIR"] = os.path.join(self.dir, "tmp")
        os.mkdir(e["TMPDIR"], 0o700)
        self.tmpdir = e["TMPDIR"]
        self.env = e
        e.pop("TMUX", None)
        self.tmux("new-session", "-d", "-x", str(cols), "-y", str(rows), "-s", "t",
                  "env TERM=%s sh -c %s" % (shlex.quote(e.get("TERM", "xterm-256color")),
                                            shlex.quote(command)))
        self.tmux("set-option", "-t", "t", "remain-on-exit", "on")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null"] + list(args),
                              env=self.env, check=True, capture_output=True,
                              text=True).stdout

    def capture(self, escapes=False):
        return self.tmux("capture-pane", "-p", "-t", "t", *(["-e"] if escapes else []))

    def wait_for(self, text, timeout=20):
        end = time.monotonic() + timeout * mwtest.SCALE
        while time.monotonic() < end:
            screen = self.capture()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise mwtest.CheckFailed("%r never appeared; screen:\n%s" % (text, self.capture()))

    def wait_rows(self, timeout=20):
        """The preview's first page read: a record's time on its first row
        (keys that move or open a row do nothing before)."""
        end = time.monotonic() + timeout * mwtest.SCALE
        while time.monotonic() < end:
            if re.match(r" \d{4}-", self.capture().split("\n")[4]):
                return
            time.sleep(0.1)
        raise mwtest.CheckFailed("the preview's rows never came:\n%s" % self.capture())

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "t", *keys)

    def close(self):
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_file(path, timeout=20):
    end = time.monotonic() + timeout * mwtest.SCALE
    while time.monotonic() < end:
        if os.path.exists(path) and open(path).read().strip():
            return open(path).read().strip()
        time.sleep(0.1)
    raise mwtest.CheckFailed("%s never written" % path)


def test_opens_quits_restores_tty():
    d = tempfile.mkdtemp(prefix="uitty-")
    try:
        cmd = ("stty -a > {d}/before; {mw} --demo; echo $? > {d}/rc.tmp; stty -a > {d}/after;"
               " mv {d}/rc.tmp {d}/rc").format(d=d, mw=shlex.quote(mwtest.MIMEWATCH))
        t = Tmux(cmd)
        try:
            screen = t.wait_for("globex-us")
            check("mimewatch \u2014 integrations" in screen, screen)
            t.keys("q")
            eq(wait_file(os.path.join(d, "rc")), "0", "exit status after q")
            eq(open(os.path.join(d, "after")).read(), open(os.path.join(d, "before")).read(),
               "stty -a after the console")
            eq(os.listdir(t.tmpdir), [], "files left in TMPDIR by --demo")
        finally:
            t.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_term_dumb_or_unset():
    for term in ("dumb", None):
        env = uitest.ui_env()
        if term:
            env["TERM"] = term
        else:
            env.pop("TERM", None)
        rc, out, err, *_ = mwtest.run_process([mwtest.MIMEWATCH, "--demo"], 30, env=env)
        eq(rc, 2, "exit status with TERM=%s" % term)
        for cmd in ("mimewatch validate", "mimewatch fetch", "mimewatch run",
                    "mimewatch status"):
            check(cmd in err, "the message names %s: %r" % (cmd, err))
        check(("TERM is %s" % ("dumb" if term else "not set")) in err, err)


SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def colour_codes(text):
    found = []
    for m in SGR.finditer(text):
        for p in re.split("[;:]", m.group(1)):
            if p.isdigit() and (30 <= int(p) <= 38 or 40 <= int(p) <= 48 or
                                90 <= int(p) <= 107):
                found.append(m.group(0))
    return found


def test_no_color():
    seen = {}
    for label, env in (("colour", {}), ("NO_COLOR", {"NO_COLOR": "1"})):
        t = Tmux(shlex.quote(mwtest.MIMEWATCH) + " --demo", env=env)
        try:
            t.wait_for("globex-us")
            time.sleep(0.5)
            seen[label] = colour_codes(t.capture(escapes=True))
            t.keys("q")
        finally:
            t.close()
    check(seen["colour"], "the coloured run shows colour codes (the check can fail)")
    eq(seen["NO_COLOR"], [], "colour codes with NO_COLOR set")


def test_resize_while_streaming():
    t = Tmux(shlex.quote(mwtest.MIMEWATCH) + " --demo")
    try:
        first = t.wait_for("globex-us")
        t.tmux("resize-window", "-t", "t", "-x", "50", "-y", "10")
        t.wait_for("terminal too small (need 60x15)")
        t.tmux("resize-window", "-t", "t", "-x", "100", "-y", "30")
        t.wait_for("globex-us")
        # Rows change with no key pressed: countdowns, ages and counts.
        end = time.monotonic() + 15 * mwtest.SCALE
        changed = False
        while time.monotonic() < end and not changed:
            time.sleep(0.5)
            changed = t.capture() != first
        check(changed, "the screen changed without a key press")
        t.keys("q")
    finally:
        t.close()


def test_moving_pauses_following_in_tmux():
    """Issue 14.2 in a real terminal: Down pauses following, the page and
    the selected record stay while records arrive, Enter opens it."""
    t = Tmux(shlex.quote(mwtest.MIMEWATCH) + " --demo")
    try:
        t.wait_for("globex-us")
        t.keys("Enter")
        t.wait_for("following")
        t.wait_rows()
        t.keys("Down", "Down")
        moved = t.wait_for("paused, ").split("\n")
        end = time.monotonic() + 25 * mwtest.SCALE
        later = None
        while time.monotonic() < end:
            screen = t.capture()
            m = re.search(r"paused, (\d+) new", screen)
            if m and int(m.group(1)) > 0:
                later = screen.split("\n")
                break
            time.sleep(0.2)
        check(later, "records arrived while paused:\n%s" % t.capture())
        # Rows from 4 on (ui/view_logs.c); the footer's lines may change.
        eq(later[4:20], moved[4:20], "the page stays as it was")
        picked = moved[6][1:20]
        check(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", picked), "a time: %r" % picked)
        t.keys("Enter")
        # The detail's lines arrive over several writes (slowly under a
        # sanitizer): wait for the selected record's time line itself.
        t.wait_for("   time: " + picked)
        t.keys("q", "q", "q")
    finally:
        t.close()


def test_mouse_in_tmux():
    """Issue 14.20 in a real terminal: the console asks for the mouse (SGR
    reports), a click there selects the row under it; --no-mouse leaves
    the mouse to the terminal."""
    t = Tmux(shlex.quote(mwtest.MIMEWATCH) + " --demo")
    try:
        t.wait_for("globex-us")
        eq(t.tmux("display", "-p", "-t", "t", "#{mouse_any_flag} #{mouse_sgr_flag}").strip(),
           "1 1", "the console asked for mouse reports")
        # Rows may move between the capture and the click (a backfill's
        # progress line comes and goes): a click that found another row
        # is tried again, from a new capture, at most three times.

        def selected():
            return [l for l in t.capture().split("\n") if l.startswith(">")]
        for attempt in range(3):
            screen = t.capture().split("\n")
            row = next(i for i, l in enumerate(screen) if l[1:].split()[1:2] == ["globex-us"])
            # A press and a release of button 1 at column 6, line row (1-based).
            t.keys("-l", "\x1b[<0;6;%dM\x1b[<0;6;%dm" % (row + 1, row + 1))
            end = time.monotonic() + 3 * mwtest.SCALE
            while time.monotonic() < end and not any("globex-us" in l for l in selected()):
                time.sleep(0.1)
            if any(l[1:].split()[1:2] == ["globex-us"] for l in selected()):
                break
        check(any(l[1:].split()[1:2] == ["globex-us"] for l in selected()),
              "the click selected globex-us:\n%s" % t.capture())
        t.keys("q")
    finally:
        t.close()
    t = Tmux(shlex.quote(mwtest.MIMEWATCH) + " --demo --no-mouse")
    try:
        t.wait_for("globex-us")
        eq(t.tmux("display", "-p", "-t", "t", "#{mouse_any_flag}").strip(), "0",
           "--no-mouse: no mouse reports asked")
        t.keys("q")
    finally:
        t.close()


def wait_screen(t, pred, what, timeout=20):
    """The screen's lines once pred(lines) holds."""
    end = time.monotonic() + timeout * mwtest.SCALE
    while time.monotonic() < end:
        lines = t.capture().split("\n")
        if pred(lines):
            return lines
        time.sleep(0.1)
    raise mwtest.CheckFailed("%s never came; screen:\n%s" % (what, t.capture()))


def selected_lines(lines):
    return [l for l in lines if l.startswith(">")]


def selected_name(line):
    """The name on a selected row of home: an integration's or output's
    after its mark, a type's."""
    cells = line[1:].split()
    return cells[1] if cells and cells[0] in ("\u2714", "\u2718", "-") else cells[0]


def home_selects(name):
    """A predicate: home is shown with one row selected, name's. (Marks
    are left out: they change as the demo's tenants do.)"""
    def pred(lines):
        sel = selected_lines(lines)
        return (lines[0].startswith(" mimewatch \u2014 integrations") and len(sel) == 1
                and selected_name(sel[0]) == name)
    return pred


HELP_TOP_80 = " Keys of every screen; Up, Down, PgUp, PgDn scroll, g and G go to the top and"
MORE_BELOW_80 = " " * 60 + "more below \u2193 (PgDn)"
MORE_ABOVE_80 = " " * 60 + "more above \u2191 (PgUp)"


def test_home_end_keys_in_tmux():
    """Issue 14.1 in a real terminal at 80x24 (TERM=xterm-256color, whose
    terminfo says ESC O H and ESC O F): tmux sends Home, End, PgUp, PgDn
    and Delete as ESC[1~, ESC[4~, ESC[5~, ESC[6~ and ESC[3~. Each is its
    key on home, in the help and in a text field, none leaves the screen
    or says "unknown key", and a lone Esc goes back promptly."""
    t = Tmux(shlex.quote(mwtest.MIMEWATCH) + " --demo", cols=80, rows=24)
    try:
        t.wait_for("globex-us")
        wait_screen(t, home_selects("acme-eu"), "acme-eu selected at the start")
        # A page down from acme-eu (six rows with its five types) lands on
        # acme-v2's impersonation row.
        for key, name in (("End", "ndjson"), ("Home", "acme-eu"),
                          ("NPage", "impersonation"), ("PPage", "acme-eu")):
            t.keys(key)
            lines = wait_screen(t, home_selects(name), "%s: %s selected" % (key, name))
            check("unknown key" not in lines[23], "%s said: %r" % (key, lines[23]))
        # The help, longer than the screen: End shows its last line, Home
        # its first, and neither leaves it.
        # (each wait takes the rows it checks together: a capture can
        # fall between the redraw of one row and the next)
        t.keys("?")
        top = wait_screen(t, lambda l: l[1] == HELP_TOP_80 and l[21] == MORE_BELOW_80,
                          "the help's top, saying there is more below")
        eq(top[21], MORE_BELOW_80, "the help says there is more below")
        t.keys("End")
        end = wait_screen(t, lambda l: l[21] == MORE_ABOVE_80 and
                          l[20] == "   newline is not Enter)", "End in the help")
        check(end[0].startswith(" mimewatch \u2014 keys"), "End stays in the help: %r" % end[0])
        eq(end[20], "   newline is not Enter)", "End: the help's last line")
        t.keys("Home")
        again = wait_screen(t, lambda l: l[1] == HELP_TOP_80 and l[21] == MORE_BELOW_80,
                            "Home in the help: back at the top")
        eq(again[21], MORE_BELOW_80, "Home: back at the top")
        # A lone Esc goes back at once (ESCDELAY is 25 ms, not curses' 1 s).
        t0 = time.monotonic()
        t.keys("Escape")
        wait_screen(t, home_selects("acme-eu"), "home after Esc")
        back = time.monotonic() - t0
        check(back < 1.0 * mwtest.SCALE, "a lone Esc took %.2fs to go back" % back)
        # In a text field: Home, Delete and End edit where they should.
        t.keys("Enter")
        t.wait_for("following")
        t.wait_rows()
        t.keys("/")
        t.keys("-l", "abc")

        def prompt(text):
            return wait_screen(t, lambda l: l[21].rstrip() == " Filter: " + text,
                               "the prompt holding %r" % text)
        prompt("abc")
        t.keys("Home", "DC")
        prompt("bc")
        t.keys("End", "x")
        prompt("bcx")
        t.keys("Home", "a")
        prompt("abcx")
        t.keys("End", "DC", "y")            # Delete at the end erases nothing
        lines = prompt("abcxy")
        check(lines[0].startswith(" mimewatch \u2014 acme-eu \u00b7 URL Protect"),
              "still the preview: %r" % lines[0])
        t.keys("Escape", "Escape")
        wait_screen(t, home_selects("acme-eu"), "home after Esc, Esc")
        t.keys("q")
    finally:
        t.close()


FOOTERS_80 = {
    "home": " Enter preview  a add  e edit  d delete  v validate  f fetch  q quit  ? help",
    "preview": " Tab next type  / filter  m threats  Space follow  Enter detail  q back  ? help",
    "detail": " / search  J older  K newer  r raw  y copy  Esc back  q back  ? help",
    "trouble": " v validate  e edit  Esc back  q back  ? help",
    "help": " Esc back  q back  ? help",
}
UNKNOWN = " unknown key: press ? for help"


def test_footer_and_unknown_key_in_tmux():
    """Issue 14.4 in a real terminal at 80x24: every screen's footer keeps
    `? help` and `q`, whole; Z (bound nowhere) says "unknown key: press ?
    for help" on the last line and leaves the screen as it was; the next
    key clears it."""
    t = Tmux(shlex.quote(mwtest.MIMEWATCH) + " --demo", cols=80, rows=24)
    try:
        t.wait_for("globex-us")
        titles = {"home": " mimewatch \u2014 integrations",
                  "preview": " mimewatch \u2014 acme-eu \u00b7 URL Protect",
                  "detail": " mimewatch \u2014 acme-eu \u00b7 URL Protect record",
                  "trouble": " mimewatch \u2014 troubleshooting",
                  "help": " mimewatch \u2014 keys"}

        def on(screen):
            lines = wait_screen(t, lambda l: l[0].startswith(titles[screen]) and
                                l[22] == FOOTERS_80[screen], "%s's footer" % screen)
            t.keys("Z")
            said = wait_screen(t, lambda l: l[23] == UNKNOWN, "%s: Z says so" % screen)
            check(said[0].startswith(titles[screen]), "%s: Z left the screen: %r"
                  % (screen, said[0]))
            eq(said[22], FOOTERS_80[screen], "%s: the footer after Z" % screen)
            return lines
        on("home")
        t.keys("j")
        wait_screen(t, lambda l: l[23] == "" and home_selects("url")(l),
                    "j moves on and clears the message")
        t.keys("k")
        wait_screen(t, home_selects("acme-eu"), "k: acme-eu again")
        t.keys("Enter")
        t.wait_rows()
        on("preview")
        t.keys("Enter")
        t.wait_for("Stored record")
        on("detail")
        t.keys("q", "q")
        wait_screen(t, home_selects("acme-eu"), "home again")
        t.keys("t")
        on("trouble")
        t.keys("q", "?")
        on("help")
        t.keys("q", "q")
    finally:
        t.close()


def test_mouse_wheel_in_tmux():
    """Issue 14.20 in a real terminal at 80x24: the wheel (SGR reports of
    buttons 64 and 65, as tmux passes them on) scrolls the help three
    lines down and back; in the preview it moves the selection three rows,
    pausing following, and Enter opens the record it selected."""
    t = Tmux(shlex.quote(mwtest.MIMEWATCH) + " --demo", cols=80, rows=24)
    try:
        t.wait_for("globex-us")
        t.keys("?")
        # Each wait covers the first and the last row it compares, so a
        # capture between two rows' redraw is never taken for the screen.
        top = wait_screen(t, lambda l: l[1] == HELP_TOP_80 and l[21] == MORE_BELOW_80,
                          "the help's top")
        t.keys("-l", "\x1b[<65;10;10M")          # wheel down over the text
        both = "more above \u2191 and below \u2193 (PgUp, PgDn)".rjust(79)
        down = wait_screen(t, lambda l: l[1] != HELP_TOP_80 and l[21] == both,
                           "the wheel scrolling the help")
        eq(down[1:18], top[4:21], "the help three lines further on")
        eq(down[21], both, "more above and below")
        eq(down[22], top[22], "the footer stays")
        t.keys("-l", "\x1b[<64;10;10M")          # wheel up
        up = wait_screen(t, lambda l: l[1] == HELP_TOP_80 and l[21] == MORE_BELOW_80,
                         "the wheel back up")
        eq(up[1:22], top[1:22], "the help's top again")
        t.keys("q")
        wait_screen(t, home_selects("acme-eu"), "home")
        t.keys("Enter")
        t.wait_for("following")
        t.wait_rows()
        t.keys("-l", "\x1b[<65;30;10M")          # wheel down over the rows
        page = wait_screen(t, lambda l: re.search(r"paused, \d+ new$", l[2]),
                           "the wheel pausing following")
        # The selection was on the first row (4) while following.
        picked = page[7][1:20]
        check(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", picked), "a time: %r" % picked)
        t.keys("Enter")
        t.wait_for("   time: " + picked)
        t.keys("q", "q", "q")
    finally:
        t.close()


def test_filter_marks_matches_in_tmux():
    """Issue 14.17: what the filter matched is marked in the rows (black on
    yellow), in the field a NAME: term names and nowhere else."""
    t = Tmux(shlex.quote(mwtest.MIMEWATCH) + " --demo")
    try:
        t.wait_for("globex-us")
        t.keys("Enter")
        t.wait_for("following")
        t.keys("3", "/")
        t.keys("-l", "result:safe")
        t.wait_for("matching")
        time.sleep(0.5)
        rows = [l for l in t.capture(escapes=True).split("\n")[4:20] if "safe" in l]
        check(rows, "rows with safe:\n%s" % t.capture())
        for row in rows:
            check(re.search(r"\x1b\[43msafe\x1b", row),
                  "safe marked in its row: %r" % row)
        # A term for another field marks nothing in the Result column.
        t.keys("C-u")
        t.keys("-l", "sender:safe")
        time.sleep(1.0)
        check(not re.search(r"\x1b\[43msafe", t.capture(escapes=True)),
              "sender:safe marks no Result cell:\n%s" % t.capture())
        t.keys("Escape", "q", "q")
    finally:
        t.close()


def test_copy_osc52_in_tmux():
    """Issue 14.19: y in a record's detail copies the field under the cursor
    to the clipboard with OSC 52, which tmux takes into its buffer when
    set-clipboard is on; with it off ("external", tmux's default, which
    ignores the sequence) the console says it cannot copy."""
    for setting in ("on", "external"):
        t = Tmux(shlex.quote(mwtest.MIMEWATCH) + " --demo")
        try:
            t.tmux("set-option", "-g", "set-clipboard", setting)
            t.wait_for("globex-us")
            t.keys("Enter")
            t.wait_for("following")
            t.wait_rows()
            t.keys("Enter")
            t.wait_for("Stored record")
            end = time.monotonic() + 20 * mwtest.SCALE
            while time.monotonic() < end:   # the whole detail drawn: its cursor, its footer
                detail = t.capture().split("\n")
                if any(l.startswith(">") for l in detail) and "y copy" in "\n".join(detail):
                    break
                time.sleep(0.1)
            cursor = [l for l in detail if l.startswith(">")]
            eq(len(cursor), 1, "one cursor line:\n%s" % "\n".join(detail))
            m = re.match(r">  (\w+): (\S+)$", cursor[0])
            check(m, "the cursor on the first field: %r" % cursor[0])
            key, value = m.group(1), m.group(2)
            t.keys("y")
            if setting == "on":
                t.wait_for("copied %s (%d bytes)" % (key, len(value.encode())))
                eq(t.tmux("show-buffer"), value, "the tmux buffer after y")
            else:
                t.wait_for("copy: this terminal does not take OSC 52")
                r = subprocess.run(["tmux", "-S", t.sock, "show-buffer"], env=t.env,
                                   capture_output=True, text=True)
                eq(r.stdout, "", "no tmux buffer when set-clipboard is %s" % setting)
            t.keys("q", "q", "q")
        finally:
            t.close()


if __name__ == "__main__":
    uitest.main([test_opens_quits_restores_tty, test_term_dumb_or_unset, test_no_color,
                 test_resize_while_streaming, test_moving_pauses_following_in_tmux,
                 test_mouse_in_tmux, test_filter_marks_matches_in_tmux,
                 test_copy_osc52_in_tmux, test_home_end_keys_in_tmux,
                 test_footer_and_unknown_key_in_tmux, test_mouse_wheel_in_tmux])
