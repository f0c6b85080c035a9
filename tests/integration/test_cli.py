#!/usr/bin/env python3
"""The command line: --help/--version anywhere, --config=F, exit statuses,
config errors, status --json, the collector lock, reset, file modes."""

import json
import os
import pwd
import re
import shutil
import signal
import time

import mwtest
from mwtest import TYPES, Sim, check, eq


def test_help_version():
    for argv in (["--help"], ["fetch", "--help"], ["--help", "fetch"], ["validate", "--help"],
                 ["status", "--help"], ["reset", "--help"], ["run", "--help"]):
        r = mwtest.mimewatch(argv, config="/nonexistent/mimewatch.yaml", timeout=20)
        eq(r.rc, 0, "exit status of mimewatch %s" % " ".join(argv))
        check(r.out.startswith("usage: mimewatch"), "mimewatch %s: stdout should start with "
              "'usage: mimewatch', got %r" % (" ".join(argv), r.out[:80]))
    r = mwtest.mimewatch(["fetch", "--help"], timeout=20)
    check("--retry-budget" in r.out, "fetch --help should describe --retry-budget: %r" % r.out)
    for argv in (["--version"], ["fetch", "--version"], ["--version", "status"],
                 ["--config", "/nonexistent", "--version"]):
        r = mwtest.mimewatch(argv, timeout=20)
        eq(r.rc, 0, "exit status of mimewatch %s" % " ".join(argv))
        check(re.fullmatch(r"mimewatch \d+\.\d+\.\d+\S*\n", r.out),
              "mimewatch %s printed %r, expected 'mimewatch X.Y.Z'" % (" ".join(argv), r.out))


def test_usage_errors():
    with Sim(["--records", "10"]) as sim:
        for argv, what in ((["frobnicate"], "frobnicate"), (["--frob"], "--frob"),
                           (["fetch", "--frob"], "--frob"), (["status", "--frob"], "--frob"),
                           (["fetch", "nosuch"], "nosuch"), (["reset", "nosuch", "--yes"],
                                                              "nosuch"),
                           (["reset", "sim", "nosuchtype", "--yes"], "nosuchtype"),
                           (["fetch", "--retry-budget", "ten"], "ten"),
                           # a missing value is named, not an unknown option
                           (["reset", "sim", "--since"], "--since '' is not a duration"),
                           (["reset", "--since=2x", "sim"], "--since '2x' is not a duration"),
                           (["fetch", "--retry-budget"], "--retry-budget '' is not a")):
            r = sim.mw(argv, timeout=30)
            eq(r.rc, 2, "exit status of mimewatch %s\n%s" % (" ".join(argv), r))
            check(what in r.err, "stderr of mimewatch %s should name %r:\n%s"
                  % (" ".join(argv), what, r))
        eq(sum(sim.stats().get("requests", {}).values()), 0,
           "requests made by commands that should have stopped at usage")


def test_config_forms():
    with Sim(["--records", "20", "--span", "1h"]) as sim:
        r = mwtest.mimewatch(["--config=" + sim.config, "fetch"], timeout=60)
        eq(r.rc, 0, "fetch with --config=F before the command\n%s" % r)
        r = mwtest.mimewatch(["status", "--config=" + sim.config], timeout=60)
        eq(r.rc, 0, "status with --config=F after the command\n%s" % r)
        r = mwtest.mimewatch(["fetch", "--config", sim.config], timeout=60)
        eq(r.rc, 0, "fetch with --config F after the command\n%s" % r)
        eq(r.report()[("sim", "url")]["new"], 0, "third fetch new url records")


def test_missing_config():
    path = "/nonexistent-dir-mwtest/config.yaml"
    for cmd in ("fetch", "validate", "status", "run"):
        r = mwtest.mimewatch([cmd], config=path, timeout=20)
        eq(r.rc, 2, "%s with a missing config: exit status\n%s" % (cmd, r))
        check(path in r.err, "%s with a missing config: stderr should name %s:\n%s"
              % (cmd, path, r))


def test_bad_config():
    with Sim(["--records", "10"]) as sim:
        text = sim.read_config()
        lines = text.split("\n")
        n = [i for i, l in enumerate(lines) if re.match(r"^\s*(-\s+)?interval:", l)]
        check(n, "the written config has no interval: line:\n%s" % text)
        sim.edit_config(interval="5 minutes")
        r = sim.mw(["fetch"])
        eq(r.rc, 2, "fetch with interval '5 minutes': exit status\n%s" % r)
        want = "%s:%d" % (sim.config, n[0] + 1)
        check(want in r.err, "stderr should name %s (file:line):\n%s" % (want, r))
        check("interval" in r.err, "stderr should name the field 'interval':\n%s" % r)
        eq(sum(sim.stats().get("requests", {}).values()), 0, "requests with a bad config")


