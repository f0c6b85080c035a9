#!/usr/bin/env python3
"""Issue 10 point 7: tenant text printed by the headless commands is as
hostile as in the console.

Every byte that validate, fetch, status and status --json write to stdout
and stderr is audited: no ESC, no 8-bit CSI/OSC/NEL (raw 0x9B, or U+0080-
U+009F as UTF-8), no CR, BS, BEL, DEL or other C0 but LF (and TAB), no bidi
override or isolate, no U+2028/U+2029, and valid UTF-8. The tenant's text
must still be there, shown escaped (its PWNED-... marker is printed).

Where the text comes from: mimewatch-sim's --hostile-corpus records, and,
for what the sim does not make hostile (get-account's accountName and
accountCode, Mimecast's error codes and messages), a rewriting proxy
(mwproxy.py) that puts the terminal-injection payload below into the sim's
answers.
"""

import json
import os
import re

import mwproxy
import mwtest
from mwtest import PATHS, Sim, check, eq

ITEM = "issue10 headless"

# An OSC title, a screen clear and home, a CR that forges a line, BS, BEL,
# DEL, raw 0x9B, U+009B and U+0085 as UTF-8, bidi override and isolate, a
# line separator, and a 0x9B byte that is no UTF-8 at all.
PAYLOAD = ("\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b[H\rFORGED-LINE ok\x08\x08\x7f"
           "\x9b31mPWNED-C1\x85 \u202eexe.txt\u2066iso\u2069\u2028next")


def payload_json(marker):
    """The payload as the inside of a JSON string, with a raw 0x9B byte
    (invalid UTF-8) added: Mimecast's bytes are not even promised UTF-8."""
    return json.dumps(marker + PAYLOAD)[1:-1].encode() + b" \x9b" + b"raw-9b"


DESC = "PWNED-DESC\x1b]0;t\x07\x7f\x9b\x85\t\r\n\u2028\u202eexe.txt end"
DESC_YAML = "PWNED-DESC\\e]0;t\\a\\x7f\\u009b\\u0085\\t\\r\\n\\u2028\\u202eexe.txt end"

BAD = [
    (b"\x1b", "ESC"),
    (re.compile(rb"(?<!\xc2)\x9b"), "raw 0x9B"),
    (re.compile(rb"\xc2[\x80-\x9f]"), "C1 as UTF-8"),
    (b"\r", "CR"),
    (b"\x08", "BS"),
    (b"\x07", "BEL"),
    (b"\x7f", "DEL"),
    (re.compile(rb"[\x00-\x06\x0b\x0c\x0e-\x1a\x1c-\x1f]"), "other C0"),
    (re.compile(rb"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c|\xe2\x80[\x8e\x8f]"),
     "bidi control"),
    (re.compile(rb"\xe2\x80[\xa8\xa9]"), "U+2028/U+2029"),
]


def audit(data):
    """{what: count} of the forbidden bytes in data (empty when clean)."""
    found = {}
    for pat, what in BAD:
        n = len(pat.findall(data)) if hasattr(pat, "findall") else data.count(pat)
        if n:
            found[what] = found.get(what, 0) + n
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        found["invalid UTF-8"] = 1
    return found


def run_raw(sim, args, timeout=120):
    """Runs mimewatch; returns (rc, stdout bytes, stderr bytes)."""
    import subprocess
    p = subprocess.run(mwtest.WRAPPER + [mwtest.MIMEWATCH, "--config", sim.config] + args,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout * mwtest.SCALE)
    return p.returncode, p.stdout, p.stderr


class Hostile:
    """The proxy's rewrite: get-account's accountName, accountCode and
    packages, and the code and message of every fail[] error."""

    def __call__(self, path, status, body):
        if path.startswith("/api/account/get-account") and status == 200:
            body = re.sub(rb'"accountName":"[^"]*"',
                          lambda m: b'"accountName":"' + payload_json("PWNED-NAME") + b'"', body)
            body = re.sub(rb'"accountCode":"[^"]*"',
                          lambda m: b'"accountCode":"' + payload_json("PWNED-CODE") + b'"', body)
            body = re.sub(rb'"packages":\[',
                          lambda m: b'"packages":["' + payload_json("PWNED-PKG") + b'",', body)
            body = re.sub(rb'"region":"[^"]*"',
                          lambda m: b'"region":"' + payload_json("PWNED-REGION") + b'"', body)
        if b'"errors"' in body:
            body = re.sub(rb'"code":"([^"]*)"',
                          lambda m: b'"code":"' + m.group(1) + payload_json("PWNED-ECODE") + b'"',
                          body)
            body = re.sub(rb'"message":"[^"]*"',
                          lambda m: b'"message":"' + payload_json("PWNED-EMSG") + b'"', body)
        return body


