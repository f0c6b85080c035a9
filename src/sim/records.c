/* src/sim/records.c - deterministic TTP records for the simulated tenant.
 *
 * Everything about record i of a type comes from one 64-bit hash of
 * (seed, type, i), so any record can be produced on its own, in any order,
 * in any process: pagination can be stateless and survive restarts. Text is
 * written straight into the output buffer from fixed pools; the pools hold
 * nothing that needs JSON escaping, and the hostile strings are stored
 * already JSON-encoded. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "records.h"

#define LIT(b, s) mw_buf_append((b), (s), sizeof(s) - 1)

static const char *const type_names[SIM_NTYPES] = { "url", "impersonation", "attachment",
						    "audit", "dlp" };

const char *sim_records_type_name(int type)
{
	return type >= 0 && type < SIM_NTYPES ? type_names[type] : "?";
}

const struct mw_logtype *sim_records_logtype(int type)
{
	return type >= 0 && type < SIM_NTYPES ? logtype_find(type_names[type]) : NULL;
}

const char *sim_records_array_key(int type)
{
	const struct mw_logtype *lt = sim_records_logtype(type);

	return lt ? lt->array_key : NULL;
}

int sim_records_type_from_name(const char *name)
{
	for (int t = 0; t < SIM_NTYPES; t++)
		if (name && strcmp(name, type_names[t]) == 0)
			return t;
	return -1;
}

/* ---- hashing ------------------------------------------------------------ */

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finaliser: cheap and well spread. */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rec_hash(const struct sim_recset *rs, int type, int64_t i)
{
	return mix(mix(rs->seed) ^ mix((uint64_t)i ^ ((uint64_t)(type + 1) << 56)));
}

static int is_late(const struct sim_recset *rs, uint64_t h)
{
	if (rs->late_fraction <= 0)
		return 0;
	return (double)(mix(h ^ 0x1a7e1a7e1a7eULL) >> 11) * (1.0 / 9007199254740992.0) <
	       rs->late_fraction;
}

static int is_hostile(const struct sim_recset *rs, int64_t i)
{
	return rs->hostile_every > 0 && i % rs->hostile_every == rs->hostile_every - 1;
}

/* ---- time and index arithmetic ----------------------------------------- */

int64_t sim_records_time_us(const struct sim_recset *rs, int type, int64_t i)
{
	return rs->start_us + i * rs->spacing_us[type];
}

static int64_t clip(const struct sim_recset *rs, int64_t n)
{
	if (n < 0)
		return 0;
	return rs->count >= 0 && n > rs->count ? rs->count : n;
}

int64_t sim_records_first_at(const struct sim_recset *rs, int type, int64_t t_us)
{
	int64_t sp = rs->spacing_us[type];

	if (t_us <= rs->start_us)
		return 0;
	return clip(rs, (t_us - rs->start_us + sp - 1) / sp);
}

int64_t sim_records_end(const struct sim_recset *rs, int type, int64_t now_us)
{
	if (now_us < rs->start_us)
		return 0;
	return clip(rs, (now_us - rs->start_us) / rs->spacing_us[type] + 1);
}

int sim_records_visible(const struct sim_recset *rs, int type, int64_t i, int64_t now_us)
{
	if (!is_late(rs, rec_hash(rs, type, i)))
		return 1;
	return sim_records_time_us(rs, type, i) + rs->late_delay_us <= now_us;
}

int64_t sim_records_visible_count(const struct sim_recset *rs, int type, int64_t now_us)
{
	int64_t end = sim_records_end(rs, type, now_us), n = end;

	if (rs->late_fraction > 0)
		for (int64_t i = sim_records_first_at(rs, type, now_us - rs->late_delay_us + 1);
		     i < end; i++)
			if (!sim_records_visible(rs, type, i, now_us))
				n--;
	return n;
}

/* ---- attributes the filters look at -------------------------------------- */

static int attr_route(int type, uint64_t h)
{
	unsigned r = (unsigned)((h >> 8) % 100);

	if (type == SIM_URL)
		return r < 70 ? SIM_ROUTE_INBOUND : r < 90 ? SIM_ROUTE_INTERNAL : SIM_ROUTE_OUTBOUND;
	return r < 80 ? SIM_ROUTE_INBOUND : r < 95 ? SIM_ROUTE_INTERNAL : SIM_ROUTE_OUTBOUND;
}

/* URL scanResult: clean, malicious [ELA-URL-TEST]. Attachment result: safe
 * and malicious in public records [ELA-AP-TEST] [ELA-MOCK]; the docs' other
 * values (clean, unknown, timeout [MC-ATT]) stay rare. */
static const char *attr_verdict(int type, uint64_t h)
{
	unsigned v = (unsigned)((h >> 16) % 100);

	if (type == SIM_URL)
		return v < 8 ? "malicious" : "clean";
	if (type == SIM_ATTACHMENT)
		return v < 6 ? "malicious" : v < 7 ? "timeout" : v < 8 ? "unknown" :
		       v < 9 ? "clean" : "safe";
	return NULL;
}

static int attr_tagged(uint64_t h)
{
	return (h >> 16) % 100 < 35;
}

int sim_records_match(const struct sim_recset *rs, int type, int64_t i,
		      const struct sim_filter *f)
{
	uint64_t h;

	if (!f)
		return 1;
	h = rec_hash(rs, type, i);
	if (f->route != SIM_ANY && (type == SIM_URL || type == SIM_ATTACHMENT) &&
	    attr_route(type, h) != f->route)
		return 0;
	if (f->verdict && (type == SIM_URL || type == SIM_ATTACHMENT) &&
	    strcmp(attr_verdict(type, h), f->verdict))
		return 0;
	if (f->tagged != SIM_ANY && type == SIM_IMPERSONATION && attr_tagged(h) != f->tagged)
		return 0;
	return 1;
}

/* ---- writing ------------------------------------------------------------- */

