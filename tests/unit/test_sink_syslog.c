/* test_sink_syslog.c - the syslog sink against a real rsyslogd that each test
 * starts itself (rsyslogd -n -f CONF -i PIDFILE, its own work directory,
 * ports on 127.0.0.1, omfile into the test's temp dir).
 *
 * rsyslogd runs with a Direct main queue, so imrelp answers a frame only
 * after omfile has written it: an acknowledged record is in the file even
 * if rsyslogd is then killed with SIGKILL. Two omfile actions write every
 * mimewatch message: %rawmsg% (compared byte for byte with a message this
 * file builds on its own) and the parsed fields (PRI, TIMESTAMP, HOSTNAME,
 * APP-NAME, PROCID, MSGID, STRUCTURED-DATA, MSG), so a framing or escaping
 * mistake shows either way. Ids in the structured data identify lost and
 * duplicated records across a restart.
 *
 * Figures (records/s per transport, RELP duplicates and TCP loss across an
 * rsyslogd SIGKILL and restart) are printed as "FIGURE ..." lines.
 * Exits 77 (skip) without rsyslogd; RELP and TLS cases skip without
 * imrelp / the ossl stream driver. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <json-c/json.h>

#include "testutil.h"
#include "jsonout.h"
#include "output/private.h"
#include "util.h"

#define RSYSLOGD "/usr/sbin/rsyslogd"
#define MODDIR "/usr/lib/x86_64-linux-gnu/rsyslog"
#define HOSTNAME "mw-test.example"
#define T0 1714557600LL        /* 2024-05-01T10:00:00Z */
#define BIG 20000              /* records in the restart and rate runs */
#define BATCH 500

static char rsyslogd_path[256];

/* ------------------------------------------------------------ rsyslogd */

struct rs {
	char dir[128];
	pid_t pid;
	int tcp_port, relp_port, tls_port;
	int tls;                /* imtcp with the ossl driver instead of plain */
	int sdparse;            /* also rsyslog's own SD parser (mmpstrucdata) into sd.json */
};

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int have_module(const char *m)
{
	char p[256];

	snprintf(p, sizeof(p), MODDIR "/%s.so", m);
	return access(p, R_OK) == 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path, size_t *len)
{
	char *data = NULL;
	mw_err e;

	if (mw_read_file(path, 1u << 30, &data, len, &e) < 0) {
		*len = 0;
		return mw_xstrdup("");
	}
	return data;
}

static void rs_conf(struct rs *r)
{
	mw_buf c;
	char path[256];

	mw_buf_init(&c);
	mw_buf_printf(&c, "global(workDirectory=\"%s/work\" maxMessageSize=\"256k\"\n"
		      "       parser.escapeControlCharactersOnReceive=\"off\"", r->dir);
	if (r->tls)
		mw_buf_printf(&c, "\n       defaultNetstreamDriver=\"ossl\"\n"
			      "       defaultNetstreamDriverCAFile=\"%s/ca.pem\"\n"
			      "       defaultNetstreamDriverCertFile=\"%s/server.pem\"\n"
			      "       defaultNetstreamDriverKeyFile=\"%s/server.key\"",
			      r->dir, r->dir, r->dir);
	mw_buf_puts(&c, ")\nmain_queue(queue.type=\"Direct\")\n");
	if (r->tls)
		mw_buf_puts(&c, "module(load=\"imtcp\" streamDriver.name=\"ossl\" "
			    "streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n");
	else
		mw_buf_puts(&c, "module(load=\"imtcp\")\n");
	mw_buf_printf(&c, "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\")\n",
		      r->tls ? r->tls_port : r->tcp_port);
	if (!r->tls && r->relp_port)
		mw_buf_printf(&c, "module(load=\"imrelp\")\n"
			      "input(type=\"imrelp\" address=\"127.0.0.1\" port=\"%d\" "
			      "maxDataSize=\"256k\")\n", r->relp_port);
	if (r->sdparse)
		mw_buf_printf(&c, "module(load=\"mmpstrucdata\")\n"
			      "template(name=\"sdjson\" type=\"string\" "
			      "string=\"%%$!rfc5424-sd%%\\n\")\n"
			      "if $app-name == \"mimewatch\" then {\n"
			      "  action(type=\"mmpstrucdata\")\n"
			      "  action(type=\"omfile\" file=\"%s/sd.json\" template=\"sdjson\" "
			      "fileCreateMode=\"0600\")\n"
			      "}\n", r->dir);
	mw_buf_printf(&c,
		      "template(name=\"raw\" type=\"string\" string=\"%%rawmsg%%\\n\")\n"
		      "template(name=\"fields\" type=\"string\" string=\"%%pri%%\\t"
		      "%%timereported:::date-rfc3339%%\\t%%hostname%%\\t%%app-name%%\\t"
		      "%%procid%%\\t%%msgid%%\\t%%structured-data%%\\t%%msg%%\\n\")\n"
		      "if $app-name == \"mimewatch\" then {\n"
		      "  action(type=\"omfile\" file=\"%s/raw.log\" template=\"raw\" "
		      "fileCreateMode=\"0600\")\n"
		      "  action(type=\"omfile\" file=\"%s/fields.log\" template=\"fields\" "
		      "fileCreateMode=\"0600\")\n"
		      "}\n", r->dir, r->dir);
	snprintf(path, sizeof(path), "%s/rsyslog.conf", r->dir);
	write_text(path, c.data);
	mw_buf_free(&c);
}

