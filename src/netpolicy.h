/* netpolicy.h - the one network policy of mimewatch's HTTP clients (the
 * Mimecast client in src/mimecast/ and the HTTP outputs in src/output/):
 * https, or plain http only to this machine's loopback; certificates and
 * host names verified; TLS 1.2 or later; no redirects; libcurl set up once
 * per process.
 *
 * Includes: util.h, libcurl and the C library only (a leaf: any part that
 * talks HTTP may use it). */
#ifndef MW_NETPOLICY_H
#define MW_NETPOLICY_H

#include <stddef.h>
#include <curl/curl.h>

/* The host of a URL as libcurl parses it, so the host checked is the host
 * it connects to (no brackets, no trailing dot): 0, or -1 when the URL does
 * not parse or the host does not fit in n. */
int net_url_host(const char *url, char *host, size_t n);
/* 1 when host (as net_url_host gives it) is this machine: "localhost",
 * 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104 (a zone id is ignored). */
int net_host_is_loopback(const char *host);
/* 1 when the URL's host is loopback (net_host_is_loopback). */
int net_url_is_loopback(const char *url);

/* What the policy says of a URL's scheme. */
enum net_scheme {
	NET_HTTPS,              /* allowed */
	NET_HTTP_LOOPBACK,      /* http:// to loopback: allowed (tests, the simulator) */
	NET_HTTP_REFUSED,       /* http:// elsewhere: secrets would cross in clear */
	NET_SCHEME_OTHER,       /* any other scheme: refused */
	NET_NOT_URL             /* does not parse */
};
/* Classifies url; scheme (may be NULL) gets the scheme as written. */
enum net_scheme net_url_scheme(const char *url, char *scheme, size_t n);

/* curl_global_init, once per process, whoever calls first. */
void net_curl_init(void);
/* The hardening every handle gets: no signals, the protocols the policy
 * allows (https, plus http when allow_http), no redirects, peer and host
 * verification, TLS 1.2 at least, ca_file (may be NULL) as extra trust
 * anchor, errbuf (CURL_ERROR_SIZE bytes) for messages. */
void net_curl_harden(CURL *h, int allow_http, const char *ca_file, char *errbuf);

#endif