void sim_records_format_date(int64_t epoch, char out[25])
{
	/* Civil-from-days (proleptic Gregorian): no gmtime call per record. */
	int64_t days = epoch / 86400, secs = epoch % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;

	if (m <= 2)
		y++;
	snprintf(out, 25, "%04d-%02d-%02dT%02d:%02d:%02d+0000", (int)y, (int)m, (int)d,
		 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

static void put_q(mw_buf *b, const char *s)
{
	size_t n = strlen(s);

	mw_buf_reserve(b, n + 2);
	b->data[b->len++] = '"';
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len++] = '"';
	b->data[b->len] = '\0';
}

static void put_i64(mw_buf *b, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);

	mw_buf_append(b, tmp, (size_t)n);
}

static void put_hex(mw_buf *b, uint64_t v, int digits)
{
	static const char hx[] = "0123456789abcdef";
	char tmp[16];

	for (int k = digits - 1; k >= 0; k--, v >>= 4)
		tmp[k] = hx[v & 15];
	mw_buf_append(b, tmp, (size_t)digits);
}

/* pick(h, k, pool): element chosen by bits k.. of h. */
#define PICK(h, k, pool) ((pool)[((h) >> (k)) % NELEM(pool)])

static const char *const users[] = {
	"jane.doe", "john.smith", "a.kowalski", "m.garcia", "li.wei", "s.okafor",
	"finance", "payroll", "it-helpdesk", "r.nakamura", "e.dubois", "k.oconnor",
};
static const char *const user_names[] = {
	"Jane Doe", "John Smith", "Anna Kowalski", "Maria Garcia", "Li Wei", "Sam Okafor",
	"Finance Team", "Payroll", "IT Helpdesk", "Ren Nakamura", "Emile Dubois", "Kate O'Connor",
};
static const char *const senders[] = {
	"alerts@vendor.example", "noreply@shipping.example", "billing@saas.example",
	"newsletter@news.example", "j.bloggs@partner.example", "hr@recruit.example",
	"support@bank.example", "no-reply@docs-share.example",
};
static const char *const lookalike_senders[] = {
	"jane.doe@sirn.example", "ceo.office@gmail.example", "finance@sim-example.example",
	"payroll@sim.example.payments.example", "it-helpdesk@simexample.example",
};
static const char *const url_hosts[] = {
	"docs.partner.example", "cdn.vendor.example", "login.micros0ft-secure.example",
	"track.news.example", "files.share.example", "www.search.example",
	"portal.bank.example",
};
static const char *const url_paths[] = {
	"/invoice/view", "/s/AbC123", "/login.php", "/download/setup.exe",
	"/newsletter/2024/11", "/track/click", "/reset-password",
};
static const char *const url_defs[] = {
	"Default Inbound URL Protect Definition", "Default Internal URL Protect Definition",
	"Inbound URL 'Aggressive'", "Default URL Protection Definition",
};
static const char *const subjects[] = {
	"Invoice 4471 overdue", "Your parcel is on its way", "Q4 planning",
	"Password expiry notice", "Shared document: budget.xlsx", "Team lunch Friday",
	"Action required: verify your account", "Weekly newsletter", "Re: contract draft",
	"Payment confirmation", "Requested File", "Urgent wire transfer",
};
/* Categories as public records show them [ELA-URL-TEST] [ELA-MOCK]. */
static const char *const clean_categories[] = {
	"Business", "Search Engines & Portals", "Fashion & Beauty", "Unknown",
};
static const char *const bad_categories[] = {
	"Compromised", "Dangerous file extension",
};
/* [ELA-IP-TEST] [ELA-MOCK] */
static const char *const imp_defs[] = {
	"IP - 1 hit (Tag email)", "IP - 2 hits (Hold for Review / User Hold)",
};
static const char *const imp_identifiers[] = {
	"internal_user_name", "targeted_threat_dictionary", "similar_internal_domain",
	"newly_observed_domain", "reply_address_mismatch",
};
static const char *const file_names[] = {
	"invoice_4471.pdf", "numbers.xlsx", "scan0001.docm", "setup.exe", "report.rtf",
	"photos.zip", "contract.docx",
};
static const char *const file_types[] = {
	"application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.ms-word.document.macroEnabled.12", "application/x-msdownload",
	"text/rtf", "application/zip",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
};
static const char *const att_defs[] = {
	"Default Inbound Attachment Protect Definition",
	"Default Internal Attachment Protect Definition",
	"Inbound - Safe file with On-Demand Sandbox",
};
static const char *const routes[] = { "inbound", "outbound", "internal" };

/* Hostile text, already JSON-encoded (the bytes between the quotes): CSI,
 * OSC title and OSC 52, U+202E, CR, BS, TAB, DEL, raw U+009B, zero-width
 * characters, wide CJK, and escaped NUL and ESC. String literals are split
 * where a hex escape would otherwise swallow the next character. */
static const char hostile_subject[] =
	"Invoice \\u001b[31mOVERDUE\\u001b[0m\\u001b[2J \\u001b]0;pwned\\u0007 "
	"\\u001b]52;c;cm0gLXJmIH4=\\u0007 \xE2\x80\xAE" "fdp.exe\\r\\b\\tX\x7F\xC2\x9B"
	"6n\xE2\x80\x8B\xE2\x80\x8D \xE8\xAB\x8B\xE6\xB1\x82\xE6\x9B\xB8 \\u0000 end";
static const char hostile_file[] =
	"photo\xE2\x80\xAE" "gnp.exe\\u001b[8m hidden\\u001b[0m\x7F\\r";
static const char hostile_def[] =
	"\\u001b]52;c;ZWNobyBoYWNrZWQ=\\u0007Policy\\u001b]0;title\\u0007 "
	"\xE5\xAE\x89\xE5\x85\xA8\xE7\xAD\x96\xE7\x95\xA5\xE2\x80\x8B\\b\\b\\b\\t";
static const char hostile_addr[] =
	"\\\"CEO\\r\\u001b[1m\\\"\xC2\x9B" "7m@evil.example";

/* The terminal-injection corpus (--hostile-corpus), JSON-encoded like the
 * strings above. Each entry carries a distinctive PWNED-... marker so a test
 * can find where its payload ended up. Raw bytes that are not UTF-8 (0x9B,
 * overlongs, surrogates, > U+10FFFF) go into the JSON as they are: the
 * client must turn them into U+FFFD, not reject the page. */
