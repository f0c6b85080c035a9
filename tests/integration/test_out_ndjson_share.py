#!/usr/bin/env python3
"""An NDJSON output's group: and mode: (issue 16 item 8), through the real
binary against mimewatch-sim.

test_mode_group: mode: 0640 and group: (adm where it can be given, else
  this user's primary group; by name): every file is 0640 and every directory mimewatch makes 0750, all
  of that group; the default output keeps 0600 files in 0700 directories.
test_refused: a mode with any bit for others, a mode without the owner's
  read and write, and an unknown group stop loading (exit 2) naming the key.
"""

import grp
import os
import stat

from mwout import add_outputs
from mwtest import Sim, check, eq


def pick_group():
    """A group other than this process's own when one can be given (adm,
    for root or a member), so the files' group really changes; else the
    primary group."""
    try:
        adm = grp.getgrnam("adm")
        if adm.gr_gid != os.getgid() and (os.geteuid() == 0 or adm.gr_gid in os.getgroups()):
            return adm.gr_name, adm.gr_gid
    except KeyError:
        pass
    return grp.getgrgid(os.getgid()).gr_name, os.getgid()


GROUP, GID = pick_group()


def modes_under(root):
    """{path: (mode, gid)} of root and everything under it."""
    out = {}
    for d, dirs, files in os.walk(root):
        for p in [d] + [os.path.join(d, f) for f in files]:
            st = os.lstat(p)
            out[p] = (stat.S_IMODE(st.st_mode), st.st_gid, stat.S_ISDIR(st.st_mode))
    return out


def test_mode_group():
    with Sim(["--records", "50"]) as sim:
        shared = os.path.join(sim.dir, "shared")
        add_outputs(sim, "  - type: ndjson\n    name: shared\n    dir: %s\n"
                    "    mode: 0640\n    group: %s\n" % (shared, GROUP))
        sim.fetch()
        got = modes_under(shared)
        files = [p for p, v in got.items() if not v[2]]
        dirs = [p for p, v in got.items() if v[2] and p != shared]
        check(len([p for p in files if p.endswith(".ndjson")]) == 3,
              "three day files: %r" % sorted(got))
        for p in files:
            if os.path.basename(p).startswith(".mimewatch"):
                continue   # the directory lock stays the process's own
            eq(got[p][:2], (0o640, GID), "mode and gid of %s" % p)
        eq(len(dirs), 4, "integration and type directories: %r" % dirs)
        for p in dirs + [shared]:
            eq(got[p][:2], (0o750, GID), "mode and gid of directory %s" % p)
        for p, (mode, _, isdir) in modes_under(sim.out_dir).items():
            if p != sim.out_dir:
                eq(mode, 0o700 if isdir else 0o600, "default output's mode of %s" % p)


def test_refused():
    with Sim(["--records", "5"]) as sim:
        base = sim.read_config()
        d = os.path.join(sim.dir, "shared")
        for extra, words in (("    mode: 0644\n", "others"),
                             ("    mode: 0604\n", "others"),
                             ("    mode: 0440\n", "owner"),
                             ("    mode: 640x\n", "octal"),
                             ("    group: no-such-group-mw\n", "not a group")):
            with open(sim.config, "w") as f:
                f.write(base)
            add_outputs(sim, "  - type: ndjson\n    name: shared\n    dir: %s\n%s" % (d, extra))
            r = sim.mw(["fetch"])
            eq(r.rc, 2, "fetch with %r\n%s" % (extra, r))
            key = extra.split(":")[0].strip()
            check(("%s:" % key) in r.err and words in r.err,
                  "the error for %r names %s: and says %r:\n%s" % (extra, key, words, r.err))
        check(not os.path.exists(d), "a refused output wrote nothing")


if __name__ == "__main__":
    import mwtest
    mwtest.main([test_mode_group, test_refused])
