/* src/sim/main.c - mimewatch-sim: the simulated Mimecast tenant as a server.
 * The command line is a contract (tests and README rely on it); see
 * data/mimewatch-sim.1. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "records.h"

static const char usage_text[] =
	"usage: mimewatch-sim [--port N] [--bind ADDR] [--port-file F] [--tls]\n"
	"         [--cert-dir DIR] [--cert-name NAME] [--tls-max 1.0|1.1|1.2|1.3] [--seed N] [--records N] [--span DURATION]\n"
	"         [--start EPOCH | --start-ago DURATION] [--spacing-ms N]\n"
	"         [--late FRACTION] [--late-delay DURATION] [--hostile-every N]\n"
"         [--hostile-corpus] [--siem-events N [--siem-file-events N]]\n"
	"         [--rate-limit N] [--refill-ms N] [--token-ttl SECONDS]\n"
	"         [--date-window SECONDS] [--reject-reused-req-id]\n"
	"         [--fault SPEC]... [--deny-permission TYPE]... [--no-package TYPE]...\n"
	"         [--write-config FILE [--state-dir DIR] [--out-dir DIR] [--api v1|v2|both]]\n"
	"         [--quiet] [--help] [--version]\n"
	"\n"
	"A simulated Mimecast tenant on loopback for tests and demos; see mimewatch-sim(1).\n"
	"Durations are <integer><s|m|h|d>. Fault SPEC: KIND[:type=T,after=N,count=N,...]\n"
	"with KIND one of 429 418 401 403 ipdeny nopackage 500 502 503 failarr truncate\n"
	"slow emptynext emptyend badjson trailing token_expired token_revoked gateway429\n"
	"binding_fail echo reset chunkcut hang drip redirect bigrecord bigbody deepjson\n"
	"badrecord, a hostile tenant's timeshift nextloop repeatpages baddate\n"
	"hostile_account, revise (a changed impersonation verdict), or for the SIEM\n"
	"batch files siem_expired (a link answers 403), siem_cut (a file cut short),\n"
	"siem_badgzip (a file that is not gzip), siem_twice (a file on two listing\n"
	"pages), siem_noday (a day with no file) and siem_nextloop (@nextPage names\n"
	"the same page again). type=siem aims the others at the SIEM listing and at\n"
	"API 1.0's get-siem-logs.\n";

enum {
	OPT_PORT = 256, OPT_BIND, OPT_PORT_FILE, OPT_TLS, OPT_CERT_DIR, OPT_SEED, OPT_RECORDS,
	OPT_SPAN, OPT_START, OPT_START_AGO, OPT_SPACING, OPT_LATE, OPT_LATE_DELAY, OPT_HOSTILE,
	OPT_RATE, OPT_REFILL, OPT_TTL, OPT_FAULT, OPT_DENY, OPT_NOPKG, OPT_WRITE_CONFIG,
	OPT_STATE_DIR, OPT_OUT_DIR, OPT_API, OPT_QUIET, OPT_HELP, OPT_VERSION, OPT_CORPUS,
	OPT_CERT_NAME, OPT_TLS_MAX, OPT_DATE_WINDOW, OPT_REQID, OPT_SIEM_EVENTS,
	OPT_SIEM_FILE_EVENTS
};

static const struct option long_opts[] = {
	{ "port", required_argument, NULL, OPT_PORT },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "cert-dir", required_argument, NULL, OPT_CERT_DIR },
	{ "cert-name", required_argument, NULL, OPT_CERT_NAME },
	{ "tls-max", required_argument, NULL, OPT_TLS_MAX },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "records", required_argument, NULL, OPT_RECORDS },
	{ "span", required_argument, NULL, OPT_SPAN },
	{ "start", required_argument, NULL, OPT_START },
	{ "start-ago", required_argument, NULL, OPT_START_AGO },
	{ "spacing-ms", required_argument, NULL, OPT_SPACING },
	{ "late", required_argument, NULL, OPT_LATE },
	{ "late-delay", required_argument, NULL, OPT_LATE_DELAY },
	{ "hostile-every", required_argument, NULL, OPT_HOSTILE },
	{ "hostile-corpus", no_argument, NULL, OPT_CORPUS },
	{ "siem-events", required_argument, NULL, OPT_SIEM_EVENTS },
	{ "siem-file-events", required_argument, NULL, OPT_SIEM_FILE_EVENTS },
	{ "rate-limit", required_argument, NULL, OPT_RATE },
	{ "refill-ms", required_argument, NULL, OPT_REFILL },
	{ "token-ttl", required_argument, NULL, OPT_TTL },
	{ "date-window", required_argument, NULL, OPT_DATE_WINDOW },
	{ "reject-reused-req-id", no_argument, NULL, OPT_REQID },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "deny-permission", required_argument, NULL, OPT_DENY },
	{ "no-package", required_argument, NULL, OPT_NOPKG },
	{ "write-config", required_argument, NULL, OPT_WRITE_CONFIG },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "out-dir", required_argument, NULL, OPT_OUT_DIR },
	{ "api", required_argument, NULL, OPT_API },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mimewatch-sim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'mimewatch-sim --help'.\n");
	return 2;
}

/* Whole number in [lo, hi]. */
static int num_arg(const char *name, const char *s, long long lo, long long hi, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	if (!*s || *end || errno || *v < lo || *v > hi) {
		fprintf(stderr, "mimewatch-sim: --%s %s: need a whole number from %lld to %lld\n",
			name, s, lo, hi);
		return -1;
	}
	return 0;
}

