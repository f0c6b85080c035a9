/* logtypes.h - the table of Mimecast log types. Adding a type of the paged
 * shape (TTP, audit, DLP) is one entry here plus its preview columns: nothing
 * else in the code may switch on the type. The collector dispatches on a
 * type's shape (paged windows, or batch files per sub-type and day). */
#ifndef MW_LOGTYPES_H
#define MW_LOGTYPES_H

#include <stddef.h>
#include <stdint.h>

struct mw_column {
	const char *title;  /* column heading */
	const char *field;  /* record key (top level) shown in it */
	int width;          /* preferred columns; 0 takes what is left */
};

/* How a type is collected. */
enum mw_shape {
	MW_SHAPE_PAGED,  /* windows of pages (HACKING, "Windows and pages") */
	MW_SHAPE_BATCH,  /* listed files per sub-type and day ("Batch files") */
};

/* A sub-type of a batch type: one listing per (sub-type, day). */
struct mw_subtype {
	const char *name;   /* config name: "url_protect" */
	const char *wire;   /* as sent in type=: "url protect" */
	/* The paged type whose verdicts it records again (HACKING, "The SIEM
	 * protect events beside TTP"): off by default when that type is
	 * collected too; NULL: none. */
	const char *beside;
};

struct mw_logtype {
	const char *name;          /* config and NDJSON name: "url" */
	const char *label;         /* "URL Protect" */
	const char *path;          /* "/api/ttp/url/get-logs" */
	const char *path_v1;       /* API 1.0's where it differs, or NULL: path */
	enum mw_shape shape;
	const char *array_key;     /* records live in data[0].<array_key>; NULL:
				    * data[] itself is the records (audit) */
	const char *from_key;      /* data[0]'s window start: "from" or "startDateTime" */
	const char *to_key;        /* data[0]'s window end: "to" or "endDateTime" */
	/* 0: the request says "oldestFirst":true and pages come oldest first;
	 * 1: the endpoint takes no oldestFirst and pages come newest first, so a
	 * window is re-read from its start, never from its newest record
	 * (HACKING, "Newest-first windows"). */
	int newest_first;
	/* A window spans at most this many seconds (0: no bound). A
	 * newest-first type's pages land newest page first, so one window of
	 * a 60-day first poll put its oldest page on top of the store's rowid
	 * order, which the preview and the outputs follow; windows of a day
	 * keep that order time order to within a day (HACKING "Newest-first
	 * windows"). */
	int64_t window_max;
	int64_t retention;         /* seconds Mimecast keeps: a longer lookback warns */
	/* 1: Mimecast documents that it keeps no more (audit: "restricted to
	 * last 60 days"), so the first window's lookback and every window's
	 * start are clamped to retention; 0: retention is what peers assume
	 * (TTP's "about 30 days"; Azure's v2 connector asks 60 days back), so a
	 * longer lookback is asked for in full, with the warning only. */
	int clamped;
	const char *kept_as;       /* what the retention is said of: "TTP logs" */
	int by_default;            /* collected when a config names no types */
	/* The warning for a type that returned no records for 24 hours, with
	 * why (status.c); NULL: a quiet day is normal for it, no warning. */
	const char *silence_warning;
	/* record time: "date" or "eventTime"; a batch type's is epoch
	 * milliseconds, a number ("timestamp") */
	const char *time_field;
	const char *time_field_v1; /* API 1.0's where it differs (a +0000 date), or NULL */
	const char *id_field;      /* the record's own id, or NULL: canonical SHA-256 */
	const char *filters;       /* extra members of data[0], JSON, may be "" */
	const char *permission;    /* "Monitoring | URL Protection | Read" */
	/* The API 2.0 product an application must have been given for the
	 * endpoint (fixed when the application is made), or NULL if unknown. */
	const char *product;
	/* API 1.0's where it differs (another endpoint), or NULL: permission */
	const char *permission_v1;
	const char *package;       /* get-account package name fragment; NULL: no
				    * package is checked (none, or none confirmed) */
	/* A record is a threat when threat_field's value (a string, or a
	 * boolean as "true"/"false") is one of threat_values (NULL-ended).
	 * NULL threat_field: the type has no verdict (`m` does not apply). */
	const char *threat_field;
	const char *const *threat_values;
	const struct mw_column *columns;
	size_t ncolumns;
	const struct mw_subtype *subtypes;  /* a batch type's; NULL-free list */
	size_t nsubtypes;
};

extern const struct mw_logtype mw_logtypes[];
extern const size_t mw_nlogtypes;

/* By name, or NULL. */
const struct mw_logtype *logtype_find(const char *name);
/* The types collected when a config names none (a mask of table indices). */
unsigned logtype_default_mask(void);
/* How far back a first window of lt reaches: lookback, clamped to what
 * Mimecast keeps of the type where it documents that (clamped). */
int64_t logtype_lookback(const struct mw_logtype *lt, int64_t lookback);
/* Whether records of lt carry a verdict (threat_field), i.e. `m` applies. */
int logtype_has_verdict(const struct mw_logtype *lt);
/* Index in mw_logtypes (the bit in a types mask), or -1. */
int logtype_index(const char *name);
/* The permission a role needs for lt on API api (1 or 2). */
const char *logtype_permission(const struct mw_logtype *lt, int api);
/* The type that has sub-types (SIEM events), for the config's siem_types. */
const struct mw_logtype *logtype_batch(void);
/* Index of a sub-type of lt by config name (the bit in siem_types), or -1. */
int logtype_subtype_index(const struct mw_logtype *lt, const char *name);
/* The sub-types collected when a config names none, given the types it
 * collects: all but those beside a collected type. */
unsigned logtype_subtype_default(const struct mw_logtype *lt, unsigned types);

#endif