def test_status_json():
    with Sim(["--records", "200", "--span", "1h"]) as sim:
        js = sim.status_json()
        names = [i["name"] for i in js["integrations"]]
        eq(names, ["sim"], "integrations in status --json before any fetch")
        eq([t["type"] for t in js["integrations"][0]["types"]], list(TYPES),
           "types in status --json")
        sim.fetch()
        st = sim.type_status()
        for t in TYPES:
            eq(st[t]["records_total"], 200, "status --json records_total of %s" % t)
            eq(st[t]["class"], "ok", "status --json class of %s" % t)
            check(st[t]["horizon"] is not None, "status --json horizon of %s is null" % t)
            mwtest.mc_time(st[t]["horizon"])
        check(isinstance(js.get("outputs"), list) and js["outputs"],
              "status --json lists no outputs: %r" % js)
        r = sim.mw(["status"])
        eq(r.rc, 0, "plain status exit\n%s" % r)
        for t in TYPES:
            check(re.search(r"^\s+%s\s" % t, r.out, re.M), "plain status has no %s row:\n%s"
                  % (t, r.out))


def test_lock():
    with Sim(["--records", "100", "--span", "1h"]) as sim:
        errf = open(os.path.join(sim.dir, "run.err"), "wb")
        run = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=errf)
        try:
            # Wait until run holds the lock (status reports its pid).
            deadline = time.monotonic() + 20 * mwtest.SCALE
            while time.monotonic() < deadline:
                js = sim.status_json()
                if js.get("collector_pid") == run.pid:
                    break
                check(run.poll() is None, "mimewatch run exited early with %s" % run.returncode)
                time.sleep(0.2)
            eq(sim.status_json().get("collector_pid"), run.pid,
               "status --json collector_pid while run holds the lock")
            r = sim.fetch(expect_rc=1)
            check("another mimewatch" in r.err and str(run.pid) in r.err,
                  "fetch under the lock should say another mimewatch (pid %d) collects:\n%s"
                  % (run.pid, r))
            eq(r.report(), {}, "fetch under the lock printed per-type lines")
        finally:
            rc = mwtest.stop_bg(run, signal.SIGTERM)
            errf.close()
        eq(rc, 0, "mimewatch run exit status after SIGTERM")
        # The lock died with it: fetch works and run already collected all.
        r = sim.fetch()
        for t in TYPES:
            eq(r.report()[("sim", t)]["new"], 0, "fetch after run: sim/%s new" % t)
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})


def test_reset():
    with Sim(["--records", "300", "--span", "1h"]) as sim:
        sim.fetch()
        h1 = {t: mwtest.mc_time(s["horizon"]) for t, s in sim.type_status().items()}
        size = sim.ndjson_size()
        r = sim.mw(["reset", "sim", "url"])
        eq(r.rc, 2, "reset without --yes and without a terminal: exit status\n%s" % r)
        r = sim.mw(["reset", "sim", "url", "--yes"])
        eq(r.rc, 0, "reset sim url --yes\n%s" % r)
        h2 = {t: s["horizon"] for t, s in sim.type_status().items()}
        check(h2["url"] is not None and mwtest.mc_time(h2["url"]) < h1["url"] - 3600,
              "reset should move url's horizon back by the lookback: %r -> %r"
              % (h1["url"], h2["url"]))
        for t in ("impersonation", "attachment"):
            eq(mwtest.mc_time(h2[t]), h1[t], "horizon of %s after resetting url" % t)
        before = sim.stats()
        r = sim.fetch()
        after = sim.stats()
        eq(r.report()[("sim", "url")]["new"], 0, "fetch after reset: url new")
        eq(r.report()[("sim", "url")]["dup"], 300, "fetch after reset: url duplicates dropped")
        check(sim.path_requests("url", after) - sim.path_requests("url", before) >= 3,
              "fetch after reset did not re-read url")
        eq(sim.ndjson_size(), size, "NDJSON bytes after reset and fetch")
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})


def test_reset_handed_to_run():
    """A reset while `mimewatch run` holds the lock goes to that collector
    through the store: it moves the horizon back and says who did it."""
    with Sim(["--records", "300", "--span", "1h"]) as sim:
        sim.fetch()
        errf = open(os.path.join(sim.dir, "run.err"), "wb")
        run = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=errf)
        try:
            mwtest.wait_for(lambda: sim.status_json().get("collector_pid") == run.pid,
                            20 * mwtest.SCALE, "mimewatch run holding the lock")
            before = sim.stats()
            r = sim.mw(["reset", "sim", "url", "--yes"])
            eq(r.rc, 0, "reset handed to the running collector: exit\n%s" % r)
            check(re.search(r"^sim/url: horizon reset to \S+ by the running collector "
                            r"\(pid %d\)$" % run.pid, r.out, re.M),
                  "reset did not say the running collector did it:\n%s" % r)
            # The run reads url's hour again at once (its horizon then moves
            # forward again, so the reads are what shows the reset happened).
            mwtest.wait_for(lambda: sim.path_requests("url", sim.stats())
                            - sim.path_requests("url", before) >= 3,
                            20 * mwtest.SCALE, "the run re-reading url after the reset")
        finally:
            rc = mwtest.stop_bg(run, signal.SIGTERM)
            errf.close()
        eq(rc, 0, "mimewatch run exit status after SIGTERM")
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})


