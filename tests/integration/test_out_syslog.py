#!/usr/bin/env python3
"""Syslog outputs through the real binary (issue 5 item 2) against a real
rsyslogd that the test starts itself (mwout.Rsyslog: imtcp with octet
counting, imtcp over ossl TLS with a CA made by openssl, imrelp; omfile per
input writing APP-NAME, HOSTNAME, STRUCTURED-DATA and MSG).

test_fetch_three_transports: `mimewatch fetch` with tcp://, tls:// and
  relp:// outputs at once plus NDJSON: every record arrives exactly once per
  output, MSG byte-equal to its NDJSON line, SD integration/type/id right,
  status --json says ok, lag 0, delivered = records.
test_run_restart: `mimewatch run` streams a rate-limited backfill; rsyslogd
  is SIGKILLed mid-stream and kept down until collection is complete: the
  NDJSON is then complete while the syslog outputs lag and show "retrying"
  with an error. rsyslogd comes back: over RELP 0 lost (duplicates counted
  by id, reported); over plain TCP the loss is measured (reported).
test_throughput: records/s `mimewatch fetch` delivers per transport.
test_control_ids (issue 10 item 8): ids holding ESC, CR, LF, U+0085, ']', '"',
  '\\' and the terminal-injection corpus arrive as one message each, with
  structured data that rsyslog parses and MSG the NDJSON line unchanged.
"""

import collections
import json
import os
import re
import signal
import time

import mwout
import mwtest
from mwout import HOSTNAME, Rsyslog, add_outputs, ndjson_records, outputs_status, wait_until
from mwtest import Sim, check, eq

ITEM = "issue5 syslog"


def syslog_outputs(rs, kinds, batch=None):
    y = ""
    for k in kinds:
        y += "  - type: syslog\n    name: s_%s\n    url: %s\n    hostname: %s\n" % (
            k, rs.url(k), HOSTNAME)
        if k == "tls":
            y += "    ca_file: %s\n" % rs.ca_file
        if batch:
            y += "    batch: %d\n" % batch
    return y


def check_messages(rs, kind, want, exact=True, torn_ok=False):
    """Checks every message in kind's file against the NDJSON (want: {id:
    (type, line)}). Returns (lost, duplicated) counted by id. torn_ok:
    rsyslogd was killed, and a line it was writing may be cut short
    (Rsyslog.messages): that message counts as not received."""
    ids = []
    for i, (app, host, sd, msg) in enumerate(rs.messages(kind, torn_ok)):
        eq(app, "mimewatch", "%s message %d APP-NAME" % (kind, i))
        eq(host, HOSTNAME, "%s message %d HOSTNAME" % (kind, i))
        eq(sorted(sd), ["id", "integration", "type"], "%s message %d SD params" % (kind, i))
        eq(sd["integration"], "sim", "%s message %d SD integration" % (kind, i))
        check(sd["id"] in want, "%s message %d: SD id %r is no record of the NDJSON"
              % (kind, i, sd["id"]))
        t, line = want[sd["id"]]
        eq(sd["type"], t, "%s message %d (id %s) SD type" % (kind, i, sd["id"]))
        if msg != line:
            raise mwtest.CheckFailed("%s message %d (id %s): MSG differs from the NDJSON "
                                     "line\n  msg:  %r\n  line: %r"
                                     % (kind, i, sd["id"], msg[:300], line[:300]))
        ids.append(sd["id"])
    lost, dup, foreign = mwout.tally(ids, want)
    eq(foreign, 0, "%s: ids that are not in the NDJSON" % kind)
    if exact:
        eq(lost, 0, "%s: records lost" % kind)
        if dup:
            twice = [k for k, v in collections.Counter(ids).items() if v > 1]
            raise mwtest.CheckFailed("%s: %d duplicated, e.g. %r" % (kind, dup, twice[:3]))
    return lost, dup


