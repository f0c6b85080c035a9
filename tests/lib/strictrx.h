/* strictrx.h - for the C tests that deliver to strict_http.py (the strict
 * HEC + Elasticsearch receiver): starting it as a child process on a port
 * of its choosing (plain, or TLS with a certificate), stopping it, and one
 * request to its control endpoints (/_ctl/state, /_ctl/fault, ...). The
 * receiver is found through STRICT_HTTP, as `make check` sets it. */
#ifndef MW_STRICTRX_H
#define MW_STRICTRX_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "util.h"

/* The credentials the receiver is started with. */
#define STRICT_RX_HEC_TOKEN "11111111-2222-3333-4444-555555555555"
#define STRICT_RX_ES_KEY "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="

struct strict_rx {
	pid_t pid;
	int port;
	char url_hec[192], url_es[192], base[128];
};

static inline const char *strict_rx_path(void)
{
	const char *p = getenv("STRICT_HTTP");

	return p ? p : "tests/lib/strict_http.py";
}

/* Starts the receiver, its port written to dir/tag.port; with cert and key
 * it speaks TLS and its URLs name localhost (what the certificate names).
 * 0, or -1 when it did not come up. */
static inline int strict_rx_start(struct strict_rx *r, const char *dir, const char *tag,
				  const char *cert, const char *key)
{
	char pf[512];
	const char *scheme = cert ? "https" : "http";

	r->port = 0;
	snprintf(pf, sizeof(pf), "%s/%s.port", dir, tag);
	unlink(pf);
	r->pid = fork();
	if (r->pid < 0)
		return -1;
	if (r->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);  /* never outlive a crashed test */
		if (cert)
			execlp("python3", "python3", strict_rx_path(), "--port-file", pf,
			       "--hec-token", STRICT_RX_HEC_TOKEN, "--es-key", STRICT_RX_ES_KEY,
			       "--cert", cert, "--key", key, (char *)NULL);
		else
			execlp("python3", "python3", strict_rx_path(), "--port-file", pf,
			       "--hec-token", STRICT_RX_HEC_TOKEN, "--es-key", STRICT_RX_ES_KEY,
			       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(pf, "r");
		int st;

		if (f) {
			int ok = fscanf(f, "%d", &r->port) == 1;

			fclose(f);
			if (ok)
				break;
			r->port = 0;
		}
		if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
			r->pid = 0;
			return -1;
		}
		mw_sleep_ms(50);
	}
	if (!r->port)
		return -1;
	snprintf(r->base, sizeof(r->base), "%s://%s:%d", scheme, cert ? "localhost" : "127.0.0.1",
		 r->port);
	snprintf(r->url_hec, sizeof(r->url_hec), "%s/services/collector/event", r->base);
	snprintf(r->url_es, sizeof(r->url_es), "%s", r->base);
	return 0;
}

static inline void strict_rx_stop(struct strict_rx *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		waitpid(r->pid, NULL, 0);
	}
	r->pid = 0;
}

static inline size_t strict_rx_grab(char *p, size_t size, size_t n, void *ud)
{
	mw_buf_append(ud, p, size * n);
	return size * n;
}

/* One request to a plain receiver's control endpoint path on ctl (POST
 * when post is not NULL); out (may be NULL) gets the body. The HTTP
 * status, 0 when there was no answer. */
static inline long strict_rx_ctl(CURL *ctl, const struct strict_rx *r, const char *path,
				 const char *post, mw_buf *out)
{
	char url[256];
	mw_buf junk;
	long status = 0;

	mw_buf_init(&junk);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", r->port, path);
	curl_easy_reset(ctl);
	curl_easy_setopt(ctl, CURLOPT_URL, url);
	curl_easy_setopt(ctl, CURLOPT_WRITEFUNCTION, strict_rx_grab);
	curl_easy_setopt(ctl, CURLOPT_WRITEDATA, out ? out : &junk);
	curl_easy_setopt(ctl, CURLOPT_TIMEOUT, 20L);
	if (post)
		curl_easy_setopt(ctl, CURLOPT_POSTFIELDS, post);
	if (out)
		mw_buf_reset(out);
	if (curl_easy_perform(ctl) == CURLE_OK)
		curl_easy_getinfo(ctl, CURLINFO_RESPONSE_CODE, &status);
	mw_buf_free(&junk);
	return status;
}

#endif
