/* wizard/steps.c - the checklist text of the onboarding wizard. The menu
 * paths are those of the Mimecast Administration Console (HACKING, "Tokens
 * (API 2.0)" and "Signing (API 1.0)"). API 2.0 comes first: Mimecast has taken no new API 1.0
 * applications since the end of June 2025, so the API 1.0 pages speak to
 * admins who already hold keys; there the 30-minute key wait is said plainly
 * because it is the step that surprises people most. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* getifaddrs, NI_MAXHOST alongside -std=c11 */
#endif
#include "steps.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char *const api_before[] = {
	"Mimecast has accepted no new API 1.0 applications since the end of June 2025. A new "
	"integration uses API 2.0: one application in the Administration Console gives a "
	"Client ID and a Client Secret.",
	"Choose API 1.0 only for an API 1.0 application that already exists and whose keys you "
	"hold. An integration can be switched from API 1.0 to API 2.0 later (e on the home "
	"screen) without losing what it collected.",
	NULL,
};

static const char *const logging_before[] = {
	"Tick Inbound, Outbound and Internal, then save. Without Enhanced Logging Mimecast "
	"keeps no URL, impersonation or attachment log entries, so there is nothing to "
	"collect and every type stays silent.",
	NULL,
};

/* ---- API 2.0 ---- */

static const char *const v2_app_before[] = {
	"Open the Mimecast API 2.0 tile and add an application (Generate Keys, or Configure "
	"New). Give it these products (they cannot be changed later: take those of every type "
	"you may collect) and an application role holding exactly these permissions:",
	NULL,
};

static const char *const v2_app_after[] = {
	"Save it, then copy the Client ID and the Client Secret for the form. The Client "
	"Secret is shown only once: paste it straight into the form. A missing permission "
	"shows up at validation as \"permission missing\" with the exact string to add to "
	"the application's role.",
	NULL,
};

static const char *const v2_url_before[] = {
	"API 2.0 answers on the global gateway, which fails over automatically, and on two "
	"regional instances without failover. The form starts with the global gateway; "
	"Region on the form switches between them:",
	NULL,
};

static const char *const v2_url_after[] = {
	"The regional API 1.0 hosts (eu-api.mimecast.com and the like) do not answer API 2.0.",
	NULL,
};

/* ---- API 1.0: existing keys only ---- */

static const char *const region_before[] = {
	"Every Mimecast account lives in one region, and API 1.0 calls only work against that "
	"region's host. The account code on the Administration Console dashboard names it by "
	"its prefix: CUK Europe, CDE Germany, CUSA or CUSB United States, CCA Canada, CSA "
	"South Africa, CAU Australia.",
	"On the form you can pick the region, type the base URL, or let mimewatch find it from "
	"the service user's email address.",
	NULL,
};

static const char *const app_before[] = {
	"Mimecast accepts no new API 1.0 applications: these steps are for the one you already "
	"have. Open it (category SIEM Integration, Enable Extended Session ticked) and copy its "
	"Application ID and Application Key (both look like "
	"01234567-89ab-cdef-0123-456789abcdef) for the form.",
	"Mimecast lets you create the Access Key and Secret Key only 30 minutes after the "
	"application was created: there is no way around the wait.",
	"Meanwhile you can try mimewatch on a simulated tenant: leave the console and run "
	"`mimewatch --demo`. Come back here when the 30 minutes are over.",
	NULL,
};

static const char *const user_before[] = {
	"Create a dedicated service user for mimewatch (not a person's account), and a role "
	"with exactly these permissions:",
	NULL,
};

static const char *const user_after[] = {
	"Some consoles label the impersonation permission Impersonation Protection Logs. Add "
	"the service user to the role. A missing permission shows up at validation as "
	"\"permission missing\" with the exact string to add.",
	NULL,
};

static const char *const ip_before[] = {
	"If your account restricts administrator or API access to IP ranges, allow the address "
	"Mimecast sees for this host. This host's addresses:",
	NULL,
};

static const char *const ip_after[] = {
	"Behind NAT or a proxy Mimecast sees the public address instead: ask your network team "
	"which one that is. Skip this step when no IP restriction is in use.",
	NULL,
};

