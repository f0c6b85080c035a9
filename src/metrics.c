/* metrics.c - see metrics.h: the collector's tally and the store's totals
 * of it, the Prometheus text exposition, and its atomic write. */
#include "metrics.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "logtypes.h"
#include "output/output.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define COUNTERS_KEY "metrics_counters"
#define COUNTERS_MAX (1 << 20)  /* the meta row; a few KiB for a few sources */

/* One (integration, type)'s counts. */
struct tally_row {
	char integration[64], type[16];
	int64_t n[MX_NCOUNTS];
};

struct metrics_tally {
	struct tally_row *rows;
	size_t n;
	int saved;              /* the store's row exists: a read that finds none failed */
};

/* The row of (integration, type) in *rows, added when create. */
static struct tally_row *row_find(struct tally_row **rows, size_t *n, const char *integration,
				  const char *type, int create)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*rows)[i].integration, integration) && !strcmp((*rows)[i].type, type))
			return &(*rows)[i];
	if (!create)
		return NULL;
	*rows = mw_xrealloc(*rows, (*n + 1) * sizeof(**rows));
	struct tally_row *r = &(*rows)[(*n)++];

	memset(r, 0, sizeof(*r));
	mw_strlcpy(r->integration, integration, sizeof(r->integration));
	mw_strlcpy(r->type, type, sizeof(r->type));
	return r;
}

metrics_tally *metrics_tally_new(void)
{
	return mw_xcalloc(1, sizeof(metrics_tally));
}

void metrics_tally_free(metrics_tally *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}

void metrics_tally_add(metrics_tally *t, const char *integration, const char *type,
		       enum metrics_count what, int64_t n)
{
	if (t && n > 0 && (int)what >= 0 && (int)what < MX_NCOUNTS)
		row_find(&t->rows, &t->n, integration, type, 1)->n[what] += n;
}

/* The stored name of a count: "requests", "rate_limit_waits", "errors.KEY". */
static const char *count_name(int k, char buf[48])
{
	if (k == MX_REQUESTS)
		return "requests";
	if (k == MX_RATE_LIMIT_WAITS)
		return "rate_limit_waits";
	snprintf(buf, 48, "errors.%s", mc_class_key((enum mc_class)(k - MX_ERRORS)));
	return buf;
}

static int count_index(const char *name)
{
	char buf[48];

	for (int k = 0; k < MX_NCOUNTS; k++)
		if (!strcmp(count_name(k, buf), name))
			return k;
	return -1;
}

/* The store's totals: one line "INTEGRATION TYPE COUNT VALUE" each (names
 * hold no space: config.h's rule for names, the log-type table's). A line
 * this build does not know goes to *unknown, to be written back as it was.
 * 1 the row was read, 0 none (or it could not be read). */
static int totals_load(mw_store *s, struct tally_row **rows, size_t *n, mw_buf *unknown)
{
	char *text = mw_xmalloc(COUNTERS_MAX), *line, *save = NULL;
	int found = s && store_meta_get(s, COUNTERS_KEY, text, COUNTERS_MAX) == 0;

	*rows = NULL;
	*n = 0;
	if (!found)
		text[0] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char in[64], ty[16], name[48];
		long long v;
		int k;

		if (line[0] == '#')
			continue;  /* the heading metrics_tally_save writes first */
		if (sscanf(line, "%63s %15s %47s %lld", in, ty, name, &v) == 4 &&
		    (k = count_index(name)) >= 0) {
			row_find(rows, n, in, ty, 1)->n[k] = v;
		} else if (unknown) {
			mw_buf_puts(unknown, line);
			mw_buf_putc(unknown, '\n');
		}
	}
	free(text);
	return found;
}

int metrics_tally_save(metrics_tally *t, mw_store *s, mw_err *e)
{
	struct tally_row *rows;
	size_t n;
	mw_buf b;
	char buf[48];
	int rc;

	if (!t->n)
		return 0;
	mw_buf_init(&b);
	/* Never empty once written, so the row's absence means never written. */
	mw_buf_puts(&b, "# INTEGRATION TYPE COUNT VALUE\n");
	if (!totals_load(s, &rows, &n, &b) && t->saved) {
		/* Writing the tally alone would take the counters back. */
		free(rows);
		mw_buf_free(&b);
		mw_err_set(e, "cannot read the metrics' totals from the store; trying again");
		return -1;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct tally_row *r = row_find(&rows, &n, t->rows[i].integration, t->rows[i].type, 1);

		for (int k = 0; k < MX_NCOUNTS; k++)
			r->n[k] += t->rows[i].n[k];
	}
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < MX_NCOUNTS; k++)
			if (rows[i].n[k])
				mw_buf_printf(&b, "%s %s %s %" PRId64 "\n", rows[i].integration,
					      rows[i].type, count_name(k, buf), rows[i].n[k]);
	rc = store_meta_set(s, COUNTERS_KEY, b.data, e);
	if (rc == 0) {
		t->n = 0;
		t->saved = 1;
	}
	free(rows);
	mw_buf_free(&b);
	return rc;
}