static const char *const corpus_text[] = {
	/* CSI: clear screen, home, colours, cursor moves, alternate screen off,
	 * a device status query */
	"\\u001b[2J\\u001b[H\\u001b[31mPWNED-CSI\\u001b[0m\\u001b[10;10H\\u001b[5A\\u001b[3C"
	"\\u001b[?1049l\\u001b[6n\\u001b[K",
	/* OSC 0 window title ended by BEL, OSC 2 ended by ST */
	"\\u001b]0;PWNED-TITLE\\u0007 \\u001b]2;PWNED-TITLE2\\u001b\\\\",
	/* OSC 8 hyperlink */
	"\\u001b]8;;https://evil.example/PWNED-LINK\\u001b\\\\click me\\u001b]8;;\\u001b\\\\",
	/* OSC 52 clipboard write (base64 of "PWNED-CLIP") */
	"\\u001b]52;c;UFdORUQtQ0xJUA==\\u0007PWNED-OSC52",
	/* DCS (sixel-like), APC, PM, SOS, each ended by ST */
	"\\u001bPq#0;2;0;0;0PWNED-DCS\\u001b\\\\ \\u001b_PWNED-APC\\u001b\\\\ "
	"\\u001b^PWNED-PM\\u001b\\\\ \\u001bXPWNED-SOS\\u001b\\\\",
	/* C1 controls: a raw 0x9B byte (invalid UTF-8), U+009B raw and escaped,
	 * U+009D (8-bit OSC) with a BEL */
	"\x9B" "31mPWNED-RAW9B \xC2\x9B" "32mPWNED-C29B \\u009b33m \xC2\x9D" "0;PWNED-C1OSC\\u0007",
	/* CR, BS, TAB, VT, FF, DEL, NUL, LF */
	"PWNED-CR\\rA\\bB\\tC\\u000bD\\fE\x7F" "F\\u0000G\\nH",
	/* bidi overrides and isolates, zero-width characters, BOM */
	"\xE2\x80\xAE" "PWNED-BIDI\xE2\x80\xAC \\u2066iso\\u2067rtl\\u2068fs\\u2069 "
	"\xE2\x81\xA6" "x\xE2\x81\xA9 PWNED\xE2\x80\x8B" "ZW\\ufeff\xEF\xBB\xBF" "BOM\\u200d\\u2028\\u2029",
	/* invalid and overlong UTF-8: C0 AF, E0 80 AF, a surrogate ED A0 80,
	 * F4 90 80 80 (> U+10FFFF), F8 88 80 80 80, FF FE, a cut sequence */
	"PWNED-UTF8 \xC0\xAF \xE0\x80\xAF \xED\xA0\x80 \xF4\x90\x80\x80 \xF8\x88\x80\x80\x80 "
	"\xFF\xFE \xE2\x82 end",
	/* lone surrogate escapes, a reversed pair, and one valid pair */
	"PWNED-SURR \\ud800 \\udfff \\udc00\\ud800 \\ud800\\u0041 \\ud83d\\ude00",
	/* wide CJK, full-width Latin, emoji (a ZWJ family, a flag) */
	"PWNED-WIDE \xE8\xAB\x8B\xE6\xB1\x82\xE6\x9B\xB8 \xEF\xBC\xA1\xEF\xBC\xA2 "
	"\xF0\x9F\x98\x80\xF0\x9F\x8E\x89 \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9 "
	"\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7",
	/* 10,000 combining marks: filled in by build_marks() */
	NULL,
	/* a long run of wide characters: the column cut must not split one */
	NULL,
};
/* Impersonation ids only: an id that breaks lines and quotes (CR, LF, NEL
 * raw and escaped, '"' escaped) without a NUL, so the collector keeps it
 * and every output must carry it intact on one line. */
static const char corpus_id_breaks[] =
	"PWNED-IDBREAK\\r\\nCRLF\\r LF\\n NEL\xC2\x85raw \\u0085esc \\\"quoted\\\" \\\"";
#define CORPUS_MARKS 11
#define CORPUS_WIDE_RUN 12
#define NCORPUS NELEM(corpus_text)

static char corpus_marks[24 + 10000 * 2 + 16];
static char corpus_wide[16 + 400 * 3];
static pthread_once_t corpus_once = PTHREAD_ONCE_INIT;

static void build_corpus(void)
{
	/* the first mark has no base character: it must not land on
	 * the cell before the field */
	size_t n = (size_t)snprintf(corpus_marks, sizeof(corpus_marks),
				    "\xCC\x81PWNED-MARKS e");

	for (int k = 0; k < 10000; k++) {  /* U+0301 COMBINING ACUTE ACCENT */
		corpus_marks[n++] = '\xCC';
		corpus_marks[n++] = '\x81';
	}
	snprintf(corpus_marks + n, sizeof(corpus_marks) - n, " x");
	n = (size_t)snprintf(corpus_wide, sizeof(corpus_wide), "PWNED-CJK");
	for (int k = 0; k < 400; k++) {   /* U+6F22 U+5B57 alternating */
		memcpy(corpus_wide + n, k & 1 ? "\xE5\xAD\x97" : "\xE6\xBC\xA2", 3);
		n += 3;
	}
	corpus_wide[n] = '\0';
}

/* Corpus entry k (wraps). */
static const char *corpus_entry(uint64_t k)
{
	k %= NCORPUS;
	pthread_once(&corpus_once, build_corpus);
	if (k == CORPUS_MARKS)
		return corpus_marks;
	if (k == CORPUS_WIDE_RUN)
		return corpus_wide;
	return corpus_text[k];
}

/* The 3000+ character URL, built once. */
static char long_url[3400];
static pthread_once_t long_url_once = PTHREAD_ONCE_INIT;

static void build_long_url(void)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = 0;
	uint64_t x = 42;

	n += (size_t)snprintf(long_url, sizeof(long_url),
			      "https://login.sim.example/\xE2\x80\xAE"
			      "\\u001b]8;;https://evil.example\\u0007click?token=");
	for (int k = 0; k < 3000; k++) {
		x = mix(x);
		long_url[n++] = alpha[x & 63];
	}
	snprintf(long_url + n, sizeof(long_url) - n, "&x=\\u001b[0m\x7F\xC2\x9B" "K");
}

