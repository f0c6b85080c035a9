/* output/ndjson_days.c - the days an NDJSON output writes no more: each
 * over day's file gzipped (compress: true) and the files of days older than
 * keep deleted (mimewatch.yaml(5), "type: ndjson").
 *
 * Files are named by the UTC date of writing, so a day's file is complete
 * once the day is over and a delivery after it succeeded: every line in it
 * is then committed (a failed batch's tail is cut back before the output
 * writes again, and the sweep runs only after a delivery that did not
 * fail).
 *
 * Compressing is crash safe: the .gz is written to a hidden temporary name,
 * fsynced and renamed over NAME.ndjson.gz, and only then is the plain file
 * unlinked. A kill -9 leaves the plain file (and perhaps a temporary, which
 * the next sweep removes), or the complete .gz beside the plain file: the
 * next sweep finds the .gz holding exactly the plain file's bytes and
 * unlinks the plain file. Should a plain file hold other lines than its .gz
 * (the clock went back a day), they are added as a second gzip member, which
 * gunzip and zcat read as one stream: no line is lost or doubled. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* O_NOFOLLOW, O_DIRECTORY, fstatat alongside -std=c11 */
#endif
#include "private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define GZ_CHUNK 65536

/* "YYYY-MM-DD" followed by suffix: the date (0 when the name is another). */
static int day_of(const char *name, const char *suffix, char date[16])
{
	size_t n = strlen(name), sl = strlen(suffix);

	if (n != 10 + sl || strcmp(name + 10, suffix) != 0 || name[4] != '-' || name[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (name[i] < '0' || name[i] > '9'))
			return 0;
	memcpy(date, name, 10);
	date[10] = '\0';
	return 1;
}

/* The epoch second at which day "YYYY-MM-DD" ends (UTC). */
static int64_t day_end(const char *date)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = atoi(date) - 1900;
	tm.tm_mon = atoi(date + 5) - 1;
	tm.tm_mday = atoi(date + 8) + 1;
	return (int64_t)timegm(&tm);
}

/* Copies the file at path to the open file fd, at its offset. */
static int copy_into(int fd, const char *path, mw_err *e)
{
	char *buf = mw_xmalloc(GZ_CHUNK);
	int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = 0;
	ssize_t r;

	if (in < 0) {
		mw_err_set(e, "%s: cannot open: %s", path, strerror(errno));
		free(buf);
		return -1;
	}
	while ((r = read(in, buf, GZ_CHUNK)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || write(fd, buf, (size_t)r) != r) {
			mw_err_set(e, "%s: copying failed: %s", path, strerror(errno));
			rc = -1;
			break;
		}
	}
	close(in);
	free(buf);
	return rc;
}

