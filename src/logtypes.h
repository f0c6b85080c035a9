/* logtypes.h - the table of Mimecast log types. Adding a type (audit, DLP,
 * SIEM) is one entry here plus its preview columns: nothing else in the code
 * may switch on the type. */
#ifndef MW_LOGTYPES_H
#define MW_LOGTYPES_H

#include <stddef.h>

struct mw_column {
	const char *title;  /* column heading */
	const char *field;  /* record key (top level) shown in it */
	int width;          /* preferred columns; 0 takes what is left */
};

struct mw_logtype {
	const char *name;          /* config and NDJSON name: "url" */
	const char *label;         /* "URL Protect" */
	const char *path;          /* "/api/ttp/url/get-logs" */
	const char *array_key;     /* records live in data[0].<array_key> */
	const char *time_field;    /* record time: "date" or "eventTime" */
	const char *id_field;      /* the record's own id, or NULL: canonical SHA-256 */
	const char *filters;       /* extra members of data[0], JSON, may be "" */
	const char *permission;    /* "Monitoring | URL Protection | Read" */
	const char *package;       /* get-account package name fragment */
	/* A record is a threat when threat_field's value (a string, or a
	 * boolean as "true"/"false") is one of threat_values (NULL-ended). */
	const char *threat_field;
	const char *const *threat_values;
	const struct mw_column *columns;
	size_t ncolumns;
};

extern const struct mw_logtype mw_logtypes[];
extern const size_t mw_nlogtypes;

/* By name, or NULL. */
const struct mw_logtype *logtype_find(const char *name);
/* Index in mw_logtypes (the bit in a types mask), or -1. */
int logtype_index(const char *name);

#endif