static void put_message_id(mw_buf *b, const struct sim_recset *rs, int type, int64_t i)
{
	LIT(b, "\"messageId\":\"<sim-");
	mw_buf_puts(b, type_names[type]);
	mw_buf_putc(b, '-');
	put_i64(b, i);
	mw_buf_putc(b, '@');
	put_i64(b, (int64_t)rs->seed);
	LIT(b, ".sim.example>\"");
}

/* What a hostile tenant does to a record's time field (timeshift, baddate):
 * moved by shift seconds, or replaced by text; and which revision of its
 * content it serves (revise). NULL: the record as first served. */
struct when {
	int64_t shift;
	const char *text;
	int rev;
};

/* text as a JSON string: '"', '\\' and the C0 controls escaped. */
static void put_jtext(mw_buf *b, const char *text)
{
	static const char hx[] = "0123456789abcdef";

	mw_buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\') {
			mw_buf_putc(b, '\\');
			mw_buf_putc(b, (char)*p);
		} else if (*p < 0x20) {
			char u[6] = { '\\', 'u', '0', '0', hx[*p >> 4], hx[*p & 15] };

			mw_buf_append(b, u, 6);
		} else {
			mw_buf_putc(b, (char)*p);
		}
	}
	mw_buf_putc(b, '"');
}

static void put_date(mw_buf *b, const char *key, const struct sim_recset *rs, int type,
		     int64_t i, const struct when *w)
{
	int64_t t = sim_records_time_us(rs, type, i) + (w ? w->shift * 1000000 : 0);
	char d[25];

	/* floor division: times before 1970 are not expected, but stay exact */
	sim_records_format_date(t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000), d);
	mw_buf_putc(b, '"');
	mw_buf_puts(b, key);
	LIT(b, "\":");
	if (w && w->text)
		put_jtext(b, w->text);
	else
		put_q(b, d);
}

static void put_ip(mw_buf *b, uint64_t h)
{
	char ip[32];
	int n = snprintf(ip, sizeof(ip), "\"%s.%u\"", (h & 1) ? "203.0.113" : "198.51.100",
			 (unsigned)(1 + (h >> 1) % 254));

	mw_buf_append(b, ip, (size_t)n);
}

static void put_url_text(mw_buf *b, uint64_t h, int hostile)
{
	if (hostile) {
		pthread_once(&long_url_once, build_long_url);
		mw_buf_puts(b, long_url);
		return;
	}
	LIT(b, "https://");
	mw_buf_puts(b, PICK(h, 3, url_hosts));
	mw_buf_puts(b, PICK(h, 7, url_paths));
	LIT(b, "?id=");
	put_hex(b, h >> 20, 10);
}

static void append_url(mw_buf *b, const struct sim_recset *rs, int64_t i, uint64_t h,
		       int hostile, const struct when *w)
{
	uint64_t g = mix(h ^ 0x5eed);
	int route = attr_route(SIM_URL, h);
	int bad = strcmp(attr_verdict(SIM_URL, h), "malicious") == 0;
	unsigned u = (unsigned)(g % NELEM(users));

	LIT(b, "{\"userEmailAddress\":\"");
	mw_buf_puts(b, users[u]);
	LIT(b, "@sim.example\",\"fromUserEmailAddress\":");
	if (hostile) {
		put_q(b, hostile_addr);
	} else if (route == SIM_ROUTE_INBOUND) {
		put_q(b, PICK(g, 8, senders));
	} else {
		mw_buf_putc(b, '"');
		mw_buf_puts(b, PICK(g, 8, users));
		LIT(b, "@sim.example\"");
	}
	LIT(b, ",\"url\":\"");
	put_url_text(b, g, hostile);
	LIT(b, "\",\"ttpDefinition\":");
	if (hostile) {
		put_q(b, hostile_def);
	} else {
		put_q(b, route == SIM_ROUTE_INTERNAL ? url_defs[1] : PICK(g, 12, url_defs));
	}
	LIT(b, ",\"subject\":");
	if (hostile) {
		put_q(b, hostile_subject);
	} else {
		put_q(b, PICK(g, 16, subjects));
	}
	/* action: allow for clean clicks, warn for malicious ones; actions:
	 * Allow, None or Block, Browser Isolation rarely; userAwarenessAction
	 * Continue, N/A or NA ([ELA-URL-TEST]; HACKING, "The log endpoints"). A
	 * capitalised "Block" action exists only in a synthetic sample, so
	 * never here. */
	LIT(b, ",\"action\":");
	put_q(b, bad ? "warn" : "allow");
	LIT(b, ",\"adminOverride\":\"N/A\",\"userOverride\":\"None\",\"scanResult\":");
	put_q(b, bad ? "malicious" : "clean");
	LIT(b, ",\"category\":");
	put_q(b, bad ? PICK(g, 24, bad_categories) : PICK(g, 24, clean_categories));
	LIT(b, ",\"sendingIp\":");
	if (route == SIM_ROUTE_INTERNAL)
		LIT(b, "\"Internal IP\"");
	else
		put_ip(b, g >> 28);
	LIT(b, ",\"userAwarenessAction\":");
	put_q(b, bad ? ((g >> 36) % 4 ? "N/A" : "NA") : (g >> 36) % 3 ? "Continue" : "N/A");
	mw_buf_putc(b, ',');
	put_date(b, "date", rs, SIM_URL, i, w);
	LIT(b, ",\"actions\":");
	if (bad)
		put_q(b, (g >> 20) % 10 < 5 ? "Block" : (g >> 20) % 10 < 9 ? "None" :
			 "Browser Isolation");
	else
		put_q(b, (g >> 20) % 10 < 6 ? "Allow" : "None");
	LIT(b, ",\"route\":");
	put_q(b, routes[route]);
	LIT(b, ",\"creationMethod\":");
	put_q(b, (g >> 40) % 5 == 0 ? "Entry Scan" : "User Click");
	LIT(b, ",\"emailPartsDescription\":");
	/* ["Body"] or ["Attachment"] [ELA-URL-TEST] */
	if ((g >> 44) % 6 == 0)
		LIT(b, "[\"Attachment\"]");
	else
		LIT(b, "[\"Body\"]");
	mw_buf_putc(b, ',');
	put_message_id(b, rs, SIM_URL, i);
	if (bad) {
		const char *cat = PICK(g, 24, bad_categories);

		if (strcmp(cat, "Dangerous file extension") == 0) {
			/* tagMap shapes as [ELA-URL-TEST] shows them */
			LIT(b, ",\"tagMap\":{\"DangerousFileExt\":{\"Status\":[\"CustomerSpecific\","
			       "\"VerdictBlock\"],\"Inspect:FileExts\":[\"[exe]\"],"
			       "\"Inspect:MimeTypes\":[\"[]\"],"
			       "\"ContentCheck:DangerousMimetypesUrlFileDownload\":"
			       "[\"application/x-msdownload\"],\"ContentCheck:ContentScannersBlocked\":"
			       "[\".exe\"],\"ContentCheck:DangerousExtsUrlFileDownload\":[\"dll\"]}}");
		} else {
			LIT(b, ",\"tagMap\":{\"UrlReputationScan\":{\"Status\":[\"CustomerAll\","
			       "\"VerdictBlock\"],"
			       "\"Type\":[\"Compromised\"],\"UrlBlock\":[\"ORIGINAL:");
			put_url_text(b, g, hostile);
			LIT(b, " (Blocked as COMPROMISED)\"],\"Url\":[\"");
			put_url_text(b, g, hostile);
			LIT(b, "\"]}}");
		}
		if ((g >> 48) % 3 == 0)
			LIT(b, ",\"advancedPhishingResult\":{\"CredentialTheftBrands\":"
			       "[\"Microsoft\"],\"CredentialTheftEvidence\":[\"Login form\"],"
			       "\"CredentialTheftTags\":[\"Impersonation\"]}");
	}
	mw_buf_putc(b, '}');
}

