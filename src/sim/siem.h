/* src/sim/siem.h - the simulated SIEM batch files (API 2.0): which files a
 * sub-type's day holds, their events, gzip'd, and the listing's body
 * (HACKING, "SIEM on API 2.0: batch files"). Private to src/sim/. */
#ifndef MW_SIM_SIEM_H
#define MW_SIM_SIEM_H

#include <stdint.h>
#include "util.h"

#define SIEM_NTYPES 10
#define SIEM_DAYS 7             /* kept: today and the 7 days before [SEK-CHANGES] */
/* --fault siem_noday: this many days before today has no file at all */
#define SIEM_NODAY_BACK 2

/* The sub-type of a type= value, or -1. */
int siem_type_of(const char *wire);
const char *siem_type_name(int t);
/* The file's path component of a type: "url-protect". */
const char *siem_type_slug(int t);
int siem_type_of_slug(const char *slug);
/* --siem-events N: a backfill of N events in all (make bench), in files
 * of per_file events over the SIEM_DAYS days before the day the sim
 * started, every type alike; today has none. Its files are gzip'd ahead
 * by threads of its own, so that making them stays off the collector's
 * path. NULL everywhere below: the default tenant (FILES_PER_DAY files a
 * type and day, of 3 to 7 events). */
struct siem_volume;
struct siem_volume *siem_volume_new(uint64_t seed, int64_t events, int per_file, int64_t now);
void siem_volume_free(struct siem_volume *v);
/* Files made so far, of total, and their gzip'd bytes (GET /_sim/stats). */
void siem_volume_progress(struct siem_volume *v, int64_t *made, int64_t *total,
			  int64_t *gzbytes);
/* out = file f of (t, day) gzip'd, made now unless the thread has; 0, or
 * -1 (no such file, or gzip failed). */
int siem_volume_gzip(struct siem_volume *v, int t, int64_t day, int f, mw_buf *out);

/* Files of type t on the day starting at day (00:00 UTC) visible at now:
 * every one of a past day, today's written so far; noday: none on the day
 * SIEM_NODAY_BACK before today. */
int siem_files(const struct siem_volume *v, int t, int64_t day, int64_t now, int noday);
/* The events of file f of (t, day): NDJSON, one a line. */
void siem_file_events(const struct siem_volume *v, uint64_t seed, int t, int64_t day, int f,
		      mw_buf *out);
/* out = gzip of p[0..n). 0, or -1. */
int siem_gzip(const char *p, size_t n, mw_buf *out);
/* A day's listing page: files [from, from + n) of (t, day) (twice: also
 * file from + n, which the next page lists again), pre-signed links on
 * base, @nextPage naming from + n (loop: from, the same page again). */
void siem_listing(const char *base, uint64_t seed, int t, int64_t day, int from, int n,
		  int nvisible, int twice, int loop, int64_t now, mw_buf *out);
/* The page token of a listing: (t, day, next file); parse: 0 or -1. */
void siem_token(int t, int64_t day, int next, char out[64]);
int siem_token_parse(const char *tok, int *t, int64_t *day, int *next);
/* A link's signature over its path and date (the sim's stand-in for
 * X-Amz-Signature). */
uint64_t siem_signature(uint64_t seed, const char *path, int64_t date);
#define SIEM_LINK_TTL 900       /* X-Amz-Expires, seconds */

/* API 1.0 get-siem-logs: file i of the stream (oldest first, every type
 * and day kept), {"type":"MTA","data":[...]} in out and its file name;
 * -1 past the last. */
int siem1_answer(const struct siem_volume *v, uint64_t seed, int i, int64_t now, int noday,
		 mw_buf *out, char name[96]);
/* Every 1.0 event of the stream now, NDJSON. */
void siem1_truth(const struct siem_volume *v, uint64_t seed, int64_t now, int noday,
		 mw_buf *out);

#endif