def check_clean(label, out, err, markers, totals):
    for stream, data in (("stdout", out), ("stderr", err)):
        found = audit(data)
        for k, v in found.items():
            totals[k] = totals.get(k, 0) + v
        if found:
            raise mwtest.CheckFailed("%s %s carries %s:\n%r" % (label, stream, found,
                                                               data[:1500]))
    both = out + err
    for m in markers:
        check(m.encode() in both, "%s: the tenant's text %s is not shown at all:\n%r"
              % (label, m, both[:1500]))


def test_validate():
    with Sim(["--records", "20", "--hostile-corpus", "--hostile-every", "1",
              "--fault", "403:type=attachment,count=0"]) as sim:
        with mwproxy.RewritingProxy(sim, Hostile()) as px:
            px.point_config()
            rc, out, err = run_raw(sim, ["validate"])
        eq(rc, 1, "validate exit status (attachment is refused)\n%r\n%r" % (out, err))
        totals = {}
        check_clean("validate", out, err, ["PWNED-NAME", "PWNED-CODE"], totals)
        check(re.search(rb"^sim +account +PWNED-NAME.*\(PWNED-CODE.*\)$", out, re.M),
              "validate: no account line of one line:\n%r" % out)
        eq(out.count(b"\n"), 4, "validate stdout lines (account + 3 types)\n%r" % out)
        mwtest.report(ITEM, "validate: forbidden bytes in stdout+stderr", 0,
                      "hostile accountName, accountCode, packages, 403 code/message")


def test_fetch_and_status():
    with Sim(["--records", "26", "--hostile-corpus", "--hostile-every", "1",
              "--fault", "403:type=url,count=0"]) as sim:
        sim.edit_config(interval="10s")
        # A description with controls (YAML escapes): status --json must write
        # it as the NDJSON writer would, \u00xx for C0, DEL and C1.
        sim.edit_config(description='"%s"' % DESC_YAML)
        with mwproxy.RewritingProxy(sim, Hostile()) as px:
            px.point_config()
            rc, out, err = run_raw(sim, ["fetch", "--retry-budget", "10s"], timeout=120)
            eq(rc, 1, "fetch exit status (url keeps failing)\n%r\n%r" % (out, err))
            totals = {}
            check_clean("fetch", out, err, ["PWNED-EMSG"], totals)
            rc, sout, serr = run_raw(sim, ["status"])
            eq(rc, 1, "status exit status (url failed)\n%r\n%r" % (sout, serr))
            check_clean("status", sout, serr, ["PWNED-EMSG"], totals)
            rc, jout, jerr = run_raw(sim, ["status", "--json"])
            eq(rc, 1, "status --json exit status\n%r\n%r" % (jout, jerr))
            check_clean("status --json", jout, jerr, [], totals)
        # status --json: JSON, with the escaping of the NDJSON lines: every
        # C0, DEL and C1 inside a string as \u00xx (lower-case), nothing raw.
        js = json.loads(jout.decode("utf-8"))
        eq(js["integrations"][0]["description"], DESC, "status --json description")
        for esc in (b"\\u001b", b"\\u0007", b"\\u007f", b"\\u009b", b"\\u0085",
                    b"\\u0009", b"\\u000d", b"\\u000a", b"\\u2028", b"\\u202e"):
            check(esc in jout, "status --json does not write %s:\n%r" % (esc.decode(),
                                                                       jout[:1500]))
        url = [t for i in js["integrations"] for t in i["types"] if t["type"] == "url"][0]
        check("PWNED-EMSG" in url["message"], "status --json url message: %r" % url["message"])
        for esc in re.findall(rb"\\u([0-9a-fA-F]{4})", jout):
            check(esc == esc.lower(), "status --json escape \\u%s is not lower-case" % esc)
        short = [e for e in re.findall(rb'\\(u[0-9a-fA-F]{4}|.)', jout) if e in b"bfnrt"]
        eq(short, [], "status --json short escapes (\\n, \\r...) where the NDJSON writes "
           "\\u00xx")
        mwtest.report(ITEM, "fetch/status/status --json: forbidden bytes", 0,
                      "hostile corpus records, 403 fail[] code/message")


if __name__ == "__main__":
    mwtest.main([test_validate, test_fetch_and_status])
