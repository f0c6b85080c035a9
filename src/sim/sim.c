/* src/sim/sim.c - the simulated Mimecast tenant: an HTTP(S) server (libmicrohttpd,
 * one thread per connection) that checks API 1.0 signatures and API 2.0
 * tokens, rate-limits per credential, paginates with stateless signed
 * tokens, injects faults, and answers the control endpoint /_sim/.
 *
 * Response bodies are built by hand into one buffer (json-c only parses
 * the small request bodies): a page of 100 records costs well under 1 ms. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "jsonout.h"
#include "mimecast/mimecast.h"
#include "sim.h"
#include "records.h"
#include "siem.h"

#define LIT(b, s) mw_buf_append((b), (s), sizeof(s) - 1)

#define MAX_BODY (1u << 20)          /* request bodies above this get 413 */
/* --reject-reused-req-id: how long an x-mc-req-id is remembered. Whether
 * Mimecast refuses a reused id at all is UNCONFIRMED (HACKING, "Not known"), so
 * the check and this span are the sim's own, opt-in. */
#define REQID_TTL_MS (30 * 60 * 1000)
/* The documented page size range is 1..100; a larger request is answered
 * with at most 100 records and no error (elastic/integrations#4921). */
#define MAX_PAGE 100
#define SCAN_LIMIT 2000000           /* indices examined per page at most */
#define MAX_BUCKETS 64

/* ---- paths --------------------------------------------------------------- */

/* The log paths come first, in enum sim_type's order: P_URL + type. */
enum sim_path { P_URL, P_IMP, P_ATT, P_AUDIT, P_DLP, P_ACCOUNT, P_DISCOVER, P_OAUTH, P_SIEM,
		P_SIEM1, P_OTHER, P_COUNT };

/* audit: POST /api/audit/get-audit-events [MC-AUDIT]; DLP: POST
 * /api/dlp/get-logs [MC-DLP] (HACKING, "Beyond TTP: audit, DLP and SIEM"). */
static const char *const path_names[P_COUNT] = {
	"/api/ttp/url/get-logs", "/api/ttp/impersonation/get-logs",
	"/api/ttp/attachment/get-logs", "/api/audit/get-audit-events", "/api/dlp/get-logs",
	"/api/account/get-account",
	"/api/login/discover-authentication", "/oauth/token",
	"/siem/v1/batch/events/cg",  /* GET, API 2.0 [GRAV-CLIENT] [ELA-SIEM-CEL] */
	"/api/audit/get-siem-logs",  /* API 1.0, a file a call [MC-SIEM1] */
	"other",
};

/* Where the listing's pre-signed links point: served by the sim itself. */
#define SIEM_FILES "/siem-files/"

struct sim;
struct reply;
static enum MHD_Result siem_file_request(struct sim *s, struct MHD_Connection *conn,
					 const char *url);
static void siem_truth(struct sim *s, mw_buf *out);
static int siem_noday(struct sim *s);

static enum sim_path path_of(const char *url)
{
	for (int p = 0; p < P_OTHER; p++)
		if (strcmp(url, path_names[p]) == 0)
			return (enum sim_path)p;
	return P_OTHER;
}

/* ---- faults -------------------------------------------------------------- */

enum fault_kind {
	F_429, F_418, F_401, F_403, F_IPDENY, F_NOPACKAGE, F_500, F_502, F_503, F_FAILARR,
	F_TRUNCATE, F_SLOW, F_EMPTYNEXT, F_BADJSON, F_TRAILING, F_TOKEN_EXPIRED, F_RESET,
	F_CHUNKCUT, F_HANG, F_DRIP, F_REDIRECT, F_BIGRECORD, F_BIGBODY, F_DEEPJSON, F_BADRECORD,
	F_EMPTYEND, F_TOKEN_REVOKED, F_GATEWAY429, F_BINDING_FAIL, F_ECHO,
	F_TIMESHIFT, F_NEXTLOOP, F_REPEATPAGES, F_BADDATE, F_HOSTILE_ACCOUNT, F_REVISE,
	F_PAGETOKEN, F_SIEM_EXPIRED, F_SIEM_CUT, F_SIEM_BADGZIP, F_SIEM_TWICE, F_SIEM_NODAY,
	F_SIEM_NEXTLOOP, F_COUNT
};

static const char *const fault_names[F_COUNT] = {
	"429", "418", "401", "403", "ipdeny", "nopackage", "500", "502", "503", "failarr",
	"truncate", "slow", "emptynext", "badjson", "trailing", "token_expired", "reset",
	"chunkcut", "hang", "drip", "redirect", "bigrecord", "bigbody", "deepjson", "badrecord",
	"emptyend", "token_revoked", "gateway429", "binding_fail", "echo",
	"timeshift", "nextloop", "repeatpages", "baddate", "hostile_account",
	"revise", "pagetoken", "siem_expired", "siem_cut", "siem_badgzip", "siem_twice",
	"siem_noday", "siem_nextloop",
};

/* Empty-page shapes (emptynext, emptyend): "data":[] as in the public
 * fixture [ELA-URL-TEST], or the records array present but empty. */
enum { SHAPE_NESTED, SHAPE_FLAT };
/* What an empty page says in totalCount. */
enum { TOTAL_REAL, TOTAL_NONE, TOTAL_FIXED, TOTAL_PLUS };

struct fault {
	enum fault_kind kind;
	unsigned types;             /* request types it applies to */
	int64_t after, count;       /* skip the first `after`; fire `count` times (0: always) */
	int64_t seen, fired;
	char reset[64];             /* 429: X-RateLimit-Reset sent verbatim */
	int64_t bytes;              /* slow, drip: bytes per second; bigrecord, bigbody: size */
	int64_t depth;              /* deepjson: nesting */
	int length;                 /* bigbody: announce Content-Length */
	char to[256];               /* redirect: Location */
	int shape, next;            /* emptynext, emptyend */
	int total_mode;             /* emptynext, emptyend: TOTAL_* */
	int64_t total_n;
	char code[64];              /* token_revoked: fail[].code */
	int64_t hold;               /* gateway429: seconds every request is refused */
	int64_t retry_after;        /* gateway429: Retry-After seconds; -1 none */
	int retry_after_date;       /* gateway429: Retry-After as an HTTP-date */
	int64_t hold_until_ms;      /* gateway429: monotonic end of the current hold */
	int64_t hold_end;           /* gateway429: the same, epoch seconds */
	int64_t holds;              /* gateway429: holds started */
	int status;                 /* binding_fail: HTTP status */
	int what;                   /* echo: 0 auth, 1 form */
	int64_t minsize;            /* slow, drip: only answers of more records; -1 all */
	int64_t offset;             /* timeshift: seconds added to the time field */
	int64_t every;              /* timeshift: every Nth record of a page; 0 the first;
				     * revise: records whose index is a multiple of it */
	int64_t rev;                /* revise: which revision of the content (1..) */
	int sticky;                 /* timeshift: served again in every later answer */
	int64_t period;             /* nextloop: pages in the cycle */
	char value[128];            /* baddate: the time field's text */
};

/* A record timeshift moved with sticky=1: put into every later answer for
 * its type. */
#define MAX_STICKY 32
struct sticky {
	int type;
	int64_t index, shift;
};

/* Recent get-logs requests for GET /_sim/requests. */
#define REQLOG_CAP 4096
struct reqlog {
	int type, status, page_size, token, records, loop;
	int64_t from, to;
};

/* Internal request type bit for /oauth/token (echo what=form only). */
#define SIM_BIT_OAUTH (1u << 9)
/* The SIEM listing (type=siem) and the downloads of its files (the
 * siem_expired, siem_cut and siem_badgzip faults). */
#define SIM_BIT_SIEM (1u << 10)
#define SIM_BIT_SIEMFILE (1u << 11)

#define LOG_BITS ((1u << SIM_NTYPES) - 1)

unsigned sim_type_bits(const char *name)
{
	int t = sim_records_type_from_name(name);

	if (t >= 0)
		return 1u << t;
	if (name && strcmp(name, "account") == 0)
		return SIM_BIT_ACCOUNT;
	if (name && strcmp(name, "siem") == 0)
		return SIM_BIT_SIEM;
	if (name && strcmp(name, "all") == 0)
		return LOG_BITS;
	return 0;
}

static int parse_i64(const char *s, int64_t *v)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 10);
	if (!*s || *end || errno || x < 0)
		return -1;
	*v = x;
	return 0;
}

static int fault_parse(const char *spec, struct fault *f, mw_err *e)
{
	char buf[512], *kv, *save = NULL;
	const char *colon = strchr(spec, ':');
	size_t klen = colon ? (size_t)(colon - spec) : strlen(spec);
	int k;

	memset(f, 0, sizeof(*f));
	for (k = 0; k < F_COUNT; k++)
		if (strlen(fault_names[k]) == klen && strncmp(spec, fault_names[k], klen) == 0)
			break;
	if (k == F_COUNT) {
		char kinds[400];
		size_t kl = 0;

		for (int j = 0; j < F_COUNT; j++)
			kl += (size_t)snprintf(kinds + kl, sizeof(kinds) - kl, " %s",
					       fault_names[j]);
		mw_err_set(e, "fault \"%s\": unknown kind; use one of%s", spec, kinds);
		return -1;
	}
	f->kind = (enum fault_kind)k;
	f->types = LOG_BITS;
	f->count = 1;
	f->bytes = k == F_DRIP ? 1 : k == F_BIGRECORD ? 17 * 1024 * 1024 :
		   k == F_BIGBODY ? (int64_t)1 << 30 : 100;
	f->depth = 10000;
	snprintf(f->reset, sizeof(f->reset), "1500");
	f->shape = k == F_EMPTYEND ? SHAPE_FLAT : SHAPE_NESTED;
	f->next = 1;
	f->total_mode = TOTAL_REAL;
	snprintf(f->code, sizeof(f->code), "unauthorized");
	f->hold = 60;
	f->retry_after = -1;
	f->status = 200;
	f->minsize = -1;
	f->period = 1;
	f->offset = INT64_MIN;      /* timeshift: required */
	if (k == F_REVISE) {
		f->types = 1u << SIM_IMPERSONATION;
		f->every = 1;
		f->rev = 1;
	}
	if (k == F_BADDATE)
		snprintf(f->value, sizeof(f->value), "2026-02-30T10:00:00+0000");
	if (k == F_SIEM_EXPIRED || k == F_SIEM_CUT || k == F_SIEM_BADGZIP)
		f->types = SIM_BIT_SIEMFILE;
	if (k == F_SIEM_TWICE || k == F_SIEM_NODAY || k == F_SIEM_NEXTLOOP)
		f->types = SIM_BIT_SIEM;
	if (!colon) {
		if (k == F_REDIRECT) {
			mw_err_set(e, "fault \"%s\": redirect needs to=URL", spec);
			return -1;
		}
		if (k == F_TIMESHIFT) {
			mw_err_set(e, "fault \"%s\": timeshift needs offset=SECONDS", spec);
			return -1;
		}
		return 0;
	}
	if (strlen(colon + 1) >= sizeof(buf)) {
		mw_err_set(e, "fault \"%.40s...\": too long", spec);
		return -1;
	}
	strcpy(buf, colon + 1);
	for (kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		const char *val;

		if (!eq) {
			mw_err_set(e, "fault \"%s\": \"%s\" is not key=value", spec, kv);
			return -1;
		}
		*eq = '\0';
		val = eq + 1;
		if (strcmp(kv, "type") == 0) {
			f->types = sim_type_bits(val);
			if (!f->types) {
				mw_err_set(e, "fault \"%s\": type=%s: use url, impersonation, audit, dlp, "
					   "attachment, account or all", spec, val);
				return -1;
			}
		} else if (strcmp(kv, "after") == 0 || strcmp(kv, "count") == 0) {
			int64_t v;

			if (parse_i64(val, &v) < 0) {
				mw_err_set(e, "fault \"%s\": %s=%s: need a whole number >= 0", spec,
					   kv, val);
				return -1;
			}
			if (kv[0] == 'a')
				f->after = v;
			else
				f->count = v;
		} else if (strcmp(kv, "reset") == 0 && f->kind == F_429) {
			/* sent verbatim, bogus values included: that is the point */
			snprintf(f->reset, sizeof(f->reset), "%s", val);
		} else if (strcmp(kv, "bytes") == 0 &&
			   (k == F_SLOW || k == F_DRIP || k == F_BIGRECORD || k == F_BIGBODY)) {
			if (parse_i64(val, &f->bytes) < 0 || f->bytes < 1) {
				mw_err_set(e, "fault \"%s\": bytes=%s: need a number >= 1", spec, val);
				return -1;
			}
		} else if (strcmp(kv, "depth") == 0 && k == F_DEEPJSON) {
			if (parse_i64(val, &f->depth) < 0 || f->depth < 1 || f->depth > 10000000) {
				mw_err_set(e, "fault \"%s\": depth=%s: need 1 to 10000000", spec, val);
				return -1;
			}
		} else if (strcmp(kv, "length") == 0 && k == F_BIGBODY) {
			f->length = strcmp(val, "1") == 0;
			if (!f->length && strcmp(val, "0") != 0) {
				mw_err_set(e, "fault \"%s\": length=%s: use 0 or 1", spec, val);
				return -1;
			}
		} else if (strcmp(kv, "shape") == 0 && (k == F_EMPTYNEXT || k == F_EMPTYEND)) {
			if (strcmp(val, "flat") == 0) {
				f->shape = SHAPE_FLAT;
			} else if (strcmp(val, "nested") == 0) {
				f->shape = SHAPE_NESTED;
			} else {
				mw_err_set(e, "fault \"%s\": shape=%s: use flat or nested", spec, val);
				return -1;
			}
		} else if (strcmp(kv, "total") == 0 && (k == F_EMPTYNEXT || k == F_EMPTYEND)) {
			if (strcmp(val, "real") == 0) {
				f->total_mode = TOTAL_REAL;
			} else if (strcmp(val, "none") == 0) {
				f->total_mode = TOTAL_NONE;
			} else if (val[0] == '+' && parse_i64(val + 1, &f->total_n) == 0) {
				f->total_mode = TOTAL_PLUS;
			} else if (isdigit((unsigned char)val[0]) && parse_i64(val, &f->total_n) == 0) {
				f->total_mode = TOTAL_FIXED;
			} else {
				mw_err_set(e, "fault \"%s\": total=%s: use real, none, N or +N", spec,
					   val);
				return -1;
			}
		} else if ((strcmp(kv, "next") == 0 && k == F_EMPTYEND) ||
			   (strcmp(kv, "retry_after_date") == 0 && k == F_GATEWAY429)) {
			int on = strcmp(val, "1") == 0;

			if (!on && strcmp(val, "0") != 0) {
				mw_err_set(e, "fault \"%s\": %s=%s: use 0 or 1", spec, kv, val);
				return -1;
			}
			if (kv[0] == 'n')
				f->next = on;
			else
				f->retry_after_date = on;
		} else if (strcmp(kv, "code") == 0 && k == F_TOKEN_REVOKED) {
			if (!*val || strlen(val) >= sizeof(f->code)) {
				mw_err_set(e, "fault \"%s\": code=%s: need 1 to %d characters", spec,
					   val, (int)sizeof(f->code) - 1);
				return -1;
			}
			snprintf(f->code, sizeof(f->code), "%s", val);
		} else if ((strcmp(kv, "hold") == 0 || strcmp(kv, "retry_after") == 0) &&
			   k == F_GATEWAY429) {
			int64_t v;

			if (parse_i64(val, &v) < 0 || v > 86400 || (kv[0] == 'h' && v < 1)) {
				mw_err_set(e, "fault \"%s\": %s=%s: need %s to 86400 seconds", spec, kv,
					   val, kv[0] == 'h' ? "1" : "0");
				return -1;
			}
			if (kv[0] == 'h')
				f->hold = v;
			else
				f->retry_after = v;
		} else if (strcmp(kv, "status") == 0 && k == F_BINDING_FAIL) {
			int64_t v;

			if (parse_i64(val, &v) < 0 || v < 200 || v > 599) {
				mw_err_set(e, "fault \"%s\": status=%s: need 200 to 599", spec, val);
				return -1;
			}
			f->status = (int)v;
		} else if (strcmp(kv, "what") == 0 && k == F_ECHO) {
			if (strcmp(val, "auth") == 0) {
				f->what = 0;
			} else if (strcmp(val, "form") == 0) {
				f->what = 1;
			} else {
				mw_err_set(e, "fault \"%s\": what=%s: use auth or form", spec, val);
				return -1;
			}
		} else if (strcmp(kv, "minsize") == 0 && (k == F_SLOW || k == F_DRIP)) {
			if (parse_i64(val, &f->minsize) < 0) {
				mw_err_set(e, "fault \"%s\": minsize=%s: need a whole number >= 0",
					   spec, val);
				return -1;
			}
		} else if (strcmp(kv, "offset") == 0 && k == F_TIMESHIFT) {
			char *end;
			long long x;

			errno = 0;
			x = strtoll(val, &end, 10);
			/* a hundred years either way: dates stay four-digit years */
			if (!*val || *end || errno || x < -3155760000LL || x > 3155760000LL) {
				mw_err_set(e, "fault \"%s\": offset=%s: need whole seconds from "
					   "-3155760000 to 3155760000 (100 years)", spec, val);
				return -1;
			}
			f->offset = x;
		} else if (strcmp(kv, "rev") == 0 && k == F_REVISE) {
			if (parse_i64(val, &f->rev) < 0 || f->rev < 1 || f->rev > 1000) {
				mw_err_set(e, "fault \"%s\": rev=%s: need 1 to 1000", spec, val);
				return -1;
			}
		} else if ((strcmp(kv, "every") == 0 && (k == F_TIMESHIFT || k == F_REVISE)) ||
			   (strcmp(kv, "period") == 0 && k == F_NEXTLOOP)) {
			int64_t v;

			if (parse_i64(val, &v) < 0 || v < 1 || v > 1000) {
				mw_err_set(e, "fault \"%s\": %s=%s: need 1 to 1000", spec, kv, val);
				return -1;
			}
			if (kv[0] == 'e')
				f->every = v;
			else
				f->period = v;
		} else if (strcmp(kv, "sticky") == 0 && k == F_TIMESHIFT) {
			f->sticky = strcmp(val, "1") == 0;
			if (!f->sticky && strcmp(val, "0") != 0) {
				mw_err_set(e, "fault \"%s\": sticky=%s: use 0 or 1", spec, val);
				return -1;
			}
		} else if (strcmp(kv, "value") == 0 && k == F_BADDATE) {
			if (strlen(val) >= sizeof(f->value)) {
				mw_err_set(e, "fault \"%s\": value: at most %d bytes", spec,
					   (int)sizeof(f->value) - 1);
				return -1;
			}
			snprintf(f->value, sizeof(f->value), "%s", val);
		} else if (strcmp(kv, "to") == 0 && k == F_REDIRECT) {
			if (!*val || strlen(val) >= sizeof(f->to) || strpbrk(val, "\r\n")) {
				mw_err_set(e, "fault \"%s\": to=%s: need a URL", spec, val);
				return -1;
			}
			snprintf(f->to, sizeof(f->to), "%s", val);
		} else {
			mw_err_set(e, "fault \"%s\": unknown key \"%s\" for kind %s", spec, kv,
				   fault_names[k]);
			return -1;
		}
	}
	if (k == F_REDIRECT && !f->to[0]) {
		mw_err_set(e, "fault \"%s\": redirect needs to=URL", spec);
		return -1;
	}
	if (k == F_TIMESHIFT && f->offset == INT64_MIN) {
		mw_err_set(e, "fault \"%s\": timeshift needs offset=SECONDS", spec);
		return -1;
	}
	if (k == F_REVISE && f->types != 1u << SIM_IMPERSONATION) {
		mw_err_set(e, "fault \"%s\": revise is for type=impersonation only: URL and "
			   "attachment records carry no id of their own", spec);
		return -1;
	}
	return 0;
}

