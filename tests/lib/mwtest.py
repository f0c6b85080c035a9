"""mwtest - the shared harness of mimewatch's integration tests (stdlib only).

Starts mimewatch-sim on 127.0.0.1 (port 0, TLS, its own CA) in a fresh
temporary directory, lets it write a mimewatch config there, runs the real
mimewatch binary against it, and reads what came out: NDJSON files, the
store (read-only), `status --json`, and the simulator's control endpoint
(/_sim/stats, /_sim/faults, /_sim/records). Nothing but 127.0.0.1 is ever
contacted; every process started here is killed in finally.

Binaries: $MIMEWATCH and $MIMEWATCH_SIM (set by `make check`).
Each test_*.py calls mwtest.main([functions]): prints "PASS name",
"FAIL name: why" or "SKIP name: why"; exits 0 all passed, 1 any failed,
77 when everything was skipped.
"""

import atexit
import glob
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

TYPES = ("url", "impersonation", "attachment")
# Beyond TTP (issue 15): paged like TTP, not in a config that names no types.
NEW_TYPES = ("audit", "dlp")
ALL_TYPES = TYPES + NEW_TYPES
# Pages of these come newest first (src/logtypes.c newest_first).
NEWEST_FIRST = ("audit",)
PATHS = {
    "url": "/api/ttp/url/get-logs",
    "impersonation": "/api/ttp/impersonation/get-logs",
    "attachment": "/api/ttp/attachment/get-logs",
    "audit": "/api/audit/get-audit-events",
    "dlp": "/api/dlp/get-logs",
}
TIME_FIELD = {"url": "date", "impersonation": "eventTime", "attachment": "date",
              "audit": "eventTime", "dlp": "eventTime"}

# The simulator's fixed credentials (sim.h; documented in mimewatch-sim(1)).
SIM_APP_ID = "5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
SIM_APP_KEY = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
SIM_ACCESS_KEY = ("mwsim-access-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
                  "OPQRSTUVWXYZ-_0123456789abcdef")
SIM_SECRET_KEY = ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEy"
                  "MzQ1Njc4OTo7PD0+Pw==")

FETCH_RE = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)/(?P<type>[a-z]+): (?P<new>\d+) new, (?P<dup>\d+) "
    r"duplicates dropped, (?P<req>\d+) requests, (?P<retries>\d+) retries, "
    r"(?P<rej>\d+) rejected, horizon (?P<horizon>\S+)(?P<failed> \(FAILED\))?$")


class Skip(Exception):
    """Raised by a check that cannot run here (e.g. no setpriv)."""


class CheckFailed(AssertionError):
    pass


def check(cond, why):
    if not cond:
        raise CheckFailed(why)


def eq(got, want, what):
    if got != want:
        raise CheckFailed("%s: got %r, expected %r" % (what, got, want))


def _binary(var, name):
    path = os.environ.get(var)
    if not path:
        for cand in ("./" + name, "./build/" + name, "../../build/" + name):
            if os.access(cand, os.X_OK):
                path = os.path.abspath(cand)
                break
    if not path or not os.access(path, os.X_OK):
        sys.stderr.write("mwtest: set %s to the %s binary\n" % (var, name))
        sys.exit(99)  # automake: hard error
    return path


MIMEWATCH = _binary("MIMEWATCH", "mimewatch")
MIMEWATCH_SIM = _binary("MIMEWATCH_SIM", "mimewatch-sim")


def _detect_scale():
    """Sanitizer builds run several times slower: widen timeouts (never the
    asserted bounds on counts)."""
    if os.environ.get("MW_TIMEOUT_SCALE"):
        return float(os.environ["MW_TIMEOUT_SCALE"])
    try:
        with open(MIMEWATCH, "rb") as f:
            if b"AddressSanitizer" in f.read():
                return 3.0
    except OSError:
        pass
    return 1.0


SCALE = _detect_scale()

# The machine's proxy settings are not the tests' (as make check's
# environment drops them): a test run by hand inherits none either, and
# test_proxy sets the ones it tests.
for _v in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
           "no_proxy", "NO_PROXY"):
    os.environ.pop(_v, None)

# MW_WRAPPER runs mimewatch under a tool, e.g. "valgrind -q --error-exitcode=97"
# (`make check-valgrind`): a memory error then fails the test through the
# exit status.
WRAPPER = os.environ.get("MW_WRAPPER", "").split()

