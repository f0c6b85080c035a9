#!/usr/bin/env python3
"""report.py - prints `make reliability-report`: the figures the hardening
tests measured (mwtest.report() lines in a TSV file) as a plain-text table
grouped by the item of the hardening issue, then the pass/fail result of
every test program that ran (from automake's .trs files).

usage: report.py --tsv FILE --mode short|long [--trs-root DIR] [--tests "T..."]
                 [--out FILE]"""

import argparse
import os
import re
import sys
import time


def item_key(item):
    m = re.match(r"\s*(\d+)", item)
    return (int(m.group(1)) if m else 999, item)


def table(rows, headers):
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)), line]
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tsv", required=True)
    ap.add_argument("--mode", default="long")
    ap.add_argument("--trs-root", default=".")
    ap.add_argument("--tests", default="", help="the test programs that ran")
    ap.add_argument("--out")
    a = ap.parse_args()

    figures = []
    if os.path.exists(a.tsv):
        with open(a.tsv, encoding="utf-8", errors="replace") as f:
            for ln in f:
                parts = ln.rstrip("\n").split("\t")
                if len(parts) >= 3:
                    parts += [""] * (4 - len(parts))
                    figures.append(parts[:4])
    # Runs append: the last figure of each (item, metric) is the current one.
    latest = {}
    for r in figures:
        latest[(r[0], r[1])] = r
    figures = sorted(latest.values(), key=lambda r: item_key(r[0]))

    results = []
    for name in a.tests.split():
        trs = os.path.join(a.trs_root, os.path.splitext(name)[0] + ".trs")
        try:
            with open(trs, encoding="utf-8", errors="replace") as f:
                m = re.search(r"^:test-result: (\S+)", f.read(), re.M)
            results.append([name, m.group(1) if m else "?"])
        except OSError:
            results.append([name, "NOT RUN"])

    out = ["mimewatch reliability report (%s form), %s" %
           (a.mode, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())), ""]
    if figures:
        out += table(figures, ["item", "metric", "value", "note"])
    else:
        out.append("(no figures were recorded)")
    out.append("")
    if results:
        out += table(results, ["test", "result"])
        bad = [r for r in results if r[1] not in ("PASS", "SKIP", "XFAIL")]
        out.append("")
        out.append("%d tests, %d not passed" % (len(results), len(bad)))
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
