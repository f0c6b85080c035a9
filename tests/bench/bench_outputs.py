#!/usr/bin/env python3
"""bench_outputs - what each output costs mimewatch (`make bench-outputs`).

For each output (syslog over TCP and over RELP to a real rsyslogd, Splunk
HEC and Elasticsearch _bulk to tests/lib/strict_http.py, Kafka to
librdkafka's mock cluster tests/lib/mockcluster; the receivers of
tests/lib/mwout.py) it runs `mimewatch fetch` of --records records
(default 30,000, split over the three types; page size 100) from
mimewatch-sim over TLS on 127.0.0.1, with the sim config's NDJSON output
plus that one output, and measures:

  end to end   a fresh tenant, NDJSON + the output: records/s delivered
               (records / seconds from the start of the fetch until the
               receiver held every record) and mimewatch's CPU; a fresh
               tenant with NDJSON alone gives the baseline, and the
               output's share of mimewatch's CPU is the difference
               (CPU with - CPU without) per record.
  delivery     the records already collected and stored (the baseline's
               tenant), the output added, `mimewatch fetch` again: the new
               output is sent the whole store (nothing new to collect);
               the output's CPU is that fetch's minus a fetch with nothing
               to collect and nothing to send (start-up, one poll per type).

CPU is user + sys seconds of mimewatch (wait4), every figure a difference
of two runs, so small ones are noisy: each run is made --repeat times
(default 3) and the one with the least mimewatch CPU kept. The receiver's CPU (user + sys of its process from
/proc/PID/stat over the run, all threads) is reported apart; the mock
cluster and strict_http.py are test receivers, not the real services, and
the simulator's CPU is in neither. Every receiver runs on the same cores as
mimewatch. The load average is printed at the start and the end.

An output whose receiver cannot run here (no rsyslogd or imrelp, no
mockcluster) is reported as skipped. Exit 0 when every output that ran
delivered every record, 1 otherwise."""

import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUTPUTS = ("syslog-tcp", "syslog-relp", "hec", "elasticsearch", "kafka")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mimewatch", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--mockcluster", help="tests/lib/mockcluster (default: $MW_KAFKA_MOCK, "
                    "or next to --mimewatch)")
    ap.add_argument("--records", type=int, default=30000,
                    help="records per run, split over the 3 types (default 30000)")
    ap.add_argument("--outputs", default=",".join(OUTPUTS),
                    help="comma-separated subset of " + ",".join(OUTPUTS))
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each measurement, the least CPU kept (default 3)")
    return ap.parse_args()


args = parse_args()
os.environ["MIMEWATCH"] = os.path.abspath(args.mimewatch)
os.environ["MIMEWATCH_SIM"] = os.path.abspath(args.sim)
if args.mockcluster:
    os.environ["MW_KAFKA_MOCK"] = os.path.abspath(args.mockcluster)
elif not os.environ.get("MW_KAFKA_MOCK"):
    cand = os.path.join(os.path.dirname(os.path.abspath(args.mimewatch)), "tests", "lib",
                        "mockcluster")
    if os.access(cand, os.X_OK):
        os.environ["MW_KAFKA_MOCK"] = cand
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import mwtest  # noqa: E402  (needs the variables above)
import mwout  # noqa: E402
import benchutil  # noqa: E402
from mwtest import TYPES, CheckFailed, Skip  # noqa: E402

PAGE_SIZE = 100
HEC_TOKEN_ENV = "MW_BENCH_HEC_TOKEN"


def sim_args(per_type):
    # A bucket large enough that the quota never shapes the figures.
    return ["--records", str(per_type), "--span", "24h", "--rate-limit", "1000000",
            "--refill-ms", "1"]


