"""mwout - receivers for the output tests (test_out_*.py, test_heartbeat.py).

Each class starts a real receiver on 127.0.0.1 in the test's temp dir and
registers its process with mwtest, so it is killed whatever happens:

  Rsyslog      rsyslogd -n -f CONF -i PIDFILE with imtcp (octet-counted
               framing), imtcp over the ossl TLS driver (CA and server
               certificate made with openssl), imrelp; one omfile per input
               writing APP-NAME, HOSTNAME, STRUCTURED-DATA and the raw MSG.
               With tls_auth=True also imrelp over TLS (OpenSSL) without and
               with a required client certificate, and imtcp/ossl with a
               required client certificate (make_client_certs).
  StrictHttp   tests/lib/strict_http.py (HEC and Elasticsearch _bulk); with
               tls=True over HTTPS (make_certs), client_cert=True requiring
               a client certificate (make_client_certs), es_basic=USER:PASS
               taking basic auth
  MockCluster  tests/lib/mockcluster (librdkafka's mock cluster, 3 brokers)

plus helpers to add outputs to a Sim's config and read outputs' status.
Python stdlib only.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import mwtest
from mwtest import CheckFailed, Skip, check, eq

RSYSLOGD = os.environ.get("RSYSLOGD", "/usr/sbin/rsyslogd")
RSYSLOG_MODDIR = os.environ.get("RSYSLOG_MODDIR", "/usr/lib/x86_64-linux-gnu/rsyslog")
HOSTNAME = "mw-out-test.example"
SD_RE = re.compile(r'^\[mimewatch@32473((?: [a-z]+="(?:[^"\\\]]|\\.)*")*)\]$')
# where a message starts inside a line rsyslogd's SIGKILL cut short
JOINED_RE = re.compile(rb"mimewatch\t[^\t]*\t\[mimewatch@")
SD_PARAM_RE = re.compile(r' ([a-z]+)="((?:[^"\\\]]|\\.)*)"')


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_until(fn, timeout, what, step=0.1):
    """Polls fn() until it returns a true value (returned); fails after timeout."""
    deadline = time.monotonic() + timeout * mwtest.SCALE
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise CheckFailed("timed out after %.0fs waiting for %s" % (timeout * mwtest.SCALE,
                                                                          what))
        time.sleep(step)


def _start(argv, log_path, **kw):
    log = open(log_path, "ab")
    p = subprocess.Popen(argv, stdout=kw.pop("stdout", log), stderr=log,
                         start_new_session=True, **kw)
    log.close()
    mwtest._procs.append(p)
    return p


def _stop(p, sig=signal.SIGTERM, timeout=10):
    if p is None:
        return None
    if p.poll() is None:
        try:
            os.kill(p.pid, sig)
        except OSError:
            pass
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if p in mwtest._procs:
        mwtest._procs.remove(p)
    return p.returncode


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _tail(path, n=30):
    return mwtest._tail(_read(path).decode("utf-8", "replace"), n)


# ---- rsyslogd ------------------------------------------------------------------------

def make_certs(d):
    """A CA and a server certificate for localhost / 127.0.0.1 signed by it."""
    def sh(cmd):
        r = subprocess.run(cmd, shell=True, cwd=d, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        check(r.returncode == 0, "%s failed:\n%s" % (cmd, r.stdout.decode(errors="replace")))
    sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mw-out-test-ca "
       "-keyout ca.key -out ca.pem")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    sh("openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key "
       "-out server.csr && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
       "-CAcreateserial -days 2 -extfile san.ext -out server.pem")
    for f in ("ca.key", "ca.pem", "server.key", "server.pem"):
        os.chmod(os.path.join(d, f), 0o600)


CLIENT_CN = "mw-client.example"


def make_client_certs(d):
    """Beside make_certs' CA (ca.pem): client.pem/client.key, CN and DNS
    name CLIENT_CN, signed by it; other-ca.pem, a second CA that signed
    nothing the receivers hold; rogue.pem/rogue.key, a client certificate
    with the same name signed by other-ca."""
    def sh(cmd):
        r = subprocess.run(cmd, shell=True, cwd=d, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        check(r.returncode == 0, "%s failed:\n%s" % (cmd, r.stdout.decode(errors="replace")))
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("subjectAltName=DNS:%s\nextendedKeyUsage=clientAuth\n" % CLIENT_CN)
    sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mw-other-ca "
       "-keyout other-ca.key -out other-ca.pem")
    for name, ca in (("client", "ca"), ("rogue", "other-ca")):
        sh("openssl req -newkey rsa:2048 -nodes -subj /CN=%s -keyout %s.key -out %s.csr && "
           "openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial -days 2 "
           "-extfile client.ext -out %s.pem" % (CLIENT_CN, name, name, name, ca, ca, name))
    for f in ("other-ca.key", "other-ca.pem", "client.key", "client.pem", "rogue.key",
              "rogue.pem"):
        os.chmod(os.path.join(d, f), 0o600)


class Rsyslog:
    """A real rsyslogd on three free loopback ports: tcp (imtcp, octet counting
    and LF framing both accepted), tls (imtcp with the ossl driver, anon
    client auth), relp (imrelp). Each input has its own ruleset writing
    <dir>/<input>.log, one line per message:
        APP-NAME TAB HOSTNAME TAB STRUCTURED-DATA TAB MSG
    The main queue is Direct, so imrelp acknowledges a frame only after
    omfile wrote it: an acknowledged record survives a SIGKILL."""

    INPUTS = ("tcp", "tls", "relp")
    # tls_auth=True: relptls (imrelp, tls="on", server certificate, no
    # client authentication), relptls_auth (imrelp, tls.authMode="name",
    # tls.permittedPeer CLIENT_CN: a client certificate signed by the CA is
    # required), tls_auth (imtcp, ossl driver, StreamDriver.AuthMode
    # "x509/name", PermittedPeer CLIENT_CN).
    TLS_INPUTS = ("relptls", "relptls_auth", "tls_auth")

    def __init__(self, parent, tls_auth=False):
        if not os.access(RSYSLOGD, os.X_OK):
            raise Skip("no rsyslogd at %s" % RSYSLOGD)
        for m in ("imtcp", "imrelp", "lmnsd_ossl"):
            if not os.path.exists(os.path.join(RSYSLOG_MODDIR, m + ".so")):
                raise Skip("rsyslog module %s is not installed" % m)
        self.dir = os.path.join(parent, "rsyslog")
        os.makedirs(os.path.join(self.dir, "work"), mode=0o700)
        make_certs(self.dir)
        self.ca_file = os.path.join(self.dir, "ca.pem")
        self.tls_auth = tls_auth
        self.inputs = self.INPUTS + (self.TLS_INPUTS if tls_auth else ())
        if tls_auth:
            make_client_certs(self.dir)
            self.other_ca = os.path.join(self.dir, "other-ca.pem")
            self.client_cert = os.path.join(self.dir, "client.pem")
            self.client_key = os.path.join(self.dir, "client.key")
            self.rogue_cert = os.path.join(self.dir, "rogue.pem")
            self.rogue_key = os.path.join(self.dir, "rogue.key")
        self.ports = {k: free_port() for k in self.inputs}
        self.proc = None
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        self.pidfile = os.path.join(self.dir, "rsyslogd.pid")
        self.log = os.path.join(self.dir, "rsyslogd.out")
        self._write_conf()

    def url(self, kind):
        """The url of an input; the TLS ones by the name the server
        certificate holds (librelp checks names, not addresses)."""
        scheme = {"relptls": "relp+tls", "relptls_auth": "relp+tls", "tls_auth": "tls"}
        host = "localhost" if kind in ("tls",) + self.TLS_INPUTS else "127.0.0.1"
        return "%s://%s:%d" % (scheme.get(kind, kind), host, self.ports[kind])

    def _write_conf(self):
        d = self.dir
        c = ['global(workDirectory="%s/work" maxMessageSize="256k"' % d,
             '       parser.escapeControlCharactersOnReceive="off"',
             '       defaultNetstreamDriverCAFile="%s/ca.pem"' % d,
             '       defaultNetstreamDriverCertFile="%s/server.pem"' % d,
             '       defaultNetstreamDriverKeyFile="%s/server.key")' % d,
             'main_queue(queue.type="Direct")',
             'module(load="imtcp")',
             'module(load="imrelp" tls.tlslib="openssl")',
             'template(name="sdmsg" type="string" '
             'string="%app-name%\\t%hostname%\\t%structured-data%\\t%msg%\\n")']
        for k in self.inputs:
            c.append('ruleset(name="rs_%s") { action(type="omfile" file="%s/%s.log" '
                     'template="sdmsg" fileCreateMode="0600") }' % (k, d, k))
        c.append('input(type="imtcp" address="127.0.0.1" port="%d" ruleset="rs_tcp" '
                 'supportOctetCountedFraming="on")' % self.ports["tcp"])
        c.append('input(type="imtcp" address="127.0.0.1" port="%d" ruleset="rs_tls" '
                 'streamDriver.name="ossl" streamDriver.mode="1" '
                 'streamDriver.authMode="anon" supportOctetCountedFraming="on")'
                 % self.ports["tls"])
        c.append('input(type="imrelp" address="127.0.0.1" port="%d" ruleset="rs_relp" '
                 'maxDataSize="256k")' % self.ports["relp"])
        if self.tls_auth:
            tls = ('tls="on" tls.cacert="%s/ca.pem" tls.mycert="%s/server.pem" '
                   'tls.myprivkey="%s/server.key"' % (d, d, d))
            c.append('input(type="imrelp" address="127.0.0.1" port="%d" ruleset="rs_relptls" '
                     'maxDataSize="256k" %s)' % (self.ports["relptls"], tls))
            c.append('input(type="imrelp" address="127.0.0.1" port="%d" '
                     'ruleset="rs_relptls_auth" maxDataSize="256k" %s tls.authMode="name" '
                     'tls.permittedPeer=["%s"])' % (self.ports["relptls_auth"], tls, CLIENT_CN))
            c.append('input(type="imtcp" address="127.0.0.1" port="%d" ruleset="rs_tls_auth" '
                     'streamDriver.name="ossl" streamDriver.mode="1" '
                     'streamDriver.authMode="x509/name" permittedPeer=["%s"] '
                     'supportOctetCountedFraming="on")' % (self.ports["tls_auth"], CLIENT_CN))
        with open(self.conf, "w") as f:
            f.write("\n".join(c) + "\n")

    def start(self):
        if os.path.exists(self.pidfile):
            os.unlink(self.pidfile)
        self.proc = _start([RSYSLOGD, "-n", "-f", self.conf, "-i", self.pidfile], self.log,
                           stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15 * mwtest.SCALE
        while not all(port_open(p) for p in self.ports.values()):
            if self.proc.poll() is not None:
                raise CheckFailed("rsyslogd exited %s at start:\n%s"
                                  % (self.proc.returncode, _tail(self.log)))
            if time.monotonic() > deadline:
                raise CheckFailed("rsyslogd did not listen within 15s:\n%s" % _tail(self.log))
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM):
        _stop(self.proc, sig)
        self.proc = None

    def kill(self):
        """SIGKILL, as a crash: nothing flushed, connections reset."""
        self.stop(signal.SIGKILL)

    def raw(self, kind):
        return _read(os.path.join(self.dir, kind + ".log"))

    def count(self, kind):
        return self.raw(kind).count(b"\n")

    def messages(self, kind, torn_ok=False):
        """[(app, host, {sd param: value}, msg bytes)] in arrival order; a
        line that is not a whole mimewatch message fails the test.

        torn_ok: rsyslogd was SIGKILLed, and its file may hold the line it
        was writing cut short, the next run's first line joined to it. A
        MSG (an NDJSON line: JSON, no raw tab) never holds a tab, so a tab
        in it marks the join: the cut message is dropped (counted in
        self.torn[kind]) and the rest read as the message it is."""
        out = []
        data = self.raw(kind)
        check(data == b"" or data.endswith(b"\n"), "%s.log: torn last line" % kind)
        self.torn = getattr(self, "torn", {})
        self.torn[kind] = 0
        for i, line in enumerate(data.split(b"\n")[:-1]):
            parts = line.split(b"\t", 3)
            while torn_ok and len(parts) == 4 and b"\t" in parts[3]:
                # the joined message: the last APP-NAME, HOSTNAME, SD start
                starts = [m.start() for m in JOINED_RE.finditer(line)]
                check(starts and starts[-1] > 0, "%s.log line %d: a tab in MSG but no "
                      "message after it: %r" % (kind, i + 1, line[:200]))
                self.torn[kind] += 1
                line = line[starts[-1]:]
                parts = line.split(b"\t", 3)
            check(len(parts) == 4, "%s.log line %d is not 4 tab-separated fields: %r"
                  % (kind, i + 1, line[:200]))
            app, host, sd, msg = parts
            m = SD_RE.match(sd.decode("utf-8", "replace"))
            check(m, "%s.log line %d: structured data %r is not [mimewatch@32473 ...]"
                  % (kind, i + 1, sd[:200]))
            params = {}
            for k, v in SD_PARAM_RE.findall(m.group(1)):
                params[k] = re.sub(r"\\(.)", r"\1", v)
            out.append((app.decode(), host.decode(), params, msg))
        return out

    def wait_count(self, kind, n, timeout=30):
        """Waits until kind's file holds at least n lines; returns the count."""
        return wait_until(lambda: self.count(kind) >= n and self.count(kind), timeout,
                          "%d messages in rsyslog's %s.log (have %d)" % (n, kind,
                                                                         self.count(kind)))