# Every process started here, killed at exit whatever happens.
_procs = []


def _kill_all():
    for p in _procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                try:
                    p.kill()
                except OSError:
                    pass
            try:
                p.wait(timeout=5)
            except Exception:
                pass
    del _procs[:]


atexit.register(_kill_all)


def _on_term(sig, frame):
    _kill_all()
    sys.exit(1)


signal.signal(signal.SIGTERM, _on_term)


class Result:
    """What one mimewatch run did."""

    def __init__(self, argv, rc, out, err, wall, cpu, maxrss_kb):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        self.wall, self.cpu, self.maxrss_kb = wall, cpu, maxrss_kb

    def report(self):
        """fetch's per-type lines: {(name, type): dict}."""
        rep = {}
        for line in self.out.splitlines():
            m = FETCH_RE.match(line)
            if m:
                d = m.groupdict()
                for k in ("new", "dup", "req", "retries", "rej"):
                    d[k] = int(d[k])
                d["failed"] = bool(d["failed"])
                rep[(d["name"], d["type"])] = d
        return rep

    def __str__(self):
        return "`mimewatch %s` exit %s after %.1fs\n--- stdout\n%s--- stderr\n%s" % (
            " ".join(self.argv), self.rc, self.wall, _tail(self.out), _tail(self.err))


def _tail(text, n=25):
    lines = text.splitlines(True)
    if len(lines) > n:
        lines = ["[... %d lines]\n" % (len(lines) - n)] + lines[-n:]
    return "".join(lines) if lines else "(empty)\n"


def run_process(argv, timeout, env=None, cwd=None, stdin=subprocess.DEVNULL, preexec=None,
                on_poll=None):
    """Runs argv to completion (killing it at timeout); returns
    (rc, out, err, wall, cpu_seconds, maxrss_kb). rc is -signal when killed.
    on_poll(pid), when given, is called every 10 ms while it runs."""
    outf = tempfile.TemporaryFile()
    errf = tempfile.TemporaryFile()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=outf, stderr=errf, stdin=stdin, env=env, cwd=cwd,
                         start_new_session=True, preexec_fn=preexec)
    _procs.append(p)
    timed_out = False
    while True:
        if on_poll:
            on_poll(p.pid)
        pid, status, rusage = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if time.monotonic() - t0 > timeout:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            pid, status, rusage = os.wait4(p.pid, 0)
            break
        time.sleep(0.01)
    rc = p.returncode = os.waitstatus_to_exitcode(status)
    _procs.remove(p)
    wall = time.monotonic() - t0
    outf.seek(0)
    errf.seek(0)
    out = outf.read().decode("utf-8", "replace")
    err = errf.read().decode("utf-8", "replace")
    outf.close()
    errf.close()
    if timed_out:
        err += "\n[mwtest: killed after the %.0fs timeout]\n" % timeout
    return rc, out, err, wall, rusage.ru_utime + rusage.ru_stime, rusage.ru_maxrss


def mimewatch(args, config=None, timeout=120, env=None, preexec=None, cwd=None):
    argv = list(args)
    if config:
        argv = ["--config", config] + argv
    rc, out, err, wall, cpu, rss = run_process(WRAPPER + [MIMEWATCH] + argv, timeout * SCALE, env=env,
                                               preexec=preexec, cwd=cwd)
    return Result(argv, rc, out, err, wall, cpu, rss)


def mimewatch_bg(args, config=None, env=None, stdout=None, stderr=None):
    """Starts mimewatch in the background (its own process group)."""
    argv = WRAPPER + [MIMEWATCH] + (["--config", config] if config else []) + list(args)
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=stdout or subprocess.DEVNULL,
                         stderr=stderr or subprocess.DEVNULL, env=env,
                         start_new_session=True)
    _procs.append(p)
    return p


def stop_bg(p, sig=signal.SIGTERM, timeout=20):
    """Sends sig and waits; SIGKILLs the group if it does not exit. Returns rc."""
    if p.poll() is None:
        try:
            os.kill(p.pid, sig)
        except OSError:
            pass
        try:
            p.wait(timeout=timeout * SCALE)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if p in _procs:
        _procs.remove(p)
    return p.returncode