def test_fetch_three_transports():
    n = mwtest.scaled(400, 3000)
    with Sim(["--records", str(n)]) as sim:
        rs = Rsyslog(sim.dir)
        rs.start()
        add_outputs(sim, syslog_outputs(rs, ("tcp", "tls", "relp")))
        sim.fetch(timeout=120)
        want = ndjson_records(sim)
        eq(len(want), 3 * n, "records in the NDJSON")
        for k in rs.INPUTS:
            # tcp and tls: "delivered" is the peer's TCP ack, rsyslogd may
            # still be writing when fetch exits.
            rs.wait_count(k, 3 * n, timeout=30)
        time.sleep(0.3)
        for k in rs.INPUTS:
            check_messages(rs, k, want)
        st = outputs_status(sim)
        eq(sorted(st), ["ndjson", "s_relp", "s_tcp", "s_tls"], "outputs in status --json")
        for name, o in st.items():
            eq(o["state"], "ok", "%s state (error %r)" % (name, o["error"]))
            eq(o["error"], "", "%s error" % name)
            eq(o["lag_records"], 0, "%s lag_records" % name)
            eq(o["lag_seconds"], 0, "%s lag_seconds" % name)
            eq(o["type"], "ndjson" if name == "ndjson" else "syslog", "%s type" % name)
            if name != "ndjson":
                eq(o["delivered"], 3 * n, "%s delivered" % name)
                eq(o["target"], rs.url(name[2:]), "%s target" % name)
        rs.stop()
        mwtest.check_modes(sim.state_dir, sim.out_dir)


