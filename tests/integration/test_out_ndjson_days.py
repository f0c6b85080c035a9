#!/usr/bin/env python3
"""An NDJSON output's keep: and compress: (issue 16 item 8), through the
real binary against mimewatch-sim. Old days are files named as the output
names them (<dir>/<integration>/<type>/<YYYY-MM-DD>.ndjson), made by the
test or renamed from today's.

test_keep: keep: 2d deletes exactly the days that ended more than two days
  ago (plain and .gz), and leaves today, the two days before and other files.
test_compress: yesterday's file becomes <day>.ndjson.gz whose gunzipped
  bytes are the plain file's exactly; today's file stays plain; mode: and
  group: reach the .gz.
test_compress_crash: the states a kill -9 can leave (a partial temporary
  beside the plain file; the complete .gz beside it) and a real kill -9 of
  `mimewatch run` while it compresses a large day: the next run leaves one
  .gz holding every line once, and no temporary.
"""

import datetime
import glob
import gzip
import os
import signal
import stat
import subprocess
import time

import mwtest
from mwout import add_outputs
from mwtest import Sim, check, eq


def day(delta):
    d = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=delta)
    return d.isoformat()


def days_output(sim, extra):
    d = os.path.join(sim.dir, "days")
    add_outputs(sim, "  - type: ndjson\n    name: days\n    dir: %s\n%s" % (d, extra))
    return d


def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def test_keep():
    with Sim(["--records", "20"]) as sim:
        d = days_output(sim, "    keep: 2d\n")
        t = os.path.join(d, "sim", "url")
        files = {day(-1) + ".ndjson": True, day(-2) + ".ndjson": True,
                 day(-3) + ".ndjson": False, day(-10) + ".ndjson.gz": False,
                 day(-3) + ".ndjson.gz": False, "notes.txt": True, day(-30) + ".txt": True}
        for name in files:
            put(os.path.join(t, name), b'{"old":1}\n')
        sim.fetch()
        for name, kept in files.items():
            eq(os.path.exists(os.path.join(t, name)), kept, "%s kept" % name)
        eq(len(glob.glob(os.path.join(d, "sim", "*", day(0) + ".ndjson"))), 3,
           "today's files")


def rename_to_yesterday(d):
    """Today's files renamed to yesterday's names: {yesterday path: bytes}."""
    out = {}
    for p in glob.glob(os.path.join(d, "sim", "*", day(0) + ".ndjson")):
        q = os.path.join(os.path.dirname(p), day(-1) + ".ndjson")
        with open(p, "rb") as f:
            out[q] = f.read()
        os.rename(p, q)
    eq(len(out), 3, "today's files to rename")
    return out


def check_gz(want):
    for plain, data in want.items():
        check(not os.path.exists(plain), "%s is left beside its .gz" % plain)
        with gzip.open(plain + ".gz", "rb") as f:
            got = f.read()
        eq(got, data, "gunzipped %s.gz" % plain)
        left = glob.glob(os.path.join(os.path.dirname(plain), ".*.tmp"))
        eq(left, [], "temporaries left")


def test_compress():
    with Sim(["--records", "60"]) as sim:
        d = days_output(sim, "    compress: true\n    mode: 0640\n")
        sim.fetch()
        want = rename_to_yesterday(d)
        sim.fetch()
        check_gz(want)
        for plain in want:
            eq(stat.S_IMODE(os.stat(plain + ".gz").st_mode), 0o640, "mode of the .gz")
        eq(len(glob.glob(os.path.join(d, "sim", "*", day(0) + ".ndjson"))), 0,
           "no new records, so no file today")


def test_compress_crash():
    with Sim(["--records", "60"]) as sim:
        d = days_output(sim, "    compress: true\n")
        sim.fetch()
        want = rename_to_yesterday(d)
        (a, da), (b, db), (c, dc) = sorted(want.items())
        # a: killed while writing the temporary; b: after the rename.
        put(os.path.join(os.path.dirname(a), "." + os.path.basename(a) + ".gz.tmp"),
            gzip.compress(da)[:40])
        with gzip.open(b + ".gz", "wb") as f:
            f.write(db)
        # c: a large day, and a real kill -9 while it is compressed.
        big = dc * max(1, (40 << 20) // max(1, len(dc)))
        put(c, big)
        want[c] = big
        tmp = os.path.join(os.path.dirname(c), "." + os.path.basename(c) + ".gz.tmp")
        killed = "no"
        for attempt in range(3):
            p = mwtest.mimewatch_bg(["run"], config=sim.config, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.time() + 30
            while time.time() < deadline and not os.path.exists(tmp) and p.poll() is None:
                time.sleep(0.001)
            if os.path.exists(tmp) and os.path.exists(c):
                time.sleep(0.05)
                p.send_signal(signal.SIGKILL)
                p.wait()
                killed = "during compress" if os.path.exists(c) else "after"
                break
            mwtest.stop_bg(p, sig=signal.SIGKILL)
        mwtest.report("issue16 ndjson", "kill -9 of run while it gzips a %d MB day"
                      % (len(big) >> 20), killed, "then fetch: one .gz, every line once")
        sim.fetch()
        check_gz(want)


if __name__ == "__main__":
    mwtest.main([test_keep, test_compress, test_compress_crash])
