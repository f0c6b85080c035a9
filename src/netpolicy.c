/* netpolicy.c - see netpolicy.h. */
#include "netpolicy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int net_url_host(const char *url, char *host, size_t n)
{
	CURLU *u;
	char *h = NULL;
	int rc = -1;

	if (!url || !n)
		return -1;
	host[0] = '\0';
	u = curl_url();
	if (!u)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && h && *h) {
		const char *p = h;
		size_t len = strlen(p);

		if (p[0] == '[' && len >= 2 && p[len - 1] == ']') {
			p++;
			len -= 2;
		}
		if (len && p[len - 1] == '.')
			len--;  /* "localhost." is localhost */
		if (len < n) {
			memcpy(host, p, len);
			host[len] = '\0';
			rc = 0;
		}
	}
	curl_free(h);
	curl_url_cleanup(u);
	return rc;
}

int net_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char h[256];
	char *pct;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	snprintf(h, sizeof(h), "%s", host);
	if ((pct = strchr(h, '%')))
		*pct = '\0';  /* zone id */
	if (inet_pton(AF_INET6, h, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return 0;
}

int net_url_is_loopback(const char *url)
{
	char host[256];

	return net_url_host(url, host, sizeof(host)) == 0 && net_host_is_loopback(host);
}

enum net_scheme net_url_scheme(const char *url, char *scheme, size_t n)
{
	CURLU *u = curl_url();
	char *s = NULL, host[256];
	enum net_scheme r = NET_NOT_URL;

	if (scheme && n)
		scheme[0] = '\0';
	if (!u)
		return NET_NOT_URL;
	if (url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK &&
	    net_url_host(url, host, sizeof(host)) == 0) {
		if (scheme && n)
			snprintf(scheme, n, "%s", s);
		if (strcasecmp(s, "https") == 0)
			r = NET_HTTPS;
		else if (strcasecmp(s, "http") == 0)
			r = net_host_is_loopback(host) ? NET_HTTP_LOOPBACK : NET_HTTP_REFUSED;
		else
			r = NET_SCHEME_OTHER;
	}
	curl_free(s);
	curl_url_cleanup(u);
	return r;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_global(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void net_curl_init(void)
{
	pthread_once(&curl_once, curl_global);
}

void net_curl_harden(CURL *h, int allow_http, const char *ca_file, char *errbuf)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (errbuf)
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500  /* 7.85: the string form */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, allow_http ? "https,http" : "https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS,
			 (long)(allow_http ? CURLPROTO_HTTPS | CURLPROTO_HTTP : CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* CAINFO replaces libcurl's compiled-in CA bundle file. Builds that also
	 * have a default CA directory (Debian's /etc/ssl/certs) keep trusting
	 * it, so there ca_file adds a trust anchor; elsewhere ca_file must hold
	 * every CA the server chain needs. */
	if (ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
}
