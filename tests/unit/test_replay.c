/* test_replay.c - the replay corpus: every Mimecast response body in
 * tests/fixtures (written by us to the public shapes, sources named in
 * cases.tsv) through the client's classification and page extraction
 * (mc_page_parse) and the end-of-window rule (window_after_page), one cmocka
 * test per row of cases.tsv.
 *
 * cases.tsv columns (tab-separated; '#' starts a comment line):
 *   name      the body is <name>.json, byte for byte as sent (may be empty
 *             or invalid JSON on purpose)
 *   status    HTTP status
 *   api       1 or 2 (struct mc_classify_ctx.api)
 *   type      a log type's name (a batch type's body is a listing of its
 *             files, mc_batch_list_parse: nrecords counts the files, next is
 *             @nextPage, total -1, step -), or token: a body of the
 *             OAuth token endpoint, which src/mimecast/client.c classifies in its token
 *             path (not public), so only its shape is checked here
 *   class     mc_class_key of the expected class
 *   code      expected res.code (the Mimecast code, either fail[] shape), -
 *             for not checked
 *   nrecords  expected page.nrecords
 *   next      expected page.next, - for NULL
 *   total     expected page.total_count, -1 for absent
 *   received  records received in the window so far, this page included, -
 *             when the page is not ok (the window never sees it)
 *   step      window_after_page with restarted=0: next | complete | restart;
 *             with restarted=1 the test expects complete where this says
 *             restart, the same otherwise
 *   source    the public evidence (keys of HACKING, "Sources"; issue
 *             numbers; HACKING where the outcome is our own rule)
 *
 * Besides the columns, the remedies: an API 2.0 remedy never names the
 * Access Key, Secret Key or Application Key, and a credentials one names the
 * Client ID or Client Secret; an API 1.0 credentials remedy names the
 * Application Key, Access and Secret Key; invalid-signature and permission
 * remedies mention the IP allow-list; a permission remedy names the type's
 * permission (and the API 2.0 application for api 2).
 *
 * The fixtures directory: argv[1], else $MW_FIXTURES, else
 * $MW_SRCDIR/tests/fixtures (set by make check), else FIXTURESDIR (compiled
 * in by Makefile.am). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* strcasestr alongside -std=c11 */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mimecast/mimecast.h"
#include "jsonscan.h"
#include "logtypes.h"
#include "util.h"
#include "window.h"

#ifndef FIXTURESDIR
#define FIXTURESDIR "tests/fixtures"
#endif

#define NCOLS 12
#define MIN_CASES 40

struct replay_case {
	char *cols[NCOLS];       /* the row, split in place */
	const char *name, *type, *cls, *code, *next, *received, *step, *source;
	long status;
	int api;
	long long nrecords, total;
	int line;
};

static char fixtures[4096];
static struct replay_case *cases;
static size_t ncases;
static char *cases_text;     /* cases.tsv; the cases point into it */

/* ---- reading the corpus ------------------------------------------------ */

/* The whole file, exactly: *len bytes in a buffer of exactly that size (one
 * byte for an empty file), so a parser reading past the body trips ASan. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int parse_ll(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return *s && !*end && !errno ? 0 : -1;
}

/* Loads cases.tsv; exits with a message on a malformed row, since a typo in
 * the table must not pass as a green test. */