int sim_fault_check(const char *spec, mw_err *e)
{
	struct fault f;

	return fault_parse(spec, &f, e);
}

/* ---- the server state ---------------------------------------------------- */

struct bucket {
	char key[200];
	int64_t tokens;
	int64_t last_ms;          /* monotonic time the last token was added */
	int64_t announced_until;  /* reset time told to the client, monotonic */
	int64_t hold_until;       /* a faulted 429's reset, monotonic */
};

struct reqids {
	uint64_t *keys;           /* 0: empty slot */
	int64_t *expires;         /* monotonic ms; an expired slot is reusable */
	size_t cap, used;
};

struct sim {
	struct MHD_Daemon *d;
	struct sim_opts o;
	char *bind;
	struct sim_recset rs;
	int64_t start;
	int port;
	char base_url[160];
	char cert_dir[4096];
	char ca_file[4200];
	int tmp_cert_dir;
	char *cert_pem, *key_pem;
	unsigned char page_key[32];
	unsigned char token_key[32];

	pthread_mutex_t mu;
	struct fault faults[SIM_MAX_FAULTS];
	int nfaults;
	struct bucket buckets[MAX_BUCKETS];
	int nbuckets;
	struct reqids ids;
	int64_t path_count[P_COUNT];
	int64_t status_count[600];
	int64_t path_status[P_COUNT][600];
	int64_t early, sig_failures;
	/* API 2.0 tokens: each carries a serial; token_revoked refuses every
	 * serial below revoked_below from then on, with revoked_code. */
	uint32_t token_serial;
	uint32_t revoked_below;
	char revoked_code[64];
	/* emptyend: empty pages served after a window's last records, and
	 * empty pages a client asked for by following next from an empty page */
	int64_t empty_end_pages, empty_end_followed;
	/* timeshift with sticky=1: records served again in every later answer */
	struct sticky sticky[MAX_STICKY];
	int nsticky;
	int64_t loop_pages;             /* pages served by a going-round token */
	/* the last REQLOG_CAP get-logs requests, a ring; reqlog_n counts all */
	struct reqlog *reqlog;
	int64_t reqlog_n;
	atomic_int stopping;            /* read by connection threads */
	struct siem_volume *siem;       /* --siem-events, or NULL */
};

void sim_opts_init(struct sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bind = "127.0.0.1";
	o->seed = 1;
	o->span = 86400;
	o->late_delay = 300;
	o->hostile_every = 50;
	o->rate_limit = 800;
	o->refill_ms = 10;
	o->token_ttl = 1799;
	o->siem_file_events = SIM_SIEM_FILE_EVENTS;
}

int sim_port(const struct sim *s)
{
	return s->port;
}

const char *sim_base_url(const struct sim *s)
{
	return s->base_url;
}

const char *sim_ca_file(const struct sim *s)
{
	return s->o.tls ? s->ca_file : NULL;
}

int64_t sim_start_time(const struct sim *s)
{
	return s->start;
}

/* ---- small encoders ------------------------------------------------------ */

/* Text that may come from a client, as a JSON string: the product's own
 * safe encoding (jsonout.h). */
static void put_jstr(mw_buf *b, const char *s)
{
	jsonout_safe_string(b, s, strlen(s));
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64url_encode(const unsigned char *p, size_t n, char *out)
{
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = b64url[w >> 18];
		out[o++] = b64url[(w >> 12) & 63];
		out[o++] = b64url[(w >> 6) & 63];
		out[o++] = b64url[w & 63];
	}
	if (i < n) {
		uint32_t w = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		out[o++] = b64url[w >> 18];
		out[o++] = b64url[(w >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64url[(w >> 6) & 63];
	}
	out[o] = '\0';
}

/* Decodes unpadded base64url; -1 on any other character or length. */
static int b64url_decode(const char *s, unsigned char *out, size_t cap, size_t *n)
{
	size_t len = strlen(s), o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const char *q = s[i] ? strchr(b64url, s[i]) : NULL;

		if (!q)
			return -1;
		acc = acc << 6 | (uint32_t)(q - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*n = o;
	return 0;
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		p[k] = (unsigned char)(v >> (56 - 8 * k));
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int k = 0; k < 8; k++)
		v = v << 8 | p[k];
	return v;
}

static void mac16(const unsigned char key[32], const unsigned char *p, size_t n,
		  unsigned char out[16])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	HMAC(EVP_sha256(), key, 32, p, n, md, &mdlen);
	memcpy(out, md, 16);
}

/* ---- page tokens: base64url(cursor fields + HMAC), stateless ------------ */

static const char *const verdicts[] = { "clean", "malicious", "safe", "timeout", "unknown",
					"error", "unsafe" };

struct cursor {
	int type;
	int oldest;
	struct sim_filter f;
	int page_size;
	int64_t from, to;         /* epoch seconds, inclusive */
	int64_t pos;              /* next index (oldest first) or bound (newest) */
	/* emptyend: a token past the window's end. end_depth 1 asks for the
	 * empty page after the last records, 2 for one after an empty page. */
	int end_depth, end_shape, end_next, end_total_mode;
	int64_t end_total_n;
	/* nextloop and repeatpages (hostile tenants): once a window's pages go
	 * round in a circle its tokens say so. LOOP_NEXT: after the page that
	 * starts at loop_last comes the one at loop_first again. LOOP_REPEAT:
	 * pages re-serve [loop_first, loop_last) for ever, loop_serial making
	 * every token new. */
	int loop_mode;
	uint32_t loop_serial;
	int64_t loop_first, loop_last;
};

enum { LOOP_NONE, LOOP_NEXT, LOOP_REPEAT };

#define TOKEN_RAW 32
#define TOKEN_END_RAW 48         /* the cursor plus the emptyend fields */
#define TOKEN_LOOP_RAW 56        /* the cursor plus the loop fields */
#define TOKEN_MAX_RAW 56
#define TOKEN_CHARS 100          /* base64url of (TOKEN_MAX_RAW + 16 MAC) and NUL */

static void token_encode(const struct sim *s, const struct cursor *c, char out[TOKEN_CHARS])
{
	unsigned char raw[TOKEN_MAX_RAW + 16];
	size_t n = c->end_depth ? TOKEN_END_RAW : c->loop_mode ? TOKEN_LOOP_RAW : TOKEN_RAW;
	int v = 0;

	for (size_t k = 0; c->f.verdict && k < NELEM(verdicts); k++)
		if (strcmp(c->f.verdict, verdicts[k]) == 0)
			v = (int)k + 1;
	memset(raw, 0, sizeof(raw));
	raw[0] = c->end_depth ? 2 : c->loop_mode ? 3 : 1;
	raw[1] = (unsigned char)c->type;
	raw[2] = (unsigned char)c->oldest;
	raw[3] = (unsigned char)(c->f.route + 1);
	raw[4] = (unsigned char)v;
	raw[5] = (unsigned char)(c->f.tagged + 1);
	raw[6] = (unsigned char)(c->page_size >> 8);
	raw[7] = (unsigned char)c->page_size;
	put_u64(raw + 8, (uint64_t)c->from);
	put_u64(raw + 16, (uint64_t)c->to);
	put_u64(raw + 24, (uint64_t)c->pos);
	if (c->end_depth) {
		raw[32] = (unsigned char)(c->end_depth > 255 ? 255 : c->end_depth);
		raw[33] = (unsigned char)c->end_shape;
		raw[34] = (unsigned char)c->end_next;
		raw[35] = (unsigned char)c->end_total_mode;
		put_u64(raw + 36, (uint64_t)c->end_total_n);
	} else if (c->loop_mode) {
		raw[32] = (unsigned char)c->loop_mode;
		raw[36] = (unsigned char)(c->loop_serial >> 24);
		raw[37] = (unsigned char)(c->loop_serial >> 16);
		raw[38] = (unsigned char)(c->loop_serial >> 8);
		raw[39] = (unsigned char)c->loop_serial;
		put_u64(raw + 40, (uint64_t)c->loop_first);
		put_u64(raw + 48, (uint64_t)c->loop_last);
	}
	mac16(s->page_key, raw, n, raw + n);
	b64url_encode(raw, n + 16, out);
}

static int token_decode(const struct sim *s, const char *tok, int type, struct cursor *c)
{
	unsigned char raw[TOKEN_MAX_RAW + 16], mac[16];
	size_t n, len;

	if (b64url_decode(tok, raw, sizeof(raw), &n) < 0 ||
	    (n != TOKEN_RAW + 16 && n != TOKEN_END_RAW + 16 && n != TOKEN_LOOP_RAW + 16))
		return -1;
	len = n - 16;
	mac16(s->page_key, raw, len, mac);
	if (CRYPTO_memcmp(mac, raw + len, 16) != 0)
		return -1;
	if (raw[0] != (len == TOKEN_RAW ? 1 : len == TOKEN_END_RAW ? 2 : 3) || raw[1] != type ||
	    raw[2] > 1 || raw[3] > 3 || raw[4] > NELEM(verdicts) || raw[5] > 2)
		return -1;
	if (len == TOKEN_LOOP_RAW) {
		c->loop_mode = raw[32];
		c->loop_serial = (uint32_t)raw[36] << 24 | (uint32_t)raw[37] << 16 |
				 (uint32_t)raw[38] << 8 | raw[39];
		c->loop_first = (int64_t)get_u64(raw + 40);
		c->loop_last = (int64_t)get_u64(raw + 48);
		if ((c->loop_mode != LOOP_NEXT && c->loop_mode != LOOP_REPEAT) ||
		    c->loop_first < 0 || c->loop_last < 0)
			return -1;
	}
	if (len == TOKEN_END_RAW) {
		c->end_depth = raw[32];
		c->end_shape = raw[33];
		c->end_next = raw[34];
		c->end_total_mode = raw[35];
		c->end_total_n = (int64_t)get_u64(raw + 36);
		if (c->end_depth < 1 || c->end_shape > SHAPE_FLAT || c->end_next > 1 ||
		    c->end_total_mode > TOTAL_PLUS || c->end_total_n < 0)
			return -1;
	}
	c->type = type;
	c->oldest = raw[2];
	c->f.route = raw[3] - 1;
	c->f.verdict = raw[4] ? verdicts[raw[4] - 1] : NULL;
	c->f.tagged = raw[5] - 1;
	c->page_size = raw[6] << 8 | raw[7];
	c->from = (int64_t)get_u64(raw + 8);
	c->to = (int64_t)get_u64(raw + 16);
	c->pos = (int64_t)get_u64(raw + 24);
	if (c->page_size < 1 || c->page_size > MAX_PAGE || c->pos < 0)
		return -1;
	return 0;
}

/* ---- API 2.0 access tokens: "mwsim." + base64url(expiry, serial, nonce,
 * HMAC). The serial lets token_revoked refuse every token issued so far. */

static void access_token_make(struct sim *s, int64_t expires, char out[80])
{
	unsigned char raw[32];
	uint32_t serial;

	pthread_mutex_lock(&s->mu);
	serial = s->token_serial++;
	pthread_mutex_unlock(&s->mu);
	raw[0] = 2;
	put_u64(raw + 1, (uint64_t)expires);
	raw[9] = (unsigned char)(serial >> 24);
	raw[10] = (unsigned char)(serial >> 16);
	raw[11] = (unsigned char)(serial >> 8);
	raw[12] = (unsigned char)serial;
	RAND_bytes(raw + 13, 3);
	mac16(s->token_key, raw, 16, raw + 16);
	memcpy(out, "mwsim.", 6);
	b64url_encode(raw, sizeof(raw), out + 6);
}

enum { TOKEN_BAD, TOKEN_OK, TOKEN_REVOKED };

/* TOKEN_OK, TOKEN_REVOKED (code copied into code[64]), or TOKEN_BAD for
 * an expired or unknown token. */
static int access_token_check(struct sim *s, const char *tok, char code[64])
{
	unsigned char raw[48], mac[16];
	size_t n;
	uint32_t serial;
	int revoked;

	if (strncmp(tok, "mwsim.", 6) != 0 || b64url_decode(tok + 6, raw, sizeof(raw), &n) < 0 ||
	    n != 32 || raw[0] != 2)
		return TOKEN_BAD;
	mac16(s->token_key, raw, 16, mac);
	if (CRYPTO_memcmp(mac, raw + 16, 16) != 0)
		return TOKEN_BAD;
	if ((int64_t)get_u64(raw + 1) <= mw_now())
		return TOKEN_BAD;
	serial = (uint32_t)raw[9] << 24 | (uint32_t)raw[10] << 16 | (uint32_t)raw[11] << 8 |
		 raw[12];
	pthread_mutex_lock(&s->mu);
	revoked = serial < s->revoked_below;
	if (revoked)
		memcpy(code, s->revoked_code, 64);
	pthread_mutex_unlock(&s->mu);
	return revoked ? TOKEN_REVOKED : TOKEN_OK;
}

/* ---- the x-mc-req-id replay table ----------------------------------------- */

static uint64_t fnv64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h ? h : 1;
}

