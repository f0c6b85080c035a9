#!/usr/bin/env python3
"""Renaming an integration (issue 12, point 3): `mimewatch rename OLD NEW`
keeps the cursors and the stored records, so nothing is collected or
delivered again, with no collector running or handed over through the store
to a `mimewatch run`; a plain edit of the name in the file is caught at load
with a warning naming the way to rename."""

import glob
import os
import re
import signal
import time

import mwtest
from mwtest import TYPES, Sim, check, eq

N = 300


def set_name(sim, old, new):
    text = sim.read_config()
    text, n = re.subn(r"(?m)^(\s*-\s+name:\s*)%s\s*$" % re.escape(old), r"\g<1>%s" % new, text)
    eq(n, 1, "integration entries named %s in the config:\n%s" % (old, text))
    with open(sim.config, "w") as f:
        f.write(text)
    os.chmod(sim.config, 0o600)


def all_lines(sim):
    """{type: [NDJSON line objects]} over every integration's directory."""
    out = {t: [] for t in TYPES}
    for path in sorted(glob.glob(os.path.join(sim.out_dir, "*", "*", "*.ndjson"))):
        t = os.path.basename(os.path.dirname(path))
        with open(path, "rb") as f:
            for raw in f.read().split(b"\n"):
                if raw:
                    out[t].append(mwtest.json.loads(raw.decode("utf-8")))
    return out


def collect_as_acme(sim):
    set_name(sim, "sim", "acme")
    r = sim.fetch()
    for t in TYPES:
        eq(r.report()[("acme", t)]["new"], N, "first fetch: acme/%s new" % t)
    return {t: s["horizon"] for t, s in sim.type_status("acme").items()}


def check_kept(sim, horizons, before, budget=2):
    """After the rename: a fetch collects nothing old, delivers nothing again."""
    check(re.search(r"(?m)^\s*-\s+name:\s*acme2\s*$", sim.read_config()) and
          not re.search(r"(?m)^\s*-\s+name:\s*acme\s*$", sim.read_config()),
          "the config does not name acme2 instead of acme:\n%s" % sim.read_config())
    r = sim.fetch()
    check("warning" not in r.err, "fetch after the rename warned:\n%s" % r)
    stats = sim.stats()
    for t in TYPES:
        eq(r.report()[("acme2", t)]["new"], 0, "fetch after the rename: acme2/%s new" % t)
        # the overlap asks again for its last minutes, nothing older: one
        # page per collection (lost cursors read the 300 records again: 4+)
        check(sim.path_requests(t, stats) - before[t] <= budget,
              "%s: %d requests after the rename, at most %d (the cursors were lost?)"
              % (t, sim.path_requests(t, stats) - before[t], budget))
    st = sim.type_status("acme2")
    for t in TYPES:
        check(st[t]["horizon"] >= horizons[t], "acme2/%s horizon %s went back from acme's %s"
              % (t, st[t]["horizon"], horizons[t]))
        eq(st[t]["records_total"], N, "acme2/%s records in the store" % t)
    js = sim.status_json()
    eq(sorted(i["name"] for i in js["integrations"]), ["acme2"],
       "integrations status lists")
    lines = all_lines(sim)
    for t in TYPES:
        ids = [ln["id"] for ln in lines[t]]
        eq(len(ids), N, "%s NDJSON lines over every directory (each record once)" % t)
        eq(len(set(ids)), N, "%s distinct ids in the NDJSON output" % t)


def test_rename_offline():
    with Sim(["--records", str(N), "--span", "6h"]) as sim:
        horizons = collect_as_acme(sim)
        before = {t: sim.path_requests(t) for t in TYPES}
        r = sim.mw(["rename", "acme", "acme2"])
        eq(r.rc, 0, "mimewatch rename acme acme2 exit\n%s" % r)
        check("renamed acme to acme2" in r.out, "rename said:\n%s" % r)
        check_kept(sim, horizons, before)
        # refusals: unknown name, taken name, bad name
        eq(sim.mw(["rename", "nosuch", "x"]).rc, 2, "rename of an unknown integration")
        eq(sim.mw(["rename", "acme2", "bad name!"]).rc, 2, "rename to an invalid name")
        eq(sim.mw(["rename", "acme2"]).rc, 2, "rename without NEW")