static void load_cases(void)
{
	char path[4200];
	size_t len, cap = 0;
	char *text, *line, *save = NULL;
	int lineno = 0;

	snprintf(path, sizeof(path), "%s/cases.tsv", fixtures);
	text = read_file(path, &len);
	if (!text) {
		fprintf(stderr, "test_replay: cannot read %s: %s\n", path, strerror(errno));
		exit(1);
	}
	cases_text = realloc(text, len + 1);
	if (!cases_text)
		abort();
	text = cases_text;
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct replay_case c;
		char *p = line;
		long long v;
		int n = 0;

		lineno++;
		if (!*line || *line == '#')
			continue;
		memset(&c, 0, sizeof(c));
		c.line = lineno;
		while (n < NCOLS) {
			c.cols[n++] = p;
			p = strchr(p, '\t');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (n != NCOLS || p) {
			fprintf(stderr, "test_replay: %s:%d: expected %d tab-separated columns\n", path,
				lineno, NCOLS);
			exit(1);
		}
		c.name = c.cols[0];
		c.type = c.cols[3];
		c.cls = c.cols[4];
		c.code = c.cols[5];
		c.next = c.cols[7];
		c.received = c.cols[9];
		c.step = c.cols[10];
		c.source = c.cols[11];
		if (parse_ll(c.cols[1], &v) < 0 || v < 100 || v > 599 ||
		    parse_ll(c.cols[2], &v) < 0 || (v != 1 && v != 2)) {
			fprintf(stderr, "test_replay: %s:%d: bad status or api\n", path, lineno);
			exit(1);
		}
		c.status = strtol(c.cols[1], NULL, 10);
		c.api = (int)v;
		if (strcmp(c.type, "token") != 0) {
			if (!logtype_find(c.type) || strcmp(mc_class_key(mc_class_from_key(c.cls)),
							     c.cls) != 0 ||
			    parse_ll(c.cols[6], &c.nrecords) < 0 || parse_ll(c.cols[8], &c.total) < 0 ||
			    (strcmp(c.received, "-") != 0 && parse_ll(c.received, &v) < 0) ||
			    (strcmp(c.step, "-") != 0 && strcmp(c.step, "next") != 0 &&
			     strcmp(c.step, "complete") != 0 && strcmp(c.step, "restart") != 0) ||
			    (strcmp(c.received, "-") == 0) != (strcmp(c.step, "-") == 0)) {
				fprintf(stderr, "test_replay: %s:%d: bad type, class, number or step\n",
					path, lineno);
				exit(1);
			}
		}
		if (!*c.source || strcmp(c.source, "-") == 0) {
			fprintf(stderr, "test_replay: %s:%d: every case names its source\n", path,
				lineno);
			exit(1);
		}
		if (ncases == cap) {
			cap = cap ? cap * 2 : 64;
			cases = realloc(cases, cap * sizeof(*cases));
			if (!cases)
				abort();
		}
		cases[ncases++] = c;
	}
}

/* ---- checks -------------------------------------------------------------- */

/* Every mismatch of one case, reported together. */
struct report {
	char text[4096];
	size_t len;
};

static void problem(struct report *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len >= sizeof(r->text) - 1)
		return;
	r->text[r->len++] = '\n';
	r->text[r->len] = '\0';
	va_start(ap, fmt);
	n = vsnprintf(r->text + r->len, sizeof(r->text) - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n < sizeof(r->text) - r->len ? (size_t)n : sizeof(r->text) - r->len - 1;
}

static int has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static int mentions_allow_list(const char *remedy)
{
	static const char *const words[] = { "permitted ip", "allow-list", "allowlist",
					     "allow list", "ip range", "allowed ip",
					     "source address", "allow this host" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(remedy, words[i]))
			return 1;
	return 0;
}

static void check_remedy(struct report *r, const struct replay_case *c,
			 const struct mw_logtype *lt, const struct mc_result *res)
{
	const char *rem = res->remedy;
	enum mc_class cls = res->cls;

	if (!rem[0]) {
		problem(r, "remedy: empty");
		return;
	}
	if (c->api == 2) {
		static const char *const v1_words[] = { "Access Key", "Secret Key",
							"Application Key" };

		for (size_t i = 0; i < 3; i++)
			if (has(rem, v1_words[i]))
				problem(r, "remedy (api 2) names \"%s\": \"%s\"", v1_words[i], rem);
		if (cls == MC_INVALID_SIGNATURE && !has(rem, "Client ID") &&
		    !has(rem, "Client Secret"))
			problem(r, "remedy (api 2, credentials) names neither Client ID nor Client "
				"Secret: \"%s\"", rem);
		if (cls == MC_PERMISSION && !has(rem, "API 2.0"))
			problem(r, "remedy (api 2, permission) does not name the API 2.0 "
				"application: \"%s\"", rem);
	} else {
		if (cls == MC_INVALID_SIGNATURE &&
		    (!has(rem, "Application Key") || !has(rem, "Access") || !has(rem, "Secret")))
			problem(r, "remedy (api 1, credentials) does not name the Application Key, "
				"Access Key and Secret Key: \"%s\"", rem);
		if (has(rem, "Client ID") || has(rem, "Client Secret"))
			problem(r, "remedy (api 1) names API 2.0 credentials: \"%s\"", rem);
	}
	if ((cls == MC_INVALID_SIGNATURE || cls == MC_PERMISSION) && !mentions_allow_list(rem))
		problem(r, "remedy (%s) does not mention the IP allow-list as a possible cause: "
			"\"%s\"", mc_class_key(cls), rem);
	if (cls == MC_PERMISSION && !has(rem, lt->permission))
		problem(r, "remedy (permission) does not name `%s`: \"%s\"", lt->permission, rem);
	if (cls == MC_BINDING_EXPIRED && c->api == 1 && !has(rem, "Never Expire"))
		problem(r, "remedy (binding expired) does not say Never Expire: \"%s\"", rem);
	if (cls == MC_BAD_APP_ID && !has(rem, "Application ID"))
		problem(r, "remedy (bad Application ID) does not name it: \"%s\"", rem);
}

