#!/usr/bin/env python3
"""test_secrets - issue 4 item 9: the secret canary.

Unique canary credentials (access_key, secret_key, app_key; client_secret for
API 2.0) go into configs inline, in _file and in _env form. mimewatch-sim
knows only its fixed credentials, so the canaries take the forced-401 path,
which still carries them through every place that handles them: loading,
signing, the token request, error classification and messages. The happy
path is covered with the simulator's own credentials used as canaries, plus
a 401 forced by a fault, behind a small recording forwarder that captures the
exact Authorization values and API 2.0 tokens mimewatch sent.

Every command (validate, fetch, run, status, status --json, reset, --help)
and every console screen (script mode: home, troubleshooting, the wizard
with the secrets typed, preview, record, help) runs with --verbose. Then
neither the secret, its base64 decoding, its base64 encoding nor an
Authorization value or token may appear in any stdout or stderr, store.db or
its -wal/-shm (raw bytes, also as copied while `run` holds them open and as
left by a crash), NDJSON, reject file, export, screen dump or crash output.
Crashes (SIGSEGV, SIGABRT, SIGQUIT by kill) leave no core even when the
parent allowed unlimited cores, and the process is not dumpable
(/proc/PID/limits, and /proc/PID owned by root for a process run as nobody).
"""

import base64
import glob
import http.client
import http.server
import json
import os
import pwd
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid

import mwtest
from mwtest import Sim, Skip, check, eq

RUN_SECS = mwtest.scaled(0.6, 4.0)   # how long each `run` collects before SIGTERM
CRASH_SIGNALS = mwtest.scaled((signal.SIGSEGV,), (signal.SIGSEGV, signal.SIGABRT, signal.SIGQUIT))


# ---- canaries and what they may turn into ------------------------------------------------

class Canaries:
    """Fresh, unique credentials for one test."""

    def __init__(self):
        tag = os.urandom(4).hex()
        self.access_key = "mwcanaryAK%s%s" % (tag, os.urandom(16).hex())
        self.secret_raw = b"mwcanarySK" + os.urandom(26)
        self.secret_key = base64.b64encode(self.secret_raw).decode()
        # not a secret (shown and logged freely); the sim's own, so that the
        # signature, not the application, is what it refuses
        self.app_id = mwtest.SIM_APP_ID
        self.app_key = str(uuid.uuid4())
        self.client_id = "mwcanary-client-" + tag
        self.client_secret = "mwcanaryCS%s+/=%s" % (tag, os.urandom(12).hex())

    def secrets(self):
        return [self.access_key, self.secret_key, self.app_key, self.client_secret]


def needles(secrets, exact=()):
    """(label, bytes) pairs that must appear nowhere: each secret, its base64
    encoding, its base64 decoding (raw and hex), its URL-encoded form, and a
    24-byte prefix of each (a message cutting a value short still leaks);
    exact: values searched as they are (Authorization values, tokens)."""
    out = []

    def add(label, b):
        if len(b) >= 8:
            out.append((label, b))
        if len(b) >= 32:
            out.append((label + " (first 24 bytes)", b[:24]))

    for s in secrets:
        sb = s.encode()
        short = s[:12] + "..."
        add("secret %s" % short, sb)
        add("base64 of %s" % short, base64.b64encode(sb))
        q = urllib.parse.quote(s, safe="").encode()
        if q != sb:
            add("URL-encoded %s" % short, q)
        try:
            raw = base64.b64decode(sb, validate=True)
        except ValueError:
            raw = b""
        if len(raw) >= 8:
            add("base64 decoding of %s" % short, raw)
            add("hex of the decoding of %s" % short, raw.hex().encode())
    for s in exact:
        sb = s.encode() if isinstance(s, str) else s
        add("sent value %s..." % sb[:16].decode("latin-1"), sb)
        # the credential part alone ("MC key:sig" -> "key:sig", "Bearer tok" -> "tok")
        if b" " in sb:
            add("sent credential %s..." % sb[:16].decode("latin-1"), sb.split(b" ", 1)[1])
    return out


