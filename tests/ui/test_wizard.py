#!/usr/bin/env python3
"""test_wizard - the onboarding wizard, driven through the console's script
mode against mimewatch-sim on 127.0.0.1 (harness: tests/lib/mwtest.py).

Each test starts the console with --config naming a file that does not exist
(so the wizard opens), feeds keys from a script, and asserts on the exact text
of the dumped screens and on the config file the wizard saved. Discovery is
pointed at the simulated tenant with MIMEWATCH_DISCOVER_URL; nothing but
127.0.0.1 is ever contacted.
"""

import contextlib
import os
import re
import sys
import time

import mwstate
import mwtest
from mwtest import TYPES, check, eq

CHECKLIST_V2 = 4   # the API choice, Enhanced Logging, the API 2.0 application, the gateway
CHECKLIST_V1 = 7   # the API choice and the six steps of an existing API 1.0 application
WRONG_SECRET = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="  # base64, not the sim's key


class Console:
    """One scripted console run in a sim's temp dir."""

    def __init__(self, sim, config=None, size=(100, 30), env=None):
        self.sim = sim
        self.config = config or os.path.join(sim.dir, "new", "config.yaml")
        self.size = size
        self.extra_env = env or {}
        self.lines = []
        self.dumps = []
        self.result = None

    def add(self, *lines):
        self.lines.extend(lines)
        return self

    def dump(self, name):
        path = os.path.join(self.sim.dir, "dump-%s.txt" % name)
        self.dumps.append(path)
        self.lines.append("dump " + path)
        return self

    def run(self, expect_rc=0):
        script = os.path.join(self.sim.dir, "script-%d.txt" % len(os.listdir(self.sim.dir)))
        with open(script, "w") as f:
            f.write("\n".join(self.lines + ["quit"]) + "\n")
        env = dict(os.environ)
        env.pop("MIMEWATCH_NOW", None)  # requests are signed with the real time
        env["XDG_STATE_HOME"] = os.path.join(self.sim.dir, "xdg-state")
        env["XDG_CONFIG_HOME"] = os.path.join(self.sim.dir, "xdg-config")
        env["MIMEWATCH_DISCOVER_URL"] = self.sim.base_url
        env.update(self.extra_env)
        r = mwtest.mimewatch(["--script", script, "--size", "%dx%d" % self.size],
                             config=self.config, timeout=120, env=env)
        self.result = r
        eq(r.rc, expect_rc, "console exit status\n%s" % r)
        return self

    def screen(self, name):
        path = os.path.join(self.sim.dir, "dump-%s.txt" % name)
        check(os.path.exists(path), "no dump %s: the script did not get there\n%s"
              % (name, self.result))
        with open(path, encoding="utf-8") as f:
            return f.read()


def walk_checklist(c, api=1):
    """Ticks every checklist page with Space, dumping each (step1 before the
    API is chosen) and its end after PgDn (stepN-end: the same screen where
    the page fits). api=1 takes API 1.0 on the first page (Right arrow);
    API 2.0 is the default."""
    c.dump("step1")
    if api == 1:
        c.add("key Right")
    for i in range(1, (CHECKLIST_V1 if api == 1 else CHECKLIST_V2) + 1):
        if i > 1:
            c.dump("step%d" % i)
            c.add("key PgDn")
            c.dump("step%d-end" % i)
        c.add("key Space")
    return c


def fill_form(c, sim, name="acme-eu", app_id=mwtest.SIM_APP_ID, secret=mwtest.SIM_SECRET_KEY,
              discover=True):
    """From the form's first field: everything for an API 1.0 integration."""
    c.add("type " + name, "key Tab", "type Acme, EU tenant", "key Tab",
          "key Tab",                        # API version: stays 1.0
          "type " + app_id, "key Tab",
          "type " + mwtest.SIM_APP_KEY, "key Tab",
          "key Tab")                        # region picker: "other"
    if discover:
        c.add("key Tab",                    # base URL left empty: found from the email
              "type svc@sim.example", "key Tab",
              "type " + sim.ca_file,       # discovery trusts the sim's CA too
              "key BackTab", "key Enter", "wait-idle", "key Tab", "key Tab")
    else:
        c.add("type " + sim.base_url, "key Tab", "key Tab", "type " + sim.ca_file, "key Tab")
    c.add("paste " + mwtest.SIM_ACCESS_KEY, "key Tab",
          "paste " + secret)
    return c


def row_after(screen, label):
    """The screen line that starts with label (after the left margin)."""
    for line in screen.splitlines():
        if line.strip().startswith(label):
            return line
    raise mwtest.CheckFailed("no line starting with %r on:\n%s" % (label, screen))


NOTE_COL = 25  # notes (errors, discovery) are indented under the field at 100 columns


def note_after(screen, label):
    """The note under the field labelled label: its wrapped lines joined."""
    lines = screen.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(label):
            out = []
            for nl in lines[i + 1:]:
                if len(nl) > NOTE_COL and nl[:NOTE_COL].strip() == "" and nl[NOTE_COL] != " ":
                    out.append(nl.strip())
                else:
                    break
            return " ".join(out)
    raise mwtest.CheckFailed("no line starting with %r on:\n%s" % (label, screen))


def config_values(path):
    """The scalar values of the saved config's (only) integration."""
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^\s*(?:- )?([a-z_]+): (.*)$", line.rstrip("\n"))
            if m:
                v = m.group(2)
                if v.startswith('"') and v.endswith('"'):
                    v = v[1:-1]
                out[m.group(1)] = v
    return out


