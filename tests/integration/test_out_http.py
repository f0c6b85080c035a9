#!/usr/bin/env python3
"""HEC and Elasticsearch outputs through the real binary (issue 5 item 3)
against tests/lib/strict_http.py, which checks the protocol (token,
framing, every JSON object, _id = record id) and fails on command.

test_fetch_hec_es: hec (token via token_env) and elasticsearch (api_key via
  api_key_file, mode 0600) next to NDJSON: every record arrives once, as
  its NDJSON object; ES _id = id, _index = mimecast-{type}; no protocol
  violation; status ok. `reset` + fetch re-sends nothing (the store dedups);
  a fresh state dir re-sends everything: ES documents stay unique (409s are
  taken as delivered), HEC receives each record a second time (counted).
test_faults_midstream: `mimewatch run` streams while the receiver answers
  503s, 429s and cuts a connection: retried, 0 lost.
test_bad_token: a refused HEC token: fetch exits 1 naming the output, which
  shows "error" and a remedy in status; elasticsearch and NDJSON unaffected.
test_throughput: records/s `mimewatch fetch` delivers to hec and to es.
"""

import collections
import json
import os
import shutil
import time

import mwout
import mwtest
from mwout import StrictHttp, add_outputs, env_with, ndjson_records, outputs_status, wait_until
from mwtest import Sim, check, eq

ITEM = "issue5 http"


def http_outputs(rx, key_file, hec_name="hec", batch=None):
    b = "    batch: %d\n" % batch if batch else ""
    return ("  - type: hec\n    name: %s\n    url: %s\n    token_env: MW_TEST_HEC_TOKEN\n%s"
            "  - type: elasticsearch\n    name: es\n    url: %s\n    api_key_file: %s\n%s"
            % (hec_name, rx.hec_url, b, rx.es_url, key_file, b))


def setup(sim, rx, batch=None, token=None):
    key_file = os.path.join(sim.dir, "es.key")
    mwout.write_secret(key_file, rx.es_key)
    add_outputs(sim, http_outputs(rx, key_file, batch=batch))
    return env_with(MW_TEST_HEC_TOKEN=token or rx.hec_token)


def fetch(sim, env, expect_rc=0, budget=None, timeout=120):
    args = ["fetch"] + (["--retry-budget", budget] if budget else [])
    r = sim.mw(args, env=env, timeout=timeout)
    if expect_rc is not None:
        eq(r.rc, expect_rc, "exit status of fetch\n%s" % r)
    return r


def es_items(rx):
    """[(index, _id, source)] of every bulk item the receiver logged (bodies
    kept), in order."""
    st = rx.state()
    out = []
    for i, req in enumerate(st["requests"]):
        if req["kind"] != "es" or req["status"] != 200:
            continue
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", rx.port, timeout=30)
        c.request("GET", "/_ctl/body?n=%d" % i)
        body = c.getresponse().read()
        c.close()
        lines = body.decode("utf-8").split("\n")[:-1]
        for a, s in zip(lines[0::2], lines[1::2]):
            meta = next(iter(json.loads(a).values()))
            out.append((meta["_index"], meta["_id"], json.loads(s)))
    return out


def check_exact(rx, want, what):
    st = rx.state()
    eq(st["violations"], [], "%s: protocol violations" % what)
    lost, dup, foreign = mwout.tally(st["hec_ids"], want)
    eq((lost, dup, foreign), (0, 0, 0), "%s: hec (lost, duplicated, foreign)" % what)
    lost, dup, foreign = mwout.tally(st["es_ids"], want)
    eq((lost, dup, foreign), (0, 0, 0), "%s: es (lost, duplicated, foreign)" % what)
    eq(st["es_docs"], len(want), "%s: es documents" % what)
    return st