class Leaks:
    """Collects what a test produced (texts, file contents) and searches it
    at the end, when every value sent on the wire is known."""

    def __init__(self):
        self.items = []   # (where, bytes)

    def text(self, where, data):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self.items.append((where, data))

    def result(self, r, what):
        self.text("stdout of %s" % what, r.out)
        self.text("stderr of %s" % what, r.err)

    def tree(self, root, exclude=()):
        """Every regular file under root except the excluded paths."""
        ex = {os.path.realpath(p) for p in exclude}
        for d, dirs, files in os.walk(root):
            for f in files:
                p = os.path.join(d, f)
                if os.path.islink(p) or os.path.realpath(p) in ex or not os.path.isfile(p):
                    continue
                with open(p, "rb") as fh:
                    self.text(p, fh.read())

    def assert_none(self, needle_list, what):
        found = []
        check(self.items, "%s: nothing was scanned" % what)
        check(needle_list, "%s: no needles" % what)
        for where, data in self.items:
            for label, n in needle_list:
                i = data.find(n)
                if i >= 0:
                    found.append("%s in %s: ...%r..." % (
                        label, where, data[max(0, i - 60):i + len(n) + 20]))
        check(not found, "%s: secrets leaked (%d places):\n  %s"
              % (what, len(found), "\n  ".join(found[:20])))
        return len(self.items), sum(len(d) for _, d in self.items)


# ---- a recording forwarder in front of a plain-HTTP simulator ---------------------------

class Capture:
    """Forwards HTTP on 127.0.0.1 to mimewatch-sim and records every
    Authorization value and every access_token the token endpoint issued."""

    HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer",
           "upgrade", "proxy-authorization", "proxy-authenticate"}

    def __init__(self, target_port):
        self.target = target_port
        self.auth = set()
        self.tokens = set()
        self.requests = 0
        lock = threading.Lock()
        cap = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                hdrs = {k: v for k, v in self.headers.items() if k.lower() not in cap.HOP}
                with lock:
                    cap.requests += 1
                    if self.headers.get("Authorization"):
                        cap.auth.add(self.headers["Authorization"])
                c = http.client.HTTPConnection("127.0.0.1", cap.target, timeout=60)
                try:
                    c.request(self.command, self.path, body=body, headers=hdrs)
                    r = c.getresponse()
                    data = r.read()
                    rh = r.getheaders()
                    status = r.status
                finally:
                    c.close()
                if self.path.startswith("/oauth/token") and status == 200:
                    try:
                        tok = json.loads(data).get("access_token")
                    except ValueError:
                        tok = None
                    if tok:
                        with lock:
                            cap.tokens.add(tok)
                self.send_response(status)
                for k, v in rh:
                    if k.lower() not in cap.HOP and k.lower() not in ("server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()

    def sent(self):
        return sorted(self.auth) + sorted(self.tokens)


# ---- configs -------------------------------------------------------------------------------

def secret_lines(key, value, form, workdir, env):
    """The config line(s) for one secret in form inline, file or env."""
    if form == "inline":
        return ['    %s: "%s"' % (key, value)]
    if form == "file":
        p = os.path.join(workdir, "%s.secret" % key)
        with open(p, "w") as f:
            f.write(value + "\n")
        os.chmod(p, 0o600)
        return ["    %s_file: %s" % (key, p)]
    var = "MWCANARY_%s" % key.upper()
    env[var] = value
    return ["    %s_env: %s" % (key, var)]


def write_config(path, sim, base_url, creds, api="v1", forms=("inline", "inline"),
                 name="canary"):
    """A config for creds at base_url; returns the environment (for _env
    secrets) mimewatch must run with."""
    workdir = os.path.dirname(path)
    env = dict(os.environ)
    env.pop("MIMEWATCH_NOW", None)
    lines = ["state_dir: %s" % sim.state_dir, "integrations:",
             "  - name: %s" % name, "    description: canary", "    api: %s" % api,
             "    base_url: %s" % base_url]
    if api == "v1":
        lines += ["    app_id: %s" % creds.app_id, "    app_key: %s" % creds.app_key]
        lines += secret_lines("access_key", creds.access_key, forms[0], workdir, env)
        lines += secret_lines("secret_key", creds.secret_key, forms[1], workdir, env)
    else:
        lines += ["    client_id: %s" % creds.client_id]
        lines += secret_lines("client_secret", creds.client_secret, forms[0], workdir, env)
    lines += ["    types: [url, impersonation, attachment]", "    lookback: 2h"]
    if base_url.startswith("https:"):
        lines += ["    ca_file: %s" % sim.ca_file]
    lines += ["outputs:", "  - type: ndjson", "    dir: %s" % sim.out_dir]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return env


class SimCreds:
    """The simulator's fixed credentials, used as canaries on the happy path."""
    access_key = mwtest.SIM_ACCESS_KEY
    secret_key = mwtest.SIM_SECRET_KEY
    app_id = mwtest.SIM_APP_ID
    app_key = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    client_id = "mwsim-client"
    client_secret = "mwsim-client-secret-0123456789"

    def secrets(self):
        return [self.access_key, self.secret_key, self.app_key, self.client_secret]


# ---- running everything -----------------------------------------------------------------

def core_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4:6]
    return None


