#!/usr/bin/env python3
"""Proxies (issue 16 item 1): a real tinyproxy on 127.0.0.1 between
mimewatch and mimewatch-sim over TLS.

- no auth, proxy: in the integration: every record arrives, exactly, and
  tinyproxy's log shows the CONNECTs to the tenant; HTTPS_PROXY pointing at
  a closed port and NO_PROXY naming the tenant change nothing (the config
  wins over the environment);
- proxy: at the top level applies to a silent integration; proxy: none in
  the integration turns it off (direct, even with HTTPS_PROXY set);
- BasicAuth: without proxy_user the class is "proxy failure" with the 407
  remedy (fetch, status, validate); with proxy_user and proxy_password_file
  every record arrives, and the password is in no output;
- the proxy down (a closed port): the class names the proxy host:port;
- a silent config: HTTPS_PROXY is honoured (tinyproxy sees the CONNECTs);
  a dead one fails as retry with a remedy naming it (libcurl does not say
  whether it used it), and NO_PROXY=127.0.0.1 sends the requests direct
  past it;
- tinyproxy's ConnectPort refusing the tenant's port: the proxy's status
  line is named;
- a user or password in the proxy URL is refused at load.
- an https:// proxy: tinyproxy speaks plain HTTP only, so a TLS front
  (TlsFront, Python's ssl with the sim's certificate) sits before it; with
  proxy_ca_file every record arrives, without it the class is "proxy
  failure" with the proxy_ca_file remedy.
Not tested: proxy authentication other than Basic (tinyproxy has no other).
"""

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading

import mwtest
from mwout import free_port, port_open
from mwtest import TYPES, Sim, check, eq

ITEM = "16.1 proxy"
SIM_ARGS = ["--records", "30", "--span", "1h"]
PROXY_VARS = ("http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
              "no_proxy", "NO_PROXY")
PASSWORD = "tp-canary-Pw-7f3a91"


def env_with(**kv):
    """os.environ without any proxy variable, plus kv."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update(kv)
    return env


class TinyProxy:
    """tinyproxy in the foreground with a config of its own:
    Listen 127.0.0.1, Allow 127.0.0.1, LogLevel Connect (every request
    line is logged), plus BasicAuth or ConnectPort when asked."""

    def __init__(self, auth=None, connect_port=None):
        self.dir = tempfile.mkdtemp(prefix="mwproxy-")
        self.port = free_port()
        self.log = os.path.join(self.dir, "tinyproxy.log")
        lines = ["Port %d" % self.port, "Listen 127.0.0.1", "Timeout 30",
                 'LogFile "%s"' % self.log, "LogLevel Connect",
                 'PidFile "%s"' % os.path.join(self.dir, "tinyproxy.pid"),
                 "MaxClients 20", "Allow 127.0.0.1", "DisableViaHeader Yes"]
        if auth:
            lines.append("BasicAuth %s %s" % auth)
        if connect_port:
            lines.append("ConnectPort %d" % connect_port)
        self.conf = os.path.join(self.dir, "tinyproxy.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def __enter__(self):
        exe = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
        if not os.path.exists(exe):
            raise mwtest.Skip("tinyproxy is not installed (tests/setup installs it)")
        self.proc = subprocess.Popen([exe, "-d", "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        mwtest.wait_for(lambda: port_open(self.port), 20,
                        "tinyproxy listening on %d" % self.port)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def connects(self, port):
        """How many CONNECTs to 127.0.0.1:port the proxy logged."""
        try:
            with open(self.log) as f:
                text = f.read()
        except FileNotFoundError:
            return 0
        return len(re.findall(r"Request \(file descriptor \d+\): CONNECT 127\.0\.0\.1:%d "
                              % port, text))


class TlsFront:
    """TLS on 127.0.0.1 with the sim's own certificate, each connection's
    bytes passed on to a plain TCP port (tinyproxy's): an https:// proxy."""

    def __init__(self, sim, port):
        self.target = port
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(sim.ca_file, os.path.join(sim.cert_dir, "sim-key.pem"))
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _serve(self, c):
        try:
            tls = self.ctx.wrap_socket(c, server_side=True)
        except (ssl.SSLError, OSError):
            c.close()  # a client that did not trust the certificate
            return
        up = socket.create_connection(("127.0.0.1", self.target))
        threading.Thread(target=self._pump, args=(up, tls), daemon=True).start()
        self._pump(tls, up)

    def close(self):
        self.sock.close()


def add_keys(sim, top="", **keys):
    """Adds keys to the integration (after its ca_file:) and top-level text."""
    text = sim.read_config()
    extra = "".join("    %s: %s\n" % kv for kv in keys.items())
    text, n = re.subn(r"(?m)^(    ca_file: .*\n)", lambda m: m.group(1) + extra, text)
    eq(n, 1, "ca_file lines in the sim's config")
    with open(sim.config, "w") as f:
        f.write(top + text)
    os.chmod(sim.config, 0o600)


def collected(sim, what, env, name="sim"):
    """fetch brings every record of the tenant (30 a type), exactly."""
    r = sim.mw(["fetch"], env=env)
    eq(r.rc, 0, "%s: fetch exit\n%s" % (what, r))
    for t in TYPES:
        eq(r.report()[(name, t)]["new"], 30, "%s: %s/%s new" % (what, name, t))
    mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES}, name)
    return r