static void reqids_rebuild(struct reqids *t, int64_t now, size_t cap)
{
	struct reqids n = { mw_xcalloc(cap, sizeof(uint64_t)), mw_xcalloc(cap, sizeof(int64_t)),
			    cap, 0 };

	for (size_t i = 0; i < t->cap; i++) {
		if (!t->keys[i] || t->expires[i] <= now)
			continue;
		size_t j = t->keys[i] & (cap - 1);

		while (n.keys[j])
			j = (j + 1) & (cap - 1);
		n.keys[j] = t->keys[i];
		n.expires[j] = t->expires[i];
		n.used++;
	}
	free(t->keys);
	free(t->expires);
	*t = n;
}

/* 1 when id was seen within the TTL; otherwise remembers it and returns 0.
 * Expired slots stay in probe chains (so lookups pass them) and are
 * dropped when the table is rebuilt. */
static int reqids_seen(struct reqids *t, const char *id, int64_t now)
{
	uint64_t k = fnv64(id);
	size_t i, reuse = SIZE_MAX;

	if (!t->cap)
		reqids_rebuild(t, now, 1024);
	for (i = k & (t->cap - 1); t->keys[i]; i = (i + 1) & (t->cap - 1)) {
		if (t->keys[i] == k && t->expires[i] > now)
			return 1;
		if (t->expires[i] <= now && reuse == SIZE_MAX)
			reuse = i;
	}
	if (reuse == SIZE_MAX) {
		reuse = i;
		t->used++;
	}
	t->keys[reuse] = k;
	t->expires[reuse] = now + REQID_TTL_MS;
	if (t->used * 2 > t->cap) {
		size_t live = 0;

		for (size_t j = 0; j < t->cap; j++)
			live += t->keys[j] && t->expires[j] > now;
		reqids_rebuild(t, now, live * 4 > t->cap ? t->cap * 2 : t->cap);
	}
	return 0;
}

/* ---- rate limiting ------------------------------------------------------- */

struct rl_view {
	int64_t limit, remaining, reset_ms;
	int have;
	int faulted;              /* a faulted 429: reset_text goes out verbatim */
	char reset_text[64];
};

static struct bucket *bucket_get(struct sim *s, const char *key)
{
	int i;

	for (i = 0; i < s->nbuckets; i++)
		if (strcmp(s->buckets[i].key, key) == 0)
			return &s->buckets[i];
	/* The table is small: past it, strangers share the last slot. */
	if (s->nbuckets == MAX_BUCKETS)
		return &s->buckets[MAX_BUCKETS - 1];
	struct bucket *b = &s->buckets[s->nbuckets++];

	memset(b, 0, sizeof(*b));
	snprintf(b->key, sizeof(b->key), "%s", key);
	b->tokens = s->o.rate_limit;
	b->last_ms = mw_mono_ms();
	return b;
}

static void bucket_refill(const struct sim *s, struct bucket *b, int64_t now)
{
	int64_t add;

	if (b->tokens >= s->o.rate_limit) {
		b->last_ms = now;
		return;
	}
	add = (now - b->last_ms) / s->o.refill_ms;
	if (add <= 0)
		return;
	b->tokens += add;
	b->last_ms += add * s->o.refill_ms;
	if (b->tokens >= s->o.rate_limit) {
		b->tokens = s->o.rate_limit;
		b->last_ms = now;
	}
}

/* Takes one request out of key's bucket: 1 allowed, 0 over the limit. */
static int rate_take(struct sim *s, const char *key, struct rl_view *rl)
{
	int64_t now = mw_mono_ms();
	int ok;

	pthread_mutex_lock(&s->mu);
	struct bucket *b = bucket_get(s, key);

	bucket_refill(s, b, now);
	if ((b->tokens == 0 && now < b->announced_until) || now < b->hold_until)
		s->early++;
	ok = b->tokens > 0;
	if (ok)
		b->tokens--;
	rl->have = 1;
	rl->limit = s->o.rate_limit;
	rl->remaining = b->tokens;
	rl->reset_ms = b->tokens >= s->o.rate_limit ? s->o.refill_ms :
		       s->o.refill_ms - (now - b->last_ms);
	if (rl->reset_ms < 1)
		rl->reset_ms = 1;
	if (b->tokens == 0)
		b->announced_until = now + rl->reset_ms;
	pthread_mutex_unlock(&s->mu);
	return ok;
}

static void rate_hold(struct sim *s, const char *key, const char *reset)
{
	int64_t ms;

	/* Only a sane reset can be honoured; bogus ones are the client's
	 * problem to clamp, and no hold is counted against it. */
	if (parse_i64(reset, &ms) < 0 || ms < 1 || ms > 15 * 60 * 1000)
		return;
	pthread_mutex_lock(&s->mu);
	bucket_get(s, key)->hold_until = mw_mono_ms() + ms;
	pthread_mutex_unlock(&s->mu);
}

/* ---- replies ------------------------------------------------------------- */

enum send_mode {
	SEND_NORMAL, SEND_TRUNCATE, SEND_SLOW, SEND_RESET,
	SEND_CHUNKCUT,            /* chunked, half the body, then the connection closes */
	SEND_BIG,                 /* a page padded to big_bytes, generated as it goes */
	SEND_HANG                 /* no status line, no headers, until the client leaves */
};

struct reply {
	int status;
	mw_buf body;
	const char *ctype;
	enum send_mode mode;
	int64_t slow_bytes;
	int64_t big_bytes;        /* SEND_BIG: the whole body's size */
	size_t big_split;         /* SEND_BIG: where in body the padding goes */
	int big_length;           /* SEND_BIG: announce it in Content-Length */
	char location[256];       /* 3xx: Location header */
	const char *allow;        /* 405: Allow header */
	int no_ratelimit;         /* gateway429: no X-RateLimit-* headers */
	char retry_after[48];     /* gateway429: Retry-After, when set */
	int records;              /* for the request log */
	char siem_token[64];      /* get-siem-logs: mc-siem-token, when set */
	char disposition[160];    /* get-siem-logs: Content-Disposition, when set */
	int logged;               /* a get-logs request: lg goes to /_sim/requests */
	struct reqlog lg;
};

static void fail_body(mw_buf *b, int meta_status, const char *code, const char *message,
		      int retryable, const char *field)
{
	mw_buf_reset(b);
	mw_buf_printf(b, "{\"meta\":{\"status\":%d},\"data\":[],\"fail\":[{\"errors\":[{\"code\":",
		      meta_status);
	put_jstr(b, code);
	LIT(b, ",\"message\":");
	put_jstr(b, message);
	if (field) {
		LIT(b, ",\"field\":");
		put_jstr(b, field);
	}
	if (retryable)
		LIT(b, ",\"retryable\":true}]}]}");
	else
		LIT(b, ",\"retryable\":false}]}]}");
}

static void reply_fail(struct reply *r, int http, const char *code, const char *message,
		       int retryable)
{
	r->status = http;
	fail_body(&r->body, http, code, message, retryable, NULL);
}

/* API 2.0's flat error: fail[] items are {code, message} themselves, as in
 * the token_expired answer peers handle [SPLUNK-TA-UTILS] [AZ-V2-UTILS]. */
static void reply_fail_v2(struct reply *r, int http, const char *code, const char *message)
{
	r->status = http;
	mw_buf_reset(&r->body);
	mw_buf_printf(&r->body, "{\"meta\":{\"status\":%d},\"data\":[],\"fail\":[{\"code\":",
		      http);
	put_jstr(&r->body, code);
	LIT(&r->body, ",\"message\":");
	put_jstr(&r->body, message);
	LIT(&r->body, "}]}");
}

/* Streams a body for the truncate, slow and reset faults. */
struct stream {
	struct sim *s;
	char *data;
	size_t len, off;
	enum send_mode mode;
	int64_t bytes_per_s;
	int64_t next_ms;
	int fd;
	size_t split;             /* SEND_BIG: data is prefix[0..split) + suffix */
	uint64_t total;           /* SEND_BIG: bytes the body has in all */
};

/* SEND_BIG: prefix, then 'x' padding inside a string, then the suffix, made
 * chunk by chunk so a 1 GiB body costs no memory. */