static int port_open(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static void rs_start(struct rs *r)
{
	char conf[256], pidf[256], logf[256];
	int64_t until = mw_mono_ms() + 10000;
	pid_t pid;

	snprintf(conf, sizeof(conf), "%s/rsyslog.conf", r->dir);
	snprintf(pidf, sizeof(pidf), "%s/rsyslogd.pid", r->dir);
	snprintf(logf, sizeof(logf), "%s/rsyslogd.out", r->dir);
	unlink(pidf);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(rsyslogd_path, "rsyslogd", "-n", "-f", conf, "-i", pidf, (char *)NULL);
		_exit(127);
	}
	r->pid = pid;
	for (;;) {
		int st, ready = port_open(r->tls ? r->tls_port : r->tcp_port);

		if (ready && !r->tls && r->relp_port)
			ready = port_open(r->relp_port);
		if (ready)
			return;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			size_t n;
			char *log = slurp(logf, &n);
			r->pid = 0;
			fail_msg("rsyslogd exited at start: %s", log);
		}
		if (mw_mono_ms() > until)
			fail_msg("rsyslogd did not listen within 10 s");
		mw_sleep_ms(20);
	}
}

static void rs_stop(struct rs *r, int sig)
{
	if (r->pid > 0) {
		kill(r->pid, sig);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
	}
}

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* A CA and a server certificate for localhost (and no IP address), plus a
 * second, unrelated CA: the trust anchor for the "wrong CA" case. */
static void make_certs(const char *d)
{
	sh("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mw-test-ca "
	   "-keyout ca.key -out ca.pem >/dev/null 2>&1", d);
	sh("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca "
	   "-keyout other.key -out other.pem >/dev/null 2>&1", d);
	sh("cd %s && printf 'subjectAltName=DNS:localhost\\n' > san.ext && "
	   "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key "
	   "-out server.csr >/dev/null 2>&1 && openssl x509 -req -in server.csr -CA ca.pem "
	   "-CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem "
	   ">/dev/null 2>&1", d);
}

struct fx {
	struct rs rs;
};

static int setup(void **state)
{
	struct fx *f = mw_xcalloc(1, sizeof(*f));
	char work[256];

	snprintf(f->rs.dir, sizeof(f->rs.dir), "/tmp/mw_syslog_XXXXXX");
	if (!mkdtemp(f->rs.dir))
		return -1;
	snprintf(work, sizeof(work), "%s/work", f->rs.dir);
	mkdir(work, 0700);
	f->rs.tcp_port = free_port();
	f->rs.relp_port = have_module("imrelp") ? free_port() : 0;
	f->rs.tls_port = free_port();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rs_stop(&f->rs, SIGKILL);
	rm_rf(f->rs.dir);
	free(f);
	return 0;
}

/* ------------------------------------------------------------- records */

struct recs {
	size_t n;
	struct sink_msg *m;
	char **lines, **ids, **ints;
	int *threat;
};

/* Record i: plain ids "r000001" for bulk runs; hostile ones put quotes, ']',
 * backslashes and escaped newlines in every field a receiver parses. */
static void recs_make(struct recs *r, size_t n, int hostile)
{
	size_t i;

	r->n = n;
	r->m = mw_xcalloc(n, sizeof(*r->m));
	r->lines = mw_xcalloc(n, sizeof(char *));
	r->ids = mw_xcalloc(n, sizeof(char *));
	r->ints = mw_xcalloc(n, sizeof(char *));
	r->threat = mw_xcalloc(n, sizeof(int));
	for (i = 0; i < n; i++) {
		mw_buf b;
		int imp = hostile && i % 3 == 1;
		char id[64], tm[32];

		mw_buf_init(&b);
		if (hostile) {
			snprintf(id, sizeof(id), "h\"]\\%06zu]", i);
			r->ints[i] = mw_xstrdup(i % 2 ? "acme \"eu\"]\\x" : "acme-eu");
		} else {
			snprintf(id, sizeof(id), "r%06zu", i);
			r->ints[i] = mw_xstrdup("acme-eu");
		}
		r->ids[i] = mw_xstrdup(id);
		mw_format_rfc3339(T0 + (int64_t)i, tm);
		/* The JSON side: the same strings, JSON-escaped. */
		mw_buf_puts(&b, "{\"integration\":\"");
		for (const char *p = r->ints[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				mw_buf_putc(&b, '\\');
			mw_buf_putc(&b, *p);
		}
		mw_buf_printf(&b, "\",\"type\":\"%s\",\"id\":\"", imp ? "impersonation" : "url");
		for (const char *p = id; *p; p++) {
			if (*p == '"' || *p == '\\')
				mw_buf_putc(&b, '\\');
			mw_buf_putc(&b, *p);
		}
		mw_buf_printf(&b, "\",\"time\":\"%s\",\"record\":{", tm);
		if (imp) {
			r->threat[i] = i % 2 == 1;
			mw_buf_printf(&b, "\"id\":\"%s\",\"taggedMalicious\":%s,"
				      "\"subject\":\"a]b\\\"c\\\\d\\ne\\u001b[31m \u00e9\"}}",
				      "x", r->threat[i] ? "true" : "false");
		} else {
			r->threat[i] = i % 5 == 0;
			mw_buf_printf(&b, "\"url\":\"https://x.example/?q=%zu&a=\\\"]\\\\\","
				      "\"scanResult\":\"%s\",\"pad\":\"%s\"}}", i,
				      r->threat[i] ? "malicious" : "clean",
				      hostile ? "]]\\\\\\\"\\n\\r\\t" :
				      "0123456789abcdef0123456789abcdef0123456789abcdef"
				      "0123456789abcdef0123456789abcdef0123456789abcdef"
				      "0123456789abcdef0123456789abcdef0123456789abcdef"
				      "0123456789abcdef0123456789abcdef0123456789abcdef");
		}
		r->lines[i] = b.data;
		r->m[i].line = r->lines[i];
		r->m[i].len = b.len;
		r->m[i].integration = r->ints[i];
		r->m[i].type = imp ? "impersonation" : "url";
		r->m[i].id = r->ids[i];
		r->m[i].time = T0 + (int64_t)i;
		r->m[i].rowid = (int64_t)i + 1;
	}
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->lines[i]);
		free(r->ids[i]);
		free(r->ints[i]);
	}
	free(r->lines);
	free(r->ids);
	free(r->ints);
	free(r->threat);
	free(r->m);
}

