#!/usr/bin/env python3
"""metrics_file and `status --metrics` (HACKING, "What the commands print"):
the Prometheus text exposition read by a strict parser written here (every
sample `name{labels} value [timestamp]`, HELP and TYPE before a family's
samples, label values escaped, no series twice), with exact values against
the simulator's truth and the NDJSON lines written; a file that is never
seen half written while `mimewatch run` rewrites it; error classes and
rate-limit waits counted after faults and kept across processes; the key's
config errors. `promtool check metrics` also checks the text when promtool
is installed (Debian's prometheus package); it is not required."""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import mwtest
from mwtest import TYPES, Sim, check, eq

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = re.compile(r'(' r"[a-zA-Z_][a-zA-Z0-9_]*" r')="((?:[^"\\\n]|\\\\|\\"|\\n)*)"')
SAMPLE = re.compile(r"^(" + NAME + r")(?:\{(.*)\})? (\S+)(?: (-?\d+))?$")
TYPES_OK = ("counter", "gauge", "histogram", "summary", "untyped")


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def parse_labels(text, line):
    """{name: value} of a sample's braces, every byte accounted for."""
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        check(m, "bad label at %r in %r" % (text[pos:], line))
        check(m.group(1) not in labels, "label %s twice in %r" % (m.group(1), line))
        labels[m.group(1)] = unescape(m.group(2))
        pos = m.end()
        if pos < len(text):
            check(text[pos] == ",", "labels not separated by a comma in %r" % line)
            pos += 1
            check(pos < len(text), "a trailing comma in %r" % line)
    return labels


def parse(text):
    """{(name, ((label, value), ...)): value}, strictly; raises CheckFailed
    on anything the text format does not allow."""
    check(text.endswith("\n"), "the exposition does not end in a newline: %r" % text[-80:])
    helps, types, series, done = {}, {}, {}, set()
    current = None
    for line in text[:-1].split("\n"):
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (" + NAME + r") (.*)$", line)
            check(m, "a comment line that is neither HELP nor TYPE: %r" % line)
            kind, name, rest = m.groups()
            check(name not in done and name != current,
                  "%s of %s after its samples: %r" % (kind, name, line))
            seen = helps if kind == "HELP" else types
            check(name not in seen, "a second %s for %s" % (kind, name))
            if kind == "TYPE":
                check(rest in TYPES_OK, "unknown type %r" % line)
            check(rest.strip() != "", "an empty %s for %s" % (kind, name))
            seen[name] = rest
            continue
        m = SAMPLE.match(line)
        check(m, "not a sample line: %r" % line)
        name, labels, value, _ts = m.groups()
        check(name in helps and name in types,
              "sample of %s without HELP and TYPE before it: %r" % (name, line))
        if name != current:
            check(name not in done, "samples of %s not together: %r" % (name, line))
            if current:
                done.add(current)
            current = name
        try:
            v = float(value)
        except ValueError:
            raise mwtest.CheckFailed("not a number: %r" % line)
        key = (name, tuple(sorted(parse_labels(labels or "", line).items())))
        check(key not in series, "a series twice: %r" % line)
        series[key] = v
    for name in types:
        check(name in helps, "%s has TYPE but no HELP" % name)
        check(name.startswith("mimewatch_"), "%s lacks the mimewatch_ prefix" % name)
        if types[name] == "counter":
            check(name.endswith("_total"), "counter %s does not end in _total" % name)
    return series, types


