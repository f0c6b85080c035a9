/* siem.c - the simulated SIEM batch files (see siem.h). The shapes are the
 * public record's: the listing {"value":[{url,size,expiry}],"@nextPage",
 * "isCaughtUp"} [GRAV-EVENTS]; links pre-signed in S3's style and fetched
 * without the Bearer header [GRAV-MAIN] [SEK-HELPERS]; each file a gzip of
 * NDJSON, an event a line, with _offset, _partition, accountId,
 * aggregateId, processingId, type, subtype and timestamp (epoch ms, a
 * number), then the type's own fields, numbers and booleans often as
 * strings and missing values as null [ELA-SIEM-V2-TEST]. A volume
 * (--siem-events) lays a backfill's events out in files of a size given,
 * made ahead in a thread. */
#include "siem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "jsonout.h"

#define DAY 86400
#define FILES_PER_DAY 4         /* one every 6 hours (Mimecast: ~15 min [SEK-CHANGES]) */

/* the 2.0 names [ELA-SIEM-MANIFEST] [GRAV-EVENTS] */
static const char *const names[SIEM_NTYPES] = {
	"receipt", "process", "delivery", "av", "spam", "journal", "internal email protect",
	"impersonation protect", "url protect", "attachment protect",
};
static const char *const slugs[SIEM_NTYPES] = {
	"receipt", "process", "delivery", "av", "spam", "journal", "internal-email-protect",
	"impersonation-protect", "url-protect", "attachment-protect",
};
/* a subtype value per type, as the fixtures show them [ELA-SIEM-V2-TEST] */
static const char *const subtypes[SIEM_NTYPES] = {
	"Acc", "Pol", "Delivery", "Virus", "Spam", "Journal", "IEP", "Impersonation", "Url",
	"Attachment",
};

/* A type's own fields: name and how its value comes. */
enum fk { FK_STR, FK_NUMSTR, FK_BOOLSTR, FK_NULL, FK_NUM };
struct field {
	const char *name;
	enum fk kind;
};
#define MAXF 6
static const struct field fields[SIEM_NTYPES][MAXF] = {
	{ { "messageId", FK_STR }, { "senderEnvelope", FK_STR }, { "recipients", FK_STR },
	  { "subject", FK_STR }, { "emailSize", FK_NUMSTR }, { "spamScore", FK_NULL } },
	{ { "messageId", FK_STR }, { "senderEnvelope", FK_STR }, { "recipients", FK_STR },
	  { "action", FK_STR }, { "holdReason", FK_NULL }, { "numberAttachments", FK_NUMSTR } },
	{ { "messageId", FK_STR }, { "senderEnvelope", FK_STR }, { "recipients", FK_STR },
	  { "delivered", FK_BOOLSTR }, { "deliveryAttempts", FK_NUMSTR }, { "emailSize", FK_NUM } },
	{ { "messageId", FK_STR }, { "senderEnvelope", FK_STR }, { "recipients", FK_STR },
	  { "fileName", FK_STR }, { "sha256", FK_STR }, { "virusFound", FK_STR } },
	{ { "messageId", FK_STR }, { "senderEnvelope", FK_STR }, { "recipients", FK_STR },
	  { "spamScore", FK_NUMSTR }, { "detectionLevel", FK_STR }, { "subject", FK_STR } },
	{ { "messageId", FK_STR }, { "senderEnvelope", FK_STR }, { "recipients", FK_STR },
	  { "direction", FK_STR }, { "emailSize", FK_NUMSTR }, { "subject", FK_NULL } },
	{ { "messageId", FK_STR }, { "senderEnvelope", FK_STR }, { "recipients", FK_STR },
	  { "url", FK_STR }, { "action", FK_STR }, { "scanResult", FK_NULL } },
	{ { "messageId", FK_STR }, { "senderEnvelope", FK_STR }, { "recipients", FK_STR },
	  { "taggedMalicious", FK_BOOLSTR }, { "similarDomain", FK_STR }, { "action", FK_STR } },
	{ { "messageId", FK_STR }, { "senderEnvelope", FK_STR }, { "recipients", FK_STR },
	  { "url", FK_STR }, { "urlCategory", FK_STR }, { "action", FK_STR } },
	/* no messageId nor verdict [ELA-SIEM-V2-TEST] */
	{ { "fileName", FK_STR }, { "fileExtension", FK_STR }, { "md5", FK_STR },
	  { "sha1", FK_STR }, { "sha256", FK_STR }, { "recipients", FK_STR } },
};

