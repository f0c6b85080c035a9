/* test_ndjson.c - the NDJSON output: exact line bytes, files per
 * integration/type/date, recovery after a simulated crash (no line lost or
 * repeated), a hole refused, and a real disk full followed by a clean resume. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* unshare, mount, mkdtemp alongside -std=c11 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "testutil.h"
#include "jsonout.h"
#include "jsonscan.h"
#include "output/output.h"
#include "store/store.h"

/* 2024-11-17T17:02:30Z, pinned through MIMEWATCH_NOW: files are dated
 * 2024-11-17 (the date of writing). */
#define NOW 1731862950LL
#define DAY "2024-11-17"

static char out_name[] = "ndjson";

struct fx {
	char dir[64];
	char state[128];
	char out[128];
	mw_store *s;
	struct output_set cfg;
	struct mw_output o;
	/* Every line the test expects, per file, in order. */
	mw_buf want[8];
	char want_path[8][256];
	int nwant;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	mw_err e;

	snprintf(f->dir, sizeof f->dir, "/tmp/mw_ndjson.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->state, sizeof f->state, "%s/state", f->dir);
	snprintf(f->out, sizeof f->out, "%s/out", f->dir);
	if (store_open(f->state, &f->s, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	f->o.kind = MW_OUT_NDJSON;
	f->o.name = out_name;
	f->o.dir = f->out;
	f->cfg.state_dir = f->state;
	f->cfg.outputs = &f->o;
	f->cfg.noutputs = 1;
	for (int i = 0; i < 8; i++)
		mw_buf_init(&f->want[i]);
	outputs_forget_recovery();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	for (int i = 0; i < 8; i++)
		mw_buf_free(&f->want[i]);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static mw_buf *want_for(struct fx *f, const char *in, const char *type)
{
	char p[256];

	snprintf(p, sizeof p, "%s/%s/%s/" DAY ".ndjson", f->out, in, type);
	for (int i = 0; i < f->nwant; i++)
		if (strcmp(f->want_path[i], p) == 0)
			return &f->want[i];
	snprintf(f->want_path[f->nwant], sizeof f->want_path[0], "%s", p);
	return &f->want[f->nwant++];
}

/* Stores n records of (in, type) and writes down, independently of the
 * code under test, the line each must become. */
static void add(struct fx *f, const char *in, const char *type, int from, int to)
{
	mw_err e;
	int64_t src;
	struct store_page_result r;

	assert_int_equal(store_source(f->s, in, type, &src, &e), 0);
	for (int i = from; i < to; i++) {
		char id[64], js[160], when[32], line[512];
		int64_t t = NOW - 3600 + i;
		time_t tt = (time_t)t;
		struct tm tm;
		struct store_rec rec;

		snprintf(id, sizeof id, "%s-%s-%d", in, type, i);
		snprintf(js, sizeof js, "{\"n\":%d,\"subject\":\"hello %s\",\"ok\":true}", i, id);
		rec = (struct store_rec){ id, t, 0, js, strlen(js) };
		assert_int_equal(store_commit_page(f->s, src, &rec, 1, NULL, &r, &e), 0);
		assert_int_equal(r.inserted, 1);
		gmtime_r(&tt, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(line, sizeof line,
			 "{\"integration\":\"%s\",\"type\":\"%s\",\"id\":\"%s\",\"time\":\"%s\","
			 "\"record\":%s}\n", in, type, id, when, js);
		mw_buf_puts(want_for(f, in, type), line);
	}
}

static char *slurp(const char *path, size_t *len)
{
	char *p = NULL;
	mw_err e;

	if (mw_read_file(path, 64 << 20, &p, len, &e) < 0)
		fail_msg("%s", e.msg);
	return p;
}

/* Every line is a JSON object with exactly the five members. */
static int check_lines(const char *data, size_t len)
{
	int n = 0;
	const char *p = data, *end = data + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		char *line = strndup(p, (size_t)(nl - p));
		json_object *o = json_tokener_parse(line);
		if (!o || !json_object_is_type(o, json_type_object))
			fail_msg("line does not parse: %s", line);
		assert_int_equal(json_object_object_length(o), 5);
		json_object *rec;
		assert_true(json_object_object_get_ex(o, "record", &rec));
		assert_true(json_object_is_type(rec, json_type_object));
		json_object_put(o);
		free(line);
		n++;
		p = nl + 1;
	}
	return n;
}

/* Each expected file holds exactly its expected lines, and the store's
 * committed sizes and offset match the disk. */
static void check_files(struct fx *f)
{
	struct store_file_size *v;
	size_t n, len;
	mw_err e;
	int64_t last;

	for (int i = 0; i < f->nwant; i++) {
		char *got = slurp(f->want_path[i], &len);
		if (len != f->want[i].len || memcmp(got, f->want[i].data, len) != 0)
			fail_msg("%s:\n--- got\n%.*s--- want\n%s", f->want_path[i], (int)len, got,
				 f->want[i].data);
		check_lines(got, len);
		free(got);
	}
	assert_int_equal(store_output_files(f->s, "ndjson", &v, &n, &e), 0);
	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		assert_int_equal(stat(v[i].path, &sb), 0);
		assert_int_equal(sb.st_size, v[i].size);
	}
	free(v);
	assert_int_equal(store_output_get(f->s, "ndjson", &last, &e), 0);
	assert_int_equal(last, store_max_rowid(f->s));
}

static mode_t mode_of(const char *p)
{
	struct stat sb;

	assert_int_equal(stat(p, &sb), 0);
	return sb.st_mode & 07777;
}

static void append(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* ---- the line ---------------------------------------------------------------- */

static void test_line_exact(void **state)
{
	(void)state;
	/* A record as Mimecast might send it: an escaped ESC, a raw DEL, a raw
	 * C1 CSI (U+009B) and a number kept as written. */
	static const char raw[] = "{\"a\":\"x\\u001by\",\"b\":\"\x7f\xc2\x9b\",\"c\":1.50}";
	static const char want[] =
		"prefix|{\"integration\":\"acme-eu\",\"type\":\"url\",\"id\":\"ab\\u001b[2J\\\"c\","
		"\"time\":\"2024-11-17T17:02:30Z\",\"record\":{\"a\":\"x\\u001by\","
		"\"b\":\"\\u007f\\u009b\",\"c\":1.50}}\n";
	js_doc d;
	mw_buf rec, line;
	mw_err e;
	struct store_row row;

	js_init(&d);
	mw_buf_init(&rec);
	mw_buf_init(&line);
	assert_int_equal(js_parse(&d, raw, sizeof raw - 1, &e), 0);
	jsonout_safe(&rec, &d, 0);
	assert_string_equal(rec.data, "{\"a\":\"x\\u001by\",\"b\":\"\\u007f\\u009b\",\"c\":1.50}");

	memset(&row, 0, sizeof row);
	row.rowid = 1;
	row.integration = "acme-eu";
	row.type = "url";
	row.id = "ab\x1b[2J\"c";
	row.time = NOW;
	row.json = rec.data;
	row.json_len = rec.len;
	mw_buf_puts(&line, "prefix|");
	ndjson_line(&line, &row);
	assert_int_equal(line.len, sizeof want - 1);
	assert_memory_equal(line.data, want, sizeof want - 1);

	/* json-c reads back the original characters. */
	json_object *o = json_tokener_parse(line.data + 7), *r, *b, *id;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "record", &r));
	assert_true(json_object_object_get_ex(r, "b", &b));
	assert_string_equal(json_object_get_string(b), "\x7f\xc2\x9b");
	assert_true(json_object_object_get_ex(o, "id", &id));
	assert_string_equal(json_object_get_string(id), "ab\x1b[2J\"c");
	json_object_put(o);
	/* ...and nothing in the line can drive a terminal. */
	for (size_t i = 7; i + 1 < line.len; i++) {
		unsigned char c = (unsigned char)line.data[i];
		assert_true(c >= 0x20 && c != 0x7f);
		assert_false(c == 0xc2 && (unsigned char)line.data[i + 1] < 0xa0);
	}
	mw_buf_free(&rec);
	mw_buf_free(&line);
	js_free(&d);
}

static void test_ndjson_dir_default(void **state)
{
	struct fx *f = *state;
	static char elsewhere[] = "/srv/siem";
	struct mw_output o = { MW_OUT_NDJSON, out_name, NULL, 0 };
	char buf[256], want[256];

	snprintf(want, sizeof want, "%s/out", f->state);
	assert_string_equal(outputs_ndjson_dir(f->cfg.state_dir, &o, buf, sizeof buf), want);
	o.dir = elsewhere;
	assert_string_equal(outputs_ndjson_dir(f->cfg.state_dir, &o, buf, sizeof buf), "/srv/siem");
}

/* ---- delivery ------------------------------------------------------------- */

static void test_deliver_files(void **state)
{
	struct fx *f = *state;
	mw_err e = { "" };
	int64_t n = -1;
	char p[256];

	add(f, "acme", "url", 0, 2);
	add(f, "acme", "impersonation", 0, 2);
	add(f, "beta", "attachment", 0, 1);
	add(f, "acme", "url", 2, 3);
	assert_int_equal(outputs_deliver(&f->cfg, f->s, &n, &e), 0);
	assert_int_equal(n, 6);
	assert_int_equal(f->nwant, 3);
	check_files(f);
	for (int i = 0; i < f->nwant; i++)
		assert_int_equal(mode_of(f->want_path[i]), 0600);
	snprintf(p, sizeof p, "%s/acme/url", f->out);
	assert_int_equal(mode_of(p), 0700);
	snprintf(p, sizeof p, "%s/acme", f->out);
	assert_int_equal(mode_of(p), 0700);
	assert_int_equal(outputs_min_offset(&f->cfg, f->s), 6);

	/* Nothing new: nothing written. */
	assert_int_equal(outputs_deliver(&f->cfg, f->s, &n, &e), 0);
	assert_int_equal(n, 0);
	check_files(f);

	/* More than one batch (5000 rows) in one call, appended in order. */
	add(f, "acme", "url", 3, 5103);
	add(f, "beta", "attachment", 1, 3);
	assert_int_equal(outputs_deliver(&f->cfg, f->s, &n, &e), 0);
	assert_int_equal(n, 5102);
	check_files(f);
	size_t len;
	char *all = slurp(f->want_path[0], &len);
	assert_int_equal(check_lines(all, len), 5103);
	free(all);
}

static void test_crash_recovery(void **state)
{
	struct fx *f = *state;
	mw_err e = { "" };
	int64_t n = -1;
	char gamma[256];
	mw_buf lost;

	add(f, "acme", "url", 0, 3);
	add(f, "acme", "impersonation", 0, 2);
	assert_int_equal(outputs_deliver(&f->cfg, f->s, &n, &e), 0);
	assert_int_equal(n, 5);

	/* A process stored more rows and was killed in the middle of writing
	 * them: acme/url got two whole lines and a torn one after its committed
	 * size; gamma/url was registered (at 0) and half written; and something
	 * left junk after acme/impersonation's committed size. None of it was
	 * committed. */
	size_t before = f->want[0].len;
	add(f, "acme", "url", 3, 5);
	add(f, "gamma", "url", 0, 2);
	mw_buf_init(&lost);
	mw_buf_append(&lost, f->want[0].data + before, f->want[0].len - before);
	mw_buf_puts(&lost, "{\"integration\":\"acme\",\"ty");
	append(f->want_path[0], lost.data);
	append(f->want_path[1], "garbage\n{\"x\":");
	snprintf(gamma, sizeof gamma, "%s/gamma/url", f->out);
	assert_int_equal(mw_mkdir_p(gamma, &e), 0);
	snprintf(gamma, sizeof gamma, "%s/gamma/url/" DAY ".ndjson", f->out);
	assert_int_equal(store_output_register(f->s, "ndjson", gamma, 0, &e), 0);
	append(gamma, "{\"integration\":\"gamma\",\"type\":\"url\",\"id\":\"gam");
	mw_buf_free(&lost);

	/* The next process: a fresh store handle, no memory of recovery. */
	store_close(f->s);
	assert_int_equal(store_open(f->state, &f->s, &e), 0);
	outputs_forget_recovery();
	assert_int_equal(outputs_deliver(&f->cfg, f->s, &n, &e), 0);
	assert_int_equal(n, 4);
	check_files(f);

	/* 0 lost, 0 repeated: every stored row appears once over all files. */
	int lines = 0;
	for (int i = 0; i < f->nwant; i++) {
		size_t len;
		char *d = slurp(f->want_path[i], &len);
		lines += check_lines(d, len);
		free(d);
	}
	assert_int_equal(lines, store_max_rowid(f->s));
	assert_int_equal(lines, 9);
}

static void test_hole_refused(void **state)
{
	struct fx *f = *state;
	mw_err e = { "" };
	int64_t n = -1;
	char aside[300];
	size_t len;

	add(f, "acme", "url", 0, 3);
	assert_int_equal(outputs_deliver(&f->cfg, f->s, &n, &e), 0);
	/* Someone cut the file shorter than what was committed. */
	assert_int_equal(truncate(f->want_path[0], 10), 0);
	add(f, "acme", "url", 3, 4);
	outputs_forget_recovery();
	assert_int_equal(outputs_deliver(&f->cfg, f->s, &n, &e), -1);
	if (!strstr(e.msg, "shorter than") || !strstr(e.msg, f->want_path[0]) ||
	    !strstr(e.msg, "move it aside"))
		fail_msg("message: %s", e.msg);
	char *d = slurp(f->want_path[0], &len);
	assert_int_equal(len, 10);      /* nothing written after the hole */
	free(d);
	/* Still refused on the next call, and not marked delivered. */
	assert_int_equal(outputs_deliver(&f->cfg, f->s, &n, &e), -1);
	assert_int_equal(outputs_min_offset(&f->cfg, f->s), 3);

	/* Moved aside: a new file starts with the rows not yet delivered. */
	snprintf(aside, sizeof aside, "%s.old", f->want_path[0]);
	assert_int_equal(rename(f->want_path[0], aside), 0);
	assert_int_equal(outputs_deliver(&f->cfg, f->s, &n, &e), 0);
	assert_int_equal(n, 1);
	d = slurp(f->want_path[0], &len);
	assert_int_equal(check_lines(d, len), 1);
	assert_non_null(strstr(d, "\"id\":\"acme-url-3\""));
	free(d);
}

/* ---- disk full, for real -------------------------------------------------- */

static void test_disk_full(void **state)
{
	struct fx *f = *state;
	mw_err e;

	assert_int_equal(mw_mkdir_p(f->out, &e), 0);
	/* 300 lines of about 170 bytes: far more than the 16 KiB it gets. */
	add(f, "acme", "url", 0, 300);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int64_t n = 0, last = -1;
		mw_err ce = { "" };
		char opts[32];

		if (private_tmpfs(f->out, "16k") < 0)
			_exit(77);
		if (outputs_deliver(&f->cfg, f->s, &n, &ce) != -1) {
			fprintf(stderr, "deliver did not fail\n");
			_exit(2);
		}
		if (!strstr(ce.msg, "disk full")) {
			fprintf(stderr, "message: %s\n", ce.msg);
			_exit(3);
		}
		if (store_output_get(f->s, "ndjson", &last, &ce) < 0 || last != 0) {
			fprintf(stderr, "offset moved to %lld\n", (long long)last);
			_exit(4);
		}
		/* Space comes back: the same process resumes, cutting the torn tail. */
		snprintf(opts, sizeof opts, "size=4m,mode=0700");
		if (mount("tmpfs", f->out, "tmpfs", MS_REMOUNT, opts) < 0) {
			fprintf(stderr, "remount: %s\n", strerror(errno));
			_exit(5);
		}
		if (outputs_deliver(&f->cfg, f->s, &n, &ce) != 0 || n != 300) {
			fprintf(stderr, "resume: %lld %s\n", (long long)n, ce.msg);
			_exit(6);
		}
		size_t len;
		char *d = NULL;
		mw_err re;
		if (mw_read_file(f->want_path[0], 1 << 20, &d, &len, &re) < 0 ||
		    len != f->want[0].len || memcmp(d, f->want[0].data, len) != 0) {
			fprintf(stderr, "file differs after resume (%zu vs %zu)\n", len,
				f->want[0].len);
			_exit(7);
		}
		free(d);
		_exit(0);
	}
	tmpfs_child_wait(child);
}

/* One writer per directory (issue 12): a second holder of the same
 * directory, under any spelling, is refused with the first's pid; the
 * holder itself may lock it again (a reload) and a refusal takes nothing. */
static void test_dir_lock(void **state)
{
	static char first[] = "first";
	struct fx *f = *state;
	struct mw_output two[2];
	struct output_set set2 = f->cfg;
	output_dir_locks *mine = NULL, *other = NULL;
	char alias[160], second[160], want[512], lockf[200];
	struct stat st;
	mw_err e;

	assert_int_equal(outputs_lock_dirs(&f->cfg, &mine, &e), 0);
	snprintf(lockf, sizeof lockf, "%s/.mimewatch.lock", f->out);
	assert_int_equal(stat(lockf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(outputs_lock_dirs(&f->cfg, &mine, &e), 0);  /* ours already */

	snprintf(alias, sizeof alias, "%s/alias", f->dir);
	assert_int_equal(symlink(f->out, alias), 0);
	snprintf(second, sizeof second, "%s/second", f->dir);
	two[0] = f->o;
	two[0].name = first;
	two[0].dir = second;
	two[1] = f->o;
	two[1].dir = alias;
	set2.outputs = two;
	set2.noutputs = 2;
	mw_err_clear(&e);
	assert_int_equal(outputs_lock_dirs(&set2, &other, &e), -1);
	snprintf(want, sizeof want, "output 'ndjson': another mimewatch (pid %ld) writes %s; "
		 "stop it first or give this config another output dir", (long)getpid(), alias);
	assert_string_equal(e.msg, want);
	/* second was locked on the way and let go with the refusal: free for
	 * another holder (flock conflicts between descriptions, in one process
	 * too) */
	set2.noutputs = 1;
	assert_int_equal(outputs_lock_dirs(&set2, &mine, &e), 0);

	outputs_unlock_dirs(mine);
	set2.noutputs = 2;
	assert_int_equal(outputs_lock_dirs(&set2, &other, &e), 0);
	outputs_unlock_dirs(other);
}

/* ---- the hand-off of committed pages (handoff.c) --------------------------- */

/* n records url-<first + i> marked mark, committed as one page; returns the
 * first rowid. recs, ids and js keep the page (for a push). */
static int64_t page(struct fx *f, int64_t src, int first, int n, const char *mark,
		    struct store_rec *recs, char (*ids)[32], char (*js)[96])
{
	struct store_page_result r;
	mw_err e = { "" };

	for (int i = 0; i < n; i++) {
		snprintf(ids[i], sizeof ids[i], "url-%d", first + i);
		snprintf(js[i], sizeof js[i], "{\"n\":%d,\"m\":\"%s\"}", first + i, mark);
		recs[i] = (struct store_rec){ ids[i], NOW - 1000 + first + i, 0, js[i],
					      strlen(js[i]) };
	}
	assert_int_equal(store_commit_page(f->s, src, recs, (size_t)n, NULL, &r, &e), 0);
	assert_int_equal(r.inserted, n);
	return r.first_rowid;
}

/* The same page as held in memory, marked "mem". */
static void remark(int first, int n, struct store_rec *recs, char (*js)[96])
{
	for (int i = 0; i < n; i++) {
		snprintf(js[i], sizeof js[i], "{\"n\":%d,\"m\":\"mem\"}", first + i);
		recs[i].json_len = strlen(js[i]);
	}
}

static int count_row(const struct store_row *row, void *ctx)
{
	(void)row;
	++*(int64_t *)ctx;
	return 0;
}

/* Rows come from memory only while they follow the output's offset without
 * a gap; the store fills the gaps. To tell the two apart, the pages pushed
 * carry the mark "mem" where the store has "db" (the real collector pushes
 * exactly what it stored, so the files are the same either way). */
static void test_handoff(void **state)
{
	struct fx *f = *state;
	struct store_rec recs[100];
	char ids[100][32], js[100][96];
	mw_err e = { "" };
	int64_t src, first, n = 0;
	output_handoff *h = output_handoff_new(250);
	char p[256];
	size_t len;
	char *data, *line;

	assert_int_equal(store_source(f->s, "acme", "url", &src, &e), 0);
	/* rows 1-100 pushed, 101-200 not (as a heartbeat or a revision is
	 * not), 201-300 pushed */
	first = page(f, src, 0, 100, "db", recs, ids, js);
	assert_int_equal(first, 1);
	remark(0, 100, recs, js);
	output_handoff_push(h, first, "acme", "url", recs, 100, NOW);
	assert_int_equal(page(f, src, 100, 100, "db", recs, ids, js), 101);
	first = page(f, src, 200, 100, "db", recs, ids, js);
	assert_int_equal(first, 201);
	remark(200, 100, recs, js);
	output_handoff_push(h, first, "acme", "url", recs, 100, NOW);

	f->cfg.handoff = h;
	assert_int_equal(outputs_deliver(&f->cfg, f->s, &n, &e), 0);
	assert_int_equal(n, 300);
	snprintf(p, sizeof p, "%s/acme/url/" DAY ".ndjson", f->out);
	data = slurp(p, &len);
	assert_int_equal(check_lines(data, len), 300);
	line = data;
	for (int i = 0; i < 300; i++) {
		char want[160];
		char *nl = strchr(line, '\n');

		assert_non_null(nl);
		*nl = '\0';
		snprintf(want, sizeof want, "\"id\":\"url-%d\",", i);
		assert_non_null(strstr(line, want));
		snprintf(want, sizeof want, "\"record\":{\"n\":%d,\"m\":\"%s\"}}", i,
			 i < 100 || i >= 200 ? "mem" : "db");
		assert_non_null(strstr(line, want));
		line = nl + 1;
	}
	free(data);
	/* every NDJSON output is past them: trimmed */
	n = 0;
	assert_int_equal(output_handoff_each(h, 200, 10, count_row, &n), 0);

	/* at most max_rows (250) are held, the oldest pages dropped first */
	for (int k = 300; k < 600; k += 100) {
		first = page(f, src, k, 100, "db", recs, ids, js);
		output_handoff_push(h, first, "acme", "url", recs, 100, NOW);
	}
	assert_int_equal(output_handoff_each(h, 300, 1000, count_row, &n), 0);
	assert_int_equal(output_handoff_each(h, 400, 1000, count_row, &n), 200);
	assert_int_equal(n, 200);
	/* a limit, and an offset inside a page */
	n = 0;
	assert_int_equal(output_handoff_each(h, 450, 30, count_row, &n), 30);
	assert_int_equal(n, 30);
	f->cfg.handoff = NULL;
	output_handoff_free(h);
}

int main(void)
{
	setenv("MIMEWATCH_NOW", "1731862950", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_exact),
		cmocka_unit_test_setup_teardown(test_ndjson_dir_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hole_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_lock, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
