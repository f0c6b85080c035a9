/* mimecast/regions.c - Mimecast's regional base URLs (data/regions.tsv, compiled in
 * here too so the binary works without its data files) and the host checks
 * the client and the classifier rely on. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* inet_pton, strcasecmp alongside -std=c11 */
#endif
#include "private.h"
#include "netpolicy.h"

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

int regions_known_host(const char *base_url)
{
	char host[256], known[256];

	if (net_url_host(base_url, host, sizeof(host)) < 0)
		return 0;
	if (net_host_is_loopback(host))
		return 1;
	for (size_t i = 0; i < NELEM(builtin); i++)
		if (net_url_host(builtin[i].base_url, known, sizeof(known)) == 0 &&
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