static ssize_t big_read(struct stream *st, uint64_t pos, char *buf, size_t max)
{
	uint64_t suffix_at = st->total - (st->len - st->split);
	size_t n = 0;

	if (pos >= st->total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (st->s->stopping)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	while (n < max && pos < st->total) {
		size_t k;

		if (pos < st->split) {
			k = st->split - (size_t)pos;
			k = k < max - n ? k : max - n;
			memcpy(buf + n, st->data + pos, k);
		} else if (pos < suffix_at) {
			uint64_t left = suffix_at - pos;

			k = left < max - n ? (size_t)left : max - n;
			memset(buf + n, 'x', k);
		} else {
			size_t off = st->split + (size_t)(pos - suffix_at);

			k = st->len - off;
			k = k < max - n ? k : max - n;
			memcpy(buf + n, st->data + off, k);
		}
		n += k;
		pos += k;
	}
	return (ssize_t)n;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	size_t n;

	if (st->mode == SEND_BIG)
		return big_read(st, pos, buf, max);
	if (st->mode == SEND_TRUNCATE || st->mode == SEND_RESET || st->mode == SEND_CHUNKCUT) {
		size_t cut = st->mode == SEND_TRUNCATE ? st->len : st->len / 2;

		if (st->off >= cut) {
			if (st->mode == SEND_RESET && st->fd >= 0) {
				/* MHD shuts down with a FIN before closing; disconnecting
				 * the socket first (connect to AF_UNSPEC) aborts it with
				 * an RST, which is what a reset must look like. */
				struct sockaddr sa = { .sa_family = AF_UNSPEC };

				connect(st->fd, &sa, sizeof(sa));
			}
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		n = cut - st->off < max ? cut - st->off : max;
	} else {
		if (st->off >= st->len)
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* Thread per connection: sleeping here holds only this client. */
		while (mw_mono_ms() < st->next_ms) {
			if (st->s->stopping)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			int64_t left = st->next_ms - mw_mono_ms();

			mw_sleep_ms(left > 50 ? 50 : left);
		}
		n = st->len - st->off;
		if ((int64_t)n > st->bytes_per_s)
			n = (size_t)st->bytes_per_s;
		if (n > max)
			n = max;
		st->next_ms = mw_mono_ms() + (int64_t)n * 1000 / st->bytes_per_s;
	}
	memcpy(buf, st->data + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *st = cls;

	free(st->data);
	free(st);
}

static void http_date(int64_t epoch, char out[40])
{
	static const char *const wd[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char d[25];
	int64_t days = epoch / 86400;

	sim_records_format_date(epoch, d); /* YYYY-MM-DDTHH:MM:SS+0000 */
	snprintf(out, 40, "%s, %.2s %s %.4s %.8s GMT", wd[((days % 7) + 7) % 7], d + 8,
		 mon[(d[5] - '0') * 10 + (d[6] - '0') - 1], d, d + 11);
}

static enum MHD_Result send_reply(struct sim *s, struct MHD_Connection *conn,
				  struct reply *r, const struct rl_view *rl)
{
	struct MHD_Response *resp;
	char date[40], num[32];
	enum MHD_Result ret;

	if (r->mode == SEND_NORMAL) {
		size_t len = r->body.len;
		char *data = r->body.data;

		mw_buf_init(&r->body); /* ownership passes to MHD */
		resp = MHD_create_response_from_buffer(len, data ? data : (char *)"",
						       data ? MHD_RESPMEM_MUST_FREE :
							      MHD_RESPMEM_PERSISTENT);
	} else {
		struct stream *st = mw_xcalloc(1, sizeof(*st));
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		uint64_t total = r->body.len;

		st->s = s;
		st->len = r->body.len;
		st->data = r->body.data ? r->body.data : mw_xstrdup("");
		mw_buf_init(&r->body);
		st->mode = r->mode;
		st->bytes_per_s = r->slow_bytes > 0 ? r->slow_bytes : 100;
		st->fd = ci ? ci->connect_fd : -1;
		if (r->mode == SEND_TRUNCATE)
			total += 4096; /* announce more than will come */
		if (r->mode == SEND_BIG) {
			/* r->body is the page split in two at the padding point */
			st->split = r->big_split;
			st->total = (uint64_t)r->big_bytes;
			total = r->big_length ? st->total : MHD_SIZE_UNKNOWN;
		}
		if (r->mode == SEND_CHUNKCUT)
			total = MHD_SIZE_UNKNOWN; /* chunked: the cut leaves no last chunk */
		resp = MHD_create_response_from_callback(total, 65536, stream_read, st,
							 stream_free);
	}
	if (!resp)
		return MHD_NO;
	http_date(mw_now(), date);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_DATE, date);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->ctype ? r->ctype : "application/json");
	if (r->allow)
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->retry_after[0])
		MHD_add_response_header(resp, "Retry-After", r->retry_after);
	if (r->siem_token[0])
		MHD_add_response_header(resp, "mc-siem-token", r->siem_token);
	if (r->disposition[0])
		MHD_add_response_header(resp, "Content-Disposition", r->disposition);
	if (r->no_ratelimit) {
		/* the API 2.0 gateway's throttle sends none (elastic/integrations#11460) */
	} else if (rl && rl->have) {
		snprintf(num, sizeof(num), "%lld", (long long)rl->limit);
		MHD_add_response_header(resp, "X-RateLimit-Limit", num);
		snprintf(num, sizeof(num), "%lld", (long long)rl->remaining);
		MHD_add_response_header(resp, "X-RateLimit-Remaining", num);
		if (rl->faulted) {
			/* MHD refuses an empty value; a lone space reads as empty
			 * once the client trims the field, as HTTP says it must. */
			MHD_add_response_header(resp, "X-RateLimit-Reset",
						rl->reset_text[0] ? rl->reset_text : " ");
		} else {
			snprintf(num, sizeof(num), "%lld", (long long)rl->reset_ms);
			MHD_add_response_header(resp, "X-RateLimit-Reset", num);
		}
	} else {
		/* Unmetered paths still carry the headers, with a full bucket. */
		snprintf(num, sizeof(num), "%d", s->o.rate_limit);
		MHD_add_response_header(resp, "X-RateLimit-Limit", num);
		MHD_add_response_header(resp, "X-RateLimit-Remaining", num);
		snprintf(num, sizeof(num), "%d", s->o.refill_ms);
		MHD_add_response_header(resp, "X-RateLimit-Reset", num);
	}
	ret = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- the control endpoint ------------------------------------------------- */

int64_t sim_visible_records(struct sim *s, const char *type)
{
	int t = sim_records_type_from_name(type);

	if (t < 0)
		return -1;
	return sim_records_visible_count(&s->rs, t, mw_now_ms() * 1000);
}

void sim_stats_json(struct sim *s, mw_buf *out)
{
	int first = 1;

	pthread_mutex_lock(&s->mu);
	LIT(out, "{\"requests\":{");
	for (int p = 0; p < P_COUNT; p++) {
		if (!first)
			mw_buf_putc(out, ',');
		first = 0;
		mw_buf_printf(out, "\"%s\":%lld", path_names[p], (long long)s->path_count[p]);
	}
	LIT(out, "},\"status\":{");
	first = 1;
	for (int c = 0; c < 600; c++) {
		if (!s->status_count[c])
			continue;
		if (!first)
			mw_buf_putc(out, ',');
		first = 0;
		mw_buf_printf(out, "\"%d\":%lld", c, (long long)s->status_count[c]);
	}
	/* Per path as well, so a test can count e.g. the 429s one log type got. */
	LIT(out, "},\"status_by_path\":{");
	for (int p = 0; p < P_COUNT; p++) {
		int f1 = 1;

		mw_buf_printf(out, "%s\"%s\":{", p ? "," : "", path_names[p]);
		for (int c = 0; c < 600; c++) {
			if (!s->path_status[p][c])
				continue;
			mw_buf_printf(out, "%s\"%d\":%lld", f1 ? "" : ",", c,
				      (long long)s->path_status[p][c]);
			f1 = 0;
		}
		mw_buf_putc(out, '}');
	}
	mw_buf_printf(out, "},\"early_requests\":%lld,\"signature_failures\":%lld,"
		      "\"empty_end_pages\":%lld,\"empty_end_followed\":%lld,"
		      "\"loop_pages\":%lld,\"sticky\":%d,",
		      (long long)s->early, (long long)s->sig_failures,
		      (long long)s->empty_end_pages, (long long)s->empty_end_followed,
		      (long long)s->loop_pages, s->nsticky);
	LIT(out, "\"faults\":[");
	for (int i = 0; i < s->nfaults; i++) {
		mw_buf_printf(out, "%s{\"kind\":\"%s\",\"seen\":%lld,\"fired\":%lld", i ? "," : "",
			      fault_names[s->faults[i].kind], (long long)s->faults[i].seen,
			      (long long)s->faults[i].fired);
		if (s->faults[i].kind == F_GATEWAY429)
			mw_buf_printf(out, ",\"holds\":%lld", (long long)s->faults[i].holds);
		mw_buf_putc(out, '}');
	}
	pthread_mutex_unlock(&s->mu);
	LIT(out, "],\"records\":{");
	for (int t = 0; t < SIM_NTYPES; t++)
		mw_buf_printf(out, "%s\"%s\":%lld", t ? "," : "", sim_records_type_name(t),
			      (long long)sim_records_visible_count(&s->rs, t, mw_now_ms() * 1000));
	mw_buf_putc(out, '}');
	if (s->siem) {
		int64_t made, total, bytes;

		/* how far the files of --siem-events are made ahead (siem.h) */
		siem_volume_progress(s->siem, &made, &total, &bytes);
		mw_buf_printf(out, ",\"siem_files\":{\"made\":%lld,\"total\":%lld,"
			      "\"gzip_bytes\":%lld}", (long long)made, (long long)total,
			      (long long)bytes);
	}
	mw_buf_printf(out, ",\"now\":%lld}\n", (long long)mw_now());
}

int sim_set_faults(struct sim *s, const char *text, mw_err *e)
{
	struct fault f[SIM_MAX_FAULTS];
	int n = 0;
	const char *p = text ? text : "";

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[512];

		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		while (len && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		if (len) {
			if (len >= sizeof(line)) {
				mw_err_set(e, "fault line %d: too long", n + 1);
				return -1;
			}
			if (n == SIM_MAX_FAULTS) {
				mw_err_set(e, "more than %d faults", SIM_MAX_FAULTS);
				return -1;
			}
			memcpy(line, p, len);
			line[len] = '\0';
			if (fault_parse(line, &f[n], e) < 0)
				return -1;
			n++;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	pthread_mutex_lock(&s->mu);
	memcpy(s->faults, f, sizeof(f[0]) * (size_t)n);
	s->nfaults = n;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

struct ndjson_stream {
	struct sim *s;
	int type;
	int64_t i, end, now_us;
	mw_buf buf;
	size_t off;
};

static ssize_t ndjson_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct ndjson_stream *st = cls;
	size_t n;

	(void)pos;
	if (st->off == st->buf.len) {
		mw_buf_reset(&st->buf);
		st->off = 0;
		while (st->i < st->end && st->buf.len < 65536) {
			if (sim_records_visible(&st->s->rs, st->type, st->i, st->now_us)) {
				sim_records_append(&st->buf, &st->s->rs, st->type, st->i);
				mw_buf_putc(&st->buf, '\n');
			}
			st->i++;
		}
		if (st->buf.len == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = st->buf.len - st->off < max ? st->buf.len - st->off : max;
	memcpy(out, st->buf.data + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

static void ndjson_free(void *cls)
{
	struct ndjson_stream *st = cls;

	mw_buf_free(&st->buf);
	free(st);
}

/* MHD hands out a struct sockaddr *; copying it into a sockaddr_storage
 * gives the family-specific views their own alignment. */
static int copy_addr(const struct sockaddr *sa, struct sockaddr_storage *ss)
{
	if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return 0;
	memcpy(ss, sa, sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
						 : sizeof(struct sockaddr_in6));
	return sa->sa_family;
}

static int is_loopback(const struct sockaddr *sa)
{
	struct sockaddr_storage ss;

	switch (copy_addr(sa, &ss)) {
	case AF_INET:
		return (ntohl(((const struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6: {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(a))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	}
	return 0;
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct sockaddr_storage ss;

	snprintf(out, n, "unknown");
	switch (copy_addr(ci ? ci->client_addr : NULL, &ss)) {
	case AF_INET:
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)n);
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&ss)->sin6_addr, out,
			  (socklen_t)n);
		break;
	}
}

static enum MHD_Result handle_control(struct sim *s, struct MHD_Connection *conn,
				      const char *url, const char *method, mw_buf *body)
{
	struct reply r = { .status = 200 };
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	enum MHD_Result ret;

	mw_buf_init(&r.body);
	if (!is_loopback(ci ? ci->client_addr : NULL)) {
		reply_fail(&r, 403, "err_sim_control_forbidden",
			   "the control endpoint answers loopback clients only", 0);
	} else if (strcmp(url, "/_sim/stats") == 0 && strcmp(method, "GET") == 0) {
		sim_stats_json(s, &r.body);
	} else if (strcmp(url, "/_sim/siem") == 0 && strcmp(method, "GET") == 0) {
		siem_truth(s, &r.body);
	} else if (strcmp(url, "/_sim/siem1") == 0 && strcmp(method, "GET") == 0) {
		siem1_truth(s->siem, s->o.seed, mw_now(), siem_noday(s), &r.body);
	} else if (strcmp(url, "/_sim/faults") == 0 && strcmp(method, "POST") == 0) {
		mw_err e;

		if (sim_set_faults(s, body->data ? body->data : "", &e) < 0) {
			reply_fail(&r, 400, "err_sim_bad_fault", e.msg, 0);
		} else {
			pthread_mutex_lock(&s->mu);
			mw_buf_printf(&r.body, "{\"ok\":true,\"faults\":%d}\n", s->nfaults);
			pthread_mutex_unlock(&s->mu);
		}
	} else if (strcmp(url, "/_sim/requests") == 0 && strcmp(method, "GET") == 0) {
		/* the last REQLOG_CAP get-logs requests, oldest first */
		pthread_mutex_lock(&s->mu);
		for (int64_t k = s->reqlog_n > REQLOG_CAP ? s->reqlog_n - REQLOG_CAP : 0;
		     k < s->reqlog_n; k++) {
			const struct reqlog *l = &s->reqlog[k % REQLOG_CAP];

			mw_buf_printf(&r.body, "{\"n\":%lld,\"type\":\"%s\",\"status\":%d,"
				      "\"from\":%lld,\"to\":%lld,\"pageSize\":%d,\"token\":%s,"
				      "\"loop\":%d,\"records\":%d}\n", (long long)k,
				      sim_records_type_name(l->type), l->status, (long long)l->from,
				      (long long)l->to, l->page_size, l->token ? "true" : "false",
				      l->loop, l->records);
		}
		pthread_mutex_unlock(&s->mu);
		r.ctype = "application/x-ndjson";
	} else if (strcmp(url, "/_sim/records") == 0 && strcmp(method, "GET") == 0) {
		const char *tn = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "type");
		int t = sim_records_type_from_name(tn);

		if (t < 0) {
			reply_fail(&r, 400, "err_sim_bad_type",
				   "type=url, impersonation, attachment, audit or dlp is required", 0);
		} else {
			struct ndjson_stream *st = mw_xcalloc(1, sizeof(*st));
			struct MHD_Response *resp;
			char date[40];

			st->s = s;
			st->type = t;
			st->now_us = mw_now_ms() * 1000;
			st->end = sim_records_end(&s->rs, t, st->now_us);
			mw_buf_init(&st->buf);
			resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536, ndjson_read,
								 st, ndjson_free);
			if (!resp)
				return MHD_NO;
			http_date(mw_now(), date);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_DATE, date);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
						"application/x-ndjson");
			ret = MHD_queue_response(conn, 200, resp);
			MHD_destroy_response(resp);
			return ret;
		}
	} else {
		reply_fail(&r, 404, "err_sim_not_found",
			   "control endpoints: GET /_sim/stats, POST /_sim/faults, "
			   "GET /_sim/records?type=TYPE, GET /_sim/requests", 0);
	}
	ret = send_reply(s, conn, &r, NULL);
	mw_buf_free(&r.body);
	return ret;
}

/* ---- request bodies ------------------------------------------------------ */

static json_object *parse_json(const char *p, size_t n)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, p, (int)n);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  json_tokener_get_parse_end(tok) != n)) {
		/* trailing bytes after the value: refuse, as a strict server does */
		size_t end = json_tokener_get_parse_end(tok);

		while (end < n && isspace((unsigned char)p[end]))
			end++;
		if (end != n) {
			json_object_put(o);
			o = NULL;
		}
	} else if (!o) {
		/* an incomplete value: json-c waits for more */
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

struct bad_request {
	char code[64];
	char message[256];
	char field[32];
};

static int bad(struct bad_request *br, const char *code, const char *field, const char *msg)
{
	snprintf(br->code, sizeof(br->code), "%s", code);
	snprintf(br->field, sizeof(br->field), "%s", field ? field : "");
	snprintf(br->message, sizeof(br->message), "%s", msg);
	return -1;
}

/* Fills c from a get-logs body. -1 with br for a 400. The filters are
 * those of [MC-URL] [MC-IMP] [MC-ATT]; the 400 answers to malformed input
 * are the sim's own (their codes are not public; the err_validation_
 * prefix is real [R7-CONST]), as mimewatch-sim(1) says. */
static int parse_logs_request(const struct sim *s, int type, const mw_buf *body,
			      struct cursor *c, int *has_token, struct bad_request *br)
{
	json_object *root = NULL, *meta, *pag, *v, *data, *d0 = NULL;
	int64_t now = mw_now();
	int page_size = 0, rc = -1;

	memset(c, 0, sizeof(*c));
	c->type = type;
	c->f.route = SIM_ANY;
	c->f.tagged = SIM_ANY;
	c->from = now - now % 86400; /* Mimecast's default: start of the day */
	c->to = now;
	*has_token = 0;
	if (body->len) {
		root = parse_json(body->data, body->len);
		if (!root || !json_object_is_type(root, json_type_object)) {
			bad(br, "err_validation_invalid_json", NULL,
			    "The request body is not a valid JSON object");
			goto out;
		}
	}
	if (root && json_object_object_get_ex(root, "meta", &meta) &&
	    json_object_object_get_ex(meta, "pagination", &pag)) {
		/* Documented range 1..100; 500 is accepted without an error and
		 * answered with fewer records (elastic/integrations#4921), so a
		 * larger value is capped. What the service does with 0, a negative
		 * or a non-number is not public: the sim takes the default then. */
		if (json_object_object_get_ex(pag, "pageSize", &v) &&
		    json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 1)
			page_size = json_object_get_int64(v) > MAX_PAGE ? MAX_PAGE :
				    (int)json_object_get_int64(v);
		if (json_object_object_get_ex(pag, "pageToken", &v) &&
		    !json_object_is_type(v, json_type_null)) {
			const char *t = json_object_get_string(v);

			if (!json_object_is_type(v, json_type_string) ||
			    (*t && token_decode(s, t, type, c) < 0)) {
				bad(br, "err_validation_invalid_page_token", "pageToken",
				    "The page token is invalid or was altered");
				goto out;
			}
			*has_token = *t != '\0';
		}
	}
	if (!*has_token && root && json_object_object_get_ex(root, "data", &data)) {
		if (!json_object_is_type(data, json_type_array)) {
			bad(br, "err_validation_invalid_type", "data", "data must be an array");
			goto out;
		}
		if (json_object_array_length(data) > 0) {
			d0 = json_object_array_get_idx(data, 0);
			if (!json_object_is_type(d0, json_type_object)) {
				bad(br, "err_validation_invalid_type", "data",
				    "data[0] must be an object");
				goto out;
			}
		}
	}
	if (d0) {
		/* from/to [MC-URL] [MC-DLP]; audit's startDateTime/endDateTime
		 * [MC-AUDIT]: the table's keys */
		const struct mw_logtype *lt = sim_records_logtype(type);
		const char *const dates[2] = { lt->from_key, lt->to_key };

		for (int k = 0; k < 2; k++) {
			int64_t *dst = k ? &c->to : &c->from;

			if (!json_object_object_get_ex(d0, dates[k], &v))
				continue;
			const char *t = json_object_get_string(v);

			if (!json_object_is_type(v, json_type_string) ||
			    mw_parse_mc_date(t, strlen(t), dst) < 0) {
				bad(br, "err_validation_invalid_date", dates[k],
				    "Dates must look like 2015-11-16T14:49:18+0000");
				goto out;
			}
		}
		/* audit documents no oldestFirst: its pages come newest first
		 * [ELA-AUD-HJ] [ELA-MOCK], and the key is left unread */
		if (!lt->newest_first && json_object_object_get_ex(d0, "oldestFirst", &v)) {
			if (!json_object_is_type(v, json_type_boolean)) {
				bad(br, "err_validation_invalid_type", "oldestFirst",
				    "oldestFirst must be true or false");
				goto out;
			}
			c->oldest = json_object_get_boolean(v);
		}
		if ((type == SIM_URL || type == SIM_ATTACHMENT) &&
		    json_object_object_get_ex(d0, "route", &v)) {
			static const char *const rn[] = { "inbound", "outbound", "internal" };
			const char *t = json_object_get_string(v);
			int r = -2;

			for (int k = 0; k < 3; k++)
				if (json_object_is_type(v, json_type_string) && strcmp(t, rn[k]) == 0)
					r = k;
			if (json_object_is_type(v, json_type_string) && strcmp(t, "all") == 0)
				r = SIM_ANY;
			if (r == -2) {
				bad(br, "err_validation_invalid_value", "route",
				    "route must be inbound, outbound, internal or all");
				goto out;
			}
			c->f.route = r;
		}
		const char *vkey = type == SIM_URL ? "scanResult" :
				   type == SIM_ATTACHMENT ? "result" : NULL;

		if (vkey && json_object_object_get_ex(d0, vkey, &v)) {
			const char *t = json_object_get_string(v);
			/* url: clean, malicious [MC-URL] via [R7-HELP]; attachment: the
			 * docs' clean, unknown, timeout plus safe, malicious, error,
			 * unsafe from [XSOAR-README] (the exact list is UNCONFIRMED). */
			size_t lo = 0, hi = type == SIM_URL ? 2 : NELEM(verdicts);
			int ok = 0;

			if (json_object_is_type(v, json_type_string)) {
				if (strcmp(t, "all") == 0)
					ok = 1;
				for (size_t k = lo; k < hi; k++)
					if (strcmp(t, verdicts[k]) == 0) {
						c->f.verdict = verdicts[k];
						ok = 1;
					}
			}
			if (!ok) {
				bad(br, "err_validation_invalid_value", vkey,
				    type == SIM_URL ? "scanResult must be clean, malicious or all" :
				    "result must be safe, malicious, timeout, unknown, error, "
				    "unsafe, clean or all");
				goto out;
			}
		}
		if (type == SIM_IMPERSONATION && json_object_object_get_ex(d0, "taggedMalicious", &v)) {
			if (!json_object_is_type(v, json_type_boolean)) {
				bad(br, "err_validation_invalid_type", "taggedMalicious",
				    "taggedMalicious must be true or false");
				goto out;
			}
			c->f.tagged = json_object_get_boolean(v);
		}
	}
	if (page_size)
		c->page_size = page_size;
	else if (!*has_token)
		c->page_size = MAX_PAGE;
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

/* ---- the get-logs function ------------------------------------------------ */

static int64_t result_count(const struct sim *s, const struct cursor *c, int64_t lo,
			    int64_t hi, int64_t now_us)
{
	int64_t n = 0;

	if (c->f.tagged == SIM_ANY && c->f.route == SIM_ANY && !c->f.verdict) {
		n = hi > lo ? hi - lo : 0;
		if (s->rs.late_fraction > 0) {
			int64_t i = sim_records_first_at(&s->rs, c->type,
							 now_us - s->rs.late_delay_us + 1);

			for (i = i > lo ? i : lo; i < hi; i++)
				n -= !sim_records_visible(&s->rs, c->type, i, now_us);
		}
		return n;
	}
	for (int64_t i = lo, k = 0; i < hi && k < SCAN_LIMIT; i++, k++)
		n += sim_records_match(&s->rs, c->type, i, &c->f) &&
		     sim_records_visible(&s->rs, c->type, i, now_us);
	return n;
}

/* The records of [lo, hi) the window of c covers, as visible at now_us. */
static void window_bounds(const struct sim *s, const struct cursor *c, int64_t now_us,
			  int64_t *lo, int64_t *hi)
{
	if (c->to < c->from) {
		*lo = *hi = 0;
		return;
	}
	*lo = sim_records_first_at(&s->rs, c->type, c->from * 1000000);
	*hi = sim_records_first_at(&s->rs, c->type, (c->to + 1) * 1000000);
	int64_t vis = sim_records_end(&s->rs, c->type, now_us);

	if (*hi > vis)
		*hi = vis;
	if (*hi < *lo)
		*hi = *lo;
}

/* A page without records (emptynext, emptyend). flat: "data":[] as in the
 * public fixture {"meta":{"status":200,"pagination":{"pageSize":0,
 * "totalCount":0,"next":"next"}},"data":[],"fail":[]} [ELA-URL-TEST]
 * [ELA-AP-TEST]; nested: the type's records array, empty [ELA-MOCK]. */
static void empty_page(const struct cursor *c, int shape, int total_mode, int64_t total_n,
		       int64_t real_total, int64_t result_count, const char *next_tok,
		       struct reply *r)
{
	mw_buf *b = &r->body;

	mw_buf_reset(b);
	LIT(b, "{\"meta\":{\"status\":200,\"pagination\":{\"pageSize\":0");
	if (total_mode != TOTAL_NONE && sim_records_array_key(c->type))
		mw_buf_printf(b, ",\"totalCount\":%lld",
			      (long long)(total_mode == TOTAL_REAL ? real_total :
					  total_mode == TOTAL_FIXED ? total_n :
					  real_total + total_n));
	if (next_tok)
		mw_buf_printf(b, ",\"next\":\"%s\"", next_tok);
	LIT(b, "}},\"data\":[");
	if (shape == SHAPE_NESTED && sim_records_array_key(c->type)) {
		LIT(b, "{\"");
		mw_buf_puts(b, sim_records_array_key(c->type));
		LIT(b, "\":[]");
		if (c->type == SIM_IMPERSONATION)
			mw_buf_printf(b, ",\"resultCount\":%lld", (long long)result_count);
		mw_buf_putc(b, '}');
	}
	LIT(b, "],\"fail\":[]}");
	r->records = 0;
}

static int emptyend_pick(struct sim *s, unsigned bit, struct fault *out);

/* The sticky records of a type (timeshift sticky=1), copied under the lock. */
static int sticky_of(struct sim *s, int type, struct sticky *out)
{
	int n = 0;

	pthread_mutex_lock(&s->mu);
	for (int k = 0; k < s->nsticky; k++)
		if (s->sticky[k].type == type)
			out[n++] = s->sticky[k];
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void sticky_add(struct sim *s, int type, int64_t index, int64_t shift)
{
	pthread_mutex_lock(&s->mu);
	if (s->nsticky < MAX_STICKY)
		s->sticky[s->nsticky++] = (struct sticky){ type, index, shift };
	pthread_mutex_unlock(&s->mu);
}

/* Writes one page for cursor c. f: the fault picked for this request (kind
 * F_COUNT when none): emptynext makes the page empty but carrying next;
 * timeshift and baddate change time fields; nextloop and repeatpages make
 * next go round. bit: the request type, for emptyend, which is decided only
 * once the page turns out to end the window. */
static void logs_page(struct sim *s, struct cursor *c, int has_token, const struct fault *f,
		      unsigned bit, struct reply *r)
{
	int64_t now_us = mw_now_ms() * 1000;
	int64_t lo, hi, i, scanned = 0, start, lim;
	int n = 0, nout = 0, more, force_next = 0, nst;
	mw_buf *b = &r->body;
	char tok[TOKEN_CHARS];
	struct fault ee;
	struct sticky st[MAX_STICKY];
	struct cursor nc;

	window_bounds(s, c, now_us, &lo, &hi);
	if (c->end_depth) {
		/* A token past the window's end (emptyend): another empty page
		 * of the same shape, next again when asked; following next from
		 * an empty page is counted, as a client must never do it. */
		struct cursor ec = *c;

		pthread_mutex_lock(&s->mu);
		if (c->end_depth == 1)
			s->empty_end_pages++;
		else
			s->empty_end_followed++;
		pthread_mutex_unlock(&s->mu);
		ec.end_depth = c->end_depth + 1;
		if (c->end_next)
			token_encode(s, &ec, tok);
		empty_page(c, c->end_shape, c->end_total_mode, c->end_total_n, hi - lo, 0,
			   c->end_next ? tok : NULL, r);
		return;
	}
	if (f->kind == F_EMPTYNEXT) {
		/* emptynext: no records, and a next that resumes where this page
		 * would have started. */
		if (c->oldest)
			c->pos = has_token && c->pos > lo ? c->pos : lo;
		else
			c->pos = has_token && c->pos < hi ? c->pos : hi;
		token_encode(s, c, tok);
		empty_page(c, f->shape, f->total_mode, f->total_n, hi - lo,
			   c->type == SIM_IMPERSONATION ? result_count(s, c, lo, hi, now_us) : 0,
			   tok, r);
		return;
	}
	mw_buf_reset(b);
	mw_buf_reserve(b, (size_t)c->page_size * 1400 + 512);
	LIT(b, "{\"meta\":{\"status\":200,\"pagination\":{\"pageSize\":");
	size_t ps_at = b->len;

	LIT(b, "     ");  /* the count goes here once known */
	size_t next_at = b->len;

	/* audit: a flat data[] of records, meta.pagination without totalCount
	 * [MC-AUDIT] [ELA-MOCK]; the others: data[0].<key>[] [MC-URL] [MC-DLP] */
	const char *akey = sim_records_array_key(c->type);

	if (akey) {
		LIT(b, "}},\"data\":[{\"");
		mw_buf_puts(b, akey);
		LIT(b, "\":[");
	} else {
		LIT(b, "}},\"data\":[");
	}
	/* timeshift sticky=1: records moved earlier come first in every answer */
	nst = sticky_of(s, c->type, st);
	for (int k = 0; k < nst; k++) {
		if (nout++)
			mw_buf_putc(b, ',');
		sim_records_append_at(b, &s->rs, c->type, st[k].index, st[k].shift, NULL);
	}
	/* The page's own records: from start towards lim (a repeating window
	 * stops at the end of what it repeats). */
	if (c->oldest) {
		start = has_token && c->pos > lo ? c->pos : lo;
		lim = c->loop_mode == LOOP_REPEAT && c->loop_last < hi ? c->loop_last : hi;
	} else {
		start = has_token && c->pos < hi ? c->pos : hi;
		lim = c->loop_mode == LOOP_REPEAT && c->loop_last > lo ? c->loop_last : lo;
	}
	for (i = start; (c->oldest ? i < lim : i > lim) && n < c->page_size &&
			scanned < SCAN_LIMIT; scanned++) {
		int64_t at = c->oldest ? i++ : --i;
		int shifted;

		if (!sim_records_match(&s->rs, c->type, at, &c->f) ||
		    !sim_records_visible(&s->rs, c->type, at, now_us))
			continue;
		if (nout++)
			mw_buf_putc(b, ',');
		/* timeshift: the page's first record, or every Nth; baddate: the
		 * first record */
		shifted = f->kind == F_TIMESHIFT &&
			  (f->every ? (n + 1) % f->every == 0 : n == 0);
		if (shifted) {
			sim_records_append_at(b, &s->rs, c->type, at, f->offset, NULL);
			if (f->sticky)
				sticky_add(s, c->type, at, f->offset);
		} else if (f->kind == F_BADDATE && n == 0) {
			sim_records_append_at(b, &s->rs, c->type, at, 0, f->value);
		} else if (f->kind == F_REVISE && at % f->every == 0) {
			sim_records_append_revised(b, &s->rs, c->type, at, (int)f->rev);
		} else {
			sim_records_append(b, &s->rs, c->type, at);
		}
		n++;
	}
	more = c->oldest ? i < hi : i > lo;
	mw_buf_putc(b, ']');
	if (c->type == SIM_IMPERSONATION)
		mw_buf_printf(b, ",\"resultCount\":%lld",
			      (long long)result_count(s, c, lo, hi, now_us));
	if (akey)
		LIT(b, "}]");
	LIT(b, ",\"fail\":[]}");
	r->records = nout;

	/* Pagination that goes round (hostile tenants): a page of a circle
	 * always has a next. */
	nc = *c;
	if (c->loop_mode == LOOP_NEXT) {
		force_next = 1;
		nc.pos = start == c->loop_last ? c->loop_first : i;
	} else if (c->loop_mode == LOOP_REPEAT) {
		force_next = 1;
		nc.pos = (c->oldest ? i >= lim : i <= lim) ? c->loop_first : i;
		nc.loop_serial++;
	} else if (f->kind == F_NEXTLOOP) {
		/* this page and the period - 1 before it, page-size steps back */
		int64_t back = (f->period - 1) * c->page_size;

		force_next = 1;
		nc.loop_mode = LOOP_NEXT;
		nc.loop_last = start;
		if (c->oldest)
			nc.loop_first = start - back > lo ? start - back : lo;
		else
			nc.loop_first = start + back < hi ? start + back : hi;
		nc.pos = nc.loop_first;
	} else if (f->kind == F_REPEATPAGES) {
		/* every further page: the window's records up to here, again */
		force_next = 1;
		nc.loop_mode = LOOP_REPEAT;
		nc.loop_first = c->oldest ? lo : hi;
		nc.loop_last = i;
		nc.loop_serial = 1;
		nc.pos = nc.loop_first;
	}
	if (force_next) {
		pthread_mutex_lock(&s->mu);
		s->loop_pages += c->loop_mode != LOOP_NONE;
		pthread_mutex_unlock(&s->mu);
	}

	int end = !force_next && !more && emptyend_pick(s, bit, &ee);
	struct cursor ec = *c;

	if (end) {
		/* emptyend: the window's last page still carries next, and the
		 * page it leads to is empty [ELA-MOCK] [ELA-URL-TEST]. An empty
		 * answer is itself that empty page (its next is depth 2). */
		ec.pos = i;
		ec.end_depth = nout ? 1 : 2;
		ec.end_shape = ee.shape;
		ec.end_next = ee.next;
		ec.end_total_mode = ee.total_mode;
		ec.end_total_n = ee.total_n;
		if (!n && !nout) {
			pthread_mutex_lock(&s->mu);
			s->empty_end_pages++;
			pthread_mutex_unlock(&s->mu);
			if (ee.next)
				token_encode(s, &ec, tok);
			empty_page(c, ee.shape, ee.total_mode, ee.total_n, hi - lo, 0,
				   ee.next ? tok : NULL, r);
			return;
		}
	}

	/* Patch in the count, the window's total (as Mimecast's totalCount:
	 * every record of the window, not only this page's) and, when more may
	 * follow, the next token ("returned only when there are more results"
	 * [MC-URL]). */
	char num[64];
	int nl = akey ? snprintf(num, sizeof(num), "%d,\"totalCount\":%lld", nout,
				 (long long)(hi - lo))
		      : snprintf(num, sizeof(num), "%d", nout);

	/* The placeholder may be shorter or longer than what replaces it. */
	mw_buf_reserve(b, (size_t)nl);
	memmove(b->data + ps_at + nl, b->data + next_at, b->len - next_at + 1);
	memcpy(b->data + ps_at, num, (size_t)nl);
	b->len = b->len - (next_at - ps_at) + (size_t)nl;
	next_at = ps_at + (size_t)nl;
	if (more || end || force_next) {
		char ins[TOKEN_CHARS + 16];
		int il;

		if (end) {
			token_encode(s, &ec, tok);
		} else if (force_next) {
			token_encode(s, &nc, tok);
		} else {
			c->pos = i;
			token_encode(s, c, tok);
		}
		il = snprintf(ins, sizeof(ins), ",\"next\":\"%s\"", tok);
		mw_buf_reserve(b, (size_t)il);
		memmove(b->data + next_at + il, b->data + next_at, b->len - next_at + 1);
		memcpy(b->data + next_at, ins, (size_t)il);
		b->len += (size_t)il;
	}
}

/* hostile_account: the tenant's own names carry terminal escapes (already
 * JSON-encoded, as the record pools): CSI 2J, an OSC title, CR, BS, U+009B
 * raw (UTF-8) and escaped, a raw 0x9B byte, U+202E, each with a PWNED-...
 * marker. Not Mimecast behaviour: a test of the client's display rules. */
#define HOSTILE_ACCOUNT_NAME \
	"PWNED-ACCT-NAME\\u001b[2J\\u001b[H\\u001b]0;PWNED-ACCT-TITLE\\u0007Simulated\\r" \
	"Tenant\\b\\b\xC2\x9B" "31m\xE2\x80\xAE" "tnaneT"
#define HOSTILE_ACCOUNT_CODE \
	"PWNED-ACCT-CODE\\u001b]2;PWNED-ACCT-TITLE2\\u001b\\\\CUSA00SIM1\\r\\u009b2J\xE2\x80\xAE"
#define HOSTILE_ACCOUNT_REGION "us\\u001b[2JPWNED-ACCT-REGION\\r\\b\x9B" "1m"
#define HOSTILE_ACCOUNT_PACKAGE \
	"PWNED-ACCT-PKG\\u001b[2J\\u001b]0;PWNED-ACCT-TITLE3\\u0007 [9999]\\r\\b\xC2\x9B" \
	"7m\xE2\x80\xAE" "1043"

static void account_body(const struct sim *s, unsigned omit, int hostile, mw_buf *b)
{
	/* audit: no package [MC-AUDIT]; DLP's as get-account lists it
	 * [XSOAR-V2-TEST] (whether the endpoint needs it: UNCONFIRMED) */
	static const char *const pkgs[SIM_NTYPES] = {
		"URL Protection (Site) [1043]", "Impersonation Protection [1060]",
		"Attachment Protection (Pro) [1059]", NULL,
		"Content Control and Data Leak Prevention (Site) [1013]",
	};

	mw_buf_reset(b);
	LIT(b, "{\"meta\":{\"status\":200},\"data\":[{\"accountName\":\"");
	if (hostile)
		LIT(b, HOSTILE_ACCOUNT_NAME "\",\"accountCode\":\"" HOSTILE_ACCOUNT_CODE
		       "\",\"region\":\"" HOSTILE_ACCOUNT_REGION "\",");
	else
		LIT(b, "Simulated Tenant\",\"accountCode\":\"CUSA00SIM1\",\"region\":\"us\",");
	LIT(b, "\"type\":\"full\","
	       "\"databaseCode\":\"ussim1\",\"mimecastId\":\"01-0000-00001\","
	       "\"domain\":\"" SIM_DOMAIN "\",\"adminEmail\":\"admin@" SIM_DOMAIN "\","
	       "\"contactEmail\":\"admin@" SIM_DOMAIN "\",\"contactName\":\"Sim Admin\","
	       "\"supportCode\":\"SIM1\",\"userCount\":12,\"maxRetention\":365,"
	       "\"maxRetentionConfirmed\":true,\"minRetentionEnabled\":false,"
	       "\"automatedSegmentPurge\":true,\"archive\":true,\"gateway\":true,"
	       "\"passphrase\":\"\",\"policyInheritance\":false,\"mailPlatform\":\"office_365\","
	       "\"packages\":[\"Mimecast Email Security Cloud Gateway [1001]\","
	       "\"Enhanced Logging [1061]\"");
	for (int t = 0; t < SIM_NTYPES; t++) {
		if (!pkgs[t] || ((omit | s->o.no_package) & (1u << t)))
			continue;
		LIT(b, ",\"");
		mw_buf_puts(b, pkgs[t]);
		mw_buf_putc(b, '"');
	}
	if (hostile)
		LIT(b, ",\"" HOSTILE_ACCOUNT_PACKAGE "\"");
	LIT(b, ",\"Internal Email Protect [1064]\",\"Threat Remediation [1075]\"]}],"
	       "\"fail\":[]}");
}

/* ---- discover-authentication and the OAuth token ------------------------- */

static void handle_discover(struct sim *s, const mw_buf *body, struct reply *r)
{
	json_object *root = body->len ? parse_json(body->data, body->len) : NULL, *data, *v;
	const char *email = NULL, *at;

	if (root && json_object_object_get_ex(root, "data", &data) &&
	    json_object_is_type(data, json_type_array) && json_object_array_length(data) > 0 &&
	    json_object_object_get_ex(json_object_array_get_idx(data, 0), "emailAddress", &v) &&
	    json_object_is_type(v, json_type_string))
		email = json_object_get_string(v);
	/* A body that is not JSON: the sim's own 400 (not public). */
	if (!root) {
		r->status = 400;
		fail_body(&r->body, 400, "err_validation_invalid_json",
			  "The request body is not a valid JSON object", 0, NULL);
	} else if (!email || !(at = strrchr(email, '@')) || at == email || !at[1]) {
		r->status = 200;
		/* the code exists [R7-CONST]; its use here is the sim's guess */
		fail_body(&r->body, 200, "err_validation_invalid_email_address",
			  "emailAddress is missing or not an email address", 0, "emailAddress");
	} else {
		const char *dom = at + 1;
		size_t dl = strlen(dom), sl = strlen(SIM_DOMAIN);
		int known = strcasecmp(dom, SIM_DOMAIN) == 0 ||
			    (dl > sl && dom[dl - sl - 1] == '.' &&
			     strcasecmp(dom + dl - sl, SIM_DOMAIN) == 0);

		/* known or not: 200, and data[0] without region for an unknown
		 * address [MC-SIEM-SCRIPT] [MC-UIAPPS] */
		r->status = 200;
		mw_buf_reset(&r->body);
		LIT(&r->body, "{\"meta\":{\"status\":200},\"data\":[{");
		if (known) {
			LIT(&r->body, "\"emailAddress\":");
			put_jstr(&r->body, email);
			LIT(&r->body, ",\"region\":{\"api\":");
			pthread_mutex_lock(&s->mu);
			put_jstr(&r->body, s->base_url);
			pthread_mutex_unlock(&s->mu);
			LIT(&r->body, "},\"authenticate\":[\"cloud\"]");
		}
		LIT(&r->body, "}],\"fail\":[]}");
	}
	json_object_put(root);
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* Value of name in an application/x-www-form-urlencoded body, decoded. */
static int form_value(const char *body, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);

	for (const char *p = body; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		if (strncmp(p, name, nl) != 0 || p[nl] != '=')
			continue;
		size_t o = 0;

		for (p += nl + 1; *p && *p != '&' && o + 1 < n; p++) {
			if (*p == '+') {
				out[o++] = ' ';
			} else if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
				out[o++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
				p += 2;
			} else {
				out[o++] = *p;
			}
		}
		out[o] = '\0';
		return 0;
	}
	return -1;
}

static void handle_oauth(struct sim *s, struct MHD_Connection *conn, const mw_buf *body,
			 struct reply *r, struct rl_view *rl)
{
	char id[256] = "", secret[256] = "", grant[64] = "";
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *text = body->data ? body->data : "";

	form_value(text, "client_id", id, sizeof(id));
	form_value(text, "client_secret", secret, sizeof(secret));
	form_value(text, "grant_type", grant, sizeof(grant));
	if (auth && strncasecmp(auth, "Basic ", 6) == 0 && !id[0]) {
		unsigned char *dec = NULL;
		size_t dl;

		if (mw_base64_decode(auth + 6, strlen(auth + 6), &dec, &dl) == 0) {
			char *pair = mw_xstrndup((const char *)dec, dl);
			char *colon = strchr(pair, ':');

			if (colon) {
				*colon = '\0';
				snprintf(id, sizeof(id), "%s", pair);
				snprintf(secret, sizeof(secret), "%s", colon + 1);
			}
			free(pair);
		}
		free(dec);
	}
	r->ctype = "application/json";
	/* The request as peers send it [ELA-URL-CEL] [AZ-V2-UTILS]; the error
	 * answers are OAuth2's own (RFC 6749 5.2), Mimecast's are not public. */
	if (strcmp(grant, "client_credentials") != 0) {
		r->status = 400;
		mw_buf_puts(&r->body, "{\"error\":\"unsupported_grant_type\",\"error_description\":"
				      "\"grant_type must be client_credentials\"}");
		return;
	}
	if (!id[0] || !secret[0]) {
		r->status = 400;
		mw_buf_puts(&r->body, "{\"error\":\"invalid_request\",\"error_description\":"
				      "\"client_id and client_secret are required\"}");
		return;
	}
	if (strcmp(id, SIM_CLIENT_ID) != 0 || strcmp(secret, SIM_CLIENT_SECRET) != 0) {
		r->status = 401;
		pthread_mutex_lock(&s->mu);
		s->sig_failures++;
		pthread_mutex_unlock(&s->mu);
		mw_buf_puts(&r->body, "{\"error\":\"invalid_client\",\"error_description\":"
				      "\"Client authentication failed\"}");
		return;
	}
	/* Whether the token endpoint is metered is not public: the sim draws
	 * from the client's bucket (mimewatch-sim(1) says so). */
	if (!rate_take(s, "client:" SIM_CLIENT_ID, rl)) {
		reply_fail(r, 429, "err_rate_limit_exceeded", "Quota Exceeded", 1);
		return;
	}
	char tok[80];

	access_token_make(s, mw_now() + s->o.token_ttl, tok);
	r->status = 200;
	mw_buf_printf(&r->body, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\","
				"\"expires_in\":%d,\"scope\":\"api\"}", tok, s->o.token_ttl);
}

/* ---- authentication -------------------------------------------------------- */

/* Checks API 1.0 or 2.0 credentials and the rate limit. Returns 1 when the
 * function may run; 0 when r holds the refusal. *bearer: an API 2.0 request. */
static int authenticate(struct sim *s, struct MHD_Connection *conn, const char *path,
			struct reply *r, struct rl_view *rl, char *bucket_key, size_t bkn,
			int *bearer)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *date = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-mc-date");
	const char *reqid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-mc-req-id");
	const char *appid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-mc-app-id");

	*bearer = 0;
	if (auth && strncmp(auth, "Bearer ", 7) == 0) {
		char code[64];

		*bearer = 1;
		snprintf(bucket_key, bkn, "client:%s", SIM_CLIENT_ID);
		if (!rate_take(s, bucket_key, rl)) {
			reply_fail(r, 429, "err_rate_limit_exceeded", "Quota Exceeded", 1);
			return 0;
		}
		switch (access_token_check(s, auth + 7, code)) {
		case TOKEN_OK:
			return 1;
		case TOKEN_REVOKED:
			/* revoked by the token_revoked fault: stays refused */
			reply_fail_v2(r, 401, code, "Unauthorized");
			return 0;
		default:
			/* an expired token: token_expired "Access Token Expired"
			 * [SPLUNK-TA-UTILS]; an unknown one gets the same (its own
			 * code is not public) */
			reply_fail(r, 401, "token_expired", "Access Token Expired", 0);
			return 0;
		}
	}
	if (!auth || !date || !reqid) {
		/* 400 "0001 ..." [MC-RESP]; the code name is not public */
		reply_fail(r, 400, "err_xdk_credentials_missing",
			   "0001 Credentials are missing from the request", 0);
		return 0;
	}
	/* "MC <access key>:<signature>"; the signature has no ':'. */
	const char *colon = strrchr(auth, ':');
	char access[160] = "", sig_sent[64] = "";

	if (strncmp(auth, "MC ", 3) == 0 && colon && colon > auth + 3) {
		snprintf(access, sizeof(access), "%.*s", (int)(colon - auth - 3), auth + 3);
		snprintf(sig_sent, sizeof(sig_sent), "%s", colon + 1);
	}
	snprintf(bucket_key, bkn, "access:%s", access);
	if (!rate_take(s, bucket_key, rl)) {
		reply_fail(r, 429, "err_rate_limit_exceeded", "Quota Exceeded", 1);
		return 0;
	}
	if (!appid || strcmp(appid, SIM_APP_ID) != 0) {
		char msg[200];

		snprintf(msg, sizeof(msg), "App ID is invalid: %.120s", appid ? appid : "");
		r->status = 200;
		/* HTTP 200 with fail[] [J1-REC-APPID] */
		fail_body(&r->body, 200, "err_developer_key", msg, 0, NULL);
		return 0;
	}
	char sig[64];
	int ok = strcmp(access, SIM_ACCESS_KEY) == 0 &&
		 mcsign_signature(date, reqid, path, SIM_APP_KEY, SIM_SECRET_KEY, sig,
				  sizeof(sig)) == 0 &&
		 strlen(sig) == strlen(sig_sent) &&
		 CRYPTO_memcmp(sig, sig_sent, strlen(sig)) == 0;
	int64_t when;

	/* wrong keys or a wrongly signed string: 401 [J1-REC-APPKEY]
	 * [J1-REC-ACCESS] [J1-REC-SECRET] */
	if (!ok || mw_parse_http_date(date, &when) < 0) {
		pthread_mutex_lock(&s->mu);
		s->sig_failures++;
		pthread_mutex_unlock(&s->mu);
		reply_fail(r, 401, "err_xdk_invalid_signature", "0004 Invalid Signature", 0);
		return 0;
	}
	/* --date-window: the skew Mimecast tolerates is UNCONFIRMED
	 * (HACKING, "Not known"), so no window unless one is asked for. */
	if (s->o.date_window > 0 && llabs((long long)(when - mw_now())) > s->o.date_window) {
		reply_fail(r, 401, "err_xdk_invalid_signature",
			   "0004 Invalid Signature (request date outside the allowed window)", 0);
		return 0;
	}
	/* --reject-reused-req-id: whether a reused id is refused is
	 * UNCONFIRMED (HACKING, "Not known"). */
	int seen = 0;

	if (s->o.reject_reused_req_id) {
		pthread_mutex_lock(&s->mu);
		seen = reqids_seen(&s->ids, reqid, mw_mono_ms());
		pthread_mutex_unlock(&s->mu);
	}
	if (seen) {
		reply_fail(r, 401, "err_xdk_invalid_signature",
			   "0004 Invalid Signature (request id reused)", 0);
		return 0;
	}
	return 1;
}

/* ---- faults at request time --------------------------------------------- */

/* When a fault is looked at: PHASE_GATE before authentication (what a
 * gateway or a hostile front end does), PHASE_FUNC once the call is
 * authenticated. emptyend has its own moment (emptyend_pick). */
enum { PHASE_GATE, PHASE_FUNC };

/* What a request carries, for the faults that look (fault_pick's ctx). */
#define FX_BEARER 1     /* an API 2.0 Bearer token */
#define FX_PAGETOKEN 2  /* a get-logs pageToken */

static int fault_matches(const struct fault *f, unsigned bit, int phase, int ctx)
{
	switch (f->kind) {
	case F_EMPTYEND:
	case F_SIEM_NODAY:      /* a state of the data, not an event (siem_noday) */
		return 0;
	case F_GATEWAY429:
		return phase == PHASE_GATE && bit != SIM_BIT_OAUTH && (f->types & bit);
	case F_ECHO:
		if (phase != PHASE_GATE)
			return 0;
		return f->what ? bit == SIM_BIT_OAUTH : bit != SIM_BIT_OAUTH && (f->types & bit);
	case F_NOPACKAGE:
	case F_HOSTILE_ACCOUNT:
		/* only ever concerns get-account, whichever types it names */
		return phase == PHASE_FUNC && bit == SIM_BIT_ACCOUNT;
	case F_TOKEN_REVOKED:
		return phase == PHASE_FUNC && (ctx & FX_BEARER) && (f->types & bit);
	case F_PAGETOKEN:
		return phase == PHASE_FUNC && (ctx & FX_PAGETOKEN) && (f->types & bit);
	default:
		return phase == PHASE_FUNC && (f->types & bit);
	}
}

/* One more matching request for f: 1 when it fires. Called under s->mu. */
static int fault_fires(struct fault *f)
{
	f->seen++;
	if (f->seen <= f->after || (f->count && f->fired >= f->count))
		return 0;
	f->fired++;
	return 1;
}

/* The fault that fires for this request (copied), or kind F_COUNT. */
static struct fault fault_pick(struct sim *s, unsigned bit, int phase, int ctx)
{
	struct fault none = { .kind = F_COUNT };
	int64_t now = mw_mono_ms();

	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < s->nfaults; i++) {
		struct fault *f = &s->faults[i];

		if (!fault_matches(f, bit, phase, ctx))
			continue;
		if (f->kind == F_GATEWAY429 && now < f->hold_until_ms) {
			/* inside a hold every matching request is refused */
			f->seen++;
			f->fired++;
			none = *f;
			break;
		}
		if (!fault_fires(f))
			continue;
		if (f->kind == F_GATEWAY429) {
			f->hold_until_ms = now + f->hold * 1000;
			f->hold_end = mw_now() + f->hold;
			f->holds++;
		}
		none = *f;
		break;
	}
	pthread_mutex_unlock(&s->mu);
	return none;
}

/* emptyend, asked when a page ends its window: 1 (and *out) when it fires. */
static int emptyend_pick(struct sim *s, unsigned bit, struct fault *out)
{
	int fired = 0;

	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < s->nfaults && !fired; i++) {
		struct fault *f = &s->faults[i];

		if (f->kind == F_EMPTYEND && (f->types & bit) && fault_fires(f)) {
			*out = *f;
			fired = 1;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return fired;
}

/* Applies a fault that replaces the answer. 1 when r is final. */
static int fault_apply(struct sim *s, const struct fault *f, struct MHD_Connection *conn,
		       const mw_buf *body, struct reply *r, struct rl_view *rl,
		       const char *bucket_key)
{
	char msg[200], ip[64];

	switch (f->kind) {
	case F_429:
		/* 429 with X-RateLimit-Reset in ms [MC-RATE]; the body's code is
		 * not public (err_rate_limit_exceeded is the sim's). */
		reply_fail(r, 429, "err_rate_limit_exceeded", "Quota Exceeded", 1);
		rl->faulted = 1;
		snprintf(rl->reset_text, sizeof(rl->reset_text), "%s", f->reset);
		rate_hold(s, bucket_key, f->reset);
		return 1;
	case F_418:
		/* 418 "Binding Expired" [MC-RESP], code err_xdk_binding_expired [R7-CONST] */
		reply_fail(r, 418, "err_xdk_binding_expired", "Binding Expired", 0);
		return 1;
	case F_BINDING_FAIL: {
		/* The same fail[] on any status (200 by default): a client must
		 * recognise the code whatever the HTTP status says [R7-CONST]. */
		r->status = f->status;
		fail_body(&r->body, f->status, "err_xdk_binding_expired", "Binding Expired", 0,
			  NULL);
		return 1;
	}
	case F_401:
		/* [J1-REC-APPKEY] [R7-TEST-UTIL] */
		reply_fail(r, 401, "err_xdk_invalid_signature", "0004 Invalid Signature", 0);
		return 1;
	case F_403:
		/* 403 [MC-RESP]; the code only as a third-party fixture shows it
		 * [ENH-LOG-TEST] (UNCONFIRMED) */
		reply_fail(r, 403, "err_xdk_forbidden", "Forbidden", 0);
		return 1;
	case F_IPDENY:
		/* No public example of this refusal exists (HACKING, "Error
		 * shapes"): status, code and text are the sim's invention,
		 * fault only. */
		client_ip(conn, ip, sizeof(ip));
		snprintf(msg, sizeof(msg), "0018 Source IP %s is not in the permitted IP ranges", ip);
		reply_fail(r, 401, "err_xdk_ip_not_permitted", msg, 0);
		return 1;
	case F_500:
		/* 500 [MC-RESP]; the body is the sim's */
		reply_fail(r, 500, "err_server_error", "Internal Server Error", 1);
		return 1;
	case F_502:
	case F_503:
		/* what a proxy in front of any service sends */
		r->status = f->kind == F_502 ? 502 : 503;
		r->ctype = "text/html";
		mw_buf_reset(&r->body);
		mw_buf_printf(&r->body, "<html><body><h1>%d %s</h1></body></html>\n", r->status,
			      r->status == 502 ? "Bad Gateway" : "Service Unavailable");
		return 1;
	case F_FAILARR:
		/* 200 with fail[] [MC-RESP] [ELA-URL-CEL], elastic/integrations#4921;
		 * the code err_internal is the sim's */
		r->status = 200;
		mw_buf_reset(&r->body);
		mw_buf_puts(&r->body, "{\"meta\":{\"status\":200},\"data\":[],\"fail\":[{\"errors\":"
				      "[{\"code\":\"err_internal\",\"message\":\"Temporary failure\","
				      "\"retryable\":true}],\"key\":{}}]}");
		return 1;
	case F_PAGETOKEN:
		/* A page token the service no longer takes: an expired one, as
		 * after a long outage. What Mimecast answers is not public
		 * (HACKING, "Not known"); the 400 and the code are the sim's own,
		 * as for an altered token. Fault only. */
		reply_fail(r, 400, "err_validation_invalid_page_token",
			   "The page token is invalid or has expired", 0);
		return 1;
	case F_TOKEN_EXPIRED:
		/* [SPLUNK-TA-UTILS] [AZ-V2-UTILS] */
		reply_fail(r, 401, "token_expired", "Access Token Expired", 0);
		return 1;
	case F_TOKEN_REVOKED:
		/* Every token issued so far stops working; the code a revoked
		 * token really gets is not public, so any 401 must be handled. */
		pthread_mutex_lock(&s->mu);
		s->revoked_below = s->token_serial;
		memcpy(s->revoked_code, f->code, sizeof(s->revoked_code));
		pthread_mutex_unlock(&s->mu);
		reply_fail_v2(r, 401, f->code, "Unauthorized");
		return 1;
	case F_GATEWAY429:
		/* The API 2.0 gateway's throttle: this body, no X-RateLimit-*
		 * (elastic/integrations#11460); Retry-After only when asked. */
		r->status = 429;
		mw_buf_reset(&r->body);
		mw_buf_puts(&r->body, "{\"detail\":\"Over throttling limit (10000/hour)\"}");
		r->no_ratelimit = 1;
		if (f->retry_after_date)
			http_date(f->hold_end, r->retry_after);
		else if (f->retry_after >= 0)
			snprintf(r->retry_after, sizeof(r->retry_after), "%lld",
				 (long long)f->retry_after);
		return 1;
	case F_ECHO: {
		/* A hostile server, not Mimecast: the refusal quotes the secret
		 * the client sent, for the secret-scrubbing tests. */
		mw_buf m;

		mw_buf_init(&m);
		r->status = 401;
		if (f->what) {
			mw_buf_puts(&m, "Client authentication failed for request body: ");
			mw_buf_puts(&m, body->data ? body->data : "");
			mw_buf_reset(&r->body);
			LIT(&r->body, "{\"error\":\"invalid_client\",\"error_description\":");
			put_jstr(&r->body, m.data);
			mw_buf_putc(&r->body, '}');
		} else {
			const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								       "Authorization");

			mw_buf_puts(&m, "Unauthorized: Authorization: ");
			mw_buf_puts(&m, auth ? auth : "(none)");
			fail_body(&r->body, 401, "unauthorized", m.data, 0, NULL);
		}
		mw_buf_free(&m);
		return 1;
	}
	case F_REDIRECT:
		r->status = 302;
		r->ctype = "text/html";
		snprintf(r->location, sizeof(r->location), "%s", f->to);
		mw_buf_reset(&r->body);
		mw_buf_puts(&r->body, "<html><body>Moved</body></html>\n");
		return 1;
	case F_HANG:
		r->status = 0;  /* nothing is ever sent */
		r->mode = SEND_HANG;
		return 1;
	case F_BADJSON:
		/* malformed responses: elastic/integrations#5053 */
		r->status = 200;
		mw_buf_reset(&r->body);
		mw_buf_puts(&r->body, "{\"meta\":{\"status\":200,\"pagination\":{\"pageSize\":1}},"
				      "\"data\":[{\"clickLogs\":[{\"date\":\"2024-11-17T17:02:30+0000\","
				      "\"url\":tru,]}");
		return 1;
	default:
		return 0; /* shapes the real answer instead */
	}
}

/* Splices text into the records array of a page: as the first record
 * (whole), or as the first field of the first record (an empty page gets a
 * record of its own). */
static void splice_records(mw_buf *b, int type, const char *ins, size_t inslen, int whole)
{
	char key[64];
	const char *at;
	size_t pos;
	const char *pre, *post;

	if (sim_records_array_key(type))
		snprintf(key, sizeof(key), "\"%s\":[", sim_records_array_key(type));
	else
		snprintf(key, sizeof(key), "\"data\":[");
	at = b->data ? strstr(b->data, key) : NULL;
	if (!at)
		return;
	pos = (size_t)(at - b->data) + strlen(key);
	if (whole) {
		pre = "";
		post = b->data[pos] == ']' ? "" : ",";
	} else if (b->data[pos] == '{') {
		pos++;
		pre = "";
		post = ",";
	} else {
		pre = "{";
		post = b->data[pos] == ']' ? "}" : "},";
	}
	size_t add = strlen(pre) + inslen + strlen(post);

	mw_buf_reserve(b, add);
	memmove(b->data + pos + add, b->data + pos, b->len - pos + 1);
	memcpy(b->data + pos, pre, strlen(pre));
	memcpy(b->data + pos + strlen(pre), ins, inslen);
	memcpy(b->data + pos + strlen(pre) + inslen, post, strlen(post));
	b->len += add;
}

/* The faults that damage a page's content: a record above the size limit,
 * one nested too deep, a malformed one, or a body padded to bigbody's size. */
static void damage_page(const struct fault *f, int type, struct reply *r)
{
	mw_buf ins;

	mw_buf_init(&ins);
	switch (f->kind) {
	case F_BIGRECORD:
		LIT(&ins, "\"pad\":\"");
		mw_buf_reserve(&ins, (size_t)f->bytes + 1);
		memset(ins.data + ins.len, 'x', (size_t)f->bytes);
		ins.len += (size_t)f->bytes;
		ins.data[ins.len] = '\0';
		mw_buf_putc(&ins, '"');
		splice_records(&r->body, type, ins.data, ins.len, 0);
		break;
	case F_DEEPJSON:
		LIT(&ins, "\"deep\":");
		mw_buf_reserve(&ins, (size_t)f->depth * 2 + 1);
		memset(ins.data + ins.len, '[', (size_t)f->depth);
		memset(ins.data + ins.len + f->depth, ']', (size_t)f->depth);
		ins.len += (size_t)f->depth * 2;
		ins.data[ins.len] = '\0';
		splice_records(&r->body, type, ins.data, ins.len, 0);
		break;
	case F_BADRECORD:
		LIT(&ins, "{\"malformed\":true,\"reason\":\"a record with no time field\"}");
		splice_records(&r->body, type, ins.data, ins.len, 1);
		break;
	case F_BIGBODY:
		/* One padded record instead of the page: prefix | padding | suffix. */
		mw_buf_reset(&r->body);
		LIT(&r->body, "{\"meta\":{\"status\":200,\"pagination\":{\"pageSize\":1}},"
			      "\"data\":[");
		if (sim_records_array_key(type)) {
			LIT(&r->body, "{\"");
			mw_buf_puts(&r->body, sim_records_array_key(type));
			LIT(&r->body, "\":[");
		}
		LIT(&r->body, "{\"pad\":\"");
		r->big_split = r->body.len;
		LIT(&r->body, "\"}]");
		if (sim_records_array_key(type))
			LIT(&r->body, "}]");
		LIT(&r->body, ",\"fail\":[]}");
		r->big_bytes = f->bytes > (int64_t)r->body.len ? f->bytes : (int64_t)r->body.len;
		r->big_length = f->length;
		r->mode = SEND_BIG;
		r->records = 1;
		break;
	default:
		break;
	}
	mw_buf_free(&ins);
}

/* Holds a request without answering (not even a status line) until the
 * client hangs up or the sim stops. */
static void hang(struct sim *s, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	int fd = ci ? ci->connect_fd : -1;
	int64_t end = mw_mono_ms() + 3600 * 1000;

	while (!s->stopping && mw_mono_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

		if (fd < 0) {
			mw_sleep_ms(50);
			continue;
		}
		/* RDHUP, not IN: TLS may leave a close_notify unread forever. */
		if (poll(&pfd, 1, 50) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			break;
	}
}

/* ---- the request handler --------------------------------------------------- */

struct conn_ctx {
	mw_buf body;
	int too_big;
};

static void count_status(struct sim *s, enum sim_path p, int status)
{
	pthread_mutex_lock(&s->mu);
	s->path_count[p]++;
	if (status >= 0 && status < 600) {
		s->status_count[status]++;
		s->path_status[p][status]++;
	}
	pthread_mutex_unlock(&s->mu);
}

/* ---- SIEM batch files (API 2.0) ---------------------------------------------- */

static int siem_noday(struct sim *s)
{
	int on = 0;

	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < s->nfaults; i++)
		on |= s->faults[i].kind == F_SIEM_NODAY;
	pthread_mutex_unlock(&s->mu);
	return on;
}

/* "YYYY-MM-DD" to its 00:00 UTC; -1 when not a date. */
static int64_t siem_date(const char *v)
{
	struct tm tm;
	int y, m, d, k = 0;

	if (!v || sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &k) != 3 || v[k] || m < 1 || m > 12 ||
	    d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return (int64_t)timegm(&tm);
}

/* The listing of one type's day [GRAV-EVENTS]: errors in the gateway's
 * {"error":{"code","message"}} shape [GRAV-CLIENT]. An older start than
 * the days kept is refused [SEK-CHANGES]; nextPage alone resumes (Gravwell
 * leaves the dates out with it [GRAV-CLIENT]). */
static void siem_list_reply(struct sim *s, struct MHD_Connection *conn, enum fault_kind fk,
			    struct reply *r)
{
	const char *type = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "type");
	const char *from = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						       "dateRangeStartsAt");
	const char *next = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "nextPage");
	const char *ps = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "pageSize");
	int64_t now = mw_now(), today = now - now % 86400, day = siem_date(from);
	int t = siem_type_of(type), at = 0, n = ps ? atoi(ps) : 100;
	const char *bad = NULL;

	if (next && *next) {
		int nt;

		if (siem_token_parse(next, &nt, &day, &at) < 0 || (t >= 0 && nt != t))
			bad = "nextPage is not a token of this listing";
		t = nt;
	}
	if (!bad && t < 0)
		bad = "type must be one of the SIEM types";
	else if (!bad && day < 0)
		bad = "dateRangeStartsAt must be a date, YYYY-MM-DD";
	else if (!bad && (day < today - SIEM_DAYS * 86400 || day > today))
		bad = "the date range must lie within the last 7 days";
	if (bad) {
		r->status = 400;
		mw_buf_reset(&r->body);
		mw_buf_puts(&r->body, "{\"error\":{\"code\":\"BadRequest\",\"message\":");
		put_jstr(&r->body, bad);
		mw_buf_puts(&r->body, "}}");
		return;
	}
	if (n < 1 || n > MAX_PAGE)
		n = MAX_PAGE;
	r->status = 200;
	mw_buf_reset(&r->body);
	siem_listing(s->base_url, s->o.seed, t, day, at, n,
		     siem_files(s->siem, t, day, now, siem_noday(s)), fk == F_SIEM_TWICE,
		     fk == F_SIEM_NEXTLOOP, now, &r->body);
}