def test_fetch_hec_es():
    n = mwtest.scaled(300, 3000)
    with Sim(["--records", str(n)]) as sim:
        rx = StrictHttp(sim.dir)
        env = setup(sim, rx)
        fetch(sim, env)
        want = ndjson_records(sim)
        eq(len(want), 3 * n, "NDJSON records")
        check_exact(rx, want, "first fetch")
        # The bodies: the HEC event and the ES source are the NDJSON object.
        items = es_items(rx)
        eq(len(items), 3 * n, "bulk items")
        for index, _id, src in items:
            t, line = want[_id]
            eq(index, "mimecast-" + t, "_index of %s" % _id)
            eq(src, json.loads(line), "ES source of %s" % _id)
        st = outputs_status(sim, env=env)
        for name in ("hec", "es", "ndjson"):
            eq(st[name]["state"], "ok", "%s state (error %r)" % (name, st[name]["error"]))
            eq(st[name]["lag_records"], 0, "%s lag_records" % name)
        eq(st["hec"]["delivered"], 3 * n, "hec delivered")
        eq(st["es"]["delivered"], 3 * n, "es delivered")
        eq(st["hec"]["type"], "hec", "hec type")
        eq(st["es"]["type"], "elasticsearch", "es type")
        eq(st["es"]["target"], rx.es_url, "es target")
        check(rx.hec_token not in json.dumps(st) and rx.es_key not in json.dumps(st),
              "status --json shows a secret")

        # reset moves the horizon; the store drops what comes again.
        r = sim.mw(["reset", "--yes", "sim"], env=env)
        eq(r.rc, 0, "reset exit status\n%s" % r)
        fetch(sim, env)
        st2 = rx.state()
        mwtest.report(ITEM, "records re-sent by fetch after reset (hec, es)",
                      "%d, %d" % (len(st2["hec_ids"]) - 3 * n, len(st2["es_ids"]) - 3 * n),
                      "the store drops re-collected records")
        eq(st2["es_docs"], 3 * n, "es documents after reset + fetch")

        # A new state dir: every record is re-sent.
        shutil.rmtree(sim.state_dir)
        shutil.rmtree(sim.out_dir)
        fetch(sim, env)
        st3 = rx.state()
        eq(st3["violations"], [], "protocol violations after the re-send")
        eq(st3["es_docs"], 3 * n, "es documents after every record was re-sent")
        eq(st3["es_conflicts"] - st2["es_conflicts"], 3 * n,
           "409 conflicts from the re-send (one per record)")
        lost, dup, foreign = mwout.tally(st3["hec_ids"], want)
        eq((lost, foreign), (0, 0), "hec (lost, foreign) after the re-send")
        eq(dup, 3 * n, "hec duplicates after re-sending everything (HEC cannot dedupe)")
        st = outputs_status(sim, env=env)
        eq(st["es"]["state"], "ok", "es state after 409s (error %r)" % st["es"]["error"])
        eq(st["es"]["lag_records"], 0, "es lag after 409s")
        mwtest.report(ITEM, "es documents after a full re-send of %d records" % (3 * n),
                      st3["es_docs"], "%d conflicts (409) taken as delivered"
                      % st3["es_conflicts"])
        rx.stop()


def test_faults_midstream():
    n = mwtest.scaled(2000, 10000)   # per type, ~10 pages/s of 100
    with Sim(["--records", str(n), "--rate-limit", "5", "--refill-ms", "100"]) as sim:
        rx = StrictHttp(sim.dir)
        env = setup(sim, rx, batch=100)
        errf = open(os.path.join(sim.dir, "run.err"), "wb")
        p = mwtest.mimewatch_bg(["run"], config=sim.config, env=env, stderr=errf)
        try:
            wait_until(lambda: len(rx.state()["hec_ids"]) >= 300, 60, "300 HEC events")
            rx.fault("503", 3)
            rx.fault("429", 3)
            rx.fault("close_before", 1)
            rx.fault("500", 2)
            wait_until(lambda: sum(1 for q in rx.state()["requests"] if q["fault"]) >= 9, 60,
                       "the 9 injected failures to be met")
            mid = outputs_status(sim, env=env)
            wait_until(lambda: mwout.ndjson_count(sim) >= 3 * n, 90, "collection to finish")

            def done():
                s = outputs_status(sim, env=env)
                return all(s[k]["lag_records"] == 0 and s[k]["state"] == "ok"
                           for k in ("hec", "es")) and s
            wait_until(done, 90, "hec and es to catch up", 0.3)
        finally:
            rc = mwtest.stop_bg(p)
            errf.close()
        eq(rc, 0, "mimewatch run exit status")
        want = ndjson_records(sim)
        eq(len(want), 3 * n, "NDJSON records")
        st = check_exact(rx, want, "after 503/429/close/500 mid-stream")
        faults = collections.Counter(q["fault"] for q in st["requests"] if q["fault"])
        eq(dict(faults), {"503": 3, "429": 3, "close_before": 1, "500": 2},
           "injected failures met")
        mwtest.report(ITEM, "run with 503x3, 429x3, cut x1, 500x2 mid-stream: lost", 0,
                      "%d records to hec and es each, %d requests"
                      % (3 * n, len(st["requests"])))
        mwtest.report(ITEM, "state seen right after the faults (hec / es)",
                      "%s / %s" % (mid["hec"]["state"], mid["es"]["state"]))


