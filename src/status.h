/* status.h - readings of a source's live status shared by `mimewatch
 * status` and the console, so both warn by the same rule. */
#ifndef MW_STATUS_H
#define MW_STATUS_H

#include "store/store.h"

/* Collected time without a record after which a type is called silent. */
#define STATUS_SILENT_SECS 86400

/* The warning for a type that has returned no records for 24 hours of
 * collected time (for TTP: Enhanced Logging off, or the package not
 * licensed; the log-type table's silence_warning), or NULL, also for a type
 * whose quiet days are normal (audit, DLP). */
const char *status_silence_warning(const struct store_status *st);

#endif
