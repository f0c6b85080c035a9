/* status.c - see status.h. */
#include "status.h"

const char *status_silence_warning(const struct store_status *st)
{
	/* Nothing collected yet says nothing about the tenant. */
	if (!st->last_success || !st->horizon)
		return NULL;
	if (st->last_record_time && st->horizon - st->last_record_time < STATUS_SILENT_SECS)
		return NULL;
	/* Records whose times were not kept still prove the type works. */
	if (!st->last_record_time && st->total > 0)
		return NULL;
	return "no records for 24 hours: Enhanced Logging may be off (Account Settings), or the "
	       "package is not licensed";
}