def test_bad_token():
    n = mwtest.scaled(200, 1000)
    with Sim(["--records", str(n)]) as sim:
        rx = StrictHttp(sim.dir)
        env = setup(sim, rx, token="not-the-token")
        rf = fetch(sim, env, expect_rc=1, budget="20s", timeout=90)
        check("hec" in rf.out + rf.err, "fetch does not name the failing output hec:\n%s" % rf)
        check(rf.wall < 60, "fetch took %.0fs on a refused token" % rf.wall)
        want = ndjson_records(sim)
        eq(len(want), 3 * n, "NDJSON records with hec failing")
        st = rx.state()
        eq(st["hec_ids"], [], "HEC events accepted with a wrong token")
        lost, dup, foreign = mwout.tally(st["es_ids"], want)
        eq((lost, dup, foreign), (0, 0, 0), "es (lost, duplicated, foreign) with hec failing")
        check(st["auth_failures"] >= 1, "the receiver saw no wrong token")
        hec_tries = st["auth_failures"]
        time.sleep(2.2)   # lag_seconds counts from when the records were collected
        o = outputs_status(sim, env=env)
        eq(o["hec"]["state"], "error", "hec state with a refused token (error %r)"
           % o["hec"]["error"])
        check("token" in o["hec"]["error"].lower(), "hec error names no token: %r"
              % o["hec"]["error"])
        check("not-the-token" not in json.dumps(o), "status shows the token")
        eq(o["hec"]["lag_records"], 3 * n, "hec lag_records")
        check(2 <= o["hec"]["lag_seconds"] < 60, "hec lag_seconds %r 2.2s after the fetch"
              % o["hec"]["lag_seconds"])
        for name in ("es", "ndjson"):
            eq(o[name]["state"], "ok", "%s state next to a failing hec" % name)
            eq(o[name]["lag_records"], 0, "%s lag next to a failing hec" % name)
        r = sim.mw(["status"], env=env)
        check("hec" in r.out and "error" in r.out, "status does not show hec in error:\n%s" % r)
        mwtest.report(ITEM, "refused HEC token: requests during a fetch", hec_tries,
                      "fatal: not retried every second; fetch %.1fs, exit 1" % rf.wall)
        # The right token: the next fetch delivers everything.
        env["MW_TEST_HEC_TOKEN"] = rx.hec_token
        fetch(sim, env)
        check_exact(rx, want, "after fixing the token")
        rx.stop()


def test_throughput():
    n = mwtest.scaled(3000, 10000)   # per type: 9,000 or 30,000 records
    with Sim(["--records", str(n)]) as sim:
        sim.edit_config(page_size=100)
        sim.fetch(timeout=120)
        rx = StrictHttp(sim.dir)
        key_file = os.path.join(sim.dir, "es.key")
        mwout.write_secret(key_file, rx.es_key)
        base = sim.read_config()
        env = env_with(MW_TEST_HEC_TOKEN=rx.hec_token)
        for kind, y in (("hec", "  - type: hec\n    url: %s\n    token_env: MW_TEST_HEC_TOKEN\n"
                         % rx.hec_url),
                        ("elasticsearch", "  - type: elasticsearch\n    url: %s\n"
                         "    api_key_file: %s\n" % (rx.es_url, key_file))):
            with open(sim.config, "w") as f:
                f.write(base)
            add_outputs(sim, y)
            r = fetch(sim, env)
            eq(outputs_status(sim, env=env)[kind]["lag_records"], 0, "%s lag" % kind)
            mwtest.report("issue5 outputs", "fetch delivering %d records: %s (records/s)"
                          % (3 * n, kind), "%.0f" % (3 * n / r.wall),
                          "%.2fs wall; python receiver on the same 2 cores; batch 500"
                          % r.wall)
        st = rx.state()
        eq(len(set(st["hec_ids"])), 3 * n, "hec records")
        eq(st["es_docs"], 3 * n, "es documents")
        rx.stop()


if __name__ == "__main__":
    mwtest.main([test_fetch_hec_es, test_faults_midstream, test_bad_token, test_throughput])