def get(series, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    check(key in series, "no series %s%r in the metrics" % (name, labels))
    return series[key]


def promtool(text):
    """promtool check metrics, when installed: it must accept the text."""
    tool = shutil.which("promtool")
    if not tool:
        return
    p = subprocess.run([tool, "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=60)
    eq(p.returncode, 0, "promtool check metrics exit status (%s%s)" % (p.stdout, p.stderr))


def add_metrics_file(sim, path):
    with open(sim.config, "a") as f:
        f.write("metrics_file: %s\n" % path)


def status_metrics(sim):
    r = sim.mw(["status", "--metrics"])
    eq(r.rc, 0, "status --metrics exit status\n%s" % r)
    series, _ = parse(r.out)
    promtool(r.out)
    return series


class Poller(threading.Thread):
    """Reads the metrics file as fast as it can while it is rewritten: every
    reading must parse whole (a torn write would show as a bad line or a
    missing family)."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.stop, self.reads, self.bad, self.last = path, False, 0, None, None

    def run(self):
        while not self.stop and not self.bad:
            try:
                with open(self.path) as f:
                    text = f.read()
            except FileNotFoundError:
                time.sleep(0.001)
                continue
            try:
                # the last family: a file cut short would lack it
                get(parse(text)[0], "mimewatch_output_up", output="ndjson")
            except mwtest.CheckFailed as ex:
                self.bad = "%s\n--- the file read\n%s" % (ex, text)
            self.reads += 1
            self.last = text


def test_run_writes_exact_metrics():
    with Sim(["--records", "800", "--span", "2h"]) as sim:
        sim.edit_config(interval="10s")
        path = os.path.join(sim.dir, "prom", "mimewatch.prom")
        os.mkdir(os.path.dirname(path))
        add_metrics_file(sim, path)
        truth = {t: len(sim.truth(t)) for t in TYPES}
        poller = Poller(path)
        poller.start()
        p = mwtest.mimewatch_bg(["run"], config=sim.config)
        try:
            def complete():
                if not poller.last:
                    return False
                s, _ = parse(poller.last)
                return all(get(s, "mimewatch_records_collected_total", integration="sim",
                               type=t) == truth[t] for t in TYPES) and \
                    get(s, "mimewatch_output_lag_records", output="ndjson") == 0 and \
                    get(s, "mimewatch_output_delivered_records", output="ndjson") == \
                    sum(truth.values())
            mwtest.wait_for(complete, 60, "the metrics file to show every record delivered")
            series, types = parse(poller.last)
            eq(get(series, "mimewatch_up"), 1, "mimewatch_up while run collects")
        finally:
            eq(mwtest.stop_bg(p), 0, "mimewatch run's exit status on SIGTERM")
            poller.stop = True
            poller.join(10)
        check(poller.bad is None, "the metrics file was seen half written: %s" % poller.bad)
        check(poller.reads > 5, "the poller read the file only %d times" % poller.reads)
        eq(os.stat(path).st_mode & 0o777, 0o644, "the metrics file's mode")
        eq([n for n in os.listdir(os.path.dirname(path)) if n != "mimewatch.prom"], [],
           "files left beside the metrics file")
        with open(path) as f:
            text = f.read()
        promtool(text)
        series, types = parse(text)
        eq(get(series, "mimewatch_up"), 0, "mimewatch_up written at the stop")
        lines = sum(len(sim.ndjson_raw("sim", t)) for t in TYPES)
        eq(get(series, "mimewatch_output_delivered_records", output="ndjson"), lines,
           "delivered against the NDJSON lines written")
        for t in TYPES:
            eq(get(series, "mimewatch_records_collected_total", integration="sim", type=t),
               truth[t], "records collected of %s against the simulator's truth" % t)
            check(get(series, "mimewatch_api_requests_total", integration="sim", type=t) >= 1,
                  "no request counted for %s" % t)
            eq(get(series, "mimewatch_errors_total", **{"integration": "sim", "type": t,
                                                        "class": "retry"}),
               0, "retry errors of %s without a fault" % t)
            check(0 <= get(series, "mimewatch_collection_lag_seconds", integration="sim",
                            type=t) < 120, "lag of %s" % t)
        eq(types["mimewatch_records_collected_total"], "counter", "TYPE of records collected")
        eq(types["mimewatch_collection_lag_seconds"], "gauge", "TYPE of the lag")
        # status --metrics: the same figures from the store, no collector running
        again = status_metrics(sim)
        for key, v in series.items():
            if key[0] not in ("mimewatch_metrics_written_timestamp_seconds",
                              "mimewatch_collection_lag_seconds"):
                eq(again.get(key), v, "status --metrics against the file for %r" % (key,))


def test_reload_moves_the_file():
    """A reload that moves metrics_file leaves the old file saying
    mimewatch_up 0 (node_exporter would go on reading its last figures as
    live) and writes the new one at once; one that drops it does the same."""
    with Sim(["--records", "60"]) as sim:
        sim.edit_config(interval="1h")
        old, new = (os.path.join(sim.dir, n) for n in ("old.prom", "new.prom"))
        add_metrics_file(sim, old)
        with open(sim.config) as f:
            text = f.read()

        def up(path):
            try:
                with open(path) as f:
                    return get(parse(f.read())[0], "mimewatch_up")
            except (FileNotFoundError, mwtest.CheckFailed):
                return None

        p = mwtest.mimewatch_bg(["run"], config=sim.config)
        try:
            mwtest.wait_for(lambda: up(old) == 1, 30, "the first file to say up 1")
            with open(sim.config, "w") as f:
                f.write(text.replace(old, new))
            p.send_signal(signal.SIGHUP)
            mwtest.wait_for(lambda: up(new) == 1, 30, "the new file after the reload")
            eq(up(old), 0, "mimewatch_up in the file the reload moved away from")
            with open(sim.config, "w") as f:
                f.write(text.replace("metrics_file: %s\n" % old, ""))
            p.send_signal(signal.SIGHUP)
            mwtest.wait_for(lambda: up(new) == 0, 30, "the dropped file to say up 0")
        finally:
            eq(mwtest.stop_bg(p), 0, "mimewatch run's exit status on SIGTERM")
        eq(up(old), 0, "the first file after the stop")


def test_errors_and_waits_counted_across_processes():
    with Sim(["--records", "300", "--span", "2h"]) as sim:
        sim.faults("403:type=attachment\n429:type=url,count=1,reset=200\n")
        sim.fetch(budget="30s", expect_rc=1)
        first = status_metrics(sim)
        errs = lambda s, t, c: get(s, "mimewatch_errors_total", **{"integration": "sim",
                                                                  "type": t, "class": c})
        check(errs(first, "attachment", "permission") >= 1,
              "no permission error counted for the denied type")
        eq(errs(first, "url", "permission"), 0, "permission errors of url")
        eq(get(first, "mimewatch_rate_limit_waits_total", integration="sim", type="url"), 1,
           "rate-limit waits after one 429")
        eq(errs(first, "url", "retry"), 1, "the 429 is a retry-class error")
        eq(get(first, "mimewatch_records_collected_total", integration="sim", type="url"),
           len(sim.truth("url")), "url records despite the 429")
        eq(get(first, "mimewatch_records_collected_total", integration="sim",
               type="attachment"), 0, "records of the denied type")
        # a second process adds to the store's totals: counters never go back
        sim.faults("403:type=url\n")
        time.sleep(1.1)  # a window of at least a second for every type
        sim.fetch(budget="30s", expect_rc=1)
        second = status_metrics(sim)
        for key, v in first.items():
            if key[0].endswith("_total"):
                check(second[key] >= v, "%r went back from %s to %s" % (key, v, second[key]))
        check(errs(second, "url", "permission") >= 1, "the second fetch's 403 was not counted")
        eq(errs(second, "attachment", "permission"), errs(first, "attachment", "permission"),
           "attachment's permission errors after a fetch that read it")
        check(get(second, "mimewatch_api_requests_total", integration="sim", type="attachment") >
              get(first, "mimewatch_api_requests_total", integration="sim", type="attachment"),
              "the second fetch's requests were not added")


def test_output_errors_counted():
    with Sim(["--records", "200", "--span", "2h"]) as sim:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()  # nothing listens there: every delivery fails
        with open(sim.config, "a") as f:
            f.write("  - type: syslog\n    name: siem\n    url: tcp://127.0.0.1:%d\n" % port)
        sim.fetch(budget="4s", expect_rc=1)
        series = status_metrics(sim)
        stored = sum(len(sim.truth(t)) for t in TYPES)
        check(get(series, "mimewatch_output_errors_total", output="siem") >= 2,
              "failed deliveries of the dead syslog output: %s"
              % get(series, "mimewatch_output_errors_total", output="siem"))
        eq(get(series, "mimewatch_output_up", output="siem"), 0, "up of the dead output")
        eq(get(series, "mimewatch_output_lag_records", output="siem"), stored,
           "records waiting for the dead output")
        eq(get(series, "mimewatch_output_errors_total", output="ndjson"), 0,
           "failures of the NDJSON output")
        eq(get(series, "mimewatch_output_delivered_records", output="ndjson"), stored,
           "records the NDJSON output delivered")


def test_console_writes_metrics():
    """A console collecting in its own process writes the file too."""
    import uitest
    with Sim(["--records", "120", "--span", "2h"]) as sim:
        path = os.path.join(sim.dir, "console.prom")
        add_metrics_file(sim, path)
        uitest.run_script(["wait-idle", "quit"], args=["--config", sim.config])
        with open(path) as f:
            text = f.read()
        promtool(text)
        series, _ = parse(text)
        eq(get(series, "mimewatch_up"), 0, "mimewatch_up written when the console quit")
        for t in TYPES:
            eq(get(series, "mimewatch_records_collected_total", integration="sim", type=t),
               len(sim.truth(t)), "records collected of %s by the console" % t)


def test_config_errors():
    with Sim(["--records", "10"]) as sim:
        base = sim.read_config()
        lineno = base.count("\n") + 1
        cases = [
            ("metrics_file: %s/m.txt\n" % sim.dir,
             "config.yaml:%d: metrics_file: '%s/m.txt' does not end in .prom; node_exporter's "
             "textfile collector reads only *.prom files" % (lineno, sim.dir)),
            ("metrics_file: %s/none/m.prom\n" % sim.dir,
             "config.yaml:%d: metrics_file: the directory %s/none does not exist; create it, "
             "or let this user write there" % (lineno, sim.dir)),
            ("metrics_file: m.prom\n",
             "config.yaml:%d: metrics_file: 'm.prom' is not an absolute path" % lineno),
        ]
        for extra, want in cases:
            with open(sim.config, "w") as f:
                f.write(base + extra)
            for args in (["status", "--metrics"], ["run"]):
                r = sim.mw(args, timeout=30)
                eq(r.rc, 2, "exit status of %s with %r\n%s" % (args, extra, r))
                check(want in r.err, "%s with %r: want %r in stderr\n%s" % (args, extra, want, r))
        # no store yet: every count 0, exit 0
        with open(sim.config, "w") as f:
            f.write(base)
        series = status_metrics(sim)
        eq(get(series, "mimewatch_records_collected_total", integration="sim", type="url"), 0,
           "records before any fetch")
        eq(get(series, "mimewatch_up"), 0, "mimewatch_up with no collector")


if __name__ == "__main__":
    mwtest.main([test_run_writes_exact_metrics, test_reload_moves_the_file,
                 test_errors_and_waits_counted_across_processes,
                 test_output_errors_counted, test_console_writes_metrics, test_config_errors])