def run_bg(sim, config, env, leaks, what, secs=RUN_SECS, sig=signal.SIGTERM, snapshot=None,
           unlimited_core=False, cwd=None):
    """`mimewatch --verbose run` for secs, then sig. Checks the core limit
    while it runs, copies the store files when snapshot names a directory,
    scans the output. Returns (raw wait status, stderr text)."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()

    def pre():
        if unlimited_core:
            resource.setrlimit(resource.RLIMIT_CORE,
                               (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    p = subprocess.Popen([mwtest.MIMEWATCH, "--config", config, "--verbose", "run"],
                         stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                         start_new_session=True, preexec_fn=pre, cwd=cwd)
    mwtest._procs.append(p)
    try:
        time.sleep(0.4 * mwtest.SCALE)
        check(p.poll() is None, "%s: run exited early" % what)
        eq(core_limit(p.pid), ["0", "0"], "%s: Max core file size of the running process"
           % what)
        time.sleep(secs * mwtest.SCALE)
        if snapshot:
            os.makedirs(snapshot, exist_ok=True)
            for f in glob.glob(os.path.join(sim.state_dir, "store.db*")):
                shutil.copy(f, os.path.join(snapshot, os.path.basename(f)))
        os.kill(p.pid, sig)
        _, status, _ = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        mwtest._procs.remove(p)
    out.seek(0)
    err.seek(0)
    o = out.read().decode("utf-8", "replace")
    e = err.read().decode("utf-8", "replace")
    leaks.text("stdout of %s" % what, o)
    leaks.text("stderr of %s" % what, e)
    return status, e


def run_commands(sim, config, env, leaks, name="canary", expect_fail=True):
    """Every command, verbose; returns the results by name."""
    res = {}

    def mw(key, args, timeout=120):
        r = sim.mw(["--verbose"] + args, config=config, env=env, timeout=timeout)
        leaks.result(r, "mimewatch " + " ".join(args))
        res[key] = r
        return r

    r = mw("help", ["--help"])
    eq(r.rc, 0, "--help exit\n%s" % r)
    for cmd in ("validate", "fetch", "run", "status", "reset"):
        mw(cmd + " help", [cmd, "--help"])
    r = mw("validate", ["validate"])
    eq(r.rc, 1 if expect_fail else 0, "validate exit\n%s" % r)
    r = mw("fetch", ["fetch", "--retry-budget", "5s"])
    eq(r.rc, 1 if expect_fail else 0, "fetch exit\n%s" % r)
    if expect_fail:
        check("invalid signature" in r.err or "rejected" in r.err,
              "fetch with refused keys should say why:\n%s" % r)
    mw("status", ["status"])
    r = mw("status --json", ["status", "--json"])
    json.loads(r.out)
    r = mw("reset", ["reset", name, "--yes"])
    eq(r.rc, 0, "reset exit\n%s" % r)
    status, e = run_bg(sim, config, env, leaks, "run", snapshot=os.path.join(sim.dir, "snap"))
    eq(os.waitstatus_to_exitcode(status), 0, "run exit on SIGTERM\n%s" % e)
    mw("status after run", ["status", "--json"])
    return res


def crash_checks(sim, config, env, leaks):
    """SIGSEGV, SIGABRT and SIGQUIT by kill during run, with the parent's
    core limit unlimited: no core dumped (wait status and no file), and
    the crash output holds no secret."""
    cwd = os.path.join(sim.dir, "crash-cwd")
    os.makedirs(cwd, exist_ok=True)
    for sig in CRASH_SIGNALS:
        status, e = run_bg(sim, config, env, leaks, "run killed by %s" % sig.name, secs=0.2,
                           sig=sig, unlimited_core=True, cwd=cwd)
        check(not (os.WIFSIGNALED(status) and os.WCOREDUMP(status)),
              "%s dumped a core" % sig.name)
        asan = "Sanitizer" in e
        check((os.WIFSIGNALED(status) and os.WTERMSIG(status) == sig) or asan,
              "run did not die of %s: status %r\n%s" % (sig.name, status, e))
        eq([f for f in os.listdir(cwd) if "core" in f], [], "core files after %s" % sig.name)
    # what the crash left behind: the store's -wal and -shm as they are
    if glob.glob(os.path.join(sim.state_dir, "store.db*")):
        snap = os.path.join(sim.dir, "snap-crash")
        os.makedirs(snap, exist_ok=True)
        for f in glob.glob(os.path.join(sim.state_dir, "store.db*")):
            shutil.copy(f, os.path.join(snap, os.path.basename(f)))


# ---- the console ---------------------------------------------------------------------------

def console(leaks, what, commands, args, env_extra, size=(100, 30)):
    import uitest
    r = uitest.run_script(commands, args=["--verbose"] + list(args), size=size,
                          env=env_extra, timeout=120)
    leaks.text("stdout of console %s" % what, r.out)
    leaks.text("stderr of console %s" % what, r.err)
    for name, lines in r.dumps.items():
        # mimewatch.yaml(5), app_id and app_key: the Application ID and Key
        # are GUIDs shown in the form where they are typed and checked (only
        # the keys and secrets are masked); the Key may appear on its own
        # field's row, nowhere else
        lines = [l for l in lines if not re.match(r"^\s*Application Key\s", l)]
        leaks.text("screen %s/%s" % (what, name), "\n".join(lines))
    eq(r.rc, 0, "console %s exit\n%s" % (what, r))
    return r


def screens_reached(r, want):
    for name, text in want.items():
        check(name in r.dumps, "no dump %r: the script did not get there\n%s" % (name, r))
        scr = "\n".join(r.dumps[name])
        check(text in scr, "screen %s lacks %r:\n%s" % (name, text, scr))


def canary_env(env):
    return {k: v for k, v in env.items() if k.startswith("MWCANARY_")}


def console_screens(sim, cfg, env, leaks, records):
    """Home, troubleshooting (validated again), preview (and a record with
    an export when there are records), help, and the edit form."""
    exp = os.path.join(sim.dir, "export.ndjson")
    cmds = ["wait-idle", "dump home", "key t", "wait-idle", "dump trouble", "key v",
            "wait-idle", "sleep 300", "wait-idle", "dump trouble-validated", "key Esc",
            "wait-idle", "key Enter", "wait-idle", "dump preview"]
    if records:
        cmds += ["key Enter", "wait-idle", "dump record", "key Esc", "key x", "key C-u", "type " + exp,
                 "key Enter", "sleep 300", "wait-idle", "dump exported"]
    cmds += ["key ?", "dump help", "key Esc", "key Esc", "wait-idle", "key e", "wait-idle",
             "dump edit", "key Esc", "quit"]
    r = console(leaks, "screens", cmds, ["--config", cfg], canary_env(env))
    screens_reached(r, {"home": "canary", "help": "Keys of every screen", "edit": "Secret"
                        if "api: v1" in open(cfg).read() else "Client"})
    if records:
        check(os.path.exists(exp), "the export was not written")
        eq(os.stat(exp).st_mode & 0o777, 0o600, "export mode")
    return r


def console_wizard(sim, creds, base_url, leaks, api="v1"):
    """The wizard with the canary secrets typed (app key) and pasted (keys),
    checked live (refused: 401), then saved anyway."""
    newcfg = os.path.join(sim.dir, "wizard", "config.yaml")
    # the checklist: API 2.0 (4 pages) is the default, API 1.0 (7) is chosen with Right
    cmds = ["key Right"] + ["key Space"] * 7 if api == "v1" else ["key Space"] * 4
    cmds += ["type wizcanary", "key Tab", "type canary", "key Tab"]
    if api == "v1":
        cmds += ["key Tab", "type " + creds.app_id, "key Tab", "type " + creds.app_key,
                 "key Tab", "key Tab", "type " + base_url, "key Tab", "key Tab",
                 "type " + sim.ca_file, "key Tab", "paste " + creds.access_key, "key Tab",
                 "paste " + creds.secret_key]
    else:
        cmds += ["key Tab", "key Tab", "key C-u", "type " + base_url, "key Tab",
                 "type " + sim.ca_file, "key Tab", "type " + creds.client_id, "key Tab",
                 "paste " + creds.client_secret]
    cmds += ["dump form", "key Enter", "wait-idle", "dump check", "key Enter", "dump refused",
             "key s", "wait-idle", "dump saved", "quit"]
    env = {"XDG_STATE_HOME": os.path.join(sim.dir, "xdg-state"),
           "XDG_CONFIG_HOME": os.path.join(sim.dir, "xdg-config")}
    r = console(leaks, "wizard", cmds, ["--config", newcfg], env)
    # the class in the API's own words (issue 14.13): 2.0 has no signature
    screens_reached(r, {"check": "invalid signature" if api == "v1"
                        else "invalid client ID or secret", "saved": "wizcanary"})
    check(os.path.exists(newcfg), "the wizard saved nothing\n%s" % r)
    eq(os.stat(newcfg).st_mode & 0o777, 0o600, "saved config mode")
    eq(os.stat(os.path.dirname(newcfg)).st_mode & 0o777, 0o700, "saved config's directory mode")
    with open(newcfg) as f:
        saved = f.read()
    for s in ([creds.access_key, creds.secret_key, creds.app_key] if api == "v1"
              else [creds.client_secret]):
        check(s in saved, "the saved config lacks a typed secret (so the test typed "
              "nothing?):\n%s" % saved)
    return newcfg


# ---- the tests -------------------------------------------------------------------------

def canary(api, forms, tls, crash=True):
    """Canary keys, refused by the simulator: every command, crashes, the
    console screens and the wizard; nothing leaks. Without TLS the
    forwarder records the exact Authorization values sent."""
    creds = Canaries()
    with Sim(["--records", "50", "--span", "1h"], api=api, tls=tls) as sim:
        cap = None if tls else Capture(sim.port)
        try:
            base = sim.base_url if tls else cap.url
            cfg = os.path.join(sim.dir, "canary.yaml")
            env = write_config(cfg, sim, base, creds, api=api, forms=forms)
            leaks = Leaks()
            run_commands(sim, cfg, env, leaks)
            if crash or mwtest.LONG:
                crash_checks(sim, cfg, env, leaks)
            console_screens(sim, cfg, env, leaks, records=False)
            saved = console_wizard(sim, creds, base, leaks, api=api) if tls else None
            sent = cap.sent() if cap else []
            if cap and api == "v1":
                check(any(creds.access_key in a for a in sent),
                      "the forwarder saw no Authorization with the canary access key: %r"
                      % sent[:3])
            leaks.tree(sim.dir, exclude=[cfg, saved or cfg, sim.ca_file or cfg] +
                       glob.glob(os.path.join(sim.dir, "*.secret")))
            check(os.path.exists(os.path.join(sim.state_dir, "store.db")), "no store.db")
            n, size = leaks.assert_none(needles(creds.secrets(), sent),
                                        "canary %s %s" % (api, "/".join(forms)))
            return n, size, len(sent)
        finally:
            if cap:
                cap.close()


def test_canary_v1_inline_tls():
    canary("v1", ("inline", "inline"), tls=True)


def test_canary_v1_file_env_wire():
    n, size, sent = canary("v1", ("file", "env"), tls=False, crash=False)
    check(sent > 0, "no Authorization value captured")


def test_canary_v2_file_tls():
    canary("v2", ("file",), tls=True, crash=False)


def test_canary_v2_env_wire():
    canary("v2", ("env",), tls=False)


def happy(api, crash=True):
    """The simulator's own credentials as canaries: records collected,
    NDJSON written, the console showing them; then a 401 forced by a fault.
    The forwarder records every Authorization value and token."""
    creds = SimCreds()
    with Sim(["--records", "120", "--span", "1h"], api=api, tls=False) as sim:
        cap = Capture(sim.port)
        try:
            cfg = os.path.join(sim.dir, "canary.yaml")
            env = write_config(cfg, sim, cap.url, creds, api=api,
                               forms=("inline", "file") if api == "v1" else ("file",))
            leaks = Leaks()
            run_commands(sim, cfg, env, leaks, expect_fail=False)
            counts = sim.store_counts()
            eq(sum(counts.values()), 360, "records stored with the simulator's keys")
            console_screens(sim, cfg, env, leaks, records=True)
            sim.faults("401:count=1000000")
            r = sim.mw(["--verbose", "fetch", "--retry-budget", "5s"], config=cfg, env=env)
            leaks.result(r, "fetch with a forced 401")
            eq(r.rc, 1, "fetch with a forced 401\n%s" % r)
            r = sim.mw(["--verbose", "validate"], config=cfg, env=env)
            leaks.result(r, "validate with a forced 401")
            eq(r.rc, 1, "validate with a forced 401\n%s" % r)
            status, e = run_bg(sim, cfg, env, leaks, "run with a forced 401")
            if crash or mwtest.LONG:
                crash_checks(sim, cfg, env, leaks)
            sim.faults("")
            sent = cap.sent()
            check(sent, "no Authorization value or token captured")
            if api == "v2":
                check(cap.tokens, "no API 2.0 token captured")
            leaks.tree(sim.dir, exclude=[cfg, sim.config] +
                       glob.glob(os.path.join(sim.dir, "*.secret")))
            ndjson = glob.glob(os.path.join(sim.out_dir, "**", "*.ndjson"), recursive=True)
            check(ndjson, "no NDJSON written")
            n, size = leaks.assert_none(needles(creds.secrets(), sent), "happy path %s" % api)
            mwtest.report("9 secrets", "places scanned (%s happy path)" % api, n,
                          "%d bytes, %d sent credentials" % (size, len(sent)))
        finally:
            cap.close()


def test_happy_v1():
    happy("v1")


def test_happy_v2():
    happy("v2", crash=False)


def test_bad_configs_never_echo():
    """Config errors around a secret name the key, never the value."""
    c = Canaries()
    bad = [
        ('secret_key: "%s!!"' % c.secret_key, "base64"),
        ('access_key: "%s x"' % c.access_key, "space"),
        ('access_key: [%s]' % c.access_key, "single value"),
        ('acess_key: %s' % c.access_key, "unknown key"),
        ('client_secret: %s' % c.client_secret, "api: v2"),
        ('secret_key: "%s' % c.secret_key, "YAML"),
        ('secret_key: %s\n    secret_key: %s' % (c.secret_key, c.secret_key), "twice"),
        # the secret pasted where a variable name or a path belongs
        ('secret_key_env: %s' % c.secret_key, "secret_key_env: "),
        ('secret_key_env: "%s+/="' % c.secret_key, "not a variable name"),
        ('secret_key_env: %s' % c.secret_key.rstrip("=").replace("+", "_").replace("/", "_"),
         "its name is not shown"),
        ('access_key_env: %s' % c.access_key, "its name is not shown"),
        ('secret_key_file: %s' % c.secret_key, "not an absolute path"),
        ('secret_key_file: "%s"' % c.secret_key, "not an absolute path"),
        ('client_secret_env: %s' % c.client_secret, "api: v2"),
        # a secret with a character no credential name has (the random
        # key alone has one only most of the time: both cases, always)
        ('secret_key_credential: %s+/' % c.secret_key.rstrip("="), "not a credential name"),
        ('secret_key_credential: %s' % re.sub("[^A-Za-z0-9]", "", c.secret_key),
         "LoadCredential=NAME:"),
        ('access_key_credential: %s' % c.access_key, "LoadCredential=NAME:"),
    ]
    with Sim(["--records", "1"], write_config=False) as sim:
        leaks = Leaks()
        cfg = os.path.join(sim.dir, "bad.yaml")
        for line, want in bad:
            text = ("integrations:\n  - name: bad\n    api: v1\n    base_url: %s\n"
                    "    app_id: %s\n    app_key: %s\n    %s\n" % (sim.base_url, c.app_id,
                                                                c.app_key, line))
            with open(cfg, "w") as f:
                f.write(text)
            os.chmod(cfg, 0o600)
            for args in (["validate"], ["fetch"], ["status", "--json"]):
                r = sim.mw(["--verbose"] + args, config=cfg)
                leaks.result(r, "%s with %r" % (" ".join(args), want))
                eq(r.rc, 2, "%s with a bad %r line: exit\n%s" % (args[0], want, r))
                check(want in r.err, "the error should mention %r:\n%s" % (want, r))
        # a secret file that is not private: refused, the secret not shown
        sf = os.path.join(sim.dir, "open.secret")
        with open(sf, "w") as f:
            f.write(c.secret_key + "\n")
        os.chmod(sf, 0o644)
        with open(cfg, "w") as f:
            f.write("integrations:\n  - name: bad\n    api: v1\n    base_url: %s\n"
                    "    app_id: %s\n    app_key: %s\n    access_key: x%s\n"
                    "    secret_key_file: %s\n" % (sim.base_url, c.app_id, c.app_key,
                                                   "a" * 8, sf))
        os.chmod(cfg, 0o600)
        r = sim.mw(["--verbose", "validate"], config=cfg)
        leaks.result(r, "validate with an open secret file")
        eq(r.rc, 2, "validate with a 0644 secret file\n%s" % r)
        check("chmod 600 %s" % sf in r.err, "the refusal should give the fix:\n%s" % r)
        # a conventional variable name is still named
        with open(cfg, "w") as f:
            f.write("integrations:\n  - name: bad\n    api: v1\n    base_url: %s\n"
                    "    app_id: %s\n    app_key: %s\n    access_key: x%s\n"
                    "    secret_key_env: MW_UNSET_SECRET\n" % (sim.base_url, c.app_id,
                                                              c.app_key, "a" * 8))
        r = sim.mw(["validate"], config=cfg)
        check("the environment variable MW_UNSET_SECRET is not set" in r.err,
              "an unset variable should be named:\n%s" % r)
        leaks.assert_none(needles([c.secret_key, c.access_key, c.client_secret]),
                          "config errors")


def _nobody():
    if not shutil.which("setpriv"):
        raise Skip("no setpriv")
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        raise Skip("no user nobody")
    if os.geteuid() != 0:
        raise Skip("needs root to run a process as nobody")
    return pw.pw_uid, pw.pw_gid


def _proc_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def test_not_dumpable():
    """Run as nobody, mimewatch (run, validate on a dripping server, and the
    console) is not dumpable: the kernel then hands /proc/PID to root, so
    no other process of the same user can read its memory or environment."""
    uid, gid = _nobody()
    creds = Canaries()
    with Sim(["--records", "50", "--span", "1h"]) as sim:
        udir = os.path.join(sim.dir, "nobody")
        os.mkdir(udir, 0o700)
        os.chmod(sim.dir, 0o711)
        ca = os.path.join(udir, "ca.pem")
        shutil.copy(sim.ca_file, ca)
        sim.state_dir = os.path.join(udir, "state")
        sim.out_dir = os.path.join(udir, "out")
        sim.ca_file = ca
        cfg = os.path.join(udir, "config.yaml")
        env = write_config(cfg, sim, sim.base_url, creds, forms=("inline", "env"))
        script = os.path.join(udir, "script")
        with open(script, "w") as f:
            f.write("sleep 3000\nquit\n")
        tmp = os.path.join(udir, "tmp")
        os.mkdir(tmp, 0o700)
        for d, dirs, files in os.walk(udir):
            for p in [d] + [os.path.join(d, x) for x in files]:
                os.chown(p, uid, gid)
        setpriv = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"]
        env.update({"HOME": udir, "TMPDIR": tmp, "TERM": "xterm", "LC_ALL": "C.UTF-8"})
        # validate and fetch wait on a server that accepts and never answers
        import socket
        mute = socket.socket()
        mute.bind(("127.0.0.1", 0))
        mute.listen(16)
        mcfg = os.path.join(udir, "mute.yaml")
        write_config(mcfg, sim, "http://127.0.0.1:%d" % mute.getsockname()[1], creds)
        os.chown(mcfg, uid, gid)
        checked = []
        for what, conf, args in (("run", cfg, ["run"]), ("validate", mcfg, ["validate"]),
                                 ("fetch", mcfg, ["fetch"]),
                                 ("console", cfg, ["--script", script, "--size", "80x24"])):
            p = subprocess.Popen(setpriv + [mwtest.MIMEWATCH, "--config", conf, "--verbose"] + args,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=env, start_new_session=True)
            mwtest._procs.append(p)
            try:
                deadline = time.monotonic() + 5 * mwtest.SCALE
                while time.monotonic() < deadline:
                    try:
                        if (os.readlink("/proc/%d/exe" % p.pid) ==
                                os.path.realpath(mwtest.MIMEWATCH)):
                            break
                    except OSError:
                        pass
                    time.sleep(0.02)
                time.sleep(0.5 * mwtest.SCALE)
                check(p.poll() is None, "%s as nobody exited early (%s)" % (what, p.returncode))
                eq(_proc_uid(p.pid), uid, "%s: the process's uid" % what)
                eq(os.stat("/proc/%d/status" % p.pid).st_uid, 0,
                   "%s: /proc/PID owner (nobody's uid means still dumpable)" % what)
                eq(core_limit(p.pid), ["0", "0"], "%s: Max core file size" % what)
                checked.append(what)
            finally:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                mwtest._procs.remove(p)
        mute.close()
        mwtest.report("9 secrets", "processes checked not dumpable, core limit 0",
                      len(checked), ", ".join(checked))


if __name__ == "__main__":
    mwtest.main([test_canary_v1_inline_tls, test_canary_v1_file_env_wire,
                 test_canary_v2_file_tls, test_canary_v2_env_wire, test_happy_v1,
                 test_happy_v2, test_bad_configs_never_echo, test_not_dumpable])
