/* status.c - see status.h. */
#include "status.h"
#include "logtypes.h"

const char *status_silence_warning(const struct store_status *st)
{
	const struct mw_logtype *lt = logtype_find(st->type);

	/* Nothing collected yet says nothing about the tenant. */
	if (!st->last_success || !st->horizon)
		return NULL;
	if (st->last_record_time && st->horizon - st->last_record_time < STATUS_SILENT_SECS)
		return NULL;
	/* Records whose times were not kept still prove the type works. */
	if (!st->last_record_time && st->total > 0)
		return NULL;
	/* what the table says of the type; a quiet day is normal for some */
	return lt ? lt->silence_warning : NULL;
}
