/* mimecast/proxy.c - a client's proxy (see private.h): the handle's proxy
 * options and the failures that are the proxy's, in the class "proxy"
 * (HACKING, "Error classes") with remedies that name it.
 *
 * The libcurl behaviour relied on, from its documentation
 * (https://curl.se/libcurl/c/CURLOPT_PROXY.html, CURLOPT_NOPROXY.html,
 * CURLOPT_HTTPPROXYTUNNEL.html, CURLINFO_HTTP_CONNECTCODE.html):
 * - with no CURLOPT_PROXY, libcurl reads https_proxy, HTTPS_PROXY,
 *   all_proxy and ALL_PROXY (http_proxy for http:// URLs), and no_proxy or
 *   NO_PROXY, so a silent config leaves all of it to the environment;
 * - CURLOPT_PROXY "" disables every proxy, the environment's too;
 * - a CURLOPT_NOPROXY that is set replaces no_proxy: "" excepts no host, so
 *   a proxy the config names is used whatever NO_PROXY says;
 * - the answer to CONNECT is CURLINFO_HTTP_CONNECTCODE (0: none came). */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void mcproxy_init(struct mc_proxy *p, const struct mc_creds *cr)
{
	p->url = mw_xstrdup(cr->proxy);
	p->user = cr->proxy_user && *cr->proxy_user ? mw_xstrdup(cr->proxy_user) : NULL;
	p->password = mw_xstrdup(cr->proxy_password);
	p->ca_file = cr->proxy_ca_file && *cr->proxy_ca_file ? mw_xstrdup(cr->proxy_ca_file)
							     : NULL;
}

void mcproxy_free(struct mc_proxy *p)
{
	if (p->password) {
		explicit_bzero(p->password, strlen(p->password));
		free(p->password);
	}
	free(p->url);
	free(p->user);
	free(p->ca_file);
	memset(p, 0, sizeof(*p));
}

void mcproxy_setup(CURL *h, const struct mc_proxy *p)
{
	/* Through any HTTP proxy, the environment's too, a request is tunnelled
	 * with CONNECT: TLS runs end to end to Mimecast, verified as ever
	 * (CURLOPT_CAINFO stays the target's), and a plain http:// request to
	 * the simulator never hands its keys to the proxy. */
	curl_easy_setopt(h, CURLOPT_HTTPPROXYTUNNEL, 1L);
	/* An https:// proxy is verified as Mimecast is (libcurl's defaults,
	 * said here so that they stay). */
	curl_easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_PROXY_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (p->ca_file)
		curl_easy_setopt(h, CURLOPT_PROXY_CAINFO, p->ca_file);
	if (p->user) {
		curl_easy_setopt(h, CURLOPT_PROXYUSERNAME, p->user);
		curl_easy_setopt(h, CURLOPT_PROXYPASSWORD, p->password ? p->password : "");
		/* whatever the proxy offers in its 407: Basic, Digest, NTLM */
		curl_easy_setopt(h, CURLOPT_PROXYAUTH, (long)CURLAUTH_ANY);
	}
	if (!p->url)
		return;  /* the environment's, as libcurl reads it */
	curl_easy_setopt(h, CURLOPT_PROXY, p->url);
	if (*p->url)
		curl_easy_setopt(h, CURLOPT_NOPROXY, "");
}

/* The variable libcurl takes an https:// URL's proxy from when the config
 * names none (in the order libcurl reads them), or NULL. */
static const char *env_proxy_var(void)
{
	static const char *const vars[] = { "https_proxy", "HTTPS_PROXY", "all_proxy",
					    "ALL_PROXY" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return vars[i];
	}
	return NULL;
}

/* "the proxy host:port" (or "the proxy in HTTPS_PROXY, host:port"): only
 * host and port, so no user or password written into a URL is shown. */
