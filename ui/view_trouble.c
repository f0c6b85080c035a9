/* view_trouble.c - troubleshooting one integration: what fails, by type,
 * next to the setup advice that fixes it (permissions, Never Expire, IP
 * ranges, Enhanced Logging, the 30-minute key wait, region, the proxy where
 * one is configured or failed). The advice
 * that matches an error comes first and says so. arg: integration name. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimecast/mimecast.h"
#include "logtypes.h"
#include "status.h"
#include "session.h"
#include "ui.h"
#include "util.h"

struct trouble {
	char name[64];
	struct ui_doc doc;
	int height;
	int64_t req_id;
	char *result;
	int result_failed;
};

enum advice { ADV_PERMISSION, ADV_NEVER_EXPIRE, ADV_IP, ADV_LOGGING, ADV_KEYS, ADV_REGION,
	      ADV_TLS, ADV_PROXY, ADV_COUNT };

static const char *const advice_title[ADV_COUNT] = {
	"Permissions of the service user's role",
	"Authentication Cache TTL: Never Expire",
	"IP ranges",
	"Enhanced Logging and the TTP licence",
	"The keys, and the 30-minute wait",
	"Region (base URL)",
	"TLS certificate and host name",
	"The proxy",
};

static int advice_for(enum mc_class c)
{
	switch (c) {
	case MC_PERMISSION: return ADV_PERMISSION;
	case MC_BINDING_EXPIRED: return ADV_NEVER_EXPIRE;
	case MC_IP_NOT_ALLOWED: return ADV_IP;
	case MC_NOT_LICENSED: return ADV_LOGGING;
	case MC_INVALID_SIGNATURE:
	case MC_BAD_APP_ID: return ADV_KEYS;
	case MC_WRONG_REGION: return ADV_REGION;
	case MC_TLS: return ADV_TLS;
	case MC_PROXY: return ADV_PROXY;
	default: return -1;
	}
}

/* The integration's own proxy, else the top level's; "" none, NULL silent. */
static const char *proxy_of(const struct mw_integration *in)
{
	return in->proxy.url ? in->proxy.url : in->proxy.inherited;
}