/* RFC 5424 section 6.3.3, written here independently of the sink. */
static void sd_escape(mw_buf *b, const char *s)
{
	for (; *s; s++) {
		if (strchr("\"\\]", *s))
			mw_buf_putc(b, '\\');
		mw_buf_putc(b, *s);
	}
}

static void expect_sd(mw_buf *b, const struct recs *r, size_t i)
{
	mw_buf_puts(b, "[mimewatch@32473 integration=\"");
	sd_escape(b, r->m[i].integration);
	mw_buf_puts(b, "\" type=\"");
	sd_escape(b, r->m[i].type);
	mw_buf_puts(b, "\" id=\"");
	sd_escape(b, r->m[i].id);
	mw_buf_puts(b, "\"]");
}

static void expect_raw(mw_buf *b, const struct recs *r, size_t i)
{
	char tm[32];

	mw_format_rfc3339(r->m[i].time, tm);
	mw_buf_printf(b, "<%d>1 %s " HOSTNAME " mimewatch %ld - ", r->threat[i] ? 133 : 134, tm,
		      (long)getpid());
	expect_sd(b, r, i);
	mw_buf_putc(b, ' ');
	mw_buf_puts(b, r->lines[i]);
}

/* Splits text into lines (in place). */
static size_t split_lines(char *text, size_t len, char ***out)
{
	size_t n = 0, cap = 0;
	char *p = text, *end = text + len;

	*out = NULL;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		*nl = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			*out = mw_xrealloc(*out, cap * sizeof(char *));
		}
		(*out)[n++] = p;
		p = nl + 1;
	}
	return n;
}

/* Every line of raw.log and fields.log must be record i's message, for
 * i = 0..n-1 in order (the exact-arrival cases). */
static void check_exact(const struct rs *rs, const struct recs *r)
{
	char path[256], **raw, **fl;
	size_t rl, fln, nraw, nf, i;
	char *rt, *ft;
	mw_buf b;

	snprintf(path, sizeof(path), "%s/raw.log", rs->dir);
	rt = slurp(path, &rl);
	snprintf(path, sizeof(path), "%s/fields.log", rs->dir);
	ft = slurp(path, &fln);
	nraw = split_lines(rt, rl, &raw);
	nf = split_lines(ft, fln, &fl);
	assert_int_equal(nraw, r->n);
	assert_int_equal(nf, r->n);
	mw_buf_init(&b);
	for (i = 0; i < r->n; i++) {
		char tm[32], *f[8], *p = fl[i];
		int k;

		mw_buf_reset(&b);
		expect_raw(&b, r, i);
		assert_string_equal(raw[i], b.data);
		/* Fields: PRI TIMESTAMP HOSTNAME APP PROCID MSGID SD MSG, by tabs
		 * (no field here holds a tab; the JSON escapes them). */
		for (k = 0; k < 7; k++) {
			char *t = strchr(p, '\t');
			assert_non_null(t);
			*t = '\0';
			f[k] = p;
			p = t + 1;
		}
		f[7] = p;
		assert_int_equal(atoi(f[0]), r->threat[i] ? 133 : 134);
		mw_format_rfc3339(r->m[i].time, tm);
		tm[19] = '\0';                /* rsyslog writes the zone its own way */
		assert_true(strncmp(f[1], tm, 19) == 0);
		assert_true(strcmp(f[1] + 19, "Z") == 0 || strcmp(f[1] + 19, "+00:00") == 0);
		assert_string_equal(f[2], HOSTNAME);
		assert_string_equal(f[3], "mimewatch");
		assert_int_equal(atol(f[4]), (long)getpid());
		assert_string_equal(f[5], "-");
		mw_buf_reset(&b);
		expect_sd(&b, r, i);
		assert_string_equal(f[6], b.data);
		assert_string_equal(f[7], r->lines[i]);
	}
	mw_buf_free(&b);
	free(raw);
	free(fl);
	free(rt);
	free(ft);
}

/* Counts per id "rNNNNNN" in fields.log: lost, duplicated, and lines that
 * are no complete message of ours (a torn frame). */
static size_t last_lost;   /* highest lost index, or 0 */

static void count_ids(const struct rs *rs, const struct recs *r, size_t *lost, size_t *dups,
		      size_t *torn)
{
	char path[256], **fl;
	size_t len, n, i;
	char *text;
	int *seen = mw_xcalloc(r->n, sizeof(int));
	mw_buf b;

	mw_buf_init(&b);
	snprintf(path, sizeof(path), "%s/fields.log", rs->dir);
	text = slurp(path, &len);
	n = split_lines(text, len, &fl);
	*lost = *dups = *torn = 0;
	for (i = 0; i < n; i++) {
		char *sd = strstr(fl[i], "id=\"r");
		char *msg = strrchr(fl[i], '\t');
		size_t k;

		if (!sd || !msg || sscanf(sd, "id=\"r%zu\"", &k) != 1 || k >= r->n ||
		    strcmp(msg + 1, r->lines[k]) != 0) {
			(*torn)++;
			continue;
		}
		mw_buf_reset(&b);
		expect_sd(&b, r, k);
		if (!strstr(fl[i], b.data)) {
			(*torn)++;
			continue;
		}
		seen[k]++;
	}
	last_lost = 0;
	for (i = 0; i < r->n; i++) {
		if (seen[i] == 0) {
			(*lost)++;
			last_lost = i;
		}
		else
			*dups += (size_t)seen[i] - 1;
	}
	free(seen);
	free(fl);
	free(text);
	mw_buf_free(&b);
}

/* Plain TCP has no acknowledgement from rsyslogd itself: before stopping
 * it, wait until it has written n lines, or nothing more for a second. */
