#!/usr/bin/env python3
"""test_perms - issue 4 item 10: the permissions matrix.

Config and secret files (secret_key_file, access_key_file) in modes 0400 to
0666, owned by us or by another user, a symlink, a FIFO, a directory: a file
that holds a secret and that group or others may read or write is refused
the way ssh refuses a private key (the message names the file, its mode and
the fix, chmod 600); a config anyone else may write is refused too (it
decides where the keys are sent). A FIFO never hangs the loader; a
directory gives a clear error. HACKING ("Config keys and durations"): only
the file's own mode and owner are checked; a secret file owned by another
user who is not root is refused (ssh's rule).

Files mimewatch creates are 0600 and directories 0700 under umask 000 and
022: store, -wal, -shm, lock, NDJSON, exports and the saved config.

CI runs as root, which reads any file by privilege: the matrix runs as
nobody (setpriv) on files nobody owns, in a directory only nobody enters.
"""

import glob
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import time

import mwtest
from mwtest import Sim, Skip, check, eq

MODES = (0o400, 0o600, 0o640, 0o644, 0o660, 0o666, 0o604, 0o620)
SECRET_KEYS = ("secret_key_file", "access_key_file")


def nobody():
    if not shutil.which("setpriv"):
        raise Skip("no setpriv")
    if os.geteuid() != 0:
        raise Skip("needs root to run as nobody and to chown")
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        raise Skip("no user nobody")
    return pw.pw_uid, pw.pw_gid


