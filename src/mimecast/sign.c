/* mimecast/sign.c - API 1.0 request signing. The signed string is exactly
 * "<x-mc-date>:<x-mc-req-id>:<path>:<Application Key>", no spaces, no
 * newline; the path is the request path only (no scheme, host or query). */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util.h"

int mcsign_signature(const char *date, const char *req_id, const char *path,
		     const char *app_key, const char *secret_key, char *out, size_t outlen)
{
	unsigned char *key = NULL, mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t keylen = 0;
	mw_buf data;
	char *b64;
	int rc = -1;

	if (outlen < 29 || mw_base64_decode(secret_key, strlen(secret_key), &key, &keylen) < 0)
		return -1;
	mw_buf_init(&data);
	mw_buf_printf(&data, "%s:%s:%s:%s", date, req_id, path, app_key);
	if (HMAC(EVP_sha1(), key, (int)keylen, (const unsigned char *)data.data, data.len, mac,
		 &maclen) && maclen == 20) {
		b64 = mw_base64_encode(mac, maclen);
		snprintf(out, outlen, "%s", b64);
		free(b64);
		rc = 0;
	}
	/* The decoded secret is key material: wipe it. */
	OPENSSL_cleanse(key, keylen);
	free(key);
	OPENSSL_cleanse(data.data, data.len);  /* holds the Application Key */
	mw_buf_free(&data);
	return rc;
}

int mcsign_authorization(const char *date, const char *req_id, const char *path,
			 const char *app_key, const char *access_key,
			 const char *secret_key, char *out, size_t outlen)
{
	char sig[64];
	int n;

	if (mcsign_signature(date, req_id, path, app_key, secret_key, sig, sizeof(sig)) < 0)
		return -1;
	n = snprintf(out, outlen, "MC %s:%s", access_key, sig);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