class Receiver:
    """One output under test: its receiver, its YAML, how many records the
    receiver holds, and the receiver's process for its CPU."""

    def __init__(self, kind, parent, shared):
        self.kind = kind
        self.run_no = 0
        if kind.startswith("syslog-"):
            if "rsyslog" not in shared:
                rs = mwout.Rsyslog(parent)
                rs.start()
                shared["rsyslog"] = rs
            self.rs = shared["rsyslog"]
            self.input = kind[7:]
            self.name = "s_" + self.input
            self.proc = self.rs.proc
        elif kind in ("hec", "elasticsearch"):
            if "http" not in shared:
                shared["http"] = mwout.StrictHttp(parent)
            self.rx = shared["http"]
            self.name = "hec" if kind == "hec" else "es"
            self.key_file = os.path.join(parent, "es.key")
            mwout.write_secret(self.key_file, self.rx.es_key)
            self.proc = self.rx.proc
        elif kind == "kafka":
            self.mc = mwout.MockCluster(parent)
            shared.setdefault("kafka", []).append(self.mc)
            self.name = "kf"
            self.proc = self.mc.proc
        else:
            raise SystemExit("bench_outputs: unknown output %r" % kind)
        self.env = mwout.env_with(**{HEC_TOKEN_ENV: getattr(self, "rx", None) and
                                     self.rx.hec_token or ""})

    def yaml(self):
        """The output's entry for a new run (a fresh topic for kafka)."""
        self.run_no += 1
        if self.kind.startswith("syslog-"):
            return ("  - type: syslog\n    name: %s\n    url: %s\n    hostname: %s\n"
                    % (self.name, self.rs.url(self.input), mwout.HOSTNAME))
        if self.kind == "hec":
            return ("  - type: hec\n    name: hec\n    url: %s\n    token_env: %s\n"
                    % (self.rx.hec_url, HEC_TOKEN_ENV))
        if self.kind == "elasticsearch":
            return ("  - type: elasticsearch\n    name: es\n    url: %s\n    api_key_file: %s\n"
                    % (self.rx.es_url, self.key_file))
        self.topic = "mwbench.r%d.{type}" % self.run_no
        for t in TYPES:
            self.mc.cmd("create %s 3" % self.topic.replace("{type}", t))
        return ("  - type: kafka\n    name: kf\n    brokers: %s\n    topic: %s\n"
                % (self.mc.bootstrap, self.topic))

    def before(self):
        """Called before the fetch: forgets earlier runs where it can."""
        if self.kind in ("hec", "elasticsearch"):
            self.rx.reset()
        elif self.kind.startswith("syslog-"):
            self.log = os.path.join(self.rs.dir, self.input + ".log")
            self.pos = os.path.getsize(self.log) if os.path.exists(self.log) else 0
            self.lines = 0

    def syslog_lines(self):
        """Lines rsyslogd wrote since before(), read incrementally (the file
        is tens of MB: reading it whole at every poll would cost CPU)."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            return self.lines
        cut = data.rfind(b"\n") + 1
        self.lines += data.count(b"\n", 0, cut)
        self.pos += cut
        return self.lines

    def held(self):
        """Records the receiver holds from this run (read after its CPU)."""
        if self.kind.startswith("syslog-"):
            return self.syslog_lines()
        if self.kind == "hec":
            return len(self.rx.state()["hec_ids"])
        if self.kind == "elasticsearch":
            return self.rx.state()["es_docs"]
        return sum(len(self.mc.consume(self.topic.replace("{type}", t))) for t in TYPES)

    def violations(self):
        if self.kind in ("hec", "elasticsearch"):
            return len(self.rx.state()["violations"])
        return 0

    def cpu(self):
        c = benchutil.proc_cpu(self.proc.pid)
        if c is None:
            raise CheckFailed("the %s receiver is gone" % self.kind)
        return c


def fetch(sim, env, what):
    rc, out, err, wall, cpu, rss = benchutil.run_process(
        [mwtest.MIMEWATCH, "--config", sim.config, "fetch"], 1800, env=env)
    if rc != 0:
        raise CheckFailed("%s: mimewatch fetch exited %d\n%s%s" % (what, rc, mwtest._tail(out),
                                                                 mwtest._tail(err)))
    return wall, cpu, rss


def deliver(sim, rx, n, what):
    """One fetch that delivers n records to rx: (wall until the receiver
    held them all, mimewatch CPU, receiver CPU, mimewatch peak RSS)."""
    rx.before()
    r0 = rx.cpu()
    t0 = time.monotonic()
    wall, cpu, rss = fetch(sim, rx.env, what)
    done = wall
    if rx.kind.startswith("syslog-"):
        # fetch returns once rsyslogd took the records (TCP: once the kernel
        # did); delivered means written by rsyslogd.
        deadline = time.monotonic() + 300
        while rx.held() < n and time.monotonic() < deadline:
            time.sleep(0.01)
        done = time.monotonic() - t0
    # HEC, Elasticsearch and Kafka acknowledge each batch: fetch's end is
    # the delivery. The receiver's CPU is read before the counts are asked
    # for (asking costs the receiver CPU).
    rcpu = rx.cpu() - r0
    st = mwout.outputs_status(sim, env=rx.env)[rx.name]
    got = rx.held()
    if got != n or st["lag_records"] != 0:
        raise CheckFailed("%s: the receiver holds %d of %d records (status: state %s, "
                          "lag %s, error %r)" % (what, got, n, st["state"], st["lag_records"],
                                                  st["error"]))
    if rx.violations():
        raise CheckFailed("%s: strict_http.py logged %d protocol violations"
                          % (what, rx.violations()))
    return max(done, wall), cpu, rcpu, rss


def measure(rx, per_type):
    n = 3 * per_type
    res = {}
    # Baseline, no-op and delivery-only, in one tenant.
    with mwtest.Sim(sim_args(per_type)) as sim:
        sim.edit_config(page_size=str(PAGE_SIZE))
        base = sim.read_config()
        res["base_wall"], res["base_cpu"], _ = fetch(sim, rx.env, "baseline")
        res["noop_wall"], res["noop_cpu"], _ = fetch(sim, rx.env, "no-op")
        mwout.add_outputs(sim, rx.yaml())
        (res["dlv_wall"], res["dlv_cpu"], res["dlv_rx"],
         res["dlv_rss"]) = deliver(sim, rx, n, "delivery only")
        with open(sim.config, "w") as f:
            f.write(base)
    # End to end, in a fresh tenant.
    with mwtest.Sim(sim_args(per_type)) as sim:
        sim.edit_config(page_size=str(PAGE_SIZE))
        mwout.add_outputs(sim, rx.yaml())
        (res["e2e_wall"], res["e2e_cpu"], res["e2e_rx"],
         res["e2e_rss"]) = deliver(sim, rx, n, "end to end")
    return res


def best(runs):
    """Per key, the run with the least CPU (wall and receiver CPU from it)."""
    out = {}
    for prefix, cpu in (("base", "base_cpu"), ("noop", "noop_cpu"), ("dlv", "dlv_cpu"),
                        ("e2e", "e2e_cpu")):
        r = min(runs, key=lambda x: x[cpu])
        for k, v in r.items():
            if k.startswith(prefix + "_"):
                out[k] = v
    return out


def main():
    per_type = max(1, args.records // 3)
    n = 3 * per_type
    kinds = [k.strip() for k in args.outputs.split(",") if k.strip()]
    for k in kinds:
        if k not in OUTPUTS:
            raise SystemExit("bench_outputs: unknown output %r (known: %s)"
                             % (k, ", ".join(OUTPUTS)))
    print("bench-outputs: load average at start: %s (%d CPUs)"
          % (benchutil.loadavg(), os.cpu_count() or 0), flush=True)
    print("bench-outputs: %d records (%d per type) per run over TLS from mimewatch-sim, "
          "page size %d, each output's default batch; %d run(s) of each measurement, the "
          "least CPU kept" % (n, per_type, PAGE_SIZE, args.repeat), flush=True)
    parent = tempfile.mkdtemp(prefix="mwbench-out-")
    os.chmod(parent, 0o700)
    shared = {}
    results = []
    ok = True
    try:
        for kind in kinds:
            d = os.path.join(parent, kind)
            os.makedirs(d, mode=0o700)
            try:
                rx = Receiver(kind, d, shared)
                runs = [measure(rx, per_type) for _ in range(max(1, args.repeat))]
                results.append((kind, best(runs), None))
            except Skip as ex:
                results.append((kind, None, "skipped: %s" % ex))
            except CheckFailed as ex:
                ok = False
                results.append((kind, None, "FAILED: %s" % str(ex).strip()))
            r = results[-1]
            print("  %s: %s" % (kind, "measured" if r[1] else r[2].splitlines()[0]),
                  flush=True)
    finally:
        for key, v in shared.items():
            for one in (v if isinstance(v, list) else [v]):
                try:
                    one.stop()
                except Exception:
                    pass
        mwtest._kill_all()
        shutil.rmtree(parent, ignore_errors=True)

    k = 100000.0 / n
    print()
    print("mimewatch CPU = user + sys s of `mimewatch fetch` (wait4), per 100k records; "
          "output's = with minus without;\nreceiver CPU = the receiver process's user + sys "
          "s (/proc) over the fetch, per 100k records; records/s = records / seconds until\n"
          "the receiver held them all; RSS = mimewatch's peak (VmHWM)")
    for title, base_name, run, base in (
            ("end to end (collect from the tenant and deliver; baseline: NDJSON only)",
             "baseline", "e2e", "base"),
            ("delivery only (the store's %d records to a new output; no-op fetch subtracted)"
             % n, "no-op fetch", "dlv", "noop")):
        print("\n" + title)
        print("%-14s %10s %14s %14s %14s %15s %8s" % ("output", "records/s", "mw CPU s/100k",
                                                      base_name, "output's", "receiver CPU",
                                                      "RSS MiB"))
        for kind, r, why in results:
            if r is None:
                print("%-14s %s" % (kind, why.splitlines()[0]))
                continue
            cpu, base_cpu = r[run + "_cpu"], r[base + "_cpu"]
            print("%-14s %10.0f %14.3f %14.3f %14.3f %15.3f %8.1f" % (
                kind, n / r[run + "_wall"], cpu * k, base_cpu * k, (cpu - base_cpu) * k,
                r[run + "_rx"] * k, r[run + "_rss"] / 1024.0))
    for kind, r, why in results:
        if r is None and why.startswith("FAILED"):
            print("\n%s %s" % (kind, why))
    print("\nbench-outputs: load average at end: %s" % benchutil.loadavg())
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        mwtest._kill_all()