static void put_imp_result(mw_buf *b, const char *ident, unsigned u)
{
	LIT(b, "{\"impersonationDomainSource\":");
	put_q(b, ident);
	if (strcmp(ident, "internal_user_name") == 0) {
		LIT(b, ",\"similarDomain\":\"");
		mw_buf_puts(b, user_names[u]);
		LIT(b, " <");
		mw_buf_puts(b, users[u]);
		LIT(b, "@sim.example>\",\"stringSimilarToDomain\":");
		put_q(b, user_names[u]);
		LIT(b, ",\"checkerResult\":\"hit\"}");
	} else if (strcmp(ident, "targeted_threat_dictionary") == 0) {
		LIT(b, ",\"stringSimilarToDomain\":\"wire transfer\"}");
	} else if (strcmp(ident, "similar_internal_domain") == 0) {
		LIT(b, ",\"similarDomain\":\"sim.example\",\"stringSimilarToDomain\":"
		       "\"sirn.example\",\"checkerResult\":\"hit\"}");
	} else if (strcmp(ident, "newly_observed_domain") == 0) {
		LIT(b, ",\"stringSimilarToDomain\":\"payments-sim.example\","
		       "\"checkerResult\":\"hit\"}");
	} else {
		LIT(b, ",\"stringSimilarToDomain\":\"reply-to: refunds@mail.example\","
		       "\"checkerResult\":\"hit\"}");
	}
}

static void put_mtoken(mw_buf *b, const struct sim_recset *rs, int64_t i, uint64_t h)
{
	/* base64url of (hash, seed, i): unique per (seed, i) by construction,
	 * and in no order. Mimecast's ids are zlib data in base64 ("eNq" is
	 * the zlib header 78 9c; HACKING 4.4, impersonation fields), so
	 * consecutive records' ids sort anywhere: a store indexing them must
	 * meet random keys, as it does here. */
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[24];
	char enc[33];
	uint64_t v[3] = { mix(h ^ 0x7e57), rs->seed, (uint64_t)i };

	for (int k = 0; k < 3; k++)
		for (int j = 0; j < 8; j++)
			raw[k * 8 + j] = (unsigned char)(v[k] >> (56 - 8 * j));
	for (int k = 0; k < 8; k++) {
		uint32_t w = (uint32_t)raw[3 * k] << 16 | (uint32_t)raw[3 * k + 1] << 8 |
			     raw[3 * k + 2];
		enc[4 * k] = a[w >> 18];
		enc[4 * k + 1] = a[(w >> 12) & 63];
		enc[4 * k + 2] = a[(w >> 6) & 63];
		enc[4 * k + 3] = a[w & 63];
	}
	enc[32] = '\0';
	LIT(b, "\"id\":\"MTOKEN:eNq");
	mw_buf_puts(b, enc);
	mw_buf_putc(b, '"');
}

static void append_impersonation(mw_buf *b, const struct sim_recset *rs, int64_t i,
				 uint64_t h, int hostile, const struct when *w)
{
	uint64_t g = mix(h ^ 0x1de0);
	unsigned u = (unsigned)(g % NELEM(users));
	int hits = (g >> 8) % 3 == 0 ? 2 : 1;
	unsigned i1 = (unsigned)((g >> 12) % NELEM(imp_identifiers));
	unsigned i2 = (i1 + 1 + (unsigned)((g >> 16) % (NELEM(imp_identifiers) - 1))) %
		      NELEM(imp_identifiers);

	mw_buf_putc(b, '{');
	put_mtoken(b, rs, i, h);
	LIT(b, ",\"senderAddress\":");
	if (hostile) {
		put_q(b, hostile_addr);
	} else {
		put_q(b, PICK(g, 20, lookalike_senders));
	}
	LIT(b, ",\"recipientAddress\":\"");
	mw_buf_puts(b, users[u]);
	LIT(b, "@sim.example\",\"subject\":");
	if (hostile) {
		put_q(b, hostile_subject);
	} else {
		put_q(b, PICK(g, 24, subjects));
	}
	LIT(b, ",\"definition\":");
	if (hostile) {
		put_q(b, hostile_def);
	} else {
		put_q(b, hits == 2 ? imp_defs[1] : imp_defs[0]);
	}
	LIT(b, ",\"hits\":");
	put_i64(b, hits);
	LIT(b, ",\"identifiers\":[");
	put_q(b, imp_identifiers[i1]);
	if (hits == 2) {
		mw_buf_putc(b, ',');
		put_q(b, imp_identifiers[i2]);
	}
	/* revise, odd rev: the verdict changed (the hold released, or a
	 * line let through held) and the tag with it */
	int flip = w && w->rev % 2;

	LIT(b, "],\"action\":");
	put_q(b, (hits == 2) != flip ? "hold" : "none");
	LIT(b, ",\"taggedExternal\":");
	if ((g >> 32) % 4)
		LIT(b, "true");
	else
		LIT(b, "false");
	LIT(b, ",\"taggedMalicious\":");
	if (attr_tagged(h) != flip)
		LIT(b, "true");
	else
		LIT(b, "false");
	LIT(b, ",\"senderIpAddress\":");
	put_ip(b, g >> 36);
	mw_buf_putc(b, ',');
	put_date(b, "eventTime", rs, SIM_IMPERSONATION, i, w);
	LIT(b, ",\"impersonationResults\":[");
	put_imp_result(b, imp_identifiers[i1], u);
	if (hits == 2) {
		mw_buf_putc(b, ',');
		put_imp_result(b, imp_identifiers[i2], u);
	}
	LIT(b, "],");
	put_message_id(b, rs, SIM_IMPERSONATION, i);
	mw_buf_putc(b, '}');
}

