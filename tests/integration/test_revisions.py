#!/usr/bin/env python3
"""A revised impersonation record (issue 12, point 4), through every output.

The tenant (mimewatch-sim's revise fault: mimewatch-sim(1), "Revised
records") serves every 10th impersonation line again with its id and
eventTime but a changed verdict (action and taggedMalicious flipped). The
rule (mimewatch.yaml(5), "Revised records"): the store keeps one row per id,
the changed content replaces the old one as revision 2, and every output
delivers it again under the same id with "revision":2, in the NDJSON file,
in syslog (RELP, through a real rsyslogd: the line and revision="2" in the
structured data), to Splunk HEC (a second event), to Elasticsearch (the one
document overwritten, _version 2 by external versioning) and to Kafka (a
second message with the same key, after the first). The same revision
served again changes nothing anywhere; the original content served again
afterwards is revision 3. Before the rule, a changed line was dropped as a
duplicate: no output ever saw the new verdict."""

import collections
import json
import os
import time

import mwout
import mwtest
from mwout import MockCluster, Rsyslog, StrictHttp, add_outputs, wait_until
from mwtest import Sim, check, eq

ITEM = "12.4 revisions"
N = 100
EVERY = 10
LAG = 1          # the lag the sim writes into the config
TOPIC = "mwtest.{integration}.{type}"
KTOPIC = "mwtest.sim.impersonation"


def outputs(rs, rx, mc, key_file):
    return ("  - type: syslog\n    name: s_relp\n    url: %s\n    hostname: %s\n"
            "  - type: hec\n    name: hec\n    url: %s\n    token_env: MW_TEST_HEC_TOKEN\n"
            "  - type: elasticsearch\n    name: es\n    url: %s\n    api_key_file: %s\n"
            "  - type: kafka\n    name: kf\n    brokers: %s\n    topic: %s\n"
            % (rs.url("relp"), mwout.HOSTNAME, rx.hec_url, rx.es_url, key_file,
               mc.bootstrap, TOPIC))


class Outputs:
    """What each receiver holds, per record id, in arrival order."""

    def __init__(self, sim, rs, rx, mc):
        self.sim, self.rs, self.rx, self.mc = sim, rs, rx, mc

    def ndjson(self):
        by_id = collections.defaultdict(list)
        for raw in self.sim.ndjson_raw("sim", "impersonation"):
            obj = json.loads(raw.decode("utf-8"))
            by_id[obj["id"]].append((obj, raw))
        return by_id

    def syslog(self, n):
        self.rs.wait_count("relp", n, timeout=30)
        by_id = collections.defaultdict(list)
        for _app, _host, params, msg in self.rs.messages("relp"):
            by_id[params["id"]].append((params, msg))
        return by_id

    def hec(self):
        by_id = collections.defaultdict(list)
        for ev in self.rx.hec_events():
            by_id[ev["event"]["id"]].append(ev["event"])
        return by_id

    def es(self):
        st = self.rx.state()
        eq(st["es_rejected"], 0, "Elasticsearch documents refused")
        return {k.split("/", 1)[1]: tuple(v) for k, v in st["es_doc_versions"].items()}

    def kafka(self):
        by_key = collections.defaultdict(list)
        for part, off, key, vlen in sorted(self.mc.consume(KTOPIC)):
            by_key[key].append(vlen)
        return by_key


def check_all(out, truth_ids, revised_ids, revision, what):
    """Every receiver against the rule: each id once as revision 1, and the
    revised ids once more per revision up to `revision`, in that order."""
    want_lines = len(truth_ids) + len(revised_ids) * (revision - 1)
    nd = out.ndjson()
    eq(sorted(nd), sorted(truth_ids), what + ": NDJSON ids")
    eq(sum(len(v) for v in nd.values()), want_lines, what + ": NDJSON lines")
    for rid, lines in nd.items():
        revs = [o.get("revision", 1) for o, _ in lines]
        want = list(range(1, revision + 1)) if rid in revised_ids else [1]
        eq(revs, want, what + ": NDJSON revisions of %s" % rid)
        check(all("revision" not in o for o, _ in lines[:1]),
              what + ": the first delivery of %s carries a revision member" % rid)
        # key order of the contract, "revision" after "time"
        keys = [list(json.loads(raw.decode()).keys()) for _, raw in lines[1:]]
        for k in keys:
            eq(k, ["integration", "type", "id", "time", "revision", "record"],
               what + ": keys of a revised line")
        if rid in revised_ids and revision >= 2:
            a, b = lines[0][0]["record"], lines[1][0]["record"]
            check(a["action"] != b["action"] and a["taggedMalicious"] != b["taggedMalicious"],
                  what + ": revision 2 of %s does not carry the changed verdict" % rid)
            eq(a["eventTime"], b["eventTime"], what + ": eventTime of a revision")
    raw_by_id = {rid: [raw for _, raw in lines] for rid, lines in nd.items()}

    sl = out.syslog(want_lines)
    eq(sum(len(v) for v in sl.values()), want_lines, what + ": syslog (RELP) messages")
    for rid, msgs in sl.items():
        eq([m for _, m in msgs], raw_by_id[rid], what + ": syslog messages of %s" % rid)
        eq([p.get("revision", "1") for p, _ in msgs],
           [str(r) for r in range(1, len(msgs) + 1)],
           what + ": syslog revision parameters of %s" % rid)

    hec = out.hec()
    eq(sum(len(v) for v in hec.values()), want_lines, what + ": HEC events")
    for rid, evs in hec.items():
        eq([e.get("revision", 1) for e in evs], [o.get("revision", 1) for o, _ in nd[rid]],
           what + ": HEC events of %s" % rid)

    es = out.es()
    eq(sorted(es), sorted(truth_ids), what + ": Elasticsearch documents")
    for rid, (version, rev) in es.items():
        want = revision if rid in revised_ids else 1
        eq((version, rev), (want, want),
           what + ": Elasticsearch (_version, revision) of %s" % rid)

    kf = out.kafka()
    eq(sum(len(v) for v in kf.values()), want_lines, what + ": Kafka messages")
    for rid, lens in kf.items():
        # one partition: the order produced; the value is the NDJSON line
        eq(lens, [len(r) for r in raw_by_id[rid]], what + ": Kafka values of %s" % rid)
    return want_lines


