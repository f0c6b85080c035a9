/* session.c - the console's one way into the rest of mimewatch (session.h):
 * the config, the store and the collector lock, the in-process collector or
 * attaching to a `mimewatch run`, requests through the store (HACKING,
 * "Parts and their rules"), and the
 * wizard's live checks. The only ui file that calls config or collector
 * functions. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* strdup alongside -std=c11 */
#endif
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "config/config.h"
#include "logtypes.h"
#include "session.h"
#include "store/store.h"
#include "util.h"

static struct {
	int lock_fd;
	struct mw_config col_cfg;       /* the collector's own copy of the config */
	int have_col_cfg;
	store_watch *watch;             /* read-only: data_version, pending requests */
	long seen_pid;                  /* a new lock holder seen once, not yet attached to */
} se = { .lock_fd = -1 };

/* ---- start and end ------------------------------------------------------------------ */

int session_open(struct ui_ctx *ctx, const char *path, mw_err *e)
{
	struct mw_config *cfg;
	char *hints;
	int rc;

	if (path)
		mw_strlcpy(ctx->config_path, path, sizeof(ctx->config_path));
	else
		config_default_path(ctx->config_path, sizeof(ctx->config_path));
	cfg = mw_xcalloc(1, sizeof(*cfg));
	rc = config_load(ctx->config_path, cfg, e);
	if (rc == -2) {
		free(cfg);      /* no file yet: the wizard creates it */
		return 0;
	}
	if (rc != 0) {
		free(cfg);
		return -1;
	}
	ctx->cfg = cfg;
	/* Store problems are reported before the screen takes over. */
	if (store_open(cfg->state_dir, &ctx->store, e) < 0)
		return -1;
	/* A name typed over an old one: said before the collector makes
	 * sources under the new name. */
	hints = collector_rename_hints(ctx->store, cfg);
	if (session_start_collector(ctx) < 0) {
		mw_err_set(e, "%s", ctx->message);
		free(hints);
		return -1;
	}
	ctx->message[0] = '\0';
	if (hints)
		ui_app_message(ctx, ROLE_WARNING, "warning: %.*s", (int)strcspn(hints, "\n"), hints);
	free(hints);
	return 0;
}

/* The header says which shard the run we attach to is: the row it wrote
 * when it started (a run --shard K/N collects only some integrations). */
/* The collector in effect is shard sh (n 0: none): what home skips and
 * the header's "shard K/N: X of Y integrations" (cfg's). */
static void show_shard(struct ui_ctx *ctx, const struct mw_shard *sh,
		       const struct mw_config *cfg)
{
	ctx->shard[0] = '\0';
	ctx->col_shard_k = sh->k;
	ctx->col_shard_n = sh->n;
	if (sh->n && cfg)
		snprintf(ctx->shard, sizeof(ctx->shard), "shard %u/%u: %zu of %zu integrations",
			 sh->k, sh->n, collector_shard_count(cfg, sh), cfg->nintegrations);
}

static void attached_shard(struct ui_ctx *ctx)
{
	struct mw_shard sh;

	collector_shard_of_store(ctx->store, &sh);
	show_shard(ctx, &sh, ctx->cfg);
}

