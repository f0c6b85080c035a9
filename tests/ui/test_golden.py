#!/usr/bin/env python3
"""test_golden - the console's screens compared, exactly, with saved text.

Each test runs the real console in script mode against mimewatch-sim (fixed
seed) with MIMEWATCH_NOW pinned for both the simulator and the console (both
read it through mw_now()) and a rate budget that does not refill during a
test, so the records, their times, "0s ago", "next poll in 10s", budgets and
row numbers are the same on every run. The dumps are compared, exactly, with
tests/ui/expected/<test>-<dump>.txt; no dump may show a secret.

Volatile fields, and only those, are replaced by fixed tokens in the dump
before comparing (the expected files hold the tokens):
  - a simulator's temporary directory (mkdtemp)          -> <DIR-A>, <DIR-B>, ...
  - a simulator's port in "127.0.0.1:PORT"               -> 127.0.0.1:<PORT-A>, ...
  - this host's own addresses are pinned to 192.0.2.10 (MIMEWATCH_HOST_ADDRS,
    the seam beside MIMEWATCH_NOW); what is left of the old rule:
    this host's own addresses (getifaddrs) in the troubleshooting view's
    IP-ranges advice: the rest of the line after "allow this host's address ("
    (on a 100x30 screen that advice is the last row drawn; what follows the
    list wraps differently with the number of addresses)   -> <HOST-ADDRS>
Nothing else is loosened: no trimming beyond what dumps already do.

Regenerate the expected files with MW_UPDATE_GOLDEN=1 (then read every one of
them: a golden file that captured a bug is worse than none).

Binaries: $MIMEWATCH and $MIMEWATCH_SIM, as for tests/integration.
"""

import difflib
import os
import re

import mwtest
from mwtest import check, eq

EXPECTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected")
UPDATE = os.environ.get("MW_UPDATE_GOLDEN") == "1"
NOW = "1731862800"          # 2024-11-17 17:00:00 UTC
SEED = "7"
SIZE = (100, 30)
CHECKLIST_STEPS = {1: 7, 2: 4}   # pages of the API 1.0 (existing keys) and 2.0 checklists
SIM_CLIENT_SECRET = "mwsim-client-secret-0123456789"
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                         "\u2060\u2066-\u2069\ufeff]")


def pinned_env(extra=None):
    e = dict(os.environ)
    for k in ("LC_ALL", "LC_CTYPE", "LANG", "NO_COLOR", "LINES", "COLUMNS"):
        e.pop(k, None)
    e.update({"LC_ALL": "C.UTF-8", "TERM": "xterm-256color", "MIMEWATCH_NOW": NOW,
              "MIMEWATCH_HOST_ADDRS": "192.0.2.10"})
    e.update(extra or {})
    return e


def sim(args=(), write_config=True):
    """A simulated tenant on the pinned clock with a fixed seed. Its rate
    budget refills on the monotonic clock (one request per 10 ms by default),
    which MIMEWATCH_NOW does not pin: an hour per request keeps the budget
    column a count of the requests made."""
    return mwtest.Sim(["--seed", SEED, "--refill-ms", "3600000"] + list(args),
                      write_config=write_config, env=pinned_env())


