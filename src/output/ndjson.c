/* output/ndjson.c - the NDJSON output (HACKING, "NDJSON output").
 *
 * Exactly once on disk: a file is registered in the store (at its size then)
 * before its first byte is written, and after each batch the new sizes are
 * committed together with the last rowid written. Whatever lies past a
 * committed size is a torn or unacknowledged tail; it is cut off before the
 * output writes again (on its first delivery in a process, and after any
 * failed batch), and those rows are written again after the committed rowid.
 *
 * All of that holds for one writer per directory: a collector holds an flock
 * on each NDJSON directory it writes (outputs_lock_dirs), as it holds
 * state_dir/lock, so a second collector with another state_dir is refused
 * rather than writing every record again beside the first.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* flock, pread, O_NOFOLLOW, gmtime_r alongside -std=c11 */
#endif
#include "private.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jsonout.h"

#define BATCH_ROWS 2000
/* Known files whose name date is this many days old are written no more
 * (files are named by the date of writing): forget them after recovery so
 * the list stays small. */
#define FORGET_AFTER_DAYS 2

/* What this process knows about an output: whether its files have been cut
 * back to their committed sizes, and which files the store has registered. */
struct batch;
static void batch_destroy(struct batch *b);

struct out_state {
	char *name;
	struct batch *batch;    /* kept between deliveries: its buffers stay grown */
	int recovered;
	int last_ok;            /* last state written to the store: 1 ok, 0 error, -1 none */
	char swept[16];         /* the day its over days were last swept (keep, compress) */
	char **known;
	size_t nknown, cap;
};

static pthread_mutex_t states_lock = PTHREAD_MUTEX_INITIALIZER;
static struct out_state *states;
static size_t nstates;

static void known_clear(struct out_state *o)
{
	for (size_t i = 0; i < o->nknown; i++)
		free(o->known[i]);
	o->nknown = 0;
}

static int known_has(const struct out_state *o, const char *path)
{
	for (size_t i = 0; i < o->nknown; i++)
		if (strcmp(o->known[i], path) == 0)
			return 1;
	return 0;
}

static void known_add(struct out_state *o, const char *path)
{
	if (o->nknown == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->known = mw_xrealloc(o->known, o->cap * sizeof *o->known);
	}
	o->known[o->nknown++] = mw_xstrdup(path);
}

static struct out_state *state_for(const char *name)
{
	for (size_t i = 0; i < nstates; i++)
		if (strcmp(states[i].name, name) == 0)
			return &states[i];
	states = mw_xrealloc(states, (nstates + 1) * sizeof *states);
	struct out_state *o = &states[nstates++];
	memset(o, 0, sizeof *o);
	o->name = mw_xstrdup(name);
	o->last_ok = -1;
	return o;
}

void outputs_forget_recovery(void)
{
	pthread_mutex_lock(&states_lock);
	for (size_t i = 0; i < nstates; i++) {
		known_clear(&states[i]);
		free(states[i].known);
		free(states[i].name);
		batch_destroy(states[i].batch);
	}
	free(states);
	states = NULL;
	nstates = 0;
	pthread_mutex_unlock(&states_lock);
}

/* ---- the line ------------------------------------------------------------ */

void ndjson_line(mw_buf *out, const struct store_row *row)
{
	char when[32];

	mw_buf_reserve(out, row->json_len + 128);
	mw_buf_append(out, "{\"integration\":", 15);
	jsonout_safe_string(out, row->integration, strlen(row->integration));
	mw_buf_append(out, ",\"type\":", 8);
	jsonout_safe_string(out, row->type, strlen(row->type));
	mw_buf_append(out, ",\"id\":", 6);
	jsonout_safe_string(out, row->id, strlen(row->id));
	mw_format_rfc3339(row->time, when);
	mw_buf_append(out, ",\"time\":\"", 9);
	mw_buf_puts(out, when);
	mw_buf_putc(out, '"');
	/* A revised record (store_commit_page) says which revision it is; the
	 * first delivery of a record carries no revision member (it is 1). */
	if (row->revision >= 2)
		mw_buf_printf(out, ",\"revision\":%lld", (long long)row->revision);
	mw_buf_append(out, ",\"record\":", 10);
	/* Stored records are already safe-encoded; an empty one (never written
	 * by the collector) still makes a valid line. */
	if (row->json_len)
		mw_buf_append(out, row->json, row->json_len);
	else
		mw_buf_append(out, "null", 4);
	mw_buf_append(out, "}\n", 2);
}