static void append_attachment(mw_buf *b, const struct sim_recset *rs, int64_t i,
			      uint64_t h, int hostile, const struct when *w)
{
	uint64_t g = mix(h ^ 0xa77a);
	unsigned u = (unsigned)(g % NELEM(users));
	unsigned f = (unsigned)((g >> 8) % NELEM(file_names));
	int route = attr_route(SIM_ATTACHMENT, h);
	const char *res = attr_verdict(SIM_ATTACHMENT, h);

	LIT(b, "{\"senderAddress\":");
	if (hostile) {
		put_q(b, hostile_addr);
	} else if ((g >> 12) % 10 == 0) {
		LIT(b, "\"<>\"");
	} else if (route == SIM_ROUTE_INBOUND) {
		put_q(b, PICK(g, 16, senders));
	} else {
		mw_buf_putc(b, '"');
		mw_buf_puts(b, PICK(g, 16, users));
		LIT(b, "@sim.example\"");
	}
	LIT(b, ",\"recipientAddress\":\"");
	mw_buf_puts(b, users[u]);
	LIT(b, "@sim.example\",\"fileName\":");
	if (hostile) {
		put_q(b, hostile_file);
	} else {
		put_q(b, file_names[f]);
	}
	LIT(b, ",\"fileType\":");
	put_q(b, file_types[f]);
	LIT(b, ",\"result\":");
	put_q(b, res);
	/* only the values public records show: none, "none, none", "user
	 * release, none" [ELA-AP-TEST] [ELA-MOCK] (a released file is not
	 * malicious) */
	LIT(b, ",\"actionTriggered\":");
	if (strcmp(res, "malicious") == 0)
		put_q(b, (g >> 20) % 3 == 0 ? "none, none" : "none");
	else
		put_q(b, (g >> 20) % 7 == 0 ? "user release, none" :
			 (g >> 20) % 7 == 1 ? "none, none" : "none");
	mw_buf_putc(b, ',');
	put_date(b, "date", rs, SIM_ATTACHMENT, i, w);
	LIT(b, ",\"details\":\"");
	if (hostile) {
		mw_buf_puts(b, hostile_subject);
	} else {
		/* The verdict padded with spaces to 50 columns, CR LF, the time
		 * taken [ELA-AP-TEST]. */
		const char *word = strcmp(res, "malicious") == 0 ? "Malicious" :
				   strcmp(res, "safe") == 0 ? "Safe" :
				   strcmp(res, "clean") == 0 ? "Clean" :
				   strcmp(res, "timeout") == 0 ? "Timeout" : "Unknown";
		char tmp[160];
		int n = snprintf(tmp, sizeof(tmp), "%-50s\\r\\nTime taken: 0 hrs, %u min, %u sec",
				 word, (unsigned)((g >> 24) % 3), (unsigned)((g >> 28) % 60));

		mw_buf_append(b, tmp, (size_t)n);
	}
	LIT(b, "\",\"route\":");
	put_q(b, routes[route]);
	mw_buf_putc(b, ',');
	put_message_id(b, rs, SIM_ATTACHMENT, i);
	LIT(b, ",\"subject\":");
	if (hostile) {
		put_q(b, hostile_subject);
	} else {
		put_q(b, PICK(g, 32, subjects));
	}
	LIT(b, ",\"fileHash\":\"");
	for (int k = 0; k < 4; k++)
		put_hex(b, mix(g + (uint64_t)k), 16);
	LIT(b, "\",\"definition\":");
	if (hostile) {
		put_q(b, hostile_def);
	} else {
		put_q(b, route == SIM_ROUTE_INTERNAL ? att_defs[1] : PICK(g, 40, att_defs));
	}
	mw_buf_putc(b, '}');
}

/* Audit events [MC-AUDIT] [ELA-AUD-TEST]: id (opaque; Mimecast's is
 * base64url of zlib'd JSON, so an MTOKEN-like string here), auditType, user
 * (may be ""), eventTime, eventInfo (free text with its own local times
 * and, at times, newlines), category (the codes [ELA-AUD-TEST] shows). */
static const char *const audit_categories[] = {
	"authentication_logs", "account_logs", "user_account_and_role_logs",
	"mimecast_access_logs", "integrations_and_apis", "reporting_logs",
};
static const char *const audit_types[] = {
	"Logon Authentication Failed", "Successful Logon", "Role Updated",
	"Account Setting Changed", "API Application Key Created", "Report Exported",
};