static int dur_arg(const char *name, const char *s, int64_t *secs)
{
	if (mw_parse_duration(s, secs) < 0) {
		fprintf(stderr, "mimewatch-sim: --%s %s: need a duration like 30s, 5m, 48h or 2d\n",
			name, s);
		return -1;
	}
	return 0;
}

static int type_arg(const char *name, const char *s, unsigned *mask, int allow_account)
{
	unsigned bit = sim_type_bits(s);

	if (!bit || (!allow_account && (bit & SIM_BIT_ACCOUNT))) {
		fprintf(stderr, "mimewatch-sim: --%s %s: use url, impersonation, attachment, "
			"audit, dlp%s\n", name, s, allow_account ? ", account or all" : " or all");
		return -1;
	}
	*mask |= bit;
	return 0;
}

static int write_port_file(const char *path, int port)
{
	char text[16];
	mw_err e;
	int n = snprintf(text, sizeof(text), "%d\n", port);

	if (mw_write_file_atomic(path, text, (size_t)n, &e) < 0) {
		fprintf(stderr, "mimewatch-sim: --port-file: %s\n", e.msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sim_opts o;
	const char *port_file = NULL, *write_config = NULL, *state_dir = NULL, *out_dir = NULL;
	const char *api = "v1";
	int64_t start_ago = -1;
	long long v;
	int c, sig;
	sigset_t set;
	struct sim *s;
	mw_err e;

	sim_opts_init(&o);
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PORT:
			if (num_arg("port", optarg, 0, 65535, &v) < 0)
				return 2;
			o.port = (int)v;
			break;
		case OPT_BIND: o.bind = optarg; break;
		case OPT_PORT_FILE: port_file = optarg; break;
		case OPT_TLS: o.tls = 1; break;
		case OPT_CERT_DIR: o.cert_dir = optarg; break;
		case OPT_CERT_NAME: o.cert_name = optarg; break;
		case OPT_TLS_MAX:
			if (strcmp(optarg, "1.0") && strcmp(optarg, "1.1") && strcmp(optarg, "1.2") &&
			    strcmp(optarg, "1.3"))
				return bad_usage("--tls-max %s: use 1.0, 1.1, 1.2 or 1.3", optarg);
			o.tls_max = optarg;
			break;
		case OPT_SEED:
			if (num_arg("seed", optarg, 0, LLONG_MAX, &v) < 0)
				return 2;
			o.seed = (uint64_t)v;
			break;
		case OPT_RECORDS:
			if (num_arg("records", optarg, 1, 1000000000000LL, &v) < 0)
				return 2;
			o.records = v;
			break;
		case OPT_SPAN:
			if (dur_arg("span", optarg, &o.span) < 0)
				return 2;
			if (o.span <= 0)
				return bad_usage("--span %s: must be longer than 0s", optarg);
			break;
		case OPT_START:
			if (num_arg("start", optarg, 1, 253402300799LL, &v) < 0)
				return 2;
			o.start = v;
			break;
		case OPT_START_AGO:
			if (dur_arg("start-ago", optarg, &start_ago) < 0)
				return 2;
			break;
		case OPT_SPACING:
			if (num_arg("spacing-ms", optarg, 1, 86400000LL * 365, &v) < 0)
				return 2;
			o.spacing_ms = v;
			break;
		case OPT_LATE: {
			char *end;
			double f = strtod(optarg, &end);

			if (!*optarg || *end || !(f >= 0 && f <= 1))
				return bad_usage("--late %s: need a fraction from 0 to 1 (e.g. 0.01)",
						 optarg);
			o.late_fraction = f;
			break;
		}
		case OPT_LATE_DELAY:
			if (dur_arg("late-delay", optarg, &o.late_delay) < 0)
				return 2;
			break;
		case OPT_HOSTILE:
			if (num_arg("hostile-every", optarg, 0, INT32_MAX, &v) < 0)
				return 2;
			o.hostile_every = (int)v;
			break;
		case OPT_CORPUS:
			o.hostile_corpus = 1;
			break;
		case OPT_SIEM_EVENTS:
			/* ten times the bench's million: about 530 MB of files in memory */
			if (num_arg("siem-events", optarg, 1, 10000000LL, &v) < 0)
				return 2;
			o.siem_events = v;
			break;
		case OPT_SIEM_FILE_EVENTS:
			if (num_arg("siem-file-events", optarg, 1, 1000000LL, &v) < 0)
				return 2;
			o.siem_file_events = (int)v;
			break;
		case OPT_RATE:
			if (num_arg("rate-limit", optarg, 1, INT32_MAX, &v) < 0)
				return 2;
			o.rate_limit = (int)v;
			break;
		case OPT_REFILL:
			if (num_arg("refill-ms", optarg, 1, INT32_MAX, &v) < 0)
				return 2;
			o.refill_ms = (int)v;
			break;
		case OPT_TTL:
			if (num_arg("token-ttl", optarg, 0, INT32_MAX, &v) < 0)
				return 2;
			o.token_ttl = (int)v;
			break;
		case OPT_DATE_WINDOW:
			if (num_arg("date-window", optarg, 1, INT32_MAX, &v) < 0)
				return 2;
			o.date_window = (int)v;
			break;
		case OPT_REQID: o.reject_reused_req_id = 1; break;
		case OPT_FAULT:
			if (sim_fault_check(optarg, &e) < 0)
				return bad_usage("--fault: %s", e.msg);
			if (o.nfaults == SIM_MAX_FAULTS)
				return bad_usage("too many --fault options (at most 64)");
			o.faults[o.nfaults++] = optarg;
			break;
		case OPT_DENY:
			if (type_arg("deny-permission", optarg, &o.deny_permission, 1) < 0)
				return 2;
			break;
		case OPT_NOPKG:
			if (type_arg("no-package", optarg, &o.no_package, 0) < 0)
				return 2;
			break;
		case OPT_WRITE_CONFIG: write_config = optarg; break;
		case OPT_STATE_DIR: state_dir = optarg; break;
		case OPT_OUT_DIR: out_dir = optarg; break;
		case OPT_API:
			if (strcmp(optarg, "v1") && strcmp(optarg, "v2") && strcmp(optarg, "both"))
				return bad_usage("--api %s: use v1, v2 or both", optarg);
			api = optarg;
			break;
		case OPT_QUIET: o.quiet = 1; break;
		case OPT_HELP: fputs(usage_text, stdout); return 0;
		case OPT_VERSION: printf("mimewatch-sim %s\n", PACKAGE_VERSION); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument \"%s\"", argv[optind]);
	if (start_ago >= 0 && o.start)
		return bad_usage("--start and --start-ago exclude each other");
	if (start_ago >= 0)
		o.start = mw_now() - start_ago;
	if ((state_dir || out_dir) && !write_config)
		return bad_usage("--state-dir and --out-dir go with --write-config");

	/* Block the stop signals before any thread starts, so that only the
	 * sigwait below ever receives them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	s = sim_start(&o, &e);
	if (!s) {
		fprintf(stderr, "mimewatch-sim: %s\n", e.msg);
		return 1;
	}
	if (port_file && write_port_file(port_file, sim_port(s)) < 0) {
		sim_stop(s);
		return 1;
	}
	if (write_config && sim_write_config(s, write_config, state_dir, out_dir, api, &e) < 0) {
		fprintf(stderr, "mimewatch-sim: --write-config: %s\n", e.msg);
		sim_stop(s);
		return 1;
	}
	if (!o.quiet) {
		char first[25];

		sim_records_format_date(sim_start_time(s), first);
		fprintf(stderr,
			"mimewatch-sim: seed %llu, first record %s, %s\n"
			"mimewatch-sim: API 1.0: app_id %s\n"
			"mimewatch-sim:          app_key %s\n"
			"mimewatch-sim:          access_key %s\n"
			"mimewatch-sim:          secret_key %s\n"
			"mimewatch-sim: API 2.0: client_id %s client_secret %s\n",
			(unsigned long long)o.seed, first,
			o.records ? "fixed record count" : "records keep arriving",
			SIM_APP_ID, SIM_APP_KEY, SIM_ACCESS_KEY, SIM_SECRET_KEY, SIM_CLIENT_ID,
			SIM_CLIENT_SECRET);
		if (sim_ca_file(s))
			fprintf(stderr, "mimewatch-sim: CA file %s\n", sim_ca_file(s));
	}
	printf("mimewatch-sim listening on %s\n", sim_base_url(s));
	fflush(stdout);

	while (sigwait(&set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	sim_stop(s);
	return 0;
}
