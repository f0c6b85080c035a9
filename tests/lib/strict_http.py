#!/usr/bin/env python3
"""strict_http.py - a strict Splunk HEC event endpoint and Elasticsearch _bulk
endpoint for the sink tests (python3 stdlib only).

It checks what a real receiver checks and more: the token or API key, the
Content-Type, the framing (HEC: concatenated JSON objects; bulk: action line
plus source line, each ending in a newline), every JSON object (no duplicate
keys, the envelope fields, the NDJSON record inside), and that the bulk _id is
the record's id. A protocol mistake is answered the way the real service
would and is also listed under "violations", so a test can assert there were
none. It stores what it accepted (HEC events in arrival order, duplicates
included; Elasticsearch documents by (_index, _id)) and fails on command.

Control endpoint (no auth; it listens on 127.0.0.1 only):
  POST /_ctl/fault   {"mode": M, "count": N, ...}  the next N data requests:
        503 | 429 | 500        answered with that status, nothing stored
        badtoken               answered as for a wrong token or key
        echo {"status": S, "form": F, "cut": C or {"hec": C, "es": C}}
                               refused with status S (default 403), the error
                               quoting the credentials sent: F raw, base64 or
                               urlencoded (the token in that form), header
                               (the Authorization header), or all (default);
                               with cut, padded so that the first quoted
                               value spans byte C of the body
        close_before           request read, connection closed, nothing stored
        close_after            request processed, response cut off mid-body
        stall  {"ms": T}       wait T ms, then process normally
        items  {"statuses": {"<pos>": status}}   bulk: those items fail;
               HEC: the first listed position is refused as invalid data
  POST /_ctl/config  {"max_body": bytes, "reject_ids": [...], "hec_indexes": [...]}
  POST /_ctl/reset   forget everything stored and every fault
  GET  /_ctl/state   JSON: counters, ids in order, request log, violations
  GET  /_ctl/body?n=I  the raw body of data request I

Elasticsearch takes "ApiKey <key>" or, with --es-basic USER:PASSWORD, also
"Basic <base64 of USER:PASSWORD>" (state: es_basic_requests counts the bulk
requests that came with it); other credentials are answered 401 and counted
in auth_failures. With --client-ca the TLS listener requires a client
certificate signed by that CA (ssl.CERT_REQUIRED); the control endpoint is
then reached over TLS with such a certificate too.

Usage: strict_http.py --port-file F --hec-token T --es-key K [--cert C --key K
       [--client-ca CA]] [--es-basic USER:PASSWORD]
"""
import argparse
import base64
import http.server
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse

HEC_PATHS = ("/services/collector/event", "/services/collector",
             "/services/collector/event/1.0")
RECORD_KEYS = {"integration", "type", "id", "time", "record"}
HEC_KEYS = {"time", "host", "source", "sourcetype", "index", "event", "fields"}
INDEX_BAD = re.compile(r'[A-Z\\/*?"<>| ,#:]')
MAX_KEPT_BODIES = 64 << 20


class Dup(ValueError):
    pass