int session_start_collector(struct ui_ctx *ctx)
{
	struct collector_opts opts;
	mw_err e;
	long pid = 0;
	int r;

	if (ctx->col || ctx->attached)
		return 0;
	if (!ctx->cfg) {
		ui_app_message(ctx, ROLE_ERROR, "no config yet: add an integration first (a)");
		return -1;
	}
	mw_err_clear(&e);
	if (!ctx->store && store_open(ctx->cfg->state_dir, &ctx->store, &e) < 0) {
		ui_app_message(ctx, ROLE_ERROR, "%s", e.msg);
		return -1;
	}
	if (se.lock_fd < 0) {
		r = store_lock(ctx->cfg->state_dir, &se.lock_fd, &pid, &e);
		if (r < 0) {
			ui_app_message(ctx, ROLE_ERROR, "%s", e.msg);
			return -1;
		}
		if (r == 0) {
			ctx->attached = 1;
			ctx->attached_pid = pid;
			attached_shard(ctx);
			frame_dirty();
			return 0;
		}
	}
	/* The collector keeps its own copy: screens may swap ctx->cfg (the
	 * wizard reloads it after saving) while the collector runs. */
	if (!se.have_col_cfg) {
		if (config_load(ctx->config_path, &se.col_cfg, &e) != 0) {
			ui_app_message(ctx, ROLE_ERROR, "%s", e.msg);
			return -1;
		}
		se.have_col_cfg = 1;
	}
	memset(&opts, 0, sizeof(opts));
	opts.deliver = 1;
	/* --shard K/N: on a config several collectors share, the console
	 * collects only its shard's integrations, as run --shard K/N would */
	opts.shard.k = ctx->shard_k;
	opts.shard.n = ctx->shard_n;
	ctx->col = collector_new(&se.col_cfg, &opts, &e);
	if (!ctx->col) {
		ui_app_message(ctx, ROLE_ERROR, "%s", e.msg);
		return -1;
	}
	if (collector_start(ctx->col, &e) < 0) {
		collector_free(ctx->col);
		ctx->col = NULL;
		ui_app_message(ctx, ROLE_ERROR, "%s", e.msg);
		return -1;
	}
	show_shard(ctx, &opts.shard, &se.col_cfg);
	frame_dirty();
	return 0;
}

void session_collect_here(struct ui_ctx *ctx)
{
	long was = ctx->exited_pid;

	if (ctx->col) {
		ui_app_message(ctx, ROLE_MUTED, "already collecting in this console");
		return;
	}
	if (ctx->attached) {
		ui_app_message(ctx, ROLE_MUTED, "mimewatch run (pid %ld) collects; this console shows "
			   "what it does", ctx->attached_pid);
		return;
	}
	if (session_start_collector(ctx) < 0)
		return;         /* the reason is on the status line */
	ctx->exited_pid = 0;
	se.seen_pid = 0;
	if (ctx->attached) {
		ui_app_message(ctx, ROLE_OK, "a mimewatch run (pid %ld) started first: attached to it",
			   ctx->attached_pid);
		return;
	}
	ctx->took_over = 1;
	if (was)
		ui_app_message(ctx, ROLE_OK, "collecting in this console (the collector, pid %ld, had "
			   "exited); it stops when the console quits", was);
	else
		ui_app_message(ctx, ROLE_OK, "collecting in this console; it stops when the console "
			   "quits");
}

void session_stop_collector(struct ui_ctx *ctx)
{
	if (ctx->col) {
		collector_stop(ctx->col);
		collector_join(ctx->col);
		collector_free(ctx->col);
		ctx->col = NULL;
	}
	if (se.have_col_cfg) {
		config_free(&se.col_cfg);
		se.have_col_cfg = 0;
	}
}

void session_close(struct ui_ctx *ctx)
{
	session_stop_collector(ctx);
	store_watch_close(se.watch);
	se.watch = NULL;
	if (ctx->store)
		store_close(ctx->store);
	ctx->store = NULL;
	if (se.lock_fd >= 0)
		close(se.lock_fd);
	se.lock_fd = -1;
	if (ctx->cfg) {
		config_free(ctx->cfg);
		free(ctx->cfg);
	}
	ctx->cfg = NULL;
}

/* ---- what the main loop watches --------------------------------------------------------- */

int session_wake_fd(const struct ui_ctx *ctx)
{
	return ctx->col ? collector_wake_fd(ctx->col) : -1;
}

static store_watch *watch_of(const struct ui_ctx *ctx)
{
	mw_err e;

	/* Opened late: the store may not exist before the collector made it. */
	if (!se.watch && ctx->cfg && ctx->cfg->state_dir)
		store_watch_open(ctx->cfg->state_dir, &se.watch, &e);
	return se.watch;
}

int session_requests_waiting(struct ui_ctx *ctx)
{
	return store_watch_open_requests(watch_of(ctx));
}

/* A holder other than the one we know: attached to it only when the same
 * pid holds the lock on the next look too (a `mimewatch status` takes it
 * for a moment to see whether anyone collects). */
static int new_holder(struct ui_ctx *ctx, long pid)
{
	if (pid != se.seen_pid) {
		se.seen_pid = pid;
		return 0;
	}
	se.seen_pid = 0;
	ctx->attached = 1;
	ctx->attached_pid = pid;
	attached_shard(ctx);
	ctx->exited_pid = 0;
	ui_app_message(ctx, ROLE_OK, "a new mimewatch run (pid %ld) collects: attached to it", pid);
	frame_dirty();
	return 1;
}

