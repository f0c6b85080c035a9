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

#endif