int siem_type_of(const char *wire)
{
	for (int t = 0; wire && t < SIEM_NTYPES; t++)
		if (strcmp(names[t], wire) == 0)
			return t;
	return -1;
}

const char *siem_type_name(int t)
{
	return names[t];
}

const char *siem_type_slug(int t)
{
	return slugs[t];
}

int siem_type_of_slug(const char *slug)
{
	for (int t = 0; slug && t < SIEM_NTYPES; t++)
		if (strcmp(slugs[t], slug) == 0)
			return t;
	return -1;
}

/* ---- --siem-events: a backfill's volume ------------------------------------- */

/* The days before the start day, every type: the cells files are spread
 * over evenly, day by day and within a day type by type, the order in
 * which a collector taking the types in turn reads them. */
#define CELLS (SIEM_DAYS * SIEM_NTYPES)
/* Threads making the files ahead: the bench machine's two cores, idle
 * while bench.py waits for them (siem_volume_progress) before it times a
 * collector. */
#define VOL_THREADS 2

struct siem_volume {
	uint64_t seed;
	int64_t events;
	int per_file;
	int64_t first;          /* 00:00 UTC of the oldest day with files */
	int64_t nfiles;
	pthread_mutex_t mu;
	/* file g gzip'd, set once (by the thread or by a request, whichever
	 * makes it first) and freed with the volume only */
	struct { char *gz; size_t len; } *made;
	int64_t nmade, gzbytes;
	pthread_t threads[VOL_THREADS];
	int nthreads;
	atomic_int stop;
	atomic_int next;        /* the next cell a thread takes */
};

/* The cell of (t, day), or -1 (a day without files). */
static int vol_cell(const struct siem_volume *v, int t, int64_t day)
{
	if (t < 0 || t >= SIEM_NTYPES || day < v->first || day >= v->first + SIEM_DAYS * DAY ||
	    (day - v->first) % DAY)
		return -1;
	return (int)((day - v->first) / DAY) * SIEM_NTYPES + t;
}

static int vol_files(const struct siem_volume *v, int cell)
{
	return (int)(v->nfiles / CELLS + (cell < v->nfiles % CELLS));
}

/* File f of a cell's number among all: the cells' files in a row. */
static int64_t vol_number(const struct siem_volume *v, int cell, int f)
{
	int64_t q = v->nfiles / CELLS, r = v->nfiles % CELLS;

	return cell * q + (cell < r ? cell : r) + f;
}

/* Every file holds per_file events but the last, which holds the rest. */
static int vol_events(const struct siem_volume *v, int64_t g)
{
	return g == v->nfiles - 1 ? (int)(v->events - g * v->per_file) : v->per_file;
}