int session_watch_collector(struct ui_ctx *ctx)
{
	long pid = 0;
	int r;

	/* Holding the lock ourselves, our own flock would answer "held". */
	if (ctx->col || se.lock_fd >= 0 || !ctx->cfg || !ctx->cfg->state_dir ||
	    (!ctx->attached && !ctx->exited_pid))
		return 0;
	r = store_lock_holder(ctx->cfg->state_dir, &pid);
	if (r < 0)
		return 0;
	if (r == 1 && pid > 0 && pid != (ctx->attached ? ctx->attached_pid : ctx->exited_pid))
		return new_holder(ctx, pid);
	se.seen_pid = 0;
	/* Held by the one we know, or by one that has not written its pid
	 * yet (the file still names the last holder for a moment). */
	if (r == 1 || !ctx->attached)
		return 0;
	ctx->attached = 0;
	/* -1: a holder that never wrote its pid (exited_pid must be set). */
	ctx->exited_pid = ctx->attached_pid > 0 ? ctx->attached_pid : -1;
	ctx->attached_pid = 0;
	/* What it left undone stays in the store for the next collector:
	 * the home screen counts it. */
	ui_app_message(ctx, ROLE_WARNING, "the collector (pid %ld) has exited; press C to collect in "
		   "this console", ctx->exited_pid);
	frame_dirty();
	return 1;
}

int session_store_changed(struct ui_ctx *ctx)
{
	return store_watch_changed(watch_of(ctx));
}

int session_collects(const struct ui_ctx *ctx, const char *name)
{
	struct mw_shard sh = { ctx->col_shard_k, ctx->col_shard_n };

	return shard_takes(&sh, name);
}

int session_idle(struct ui_ctx *ctx, int64_t since_ms)
{
	struct store_status *st = NULL;
	size_t n = 0;
	mw_err e;
	int idle = 1;

	if (!ctx->store || !ctx->cfg || (!ctx->col && !ctx->attached))
		return 1;
	if (store_watch_pending(watch_of(ctx), since_ms) > 0)
		return 0;
	/* An output that is fine but has records to deliver is about to
	 * deliver them; one retrying or in error waits for the receiver, not
	 * for us, and is idle. */
	for (size_t i = 0; i < ctx->cfg->noutputs; i++) {
		struct store_output_info oi;

		if (store_output_info(ctx->store, ctx->cfg->outputs[i].name, &oi, &e) == 0 &&
		    oi.lag_records > 0 && (!strcmp(oi.state, "ok") || !strcmp(oi.state, "idle")))
			return 0;
	}
	if (store_list_status(ctx->store, &st, &n, &e) < 0)
		return 1;
	for (size_t i = 0; i < ctx->cfg->nintegrations && idle; i++) {
		const struct mw_integration *in = &ctx->cfg->integrations[i];

		if (!session_collects(ctx, in->name))
			continue;       /* another shard's: never started here */
		for (size_t t = 0; t < mw_nlogtypes && idle; t++) {
			const struct store_status *s = NULL;
			struct store_cursor cur;

			if (!(in->types & (1u << t)))
				continue;
			for (size_t k = 0; k < n; k++)
				if (!strcmp(st[k].integration, in->name) &&
				    !strcmp(st[k].type, mw_logtypes[t].name))
					s = &st[k];
			if (!s) {
				idle = 0;
				break;
			}
			if (s->paused || !strcmp(s->state, "paused") || !strcmp(s->state, "error"))
				continue;
			if (!strcmp(s->state, "collecting") || s->last_attempt == 0) {
				idle = 0;
				break;
			}
			if (store_get_cursor(ctx->store, s->source, &cur, &e) == 0 && cur.in_window)
				idle = 0;
		}
	}
	free(st);
	return idle;
}

/* ---- actions ------------------------------------------------------------------------------ */

int ui_request(struct ui_ctx *ctx, const char *integration, const char *type,
	       enum mw_request action, const char *arg, int64_t *id, mw_err *e)
{
	if (!ctx->store) {
		mw_err_set(e, "no store open: nothing collects yet");
		return -1;
	}
	if (store_request_add(ctx->store, integration, type, action, arg, id, e) < 0)
		return -1;
	if (ctx->col)
		collector_poke(ctx->col);  /* in this process: no 1-second poll to wait for */
	return 0;
}