static void append_audit(mw_buf *b, const struct sim_recset *rs, int64_t i, uint64_t h,
			 int hostile, const struct when *w)
{
	uint64_t g = mix(h ^ 0xa0d1);
	unsigned k = (unsigned)(g % NELEM(audit_types));
	unsigned u = (unsigned)((g >> 8) % NELEM(users));

	mw_buf_putc(b, '{');
	put_mtoken(b, rs, i, h);
	LIT(b, ",\"auditType\":");
	put_q(b, audit_types[k]);
	LIT(b, ",\"user\":");
	if (hostile) {
		put_q(b, hostile_addr);
	} else if ((g >> 12) % 10 == 0) {
		LIT(b, "\"\"");
	} else {
		mw_buf_putc(b, '"');
		mw_buf_puts(b, users[u]);
		LIT(b, "@sim.example\"");
	}
	mw_buf_putc(b, ',');
	put_date(b, "eventTime", rs, SIM_AUDIT, i, w);
	LIT(b, ",\"eventInfo\":\"");
	if (hostile) {
		mw_buf_puts(b, hostile_subject);
	} else {
		char tmp[200];
		int n = snprintf(tmp, sizeof(tmp), "%s, Date: %02u:%02u:%02u BST, IP: ",
				 audit_types[k], (unsigned)((g >> 16) % 24),
				 (unsigned)((g >> 24) % 60), (unsigned)((g >> 30) % 60));

		mw_buf_append(b, tmp, (size_t)n);
		n = snprintf(tmp, sizeof(tmp), "%s.%u, Application: Administration Console",
			     (g & 1) ? "203.0.113" : "198.51.100", (unsigned)(1 + (g >> 36) % 254));
		mw_buf_append(b, tmp, (size_t)n);
		if ((g >> 44) % 5 == 0)
			LIT(b, "\\nReason: Invalid password");
	}
	LIT(b, "\",\"category\":");
	put_q(b, k == 0 || k == 1 ? audit_categories[0] : PICK(g, 48, audit_categories));
	mw_buf_putc(b, '}');
}

/* DLP logs [ELA-DLP-FIELDS] [ELA-DLP-TEST]: senderAddress ("<>" for
 * bounces), recipientAddress, subject, eventTime, route, policy, action
 * (hold, notification, block as seen in rows), messageId; no id. */
static const char *const dlp_policies[] = {
	"Credit card numbers outbound", "Confidential documents - hold for review",
	"Personal data (GDPR) external", "Source code leaving the company",
};
static const char *const dlp_actions[] = { "notification", "hold", "block" };

static void append_dlp(mw_buf *b, const struct sim_recset *rs, int64_t i, uint64_t h,
		       int hostile, const struct when *w)
{
	uint64_t g = mix(h ^ 0xd1b0);
	unsigned u = (unsigned)(g % NELEM(users));
	unsigned a = (unsigned)((g >> 8) % 10);

	LIT(b, "{\"senderAddress\":");
	if (hostile) {
		put_q(b, hostile_addr);
	} else if ((g >> 12) % 15 == 0) {
		LIT(b, "\"<>\"");
	} else {
		mw_buf_putc(b, '"');
		mw_buf_puts(b, users[u]);
		LIT(b, "@sim.example\"");
	}
	LIT(b, ",\"recipientAddress\":");
	put_q(b, PICK(g, 16, senders));
	LIT(b, ",\"subject\":");
	if (hostile) {
		put_q(b, hostile_subject);
	} else {
		put_q(b, PICK(g, 20, subjects));
	}
	mw_buf_putc(b, ',');
	put_date(b, "eventTime", rs, SIM_DLP, i, w);
	LIT(b, ",\"route\":");
	put_q(b, (g >> 24) % 5 ? "outbound" : "internal");
	LIT(b, ",\"policy\":");
	if (hostile) {
		put_q(b, hostile_def);
	} else {
		put_q(b, PICK(g, 28, dlp_policies));
	}
	LIT(b, ",\"action\":");
	put_q(b, dlp_actions[a < 6 ? 0 : a < 9 ? 1 : 2]);
	mw_buf_putc(b, ',');
	put_message_id(b, rs, SIM_DLP, i);
	mw_buf_putc(b, '}');
}

/* ---- corpus records: every string field from the injection corpus ------------ */

/* Field f of hostile record j gets corpus entry j + f, so over NCORPUS
 * consecutive hostile records every field carries every entry. */
struct cw {
	mw_buf *b;
	uint64_t k;
	int first;
};

static void cw_key(struct cw *c, const char *key)
{
	if (!c->first)
		mw_buf_putc(c->b, ',');
	c->first = 0;
	mw_buf_putc(c->b, '"');
	mw_buf_puts(c->b, key);
	LIT(c->b, "\":");
}

/* The next corpus string, quoted, with an optional plain prefix. */
static void cw_val(struct cw *c, const char *prefix)
{
	mw_buf_putc(c->b, '"');
	if (prefix)
		mw_buf_puts(c->b, prefix);
	mw_buf_puts(c->b, corpus_entry(c->k++));
	mw_buf_putc(c->b, '"');
}

static void cw_str(struct cw *c, const char *key)
{
	cw_key(c, key);
	cw_val(c, NULL);
}

/* ["..","..."] of n corpus strings. */
static void cw_arr(struct cw *c, const char *key, int n)
{
	cw_key(c, key);
	mw_buf_putc(c->b, '[');
	for (int m = 0; m < n; m++) {
		if (m)
			mw_buf_putc(c->b, ',');
		cw_val(c, NULL);
	}
	mw_buf_putc(c->b, ']');
}

/* The identity fields keep a unique plain prefix: the id must stay unique
 * and the messageId findable; the corpus follows it. */
static void cw_ident(struct cw *c, const char *key, const struct sim_recset *rs, int type,
		     int64_t i)
{
	char pfx[96];

	snprintf(pfx, sizeof(pfx), "<sim-%s-%lld@%llu.sim.example>", type_names[type],
		 (long long)i, (unsigned long long)rs->seed);
	cw_key(c, key);
	cw_val(c, pfx);
}