static void add_advice(struct ui_doc *d, int adv, const struct mw_integration *in,
		       const unsigned denied, const char *matched)
{
	/* API 2.0's words for the two pieces of advice that differ by API. */
	const char *title = in->api == 2 && adv == ADV_PERMISSION
				    ? "Permissions of the API 2.0 application's role"
			    : in->api == 2 && adv == ADV_NEVER_EXPIRE
				    ? "Expired credentials: a new Client Secret"
				    : advice_title[adv];

	ui_doc_add(d, ROLE_NORMAL, 0, "%s", "");
	if (matched)
		ui_doc_add(d, ROLE_HEADING, 0, "%s  (matches: %s)", title, matched);
	else
		ui_doc_add(d, ROLE_HEADING, 0, "%s", title);
	switch (adv) {
	case ADV_PERMISSION:
		if (in->api == 2) {
			ui_doc_add(d, ROLE_NORMAL, 2, "%s", "Integrations Hub (API and Platform "
				   "Integrations) > Mimecast API 2.0 > this application: its "
				   "application role needs exactly these, and its products must "
				   "include each one named (products cannot be changed: without "
				   "one, make a new application):");
			for (size_t t = 0; t < mw_nlogtypes; t++)
				if (in->types & (1u << t)) {
					ui_doc_add(d, denied & (1u << t) ? ROLE_ERROR : ROLE_NORMAL,
						   4, "%s%s", logtype_permission(&mw_logtypes[t], in->api),
						   denied & (1u << t) ? "   <- missing" : "");
					if (mw_logtypes[t].product)
						ui_doc_add(d, ROLE_MUTED, 6, "product: %s",
							   mw_logtypes[t].product);
				}
			ui_doc_add(d, ROLE_NORMAL, 2, "%s", "Press v to check once the role is "
				   "saved.");
			break;
		}
		ui_doc_add(d, ROLE_NORMAL, 2, "%s", "Administration > Account > Roles: the service "
			   "user's role needs exactly these (some consoles label the second "
			   "\"Impersonation Protection Logs\"):");
		/* the permissions of the types this integration collects */
		for (size_t t = 0; t < mw_nlogtypes; t++)
			if (in->types & (1u << t))
				ui_doc_add(d, denied & (1u << t) ? ROLE_ERROR : ROLE_NORMAL, 4,
					   "%s%s", logtype_permission(&mw_logtypes[t], in->api),
					   denied & (1u << t) ? "   <- missing" : "");
		ui_doc_add(d, ROLE_NORMAL, 2, "%s", "Then add the service user to the role. The change "
			   "applies to new requests at once; press v to check.");
		break;
	case ADV_NEVER_EXPIRE:
		if (in->api == 2) {
			ui_doc_add(d, ROLE_NORMAL, 2, "%s", "Mimecast says these credentials expired: "
				   "generate a new Client Secret for the API 2.0 application and edit "
				   "this integration (e).");
			break;
		}
		ui_doc_add(d, ROLE_NORMAL, 2, "%s", "Administration > Services > Applications > "
			   "Authentication Profiles: in the profile that applies to the service "
			   "user, set Authentication Cache TTL to Never Expire. Keys created under a "
			   "shorter TTL stop working when it runs out (HTTP 418 binding expired): "
			   "create a new Access Key and Secret Key with the service user's login "
			   "after the change, then edit this integration (e).");
		break;
	case ADV_IP: {
		char ips[512];

		mc_format_ip_remedy(ips, sizeof(ips));
		ui_doc_add(d, ROLE_NORMAL, 2, "%s", "If admin actions are restricted to IP ranges "
			   "(Administration > Account > Account Settings), allow the address "
			   "Mimecast sees for this host.");
		ui_doc_add(d, ROLE_NORMAL, 2, "%s", ips);
		break;
	}
	case ADV_LOGGING:
		ui_doc_add(d, ROLE_NORMAL, 2, "%s", "Administration > Account > Account Settings > "
			   "Enhanced Logging: turn on inbound, outbound and internal. Without it the "
			   "logs stay empty. A type that returns no records for 24 hours may also "
			   "lack its package (URL Protect, Impersonation Protect, Attachment Protect) "
			   "in the account's licence.");
		break;
	case ADV_KEYS:
		if (in->api == 2)
			ui_doc_add(d, ROLE_NORMAL, 2, "%s", "API 2.0: Client ID and Client Secret come "
				   "from the API 2.0 application (Administration > Services > API and "
				   "Platform Integrations); copy them again and edit the integration "
				   "(e).");
		else
			ui_doc_add(d, ROLE_NORMAL, 2, "%s", "Application ID and Application Key come "
				   "from the API application (Administration > Services > API and "
				   "Platform Integrations, category SIEM Integration, Enable Extended "
				   "Session). Access Key and Secret Key can only be created 30 minutes "
				   "after the application: keys made earlier do not verify. Create them "
				   "with the service user's login.");
		/* API 2.0 signs nothing: its tokens do not depend on our clock. */
		if (in->api != 2)
			ui_doc_add(d, ROLE_NORMAL, 2, "%s", "An invalid signature also comes from a "
				   "clock that is off by minutes: check this host's time "
				   "(timedatectl).");
		break;
	case ADV_REGION: {
		const struct mw_region *r;
		size_t n = regions_list(&r);

		ui_doc_add(d, ROLE_NORMAL, 2, "The base URL must be the account's region; this "
			   "integration uses %s.", in->base_url ? in->base_url : "(none)");
		for (size_t i = 0; i < n; i++)
			ui_doc_add(d, ROLE_NORMAL, 4, "%-4s %-44s %s", r[i].code, r[i].name,
				   r[i].base_url);
		break;
	}
	case ADV_TLS:
		ui_doc_add(d, ROLE_NORMAL, 2, "%s", "The server's certificate did not verify for the "
			   "base URL's host. Check the host name; when a proxy re-signs TLS, set "
			   "Extra CA file (e) to its CA. Verification is never turned off.");
		break;
	case ADV_PROXY: {
		const char *url = proxy_of(in);

		ui_doc_add(d, ROLE_NORMAL, 2, "This integration reaches Mimecast through %s%s.",
			   url && *url ? "the proxy " : "", url && *url ? url
			   : "the proxy of HTTPS_PROXY, if set (the config names none)");
		ui_doc_add(d, ROLE_NORMAL, 2, "%s", "Check that the proxy runs at that host and "
			   "port (proxy in the config, or the top level's), that it lets this "
			   "host CONNECT to the base URL's host on port 443, and, when it asks "
			   "for credentials (HTTP 407), set proxy_user and proxy_password_file. "
			   "The Mimecast certificate is verified through the tunnel as ever.");
		break;
	}
	default:
		break;
	}
}

