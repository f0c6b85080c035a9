#!/usr/bin/env python3
"""Torn and hostile state (issue 4 item 2): NDJSON files with a torn tail,
garbage appended, cut short or replaced by a symlink; store.db empty,
truncated, overwritten, a symlink, world-writable or owned by another user;
the config empty, cut short, world-writable, owned by another user or a
symlink. Never a silent reset of the horizon: mimewatch either recovers to
the last good state (0 lost, 0 duplicated, horizons as before) or stops with
a message naming the file and the way out, changing nothing; following that
way out then ends with every record exactly once."""

import hashlib
import json
import os
import shutil
import subprocess

import mwstate
import mwtest
from mwtest import TYPES, Sim, check, eq

N = 300  # per type: 3 pages
SIM_ARGS = ["--records", str(N), "--span", "1h"]
NOBODY = 65534


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def cursors(sim):
    import sqlite3
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(sim.state_dir, "store.db"),
                          uri=True)
    try:
        return sorted(con.execute("SELECT s.type,c.horizon,c.in_window,c.win_from,"
                                  "c.page_token FROM cursors c JOIN sources s "
                                  "ON s.id=c.source").fetchall())
    finally:
        con.close()


def exact(sim, truth):
    lost, dup, invalid, lines = mwstate.count_lost_dup(sim, truth)
    eq((lost, dup, invalid), (0, 0, 0), "(lost, duplicated, invalid lines)")
    eq(lines, 3 * N, "NDJSON lines")
    mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})


def partial_attachment(sim):
    """url and impersonation complete, attachment stopped after its first
    page (403 from then on): a committed attachment file of 100 lines, 200
    records still to come."""
    sim.faults("403:type=attachment,after=1,count=0")
    r = sim.fetch(expect_rc=1)
    eq(r.report()[("sim", "attachment")]["new"], 100, "attachment records before\n%s" % r)
    sim.faults("")
    path = sim.ndjson_files("sim", "attachment")
    eq(len(path), 1, "attachment NDJSON files")
    return path[0]


# ---- NDJSON ------------------------------------------------------------------------


def tail_cut_back(junk):
    with Sim(SIM_ARGS) as sim:
        truth = mwstate.truth_times(sim)
        f = partial_attachment(sim)
        before = os.path.getsize(f)
        with open(f, "ab") as fh:
            fh.write(junk)
        r = sim.fetch()
        check("mimewatch: %s: cut back %d bytes written after the last commit" % (f, len(junk))
              in r.err, "no cut-back message naming the file\n%s" % r)
        eq(r.report()[("sim", "attachment")]["new"], 200, "attachment records after\n%s" % r)
        check(os.path.getsize(f) > before, "nothing appended after the cut")
        mwstate.check_horizons(sim, truth)
        exact(sim, truth)


def test_ndjson_torn_tail():
    # What a kill in the middle of write() leaves: half a line, no newline.
    tail_cut_back(b'{"integration":"sim","type":"attachment","id":"12')


def test_ndjson_garbage_appended():
    tail_cut_back(b'garbage \x00\xff\xfe\x1b[2J\n{"integration":"sim","type":"attachment"}\n')