def no_dups(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise Dup("duplicate key %r" % k)
        d[k] = v
    return d


DECODER = json.JSONDecoder(object_pairs_hook=no_dups)


def loads_strict(text):
    """One JSON value, nothing around it, no duplicate keys, no NaN."""
    obj, end = DECODER.raw_decode(text)
    if end != len(text):
        raise ValueError("trailing data after the JSON value")
    check_finite(obj)
    return obj


def check_finite(v):
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        raise ValueError("NaN or Infinity is not JSON")
    if isinstance(v, dict):
        for x in v.values():
            check_finite(x)
    elif isinstance(v, list):
        for x in v:
            check_finite(x)


def check_record(rec):
    """The NDJSON record every sink carries (HACKING, "NDJSON output")."""
    if not isinstance(rec, dict):
        return "the record is not a JSON object"
    if set(rec) - {"revision"} != RECORD_KEYS:
        return "record keys %s, expected %s (and revision on a revised record)" % (
            sorted(rec), sorted(RECORD_KEYS))
    if "revision" in rec and (type(rec["revision"]) is not int or rec["revision"] < 2):
        return "record revision %r is not an integer >= 2 (a first delivery has none)" % (
            rec["revision"],)
    for k in ("integration", "type", "id", "time"):
        if not isinstance(rec[k], str) or not rec[k]:
            return "record %s is not a non-empty string" % k
    if not isinstance(rec["record"], dict):
        return "record.record is not an object"
    return None


class State:
    def __init__(self, hec_token, es_key, es_basic=None):
        self.lock = threading.Lock()
        self.hec_token = hec_token
        self.es_key = es_key
        self.es_basic = es_basic
        self.es_basic_requests = 0
        self.gen = 0
        self.reset()

    def reset(self):
        # A request still running from before a reset (a stalled one whose
        # client gave up) stores nothing: the handler compares generations.
        self.gen += 1
        self.faults = []          # [{"mode":..., "count": n, ...}]
        self.max_body = 0
        self.reject_ids = set()
        self.hec_indexes = None
        self.hec_ids = []         # accepted HEC events' record ids, in order
        self.hec_events = 0
        self.es_docs = {}         # (_index, _id) -> source
        self.es_versions = {}     # (_index, _id) -> _version, as Elasticsearch keeps it
        self.es_ids = []          # ids created, in order
        self.es_conflicts = 0
        self.es_rejected = 0
        self.requests = []        # [{"kind", "n", "bytes", "status", "fault"}]
        self.bodies = []
        self.kept = 0
        self.violations = []
        self.auth_failures = 0

    def take_fault(self):
        with self.lock:
            while self.faults and self.faults[0]["count"] <= 0:
                self.faults.pop(0)
            if not self.faults:
                return None
            f = self.faults[0]
            f["count"] -= 1
            return dict(f)

    def violation(self, what):
        with self.lock:
            self.violations.append(what)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, each answer
    # waited for the client's delayed ACK (about 40 ms), so the benchmark
    # measured this receiver rather than the sink (Elasticsearch's HTTP
    # layer sets TCP_NODELAY by default: http.tcp.no_delay).
    disable_nagle_algorithm = True
    gen = -1
    server_version = "strict-http/1"

    def log_message(self, fmt, *args):
        pass

    # ---- plumbing ----------------------------------------------------------
    def send_json(self, status, obj, cut=False):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if cut:
            # Half the body, then the connection goes: the client cannot
            # know whether the request was taken.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_now()
            return
        self.wfile.write(body)

    def close_now(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def read_body(self):
        st = self.server.state
        if self.headers.get("Transfer-Encoding"):
            st.violation("Transfer-Encoding %s instead of Content-Length"
                         % self.headers.get("Transfer-Encoding"))
            return None
        n = self.headers.get("Content-Length")
        if n is None or not n.isdigit():
            st.violation("no Content-Length")
            return None
        return self.rfile.read(int(n))

    def log_request_entry(self, kind, n, nbytes, status, fault, body):
        st = self.server.state
        with st.lock:
            if self.gen != st.gen:
                return
            st.requests.append({"kind": kind, "n": n, "bytes": nbytes,
                                "status": status, "fault": fault})
            if st.kept + len(body) <= MAX_KEPT_BODIES:
                st.bodies.append(body)
                st.kept += len(body)
            else:
                st.bodies.append(b"")

    # ---- routes ------------------------------------------------------------
    def do_GET(self):
        st = self.server.state
        if self.path == "/_ctl/state":
            with st.lock:
                obj = {
                    "hec_events": st.hec_events, "hec_ids": st.hec_ids,
                    "es_docs": len(st.es_docs), "es_ids": st.es_ids,
                    "es_doc_versions": {"%s/%s" % k: [v, st.es_docs[k].get("revision", 1)]
                                        for k, v in st.es_versions.items()},
                    "es_conflicts": st.es_conflicts, "es_rejected": st.es_rejected,
                    "requests": st.requests, "violations": st.violations,
                    "auth_failures": st.auth_failures,
                    "es_basic_requests": st.es_basic_requests,
                }
            return self.send_json(200, obj)
        m = re.fullmatch(r"/_ctl/body\?n=(\d+)", self.path)
        if m:
            with st.lock:
                i = int(m.group(1))
                body = st.bodies[i] if i < len(st.bodies) else None
            if body is None:
                return self.send_json(404, {"error": "no such request"})
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_json(404, {"error": "not found"})

    def do_POST(self):
        st = self.server.state
        path = self.path
        if path.startswith("/_ctl/"):
            body = self.read_body() or b"{}"
            cmd = json.loads(body)
            with st.lock:
                if path == "/_ctl/fault":
                    cmd.setdefault("count", 1)
                    st.faults.append(cmd)
                elif path == "/_ctl/config":
                    if "max_body" in cmd:
                        st.max_body = int(cmd["max_body"])
                    if "reject_ids" in cmd:
                        st.reject_ids = set(cmd["reject_ids"])
                    if "hec_indexes" in cmd:
                        st.hec_indexes = cmd["hec_indexes"]
                elif path == "/_ctl/reset":
                    st.reset()
                else:
                    return self.send_json(404, {"error": "no such control"})
            return self.send_json(200, {"ok": True})
        if path in HEC_PATHS:
            return self.hec()
        if path == "/_bulk":
            return self.bulk()
        body = self.read_body()
        st.violation("POST to unknown path %s" % path)
        self.send_json(404, {"error": "no such endpoint %s" % path})

    def common_fault(self, kind, body, fault):
        """Faults that do not depend on the payload. True when answered."""
        if fault is None:
            return False
        mode = fault["mode"]
        hec = kind == "hec"
        if mode in ("503", "429", "500"):
            status = int(mode)
            self.log_request_entry(kind, 0, len(body), status, mode, body)
            if hec:
                text = {"503": ("Server is busy", 9), "429": ("Too many requests", 9),
                        "500": ("Internal server error", 8)}[mode]
                return self.send_json(status, {"text": text[0], "code": text[1]}) or True
            typ = {"503": "unavailable_shards_exception",
                   "429": "es_rejected_execution_exception",
                   "500": "internal_server_error"}[mode]
            return self.send_json(status, {"error": {"type": typ, "reason": "injected"},
                                           "status": status}) or True
        if mode == "badtoken":
            self.log_request_entry(kind, 0, len(body), 403 if hec else 401, mode, body)
            if hec:
                self.send_json(403, {"text": "Invalid token", "code": 4})
            else:
                self.send_json(401, {"error": {"type": "security_exception",
                                               "reason": "unable to authenticate with "
                                                         "provided credentials"},
                                     "status": 401})
            return True
        if mode == "echo":
            return self.echo_credentials(kind, body, fault)
        if mode == "close_before":
            self.log_request_entry(kind, 0, len(body), 0, mode, body)
            self.close_now()
            return True
        if mode == "stall":
            time.sleep(fault.get("ms", 1000) / 1000.0)
        return False

    def echo_credentials(self, kind, body, fault):
        """A careless receiver: its refusal quotes what it was sent (the
        secret-scrubbing tests, test_secret_echo)."""
        hec = kind == "hec"
        status = int(fault.get("status", 403))
        auth = self.headers.get("Authorization") or ""
        tok = auth.split(" ", 1)[1] if " " in auth else auth
        values = {"raw": tok, "base64": base64.b64encode(tok.encode()).decode(),
                  "urlencoded": urllib.parse.quote(tok, safe=""),
                  "header": "Authorization: " + auth}
        form = fault.get("form", "all")
        if form == "all":
            lead, value = "token ", tok
            rest = " was refused (%s; base64 %s; urlencoded %s)" % (
                values["header"], values["base64"], values["urlencoded"])
        else:
            lead, value, rest = "credentials ", values[form], " were refused"
        # where the reason's text starts in the body json.dumps writes
        start = len('{"text":"') if hec else len('{"error":{"type":"security_exception",'
                                                  '"reason":"')
        cut = fault.get("cut")
        if isinstance(cut, dict):
            cut = cut.get(kind)
        pad = max(0, int(cut) - start - len(lead) - len(value) // 2) if cut else 0
        text = "." * pad + lead + value + rest
        self.log_request_entry(kind, 0, len(body), status, "echo", body)
        if hec:
            self.send_json(status, {"text": text, "code": 4})
        else:
            self.send_json(status, {"error": {"type": "security_exception", "reason": text},
                                    "status": status})
        return True

    # ---- Splunk HEC ----------------------------------------------------------
    def hec(self):
        st = self.server.state
        gen = self.gen = st.gen
        body = self.read_body()
        if body is None:
            return self.send_json(400, {"text": "No data", "code": 5})
        auth = self.headers.get("Authorization")
        if auth is None:
            st.violation("HEC request without Authorization")
            return self.send_json(401, {"text": "Token is required", "code": 2})
        if not auth.startswith("Splunk "):
            st.violation("HEC Authorization not 'Splunk <token>': %r" % auth[:20])
            return self.send_json(401, {"text": "Invalid authorization", "code": 3})
        if auth[7:] != st.hec_token:
            with st.lock:
                st.auth_failures += 1
            self.log_request_entry("hec", 0, len(body), 403, None, body)
            return self.send_json(403, {"text": "Invalid token", "code": 4})
        if self.headers.get("Content-Type") != "application/json":
            st.violation("HEC Content-Type %r" % self.headers.get("Content-Type"))
        fault = st.take_fault()
        if self.common_fault("hec", body, fault):
            return
        if st.max_body and len(body) > st.max_body:
            self.log_request_entry("hec", 0, len(body), 413, None, body)
            return self.send_json(413, {"text": "Content too large", "code": 27})
        if not body.strip():
            st.violation("HEC request with an empty body")
            return self.send_json(400, {"text": "No data", "code": 5})
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as ex:
            st.violation("HEC body is not UTF-8: %s" % ex)
            return self.send_json(400, {"text": "Invalid data format", "code": 6})
        events, refuse = [], None   # refuse: (HEC code, violation or None)
        fail_at = None
        if fault and fault["mode"] == "items" and fault.get("statuses"):
            fail_at = min(int(p) for p in fault["statuses"])
        pos = 0
        while True:
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            if pos == len(text):
                break
            i = len(events)
            try:
                ev, pos = DECODER.raw_decode(text, pos)
                check_finite(ev)
            except ValueError as ex:
                refuse = (6, "event %d: not JSON: %s" % (i, ex))
                break
            why = self.hec_event_problem(ev)
            if why:
                refuse = (6, "event %d: %s" % (i, why))
                break
            if st.hec_indexes is not None and "index" in ev and \
                    ev["index"] not in st.hec_indexes:
                refuse = (7, None)
                break
            if i == fail_at or ev["event"]["id"] in st.reject_ids:
                refuse = (6, None)
                break
            events.append(ev)
        # Splunk takes the events before the one it refuses.
        with st.lock:
            if gen != st.gen:
                events = []
            for ev in events:
                st.hec_ids.append(ev["event"]["id"])
            st.hec_events += len(events)
        mode = fault and fault["mode"]
        if refuse:
            if refuse[1]:
                st.violation("HEC " + refuse[1])
            self.log_request_entry("hec", len(events), len(body), 400, mode, body)
            return self.send_json(400, {
                "text": "Incorrect index" if refuse[0] == 7 else "Invalid data format",
                "code": refuse[0], "invalid-event-number": len(events)})
        self.log_request_entry("hec", len(events), len(body), 200, mode, body)
        self.send_json(200, {"text": "Success", "code": 0}, cut=mode == "close_after")

    def hec_event_problem(self, ev):
        if not isinstance(ev, dict):
            return "not an object"
        extra = set(ev) - HEC_KEYS
        if extra:
            return "unknown keys %s" % sorted(extra)
        if "event" not in ev:
            return "no event"
        if not isinstance(ev.get("time"), int) or isinstance(ev.get("time"), bool) \
                or ev["time"] < 0:
            return "time is not a non-negative integer epoch"
        if not isinstance(ev.get("host"), str) or not ev["host"]:
            return "host is not a non-empty string"
        if ev.get("source") != "mimewatch":
            return "source %r, expected mimewatch" % ev.get("source")
        why = check_record(ev["event"])
        if why:
            return why
        if ev.get("sourcetype") != "mimecast:" + ev["event"]["type"]:
            return "sourcetype %r for a %s record" % (ev.get("sourcetype"),
                                                     ev["event"]["type"])
        if "index" in ev and (not isinstance(ev["index"], str) or not ev["index"]):
            return "index is not a non-empty string"
        return None

    # ---- Elasticsearch _bulk ---------------------------------------------------
    def es_error(self, status, typ, reason):
        return self.send_json(status, {"error": {"type": typ, "reason": reason},
                                       "status": status})

    def bulk(self):
        st = self.server.state
        gen = self.gen = st.gen
        body = self.read_body()
        if body is None:
            return self.es_error(400, "parse_exception", "request body is required")
        auth = self.headers.get("Authorization")
        if st.es_basic and auth is not None and auth.startswith("Basic "):
            try:
                given = base64.b64decode(auth[6:], validate=True).decode("utf-8")
            except ValueError:
                given = None
            if given != st.es_basic:
                with st.lock:
                    st.auth_failures += 1
                self.log_request_entry("es", 0, len(body), 401, None, body)
                return self.es_error(401, "security_exception",
                                     "unable to authenticate user for REST request")
            with st.lock:
                st.es_basic_requests += 1
        elif auth is None or not auth.startswith("ApiKey "):
            st.violation("bulk Authorization not 'ApiKey <key>': %r" % (auth or "")[:20])
            return self.es_error(401, "security_exception", "missing authentication")
        elif auth[7:] != st.es_key:
            with st.lock:
                st.auth_failures += 1
            self.log_request_entry("es", 0, len(body), 401, None, body)
            return self.es_error(401, "security_exception",
                                 "unable to authenticate with provided credentials")
        ctype = self.headers.get("Content-Type")
        if ctype != "application/x-ndjson":
            st.violation("bulk Content-Type %r" % ctype)
            return self.es_error(406, "media_type_header_exception",
                                 "Content-Type %s is not supported" % ctype)
        fault = st.take_fault()
        if self.common_fault("es", body, fault):
            return
        if st.max_body and len(body) > st.max_body:
            self.log_request_entry("es", 0, len(body), 413, None, body)
            self.send_response(413)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        ops, why = self.parse_bulk(body)
        if why:
            st.violation("bulk " + why)
            self.log_request_entry("es", 0, len(body), 400, None, body)
            return self.es_error(400, "illegal_argument_exception", why)
        statuses = {}
        if fault and fault["mode"] == "items":
            statuses = {int(k): int(v) for k, v in fault.get("statuses", {}).items()}
        items, errors = [], False
        with st.lock:
            if gen != st.gen:
                ops = []
            for pos, (op, index, doc_id, src, version, vtype) in enumerate(ops):
                res = {"_index": index, "_id": doc_id}
                have = st.es_versions.get((index, doc_id))
                status = statuses.get(pos)
                if status is None and doc_id in st.reject_ids:
                    status = 400
                if status is not None:
                    typ = {429: "es_rejected_execution_exception", 400:
                           "document_parsing_exception", 503: "unavailable_shards_exception",
                           403: "cluster_block_exception"}.get(status, "exception")
                    res.update(status=status, error={"type": typ, "reason": "injected"})
                    if status < 500 and status != 429:
                        st.es_rejected += 1
                    errors = True
                elif op == "create" and have is not None:
                    res.update(status=409, error={
                        "type": "version_conflict_engine_exception",
                        "reason": "[%s]: version conflict, document already exists" % doc_id})
                    st.es_conflicts += 1
                    errors = True
                elif vtype and have is not None and (
                        version < have if vtype == "external_gte" else version <= have):
                    # Elasticsearch's external versioning: an older version
                    # than the document's is refused with 409
                    res.update(status=409, error={
                        "type": "version_conflict_engine_exception",
                        "reason": "[%s]: version conflict, current version [%d] is higher "
                                  "than the one provided [%d]" % (doc_id, have, version)})
                    st.es_conflicts += 1
                    errors = True
                else:
                    created = have is None
                    new_version = version if vtype else (have or 0) + 1
                    st.es_docs[(index, doc_id)] = src
                    st.es_versions[(index, doc_id)] = new_version
                    st.es_ids.append(doc_id)
                    res.update(status=201 if created else 200, _version=new_version,
                               result="created" if created else "updated")
                items.append({op: res})
        self.log_request_entry("es", len(ops), len(body), 200, fault and fault["mode"], body)
        self.send_json(200, {"took": 1, "errors": errors, "items": items},
                       cut=bool(fault and fault["mode"] == "close_after"))

    def parse_bulk(self, body):
        if not body.endswith(b"\n"):
            return None, "body does not end with a newline"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as ex:
            return None, "body is not UTF-8: %s" % ex
        lines = text[:-1].split("\n")
        if len(lines) % 2:
            return None, "odd number of lines (%d): an action without a source" % len(lines)
        ops = []
        for i in range(0, len(lines), 2):
            n = i // 2
            try:
                act = loads_strict(lines[i])
                src = loads_strict(lines[i + 1])
            except ValueError as ex:
                return None, "item %d: not JSON: %s" % (n, ex)
            if not isinstance(act, dict) or len(act) != 1:
                return None, "item %d: action line is not one-key object" % n
            op, meta = next(iter(act.items()))
            if op not in ("create", "index"):
                return None, "item %d: action %r" % (n, op)
            if not isinstance(meta, dict) or not (
                    set(meta) == {"_index", "_id"} or
                    set(meta) == {"_index", "_id", "version", "version_type"}):
                return None, "item %d: action metadata %r, expected _index and _id " \
                    "(and version with version_type)" % (n, meta)
            index, doc_id = meta["_index"], meta["_id"]
            version, vtype = meta.get("version"), meta.get("version_type")
            if vtype is not None:
                # Elasticsearch: create takes internal versioning only;
                # external versions are positive longs
                if op != "index":
                    return None, "item %d: %s with version_type %r (create operations " \
                        "only support internal versioning)" % (n, op, vtype)
                if vtype not in ("external", "external_gte"):
                    return None, "item %d: version_type %r" % (n, vtype)
                if type(version) is not int or version < 1:
                    return None, "item %d: version %r is not a positive integer" % (n, version)
            if not isinstance(index, str) or not index or INDEX_BAD.search(index) or \
                    index[0] in "-_+":
                return None, "item %d: invalid index name %r" % (n, index)
            why = check_record(src)
            if why:
                return None, "item %d: %s" % (n, why)
            if doc_id != src["id"]:
                return None, "item %d: _id %r is not the record id %r" % (n, doc_id, src["id"])
            if vtype is not None and src.get("revision", 1) != version:
                return None, "item %d: version %r is not the record's revision %r" % (
                    n, version, src.get("revision", 1))
            ops.append((op, index, doc_id, src, version, vtype))
        return ops, None


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that gave up (timeout, abort) is part of the tests.
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--hec-token", required=True)
    ap.add_argument("--es-key", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca")
    ap.add_argument("--es-basic")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(a.hec_token, a.es_key, a.es_basic)
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(a.cert, a.key)
        if a.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(a.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
