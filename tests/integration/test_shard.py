#!/usr/bin/env python3
"""Many tenants, several machines (issue 16 item 5): N collectors share one
config, each `--shard K/N` taking the integrations rendezvous hashing gives
it. Two real collectors against one simulated tenant served under several
integration names: together they deliver the tenant's truth exactly, each
integration by one of them only, as `mimewatch shards` and a script's own
hash say; status names the shard; bad values are refused naming the fix."""

import glob
import hashlib
import json
import os
import re
import time

import mwtest
from mwtest import TYPES, Sim, check, eq

N = 150
NAMES = ("acme-eu", "acme-us", "globex", "initech", "umbrella", "hooli")


def shard_of(name, n):
    """The hash as HACKING documents it, so a script can plan without us."""
    def w(k):
        d = hashlib.sha256(name.encode() + b"\0" + str(k).encode()).digest()
        return int.from_bytes(d[:8], "big")
    return max(range(1, n + 1), key=lambda k: (w(k), -k))


def shared_config(sim, tag, names=NAMES):
    """sim's config with its one integration copied under each name, and
    its own state_dir and NDJSON directory (another machine's). Returns
    (config path, state dir, out dir)."""
    text = sim.read_config()
    m = re.search(r"(?ms)^  - name: sim\n.*?(?=^outputs:)", text)
    check(m, "no integration entry in the written config:\n%s" % text)
    entries = "".join(m.group(0).replace("name: sim", "name: %s" % n, 1) for n in names)
    state = os.path.join(sim.dir, "state-" + tag)
    out = os.path.join(sim.dir, "out-" + tag)
    text = text[:m.start()] + entries + text[m.end():]
    text = text.replace('state_dir: "%s"' % sim.state_dir, 'state_dir: "%s"' % state)
    text = text.replace('dir: "%s"' % sim.out_dir, 'dir: "%s"' % out)
    path = os.path.join(sim.dir, "config-%s.yaml" % tag)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path, state, out


def ndjson_ids(out, name, type_):
    ids = []
    for path in sorted(glob.glob(os.path.join(out, name, type_, "*.ndjson"))):
        with open(path, encoding="utf-8") as f:
            ids += [mwtest.rec_key(json.loads(l)["record"]) for l in f if l.strip()]
    return ids


def test_two_shards():
    with Sim(["--records", str(N)]) as sim:
        truth = {t: sorted(mwtest.message_ids(sim.truth(t))) for t in TYPES}
        check(all(len(v) == N for v in truth.values()), "the tenant's truth: %r"
              % {t: len(v) for t, v in truth.items()})
        machines = {k: shared_config(sim, str(k)) for k in (1, 2)}
        mine = {k: [n for n in NAMES if shard_of(n, 2) == k] for k in (1, 2)}
        check(mine[1] and mine[2], "the test's names all go to one shard: %r" % mine)

        r = sim.mw(["shards", "2"], config=machines[1][0])
        eq(r.rc, 0, "exit of shards 2\n%s" % r)
        for n in NAMES:
            check(re.search(r"(?m)^%s  shard %d/2$" % (re.escape(n), shard_of(n, 2)), r.out),
                  "shards 2 does not put %s on %d/2 as the documented hash does:\n%s"
                  % (n, shard_of(n, 2), r))

        def fetch(k):
            return sim.mw(["fetch", "--shard", "%d/2" % k], config=machines[k][0])

        # two machines, at the same time
        done = mwtest.run_parallel([(k, fetch, (k,)) for k in (1, 2)])
        for k in (1, 2):
            res = done[k]
            check(not isinstance(res, BaseException), "fetch --shard %d/2 raised %r" % (k, res))
            eq(res.rc, 0, "exit of fetch --shard %d/2\n%s" % (k, res))
            eq(sorted(n for n, _ in res.report()), sorted(mine[k] * len(TYPES)),
               "integrations fetch --shard %d/2 collected" % k)

        for n in NAMES:
            owner = shard_of(n, 2)
            other = 3 - owner
            check(not os.path.exists(os.path.join(machines[other][2], n)),
                  "%s collected by shard %d/2 too (it is %d/2's)" % (n, other, owner))
            for t in TYPES:
                eq(sorted(ndjson_ids(machines[owner][2], n, t)), truth[t],
                   "%s/%s delivered by shard %d/2 against the tenant's truth" % (n, t, owner))

        for k in (1, 2):
            r = sim.mw(["status", "--json"], config=machines[k][0])
            js = json.loads(r.out)
            eq(js.get("shard"), {"k": k, "n": 2, "integrations": len(mine[k]),
                                 "configured": len(NAMES)}, "status --json shard of %d/2" % k)
            eq(sorted(i["name"] for i in js["integrations"]), sorted(mine[k]),
               "integrations status --json lists on shard %d/2" % k)
            r = sim.mw(["status", "--metrics"], config=machines[k][0])
            eq(sorted(set(re.findall(r'integration="([^"]+)"', r.out))), sorted(mine[k]),
               "integrations in status --metrics of shard %d/2" % k)
            r = sim.mw(["status"], config=machines[k][0])
            check("shard %d/2: %d of %d integrations" % (k, len(mine[k]), len(NAMES)) in r.out,
                  "status does not name its shard:\n%s" % r)