def other_user(uid):
    """A user that is neither root nor uid (for 'owned by another user')."""
    for name in ("daemon", "bin", "sys", "mail", "www-data"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        if pw.pw_uid not in (0, uid):
            return pw.pw_uid
    raise Skip("no second unprivileged user")


class Home:
    """A directory owned by nobody inside the sim's dir, with a config for
    the sim whose secrets live where the test says."""

    def __init__(self, sim, uid, gid):
        self.sim, self.uid, self.gid = sim, uid, gid
        self.dir = os.path.join(sim.dir, "nobody")
        os.mkdir(self.dir, 0o700)
        os.chown(self.dir, uid, gid)
        os.chmod(sim.dir, 0o711)       # nobody may pass through, not list
        self.ca = self.own(os.path.join(self.dir, "ca.pem"), open(sim.ca_file).read(), 0o600)
        self.state = os.path.join(self.dir, "state")
        self.out = os.path.join(self.dir, "out")

    def own(self, path, text, mode, uid=None):
        with open(path, "w") as f:
            f.write(text)
        os.chown(path, self.uid if uid is None else uid, self.gid)
        os.chmod(path, mode)
        return path

    def config(self, name="config.yaml", access=None, secret=None, mode=0o600, uid=None):
        """access/secret: a path (the _file form) or None (inline)."""
        lines = ["state_dir: %s" % self.state, "integrations:", "  - name: sim",
                 "    api: v1", "    base_url: %s" % self.sim.base_url,
                 "    app_id: %s" % mwtest.SIM_APP_ID,
                 "    app_key: 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"]
        lines.append("    access_key_file: %s" % access if access
                     else '    access_key: "%s"' % mwtest.SIM_ACCESS_KEY)
        lines.append("    secret_key_file: %s" % secret if secret
                     else '    secret_key: "%s"' % mwtest.SIM_SECRET_KEY)
        lines += ["    types: [url]", "    lookback: 1h", "    ca_file: %s" % self.ca,
                  "outputs:", "  - type: ndjson", "    dir: %s" % self.out]
        return self.own(os.path.join(self.dir, name), "\n".join(lines) + "\n", mode, uid)

    def secret(self, key, mode=0o600, name=None, uid=None):
        val = mwtest.SIM_SECRET_KEY if key == "secret_key_file" else mwtest.SIM_ACCESS_KEY
        return self.own(os.path.join(self.dir, name or key), val + "\n", mode, uid)

    def run(self, args, config, timeout=30, umask=None):
        def pre():
            if umask is not None:
                os.umask(umask)
        argv = ["setpriv", "--reuid=%d" % self.uid, "--regid=%d" % self.gid, "--clear-groups",
                mwtest.MIMEWATCH, "--config", config] + list(args)
        env = {"PATH": "/usr/bin:/bin", "HOME": self.dir, "LC_ALL": "C.UTF-8"}
        rc, out, err, wall, cpu, rss = mwtest.run_process(argv, timeout * mwtest.SCALE,
                                                          env=env, preexec=pre)
        return mwtest.Result(["(as nobody)", "--config", config] + list(args), rc, out, err,
                             wall, cpu, rss)


def refused_open(r, path, mode, what):
    eq(r.rc, 2, "%s: exit status\n%s" % (what, r))
    want = "permissions %04o are too open" % mode
    check(path in r.err and want in r.err and ("chmod 600 %s" % path) in r.err,
          "%s: the refusal should name %s, say %r and give `chmod 600 %s`:\n%s"
          % (what, path, want, path, r))


def test_secret_file_modes():
    """secret_key_file and access_key_file in every mode, as their owner
    (nobody): 0400 and 0600 load, anything group/other may touch is refused."""
    uid, gid = nobody()
    counts = {"accepted": 0, "refused": 0}
    with Sim(["--records", "5", "--span", "1h"]) as sim:
        h = Home(sim, uid, gid)
        for key in SECRET_KEYS:
            for mode in MODES:
                sf = h.secret(key, mode)
                cfg = h.config(**{"access" if key == "access_key_file" else "secret": sf})
                r = h.run(["validate"], cfg)
                what = "%s mode %04o" % (key, mode)
                if mode & 0o077:
                    refused_open(r, sf, mode, what)
                    counts["refused"] += 1
                else:
                    eq(r.rc, 0, "%s: validate\n%s" % (what, r))
                    counts["accepted"] += 1
        eq(sum(sim.stats().get("requests", {}).values()) > 0, True, "requests made")
    mwtest.report("10 perms", "secret file modes accepted/refused",
                  "%d/%d" % (counts["accepted"], counts["refused"]),
                  "modes %s x %s" % (",".join("%o" % m for m in MODES), ",".join(SECRET_KEYS)))


def test_config_modes():
    """A config holding inline secrets: as ssh. A config without secrets (the
    keys in _file form) may be read by others, never written by them."""
    uid, gid = nobody()
    with Sim(["--records", "5", "--span", "1h"]) as sim:
        h = Home(sim, uid, gid)
        sk = h.secret("secret_key_file")
        ak = h.secret("access_key_file")
        for mode in MODES:
            cfg = h.config(mode=mode)
            r = h.run(["validate"], cfg)
            if mode & 0o077:
                refused_open(r, cfg, mode, "inline config mode %04o" % mode)
            else:
                eq(r.rc, 0, "inline config mode %04o\n%s" % (mode, r))
            cfg = h.config("refs.yaml", access=ak, secret=sk, mode=mode)
            r = h.run(["validate"], cfg)
            if mode & 0o022:
                eq(r.rc, 2, "config without secrets, mode %04o (others may write it)\n%s"
                   % (mode, r))
                check(cfg in r.err and "%04o" % mode in r.err and "chmod go-w %s" % cfg
                      in r.err, "the refusal should name %s, its mode and `chmod go-w`:\n%s"
                      % (cfg, r))
            else:
                eq(r.rc, 0, "config without secrets, mode %04o\n%s" % (mode, r))


def test_owner():
    """Owned by another user who is not root: refused (ssh's rule), even
    when root runs it; owned by root: accepted."""
    uid, gid = nobody()
    with Sim(["--records", "5", "--span", "1h"]) as sim:
        h = Home(sim, uid, gid)
        other = other_user(uid)
        # as nobody: a 0644 secret file of another user is refused by its
        # mode, and of root it is accepted when private... but unreadable
        sf = h.secret("secret_key_file", 0o644, name="other.secret", uid=other)
        cfg = h.config(secret=sf)
        r = h.run(["validate"], cfg)
        eq(r.rc, 2, "as nobody, a secret file owned by uid %d\n%s" % (other, r))
        check(sf in r.err and ("owned by uid %d" % other) in r.err,
              "the refusal should name the file and its owner:\n%s" % r)
        check("chown" in r.err, "the refusal should give the fix (chown):\n%s" % r)
        # as root: a secret file owned by nobody is not root's
        sf = h.secret("secret_key_file", 0o600, name="nobodys.secret")
        cfg = h.config("rootcfg.yaml", secret=sf, uid=0)
        r = sim.mw(["validate"], config=cfg)
        eq(r.rc, 2, "as root, a secret file owned by nobody\n%s" % r)
        check(sf in r.err and ("owned by uid %d" % uid) in r.err,
              "the refusal should name the file and its owner:\n%s" % r)
        # the config itself owned by another user (it holds secrets)
        cfg = h.config("others.yaml", uid=other, mode=0o600)
        r = sim.mw(["validate"], config=cfg)
        eq(r.rc, 2, "as root, a config owned by uid %d\n%s" % (other, r))
        check(cfg in r.err and ("owned by uid %d" % other) in r.err,
              "the refusal should name the config and its owner:\n%s" % r)
        # owned by root, private: nobody cannot read it (a clear error), root can
        sf = h.secret("secret_key_file", 0o600, name="root.secret", uid=0)
        cfg = h.config("rootsecret.yaml", secret=sf)
        r = h.run(["validate"], cfg)
        eq(r.rc, 2, "as nobody, root's 0600 secret file\n%s" % r)
        check(sf in r.err and "Permission denied" in r.err, "unreadable file:\n%s" % r)
        os.chown(cfg, 0, 0)
        r = sim.mw(["validate"], config=cfg)
        eq(r.rc, 0, "as root, root's own files\n%s" % r)


def test_odd_files():
    """A symlink to a private file loads; to an open one, or dangling, is
    refused; a FIFO and a directory give clear errors without hanging."""
    uid, gid = nobody()
    with Sim(["--records", "5", "--span", "1h"]) as sim:
        h = Home(sim, uid, gid)
        good = h.secret("secret_key_file", 0o600, name="real.secret")
        loose = h.secret("secret_key_file", 0o644, name="loose.secret")
        link = os.path.join(h.dir, "link.secret")
        os.symlink(good, link)
        os.lchown(link, uid, gid)
        r = h.run(["validate"], h.config(secret=link))
        eq(r.rc, 0, "a symlink to a private secret file\n%s" % r)
        os.unlink(link)
        os.symlink(loose, link)
        os.lchown(link, uid, gid)
        r = h.run(["validate"], h.config(secret=link))
        eq(r.rc, 2, "a symlink to a 0644 secret file\n%s" % r)
        check("0644 are too open" in r.err and "chmod 600" in r.err, str(r))
        os.unlink(link)
        os.symlink(os.path.join(h.dir, "missing"), link)
        r = h.run(["validate"], h.config(secret=link))
        eq(r.rc, 2, "a dangling symlink\n%s" % r)
        check(link in r.err, str(r))

        fifo = os.path.join(h.dir, "fifo.secret")
        os.mkfifo(fifo, 0o600)
        os.chown(fifo, uid, gid)
        r = h.run(["validate"], h.config(secret=fifo), timeout=10)
        eq(r.rc, 2, "a FIFO as secret file\n%s" % r)
        check(r.wall < 5, "the FIFO took %.1fs" % r.wall)
        check(fifo in r.err and "not a regular file" in r.err, str(r))
        cfifo = os.path.join(h.dir, "fifo.yaml")
        os.mkfifo(cfifo, 0o600)
        os.chown(cfifo, uid, gid)
        r = h.run(["validate"], cfifo, timeout=10)
        eq(r.rc, 2, "a FIFO as config\n%s" % r)
        check(r.wall < 5, "the FIFO config took %.1fs" % r.wall)
        check(cfifo in r.err and "not a regular file" in r.err, str(r))

        d = os.path.join(h.dir, "dir.secret")
        os.mkdir(d, 0o700)
        os.chown(d, uid, gid)
        r = h.run(["validate"], h.config(secret=d))
        eq(r.rc, 2, "a directory as secret file\n%s" % r)
        check(d in r.err and "not a regular file" in r.err, str(r))
        r = h.run(["validate"], d)
        eq(r.rc, 2, "a directory as config\n%s" % r)
        check(d in r.err and "not a regular file" in r.err, str(r))


def created_modes(root, skip=()):
    bad, n = [], 0
    for d, dirs, files in os.walk(root):
        n += 1
        if stat.S_IMODE(os.stat(d).st_mode) != 0o700:
            bad.append("%s/ %o" % (d, stat.S_IMODE(os.stat(d).st_mode)))
        for f in files:
            p = os.path.join(d, f)
            if p in skip:
                continue
            n += 1
            m = stat.S_IMODE(os.lstat(p).st_mode)
            if m != 0o600:
                bad.append("%s %o" % (p, m))
    return bad, n


def umask_case(umask):
    uid, gid = nobody()
    with Sim(["--records", "150", "--span", "1h"]) as sim:
        h = Home(sim, uid, gid)
        cfg = h.config()
        r = h.run(["fetch"], cfg, umask=umask)
        eq(r.rc, 0, "fetch under umask %03o\n%s" % (umask, r))
        check(glob.glob(os.path.join(h.out, "**", "*.ndjson"), recursive=True), "no NDJSON")
        # store.db-wal and -shm exist while a process has the store open
        argv = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
                mwtest.MIMEWATCH, "--config", cfg, "run"]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin",
                                                             "HOME": h.dir},
                             preexec_fn=lambda: os.umask(umask), start_new_session=True)
        mwtest._procs.append(p)
        seen = set()
        deadline = time.monotonic() + 3 * mwtest.SCALE
        while time.monotonic() < deadline:
            for f in os.listdir(h.state):
                p_ = os.path.join(h.state, f)
                try:
                    m = stat.S_IMODE(os.lstat(p_).st_mode)
                except OSError:
                    continue
                seen.add(f)
                check(m == 0o600, "umask %03o: %s is %o while run holds it" % (umask, p_, m))
            time.sleep(0.05)
        mwtest.stop_bg(p)
        for want in ("store.db", "store.db-wal", "store.db-shm", "lock"):
            check(want in seen, "umask %03o: never saw %s in %s (saw %s)"
                  % (umask, want, h.state, sorted(seen)))
        # the console: an export, and the wizard's edit saving the config
        import uitest
        exp = os.path.join(h.dir, "export.ndjson")
        script = h.own(os.path.join(h.dir, "script"), "\n".join([
            "wait-idle", "key Enter", "wait-idle", "key x", "key C-u", "type " + exp,
            "key Enter", "sleep 300", "wait-idle", "key q", "key e", "wait-idle", "key Tab",
            "key C-u", "type edited", "key Enter", "wait-idle", "key Enter", "wait-idle",
            "quit"]) + "\n", 0o600)
        tmp = os.path.join(h.dir, "tmp")
        os.mkdir(tmp, 0o700)
        os.chown(tmp, uid, gid)
        argv = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
                mwtest.MIMEWATCH, "--config", cfg, "--script", script, "--size", "100x30"]
        env = uitest.ui_env({"HOME": h.dir, "TMPDIR": tmp})
        rc, out, err, wall, cpu, rss = mwtest.run_process(argv, 60 * mwtest.SCALE, env=env,
                                                          preexec=lambda: os.umask(umask))
        eq(rc, 0, "console under umask %03o: %s" % (umask, err))
        check(os.path.exists(exp), "umask %03o: the console exported nothing: %s" % (umask, err))
        check("description: edited" in open(cfg).read(),
              "umask %03o: the wizard did not save the config:\n%s" % (umask, open(cfg).read()))
        created = [h.state, h.out, exp, cfg]
        bad, n = [], 0
        for root in created:
            if os.path.isdir(root):
                b, k = created_modes(root)
            else:
                m = stat.S_IMODE(os.stat(root).st_mode)
                b, k = ([] if m == 0o600 else ["%s %o" % (root, m)]), 1
            bad += b
            n += k
        check(not bad, "umask %03o: modes other than 0600/0700: %s" % (umask, "; ".join(bad)))
        eq(sorted(os.listdir(tmp)), [], "umask %03o: files left in TMPDIR" % umask)
        mwtest.report("10 perms", "files and dirs created under umask %03o, all 0600/0700"
                      % umask, n, "store, wal, shm, lock, NDJSON, export, saved config")


def test_umask_000():
    umask_case(0o000)


def test_umask_022():
    umask_case(0o022)


if __name__ == "__main__":
    mwtest.main([test_secret_file_modes, test_config_modes, test_owner, test_odd_files,
                 test_umask_000, test_umask_022])
