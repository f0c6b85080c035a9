/* src/sim/records.h - the simulated tenant's records: deterministic from
 * (seed, type, index), generated straight into a buffer (no JSON library on
 * the response path), with the fields HACKING lists ("The log endpoints").
 *
 * Record i of a type has time start + i * spacing. Records exist only up to
 * "now"; a late record becomes visible only late_delay after its time. */
#ifndef MW_SIM_RECORDS_H
#define MW_SIM_RECORDS_H

#include <stdint.h>
#include "util.h"
#include "logtypes.h"

/* The TTP types, then audit events and DLP logs (HACKING, "Beyond TTP:
 * audit, DLP and SIEM"); names and shapes as src/logtypes.c has them. */
enum sim_type { SIM_URL, SIM_IMPERSONATION, SIM_ATTACHMENT, SIM_AUDIT, SIM_DLP, SIM_NTYPES };

/* Routes as filter values; SIM_ANY means no filter. */
enum { SIM_ANY = -1, SIM_ROUTE_INBOUND = 0, SIM_ROUTE_OUTBOUND, SIM_ROUTE_INTERNAL };

struct sim_recset {
	uint64_t seed;
	int64_t start_us;                 /* time of record 0, microseconds */
	int64_t spacing_us[SIM_NTYPES];   /* > 0 */
	int64_t count;                    /* records per type; -1: no end */
	double late_fraction;             /* 0..1 */
	int64_t late_delay_us;
	int hostile_every;                /* 0: never */
	int corpus;                       /* hostile records: every string field from
					   * the terminal-injection corpus */
};

/* Filters of a get-logs request (SIM_ANY / NULL: none). verdict is the URL
 * scanResult or the attachment result; tagged the impersonation
 * taggedMalicious (0, 1 or SIM_ANY). */
struct sim_filter {
	int route;
	const char *verdict;
	int tagged;
};

const char *sim_records_type_name(int type);   /* "url" ... */
/* "clickLogs" ...; NULL: the records are data[] itself (audit). */
const char *sim_records_array_key(int type);
/* The log-type table's entry of a type (shape: time keys, order). */
const struct mw_logtype *sim_records_logtype(int type);
int sim_records_type_from_name(const char *name); /* -1 unknown */

int64_t sim_records_time_us(const struct sim_recset *rs, int type, int64_t i);
/* The first index whose time is >= t_us (never beyond count). */
int64_t sim_records_first_at(const struct sim_recset *rs, int type, int64_t t_us);
/* One past the last index whose time is <= now_us (clipped to count). */
int64_t sim_records_end(const struct sim_recset *rs, int type, int64_t now_us);
/* 1 if record i (which exists) may be seen at now_us (late records wait). */
int sim_records_visible(const struct sim_recset *rs, int type, int64_t i, int64_t now_us);
/* How many records of a type are visible at now_us. */
int64_t sim_records_visible_count(const struct sim_recset *rs, int type, int64_t now_us);
/* 1 if record i passes the filter. Cheap: no text is built. */
int sim_records_match(const struct sim_recset *rs, int type, int64_t i,
		      const struct sim_filter *f);
/* Appends record i as one JSON object. */
void sim_records_append(mw_buf *out, const struct sim_recset *rs, int type, int64_t i);
/* The same record with its time field (date or eventTime) moved by shift_s
 * seconds, or, when date_text is not NULL, holding date_text instead (written
 * JSON-escaped); every other field as sim_records_append writes it. For the
 * hostile-tenant faults timeshift and baddate. */
void sim_records_append_at(mw_buf *out, const struct sim_recset *rs, int type, int64_t i,
			   int64_t shift_s, const char *date_text);

/* The same record as Mimecast might serve it again after its verdict
 * changed (the revise fault): for impersonation, revision rev of its
 * content: an odd rev flips action (none/hold) and taggedMalicious, an
 * even one serves the original content again. Other types unchanged. */
void sim_records_append_revised(mw_buf *out, const struct sim_recset *rs, int type,
				int64_t i, int rev);

/* "2024-11-17T17:02:30+0000" for epoch seconds; out holds 25 bytes. */
void sim_records_format_date(int64_t epoch, char out[25]);

#endif