static void build(struct ui_view *v)
{
	struct trouble *tr = v->priv;
	const struct mw_integration *in = session_integration(v->ctx, tr->name);
	struct store_status *st = NULL;
	size_t nst = 0;
	char matched[ADV_COUNT][128];
	unsigned denied = 0;
	mw_err e;
	int nfail = 0;

	ui_doc_clear(&tr->doc);
	if (!in) {
		ui_doc_add(&tr->doc, ROLE_ERROR, 0, "%s is no longer in the config.", tr->name);
		return;
	}
	memset(matched, 0, sizeof(matched));
	if (v->ctx->store)
		store_list_status(v->ctx->store, &st, &nst, &e);
	ui_doc_add(&tr->doc, ROLE_HEADING, 0, "%s  (API %s, %s)", in->name,
		   in->api == 2 ? "2.0" : "1.0", in->base_url ? in->base_url : "");
	ui_doc_add(&tr->doc, ROLE_NORMAL, 0, "%s", "");
	ui_doc_add(&tr->doc, ROLE_HEADING, 0, "%s", "What fails");
	for (size_t t = 0; t < mw_nlogtypes; t++) {
		const struct store_status *s = NULL;
		const char *warn;
		char fix[1200];

		if (!(in->types & (1u << t)))
			continue;
		for (size_t k = 0; k < nst; k++)
			if (!strcmp(st[k].integration, in->name) &&
			    !strcmp(st[k].type, mw_logtypes[t].name))
				s = &st[k];
		if (!s) {
			ui_doc_add(&tr->doc, ROLE_MUTED, 2, "%s: not polled yet", mw_logtypes[t].name);
			continue;
		}
		if (s->err_class[0] && strcmp(s->err_class, "ok")) {
			enum mc_class c = mc_class_from_key(s->err_class);
			int adv = advice_for(c);

			nfail++;
			if (c == MC_PERMISSION)
				denied |= 1u << t;
			ui_doc_add(&tr->doc, ROLE_ERROR, 2, "%s: %s (HTTP %ld%s%s)%s%s",
				   mw_logtypes[t].name, mc_class_label(c, in->api), s->http_status,
				   s->err_code[0] ? ", " : "", s->err_code,
				   s->err_message[0] ? ": " : "", s->err_message);
			ui_form_words(s->remedy[0] ? s->remedy : mc_class_remedy(c), fix,
				      sizeof(fix));
			ui_doc_add(&tr->doc, ROLE_NORMAL, 4, "fix: %s", fix);
			if (adv >= 0)
				snprintf(matched[adv] + strlen(matched[adv]),
					 sizeof(matched[adv]) - strlen(matched[adv]), "%s%s",
					 matched[adv][0] ? ", " : "", mw_logtypes[t].name);
		} else {
			ui_doc_add(&tr->doc, ROLE_OK, 2, "%s: %s, last success %s", mw_logtypes[t].name,
				   s->state, s->last_success ? "recorded" : "not yet");
		}
		if (s->warning[0])
			ui_doc_add(&tr->doc, ROLE_WARNING, 4, "%s", s->warning);
		warn = status_silence_warning(s);
		if (warn) {
			nfail++;
			ui_doc_add(&tr->doc, ROLE_WARNING, 4, "%s", warn);
			snprintf(matched[ADV_LOGGING] + strlen(matched[ADV_LOGGING]),
				 sizeof(matched[ADV_LOGGING]) - strlen(matched[ADV_LOGGING]), "%s%s",
				 matched[ADV_LOGGING][0] ? ", " : "", mw_logtypes[t].name);
		}
	}
	if (!nfail)
		ui_doc_add(&tr->doc, ROLE_OK, 2, "%s", "nothing fails now; the advice below is the "
			   "setup checklist");
	if (tr->req_id) {
		ui_doc_add(&tr->doc, ROLE_NORMAL, 0, "%s", "");
		ui_doc_add(&tr->doc, ROLE_HEADING, 0, "%s", "Validation");
		ui_doc_add(&tr->doc, tr->result ? (tr->result_failed ? ROLE_ERROR : ROLE_OK)
						 : ROLE_MUTED, 2, "%s",
			   tr->result ? tr->result : "waiting for the collector...");
	}
	/* Matching advice first, then the rest of the checklist. */
	for (int adv = 0; adv < ADV_COUNT; adv++)
		if (matched[adv][0])
			add_advice(&tr->doc, adv, in, denied, matched[adv]);
	/* the proxy's advice only where one is configured or failed */
	for (int adv = 0; adv < ADV_COUNT; adv++)
		if (!matched[adv][0] &&
		    (adv != ADV_PROXY || (proxy_of(in) && *proxy_of(in))))
			add_advice(&tr->doc, adv, in, denied, NULL);
	free(st);
}