/* A pre-signed file (S3's answers: 403 AccessDenied for an expired or
 * wrongly signed link, 400 for a request that also carries an
 * Authorization header), gzip'd NDJSON. */
static enum MHD_Result siem_file_request(struct sim *s, struct MHD_Connection *conn,
					 const char *url)
{
	const char *dt = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "X-Amz-Date");
	const char *sig = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						      "X-Amz-Signature");
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	struct reply r = { .status = 200, .ctype = "application/gzip" };
	char slug[64], date[16], want[20];
	int f, k = 0, t;
	int64_t at = dt ? strtoll(dt, NULL, 10) : 0, day;
	struct fault fl = fault_pick(s, SIM_BIT_SIEMFILE, PHASE_FUNC, 0);
	enum MHD_Result ret;
	mw_buf raw;

	mw_buf_init(&r.body);
	mw_buf_init(&raw);
	snprintf(want, sizeof(want), "%016llx",
		 (unsigned long long)siem_signature(s->o.seed, url, at));
	if (sscanf(url + strlen(SIEM_FILES), "%63[^/]/%15[^/]/%d.json.gz%n", slug, date, &f,
		   &k) != 3 || url[strlen(SIEM_FILES) + (size_t)k] ||
	    (t = siem_type_of_slug(slug)) < 0 || (day = siem_date(date)) < 0 || f < 0 ||
	    f >= siem_files(s->siem, t, day, mw_now(), siem_noday(s))) {
		r.status = 404;
		r.ctype = "application/xml";
		mw_buf_puts(&r.body, "<Error><Code>NoSuchKey</Code></Error>");
	} else if (auth) {
		r.status = 400;
		r.ctype = "application/xml";
		mw_buf_puts(&r.body, "<Error><Code>InvalidArgument</Code><Message>Only one auth "
			    "mechanism allowed</Message></Error>");
	} else if (!sig || strcmp(sig, want) != 0 || fl.kind == F_SIEM_EXPIRED ||
		   mw_now() > at + SIEM_LINK_TTL) {
		r.status = 403;
		r.ctype = "application/xml";
		mw_buf_puts(&r.body, "<Error><Code>AccessDenied</Code><Message>Request has "
			    "expired</Message></Error>");
	} else if (s->siem && fl.kind != F_SIEM_BADGZIP) {
		/* made ahead (siem.h) */
		if (siem_volume_gzip(s->siem, t, day, f, &r.body) < 0)
			r.status = 500;
		if (fl.kind == F_SIEM_CUT)
			r.body.len /= 2;
		r.records = 1;
	} else {
		siem_file_events(s->siem, s->o.seed, t, day, f, &raw);
		if (fl.kind == F_SIEM_BADGZIP)
			mw_buf_append(&r.body, raw.data, raw.len);  /* not gzip at all */
		else if (siem_gzip(raw.data, raw.len, &r.body) < 0)
			r.status = 500;
		if (fl.kind == F_SIEM_CUT)
			r.body.len /= 2;  /* a whole answer of half a gzip stream */
		r.records = 1;
	}
	count_status(s, P_OTHER, r.status);
	if (!s->o.quiet)
		fprintf(stderr, "mimewatch-sim: GET %s -> %d%s\n", url, r.status,
			fl.kind != F_COUNT ? " (faulted)" : "");
	ret = send_reply(s, conn, &r, NULL);
	mw_buf_free(&r.body);
	mw_buf_free(&raw);
	return ret;
}