def revised_line(r):
    return [l for l in r.out.splitlines() if l.startswith("sim/impersonation:")]


def test_revision_through_every_output():
    with Sim(["--records", str(N), "--span", "5m", "--hostile-every", "0"]) as sim:
        sim.edit_config(types="[impersonation]")
        rs = Rsyslog(sim.dir)
        rs.start()
        rx = StrictHttp(sim.dir)
        mc = MockCluster(sim.dir)
        try:
            mc.cmd("create %s 1" % KTOPIC)
            key_file = os.path.join(sim.dir, "es.key")
            mwout.write_secret(key_file, rx.es_key)
            add_outputs(sim, outputs(rs, rx, mc, key_file))
            os.environ["MW_TEST_HEC_TOKEN"] = rx.hec_token
            out = Outputs(sim, rs, rx, mc)

            truth = sim.truth("impersonation")
            eq(len(truth), N, "records the tenant holds")
            truth_ids = [t["id"] for t in truth]
            revised_ids = set(truth_ids[i] for i in range(0, N, EVERY))

            r = sim.fetch()
            check_all(out, truth_ids, revised_ids, 1, "first fetch")

            # the verdict of every 10th line changes; the overlap (10m)
            # covers the whole span (5m), so the next fetch reads them all
            sim.faults("revise:every=%d,count=0" % EVERY)
            time.sleep(LAG + 1.1)
            r = sim.fetch()
            lines = revised_line(r)
            check(lines and "0 new, %d duplicates dropped, %d revised,"
                  % (N - len(revised_ids), len(revised_ids)) in lines[0],
                  "fetch after the change: %r" % lines)
            n2 = check_all(out, truth_ids, revised_ids, 2, "after the change")
            eq(sim.type_status()["impersonation"]["revised"], len(revised_ids),
               "status --json revised")
            counts = sim.store_counts()   # fails on a duplicated (source, id)
            eq(counts[("sim", "impersonation")], N, "store rows")

            # the same revision again: nothing anywhere
            time.sleep(LAG + 1.1)
            r = sim.fetch()
            lines = revised_line(r)
            check(lines and "revised" not in lines[0], "fetch of the same revision: %r" % lines)
            eq(check_all(out, truth_ids, revised_ids, 2, "the same revision again"), n2,
               "lines after the same revision again")

            # the original content back: revision 3
            sim.faults("revise:every=%d,rev=2,count=0" % EVERY)
            time.sleep(LAG + 1.1)
            r = sim.fetch()
            lines = revised_line(r)
            check(lines and ", %d revised," % len(revised_ids) in lines[0],
                  "fetch after the change back: %r" % lines)
            n3 = check_all(out, truth_ids, revised_ids, 3, "after the change back")
            eq(sim.type_status()["impersonation"]["revised"], 2 * len(revised_ids),
               "status --json revised after two changes")
            mwtest.report(ITEM, "revise every 10th of %d impersonation lines twice, through "
                          "ndjson, syslog relp, hec, elasticsearch, kafka" % N,
                          "%d lines each (%d + 2 x %d); ES %d documents, _version 3 for the "
                          "revised" % (n3, N, len(revised_ids), N),
                          "a changed verdict is delivered once more per change, same id")
        finally:
            mc.stop()
            rx.stop()
            rs.stop()


if __name__ == "__main__":
    mwtest.main([test_revision_through_every_output])
