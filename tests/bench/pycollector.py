#!/usr/bin/env python3
"""pycollector - the plain Python collector mimewatch's benchmark compares
against: stdlib only (http.client, ssl, json, hmac, gzip, sqlite3).

TTP mode (the default): API 1.0 signing, oldest-first windows, pagination,
NDJSON out. No store, no exactly-once, no sanitising beyond json's ASCII
escaping: the cheapest honest collector.

    pycollector.py --base-url https://127.0.0.1:PORT --ca-file sim-ca.pem \
        --out DIR [--lookback 25h] [--page-size 500] [--types url,...]
Prints one line per type: "TYPE: N records, N requests".

SIEM mode (--siem STORE): API 2.0's batch files, the job `mimewatch fetch`
does for the siem type, by the same fairness rule: nothing it can leave
out and still be honest about exactly once. An OAuth token, then per SIEM
type and day from the lookback (7 days at most) to today the listing
(/siem/v1/batch/events/cg, pageSize files) and its @nextPage until a
listing brings no file; each file downloaded from its pre-signed link (no
Authorization), gunzipped, each NDJSON line parsed as JSON and given the
canonical SHA-256 as id (there is none in the event), written as an NDJSON
line, and stored in SQLite at STORE exactly once: records UNIQUE(time, id)
inserted or ignored, the file's key (its link's path) in a ledger, taken
once, and the day's listing token, in one transaction a file, committed
as mimewatch's store commits (WAL, synchronous=NORMAL: a commit survives
kill -9; the same page cache and checkpoint interval). A link refused
(403, 404) lists the page again from the token for fresh links.
    pycollector.py --siem STORE --base-url URL --ca-file CA --out DIR \
        [--lookback 7d] [--page-size 100]
Prints "siem: N events, N files, N requests"."""

import argparse
import base64
import gzip
import hashlib
import hmac
import http.client
import json
import os
import sqlite3
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
CLIENT_ID = "mwsim-client"
CLIENT_SECRET = "mwsim-client-secret-0123456789"

# The ten SIEM types of API 2.0 (as mimewatch's siem_types; HACKING "SIEM on
# API 2.0: batch files").
SIEM_TYPES = ("receipt", "process", "delivery", "av", "spam", "journal",
              "internal email protect", "impersonation protect", "url protect",
              "attachment protect")
SIEM_LISTING = "/siem/v1/batch/events/cg"
SIEM_DAYS = 7  # Mimecast keeps today and the 7 days before; an older start is refused


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


class Client2:
    """API 2.0: a Bearer token from /oauth/token, GETs on one kept-alive
    connection (the pre-signed links are on the same host here)."""

    def __init__(self, base_url, ca_file):
        u = urllib.parse.urlsplit(base_url)
        if u.scheme == "https":
            ctx = ssl.create_default_context(cafile=ca_file)
            self.conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx,
                                                    timeout=120)
        else:
            self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        self.requests = 0
        self.token = None

    def call(self, method, target, body=None, headers=None):
        """(status, body) after retrying 429, 5xx and a dropped connection."""
        while True:
            self.requests += 1
            try:
                self.conn.request(method, target, body=body, headers=headers or {})
                r = self.conn.getresponse()
                raw = r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()  # reconnects on the next request
                time.sleep(1)
                continue
            if r.status == 429 or r.status >= 500:
                time.sleep(1)
                continue
            return r.status, raw

    def login(self):
        form = urllib.parse.urlencode({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                       "grant_type": "client_credentials"})
        st, raw = self.call("POST", "/oauth/token", form,
                            {"Content-Type": "application/x-www-form-urlencoded"})
        if st != 200:
            raise RuntimeError("/oauth/token: HTTP %d" % st)
        self.token = json.loads(raw)["access_token"]

    def listing(self, query):
        while True:
            st, raw = self.call("GET", SIEM_LISTING + "?" + urllib.parse.urlencode(query),
                                headers={"Authorization": "Bearer " + self.token,
                                         "Accept": "application/json"})
            if st == 401:
                self.login()
                continue
            if st != 200:
                raise RuntimeError("%s: HTTP %d %s" % (SIEM_LISTING, st, raw[:200]))
            return json.loads(raw)


