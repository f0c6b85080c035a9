#!/usr/bin/env python3
"""Two writers (issue 12, point 1): one NDJSON directory is written by one
collector at a time. A SIGHUP that changes state_dir is refused and `run`
keeps collecting into the old state directory; a second collector whose
config names the same NDJSON directory (another state_dir: the edited config,
or another config) is refused with exit 1 while the first holds the
directory's lock. Every record is in the NDJSON exactly once: none twice,
none lost. (Two outputs sharing a directory in one config are refused at
load: tests/unit/test_config.c.)"""

import collections
import json
import os
import re
import shutil
import signal
import sqlite3
import time

import mwtest
from mwtest import TYPES, Sim, check, eq, wait_for

N = 100  # records per type: 300 in all


def ndjson_ids(sim):
    """[(type, id)] of every NDJSON line, in file order."""
    return [(t, l["id"]) for t in TYPES for l in sim.ndjson("sim", t)]


def duplicates(ids):
    return sum(n - 1 for n in collections.Counter(ids).values() if n > 1)


def read_log(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def wait_quiet(cond, timeout):
    """wait_for without the failure: the caller checks afterwards."""
    try:
        return wait_for(cond, timeout, "")
    except mwtest.CheckFailed:
        return None


def total_stored(sim):
    if not os.path.exists(os.path.join(sim.state_dir, "store.db")):
        return 0
    return sum(sim.store_counts().get(("sim", t), 0) for t in TYPES)


def add_request(state_dir, action):
    """A console request written into a store, as the console writes it."""
    con = sqlite3.connect(os.path.join(state_dir, "store.db"), timeout=30)
    try:
        now = int(time.time() * 1000)
        rid = con.execute("INSERT INTO requests(integration,type,action,arg,state,result,"
                          "created,updated) VALUES('','',?,'',0,'',?,?)",
                          (action, now, now)).lastrowid
        con.commit()
    finally:
        con.close()
    return rid


def request_result(state_dir, rid):
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(state_dir, "store.db"), uri=True,
                          timeout=30)
    try:
        row = con.execute("SELECT state, result FROM requests WHERE id=?", (rid,)).fetchone()
    finally:
        con.close()
    return row if row and row[0] in (2, 3) else None


def start_run(sim, errpath):
    with open(errpath, "wb") as errf:
        p = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=errf)
    wait_for(lambda: total_stored(sim) == 3 * N and len(ndjson_ids(sim)) == 3 * N
             or p.poll() is not None, 60, "mimewatch run to collect and deliver %d records"
             % (3 * N))
    check(p.poll() is None, "mimewatch run exited:\n%s" % read_log(errpath))
    return p


def second_writer_refused(sim, r, p, what):
    """The second collector's refusal: exit 1, the holder's pid and the
    directory, and not one line written."""
    want = ("another mimewatch (pid %d) writes %s; stop it first or give this config "
            "another output dir" % (p.pid, sim.out_dir))
    eq(r.rc, 1, "exit status of %s while mimewatch run writes %s\n%s" % (what, sim.out_dir, r))
    check(want in r.err, "%s should say %r:\n%s" % (what, want, r.err))


