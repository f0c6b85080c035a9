/* logs_export.c - x in the preview: the records it shows (its filter and
 * threats-only, in the store's order) written as NDJSON output lines to a
 * file, a slice per work step of the preview, so the console never waits
 * for it. Never over an existing file (the next free name is proposed),
 * never through a symlink, 0600; a failed or cancelled export leaves no
 * partial file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/output.h"
#include "store/store.h"
#include "ui.h"
#include "util.h"

#define SLICE_ROWS 2000         /* rows examined per store call, as the preview's */
#define EXPORT_FLUSH (256 * 1024)

struct logs_export {
	struct store_query q;
	char text[256];
	struct store_scan sc;
	int64_t bound;          /* the newest rowid when the export started */
	int64_t written;
	int fd;
	char path[4096];
	mw_buf buf;
	int failed;
};

static int export_flush(struct logs_export *x)
{
	size_t off = 0;

	while (off < x->buf.len) {
		ssize_t w = write(x->fd, x->buf.data + off, x->buf.len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)w;
	}
	mw_buf_reset(&x->buf);
	return 0;
}

static int export_row(const struct store_row *row, void *ctx)
{
	struct logs_export *x = ctx;

	if (row->rowid > x->bound) {
		x->sc.done = 1;   /* arrived after the export began */
		return 1;
	}
	ndjson_line(&x->buf, row);
	x->written++;
	if (x->buf.len >= EXPORT_FLUSH && export_flush(x) < 0) {
		x->failed = errno ? errno : EIO;
		return 1;
	}
	return 0;
}

void logs_export_finish(struct ui_ctx *ctx, struct logs_export **xp, int ok)
{
	struct logs_export *x = *xp;
	char n[32];

	if (!x)
		return;
	if (ok && export_flush(x) < 0)
		x->failed = errno ? errno : EIO;
	if (ok && !x->failed && fsync(x->fd) < 0)
		x->failed = errno;
	if (close(x->fd) < 0 && ok && !x->failed)
		x->failed = errno;
	ui_fmt_count(x->written, n, sizeof(n));
	if (ok && !x->failed) {
		ui_message(ctx, ROLE_OK, "exported %s record%s to %s", n, x->written == 1 ? "" : "s",
			   x->path);
	} else {
		/* A partial file would pass for a complete one. */
		unlink(x->path);
		if (x->failed)
			ui_message(ctx, ROLE_ERROR, "export to %s failed: %s; nothing was kept",
				   x->path, strerror(x->failed));
		else if (ok)
			ui_message(ctx, ROLE_ERROR, "export to %s failed; nothing was kept", x->path);
		else
			ui_message(ctx, ROLE_WARNING, "export to %s cancelled; nothing was kept",
				   x->path);
	}
	mw_buf_free(&x->buf);
	free(x);
	*xp = NULL;
}

int logs_export_step(struct ui_ctx *ctx, struct logs_export **xp)
{
	struct logs_export *x = *xp;
	mw_err e;

	mw_err_clear(&e);
	x->q.text = x->text;
	if (store_query_page(ctx->store, &x->q, 1, &x->sc, 0, SLICE_ROWS, export_row, x, &e) < 0) {
		ui_message(ctx, ROLE_ERROR, "export: %s", e.msg);
		logs_export_finish(ctx, xp, 0);
		return 0;
	}
	if (x->failed || x->sc.done) {
		logs_export_finish(ctx, xp, 1);
		return 0;
	}
	return 1;
}

/* The path typed, made absolute: "~/x" is the home directory's x, as in a
 * shell, and a relative name is taken in the working directory, which the
 * prompt and every message then name in full. */
static void expand_path(const char *in, char *out, size_t n)
{
	const char *home = getenv("HOME");
	char cwd[2048];

	while (*in == ' ')
		in++;
	if (in[0] == '~' && (in[1] == '/' || !in[1]) && home && *home)
		snprintf(out, n, "%s%s", home, in + 1);
	else if (in[0] && in[0] != '/' && getcwd(cwd, sizeof(cwd)))
		snprintf(out, n, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", in);
	else
		snprintf(out, n, "%s", in);
	for (size_t k = strlen(out); k > 0 && out[k - 1] == ' '; k--)
		out[k - 1] = '\0';
}

/* path, or the first of path-2, path-3 ... (before its extension) that
 * names no file: what x proposes, so a second export does not stop at the
 * first one's file. */
static void free_name(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	struct stat sb;
	size_t stem;

	snprintf(out, n, "%s", path);
	if (lstat(out, &sb) < 0 && errno == ENOENT)
		return;
	if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : path))
		dot = path + strlen(path);
	stem = (size_t)(dot - path);
	for (int k = 2; k < 1000; k++) {
		snprintf(out, n, "%.*s-%d%s", (int)stem, path, k, dot);
		if (lstat(out, &sb) < 0 && errno == ENOENT)
			return;
	}
	snprintf(out, n, "%s", path);
}

struct logs_export *logs_export_start(struct ui_ctx *ctx, const struct store_query *q,
				      const char *typed, char *next, size_t nnext)
{
	struct logs_export *x;
	int fd;

	x = mw_xcalloc(1, sizeof(*x));
	expand_path(typed, x->path, sizeof(x->path));
	if (!x->path[0]) {
		free(x);
		ui_message(ctx, ROLE_WARNING, "export: no file name given; press x and type a path");
		return NULL;
	}
	/* Never over an existing file (O_EXCL), never through a symlink, and
	 * 0600 like everything mimewatch writes. */
	fd = open(x->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		int err = errno;

		if (err == EEXIST) {
			/* Kept: the next x proposes it. */
			const char *base;

			free_name(x->path, next, nnext);
			base = strrchr(next, '/');
			ui_message(ctx, ROLE_ERROR, "export: %s exists; press x for %s", x->path,
				   base ? base + 1 : next);
		} else
			ui_message(ctx, ROLE_ERROR, "export: %s: %s%s", x->path, strerror(err),
				   err == ENOENT ? "; create the directory first" : "");
		free(x);
		return NULL;
	}
	if (fchmod(fd, 0600) < 0) {
		/* The umask cannot widen 0600; only an odd file system fails here. */
		ui_message(ctx, ROLE_ERROR, "export: %s: chmod 0600: %s", x->path, strerror(errno));
		close(fd);
		unlink(x->path);
		free(x);
		return NULL;
	}
	x->fd = fd;
	x->q = *q;
	mw_strlcpy(x->text, q->text ? q->text : "", sizeof(x->text));
	x->q.text = x->text;
	x->sc = (struct store_scan){ 0, 0 };
	x->bound = store_max_rowid(ctx->store);
	mw_buf_init(&x->buf);
	ui_message(ctx, ROLE_MUTED, "exporting to %s ...", x->path);
	return x;
}

const char *logs_export_progress(const struct logs_export *x, int64_t *written)
{
	*written = x->written;
	return x->path;
}

void logs_export_name(const char *integration, const char *type, char *next, char *out,
		      size_t n)
{
	char name[256], path[4096];

	/* In full, and free: after "exists", the name that message gave. */
	if (next[0]) {
		mw_strlcpy(path, next, sizeof(path));
		next[0] = '\0';
	} else {
		snprintf(name, sizeof(name), "mimewatch-%s-%s.ndjson", integration, type);
		expand_path(name, path, sizeof(path));
	}
	free_name(path, out, n);
}