static void wait_lines(const struct rs *rs, size_t n)
{
	char path[256];
	size_t last = (size_t)-1;
	int64_t changed = mw_mono_ms();

	snprintf(path, sizeof(path), "%s/fields.log", rs->dir);
	while (mw_mono_ms() - changed < 1000) {
		size_t len, i, lines = 0;
		char *t = slurp(path, &len);
		for (i = 0; i < len; i++)
			lines += t[i] == '\n';
		free(t);
		if (lines >= n)
			return;
		if (lines != last) {
			last = lines;
			changed = mw_mono_ms();
		}
		mw_sleep_ms(20);
	}
}

/* ------------------------------------------------------------- drivers */

static sink *open_sink(const char *url, const char *ca, int timeout_ms, atomic_int *abort_flag)
{
	struct sink_opts o;
	sink *s = NULL;
	mw_err e;

	memset(&o, 0, sizeof(o));
	o.name = "siem";
	o.url = url;
	o.ca_file = ca;
	o.hostname = HOSTNAME;
	o.timeout_ms = timeout_ms;
	o.abort_flag = abort_flag;
	e.msg[0] = '\0';
	if (sink_syslog_ops.open(&o, &s, &e) != 0)
		fail_msg("open %s: %s", url, e.msg);
	return s;
}

/* What the output thread does: batches from the first undelivered record,
 * retrying after a failure until everything is delivered. progress is the
 * count delivered so far (the restart thread watches it). */
static volatile size_t progress;

static int64_t deliver_all(sink *s, const struct recs *r, size_t batch, size_t *failures)
{
	size_t off = 0;
	int64_t t0 = mw_mono_ms(), until = t0 + 45000;

	*failures = 0;
	progress = 0;
	while (off < r->n) {
		size_t n = r->n - off < batch ? r->n - off : batch, got = 99999;
		enum sink_fail why = SINK_FATAL;
		mw_err e;
		int rc = sink_syslog_ops.send(s, r->m + off, n, &got, &why, &e);

		if (rc == 0) {
			assert_int_equal(got, n);
		} else {
			assert_int_equal(rc, -1);
			assert_true(got < n);
			assert_int_equal(why, SINK_RETRY);
			assert_true(e.msg[0] != '\0');
			if (getenv("SINK_TEST_VERBOSE"))
				printf("send failed at %zu (+%zu): %s\n", off, got, e.msg);
			(*failures)++;
			mw_sleep_ms(50);
		}
		off += got;
		progress = off;
		if (mw_mono_ms() > until)
			fail_msg("not delivered within 45 s: %zu of %zu", off, r->n);
	}
	return mw_mono_ms() - t0;
}

static void send_exact(sink *s, const struct recs *r)
{
	size_t failures;

	deliver_all(s, r, BATCH, &failures);
	assert_int_equal(failures, 0);
}

/* ---------------------------------------------------------------- tests */

