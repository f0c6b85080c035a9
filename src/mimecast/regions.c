/* regions.c - Mimecast's regional base URLs (data/regions.tsv, compiled in
 * here too so the binary works without its data files) and the host checks
 * the client and the classifier rely on. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* inet_pton, strcasecmp alongside -std=c11 */
#endif
#include "private.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Keep in step with data/regions.tsv: test_errclass compares the two. */
static const struct mw_region builtin[] = {
	{ "eu", "Europe (excluding Germany)", "https://eu-api.mimecast.com", "CUK" },
	{ "de", "Germany", "https://de-api.mimecast.com", "CDE" },
	{ "us", "United States (A grid)", "https://us-api.mimecast.com", "CUSA" },
	{ "usb", "United States (B grid)", "https://usb-api.mimecast.com", "CUSB" },
	{ "ca", "Canada", "https://ca-api.mimecast.com", "CCA" },
	{ "za", "South Africa", "https://za-api.mimecast.com", "CSA" },
	{ "au", "Australia", "https://au-api.mimecast.com", "CAU" },
	{ "je", "Offshore (Jersey)", "https://je-api.mimecast.com", "" },
	{ "v2", "API 2.0 global (automatic failover)", "https://api.services.mimecast.com", "" },
	{ "v2-uk", "API 2.0 United Kingdom instance", "https://uk-api.services.mimecast.com", "" },
	{ "v2-us", "API 2.0 United States instance", "https://us-api.services.mimecast.com", "" },
};

size_t regions_list(const struct mw_region **out)
{
	*out = builtin;
	return NELEM(builtin);
}

int regions_url_host(const char *url, char *host, size_t n)
{
	CURLU *u;
	char *h = NULL;
	int rc = -1;

	if (!url || !n)
		return -1;
	host[0] = '\0';
	/* libcurl's own parser, so the host checked is the host it connects to
	 * (userinfo, odd IPv4 forms and brackets handled alike). */
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

static int host_is_loopback(const char *host)
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

int regions_is_loopback(const char *base_url)
{
	char host[256];

	return regions_url_host(base_url, host, sizeof(host)) == 0 && host_is_loopback(host);
}

int regions_known_host(const char *base_url)
{
	char host[256], known[256];

	if (regions_url_host(base_url, host, sizeof(host)) < 0)
		return 0;
	if (host_is_loopback(host))
		return 1;
	for (size_t i = 0; i < NELEM(builtin); i++)
		if (regions_url_host(builtin[i].base_url, known, sizeof(known)) == 0 &&
		    strcasecmp(host, known) == 0)
			return 1;
	return 0;
}

/* Copies a TSV field, refusing one that does not fit. */
static int field(char *dst, size_t n, const char *src)
{
	if (strlen(src) >= n)
		return -1;
	strcpy(dst, src);
	return 0;
}

int regions_load_file(const char *path, struct mw_region **out, size_t *nout, mw_err *e)
{
	FILE *f = fopen(path, "r");
	struct mw_region *v = NULL;
	size_t n = 0, cap = 0;
	char line[1024];
	int lineno = 0;

	*out = NULL;
	*nout = 0;
	if (!f) {
		mw_err_set(e, "%s: cannot open the region list; reinstall mimewatch's data files",
			   path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *cols[4], *p = line, *nl;
		int k;

		lineno++;
		if ((nl = strchr(line, '\n')))
			*nl = '\0';
		else if (!feof(f))
			goto bad;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		for (k = 0; k < 4; k++) {
			cols[k] = p;
			p = strchr(p, '\t');
			if (k < 3) {
				if (!p)
					goto bad;
				*p++ = '\0';
			}
		}
		if (p || !*cols[0] || !*cols[2])
			goto bad;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = mw_xrealloc(v, cap * sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		if (field(v[n].code, sizeof(v[n].code), cols[0]) ||
		    field(v[n].name, sizeof(v[n].name), cols[1]) ||
		    field(v[n].base_url, sizeof(v[n].base_url), cols[2]) ||
		    field(v[n].prefix, sizeof(v[n].prefix), strcmp(cols[3], "-") ? cols[3] : ""))
			goto bad;
		n++;
	}
	fclose(f);
	*out = v;
	*nout = n;
	return 0;
bad:
	fclose(f);
	free(v);
	mw_err_set(e, "%s:%d: expected code, name, base_url and prefix separated by tabs "
		   "(\"-\" for no prefix); fix the line", path, lineno);
	return -1;
}