static const char *step_key(enum window_step s)
{
	switch (s) {
	case WINDOW_NEXT_PAGE: return "next";
	case WINDOW_COMPLETE: return "complete";
	case WINDOW_RESTART: return "restart";
	}
	return "?";
}

/* A token endpoint body: only its shape ({"error":..}) is checked, since the
 * token path that classifies it is static in src/mimecast/client.c. */
static void check_token_body(struct report *r, const struct replay_case *c, const char *body,
			     size_t len)
{
	js_doc d;
	mw_err e;
	int err;

	js_init(&d);
	if (js_parse(&d, body, len, &e) < 0) {
		problem(r, "token body is not JSON: %s", e.msg);
	} else {
		err = js_get(&d, 0, "error");
		if (err < 0 || !js_streq(&d, err, c->code))
			problem(r, "token body: \"error\" is not \"%s\"", c->code);
		if (js_get(&d, 0, "error_description") < 0)
			problem(r, "token body: no error_description");
	}
	js_free(&d);
}

/* A batch type's listing (mc_batch_list_parse): class, code, the files
 * (nrecords), @nextPage (next) and the remedy. */
static void replay_listing(struct report *r, const struct replay_case *c, const char *body,
			   size_t len, const struct mc_classify_ctx *ctx)
{
	struct mc_batch_list list;
	struct mc_result res;

	mc_batch_list_parse(&list, c->status, body, len, ctx, &res);
	if (strcmp(mc_class_key(res.cls), c->cls) != 0)
		problem(r, "class: expected %s, got %s (code \"%s\", message \"%s\")", c->cls,
			mc_class_key(res.cls), res.code, res.message);
	if (strcmp(c->code, "-") != 0 && strcmp(res.code, c->code) != 0)
		problem(r, "code: expected \"%s\", got \"%s\"", c->code, res.code);
	if ((long long)list.nfiles != c->nrecords)
		problem(r, "files: expected %lld, got %zu", c->nrecords, list.nfiles);
	if (strcmp(c->next, "-") == 0 ? list.next_page != NULL
				      : (!list.next_page || strcmp(list.next_page, c->next) != 0))
		problem(r, "@nextPage: expected %s, got %s", c->next,
			list.next_page ? list.next_page : "-");
	for (size_t i = 0; i < list.nfiles; i++)
		if (!list.files[i].url || strncmp(list.files[i].url, "https://", 8) != 0)
			problem(r, "file %zu: no https url", i);
	if (res.cls == MC_RETRY && !res.retryable)
		problem(r, "retry class without retryable set");
	check_remedy(r, c, logtype_find(c->type), &res);
	mc_batch_list_free(&list);
}