def test_growing():
    """shards N --from M names exactly what moves, and about 1/N of it."""
    names = ["tenant-%d" % i for i in range(60)]
    with Sim(write_config=True) as sim:
        path, _, _ = shared_config(sim, "grow", names)
        r = sim.mw(["shards", "4", "--from", "3"], config=path)
        eq(r.rc, 0, "exit of shards 4 --from 3\n%s" % r)
        moves = [n for n in names if shard_of(n, 3) != shard_of(n, 4)]
        for n in names:
            line = re.search(r"(?m)^%s  shard (\d+)/4(  moves from (\d+)/3)?$" % re.escape(n),
                             r.out)
            check(line, "shards 4 --from 3 has no line for %s:\n%s" % (n, r))
            eq(bool(line.group(2)), n in moves, "%s moves" % n)
        check("%d of 60 integrations move from 3 to 4 collectors" % len(moves) in r.out,
              "no summary of what moves:\n%s" % r)
        for k in range(1, 5):
            want = sum(shard_of(n, 4) == k for n in names)
            check("shard %d/4: %d of 60 integrations" % (k, want) in r.out,
                  "shard %d/4's count:\n%s" % (k, r))


def fetch_report(sim, config, *args):
    r = sim.mw(["fetch"] + list(args), config=config)
    eq(r.rc, 0, "exit of fetch %s\n%s" % (" ".join(args), r))
    return r.report()


def test_state_moves():
    """export on the old owner, import on the new: the new one asks from the
    exported horizon on (one page per type, not the lookback's three) and
    delivers nothing the old one delivered; the refusals."""
    with Sim(["--records", "250"]) as sim:
        sim.edit_config(overlap="0s")
        old, _, old_out = shared_config(sim, "old")
        new, new_state, new_out = shared_config(sim, "new")
        name = NAMES[0]
        fetch_report(sim, old, name)
        exported = os.path.join(sim.dir, "acme.state")
        r = sim.mw(["state", "export", name, "--output", exported], config=old)
        eq(r.rc, 0, "exit of state export\n%s" % r)
        eq(os.stat(exported).st_mode & 0o777, 0o600, "mode of the exported file")
        with open(exported) as f:
            state = json.load(f)
        eq((state["format"], state["version"], state["integration"]),
           ("mimewatch-state", 1, name), "the exported header")
        check(state["exported_by"] and state["exported_at"].endswith("Z"), repr(state))
        eq(sorted(t["type"] for t in state["types"]), sorted(TYPES), "exported types")
        check(all(t["horizon"] > 0 and t["collected"] for t in state["types"]),
              "exported cursors: %r" % state["types"])

        # 1. the refusals, before anything is written
        def refused(path, text, rc=2, args=()):
            r = sim.mw(["state", "import"] + list(args) + [path], config=new)
            eq(r.rc, rc, "exit of state import %s\n%s" % (os.path.basename(path), r))
            check(text in r.err, "the refusal does not say %r:\n%s" % (text, r))

        def variant(tag, **kv):
            path = os.path.join(sim.dir, tag + ".state")
            with open(path, "w") as f:
                json.dump(dict(state, **kv), f)
            return path

        refused(variant("v2", version=2), "export it again with this version")
        refused(variant("other", integration="nosuch"), "no integration named 'nosuch'")
        refused(variant("junk", types=[{"type": "url", "horizon": "soon"}]),
                "not a time")
        refused(variant("twice", types=[state["types"][0]] * 2), "comes twice")
        refused(variant("noformat", format=None), "not a mimewatch-state file of version 1")
        refused(exported + ".missing", "No such file")
        check(not os.path.exists(os.path.join(new_state, "store.db")),
              "a refused import made a store")

        # 2. the import, then a fetch on the new owner
        r = sim.mw(["state", "import", exported], config=new)
        eq(r.rc, 0, "exit of state import\n%s" % r)
        for t in state["types"]:
            check("%s/%s: horizon " % (name, t["type"]) in r.out, "import says:\n%s" % r)
        asked = {t: sim.path_requests(t) for t in TYPES}
        time.sleep(2)   # past lag (1s): a window to ask for
        rep = fetch_report(sim, new, name)
        for t in TYPES:
            eq(sim.path_requests(t) - asked[t], 1,
               "requests of %s/%s after the import (from lookback: 3)" % (name, t))
            eq(rep[(name, t)]["new"], 0, "%s/%s new on the new owner" % (name, t))
            eq(ndjson_ids(new_out, name, t), [], "%s/%s delivered again" % (name, t))
            eq(sorted(ndjson_ids(old_out, name, t)), sorted(
                mwtest.message_ids(sim.truth(t))), "%s/%s on the old owner" % (name, t))

        # without an import the new owner starts from lookback: every page
        asked = {t: sim.path_requests(t) for t in TYPES}
        rep = fetch_report(sim, new, NAMES[1])
        for t in TYPES:
            eq(sim.path_requests(t) - asked[t], 3, "requests of %s/%s with no import"
               % (NAMES[1], t))

        # 3. now further ahead than the file: refused unless --force
        refused(exported, "further ahead")
        r = sim.mw(["state", "import", "--force", exported], config=new)
        eq(r.rc, 0, "exit of state import --force\n%s" % r)

        # 4. a collector holds the store: refused, naming it
        service = mwtest.mimewatch_bg(["run"], config=new)
        try:
            mwtest.wait_for(lambda: json.loads(sim.mw(["status", "--json"], config=new).out)
                            .get("collector_pid") == service.pid, 20, "the run to start")
            refused(exported, "another mimewatch (pid %d)" % service.pid, rc=1)
        finally:
            mwtest.stop_bg(service)