static const char *const keys_before[] = {
	"In the service user's effective Authentication Profile set Authentication Cache TTL "
	"to Never Expire. Otherwise the keys stop working when the cache expires (HTTP 418, "
	"binding expired) and must be created again.",
	"Then, at least 30 minutes after the application was created, open it, choose Create "
	"Keys, log in with the service user's address and password, and copy the Access Key "
	"and the Secret Key. The Secret Key is shown only once: paste it straight into the form.",
	NULL,
};

#define STEP_API { "API", "Choose the API: 2.0 for a new integration", NULL, api_before, \
		   WIZARD_EXTRA_API_CHOICE, NULL }
#define STEP_LOGGING { "Logging", "Turn on Enhanced Logging", \
		       "Administration > Account > Account Settings > Enhanced Logging", \
		       logging_before, WIZARD_EXTRA_NONE, NULL }

static const struct wizard_step steps_v2[] = {
	STEP_API,
	STEP_LOGGING,
	{ "Application", "Create an API 2.0 application",
	  "Integrations > API and Platform Integrations (newer consoles: Integrations Hub) > "
	  "Mimecast API 2.0",
	  v2_app_before, WIZARD_EXTRA_PERMISSIONS, v2_app_after },
	{ "Base URL", "The API 2.0 gateway",
	  "nothing to click: the form offers these hosts",
	  v2_url_before, WIZARD_EXTRA_REGIONS, v2_url_after },
};

static const struct wizard_step steps_v1[] = {
	STEP_API,
	{ "Region", "Find your region's API 1.0 base URL",
	  "Administration Console dashboard: the account code (e.g. CUK..., CUSA...)",
	  region_before, WIZARD_EXTRA_REGIONS, NULL },
	STEP_LOGGING,
	{ "Application", "Your API 1.0 application (existing keys only)",
	  "Administration > Services > API and Platform Integrations",
	  app_before, WIZARD_EXTRA_NONE, NULL },
	{ "User+role", "The service user and its role",
	  "Administration > Account > Roles (the role), Administration > Directories (the user)",
	  user_before, WIZARD_EXTRA_PERMISSIONS, user_after },
	{ "IP ranges", "Allow this host's address",
	  "the service user's Authentication Profile, Permitted IP Ranges (Administration > "
	  "Services > Applications > Authentication Profiles)",
	  ip_before, WIZARD_EXTRA_ADDRESSES, ip_after },
	{ "Keys", "Never Expire, then create the Access and Secret keys",
	  "Administration > Services > Applications > Authentication Profiles, then the "
	  "application under API and Platform Integrations",
	  keys_before, WIZARD_EXTRA_NONE, NULL },
};

size_t wizard_checklist(int api, const struct wizard_step **steps)
{
	if (api == 1) {
		*steps = steps_v1;
		return sizeof(steps_v1) / sizeof(steps_v1[0]);
	}
	*steps = steps_v2;
	return sizeof(steps_v2) / sizeof(steps_v2[0]);
}

static void add_address(char *buf, size_t n, const char *addr)
{
	size_t len = strlen(buf);

	if (len + strlen(addr) + 3 >= n)
		return;  /* a host with dozens of addresses: the first ones will do */
	snprintf(buf + len, n - len, "%s%s", len ? ", " : "", addr);
}

void wizard_host_addresses(char *buf, size_t n)
{
	struct ifaddrs *list = NULL;

	if (n == 0)
		return;
	buf[0] = '\0';
	if (getifaddrs(&list) == 0) {
		/* two passes: IPv4 first, as that is what most IP allow-lists hold */
		for (int family = 0; family < 2; family++) {
			for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
				char host[NI_MAXHOST];
				int af = family == 0 ? AF_INET : AF_INET6;
				socklen_t len = af == AF_INET ? sizeof(struct sockaddr_in)
							      : sizeof(struct sockaddr_in6);

				if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != af ||
				    (ifa->ifa_flags & IFF_LOOPBACK))
					continue;
				if (af == AF_INET6) {
					const struct sockaddr_in6 *s6 =
						(const struct sockaddr_in6 *)(const void *)ifa->ifa_addr;

					/* link-local addresses never reach Mimecast */
					if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
						continue;
				}
				if (getnameinfo(ifa->ifa_addr, len, host, sizeof(host), NULL, 0,
						NI_NUMERICHOST) == 0)
					add_address(buf, n, host);
			}
		}
		freeifaddrs(list);
	}
	if (!buf[0])
		snprintf(buf, n, "none found");
}