def kill9_after(p, delay):
    """Lets p run for delay seconds (or until it exits), then SIGKILLs its
    process group as a crash would and reaps it. True if it was still
    running when killed."""
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.005)
    alive = p.poll() is None
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    p.wait()
    stop_bg(p)
    return alive


def canonical_id(rec):
    """SHA-256 of the canonical form (HACKING, "NDJSON output") (valid for
    records without control characters or floats)."""
    s = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def has_controls(obj):
    """True if any string (key or value) holds U+0000-U+001F or U+007F-U+009F."""
    if isinstance(obj, str):
        return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in obj)
    if isinstance(obj, dict):
        return any(has_controls(k) or has_controls(v) for k, v in obj.items())
    if isinstance(obj, list):
        return any(has_controls(v) for v in obj)
    return False


def has_float(obj):
    if isinstance(obj, float):
        return True
    if isinstance(obj, dict):
        return any(has_float(v) for v in obj.values())
    if isinstance(obj, list):
        return any(has_float(v) for v in obj)
    return False


def mc_time(s):
    """Epoch seconds of a Mimecast or RFC 3339 UTC time string."""
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?"
                 r"(Z|[+-]00:?00)$", s)
    if not m:
        raise CheckFailed("not a UTC timestamp: %r" % s)
    import calendar
    return calendar.timegm(tuple(int(m.group(k)) for k in range(1, 7)) + (0, 0, 0))


