#!/usr/bin/env python3
"""Outage (issue 4 item 7): the tenant goes away for a while (30 minutes in
the long form, 20 s in `make check`) while `mimewatch run` collects, then
comes back on the same port with the same records.

While it is away every connection is taken and reset at once by a stand-in
listener on the port, which counts them: the requests sent during the
outage. Must hold: `mimewatch run` uses under 1% CPU while waiting
(/proc/PID/stat ticks over the outage), the console opened on another state
directory during the outage (its own in-process collector failing against
the same dead port) answers a key, collection resumes within one backoff of
the tenant's return (backoff doubles from 1 s, so the wait is at most the
outage so far plus 10% jitter, and never above 5.5 minutes), and nothing is
lost or duplicated.
"""

import os
import re
import socket
import struct
import threading
import time

import mwtest
from mwtest import TYPES, TIME_FIELD, Sim, check, eq

ITEM = "7 outage"


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DeadPort:
    """Listens on 127.0.0.1:port and resets every connection at once."""

    def __init__(self, port):
        self.count = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.stop = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self.count += 1
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()



wait_for = mwtest.wait_for


def console_answers(sim):
    """The console on a copy of the config with its own state directory
    (so it runs its own collector against the dead port): `?` must bring
    up the help within seconds."""
    import uitest
    d = os.path.join(sim.dir, "console")
    os.mkdir(d, 0o700)
    text = sim.read_config()
    text = re.sub(r"(?m)^(\s*state_dir:).*$", r'\1 "%s/state"' % d, text)
    text = re.sub(r"(?m)^(\s*(?:-\s+)?dir:).*$", r'\1 "%s/out"' % d, text)
    cfg = os.path.join(d, "config.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    os.chmod(cfg, 0o600)
    r = uitest.run_script(["sleep 2000", "key ?", "dump help", "quit"],
                          args=["--config", cfg], size=(100, 40), timeout=60)
    eq(r.rc, 0, "console exit status during the outage (%s)" % r)
    h = r.dumps.get("help") or [""]
    check(h[0].startswith(" mimewatch \u2014 keys"), "the console did not answer ? during "
          "the outage: first row %r" % h[0])
    check(r.wall < 15 * mwtest.SCALE, "the console took %.1fs for sleep 2 s + one key"
          % r.wall)
    return r.wall


def test_outage():
    outage = mwtest.scaled(20, 1800)
    start = int(time.time()) - 600
    with Sim(["--start", str(start), "--spacing-ms", "500"]) as sim:
        p = mwtest.mimewatch_bg(["run"], config=sim.config)
        try:
            wait_for(lambda: all(s["records_total"] > 0 and s["last_success"]
                                 for s in sim.type_status().values()), 30,
                     "the first collection")
            port = sim.port
            sim.stop()
            dead = DeadPort(port)
            t_down = time.monotonic()
            cpu0 = proc_cpu(p.pid)
            console_wall = console_answers(sim)
            time.sleep(max(0.0, outage - (time.monotonic() - t_down)))
            cpu1 = proc_cpu(p.pid)
            down_for = time.monotonic() - t_down
            dead.close()
            during = dead.count
            sim.start()
            t_up = time.monotonic()
            base = {t: sim.path_requests(t) for t in TYPES}
            wait_for(lambda: any(sim.path_requests(t) > base[t] for t in TYPES),
                     400, "a request after the tenant came back")
            resume = time.monotonic() - t_up
            # Collection has caught up once every type's horizon passes the return.
            t_back = time.time()
            wait_for(lambda: all(s["horizon"] and mwtest.mc_time(s["horizon"]) >= t_back
                                 for s in sim.type_status().values()), 60,
                     "every type to collect past the tenant's return")
            check(p.poll() is None, "mimewatch run exited with %s" % p.returncode)
        finally:
            rc = mwtest.stop_bg(p)
        eq(rc, 0, "mimewatch run exit status after SIGTERM")
        # 0 lost, 0 duplicated: every record up to each type's horizon.
        status = sim.type_status()
        lost_total = 0
        for t in TYPES:
            h = mwtest.mc_time(status[t]["horizon"])
            got = mwtest.message_ids(l["record"] for l in sim.ndjson("sim", t))
            eq(len(got), len(set(got)), "%s: duplicated NDJSON lines" % t)
            want = {r["messageId"] for r in sim.truth(t) if mwtest.mc_time(r[TIME_FIELD[t]]) <= h}
            lost = want - set(got)
            lost_total += len(lost)
            check(not lost, "%s: %d records lost, e.g. %r" % (t, len(lost), sorted(lost)[:3]))
    cpu_pct = 100.0 * (cpu1 - cpu0) / down_for
    bound = min(down_for, 300) * 1.1 + 2
    mwtest.report(ITEM, "CPU of mimewatch run while the tenant was down", "%.3f%%" % cpu_pct,
                  "%.0fs outage" % down_for)
    mwtest.report(ITEM, "resume delay after the tenant came back", "%.1fs" % resume,
                  "bound %.0fs (one backoff)" % bound)
    mwtest.report(ITEM, "connections during the outage", during, "%.0fs" % down_for)
    mwtest.report(ITEM, "console: sleep 2 s + ? answered in", "%.1fs" % console_wall)
    mwtest.report(ITEM, "records lost", lost_total)
    check(cpu_pct < 1.0, "mimewatch run used %.2f%% CPU while the tenant was down" % cpu_pct)
    check(resume <= bound, "collection resumed %.1fs after the tenant returned; one backoff "
          "is at most %.0fs" % (resume, bound))
    check(during >= 1, "no connection attempt at all during the outage")
    # Doubling from 1 s to 5 min: about log2(outage) + outage/300 tries per type.
    limit = 3 * (int(down_for / 300) + 12)
    check(during <= limit, "%d connections in a %.0fs outage (limit %d)"
          % (during, down_for, limit))


if __name__ == "__main__":
    mwtest.main([test_outage])
