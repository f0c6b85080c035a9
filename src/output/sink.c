/* output/sink.c - what every sink shares: topic and index templates, the
 * output type names and targets, the count of failed deliveries, the state
 * of the last replay. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

void sink_template(mw_buf *out, const char *tmpl, const char *integration, const char *type)
{
	const char *p = tmpl;

	mw_buf_reset(out);
	while (*p) {
		if (strncmp(p, "{integration}", 13) == 0) {
			mw_buf_puts(out, integration);
			p += 13;
		} else if (strncmp(p, "{type}", 6) == 0) {
			mw_buf_puts(out, type);
			p += 6;
		} else {
			mw_buf_append(out, p, 1);
			p++;
		}
	}
	if (!out->data)
		mw_buf_append(out, "", 0);
}

const char *output_type_name(enum mw_output_kind k)
{
	static const char *const names[] = { "ndjson", "syslog", "hec", "elasticsearch", "kafka" };

	return (size_t)k < NELEM(names) ? names[k] : "?";
}

const char *output_target(const struct mw_output *o)
{
	if (o->dir)
		return o->dir;
	if (o->url)
		return o->url;
	return o->brokers ? o->brokers : "";
}

static void failures_key(char *key, size_t n, const char *name)
{
	snprintf(key, n, "output_failures.%s", name);
}

int64_t output_failures(mw_store *s, const char *name)
{
	char key[256], val[32];

	failures_key(key, sizeof(key), name);
	if (!s || store_meta_get(s, key, val, sizeof(val)) < 0)
		return 0;
	return strtoll(val, NULL, 10);
}

void output_count_failure(mw_store *s, const char *name)
{
	char key[256], val[32];
	mw_err e;

	failures_key(key, sizeof(key), name);
	snprintf(val, sizeof(val), "%" PRId64, output_failures(s, name) + 1);
	store_meta_set(s, key, val, &e);
}

static void replay_key(char *key, size_t n, const char *name)
{
	snprintf(key, n, "output_replay.%s", name);
}

void output_replay_state(mw_store *s, const char *name, char *out, size_t n)
{
	char key[256];

	replay_key(key, sizeof(key), name);
	if (!s || store_meta_get(s, key, out, n) < 0)
		out[0] = '\0';
}

void output_replay_note(mw_store *s, const char *name, const struct store_time_span *sp,
			const char *state, int64_t done, const char *error)
{
	char key[256], val[1400], from[32], to[32];
	mw_err e;

	replay_key(key, sizeof(key), name);
	mw_format_rfc3339(sp->since, from);
	mw_format_rfc3339(sp->until, to);
	snprintf(val, sizeof(val), "%s: %lld records re-delivered from %s to %s%s%s%s%s%s%s",
		 state, (long long)done, from, to, sp->integration ? ", integration " : "",
		 sp->integration ? sp->integration : "", sp->type ? ", type " : "",
		 sp->type ? sp->type : "", error ? "; " : "", error ? error : "");
	store_meta_set(s, key, val, &e);
}
