/* wizard_steps.h - the Mimecast-side checklist the onboarding wizard walks
 * through (design.md, "The onboarding the console walks through"): one step
 * a page, each with where to click and what to copy. Text only: the wizard
 * (view_wizard.c) draws it. */
#ifndef MW_WIZARD_STEPS_H
#define MW_WIZARD_STEPS_H

#include <stddef.h>

/* What a step shows after its paragraphs, computed when drawn. */
enum wizard_extra {
	WIZARD_EXTRA_NONE,
	WIZARD_EXTRA_REGIONS,       /* the region table of src/regions.h */
	WIZARD_EXTRA_PERMISSIONS,   /* each log type's exact permission string */
	WIZARD_EXTRA_ADDRESSES,     /* this host's addresses (getifaddrs) */
};

struct wizard_step {
	const char *short_name;     /* in the progress line: "Region" */
	const char *title;          /* "Find your region's API base URL" */
	const char *where;          /* where to click in the Administration Console */
	const char *const *before;  /* paragraphs, NULL-terminated */
	enum wizard_extra extra;
	const char *const *after;   /* paragraphs after the extra, NULL-terminated */
};

extern const struct wizard_step wizard_steps[];
extern const size_t wizard_nsteps;

/* This host's non-loopback addresses, ", "-separated (IPv4 first), or
 * "none found" when the host has none. */
void wizard_host_addresses(char *buf, size_t n);

#endif
