/* util.c - shared helpers (see util.h). */
#include "util.h"
#include "sanitize.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

int mw_log_level = 1;

void mw_err_set(mw_err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

void mw_err_clear(mw_err *e)
{
	if (e)
		e->msg[0] = '\0';
}

void *mw_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("mimewatch: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *mw_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		fputs("mimewatch: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *mw_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("mimewatch: out of memory\n", stderr);
		abort();
	}
	return p;
}

char *mw_xstrdup(const char *s)
{
	return s ? mw_xstrndup(s, strlen(s)) : NULL;
}

void mw_strlcpy(char *dst, const char *src, size_t n)
{
	size_t l = src ? strlen(src) : 0;

	if (n == 0)
		return;
	if (l >= n)
		l = n - 1;
	if (l)
		memcpy(dst, src, l);
	dst[l] = '\0';
}

int mw_str_same(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

char *mw_xstrndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	p = mw_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void mw_buf_init(mw_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void mw_buf_free(mw_buf *b)
{
	free(b->data);
	mw_buf_init(b);
}

void mw_buf_reset(mw_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void mw_buf_reserve(mw_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = mw_xrealloc(b->data, cap);
	b->cap = cap;
	b->data[b->len] = '\0';  /* a first allocation is a string too, even empty */
}

void mw_buf_append(mw_buf *b, const void *p, size_t n)
{
	mw_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void mw_buf_puts(mw_buf *b, const char *s)
{
	mw_buf_append(b, s, strlen(s));
}

void mw_buf_putc(mw_buf *b, char c)
{
	mw_buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void mw_buf_printf(mw_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	mw_buf_reserve(b, 64);
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		mw_buf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* ---- clocks ------------------------------------------------------------ */

int64_t mw_now_ms(void)
{
	static int pinned = -1;
	static int64_t pin;
	struct timespec ts;

	if (pinned < 0) {
		const char *v = getenv("MIMEWATCH_NOW");
		char *end;

		pinned = 0;
		if (v && *v) {
			long long x = strtoll(v, &end, 10);
			if (*end == '\0' && x > 0) {
				pin = (int64_t)x * 1000;
				pinned = 1;
			}
		}
	}
	if (pinned)
		return pin;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mw_now(void)
{
	return mw_now_ms() / 1000;
}

struct timespec mw_deadline_in(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

int64_t mw_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mw_sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- durations --------------------------------------------------------- */

/* "<integer><unit>" as durations and sizes are written: the unit character
 * (0 for anything else: no sign, no space, nothing after the unit) and the
 * integer, at most about 2^40. */
static char number_and_unit(const char *s, int64_t *v)
{
	const char *p = s;

	*v = 0;
	if (!s || !isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p)) {
		if (*v > (INT64_C(1) << 40))
			return 0;
		*v = *v * 10 + (*p++ - '0');
	}
	return p[0] && p[1] == '\0' ? p[0] : 0;
}

int mw_parse_duration(const char *s, int64_t *secs)
{
	int64_t v, mul;

	switch (number_and_unit(s, &v)) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return -1;
	}
	*secs = v * mul;
	return 0;
}

void mw_format_duration(int64_t secs, char *buf, size_t n)
{
	if (secs != 0 && secs % 86400 == 0)
		snprintf(buf, n, "%lldd", (long long)(secs / 86400));
	else if (secs != 0 && secs % 3600 == 0)
		snprintf(buf, n, "%lldh", (long long)(secs / 3600));
	else if (secs != 0 && secs % 60 == 0)
		snprintf(buf, n, "%lldm", (long long)(secs / 60));
	else
		snprintf(buf, n, "%llds", (long long)secs);
}

/* ---- sizes ------------------------------------------------------------- */

int mw_parse_size(const char *s, int64_t *bytes)
{
	static const char units[] = "KMGT";
	char unit;
	const char *u;
	int64_t v;

	if (!(unit = number_and_unit(s, &v)) || !(u = strchr(units, unit)))
		return -1;
	/* K is 2^10 and each next unit 2^10 more; 2^40 T would overflow */
	for (int shift = 10 * (int)(u - units + 1); shift > 0; shift -= 10) {
		if (v > INT64_MAX >> 10)
			return -1;
		v <<= 10;
	}
	*bytes = v;
	return 0;
}

void mw_format_size(int64_t bytes, char *buf, size_t n)
{
	static const char units[] = "KMGT";
	int i = 0;

	/* the largest unit that divides it exactly, so it parses back */
	while (i < 3 && bytes != 0 && bytes % (INT64_C(1) << (10 * (i + 2))) == 0)
		i++;
	if (bytes % 1024 != 0)
		snprintf(buf, n, "%lldK", (long long)((bytes + 1023) / 1024));
	else
		snprintf(buf, n, "%lld%c", (long long)(bytes >> (10 * (i + 1))), units[i]);
}

/* ---- dates ------------------------------------------------------------- */

static const char wdays[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Days since the epoch of a civil date (proleptic Gregorian), no timegm(). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month m (1..12) of year y; 0 for a month that does not exist. */
static int days_in_month(int64_t y, int m)
{
	static const unsigned char dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12)
		return 0;
	return dm[m - 1] + (m == 2 && is_leap(y));
}

/* Whether y-m-d h:mi:se names a moment that exists: every field in range
 * and the day inside its month. Second 60 is the caller's business (only a
 * leap second may have it). Never normalised: timegm() and mktime() would
 * turn 2026-02-30 into 2026-03-02, a record filed under another day. */
static int civil_exists(int64_t y, int m, int d, int h, int mi, int se)
{
	return d >= 1 && d <= days_in_month(y, m) && h >= 0 && h <= 23 && mi >= 0 &&
	       mi <= 59 && se >= 0 && se <= 60;
}

static void copy_trunc(char *out, size_t n, const char *s)
{
	size_t l = strlen(s);

	if (l >= n)
		l = n - 1;
	memcpy(out, s, l);
	out[l] = '\0';
}

static void gm(int64_t epoch, struct tm *tm)
{
	time_t t = (time_t)epoch;

	gmtime_r(&t, tm);
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
	int v = 0;

	if (at + count > n)
		return -1;
	for (size_t i = at; i < at + count; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

int mw_parse_mc_date(const char *s, size_t n, int64_t *epoch)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 1;
	int64_t t;
	size_t p;

	if (digits(s, n, 0, 4, &y) || n < 19 || s[4] != '-' || digits(s, n, 5, 2, &mo) ||
	    s[7] != '-' || digits(s, n, 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
	    digits(s, n, 11, 2, &h) || s[13] != ':' || digits(s, n, 14, 2, &mi) ||
	    s[16] != ':' || digits(s, n, 17, 2, &se))
		return -1;
	if (!civil_exists(y, mo, d, h, mi, se))
		return -1;
	p = 19;
	if (p < n && s[p] == '.') {
		p++;
		if (p >= n || !isdigit((unsigned char)s[p]))
			return -1;
		while (p < n && isdigit((unsigned char)s[p]))
			p++;
	}
	if (p == n)
		return -1;
	if (s[p] == 'Z' || s[p] == 'z') {
		p++;
	} else if (s[p] == '+' || s[p] == '-') {
		sign = s[p] == '-' ? -1 : 1;
		if (digits(s, n, p + 1, 2, &oh))
			return -1;
		p += 3;
		if (p < n && s[p] == ':')
			p++;
		if (digits(s, n, p, 2, &om))
			return -1;
		p += 2;
		if (oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (p != n)
		return -1;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se -
	    sign * (oh * 3600 + om * 60);
	if (se == 60) {
		/* A leap second: 23:59:60 UTC on the last day of March, June,
		 * September or December (ITU-R TF.460), whatever the offset it
		 * is written in. POSIX time has no room for it: it reads as
		 * 23:59:59 of its own day, never as the next day's 00:00:00. */
		int64_t days = (t - 1) / 86400 - ((t - 1) % 86400 < 0), secs = t - 1 - days * 86400;
		int ly;
		unsigned lm, ld;

		civil_from_days(days, &ly, &lm, &ld);
		if (secs != 86399 || lm % 3 != 0 || (int)ld != days_in_month(ly, (int)lm))
			return -1;
		t--;
	}
	*epoch = t;
	return 0;
}

void mw_format_mc_date(int64_t epoch, char out[32])
{
	struct tm tm;

	char tmp[96];

	gm(epoch, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d+0000", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	copy_trunc(out, 32, tmp);
}

/* Civil date of a day number (days since 1970-01-01), proleptic Gregorian. */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static char *put2(char *p, unsigned v)
{
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/* Written by hand: it runs once per NDJSON line, and snprintf + gmtime_r
 * were a tenth of the output's CPU. */
void mw_format_rfc3339(int64_t epoch, char out[32])
{
	int64_t days = epoch / 86400, secs = epoch % 86400;
	unsigned m, d;
	int y;
	char *p = out;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		char tmp[96];
		struct tm tm;

		gm(epoch, &tm);
		snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		copy_trunc(out, 32, tmp);
		return;
	}
	p = put2(p, (unsigned)y / 100);
	p = put2(p, (unsigned)y % 100);
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	p = put2(p, d);
	*p++ = 'T';
	p = put2(p, (unsigned)(secs / 3600));
	*p++ = ':';
	p = put2(p, (unsigned)(secs / 60 % 60));
	*p++ = ':';
	p = put2(p, (unsigned)(secs % 60));
	*p++ = 'Z';
	*p = '\0';
}

void mw_format_rfc1123(int64_t epoch, char out[40])
{
	struct tm tm;

	char tmp[96];

	gm(epoch, &tm);
	/* Names from our own tables: strftime would follow the locale. */
	snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d UTC", wdays[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	copy_trunc(out, 40, tmp);
}

int mw_parse_http_date(const char *s, int64_t *epoch)
{
	char wd[8], mon[8], zone[8];
	int d, y, h, mi, se, m;

	if (!s || sscanf(s, "%7[A-Za-z], %d %7s %d %d:%d:%d %7s", wd, &d, mon, &y, &h, &mi, &se,
			 zone) != 8)
		return -1;
	/* sscanf's %d takes signs and blanks: the numbers must be digits */
	for (const char *q = s; *q; q++)
		if (*q == '+' || *q == '-')
			return -1;
	for (m = 0; m < 12; m++)
		if (strcmp(mon, months[m]) == 0)
			break;
	/* IMF-fixdate (RFC 9110) has no leap second: :60 does not exist */
	if (m == 12 || y < 1970 || !civil_exists(y, m + 1, d, h, mi, se) || se > 59)
		return -1;
	if (strcmp(zone, "GMT") != 0 && strcmp(zone, "UTC") != 0)
		return -1;
	*epoch = days_from_civil(y, (unsigned)m + 1, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

/* ---- encodings --------------------------------------------------------- */

char *mw_base64_encode(const void *p, size_t n)
{
	char *out = mw_xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int mw_base64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
	unsigned char *o;
	size_t i, k = 0, pad = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (n % 4 != 0)
		return -1;
	o = mw_xmalloc(n / 4 * 3 + 1);
	for (i = 0; i < n; i++) {
		int v;

		if (s[i] == '=') {
			/* padding only at the very end, at most two */
			if (i < n - 2 || (i == n - 2 && s[n - 1] != '='))
				goto bad;
			pad++;
			continue;
		}
		v = b64val((unsigned char)s[i]);
		if (v < 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (unsigned char)(acc >> bits);
		}
	}
	(void)pad;
	*out = o;
	*outlen = k;
	return 0;
bad:
	free(o);
	return -1;
}

void mw_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void mw_guid(char out[37])
{
	unsigned char r[16];
	char hex[33];

	if (RAND_bytes(r, sizeof(r)) != 1) {
		/* RAND_bytes only fails without entropy; fall back to urandom. */
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, r, sizeof(r)) != (ssize_t)sizeof(r))
			abort();
		close(fd);
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	mw_hex(r, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

int mw_is_guid(const char *s)
{
	static const int groups[5] = { 8, 4, 4, 4, 12 };
	const char *p = s;

	if (!s)
		return 0;
	for (int g = 0; g < 5; g++) {
		for (int i = 0; i < groups[g]; i++, p++)
			if (!isxdigit((unsigned char)*p))
				return 0;
		if (g < 4 && *p++ != '-')
			return 0;
	}
	return *p == '\0';
}

/* ---- files ------------------------------------------------------------- */

int mw_mkdir_parent(const char *path, mw_err *e)
{
	char dir[4096];
	char *slash;
	struct stat st;

	mw_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0)
		return 0;
	return mw_mkdir_p(dir, e);
}

int mw_mkdir_p(const char *path, mw_err *e)
{
	char buf[4096];
	size_t n = strlen(path);
	struct stat st;

	if (n == 0 || n >= sizeof(buf)) {
		mw_err_set(e, "%s: bad directory path", path);
		return -1;
	}
	/* Usually there already: one stat, not a mkdir per component (the
	 * NDJSON output asks before each batch). */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
				mw_err_set(e, "cannot create directory %s: %s", buf, strerror(errno));
				return -1;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		mw_err_set(e, "%s is not a directory", path);
		return -1;
	}
	return 0;
}

int mw_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int mw_fsync_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	return mw_fsync_dir(dir);
}

int mw_write_file_atomic(const char *path, const void *data, size_t len, mw_err *e)
{
	return mw_write_file_atomic_mode(path, data, len, 0600, e);
}

int mw_write_file_atomic_mode(const char *path, const void *data, size_t len, mode_t mode,
			      mw_err *e)
{
	char tmp[4200];
	const char *p = data;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		mw_err_set(e, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	fchmod(fd, mode);  /* not the umask's say: the mode is part of the contract */
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			mw_err_set(e, "cannot write %s: %s", tmp,
				   errno == ENOSPC ? "disk full" : strerror(errno));
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0) {
		mw_err_set(e, "cannot sync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		mw_err_set(e, "cannot close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		mw_err_set(e, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto fail;
	}
	mw_fsync_parent(path);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int mw_read_file(const char *path, size_t max, char **out, size_t *len, mw_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	mw_buf b;

	if (fd < 0) {
		mw_err_set(e, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		mw_err_set(e, "%s is not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		mw_err_set(e, "%s is too large (%lld bytes, at most %zu)", path,
			   (long long)st.st_size, max);
		close(fd);
		return -1;
	}
	mw_buf_init(&b);
	mw_buf_reserve(&b, (size_t)st.st_size);
	for (;;) {
		ssize_t r;

		mw_buf_reserve(&b, 4096);
		r = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			mw_err_set(e, "cannot read %s: %s", path, strerror(errno));
			close(fd);
			mw_buf_free(&b);
			return -1;
		}
		if (r == 0)
			break;
		b.len += (size_t)r;
		if (b.len > max) {
			mw_err_set(e, "%s is too large (at most %zu bytes)", path, max);
			close(fd);
			mw_buf_free(&b);
			return -1;
		}
	}
	close(fd);
	b.data[b.len] = '\0';
	*out = b.data;
	*len = b.len;
	return 0;
}

int mw_check_private_file(const char *path, const char *what, mw_err *e)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		mw_err_set(e, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		/* A link is fine when its target is private and ours. */
		if (stat(path, &st) < 0) {
			mw_err_set(e, "%s %s: dangling symbolic link", what, path);
			return -1;
		}
	}
	if (!S_ISREG(st.st_mode)) {
		mw_err_set(e, "%s %s is not a regular file", what, path);
		return -1;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		mw_err_set(e, "%s %s is owned by uid %ld, not by you (uid %ld): it holds secrets; "
			      "chown it to yourself", what, path, (long)st.st_uid, (long)geteuid());
		return -1;
	}
	if (st.st_mode & 077) {
		mw_err_set(e, "%s %s: permissions %04o are too open: it holds secrets; run "
			      "chmod 600 %s", what, path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

void mw_log(int level, const char *fmt, ...)
{
	va_list ap;
	char line[2048];
	mw_buf safe;

	if (level > mw_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Log lines carry text that is not ours (Mimecast's messages, what a
	 * receiver answered): shown by the console's rules, so no control
	 * character or bidi override reaches a terminal or the journal raw. */
	mw_buf_init(&safe);
	sanitize_text(&safe, line);
	/* Under systemd, stderr goes to the journal (it sets JOURNAL_STREAM):
	 * a <N> syslog priority prefix gives each line its level there
	 * (0: a problem, collection goes on: warning; 1: info; 2: debug). */
	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%c>%s\n", level <= 0 ? '4' : level == 1 ? '6' : '7', safe.data);
	else
		fprintf(stderr, "mimewatch: %s\n", safe.data);
	mw_buf_free(&safe);
}