def _nobody():
    if not shutil.which("setpriv"):
        raise mwtest.Skip("no setpriv")
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        raise mwtest.Skip("no user nobody")
    return pw.pw_uid, pw.pw_gid


def test_config_mode_refused():
    with Sim(["--records", "10"]) as sim:
        os.chmod(sim.config, 0o644)
        r = sim.mw(["fetch"])
        eq(r.rc, 2, "fetch with a 0644 config: exit status\n%s" % r)
        check(sim.config in r.err, "the refusal should name the file:\n%s" % r)
        os.chmod(sim.config, 0o640)
        r = sim.mw(["validate"])
        eq(r.rc, 2, "validate with a 0640 config: exit status\n%s" % r)
        eq(sum(sim.stats().get("requests", {}).values()), 0, "requests with a refused config")

        # The same unprivileged, on a copy owned by nobody (root passes
        # permission checks by privilege; the refusal is about mode bits).
        uid, gid = _nobody()
        udir = os.path.join(sim.dir, "nobody")
        os.mkdir(udir, 0o700)
        os.chmod(sim.dir, 0o711)  # let nobody reach its own directory
        cfg = os.path.join(udir, "config.yaml")
        text = sim.read_config()
        text = re.sub(r"(?m)^state_dir:.*$", "state_dir: %s/state" % udir, text)
        text = re.sub(r"(?m)^(\s*)dir:.*$", r"\1dir: %s/out" % udir, text)
        ca = os.path.join(udir, "ca.pem")
        shutil.copy(sim.ca_file, ca)
        text = re.sub(r"(?m)^(\s*)ca_file:.*$", r"\1ca_file: %s" % ca, text)
        with open(cfg, "w") as f:
            f.write(text)
        for p in (udir, cfg, ca):
            os.chown(p, uid, gid)
        os.chmod(ca, 0o600)
        setpriv = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"]
        env = {"PATH": "/usr/bin:/bin", "HOME": udir}
        for mode, want_rc in ((0o644, 2), (0o604, 2), (0o600, 0)):
            os.chmod(cfg, mode)
            rc, out, err, wall, cpu, rss = mwtest.run_process(
                setpriv + [mwtest.MIMEWATCH, "--config", cfg, "fetch"], 60 * mwtest.SCALE,
                env=env)
            eq(rc, want_rc, "unprivileged fetch with config mode %o: exit status\n%s%s"
               % (mode, out, err))
            if want_rc == 2:
                check(cfg in err, "unprivileged refusal should name %s: %r" % (cfg, err))
        mwtest.check_modes(os.path.join(udir, "state"))


def test_sim_cert_dir():
    # The harness contract of mimewatch-sim: --cert-dir DIR holds sim-ca.pem
    # (0600, DIR 0700), and the config it writes names that file.
    with Sim(["--records", "10"]) as sim:
        want = os.path.join(sim.cert_dir, "sim-ca.pem")
        check(os.path.exists(want), "mimewatch-sim --cert-dir %s wrote no sim-ca.pem there "
              "(the config names %s)" % (sim.cert_dir, sim.ca_file))
        eq(sim.ca_file, want, "ca_file in the config written with --cert-dir")
        mwtest.check_modes(sim.cert_dir)


def test_file_modes():
    with Sim(["--records", "200", "--span", "1h"]) as sim:
        sim.fetch()
        sim.mw(["status"])
        sim.mw(["reset", "sim", "--yes"])
        sim.fetch()
        check(os.path.exists(os.path.join(sim.state_dir, "store.db")), "no store.db")
        mwtest.check_modes(sim.state_dir)
        mwtest.check_modes(sim.out_dir, skip_roots=True)
        eq(os.stat(sim.config).st_mode & 0o777, 0o600, "config mode after commands")


if __name__ == "__main__":
    mwtest.main([test_help_version, test_usage_errors, test_config_forms, test_missing_config,
                 test_bad_config, test_status_json, test_lock, test_reset, test_reset_handed_to_run,
                 test_config_mode_refused, test_sim_cert_dir, test_file_modes])
