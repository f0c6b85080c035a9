/* util.h - small helpers every module shares: errors as values, growable
 * buffers, clocks, durations, dates, base64, GUIDs and careful file I/O. */
#ifndef MW_UTIL_H
#define MW_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* The number of elements of an array (not a pointer). */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* An error is a value: a message a person can act on. */
typedef struct mw_err {
	char msg[1024];
} mw_err;

void mw_err_set(mw_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mw_err_clear(mw_err *e);

/* Growable byte buffer, always NUL-terminated (len excludes the NUL). */
typedef struct mw_buf {
	char *data;
	size_t len, cap;
} mw_buf;

void mw_buf_init(mw_buf *b);
void mw_buf_free(mw_buf *b);
void mw_buf_reset(mw_buf *b);                 /* len = 0, keeps memory */
void mw_buf_reserve(mw_buf *b, size_t extra); /* aborts on OOM */
void mw_buf_append(mw_buf *b, const void *p, size_t n);
void mw_buf_puts(mw_buf *b, const char *s);
void mw_buf_putc(mw_buf *b, char c);
void mw_buf_printf(mw_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void *mw_xmalloc(size_t n);   /* abort on OOM, as git's xmalloc */
void *mw_xcalloc(size_t n, size_t size);
void *mw_xrealloc(void *p, size_t n);
char *mw_xstrdup(const char *s);  /* NULL in, NULL out */
/* Copies at most n-1 bytes and terminates (n > 0); a NULL src copies "". */
void mw_strlcpy(char *dst, const char *src, size_t n);
/* Equal strings, NULL equal only to NULL (optional config values). */
int mw_str_same(const char *a, const char *b);
char *mw_xstrndup(const char *s, size_t n);

/* Clocks. mw_now_ms() is wall time in ms since the epoch; the environment
 * variable MIMEWATCH_NOW (epoch seconds) pins it, for tests and script mode.
 * mw_mono_ms() is monotonic, for timeouts and waits. */
int64_t mw_now_ms(void);
int64_t mw_now(void);          /* seconds */
int64_t mw_mono_ms(void);
void mw_sleep_ms(int64_t ms);
/* The CLOCK_REALTIME time ms from now, as pthread_cond_timedwait takes it. */
struct timespec mw_deadline_in(int64_t ms);

/* Durations "<integer><s|m|h|d>", e.g. 30s, 5m, 48h, 30d. Returns 0 and sets
 * *secs, or -1 for anything else (no sign, no spaces, no bare number). */
int mw_parse_duration(const char *s, int64_t *secs);
/* Shortest exact form: 90 -> "90s", 300 -> "5m", 86400 -> "1d". */
void mw_format_duration(int64_t secs, char *buf, size_t n);

/* Sizes "<integer><K|M|G|T>" (KiB, MiB, GiB, TiB), e.g. 512M, 20G: 0 and
 * *bytes, or -1 for anything else (no bare number, no B, no lower case). */
int mw_parse_size(const char *s, int64_t *bytes);
/* The largest exact unit: 20 GiB -> "20G", 1536 KiB -> "1536K"; a size
 * that is no whole KiB is rounded up to one. */
void mw_format_size(int64_t bytes, char *buf, size_t n);

/* Dates. Mimecast record and filter dates look like 2015-11-16T14:49:18+0000;
 * the parser also takes +00:00, -0500, Z and fractional seconds. A date that
 * does not exist (2026-02-30, 2026-13-01, 24:00:00, second 60 other than a
 * leap second's 23:59:60 UTC) is refused (-1, *epoch untouched), never moved
 * to another day; a leap second reads as 23:59:59 of its day. */
int mw_parse_mc_date(const char *s, size_t n, int64_t *epoch);
void mw_format_mc_date(int64_t epoch, char out[32]);  /* ...+0000 */
void mw_format_rfc3339(int64_t epoch, char out[32]);  /* ...Z */
/* x-mc-date: "Tue, 24 Nov 2015 12:50:11 UTC", English names whatever the locale. */
void mw_format_rfc1123(int64_t epoch, char out[40]);
/* Parses an HTTP Date header (RFC 1123, GMT or UTC); a day or time that
 * does not exist is refused like mw_parse_mc_date's. */
int mw_parse_http_date(const char *s, int64_t *epoch);

/* Base64 (standard alphabet, padded). decode returns -1 on bad input. */
char *mw_base64_encode(const void *p, size_t n);      /* malloc'd */
int mw_base64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen);
void mw_hex(const unsigned char *p, size_t n, char *out); /* out: 2n+1 */

/* A fresh random version-4 GUID, lower case, 36 characters. */
void mw_guid(char out[37]);
/* 8-4-4-4-12 hex digits, either case. */
int mw_is_guid(const char *s);

/* Files. Everything mimewatch creates is 0600, every directory 0700. */
int mw_mkdir_p(const char *path, mw_err *e);
/* The directory that will hold path, made (0700, parents too) when missing;
 * 0 when it exists or path has no directory part. */
int mw_mkdir_parent(const char *path, mw_err *e);
/* fsync a directory, or the directory holding path (a new entry in it must
 * outlive a power cut too). 0 or -1 with errno. */
int mw_fsync_dir(const char *dir);
int mw_fsync_parent(const char *path);
/* temp file in the same directory, write, fsync, rename, fsync directory. */
int mw_write_file_atomic(const char *path, const void *data, size_t len, mw_err *e);
/* The same with the file's mode (0600 above); the temporary name is path
 * plus ".tmp.PID", so a reader of "*.prom" never sees it. */
int mw_write_file_atomic_mode(const char *path, const void *data, size_t len, mode_t mode,
			      mw_err *e);
/* Reads a whole regular file of at most max bytes. */
int mw_read_file(const char *path, size_t max, char **out, size_t *len, mw_err *e);
/* ssh-style check: refuses a file that group or others may read or write,
 * or that is not a regular file. what names it in the message ("config"). */
int mw_check_private_file(const char *path, const char *what, mw_err *e);

/* Logging to stderr in a journald-friendly form ("mimewatch: ..."), with
 * secrets never passed in. Level 0 errors, 1 info, 2 debug. */
extern int mw_log_level;
void mw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Where a secret came from, kept so saving writes it back the same way. */
enum mw_secret_src {
	MW_SECRET_NONE, MW_SECRET_INLINE, MW_SECRET_FILE, MW_SECRET_ENV,
	MW_SECRET_CREDENTIAL        /* a systemd credential: $CREDENTIALS_DIRECTORY/ref */
};

struct mw_secret {
	char *value;                /* resolved value (NULL when unset) */
	enum mw_secret_src src;
	char *ref;                  /* the file path or variable name */
};


#endif