const char *outputs_ndjson_dir(const char *state_dir, const struct mw_output *o,
			       char *buf, size_t n)
{
	if (o->dir && *o->dir)
		snprintf(buf, n, "%s", o->dir);
	else
		snprintf(buf, n, "%s/out", state_dir ? state_dir : ".");
	return buf;
}

/* ---- file helpers ------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void write_error(mw_err *e, const char *path, const char *what, int err)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	if (err == ENOSPC || err == EDQUOT)
		mw_err_set(e, "disk full: free space on %s (%s %s); delivery resumes where it "
			   "stopped", dir, what, path);
	else if (err == ELOOP)
		mw_err_set(e, "%s: a symbolic link where mimewatch keeps its own file; move the "
			   "link aside (the output then starts a new file)", path);
	else
		mw_err_set(e, "%s: %s failed: %s", path, what, strerror(err));
}

/* "YYYY-MM-DD" of a UTC epoch. */
static void utc_date(int64_t t, char out[16])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	if (strftime(out, 16, "%Y-%m-%d", &tm) == 0)
		snprintf(out, 16, "0000-00-00");
}

/* The date in a ".../YYYY-MM-DD.ndjson" path, or "" when it has none. */
static void path_date(const char *path, char out[16])
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	out[0] = 0;
	if (n == 17 && strcmp(base + 10, ".ndjson") == 0) {
		memcpy(out, base, 10);
		out[10] = 0;
	}
}

/* Cuts every file of the output back to its committed size. A file shorter
 * than that lost data someone else removed: writing after the hole would
 * hide it, so the output stops until the file is moved aside. */
static int recover(struct out_state *o, mw_store *s, mw_err *e)
{
	struct store_file_size *files = NULL;
	size_t n = 0;
	char oldest[16];
	int rc = 0;

	if (store_output_files(s, o->name, &files, &n, e) < 0)
		return -1;
	utc_date(mw_now() - FORGET_AFTER_DAYS * 86400, oldest);
	known_clear(o);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct store_file_size *f = &files[i];
		struct stat sb;
		char date[16];
		int fd = open(f->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd < 0 && errno == ENOENT) {
			/* Rotated or deleted by the admin: nothing to cut back. */
			rc = store_output_forget(s, o->name, f->path, e);
			continue;
		}
		if (fd < 0 && errno == ELOOP) {
			write_error(e, f->path, "recovering", errno);
			rc = -1;
			break;
		}
		if (fd < 0 || fstat(fd, &sb) < 0) {
			mw_err_set(e, "%s: cannot open to recover it: %s", f->path, strerror(errno));
			if (fd >= 0)
				close(fd);
			rc = -1;
			break;
		}
		if (sb.st_size < f->size) {
			mw_err_set(e, "%s: is %lld bytes, shorter than the %lld bytes mimewatch "
				   "wrote and committed: it was truncated or replaced; move it aside "
				   "(the output then starts a new file)", f->path,
				   (long long)sb.st_size, (long long)f->size);
			rc = -1;
		} else if (sb.st_size > f->size) {
			if (ftruncate(fd, f->size) < 0 || fsync(fd) < 0) {
				write_error(e, f->path, "cutting back an unfinished tail", errno);
				rc = -1;
			} else {
				mw_log(1, "%s: cut back %lld bytes written after the last commit",
				       f->path, (long long)(sb.st_size - f->size));
			}
		}
		close(fd);
		if (rc < 0)
			break;
		path_date(f->path, date);
		if (date[0] && strcmp(date, oldest) < 0)
			rc = store_output_forget(s, o->name, f->path, e);
		else
			known_add(o, f->path);
	}
	free(files);
	if (rc == 0)
		o->recovered = 1;
	return rc;
}

/* ---- a batch --------------------------------------------------------------- */

struct batch_file {
	char *integration, *type;
	char *path;
	mw_buf buf;
	int fd;
	int64_t start;          /* size before this batch's write */
};

