/* demo.c - --demo: two simulated tenants as mimewatch-sim child processes
 * (found via MIMEWATCH_SIM, next to mimewatch, in bindir, in
 * libexecdir/mimewatch), bound to port 0 on 127.0.0.1 and read back from
 * --port-file, TLS in the demo's own 0700 directory, PR_SET_PDEATHSIG so
 * they die with the console however it dies, and killed and reaped on
 * every exit path; plus a config for them. The console links no part of
 * the simulator. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo.h"
#include "logtypes.h"
#include "util.h"

static struct {
	char dir[1024];          /* short enough for every path under it */
	pid_t sim_pid[2];        /* the mimewatch-sim children, 0: none */
} dm;

/* mimewatch-sim's built-in credentials, as mimewatch-sim(1) documents them
 * (the console links no part of the simulator; a change there shows at once
 * as failing integrations on the demo's home screen and in test_home). */
#define DEMO_APP_ID "5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
#define DEMO_APP_KEY "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
#define DEMO_ACCESS_KEY \
	"mwsim-access-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123456789abcdef"
#define DEMO_SECRET_KEY \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
#define DEMO_CLIENT_ID "mwsim-client"
#define DEMO_CLIENT_SECRET "mwsim-client-secret-0123456789"

#define DEMO_START_MS 15000     /* a sim that has not written its port by then failed */
#define DEMO_STOP_MS 3000       /* SIGTERM, then SIGKILL */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Stops and reaps every sim still running: SIGTERM, then SIGKILL for one
 * that has not exited within DEMO_STOP_MS. */
static void demo_reap(void)
{
	int64_t until = mw_mono_ms() + DEMO_STOP_MS;

	for (int i = 0; i < 2; i++)
		if (dm.sim_pid[i] > 0)
			kill(dm.sim_pid[i], SIGTERM);
	for (int i = 0; i < 2; i++) {
		while (dm.sim_pid[i] > 0) {
			pid_t r = waitpid(dm.sim_pid[i], NULL, WNOHANG);

			if (r == dm.sim_pid[i] || (r < 0 && errno != EINTR)) {
				dm.sim_pid[i] = 0;
			} else if (mw_mono_ms() >= until) {
				kill(dm.sim_pid[i], SIGKILL);
				while (waitpid(dm.sim_pid[i], NULL, 0) < 0 && errno == EINTR)
					;
				dm.sim_pid[i] = 0;
			} else {
				mw_sleep_ms(10);
			}
		}
	}
}

void demo_stop(void)
{
	demo_reap();
	if (dm.dir[0]) {
		nftw(dm.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		dm.dir[0] = '\0';
	}
}

static int executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* mimewatch-sim: $MIMEWATCH_SIM when set; else next to this program (in a
 * build tree, where libtool may run the real binary from .libs/, also one
 * level up), then in bindir, then in libexecdir/mimewatch. The places
 * looked at go into tried, for the message when none has it. */
static int demo_find_sim(char *path, size_t n, mw_buf *tried)
{
	const char *env = getenv("MIMEWATCH_SIM");
	char self[PATH_MAX], cand[4][PATH_MAX];
	int ncand = 0, w;
	ssize_t len;

	if (env && *env) {
		mw_buf_printf(tried, "%s (MIMEWATCH_SIM)", env);
		if (!executable(env))
			return -1;
		mw_strlcpy(path, env, n);
		return 0;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		char *slash;

		self[len] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			w = snprintf(cand[ncand], PATH_MAX, "%s/mimewatch-sim", self);
			ncand += w > 0 && w < PATH_MAX;
			slash = strrchr(self, '/');
			if (slash && !strcmp(slash + 1, ".libs")) {
				*slash = '\0';
				w = snprintf(cand[ncand], PATH_MAX, "%s/mimewatch-sim", self);
				ncand += w > 0 && w < PATH_MAX;
			}
		}
	}
	snprintf(cand[ncand++], PATH_MAX, "%s/mimewatch-sim", BINDIR);
	snprintf(cand[ncand++], PATH_MAX, "%s/mimewatch/mimewatch-sim", LIBEXECDIR);
	for (int i = 0; i < ncand; i++) {
		mw_buf_printf(tried, "%s%s", i ? ", " : "", cand[i]);
		if (executable(cand[i])) {
			mw_strlcpy(path, cand[i], n);
			return 0;
		}
	}
	return -1;
}

/* The first line of what sim i wrote on stderr (its log in the demo dir),
 * for a message; "" when it wrote nothing. */