def test_ndjson_cut_short():
    """A file shorter than its committed size lost lines someone else cut:
    writing after the hole would hide it. Refused, the file untouched, the
    store still complete; moving the file aside is the way out."""
    with Sim(SIM_ARGS) as sim:
        truth = mwstate.truth_times(sim)
        f = partial_attachment(sim)
        size = os.path.getsize(f)
        with open(f, "r+b") as fh:
            fh.truncate(size - 100)
        digest = sha(f)
        r = sim.fetch(expect_rc=1)
        want = ("%s: is %d bytes, shorter than the %d bytes mimewatch wrote and committed: it "
                "was truncated or replaced; move it aside (the output then starts a new file)"
                % (f, size - 100, size))
        eq([l for l in r.err.splitlines() if want in l],
           ["mimewatch: output 'ndjson': " + want], "the refusal on stderr, once\n%s" % r)
        eq(sha(f), digest, "the cut file was written to")
        eq(r.report()[("sim", "attachment")]["new"], 200, "collection went on\n%s" % r)
        st = sim.mw(["status"])
        eq(st.rc, 1, "status exit with the output in error\n%s" % st)
        check("    error: " + want + "\n" in st.out, "status lacks the error\n%s" % st)
        js = sim.status_json()
        eq(js["outputs"][0]["state"], "error", "status --json output state")
        check(want in js["outputs"][0]["error"], "status --json output error: %r"
              % js["outputs"][0]["error"])
        # The way out.
        os.rename(f, f + ".moved")
        r = sim.fetch()
        st = sim.mw(["status"])
        eq(st.rc, 0, "status exit once delivering again\n%s" % st)
        with open(f + ".moved", "rb") as fh:
            old = fh.read()
        old_lines = old.split(b"\n")[:-1]  # the cut line is gone for good
        got = [json.loads(l)["record"]["messageId"] for l in old_lines]
        got += [l["record"]["messageId"] for l in sim.ndjson("sim", "attachment")]
        eq(len(got), len(set(got)), "attachment lines, moved file and new file: duplicates")
        lost = set(truth["attachment"]) - set(got)
        eq(len(lost), 1, "records lost beyond the one line the admin cut")
        eq(len(got), N - 1, "attachment lines in the moved and the new file")
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in ("url", "impersonation")})
        eq(sim.store_counts()[("sim", "attachment")], N, "attachment records in the store")


def test_ndjson_symlink():
    with Sim(SIM_ARGS) as sim:
        truth = mwstate.truth_times(sim)
        f = partial_attachment(sim)
        os.rename(f, f + ".real")
        os.symlink(f + ".real", f)
        digest = sha(f + ".real")
        r = sim.fetch(expect_rc=1)
        want = ("mimewatch: output 'ndjson': %s: a symbolic link where mimewatch keeps its own "
                "file; move the link aside (the output then starts a new file)" % f)
        eq([l for l in r.err.splitlines() if "symbolic link" in l], [want],
           "the refusal on stderr\n%s" % r)
        eq(sha(f + ".real"), digest, "the link's target was written to")
        # The way out: the link's target back in place of the link.
        os.unlink(f)
        os.rename(f + ".real", f)
        sim.fetch()
        mwstate.check_horizons(sim, truth)
        exact(sim, truth)


# ---- store.db --------------------------------------------------------------------