int session_save_config(struct ui_ctx *ctx, const struct mw_config *cfg, mw_err *e)
{
	struct mw_config *loaded;
	int64_t req = 0;
	mw_buf report;
	mw_err le;
	int rc = 0, saved;

	if (!ctx->config_path[0])
		config_default_path(ctx->config_path, sizeof(ctx->config_path));
	if (mw_mkdir_parent(ctx->config_path, e) < 0)
		return -1;
	/* the file changed since this console read it: this console's change
	 * goes on top of the other edit, or nothing is saved on a conflict */
	mw_buf_init(&report);
	saved = config_save_merged(cfg, ctx->config_path, &report, e);
	if (saved == 1 || saved == 2)
		mw_err_set(e, "%s", report.data);
	mw_buf_free(&report);
	if (saved < 0)
		return -1;
	if (saved == 2)
		return -3;
	if (saved == 1)
		rc = 2;
	/* a running collector (ours or a `mimewatch run`) picks the change up */
	if (ctx->store && ui_request(ctx, "", "", MW_REQ_RELOAD, "", &req, &le) < 0) {
		if (rc == 2) {
			char why[sizeof(e->msg)];

			mw_strlcpy(why, e->msg, sizeof(why));
			mw_err_set(e, "%s; the collector was not told: %s", why, le.msg);
		} else {
			*e = le;
		}
		rc = 1;
	}
	loaded = mw_xcalloc(1, sizeof(*loaded));
	mw_err_clear(&le);
	if (config_load(ctx->config_path, loaded, &le) != 0) {
		free(loaded);
		*e = le;
		return -2;
	}
	/* the in-process collector runs on its own copy (session_start_collector),
	 * so the screens' config can be swapped at once */
	if (ctx->cfg) {
		config_free(ctx->cfg);
		free(ctx->cfg);
	}
	ctx->cfg = loaded;
	return rc;
}

int session_save_integration(struct ui_ctx *ctx, const struct mw_integration *in,
			     const char *replace, mw_err *e)
{
	struct mw_config ncfg;
	struct mw_integration *arr;
	char state_dir[PATH_MAX];
	size_t n = 0, idx = 0;
	int rc;

	if (!ctx->config_path[0])
		config_default_path(ctx->config_path, sizeof(ctx->config_path));
	if (ctx->cfg) {
		/* a shallow copy: the other entries are written from ctx->cfg as they are */
		ncfg = *ctx->cfg;
		n = ncfg.nintegrations;
		arr = mw_xcalloc(n + 1, sizeof(*arr));
		if (n)
			memcpy(arr, ctx->cfg->integrations, n * sizeof(*arr));
		for (idx = 0; idx < n; idx++)
			if (replace && arr[idx].name && strcmp(arr[idx].name, replace) == 0)
				break;
	} else {
		memset(&ncfg, 0, sizeof(ncfg));
		config_default_state_dir(state_dir, sizeof(state_dir));
		ncfg.state_dir = state_dir;
		ncfg.outputs_default = 1;
		arr = mw_xcalloc(1, sizeof(*arr));
	}
	arr[idx] = *in;
	if (idx == n)
		n++;
	ncfg.path = ctx->config_path;
	ncfg.integrations = arr;
	ncfg.nintegrations = n;
	rc = session_save_config(ctx, &ncfg, e);
	free(arr);
	return rc;
}

int session_delete_integration(struct ui_ctx *ctx, const char *name, mw_err *e)
{
	struct mw_config copy;
	size_t n = 0;
	int64_t id;
	mw_err de;
	int rc;

	if (!ctx->cfg || !config_find(ctx->cfg, name)) {
		mw_err_set(e, "no integration '%s' in the config", name);
		return -1;
	}
	/* A shallow copy without the entry: config_save splices the rest of
	 * the file unchanged, comments included. */
	copy = *ctx->cfg;
	copy.integrations = mw_xcalloc(ctx->cfg->nintegrations, sizeof(*copy.integrations));
	for (size_t i = 0; i < ctx->cfg->nintegrations; i++)
		if (strcmp(ctx->cfg->integrations[i].name, name))
			copy.integrations[n++] = ctx->cfg->integrations[i];
	copy.nintegrations = n;
	rc = session_save_config(ctx, &copy, e);
	free(copy.integrations);
	/* The collector first drops the job (reload), then its records. */
	if ((rc == 0 || rc == 2 || rc == -2) && ctx->store &&
	    ui_request(ctx, name, "", MW_REQ_DELETE, "", &id, &de) < 0 &&
	    (rc == 0 || rc == 2)) {
		*e = de;
		rc = 1;
	}
	return rc;
}