static void test_case(void **state)
{
	const struct replay_case *c = *state;
	const struct mw_logtype *lt = logtype_find(c->type);
	struct report r = { "", 0 };
	struct mc_classify_ctx ctx;
	struct mc_result res;
	struct mc_page page;
	char path[4200];
	size_t len = 0;
	char *body;

	snprintf(path, sizeof(path), "%s/%s.json", fixtures, c->name);
	body = read_file(path, &len);
	if (!body)
		fail_msg("%s: cannot read %s: %s", c->name, path, strerror(errno));
	if (strcmp(c->type, "token") == 0) {
		check_token_body(&r, c, body, len);
		free(body);
		if (r.len)
			fail_msg("%s [%s]:%s", c->name, c->source, r.text);
		return;
	}

	ctx = (struct mc_classify_ctx){
		.permission = lt->permission,
		.local_now = (int64_t)time(NULL),
		.known_region = 1,
		.api = c->api,
	};
	if (lt->shape == MW_SHAPE_BATCH) {
		replay_listing(&r, c, body, len, &ctx);
		free(body);
		if (r.len)
			fail_msg("%s [%s]:%s", c->name, c->source, r.text);
		return;
	}
	mc_page_init(&page);
	mc_page_parse(&page, lt, c->status, body, len, &ctx, &res);

	if (strcmp(mc_class_key(res.cls), c->cls) != 0)
		problem(&r, "class: expected %s, got %s (code \"%s\", message \"%s\")", c->cls,
			mc_class_key(res.cls), res.code, res.message);
	if (strcmp(c->code, "-") != 0 && strcmp(res.code, c->code) != 0)
		problem(&r, "code: expected \"%s\", got \"%s\"", c->code, res.code);
	if (res.http_status != c->status)
		problem(&r, "http_status: expected %ld, got %ld", c->status, res.http_status);
	if ((long long)page.nrecords != c->nrecords)
		problem(&r, "nrecords: expected %lld, got %zu", c->nrecords, page.nrecords);
	if (strcmp(c->next, "-") == 0 ? page.next != NULL
				      : (!page.next || strcmp(page.next, c->next) != 0))
		problem(&r, "next: expected %s, got %s", c->next, page.next ? page.next : "-");
	if ((long long)page.total_count != c->total)
		problem(&r, "totalCount: expected %lld, got %lld", c->total,
			(long long)page.total_count);
	if (res.cls == MC_OK && page.records < 0 && page.nrecords)
		problem(&r, "records token missing for %zu records", page.nrecords);
	if (res.cls != MC_OK && (page.nrecords || page.next))
		problem(&r, "a failed page carries records or next");
	if (res.cls == MC_RETRY && !res.retryable)
		problem(&r, "retry class without retryable set");

	if (strcmp(c->step, "-") != 0) {
		long long received = strtoll(c->received, NULL, 10);
		struct window_page wp = {
			.nrecords = page.nrecords,
			.has_next = page.next != NULL && page.next[0] != '\0',
			.total_count = page.total_count,
			.received = received,
			.restarted = 0,
		};
		const char *want_restarted = strcmp(c->step, "restart") == 0 ? "complete" : c->step;
		const char *got = step_key(window_after_page(&wp));

		if (strcmp(got, c->step) != 0)
			problem(&r, "window step (received %lld, restarted 0): expected %s, got %s",
				received, c->step, got);
		wp.restarted = 1;
		got = step_key(window_after_page(&wp));
		if (strcmp(got, want_restarted) != 0)
			problem(&r, "window step (received %lld, restarted 1): expected %s, got %s",
				received, want_restarted, got);
	}
	check_remedy(&r, c, lt, &res);

	mc_page_free(&page);
	free(body);
	if (r.len)
		fail_msg("%s (HTTP %ld, api %d, %s) [%s]:%s", c->name, c->status, c->api, c->type,
			 c->source, r.text);
}

/* The remedies no log page can show: an API 2.0 credentials error comes from
 * the token path (or a fresh token refused at once), both in src/mimecast/client.c, so the
 * corpus never reaches it through mc_page_parse. The class remedies for
 * each API are checked here directly. */
static void test_remedy_words(void **state)
{
	static const char *const v1_words[] = { "Access Key", "Secret Key", "Application Key" };
	struct report r = { "", 0 };

	(void)state;
	for (int c = 0; c < MC_CLASS_COUNT; c++) {
		const char *v1 = mc_class_remedy_api((enum mc_class)c, 1);
		const char *v2 = mc_class_remedy_api((enum mc_class)c, 2);
		const char *v0 = mc_class_remedy_api((enum mc_class)c, 0);

		if (!v1 || !v2 || !v0 || !*v1 || !*v2) {
			problem(&r, "%s: missing remedy", mc_class_key((enum mc_class)c));
			continue;
		}
		if (strcmp(v0, v1) != 0)
			problem(&r, "%s: api 0 is not api 1: \"%s\"", mc_class_key((enum mc_class)c),
				v0);
		for (size_t i = 0; i < 3; i++)
			if (has(v2, v1_words[i]))
				problem(&r, "%s (api 2) names \"%s\": \"%s\"",
					mc_class_key((enum mc_class)c), v1_words[i], v2);
		if (has(v1, "Client ID") || has(v1, "Client Secret"))
			problem(&r, "%s (api 1) names API 2.0 credentials: \"%s\"",
				mc_class_key((enum mc_class)c), v1);
	}
	if (!has(mc_class_remedy_api(MC_INVALID_SIGNATURE, 2), "Client ID") &&
	    !has(mc_class_remedy_api(MC_INVALID_SIGNATURE, 2), "Client Secret"))
		problem(&r, "invalid_signature (api 2) names neither Client ID nor Client Secret");
	if (!has(mc_class_remedy_api(MC_INVALID_SIGNATURE, 1), "Application Key") ||
	    !has(mc_class_remedy_api(MC_INVALID_SIGNATURE, 1), "Access") ||
	    !has(mc_class_remedy_api(MC_INVALID_SIGNATURE, 1), "Secret"))
		problem(&r, "invalid_signature (api 1) does not name the Application Key, Access "
			"Key and Secret Key");
	if (!has(mc_class_remedy_api(MC_PERMISSION, 2), "API 2.0"))
		problem(&r, "permission (api 2) does not name the API 2.0 application");
	if (r.len)
		fail_msg("remedies:%s", r.text);
}

