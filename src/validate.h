/* validate.h - the live check of an integration: credentials, then each
 * chosen type's permission, with get-account's name and packages when the
 * role allows it. Used by `mimewatch validate`, the collector (for console
 * requests) and the wizard. */
#ifndef MW_VALIDATE_H
#define MW_VALIDATE_H

#include <stdatomic.h>
#include "config.h"
#include "errclass.h"

struct validate_row {
	const struct mw_logtype *lt;
	struct mc_result res;     /* cls MC_OK or the failure with its remedy */
	long records_seen;        /* records in the probe page */
};

struct validate_report {
	struct validate_row rows[8];
	size_t nrows;             /* one per chosen type, in table order */
	int account_ok;           /* get-account answered */
	char account_name[128], account_code[32];
	struct mc_result account_res;
	int ok_types;             /* rows with MC_OK */
};

/* Performs the requests (bounded: a few seconds of 429 waiting at most) and
 * fills rep. Returns 0 when every row is ok, 1 otherwise. abort_flag may be
 * NULL. */
int validate_integration(const struct mw_integration *in, struct validate_report *rep,
			 const atomic_int *abort_flag);

#endif
