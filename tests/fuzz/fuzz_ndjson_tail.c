/* fuzz_ndjson_tail.c - libFuzzer target for the NDJSON tail recovery: what a
 * crash, a full disk or a careless admin can leave at the end of an output
 * file, and what a restart makes of it.
 *
 * Each input tampers with a file that holds three committed lines: the first
 * byte picks a cut point inside the file (or none), the rest is appended.
 * Then two more records are stored and a "restarted process" delivers.
 * Must hold:
 * - the file is at least its committed size: delivery succeeds and the file
 *   is byte for byte what an untouched run produced (the tail was cut back,
 *   no line lost, torn or repeated);
 * - the file is shorter than committed: delivery refuses, naming the file,
 *   and does not write after the hole.
 *
 * Build with --enable-fuzzing (clang); -DMW_FUZZ_MAIN gives a main() that
 * runs the files named on the command line. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* mkdtemp, setenv alongside -std=c11 */
#endif
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "output/output.h"
#include "store/store.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1731862950LL  /* 2024-11-17T17:02:30Z: files are dated 2024-11-17 */

static char top[64];
static char *control;      /* the file an untouched run leaves */
static size_t control_len;

struct run {
	char state[128], out[128], file[256];
	mw_store *s;
	struct output_set cfg;
	struct mw_output o;
	int64_t src;
};

static void die(const char *what, const mw_err *e)
{
	fprintf(stderr, "fuzz_ndjson_tail: %s: %s\n", what, e ? e->msg : "");
	abort();
}

static void run_open(struct run *r)
{
	static char name[] = "ndjson";
	mw_err e;

	rm_rf(top);
	if (mkdir(top, 0700) < 0)
		die("mkdir", NULL);
	snprintf(r->state, sizeof r->state, "%s/state", top);
	snprintf(r->out, sizeof r->out, "%s/out", top);
	snprintf(r->file, sizeof r->file, "%s/acme/url/2024-11-17.ndjson", r->out);
	if (store_open(r->state, &r->s, &e) < 0)
		die("store_open", &e);
	r->o.kind = MW_OUT_NDJSON;
	r->o.name = name;
	r->o.dir = r->out;
	r->cfg.state_dir = r->state;
	r->cfg.outputs = &r->o;
	r->cfg.noutputs = 1;
	if (store_source(r->s, "acme", "url", &r->src, &e) < 0)
		die("store_source", &e);
	outputs_forget_recovery();
}

/* Stores records from..to-1, each with a string that needs escaping. */
static void add(struct run *r, int from, int to)
{
	for (int i = from; i < to; i++) {
		char id[32], js[128];
		struct store_rec rec;
		struct store_page_result res;
		mw_err e;

		snprintf(id, sizeof id, "rec-%d", i);
		snprintf(js, sizeof js, "{\"n\":%d,\"subject\":\"line\\u000a%d\\u001b[2J\"}", i, i);
		rec = (struct store_rec){ id, NOW - 600 + i, 0, js, strlen(js) };
		if (store_commit_page(r->s, r->src, &rec, 1, NULL, &res, &e) < 0)
			die("store_commit_page", &e);
	}
}

static int deliver(struct run *r, mw_err *e)
{
	return outputs_deliver(&r->cfg, r->s, NULL, e);
}

static char *slurp(const char *path, size_t *len)
{
	char *p = NULL;
	mw_err e;

	if (mw_read_file(path, 1 << 24, &p, len, &e) < 0)
		die("read", &e);
	return p;
}

static void cleanup(void)
{
	rm_rf(top);
}

static void init_once(void)
{
	struct run r = { 0 };
	mw_err e;

	if (control)
		return;
	setenv("MIMEWATCH_NOW", "1731862950", 1);
	mw_log_level = 0;  /* "cut back" notes on every input would drown the fuzzer */
	/* fsyncs on a disk would hold the fuzzer to a few runs a second */
	snprintf(top, sizeof top, "%s/mw_fuzz_tail.%ld",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
	atexit(cleanup);
	run_open(&r);
	add(&r, 0, 3);
	if (deliver(&r, &e) < 0)
		die("control deliver", &e);
	add(&r, 3, 5);
	outputs_forget_recovery();
	if (deliver(&r, &e) < 0)
		die("control redeliver", &e);
	control = slurp(r.file, &control_len);
	store_close(r.s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r = { 0 };
	struct stat sb;
	mw_err e;
	int64_t committed, after;
	int fd, rc, cut = 0;

	init_once();
	run_open(&r);
	add(&r, 0, 3);
	if (deliver(&r, &e) < 0)
		die("deliver", &e);
	if (stat(r.file, &sb) < 0)
		die("stat", NULL);
	committed = sb.st_size;

	/* Tamper: an optional cut, then the rest of the input appended. */
	fd = open(r.file, O_WRONLY | O_APPEND);
	if (fd < 0)
		die("open", NULL);
	if (size > 0 && data[0] < 128) {
		if (ftruncate(fd, committed * data[0] / 127) < 0)
			die("ftruncate", NULL);
		cut = data[0] < 127;
	}
	if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		die("write", NULL);
	close(fd);
	if (stat(r.file, &sb) < 0)
		die("stat", NULL);
	after = sb.st_size;

	add(&r, 3, 5);
	outputs_forget_recovery();
	rc = deliver(&r, &e);
	if (after >= committed) {
		size_t len;
		char *got;

		if (rc < 0)
			die("recovery refused a file at least its committed size", &e);
		got = slurp(r.file, &len);
		/* After a cut the appended bytes may stand in for committed ones
		 * (sizes only can't tell); what follows the commit must still be
		 * exactly the new lines. */
		if (len != control_len ||
		    memcmp(got + (cut ? committed : 0), control + (cut ? committed : 0),
			   len - (size_t)(cut ? committed : 0)) != 0)
			abort();  /* lost, torn or repeated line */
		free(got);
	} else {
		if (rc == 0)
			abort();  /* wrote after a hole */
		if (!strstr(e.msg, r.file))
			abort();  /* the message must name the file */
		if (stat(r.file, &sb) < 0 || sb.st_size != after)
			abort();
	}
	store_close(r.s);
	return 0;
}

#include "fuzz_main.h"