/* Every body has its row and every row its body; the corpus covers each
 * type, both APIs and every class the log path can produce. */
static void test_corpus_complete(void **state)
{
	static const enum mc_class classes[] = { MC_OK, MC_RETRY, MC_INVALID_SIGNATURE,
						 MC_BINDING_EXPIRED, MC_PERMISSION, MC_BAD_APP_ID,
						 MC_IP_NOT_ALLOWED, MC_BAD_REQUEST, MC_UNKNOWN };
	struct report r = { "", 0 };
	struct dirent *de;
	DIR *dir;

	(void)state;
	if (ncases < MIN_CASES)
		problem(&r, "only %zu cases (at least %d)", ncases, MIN_CASES);
	dir = opendir(fixtures);
	if (!dir)
		fail_msg("cannot open %s: %s", fixtures, strerror(errno));
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name), i;

		if (n <= 5 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		for (i = 0; i < ncases; i++)
			if (strlen(cases[i].name) == n - 5 &&
			    strncmp(cases[i].name, de->d_name, n - 5) == 0)
				break;
		if (i == ncases)
			problem(&r, "%s has no row in cases.tsv", de->d_name);
	}
	closedir(dir);
	for (size_t i = 0; i < ncases; i++)
		for (size_t j = i + 1; j < ncases; j++)
			if (strcmp(cases[i].name, cases[j].name) == 0)
				problem(&r, "case %s listed twice", cases[i].name);
	/* a batch type's bodies here are API 2.0 listings; on 1.0 a call is a
	 * file of records with its token in a header (test_siem) */
	for (size_t t = 0; t < mw_nlogtypes; t++)
		for (int api = mw_logtypes[t].shape == MW_SHAPE_BATCH ? 2 : 1; api <= 2; api++) {
			int seen = 0;

			for (size_t i = 0; i < ncases; i++)
				seen |= cases[i].api == api &&
					strcmp(cases[i].type, mw_logtypes[t].name) == 0;
			if (!seen)
				problem(&r, "no case for type %s with api %d", mw_logtypes[t].name, api);
		}
	for (size_t k = 0; k < sizeof(classes) / sizeof(classes[0]); k++) {
		int seen = 0;

		for (size_t i = 0; i < ncases; i++)
			seen |= strcmp(cases[i].cls, mc_class_key(classes[k])) == 0;
		if (!seen)
			problem(&r, "no case expects class %s", mc_class_key(classes[k]));
	}
	for (const char *s = "next\0complete\0restart\0"; *s; s += strlen(s) + 1) {
		int seen = 0;

		for (size_t i = 0; i < ncases; i++)
			seen |= strcmp(cases[i].step, s) == 0;
		if (!seen)
			problem(&r, "no case expects window step %s", s);
	}
	if (r.len)
		fail_msg("corpus:%s", r.text);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *env;
	struct CMUnitTest *tests;
	int rc;

	if (argc > 1)
		dir = argv[1];
	else if ((env = getenv("MW_FIXTURES")) && *env)
		dir = env;
	if (dir) {
		snprintf(fixtures, sizeof(fixtures), "%s", dir);
	} else if ((env = getenv("MW_SRCDIR")) && *env) {
		snprintf(fixtures, sizeof(fixtures), "%s/tests/fixtures", env);
	} else {
		snprintf(fixtures, sizeof(fixtures), "%s", FIXTURESDIR);
	}
	load_cases();

	tests = calloc(ncases + 2, sizeof(*tests));
	if (!tests)
		abort();
	tests[0] = (struct CMUnitTest){ .name = "corpus_complete",
					.test_func = test_corpus_complete };
	tests[1] = (struct CMUnitTest){ .name = "remedy_words", .test_func = test_remedy_words };
	for (size_t i = 0; i < ncases; i++)
		tests[i + 2] = (struct CMUnitTest){ .name = cases[i].name, .test_func = test_case,
						    .initial_state = &cases[i] };
	if (getenv("MW_TEST_FILTER"))
		cmocka_set_test_filter(getenv("MW_TEST_FILTER"));
	rc = _cmocka_run_group_tests("replay", tests, ncases + 2, NULL, NULL);
	free(tests);
	free(cases);
	free(cases_text);
	return rc;
}