struct batch {
	char *dir;              /* the output's directory the paths are under */
	unsigned file_mode;     /* mode: and group: (0: neither, the files are ours */
	const char *group;      /* alone: 0600 in 0700) */
	unsigned gid;
	char date[16];
	struct batch_file *files;
	size_t nfiles, cap;
	size_t last;            /* the file the previous row went to */
	int64_t last_rowid, rows;
	int failed;
	mw_err *e;
};

/* Integration and type names become directory names: allow exactly the
 * config's name characters, so no row can write outside dir. */
static int name_ok(const char *s)
{
	if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static struct batch_file *batch_file_for(struct batch *b, const struct store_row *row)
{
	struct batch_file *f;

	if (b->nfiles && strcmp(b->files[b->last].integration, row->integration) == 0 &&
	    strcmp(b->files[b->last].type, row->type) == 0)
		return &b->files[b->last];
	for (size_t i = 0; i < b->nfiles; i++) {
		f = &b->files[i];
		if (strcmp(f->integration, row->integration) == 0 &&
		    strcmp(f->type, row->type) == 0) {
			b->last = i;
			return f;
		}
	}
	if (!name_ok(row->integration) || !name_ok(row->type)) {
		mw_err_set(b->e, "record %lld: integration '%.64s' or type '%.16s' is not a usable "
			   "file name; delete that integration (mimewatch reset) to go on",
			   (long long)row->rowid, row->integration, row->type);
		return NULL;
	}
	if (b->nfiles == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->files = mw_xrealloc(b->files, b->cap * sizeof *b->files);
	}
	f = &b->files[b->nfiles];
	memset(f, 0, sizeof *f);
	f->integration = mw_xstrdup(row->integration);
	f->type = mw_xstrdup(row->type);
	size_t n = strlen(b->dir) + strlen(row->integration) + strlen(row->type) + 32;
	f->path = mw_xmalloc(n);
	snprintf(f->path, n, "%s/%s/%s/%s.ndjson", b->dir, row->integration, row->type,
		 b->date);
	mw_buf_init(&f->buf);
	f->fd = -1;
	b->last = b->nfiles++;
	return f;
}

static int batch_row(const struct store_row *row, void *ctx)
{
	struct batch *b = ctx;
	struct batch_file *f = batch_file_for(b, row);

	if (!f) {
		b->failed = 1;
		return 1;
	}
	ndjson_line(&f->buf, row);
	b->last_rowid = row->rowid;
	b->rows++;
	return 0;
}

/* Ready for the next batch: the files (same date) and their buffers stay,
 * so a backfill does not allocate and fault in megabytes per batch. */
static void batch_reuse(struct batch *b)
{
	for (size_t i = 0; i < b->nfiles; i++) {
		struct batch_file *f = &b->files[i];
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		mw_buf_reset(&f->buf);
	}
	b->rows = 0;
	b->failed = 0;
}

/* Closes and frees the files (their names depend on dir and date). */
static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->nfiles; i++) {
		struct batch_file *f = &b->files[i];
		if (f->fd >= 0)
			close(f->fd);
		free(f->integration);
		free(f->type);
		free(f->path);
		mw_buf_free(&f->buf);
	}
	free(b->files);
	b->files = NULL;
	b->nfiles = b->cap = b->last = 0;
	b->date[0] = '\0';
	b->rows = 0;
	b->failed = 0;
}

static void batch_destroy(struct batch *b)
{
	if (!b)
		return;
	batch_free(b);
	free(b->dir);
	free(b);
}

/* A directory's mode for the files' mode: x wherever r is (0640: 0750). */
static unsigned dir_mode_of(unsigned file_mode)
{
	return (file_mode & 0770) | ((file_mode & 0440) >> 2);
}

int ndjson_share_fd(int fd, const char *path, unsigned mode, const char *group, unsigned gid,
		    mw_err *e)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0) {
		write_error(e, path, "stat", errno);
		return -1;
	}
	if ((sb.st_mode & 07777) != mode && fchmod(fd, mode) < 0) {
		write_error(e, path, "chmod", errno);
		return -1;
	}
	if (group && sb.st_gid != (gid_t)gid && fchown(fd, (uid_t)-1, (gid_t)gid) < 0) {
		if (errno == EPERM)
			mw_err_set(e, "%s: cannot give it group %s: mimewatch's user is not a "
				   "member; add it to the group (usermod -aG %s USER) or change "
				   "group:", path, group, group);
		else
			write_error(e, path, "chown", errno);
		return -1;
	}
	return 0;
}

