#!/usr/bin/env python3
"""Limits (issue 4 item 12): a record and a response above the 16 MiB limit
(MC_MAX_RESPONSE), a 1 GiB response the sim streams without holding it, JSON
nested 10,000 deep inside a record, a YAML alias bomb as the config: each
gives a clear error in bounded time and memory (max RSS of mimewatch
reported). A malformed record inside an otherwise good page is set aside
(counted in `rejected`, kept in the reject file) and the window goes on.
"""

import glob
import json
import os

import mwtest
from mwtest import TYPES, Sim, check, eq

ITEM = "12 limits"
N = 300
SIM_ARGS = ["--records", str(N), "--span", "1h"]
TOO_BIG = ("mimewatch: sim/url: unknown (HTTP 200 CURLE_WRITE_ERROR): response larger than "
           "16 MiB refused; remedy: response larger than 16 MiB refused; lower page_size or "
           "check base_url")
BOMB_RC = 2  # a config error (HACKING, "Commands and exit status")
RSS_LIMIT_KB = 160 * 1024  # one 16 MiB body, its growth and the rest; far below 1 GiB


def url_line(r):
    lines = [l for l in r.err.splitlines() if l.startswith("mimewatch: sim/url:")]
    return lines[0] if lines else ""


def sim_rss_kb(sim):
    with open("/proc/%d/status" % sim.proc.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def too_big(label, spec, wall_limit=30):
    with Sim(SIM_ARGS) as sim:
        sim.faults(spec)
        r = sim.fetch(budget="5s", timeout=120, expect_rc=1)
        url = r.report()[("sim", "url")]
        eq(url["failed"], True, "%s: sim/url FAILED" % label)
        eq(url["new"], 100, "%s: sim/url new (page 1 only)" % label)
        eq(url["retries"], 0, "%s: a refused size is not retried" % label)
        eq(url_line(r), TOO_BIG, "%s: stderr" % label)
        eq(sim.store_counts()[("sim", "url")], 100, "%s: url records stored" % label)
        st = sim.type_status()["url"]
        eq(st["class_name"], "unknown", "%s: class" % label)
        eq(st["horizon"], None, "%s: horizon" % label)
        check(r.wall < wall_limit * mwtest.SCALE, "%s: fetch took %.1fs" % (label, r.wall))
        check(r.maxrss_kb < RSS_LIMIT_KB * (2 if mwtest.SCALE > 1 else 1),
              "%s: mimewatch max RSS %d kB" % (label, r.maxrss_kb))
        srss = sim_rss_kb(sim)
        mwtest.report(ITEM, label, "refused in %.1fs, max RSS %d kB" % (r.wall, r.maxrss_kb),
                      "sim peak RSS %d kB" % srss)
        return r, srss


def test_record_above_limit():
    # One record of 17 MiB (the page announces its length).
    too_big("record of 17 MiB", "bigrecord:type=url,after=1,count=0")


def test_response_above_limit_chunked():
    # 20 MiB with no Content-Length: cut while it streams.
    too_big("chunked response of 20 MiB", "bigbody:type=url,after=1,count=0,bytes=20971520")


def test_1gib_response():
    # 1 GiB, announced and not: neither read, nor held by the sim.
    for length in (1, 0):
        _, srss = too_big("1 GiB response (Content-Length %s)" % ("sent" if length else "absent"),
                          "bigbody:type=url,after=1,count=0,length=%d" % length)
        check(srss < 512 * 1024, "the sim held %d kB for a 1 GiB body" % srss)


def test_deep_json():
    label = "record nested 10,000 deep"
    with Sim(SIM_ARGS) as sim:
        sim.faults("deepjson:type=url,after=1,count=0,depth=10000")
        r = sim.fetch(budget="3s", timeout=60, expect_rc=1)
        url = r.report()[("sim", "url")]
        eq(url["new"], 100, "%s: sim/url new (page 1 only)" % label)
        line = url_line(r)
        check(line.startswith("mimewatch: sim/url: retry later (HTTP 200): malformed response "
                              "body: invalid JSON at byte ") and
              "nesting deeper than 512 levels" in line, "%s: stderr %r" % (label, line))
        eq(sim.store_counts()[("sim", "url")], 100, "%s: url records stored" % label)
        eq(sim.type_status()["url"]["horizon"], None, "%s: horizon" % label)
        check(r.wall < 30 * mwtest.SCALE, "%s: fetch took %.1fs" % (label, r.wall))
        check(r.maxrss_kb < RSS_LIMIT_KB, "%s: max RSS %d kB" % (label, r.maxrss_kb))
        mwtest.report(ITEM, label, "refused in %.1fs, max RSS %d kB" % (r.wall, r.maxrss_kb),
                      "%d retries" % url["retries"])


def test_yaml_alias_bomb():
    with Sim(SIM_ARGS) as sim:
        bomb = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        for i in range(1, 10):
            bomb.append("a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)] * 9)))
        with open(sim.config, "w") as f:
            f.write("\n".join(bomb) + "\n")
        os.chmod(sim.config, 0o600)
        r = sim.mw(["status"], timeout=30)
        eq(r.rc, BOMB_RC, "status exit status with an alias bomb\n%s" % r)
        # Refused at the first anchor, before any alias can expand.
        eq(r.err.strip(), "mimewatch: %s:1: YAML anchors (&name) are not allowed; write each "
           "value out in full" % sim.config, "stderr with an alias bomb")
        check(r.wall < 5 * mwtest.SCALE, "status took %.1fs on an alias bomb" % r.wall)
        check(r.maxrss_kb < 64 * 1024 * (2 if mwtest.SCALE > 1 else 1),
              "max RSS %d kB on an alias bomb" % r.maxrss_kb)
        mwtest.report(ITEM, "YAML alias bomb config", "refused in %.2fs, max RSS %d kB"
                      % (r.wall, r.maxrss_kb), r.err.strip().splitlines()[0][:80])


def test_malformed_record_set_aside():
    # A record without a time field first in page 2: set aside (counted,
    # kept in state_dir/rejects/), every real record stored, the horizon set.
    with Sim(SIM_ARGS) as sim:
        sim.faults("badrecord:type=url,after=1,count=1")
        r = sim.fetch(budget="20s")
        url = r.report()[("sim", "url")]
        eq(url["failed"], False, "badrecord: FAILED")
        eq(url["new"], N, "badrecord: new")
        eq(url["rej"], 1, "badrecord: rejected in the fetch report")
        check(url["horizon"] != "never", "badrecord: no horizon")
        st = sim.type_status()
        eq(st["url"]["rejected"], 1, "status --json rejected of url")
        for t in ("impersonation", "attachment"):
            eq(st[t]["rejected"], 0, "status --json rejected of %s" % t)
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})
        files = glob.glob(os.path.join(sim.state_dir, "rejects", "**", "*"), recursive=True)
        files = [f for f in files if os.path.isfile(f)]
        check(files, "no reject file under %s/rejects" % sim.state_dir)
        found = False
        for f in files:
            with open(f, "rb") as fh:
                if b"a record with no time field" in fh.read():
                    found = True
        check(found, "the malformed record is in no reject file: %r" % files)
        mwtest.check_modes(os.path.join(sim.state_dir, "rejects"))
        mwtest.report(ITEM, "malformed record in a good page", "set aside",
                      "rejected=1, %d stored, horizon %s" % (url["new"], url["horizon"]))


if __name__ == "__main__":
    mwtest.main([test_record_above_limit, test_response_above_limit_chunked, test_1gib_response,
                 test_deep_json, test_yaml_alias_bomb, test_malformed_record_set_aside])
