#!/usr/bin/env python3
"""Issue 10 point 5: dates that do not exist.

test_cli_and_config_refuse_dates: a date or clock time where a duration goes
  (2026-02-30, 2026-13-01T00:00:00Z, 24:00:00) is refused with exit 2 and the
  option or config key named: fetch --retry-budget, reset --since, lookback;
  so is a duration past 36500d on the command line.
test_record_date_does_not_exist: a record whose time field names a day that
  does not exist (impersonation eventTime 2026-02-30T10:00:00+0000, url date
  2026-04-31T10:00:00+0000) is set aside: counted (fetch's "rejected", status
  --json "rejected"), kept in state_dir/rejects/, and never stored or
  delivered under another day (timegm() would make them March 2 and May 1).
  mimewatch-sim has no fault that puts such a date into a record, so a small
  TLS proxy between mimewatch and the sim (mwproxy.py) rewrites one record of
  the first page of each of the two types; everything else, signatures
  included, is the sim's own strict checking.
"""

import json
import os
import re

import mwproxy
import mwtest
from mwproxy import RewritingProxy
from mwtest import PATHS, TIME_FIELD, Sim, check, eq

ITEM = "issue10 dates"

BAD_DATE = {"impersonation": "2026-02-30T10:00:00+0000", "url": "2026-04-31T10:00:00+0000"}


class DateRewriter:
    """For the proxy: the first get-logs page of each type in BAD_DATE that
    has records gets the time field of its first record replaced by
    BAD_DATE[type]; that record's messageId is kept in self.victims[type]."""

    def __init__(self):
        self.victims = {}

    def __call__(self, path, status, data):
        for type_, bad in BAD_DATE.items():
            if not path.startswith(PATHS[type_]) or status != 200 or type_ in self.victims:
                continue
            key = TIME_FIELD[type_].encode()
            new, n = re.subn(rb'"%s":"[^"]*"' % key, b'"%s":"%s"' % (key, bad.encode()), data,
                             count=1)
            if n == 0:
                return data
            hit = [r for r in mwproxy.records(new, type_) if r.get(TIME_FIELD[type_]) == bad]
            eq(len(hit), 1, "records rewritten in the %s page" % type_)
            self.victims[type_] = hit[0]["messageId"]
            return new
        return data


def test_cli_and_config_refuse_dates():
    with Sim(["--records", "10"]) as sim:
        cases = [
            (["fetch", "--retry-budget", "24:00:00"], "--retry-budget '24:00:00'"),
            (["fetch", "--retry-budget=2026-02-30"], "--retry-budget '2026-02-30'"),
            (["reset", "--yes", "--since", "2026-02-30", "sim"], "--since '2026-02-30'"),
            (["reset", "--yes", "--since", "2026-13-01T00:00:00Z", "sim"],
             "--since '2026-13-01T00:00:00Z'"),
        ]
        for args, named in cases:
            r = sim.mw(args)
            eq(r.rc, 2, "exit status of %s\n%s" % (" ".join(args), r))
            check(named in r.err and "not a duration" in r.err,
                  "%s: stderr does not name %s:\n%s" % (" ".join(args), named, r.err))
        # Durations that parse but reach past any sane time: the retry budget
        # in ms would overflow int64, a reset would move the horizon to the
        # year -3 million. Refused like the config's (at most 36500d).
        big = [(["fetch", "--retry-budget", "1099511627776d"], "--retry-budget"),
               (["reset", "--yes", "--since", "36501d", "sim"], "--since"),
               (["reset", "--yes", "--since", "99999999999h", "sim"], "--since")]
        for args, named in big:
            r = sim.mw(args)
            eq(r.rc, 2, "exit status of %s\n%s" % (" ".join(args), r))
            check(named in r.err and "36500d" in r.err,
                  "%s: stderr does not name %s and the limit:\n%s"
                  % (" ".join(args), named, r.err))
        cases += big
        text = sim.read_config()
        for key, val in (("lookback", "2026-02-30"), ("interval", "'24:00:00'"),
                         ("overlap", "2026-13-01T00:00:00Z")):
            sim.edit_config(**{key: val})
            r = sim.mw(["fetch"])
            eq(r.rc, 2, "exit status of fetch with %s: %s\n%s" % (key, val, r))
            check(re.search(r"%s: '%s' is not a duration" % (key, re.escape(val.strip("'"))),
                            r.err),
                  "fetch with %s: %s: stderr does not name the key:\n%s" % (key, val, r.err))
            with open(sim.config, "w") as f:
                f.write(text)
        mwtest.report(ITEM, "CLI/config dates and out-of-range durations refused",
                      "%d of %d" % (len(cases) + 3, len(cases) + 3),
                      "exit 2, option or key named")


def test_record_date_does_not_exist():
    n = 300
    with Sim(["--records", str(n), "--hostile-every", "0"]) as sim:
        sim.edit_config(types="[url, impersonation]")
        rw = DateRewriter()
        with RewritingProxy(sim, rw) as px:
            px.point_config()
            r = sim.fetch(timeout=120)
        eq(sorted(rw.victims), ["impersonation", "url"], "types whose page was rewritten")
        rep = r.report()
        for type_ in ("url", "impersonation"):
            victim = rw.victims[type_]
            truth = sim.truth(type_)
            eq(rep[("sim", type_)]["rej"], 1, "%s: rejected in fetch's report\n%s" % (type_, r))
            eq(rep[("sim", type_)]["new"], len(truth) - 1, "%s: new records" % type_)
            recs = sim.ndjson(type_=type_)
            stored = [x for x in recs if x["record"].get("messageId") == victim]
            eq(len(stored), 0, "%s: NDJSON lines of the record dated %s (%s)"
               % (type_, BAD_DATE[type_], [x["time"] for x in stored]))
            eq(len(recs), len(truth) - 1, "%s: NDJSON records" % type_)
            path = os.path.join(sim.state_dir, "rejects", "sim-%s.ndjson" % type_)
            check(os.path.exists(path), "no reject file %s" % path)
            with open(path, encoding="utf-8") as f:
                rejects = [json.loads(line) for line in f]
            eq(len(rejects), 1, "%s: lines in the reject file" % type_)
            eq(rejects[0]["record"]["messageId"], victim, "%s: the rejected record" % type_)
            eq(rejects[0]["record"][TIME_FIELD[type_]], BAD_DATE[type_],
               "%s: the rejected record's time field, kept as it came" % type_)
            eq(rejects[0]["reason"], "record has no valid time field", "%s: reason" % type_)
            eq(sim.type_status()[type_]["rejected"], 1, "%s: status --json rejected" % type_)
            mwtest.report(ITEM, "%s record dated %s" % (type_, BAD_DATE[type_]),
                          "rejected %d, stored %d" % (len(rejects), len(stored)),
                          "timegm would have filed it under the next month")


if __name__ == "__main__":
    mwtest.main([test_cli_and_config_refuse_dates, test_record_date_does_not_exist])