/* API 1.0's get-siem-logs [MC-SIEM1]: data[0].token names the next file
 * ("siem1-N" here; opaque to clients), none the oldest kept; a file is
 * application/octet-stream {"type":"MTA","data":[...]} with the next
 * token in mc-siem-token and its name in Content-Disposition
 * [ELA-SIEM-V1-TEST] [XSOAR-EC1]; past the last, 200 application/json
 * meta.isLastToken true and no token [R7-API] [R7-SIEM]. */
static void siem1_reply(struct sim *s, const mw_buf *body, struct reply *r)
{
	json_object *req = parse_json(body->data, body->len), *d0 = NULL, *tok = NULL;
	const char *t = NULL;
	char name[96];
	int i = 0;

	if (req && json_object_object_get_ex(req, "data", &d0) &&
	    json_object_is_type(d0, json_type_array) && json_object_array_length(d0) > 0 &&
	    json_object_object_get_ex(json_object_array_get_idx(d0, 0), "token", &tok))
		t = json_object_get_string(tok);
	if (t && *t && (sscanf(t, "siem1-%d", &i) != 1 || i < 0)) {
		json_object_put(req);
		reply_fail(r, 400, "err_siem_token_invalid", "The token is invalid", 0);
		return;
	}
	json_object_put(req);
	r->status = 200;
	mw_buf_reset(&r->body);
	if (siem1_answer(s->siem, s->o.seed, i, mw_now(), siem_noday(s), &r->body, name) < 0) {
		mw_buf_puts(&r->body, "{\"meta\":{\"status\":200,\"isLastToken\":true},\"data\":[],"
			    "\"fail\":[]}");
		return;
	}
	r->ctype = "application/octet-stream";
	r->records = 1;
	snprintf(r->siem_token, sizeof(r->siem_token), "siem1-%d", i + 1);
	snprintf(r->disposition, sizeof(r->disposition), "attachment; filename=\"%s\"", name);
}