static void demo_sim_said(int i, char *out, size_t n)
{
	char logpath[PATH_MAX], *text = NULL;
	size_t len = 0;
	mw_err e;

	out[0] = '\0';
	snprintf(logpath, sizeof(logpath), "%s/sim-%d.log", dm.dir, i);
	if (mw_read_file(logpath, 65536, &text, &len, &e) < 0)
		return;
	if (len) {
		len = strcspn(text, "\n");
		snprintf(out, n, ": %.*s", (int)len, text);
	}
	free(text);
}

/* Starts `sim argv...` as sim i: stdin and stdout /dev/null, stderr into
 * the demo dir's sim-i.log, in its own process group (the terminal's keys
 * and job control are the console's), and SIGTERM when the console dies,
 * however it dies. Then waits until it has written its port. */
static int demo_spawn(int i, const char *sim, const char *const argv[], int *port, mw_err *e)
{
	char logpath[PATH_MAX], portpath[PATH_MAX], said[300];
	pid_t parent = getpid(), pid;
	int64_t until;
	int devnull, logfd, status;
	sigset_t none;

	snprintf(logpath, sizeof(logpath), "%s/sim-%d.log", dm.dir, i);
	snprintf(portpath, sizeof(portpath), "%s/sim-%d.port", dm.dir, i);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (devnull < 0 || logfd < 0) {
		mw_err_set(e, "--demo: cannot open %s: %s", devnull < 0 ? "/dev/null" : logpath,
			   strerror(errno));
		goto fail_fds;
	}
	sigemptyset(&none);
	pid = fork();
	if (pid < 0) {
		mw_err_set(e, "--demo: cannot start %s: %s", sim, strerror(errno));
		goto fail_fds;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here to exec. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(127);
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(127);
		execv(sim, (char *const *)argv);
		_exit(127);
	}
	dm.sim_pid[i] = pid;
	close(devnull);
	close(logfd);
	until = mw_mono_ms() + DEMO_START_MS;
	for (;;) {
		char *text = NULL;
		size_t len = 0;
		mw_err re;
		pid_t r;

		if (mw_read_file(portpath, 64, &text, &len, &re) == 0) {
			char *end;
			long v = strtol(text, &end, 10);

			free(text);
			if (end != text && v > 0 && v <= 65535) {
				*port = (int)v;
				return 0;
			}
		}
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			dm.sim_pid[i] = 0;
			demo_sim_said(i, said, sizeof(said));
			if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !said[0])
				mw_err_set(e, "--demo: cannot run %s", sim);
			else if (WIFEXITED(status))
				mw_err_set(e, "--demo: %s exited with status %d%s", sim,
					   WEXITSTATUS(status), said);
			else
				mw_err_set(e, "--demo: %s died of signal %d%s", sim,
					   WTERMSIG(status), said);
			return -1;
		}
		if (mw_mono_ms() >= until) {
			demo_sim_said(i, said, sizeof(said));
			mw_err_set(e, "--demo: %s did not report its port within %d s%s", sim,
				   DEMO_START_MS / 1000, said);
			return -1;
		}
		mw_sleep_ms(20);
	}

fail_fds:
	if (devnull >= 0)
		close(devnull);
	if (logfd >= 0)
		close(logfd);
	return -1;
}

static void yaml_integration(mw_buf *b, const char *name, const char *desc, int api, int port)
{
	mw_buf_printf(b, "  - name: %s\n    description: %s\n    api: v%d\n", name, desc, api);
	mw_buf_printf(b, "    base_url: https://127.0.0.1:%d\n    ca_file: %s/sim-ca.pem\n", port,
		      dm.dir);
	if (api == 1)
		mw_buf_printf(b, "    app_id: %s\n    app_key: %s\n    access_key: %s\n"
			      "    secret_key: %s\n", DEMO_APP_ID, DEMO_APP_KEY, DEMO_ACCESS_KEY,
			      DEMO_SECRET_KEY);
	else
		mw_buf_printf(b, "    client_id: %s\n    client_secret: %s\n", DEMO_CLIENT_ID,
			      DEMO_CLIENT_SECRET);
	mw_buf_puts(b, "    types: [");
	/* SIEM events from the 2.0 tenant's batch files; the 1.0 tenants keep
	 * to the paged types, so home stays one screen */
	for (size_t t = 0, k = 0; t < mw_nlogtypes; t++)
		if (api == 2 || mw_logtypes[t].shape != MW_SHAPE_BATCH)
			mw_buf_printf(b, "%s%s", k++ ? ", " : "", mw_logtypes[t].name);
	mw_buf_puts(b, "]\n"
		       "    interval: 10s\n    lookback: 2h\n    lag: 0s\n    overlap: 1m\n"
		       "    page_size: 100\n");
}

