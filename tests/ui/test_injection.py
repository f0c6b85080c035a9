#!/usr/bin/env python3
"""Issue 4 item 11a: the terminal-injection corpus on a real terminal.

The console runs in a pseudo-terminal (TERM=xterm-256color, 120x40) on a
store holding mimewatch-sim --hostile-corpus records (CSI, OSC title/8/52,
DCS, APC, PM, SOS, raw 0x9B and U+009B, CR BS TAB VT FF DEL NUL, bidi,
zero-width, 10,000 combining marks, invalid UTF-8, lone surrogates, wide CJK,
emoji in every string field). It opens every preview (Tab), scrolls, opens
the detail of hostile records, and the help; every byte it writes is kept.

The byte stream is audited token by token: every escape sequence must be
one the terminfo entry of xterm-256color describes (or the console's own
bracketed-paste switch), so there is no OSC (the title cannot change), no
DCS/APC/PM/SOS, no C1 control raw or as UTF-8, no BEL/VT/FF/NUL/DEL, no
bidi or zero-width control. A small xterm model replays the stream: no
character is ever printed past the right margin (an autowrap), the title
and footer rows stay in place, every preview cell stays within its column,
and where a payload marker shows, its escape shows before it as text.

Issue 14.1, on the same pty and terminal model: Home, End, PgUp, PgDn and
Delete in every common encoding (ESC [ 1 ~, ESC O H, ...) act as those keys
on home, in the help and in a text field, under TERM=xterm-256color and
vt100; a lone Esc still goes back at once."""

import ctypes
import fcntl
import os
import re
import struct
import subprocess
import termios
import threading
import time

import uitest
from uitest import check, eq

mwtest = uitest.mwtest

COLS, ROWS = 120, 40
TERM = "xterm-256color"
NCORPUS = 13
RECORDS = mwtest.scaled(2 * NCORPUS, 8 * NCORPUS)
DETAILS = mwtest.scaled(3, NCORPUS)   # hostile records opened per type

# Payload markers and the text the sanitiser must show right before them.
SHOWN_BEFORE = {
    "PWNED-CSI": "\\x1b[31m",
    "PWNED-TITLE\\x07": "\\x1b]0;",
    "PWNED-TITLE2": "\\x1b]2;",
    "PWNED-LINK": "\\x1b]8;;https://evil.example/",
    "PWNED-DCS": "\\x1bPq#0;2;0;0;0",
    "PWNED-APC": "\\x1b_",
    "PWNED-PM": "\\x1b^",
    "PWNED-SOS": "\\x1bX",
    "PWNED-C29B": "\\x9b32m",
    "PWNED-C1OSC": "\\x9d0;",
    "PWNED-BIDI": "<U+202E>",
    "PWNED-KEYTITLE": "\\x1b]0;",
}
INVISIBLE = re.compile("[\u0080-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069"
                       "\ufeff]")

_libc = ctypes.CDLL(None)
_libc.setlocale.restype = ctypes.c_char_p
_libc.setlocale(0, b"C.UTF-8")   # LC_CTYPE, as the console's locale
_libc.wcwidth.argtypes = [ctypes.c_int]


def wcwidth(ch):
    """The width the console (ncurses, via libc) gives a character."""
    return _libc.wcwidth(ord(ch))


# ---- what ncurses may send: the terminfo entry ----------------------------------------

def terminfo_strings(term, keys=False):
    """Every string capability of term but the keys (or only the keys),
    decoded."""
    out = subprocess.run(["infocmp", "-1", "-x", term], capture_output=True, text=True,
                         check=True).stdout
    caps = {}
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, val = line.rstrip(",").split("=", 1)
        # keys are what the terminal sends; u6-u9 answer its queries
        if (name.startswith("k") or name in ("u6", "u7", "u8", "u9")) != keys:
            continue
        caps[name] = decode_terminfo(val)
    return caps


