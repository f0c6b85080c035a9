/* regions.h - Mimecast's regional base URLs, read from data/regions.tsv. */
#ifndef MW_REGIONS_H
#define MW_REGIONS_H

#include <stddef.h>
#include "util.h"

struct mw_region {
	char code[16];       /* eu, de, us, usb, ca, za, au, je, v2 */
	char name[64];       /* "Europe (excluding Germany)" */
	char base_url[128];  /* https://eu-api.mimecast.com */
	char prefix[16];     /* account code prefix: CUK, or "" */
};

/* The built-in list (the data file's contents compiled in as a fallback). */
size_t regions_list(const struct mw_region **out);
/* 1 if the URL's host is a known Mimecast API host or a loopback address. */
int regions_known_host(const char *base_url);
/* 1 if the URL's host is 127.0.0.0/8, ::1 or localhost. */
int regions_is_loopback(const char *base_url);

/* The host of a URL as libcurl parses it (no brackets, no trailing dot):
 * 0, or -1 when the URL does not parse or the host does not fit. */
int regions_url_host(const char *url, char *host, size_t n);
/* Reads a regions.tsv (code, name, base_url, prefix; "-" for no prefix;
 * '#' comments). *out is malloc'd. */
int regions_load_file(const char *path, struct mw_region **out, size_t *n, mw_err *e);

#endif
