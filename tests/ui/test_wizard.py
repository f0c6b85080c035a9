#!/usr/bin/env python3
"""test_wizard - the onboarding wizard, driven through the console's script
mode against mimewatch-sim on 127.0.0.1 (harness: tests/integration/mwtest.py).

Each test starts the console with --config naming a file that does not exist
(so the wizard opens), feeds keys from a script, and asserts on the exact text
of the dumped screens and on the config file the wizard saved. Discovery is
pointed at the simulated tenant with MIMEWATCH_DISCOVER_URL; nothing but
127.0.0.1 is ever contacted.
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
import mwtest  # noqa: E402
from mwtest import check, eq  # noqa: E402

CHECKLIST_STEPS = 7
WRONG_SECRET = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="  # base64, not the sim's key


class Console:
    """One scripted console run in a sim's temp dir."""

    def __init__(self, sim, config=None, size=(100, 30)):
        self.sim = sim
        self.config = config or os.path.join(sim.dir, "new", "config.yaml")
        self.size = size
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


def walk_checklist(c):
    """Ticks every checklist page with Space, dumping two of them."""
    c.dump("step1")
    c.add("key Space", "key Space")
    c.dump("step3")
    for _ in range(CHECKLIST_STEPS - 2):
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
        check("Mimecast setup, step 1 of 7: Find your region's API base URL" in s1, s1)
        check(re.search(r"eu\s+https://eu-api\.mimecast\.com\s+Europe \(excluding Germany\)",
                        s1), "the region table is missing on step 1:\n" + s1)
        s3 = c.screen("step3")
        check("step 3 of 7: Create an API 1.0 application" in s3, s3)
        check("Where: Administration > Services > API and Platform Integrations" in s3, s3)
        flat3 = " ".join(s3.split())
        check("only 30 minutes after the application was created" in flat3, s3)
        check("`mimewatch --demo`" in flat3, s3)
        check("[x] 1 Region  [x] 2 Logging  [ ] 3 Application" in s3,
              "steps ticked with Space are not shown ticked:\n" + s3)

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
        c.add("key Tab", "key Enter")                       # from the CA field: submit
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


def test_api_v2_integration():
    with mwtest.Sim(write_config=False) as sim:
        c = Console(sim)
        walk_checklist(c)
        c.add("type acme-v2", "key Tab", "key Tab",
              "key Space",                        # API 2.0
              "key Tab", "key Tab", "key C-u", "type " + sim.base_url, "key Tab",
              "type " + sim.ca_file, "key Tab",
              "type mwsim-client", "key Tab", "paste mwsim-client-secret-0123456789")
        c.dump("form")
        c.add("key Enter", "wait-idle")
        c.dump("check")
        c.add("key Enter", "wait-idle")
        c.run()
        form = c.screen("form")
        check("(*) API 2.0" in form and "Application ID" not in form, form)
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
        c.add(*(["key Esc"] * CHECKLIST_STEPS))             # form -> step 7 -> ... -> step 1
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
        c.add(*(["key Enter"] * CHECKLIST_STEPS))
        c.add("type half-typed", "key Esc")       # form -> last checklist page
        c.add(*(["key Esc"] * (CHECKLIST_STEPS - 1)))
        c.add("key Esc")
        c.dump("ask")
        c.add("key n")
        c.dump("stayed")
        c.run()
        check("Leave the wizard and lose what you typed? y leaves, any other key stays"
              in c.screen("ask"), c.screen("ask"))
        check("step 1 of 7" in c.screen("stayed"), c.screen("stayed"))


if __name__ == "__main__":
    mwtest.main([test_first_run_to_saved_integration, test_bad_guid_shown_next_to_field,
                 test_permission_missing_saves_with_one_passing,
                 test_all_failing_needs_save_anyway,
                 test_refused_before_save_anyway_writes_nothing,
                 test_edit_keeps_secret_and_comments, test_api_v2_integration,
                 test_small_terminal_and_resize, test_leave_while_checking_stays_responsive,
                 test_esc_on_first_page_confirms])
