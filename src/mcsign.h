/* mcsign.h - Mimecast API 1.0 request signing (mimecast-api.md section 1).
 * Shared by the client and by the simulated tenant, which checks it. */
#ifndef MW_MCSIGN_H
#define MW_MCSIGN_H

#include <stddef.h>

/* The signature: base64(HMAC-SHA1(base64decode(secret_key),
 *   "<date>:<req_id>:<path>:<app_key>")), 28 characters.
 * Returns 0, or -1 if secret_key is not valid base64. out: at least 29 bytes. */
int mcsign_signature(const char *date, const char *req_id, const char *path,
		     const char *app_key, const char *secret_key, char *out, size_t outlen);

/* The Authorization header value: "MC <access_key>:<signature>". */
int mcsign_authorization(const char *date, const char *req_id, const char *path,
			 const char *app_key, const char *access_key,
			 const char *secret_key, char *out, size_t outlen);

#endif
