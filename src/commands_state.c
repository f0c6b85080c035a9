/* commands_state.c - `mimewatch state export|import`: an integration's
 * cursors carried from one collector's store to another's when it changes
 * hands (run --shard with a new N, a new machine), so the new owner goes
 * on from the old one's horizon instead of reading lookback again (HACKING,
 * "Many tenants, several machines"). Per type: the horizon, the window
 * under way with its page token, the queued backfills and the collected
 * spans; for a type read as batch files (SIEM), each sub-type's day, its
 * listing token and the files of that day taken; never records. The file is JSON, format "mimewatch-state"
 * version 1, times in epoch seconds. */
#include "commands.h"
#include "commands_private.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "logtypes.h"
#include "store/store.h"
#include "util.h"

#define STATE_FORMAT "mimewatch-state"
#define STATE_VERSION 1
#define STATE_MAX_BYTES (16 << 20)
/* A type is a bit of an integration's types: at most this many. */
#define STATE_MAX_TYPES (sizeof(unsigned) * CHAR_BIT)

static const char state_usage[] =
	"usage: mimewatch state [--config FILE] export NAME [--output FILE]\n"
	"       mimewatch state [--config FILE] import [--force] FILE\n"
	"export writes integration NAME's cursors (per type: the horizon, the window\n"
	"under way and its page token, queued backfills, the spans collected, a batch\n"
	"type's listing per sub-type; never records) as JSON to FILE (0600) or stdout.\n"
	"import writes them into this config's store, so its collector goes on from\n"
	"there. It refuses another format version, an integration or type this config\n"
	"lacks, and a type this store already holds further ahead (unless --force); and\n"
	"runs only while no collector holds the store (stop it first). Exit 0, 1\n"
	"failed, 2 refused.\n";

static json_object *span_json(int64_t from, int64_t to)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "from", json_object_new_int64(from));
	json_object_object_add(o, "to", json_object_new_int64(to));
	return o;
}

/* A batch type's readings: per sub-type its day, listing token and the
 * day's files taken (absent for the other types). */
static json_object *batches_json(const struct store_batch_state *b, size_t n)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object(), *files = json_object_new_array();

		json_object_object_add(o, "subtype", json_object_new_string(b[i].subtype));
		json_object_object_add(o, "day", json_object_new_int64(b[i].day));
		json_object_object_add(o, "next_page", json_object_new_string(b[i].next_page));
		for (size_t k = 0; k < b[i].nfiles; k++) {
			json_object *f = json_object_new_object();

			json_object_object_add(f, "key", json_object_new_string(b[i].keys[k]));
			json_object_object_add(f, "records", json_object_new_int64(b[i].records[k]));
			json_object_array_add(files, f);
		}
		json_object_object_add(o, "files", files);
		json_object_array_add(arr, o);
	}
	return arr;
}

/* One type's entry: its cursor, queued backfills and collected spans. */
static json_object *type_json(const char *type, const struct store_coverage *cov)
{
	json_object *t = json_object_new_object(), *win = NULL, *bf, *spans;
	const struct store_cursor *c = &cov->cur;

	json_object_object_add(t, "type", json_object_new_string(type));
	json_object_object_add(t, "horizon", json_object_new_int64(c->horizon));
	if (c->in_window) {
		win = json_object_new_object();
		json_object_object_add(win, "from", json_object_new_int64(c->win_from));
		json_object_object_add(win, "to", json_object_new_int64(c->win_to));
		json_object_object_add(win, "progress", json_object_new_int64(c->win_progress));
		json_object_object_add(win, "page_token", json_object_new_string(c->page_token));
		json_object_object_add(win, "received", json_object_new_int64(c->win_received));
		json_object_object_add(win, "restarted", json_object_new_boolean(c->win_restarted));
	}
	json_object_object_add(t, "window", win);
	bf = json_object_new_array();
	for (size_t i = 0; i < cov->nbf; i++)
		if (cov->bf[i].state == STORE_BF_QUEUED)
			json_object_array_add(bf, span_json(cov->bf[i].from, cov->bf[i].to));
	json_object_object_add(t, "backfills", bf);
	spans = json_object_new_array();
	for (size_t i = 0; i < cov->nspans; i++)
		json_object_array_add(spans, span_json(cov->spans[i].from, cov->spans[i].to));
	json_object_object_add(t, "collected", spans);
	return t;
}