def test_rename_while_running():
    with Sim(["--records", str(N), "--span", "6h"]) as sim:
        horizons = collect_as_acme(sim)
        errf = open(os.path.join(sim.dir, "run.err"), "wb")
        run = mwtest.mimewatch_bg(["run"], config=sim.config, stderr=errf)
        try:
            mwtest.wait_for(lambda: sim.status_json().get("collector_pid") == run.pid,
                            20 * mwtest.SCALE, "mimewatch run holding the lock")
            r = sim.mw(["rename", "acme", "acme2"])
            eq(r.rc, 0, "rename handed to the running collector: exit\n%s" % r)
            check("by the running collector (pid %d)" % run.pid in r.out,
                  "rename did not go through the running collector:\n%s" % r)
            # from here: the run's poll after its reload (and its first one,
            # if that came late), then the fetch below
            before = {t: sim.path_requests(t) for t in TYPES}
            time.sleep(1.5)
            check(run.poll() is None, "mimewatch run exited after the rename")
        finally:
            rc = mwtest.stop_bg(run, signal.SIGTERM)
            errf.close()
        eq(rc, 0, "mimewatch run exit status after SIGTERM")
        check_kept(sim, horizons, before, budget=3)


def test_rename_console():
    import uitest
    with Sim(["--records", str(N), "--span", "6h"]) as sim:
        horizons = collect_as_acme(sim)
        r = uitest.run_script(["wait-idle", "key R", "key C-u", "type acme2", "key Enter",
                               "wait-idle", "dump after", "quit"],
                              args=["--config", sim.config])
        eq(r.rc, 0, "console exit status (%s)" % r)
        after = r.dumps["after"]
        check(any("renamed acme to acme2" in ln for ln in after),
              "the console did not say it renamed:\n%s" % "\n".join(after))
        check(any(" acme2 " in ln for ln in after),
              "home does not list acme2:\n%s" % "\n".join(after))
        before = {t: sim.path_requests(t) for t in TYPES}
        check_kept(sim, horizons, before)


def test_plain_edit_warns():
    with Sim(["--records", str(N), "--span", "6h"]) as sim:
        collect_as_acme(sim)
        stored = sum(n for (i, _), n in sim.store_counts().items() if i == "acme")
        set_name(sim, "acme", "acme2")
        want = ("mimewatch: warning: integration 'acme2' is new to the store and 'acme' has "
                "%d stored records and its cursors: if you renamed it, put back 'acme' and "
                "run `mimewatch rename acme acme2` (or press R in the console), else it "
                "collects again from lookback" % stored)
        r = sim.mw(["fetch", "--retry-budget", "30s"], timeout=120)
        check(want in r.err.splitlines(), "a plain edit of the name did not warn:\nwant %s\n%s"
              % (want, r))
    # the console says it on its status line (wrapped onto the bottom lines)
    import uitest
    with Sim(["--records", str(N), "--span", "6h"]) as sim:
        collect_as_acme(sim)
        set_name(sim, "acme", "acme2")
        r = uitest.run_script(["dump home", "quit"], args=["--config", sim.config],
                              size=(200, 30))
        eq(r.rc, 0, "console exit status (%s)" % r)
        eq(uitest.status_message(r.dumps["home"]), "warning: " + want[len("mimewatch: warning: "):],
           "the console's status line warns of the plain edit")


if __name__ == "__main__":
    mwtest.main([test_rename_offline, test_rename_while_running, test_rename_console,
                 test_plain_edit_warns])