/* The output's directory and a file's <integration>/<type> directories get
 * the mode and group too (path: the file). */
static int share_dirs(const struct batch *b, const char *path, mw_err *e)
{
	char dir[4096];
	size_t root = strlen(b->dir);

	snprintf(dir, sizeof dir, "%s", path);
	for (int i = 0; i < 3; i++) {
		char *slash = strrchr(dir, '/');
		int fd;

		if (!slash || (size_t)(slash - dir) < root)
			break;
		*slash = '\0';
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			write_error(e, dir, "opening", errno);
			return -1;
		}
		if (ndjson_share_fd(fd, dir, dir_mode_of(b->file_mode), b->group, b->gid, e) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* Opens (registering first), writes and fsyncs every file of the batch,
 * then commits. Anything that fails before the commit leaves the store as it
 * was; the caller then forces a recovery before the next write. */
static int batch_write(struct out_state *o, mw_store *s, struct batch *b, mw_err *e)
{
	struct store_file_size *sizes;
	char dir[4096];
	int rc = 0;

	for (size_t i = 0; i < b->nfiles; i++) {
		struct batch_file *f = &b->files[i];
		struct stat sb;
		int created = 0;

		snprintf(dir, sizeof dir, "%s", f->path);
		*strrchr(dir, '/') = 0;
		if (mw_mkdir_p(dir, e) < 0)
			return -1;
		if (!known_has(o, f->path)) {
			int64_t size = 0;
			if (lstat(f->path, &sb) == 0)
				size = sb.st_size;
			else if (errno != ENOENT) {
				mw_err_set(e, "%s: %s", f->path, strerror(errno));
				return -1;
			}
			if (store_output_register(s, o->name, f->path, size, e) < 0)
				return -1;
			known_add(o, f->path);
			created = 1;
		}
		f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			     0600);
		if (f->fd < 0 || fstat(f->fd, &sb) < 0) {
			write_error(e, f->path, "opening", errno);
			return -1;
		}
		f->start = sb.st_size;
		if (created && b->file_mode &&
		    (ndjson_share_fd(f->fd, f->path, b->file_mode, b->group, b->gid, e) < 0 ||
		     share_dirs(b, f->path, e) < 0))
			return -1;
		/* A new file's directory entry must outlive a power cut too. */
		if (created && mw_fsync_parent(f->path) < 0) {
			write_error(e, dir, "fsync", errno);
			return -1;
		}
	}
	for (size_t i = 0; i < b->nfiles; i++) {
		struct batch_file *f = &b->files[i];
		if (write_all(f->fd, f->buf.data, f->buf.len) < 0) {
			write_error(e, f->path, "writing", errno);
			return -1;
		}
	}
	for (size_t i = 0; i < b->nfiles; i++) {
		struct batch_file *f = &b->files[i];
		if (fsync(f->fd) < 0) {
			write_error(e, f->path, "fsync", errno);
			return -1;
		}
	}
	sizes = mw_xcalloc(b->nfiles, sizeof *sizes);
	for (size_t i = 0; i < b->nfiles; i++) {
		snprintf(sizes[i].path, sizeof sizes[i].path, "%s", b->files[i].path);
		sizes[i].size = b->files[i].start + (int64_t)b->files[i].buf.len;
	}
	rc = store_output_commit(s, o->name, b->last_rowid, sizes, b->nfiles, e);
	free(sizes);
	return rc;
}

/* The mode mode: and group: ask for, 0 when neither is given (group alone
 * keeps the files' 0600: the group is then only the owner's). */
static unsigned share_mode(const struct mw_output *out)
{
	return out->file_mode ? out->file_mode : out->group ? 0600 : 0;
}

/* The output's batch, its buffers kept between deliveries, for dir (a
 * reload that moved the output gives other file names). */
static struct batch *batch_for(struct out_state *o, const struct mw_output *out,
			       const char *dir, mw_err *e)
{
	struct batch *b;

	if (!o->batch)
		o->batch = mw_xcalloc(1, sizeof *o->batch);
	b = o->batch;
	if (b->dir && strcmp(b->dir, dir) != 0) {
		batch_free(b);
		free(b->dir);
		b->dir = NULL;
	}
	if (!b->dir)
		b->dir = mw_xstrdup(dir);
	b->e = e;
	b->file_mode = share_mode(out);
	b->group = out->group;
	b->gid = out->gid;
	return b;
}

/* Once a day (and at the first delivery in a process), after a delivery
 * that did not fail, so every line of an over day is committed: keep and
 * compress (ndjson_days.c). */
static int sweep_days(const struct output_set *cfg, const struct mw_output *out,
		      struct out_state *o, mw_err *e)
{
	struct ndjson_days d;
	char dir[4096];

	if (!out->keep && !out->compress)
		return 0;
	memset(&d, 0, sizeof d);
	d.now = mw_now();
	utc_date(d.now, d.today);
	if (strcmp(d.today, o->swept) == 0)
		return 0;
	d.dir = outputs_ndjson_dir(cfg->state_dir, out, dir, sizeof dir);
	d.keep = out->keep;
	d.compress = out->compress;
	d.file_mode = share_mode(out);
	d.group = out->group;
	d.gid = out->gid;
	if (ndjson_days_sweep(&d, e) < 0)
		return -1;
	memcpy(o->swept, d.today, sizeof o->swept);
	return 0;
}

static int deliver_ndjson(const struct output_set *cfg, const struct mw_output *out,
			  struct out_state *o, mw_store *s, int64_t *delivered, mw_err *e)
{
	char dir[4096];

	outputs_ndjson_dir(cfg->state_dir, out, dir, sizeof dir);
	if (mw_mkdir_p(dir, e) < 0)
		return -1;
	if (!o->recovered && recover(o, s, e) < 0)
		return -1;
	struct batch *b = batch_for(o, out, dir, e);
	int rc = 0;

	for (;;) {
		int64_t last, rows;
		char date[16];
		int from_store;         /* 1 store, 0 a gap before memory, -1 memory */

		if (store_output_get(s, o->name, &last, e) < 0) {
			rc = -1;
			break;
		}
		utc_date(mw_now(), date);
		if (strcmp(date, b->date) != 0) {
			/* A new day: new file names. */
			batch_free(b);
			memcpy(b->date, date, sizeof b->date);
		}
		batch_reuse(b);
		/* The rows just committed from memory while they follow on;
		 * the store otherwise (handoff.c). */
		rc = 0;
		from_store = -1;  /* memory */
		if (output_handoff_each(cfg->handoff, last, BATCH_ROWS, batch_row, b) == 0) {
			/* the gap before what memory holds, or all of it */
			int64_t held = output_handoff_first_after(cfg->handoff, last);
			size_t limit = BATCH_ROWS;

			if (held > last && held - last - 1 < (int64_t)limit)
				limit = (size_t)(held - last - 1);
			if (limit == 0)
				continue;  /* pushed just now: take it from memory */
			from_store = limit == BATCH_ROWS;
			rc = store_each_after(s, last, limit, batch_row, b, e);
		}
		if (rc == 0 && !b->failed && b->rows > 0) {
			rc = batch_write(o, s, b, e);
			if (rc < 0)
				o->recovered = 0; /* cut the partial tail before writing again */
		}
		if (b->failed)
			rc = -1;
		rows = b->rows;
		if (rc < 0 || rows == 0)
			break;
		if (delivered)
			*delivered += rows;
		/* A short batch took all there was: what is committed
		 * meanwhile waits for the caller's next call, so a backfill's
		 * pages are gathered into few large batches (one fsync per file
		 * each) instead of followed one page at a time. From the store
		 * that is any short batch; from memory, one after which memory
		 * already holds the next row (pushed meanwhile): else the store
		 * is asked once more (a heartbeat, say, follows). A gap read
		 * up to what memory holds always goes on. */
		if (rows < BATCH_ROWS &&
		    (from_store > 0 ||
		     (from_store < 0 && output_handoff_first_after(cfg->handoff, b->last_rowid) ==
					     b->last_rowid + 1)))
			break;
	}
	batch_reuse(b);  /* closes the files; the buffers stay for the next call */
	return rc < 0 ? -1 : 0;
}

/* One batch of a replay after rowid *after, under states_lock: the rows
 * written (0 none left), -1 failed. The offset is read and committed
 * again under the lock, so a delivery cannot move it in between. */
static int64_t replay_batch(const struct output_set *cfg, const struct mw_output *out,
			    const struct store_time_span *sp, mw_store *s, int64_t *after,
			    mw_err *e)
{
	struct out_state *o = state_for(out->name);
	struct batch *b;
	char dir[4096], date[16];
	int64_t offset, rows = -1;

	outputs_ndjson_dir(cfg->state_dir, out, dir, sizeof dir);
	if (mw_mkdir_p(dir, e) < 0 || (!o->recovered && recover(o, s, e) < 0))
		return -1;
	b = batch_for(o, out, dir, e);
	utc_date(mw_now(), date);
	if (strcmp(date, b->date) != 0) {
		batch_free(b);
		memcpy(b->date, date, sizeof b->date);
	}
	batch_reuse(b);
	if (store_each_in_span(s, sp, *after, BATCH_ROWS, batch_row, b, e) < 0 || b->failed)
		goto out;
	rows = b->rows;
	if (rows == 0)
		goto out;
	*after = b->last_rowid;
	/* the files' sizes are committed, the offset stays where it is */
	if (store_output_get(s, o->name, &offset, e) < 0) {
		rows = -1;
		goto out;
	}
	b->last_rowid = offset;
	if (batch_write(o, s, b, e) < 0) {
		o->recovered = 0;  /* cut the partial tail before writing again */
		rows = -1;
	}
out:
	batch_reuse(b);
	return rows;
}

int ndjson_replay(const struct output_set *cfg, const struct mw_output *out,
		  const struct store_time_span *sp, mw_store *s, atomic_int *abort_flag,
		  int64_t *done, mw_err *e)
{
	int64_t after = 0, rows;

	/* The lock per batch: a collector's deliveries go on in between. */
	do {
		if (abort_flag && atomic_load(abort_flag)) {
			mw_err_set(e, "stopped (shutting down)");
			return -1;
		}
		pthread_mutex_lock(&states_lock);
		rows = replay_batch(cfg, out, sp, s, &after, e);
		pthread_mutex_unlock(&states_lock);
		if (rows > 0) {
			*done += rows;
			output_replay_note(s, out->name, sp, "running", *done, NULL);
		}
	} while (rows > 0);
	return rows < 0 ? -1 : 0;
}

int outputs_deliver(const struct output_set *cfg, mw_store *s, int64_t *delivered, mw_err *e)
{
	int failed = 0;
	int64_t min_ndjson = -1;

	if (delivered)
		*delivered = 0;
	pthread_mutex_lock(&states_lock);
	for (size_t i = 0; i < cfg->noutputs; i++) {
		const struct mw_output *out = &cfg->outputs[i];
		const char *name = out->name && *out->name ? out->name : "ndjson";
		struct out_state *o = state_for(name);
		mw_err oe, ignored;
		int rc;

		mw_err_clear(&oe);
		switch (out->kind) {
		case MW_OUT_NDJSON: {
			int64_t at;

			rc = deliver_ndjson(cfg, out, o, s, delivered, &oe);
			if (rc == 0)
				rc = sweep_days(cfg, out, o, &oe);
			if (store_output_get(s, name, &at, &ignored) < 0)
				at = 0;
			if (min_ndjson < 0 || at < min_ndjson)
				min_ndjson = at;
			break;
		}
		default:
			continue;  /* network outputs have their own workers */
		}
		if (rc < 0) {
			if (!failed)
				mw_err_set(e, "output '%s': %s", name, oe.msg);
			failed = 1;
			output_count_failure(s, name);
		}
		/* Only changes are written, so an idle loop adds no transactions. */
		if (rc < 0 || o->last_ok != 1) {
			if (store_output_status(s, name, rc < 0 ? "error" : "ok",
						rc < 0 ? oe.msg : "", &ignored) == 0)
				o->last_ok = rc < 0 ? 0 : 1;
		}
	}
	pthread_mutex_unlock(&states_lock);
	/* What every NDJSON output wrote is not needed in memory again (with
	 * none, nothing is). */
	output_handoff_trim(cfg->handoff, min_ndjson >= 0 ? min_ndjson : INT64_MAX);
	return failed ? -1 : 0;
}

int outputs_begin(const struct output_set *cfg, mw_store *s, mw_err *e)
{
	for (size_t i = 0; i < cfg->noutputs; i++) {
		const struct mw_output *out = &cfg->outputs[i];
		const char *name = out->name && *out->name ? out->name : "ndjson";
		int made;

		if (!out->start_now)
			continue;
		made = store_output_begin_now(s, name, e);
		if (made < 0)
			return -1;
		if (made)
			mw_log(1, "output '%s': start: now: begins after the %lld records stored",
			       name, (long long)store_max_rowid(s));
	}
	return 0;
}

int64_t outputs_min_offset(const struct output_set *cfg, mw_store *s)
{
	int64_t min = -1;
	mw_err e;

	for (size_t i = 0; i < cfg->noutputs; i++) {
		const struct mw_output *out = &cfg->outputs[i];
		const char *name = out->name && *out->name ? out->name : "ndjson";
		int64_t v;

		/* On error nothing may be pruned: 0 keeps every record. */
		if (store_output_get(s, name, &v, &e) < 0)
			return 0;
		if (min < 0 || v < min)
			min = v;
	}
	if (min < 0) {
		min = store_max_rowid(s);
		if (min < 0)
			min = 0;
	}
	return min;
}

/* ---- one writer per directory ---------------------------------------------- */

#define DIR_LOCK_NAME ".mimewatch.lock"

struct dir_lock {
	int fd;
	dev_t dev;
	ino_t ino;
};

struct output_dir_locks {
	struct dir_lock *held;
	size_t n;
};

static int lock_known(const output_dir_locks *l, const struct stat *st)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (l->held[i].dev == st->st_dev && l->held[i].ino == st->st_ino)
			return 1;
	return 0;
}