static void trouble_reload(struct ui_view *v)
{
	struct trouble *tr = v->priv;
	char res[4096];
	int state;
	mw_err e;

	if (tr->req_id && !tr->result && v->ctx->store &&
	    store_request_get(v->ctx->store, tr->req_id, &state, res, sizeof(res), &e) == 0) {
		if (state >= 2) {
			tr->result = mw_xstrdup(res[0] ? res : state == 2 ? "ok" : "failed");
			tr->result_failed = state != 2;
			/* "requested" becomes the outcome; the report is below. */
			ui_message(v->ctx, state == 2 ? ROLE_OK : ROLE_WARNING, "validate %s: %s",
				   tr->name, state == 2 ? "done" : "finished with problems (below)");
		} else {
			ui_tick(500);
		}
	}
	build(v);
}

static int trouble_open(struct ui_view *v, void *arg)
{
	struct trouble *tr = mw_xcalloc(1, sizeof(*tr));

	v->priv = tr;
	mw_strlcpy(tr->name, arg ? arg : "", sizeof(tr->name));
	build(v);
	return 0;
}

static void trouble_close(struct ui_view *v)
{
	struct trouble *tr = v->priv;

	ui_doc_clear(&tr->doc);
	free(tr->result);
	free(tr);
}

static void trouble_draw(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct trouble *tr = v->priv;

	(void)x0;
	tr->height = height;
	ui_doc_draw(&tr->doc, y0, height, width);
}

static int trouble_action(struct ui_view *v, enum ui_action a)
{
	struct trouble *tr = v->priv;
	mw_err e;

	if (a == ACT_VALIDATE) {
		if (!v->ctx->store ||
		    ui_request(v->ctx, tr->name, "", MW_REQ_VALIDATE, "", &tr->req_id,
				      &e) < 0) {
			ui_message(v->ctx, ROLE_ERROR, "%s", v->ctx->store ? e.msg : "no store open");
			return 1;
		}
		free(tr->result);
		tr->result = NULL;
		ui_message(v->ctx, ROLE_MUTED, "validate %s: requested", tr->name);
		build(v);
		ui_tick(300);
		return 1;
	}
	if (a == ACT_EDIT) {
		ui_push(v->ctx, &view_wizard, tr->name);
		return 1;
	}
	return ui_doc_action(&tr->doc, a, tr->height);
}

static const char *trouble_title(struct ui_view *v)
{
	(void)v;
	return "troubleshooting";
}

const struct ui_view_ops view_trouble = {
	.name = "trouble",
	.open = trouble_open,
	.close = trouble_close,
	.reload = trouble_reload,
	.draw = trouble_draw,
	.action = trouble_action,
	.title = trouble_title,
};