/* File (cell, f) gzip'd into made[g] unless there already; 0 or -1. */
static int vol_make(struct siem_volume *v, int cell, int f)
{
	int64_t g = vol_number(v, cell, f);
	int64_t day = v->first + (int64_t)(cell / SIEM_NTYPES) * DAY;
	mw_buf raw, gz;
	int rc;

	pthread_mutex_lock(&v->mu);
	rc = v->made[g].gz != NULL;
	pthread_mutex_unlock(&v->mu);
	if (rc)
		return 0;
	mw_buf_init(&raw);
	mw_buf_init(&gz);
	siem_file_events(v, v->seed, cell % SIEM_NTYPES, day, f, &raw);
	rc = siem_gzip(raw.data, raw.len, &gz);
	mw_buf_free(&raw);
	pthread_mutex_lock(&v->mu);
	if (rc == 0 && !v->made[g].gz) {
		v->made[g].gz = gz.data;   /* the slot owns it now */
		v->made[g].len = gz.len;
		v->nmade++;
		v->gzbytes += (int64_t)gz.len;
		gz.data = NULL;
	}
	pthread_mutex_unlock(&v->mu);
	free(gz.data);
	return rc;
}

/* Makes every file ahead of the collector, a cell at a time in the order
 * it reads them: generating and gzip'ing (zlib's default level, as gzip(1)
 * writes) cost the sim about 6 s of CPU a million events on the 2-core
 * bench machine; made on request they would lie on the collector's path
 * and halve its records/s. */
static void *vol_thread(void *arg)
{
	struct siem_volume *v = arg;
	int cell;

	while (!atomic_load(&v->stop) && (cell = atomic_fetch_add(&v->next, 1)) < CELLS)
		for (int f = 0, n = vol_files(v, cell); f < n && !atomic_load(&v->stop); f++)
			vol_make(v, cell, f);
	return NULL;
}

struct siem_volume *siem_volume_new(uint64_t seed, int64_t events, int per_file, int64_t now)
{
	struct siem_volume *v = mw_xcalloc(1, sizeof(*v));

	v->seed = seed;
	v->events = events;
	v->per_file = per_file;
	v->first = now - now % DAY - SIEM_DAYS * DAY;
	v->nfiles = (events + per_file - 1) / per_file;
	v->made = mw_xcalloc((size_t)v->nfiles, sizeof(*v->made));
	pthread_mutex_init(&v->mu, NULL);
	atomic_init(&v->stop, 0);
	atomic_init(&v->next, 0);
	/* without a thread, each file is made when it is asked for */
	while (v->nthreads < VOL_THREADS &&
	       pthread_create(&v->threads[v->nthreads], NULL, vol_thread, v) == 0)
		v->nthreads++;
	return v;
}

