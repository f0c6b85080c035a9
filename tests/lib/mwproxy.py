"""mwproxy - a rewriting TLS proxy in front of mimewatch-sim, for tenant
data the sim does not generate (a record dated 2026-02-30, an id holding CR
and LF).

mimewatch talks to the proxy as it would to the sim: HTTPS on 127.0.0.1 with
the sim's own certificate, which the config's ca_file already trusts. Every
request goes to the sim unchanged (its signature and token checks stay the
strict ones); the response body passes through rewrite(path, status, body)
-> body before it goes back. Python stdlib only.

    with RewritingProxy(sim, fn) as px:
        px.point_config()          # base_url -> the proxy
        sim.fetch()
"""

import http.client
import http.server
import json
import os
import re
import ssl
import threading

from mwtest import check

ARRAY_KEY = {"url": "clickLogs", "impersonation": "impersonationLogs",
             "attachment": "attachmentLogs"}


class RewritingProxy:
    def __init__(self, sim, rewrite):
        self.sim = sim
        self.rewrite = rewrite
        self.lock = threading.Lock()
        self.errors = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def _forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                ctx = ssl.create_default_context(cafile=sim.ca_file)
                c = http.client.HTTPSConnection("127.0.0.1", sim.port, timeout=60,
                                                context=ctx)
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() not in ("host", "connection", "content-length")}
                try:
                    c.request(self.command, self.path, body=body, headers=hdrs)
                    r = c.getresponse()
                    data = r.read()
                    status, rh = r.status, r.getheaders()
                finally:
                    c.close()
                try:
                    with proxy.lock:
                        data = proxy.rewrite(self.path, status, data)
                except Exception as ex:   # noqa: BLE001 - a broken test must not hang
                    proxy.errors.append("%s: %r" % (self.path, ex))
                    status, rh, data = 502, [], b"proxy rewrite failed"
                self.send_response(status)
                for k, v in rh:
                    if k.lower() not in ("content-length", "transfer-encoding", "connection",
                                         "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _forward

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(os.path.join(sim.cert_dir, "sim-ca.pem"),
                             os.path.join(sim.cert_dir, "sim-key.pem"))
        self.httpd.socket = sctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def point_config(self):
        """Points every integration's base_url in the sim's config at the proxy."""
        text = self.sim.read_config()
        text, n = re.subn(r"(?m)^(\s*base_url:).*$", r"\1 https://127.0.0.1:%d" % self.port,
                          text)
        check(n > 0, "the sim config has no base_url")
        with open(self.sim.config, "w") as f:
            f.write(text)
        os.chmod(self.sim.config, 0o600)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, et, ev, tb):
        self.httpd.shutdown()
        self.httpd.server_close()
        if et is None:
            check(not self.errors, "the proxy's rewrite failed: %s" % "; ".join(self.errors))
        return False


def records(body, type_):
    """The record list of a get-logs body."""
    return json.loads(body)["data"][0][ARRAY_KEY[type_]]