static int state_export(const struct mw_config *cfg, const char *name, const char *output)
{
	const struct mw_integration *in = config_find(cfg, name);
	json_object *root, *types;
	char host[256] = "", now[32];
	mw_store *s = NULL;
	mw_err e;
	int rc = 0;

	if (access(cfg->state_dir, F_OK) < 0 || store_open(cfg->state_dir, &s, &e) < 0) {
		fprintf(stderr, "mimewatch state: no store in %s to export %s from: run it where "
				"%s was collected\n", cmd_safe(cfg->state_dir), name, name);
		return EXIT_FAILED;
	}
	gethostname(host, sizeof(host) - 1);
	mw_format_rfc3339(mw_now(), now);
	root = json_object_new_object();
	json_object_object_add(root, "format", json_object_new_string(STATE_FORMAT));
	json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
	json_object_object_add(root, "integration", json_object_new_string(name));
	json_object_object_add(root, "exported_by", json_object_new_string(host));
	json_object_object_add(root, "exported_at", json_object_new_string(now));
	types = json_object_new_array();
	json_object_object_add(root, "types", types);
	for (size_t t = 0; t < mw_nlogtypes && rc == 0; t++) {
		struct store_coverage cov;
		struct store_batch_state *bs;
		json_object *t_json;
		size_t nbs;
		int64_t src;
		int found;

		if (!(in->types & (1u << t)))
			continue;
		found = store_find_source(s, name, mw_logtypes[t].name, &src, &e);
		if (found == 0)
			continue;       /* never collected here: nothing to carry */
		/* every span and queued backfill: a handful of rows, no record read */
		if (found < 0 || store_coverage(s, src, 0, mw_now() + 86400, 0, &cov, &e) < 0) {
			fprintf(stderr, "mimewatch state: %s\n", e.msg);
			rc = EXIT_FAILED;
			break;
		}
		t_json = type_json(mw_logtypes[t].name, &cov);
		store_coverage_free(&cov);
		if (store_batch_states(s, src, &bs, &nbs, &e) < 0) {
			fprintf(stderr, "mimewatch state: %s\n", e.msg);
			json_object_put(t_json);
			rc = EXIT_FAILED;
			break;
		}
		if (nbs)
			json_object_object_add(t_json, "batches", batches_json(bs, nbs));
		store_batch_states_free(bs, nbs);
		json_object_array_add(types, t_json);
	}
	store_close(s);
	if (rc == 0 && json_object_array_length(types) == 0) {
		fprintf(stderr, "mimewatch state: %s was never collected into %s: nothing to "
				"export (the new owner starts from lookback)\n", name,
			cmd_safe(cfg->state_dir));
		rc = EXIT_FAILED;
	}
	if (rc == 0) {
		const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE);

		if (!output) {
			printf("%s\n", text);
		} else if (mw_write_file_atomic(output, text, strlen(text), &e) < 0) {
			fprintf(stderr, "mimewatch state: %s\n", e.msg);
			rc = EXIT_FAILED;
		}
	}
	json_object_put(root);
	return rc;
}

/* One type of an import file, checked. */
struct imported {
	const char *type;
	struct store_cursor cur;
	json_object *backfills, *collected;   /* arrays of {from, to}, checked */
	struct store_batch_state *batches;    /* a batch type's readings */
	size_t nbatches;
};

static void imported_free(struct imported *im, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_batch_states_free(im[i].batches, im[i].nbatches);
}

/* o's string k, "" when absent or not a string */
static const char *get_str(json_object *o, const char *k)
{
	json_object *x;

	if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_string))
		return "";
	return json_object_get_string(x);
}

static int get_i64(json_object *o, const char *k, int64_t *v)
{
	json_object *x;

	if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_int))
		return -1;
	*v = json_object_get_int64(x);
	return *v >= 0 && *v < INT64_MAX ? 0 : -1;
}

/* An array of {from, to} with from <= to (absent: none). */
static int spans_ok(json_object *t, const char *k, json_object **out)
{
	*out = NULL;
	if (!json_object_object_get_ex(t, k, out) || !*out)
		return 0;
	if (!json_object_is_type(*out, json_type_array))
		return -1;
	for (size_t i = 0; i < json_object_array_length(*out); i++) {
		json_object *sp = json_object_array_get_idx(*out, i);
		int64_t from, to;

		if (get_i64(sp, "from", &from) < 0 || get_i64(sp, "to", &to) < 0 || to < from)
			return -1;
	}
	return 0;
}

