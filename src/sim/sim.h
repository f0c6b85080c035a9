/* src/sim/sim.h - the simulated Mimecast tenant (mimewatch-sim and the
 * tests; `mimewatch --demo` runs mimewatch-sim as child processes). An
 * HTTP(S) server on loopback that signs, paginates, rate-limits and fails as
 * the public sources show (HACKING, "Sources"), with records generated
 * deterministically from a seed; whatever no source shows is an option or a
 * fault that says so. See data/mimewatch-sim.1.
 *
 * The one public header of src/sim/ (libmwsim.la). Dependency rule: files in
 * src/sim/ may include src/util.h, src/mimecast/mimecast.h (signing),
 * src/jsonout.h (the safe JSON string encoding) and each other's headers,
 * the C library, libmicrohttpd, json-c and OpenSSL; nothing in the product
 * (src/, ui/) includes a header of src/sim/, and libmimewatch.la and
 * mimewatch never link libmwsim.la or libmicrohttpd. */
#ifndef MW_SIM_H
#define MW_SIM_H

#include <stdint.h>
#include "util.h"

/* The built-in credentials (fixed so tests and docs can name them). The
 * secret key is the standard base64 of the 64 bytes 0x00, 0x01, ... 0x3f. */
#define SIM_APP_ID "5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
#define SIM_APP_KEY "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
#define SIM_ACCESS_KEY \
	"mwsim-access-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123456789abcdef"
#define SIM_SECRET_KEY \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
#define SIM_CLIENT_ID "mwsim-client"
#define SIM_CLIENT_SECRET "mwsim-client-secret-0123456789"
/* Email domain discover-authentication knows (and its subdomains). */
#define SIM_DOMAIN "sim.example"

#define SIM_MAX_FAULTS 64

/* Events a SIEM batch file holds under --siem-events unless
 * --siem-file-events says. Mimecast publishes no file size (none of the
 * sources of HACKING "SIEM on API 2.0: batch files" gives one); known are
 * a new file about every 15 minutes a type [SEK-CHANGES] and close to
 * 100,000 events seen in one run of Elastic's input before it paged its
 * listings (elastic/integrations PR #15942).
 * 2,000 a file every 15 minutes is a gateway of about two million events a
 * day over the ten types: a large tenant, whose backfill is what the bench
 * times. Smaller files cost a collector more an event (a request and a
 * commit each); --siem-file-events measures that. */
#define SIM_SIEM_FILE_EVENTS 2000

struct sim_opts {
	const char *bind;          /* numeric address; default "127.0.0.1" */
	int port;                  /* 0: any free port */
	int tls;
	const char *cert_dir;      /* where sim-ca.pem goes; NULL: a temp dir */
	const char *cert_name;     /* NULL: localhost and 127.0.0.1; else this DNS name only */
	const char *tls_max;       /* NULL: any; "1.0", "1.1", "1.2": the highest offered */
	uint64_t seed;             /* default 1 */
	int64_t records;           /* per type; 0: no end, records keep arriving */
	int64_t span;              /* seconds, default 86400 */
	int64_t start;             /* epoch of the first record; 0: now - span */
	int64_t spacing_ms;        /* 0: span/records, or per-type defaults */
	double late_fraction;      /* default 0 */
	int64_t late_delay;        /* seconds, default 300 */
	int hostile_every;         /* default 50; 0 never */
	int hostile_corpus;        /* hostile records carry the injection corpus */
	int rate_limit;            /* bucket size, default 800 */
	int refill_ms;             /* one request back per this, default 10 */
	int token_ttl;             /* API 2.0 expires_in, default 1799 */
	/* Checks no public source confirms (HACKING, "Not known":
	 * UNCONFIRMED), so off unless asked for: */
	int date_window;           /* x-mc-date tolerance, seconds; 0: not checked */
	int reject_reused_req_id;  /* refuse an x-mc-req-id seen in the last 30 min */
	const char *faults[SIM_MAX_FAULTS];  /* SPEC strings */
	int nfaults;
	unsigned deny_permission;  /* bit (1 << SIM_URL ...) and SIM_BIT_ACCOUNT */
	unsigned no_package;       /* bit per log type */
	int quiet;                 /* no request log on stderr */
	/* --siem-events: SIEM 2.0 batch files holding this many events in all,
	 * siem_file_events a file, over the 7 days before today (make bench);
	 * 0: the default few a file (siem.h) */
	int64_t siem_events;
	int siem_file_events;
};

#define SIM_BIT_ACCOUNT (1u << 8)   /* above every enum sim_type bit */

void sim_opts_init(struct sim_opts *o);
/* "url", "impersonation", "attachment", "account" (and "all" for the three
 * log types) to a bit mask; 0 when unknown. */
unsigned sim_type_bits(const char *name);
/* Checks one fault SPEC (KIND[:key=value,...]); 0 or -1 with a message. */
int sim_fault_check(const char *spec, mw_err *e);

struct sim;

/* Starts the server (its own threads). NULL with a message on failure. */
struct sim *sim_start(const struct sim_opts *o, mw_err *e);
void sim_stop(struct sim *s);

int sim_port(const struct sim *s);
const char *sim_base_url(const struct sim *s);  /* http(s)://127.0.0.1:PORT */
const char *sim_ca_file(const struct sim *s);   /* NULL without TLS */
/* Time of record 0 as used (epoch seconds). */
int64_t sim_start_time(const struct sim *s);

/* Replaces the active faults with the SPEC lines of text (one per line;
 * empty text clears them). All-or-nothing: on error nothing changes. */
int sim_set_faults(struct sim *s, const char *text, mw_err *e);

/* Visible records of a type now, and the stats JSON of GET /_sim/stats. */
int64_t sim_visible_records(struct sim *s, const char *type);
void sim_stats_json(struct sim *s, mw_buf *out);

/* Writes a mimewatch config (mode 0600) for this sim: integration "sim"
 * (api v1) and/or "sim-v2" (api v2), as api says ("v1", "v2", "both").
 * state_dir and out_dir may be NULL (keys then omitted). */
int sim_write_config(const struct sim *s, const char *path, const char *state_dir,
		     const char *out_dir, const char *api, mw_err *e);

/* tls.c: a fresh (or reused) self-signed certificate for CN=localhost,
 * subjectAltName IP:127.0.0.1 and DNS:localhost. Writes dir/sim-ca.pem (the
 * certificate clients use as ca_file) and dir/sim-key.pem, both 0600; the dir
 * is created 0700. Returns malloc'd PEM texts for the server. */
int sim_tls_prepare(const char *dir, char **cert_pem, char **key_pem, mw_err *e);
/* The same for a certificate naming only DNS:name (CN=name) when name is
 * not NULL: a client reaching the sim as 127.0.0.1 must refuse it. */
int sim_tls_prepare_named(const char *dir, const char *name, char **cert_pem, char **key_pem,
			  mw_err *e);

#endif