def proxy_failed(sim, what, env, remedy, code):
    """fetch fails every type with class proxy and remedy; status says the same."""
    r = sim.mw(["fetch", "--retry-budget", "5s"], env=env)
    eq(r.rc, 1, "%s: fetch exit\n%s" % (what, r))
    for t in TYPES:
        line = [l for l in r.err.splitlines() if l.startswith("mimewatch: sim/%s:" % t)]
        # with no HTTP answer (code 0) the line says "no response"
        head = ("(HTTP %d " % code) if code else "(no response, "
        check(line and line[0].startswith("mimewatch: sim/%s: proxy failure %s" % (t, head)),
              "%s: stderr of sim/%s: %r" % (what, t, line))
        check(line[0].endswith("; remedy: " + remedy), "%s: remedy in %r" % (what, line[0]))
    js = json.loads(sim.mw(["status", "--json"], env=env).out)
    for i in js["integrations"]:
        for t in i["types"]:
            eq(t["class"], "proxy", "%s: status class of %s" % (what, t["type"]))
            eq(t["remedy"], remedy, "%s: status remedy of %s" % (what, t["type"]))
    eq(sim.store_counts().get(("sim", "url"), 0), 0, "%s: records stored" % what)
    mwtest.report(ITEM, what, "refused", remedy[:90])
    return r


def test_explicit_proxy_wins_over_env():
    with Sim(SIM_ARGS) as sim, TinyProxy() as tp:
        add_keys(sim, proxy=tp.url)
        dead = "http://127.0.0.1:%d" % free_port()
        collected(sim, "through tinyproxy", env_with(HTTPS_PROXY=dead, https_proxy=dead,
                                                     NO_PROXY="127.0.0.1"))
        n = tp.connects(sim.port)
        check(n >= 1, "tinyproxy logged no CONNECT to the tenant:\n%s" % open(tp.log).read())
        mwtest.report(ITEM, "records through tinyproxy", "exact", "%d CONNECTs" % n)


def test_top_level_and_none():
    with Sim(SIM_ARGS) as sim, TinyProxy() as tp:
        add_keys(sim, top="proxy: %s\n" % tp.url)
        collected(sim, "top-level proxy", env_with())
        check(tp.connects(sim.port) >= 1, "the top-level proxy saw no CONNECT")
    with Sim(SIM_ARGS) as sim:
        dead = "http://127.0.0.1:%d" % free_port()
        add_keys(sim, top="proxy: %s\n" % dead, proxy="none")
        collected(sim, "proxy: none under a dead top-level proxy",
                  env_with(HTTPS_PROXY=dead, https_proxy=dead))