static int window_of(json_object *t, struct store_cursor *c)
{
	json_object *w, *tok;
	const char *token;

	if (!json_object_object_get_ex(t, "window", &w) || !w)
		return 0;
	if (get_i64(w, "from", &c->win_from) < 0 || get_i64(w, "to", &c->win_to) < 0 ||
	    get_i64(w, "progress", &c->win_progress) < 0 ||
	    get_i64(w, "received", &c->win_received) < 0 || c->win_to < c->win_from ||
	    !json_object_object_get_ex(w, "page_token", &tok) ||
	    !json_object_is_type(tok, json_type_string))
		return -1;
	token = json_object_get_string(tok);
	if (strlen(token) >= sizeof(c->page_token))
		return -1;
	snprintf(c->page_token, sizeof(c->page_token), "%s", token);
	c->in_window = 1;
	c->win_restarted = json_object_object_get_ex(w, "restarted", &tok) &&
			   json_object_get_boolean(tok);
	return 0;
}

/* A sub-type name as the collector writes them: letters, digits, '_', '-'. */
static int subtype_ok(const char *st)
{
	size_t n = strlen(st);

	return n > 0 && n < sizeof(((struct store_batch_state *)0)->subtype) &&
	       strspn(st, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* One file of a reading's "files": {key, records}. */
static int file_of(json_object *f, struct store_batch_state *b)
{
	json_object *k;
	int64_t records;

	if (!json_object_object_get_ex(f, "key", &k) || !json_object_is_type(k, json_type_string) ||
	    !json_object_get_string_len(k) || get_i64(f, "records", &records) < 0)
		return -1;
	b->keys[b->nfiles] = mw_xstrdup(json_object_get_string(k));
	b->records[b->nfiles++] = records;
	return 0;
}

/* The "batches" of a type (absent: none), each sub-type once. */
static int batches_of(json_object *t, struct imported *im)
{
	json_object *arr, *files, *tok;
	size_t n;

	if (!json_object_object_get_ex(t, "batches", &arr) || !arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return -1;
	n = json_object_array_length(arr);
	im->batches = mw_xcalloc(n ? n : 1, sizeof(*im->batches));
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct store_batch_state *b = &im->batches[im->nbatches];
		const char *st = get_str(o, "subtype");

		if (!subtype_ok(st) || get_i64(o, "day", &b->day) < 0 ||
		    !json_object_object_get_ex(o, "next_page", &tok) ||
		    !json_object_is_type(tok, json_type_string) ||
		    json_object_get_string_len(tok) >= (int)sizeof(b->next_page) ||
		    !json_object_object_get_ex(o, "files", &files) ||
		    !json_object_is_type(files, json_type_array))
			return -1;
		for (size_t k = 0; k < im->nbatches; k++)
			if (strcmp(im->batches[k].subtype, st) == 0)
				return -1;
		snprintf(b->subtype, sizeof(b->subtype), "%s", st);
		snprintf(b->next_page, sizeof(b->next_page), "%s", json_object_get_string(tok));
		im->nbatches++;
		b->keys = mw_xcalloc(json_object_array_length(files) + 1, sizeof(*b->keys));
		b->records = mw_xcalloc(json_object_array_length(files) + 1, sizeof(*b->records));
		for (size_t k = 0; k < json_object_array_length(files); k++)
			if (file_of(json_object_array_get_idx(files, k), b) < 0)
				return -1;
	}
	return 0;
}

/* The file's types, checked against in: -1 said (exit 2). */
static int read_types(json_object *root, const struct mw_integration *in, const char *path,
		      struct imported *out, size_t *n)
{
	json_object *types;
	unsigned seen = 0;

	*n = 0;
	if (!json_object_object_get_ex(root, "types", &types) ||
	    !json_object_is_type(types, json_type_array) ||
	    json_object_array_length(types) > mw_nlogtypes) {
		fprintf(stderr, "mimewatch state: %s: no \"types\" array of at most %zu types; "
				"export the file again\n", cmd_safe(path), mw_nlogtypes);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(types); i++) {
		json_object *t = json_object_array_get_idx(types, i);
		struct imported *im = &out[*n];
		int lt;

		memset(im, 0, sizeof(*im));
		if ((lt = logtype_index(get_str(t, "type"))) < 0 ||
		    !(in->types & (1u << lt)) || (seen & (1u << lt))) {
			fprintf(stderr, "mimewatch state: %s: type %zu is not one %s collects here, "
					"or comes twice; add it to the integration's types, or "
					"export the file again\n", cmd_safe(path), i + 1, in->name);
			return -1;
		}
		seen |= 1u << lt;
		im->type = mw_logtypes[lt].name;
		if (get_i64(t, "horizon", &im->cur.horizon) < 0 || window_of(t, &im->cur) < 0 ||
		    spans_ok(t, "backfills", &im->backfills) < 0 ||
		    spans_ok(t, "collected", &im->collected) < 0) {
			fprintf(stderr, "mimewatch state: %s: %s: a horizon, window, backfill or "
					"span is missing or not a time; export the file again\n",
				cmd_safe(path), im->type);
			return -1;
		}
		(*n)++;
		if (batches_of(t, im) < 0) {
			fprintf(stderr, "mimewatch state: %s: %s: a batch listing (sub-type, day, "
					"next_page, files) is missing a field, names a sub-type "
					"twice or has one of the wrong kind; export the file "
					"again\n", cmd_safe(path), im->type);
			return -1;
		}
	}
	return 0;
}

/* A sub-type this store reads at a later day than the file's would list
 * the days between again: 1 said. */
static int batch_ahead(mw_store *s, int64_t src, const char *name, const struct imported *im,
		       const char *path)
{
	int bad = 0;

	for (size_t k = 0; k < im->nbatches; k++) {
		char token[sizeof(im->batches[k].next_page)], have[32], got[32];
		int64_t day;
		mw_err e;

		if (store_batch_cursor(s, src, im->batches[k].subtype, &day, token, sizeof(token),
				       &e) != 1 || day <= im->batches[k].day)
			continue;
		mw_format_rfc3339(day, have);
		mw_format_rfc3339(im->batches[k].day, got);
		fprintf(stderr, "mimewatch state: %s/%s %s: this store reads a later day (%s) "
				"than %s (%s); importing would take those days' files again: add "
				"--force to import anyway\n", name, im->type, im->batches[k].subtype,
			have, cmd_safe(path), got);
		bad = 1;
	}
	return bad;
}

/* A store that holds a type further ahead would read that span again. */
static int check_ahead(mw_store *s, const char *name, const struct imported *im, size_t n,
		       const char *path)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		struct store_cursor cur;
		int64_t src;
		char have[32], got[32];
		mw_err e;

		if (store_find_source(s, name, im[i].type, &src, &e) != 1)
			continue;
		bad |= batch_ahead(s, src, name, &im[i], path);
		if (store_get_cursor(s, src, &cur, &e) < 0 || cur.horizon <= im[i].cur.horizon)
			continue;
		mw_format_rfc3339(cur.horizon, have);
		mw_format_rfc3339(im[i].cur.horizon, got);
		fprintf(stderr, "mimewatch state: %s/%s: this store is further ahead (horizon %s) "
				"than %s (%s); importing would collect that span again: add --force "
				"to import anyway\n", name, im[i].type, have, cmd_safe(path), got);
		bad = 1;
	}
	return bad ? -1 : 0;
}