static void append_corpus(mw_buf *b, const struct sim_recset *rs, int type, int64_t i,
			  const struct when *w)
{
	struct cw c = { b, (uint64_t)(i / rs->hostile_every), 1 };
	char tok[64];

	mw_buf_putc(b, '{');
	switch (type) {
	case SIM_URL:
		cw_str(&c, "userEmailAddress");
		cw_str(&c, "fromUserEmailAddress");
		cw_str(&c, "url");
		cw_str(&c, "ttpDefinition");
		cw_str(&c, "subject");
		cw_str(&c, "action");
		cw_str(&c, "adminOverride");
		cw_str(&c, "userOverride");
		cw_str(&c, "scanResult");
		cw_str(&c, "category");
		cw_str(&c, "sendingIp");
		cw_str(&c, "userAwarenessAction");
		mw_buf_putc(b, ',');
		put_date(b, "date", rs, type, i, w);
		cw_str(&c, "actions");
		cw_str(&c, "route");
		cw_str(&c, "creationMethod");
		cw_arr(&c, "emailPartsDescription", 2);
		cw_ident(&c, "messageId", rs, type, i);
		cw_key(&c, "tagMap");
		LIT(b, "{\"UrlReputationScan\":{");
		c.first = 1;
		cw_arr(&c, "Status", 1);
		cw_arr(&c, "UrlBlock", 1);
		cw_arr(&c, "Url", 1);
		LIT(b, "}}");
		cw_key(&c, "advancedPhishingResult");
		mw_buf_putc(b, '{');
		c.first = 1;
		cw_arr(&c, "CredentialTheftBrands", 2);
		cw_arr(&c, "CredentialTheftEvidence", 1);
		mw_buf_putc(b, '}');
		break;
	case SIM_IMPERSONATION:
		snprintf(tok, sizeof(tok), "MTOKEN:eNqcorpus-%llu-%lld-",
			 (unsigned long long)rs->seed, (long long)i);
		cw_key(&c, "id");
		/* the collector sets aside ids over 4 KiB (a limit, tested
		 * elsewhere): the two long entries give their place, the marks
		 * to an id of line breaks and quotes (CR, LF, U+0085 raw and
		 * escaped, '"'; no NUL, so it is kept), the wide run to the
		 * first entry */
		mw_buf_putc(b, '"');
		mw_buf_puts(b, tok);
		mw_buf_puts(b, (c.k % NCORPUS) == CORPUS_MARKS ? corpus_id_breaks :
			       corpus_entry((c.k % NCORPUS) == CORPUS_WIDE_RUN ? 0 : c.k));
		mw_buf_putc(b, '"');
		c.k++;
		cw_str(&c, "senderAddress");
		cw_str(&c, "recipientAddress");
		cw_str(&c, "subject");
		cw_str(&c, "definition");
		LIT(b, ",\"hits\":2");
		cw_arr(&c, "identifiers", 2);
		cw_str(&c, "action");
		LIT(b, ",\"taggedExternal\":true,\"taggedMalicious\":");
		if (attr_tagged(rec_hash(rs, type, i)))
			LIT(b, "true");
		else
			LIT(b, "false");
		cw_str(&c, "senderIpAddress");
		mw_buf_putc(b, ',');
		put_date(b, "eventTime", rs, type, i, w);
		cw_key(&c, "impersonationResults");
		mw_buf_putc(b, '[');
		for (int m = 0; m < 2; m++) {
			if (m)
				mw_buf_putc(b, ',');
			mw_buf_putc(b, '{');
			c.first = 1;
			cw_str(&c, "impersonationDomainSource");
			cw_str(&c, "similarDomain");
			cw_str(&c, "stringSimilarToDomain");
			cw_str(&c, "checkerResult");
			mw_buf_putc(b, '}');
		}
		mw_buf_putc(b, ']');
		cw_ident(&c, "messageId", rs, type, i);
		break;
	case SIM_AUDIT:
		snprintf(tok, sizeof(tok), "MTOKEN:eNqcorpus-%llu-%lld",
			 (unsigned long long)rs->seed, (long long)i);
		cw_key(&c, "id");
		put_q(b, tok);
		cw_str(&c, "auditType");
		cw_str(&c, "user");
		mw_buf_putc(b, ',');
		put_date(b, "eventTime", rs, type, i, w);
		cw_str(&c, "eventInfo");
		cw_str(&c, "category");
		break;
	case SIM_DLP:
		cw_str(&c, "senderAddress");
		cw_str(&c, "recipientAddress");
		cw_str(&c, "subject");
		mw_buf_putc(b, ',');
		put_date(b, "eventTime", rs, type, i, w);
		cw_str(&c, "route");
		cw_str(&c, "policy");
		cw_str(&c, "action");
		cw_ident(&c, "messageId", rs, type, i);
		break;
	default:
		cw_str(&c, "senderAddress");
		cw_str(&c, "recipientAddress");
		cw_str(&c, "fileName");
		cw_str(&c, "fileType");
		cw_str(&c, "result");
		cw_str(&c, "actionTriggered");
		mw_buf_putc(b, ',');
		put_date(b, "date", rs, type, i, w);
		cw_str(&c, "details");
		cw_str(&c, "route");
		cw_ident(&c, "messageId", rs, type, i);
		cw_str(&c, "subject");
		cw_str(&c, "fileHash");
		cw_str(&c, "definition");
		break;
	}
	/* a field the API never sends, with a hostile key */
	cw_key(&c, "PWNED-KEY\\u001b]0;PWNED-KEYTITLE\\u0007\\u001b[2J\xC2\x9B" "1m");
	cw_val(&c, NULL);
	mw_buf_putc(b, '}');
}

static void append_rec(mw_buf *out, const struct sim_recset *rs, int type, int64_t i,
		       const struct when *w)
{
	uint64_t h = rec_hash(rs, type, i);
	int hostile = is_hostile(rs, i);

	if (hostile && rs->corpus) {
		append_corpus(out, rs, type, i, w);
		return;
	}
	switch (type) {
	case SIM_URL: append_url(out, rs, i, h, hostile, w); break;
	case SIM_IMPERSONATION: append_impersonation(out, rs, i, h, hostile, w); break;
	case SIM_AUDIT: append_audit(out, rs, i, h, hostile, w); break;
	case SIM_DLP: append_dlp(out, rs, i, h, hostile, w); break;
	default: append_attachment(out, rs, i, h, hostile, w); break;
	}
}

void sim_records_append(mw_buf *out, const struct sim_recset *rs, int type, int64_t i)
{
	append_rec(out, rs, type, i, NULL);
}

void sim_records_append_at(mw_buf *out, const struct sim_recset *rs, int type, int64_t i,
			   int64_t shift_s, const char *date_text)
{
	struct when w = { shift_s, date_text, 0 };

	append_rec(out, rs, type, i, &w);
}

void sim_records_append_revised(mw_buf *out, const struct sim_recset *rs, int type,
				int64_t i, int rev)
{
	struct when w = { 0, NULL, rev };

	append_rec(out, rs, type, i, &w);
}