class Golden:
    """One scripted console run whose dumps are compared with expected files.
    sims: the simulators whose directory and port are volatile, in token
    order (A, B, ...)."""

    def __init__(self, test, sims, config, size=SIZE):
        self.test, self.sims, self.config, self.size = test, sims, config, size
        self.work = sims[0].dir
        self.lines, self.names = [], []
        self.sizes = {}             # rows of dumps taken at another size

    def add(self, *lines):
        self.lines.extend(lines)
        return self

    def dump(self, name):
        self.names.append(name)
        self.lines.append("dump " + os.path.join(self.work, "golden-%s.txt" % name))
        return self

    def run(self, env=None, cwd=None):
        script = os.path.join(self.work, "golden-script.txt")
        with open(script, "w", encoding="utf-8") as f:
            f.write("\n".join(self.lines + ["quit"]) + "\n")
        e = pinned_env({"XDG_STATE_HOME": os.path.join(self.work, "xdg-state"),
                        "XDG_CONFIG_HOME": os.path.join(self.work, "xdg-config")})
        e.update(env or {})
        r = mwtest.mimewatch(["--script", script, "--size", "%dx%d" % self.size],
                             config=self.config, timeout=90, env=e, cwd=cwd)
        self.result = r
        eq(r.rc, 0, "console exit status\n%s" % r)
        check("script line" not in r.err, "the script failed:\n%s" % r)
        return self

    def normalise(self, text):
        """The documented token replacements, and nothing else."""
        for i, s in enumerate(self.sims):
            tag = chr(ord("A") + i)
            text = text.replace(s.dir, "<DIR-%s>" % tag)
            if s.port:
                text = text.replace("127.0.0.1:%d" % s.port, "127.0.0.1:<PORT-%s>" % tag)
        return re.sub(r"(?m)(allow this host's address \().*$", r"\1<HOST-ADDRS>", text)

    def screen(self, name):
        path = os.path.join(self.work, "golden-%s.txt" % name)
        check(os.path.exists(path), "no dump %s: the script did not get there\n%s"
              % (name, self.result))
        with open(path, encoding="utf-8") as f:
            return f.read()

    def compare(self):
        """Every dump against its expected file (or writes them when updating)."""
        failures = []
        for name in self.names:
            got = self.normalise(self.screen(name))
            bad = RAW_CONTROL.search(got)
            check(not bad, "dump %s holds a raw control character %r" % (name, bad and
                                                                         bad.group(0)))
            check(mwtest.SIM_SECRET_KEY[:16] not in got and mwtest.SIM_ACCESS_KEY[:24]
                  not in got and SIM_CLIENT_SECRET not in got,
                  "dump %s shows a secret:\n%s" % (name, got))
            eq(len(got.split("\n")) - 1, self.sizes.get(name, self.size[1]),
               "rows of dump %s" % name)
            path = os.path.join(EXPECTED, "%s-%s.txt" % (self.test, name))
            if UPDATE:
                os.makedirs(EXPECTED, exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(got)
                continue
            check(os.path.exists(path), "no expected file %s (MW_UPDATE_GOLDEN=1 writes it)"
                  % path)
            with open(path, encoding="utf-8") as f:
                want = f.read()
            if got != want:
                diff = "".join(difflib.unified_diff(
                    want.splitlines(True), got.splitlines(True),
                    "expected/%s-%s.txt" % (self.test, name), "dump"))
                failures.append("%s differs from the expected screen:\n%s" % (name, diff))
        check(not failures, "\n".join(failures))


def walk_checklist(g, api=1, dump_steps=()):
    """Ticks every checklist page with Space; dumps the pages in dump_steps on
    the way (step 1 before the API is chosen on it). api=1 takes API 1.0 with
    the Right arrow on step 1; API 2.0 is the default."""
    for i in range(1, CHECKLIST_STEPS[api] + 1):
        if i in dump_steps:
            g.dump("step%d" % i)
        if i == 1 and api == 1:
            g.add("key Right")
        g.add("key Space")
    return g


def fill_form_v2(g, s, name):
    """From the form's first field: an API 2.0 integration on sim s."""
    return g.add("type " + name, "key Tab", "type " + name + " tenant", "key Tab",
                 "key Tab",                                   # API version: 2.0
                 "key Tab",                                   # region picker: v2
                 "key C-u", "type " + s.base_url, "key Tab",  # the sim, not the gateway
                 "type " + s.ca_file, "key Tab",
                 "type mwsim-client", "key Tab",
                 "paste " + SIM_CLIENT_SECRET)


def fill_form(g, s, name, secret=mwtest.SIM_SECRET_KEY):
    """From the form's first field: an API 1.0 integration on sim s."""
    return g.add("type " + name, "key Tab", "type " + name + " tenant", "key Tab",
                 "key Tab",                                   # API version: 1.0
                 "type " + mwtest.SIM_APP_ID, "key Tab",
                 "type " + mwtest.SIM_APP_KEY, "key Tab",
                 "key Tab",                                   # region picker: other
                 "type " + s.base_url, "key Tab", "key Tab",  # base URL; no email lookup
                 "type " + s.ca_file, "key Tab",
                 "paste " + mwtest.SIM_ACCESS_KEY, "key Tab",
                 "paste " + secret)


def fetched(s):
    """Collects the sim's records into its store (on the pinned clock)."""
    r = s.mw(["fetch"], env=pinned_env())
    eq(r.rc, 0, "fetch\n%s" % r)


# ---- the tests --------------------------------------------------------------------------

def test_first_run():
    """Nothing to a saved, collecting integration on API 2.0, the default:
    the API choice and the application's checklist page, the filled form
    (secret masked), the validation, home after saving."""
    with sim(["--records", "40"], write_config=False) as s:
        g = Golden("first_run", [s], os.path.join(s.dir, "new", "config.yaml"))
        walk_checklist(g, api=2, dump_steps=(1, 3))
        fill_form_v2(g, s, "acme-eu")
        g.dump("form")
        g.add("key Enter", "wait-idle")
        g.dump("check")
        g.add("key Enter", "wait-idle")
        g.dump("home")
        g.run()
        g.compare()
        check(os.path.exists(g.config), "nothing saved")


MAX_ONBOARDING_ACTIONS = 12


def count_actions(lines):
    """What a person does: each key, typed text or paste is one action;
    waiting and dumping are the test's own."""
    return sum(1 for l in lines if l.split(" ", 1)[0] in ("key", "type", "paste", "click",
                                                          "dclick", "wheel"))


def test_onboarding_in_few_actions():
    """Issue 14.14: from the wizard's first screen to a collecting
    integration with the keys in hand in at most 12 actions. API 2.0: one
    paste names the Client ID and Secret (and here the simulator's base URL
    and CA file), the name, Enter checks, Enter saves. API 1.0: the four
    values bare, in Mimecast's order; the region found from the service
    user's address; Enter moves on from field to field."""
    with sim(["--records", "40"], write_config=False) as s:
        g = Golden("onboarding", [s], os.path.join(s.dir, "new", "config.yaml"))
        g.add("paste Client ID: mwsim-client\\nClient Secret: %s\\nBase URL: %s\\n"
              "Extra CA file: %s" % (SIM_CLIENT_SECRET, s.base_url, s.ca_file))
        g.dump("v2-pasted")
        g.add("type acme-eu", "key Enter", "wait-idle")
        g.dump("v2-check")
        g.add("key Enter", "wait-idle")
        g.dump("v2-home")
        v2 = count_actions(g.lines)
        g.run()
        g.compare()
        check(v2 <= MAX_ONBOARDING_ACTIONS, "API 2.0 onboarding takes %d actions" % v2)
        with open(g.config) as f:
            saved = f.read()
        check("client_id: mwsim-client" in saved, "the pasted Client ID saved:\n" + saved)
    with sim(["--records", "40"], write_config=False) as s:
        g = Golden("onboarding", [s], os.path.join(s.dir, "new", "config.yaml"))
        g.add("key Right",                   # API 1.0, on the first page
              "paste %s\\n%s\\n%s\\n%s" % (mwtest.SIM_APP_ID, mwtest.SIM_APP_KEY,
                                          mwtest.SIM_ACCESS_KEY, mwtest.SIM_SECRET_KEY))
        g.dump("v1-pasted")
        # The name; Enter goes on to the base URL, the one field still
        # wanted; the simulator's CA (a real tenant needs none), then the
        # service user's address finds the region.
        g.add("type acme-v1", "key Enter", "key Down", "key Down", "type " + s.ca_file,
              "key Up", "type svc@sim.example", "key Enter", "wait-idle")
        g.dump("v1-found")
        g.add("key Enter", "wait-idle")
        g.dump("v1-check")
        g.add("key Enter", "wait-idle")
        v1 = count_actions(g.lines)
        g.run(env={"MIMEWATCH_DISCOVER_URL": s.base_url})
        g.compare()
        check(v1 <= MAX_ONBOARDING_ACTIONS, "API 1.0 onboarding takes %d actions" % v1)
        check(os.path.exists(g.config), "nothing saved")


def test_onboarding_sizes():
    """Issue 14.14 at 80x24 and 120x40: the form filled by one paste on the
    wizard's first page (Client ID and Secret, the simulator's base URL
    and CA file), the secret masked."""
    for size in ((80, 24), (120, 40)):
        with sim(["--records", "40"], write_config=False) as s:
            g = Golden("onboarding_%dx%d" % size, [s], os.path.join(s.dir, "new", "config.yaml"),
                       size=size)
            g.add("paste Client ID: mwsim-client\\nClient Secret: %s\\nBase URL: %s\\n"
                  "Extra CA file: %s" % (SIM_CLIENT_SECRET, s.base_url, s.ca_file))
            g.dump("pasted")
            g.run()
            g.compare()


def test_bad_guid():
    """A GUID one character short and a non-GUID: errors next to the fields,
    Enter refused with the count of fields to fix, nothing saved."""
    with sim(write_config=False) as s:
        g = Golden("bad_guid", [s], os.path.join(s.dir, "new", "config.yaml"))
        walk_checklist(g)
        g.add("type acme", "key Tab", "key Tab", "key Tab",
              "type 5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5", "key Tab", "type not-a-guid",
              "key Tab", "key Tab", "type " + s.base_url, "key Tab", "key Tab",
              "type " + s.ca_file, "key Enter", "key Enter",
              "key Enter")      # Enter moves on to the Access and Secret Keys, then submits
        g.dump("refused")
        g.run()
        g.compare()
        check(not os.path.exists(g.config), "a config was written from a bad form")


def test_permission_missing():
    """The service user lacks the impersonation permission: its row names
    the exact permission to add; the other two pass, so Enter saves."""
    with sim(["--deny-permission", "impersonation"], write_config=False) as s:
        g = Golden("permission", [s], os.path.join(s.dir, "new", "config.yaml"))
        walk_checklist(g)
        fill_form(g, s, "globex-us")
        g.add("key Enter", "wait-idle")
        g.dump("check")
        g.run()
        g.compare()


def test_wizard_sizes():
    """Issue 14.5 at 80x24 and 120x40: the wizard's first page (the API
    choice), the API 1.0 region page (at 80x24
    longer than the screen: it says so, and End shows za, au and je), the
    form, and a check whose remedy wraps in full under "Fix:"."""
    for size, tag in (((80, 24), "80x24"), ((120, 40), "120x40")):
        with sim(["--deny-permission", "impersonation"], write_config=False) as s:
            g = Golden("wizard_" + tag, [s], os.path.join(s.dir, "new", "config.yaml"),
                       size=size)
            g.dump("api")
            g.add("key Right", "key Space")
            g.dump("region")
            if size == (80, 24):
                g.add("key End")
                g.dump("region-end")
                g.add("key Home")
            g.add(*(["key Space"] * (CHECKLIST_STEPS[1] - 1)))
            fill_form(g, s, "globex-us")
            g.dump("form")
            g.add("key Enter", "wait-idle")
            g.dump("check")
            g.run()
            g.compare()


def write_states_config(a, b, path):
    """Three integrations: acme and initech on tenant a, globex on tenant b
    (which denies the impersonation permission)."""
    text = a.read_config()
    head, _, rest = text.partition("integrations:\n")
    block, _, tail = rest.partition("outputs:\n")

    def renamed(blk, name, desc):
        blk = re.sub(r"(?m)^(\s*- name: ).*$", r"\g<1>" + name, blk)
        return re.sub(r"(?m)^(\s*description: ).*$", r"\g<1>" + desc, blk)

    bblock = b.read_config().partition("integrations:\n")[2].partition("outputs:\n")[0]
    out = (head + "integrations:\n" + renamed(block, "acme", "all three types collecting")
           + renamed(bblock, "globex", "impersonation permission missing")
           + renamed(block, "initech", "paused from the console")
           + "outputs:\n" + tail)
    with open(path, "w") as f:
        f.write(out)
    os.chmod(path, 0o600)


def test_home_states():
    """The integrations screen with an integration collecting (tick), one in
    error with its remedy, one paused; then its troubleshooting view."""
    with sim(["--records", "40"]) as a, \
            sim(["--records", "40", "--deny-permission", "impersonation"]) as b:
        config = os.path.join(a.dir, "three.yaml")
        write_states_config(a, b, config)
        g = Golden("home_states", [a, b], config)
        # The cursor walks integration rows and their type rows (4 each):
        # 8 Down is initech, whose p pauses all its types; 4 Down is globex.
        g.add("wait-idle", *(["key Down"] * 8), "key p", "wait-idle", "key Home")
        g.dump("home")
        g.add(*(["key Down"] * 4), "key t", "wait-idle")
        g.dump("trouble")
        g.run()
        g.compare()


def test_preview_filters():
    """The preview of each type with a text filter, newest first."""
    with sim(["--records", "40", "--hostile-every", "5"]) as s:
        fetched(s)
        g = Golden("preview", [s], s.config)
        g.add("wait-idle", "key Enter", "key 1", "key /", "type payroll",
              "key Enter", "wait-idle")
        g.dump("url")
        g.add("key Esc", "key 2", "key /", "type invoice", "key Enter", "wait-idle")
        g.dump("impersonation")
        g.add("key Esc", "key 3", "key /", "type .pdf", "key Enter", "wait-idle")
        g.dump("attachment")
        g.add("key Esc", "key m", "wait-idle")
        g.dump("attachment-threats")
        g.run()
        g.compare()


def test_detail_and_hostile():
    """A record's detail; a hostile record (escapes, bidi, CR) in the table
    and in its detail, every control shown as an escape."""
    with sim(["--records", "40", "--hostile-every", "5"]) as s:
        fetched(s)
        g = Golden("detail", [s], s.config)
        g.add("wait-idle", "key Enter", "key 2", "wait-idle", "key Down", "key Enter")
        g.dump("impersonation")
        g.add("key PgDn")
        g.dump("impersonation-pgdn")
        # Hostile records (every fifth) carry OSC/CSI escapes, U+202E, CR,
        # BS, TAB, DEL, raw C1 and zero-width characters (src/sim/records.c).
        g.add("key q", "key /", "type evil.example", "key Enter", "wait-idle")
        g.dump("hostile-impersonation")
        g.add("key Enter")
        g.dump("hostile-impersonation-detail")
        g.add("key q", "key Esc", "key 3", "key /", "type evil.example", "key Enter",
              "wait-idle")
        g.dump("hostile-attachment")
        g.add("key Esc", "key 1", "key /", "type evil.example", "key Enter", "wait-idle",
              "key Enter")
        g.dump("hostile-url-detail")
        g.run()
        g.compare()


def test_detail_keys():
    """Issue 14.19 at 80x24 and 120x40: a hostile record's detail with the
    cursor moved down two fields, the search prompt, the search done (the
    cursor on the first match, "match 1 of N"), the raw JSON (its strings
    escaped), and J to the older record."""
    with sim(["--records", "40", "--hostile-every", "5"]) as s:
        fetched(s)
        for size in ((80, 24), (120, 40)):
            g = Golden("detail_keys_%dx%d" % size, [s], s.config, size=size)
            g.add("wait-idle", "key Enter", "wait-idle", "key Enter", "key Down", "key Down")
            g.dump("cursor")
            g.add("key /", "type Evil")
            g.dump("search-prompt")
            g.add("key Enter")
            g.dump("search")
            g.add("key Esc", "key r")
            g.dump("raw")
            g.add("key J")
            g.dump("raw-older")
            g.run(env={"TMUX": ""})
            g.compare()


def test_events_screen():
    """Issue 14.16 at 80x24 and 120x40: E on home shows the collector's
    events newest first (a fetch's windows, then the console's own poll,
    all on the pinned clock), the selected one in full below; Down moves
    the selection."""
    with sim(["--records", "40"]) as s:
        fetched(s)
        for size in ((80, 24), (120, 40)):
            g = Golden("events_%dx%d" % size, [s], s.config, size=size)
            g.add("wait-idle", "key E", "wait-idle")
            g.dump("newest")
            g.add("key Down", "key Down")
            g.dump("down")
            g.run()
            g.compare()


def test_coverage():
    """Issue 14.15 at 80x24 and 120x40: c on home opens coverage, a timeline
    of the last 30 days per type with a sparkline of records. url has a gap:
    it was collected twelve days ago, then its horizon was reset forward to
    five days ago; the other types are whole. Left moves the cursor onto the
    gap, which the line below explains (the reset); Enter with collection
    paused queues its backfill (shown as one); resumed, the backfill fills
    it and its records count."""
    days = 86400
    for size in ((80, 24), (120, 40)):
        with sim(["--records", "600", "--span", "20d"]) as s:
            r = s.mw(["fetch"], env=pinned_env({"MIMEWATCH_NOW": str(int(NOW) - 12 * days)}))
            eq(r.rc, 0, "fetch twelve days ago\n%s" % r)
            r = s.mw(["reset", "--yes", "--since", "5d", "sim", "url"], env=pinned_env())
            eq(r.rc, 0, "reset\n%s" % r)
            fetched(s)
            cells = size[0] - 2
            g = Golden("coverage_%dx%d" % size, [s], s.config, size=size)
            g.add("wait-idle", "key p", "wait-idle", "key c", "wait-idle")
            g.dump("open")
            g.add(*["key Left"] * (8 * 24 * cells // 720))
            g.dump("gap")
            g.add("key Enter", "wait-idle")
            g.dump("queued")
            g.add("key Esc", "key p", "wait-idle", "sleep 300", "wait-idle", "key c",
                  "wait-idle")
            g.dump("filled")
            g.run()
            g.compare()
            gap = " ".join(g.screen("gap").split())
            check("gap " in gap and "the horizon was reset forward on" in gap,
                  "the gap and its reason:\n" + gap)
            check("backfill of " in " ".join(g.screen("queued").split()),
                  "queued:\n" + g.screen("queued"))
            eq(s.store_counts()[("sim", "url")], 600, "url records after the backfill")
    with sim(["--records", "40"]) as s:
        fetched(s)
        g = Golden("coverage_ascii", [s], s.config, size=(80, 24))
        g.add("wait-idle", "key c", "wait-idle")
        g.dump("open")
        g.run(env={"LC_ALL": "C"})
        g.compare()


def test_resize():
    """Home and the preview shrunk below the minimum (the too-small screen)
    and back to full size, unchanged."""
    with sim(["--records", "40"]) as s:
        g = Golden("resize", [s], s.config)
        g.sizes = {"home-tiny": 10, "preview-tiny": 12}
        g.add("wait-idle")
        g.dump("home")
        g.add("resize 50 10")
        g.dump("home-tiny")
        g.add("resize 100 30")
        g.dump("home-back")
        g.add("key Enter", "wait-idle", "resize 59 12")
        g.dump("preview-tiny")
        g.add("resize 100 30")
        g.dump("preview-back")
        g.run()
        g.compare()
        eq(g.screen("home-back"), g.screen("home"), "home after resizing back")


def test_local_time():
    """Issue 14.8 at 80x24: the preview's time column named UTC, then T in
    local time (TZ pinned to Asia/Kolkata, +05:30, so the shift is exact);
    a record's detail in local time, and T again back in UTC."""
    with sim(["--records", "40"]) as s:
        fetched(s)
        g = Golden("local_time", [s], s.config, size=(80, 24))
        g.add("wait-idle", "key Enter", "wait-idle")
        g.dump("preview-utc")
        g.add("key T")
        g.dump("preview-local")
        g.add("key Enter")
        g.dump("detail-local")
        g.add("key T")
        g.dump("detail-utc")
        g.run(env={"TZ": "Asia/Kolkata"})
        g.compare()


def test_columns_screens():
    """Issue 14.18 at 80x24 and 120x40: the preview sorted by User (s; the
    heading's mark, the state line saying so, following paused), reversed
    (S), the column chooser (C) with URL hidden and Action moved left and
    widened, and the preview after it; then the impersonation tab sorted by
    the narrow Hits column."""
    with sim(["--records", "40"]) as s:
        fetched(s)
        for size in ((80, 24), (120, 40)):
            g = Golden("columns_%dx%d" % size, [s], s.config, size=size)
            g.add("wait-idle", "key Enter", "wait-idle", "key s", "wait-idle")
            g.dump("sorted")
            g.add("key S", "wait-idle")
            g.dump("reversed")
            g.add("key C", "key Down", "key Down", "key Space", "key Down", "key K", "key >",
                  "key >")
            g.dump("chooser")
            g.add("key Esc", "wait-idle")
            g.dump("chosen")
            g.add("key 2", "key s", "key s", "key s", "key s", "wait-idle")
            g.dump("hits")
            g.run(env={"XDG_STATE_HOME": os.path.join(s.dir, "xdg-state-%dx%d" % size)})
            g.compare()
            # The choices are the state directory's: start the next size afresh.
            os.unlink(os.path.join(s.state_dir, "console.json"))


def test_new_types_80x24():
    """Issue 15: the previews of audit events (time, user, category, type,
    event; no verdict, so m says it does not apply) and DLP logs (time,
    sender, recipient, policy, action; a hold or block is a threat), and a
    DLP record's detail, at 80x24."""
    with sim(["--records", "40"]) as s:
        s.edit_config(types="[audit, dlp]")
        fetched(s)
        g = Golden("new_types_80x24", [s], s.config, size=(80, 24))
        g.add("wait-idle", "key Enter", "wait-idle")
        g.dump("audit")
        g.add("key m", "wait-idle")
        g.dump("audit-m")
        g.add("key 5", "wait-idle")
        g.dump("dlp")
        g.add("key m", "wait-idle")
        g.dump("dlp-threats")
        g.add("key Enter", "wait-idle")
        g.dump("dlp-detail")
        g.run(env={"XDG_STATE_HOME": os.path.join(s.dir, "xdg-state")})
        g.compare()


def test_siem_80x24():
    """Issue 15: the SIEM events preview (time, type, subtype, sender,
    recipient, subject; no verdict) and a record's detail, from the batch
    files of an API 2.0 tenant, at 80x24."""
    with mwtest.Sim(["--seed", SEED, "--refill-ms", "3600000"], api="v2",
                    env=pinned_env()) as s:
        s.edit_config(types="[siem]", lookback="1d")
        text = s.read_config().replace("types: [siem]\n", "types: [siem]\n"
                                       "    siem_types: [receipt, url_protect]\n")
        with open(s.config, "w") as f:
            f.write(text)
        fetched(s)
        g = Golden("siem_80x24", [s], s.config, size=(80, 24))
        g.add("wait-idle", "key Enter", "wait-idle")
        g.dump("preview")
        g.add("key Enter", "wait-idle")
        g.dump("detail")
        g.run(env={"XDG_STATE_HOME": os.path.join(s.dir, "xdg-state")})
        g.compare()


def test_screens_at_both_sizes():
    """Issue 14's closing line: the screens no other test shows at 80x24
    and 120x40. A tenant whose service user lacks the impersonation
    permission, collected by the console itself (as in test_home_states,
    so the budget column counts this run's requests): home (the error and
    its remedy under the type), troubleshooting (t), the help (?), the url
    preview filtered by a term (/), the failing impersonation preview (its
    error and remedy, issue 14.7), the attachment preview's threats (m),
    the export prompt (x, the full path in the working directory) and what
    it did, then T: the preview and a record's detail in local time (TZ
    pinned to Asia/Kolkata, +05:30), and T again in UTC."""
    for size in ((80, 24), (120, 40)):
        with sim(["--records", "40", "--deny-permission", "impersonation"]) as s:
            g = Golden("screens_%dx%d" % size, [s], s.config, size=size)
            g.add("wait-idle")
            g.dump("home")
            g.add("key t", "wait-idle")
            g.dump("trouble")
            g.add("key Esc", "key ?")
            g.dump("help")
            g.add("key Esc", "key Enter", "wait-idle", "key 1", "key /", "type result:malicious",
                  "key Enter", "wait-idle")
            g.dump("filter")
            g.add("key Esc", "key 2", "wait-idle")
            g.dump("failing")
            g.add("key 3", "key m", "wait-idle")
            g.dump("threats")
            g.add("key x")
            g.dump("export")
            g.add("key Enter", "wait-idle")
            g.dump("exported")
            g.add("key T")
            g.dump("local")
            g.add("key Enter")
            g.dump("detail-local")
            g.add("key T")
            g.dump("detail-utc")
            # The working directory is the simulator's (<DIR-A>), whose path
            # is short enough for the prompt and the message at 80 columns.
            g.run(env={"TZ": "Asia/Kolkata"}, cwd=s.dir)
            g.compare()
            with open(os.path.join(s.dir, "mimewatch-sim-attachment.ndjson"),
                      encoding="utf-8") as f:
                eq(len(f.read().splitlines()), 2, "lines exported (the two threats)")

if __name__ == "__main__":
    mwtest.main([test_first_run, test_onboarding_in_few_actions, test_onboarding_sizes,
                 test_bad_guid,
                 test_permission_missing, test_wizard_sizes, test_home_states,
                 test_preview_filters, test_new_types_80x24, test_siem_80x24, test_detail_and_hostile, test_detail_keys, test_events_screen, test_coverage, test_resize,
                 test_local_time, test_columns_screens, test_screens_at_both_sizes])