def decode_terminfo(v):
    out, i = [], 0
    while i < len(v):
        c = v[i]
        if c == "\\" and i + 1 < len(v):
            n = v[i + 1]
            if n in "0123":
                out.append(chr(int(v[i + 1:i + 4], 8) or 0x80))
                i += 4
                continue
            out.append({"E": "\x1b", "e": "\x1b", "n": "\n", "r": "\r", "t": "\t", "b": "\b",
                        "f": "\f", "s": " ", "l": "\n", "^": "^", "\\": "\\",
                        ",": ",", ":": ":"}.get(n, n))
            i += 2
        elif c == "^" and i + 1 < len(v):
            out.append(chr(ord(v[i + 1]) & 0x1f))
            i += 2
        else:
            out.append(c)
            i += 1
    return re.sub(r"\$<[0-9.*/]+>", "", "".join(out))   # padding


class Allowed:
    """The escape sequences ncurses may emit for the terminfo entry: CSI
    sequences of parameterised capabilities by (private marker, final),
    the others exactly; plus two-character escapes."""

    def __init__(self, term):
        self.exact, self.shapes, self.esc = set(), set(), set()
        for name, val in terminfo_strings(term).items():
            for m in re.finditer(r"\x1b\[([?>!]?)((?:[0-9;]|%[^a-zA-Z]*[a-zA-Z]|%.)*)"
                                 r"([\x20-\x2f]*[\x40-\x7e])", val):
                if "%" in m.group(2):
                    self.shapes.add((m.group(1), m.group(3)))
                else:
                    self.exact.add(m.group(0))
            for m in re.finditer(r"\x1b([^\[\]P_^X])", val):
                seq = m.group(1)
                if seq in "()*+#" and m.end() < len(val):
                    seq += val[m.end()]
                self.esc.add(seq)
        # The console's own: bracketed paste on and off (console.c); mouse
        # reports on and off, which ncurses sends from the extended
        # capability XM (not among the strings read above) for mousemask.
        self.exact |= {"\x1b[?2004h", "\x1b[?2004l", "\x1b[?1006;1000h", "\x1b[?1006;1000l"}

    def csi_ok(self, seq, marker, params, final):
        if seq in self.exact:
            return True
        return (marker, final) in self.shapes and re.fullmatch(r"[0-9;]*", params) is not None


# ---- a small xterm --------------------------------------------------------------------