def assert_no_secret(c):
    for path in c.dumps:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        check(mwtest.SIM_SECRET_KEY not in text and mwtest.SIM_SECRET_KEY[:16] not in text,
              "the Secret Key is drawn in %s:\n%s" % (path, text))
        check(mwtest.SIM_ACCESS_KEY[:24] not in text,
              "the Access Key is drawn in %s:\n%s" % (path, text))


# ---- the tests --------------------------------------------------------------------------

def test_first_run_to_saved_integration():
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim)
        walk_checklist(c)
        c.dump("form-empty")
        fill_form(c, sim)
        c.dump("form")
        c.add("key Enter", "wait-idle")
        c.dump("check")
        c.add("key Enter", "wait-idle")
        c.dump("home")
        c.run()

        s1 = c.screen("step1")
        check("Mimecast setup, step 1 of 4: Choose the API: 2.0 for a new integration" in s1,
              s1)
        check("   (*) API 2.0: a new integration (Client ID and Client Secret)\n"
              "   ( ) API 1.0: existing keys only\n" in s1, "API 2.0 is not the default:\n" + s1)
        s2 = c.screen("step2")
        check("Mimecast setup, step 2 of 7: Find your region's API 1.0 base URL" in s2, s2)
        check(re.search(r"eu\s+https://eu-api\.mimecast\.com\s+Europe \(excluding Germany\)",
                        s2), "the region table is missing on step 2:\n" + s2)
        check("api.services.mimecast.com" not in s2, "API 2.0 hosts on the 1.0 page:\n" + s2)
        s4 = c.screen("step4")
        check("step 4 of 7: Your API 1.0 application (existing keys only)" in s4, s4)
        check("Where: Administration > Services > API and Platform Integrations" in s4, s4)
        flat4 = " ".join(s4.split())
        check("Mimecast accepts no new API 1.0 applications" in flat4, s4)
        check("only 30 minutes after the application was created" in flat4, s4)
        check("`mimewatch --demo`" in flat4, s4)
        check("[x] 1 API  [x] 2 Region  [x] 3 Logging  [ ] 4 Application" in s4,
              "steps ticked with Space are not shown ticked:\n" + s4)

        form = c.screen("form")
        eq(row_after(form, "Base URL").split(), ["Base", "URL", sim.base_url], "base URL row")
        eq(note_after(form, "Find from email"),
           "found %s for svc@sim.example" % sim.base_url, "discovery result")
        masked = row_after(form, "Secret Key").split()
        check(len(masked) == 3 and re.match(r"^\*{60,}$", masked[2]),
              "the Secret Key is not drawn masked: %r" % masked)
        check(not re.search(r"missing|not a GUID", form), "form errors left:\n" + form)

        chk = c.screen("check")
        check("Account: Simulated Tenant" in chk, "no account name:\n" + chk)
        for label in ("URL Protect", "Impersonation Protect", "Attachment Protect"):
            check(re.search(r"^\s*\S+\s+%s\s+ok$" % label, chk, re.M),
                  "no ok row for %s:\n%s" % (label, chk))
        check("3 of 3 log types passed. Enter saves the integration." in chk, chk)

        home = c.screen("home")
        check("acme-eu" in home, "the home screen does not list the new integration:\n" + home)

        # the file: 0600 in a 0700 directory, exactly what was typed, loads back
        st = os.stat(c.config)
        eq(st.st_mode & 0o777, 0o600, "config mode")
        eq(os.stat(os.path.dirname(c.config)).st_mode & 0o777, 0o700, "config dir mode")
        vals = config_values(c.config)
        want = {"name": "acme-eu", "description": "Acme, EU tenant", "api": "v1",
                "base_url": sim.base_url, "app_id": mwtest.SIM_APP_ID,
                "app_key": mwtest.SIM_APP_KEY, "access_key": mwtest.SIM_ACCESS_KEY,
                "secret_key": mwtest.SIM_SECRET_KEY, "ca_file": sim.ca_file,
                "types": "[url, impersonation, attachment]", "interval": "5m"}
        for k, v in want.items():
            eq(vals.get(k), v, "saved %s" % k)
        r = sim.mw(["validate"], config=c.config)
        eq(r.rc, 0, "`mimewatch validate` of the saved config\n%s" % r)
        assert_no_secret(c)


def test_bad_guid_shown_next_to_field():
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim)
        walk_checklist(c)
        c.add("type acme", "key Tab", "key Tab", "key Tab",
              "type 5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5", "key Tab", "type not-a-guid",
              "key Tab", "key Tab", "key Tab", "type nobody@sim.example", "key Enter",
              "wait-idle")
        c.dump("typed")
        # From the CA field Enter moves on to each field still wanted (the
        # Access Key, the Secret Key; issue 14.14), then submits.
        c.add("key Tab", "key Enter", "key Enter", "key Enter")
        c.dump("refused")
        c.run()
        s = c.screen("typed")
        eq(row_after(s, "Application ID").split(),
           ["Application", "ID", "5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5"], "typed App ID")
        eq(note_after(s, "Application ID"),
           "'5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5' is not a GUID; copy the Application ID "
           "exactly, in the form 01234567-89ab-cdef-0123-456789abcdef",
           "App ID error next to the field")
        eq(note_after(s, "Application Key"),
           "'not-a-guid' is not a GUID; copy the Application Key exactly, in the form "
           "01234567-89ab-cdef-0123-456789abcdef", "App Key error next to the field")
        eq(note_after(s, "Name"), "", "no error under a valid name")
        eq(note_after(s, "Find from email"), "the lookup needs the Application ID: fill it "
           "in above first", "discovery without an Application ID")
        r = c.screen("refused")
        check("Integration details" in r, "Enter left the form with bad fields:\n" + r)
        check("5 fields to fix first: the reason is shown under each" in r,
              "no refusal on the status line:\n" + r)
        check(not os.path.exists(c.config), "a config was written from a bad form")