# ---- the strict HEC / Elasticsearch receiver ----------------------------------------------

class StrictHttp:
    def __init__(self, parent, hec_token="hec-tok-0123456789", es_key="es-key-abcdef0123",
                 tls=False, client_cert=False, es_basic=None):
        self.path = os.environ.get("STRICT_HTTP") or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "strict_http.py")
        check(os.path.exists(self.path), "no strict_http.py at %s (set STRICT_HTTP)" % self.path)
        self.dir = os.path.join(parent, "http")
        os.makedirs(self.dir, mode=0o700)
        self.hec_token, self.es_key = hec_token, es_key
        self.port_file = os.path.join(self.dir, "port")
        self.log = os.path.join(self.dir, "strict_http.out")
        argv = [sys.executable, self.path, "--port-file", self.port_file,
                "--hec-token", hec_token, "--es-key", es_key]
        self.tls = tls or client_cert
        self.ctl_ctx = None
        if self.tls:
            make_certs(self.dir)
            make_client_certs(self.dir)
            d = self.dir
            self.ca_file = os.path.join(d, "ca.pem")
            self.other_ca = os.path.join(d, "other-ca.pem")
            self.client_cert = os.path.join(d, "client.pem")
            self.client_key = os.path.join(d, "client.key")
            self.rogue_cert = os.path.join(d, "rogue.pem")
            self.rogue_key = os.path.join(d, "rogue.key")
            argv += ["--cert", os.path.join(d, "server.pem"),
                     "--key", os.path.join(d, "server.key")]
            if client_cert:
                argv += ["--client-ca", self.ca_file]
            import ssl
            self.ctl_ctx = ssl.create_default_context(cafile=self.ca_file)
            self.ctl_ctx.load_cert_chain(self.client_cert, self.client_key)
        if es_basic:
            argv += ["--es-basic", es_basic]
        self.proc = _start(argv, self.log, stdin=subprocess.DEVNULL)

        def ready():
            if self.proc.poll() is not None:
                raise CheckFailed("strict_http.py exited:\n%s" % _tail(self.log))
            try:
                with open(self.port_file) as f:
                    return int(f.read().strip())
            except (OSError, ValueError):
                return None
        self.port = wait_until(ready, 15, "strict_http.py to listen", 0.05)

    @property
    def hec_url(self):
        if self.tls:
            return "https://localhost:%d/services/collector/event" % self.port
        return "http://127.0.0.1:%d/services/collector/event" % self.port

    @property
    def es_url(self):
        return ("https://localhost:%d" if self.tls else "http://127.0.0.1:%d") % self.port

    def _conn(self):
        if self.tls:
            return http.client.HTTPSConnection("localhost", self.port, timeout=30,
                                               context=self.ctl_ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def _req(self, method, path, obj=None):
        c = self._conn()
        try:
            body = json.dumps(obj).encode() if obj is not None else None
            c.request(method, path, body=body,
                      headers={"Content-Type": "application/json"} if body else {})
            r = c.getresponse()
            data = r.read()
            eq(r.status, 200, "%s %s" % (method, path))
            return json.loads(data)
        finally:
            c.close()

    def fault(self, mode, count=1, **kw):
        kw.update(mode=mode, count=count)
        self._req("POST", "/_ctl/fault", kw)

    def reset(self):
        self._req("POST", "/_ctl/reset", {})

    def state(self):
        return self._req("GET", "/_ctl/state")

    def body(self, i):
        c = self._conn()
        try:
            c.request("GET", "/_ctl/body?n=%d" % i)
            r = c.getresponse()
            data = r.read()
            eq(r.status, 200, "GET /_ctl/body?n=%d" % i)
            return data
        finally:
            c.close()

    def hec_events(self):
        """Every HEC event object of every accepted (200) request, in order."""
        out = []
        dec = json.JSONDecoder()
        for i, req in enumerate(self.state()["requests"]):
            if req["kind"] != "hec" or req["status"] != 200:
                continue
            text = self.body(i).decode("utf-8")
            pos = 0
            while True:
                while pos < len(text) and text[pos] in " \t\r\n":
                    pos += 1
                if pos == len(text):
                    break
                ev, pos = dec.raw_decode(text, pos)
                out.append(ev)
        return out

    def stop(self):
        _stop(self.proc)


# ---- the Kafka mock cluster -------------------------------------------------------------

class MockCluster:
    def __init__(self, parent):
        path = os.environ.get("MW_KAFKA_MOCK")
        if not path:
            for cand in ("./tests/lib/mockcluster", "../../build/tests/lib/mockcluster"):
                if os.access(cand, os.X_OK):
                    path = cand
                    break
        if not path or not os.access(path, os.X_OK):
            raise Skip("no tests/lib/mockcluster (set MW_KAFKA_MOCK)")
        self.log = os.path.join(parent, "mockcluster.err")
        self.proc = _start([path], self.log, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.bootstrap = self._line(20)
        check(re.match(r"^[0-9.:,]+$", self.bootstrap or ""),
              "mockcluster printed %r, not a bootstrap address:\n%s"
              % (self.bootstrap, _tail(self.log)))

    def _line(self, timeout):
        import select
        r, _, _ = select.select([self.proc.stdout], [], [], timeout * mwtest.SCALE)
        if not r:
            raise CheckFailed("mockcluster said nothing for %ds:\n%s" % (timeout, _tail(self.log)))
        line = self.proc.stdout.readline()
        if not line:
            raise CheckFailed("mockcluster exited:\n%s" % _tail(self.log))
        return line.decode("utf-8", "replace").rstrip("\n")

    def cmd(self, text):
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()
        ans = self._line(30)
        eq(ans, "ok", "mockcluster answer to %r" % text)

    def consume(self, topic):
        """[(partition, offset, key, value length)] of every message in topic."""
        self.proc.stdin.write(("consume %s\n" % topic).encode())
        self.proc.stdin.flush()
        out = []
        while True:
            line = self._line(60)
            if line.startswith("end "):
                eq(int(line[4:]), len(out), "mockcluster consume %s count" % topic)
                return out
            if line.startswith("error"):
                raise CheckFailed("mockcluster consume %s: %s" % (topic, line))
            p, o, k, n = line.split(" ")
            out.append((int(p), int(o), k, int(n)))

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.close()
            except OSError:
                pass
        _stop(self.proc)


# ---- config and status ------------------------------------------------------------------

def add_outputs(sim, yaml_text, top=""):
    """Appends output entries (YAML list items, two-space indent) to the
    sim-written config, whose last section is outputs:; top is prepended
    (top-level keys such as heartbeat:)."""
    text = sim.read_config()
    check(text.rstrip().splitlines()[-2].strip() == "outputs:" or "outputs:" in text,
          "the sim config has no outputs: section")
    with open(sim.config, "w") as f:
        f.write(top + text.rstrip("\n") + "\n" + yaml_text.rstrip("\n") + "\n")
    os.chmod(sim.config, 0o600)


def outputs_status(sim, env=None):
    """{output name: object} from status --json "outputs"."""
    r = sim.mw(["status", "--json"], env=env)
    check(r.rc in (0, 1), "status --json exit %s\n%s" % (r.rc, r))
    try:
        js = json.loads(r.out)
    except ValueError as ex:
        raise CheckFailed("status --json printed no JSON (%s)\n%s" % (ex, r))
    outs = js.get("outputs")
    check(isinstance(outs, list), "status --json has no \"outputs\" list: %r" % js)
    res = {}
    for o in outs:
        for k in ("name", "type", "target", "state", "error", "lag_records", "lag_seconds",
                  "delivered", "disk_full"):
            check(k in o, "status --json output lacks %r: %r" % (k, o))
        res[o["name"]] = o
    return res


def ndjson_records(sim, types=mwtest.TYPES, name="sim"):
    """{id: (type, raw line bytes)} of every NDJSON line of those types; a
    duplicated id fails."""
    out = {}
    for t in types:
        for raw in sim.ndjson_raw(name, t):
            obj = json.loads(raw.decode("utf-8"))
            check(obj["id"] not in out, "NDJSON holds id %r twice" % obj["id"])
            eq(obj["type"], t, "type of an NDJSON line in the %s files" % t)
            out[obj["id"]] = (t, raw)
    return out


def ndjson_count(sim, types=mwtest.TYPES, name="sim"):
    """Complete lines in the NDJSON files of those types (safe while a
    writer is appending: a partial last line is not counted)."""
    n = 0
    for t in types:
        for path in sim.ndjson_files(name, t):
            n += _read(path).count(b"\n")
    return n


def env_with(**kv):
    env = dict(os.environ)
    env.update(kv)
    return env


def write_secret(path, value, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    os.chmod(path, mode)


def tally(ids, want):
    """(lost, duplicated, foreign) of a received id list against the set want."""
    import collections
    c = collections.Counter(ids)
    lost = len(set(want) - set(c))
    dup = sum(v - 1 for v in c.values() if v > 1)
    foreign = len(set(c) - set(want))
    return lost, dup, foreign