static void test_open_errors(void **state)
{
	static const struct {
		const char *url, *ca, *want, *cert, *key;
	} bad[] = {
		{ NULL, NULL, "url is missing" },
		{ "udp://127.0.0.1:514", NULL, "scheme must be" },
		{ "tcp://127.0.0.1", NULL, "port is missing" },
		{ "tcp://:514", NULL, "host is missing" },
		{ "tcp://127.0.0.1:0", NULL, "from 1 to 65535" },
		{ "tcp://127.0.0.1:65536", NULL, "from 1 to 65535" },
		{ "tcp://127.0.0.1:514/x", NULL, "from 1 to 65535" },
		{ "tcp://[::1:514", NULL, "[addr]:port" },
		{ "tcp://127.0.0.1:514", "/etc/hostname", "only used with tls://" },
		{ "tls://localhost:6514", "/nonexistent/ca.pem", "cannot be read as PEM" },
		{ "relp+tls://localhost", NULL, "port is missing" },
		{ "relp+tls://localhost:2514", NULL, "needs ca_file", "/etc/hostname",
		  "/etc/hostname" },
		{ "relp+tls://localhost:2514", "/etc/hostname", "needs client_cert" },
		{ "relp+tls://localhost:2514", "/nonexistent/ca.pem", "ca_file /nonexistent/ca.pem "
		  "cannot be read", "/etc/hostname", "/etc/hostname" },
		{ "tcp://127.0.0.1:514", NULL, "only used with tls:// and relp+tls://",
		  "/etc/hostname", "/etc/hostname" },
		{ "tls://localhost:6514", NULL, "client_cert without client_key", "/etc/hostname" },
		{ "tls://localhost:6514", NULL, "client_key /nonexistent/k.pem cannot be read",
		  "/etc/hostname", "/nonexistent/k.pem" },
		{ "tls://localhost:6514", NULL, "client_cert /etc/hostname cannot be read as a PEM",
		  "/etc/hostname", "/etc/hostname" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sink_opts o;
		sink *s = (sink *)1;
		mw_err e;

		memset(&o, 0, sizeof(o));
		o.name = "siem";
		o.url = bad[i].url;
		o.ca_file = bad[i].ca;
		o.client_cert = bad[i].cert;
		o.client_key = bad[i].key;
		e.msg[0] = '\0';
		assert_int_equal(sink_syslog_ops.open(&o, &s, &e), -1);
		assert_null(s);
		if (!strstr(e.msg, bad[i].want) || !strstr(e.msg, "siem"))
			fail_msg("url %s: message \"%s\" lacks \"%s\"", bad[i].url ? bad[i].url : "(null)",
				 e.msg, bad[i].want);
	}
}

/* Nobody listening: a prompt retryable failure, nothing delivered; then
 * rsyslogd comes up and the same sink delivers (reconnect on next send). */
static void run_down_then_up(struct fx *f, const char *scheme, int port)
{
	struct recs r;
	char url[64];
	sink *s;
	size_t got = 7;
	enum sink_fail why = SINK_FATAL;
	mw_err e;
	int64_t t0;

	recs_make(&r, 10, 0);
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d", scheme, port);
	s = open_sink(url, NULL, 2000, NULL);
	t0 = mw_mono_ms();
	assert_int_equal(sink_syslog_ops.send(s, r.m, r.n, &got, &why, &e), -1);
	assert_true(mw_mono_ms() - t0 < 2500);
	assert_int_equal(got, 0);
	assert_int_equal(why, SINK_RETRY);
	assert_non_null(strstr(e.msg, "siem"));
	rs_conf(&f->rs);
	rs_start(&f->rs);
	send_exact(s, &r);
	wait_lines(&f->rs, r.n);
	/* rsyslogd goes away between batches: the next send notices. */
	rs_stop(&f->rs, SIGTERM);
	assert_int_equal(sink_syslog_ops.send(s, r.m, r.n, &got, &why, &e), -1);
	assert_int_equal(got, 0);
	assert_int_equal(why, SINK_RETRY);
	rs_start(&f->rs);
	send_exact(s, &r);
	wait_lines(&f->rs, 2 * r.n);
	rs_stop(&f->rs, SIGTERM);
	sink_syslog_ops.close(s);
	{
		size_t lost, dups, torn;
		count_ids(&f->rs, &r, &lost, &dups, &torn);
		assert_int_equal(lost, 0);
		assert_int_equal(dups, r.n);    /* sent twice on purpose */
		assert_int_equal(torn, 0);
	}
	recs_free(&r);
}

static void test_tcp_down_then_up(void **state)
{
	struct fx *f = *state;
	run_down_then_up(f, "tcp", f->rs.tcp_port);
}

static void test_relp_down_then_up(void **state)
{
	struct fx *f = *state;

	if (!f->rs.relp_port)
		skip();
	run_down_then_up(f, "relp", f->rs.relp_port);
}

/* Hostile and ordinary records, in one batch and in batches of 7, arrive
 * exactly: raw bytes and every parsed field. */
static void run_exact(struct fx *f, const char *url, const char *ca)
{
	struct recs r;
	sink *s;
	size_t off = 0;

	recs_make(&r, 300, 1);
	rs_conf(&f->rs);
	rs_start(&f->rs);
	s = open_sink(url, ca, 5000, NULL);
	while (off < 100) {      /* small batches first, then one big one */
		size_t got;
		enum sink_fail why;
		mw_err e;
		assert_int_equal(sink_syslog_ops.send(s, r.m + off, 7 < 100 - off ? 7 : 100 - off,
						      &got, &why, &e), 0);
		off += got;
	}
	{
		size_t got;
		enum sink_fail why;
		mw_err e;
		assert_int_equal(sink_syslog_ops.send(s, r.m + 100, 200, &got, &why, &e), 0);
		assert_int_equal(got, 200);
		/* An empty batch is trivially delivered. */
		got = 5;
		assert_int_equal(sink_syslog_ops.send(s, r.m, 0, &got, &why, &e), 0);
		assert_int_equal(got, 0);
	}
	sink_syslog_ops.close(s);
	wait_lines(&f->rs, r.n);
	rs_stop(&f->rs, SIGTERM);
	check_exact(&f->rs, &r);
	recs_free(&r);
}

static void test_tcp_exact(void **state)
{
	struct fx *f = *state;
	char url[64];

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", f->rs.tcp_port);
	run_exact(f, url, NULL);
}

static void test_relp_exact(void **state)
{
	struct fx *f = *state;
	char url[64];

	if (!f->rs.relp_port)
		skip();
	snprintf(url, sizeof(url), "relp://127.0.0.1:%d", f->rs.relp_port);
	run_exact(f, url, NULL);
}

/* Issue 10 point 8: ids that hold control bytes. RFC 5424 6.3.3 escapes
 * '"', '\' and ']' in PARAM-VALUE; a control character would end the
 * syslog line (LF, and U+0085 / U+2028 / U+2029 for some receivers) or drive
 * a terminal (ESC), so C0, DEL, C1 and U+2028/U+2029 are written as the
 * visible text \u00XX (\u2028), and invalid UTF-8 as U+FFFD (one per
 * maximal bad sequence). The expected values are written out by hand. */
static const struct {
	const char *id, *sd, *parsed;   /* raw id; SD as sent; value after RFC unescaping */
} ctl_ids[] = {
	{ "MTOKEN:esc\x1b[31mred\x1b]0;title\x07",
	  "MTOKEN:esc\\u001b[31mred\\u001b\\]0;title\\u0007",
	  "MTOKEN:esc\\u001b[31mred\\u001b]0;title\\u0007" },
	{ "cr\rlf\nnel\xc2\x85" "end\ttab\b",
	  "cr\\u000dlf\\u000anel\\u0085end\\u0009tab\\u0008",
	  "cr\\u000dlf\\u000anel\\u0085end\\u0009tab\\u0008" },
	{ "q\"b\\s]e\xe2\x80\xa8ls\xe2\x80\xa9ps\x7f\xc2\x9b" "6n",
	  "q\\\"b\\\\s\\]e\\u2028ls\\u2029ps\\u007f\\u009b6n",
	  "q\"b\\s]e\\u2028ls\\u2029ps\\u007f\\u009b6n" },
	{ "bad\xff" "x\xc0\xaf" "y\xe2\x82",
	  "bad\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbdy\xef\xbf\xbd",
	  "bad\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbdy\xef\xbf\xbd" },
	{ "\xe2\x80\xae" "fdp.exe caf\xc3\xa9 \xe6\xbc\xa2",   /* valid UTF-8 stays */
	  "\xe2\x80\xae" "fdp.exe caf\xc3\xa9 \xe6\xbc\xa2",
	  "\xe2\x80\xae" "fdp.exe caf\xc3\xa9 \xe6\xbc\xa2" },
};
#define NCTL (sizeof(ctl_ids) / sizeof(ctl_ids[0]))

/* Counts what a syslog line or a terminal must not get raw: C0 but TAB and
 * LF (the files' own separators), DEL, the UTF-8 of C1 and, with seps, of
 * U+2028 and U+2029 (which the NDJSON line, and so MSG, may carry). */
static size_t raw_controls(const char *t, size_t n, int seps)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			k++;
		else if (c == 0xc2 && i + 1 < n && (unsigned char)t[i + 1] >= 0x80 &&
			 (unsigned char)t[i + 1] <= 0x9f)
			k++;
		else if (seps && c == 0xe2 && i + 2 < n && (unsigned char)t[i + 1] == 0x80 &&
			 ((unsigned char)t[i + 2] == 0xa8 || (unsigned char)t[i + 2] == 0xa9))
			k++;
	}
	return k;
}