void siem_volume_free(struct siem_volume *v)
{
	if (!v)
		return;
	atomic_store(&v->stop, 1);
	for (int i = 0; i < v->nthreads; i++)
		pthread_join(v->threads[i], NULL);
	for (int64_t g = 0; g < v->nfiles; g++)
		free(v->made[g].gz);
	free(v->made);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

void siem_volume_progress(struct siem_volume *v, int64_t *made, int64_t *total,
			  int64_t *gzbytes)
{
	pthread_mutex_lock(&v->mu);
	*made = v->nmade;
	*gzbytes = v->gzbytes;
	pthread_mutex_unlock(&v->mu);
	*total = v->nfiles;
}

int siem_volume_gzip(struct siem_volume *v, int t, int64_t day, int f, mw_buf *out)
{
	int cell = vol_cell(v, t, day);
	int64_t g;
	const char *gz;
	size_t len;

	if (cell < 0 || f < 0 || f >= vol_files(v, cell) || vol_make(v, cell, f) < 0)
		return -1;
	g = vol_number(v, cell, f);
	pthread_mutex_lock(&v->mu);
	gz = v->made[g].gz;
	len = v->made[g].len;
	pthread_mutex_unlock(&v->mu);
	mw_buf_append(out, gz, len);   /* set once, freed with v: safe unlocked */
	return 0;
}

/* ---- the files ---------------------------------------------------------------- */

int siem_files(const struct siem_volume *v, int t, int64_t day, int64_t now, int noday)
{
	int64_t today = now - now % DAY;
	int n = 0;

	if (day > today || day < today - SIEM_DAYS * DAY)
		return 0;
	if (noday && day == today - SIEM_NODAY_BACK * DAY)
		return 0;
	if (v) {
		int cell = vol_cell(v, t, day);

		return cell < 0 ? 0 : vol_files(v, cell);
	}
	for (int f = 0; f < FILES_PER_DAY; f++)
		if (day + (int64_t)(f + 1) * (DAY / FILES_PER_DAY) <= now)
			n++;
	return n;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static void put_value(mw_buf *b, const struct field *fd, uint64_t h, int t)
{
	static const char *const words[] = { "invoice", "meeting", "report", "hello", "update" };
	char v[96];

	switch (fd->kind) {
	case FK_NULL:
		mw_buf_puts(b, "null");
		return;
	case FK_NUM:
		mw_buf_printf(b, "%llu", (unsigned long long)(h % 90000 + 1000));
		return;
	case FK_NUMSTR:
		mw_buf_printf(b, "\"%llu\"", (unsigned long long)(h % 90000));
		return;
	case FK_BOOLSTR:
		mw_buf_puts(b, h & 1 ? "\"true\"" : "\"false\"");
		return;
	case FK_STR:
		break;
	}
	if (strstr(fd->name, "sha256") || strstr(fd->name, "sha1") || strstr(fd->name, "md5"))
		snprintf(v, sizeof(v), "%016llx%016llx", (unsigned long long)h,
			 (unsigned long long)mix(h));
	else if (strcmp(fd->name, "url") == 0)
		snprintf(v, sizeof(v), "https://%s%llu.example/p", words[h % 5],
			 (unsigned long long)(h % 97));
	else if (strcmp(fd->name, "senderEnvelope") == 0 || strcmp(fd->name, "recipients") == 0)
		snprintf(v, sizeof(v), "%s%llu@sim.example", fd->name[0] == 's' ? "from" : "to",
			 (unsigned long long)(h % 50));
	else if (strcmp(fd->name, "messageId") == 0)
		snprintf(v, sizeof(v), "<%016llx@mail.sim.example>", (unsigned long long)h);
	else
		snprintf(v, sizeof(v), "%s %s %llu", subtypes[t], words[h % 5],
			 (unsigned long long)(h % 1000));
	jsonout_safe_string(b, v, strlen(v));
}

void siem_file_events(const struct siem_volume *v, uint64_t seed, int t, int64_t day, int f,
		      mw_buf *out)
{
	uint64_t base = mix(seed ^ mix((uint64_t)day * 16 + (uint64_t)t) ^ (uint64_t)f << 40);
	int n = 3 + (int)(base % 5);
	int64_t slot = DAY / FILES_PER_DAY, step_ms, offset = (int64_t)f * 100;

	if (v) {
		int cell = vol_cell(v, t, day);

		if (cell < 0 || f < 0 || f >= vol_files(v, cell))
			return;
		n = vol_events(v, vol_number(v, cell, f));
		slot = DAY / vol_files(v, cell);
		offset = (int64_t)f * v->per_file;
	}
	/* in whole seconds for the default tenant, as before volumes */
	step_ms = v ? slot * 1000 / n : slot / n * 1000;
	for (int k = 0; k < n; k++) {
		uint64_t h = mix(base + (uint64_t)k);
		int64_t ms = (day + f * slot) * 1000 + k * step_ms + (int64_t)(h % 1000);

		mw_buf_printf(out, "{\"_offset\":%lld,\"_partition\":%d,\"accountId\":\"C0A0B1\","
			      "\"aggregateId\":\"agg%016llx\",\"processingId\":\"prc%08llx\","
			      "\"type\":\"%s\",\"subtype\":\"%s\",\"timestamp\":%lld",
			      (long long)(offset + k), t % 3, (unsigned long long)(h >> 8),
			      (unsigned long long)(base & 0xffffffffu), names[t], subtypes[t],
			      (long long)ms);
		for (int i = 0; i < MAXF; i++) {
			mw_buf_printf(out, ",\"%s\":", fields[t][i].name);
			put_value(out, &fields[t][i], mix(h + (uint64_t)i), t);
		}
		mw_buf_puts(out, "}\n");
	}
}

int siem_gzip(const char *p, size_t n, mw_buf *out)
{
	z_stream z;
	unsigned char chunk[16384];
	int zr;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		mw_buf_append(out, (const char *)chunk, sizeof(chunk) - z.avail_out);
	} while (zr == Z_OK);
	deflateEnd(&z);
	return zr == Z_STREAM_END ? 0 : -1;
}

void siem_token(int t, int64_t day, int next, char out[64])
{
	snprintf(out, 64, "cg1.%d.%lld.%d", t, (long long)day, next);
}

int siem_token_parse(const char *tok, int *t, int64_t *day, int *next)
{
	long long d;
	int k = 0;

	if (sscanf(tok, "cg1.%d.%lld.%d%n", t, &d, next, &k) != 3 || tok[k] || *t < 0 ||
	    *t >= SIEM_NTYPES || *next < 0)
		return -1;
	*day = d;
	return 0;
}

uint64_t siem_signature(uint64_t seed, const char *path, int64_t date)
{
	uint64_t h = mix(seed ^ (uint64_t)date);

	for (; *path; path++)
		h = mix(h ^ (unsigned char)*path);
	return h;
}

static void put_link(mw_buf *b, const char *base, uint64_t seed, int t, int64_t day, int f,
		     int64_t now)
{
	char path[160], d[16], expiry[32];
	time_t tt = (time_t)day;
	time_t te = (time_t)(now + SIEM_LINK_TTL);
	struct tm tm;
	mw_buf e;

	gmtime_r(&tt, &tm);
	strftime(d, sizeof(d), "%Y-%m-%d", &tm);
	snprintf(path, sizeof(path), "/siem-files/%s/%s/%d.json.gz", slugs[t], d, f);
	mw_buf_init(&e);
	mw_buf_printf(&e, "%s%s?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=%lld&"
		      "X-Amz-Expires=%d&X-Amz-Signature=%016llx", base, path, (long long)now,
		      SIEM_LINK_TTL, (unsigned long long)siem_signature(seed, path, now));
	gmtime_r(&te, &tm);
	strftime(expiry, sizeof(expiry), "%Y-%m-%dT%H:%M:%SZ", &tm);
	mw_buf_puts(b, "{\"url\":");
	jsonout_safe_string(b, e.data, e.len);
	mw_buf_printf(b, ",\"size\":%d,\"expiry\":\"%s\"}", 600 + f * 13, expiry);
	mw_buf_free(&e);
}

void siem_listing(const char *base, uint64_t seed, int t, int64_t day, int from, int n,
		  int nvisible, int twice, int loop, int64_t now, mw_buf *out)
{
	int to = from + n < nvisible ? from + n : nvisible;
	int last = twice && to < nvisible ? to + 1 : to;
	char tok[64];

	mw_buf_puts(out, "{\"value\":[");
	for (int f = from; f < last; f++) {
		if (f > from)
			mw_buf_putc(out, ',');
		put_link(out, base, seed, t, day, f, now);
	}
	siem_token(t, day, to > from && !loop ? to : from, tok);
	mw_buf_printf(out, "],\"@nextPage\":\"%s\",\"isCaughtUp\":%s}", tok,
		      to >= nvisible ? "true" : "false");
}

/* ---- API 1.0: get-siem-logs ------------------------------------------------ */

/* 1.0's file prefixes [AZ-V1-SIEM] */
static const char *const prefixes[SIEM_NTYPES] = {
	"receipt", "process", "delivery", "av", "spameventthread", "jrnl", "iep",
	"impersonation", "ttp_url", "ttp_ap",
};

/* File i of the stream, oldest first: its type, day and number; -1 past
 * the last. */
static int siem1_file_at(const struct siem_volume *v, int i, int64_t now, int noday, int *t,
			 int64_t *day, int *f)
{
	int64_t today = now - now % DAY;
	int k = 0, most = v ? (int)(v->nfiles / CELLS + 1) : FILES_PER_DAY;

	for (int64_t d = today - SIEM_DAYS * DAY; d <= today; d += DAY)
		for (int ff = 0; ff < most; ff++)
			for (int tt = 0; tt < SIEM_NTYPES; tt++) {
				if (ff >= siem_files(v, tt, d, now, noday))
					continue;
				if (k++ == i) {
					*t = tt;
					*day = d;
					*f = ff;
					return 0;
				}
			}
	return -1;
}

/* The events of a file in 1.0's shape: datetime (+0000 here; the account's
 * own offset in real files [ELA-SIEM-V1-TEST]), aCode, acc, Sender, Rcpt,
 * MsgId, Subject [JS-LOGS]. */
static void siem1_events(const struct siem_volume *v, uint64_t seed, int t, int64_t day, int f,
			 int first, mw_buf *out)
{
	mw_buf v2;
	const char *p;

	mw_buf_init(&v2);
	siem_file_events(v, seed, t, day, f, &v2);
	p = v2.data;
	for (int k = 0; p && *p; k++) {
		const char *nl = strchr(p, '\n');
		const char *ts = strstr(p, "\"timestamp\":");
		long long ms = ts ? strtoll(ts + 12, NULL, 10) : 0;
		char when[32];

		mw_format_mc_date((int64_t)(ms / 1000), when);
		mw_buf_printf(out, "%s{\"datetime\":\"%s\",\"aCode\":\"a%llx\",\"acc\":\"C0A0B1\","
			      "\"Sender\":\"from%d@sim.example\",\"Rcpt\":\"to%d@sim.example\","
			      "\"MsgId\":\"<%lld.%d@mail.sim.example>\",\"Subject\":\"%s %d\","
			      "\"logType\":\"%s\"}", first && k == 0 ? "" : ",", when,
			      (unsigned long long)(ms ^ (long long)seed), (int)(ms % 50),
			      (int)(ms / 7 % 50), ms, t, names[t], f, prefixes[t]);
		p = nl ? nl + 1 : NULL;
	}
	mw_buf_free(&v2);
}

int siem1_answer(const struct siem_volume *v, uint64_t seed, int i, int64_t now, int noday,
		 mw_buf *out, char name[96])
{
	int t, f;
	int64_t day;
	char stamp[32];
	time_t tt;
	struct tm tm;

	if (siem1_file_at(v, i, now, noday, &t, &day, &f) < 0)
		return -1;
	tt = (time_t)(day + f * (DAY / FILES_PER_DAY));
	gmtime_r(&tt, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S000", &tm);
	snprintf(name, 96, "%s_%s.json", prefixes[t], stamp);
	mw_buf_puts(out, "{\"type\":\"MTA\",\"data\":[");
	siem1_events(v, seed, t, day, f, 1, out);
	mw_buf_puts(out, "]}");
	return 0;
}

void siem1_truth(const struct siem_volume *v, uint64_t seed, int64_t now, int noday,
		 mw_buf *out)
{
	int t, f;
	int64_t day;

	for (int i = 0; siem1_file_at(v, i, now, noday, &t, &day, &f) == 0; i++) {
		mw_buf one;
		const char *p;

		mw_buf_init(&one);
		siem1_events(v, seed, t, day, f, 1, &one);
		/* one event a line */
		for (p = one.data; p && *p;) {
			const char *end = strstr(p, "},{");

			if (!end) {
				mw_buf_printf(out, "%s\n", p);
				break;
			}
			mw_buf_append(out, p, (size_t)(end - p + 1));
			mw_buf_putc(out, '\n');
			p = end + 2;
		}
		mw_buf_free(&one);
	}
}
