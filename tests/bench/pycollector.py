#!/usr/bin/env python3
"""pycollector - the plain Python collector mimewatch's benchmark compares
against: stdlib only (http.client, ssl, json, hmac), API 1.0 signing,
oldest-first windows, pagination, NDJSON out. No store, no exactly-once, no
sanitising beyond json's ASCII escaping: the cheapest honest collector.

    pycollector.py --base-url https://127.0.0.1:PORT --ca-file sim-ca.pem \
        --out DIR [--lookback 25h] [--page-size 500] [--types url,...]
Prints one line per type: "TYPE: N records, N requests"."""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import ssl
import sys
import time
import urllib.parse
import uuid

TYPES = {
    "url": ("/api/ttp/url/get-logs", "clickLogs", "date", None),
    "impersonation": ("/api/ttp/impersonation/get-logs", "impersonationLogs", "eventTime", "id"),
    "attachment": ("/api/ttp/attachment/get-logs", "attachmentLogs", "date", None),
}

# mimewatch-sim's built-in credentials (see mimewatch-sim(1)).
APP_ID = "5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
APP_KEY = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
ACCESS_KEY = ("mwsim-access-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
              "-_0123456789abcdef")
SECRET_KEY = ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4"
              "OTo7PD0+Pw==")


def duration(text):
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(text[:-1]) * units[text[-1]]


class Client:
    def __init__(self, base_url, ca_file, secret=SECRET_KEY):
        u = urllib.parse.urlsplit(base_url)
        self.host, self.port = u.hostname, u.port
        if u.scheme == "https":
            ctx = ssl.create_default_context(cafile=ca_file)
            self.conn = http.client.HTTPSConnection(self.host, self.port, context=ctx,
                                                    timeout=120)
        else:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        self.key = base64.b64decode(secret)
        self.requests = 0

    def post(self, path, body):
        data = json.dumps(body).encode()
        while True:
            date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
            rid = str(uuid.uuid4())
            sig = base64.b64encode(hmac.new(self.key, ("%s:%s:%s:%s" % (date, rid, path, APP_KEY))
                                            .encode(), hashlib.sha1).digest()).decode()
            headers = {"x-mc-date": date, "x-mc-req-id": rid, "x-mc-app-id": APP_ID,
                       "Authorization": "MC %s:%s" % (ACCESS_KEY, sig),
                       "Content-Type": "application/json", "Accept": "application/json"}
            self.requests += 1
            try:
                self.conn.request("POST", path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()  # reconnects on the next request
                time.sleep(1)
                continue
            if r.status == 429:
                try:
                    wait = int(r.getheader("X-RateLimit-Reset", "1000")) / 1000.0
                except ValueError:
                    wait = 5.0
                time.sleep(min(max(wait, 0.1), 900))
                continue
            if r.status >= 500:
                time.sleep(1)
                continue
            doc = json.loads(raw)
            if r.status != 200 or doc.get("fail"):
                raise RuntimeError("%s: HTTP %d %s" % (path, r.status, doc.get("fail")))
            return doc


def fmt(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(epoch))


def canonical_id(rec):
    s = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def collect(client, name, type_, lookback, page_size, out_dir):
    path, key, time_field, id_field = TYPES[type_]
    now = int(time.time())
    window = {"from": fmt(now - lookback), "to": fmt(now - 1), "oldestFirst": True}
    d = os.path.join(out_dir, name, type_)
    os.makedirs(d, mode=0o700, exist_ok=True)
    fname = os.path.join(d, time.strftime("%Y-%m-%d.ndjson", time.gmtime()))
    n = 0
    token = None
    with open(fname, "a", encoding="utf-8") as f:
        while True:
            pag = {"pageSize": page_size}
            if token:
                pag["pageToken"] = token
            doc = client.post(path, {"meta": {"pagination": pag}, "data": [window]})
            data = doc.get("data") or [{}]
            recs = data[0].get(key) or []
            lines = []
            for rec in recs:
                rid = rec[id_field] if id_field else canonical_id(rec)
                t = rec.get(time_field, "")
                lines.append(json.dumps({"integration": name, "type": type_, "id": rid,
                                         "time": t[:19] + "Z", "record": rec},
                                        separators=(",", ":")))
            if lines:
                f.write("\n".join(lines) + "\n")
            n += len(recs)
            token = doc.get("meta", {}).get("pagination", {}).get("next")
            if not token or not recs:
                break
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--ca-file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="sim")
    ap.add_argument("--lookback", default="25h")
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--types", default="url,impersonation,attachment")
    a = ap.parse_args()
    client = Client(a.base_url, a.ca_file)
    for t in a.types.split(","):
        before = client.requests
        n = collect(client, a.name, t, duration(a.lookback), a.page_size, a.out)
        print("%s: %d records, %d requests" % (t, n, client.requests - before), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