class Sim:
    """One simulated tenant in its own temp dir, with a config written for it.

        with Sim(["--records", "1000"]) as sim:
            r = sim.mw(["fetch"])
    """

    def __init__(self, args=(), api="v1", tls=True, write_config=True, env=None):
        self.args = list(args)
        self.api = api
        self.tls = tls
        self.write_config = write_config
        self.env = env
        self.dir = tempfile.mkdtemp(prefix="mwtest-")
        os.chmod(self.dir, 0o700)
        self.cert_dir = os.path.join(self.dir, "certs")
        self.config = os.path.join(self.dir, "config.yaml")
        self.state_dir = os.path.join(self.dir, "state")
        self.out_dir = os.path.join(self.dir, "out")
        self.proc = None
        self.port = None
        self.ca_file = None

    # ---- life cycle --------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, et, ev, tb):
        rc = self.stop()
        if et is None and rc not in (0, None):
            # A sanitizer report or a crash on SIGTERM is a failure too.
            log = self.sim_log()
            shutil.rmtree(self.dir, ignore_errors=True)
            raise CheckFailed("mimewatch-sim exited %s on SIGTERM:\n%s" % (rc, log))
        if et is None or not os.environ.get("MW_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            sys.stderr.write("mwtest: kept %s\n" % self.dir)
        return False

    def start(self, extra=()):
        port_file = os.path.join(self.dir, "port")
        for f in (port_file,):
            if os.path.exists(f):
                os.unlink(f)
        argv = [MIMEWATCH_SIM, "--bind", "127.0.0.1", "--port", str(self.port or 0),
                "--port-file", port_file, "--quiet"]
        if self.tls:
            argv += ["--tls", "--cert-dir", self.cert_dir]
        if self.write_config:
            argv += ["--write-config", self.config, "--state-dir", self.state_dir,
                     "--out-dir", self.out_dir, "--api", self.api]
        argv += self.args + list(extra)
        self.log = open(os.path.join(self.dir, "sim.log"), "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     env=self.env)
        _procs.append(self.proc)
        deadline = time.monotonic() + 20 * SCALE
        while True:
            if self.proc.poll() is not None:
                raise CheckFailed("mimewatch-sim %s exited with %s:\n%s" % (
                    " ".join(argv[1:]), self.proc.returncode, self.sim_log()))
            if self._ready(port_file):
                break
            if time.monotonic() > deadline:
                raise CheckFailed("mimewatch-sim did not start within %.0fs:\n%s"
                                  % (20 * SCALE, self.sim_log()))
            time.sleep(0.05)
        if self.tls:
            # The CA the config names is the one mimewatch trusts; whether
            # --cert-dir is honoured is test_cli's test_sim_cert_dir.
            self.ca_file = os.path.join(self.cert_dir, "sim-ca.pem")
            if self.write_config:
                m = re.search(r'(?m)^\s*ca_file:\s*"?([^"\n]+)"?\s*$', self.read_config())
                check(m, "the written config names no ca_file:\n%s" % self.read_config())
                self.ca_file = m.group(1)
            check(os.path.exists(self.ca_file), "mimewatch-sim wrote no %s" % self.ca_file)
        if self.write_config:
            os.chmod(self.config, 0o600)

    def _ready(self, port_file):
        try:
            with open(port_file) as f:
                text = f.read()
            port = int(text.strip())
        except (OSError, ValueError):
            return False
        if self.write_config and not os.path.exists(self.config):
            return False
        with open(os.path.join(self.dir, "sim.log"), "rb") as f:
            if b"mimewatch-sim listening on" not in f.read():
                return False
        self.port = port
        return True

    def sim_log(self):
        try:
            with open(os.path.join(self.dir, "sim.log"), "rb") as f:
                return _tail(f.read().decode("utf-8", "replace"), 40)
        except OSError:
            return "(no log)"

    def stop(self):
        """SIGTERM (SIGKILL after 10 s); returns the exit status, or None
        when it had to be killed or was never started."""
        rc = None
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                rc = self.proc.wait(timeout=10 * SCALE)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.proc.wait()
        if self.proc in _procs:
            _procs.remove(self.proc)
        if getattr(self, "log", None):
            self.log.close()
            self.log = None
        return rc

    def restart(self, extra=()):
        """Stops and starts again on the same port (same seed, same certs)."""
        self.stop()
        self.start(extra)

    @property
    def base_url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    # ---- the control endpoint ------------------------------------------------------
    def _conn(self, timeout=60):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout * SCALE,
                                               context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout * SCALE)

    def http(self, method, path, body=None, headers=None):
        c = self._conn()
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def post_v1(self, path, body=None, app_key=SIM_APP_KEY, secret=SIM_SECRET_KEY):
        """One API 1.0 request signed (HACKING, "Signing (API 1.0)"); returns
        (status, {lower-case header: value}, parsed JSON body or raw bytes)."""
        import base64
        import hmac
        import uuid
        date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
        rid = str(uuid.uuid4())
        mac = hmac.new(base64.b64decode(secret), ("%s:%s:%s:%s" % (date, rid, path, app_key))
                       .encode(), hashlib.sha1).digest()
        headers = {"x-mc-date": date, "x-mc-req-id": rid, "x-mc-app-id": SIM_APP_ID,
                   "Authorization": "MC %s:%s" % (SIM_ACCESS_KEY,
                                                  base64.b64encode(mac).decode()),
                   "Content-Type": "application/json", "Accept": "application/json"}
        c = self._conn()
        try:
            c.request("POST", path, body=json.dumps(body if body is not None else {"data": []}),
                      headers=headers)
            r = c.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        finally:
            c.close()
        try:
            data = json.loads(data)
        except ValueError:
            pass
        return r.status, hdrs, data

    def stats(self):
        st, body = self.http("GET", "/_sim/stats")
        eq(st, 200, "GET /_sim/stats status")
        return json.loads(body)

    def faults(self, text=""):
        """Replaces the active faults (one SPEC a line; "" clears them)."""
        st, body = self.http("POST", "/_sim/faults", body=text.encode(),
                             headers={"Content-Type": "text/plain"})
        eq(st, 200, "POST /_sim/faults %r status (body %r)" % (text, body[:200]))

    def truth(self, type_):
        """Ground truth: every record of a type visible now, as parsed objects."""
        st, body = self.http("GET", "/_sim/records?type=" + type_)
        eq(st, 200, "GET /_sim/records?type=%s status" % type_)
        return [json.loads(line) for line in body.split(b"\n") if line.strip()]

    def path_requests(self, type_, stats=None):
        return (stats or self.stats()).get("requests", {}).get(PATHS[type_], 0)

    # ---- mimewatch -------------------------------------------------------------------
    def mw(self, args, timeout=120, env=None, config=None, preexec=None):
        return mimewatch(args, config=config or self.config, timeout=timeout, env=env,
                         preexec=preexec)

    def fetch(self, *names, budget=None, timeout=120, expect_rc=0):
        args = ["fetch"]
        if budget:
            args += ["--retry-budget", budget]
        r = self.mw(args + list(names), timeout=timeout)
        if expect_rc is not None:
            eq(r.rc, expect_rc, "exit status of fetch\n%s" % r)
        return r

    def status_json(self):
        r = self.mw(["status", "--json"])
        check(r.rc in (0, 1), "status --json exit %s\n%s" % (r.rc, r))
        try:
            return json.loads(r.out)
        except ValueError as ex:
            raise CheckFailed("status --json printed no JSON (%s)\n%s" % (ex, r))

    def type_status(self, name="sim"):
        """{type: status object} of one integration from status --json."""
        js = self.status_json()
        for i in js.get("integrations", []):
            if i.get("name") == name:
                return {t["type"]: t for t in i.get("types", [])}
        raise CheckFailed("status --json lists no integration %r: %r" % (name, js))

    # ---- config --------------------------------------------------------------------------
    def read_config(self):
        with open(self.config) as f:
            return f.read()

    def edit_config(self, **kv):
        """Sets `key: value` on every line that has that key (keeping the
        indentation and a leading "- "); fails if a key is absent."""
        text = self.read_config()
        for key, val in kv.items():
            pat = re.compile(r"^(\s*(?:-\s+)?)%s:.*$" % re.escape(key), re.M)
            text, n = pat.subn(lambda m: "%s%s: %s" % (m.group(1), key, val), text)
            check(n > 0, "the written config has no %s: key:\n%s" % (key, text))
        with open(self.config, "w") as f:
            f.write(text)
        os.chmod(self.config, 0o600)

    # ---- outputs and the store ---------------------------------------------------------
    def ndjson_files(self, name="sim", type_=None):
        pat = os.path.join(self.out_dir, name, type_ or "*", "*.ndjson")
        return sorted(glob.glob(pat))

    def ndjson_raw(self, name="sim", type_="url"):
        """The raw lines (bytes, without the newline) of one type's files; a
        file not ending in a newline gives a torn last line (kept, flagged)."""
        lines = []
        for path in self.ndjson_files(name, type_):
            with open(path, "rb") as f:
                data = f.read()
            if not data:
                continue
            parts = data.split(b"\n")
            if parts[-1] != b"":
                raise CheckFailed("%s does not end in a newline: torn last line %r"
                                  % (path, parts[-1][:120]))
            lines.extend(parts[:-1])
        return lines

    def ndjson(self, name="sim", type_="url"):
        out = []
        for i, raw in enumerate(self.ndjson_raw(name, type_)):
            try:
                out.append(json.loads(raw.decode("utf-8")))
            except (UnicodeDecodeError, ValueError) as ex:
                raise CheckFailed("%s/%s NDJSON line %d is not valid UTF-8 JSON (%s): %r"
                                  % (name, type_, i + 1, ex, raw[:200]))
        return out

    def ndjson_size(self):
        return sum(os.path.getsize(p) for p in glob.glob(
            os.path.join(self.out_dir, "**", "*.ndjson"), recursive=True))

    def store_counts(self):
        """{(integration, type): records} from the store, read-only."""
        db = os.path.join(self.state_dir, "store.db")
        check(os.path.exists(db), "no store at %s" % db)
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
        try:
            rows = con.execute("SELECT s.integration, s.type, COUNT(r.id) FROM sources s "
                               "LEFT JOIN records r ON r.source = s.id "
                               "GROUP BY s.id").fetchall()
            dups = con.execute("SELECT COUNT(*) FROM (SELECT source, id FROM records "
                               "GROUP BY source, id HAVING COUNT(*) > 1)").fetchone()[0]
        finally:
            con.close()
        check(dups == 0, "the store holds %d duplicated (source, id) pairs" % dups)
        return {(a, b): n for a, b, n in rows}


def check_modes(*roots, skip_roots=False):
    """Every file under roots is 0600 and every directory 0700."""
    bad = []
    for root in roots:
        if not os.path.exists(root):
            continue
        for d, dirs, files in os.walk(root):
            if not (skip_roots and d == root):
                m = os.stat(d).st_mode & 0o777
                if m != 0o700:
                    bad.append("%s/ is %o" % (d, m))
            for f in files:
                p = os.path.join(d, f)
                m = os.lstat(p).st_mode & 0o777
                if m != 0o600:
                    bad.append("%s is %o" % (p, m))
    check(not bad, "modes other than 0600/0700: " + "; ".join(bad))


def rec_key(r):
    """What names a simulated record: its messageId, or for audit events
    (which concern no message) its id."""
    return r.get("messageId", r.get("id"))


# The same in SQL over records.json.
REC_KEY_SQL = "coalesce(json_extract(%s,'$.messageId'),json_extract(%s,'$.id'))"


def message_ids(records):
    return [rec_key(r) for r in records]


def expected_ids(type_, n, seed=1):
    return ["<sim-%s-%d@%d.sim.example>" % (type_, i, seed) for i in range(n)]


def assert_exact_records(sim, want_by_type, name="sim"):
    """want_by_type: {type: list of ground-truth records}. The NDJSON and the
    store hold exactly those records: none lost, none duplicated."""
    counts = sim.store_counts()
    for t, want in want_by_type.items():
        lines = sim.ndjson(name, t)
        got = message_ids(l.get("record", {}) for l in lines)
        wantids = message_ids(want)
        dup = len(got) - len(set(got))
        lost = set(wantids) - set(got)
        extra = set(got) - set(wantids)
        if dup:
            import collections
            twice = sorted(k for k, v in collections.Counter(got).items() if v > 1)
            raise CheckFailed("%s/%s: %d duplicated lines in the NDJSON, e.g. %r"
                              % (name, t, dup, twice[:3]))
        check(not lost, "%s/%s: %d records lost, e.g. %r" % (name, t, len(lost),
                                                              sorted(lost)[:3]))
        check(not extra, "%s/%s: %d records the tenant never had, e.g. %r"
              % (name, t, len(extra), sorted(extra)[:3]))
        eq(len(lines), len(want), "%s/%s NDJSON lines" % (name, t))
        eq(counts.get((name, t), 0), len(want), "%s/%s records in the store" % (name, t))


def wait_for(cond, timeout, what, step=0.1):
    """Polls cond() until it returns something true (returned) or the
    timeout (scaled for sanitizer builds) passes (CheckFailed)."""
    deadline = time.monotonic() + timeout * SCALE
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise CheckFailed("timed out after %.0fs waiting for %s" % (timeout * SCALE, what))


LONG = os.environ.get("MW_LONG", "") not in ("", "0")


def scaled(short, long_):
    """A size for `make check` (short) or `make check-long` (MW_LONG=1)."""
    return long_ if LONG else short


def run_parallel(jobs, width=None):
    """jobs: [(label, fn, args)], run in threads, at most width at once (all
    when None). {label: fn's result, or the exception it raised}."""
    out = {}
    sem = threading.Semaphore(width or max(1, len(jobs)))

    def one(label, fn, args):
        with sem:
            try:
                out[label] = fn(*args)
            except BaseException as ex:  # the caller reports it per job
                out[label] = ex

    threads = [threading.Thread(target=one, args=j) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def report(item, metric, value, note=""):
    """One figure for `make reliability-report`: appended as a tab-separated
    line (issue item, metric, value, note) to $MW_REPORT_FILE when set, and
    always printed so a plain run shows it too."""
    line = "%s\t%s\t%s\t%s" % (item, metric, value, note)
    print("REPORT " + line.replace("\t", " | "), flush=True)
    path = os.environ.get("MW_REPORT_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def main(tests):
    """Runs the test functions (or those named on the command line)."""
    only = set(sys.argv[1:])
    failed = passed = skipped = 0
    try:
        for fn in tests:
            name = fn.__name__
            if only and name not in only:
                continue
            t0 = time.monotonic()
            try:
                fn()
            except Skip as ex:
                skipped += 1
                print("SKIP %s: %s" % (name, ex), flush=True)
                continue
            except CheckFailed as ex:
                failed += 1
                print("FAIL %s: %s" % (name, ex), flush=True)
                continue
            except Exception:
                failed += 1
                print("FAIL %s: %s" % (name, traceback.format_exc()), flush=True)
                continue
            finally:
                _kill_all()
            passed += 1
            print("PASS %s (%.1fs)" % (name, time.monotonic() - t0), flush=True)
    finally:
        _kill_all()
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped), flush=True)
    if failed:
        sys.exit(1)
    if skipped and not passed:
        sys.exit(77)
    sys.exit(0)