def damaged(how):
    with Sim(SIM_ARGS) as sim:
        truth = mwstate.truth_times(sim)
        sim.fetch()
        db = os.path.join(sim.state_dir, "store.db")
        size = os.path.getsize(db)
        with open(db, "r+b") as f:
            if how == "empty":
                f.truncate(0)
            elif how == "truncated":
                f.truncate(size // 2)
            elif how == "overwritten":
                f.seek(0)
                f.write(b"\x00garbage\xff" * 4096)
        digest = sha(db)
        listing = sorted(os.listdir(sim.state_dir))
        want = ("mimewatch: %s: store.db is damaged: move it aside (mv store.db "
                "store.db.damaged) to start a new store, which collects again from lookback; "
                "move the NDJSON output files aside too, or they receive those records a "
                "second time" % db)
        for cmd in (["fetch"], ["run"], ["status"], ["status", "--json"]):
            r = sim.mw(cmd, timeout=30)
            eq(r.rc, 1, "%s exit on a store %s\n%s" % (cmd, how, r))
            eq(r.err.strip(), want, "%s message on a store %s" % (cmd, how))
        eq(sha(db), digest, "the damaged store.db was changed")
        eq(sorted(os.listdir(sim.state_dir)), listing, "files in the state dir")
        eq(sim.path_requests("url"), 3, "requests sent with a damaged store")
        # The way out, as the message says.
        os.rename(db, db + ".damaged")
        shutil.move(sim.out_dir, sim.out_dir + ".old")
        sim.fetch()
        mwstate.check_horizons(sim, truth)
        exact(sim, truth)


def test_store_empty():
    damaged("empty")


def test_store_truncated():
    damaged("truncated")


def test_store_overwritten():
    damaged("overwritten")


def test_store_symlink():
    with Sim(SIM_ARGS) as sim:
        truth = mwstate.truth_times(sim)
        sim.fetch()
        before = cursors(sim)
        db = os.path.join(sim.state_dir, "store.db")
        os.rename(db, db + ".real")
        for target in (db + ".real", db + ".nowhere"):
            os.symlink(target, db)
            want = ("mimewatch: %s: a symbolic link, not the store itself; replace the link "
                    "with the file it names (mv), or point state_dir at that file's directory"
                    % db)
            for cmd in (["fetch"], ["status"]):
                r = sim.mw(cmd, timeout=30)
                eq((r.rc, r.err.strip()), (1, want), "%s with store.db a link to %s\n%s"
                   % (cmd, target, r))
            check(not os.path.exists(db + ".nowhere"), "a store created at the link's target")
            os.unlink(db)
        os.rename(db + ".real", db)
        r = sim.fetch()
        for old, new in zip(before, cursors(sim)):
            check(new[1] >= old[1], "horizon of %s went back: %r -> %r" % (old[0], old, new))
        eq(sum(v["new"] for v in r.report().values()), 0, "records new after the way out")
        mwstate.check_horizons(sim, truth)
        exact(sim, truth)


def test_store_world_writable():
    """Our own store, too open: tightened to 0600 and used, never reset."""
    with Sim(SIM_ARGS) as sim:
        truth = mwstate.truth_times(sim)
        sim.faults("403:type=attachment,after=1,count=0")
        sim.fetch(expect_rc=1)
        sim.faults("")
        db = os.path.join(sim.state_dir, "store.db")
        os.chmod(db, 0o666)
        before = cursors(sim)
        r = sim.fetch()
        eq(os.stat(db).st_mode & 0o777, 0o600, "store.db mode after a fetch")
        rep = r.report()
        eq([rep[("sim", t)]["new"] for t in TYPES], [0, 0, 200], "new records\n%s" % r)
        for old, new in zip(before, cursors(sim)):
            check(new[1] >= old[1], "horizon of %s went back: %r -> %r" % (old[0], old, new))
        mwstate.check_horizons(sim, truth)
        exact(sim, truth)


def setpriv():
    path = shutil.which("setpriv")
    if os.geteuid() != 0 or not path:
        raise mwtest.Skip("needs root and setpriv to run mimewatch as nobody")
    return [path, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]


def as_nobody(sim, args):
    env = dict(os.environ, HOME="/nonexistent")
    return mwtest.run_process(setpriv() + [mwtest.MIMEWATCH, "--config", sim.config] + args,
                              60 * mwtest.SCALE, env=env)


def test_store_other_owner():
    """store.db owned by another user: as root it is used as it is (root
    may; nothing reset, the file keeps its owner); as nobody, facing root's
    0600 store, a refusal naming the file and the fix, nothing changed."""
    setpriv()
    with Sim(SIM_ARGS) as sim:
        truth = mwstate.truth_times(sim)
        sim.faults("403:type=attachment,after=1,count=0")
        sim.fetch(expect_rc=1)
        sim.faults("")
        db = os.path.join(sim.state_dir, "store.db")
        # As root, store.db owned by nobody.
        os.chown(db, NOBODY, NOBODY)
        before = cursors(sim)
        r = sim.fetch()
        eq(os.stat(db).st_uid, NOBODY, "store.db owner after root's fetch")
        eq([r.report()[("sim", t)]["new"] for t in TYPES], [0, 0, 200], "new\n%s" % r)
        for old, new in zip(before, cursors(sim)):
            check(new[1] >= old[1], "horizon of %s went back" % old[0])
        exact(sim, truth)
        # As nobody: everything theirs but root's store.db.
        for d, dirs, files in os.walk(sim.dir):
            os.chown(d, NOBODY, NOBODY)
            for f in files:
                os.chown(os.path.join(d, f), NOBODY, NOBODY)
        os.chown(db, 0, 0)
        digest = sha(db)
        rc, out, err, wall, cpu, rss = as_nobody(sim, ["fetch"])
        want = ("mimewatch: %s: opening: unable to open database file; check that this user "
                "owns the state directory and its files" % db)
        eq((rc, err.strip()), (1, want), "fetch as nobody facing root's store.db")
        rc, out, err, wall, cpu, rss = as_nobody(sim, ["status"])
        eq((rc, err.strip()), (1, want), "status as nobody facing root's store.db")
        eq(sha(db), digest, "root's store.db changed by nobody's run")
        # The way out: give the store to the user that runs mimewatch.
        os.chown(db, NOBODY, NOBODY)
        rc, out, err, wall, cpu, rss = as_nobody(sim, ["fetch"])
        eq(rc, 0, "fetch as nobody once the store is theirs: %s" % err)
        exact(sim, truth)


# ---- the config --------------------------------------------------------------------


def test_config_hostile():
    """Each hostile config stops every headless command with exit 2 and a
    message naming the file and the fix, before the store is touched; the
    good config back, collection resumes where it was."""
    with Sim(SIM_ARGS) as sim:
        truth = mwstate.truth_times(sim)
        sim.faults("403:type=attachment,after=1,count=0")
        sim.fetch(expect_rc=1)
        sim.faults("")
        good = sim.read_config()
        c = sim.config
        before = cursors(sim)
        db = os.path.join(sim.state_dir, "store.db")
        digest = sha(db)
        home = os.path.join(sim.dir, "home")
        env = dict(os.environ, HOME=home, XDG_STATE_HOME=os.path.join(home, "state"),
                   XDG_CONFIG_HOME=os.path.join(home, "config"))
        lines = good.splitlines(True)
        cut = "".join(lines[:len(lines) // 2])
        cut = cut[:-12]  # mid-line too
        cases = [
            ("empty", "", 0o600, None,
             "mimewatch: %s configures no integration (is it empty or cut short?); restore "
             "it from a backup, or run `mimewatch --config %s` to add one with the wizard"
             % (c, c)),
            ("comments only", "# nothing here\n", 0o600, None,
             "mimewatch: %s configures no integration (is it empty or cut short?)" % c),
            ("cut short", cut, 0o600, None, "mimewatch: %s:%d" % (c, len(cut.splitlines()))),
            ("world-writable", good, 0o666, None,
             "mimewatch: %s: permissions 0666 are too open" % c),
            ("group-readable", good, 0o640, None,
             "mimewatch: %s: permissions 0640 are too open" % c),
            ("owned by nobody", good, 0o600, NOBODY,
             "mimewatch: %s is owned by uid %d, not by you (uid 0)" % (c, NOBODY)),
        ]
        if os.geteuid() != 0:
            cases = [k for k in cases if k[3] is None]
        for name, text, mode, owner, want in cases:
            with open(c, "w") as f:
                f.write(text)
            os.chmod(c, mode)
            if owner is not None:
                os.chown(c, owner, owner)
            for cmd in (["fetch"], ["run"], ["status"], ["validate"]):
                r = sim.mw(cmd, env=env, timeout=30)
                eq(r.rc, 2, "%s with a config %s\n%s" % (cmd, name, r))
                # (src/config/ words the mode and owner refusals; item 10 pins them)
                check(r.err.startswith("mimewatch: ") and
                      (r.err.startswith(want) or want[len("mimewatch: "):] in r.err),
                      "%s with a config %s: stderr %r, expected %r" % (cmd, name, r.err, want))
                eq(len(r.err.strip().splitlines()), 1, "lines on stderr")
                check((mode == 0o600 and owner is None) or "chmod" in r.err or "chown" in r.err, "no chmod or chown fix in %r" % r.err)
            eq(sha(db), digest, "store.db changed under a config %s" % name)
            check(not os.path.exists(home), "a default state dir was created under a config %s"
                  % name)
            if owner is not None:
                os.chown(c, 0, 0)
        eq(sim.path_requests("url"), 3, "requests sent under hostile configs")
        # A symlink to a private config of ours is a config like any other.
        os.unlink(c)
        with open(c + ".real", "w") as f:
            f.write(good)
        os.chmod(c + ".real", 0o600)
        os.symlink(c + ".real", c)
        eq(cursors(sim), before, "cursors before the last fetch")
        r = sim.fetch()
        eq([r.report()[("sim", t)]["new"] for t in TYPES], [0, 0, 200], "new\n%s" % r)
        mwstate.check_horizons(sim, truth)
        exact(sim, truth)


if __name__ == "__main__":
    mwtest.main([test_ndjson_torn_tail, test_ndjson_garbage_appended, test_ndjson_cut_short,
                 test_ndjson_symlink, test_store_empty, test_store_truncated,
                 test_store_overwritten, test_store_symlink, test_store_world_writable,
                 test_store_other_owner, test_config_hostile])