def test_run_restart():
    n = mwtest.scaled(2000, 20000)   # per type; 100 per page, ~10 pages/s
    with Sim(["--records", str(n), "--rate-limit", "5", "--refill-ms", "100"]) as sim:
        rs = Rsyslog(sim.dir)
        rs.start()
        add_outputs(sim, syslog_outputs(rs, ("tcp", "relp"), batch=100))
        errf = open(os.path.join(sim.dir, "run.err"), "wb")
        p = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=errf)
        try:
            wait_until(lambda: rs.count("relp") >= 3 * n // 5, 60,
                       "a fifth of the stream over relp")
            check(p.poll() is None, "mimewatch run exited early: %s" % p.returncode)
            at_kill = {k: rs.count(k) for k in ("tcp", "relp")}
            t_kill = time.monotonic()
            rs.kill()
            # Collection and the NDJSON go on while rsyslogd is down.
            st = wait_until(lambda: (lambda s: s if s["s_relp"]["state"] == "retrying"
                                     else None)(outputs_status(sim)), 20,
                            "s_relp to show state retrying")
            check(st["s_relp"]["error"] != "", "s_relp retrying with an empty error")
            mwtest.report(ITEM, "state while rsyslogd is down: s_relp / s_tcp",
                          "%s / %s" % (st["s_relp"]["state"], st["s_tcp"]["state"]),
                          "s_relp error: %s" % st["s_relp"]["error"][:120])
            wait_until(lambda: mwout.ndjson_count(sim) >= 3 * n, 60,
                       "the NDJSON to be complete while rsyslogd is down")
            down = time.monotonic() - t_kill
            want = ndjson_records(sim)
            eq(len(want), 3 * n, "NDJSON records while rsyslogd is down")
            st = outputs_status(sim)
            eq(st["ndjson"]["lag_records"], 0, "ndjson lag_records while syslog is down")
            eq(st["s_relp"]["state"], "retrying", "s_relp state while rsyslogd is down")
            check(st["s_relp"]["error"], "s_relp has no error while rsyslogd is down")
            check(st["s_relp"]["lag_records"] > 0, "s_relp lag_records %r while down"
                  % st["s_relp"]["lag_records"])
            check(st["s_relp"]["lag_seconds"] > 0, "s_relp lag_seconds %r while down"
                  % st["s_relp"]["lag_seconds"])
            mwtest.report(ITEM, "relp lag while down (records, seconds)",
                          "%d, %d" % (st["s_relp"]["lag_records"], st["s_relp"]["lag_seconds"]),
                          "after %.1fs down; NDJSON complete" % down)
            rs.start()
            t_up = time.monotonic()
            # Second kill in the middle of the catch-up burst (records in
            # flight, the case where plain TCP loses what the kernel took),
            # then straight back up.
            base = {k: rs.count(k) for k in ("tcp", "relp")}
            wait_until(lambda: rs.count("relp") >= base["relp"] + 300, 30,
                       "the catch-up burst over relp", 0.005)
            rs.kill()
            burst = {k: rs.count(k) - base[k] for k in ("tcp", "relp")}
            lag2 = outputs_status(sim)["s_relp"]["lag_records"]
            rs.start()

            def caught_up():
                s = outputs_status(sim)
                return all(s[k]["lag_records"] == 0 and s[k]["state"] == "ok"
                           for k in ("s_tcp", "s_relp")) and s
            st = wait_until(caught_up, 90, "both syslog outputs to catch up", 0.3)
            mwtest.report(ITEM, "catch-up after rsyslogd restart (s)",
                          "%.1f" % (time.monotonic() - t_up), "down %.1fs" % down)
            rs.wait_count("relp", 3 * n, 30)
            time.sleep(1.0)
        finally:
            rc = mwtest.stop_bg(p)
            errf.close()
        eq(rc, 0, "mimewatch run exit status on SIGTERM")
        rs.stop()
        lost, dup = check_messages(rs, "relp", want, exact=False, torn_ok=True)
        eq(lost, 0, "relp: records lost across the rsyslogd SIGKILL")
        kills = ("SIGKILL 1 at %d of %d received (stream idle), SIGKILL 2 %d into the "
                 "catch-up burst (relp lag then %d)" % (at_kill["relp"], 3 * n,
                                                        burst["relp"], lag2))
        mwtest.report(ITEM, "relp restart: lost", lost, kills)
        mwtest.report(ITEM, "relp restart: duplicated (by id)", dup, "RELP is at-least-once")
        tlost, tdup = check_messages(rs, "tcp", want, exact=False, torn_ok=True)
        check(tlost < 3 * n // 2, "tcp lost %d of %d: more than half" % (tlost, 3 * n))
        mwtest.report(ITEM, "tcp restart: lost", tlost,
                      "SIGKILL 1 at %d of %d received, SIGKILL 2 %d into the burst; batch 100"
                      % (at_kill["tcp"], 3 * n, burst["tcp"]))
        mwtest.report(ITEM, "tcp restart: duplicated (by id)", tdup)
        mwtest.report(ITEM, "lines rsyslogd cut at its SIGKILLs (tcp, relp)",
                      "%d, %d" % (rs.torn["tcp"], rs.torn["relp"]),
                      "the receiver's own file; such a message counts as not received")
        eq(st["s_relp"]["delivered"] >= 3 * n, True, "s_relp delivered >= records")


def test_throughput():
    """Delivery alone: the records are collected first, then each new output
    (its offset at 0) gets all of them in one `mimewatch fetch`."""
    n = mwtest.scaled(3000, 10000)   # per type: 9,000 (short) or 30,000 records
    with Sim(["--records", str(n)]) as sim:
        sim.edit_config(page_size=100)
        sim.fetch(timeout=120)
        rs = Rsyslog(sim.dir)
        rs.start()
        base = sim.read_config()
        runs = [("ndjson", "  - type: ndjson\n    name: nd2\n    dir: %s\n"
                 % os.path.join(sim.dir, "out2"))]
        runs += [("syslog " + k, syslog_outputs(rs, (k,))) for k in rs.INPUTS]
        for label, y in runs:
            with open(sim.config, "w") as f:
                f.write(base)
            add_outputs(sim, y)
            r = sim.fetch(timeout=120)
            if label.startswith("syslog"):
                rs.wait_count(label[7:], 3 * n, 60)
            st = outputs_status(sim)
            name = "nd2" if label == "ndjson" else "s_" + label[7:]
            eq(st[name]["lag_records"], 0, "%s lag after fetch" % name)
            mwtest.report("issue5 outputs", "fetch delivering %d records: %s (records/s)"
                          % (3 * n, label), "%.0f" % (3 * n / r.wall),
                          "%.2fs wall incl. start-up and one poll per type; batch 500"
                          % r.wall)
        rs.stop()


# ---- issue 10 point 8: control characters in ids ----------------------------------------

CRAFTED_ID = 'MTOKEN:crafted-\x1b[31m\r\n\x85]"\\\u2028\u2029\x7f\x9b end'
# The same, as a JSON string literal (what the proxy puts into the page).
CRAFTED_JSON = json.dumps(CRAFTED_ID).encode()


def sd_expected(value):
    """An SD PARAM-VALUE as the sink must write it, written here on its own:
    '"', '\\' and ']' escaped with a backslash (RFC 5424 6.3.3); C0, DEL,
    C1, U+2028 and U+2029 as the text \\u00xx; the rest as it is."""
    out = []
    for ch in value:
        o = ord(ch)
        if ch in '"\\]':
            out.append("\\" + ch)
        elif o < 0x20 or 0x7f <= o <= 0x9f or o in (0x2028, 0x2029):
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    return "".join(out).encode("utf-8")


def sd_parsed(value):
    """The value after RFC 5424 unescaping, as rsyslog's mmpstrucdata gives it."""
    return re.sub(rb'\\(["\\\]])', rb"\1", sd_expected(value)).decode("utf-8")


def raw_controls(b, seps=True):
    """Bytes a one-line syslog message or a terminal must not get raw: C0
    (TAB and LF too: no field here holds them), DEL, the UTF-8 of C1 and,
    with seps, of U+2028 / U+2029."""
    n = sum(1 for c in b if c < 0x20 or c == 0x7f)
    n += len(re.findall(rb"\xc2[\x80-\x9f]", b))
    if seps:
        n += len(re.findall(rb"\xe2\x80[\xa8\xa9]", b))
    return n


class RsyslogSD(Rsyslog):
    """tcp and relp only; per input also the raw message (%rawmsg%) and
    rsyslog's own parse of the structured data (mmpstrucdata, as JSON)."""

    INPUTS = ("tcp", "relp")

    def _write_conf(self):
        d = self.dir
        c = ['global(workDirectory="%s/work" maxMessageSize="256k"' % d,
             '       parser.escapeControlCharactersOnReceive="off")',
             'main_queue(queue.type="Direct")',
             'module(load="imtcp")',
             'module(load="imrelp")',
             'module(load="mmpstrucdata")',
             'template(name="sdmsg" type="string" '
             'string="%app-name%\\t%hostname%\\t%structured-data%\\t%msg%\\n")',
             'template(name="raw" type="string" string="%rawmsg%\\n")',
             'template(name="sdjson" type="string" string="%$!rfc5424-sd%\\n")']
        for k in self.INPUTS:
            c.append('ruleset(name="rs_%s") {' % k)
            c.append('  action(type="omfile" file="%s/%s.log" template="sdmsg" '
                     'fileCreateMode="0600")' % (d, k))
            c.append('  action(type="omfile" file="%s/%s.raw" template="raw" '
                     'fileCreateMode="0600")' % (d, k))
            c.append('  action(type="mmpstrucdata")')
            c.append('  action(type="omfile" file="%s/%s.sd.json" template="sdjson" '
                     'fileCreateMode="0600")' % (d, k))
            c.append('}')
        c.append('input(type="imtcp" address="127.0.0.1" port="%d" ruleset="rs_tcp" '
                 'supportOctetCountedFraming="on")' % self.ports["tcp"])
        c.append('input(type="imrelp" address="127.0.0.1" port="%d" ruleset="rs_relp" '
                 'maxDataSize="256k")' % self.ports["relp"])
        with open(self.conf, "w") as f:
            f.write("\n".join(c) + "\n")

    def file(self, kind, ext):
        with open(os.path.join(self.dir, "%s.%s" % (kind, ext)), "rb") as f:
            return f.read()


def test_control_ids():
    """Impersonation ids from the sim's terminal-injection corpus (ESC, BEL,
    ']', '\\', C1 raw and as UTF-8, invalid UTF-8, U+2028/2029, bidi) plus
    one id the sim cannot make, put into the first page by a rewriting
    proxy: ESC, CR, LF, U+0085, ']', '"', '\\', U+2028/2029, DEL, U+009B.
    Through `mimewatch fetch` to rsyslogd over tcp and relp: each record is
    exactly one message, its SD parses (rsyslog's mmpstrucdata) to the id
    escaped as sd_expected says, no raw control byte is in the SD, and MSG
    is the NDJSON line byte for byte."""
    import mwproxy
    n = 26    # two rounds of the 13-entry corpus; entry 6 holds U+0000 (rejected)
    with Sim(["--records", str(n), "--hostile-corpus", "--hostile-every", "1"]) as sim:
        sim.edit_config(types="[impersonation]")
        done = []

        def rewrite(path, status, body):
            if done or status != 200 or not path.startswith(mwtest.PATHS["impersonation"]):
                return body
            new, k = re.subn(rb'"id":"(?:[^"\\]|\\.)*"', lambda m: b'"id":' + CRAFTED_JSON,
                             body, count=1)
            if k:
                done.append(1)
            return new

        rs = RsyslogSD(sim.dir)
        rs.start()
        add_outputs(sim, syslog_outputs(rs, ("tcp", "relp")))
        with mwproxy.RewritingProxy(sim, rewrite) as px:
            px.point_config()
            sim.fetch(timeout=120)
        check(done, "the proxy saw no impersonation page to rewrite")
        want = {}
        for raw in sim.ndjson_raw("sim", "impersonation"):
            obj = json.loads(raw.decode("utf-8"))
            want[obj["id"]] = raw
        check(CRAFTED_ID in want, "the crafted id is not in the NDJSON")
        eq(len(want), n - 2, "NDJSON records (records 6 and 19, whose ids hold U+0000, are "
           "set aside)")
        for k in rs.INPUTS:
            rs.wait_count(k, len(want), timeout=30)
        time.sleep(0.3)
        rs.stop()
        by_sd = {sd_expected(i): i for i in want}
        for kind in rs.INPUTS:
            raw = rs.file(kind, "raw")
            sdj = rs.file(kind, "sd.json").split(b"\n")[:-1]
            lines = raw.split(b"\n")[:-1]
            eq(len(lines), len(want), "%s: lines of %%rawmsg%% (one per message)" % kind)
            eq(len(sdj), len(want), "%s: lines of parsed structured data" % kind)
            seen = []
            for i, line in enumerate(lines):
                m = re.match(rb'<\d+>1 \S+ \S+ mimewatch \d+ - (\[mimewatch@32473 '
                             rb'integration="sim" type="impersonation" id="((?:[^"\\\]]|\\.)*)"\]) ',
                             line)
                check(m, "%s message %d: no RFC 5424 header with our SD: %r"
                      % (kind, i, line[:300]))
                sd, sdid = m.group(1), m.group(2)
                eq(raw_controls(sd), 0, "%s message %d: raw control bytes in the SD %r"
                   % (kind, i, sd))
                check(sdid in by_sd, "%s message %d: SD id %r is no id of the NDJSON escaped"
                      % (kind, i, sdid))
                rid = by_sd[sdid]
                eq(line[m.end():], want[rid], "%s message %d: MSG vs the NDJSON line" % (kind, i))
                parsed = json.loads(sdj[i])
                eq(list(parsed), ["mimewatch@32473"], "%s message %d: SD elements" % (kind, i))
                eq(parsed["mimewatch@32473"], {"integration": "sim", "type": "impersonation",
                                               "id": sd_parsed(rid)},
                   "%s message %d: SD as rsyslog parsed it" % (kind, i))
                seen.append(rid)
            eq(sorted(seen), sorted(want), "%s: ids received" % kind)
            mwtest.report("issue10 syslog SD", "%s: messages / lines / raw controls in SD"
                          % kind, "%d / %d / 0" % (len(want), len(lines)),
                          "ids from the corpus plus ESC CR LF U+0085 ] \" \\ U+2028")


if __name__ == "__main__":
    mwtest.main([test_fetch_three_transports, test_run_restart, test_throughput,
                 test_control_ids])