def test_permission_missing_saves_with_one_passing():
    with mwtest.Sim(["--deny-permission", "impersonation"], write_config=False) as sim:
        c = Console(sim)
        walk_checklist(c)
        fill_form(c, sim, name="globex-us", discover=False)
        c.add("key Enter", "wait-idle")
        c.dump("check")
        c.add("key Enter", "wait-idle")
        c.dump("home")
        c.run()
        chk = c.screen("check")
        check(re.search(r"^\s*\S+\s+URL Protect\s+ok$", chk, re.M), chk)
        check(re.search(r"^\s*\S+\s+Attachment Protect\s+ok$", chk, re.M), chk)
        check(re.search(r"^\s*\S+\s+Impersonation Protect\s+permission missing\s+HTTP 403", chk,
                        re.M), "no permission-missing row:\n" + chk)
        flat = " ".join(chk.split())
        check("Monitoring | Impersonation Protection | Read" in flat,
              "the exact permission is not named:\n" + chk)
        check("2 of 3 log types passed. Enter saves the integration." in chk, chk)
        check(os.path.exists(c.config), "one type passed, yet nothing was saved")
        eq(config_values(c.config).get("name"), "globex-us", "saved name")
        check("globex-us" in c.screen("home"), c.screen("home"))
        assert_no_secret(c)


def test_all_failing_needs_save_anyway():
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim)
        walk_checklist(c)
        fill_form(c, sim, name="wrong-keys", secret=WRONG_SECRET, discover=False)
        c.add("key Enter", "wait-idle")
        c.dump("check")
        c.add("key Enter")
        c.dump("refused")
        c.add("key s", "wait-idle")
        c.dump("home")
        c.run()
        chk = c.screen("check")
        for label in ("URL Protect", "Impersonation Protect", "Attachment Protect"):
            check(re.search(r"^\s*\S+\s+%s\s+invalid signature\s+HTTP 401" % label, chk, re.M),
                  "no invalid-signature row for %s:\n%s" % (label, chk))
        check("No log type passed the check: saving now would collect nothing." in chk, chk)
        check("s: save anyway" in chk, chk)
        ref = c.screen("refused")
        check("Not saved: no log type passed the check" in ref, ref)
        home = c.screen("home")
        check("Saved 'wrong-keys' anyway, but no log type passed the check" in home,
              "the save-anyway warning is not visible:\n" + home)
        vals = config_values(c.config)
        eq(vals.get("secret_key"), WRONG_SECRET, "saved secret")
        assert_no_secret(c)
        for path in c.dumps:
            if os.path.exists(path):
                with open(path) as f:
                    check(WRONG_SECRET[:16] not in f.read(), "the typed secret is drawn")