static int add_spans(mw_store *s, int64_t src, json_object *arr, int backfill, mw_err *e)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *sp = json_object_array_get_idx(arr, i);
		int64_t from = 0, to = 0, id;

		get_i64(sp, "from", &from);
		get_i64(sp, "to", &to);
		if ((backfill ? store_backfill_add(s, src, from, to, &id, e)
			      : store_span_add(s, src, from, to, e)) < 0)
			return -1;
	}
	return 0;
}

static int write_types(mw_store *s, const char *name, const struct imported *im, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char h[32];
		int64_t src;
		mw_err e;

		if (store_source(s, name, im[i].type, &src, &e) < 0 ||
		    store_import_cursor(s, src, &im[i].cur, &e) < 0 ||
		    add_spans(s, src, im[i].collected, 0, &e) < 0 ||
		    add_spans(s, src, im[i].backfills, 1, &e) < 0 ||
		    store_batch_import(s, src, im[i].batches, im[i].nbatches, &e) < 0) {
			fprintf(stderr, "mimewatch state: %s/%s: %s\n", name, im[i].type, e.msg);
			return -1;
		}
		mw_format_rfc3339(im[i].cur.horizon, h);
		printf("%s/%s: horizon %s%s, %zu backfill%s queued\n", name, im[i].type,
		       im[i].cur.horizon ? h : "never", im[i].cur.in_window ?
		       ", window under way resumed" : "",
		       im[i].backfills ? json_object_array_length(im[i].backfills) : 0,
		       im[i].backfills && json_object_array_length(im[i].backfills) == 1 ? "" : "s");
		for (size_t k = 0; k < im[i].nbatches; k++) {
			const struct store_batch_state *b = &im[i].batches[k];

			mw_format_rfc3339(b->day, h);
			printf("%s/%s %s: day %.10s, %s, %zu file%s of it taken\n", name,
			       im[i].type, b->subtype, h, b->next_page[0] ? "listing resumed" :
			       "listing from its start", b->nfiles, b->nfiles == 1 ? "" : "s");
		}
	}
	return 0;
}

