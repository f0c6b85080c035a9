#!/usr/bin/env python3
"""systemd credentials (issue 16 item 7): KEY_credential: NAME reads
$CREDENTIALS_DIRECTORY/NAME, as a service started with LoadCredential=
sees it; here a temporary directory plays systemd's part.

- API 2.0's client_secret_credential: every record arrives, and the secret
  is in no output;
- $CREDENTIALS_DIRECTORY unset, or the credential missing: loading stops
  (exit 2) naming the key and LoadCredential=;
- proxy_password_credential through tinyproxy with BasicAuth.
"""

import os
import re
import shutil
import tempfile

import mwtest
from mwtest import Sim, check, eq
from test_proxy import PASSWORD, TinyProxy, add_keys, collected, env_with

ITEM = "16.7 credentials"
SIM_ARGS = ["--records", "30", "--span", "1h"]


def cred_dir(**creds):
    """A directory of credentials as systemd makes one: 0500, files 0400."""
    d = tempfile.mkdtemp(prefix="mwcreds-")
    for name, value in creds.items():
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(value)
        os.chmod(path, 0o400)
    os.chmod(d, 0o500)
    return d


def secret_to_credential(sim, name):
    """Moves the config's client_secret into credential name; returns it."""
    text = sim.read_config()
    m = re.search(r'(?m)^(\s*)client_secret: "?([^"\n]+)"?\n', text)
    check(m, "no client_secret in the sim's config:\n%s" % text)
    text = text.replace(m.group(0), "%sclient_secret_credential: %s\n" % (m.group(1), name))
    with open(sim.config, "w") as f:
        f.write(text)
    return m.group(2)


def test_client_secret_credential():
    with Sim(SIM_ARGS, api="v2") as sim:
        secret = secret_to_credential(sim, "acme-secret")
        d = cred_dir(**{"acme-secret": secret + "\n"})
        try:
            r = sim.mw(["fetch"], env=env_with())
            eq(r.rc, 2, "fetch without $CREDENTIALS_DIRECTORY\n%s" % r)
            check("client_secret_credential: $CREDENTIALS_DIRECTORY is not set" in r.err and
                  "LoadCredential=acme-secret:" in r.err, "message: %s" % r.err)
            empty = cred_dir()
            r = sim.mw(["fetch"], env=env_with(CREDENTIALS_DIRECTORY=empty))
            eq(r.rc, 2, "fetch with the credential missing\n%s" % r)
            check("there is no credential acme-secret in $CREDENTIALS_DIRECTORY" in r.err,
                  "message: %s" % r.err)
            shutil.rmtree(empty, ignore_errors=True)
            env = env_with(CREDENTIALS_DIRECTORY=d)
            r = collected(sim, "client_secret_credential", env, "sim-v2")
            seen = r.out + r.err
            for args in (["status", "--json"], ["validate"]):
                o = sim.mw(args, env=env)
                seen += o.out + o.err
            check(secret not in seen, "the client secret was printed")
            mwtest.report(ITEM, "client_secret_credential", "exact")
        finally:
            shutil.rmtree(d, ignore_errors=True)


def test_proxy_password_credential():
    with Sim(SIM_ARGS) as sim, TinyProxy(auth=("mwuser", PASSWORD)) as tp:
        add_keys(sim, proxy=tp.url, proxy_user="mwuser",
                 proxy_password_credential="proxy-pw")
        d = cred_dir(**{"proxy-pw": PASSWORD})
        try:
            collected(sim, "proxy_password_credential", env_with(CREDENTIALS_DIRECTORY=d))
            check(tp.connects(sim.port) >= 1, "no CONNECT through the proxy")
            mwtest.report(ITEM, "proxy_password_credential", "exact through BasicAuth")
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    mwtest.main([test_client_secret_credential, test_proxy_password_credential])