/* ---- the exposition ----------------------------------------------------------- */

/* What one configured source shows. */
struct src_view {
	const char *integration, *type;
	struct store_status st;         /* zeroed: never collected */
	int64_t n[MX_NCOUNTS];          /* the store's totals of the tally */
};

static void family(mw_buf *b, const char *name, const char *type, const char *help)
{
	mw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the format escapes it: backslash, double quote, newline. */
static void label_value(mw_buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			mw_buf_putc(b, '\\');
		if (*v == '\n') {
			mw_buf_puts(b, "\\n");
			continue;
		}
		mw_buf_putc(b, *v);
	}
}

/* name{integration="..",type=".."[,key=".."]} value */
static void src_sample(mw_buf *b, const char *name, const struct src_view *v, const char *key,
		       const char *val, int64_t value)
{
	mw_buf_printf(b, "%s{integration=\"", name);
	label_value(b, v->integration);
	mw_buf_puts(b, "\",type=\"");
	label_value(b, v->type);
	if (key) {
		mw_buf_printf(b, "\",%s=\"", key);
		label_value(b, val);
	}
	mw_buf_printf(b, "\"} %" PRId64 "\n", value);
}

/* The families with one series per source: a field of the status, a
 * count of the tally, or a time a source may not have yet (left out). */
enum src_from { FROM_STATUS, FROM_TALLY, FROM_LAST_SUCCESS, FROM_LAG };
struct src_family {
	const char *name, *type, *help;
	enum src_from from;
	size_t at;              /* FROM_STATUS: offset in store_status; FROM_TALLY: the count */
};

#define ST_FIELD(f) FROM_STATUS, offsetof(struct store_status, f)

static const struct src_family src_families[] = {
	{ "mimewatch_records_collected_total", "counter",
	  "Records stored, each once (the store's total: kept across restarts).", ST_FIELD(total) },
	{ "mimewatch_records_rejected_total", "counter",
	  "Records set aside without a usable time or id (state_dir/rejects).", ST_FIELD(rejects) },
	{ "mimewatch_records_revised_total", "counter",
	  "Keyed records stored again with new content, delivered again.", ST_FIELD(revised) },
	{ "mimewatch_records_outside_window_total", "counter",
	  "Records dated outside the window that asked for them.", ST_FIELD(outside) },
	{ "mimewatch_api_requests_total", "counter",
	  "Log pages asked of Mimecast, retries included.", FROM_TALLY, MX_REQUESTS },
	{ "mimewatch_rate_limit_waits_total", "counter",
	  "Waits for the rate-limit gate: a 429, or X-RateLimit-Remaining spent.", FROM_TALLY,
	  MX_RATE_LIMIT_WAITS },
	{ "mimewatch_last_success_timestamp_seconds", "gauge",
	  "When a poll of the type last succeeded (absent: never).", FROM_LAST_SUCCESS, 0 },
	{ "mimewatch_collection_lag_seconds", "gauge",
	  "Now less the horizon, before which every record was collected.", FROM_LAG, 0 },
};

/* 1 with *x the family's value for v, 0 when v has none. */
static int src_value(const struct src_family *f, const struct src_view *v, int64_t now,
		     int64_t *x)
{
	switch (f->from) {
	case FROM_STATUS:
		memcpy(x, (const char *)&v->st + f->at, sizeof(*x));
		return 1;
	case FROM_TALLY:
		*x = v->n[f->at];
		return 1;
	case FROM_LAST_SUCCESS:
		*x = v->st.last_success;
		return *x > 0;
	case FROM_LAG:
		*x = now - v->st.horizon;
		return v->st.horizon > 0;
	}
	return 0;
}

static void render_sources(mw_buf *b, const struct src_view *v, size_t n, int64_t now)
{
	int64_t x;

	for (size_t f = 0; f < NELEM(src_families); f++) {
		const struct src_family *sf = &src_families[f];

		family(b, sf->name, sf->type, sf->help);
		for (size_t i = 0; i < n; i++)
			if (src_value(sf, &v[i], now, &x))
				src_sample(b, sf->name, &v[i], NULL, NULL, x);
	}
	family(b, "mimewatch_errors_total", "counter",
	       "Failed steps by error class (mimewatch(1), ERROR CLASSES; never ok).");
	for (size_t i = 0; i < n; i++)
		for (int k = MC_OK + 1; k < MC_CLASS_COUNT; k++)
			src_sample(b, "mimewatch_errors_total", &v[i], "class",
				   mc_class_key((enum mc_class)k), v[i].n[MX_ERRORS + k]);
}

/* Every (integration, type) the config collects, with its status and
 * totals; of a shard's store (run --shard), only the shard's: each of N
 * machines then exports its own series, none another's as zeros. */