static void run_controls(struct fx *f, const char *url)
{
	struct sink_msg m[NCTL];
	char *lines[NCTL], path[256], **raw, **fl, **sj;
	size_t rl, fln, sjl, nraw, nf, nsj, got, i;
	char *rt, *ft, *st;
	enum sink_fail why;
	mw_err e;
	mw_buf b;
	sink *s;

	f->rs.sdparse = 1;
	rs_conf(&f->rs);
	rs_start(&f->rs);
	for (i = 0; i < NCTL; i++) {
		char tm[32];

		mw_buf_init(&b);
		mw_format_rfc3339(T0 + (int64_t)i, tm);
		/* the NDJSON line as the writer makes it: the id JSON-escaped */
		mw_buf_puts(&b, "{\"integration\":\"acme-eu\",\"type\":\"impersonation\",\"id\":");
		jsonout_safe_string(&b, ctl_ids[i].id, strlen(ctl_ids[i].id));
		mw_buf_printf(&b, ",\"time\":\"%s\",\"record\":{\"id\":", tm);
		jsonout_safe_string(&b, ctl_ids[i].id, strlen(ctl_ids[i].id));
		mw_buf_puts(&b, ",\"taggedMalicious\":false}}");
		lines[i] = b.data;
		memset(&m[i], 0, sizeof(m[i]));
		m[i].line = lines[i];
		m[i].len = b.len;
		m[i].integration = "acme-eu";
		m[i].type = "impersonation";
		m[i].id = ctl_ids[i].id;
		m[i].time = T0 + (int64_t)i;
		m[i].rowid = (int64_t)i + 1;
	}
	s = open_sink(url, NULL, 5000, NULL);
	assert_int_equal(sink_syslog_ops.send(s, m, NCTL, &got, &why, &e), 0);
	assert_int_equal(got, NCTL);
	sink_syslog_ops.close(s);
	wait_lines(&f->rs, NCTL);
	rs_stop(&f->rs, SIGTERM);

	snprintf(path, sizeof(path), "%s/raw.log", f->rs.dir);
	rt = slurp(path, &rl);
	snprintf(path, sizeof(path), "%s/fields.log", f->rs.dir);
	ft = slurp(path, &fln);
	snprintf(path, sizeof(path), "%s/sd.json", f->rs.dir);
	st = slurp(path, &sjl);
	nraw = 0;
	for (i = 0; i < rl; i++)
		nraw += rt[i] == '\n';
	printf("FIGURE syslog %s control ids: %zu messages sent, raw.log %zu lines, "
	       "%zu raw C0/DEL/C1 in raw.log\n", url, NCTL, nraw, raw_controls(rt, rl, 0));
	assert_int_equal(raw_controls(rt, rl, 0), 0);
	nraw = split_lines(rt, rl, &raw);
	nf = split_lines(ft, fln, &fl);
	nsj = split_lines(st, sjl, &sj);
	assert_int_equal(nraw, NCTL);    /* exactly one message each */
	assert_int_equal(nf, NCTL);
	assert_int_equal(nsj, NCTL);
	mw_buf_init(&b);
	for (i = 0; i < NCTL; i++) {
		char tm[32], *fld[8], *p = fl[i], want[600];
		json_object *j, *sd, *id;
		int k;

		mw_buf_reset(&b);
		mw_format_rfc3339(T0 + (int64_t)i, tm);
		mw_buf_printf(&b, "<134>1 %s " HOSTNAME " mimewatch %ld - [mimewatch@32473 "
			      "integration=\"acme-eu\" type=\"impersonation\" id=\"%s\"] %s", tm,
			      (long)getpid(), ctl_ids[i].sd, lines[i]);
		assert_string_equal(raw[i], b.data);
		for (k = 0; k < 7; k++) {
			char *t = strchr(p, '\t');
			assert_non_null(t);
			*t = '\0';
			fld[k] = p;
			p = t + 1;
		}
		fld[7] = p;
		snprintf(want, sizeof(want), "[mimewatch@32473 integration=\"acme-eu\" "
			 "type=\"impersonation\" id=\"%s\"]", ctl_ids[i].sd);
		assert_int_equal(raw_controls(fld[6], strlen(fld[6]), 1), 0);
		assert_string_equal(fld[6], want);          /* rsyslog took it as SD */
		assert_string_equal(fld[7], lines[i]);       /* MSG: the NDJSON line */
		/* rsyslog's own SD parser: one element, three params, our id */
		j = json_tokener_parse(sj[i]);
		if (!j)
			fail_msg("sd.json line %zu is not JSON: %s", i, sj[i]);
		assert_true(json_object_object_get_ex(j, "mimewatch@32473", &sd));
		assert_int_equal(json_object_object_length(sd), 3);
		assert_true(json_object_object_get_ex(sd, "id", &id));
		assert_string_equal(json_object_get_string(id), ctl_ids[i].parsed);
		json_object_put(j);
		free(lines[i]);
	}
	mw_buf_free(&b);
	free(raw);
	free(fl);
	free(sj);
	free(rt);
	free(ft);
	free(st);
}