/* GET /_sim/siem: every event the files hold now, NDJSON (the truth). */
static void siem_truth(struct sim *s, mw_buf *out)
{
	int64_t now = mw_now(), today = now - now % 86400;
	int noday = siem_noday(s);

	for (int t = 0; t < SIEM_NTYPES; t++)
		for (int64_t day = today - SIEM_DAYS * 86400; day <= today; day += 86400)
			for (int f = 0, n = siem_files(s->siem, t, day, now, noday); f < n; f++)
				siem_file_events(s->siem, s->o.seed, t, day, f, out);
}

static void api_request(struct sim *s, struct MHD_Connection *conn, enum sim_path p,
			const char *url, const char *method, const mw_buf *body,
			struct reply *r, struct rl_view *rl)
{
	char bucket_key[220];
	unsigned bit = p == P_ACCOUNT ? SIM_BIT_ACCOUNT : p == P_OAUTH ? SIM_BIT_OAUTH :
		       p == P_SIEM || p == P_SIEM1 ? SIM_BIT_SIEM : 1u << (p - P_URL);
	int bearer;
	struct fault f;

	if (p == P_OTHER) {
		/* 404 [MC-RESP]; the code is not public */
		reply_fail(r, 404, "err_resource_not_found", "the requested resource does not exist",
			   0);
		return;
	}
	if (p == P_SIEM ? strcmp(method, "GET") != 0 : strcmp(method, "POST") != 0) {
		/* 405 [ZD-HTTP-ERR]; the code is not public */
		reply_fail(r, 405, "err_method_not_allowed", p == P_SIEM ? "Method Not Allowed: use "
			   "GET" : "Method Not Allowed: use POST", 0);
		r->allow = p == P_SIEM ? "GET" : "POST";
		return;
	}
	if (p == P_DISCOVER) {
		handle_discover(s, body, r);
		return;
	}
	f = fault_pick(s, bit, PHASE_GATE, 0);
	if (f.kind != F_COUNT && fault_apply(s, &f, conn, body, r, rl, ""))
		return;
	if (p == P_OAUTH) {
		handle_oauth(s, conn, body, r, rl);
		return;
	}
	if (!authenticate(s, conn, url, r, rl, bucket_key, sizeof(bucket_key), &bearer))
		return;
	if (s->o.deny_permission & bit) {
		/* 403 [MC-RESP]; code as [ENH-LOG-TEST] shows it (UNCONFIRMED) */
		reply_fail(r, 403, "err_xdk_forbidden", "Forbidden", 0);
		return;
	}
	/* get-logs: the request as asked, for /_sim/requests (faulted or not) */
	struct cursor c;
	struct bad_request br;
	int has_token = 0, parsed = -1;