static int source_views(mw_store *s, const struct mw_config *cfg, struct src_view **out,
			size_t *nout, mw_err *e)
{
	struct store_status *sts = NULL;
	struct tally_row *rows = NULL;
	size_t nsts = 0, nrows = 0, n = 0;
	struct src_view *v;
	struct mw_shard sh;

	if (s && store_list_status(s, &sts, &nsts, e) < 0)
		return -1;
	collector_shard_of_store(s, &sh);
	totals_load(s, &rows, &nrows, NULL);
	v = mw_xcalloc(cfg->nintegrations * mw_nlogtypes + 1, sizeof(*v));
	for (size_t i = 0; i < cfg->nintegrations; i++) {
		const struct mw_integration *in = &cfg->integrations[i];

		for (size_t t = 0; t < mw_nlogtypes; t++) {
			struct src_view *x = &v[n];
			const struct tally_row *r;

			if (!(in->types & (1u << t)) || !shard_takes(&sh, in->name))
				continue;
			x->integration = in->name;
			x->type = mw_logtypes[t].name;
			for (size_t k = 0; k < nsts; k++)
				if (!strcmp(sts[k].integration, x->integration) &&
				    !strcmp(sts[k].type, x->type))
					x->st = sts[k];
			r = row_find(&rows, &nrows, x->integration, x->type, 0);
			if (r)
				memcpy(x->n, r->n, sizeof(x->n));
			n++;
		}
	}
	free(sts);
	free(rows);
	*out = v;
	*nout = n;
	return 0;
}

static void out_sample(mw_buf *b, const char *name, const char *output, int64_t value)
{
	mw_buf_printf(b, "%s{output=\"", name);
	label_value(b, output);
	mw_buf_printf(b, "\"} %" PRId64 "\n", value);
}

static int render_outputs(mw_buf *b, mw_store *s, const struct mw_config *cfg,
			  struct store_output_cache *caches, mw_err *e)
{
	static const struct {
		const char *name, *help;
	} fams[] = {
		{ "mimewatch_output_delivered_records",
		  "Records in the store this output has delivered (falls when retention "
		  "deletes delivered records: a gauge)." },
		{ "mimewatch_output_lag_records", "Records stored and not yet delivered." },
		{ "mimewatch_output_lag_seconds",
		  "Age since collection of the oldest record not yet delivered (0: none)." },
		{ "mimewatch_output_up",
		  "1 when the output is ok or idle, 0 when retrying or in error." },
		{ "mimewatch_output_errors_total",
		  "Failed deliveries (a batch, or an NDJSON write), kept across restarts." },
	};
	struct store_output_info *oi = mw_xcalloc(cfg->noutputs + 1, sizeof(*oi));

	for (size_t i = 0; i < cfg->noutputs; i++) {
		snprintf(oi[i].state, sizeof(oi[i].state), "idle");
		if (s && store_output_info_cached(s, cfg->outputs[i].name, caches ? &caches[i] : NULL,
						  &oi[i], e) < 0) {
			free(oi);
			return -1;
		}
	}
	for (size_t f = 0; f < NELEM(fams); f++) {
		int counter = f == NELEM(fams) - 1;

		family(b, fams[f].name, counter ? "counter" : "gauge", fams[f].help);
		for (size_t i = 0; i < cfg->noutputs; i++) {
			const struct store_output_info *o = &oi[i];
			int64_t x = f == 0 ? o->delivered : f == 1 ? o->lag_records
				  : f == 2 ? o->lag_seconds
				  : f == 3 ? !strcmp(o->state, "ok") || !strcmp(o->state, "idle")
				  : output_failures(s, cfg->outputs[i].name);

			out_sample(b, fams[f].name, cfg->outputs[i].name, x);
		}
	}
	free(oi);
	return 0;
}

int metrics_render(mw_store *s, const struct mw_config *cfg, int up,
		   struct store_output_cache *caches, mw_buf *out, mw_err *e)
{
	struct src_view *v;
	size_t n;
	int64_t now = mw_now();

	if (source_views(s, cfg, &v, &n, e) < 0)
		return -1;
	family(out, "mimewatch_up", "gauge",
	       "1 while a collector (mimewatch run, or a console collecting) holds the store.");
	mw_buf_printf(out, "mimewatch_up %d\n", up ? 1 : 0);
	family(out, "mimewatch_build_info", "gauge", "The version of mimewatch, as a label.");
	mw_buf_puts(out, "mimewatch_build_info{version=\"");
	label_value(out, PACKAGE_VERSION);
	mw_buf_puts(out, "\"} 1\n");
	family(out, "mimewatch_metrics_written_timestamp_seconds", "gauge",
	       "When these metrics were written: a stale file is a collector stopped.");
	mw_buf_printf(out, "mimewatch_metrics_written_timestamp_seconds %" PRId64 "\n", now);
	render_sources(out, v, n, now);
	free(v);
	return render_outputs(out, s, cfg, caches, e);
}

int metrics_write(const char *path, const mw_buf *text, mw_err *e)
{
	return mw_write_file_atomic_mode(path, text->data ? text->data : "", text->len, 0644, e);
}

int64_t metrics_every(const struct mw_config *cfg)
{
	int64_t every = METRICS_EVERY_S;

	for (size_t i = 0; i < cfg->nintegrations; i++)
		if (cfg->integrations[i].interval > 0 && cfg->integrations[i].interval < every)
			every = cfg->integrations[i].interval;
	return every;
}