@contextlib.contextmanager
def proxied_wizard(discover):
    """A wizard adding an API 1.0 entry to a config whose top level names a
    tinyproxy (the environment's proxies cleared), its form filled:
    yields (sim, tinyproxy, console) for the test to go on."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "integration"))
    from test_proxy import TinyProxy
    with mwtest.Sim(write_config=False) as sim, TinyProxy() as tp:
        cfg = os.path.join(sim.dir, "proxied.yaml")
        with open(cfg, "w") as f:
            f.write("proxy: %s\nstate_dir: %s\n" % (tp.url, os.path.join(sim.dir, "st")))
        os.chmod(cfg, 0o600)
        c = Console(sim, config=cfg, env={k: "" for k in ("HTTPS_PROXY", "https_proxy")})
        c.add("wait-idle", "key a")
        walk_checklist(c)
        fill_form(c, sim, discover=discover)
        yield sim, tp, c


def test_new_integration_checked_through_top_level_proxy():
    # Issue 16.1: a new entry takes the top-level proxy: the live check goes
    # through it (tinyproxy logs the CONNECTs), and the saved entry does not
    # repeat it.
    with proxied_wizard(discover=False) as (sim, tp, c):
        c.add("key Enter", "wait-idle")
        c.dump("check")
        c.run()
        chk = c.screen("check")
        for label in ("URL Protect", "Impersonation Protect", "Attachment Protect"):
            check(re.search(r"^\s*\S+\s+%s\s+ok$" % label, chk, re.M),
                  "no ok row for %s:\n%s" % (label, chk))
        check(tp.connects(sim.port) >= 1, "the live check went past the top-level proxy")


def test_discovery_through_top_level_proxy():
    # Issue 16.1: region discovery (API 1.0 discover-authentication) goes
    # through the proxy the entry will use, like every other request: only
    # the discovery is asked here, so every CONNECT tinyproxy logs is its.
    with proxied_wizard(discover=True) as (sim, tp, c):
        c.dump("form")
        c.run()
        eq(note_after(c.screen("form"), "Find from email"),
           "found %s for svc@sim.example" % sim.base_url, "discovery result")
        check(tp.connects(sim.port) >= 1, "discovery went around the top-level proxy")


def test_refused_before_save_anyway_writes_nothing():
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim)
        walk_checklist(c)
        fill_form(c, sim, name="wrong-keys", secret=WRONG_SECRET, discover=False)
        c.add("key Enter", "wait-idle", "key Enter")
        c.dump("refused")
        c.run()
        check("Not saved" in c.screen("refused"), c.screen("refused"))
        check(not os.path.exists(c.config), "saved although every type failed")


def test_edit_keeps_secret_and_comments():
    with mwtest.Sim() as sim:
        with open(sim.config) as f:
            text = f.read()
        text = "# kept: a comment of the admin\n" + text
        with open(sim.config, "w") as f:
            f.write(text)
        before = config_values(sim.config)
        c = Console(sim, config=sim.config)
        c.add("wait-idle", "key e")
        c.dump("edit")
        c.add("key Tab", "key C-u", "type Edited by the wizard", "key Enter", "wait-idle")
        c.dump("check")
        c.add("key Enter", "wait-idle")
        c.dump("home")
        c.run()
        e = c.screen("edit")
        check("Edit integration: details (sim)" in e, e)
        check("(saved; type to replace)" in row_after(e, "Secret Key"), e)
        after = config_values(sim.config)
        eq(after.get("description"), "Edited by the wizard", "edited description")
        for k in ("secret_key", "access_key", "app_id", "app_key", "base_url", "ca_file"):
            eq(after.get(k), before.get(k), "%s kept on edit" % k)
        with open(sim.config) as f:
            check("# kept: a comment of the admin" in f.read(), "the comment was lost")
        eq(os.stat(sim.config).st_mode & 0o777, 0o600, "config mode after edit")
        assert_no_secret(c)


# Words of API 1.0 that no API 2.0 screen may use.
V1_WORDS = ("Access Key", "Secret Key", "Application Key", "Application ID")


def test_api_v2_integration():
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim)
        walk_checklist(c, api=2)
        c.add("type acme-v2", "key Tab", "key Tab",
              "key Tab",                          # API version: 2.0, the default
              "key Tab", "key C-u", "type " + sim.base_url, "key Tab",
              "type " + sim.ca_file, "key Tab",
              "type mwsim-client", "key Tab", "paste mwsim-client-secret-0123456789")
        c.dump("form")
        c.add("key Enter", "wait-idle")
        c.dump("check")
        c.add("key Enter", "wait-idle")
        c.run()
        s3 = c.screen("step3")
        check("Mimecast setup, step 3 of 4: Create an API 2.0 application" in s3, s3)
        check("Where: Integrations > API and Platform Integrations (newer consoles: "
              "Integrations Hub) > Mimecast" in s3, s3)
        for perm in ("Monitoring | URL Protection | Read",
                     "Monitoring | Impersonation Protection | Read",
                     "Monitoring | Attachment Protection | Read"):
            check("\n   %s\n" % perm in s3, "%r is not listed:\n%s" % (perm, s3))
        flat3 = " ".join(c.screen("step3-end").split())
        check("Audit Events (only when collecting Audit)" in " ".join(s3.split()), s3)
        check("copy the Client ID and the Client Secret for the form. The Client Secret is "
              "shown only once" in flat3, c.screen("step3-end"))
        s4 = c.screen("step4")
        for host in ("https://api.services.mimecast.com", "https://uk-api.services.mimecast.com",
                     "https://us-api.services.mimecast.com"):
            check(re.search(r"^   v2\S*\s+%s\s" % re.escape(host), s4, re.M),
                  "%s is not in the gateway table:\n%s" % (host, s4))
        check(not re.search(r"^   eu\s", s4, re.M), "API 1.0 hosts on the 2.0 page:\n" + s4)
        for name in ("step2", "step3", "step4", "form", "check"):
            for word in V1_WORDS:
                check(word not in c.screen(name), "the API 2.0 %s screen says %r:\n%s"
                      % (name, word, c.screen(name)))
        form = c.screen("form")
        check(" API version           (*) API 2.0 (Client ID and Secret)   ( ) API 1.0 "
              "(existing keys only)\n" in form, form)
        check(" Secret kept in        < this config file >\n" in form, form)
        check(re.search(r"^ Client Secret\s+\*{30}$", form, re.M), form)
        chk = c.screen("check")
        eq(len(re.findall(r"^\s*\S+\s+(?:URL|Impersonation|Attachment) Protect\s+ok$", chk,
                          re.M)), 3, "ok rows\n" + chk)
        vals = config_values(c.config)
        for k, v in {"api": "v2", "client_id": "mwsim-client",
                     "client_secret": "mwsim-client-secret-0123456789",
                     "base_url": sim.base_url}.items():
            eq(vals.get(k), v, "saved %s" % k)
        check("app_id" not in vals and "secret_key" not in vals, vals)
        for path in c.dumps:
            with open(path) as f:
                check("mwsim-client-secret" not in f.read(), "the Client Secret is drawn")


def source_ids(sim, name="sim"):
    """{type: source id} of one integration in the store: the key its cursors
    and records hang on."""
    import sqlite3
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(sim.state_dir, "store.db"),
                          uri=True, timeout=30)
    try:
        return dict(con.execute("SELECT type, id FROM sources WHERE integration=?",
                                (name,)).fetchall())
    finally:
        con.close()


def test_edit_switch_v1_to_v2():
    """An API 1.0 integration switched to API 2.0 in the console (e on home):
    checked live, saved with only the 2.0 keys, and collecting on from its
    horizon: nothing collected again, nothing lost, the records kept."""
    # records keep arriving (every 0.5 s a type), so collection visibly goes on
    with mwtest.Sim(["--span", "20m", "--spacing-ms", "500"]) as sim:
        with open(sim.config) as f:
            text = f.read()
        with open(sim.config, "w") as f:
            f.write("# kept: a comment of the admin\n" + text)
        sim.fetch()
        before = sim.store_counts()
        h1 = mwstate.check_horizons(sim, mwstate.truth_times(sim), where="before: ")
        lines1 = {t: sim.ndjson_raw("sim", t) for t in TYPES}
        src1 = source_ids(sim)
        check(all(before[("sim", t)] > 0 for t in TYPES), "the v1 fetch stored nothing: %r"
              % before)

        c = Console(sim, config=sim.config)
        c.add("wait-idle", "key e", "key Tab", "key Tab", "key Space")   # API 2.0
        c.dump("switched")
        c.add("key Tab", "key Tab", "key Tab", "key Tab", "type mwsim-client", "key Tab",
              "paste mwsim-client-secret-0123456789")
        c.dump("form")
        c.add("key Enter", "wait-idle")
        c.dump("check")
        c.add("key Enter", "wait-idle")
        c.dump("home")
        c.add("sleep 1200", "key f", "wait-idle")
        c.dump("fetched")
        c.run()

        sw = c.screen("switched")
        check(" Switching to API 2.0: same name, cursors and stored records; the API 1.0 "
              "credentials go on save\n" in sw, sw)
        check(" Name                  sim  (fixed: add a new integration to use another name)\n"
              in sw, sw)
        check(" API version           (*) API 2.0 (Client ID and Secret)   ( ) API 1.0 "
              "(existing keys only)\n" in sw, sw)
        check(re.search(r"^ Client ID\s*$", sw, re.M) and
              re.search(r"^ Client Secret\s*$", sw, re.M),
              "the 2.0 fields are not empty, or a saved secret is promised:\n" + sw)
        form = c.screen("form")
        check(re.search(r"^ Client Secret\s+\*{30}$", form, re.M), "not masked:\n" + form)
        for name in ("switched", "form", "check"):
            for word in V1_WORDS:
                check(word not in c.screen(name), "the API 2.0 %s screen says %r:\n%s"
                      % (name, word, c.screen(name)))
        chk = c.screen("check")
        eq(len(re.findall(r"^\s*\S+\s+(?:URL|Impersonation|Attachment) Protect\s+ok$", chk,
                          re.M)), 3, "ok rows\n" + chk)
        check("3 of 3 log types passed. Enter saves the integration." in chk, chk)
        home = c.screen("home")
        check(" Saved 'sim', now on API 2.0: its cursors and stored records are kept\n" in home,
              home)
        check(re.search(r"^>\S+ sim\s+\S+\s+API 2\.0 · ", home, re.M), home)

        # the file: the 2.0 keys in place of the four 1.0 ones, the rest kept
        with open(sim.config) as f:
            saved = f.read()
        check(saved.startswith("# kept: a comment of the admin\n"), saved)
        vals = config_values(sim.config)
        for k, v in {"name": "sim", "api": "v2", "client_id": "mwsim-client",
                     "client_secret": "mwsim-client-secret-0123456789",
                     "base_url": sim.base_url, "ca_file": sim.ca_file}.items():
            eq(vals.get(k), v, "saved %s" % k)
        for k in ("app_id", "app_key", "access_key", "secret_key"):
            check(k not in vals, "the 1.0 key %s is still in the config:\n%s" % (k, saved))
        eq(os.stat(sim.config).st_mode & 0o777, 0o600, "config mode after the switch")

        # the store: same sources, horizons kept and moved on, nothing twice
        time.sleep(2)  # new records for the fetch on API 2.0 after the console's
        r = sim.fetch()
        for t in TYPES:
            check(r.report()[("sim", t)]["new"] > 0, "no new %s records after the switch\n%s"
                  % (t, r))
        truth = mwstate.truth_times(sim)
        h2 = mwstate.check_horizons(sim, truth, prev=h1, where="after: ")
        eq(source_ids(sim), src1, "the integration's sources in the store")
        after = sim.store_counts()
        for t in TYPES:
            check(h2[t] > h1[t], "%s: the horizon did not move on: %d -> %d" % (t, h1[t], h2[t]))
            check(after[("sim", t)] > before[("sim", t)], "%s: records %d -> %d"
                  % (t, before[("sim", t)], after[("sim", t)]))
            lines2 = sim.ndjson_raw("sim", t)
            eq(lines2[:len(lines1[t])], lines1[t], "%s: the NDJSON written before the switch" % t)
            eq(len(lines2), after[("sim", t)], "%s: NDJSON lines vs stored records" % t)
        below = {t: {m: tm for m, tm in truth[t].items() if tm < h2[t]} for t in TYPES}
        lost, dup, invalid, _ = mwstate.count_lost_dup(sim, below)
        eq((lost, dup, invalid), (0, 0, 0), "(lost, duplicated, invalid) after the switch")
        check(sim.stats().get("requests", {}).get("/oauth/token", 0) >= 1,
              "no API 2.0 token was asked for: %r" % sim.stats())
        assert_no_secret(c)
        for path in c.dumps:
            with open(path) as f:
                check("mwsim-client-secret" not in f.read(), "the Client Secret is drawn")


def test_edit_switch_keeps_secret_forms():
    """On a switch the Client Secret can live outside the config, as the
    _file and _env forms do: typed once and written to a file of its own
    (0600, its directory made 0700), or read from an environment variable."""
    with mwtest.Sim(["--records", "20"]) as sim:
        secret_file = os.path.join(sim.dir, "secrets", "sim-client-secret")
        c = Console(sim, config=sim.config)
        c.add("wait-idle", "key e", "key Tab", "key Tab", "key Space", "key Tab", "key Tab",
              "key Tab", "key Tab", "type mwsim-client", "key Tab",
              "paste mwsim-client-secret-0123456789", "key Tab", "key Space")   # a file
        c.dump("file")
        c.add("key Tab", "type " + secret_file, "key Enter", "wait-idle", "key Enter",
              "wait-idle")
        c.dump("home")
        c.run()
        f = c.screen("file")
        check(" Secret kept in        < a file of its own (mode 0600) >\n Secret file\n" in f, f)
        check(" Saved 'sim', now on API 2.0: its cursors and stored records are kept\n"
              in c.screen("home"), c.screen("home"))
        vals = config_values(sim.config)
        eq(vals.get("client_secret_file"), secret_file, "saved client_secret_file")
        check("client_secret" not in vals and "secret_key" not in vals, vals)
        with open(secret_file) as fh:
            eq(fh.read(), "mwsim-client-secret-0123456789\n", "the secret file")
        eq(os.stat(secret_file).st_mode & 0o777, 0o600, "secret file mode")
        eq(os.stat(os.path.dirname(secret_file)).st_mode & 0o777, 0o700, "its directory")
        r = sim.mw(["validate"])
        eq(r.rc, 0, "validate with client_secret_file\n%s" % r)

    with mwtest.Sim(["--records", "20"]) as sim:
        os.environ["MW_TEST_CLIENT_SECRET"] = "mwsim-client-secret-0123456789"
        try:
            c = Console(sim, config=sim.config)
            c.add("wait-idle", "key e", "key Tab", "key Tab", "key Space", "key Tab",
                  "key Tab", "key Tab", "key Tab", "type mwsim-client", "key Tab", "key Tab",
                  "key Left")                                   # an environment variable
            c.dump("env")
            c.add("key Tab", "type MW_TEST_CLIENT_SECRET", "key Enter", "wait-idle",
                  "key Enter", "wait-idle")
            c.dump("home")
            c.run()
            e = c.screen("env")
            check(" Secret kept in        < an environment variable >\n Variable name\n" in e, e)
            check(not re.search(r"^ Client Secret", e, re.M), "a variable's secret is typed:\n"
                  + e)
            check(" Saved 'sim', now on API 2.0" in c.screen("home"), c.screen("home"))
            vals = config_values(sim.config)
            eq(vals.get("client_secret_env"), "MW_TEST_CLIENT_SECRET", "saved client_secret_env")
            check("client_secret" not in vals, vals)
            r = sim.mw(["validate"])
            eq(r.rc, 0, "validate with client_secret_env\n%s" % r)
        finally:
            del os.environ["MW_TEST_CLIENT_SECRET"]


def test_small_terminal_and_resize():
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim, size=(60, 15))
        walk_checklist(c)
        fill_form(c, sim, discover=False)
        c.dump("small-form")
        c.add("resize 100 30")
        c.dump("big-form")
        c.add("key Enter", "wait-idle", "resize 60 15")
        c.dump("small-check")
        c.run()
        small = c.screen("small-form")
        eq(len(small.splitlines()), 15, "rows of a 60x15 dump")
        check(all(len(l) <= 60 for l in small.splitlines()), small)
        check(re.search(r"^ Secret Key\s+\*+$", small, re.M),
              "the focused field is scrolled out of view:\n" + small)
        check("Name" in c.screen("big-form"), c.screen("big-form"))
        check("URL Protect" in c.screen("small-check"), c.screen("small-check"))
        assert_no_secret(c)


def test_leave_while_checking_stays_responsive():
    # the URL probe's body drips at 5 bytes a second: the check cannot finish
    with mwtest.Sim(["--fault", "slow:type=url,bytes=5,count=0"], write_config=False) as sim:
        c = Console(sim)
        walk_checklist(c)
        fill_form(c, sim, discover=False)
        c.add("key Enter", "sleep 500")
        c.dump("checking")
        c.add("key Esc")
        c.dump("back")
        c.add("key Enter", "sleep 200", "key Esc")          # check -> form
        c.add(*(["key Esc"] * CHECKLIST_V1))                # form -> step 7 -> ... -> step 1
        c.add("key Esc", "key y")                           # leave, confirmed
        c.dump("left")
        c.run()
        check("asking Mimecast: credentials first, then one request per log type"
              in c.screen("checking"), c.screen("checking"))
        check("Integration details" in c.screen("back"), c.screen("back"))
        check("integrations" in c.screen("left").splitlines()[0], c.screen("left"))
        check(c.result.wall < 30 * mwtest.SCALE,
              "leaving a check in progress took %.1fs" % c.result.wall)
        check(not os.path.exists(c.config), "a config was written")


def test_esc_on_first_page_confirms():
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim)
        c.add("key Enter", "key Esc", "key Esc")   # step 2, back to 1, leave: nothing typed
        c.dump("left")
        c.run()
        check("New integration" not in c.screen("left").splitlines()[0], c.screen("left"))

        c = Console(sim)
        c.add(*(["key Enter"] * CHECKLIST_V2))
        c.add("type half-typed", "key Esc")       # form -> last checklist page
        c.add(*(["key Esc"] * (CHECKLIST_V2 - 1)))
        c.add("key Esc")
        c.dump("ask")
        c.add("key n")
        c.dump("stayed")
        c.run()
        check("Leave the wizard and lose what you typed? y leaves, any other key stays"
              in c.screen("ask"), c.screen("ask"))
        check("step 1 of 4" in c.screen("stayed"), c.screen("stayed"))


def test_typed_T_is_text():
    """Issue 14.8: T switches times on every screen, but a field takes it as
    text: the name gets its T and the status line says nothing of times."""
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim)
        c.add(*(["key Enter"] * CHECKLIST_V2))
        c.add("type TEST-T", "key Tab", "type T")
        c.dump("form")
        c.run()
        form = c.screen("form")
        eq(row_after(form, "Name").strip(), "Name                  TEST-T", "the name field")
        eq(row_after(form, "Description").strip(), "Description           T",
           "the description field")
        check("times in" not in form, "a typed T switched the times:\n%s" % form)


# Issue 14.5: text that does not fit must be reachable. At 80x24 the API 1.0
# region table stopped at "ca" (za, au and je below the screen, no key to
# reach them) and the API 2.0 hosts' names were cut at the right edge.
MORE_BELOW = " " * 60 + "more below \u2193 (PgDn)"
MORE_ABOVE = " " * 60 + "more above \u2191 (PgUp)"
REGION_ROWS = [
    "   eu     https://eu-api.mimecast.com            Europe (excluding Germany)",
    "   de     https://de-api.mimecast.com            Germany",
    "   us     https://us-api.mimecast.com            United States (A grid)",
    "   usb    https://usb-api.mimecast.com           United States (B grid)",
    "   ca     https://ca-api.mimecast.com            Canada",
    "   za     https://za-api.mimecast.com            South Africa",
    "   au     https://au-api.mimecast.com            Australia",
    "   je     https://je-api.mimecast.com            Offshore (Jersey)",
]
V2_HOST_ROWS = [
    "   v2     https://api.services.mimecast.com      API 2.0 global (automatic",
    "                                                 failover)",
    "   v2-uk  https://uk-api.services.mimecast.com   API 2.0 United Kingdom",
    "                                                 instance",
    "   v2-us  https://us-api.services.mimecast.com   API 2.0 United States instance",
]


def test_region_table_scrolls_at_80x24():
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim, size=(80, 24), env={"LC_ALL": "C.UTF-8"})
        c.add("key Right", "key Space")            # API 1.0; step 2, the regions
        c.dump("top")
        c.add("key PgDn")
        c.dump("pgdn")
        c.add("key g")
        c.dump("g")
        c.add("key Down")
        c.dump("down")
        c.add("key G")
        c.dump("G")
        c.add("key Home")
        c.dump("home")
        c.add("key End")
        c.dump("end")
        c.add("key PgUp")
        c.dump("pgup")
        c.run()
        top = c.screen("top").split("\n")
        check("step 2 of 7: Find your region's API 1.0 base URL" in top[1], top[1])
        eq(top[4], " Where: Administration Console dashboard: the account code (e.g. "
           "CUK...,", "the Where line at the top")
        eq(top[19], MORE_BELOW, "the last row of the page says there is more")
        eq(top[15:19], REGION_ROWS[:4], "the table's first rows")
        check("   ca " not in c.screen("top"), "ca fits? then the test proves nothing:\n"
              + c.screen("top"))
        # PgDn reaches the end of the table; so do G and End.
        for name in ("pgdn", "G", "end"):
            s = c.screen(name).split("\n")
            eq(s[11:19], REGION_ROWS, "%s: every region's row, je last" % name)
            eq(s[19], MORE_ABOVE, "%s: the last row says there is more above" % name)
            eq(s[21][:27], " [ ] I've done this   Space", "%s: the tick line stays" % name)
        # g and Home go back to the top; Down scrolls one line.
        eq(c.screen("g"), c.screen("top"), "g: the top again")
        eq(c.screen("home"), c.screen("top"), "Home: the top again")
        down = c.screen("down").split("\n")
        eq(down[3:18], top[4:19], "Down: one line on")
        eq(down[18], REGION_ROWS[4], "Down: ca comes into sight")
        eq(down[19], " " * 42 + "more above \u2191 and below \u2193 (PgUp, PgDn)",
           "Down: more on both sides")
        eq(c.screen("pgup"), c.screen("top"), "PgUp from the end: the top again")

        # API 2.0 (the default): its hosts in full, the names wrapped in their column.
        c = Console(sim, size=(80, 24), env={"LC_ALL": "C.UTF-8"})
        c.add(*(["key Space"] * (CHECKLIST_V2 - 1)))
        c.dump("v2")
        c.add("key End")
        c.dump("v2-end")
        c.run()
        v2 = c.screen("v2").split("\n")
        check("step 4 of 4: The API 2.0 gateway" in v2[1], v2[1])
        i = v2.index(V2_HOST_ROWS[0])
        eq(v2[i:i + len(V2_HOST_ROWS)], V2_HOST_ROWS, "the API 2.0 hosts")
        check(not any("more " in l for l in v2), "the page fits: no more-line:\n" + c.screen("v2"))
        eq(c.screen("v2-end"), c.screen("v2"), "End on a page that fits moves nothing")

        # ASCII: the words alone.
        c = Console(sim, size=(80, 24), env={"LC_ALL": "C"})
        c.add("key Right", "key Space")
        c.dump("ascii")
        c.add("key End")
        c.dump("ascii-end")
        c.run()
        eq(c.screen("ascii").split("\n")[19], " " * 62 + "more below (PgDn)", "ASCII")
        eq(c.screen("ascii-end").split("\n")[19], " " * 62 + "more above (PgUp)", "ASCII")
        eq(c.screen("ascii-end").split("\n")[18], REGION_ROWS[-1], "ASCII: je")


# Many addresses make the IP remedy long (MIMEWATCH_HOST_ADDRS, the tests' seam).
LONG_ADDRS = ", ".join(["192.0.2.%d" % i for i in range(10, 18)] +
                       ["2001:db8:%x::10" % i for i in range(0x100, 0x106)])
LONG_IP_REMEDY = ("allow this host's address (%s) in the Permitted IP Ranges of the service "
                  "user's authentication profile; Mimecast may see a NAT address instead"
                  % LONG_ADDRS)


def fix_text(lines, start):
    """The remedy after "Fix: " on lines[start], with the lines wrapped under it."""
    col = lines[start].index("Fix: ") + 5
    out = [lines[start][col:].strip()]
    for l in lines[start + 1:]:
        if len(l) > col and not l[:col].strip() and l[col] != " ":
            out.append(l.strip())
        else:
            break
    return " ".join(out)


def test_check_remedy_wraps_at_80x24():
    # Every type refused for this host's address: three long remedies, each
    # shown whole (they were cut after three lines), the page scrolled to
    # the last one's last word.
    with mwtest.Sim(["--fault", "ipdeny:count=0"], write_config=False) as sim:
        c = Console(sim, size=(80, 24), env={"LC_ALL": "C.UTF-8",
                                             "MIMEWATCH_HOST_ADDRS": LONG_ADDRS})
        walk_checklist(c)
        fill_form(c, sim, discover=False)
        c.add("key Enter", "wait-idle")
        c.dump("check")
        c.add("key End")
        c.dump("end")
        c.add("key PgUp", "key PgUp", "key PgUp")
        c.dump("top")
        c.run()
        chk = c.screen("check").split("\n")
        first = [i for i, l in enumerate(chk) if "Fix: " in l][0]
        eq(fix_text(chk, first), LONG_IP_REMEDY, "the first type's remedy in full")
        eq(chk[18], MORE_BELOW, "the check page says there is more")
        eq(chk[20], " No log type passed the check: saving now would collect nothing.",
           "the verdict stays")
        end = c.screen("end").split("\n")
        last = [i for i, l in enumerate(end) if "Fix: " in l][-1]
        eq(fix_text(end, last), LONG_IP_REMEDY, "the last type's remedy in full")
        eq(end[last + 5], "            Mimecast may see a NAT address instead",
           "the remedy's last word on screen")
        check(re.match(r"^ \S+\s+Attachment Protect\s+IP not allowed  HTTP 401$",
                       end[last - 3]), "the last type's row: %r" % end[last - 3])
        eq(end[18], MORE_ABOVE, "scrolled to the end")
        eq(c.screen("top"), c.screen("check"), "PgUp back to the top")


def test_f_and_pastes_fill_the_form():
    """Issue 14.14: f on the first page goes to the form; a paste with each
    label on a line of its own and its value on the next fills the fields
    it names (masked), a plain one-line paste goes into the focused field,
    and a paste of values the form cannot place fills nothing."""
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim)
        c.add("key f")
        c.dump("f")
        c.add("paste Client ID\\nmwsim-client\\n\\nClient Secret\\nsecret-0123456789")
        c.dump("pasted")
        c.add("paste acme-paste")
        c.dump("name")
        c.add("paste one\\ntwo\\nthree")
        c.dump("three")
        c.run()
        f = c.screen("f")
        check("New integration: details" in f.split("\n")[0], "f: the form:\n" + f)
        p = c.screen("pasted")
        eq(row_after(p, "Client ID").split(), ["Client", "ID", "mwsim-client"], "Client ID")
        eq(row_after(p, "Client Secret").split(), ["Client", "Secret", "*" * 17],
           "the Client Secret, masked")
        check("secret-0123456789" not in p, "the secret on screen:\n" + p)
        eq(p.rstrip("\n").split("\n")[-1].strip(),
           "filled Client ID and Client Secret from the paste (secrets masked)", "the message")
        eq(row_after(c.screen("name"), "Name").split(), ["Name", "acme-paste"],
           "one value: into the focused field")
        t = c.screen("three")
        eq(row_after(t, "Client ID").split(), ["Client", "ID", "mwsim-client"],
           "three bare lines on API 2.0 place nothing")
        eq(row_after(t, "Name").split(), ["Name", "acme-pasteonetwothree"],
           "they go into the focused field as typed, the newlines dropped")


def test_tls_failure_back_to_extra_ca_file():
    # Issue 14.13: the certificate remedy spoke of "ca_file", a name the form
    # does not show, and Esc went back to the form's first field. It names
    # the form's "Extra CA file", and Esc puts the cursor on that field.
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim)
        walk_checklist(c)
        c.add("type tls-test", "key Tab", "key Tab", "key Tab",
              "type " + mwtest.SIM_APP_ID, "key Tab", "type " + mwtest.SIM_APP_KEY, "key Tab",
              "key Tab", "type " + sim.base_url, "key Tab", "key Tab",
              "key Tab",                   # Extra CA file left empty
              "paste " + mwtest.SIM_ACCESS_KEY, "key Tab", "paste " + mwtest.SIM_SECRET_KEY,
              "key Enter", "wait-idle")
        c.dump("check")
        c.add("key Esc")
        c.dump("form")
        c.add("type " + sim.ca_file, "key Enter", "wait-idle")
        c.dump("fixed")
        c.run()
        chk = c.screen("check")
        fix = " ".join(l.strip() for l in chk.splitlines())
        check("set Extra CA file to that CA" in fix, "the remedy names the form's field:\n" + chk)
        check("ca_file" not in chk, "no config key on the check page:\n" + chk)
        form = c.screen("form")
        check("Optional: a PEM file of an extra CA to trust" in form,
              "the cursor is on Extra CA file (its hint shown):\n" + form)
        fixed = c.screen("fixed")
        check(re.search(r"^\s*\S+\s+URL Protect\s+ok\s*$", fixed, re.M),
              "typed where the cursor was, the CA file fixes the check:\n" + fixed)


if __name__ == "__main__":
    mwtest.main([test_first_run_to_saved_integration, test_bad_guid_shown_next_to_field,
                 test_permission_missing_saves_with_one_passing,
                 test_all_failing_needs_save_anyway,
                 test_refused_before_save_anyway_writes_nothing,
                 test_edit_keeps_secret_and_comments, test_api_v2_integration,
                 test_edit_switch_v1_to_v2, test_edit_switch_keeps_secret_forms,
                 test_small_terminal_and_resize, test_leave_while_checking_stays_responsive,
                 test_esc_on_first_page_confirms, test_typed_T_is_text,
                 test_region_table_scrolls_at_80x24, test_check_remedy_wraps_at_80x24,
                 test_f_and_pastes_fill_the_form, test_tls_failure_back_to_extra_ca_file,
                 test_new_integration_checked_through_top_level_proxy,
                 test_discovery_through_top_level_proxy])