def test_reload_state_dir_refused():
    with Sim(["--records", str(N), "--span", "2h"]) as sim:
        sim.edit_config(interval="10s")
        old_cfg = os.path.join(sim.dir, "old.yaml")
        shutil.copy(sim.config, old_cfg)
        os.chmod(old_cfg, 0o600)
        errpath = os.path.join(sim.dir, "run.err")
        p = start_run(sim, errpath)

        # The state directory is moved in the file, then SIGHUP.
        s2 = os.path.join(sim.dir, "state2")
        sim.edit_config(state_dir=s2)
        t_hup = time.time()
        os.kill(p.pid, signal.SIGHUP)
        want_log = ("reload refused, keeping the running config: state_dir cannot change "
                    "while mimewatch runs (%s, running %s): stop it, move the state "
                    "directory, then start it" % (s2, sim.state_dir))
        # Checked below, once the duplicates (if any) are counted.
        wait_quiet(lambda: want_log in read_log(errpath) or p.poll() is not None, 10)
        check(p.poll() is None, "mimewatch run exited on SIGHUP:\n%s" % read_log(errpath))

        # The console's reload (a request in the running collector's store)
        # is refused the same way, and says so in its result.
        rid = add_request(sim.state_dir, "reload")
        state, result = wait_for(lambda: request_result(sim.state_dir, rid), 15,
                                 "the reload request to finish")
        wait_quiet(lambda: read_log(errpath).count("state_dir cannot change") == 2, 5)

        # A second collector on the edited config: another state_dir, the
        # same NDJSON directory.
        r = sim.mw(["fetch"], timeout=120)
        ids = ndjson_ids(sim)
        dup = duplicates(ids)
        mwtest.report("12 two writers", "NDJSON duplicates after a state_dir change + SIGHUP "
                      "+ fetch", dup, "%d lines, %d records" % (len(ids), 3 * N))
        log = read_log(errpath)
        check(want_log in log, "no refusal in the log after SIGHUP:\n%s" % log)
        eq(log.count("state_dir cannot change"), 2, "refusals logged (SIGHUP, request)")
        eq(state, 3, "state of the reload request (3: failed; result %r)" % result)
        eq(result, "reload refused: state_dir cannot change while mimewatch runs (%s, "
           "running %s): stop it, move the state directory, then start it"
           % (s2, sim.state_dir), "the reload request's result")
        second_writer_refused(sim, r, p, "fetch on the edited config")
        check(not os.path.exists(os.path.join(s2, "store.db")),
              "the refused fetch made a store in %s" % s2)

        # The run goes on in the old state directory: it polls again after
        # the SIGHUP, and status on the old config names it.
        def polled_after_hup():
            st = mwtest.mimewatch(["status", "--json"], config=old_cfg)
            js = json.loads(st.out)
            types = [t for i in js["integrations"] for t in i["types"]]
            fresh = [t for t in types
                     if t.get("last_attempt") and mwtest.mc_time(t["last_attempt"]) > t_hup]
            return js if len(fresh) == len(TYPES) else None
        js = wait_for(polled_after_hup, 40, "every type polled after the SIGHUP")
        eq(js["collector_pid"], p.pid, "collector pid in status of the old config")
        eq(js["state_dir"], sim.state_dir, "state_dir of the running collector")
        eq(mwtest.stop_bg(p), 0, "exit status of mimewatch run after SIGTERM")

        eq(dup, 0, "NDJSON lines written twice")
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})
        eq(len(ids), 3 * N, "NDJSON lines in all")


def test_other_config_same_dir_refused():
    # Two configs, two state directories, one NDJSON directory: the second
    # collector (fetch, then run) is refused while the first runs.
    with Sim(["--records", str(N), "--span", "2h"]) as sim:
        errpath = os.path.join(sim.dir, "run.err")
        p = start_run(sim, errpath)
        other = os.path.join(sim.dir, "other.yaml")
        with open(other, "w") as f:
            f.write(re.sub(r"(?m)^state_dir:.*$", "state_dir: %s/state-b" % sim.dir,
                           sim.read_config()))
        os.chmod(other, 0o600)
        with open(other) as f:
            check("state_dir: %s/state-b" % sim.dir in f.read(),
                  "the second config names no other state_dir")
        r = sim.mw(["fetch"], config=other)
        r2 = sim.mw(["run"], config=other, timeout=30)
        ids = ndjson_ids(sim)
        mwtest.report("12 two writers", "NDJSON duplicates after a second config's fetch "
                      "into the same dir", duplicates(ids))
        second_writer_refused(sim, r, p, "fetch on a second config")
        second_writer_refused(sim, r2, p, "run on a second config")
        eq(mwtest.stop_bg(p), 0, "exit status of mimewatch run after SIGTERM")
        eq(duplicates(ids), 0, "NDJSON lines written twice")
        mwtest.assert_exact_records(sim, {t: sim.truth(t) for t in TYPES})


if __name__ == "__main__":
    mwtest.main([test_reload_state_dir_refused, test_other_config_same_dir_refused])
