/* wizard/steps.h - steps.c: the Mimecast-side checklist the onboarding wizard walks
 * through (data/mimewatch.1, THE CONSOLE): one step
 * a page, each with where to click and what to copy. API 2.0 leads; the
 * API 1.0 steps are for existing keys only. The first page, where the API
 * is chosen, is the same in both lists. Text only: the wizard
 * (wizard/draw.c) draws it. */
#ifndef MW_UI_WIZARD_STEPS_H
#define MW_UI_WIZARD_STEPS_H

#include <stddef.h>

/* What a step shows after its paragraphs, computed when drawn. */
enum wizard_extra {
	WIZARD_EXTRA_NONE,
	WIZARD_EXTRA_API_CHOICE,    /* API 2.0 or API 1.0, switched with the arrows */
	WIZARD_EXTRA_REGIONS,       /* the chosen API's hosts from src/regions.h */
	WIZARD_EXTRA_PERMISSIONS,   /* each log type's exact permission string */
	WIZARD_EXTRA_ADDRESSES,     /* this host's addresses (getifaddrs) */
};

struct wizard_step {
	const char *short_name;     /* in the progress line: "Region" */
	const char *title;          /* "Find your region's API base URL" */
	const char *where;          /* where to click in the Administration Console; NULL: nowhere */
	const char *const *before;  /* paragraphs, NULL-terminated */
	enum wizard_extra extra;
	const char *const *after;   /* paragraphs after the extra, NULL-terminated */
};

/* The checklist of API version api (1 or 2): sets *steps, returns how many. */
size_t wizard_checklist(int api, const struct wizard_step **steps);

/* This host's non-loopback addresses, ", "-separated (IPv4 first), or
 * "none found" when the host has none. */
void wizard_host_addresses(char *buf, size_t n);

#endif
