/* output/handoff.c - the pages the collector just committed, kept in memory
 * for the NDJSON outputs, so that a backfill's records are not read back
 * from the store they were written to a moment before (HACKING, "Outputs
 * and delivery").
 *
 * The store stays the source of truth: a page is pushed only when every
 * record of it was stored, in order, at consecutive rowids (first_rowid of
 * store_page_result), and an output takes rows from here only while they
 * follow its own offset without a gap; anything else (a lagging output, a
 * restart, a heartbeat or a revision, which are not pushed, or rows
 * dropped to keep the memory bounded) is read from the store as before.
 * The lines written are the same either way: ndjson_line of the same row. */
#include "output.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One committed page: rows first .. first + n - 1. */
struct ho_page {
	struct ho_page *next;
	int64_t first, collected;
	size_t n;
	const char *integration, *type;
	struct ho_row {
		const char *id, *json;
		size_t json_len;
		int64_t time, revision;
	} *rows;
	/* the rows, then integration, type, ids and JSON, in one block */
};

struct output_handoff {
	pthread_mutex_t mu;
	struct ho_page *head, *tail;
	size_t rows, max_rows;
};

output_handoff *output_handoff_new(size_t max_rows)
{
	output_handoff *h = mw_xcalloc(1, sizeof(*h));

	pthread_mutex_init(&h->mu, NULL);
	h->max_rows = max_rows;
	return h;
}

static void drop_head(output_handoff *h)
{
	struct ho_page *p = h->head;

	h->head = p->next;
	if (!h->head)
		h->tail = NULL;
	h->rows -= p->n;
	free(p);
}

void output_handoff_free(output_handoff *h)
{
	if (!h)
		return;
	while (h->head)
		drop_head(h);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

void output_handoff_push(output_handoff *h, int64_t first_rowid, const char *integration,
			 const char *type, const struct store_rec *recs, size_t n, int64_t now)
{
	size_t il = strlen(integration) + 1, tl = strlen(type) + 1, size;
	struct ho_page *p;
	char *text;

	if (!h || n == 0 || first_rowid <= 0 || n > h->max_rows)
		return;
	size = sizeof(*p) + n * sizeof(*p->rows) + il + tl;
	for (size_t i = 0; i < n; i++)
		size += strlen(recs[i].id) + 1 + recs[i].json_len + 1;
	p = mw_xmalloc(size);
	p->next = NULL;
	p->first = first_rowid;
	p->collected = now;
	p->n = n;
	p->rows = (struct ho_row *)(p + 1);
	text = (char *)(p->rows + n);
	p->integration = memcpy(text, integration, il);
	text += il;
	p->type = memcpy(text, type, tl);
	text += tl;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(recs[i].id) + 1;

		p->rows[i].id = memcpy(text, recs[i].id, l);
		text += l;
		p->rows[i].json = memcpy(text, recs[i].json, recs[i].json_len);
		text[recs[i].json_len] = '\0';
		text += recs[i].json_len + 1;
		p->rows[i].json_len = recs[i].json_len;
		p->rows[i].time = recs[i].time;
		p->rows[i].revision = recs[i].keyed ? 1 : 0;
	}
	pthread_mutex_lock(&h->mu);
	/* A page that does not follow the last one (a heartbeat or a revision
	 * went between): what is held stays valid, rows are found by rowid. */
	if (h->tail)
		h->tail->next = p;
	else
		h->head = p;
	h->tail = p;
	h->rows += n;
	while (h->rows > h->max_rows)
		drop_head(h);
	pthread_mutex_unlock(&h->mu);
}

size_t output_handoff_each(output_handoff *h, int64_t after, size_t limit,
			   int (*cb)(const struct store_row *row, void *ctx), void *ctx)
{
	size_t fed = 0;
	int64_t want = after + 1;

	if (!h)
		return 0;
	pthread_mutex_lock(&h->mu);
	for (struct ho_page *p = h->head; p && fed < limit; p = p->next) {
		struct store_row row;

		if (want < p->first || want >= p->first + (int64_t)p->n) {
			if (fed)
				break;  /* a gap after what was fed: the store has it */
			continue;
		}
		row.integration = p->integration;
		row.type = p->type;
		row.collected = p->collected;
		for (size_t i = (size_t)(want - p->first); i < p->n && fed < limit; i++) {
			row.rowid = p->first + (int64_t)i;
			row.id = p->rows[i].id;
			row.time = p->rows[i].time;
			row.json = p->rows[i].json;
			row.json_len = p->rows[i].json_len;
			row.revision = p->rows[i].revision;
			fed++;
			want++;
			if (cb(&row, ctx))
				goto out;
		}
	}
out:
	pthread_mutex_unlock(&h->mu);
	return fed;
}

int64_t output_handoff_first_after(output_handoff *h, int64_t after)
{
	int64_t first = 0;

	if (!h)
		return 0;
	pthread_mutex_lock(&h->mu);
	for (struct ho_page *p = h->head; p; p = p->next)
		if (p->first + (int64_t)p->n - 1 > after) {
			first = p->first > after ? p->first : after + 1;
			break;
		}
	pthread_mutex_unlock(&h->mu);
	return first;
}

void output_handoff_trim(output_handoff *h, int64_t upto)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	while (h->head && h->head->first + (int64_t)h->head->n - 1 <= upto)
		drop_head(h);
	pthread_mutex_unlock(&h->mu);
}