class Screen:
    """An xterm model: enough of VT100/xterm for what ncurses sends, with
    autowrap (am, xenl) counted as an event, never expected."""

    def __init__(self, cols, rows, allowed):
        self.cols, self.rows, self.allowed = cols, rows, allowed
        self.buf = b""
        self.problems = []
        self.wraps = 0
        self.counts = {}
        self.reset()

    def reset(self):
        self.cells = [[" "] * self.cols for _ in range(self.rows)]
        self.x = self.y = 0
        self.top, self.bot = 0, self.rows - 1
        self.pending = False
        self.saved = (0, 0)
        self.last = " "

    def problem(self, what):
        if len(self.problems) < 50:
            self.problems.append(what)

    def text(self):
        return ["".join(c for c in row if c is not None) for row in self.cells]

    # -- feeding
    def feed(self, data):
        self.buf += data
        i, b = 0, self.buf
        while i < len(b):
            n = self.token(b, i)
            if n is None:
                break
            i = n
        self.buf = b[i:]

    def token(self, b, i):
        c = b[i]
        if c == 0x1b:
            if i + 1 >= len(b):
                return None
            n = b[i + 1]
            if n == 0x5b:   # CSI
                j = i + 2
                while j < len(b) and 0x30 <= b[j] <= 0x3f:
                    j += 1
                k = j
                while k < len(b) and 0x20 <= b[k] <= 0x2f:
                    k += 1
                if k >= len(b):
                    return None if len(b) - i < 64 else self.bad(b, i, i + 2, "unterminated CSI")
                if not 0x40 <= b[k] <= 0x7e:
                    return self.bad(b, i, k + 1, "malformed CSI")
                self.csi(b[i:k + 1].decode("latin-1"))
                return k + 1
            if n in b"]P_^X":   # OSC DCS APC PM SOS: strings
                self.count("string sequence ESC %s" % chr(n))
                self.problem("a string sequence ESC %s ... %r" % (chr(n), b[i:i + 60]))
                j = i + 2
                while j < len(b) and b[j] != 0x07 and b[j:j + 2] != b"\x1b\\":
                    j += 1
                if j >= len(b):
                    return None if len(b) - i < 4096 else len(b)
                return j + (1 if b[j] == 0x07 else 2)
            if n in b"()*+#":
                if i + 2 >= len(b):
                    return None
                self.esc(chr(n) + chr(b[i + 2]))
                return i + 3
            self.esc(chr(n))
            return i + 2
        if c < 0x20 or c == 0x7f:
            self.control(c)
            return i + 1
        if c < 0x80:
            self.put(chr(c))
            return i + 1
        # UTF-8, strictly
        need = 1 if 0xc2 <= c <= 0xdf else 2 if 0xe0 <= c <= 0xef else 3 if 0xf0 <= c <= 0xf4 \
            else 0
        if not need:
            return self.bad(b, i, i + 1, "byte 0x%02x that is not UTF-8" % c)
        if i + need >= len(b):
            return None   # the rest is still to come
        try:
            ch = b[i:i + need + 1].decode("utf-8")
        except UnicodeDecodeError:
            return self.bad(b, i, i + 1, "invalid UTF-8 %r" % b[i:i + need + 1])
        if INVISIBLE.match(ch):
            self.count("invisible U+%04X" % ord(ch))
            self.problem("a C1, bidi or zero-width control U+%04X reached the terminal"
                         % ord(ch))
        self.put(ch)
        return i + need + 1

    def bad(self, b, i, j, why):
        self.count(why)
        self.problem("%s at %r" % (why, b[max(0, i - 20):i + 20]))
        return j

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    # -- C0
    def control(self, c):
        if c == 0x0d:
            self.x, self.pending = 0, False
        elif c == 0x0a:
            self.lf()
        elif c == 0x08:
            self.x, self.pending = max(0, self.x - 1), False
        elif c == 0x09:
            self.x, self.pending = min(self.cols - 1, (self.x // 8 + 1) * 8), False
        else:
            self.count("control 0x%02x" % c)
            self.problem("control byte 0x%02x (not one ncurses moves the cursor with)" % c)

    def lf(self):
        self.pending = False
        if self.y == self.bot:
            self.scroll(self.top, self.bot, 1)
        elif self.y < self.rows - 1:
            self.y += 1

    def scroll(self, top, bot, n):
        for _ in range(n):
            if n > 0:
                del self.cells[top]
                self.cells.insert(bot, [" "] * self.cols)

    def rscroll(self, top, bot, n):
        for _ in range(n):
            del self.cells[bot]
            self.cells.insert(top, [" "] * self.cols)

    # -- printing
    def put(self, ch):
        w = wcwidth(ch)
        if w == 0:
            # combining: joins the previous cell, as xterm does
            px = self.x - 1 if not self.pending else self.x
            px = max(px, 0)
            row = self.cells[self.y]
            while px > 0 and row[px] is None:
                px -= 1
            row[px] += ch
            return
        if w < 0:
            self.count("unprintable U+%04X" % ord(ch))
            self.problem("unprintable character U+%04X sent" % ord(ch))
            w = 1
        if self.pending or self.x + w > self.cols:
            self.wraps += 1
            self.problem("autowrap: %r printed past column %d on row %d: %r"
                         % (ch, self.cols, self.y, "".join(c or "" for c in
                                                          self.cells[self.y])[-40:]))
            self.x, self.pending = 0, False
            self.lf()
        row = self.cells[self.y]
        self.clear_cell(row, self.x)
        row[self.x] = ch
        if w == 2:
            self.clear_cell(row, self.x + 1)
            row[self.x + 1] = None
        self.last = ch
        if self.x + w >= self.cols:
            self.x = self.cols - 1
            self.pending = True
        else:
            self.x += w

    def clear_cell(self, row, x):
        """Overwriting half of a wide character blanks the other half."""
        if row[x] is None and x > 0:
            row[x - 1] = " "
        if x + 1 < self.cols and row[x + 1] is None:
            row[x + 1] = " "
        row[x] = " "

    # -- escapes
    def esc(self, seq):
        if seq not in self.allowed.esc:
            self.count("ESC %r" % seq)
            self.problem("escape ESC %r is not in the terminfo entry" % seq)
            return
        if seq == "7":
            self.saved = (self.x, self.y)
        elif seq == "8":
            self.x, self.y = self.saved
            self.pending = False
        elif seq == "M":
            if self.y == self.top:
                self.rscroll(self.top, self.bot, 1)
            elif self.y > 0:
                self.y -= 1
        elif seq == "D":
            self.lf()
        elif seq == "E":
            self.x = 0
            self.lf()

    def csi(self, seq):
        m = re.fullmatch(r"\x1b\[([?>!]?)([\x30-\x3f]*?)([\x20-\x2f]*[\x40-\x7e])", seq)
        marker, params, final = m.group(1), m.group(2), m.group(3)
        if not self.allowed.csi_ok(seq, marker, params, final):
            self.count("CSI %r" % seq)
            self.problem("CSI %r is not one the terminfo entry describes" % seq)
            return
        if marker:
            if seq in ("\x1b[?1049h", "\x1b[?1049l", "\x1b[?47h", "\x1b[?47l"):
                self.reset()
            return
        ps = [int(p) if p else 0 for p in params.split(";")] if params else []

        def p(k, d=1):
            return ps[k] if len(ps) > k and ps[k] else d
        self.pending = final in "mbt" and self.pending
        if final in "Hf":
            self.y = min(self.rows - 1, p(0) - 1)
            self.x = min(self.cols - 1, p(1) - 1)
        elif final == "A":
            self.y = max(self.top if self.y >= self.top else 0, self.y - p(0))
        elif final == "B":
            self.y = min(self.bot if self.y <= self.bot else self.rows - 1, self.y + p(0))
        elif final == "C":
            self.x = min(self.cols - 1, self.x + p(0))
        elif final == "D":
            self.x = max(0, self.x - p(0))
        elif final == "G":
            self.x = min(self.cols - 1, p(0) - 1)
        elif final == "d":
            self.y = min(self.rows - 1, p(0) - 1)
        elif final == "J":
            mode = p(0, 0)
            rows = range(self.y + 1, self.rows) if mode == 0 else \
                range(0, self.y) if mode == 1 else range(self.rows)
            for r in rows:
                self.cells[r] = [" "] * self.cols
            if mode == 0:
                self.erase(self.y, self.x, self.cols)
            elif mode == 1:
                self.erase(self.y, 0, self.x + 1)
        elif final == "K":
            mode = p(0, 0)
            if mode == 0:
                self.erase(self.y, self.x, self.cols)
            elif mode == 1:
                self.erase(self.y, 0, self.x + 1)
            else:
                self.erase(self.y, 0, self.cols)
        elif final == "X":
            self.erase(self.y, self.x, min(self.cols, self.x + p(0)))
        elif final == "P":
            row = self.cells[self.y]
            n = min(p(0), self.cols - self.x)
            del row[self.x:self.x + n]
            row.extend([" "] * n)
        elif final == "@":
            row = self.cells[self.y]
            n = min(p(0), self.cols - self.x)
            row[self.x:self.x] = [" "] * n
            del row[self.cols:]
        elif final == "L":
            if self.top <= self.y <= self.bot:
                self.rscroll(self.y, self.bot, p(0))
        elif final == "M":
            if self.top <= self.y <= self.bot:
                self.scroll(self.y, self.bot, p(0))
        elif final == "S":
            self.scroll(self.top, self.bot, p(0))
        elif final == "T":
            self.rscroll(self.top, self.bot, p(0))
        elif final == "r":
            self.top = p(0) - 1
            self.bot = min(self.rows, p(1, self.rows)) - 1
            self.x = self.y = 0
        elif final == "b":   # REP: the last printed character again
            for _ in range(p(0)):
                self.put(self.last)
        elif final == "Z":
            self.x = max(0, (self.x - 1) // 8 * 8)
        # m (SGR), t (title stack of smcup/rmcup), h/l (modes): no cells

    def erase(self, y, x0, x1):
        row = self.cells[y]
        for x in range(x0, x1):
            self.clear_cell(row, x)


# ---- the console in a pty -------------------------------------------------------------

class Pty:
    def __init__(self, argv, env, allowed):
        self.screen = Screen(COLS, ROWS, allowed)
        self.raw = bytearray()
        self.lock = threading.Lock()
        self.last_output = time.monotonic()
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, preexec_fn=ctty, close_fds=True)
        mwtest._procs.append(self.proc)
        os.close(slave)
        self.master = master
        self.reader = threading.Thread(target=self.read_loop, daemon=True)
        self.reader.start()

    def read_loop(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                break
            if not data:
                break
            with self.lock:
                self.raw += data
                self.screen.feed(data)
                self.last_output = time.monotonic()

    def send(self, keys):
        os.write(self.master, keys.encode("utf-8") if isinstance(keys, str) else keys)

    def settle(self, want=None, quiet=0.3, timeout=20):
        """Waits until want (a regex) is on the screen and the console has
        been quiet for a moment; returns the screen rows."""
        end = time.monotonic() + timeout * mwtest.SCALE
        time.sleep(0.05)
        while True:
            with self.lock:
                rows = self.screen.text()
                idle = time.monotonic() - self.last_output
            if (want is None or re.search(want, "\n".join(rows), re.M)) and idle >= quiet:
                return rows
            if time.monotonic() > end:
                raise mwtest.CheckFailed("%r never settled on the screen:\n%s"
                                         % (want, "\n".join(rows)))
            if self.proc.poll() is not None:
                raise mwtest.CheckFailed("the console exited (%s) waiting for %r:\n%s"
                                         % (self.proc.returncode, want, "\n".join(rows)))
            time.sleep(0.05)

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                pass
        self.proc.wait()
        if self.proc in mwtest._procs:
            mwtest._procs.remove(self.proc)
        self.reader.join(5)
        os.close(self.master)


# ---- screen checks --------------------------------------------------------------------

TIME_CELL = re.compile(r"^ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ")


def check_frame(name, rows):
    check(rows[0].startswith(" mimewatch — "), "%s: the title row was overwritten: %r\n%s"
          % (name, rows[0], "\n".join(rows)))
    check(rows[-2].startswith(" ") and "? help" in rows[-2],
          "%s: the footer row was overwritten: %r\n%s" % (name, rows[-2], "\n".join(rows)))


def check_markers(name, rows):
    """A payload marker on screen has its escape shown as text before it."""
    shown = 0
    for y, row in enumerate(rows):
        for marker, before in SHOWN_BEFORE.items():
            for m in re.finditer(re.escape(marker), row):
                head = row[:m.start()]
                if not head.strip():
                    # a wrapped detail line: the escape ends the row above
                    if y < 3:
                        continue
                    head = rows[y - 1].rstrip()
                shown += 1
                check(head.endswith(before),
                      "%s: %s is not preceded by the visible %r: %r"
                      % (name, marker, before, row[max(0, m.start() - 60):m.end()]))
    return shown


def check_columns(name, rows, cells):
    """Preview rows: the gap before every column stays blank, the time
    cell is where it belongs."""
    head = None
    for i, row in enumerate(rows):
        if row.startswith(" Time "):
            head = i
            break
    check(head is not None, "%s: no table header:\n%s" % (name, "\n".join(rows)))
    starts = [m.start() for m in re.finditer(r"(?<=  )\S", rows[head])]
    data = 0
    for y in range(head + 1, ROWS - 2):
        row = rows[y]
        if not row.strip():
            continue
        data += 1
        check(TIME_CELL.match(row), "%s row %d: the time cell moved: %r" % (name, y, row))
        for x in starts:
            c = cells[y][x - 1]
            check(c == " ", "%s row %d: column at %d overflowed into its gap (%r): %r"
                  % (name, y, x, c, row))
    return data


def test_injection_pty():
    allowed = Allowed(TERM)
    keys = terminfo_strings(TERM, keys=True)   # what the keys send in keypad mode
    down, pgdn, end = keys["kcud1"], keys["knp"], keys["kend"]
    with mwtest.Sim(["--records", str(RECORDS), "--hostile-every", "1", "--hostile-corpus",
                     "--span", "6h"]) as sim:
        r = sim.fetch()
        env = uitest.ui_env({"TERM": TERM})
        env["TMPDIR"] = os.path.join(sim.dir, "tmp")
        os.mkdir(env["TMPDIR"], 0o700)
        t = Pty([mwtest.MIMEWATCH, "--config", sim.config], env, allowed)
        shots = []   # (name, rows, cells)

        def shot(name, want=None):
            rows = t.settle(want)
            with t.lock:
                cells = [list(row) for row in t.screen.cells]
            shots.append((name, rows, cells))
            if os.environ.get("MW_PTY_DEBUG"):
                print("---- %s\n%s" % (name, "\n".join(rows)), flush=True)
            return rows

        try:
            shot("home", r"integration / type")
            t.send("\r")
            shot("preview url", r"^ Time .*URL")
            for k, type_ in enumerate(mwtest.TYPES):
                if k:
                    t.send("\t")
                    shot("preview %s" % type_, r"^ \d+ records")
                for d in range(DETAILS):
                    t.send("\r")
                    shot("%s detail %d" % (type_, d), r"lines \d+-\d+ of")
                    t.send(pgdn)
                    shot("%s detail %d pgdn" % (type_, d), r"lines \d+-\d+ of")
                    t.send("q")
                    shot("preview %s back %d" % (type_, d), r"^ Time ")
                    t.send(down)
                    shot("preview %s row %d" % (type_, d + 1), r"^ Time ")
                t.send(pgdn)
                shot("preview %s pgdn" % type_, r"^ Time ")
                t.send(end)
                shot("preview %s end" % type_, r"^ Time ")
            t.send("?")
            shot("help", r"(?i)keys")
            t.send("q")
            shot("preview after help", r"^ Time ")
            t.send("q")
            shot("home again", r"integration / type")
            t.send("q")
            deadline = time.monotonic() + 10 * mwtest.SCALE
            while t.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            eq(t.proc.poll(), 0, "console exit status after q")
            time.sleep(0.2)
        finally:
            t.close()
            if os.environ.get("MW_PTY_RAW"):   # for debugging: the bytes written
                with open(os.environ["MW_PTY_RAW"], "wb") as f:
                    f.write(bytes(t.raw))

        # The whole stream: only terminfo escapes, nothing else that drives
        # the terminal.
        scr = t.screen
        check(not scr.problems, "the byte stream drives the terminal beyond ncurses' own "
              "sequences (%d kinds: %r):\n%s" % (len(scr.counts), scr.counts,
                                                 "\n".join(scr.problems[:15])))
        raw = bytes(t.raw)
        # (a lone 0x9B is caught by the strict UTF-8 tokenizer: it is also a
        # continuation byte, e.g. of U+66F8)
        for bad in (b"\x1b]", b"\x1bP", b"\x1b_", b"\x1b^", b"\x1bX", b"\x07",
                    b"\xc2\x9b", b"PWNED-TITLE\x07"):
            check(bad not in raw, "%r was written to the terminal" % bad)
        eq(scr.wraps, 0, "characters printed past the right margin")

        shown = details = previews = 0
        for name, rows, cells in shots:
            check_frame(name, rows)
            shown += check_markers(name, rows)
            if name.startswith("preview"):
                previews += 1
                check(check_columns(name, rows, cells) > 0, "%s: no rows" % name)
            if "detail" in name:
                details += 1
        check(shown >= 3 * len(SHOWN_BEFORE), "only %d payload markers were on screen" % shown)
        mwtest.report("11 hostile text", "pty bytes audited", len(raw),
                      "%d screens (%d previews, %d details); escapes outside terminfo: 0, "
                      "OSC/DCS/APC/PM/SOS: 0, C1: 0, autowraps: 0" % (len(shots), previews,
                                                                      details))
        mwtest.report("11 hostile text", "payload markers seen escaped on screen", shown, "")


# ---- keys as terminals send them (issue 14.1) -----------------------------------------

# Every common encoding of Home, End, PgUp, PgDn and Delete, whatever the
# terminfo entry says: xterm's normal and application modes, the vt220
# family (tmux, screen, PuTTY, the Linux console) and rxvt.
KEY_ENCODINGS = {
    "Home": ["\x1b[1~", "\x1b[7~", "\x1b[H", "\x1bOH"],
    "End": ["\x1b[4~", "\x1b[8~", "\x1b[F", "\x1bOF"],
    "PgUp": ["\x1b[5~"],
    "PgDn": ["\x1b[6~"],
    "Delete": ["\x1b[3~"],
}


def selected_row(rows):
    """The home screen's selected row (the one marked ">"), or -1."""
    for y, row in enumerate(rows):
        if row.startswith(">"):
            return y
    return -1


def check_keys_on(term):
    with mwtest.Sim(["--records", "30", "--span", "2h"]) as sim:
        sim.fetch()
        env = uitest.ui_env({"TERM": term})
        env["TMPDIR"] = os.path.join(sim.dir, "tmp")
        os.mkdir(env["TMPDIR"], 0o700)
        t = Pty([mwtest.MIMEWATCH, "--config", sim.config], env, Allowed(term))
        try:
            rows = t.settle(r"integration / type")
            first = selected_row(rows)
            check(first > 0, "%s: no selected row on home:\n%s" % (term, "\n".join(rows)))
            # The last row of the list: Down until the selection stops.
            t.send("j" * 12)
            last = selected_row(t.settle(r"integration / type"))
            check(last > first, "%s: Down did not move the selection" % term)
            t.send("k" * 12)
            t.settle(r"integration / type")
            for name, want in (("End", last), ("Home", first), ("PgDn", last),
                               ("PgUp", first)):
                for seq in KEY_ENCODINGS[name]:
                    t.send(seq)
                    rows = t.settle(r"integration / type")
                    eq(selected_row(rows), want, "%s: the selected row on home after %s sent "
                       "as %r\n%s" % (term, name, seq, "\n".join(rows)))
                    check("unknown key" not in rows[-1],
                          "%s: %r reported as an unknown key: %r" % (term, seq, rows[-1]))
            # Help scrolls: End shows its last line, Home its first; neither leaves.
            t.send("?")
            t.settle(r"Keys of every screen")
            for seq_end, seq_home in zip(KEY_ENCODINGS["End"], KEY_ENCODINGS["Home"]):
                t.send(seq_end)
                rows = t.settle(r"pasting is safe")
                check("Keys of every screen" not in "\n".join(rows),
                      "%s: help after End sent as %r still shows its top:\n%s"
                      % (term, seq_end, "\n".join(rows)))
                t.send(seq_home)
                t.settle(r"Keys of every screen")
            # A lone Esc still goes back, promptly.
            t0 = time.monotonic()
            t.send("\x1b")
            t.settle(r"integration / type", quiet=0.05)
            back = time.monotonic() - t0
            check(back < 2 * mwtest.SCALE, "%s: a lone Esc took %.2fs to go back" % (term, back))
            # In a text field: Home, Delete and End edit where they should.
            t.send("\r")
            t.settle(r"^ Time ")
            t.send("/abc")
            t.settle(r"Filter: abc")
            for home, end in zip(KEY_ENCODINGS["Home"], KEY_ENCODINGS["End"]):
                t.send(home + KEY_ENCODINGS["Delete"][0])
                rows = t.settle(r"Filter: ")
                check(re.search(r"Filter: bc\b", "\n".join(rows)),
                      "%s: Home (%r) then Delete did not erase the first character:\n%s"
                      % (term, home, "\n".join(rows[-4:])))
                t.send(end + "x")
                t.settle(r"Filter: bcx")
                t.send(home + "a" + end + KEY_ENCODINGS["PgUp"][0])
                t.settle(r"Filter: abcx")
                t.send(home + KEY_ENCODINGS["Delete"][0] + end)
                t.settle(r"Filter: bcx")
                t.send("\x15abc")     # C-u: the field as it was
                t.settle(r"Filter: abc\b")
            t.send("\x1b")
            t.settle(r"^ Time ")
            t.send("\x1b")
            rows = t.settle(r"integration / type")
            t.send("q")
            deadline = time.monotonic() + 10 * mwtest.SCALE
            while t.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            eq(t.proc.poll(), 0, "%s: console exit status after q" % term)
        finally:
            t.close()


def test_key_encodings_pty():
    for term in ("xterm-256color", "vt100"):
        check_keys_on(term)
    mwtest.report("14.1 keys", "encodings of Home End PgUp PgDn Delete", sum(
        len(v) for v in KEY_ENCODINGS.values()), "each on home, help and a text field, "
        "TERM=xterm-256color and vt100")


if __name__ == "__main__":
    mwtest.main([test_injection_pty, test_key_encodings_pty])