/* Two simulated tenants (mimewatch-sim child processes) on 127.0.0.1 and a
 * config for them, all inside a fresh 0700 directory that is removed on
 * exit. Records keep arriving (no --records), one every 2 s per type over
 * the last 2 hours. */
int demo_start(char *config_path, size_t n, mw_err *e)
{
	const char *tmp = getenv("TMPDIR");
	char sim[PATH_MAX], cfgpath[PATH_MAX], portfile[2][PATH_MAX];
	mw_buf y, tried;
	int port[2], rc;

	mw_buf_init(&tried);
	rc = demo_find_sim(sim, sizeof(sim), &tried);
	if (rc < 0)
		mw_err_set(e, "--demo needs mimewatch-sim, and it is not an executable file at %s; "
			   "install it, or set MIMEWATCH_SIM to its path", tried.data);
	mw_buf_free(&tried);
	if (rc < 0)
		return -1;
	snprintf(dm.dir, sizeof(dm.dir), "%s/mimewatch-demo.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dm.dir)) {
		mw_err_set(e, "--demo: cannot create a temporary directory in %s: %s; set TMPDIR "
			   "to a writable directory", tmp && *tmp ? tmp : "/tmp", strerror(errno));
		dm.dir[0] = '\0';
		return -1;
	}
	chmod(dm.dir, 0700);
	/* One after the other: the second reuses the certificate the first
	 * wrote into the shared --cert-dir, so one ca_file serves both. */
	for (int i = 0; i < 2; i++) {
		const char *argv[32];
		int a = 0;

		snprintf(portfile[i], sizeof(portfile[i]), "%s/sim-%d.port", dm.dir, i);
		argv[a++] = sim;
		argv[a++] = "--bind";
		argv[a++] = "127.0.0.1";
		argv[a++] = "--port";
		argv[a++] = "0";
		argv[a++] = "--port-file";
		argv[a++] = portfile[i];
		argv[a++] = "--tls";
		argv[a++] = "--cert-dir";
		argv[a++] = dm.dir;
		argv[a++] = "--span";
		argv[a++] = "2h";
		argv[a++] = "--spacing-ms";
		argv[a++] = "2000";
		argv[a++] = "--seed";
		argv[a++] = i == 0 ? "1" : "2";
		argv[a++] = "--quiet";
		if (i == 0) {
			/* A real bucket that a burst of fetches can empty, and a few
			 * scheduled 429s with a long reset, so the throttled state
			 * and its countdown show now and then without slowing the
			 * first backfill down to a crawl. */
			argv[a++] = "--rate-limit";
			argv[a++] = "30";
			/* 10 calls a second: the 2-hour backfill at Mimecast's page
			 * size of 100 (~220 pages) takes about 20 s. */
			argv[a++] = "--refill-ms";
			argv[a++] = "100";
			argv[a++] = "--fault";
			argv[a++] = "429:type=url,after=24,count=1,reset=12000";
			argv[a++] = "--fault";
			argv[a++] = "429:type=attachment,after=40,count=1,reset=9000";
		} else {
			argv[a++] = "--deny-permission";
			argv[a++] = "impersonation";
		}
		argv[a] = NULL;
		if (demo_spawn(i, sim, argv, &port[i], e) < 0) {
			demo_stop();
			return -1;
		}
	}
	mw_buf_init(&y);
	mw_buf_printf(&y, "# mimewatch --demo: two simulated tenants on 127.0.0.1\n"
		      "state_dir: %s/state\nintegrations:\n", dm.dir);
	yaml_integration(&y, "acme-eu", "Acme, EU tenant (healthy)", 1, port[0]);
	yaml_integration(&y, "acme-v2", "Acme on API 2.0", 2, port[0]);
	yaml_integration(&y, "globex-us", "Globex, service user lacks a permission", 1, port[1]);
	mw_buf_printf(&y, "outputs:\n  - type: ndjson\n    dir: %s/out\n", dm.dir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/config.yaml", dm.dir);
	rc = mw_write_file_atomic(cfgpath, y.data, y.len, e);
	mw_buf_free(&y);
	if (rc < 0) {
		demo_stop();
		return -1;
	}
	chmod(cfgpath, 0600);
	mw_strlcpy(config_path, cfgpath, n);
	return 0;
}