/* Drops the locks taken from index from on: a refusal leaves what was held. */
static void locks_truncate(output_dir_locks *l, size_t from)
{
	while (l->n > from)
		close(l->held[--l->n].fd);
}

int outputs_lock_dirs(const struct output_set *cfg, output_dir_locks **locks, mw_err *e)
{
	output_dir_locks *l = *locks;
	size_t first;

	if (!l)
		l = *locks = mw_xcalloc(1, sizeof(*l));
	first = l->n;
	for (size_t i = 0; i < cfg->noutputs; i++) {
		const struct mw_output *o = &cfg->outputs[i];
		char dir[4096], path[4200], buf[32];
		struct stat st;
		mw_err ignored;
		ssize_t n;
		int fd;

		if (o->kind != MW_OUT_NDJSON)
			continue;
		outputs_ndjson_dir(cfg->state_dir, o, dir, sizeof dir);
		/* A directory that cannot be made or a lock file that cannot be
		 * opened is the output's own error, reported when it delivers. */
		if (mw_mkdir_p(dir, &ignored) < 0)
			continue;
		snprintf(path, sizeof path, "%s/" DIR_LOCK_NAME, dir);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || lock_known(l, &st)) {
			close(fd);  /* ours already (the same directory, reloaded) */
			continue;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			long pid = 0;

			if (errno == EWOULDBLOCK || errno == EINTR) {
				n = pread(fd, buf, sizeof buf - 1, 0);
				if (n > 0) {
					buf[n] = '\0';
					pid = strtol(buf, NULL, 10);
				}
				close(fd);
				locks_truncate(l, first);
				mw_err_set(e, "output '%s': another mimewatch (pid %ld) writes %s; stop "
					   "it first or give this config another output dir", o->name,
					   pid, dir);
				return -1;
			}
			close(fd);
			continue;
		}
		n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
			/* Held all the same; only the pid in a refusal is lost. */
		}
		l->held = mw_xrealloc(l->held, (l->n + 1) * sizeof(*l->held));
		l->held[l->n++] = (struct dir_lock){ fd, st.st_dev, st.st_ino };
	}
	return 0;
}

void outputs_unlock_dirs(output_dir_locks *locks)
{
	if (!locks)
		return;
	locks_truncate(locks, 0);
	free(locks->held);
	free(locks);
}
