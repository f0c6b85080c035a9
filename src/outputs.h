/* outputs.h - delivery of stored records to the configured outputs. Each
 * output reads the store by rowid from its own durable offset, so a slow or
 * dead output never holds up collection. NDJSON (design.md): one file per
 * integration, type and UTC date of writing; the committed size of each file
 * is stored with the last rowid, so after a crash the file is cut back to it
 * and writing resumes after that rowid: no torn or duplicated line. */
#ifndef MW_OUTPUTS_H
#define MW_OUTPUTS_H

#include <stdint.h>
#include "config.h"
#include "store.h"

/* Appends the NDJSON line for a stored row (with the trailing '\n'):
 * {"integration":..,"type":..,"id":..,"time":"<RFC 3339 UTC>","record":{..}} */
void ndjson_line(mw_buf *out, const struct store_row *row);

/* Brings every output of cfg up to date with the store. Recovers each NDJSON
 * output (truncates files to their committed sizes) on its first call in this
 * process. *delivered (may be NULL) gets the rows written. */
int outputs_deliver(const struct mw_config *cfg, mw_store *s, int64_t *delivered, mw_err *e);

/* Test seam: forgets which outputs this process has recovered, so the next
 * outputs_deliver recovers again as a freshly started process would. */
void outputs_forget_recovery(void);

/* The lowest offset over all outputs (what retention may delete up to). */
int64_t outputs_min_offset(const struct mw_config *cfg, mw_store *s);

/* The NDJSON directory of an output with its default applied. */
const char *outputs_ndjson_dir(const struct mw_config *cfg, const struct mw_output *o,
			       char *buf, size_t n);

#endif
