/* errclass.h - the one list of outcome classes (design.md, "Error classes")
 * and the classification of a Mimecast response into exactly one of them.
 * validate, fetch, status and the console all show these names and remedies. */
#ifndef MW_ERRCLASS_H
#define MW_ERRCLASS_H

#include <stddef.h>
#include <stdint.h>
#include "jsonscan.h"

enum mc_class {
	MC_OK,
	MC_RETRY,             /* 429, 5xx, network, truncated body, retryable fail[] */
	MC_INVALID_SIGNATURE, /* wrong keys, or clock skew */
	MC_BINDING_EXPIRED,   /* 418 */
	MC_PERMISSION,        /* 403: role lacks the type's permission */
	MC_BAD_APP_ID,        /* err_developer_key, after one retry */
	MC_IP_NOT_ALLOWED,
	MC_NOT_LICENSED,      /* get-account packages lack the type's package */
	MC_WRONG_REGION,
	MC_TLS,               /* certificate or host-name failure: never retried */
	MC_BAD_REQUEST,
	MC_UNKNOWN,
	MC_CLASS_COUNT
};

/* "ok", "retry later", "invalid signature", "binding expired",
 * "permission missing", "bad Application ID", "IP not allowed",
 * "TTP package not licensed", "wrong region", "certificate or host-name
 * failure", "bad request", "unknown". */
const char *mc_class_name(enum mc_class c);
/* Stable machine name for --json and the store: "ok", "retry", ... */
const char *mc_class_key(enum mc_class c);
enum mc_class mc_class_from_key(const char *key);
/* The generic one-line remedy, in API 1.0's words (Application Key, Access
 * and Secret Key, the service user's role). */
const char *mc_class_remedy(enum mc_class c);
/* The same in the words of the integration's own API: api 2 names the Client
 * ID / Client Secret and the API 2.0 application's products and role, and
 * never an Access or Secret Key; any other api is 1.0. */
const char *mc_class_remedy_api(enum mc_class c, int api);

/* What one request came to. Filled by mcapi; shown everywhere. */
struct mc_result {
	enum mc_class cls;
	long http_status;       /* 0 when no response */
	char code[96];          /* Mimecast err_ code, or curl's error name */
	char message[384];      /* Mimecast's message or the transport error, sanitised */
	char remedy[512];       /* the specific one-line fix */
	int retryable;          /* fail[].errors[].retryable, or implied by class */
	int64_t rl_limit, rl_remaining, rl_reset_ms; /* -1 when absent */
	int64_t server_date;    /* epoch from the Date header, 0 when absent */
};

void mc_result_init(struct mc_result *r);

/* Context the classifier needs beyond the response itself. */
struct mc_classify_ctx {
	const char *permission;  /* the type's permission string, or NULL */
	int64_t local_now;       /* for clock-skew detection against Date */
	int known_region;        /* base URL host is in the region list (or loopback) */
	int api;                 /* 2: API 2.0 (bearer tokens); otherwise 1.0 */
};

/* Classifies an HTTP response. status is the HTTP status; doc/root the parsed
 * body (root -1 when the body is not JSON). Sets r->cls, code, message,
 * remedy and retryable; leaves rate-limit fields alone. */
void mc_classify(struct mc_result *r, long status, const js_doc *doc, int root,
		 const struct mc_classify_ctx *ctx);

/* Copies in[0..inlen) into out as printable ASCII: every other character
 * (a whole UTF-8 sequence counts once) becomes '?'; truncates to outsz-1. */
void mc_sanitize_copy(char *out, size_t outsz, const char *in, size_t inlen);
/* 1 if a code or message says the caller's address is refused ("IP ... not
 * allowed/permitted", "Permitted IP Ranges", err_..._ip_...): the only
 * evidence "IP not allowed" is classed on. An address literal alone is not. */
int mc_text_says_ip_refused(const char *code, const char *message);
/* This host's addresses (getifaddrs, non-loopback first; at most max of
 * them), comma-separated, or "unknown". */
void mc_host_addresses(char *out, size_t n, int max);
/* The IP-not-allowed remedy naming this host's addresses and warning that
 * Mimecast may see a NAT address. */
void mc_format_ip_remedy(char *out, size_t n);

/* Parses X-RateLimit-Reset (ms). Bogus values (negative, non-numeric, empty,
 * huge) give -1; callers clamp waits to [100 ms, 15 min]. */
int64_t mc_parse_reset_ms(const char *value);
/* Clamp a 429 wait as design.md says: [100 ms, 15 min]; unknown -> 5 s. */
int64_t mc_clamp_wait_ms(int64_t reset_ms);

#endif