def test_basic_auth():
    with Sim(SIM_ARGS) as sim, TinyProxy(auth=("mwuser", PASSWORD)) as tp:
        add_keys(sim, proxy=tp.url)
        env = env_with()
        want = ("the proxy 127.0.0.1:%d asks for credentials: set proxy_user and "
                "proxy_password_file" % tp.port)
        proxy_failed(sim, "407 without credentials", env, want, 407)
        v = sim.mw(["validate"], env=env)
        eq(v.rc, 1, "validate exit\n%s" % v)
        check("proxy failure" in v.out and want in v.out, "validate's report:\n%s" % v)

        pw = os.path.join(sim.dir, "proxy-pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pw, 0o600)
        add_keys(sim, proxy_user="mwuser", proxy_password_file=pw)
        before = tp.connects(sim.port)
        r = collected(sim, "with proxy_user and proxy_password_file", env)
        check(tp.connects(sim.port) > before, "no CONNECT with the credentials")
        seen = r.out + r.err
        for args in (["status"], ["status", "--json"], ["validate"], ["--verbose", "fetch"]):
            o = sim.mw(args, env=env)
            seen += o.out + o.err
        check(PASSWORD not in seen, "the proxy password was printed")
        with open(os.path.join(sim.state_dir, "store.db"), "rb") as f:
            check(PASSWORD.encode() not in f.read(), "the proxy password is in the store")
        mwtest.report(ITEM, "BasicAuth", "407 remedy, then exact")


def test_proxy_down():
    with Sim(SIM_ARGS) as sim:
        port = free_port()
        add_keys(sim, proxy="http://127.0.0.1:%d" % port)
        proxy_failed(sim, "proxy down", env_with(),
                     "the proxy 127.0.0.1:%d refused the connection: check proxy (is it "
                     "running, is the port right?)" % port, 0)


def test_connect_refused():
    with Sim(SIM_ARGS) as sim, TinyProxy(connect_port=443) as tp:
        add_keys(sim, proxy=tp.url)
        r = proxy_failed(sim, "CONNECT refused", env_with(),
                         "the proxy 127.0.0.1:%d answered \"HTTP/1.1 403 Access violation\" "
                         "to CONNECT: it does not let this host reach base_url's host; ask its "
                         "administrator to allow CONNECT to it on port 443, or check proxy"
                         % tp.port, 403)
        check("403" in r.err, "status line in %s" % r.err)


def test_https_proxy():
    with Sim(SIM_ARGS) as sim, TinyProxy() as tp:
        front = TlsFront(sim, tp.port)
        try:
            url = "https://127.0.0.1:%d" % front.port
            add_keys(sim, proxy=url)
            proxy_failed(sim, "https proxy without proxy_ca_file", env_with(),
                         "the proxy 127.0.0.1:%d presented a certificate that did not "
                         "verify: set proxy_ca_file to the CA that signed it (none is set), "
                         "and check that proxy names the host the certificate is for"
                         % front.port, 0)
            add_keys(sim, proxy_ca_file=sim.ca_file)
            collected(sim, "https proxy with proxy_ca_file", env_with())
            check(tp.connects(sim.port) >= 1, "no CONNECT through the https proxy")
            mwtest.report(ITEM, "https proxy", "exact with proxy_ca_file")
        finally:
            front.close()


def test_environment():
    with Sim(SIM_ARGS) as sim, TinyProxy() as tp:
        collected(sim, "HTTPS_PROXY", env_with(HTTPS_PROXY=tp.url, https_proxy=tp.url))
        check(tp.connects(sim.port) >= 1, "HTTPS_PROXY not honoured: no CONNECT logged")
    with Sim(SIM_ARGS) as sim:
        port = free_port()
        dead = "http://127.0.0.1:%d" % port
        # libcurl does not tell whether it used HTTPS_PROXY: both are named
        r = sim.mw(["fetch", "--retry-budget", "3s"], env=env_with(HTTPS_PROXY=dead))
        eq(r.rc, 1, "fetch through a dead HTTPS_PROXY\n%s" % r)
        want = ("; remedy: could not connect to base_url's host, or to the proxy in "
                "HTTPS_PROXY (127.0.0.1:%d) unless NO_PROXY excepts that host; will retry "
                "(check that proxy, or set proxy in the config)" % port)
        line = [l for l in r.err.splitlines() if l.startswith("mimewatch: sim/url:")]
        check(line and line[0].startswith("mimewatch: sim/url: retry later") and
              line[0].endswith(want), "dead HTTPS_PROXY: %r" % line)
        collected(sim, "NO_PROXY", env_with(HTTPS_PROXY=dead, https_proxy=dead,
                                            NO_PROXY="127.0.0.1", no_proxy="127.0.0.1"))
    mwtest.report(ITEM, "HTTPS_PROXY and NO_PROXY", "honoured")


def test_url_credentials_refused():
    with Sim(SIM_ARGS) as sim:
        add_keys(sim, proxy="http://mwuser:%s@127.0.0.1:3128" % PASSWORD)
        r = sim.mw(["status"], env=env_with())
        eq(r.rc, 2, "status exit with a password in the proxy URL\n%s" % r)
        check("proxy: holds a user name or password (not shown)" in r.err and
              "proxy_password_file" in r.err, "message: %s" % r.err)
        check(PASSWORD not in r.out + r.err, "the URL's password was shown")


if __name__ == "__main__":
    mwtest.main([test_explicit_proxy_wins_over_env, test_top_level_and_none, test_basic_auth,
                 test_proxy_down, test_connect_refused, test_https_proxy, test_environment,
                 test_url_credentials_refused])