static void test_tcp_controls(void **state)
{
	struct fx *f = *state;
	char url[64];

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", f->rs.tcp_port);
	run_controls(f, url);
}

static void test_relp_controls(void **state)
{
	struct fx *f = *state;
	char url[64];

	if (!f->rs.relp_port)
		skip();
	snprintf(url, sizeof(url), "relp://127.0.0.1:%d", f->rs.relp_port);
	run_controls(f, url);
}

static void test_tls(void **state)
{
	struct fx *f = *state;
	char url[64], ca[256], other[256];
	struct recs r;
	struct {
		const char *host, *ca, *want;
	} refused[2];
	int i;

	if (!have_module("lmnsd_ossl"))
		skip();
	make_certs(f->rs.dir);
	f->rs.tls = 1;
	snprintf(ca, sizeof(ca), "%s/ca.pem", f->rs.dir);
	snprintf(other, sizeof(other), "%s/other.pem", f->rs.dir);
	rs_conf(&f->rs);
	rs_start(&f->rs);
	/* Wrong CA; right CA but a name the certificate does not hold. */
	refused[0].host = "localhost";
	refused[0].ca = other;
	refused[0].want = "certificate";
	refused[1].host = "127.0.0.1";
	refused[1].ca = ca;
	refused[1].want = "IP address mismatch";
	recs_make(&r, 5, 0);
	for (i = 0; i < 2; i++) {
		sink *s;
		size_t got = 3;
		enum sink_fail why = SINK_RETRY;
		mw_err e;

		snprintf(url, sizeof(url), "tls://%s:%d", refused[i].host, f->rs.tls_port);
		s = open_sink(url, refused[i].ca, 3000, NULL);
		assert_int_equal(sink_syslog_ops.send(s, r.m, r.n, &got, &why, &e), -1);
		assert_int_equal(got, 0);
		assert_int_equal(why, SINK_FATAL);
		if (!strstr(e.msg, refused[i].want) || !strstr(e.msg, "ca_file"))
			fail_msg("%s: \"%s\" lacks \"%s\"", url, e.msg, refused[i].want);
		sink_syslog_ops.close(s);
	}
	recs_free(&r);
	rs_stop(&f->rs, SIGTERM);
	{
		char path[256];
		size_t n;
		char *t;
		snprintf(path, sizeof(path), "%s/fields.log", f->rs.dir);
		t = slurp(path, &n);
		assert_int_equal(n, 0);     /* nothing got through */
		free(t);
	}
	/* The right CA and the name in the certificate: exact delivery. */
	snprintf(url, sizeof(url), "tls://localhost:%d", f->rs.tls_port);
	run_exact(f, url, ca);
}

static void *set_flag_later(void *arg)
{
	atomic_int *flag = arg;

	mw_sleep_ms(300);
	*flag = 1;
	return NULL;
}

/* Abort and timeout: a listener that accepts nothing and answers nothing
 * (the TCP backlog completes the handshake, then silence). */
static void test_abort_and_timeout(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in a;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int port = f->rs.tcp_port;
	const char *schemes[] = { "tls", "relp" };
	struct recs r;
	int i;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	recs_make(&r, 3, 0);
	for (i = 0; i < 2; i++) {
		char url[64];
		atomic_int flag = 0;
		sink *s;
		size_t got = 9;
		enum sink_fail why = SINK_FATAL;
		mw_err e;
		int64_t t0, took;

		snprintf(url, sizeof(url), "%s://127.0.0.1:%d", schemes[i], port);
		/* Timeout: 1 s without progress. */
		s = open_sink(url, NULL, 1000, &flag);
		t0 = mw_mono_ms();
		assert_int_equal(sink_syslog_ops.send(s, r.m, r.n, &got, &why, &e), -1);
		took = mw_mono_ms() - t0;
		assert_int_equal(got, 0);
		assert_int_equal(why, SINK_RETRY);
		if (took < 900 || took > 2600)
			fail_msg("%s: timeout after %lld ms, want about 1000", url, (long long)took);
		/* Abort: flag set up front, then set while waiting (a timeout of
		 * 30 s must not be waited for). */
		flag = 1;
		t0 = mw_mono_ms();
		assert_int_equal(sink_syslog_ops.send(s, r.m, r.n, &got, &why, &e), -1);
		assert_true(mw_mono_ms() - t0 < 200);
		assert_non_null(strstr(e.msg, "abort"));
		sink_syslog_ops.close(s);
		if (strcmp(schemes[i], "relp") == 0)
			continue;   /* librelp polls for its whole timeout: see src/output/syslog.c */
		flag = 0;
		s = open_sink(url, NULL, 30000, &flag);
		{
			pthread_t th;
			assert_int_equal(pthread_create(&th, NULL, set_flag_later, (void *)&flag), 0);
			t0 = mw_mono_ms();
			assert_int_equal(sink_syslog_ops.send(s, r.m, r.n, &got, &why, &e), -1);
			took = mw_mono_ms() - t0;
			pthread_join(th, NULL);
			if (took < 250 || took > 700)
				fail_msg("%s: abort took %lld ms, want 300 + at most 100", url,
					 (long long)took);
			assert_non_null(strstr(e.msg, "abort"));
		}
		sink_syslog_ops.close(s);
	}
	close(lfd);
	recs_free(&r);
}

/* ------------------------------------------------- restart and figures */

struct restarter {
	struct rs *rs;
	size_t at;          /* kill when this many are delivered */
	int64_t killed_at;
};

