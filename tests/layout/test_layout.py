#!/usr/bin/env python3
"""The architecture, checked: each rule HACKING ("Parts and their rules")
states about the tree is tested here on the sources as they are, so a change
that breaks one fails `make check` instead of drifting.

- No product source file (src/ but src/sim/, ui/) is over 1,500 lines.
- Every folder of src/ has one public header whose opening comment states
  what the folder may include; a folder's private.h is included only from
  inside it.
- Each part includes only what its rule allows (curses only in ui/, SQLite
  only in src/store/, libcurl only in the HTTP parts, no part of the product
  includes the simulator; src/output/ never reads config/ nor talks to
  Mimecast).
- Project headers include no cycle.
- ui/ never calls the Mimecast client's requests, SQLite or libcurl, and
  only ui/session.c calls the collector and config functions.
- The log types are named only in src/logtypes.c.
- The mimewatch binary links no libmicrohttpd.
"""
import os
import re
import subprocess
import sys

SRC = os.environ.get("MW_SRCDIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "..")
MAX_LINES = 1500

failures = []


def fail(msg):
    failures.append(msg)


def files(top, exts=(".c", ".h")):
    out = []
    for d, _, names in os.walk(os.path.join(SRC, top)):
        for n in names:
            if n.endswith(exts):
                out.append(os.path.relpath(os.path.join(d, n), SRC))
    return sorted(out)


def includes(path):
    """[(kind, name)]: kind '<' for system headers, '"' for project ones."""
    with open(os.path.join(SRC, path), encoding="utf-8") as f:
        return [(m.group(1), m.group(2)) for m in
                re.finditer(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', f.read(), re.M)]


def resolve(path, name):
    """The file a project #include "name" in path resolves to (its own
    directory first, then src/ and ui/, as AM_CPPFLAGS has it)."""
    for base in (os.path.dirname(path), "src", "ui"):
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.exists(os.path.join(SRC, cand)):
            return cand
    return None


def part(path):
    """The part a file belongs to: src/<folder>, 'ui', or 'src' for the
    files at the top of src/ (leaves, collector, commands, main)."""
    bits = path.split(os.sep)
    if bits[0] == "ui":
        return "ui"
    if len(bits) > 2:
        return "src/" + bits[1]
    return "src"


PRODUCT = [p for p in files("src") + files("ui") if not p.startswith("src/sim/")]
SIM = files("src/sim")

# ---- sizes ------------------------------------------------------------------
for p in PRODUCT:
    with open(os.path.join(SRC, p), encoding="utf-8") as f:
        n = sum(1 for _ in f)
    if n > MAX_LINES:
        fail(f"{p}: {n} lines; a product file over {MAX_LINES} lines holds several modules: "
             "cut it along its sections")

# ---- public headers and private.h ---------------------------------------------
FOLDERS = {"src/mimecast": "mimecast.h", "src/store": "store.h", "src/config": "config.h",
           "src/output": "output.h"}
for folder, header in FOLDERS.items():
    hp = os.path.join(SRC, folder, header)
    if not os.path.exists(hp):
        fail(f"{folder}: has no public header {header}")
        continue
    with open(hp, encoding="utf-8") as f:
        opening = f.read().split("*/", 1)[0]
    if "May include" not in opening:
        fail(f"{folder}/{header}: its opening comment does not state what the folder may "
             "include ('May include: ...')")
for p in PRODUCT + SIM:
    for kind, name in includes(p):
        if kind != '"':
            continue
        r = resolve(p, name)
        if r and os.path.basename(r) == "private.h" and os.path.dirname(r) != os.path.dirname(p):
            fail(f"{p}: includes {r}, which is private to {os.path.dirname(r)}/")

# ---- what each part may include -------------------------------------------------
CURSES = re.compile(r"^(n?curses|ncursesw/|panel|menu|form)")
for p in PRODUCT + SIM:
    pt = part(p)
    for kind, name in includes(p):
        r = resolve(p, name) if kind == '"' else None
        target = part(r) if r else None
        if kind == "<" and CURSES.match(name) and pt != "ui":
            fail(f"{p}: includes <{name}>; only ui/ draws the screen")
        if kind == "<" and name == "sqlite3.h" and pt != "src/store":
            fail(f"{p}: includes <sqlite3.h>; only src/store/ talks SQL")
        if kind == "<" and name.startswith("curl/") and pt not in (
                "src/mimecast", "src/output", "src/sim") and \
                os.path.basename(p) not in ("netpolicy.h", "netpolicy.c", "main.c"):
            fail(f"{p}: includes <{name}>; HTTP belongs to src/mimecast/, src/output/ "
                 "and netpolicy.c")
        if kind == "<" and name.startswith("microhttpd") and pt != "src/sim":
            fail(f"{p}: includes <{name}>; only the simulator serves HTTP")
        if not r:
            continue
        if target == "src/sim" and pt != "src/sim":
            fail(f"{p}: includes {r}; the product includes nothing of the simulator")
        if pt == "ui" and target == "src" and os.path.basename(r) == "netpolicy.h":
            fail(f"{p}: includes {r}; ui/ never talks HTTP")
        if pt == "src/output" and target in ("src/config", "src/mimecast"):
            fail(f"{p}: includes {r}; src/output/ reads only its own structs "
                 "(struct output_set), never config/ or the Mimecast client")
        if pt == "src/store" and target in ("src/config", "src/mimecast", "src/output"):
            fail(f"{p}: includes {r}; the store depends on no other part")
        if pt == "src/mimecast" and target in ("src/store", "src/output"):
            fail(f"{p}: includes {r}; the Mimecast client neither stores nor delivers")
        if pt == "src/config" and target in ("src/store", "src/mimecast"):
            fail(f"{p}: includes {r}; config/ knows neither the store nor Mimecast")
        if pt != "src/sim" and os.path.basename(r) in ("collector.h", "collector_private.h") \
                and pt == "ui" and os.path.basename(p) != "session.c":
            fail(f"{p}: includes {r}; in ui/ only session.c drives the collector")

# ---- calls: the session layer is the console's only way into src/ --------------------
# ui/ may use the error-class and region tables, never the client's requests;
# only session.c calls the collector and the config functions.
REQUESTS = re.compile(r"\b(mc_client_\w+|mc_post|mc_get_\w+|mc_discover|mc_page_parse|"
                      r"validate_integration|sqlite3_\w+|curl_\w+)\s*\(")
SESSION_ONLY = re.compile(r"\b(collector_\w+|config_\w+)\s*\(")
for p in PRODUCT:
    if part(p) != "ui":
        continue
    with open(os.path.join(SRC, p), encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    for m in REQUESTS.finditer(text):
        fail(f"{p}: calls {m.group(1)}(); the console asks through ui/session.c")
    if os.path.basename(p) not in ("session.c", "session.h"):
        for m in SESSION_ONLY.finditer(text):
            fail(f"{p}: calls {m.group(1)}(); only ui/session.c calls the collector and "
                 "config functions")

# ---- include cycles ------------------------------------------------------------------
graph = {}
for p in PRODUCT + SIM + files("tests/lib"):
    if p.endswith(".h"):
        graph[p] = [resolve(p, n) for k, n in includes(p) if k == '"' and resolve(p, n)]
state = {}


def visit(h, stack):
    state[h] = 1
    for d in graph.get(h, []):
        if state.get(d) == 1:
            fail("include cycle: " + " -> ".join(stack[stack.index(d):] + [d])
                 if d in stack else f"include cycle through {d}")
        elif d not in state:
            visit(d, stack + [d])
    state[h] = 2


for h in graph:
    if h not in state:
        visit(h, [h])

# ---- log types are named only in logtypes.c -------------------------------------------
# Their API paths and record arrays: the strings a second table would repeat.
with open(os.path.join(SRC, "src/logtypes.c"), encoding="utf-8") as f:
    lt = f.read()
needles = re.findall(r'\.path = "([^"]+)"', lt) + re.findall(r'\.array_key = "([^"]+)"', lt) + \
    re.findall(r'\.label = "([^"]+)"', lt)
if len(needles) < 6:
    fail("src/logtypes.c: could not read the table's .path/.array_key/.label entries")
for p in PRODUCT:
    if p in ("src/logtypes.c", "src/logtypes.h"):
        continue
    with open(os.path.join(SRC, p), encoding="utf-8") as f:
        text = f.read()
    for n in needles:
        if f'"{n}"' in text:
            fail(f'{p}: names the log type string "{n}"; take it from src/logtypes.c\'s table')

# ---- the binary links no test server ----------------------------------------------------
mw = os.environ.get("MIMEWATCH")
if mw and os.path.exists(mw):
    real = mw
    libs = os.path.join(os.path.dirname(mw), ".libs", os.path.basename(mw))
    if os.path.exists(libs):
        real = libs
    out = subprocess.run(["ldd", real], capture_output=True, text=True).stdout
    if "microhttpd" in out:
        fail(f"{mw}: links libmicrohttpd; the product links no test server")
    if not out.strip():
        fail(f"ldd {real}: printed nothing")
else:
    fail("MIMEWATCH is not set to the built binary (run through make check)")

for f in failures:
    print("FAIL:", f)
print(f"layout: {len(PRODUCT)} product files, {len(SIM)} simulator files checked, "
      f"{len(failures)} problems")
sys.exit(1 if failures else 0)
