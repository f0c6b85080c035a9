"""uitest - shared helpers of mimewatch's UI tests (stdlib only).

Drives the real console in script mode (mimewatch --script FILE): writes
the script, runs the binary with a virtual screen of the given size, and
reads back the dumps it saved (one text line per screen row). Builds on the
integration harness (mwtest.py, beside it in tests/lib) for the binaries, the
simulator, the runner convention (PASS/FAIL lines, exit 0/1, 77 skip) and
process clean-up.

Script commands (see ui/ui_main.c): key NAME, type TEXT, paste TEXT,
wait-idle, sleep MS, resize COLS ROWS, dump FILE, quit. In the lists given
to run_script, "dump NAME" names a dump that comes back in Run.dumps[NAME].
"""

import os
import shutil
import tempfile

import mwtest
from mwtest import Skip, check, eq, main  # noqa: F401


class Run:
    """What one scripted console run did."""

    def __init__(self, rc, out, err, wall, cpu, dumps, tmpdir):
        self.rc, self.out, self.err = rc, out, err
        self.wall, self.cpu = wall, cpu
        self.dumps = dumps          # name -> list of lines (one per row)
        self.tmpdir = tmpdir        # TMPDIR the console ran with

    def screen(self, name):
        return "\n".join(self.dumps[name])

    def __str__(self):
        return "console exit %s after %.1fs\n--- stderr\n%s" % (
            self.rc, self.wall, mwtest._tail(self.err))


def ui_env(extra=None, utf8=True):
    """The environment of a console run: a UTF-8 (or C) locale, no colour
    preferences inherited from the developer's shell."""
    env = dict(os.environ)
    for k in ("LC_ALL", "LC_CTYPE", "LANG", "NO_COLOR", "LINES", "COLUMNS"):
        env.pop(k, None)
    env["LC_ALL"] = "C.UTF-8" if utf8 else "C"
    env.setdefault("TERM", "xterm-256color")
    if extra:
        env.update(extra)
    return env


def run_script(commands, args=(), size=None, env=None, timeout=120, keep_tmp=False):
    """Runs `mimewatch ARGS --script FILE [--size COLSxROWS]` with commands
    (a list of script lines). Returns a Run; its tmpdir (the TMPDIR given
    to the console) is removed unless keep_tmp."""
    work = tempfile.mkdtemp(prefix="uitest-")
    tmpdir = os.path.join(work, "tmp")
    os.mkdir(tmpdir, 0o700)
    lines, names = [], []
    for c in commands:
        if c.startswith("dump "):
            name = c[5:].strip()
            names.append(name)
            c = "dump " + os.path.join(work, name + ".txt")
        lines.append(c)
    script = os.path.join(work, "script")
    with open(script, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    argv = [mwtest.MIMEWATCH] + list(args) + ["--script", script]
    if size:
        argv += ["--size", "%dx%d" % size]
    e = ui_env(env)
    e["TMPDIR"] = tmpdir
    rc, out, err, wall, cpu, _ = mwtest.run_process(argv, timeout * mwtest.SCALE, env=e)
    dumps = {}
    for name in names:
        path = os.path.join(work, name + ".txt")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                dumps[name] = f.read().split("\n")[:-1]
    run = Run(rc, out, err, wall, cpu, dumps, tmpdir)
    run.leftovers = sorted(os.listdir(tmpdir))
    if not keep_tmp:
        shutil.rmtree(work, ignore_errors=True)
    return run


class fetched_sim(mwtest.Sim):
    """A simulated tenant already fetched into its store and NDJSON output;
    every hostile_every-th record hostile (0: none)."""

    def __init__(self, records=300, hostile_every=5):
        args = ["--records", str(records)]
        if hostile_every:
            args += ["--hostile-every", str(hostile_every)]
        super().__init__(args)

    def __enter__(self):
        super().__enter__()
        try:
            self.fetch()
        except BaseException:
            self.stop()
            raise
        return self


def string_values(obj):
    """Every string value of a record, at any depth (what the filter reads)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from string_values(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from string_values(v)


def text_matches(record, needle):
    """The preview's filter: case-insensitive, inside string values only."""
    n = needle.lower()
    return any(n in s.lower() for s in string_values(record))


def note_runs(con):
    """Records inserted with SQL of a test's own are not in any run (the
    store reads a source through its runs of rowids, store/db.c): adds the
    runs of every row above the last run, as store_commit_page would have."""
    con.execute(
        "INSERT INTO runs(source, first, last, n) SELECT source, min(rowid), max(rowid), "
        "count(*) FROM (SELECT source, rowid, rowid - row_number() OVER (PARTITION BY "
        "source ORDER BY rowid) AS island FROM records WHERE rowid > (SELECT "
        "coalesce(max(last), 0) FROM runs)) GROUP BY source, island")


def seed_url_records(db, n, base):
    """Adds n URL records of integration "sim" to the store at db, inside
    SQLite (a million in seconds): times base, base + 1, ...; 977 users;
    one in seven a threat. Counted in the type's total; every output marked
    as having delivered them, so the console's own output thread does not
    spend the run writing them out."""
    import sqlite3
    con = sqlite3.connect(db, timeout=30)
    src = con.execute("SELECT id FROM sources WHERE integration='sim' AND type='url'"
                      ).fetchone()[0]
    con.execute(
        "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
        "INSERT INTO records(source, id, time, collected, threat, json) "
        "SELECT ?, 'big-' || i, ? + i, ? + i, i % 7 = 0, "
        "printf('{\"userEmailAddress\":\"user%d@big.example\",\"url\":"
        "\"https://big.example/p/%d\",\"action\":\"%s\",\"scanResult\":\"%s\","
        "\"category\":\"Business\",\"date\":\"\"}', i % 977, i, "
        "CASE WHEN i % 7 = 0 THEN 'block' ELSE 'allow' END, "
        "CASE WHEN i % 7 = 0 THEN 'malicious' ELSE 'clean' END) FROM c",
        (n - 1, src, base, base))
    note_runs(con)
    con.execute("UPDATE cursors SET total = total + ? WHERE source = ?", (n, src))
    con.execute("UPDATE outputs SET last_rowid = (SELECT max(rowid) FROM records)")
    con.commit()
    con.close()


def status_message(screen):
    """The status line's message: the bottom lines below the key hints (a
    long message wraps onto up to three, ui/frame.c), joined by a space."""
    lines = [line.rstrip() for line in screen]
    hints = max(k for k, line in enumerate(lines) if "? help" in line)
    return " ".join(line.strip() for line in lines[hints + 1:] if line.strip())


def line_with(lines, text):
    """The first line containing text, or None."""
    for line in lines:
        if text in line:
            return line
    return None


def need_line(lines, text, what):
    line = line_with(lines, text)
    check(line is not None, "%s: no line contains %r in:\n%s" % (what, text, "\n".join(lines)))
    return line


def type_row(lines, integration, type_):
    """The status sub-row of type_ under integration on the home screen."""
    start = None
    for i, line in enumerate(lines):
        cells = line[1:].split()
        if len(cells) >= 2 and cells[1] == integration:
            start = i
        elif start is not None and cells and cells[0] == type_:
            return line
    raise mwtest.CheckFailed("no %s/%s row in:\n%s" % (integration, type_, "\n".join(lines)))


def row_cells(line):
    """A type row split into its columns (state words kept together)."""
    return line[1:].split()