/* Appends the gzip of the file plain to the open file fd (one member). */
static int gzip_into(int fd, const char *plain, const char *tmp, mw_err *e)
{
	unsigned char *buf = mw_xmalloc(GZ_CHUNK);
	int in = open(plain, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), dupfd;
	gzFile gz;
	ssize_t r = 0;

	if (in < 0) {
		mw_err_set(e, "%s: cannot open to compress it: %s", plain, strerror(errno));
		free(buf);
		return -1;
	}
	dupfd = dup(fd);
	gz = dupfd >= 0 ? gzdopen(dupfd, "wb6") : NULL;
	if (!gz) {
		mw_err_set(e, "%s: cannot start gzip: %s", tmp, strerror(errno));
		if (dupfd >= 0)
			close(dupfd);
		close(in);
		free(buf);
		return -1;
	}
	while ((r = read(in, buf, GZ_CHUNK)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0 && gzwrite(gz, buf, (unsigned)r) != (int)r)
			break;
	close(in);
	free(buf);
	if (gzclose(gz) != Z_OK || r != 0) {
		mw_err_set(e, "%s: compressing %s failed (a full disk?); the plain file is kept",
			   tmp, plain);
		return -1;
	}
	return 0;
}

/* 1 when the gzip file gz holds exactly the bytes of plain, 0 when not. */
static int gz_holds(const char *gzpath, const char *plain)
{
	unsigned char *a = mw_xmalloc(GZ_CHUNK), *b = mw_xmalloc(GZ_CHUNK);
	int in = open(plain, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	gzFile gz = gzopen(gzpath, "rb");
	int same = in >= 0 && gz;

	while (same) {
		int n = gzread(gz, a, GZ_CHUNK);
		ssize_t m = 0, got;

		if (n < 0)
			same = 0;
		while (same && m < n && (got = read(in, b + m, (size_t)(n - m))) > 0)
			m += got;
		if (!same || m != n || memcmp(a, b, (size_t)n) != 0)
			same = 0;
		else if (n == 0)
			break;
	}
	if (same && read(in, b, 1) != 0)
		same = 0;
	if (gz)
		gzclose(gz);
	if (in >= 0)
		close(in);
	free(a);
	free(b);
	return same;
}

/* NAME.ndjson into NAME.ndjson.gz (see the top of the file). */
static int compress_day(const struct ndjson_days *d, int dirfd, const char *dir,
			const char *name, mw_err *e)
{
	char plain[4400], gzp[4400], tmp[4400];
	struct stat sb;
	int fd;

	if (snprintf(plain, sizeof plain, "%s/%s", dir, name) >= (int)sizeof plain ||
	    snprintf(gzp, sizeof gzp, "%s/%s.gz", dir, name) >= (int)sizeof gzp ||
	    snprintf(tmp, sizeof tmp, "%s/.%s.gz.tmp", dir, name) >= (int)sizeof tmp) {
		mw_err_set(e, "%s/%s: path too long to compress", dir, name);
		return -1;
	}
	if (fstatat(dirfd, gzp, &sb, AT_SYMLINK_NOFOLLOW) == 0 && gz_holds(gzp, plain))
		goto unlink_plain;  /* a sweep stopped after its rename */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		mw_err_set(e, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	/* The clock went back and the day got new lines: keep the old .gz's
	 * members and add these. */
	if (fstatat(dirfd, gzp, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
	    copy_into(fd, gzp, e) < 0)
		goto fail;
	if (gzip_into(fd, plain, tmp, e) < 0 ||
	    (d->file_mode && ndjson_share_fd(fd, tmp, d->file_mode, d->group, d->gid, e) < 0))
		goto fail;
	if (fsync(fd) < 0) {
		mw_err_set(e, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	if (rename(tmp, gzp) < 0 || fsync(dirfd) < 0) {
		mw_err_set(e, "%s: cannot rename to %s: %s", tmp, gzp, strerror(errno));
		unlink(tmp);
		return -1;
	}
unlink_plain:
	if (unlink(plain) < 0 || fsync(dirfd) < 0) {
		mw_err_set(e, "%s: cannot remove after compressing: %s", plain, strerror(errno));
		return -1;
	}
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return -1;
}

/* One <integration>/<type> directory: its over days compressed, its old
 * days deleted, a stopped sweep's temporaries removed. */
static int sweep_dir(const struct ndjson_days *d, const char *dir, mw_err *e)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *dp;
	struct dirent *de;
	int rc = 0;

	if (dirfd < 0)
		return 0;  /* not a directory we made: none of ours to sweep */
	dp = fdopendir(dirfd);
	if (!dp) {
		close(dirfd);
		return 0;
	}
	while (rc == 0 && (de = readdir(dp))) {
		char date[16], path[4400];
		int plain = day_of(de->d_name, ".ndjson", date);
		int gz = !plain && day_of(de->d_name, ".ndjson.gz", date);
		int tmp = de->d_name[0] == '.' && day_of(de->d_name + 1, ".ndjson.gz.tmp", date);
		struct stat sb;

		if (!plain && !gz && !tmp)
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
			continue;
		if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode) || strcmp(date, d->today) >= 0)
			continue;  /* today's file is still written */
		if (tmp || (d->keep && day_end(date) + d->keep <= d->now)) {
			if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT) {
				mw_err_set(e, "%s: cannot delete (keep): %s", path, strerror(errno));
				rc = -1;
			} else if (!tmp) {
				mw_log(1, "%s: deleted, older than keep", path);
			}
		} else if (plain && d->compress) {
			rc = compress_day(d, dirfd, dir, de->d_name, e);
		}
	}
	closedir(dp);
	return rc;
}

/* Calls sweep_dir for each directory one level down from dir (depth 1:
 * <integration>, depth 2: <integration>/<type>). */
static int each_subdir(const struct ndjson_days *d, const char *dir, int depth, mw_err *e)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!dp)
		return 0;
	while (rc == 0 && (de = readdir(dp))) {
		char sub[4400];
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= (int)sizeof sub)
			continue;
		if (lstat(sub, &sb) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		rc = depth == 1 ? each_subdir(d, sub, 2, e) : sweep_dir(d, sub, e);
	}
	closedir(dp);
	return rc;
}

int ndjson_days_sweep(const struct ndjson_days *d, mw_err *e)
{
	if (!d->keep && !d->compress)
		return 0;
	return each_subdir(d, d->dir, 1, e);
}