def test_console_shard():
    """The console's own collector with --shard K/N takes only shard K's
    integrations, and its header says so; its NDJSON holds exactly those."""
    import uitest
    with Sim(["--records", "60"]) as sim:
        sim.edit_config(interval="1h")   # one poll each: the console goes idle
        path, _, out = shared_config(sim, "console")
        mine = [n for n in NAMES if shard_of(n, 2) == 2]
        r = uitest.run_script(["wait-idle", "dump home", "quit"],
                              args=["--config", path, "--shard", "2/2"])
        eq(r.rc, 0, "console exit status\n%s" % r)
        header = r.dumps["home"][0]
        check(header.endswith("collecting, shard 2/2: %d of %d integrations"
                              % (len(mine), len(NAMES))), "header: %r" % header)
        for n in NAMES:
            row = [l for l in r.dumps["home"] if l[3:].startswith(n + " ")]
            check(row and (n in mine) != ("another shard's" in row[0]),
                  "home's row of %s (%s): %r" % (n, "mine" if n in mine else "not mine", row))
        check(r.wall < 20, "wait-idle waited %.1f s: the other shard's rows kept it busy"
              % r.wall)
        got = sorted(n for n in os.listdir(out) if not n.startswith("."))
        eq(got, sorted(mine), "integrations the console --shard 2/2 delivered")
        for n in mine:
            for t in TYPES:
                eq(sorted(ndjson_ids(out, n, t)), sorted(mwtest.message_ids(sim.truth(t))),
                   "%s/%s delivered by the console against the tenant's truth" % (n, t))
        r = uitest.run_script(["quit"], args=["--config", path, "--shard", "3/2"])
        eq(r.rc, 2, "console --shard 3/2 exit status\n%s" % r)
        check("e.g. --shard 2/4" in r.err, "the refusal names no fix:\n%s" % r)


def test_refusals():
    with Sim(write_config=True) as sim:
        path, _, _ = shared_config(sim, "bad")
        for args in (["run", "--shard", "0/2"], ["run", "--shard", "3/2"],
                     ["run", "--shard=1/1025"], ["fetch", "--shard", "x"],
                     ["fetch", "--shard"], ["run", "--shard", "-1/2"]):
            r = sim.mw(args, config=path)
            eq(r.rc, 2, "exit of %s\n%s" % (" ".join(args), r))
            check("--shard" in r.err and "e.g. --shard 2/4" in r.err,
                  "%s: the refusal names neither the option nor the fix:\n%s"
                  % (" ".join(args), r))
        other = next(n for n in NAMES if shard_of(n, 2) == 2)
        r = sim.mw(["fetch", "--shard", "1/2", other], config=path)
        eq(r.rc, 2, "exit of fetch --shard 1/2 %s (shard 2's)\n%s" % (other, r))
        check("goes to shard 2/2" in r.err, "the refusal names no shard:\n%s" % r)
        for args in (["shards"], ["shards", "0"], ["shards", "1025"], ["shards", "2", "--from", "x"]):
            r = sim.mw(args, config=path)
            eq(r.rc, 2, "exit of %s\n%s" % (" ".join(args), r))
        check(not os.path.exists(os.path.join(sim.dir, "state-bad", "store.db")),
              "a refused command made a store")


if __name__ == "__main__":
    mwtest.main([test_two_shards, test_growing, test_state_moves, test_console_shard,
                 test_refusals])