static void *restart_thread(void *arg)
{
	struct restarter *k = arg;
	int64_t until = mw_mono_ms() + 30000;

	while (progress < k->at && mw_mono_ms() < until)
		mw_sleep_ms(1);
	/* progress moves per batch: wait into the next one, so the kill lands
	 * mid-batch with messages unanswered. */
	mw_sleep_ms(15);
	kill(k->rs->pid, SIGKILL);
	waitpid(k->rs->pid, NULL, 0);
	k->rs->pid = 0;
	k->killed_at = (int64_t)progress;
	mw_sleep_ms(300);
	rs_start(k->rs);
	return NULL;
}

static int64_t killed_at;

static void run_restart(struct fx *f, const char *scheme, int port, size_t *lost,
			size_t *dups, size_t *torn, size_t *failures)
{
	struct recs r;
	struct restarter k = { &f->rs, BIG / 2, 0 };
	pthread_t th;
	char url[64];
	sink *s;

	recs_make(&r, BIG, 0);
	rs_conf(&f->rs);
	rs_start(&f->rs);
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d", scheme, port);
	s = open_sink(url, NULL, 5000, NULL);
	progress = 0;
	assert_int_equal(pthread_create(&th, NULL, restart_thread, &k), 0);
	deliver_all(s, &r, BATCH, failures);
	pthread_join(th, NULL);
	sink_syslog_ops.close(s);
	wait_lines(&f->rs, BIG);
	rs_stop(&f->rs, SIGTERM);
	count_ids(&f->rs, &r, lost, dups, torn);
	killed_at = k.killed_at;
	recs_free(&r);
}

static void test_relp_restart(void **state)
{
	struct fx *f = *state;
	size_t lost, dups, torn, failures;

	if (!f->rs.relp_port)
		skip();
	run_restart(f, "relp", f->rs.relp_port, &lost, &dups, &torn, &failures);
	printf("FIGURE relp restart (SIGKILL at %d of %d): lost %zu, duplicated %zu, torn %zu, "
	       "failed sends %zu\n", BIG / 2, BIG, lost, dups, torn, failures);
	assert_int_equal(lost, 0);
	assert_int_equal(torn, 0);
	assert_true(failures >= 1);     /* the kill really hit the stream */
}

static void test_tcp_restart(void **state)
{
	struct fx *f = *state;
	size_t lost, dups, torn, failures;

	run_restart(f, "tcp", f->rs.tcp_port, &lost, &dups, &torn, &failures);
	printf("FIGURE tcp restart (SIGKILL at %d of %d): lost %zu, duplicated %zu, torn %zu, "
	       "failed sends %zu\n", BIG / 2, BIG, lost, dups, torn, failures);
	/* Loss is what TCP cannot know about: what rsyslogd's socket buffer
	 * held when it died, all before the batch the kill interrupted. After
	 * the reconnect nothing is lost, and no frame is torn. */
	assert_int_equal(torn, 0);
	assert_true(failures >= 1);
	if (lost)
		assert_true((int64_t)last_lost < killed_at + BATCH);
	printf("FIGURE tcp restart: lost records lie below %zu (killed at %lld delivered)\n",
	       lost ? last_lost + 1 : 0, (long long)killed_at);
}

static void run_rate(struct fx *f, const char *url, const char *ca, const char *label)
{
	struct recs r;
	sink *s;
	size_t failures, lost, dups, torn;
	int64_t ms;

	recs_make(&r, BIG, 0);
	rs_conf(&f->rs);
	rs_start(&f->rs);
	s = open_sink(url, ca, 10000, NULL);
	ms = deliver_all(s, &r, BATCH, &failures);
	sink_syslog_ops.close(s);
	wait_lines(&f->rs, r.n);
	rs_stop(&f->rs, SIGTERM);
	count_ids(&f->rs, &r, &lost, &dups, &torn);
	printf("FIGURE %s: %d records (%zu bytes each) in %lld ms = %.0f records/s\n", label,
	       BIG, r.m[0].len, (long long)ms, ms > 0 ? BIG * 1000.0 / (double)ms : 0.0);
	assert_int_equal(failures, 0);
	assert_int_equal(lost, 0);
	assert_int_equal(dups, 0);
	assert_int_equal(torn, 0);
	recs_free(&r);
}

static void test_rate_tcp(void **state)
{
	struct fx *f = *state;
	char url[64];

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", f->rs.tcp_port);
	run_rate(f, url, NULL, "tcp");
}

static void test_rate_relp(void **state)
{
	struct fx *f = *state;
	char url[64];

	if (!f->rs.relp_port)
		skip();
	snprintf(url, sizeof(url), "relp://127.0.0.1:%d", f->rs.relp_port);
	run_rate(f, url, NULL, "relp");
}

static void test_rate_tls(void **state)
{
	struct fx *f = *state;
	char url[64], ca[256];

	if (!have_module("lmnsd_ossl"))
		skip();
	make_certs(f->rs.dir);
	f->rs.tls = 1;
	snprintf(ca, sizeof(ca), "%s/ca.pem", f->rs.dir);
	snprintf(url, sizeof(url), "tls://localhost:%d", f->rs.tls_port);
	run_rate(f, url, ca, "tls");
}

int main(void)
{
	const char *env = getenv("RSYSLOGD");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_tcp_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relp_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_controls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relp_controls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_down_then_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relp_down_then_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_and_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relp_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_relp, setup, teardown),
	};

	mw_strlcpy(rsyslogd_path, env && *env ? env : RSYSLOGD, sizeof(rsyslogd_path));
	if (access(rsyslogd_path, X_OK) != 0) {
		printf("SKIP: %s not installed (Debian: rsyslog, rsyslog-relp, rsyslog-openssl)\n",
		       rsyslogd_path);
		return 77;
	}
	if (getenv("SINK_TEST_FILTER"))
		cmocka_set_test_filter(getenv("SINK_TEST_FILTER"));
	signal(SIGPIPE, SIG_DFL);  /* the sink must cope without SIG_IGN */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
