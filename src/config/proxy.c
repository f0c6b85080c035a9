/* config/proxy.c - the proxy keys (see private.h): proxy at the top level
 * and in an integration, proxy_user, proxy_password (a secret: inline, _file
 * or _env), proxy_ca_file; their checks, the proxy an integration's requests
 * take, copying and freeing.
 *
 * A user name or password in the proxy URL is refused: the URL is shown in
 * messages, status and logs, and a secret belongs in a file of its own. */
#include "private.h"
#include "netpolicy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "none" and "" both say: no proxy, not even the environment's. */
static int proxy_off(const char *s)
{
	return s && (!*s || strcasecmp(s, "none") == 0);
}

/* Stores v, with none and an empty value as "". */
static void set_url(char **dst, const struct node *v)
{
	free(*dst);
	*dst = mw_xstrdup(v->is_null || proxy_off(v->str) ? "" : v->str);
}

const char *config_proxy_url(const struct mw_integration *in)
{
	if (in->proxy.url)
		return in->proxy.url;
	return in->proxy.inherited;
}

int config_proxy_same(const struct mw_integration *a, const struct mw_integration *b)
{
	return mw_str_same(config_proxy_url(a), config_proxy_url(b)) &&
	       mw_str_same(a->proxy.user, b->proxy.user) &&
	       mw_str_same(a->proxy.password.value, b->proxy.password.value) &&
	       mw_str_same(a->proxy.ca_file, b->proxy.ca_file);
}

/* Whether the URL's part is set at all (a user, a password, a path). */
static int has_part(CURLU *u, CURLUPart part, const char *ignore)
{
	char *v = NULL;
	int set = curl_url_get(u, part, &v, 0) == CURLUE_OK && v && *v &&
		  !(ignore && strcmp(v, ignore) == 0);

	curl_free(v);
	return set;
}

/* http:// or https://, a host and a port, nothing else. Writes "problem;
 * fix" into msg (the URL itself is never echoed: it may hold a password). */
static int url_check(const char *url, char *msg, size_t n)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	int rc = -1;

	if (!u)
		return -1;
	/* CURLU_NON_SUPPORT_SCHEME: so "socks5://" is named, not "not a URL" */
	if (strlen(url) > CFG_MAX_TEXT ||
	    curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    !strstr(url, "://") || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		snprintf(msg, n, "is not a URL; write http://host:port or https://host:port "
			 "(or none)");
	else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
		snprintf(msg, n, "scheme %.20s is not supported; write http://host:port or "
			 "https://host:port", scheme);
	else if (has_part(u, CURLUPART_USER, NULL) || has_part(u, CURLUPART_PASSWORD, NULL))
		snprintf(msg, n, "holds a user name or password (not shown); keep the URL to "
			 "scheme://host:port, put the user in proxy_user and the password "
			 "in proxy_password_file (or proxy_password_env)");
	else if (!has_part(u, CURLUPART_PORT, NULL))
		snprintf(msg, n, "has no port; write it, e.g. http://proxy.example:3128");
	else if (has_part(u, CURLUPART_PATH, "/") || has_part(u, CURLUPART_QUERY, NULL) ||
		 has_part(u, CURLUPART_FRAGMENT, NULL))
		snprintf(msg, n, "has a path, query or fragment; write only "
			 "scheme://host:port");
	else
		rc = 0;
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

int cfgproxy_parse_key(struct cfgload_ctx *c, struct mw_integration *in, int k,
		       const struct node *v, const char *who)
{
	const char *key = cfgschema_ikey_names[k];

	if (cfgload_want_scalar(c, v, who, key) < 0)
		return -1;
	if (k == K_PROXY) {
		set_url(&in->proxy.url, v);
		return 0;
	}
	free(k == K_PROXY_USER ? in->proxy.user : in->proxy.ca_file);
	if (k == K_PROXY_USER)
		in->proxy.user = v->is_null ? NULL : mw_xstrdup(v->str);
	else
		in->proxy.ca_file = v->is_null ? NULL : mw_xstrdup(v->str);
	return 0;
}

int cfgproxy_parse_top(struct cfgload_ctx *c, const struct node *v)
{
	char msg[512];

	if (cfgload_want_scalar(c, v, "config", "proxy") < 0)
		return -1;
	free(c->cfg->proxy);
	c->cfg->proxy = NULL;
	if (v->is_null || proxy_off(v->str))
		return 0;
	if (url_check(v->str, msg, sizeof(msg)) < 0)
		return cfgload_fail(c, v->line, "proxy: %s", msg);
	c->cfg->proxy = mw_xstrdup(v->str);
	return 0;
}

int cfgproxy_check_field(const struct mw_integration *in, int k, char *msg, size_t n)
{
	char tmp[512];
	const struct mw_proxy *p = &in->proxy;

	switch (k) {
	case K_PROXY:
		if (!p->url || !*p->url || url_check(p->url, tmp, sizeof(tmp)) == 0)
			return 0;
		snprintf(msg, n, "proxy: %s", tmp);
		return -1;
	case K_PROXY_USER:
		if (!p->user || (*p->user && !strpbrk(p->user, ":\r\n")))
			return 0;
		snprintf(msg, n, "proxy_user: %s; write the proxy's user name alone (the "
			 "password goes in proxy_password_file)",
			 *p->user ? "holds ':' or a line break" : "is empty");
		return -1;
	case K_PROXY_PASSWORD:
		/* never echo it */
		if (p->password.src == MW_SECRET_NONE ||
		    (p->password.value && *p->password.value &&
		     !strpbrk(p->password.value, "\r\n")))
			return 0;
		snprintf(msg, n, "proxy_password: is empty or holds a line break; put the "
			 "password alone, on one line");
		return -1;
	case K_PROXY_CA_FILE:
		return p->ca_file ? cfgschema_ca_file_check("proxy_ca_file", p->ca_file, msg, n)
				  : 0;
	default:
		return 0;
	}
}

int cfgproxy_check_pair(const struct mw_integration *in, char *msg, size_t n)
{
	const struct mw_proxy *p = &in->proxy;
	int pass = p->password.src != MW_SECRET_NONE;

	if (p->user && !pass) {
		snprintf(msg, n, "proxy_user: has no password; add proxy_password_file (a file "
			 "of mode 0600) or proxy_password_env");
		return -1;
	}
	if (pass && !p->user) {
		snprintf(msg, n, "proxy_password: has no user; add proxy_user");
		return -1;
	}
	return 0;
}

static void secret_copy(struct mw_secret *dst, const struct mw_secret *src)
{
	dst->src = src->src;
	dst->value = mw_xstrdup(src->value);
	dst->ref = mw_xstrdup(src->ref);
}

void config_proxy_copy(struct mw_proxy *dst, const struct mw_proxy *src)
{
	dst->url = mw_xstrdup(src->url);
	dst->user = mw_xstrdup(src->user);
	secret_copy(&dst->password, &src->password);
	dst->ca_file = mw_xstrdup(src->ca_file);
	dst->inherited = mw_xstrdup(src->inherited);
}

void cfgproxy_clear(struct mw_proxy *p)
{
	if (p->password.value) {
		explicit_bzero(p->password.value, strlen(p->password.value));
		free(p->password.value);
	}
	free(p->password.ref);
	free(p->url);
	free(p->user);
	free(p->ca_file);
	free(p->inherited);
	memset(p, 0, sizeof(*p));
}
