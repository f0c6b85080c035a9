#!/usr/bin/env python3
"""mimewatch validate: one row per integration and type, ok or the error
class with its remedy; exit 0 only when every row is ok."""

import base64
import re

import mwtest
from mwtest import TYPES, Sim, check, eq

ROW_RE = re.compile(r"^(?P<name>[A-Za-z0-9._-]+) +(?P<type>[a-z]+) +(?P<rest>\S.*)$")
PERM = {"url": "Monitoring | URL Protection | Read",
        "impersonation": "Monitoring | Impersonation Protection | Read",
        "attachment": "Monitoring | Attachment Protection | Read",
        "audit": "Account | Logs | Read",
        "dlp": "Monitoring | Data Leak Prevention | Read"}


def rows(r, name="sim", types=TYPES):
    out = {}
    for line in r.out.splitlines():
        m = ROW_RE.match(line)
        if m and m.group("name") == name:
            check(m.group("type") not in out, "two rows for %s/%s:\n%s" % (name, m.group("type"),
                                                                        r))
            out[m.group("type")] = m.group("rest")
    for t in types + ("account",):
        check(t in out, "validate printed no row for %s %s\n%s" % (name, t, r))
    return out


def expect(r, want, rc, types=TYPES):
    """want: {type: (class name or "ok", [texts the row must contain])}."""
    eq(r.rc, rc, "validate exit status\n%s" % r)
    got = rows(r, types=types)
    for t, (cls, texts) in want.items():
        row = got[t]
        if cls == "ok":
            eq(row, "ok", "validate row %s" % t)
            continue
        check(row.startswith(cls + " (HTTP "), "validate row %s should start with %r, got %r"
              % (t, cls + " (HTTP ", row))
        for s in texts:
            check(s in row, "validate row %s should contain %r, got %r" % (t, s, row))
    return got


def test_good_credentials():
    with Sim(["--records", "10"]) as sim:
        r = sim.mw(["validate"])
        got = expect(r, {t: ("ok", []) for t in TYPES}, 0)
        check("Simulated Tenant" in got["account"] and "CUSA00SIM1" in got["account"],
              "account row should name the tenant: %r" % got["account"])
        eq(r.err, "", "validate stderr with good credentials")


def test_permission_denied():
    with Sim(["--records", "10", "--deny-permission", "impersonation"]) as sim:
        r = sim.mw(["validate"])
        expect(r, {"url": ("ok", []), "attachment": ("ok", []),
                   "impersonation": ("permission missing", ["HTTP 403", PERM["impersonation"]])},
               1)
        check("sim/impersonation" in r.err and "permission missing" in r.err,
              "stderr should name sim/impersonation and the class:\n%s" % r)


def test_wrong_secret():
    with Sim(["--records", "10"]) as sim:
        other = base64.b64encode(bytes(range(64, 128))).decode()
        sim.edit_config(secret_key=other)
        r = sim.mw(["validate"])
        expect(r, {t: ("invalid signature", ["HTTP 401", "err_xdk_invalid_signature"])
                   for t in TYPES}, 1)
        check("invalid signature" in rows(r)["account"], "account row: %r" % rows(r)["account"])
        check(other not in r.out + r.err, "validate printed the secret key")
        check(mwtest.SIM_ACCESS_KEY not in r.out + r.err, "validate printed the access key")


def test_wrong_app_id():
    with Sim(["--records", "10"]) as sim:
        sim.edit_config(app_id="00000000-1111-4222-8333-444444444444")
        r = sim.mw(["validate"])
        expect(r, {t: ("bad Application ID", ["err_developer_key"]) for t in TYPES}, 1)


def test_no_package():
    with Sim(["--records", "10", "--no-package", "attachment"]) as sim:
        r = sim.mw(["validate"])
        expect(r, {"url": ("ok", []), "impersonation": ("ok", []),
                   "attachment": ("TTP package not licensed", [])}, 1)


def test_binding_expired():
    with Sim(["--records", "10"]) as sim:
        sim.faults("418:count=0")
        r = sim.mw(["validate"])
        expect(r, {t: ("binding expired", ["HTTP 418", "Never Expire"]) for t in TYPES}, 1)


def test_validate_name():
    with Sim(["--records", "10"]) as sim:
        r = sim.mw(["validate", "sim"])
        expect(r, {t: ("ok", []) for t in TYPES}, 0)
        r = sim.mw(["validate", "nosuch"])
        eq(r.rc, 2, "validate of an unknown NAME: exit status\n%s" % r)
        check("nosuch" in r.err, "stderr should name the unknown integration:\n%s" % r)
        eq(sim.stats().get("status", {}).get("401", 0), 0, "401s the tenant sent")


def test_audit_and_dlp():
    """Issue 15: validate checks each new type with its own permission, the
    DLP package is not a gate (whether the endpoint needs it is UNCONFIRMED),
    and fetch collects every record of both exactly once."""
    new = ("audit", "dlp")
    with Sim(["--records", "250", "--span", "1h"]) as sim:
        sim.edit_config(types="[audit, dlp]")
        r = sim.mw(["validate"])
        expect(r, {t: ("ok", []) for t in new}, 0, types=new)
        f = sim.fetch(budget="20s")
        for t in new:
            eq(f.report()[("sim", t)]["new"], 250, "fetch sim/%s new" % t)
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in new})
        eq(sim.path_requests("audit"), 3 + 1, "audit requests (3 pages, 1 validate)")
    with Sim(["--records", "10", "--deny-permission", "audit", "--deny-permission", "dlp",
              "--no-package", "dlp"]) as sim:
        sim.edit_config(types="[audit, dlp]")
        r = sim.mw(["validate"])
        expect(r, {t: ("permission missing", ["HTTP 403", PERM[t]]) for t in new}, 1,
               types=new)
    with Sim(["--records", "10", "--no-package", "dlp"]) as sim:
        sim.edit_config(types="[dlp]")
        r = sim.mw(["validate"])
        expect(r, {"dlp": ("ok", [])}, 0, types=("dlp",))


if __name__ == "__main__":
    mwtest.main([test_audit_and_dlp, test_good_credentials, test_permission_denied, test_wrong_secret,
                 test_wrong_app_id, test_no_package, test_binding_expired, test_validate_name])