static void proxy_name(const struct mc_proxy *p, char *out, size_t n)
{
	const char *var = p->url && *p->url ? NULL : env_proxy_var();
	const char *url = var ? getenv(var) : p->url;
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, raw[160] = "?", shown[160];

	if (u && url && curl_url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME |
				     CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
			port = NULL;
		snprintf(raw, sizeof(raw), "%s%s%s", host, port ? ":" : "", port ? port : "");
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	mc_sanitize_copy(shown, sizeof(shown), raw, strlen(raw));
	if (var)
		snprintf(out, n, "the proxy in %s (%s)", var, shown);
	else
		snprintf(out, n, "the proxy %s", shown);
}

int mcproxy_env_hint(CURLcode rc, const struct mc_proxy *p, char *out, size_t n)
{
	char who[200];

	/* libcurl does not say whether it took the environment's proxy (after a
	 * failed connect CURLINFO_PRIMARY_IP and _PORT stay empty): name both */
	if (p->url || !env_proxy_var() || rc != CURLE_COULDNT_CONNECT)
		return 0;
	proxy_name(p, who, sizeof(who));
	snprintf(out, n, "could not connect to base_url's host, or to %s unless NO_PROXY "
		 "excepts that host; will retry (check that proxy, or set proxy in the config)",
		 who);
	return 1;
}

/* The proxy answered CONNECT with code (not 2xx). */
static void connect_refused(const struct mc_proxy *p, const char *who, long code,
			    const char *status_line, struct mc_result *res)
{
	char line[96];

	mc_sanitize_copy(line, sizeof(line), status_line, strlen(status_line));
	if (!line[0])
		snprintf(line, sizeof(line), "%ld", code);
	snprintf(res->message, sizeof(res->message), "%s answered CONNECT with \"%s\"", who,
		 line);
	if (code == 407 && !p->user) {
		snprintf(res->remedy, sizeof(res->remedy), "%s asks for credentials: set "
			 "proxy_user and proxy_password_file", who);
	} else if (code == 407) {
		snprintf(res->remedy, sizeof(res->remedy), "%s refused proxy_user %s and its "
			 "password: check proxy_user and proxy_password_file", who, p->user);
	} else if (code >= 500) {
		/* the proxy could not reach Mimecast: its trouble, or the network's */
		res->cls = MC_RETRY;
		snprintf(res->remedy, sizeof(res->remedy), "%s answered \"%s\": it could not "
			 "reach base_url's host; will retry (check the proxy if it persists)",
			 who, line);
		return;
	} else {
		snprintf(res->remedy, sizeof(res->remedy), "%s answered \"%s\" to CONNECT: it "
			 "does not let this host reach base_url's host; ask its administrator to "
			 "allow CONNECT to it on port 443, or check proxy", who, line);
	}
	res->cls = MC_PROXY;
}

/* A TLS failure before any answer to CONNECT, with an https:// proxy
 * named: the handshake that failed was the proxy's, not Mimecast's. */
static int proxy_tls_failed(CURLcode rc, const struct mc_proxy *p, long code)
{
	if (code || !p->url || strncasecmp(p->url, "https://", 8) != 0)
		return 0;
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		return 1;
	default:
		return 0;
	}
}

int mcproxy_failure(CURL *h, CURLcode rc, const struct mc_proxy *p, const char *status_line,
		    struct mc_result *res)
{
	long code = 0;
	int named = p->url && *p->url;
	char who[200];

	curl_easy_getinfo(h, CURLINFO_HTTP_CONNECTCODE, &code);
	if (!(code >= 300 || rc == CURLE_COULDNT_RESOLVE_PROXY ||
	      (named && rc == CURLE_COULDNT_CONNECT) || proxy_tls_failed(rc, p, code)))
		return 0;
	proxy_name(p, who, sizeof(who));
	if (code >= 300) {
		res->http_status = code;
		connect_refused(p, who, code, status_line, res);
	} else if (proxy_tls_failed(rc, p, code)) {
		res->cls = MC_PROXY;
		snprintf(res->remedy, sizeof(res->remedy), "%s presented a certificate that did "
			 "not verify: set proxy_ca_file to the CA that signed it (%s), and check "
			 "that proxy names the host the certificate is for", who,
			 p->ca_file ? "the one set did not verify it" : "none is set");
	} else {
		/* with a proxy named, libcurl connects to nothing else */
		res->cls = MC_PROXY;
		snprintf(res->remedy, sizeof(res->remedy), rc == CURLE_COULDNT_RESOLVE_PROXY
			 ? "%s: its host name does not resolve: check proxy"
			 : "%s refused the connection: check proxy (is it running, is the port "
			 "right?)", who);
	}
	res->retryable = res->cls == MC_RETRY;
	return 1;
}