def siem_store(path):
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(
        "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=1000; PRAGMA cache_size=-16384;"
        "CREATE TABLE IF NOT EXISTS records (time INTEGER NOT NULL, id TEXT NOT NULL, "
        " type TEXT NOT NULL, record TEXT NOT NULL, UNIQUE (time, id));"
        "CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY);"
        "CREATE TABLE IF NOT EXISTS cursors (type TEXT PRIMARY KEY, day TEXT NOT NULL, "
        " next_page TEXT NOT NULL);")
    return con


def siem_collect(client, con, name, lookback, page_size, out_dir):
    """(events stored, files taken)."""
    now = int(time.time())
    today = now - now % 86400
    first = max(now - lookback, today - SIEM_DAYS * 86400)
    first -= first % 86400
    d = os.path.join(out_dir, name, "siem")
    os.makedirs(d, mode=0o700, exist_ok=True)
    fname = os.path.join(d, time.strftime("%Y-%m-%d.ndjson", time.gmtime()))
    events = files = 0
    client.login()
    with open(fname, "a", encoding="utf-8") as out:
        for type_ in SIEM_TYPES:
            for day in range(first, today + 1, 86400):
                date = time.strftime("%Y-%m-%d", time.gmtime(day))
                token = None
                while True:
                    q = {"type": type_, "dateRangeStartsAt": date, "dateRangeEndsAt": date,
                         "pageSize": page_size}
                    if token:
                        q["nextPage"] = token
                    doc = client.listing(q)
                    links = doc.get("value") or []
                    refused = False
                    for i, link in enumerate(links):
                        u = urllib.parse.urlsplit(link["url"])
                        key = u.path
                        if con.execute("SELECT 1 FROM files WHERE key = ?", (key,)).fetchone():
                            continue
                        st, raw = client.call("GET", u.path + "?" + u.query)
                        if st in (403, 404):  # expired: fresh links from the same token
                            refused = True
                            break
                        if st != 200:
                            raise RuntimeError("%s: HTTP %d" % (key, st))
                        rows, lines = [], []
                        for line in gzip.decompress(raw).decode("utf-8").splitlines():
                            if not line:
                                continue
                            rec = json.loads(line)
                            rid = canonical_id(rec)
                            ms = rec["timestamp"]
                            rows.append((ms, rid, type_, line))
                            lines.append(json.dumps(
                                {"integration": name, "type": "siem", "id": rid,
                                 "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(
                                     ms // 1000)) + ".%03dZ" % (ms % 1000),
                                 "record": rec}, separators=(",", ":")))
                        con.execute("BEGIN")
                        cur = con.executemany("INSERT OR IGNORE INTO records (time, id, type, "
                                              "record) VALUES (?, ?, ?, ?)", rows)
                        events += cur.rowcount
                        con.execute("INSERT INTO files (key) VALUES (?)", (key,))
                        # the listing's token until its last file, then its @nextPage
                        resume = doc.get("@nextPage") if i == len(links) - 1 else token
                        con.execute("INSERT OR REPLACE INTO cursors (type, day, next_page) "
                                    "VALUES (?, ?, ?)", (type_, date, resume or ""))
                        con.execute("COMMIT")
                        if lines:
                            out.write("\n".join(lines) + "\n")
                        files += 1
                    if refused:
                        continue
                    if not links:
                        break
                    token = doc.get("@nextPage")
                    if not token:
                        break
    return events, files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--ca-file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="sim")
    ap.add_argument("--lookback", default="25h")
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--types", default="url,impersonation,attachment")
    ap.add_argument("--siem", metavar="STORE", help="SIEM mode: batch files into this store")
    a = ap.parse_args()
    if a.siem:
        client = Client2(a.base_url, a.ca_file)
        con = siem_store(a.siem)
        n, files = siem_collect(client, con, a.name, duration(a.lookback), a.page_size, a.out)
        con.close()
        print("siem: %d events, %d files, %d requests" % (n, files, client.requests), flush=True)
        return 0
    client = Client(a.base_url, a.ca_file)
    for t in a.types.split(","):
        before = client.requests
        n = collect(client, a.name, t, duration(a.lookback), a.page_size, a.out)
        print("%s: %d records, %d requests" % (t, n, client.requests - before), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