	if (p >= P_URL && p < P_URL + SIM_NTYPES) {
		parsed = parse_logs_request(s, (int)(p - P_URL), body, &c, &has_token, &br);
		r->logged = 1;
		r->lg.type = (int)(p - P_URL);
		r->lg.page_size = parsed == 0 ? c.page_size : -1;
		r->lg.token = has_token;
		r->lg.from = parsed == 0 ? c.from : 0;
		r->lg.to = parsed == 0 ? c.to : 0;
		r->lg.loop = parsed == 0 ? c.loop_mode : 0;
	}
	f = fault_pick(s, bit, PHASE_FUNC, (bearer ? FX_BEARER : 0) |
					   (parsed == 0 && has_token ? FX_PAGETOKEN : 0));
	if (f.kind != F_COUNT && fault_apply(s, &f, conn, body, r, rl, bucket_key))
		return;
	if (p == P_ACCOUNT) {
		r->status = 200;
		account_body(s, f.kind == F_NOPACKAGE ? f.types : 0, f.kind == F_HOSTILE_ACCOUNT,
			     &r->body);
	} else if (p == P_SIEM) {
		siem_list_reply(s, conn, f.kind, r);
	} else if (p == P_SIEM1) {
		siem1_reply(s, body, r);
	} else {
		if (parsed < 0) {
			r->status = 400;
			fail_body(&r->body, 400, br.code, br.message, 0,
				  br.field[0] ? br.field : NULL);
			return;
		}
		r->status = 200;
		logs_page(s, &c, has_token, &f, bit, r);
	}
	/* Faults that damage the delivery rather than replace the answer. */
	switch (f.kind) {
	case F_TRAILING:
		mw_buf_puts(&r->body, "\n{\"garbage\": trailing]");
		break;
	case F_TRUNCATE:
		r->mode = SEND_TRUNCATE;
		break;
	case F_RESET:
		r->mode = SEND_RESET;
		break;
	case F_SLOW:
	case F_DRIP:
		/* minsize: only pages of more records than that are slow */
		if (f.minsize >= 0 && r->records <= f.minsize)
			break;
		r->mode = SEND_SLOW;
		r->slow_bytes = f.bytes;
		break;
	case F_CHUNKCUT:
		r->mode = SEND_CHUNKCUT;
		break;
	case F_BIGRECORD:
	case F_DEEPJSON:
	case F_BADRECORD:
	case F_BIGBODY:
		if (r->status == 200 && p != P_ACCOUNT && p != P_SIEM && p != P_SIEM1)
			damage_page(&f, (int)(p - P_URL), r);
		break;
	default:
		break;
	}
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version,
			       const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct sim *s = cls;
	struct conn_ctx *cx = *con_cls;

	(void)version;
	if (!cx) {
		cx = mw_xcalloc(1, sizeof(*cx));
		mw_buf_init(&cx->body);
		*con_cls = cx;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (cx->body.len + *upload_data_size > MAX_BODY)
			cx->too_big = 1;
		else
			mw_buf_append(&cx->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strncmp(url, "/_sim/", 6) == 0)
		return handle_control(s, conn, url, method, &cx->body);
	if (strncmp(url, SIEM_FILES, strlen(SIEM_FILES)) == 0)
		return siem_file_request(s, conn, url);

	struct reply r = { .status = 500 };
	struct rl_view rl = { 0 };
	enum sim_path p = path_of(url);
	enum MHD_Result ret;

	mw_buf_init(&r.body);
	if (cx->too_big)
		/* the sim's own limit, not Mimecast's (mimewatch-sim(1)) */
		reply_fail(&r, 413, "err_request_too_large", "The request body is too large", 0);
	else
		api_request(s, conn, p, url, method, &cx->body, &r, &rl);
	count_status(s, p, r.status);
	if (r.logged) {
		r.lg.status = r.status;
		r.lg.records = r.records;
		pthread_mutex_lock(&s->mu);
		s->reqlog[s->reqlog_n++ % REQLOG_CAP] = r.lg;
		pthread_mutex_unlock(&s->mu);
	}
	if (!s->o.quiet)
		fprintf(stderr, "mimewatch-sim: %s %s -> %d%s (%d records)\n", method, url,
			r.status, r.mode != SEND_NORMAL ? " (faulted body)" : "", r.records);
	if (r.mode == SEND_HANG) {
		hang(s, conn);
		mw_buf_free(&r.body);
		return MHD_NO;
	}
	ret = send_reply(s, conn, &r, &rl);
	mw_buf_free(&r.body);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *cx = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (cx) {
		mw_buf_free(&cx->body);
		free(cx);
		*con_cls = NULL;
	}
}

/* ---- start and stop --------------------------------------------------------- */

static void derive_key(uint64_t seed, const char *label, unsigned char out[32])
{
	char in[128];
	int n = snprintf(in, sizeof(in), "mimewatch-sim %s %llu", label,
			 (unsigned long long)seed);

	SHA256((const unsigned char *)in, (size_t)n, out);
}

static int setup_records(struct sim *s, mw_err *e)
{
	const struct sim_opts *o = &s->o;
	static const int64_t default_ms[SIM_NTYPES] = { 2000, 7000, 5000, 11000, 13000 };

	if (o->span <= 0 || o->records < 0 || o->spacing_ms < 0 || o->hostile_every < 0 ||
	    o->late_fraction < 0 || o->late_fraction > 1 || o->late_delay < 0) {
		mw_err_set(e, "sim options: span must be > 0; records, spacing, hostile-every and "
			   "late-delay >= 0; late between 0 and 1");
		return -1;
	}
	if (o->rate_limit < 1 || o->refill_ms < 1 || o->token_ttl < 0) {
		mw_err_set(e, "sim options: rate-limit and refill-ms must be >= 1, token-ttl >= 0");
		return -1;
	}
	s->start = o->start ? o->start : mw_now() - o->span;
	s->rs.seed = o->seed;
	s->rs.start_us = s->start * 1000000;
	s->rs.count = o->records > 0 ? o->records : -1;
	s->rs.late_fraction = o->late_fraction;
	s->rs.late_delay_us = o->late_delay * 1000000;
	s->rs.hostile_every = o->hostile_every;
	s->rs.corpus = o->hostile_corpus;
	for (int t = 0; t < SIM_NTYPES; t++) {
		int64_t us;

		if (o->spacing_ms)
			us = o->spacing_ms * 1000;
		else if (o->records > 0)
			us = o->span * 1000000 / o->records;
		else
			us = default_ms[t] * 1000;
		s->rs.spacing_us[t] = us > 0 ? us : 1;
	}
	return 0;
}

static int make_cert_dir(struct sim *s, mw_err *e)
{
	if (s->cert_dir[0])
		return 0;
	const char *tmp = getenv("TMPDIR");

	snprintf(s->cert_dir, sizeof(s->cert_dir), "%s/mimewatch-sim.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->cert_dir)) {
		mw_err_set(e, "%s: cannot create a temporary directory: %s; pass --cert-dir",
			   s->cert_dir, strerror(errno));
		return -1;
	}
	s->tmp_cert_dir = 1;
	return 0;
}

struct sim *sim_start(const struct sim_opts *o, mw_err *e)
{
	struct sim *s = mw_xcalloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_POLL;
	const char *host;

	s->o = *o;
	s->bind = mw_xstrdup(o->bind && *o->bind ? o->bind : "127.0.0.1");
	s->o.bind = s->bind;
	/* Caller's strings are not kept: copy what outlives this call. */
	if (o->cert_dir && *o->cert_dir)
		snprintf(s->cert_dir, sizeof(s->cert_dir), "%s", o->cert_dir);
	s->o.cert_dir = NULL;
	for (int i = 0; i < SIM_MAX_FAULTS; i++)
		s->o.faults[i] = NULL;
	s->o.nfaults = 0;
	pthread_mutex_init(&s->mu, NULL);
	s->reqlog = mw_xcalloc(REQLOG_CAP, sizeof(*s->reqlog));
	derive_key(o->seed, "page token", s->page_key);
	derive_key(o->seed, "access token", s->token_key);
	if (setup_records(s, e) < 0)
		goto fail;
	if (o->siem_events > 0)
		s->siem = siem_volume_new(o->seed, o->siem_events,
					  o->siem_file_events > 0 ? o->siem_file_events
								  : SIM_SIEM_FILE_EVENTS, mw_now());
	for (int i = 0; i < o->nfaults; i++) {
		if (s->nfaults == SIM_MAX_FAULTS ||
		    fault_parse(o->faults[i], &s->faults[s->nfaults], e) < 0)
			goto fail;
		s->nfaults++;
	}

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s->bind, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)o->port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, s->bind, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)o->port);
		sl = sizeof(struct sockaddr_in6);
		flags |= MHD_USE_IPv6;
	} else {
		mw_err_set(e, "--bind %s: not a numeric IPv4 or IPv6 address (e.g. 127.0.0.1)",
			   s->bind);
		goto fail;
	}
	(void)sl;
	if (o->port < 0 || o->port > 65535) {
		mw_err_set(e, "--port %d: must be 0..65535", o->port);
		goto fail;
	}
	if (o->tls) {
		if (make_cert_dir(s, e) < 0 ||
		    sim_tls_prepare_named(s->cert_dir, o->cert_name, &s->cert_pem, &s->key_pem,
					  e) < 0)
			goto fail;
		snprintf(s->ca_file, sizeof(s->ca_file), "%s/sim-ca.pem", s->cert_dir);
		flags |= MHD_USE_TLS;
		/* --tls-max: a server stuck on old protocol versions (GnuTLS
		 * priorities); without it MHD's defaults stand. */
		const char *prio = NULL;
		struct MHD_OptionItem extra[2] = { { MHD_OPTION_END, 0, NULL },
						   { MHD_OPTION_END, 0, NULL } };

		if (o->tls_max && strcmp(o->tls_max, "1.0") == 0)
			prio = "NORMAL:-VERS-ALL:+VERS-TLS1.0";
		else if (o->tls_max && strcmp(o->tls_max, "1.1") == 0)
			prio = "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0";
		else if (o->tls_max && strcmp(o->tls_max, "1.2") == 0)
			prio = "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0";
		else if (o->tls_max && strcmp(o->tls_max, "1.3") != 0) {
			mw_err_set(e, "--tls-max %s: use 1.0, 1.1, 1.2 or 1.3", o->tls_max);
			goto fail;
		}
		if (prio) {
			extra[0].option = MHD_OPTION_HTTPS_PRIORITIES;
			extra[0].ptr_value = (void *)(uintptr_t)prio;
		}
		s->d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, handler, s,
					MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					MHD_OPTION_NOTIFY_COMPLETED, completed, s,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
					MHD_OPTION_HTTPS_MEM_KEY, s->key_pem,
					MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem,
					MHD_OPTION_ARRAY, extra,
					MHD_OPTION_END);
	} else {
		s->d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, handler, s,
					MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					MHD_OPTION_NOTIFY_COMPLETED, completed, s,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
					MHD_OPTION_END);
	}
	if (!s->d) {
		mw_err_set(e, "cannot listen on %s port %d: %s (is the port in use?)", s->bind,
			   o->port, strerror(errno ? errno : EADDRINUSE));
		goto fail;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);

	host = s->bind;
	/* The daemon already answers: discover-authentication reads base_url
	 * under the same lock. */
	pthread_mutex_lock(&s->mu);
	s->port = di ? di->port : o->port;
	if (strchr(host, ':'))
		snprintf(s->base_url, sizeof(s->base_url), "%s://[%s]:%d", o->tls ? "https" : "http",
			 host, s->port);
	else
		snprintf(s->base_url, sizeof(s->base_url), "%s://%s:%d", o->tls ? "https" : "http",
			 host, s->port);
	pthread_mutex_unlock(&s->mu);
	return s;
fail:
	sim_stop(s);
	return NULL;
}

void sim_stop(struct sim *s)
{
	if (!s)
		return;
	s->stopping = 1;
	if (s->d)
		MHD_stop_daemon(s->d);
	siem_volume_free(s->siem);  /* after the connections: they read its files */
	if (s->tmp_cert_dir) {
		char p[4300];

		snprintf(p, sizeof(p), "%s/sim-ca.pem", s->cert_dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/sim-key.pem", s->cert_dir);
		unlink(p);
		rmdir(s->cert_dir);
	}
	free(s->cert_pem);
	free(s->key_pem);
	free(s->ids.keys);
	free(s->ids.expires);
	free(s->bind);
	free(s->reqlog);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* ---- the config file --------------------------------------------------------- */

static void yaml_str(mw_buf *b, const char *s)
{
	mw_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			mw_buf_putc(b, '\\');
		mw_buf_putc(b, *s);
	}
	mw_buf_putc(b, '"');
}

/* Paths go in absolute: the config is read from wherever mimewatch runs. */
static void yaml_path(mw_buf *b, const char *path)
{
	char cwd[4096];
	mw_buf full;

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd))) {
		yaml_str(b, path);
		return;
	}
	mw_buf_init(&full);
	mw_buf_printf(&full, "%s/%s", cwd, path);
	yaml_str(b, full.data);
	mw_buf_free(&full);
}

int sim_write_config(const struct sim *s, const char *path, const char *state_dir,
		     const char *out_dir, const char *api, mw_err *e)
{
	mw_buf b;
	char lookback[32];
	int v1 = !api || strcmp(api, "v1") == 0 || strcmp(api, "both") == 0;
	int v2 = api && (strcmp(api, "v2") == 0 || strcmp(api, "both") == 0);
	int64_t reach = mw_now() - s->start;
	int rc;

	if (!v1 && !v2) {
		mw_err_set(e, "--api %s: use v1, v2 or both", api);
		return -1;
	}
	if (reach < s->o.span)
		reach = s->o.span;
	mw_format_duration(reach + 3600, lookback, sizeof(lookback));
	mw_buf_init(&b);
	mw_buf_puts(&b, "# Written by mimewatch-sim for its simulated tenant.\n");
	if (state_dir) {
		mw_buf_puts(&b, "state_dir: ");
		yaml_path(&b, state_dir);
		mw_buf_putc(&b, '\n');
	}
	mw_buf_puts(&b, "integrations:\n");
	for (int k = 0; k < 2; k++) {
		if (!(k ? v2 : v1))
			continue;
		mw_buf_printf(&b, "  - name: %s\n    description: mimewatch-sim simulated tenant "
			      "(API %s)\n    api: %s\n    base_url: ", k ? "sim-v2" : "sim",
			      k ? "2.0" : "1.0", k ? "v2" : "v1");
		yaml_str(&b, s->base_url);
		if (!k)
			mw_buf_puts(&b, "\n    app_id: " SIM_APP_ID "\n    app_key: " SIM_APP_KEY
					"\n    access_key: \"" SIM_ACCESS_KEY "\"\n    secret_key: \""
					SIM_SECRET_KEY "\"\n");
		else
			mw_buf_puts(&b, "\n    client_id: " SIM_CLIENT_ID "\n    client_secret: \""
					SIM_CLIENT_SECRET "\"\n");
		mw_buf_printf(&b, "    types: [url, impersonation, attachment]\n    interval: 10s\n"
			      "    lookback: %s\n    lag: 1s\n    overlap: 10m\n    page_size: 100\n",
			      lookback);
		if (s->o.tls) {
			mw_buf_puts(&b, "    ca_file: ");
			yaml_path(&b, s->ca_file);
			mw_buf_putc(&b, '\n');
		}
	}
	if (out_dir) {
		mw_buf_puts(&b, "outputs:\n  - type: ndjson\n    dir: ");
		yaml_path(&b, out_dir);
		mw_buf_putc(&b, '\n');
	}
	rc = mw_write_file_atomic(path, b.data, b.len, e);
	if (rc == 0 && chmod(path, 0600) < 0) {
		mw_err_set(e, "%s: chmod 0600: %s", path, strerror(errno));
		rc = -1;
	}
	mw_buf_free(&b);
	return rc;
}