/* Swaps ctx->cfg for the file as it is now. */
static int reread_config(struct ui_ctx *ctx, mw_err *e)
{
	struct mw_config *loaded = mw_xcalloc(1, sizeof(*loaded));

	if (config_load(ctx->config_path, loaded, e) != 0) {
		free(loaded);
		return -1;
	}
	if (ctx->cfg) {
		config_free(ctx->cfg);
		free(ctx->cfg);
	}
	ctx->cfg = loaded;
	return 0;
}

int session_rename_integration(struct ui_ctx *ctx, const char *from, const char *to,
			       mw_err *e)
{
	char result[512] = "";
	int64_t id;
	int state = 0;

	if (!ctx->cfg || !config_find(ctx->cfg, from)) {
		mw_err_set(e, "no integration '%s' in the config", from);
		return -1;
	}
	if (!ctx->store) {
		mw_err_set(e, "no store open: nothing to rename yet");
		return -1;
	}
	if (!ctx->col && !ctx->attached) {
		/* Nothing collects: rename here, under the collector lock. */
		int fd = -1, locked;
		long pid = 0;

		locked = store_lock(ctx->cfg->state_dir, &fd, &pid, e);
		if (locked < 0)
			return -1;
		if (locked == 1) {
			int rc = collector_rename_integration(ctx->store, ctx->config_path, from, to,
							      e);

			close(fd);
			if (rc < 0)
				return -1;
			return reread_config(ctx, e) < 0 ? -2 : 0;
		}
	}
	/* The collector (this console's or a `mimewatch run`) renames, saves
	 * and reloads: wait for it, then read the file it wrote. */
	if (ui_request(ctx, from, "", MW_REQ_RENAME, to, &id, e) < 0)
		return -1;
	for (int i = 0; i < 200 && state < 2; i++) {
		mw_sleep_ms(50);
		if (store_request_get(ctx->store, id, &state, result, sizeof(result), e) < 0)
			return -1;
	}
	if (state == 3) {
		mw_err_set(e, "%s", result);
		return -1;
	}
	if (state != 2) {
		mw_err_set(e, "rename %s: the collector did not answer within 10 s; the request "
			      "stays queued", from);
		return 1;
	}
	return reread_config(ctx, e) < 0 ? -2 : 0;
}

/* ---- the config's integrations --------------------------------------------------------- */

const struct mw_integration *session_integration(const struct ui_ctx *ctx, const char *name)
{
	return ctx->cfg && name ? config_find(ctx->cfg, name) : NULL;
}

void session_integration_defaults(struct mw_integration *in)
{
	config_integration_defaults(in);
}

void session_integration_clear(struct mw_integration *in)
{
	config_integration_clear(in);
}

void session_proxy_copy(struct mw_proxy *dst, const struct mw_proxy *src)
{
	config_proxy_copy(dst, src);
}

void session_proxy_inherit(const struct ui_ctx *ctx, struct mw_integration *in)
{
	free(in->proxy.inherited);
	in->proxy.inherited = mw_xstrdup(ctx->cfg ? ctx->cfg->proxy : NULL);
}

int session_integration_check(const struct mw_integration *in, mw_err *e)
{
	return config_check_integration(in, e);
}

int session_read_secret_file(const char *path, char **data, size_t *len, mw_err *e)
{
	return config_read_secret_text(path, data, len, e);
}

/* ---- the wizard's live checks ------------------------------------------------------------- */

void session_validate(const struct mw_integration *in, struct validate_report *rep,
		      atomic_int *abort)
{
	collector_check_integration(in, rep, abort);
}

void session_discover(const struct mw_integration *in, const char *base, const char *email,
		      char **found, struct mc_result *res)
{
	collector_discover_region(in, base, email, found, res);
}
