/* mimecast/private.h - for src/mimecast/ alone (and its unit tests). */
#ifndef MW_MIMECAST_PRIVATE_H
#define MW_MIMECAST_PRIVATE_H

#include <curl/curl.h>
#include "mimecast.h"

/* ---- proxy.c: a client's proxy ---- */

/* What a client was told of its proxy: url NULL when the config is silent
 * (libcurl reads HTTPS_PROXY and NO_PROXY), "" for none at all. */
struct mc_proxy {
	char *url, *user, *password, *ca_file;
};

/* Copies the proxy settings of cr. */
void mcproxy_init(struct mc_proxy *p, const struct mc_creds *cr);
/* Frees them (the password wiped first). */
void mcproxy_free(struct mc_proxy *p);
/* Sets the handle's proxy options: the one place every request to Mimecast
 * (tokens, log pages, get-account, validate, discovery) gets them. */
void mcproxy_setup(CURL *h, const struct mc_proxy *p);
/* A transfer that failed with rc at the proxy: fills res (class, code,
 * message, remedy naming the proxy) and returns 1; 0 when the failure was
 * not the proxy's. status_line is the last HTTP status line the transfer
 * saw (the proxy's answer to CONNECT when that failed), may be "". */
int mcproxy_failure(CURL *h, CURLcode rc, const struct mc_proxy *p, const char *status_line,
		    struct mc_result *res);
/* A connection that failed while the config names no proxy and the
 * environment does: the remedy naming both into out and 1; else 0. */
int mcproxy_env_hint(CURLcode rc, const struct mc_proxy *p, char *out, size_t n);

/* client.c's, for the request files beside it (pages.c, batch.c). */
/* One request to path with the credentials' auth (body NULL: a GET);
 * permission and product (API 2.0's, may be NULL) name what a 403 asks
 * for. As mc_post, with the root token of doc in *rootp (-1: not JSON). */
int mcp_request(mc_client *c, const char *path, const char *body, const char *permission,
		const char *product, mw_buf *resp, js_doc *doc, int *rootp,
		struct mc_result *res);
/* GETs an absolute url (a pre-signed link: no Authorization), a 200's body
 * streamed to sink, any other status's body into resp. 1 with
 * res->http_status when a response came (the sink's refusal too: then
 * res names the write error), 0 when the transfer failed (res
 * classified), -1 for a link refused before any request. */
int mcp_fetch_url(mc_client *c, const char *url, mc_sink sink, void *ud, mw_buf *resp,
		  struct mc_result *res);
/* The last answer's mc-siem-token header (API 1.0's next SIEM file), or
 * "". */
const char *mcp_siem_token(const mc_client *c);
/* res made a local failure (MC_UNKNOWN, not retryable). */
void mcp_local_failure(struct mc_result *res, const char *code, const char *msg,
		       const char *remedy);
/* res made a retryable failure: a body cut short or malformed. */
void mcp_malformed(struct mc_result *res, const char *what);
/* Adds why a body did not parse to res's "malformed response body". */
void mcp_malformed_detail(struct mc_result *res, int root, const mw_err *e);

#endif