/* The file's header: format and version, and an integration of cfg. */
static const struct mw_integration *check_header(const struct mw_config *cfg, json_object *root,
						 const char *path)
{
	json_object *ver;
	const struct mw_integration *in;
	char *name = (char *)get_str(root, "integration");

	if (strcmp(get_str(root, "format"), STATE_FORMAT) != 0 ||
	    !json_object_object_get_ex(root, "version", &ver) ||
	    !json_object_is_type(ver, json_type_int) || json_object_get_int(ver) != STATE_VERSION) {
		fprintf(stderr, "mimewatch state: %s is not a %s file of version %d (what `mimewatch "
				"state export` of this version writes); export it again with this "
				"version\n", cmd_safe(path), STATE_FORMAT, STATE_VERSION);
		return NULL;
	}
	if (!(in = config_find(cfg, name))) {
		fprintf(stderr, "mimewatch state: %s is the state of an integration this config "
				"does not have:\n", cmd_safe(path));
		cmd_check_names(cfg, 1, &name);
		return NULL;
	}
	return in;
}

static int state_import(const struct mw_config *cfg, const char *path, int force)
{
	const struct mw_integration *in;
	struct imported im[STATE_MAX_TYPES];
	json_object *root;
	char *text = NULL;
	size_t len, n = 0;
	mw_store *s = NULL;
	mw_err e;
	int lockfd = -1, rc = EXIT_USAGE;

	if (mw_read_file(path, STATE_MAX_BYTES, &text, &len, &e) < 0) {
		fprintf(stderr, "mimewatch state: %s\n", e.msg);
		return EXIT_USAGE;
	}
	root = json_tokener_parse(text);
	free(text);
	if (!root || !json_object_is_type(root, json_type_object)) {
		fprintf(stderr, "mimewatch state: %s is not JSON; give the file `mimewatch state "
				"export` wrote\n", cmd_safe(path));
		json_object_put(root);
		return EXIT_USAGE;
	}
	memset(im, 0, sizeof(im));
	if (!(in = check_header(cfg, root, path)) || read_types(root, in, path, im, &n) < 0) {
		n = mw_nlogtypes < STATE_MAX_TYPES ? mw_nlogtypes : STATE_MAX_TYPES;
		goto out;
	}
	/* The collector keeps its cursors in memory: writing under it would be
	 * undone by its next commit. Like fetch, wait for no collector. */
	rc = EXIT_FAILED;
	if (cmd_take_lock(cfg, &lockfd, "state import") < 0)
		goto out;
	if (store_open(cfg->state_dir, &s, &e) < 0) {
		fprintf(stderr, "mimewatch state: %s\n", e.msg);
		goto out;
	}
	if (!force && check_ahead(s, in->name, im, n, path) < 0)
		rc = EXIT_USAGE;
	else if (write_types(s, in->name, im, n) == 0)
		rc = 0;
out:
	if (s)
		store_close(s);
	if (lockfd >= 0)
		close(lockfd);
	imported_free(im, n);
	json_object_put(root);
	return rc;
}

int cmd_state(const char *config, int argc, char **argv)
{
	const char *verb = NULL, *arg = NULL, *output = NULL;
	struct mw_config cfg;
	int force = 0, rc;

	for (int i = 0; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			fputs(state_usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--force") == 0) {
			force = 1;
		} else if (strcmp(argv[i], "--output") == 0 || strncmp(argv[i], "--output=", 9) == 0) {
			output = argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[++i] : "");
			if (!output[0]) {
				fprintf(stderr, "mimewatch state: --output needs a FILE\n");
				return EXIT_USAGE;
			}
		} else if (argv[i][0] != '-' && !verb) {
			verb = argv[i];
		} else if (argv[i][0] != '-' && !arg) {
			arg = argv[i];
		} else {
			fprintf(stderr, "mimewatch state: unexpected argument %s\n%s",
				cmd_safe(argv[i]), state_usage);
			return EXIT_USAGE;
		}
	}
	if (!verb || !arg || (strcmp(verb, "export") && strcmp(verb, "import")) ||
	    (output && strcmp(verb, "export")) || (force && strcmp(verb, "import"))) {
		fprintf(stderr, "mimewatch state: give export NAME [--output FILE] or import "
				"[--force] FILE\n%s", state_usage);
		return EXIT_USAGE;
	}
	if (cmd_load(config, &cfg) < 0)
		return EXIT_USAGE;
	if (strcmp(verb, "export") == 0)
		rc = cmd_check_names(&cfg, 1, (char **)&arg) < 0 ? EXIT_USAGE
								 : state_export(&cfg, arg, output);
	else
		rc = state_import(&cfg, arg, force);
	config_free(&cfg);
	return rc;
}
