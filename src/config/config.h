/* config/config.h - the YAML config (HACKING, "Config keys and durations"):
 * load with errors that name file, line, field and fix; resolve secrets
 * inline, _file or _env; refuse secret-bearing files others can read; save
 * atomically, splicing the original text so comments and order survive.
 *
 * The folder: tree.c (the YAML text as nodes with lines and byte ranges,
 * through libyaml), schema.c (the keys, the field checks, the defaults,
 * config_check_integration), load.c (config_load and config_parse: the
 * integrations, secrets, warnings, the file's mode and owner), load_outputs.c
 * (the outputs: entries) and save.c (config_render and config_save: the
 * splice-save; config_merge and config_save_merged: saving over a file
 * that changed since it was read). What they share is in private.h, for src/config/ alone.
 *
 * May include: the C library, libyaml (in its .c files only), util.h,
 * logtypes.h, netpolicy.h (the https-or-loopback rule), output/output.h
 * (struct mw_output). Never the store, the Mimecast client, the collector
 * or curses. This is the one public header. */
#ifndef MW_CONFIG_H
#define MW_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"
#include "output/output.h"

/* How an integration reaches Mimecast through a proxy (HACKING, "Config keys
 * and durations"). url is what the entry says: NULL when it says nothing
 * (then the top level's proxy: applies, copied into inherited, and without
 * either libcurl's HTTPS_PROXY and NO_PROXY), "" when it says none (a
 * direct connection, whatever the environment says). */
struct mw_proxy {
	char *url;                  /* http:// or https://, host and port, no user */
	char *user;
	struct mw_secret password;  /* proxy_password, _file or _env */
	char *ca_file;              /* the https:// proxy's CA, or NULL */
	char *inherited;            /* the top level's proxy:, never saved here */
};

struct mw_integration {
	char *name;                 /* [A-Za-z0-9._-]+, unique */
	char *description;
	int api;                    /* 1 or 2 */
	char *base_url;             /* without trailing '/' */
	char *app_id, *app_key;     /* api 1: GUIDs */
	struct mw_secret access_key, secret_key;       /* api 1 */
	char *client_id;                               /* api 2 */
	struct mw_secret client_secret;                /* api 2 */
	unsigned types;             /* bit logtype_index(); default all */
	/* SIEM sub-types, bit logtype_subtype_index(logtype_batch()); 0: the
	 * default, logtype_subtype_default (all but those beside a collected
	 * TTP type) */
	unsigned siem_types;
	int64_t interval;           /* seconds, >= 10; default 300 */
	int64_t lookback;           /* default 86400 */
	int64_t lag;                /* default 30 */
	int64_t overlap;            /* default 600 */
	int page_size;              /* 1..100, default 100 */
	char *ca_file;
	struct mw_proxy proxy;
	int line;                   /* where it starts in the file, 0 if new */
	/* Splicing: byte range of this entry in the loaded text, and whether it
	 * changed since (a changed or new entry is written afresh). */
	size_t src_start, src_end;
	int dirty;
};

struct mw_config {
	char *path;
	char *state_dir;            /* default $XDG_STATE_HOME/mimewatch */
	int64_t retention;          /* seconds, default 30d */
	struct mw_integration *integrations;
	size_t nintegrations;
	struct mw_output *outputs;  /* at least one: the embedded default ndjson */
	size_t noutputs;
	int outputs_default;        /* 1 when no outputs: key, the default was added */
	int64_t heartbeat;          /* seconds between health records; 0 off */
	char *metrics_file;         /* Prometheus text file a collector rewrites
	                               (metrics.h); NULL none */
	int64_t max_store;          /* bytes the store may take (database + WAL,
	                               free pages not counted); 0 no budget */
	int pass_through;           /* keep_delivered: false: what every output
	                               delivered goes, but for what dedup needs */
	char *proxy;                /* the top level's proxy: (NULL none), each
	                               silent integration's proxy.inherited */
	char *warnings;             /* "FILE:LINE: field: ...\n" lines loading found
	                               worth saying but not refusing; NULL none */
	char *text;                 /* the file as loaded, for splicing */
	size_t text_len;
};

/* $XDG_CONFIG_HOME/mimewatch/config.yaml (or ~/.config/...). */
void config_default_path(char *buf, size_t n);
/* $XDG_STATE_HOME/mimewatch (or ~/.local/state/mimewatch). */
void config_default_state_dir(char *buf, size_t n);

/* Loads and checks everything. On error returns -1 and e says
 * "FILE:LINE: field: problem; fix". A file that holds a secret and that group
 * or others may read is refused, ssh-style. Returns -2 when the file does not
 * exist (the console then opens the wizard). */
int config_load(const char *path, struct mw_config *cfg, mw_err *e);
/* Same, from memory (tests, fuzzing); path is used in messages only, so the
 * file-mode check for inline secrets is config_load's alone. _file and _env
 * secrets are resolved here too. On error cfg is left zeroed. */
int config_parse(const char *path, const char *text, size_t len, struct mw_config *cfg,
		 mw_err *e);
void config_free(struct mw_config *cfg);

/* Fills an integration with defaults (for the wizard). Zeroes it first: pass
 * a fresh struct, not one that owns strings. */
void config_integration_defaults(struct mw_integration *in);
/* Frees every string of an integration (secrets wiped first) and zeroes it. */
void config_integration_clear(struct mw_integration *in);
/* The proxy the integration's requests take: a URL, "" for none at all (not
 * even the environment's), or NULL when the config is silent (libcurl then
 * reads HTTPS_PROXY and NO_PROXY). */
const char *config_proxy_url(const struct mw_integration *in);
/* Whether a and b reach Mimecast through the same proxy, as the same user. */
int config_proxy_same(const struct mw_integration *a, const struct mw_integration *b);
/* Deep copy of src's proxy settings into dst (whose own are not freed). */
void config_proxy_copy(struct mw_proxy *dst, const struct mw_proxy *src);
/* Checks one integration's fields, as loading does (wizard reuse). */
int config_check_integration(const struct mw_integration *in, mw_err *e);

/* The outputs part of cfg, as src/output/ takes it (pointers into cfg). */
struct output_set config_output_set(const struct mw_config *cfg);

/* An absolute directory path in the one form that compares: '.', '..' and
 * extra slashes resolved, and the part that exists through realpath (a
 * symlink to the same place compares equal). 0, or -1 if not absolute or too
 * long. */
int config_dir_canon(const char *path, char *out, size_t n);
/* 1 when dir and base are the same directory, 2 when dir is inside base, 0
 * neither, -1 when either path is unusable. */
int config_dir_within(const char *dir, const char *base);

const struct mw_integration *config_find(const struct mw_config *cfg, const char *name);

/* A secret kept in a file of its own, read as loading reads it: at most
 * 64 KiB, the editor's final newline (and CR) dropped. 0 with *out malloc'd
 * (wipe it after use); -1 when it cannot be read (e says why); -2 when it is
 * empty or binary (*len tells which: 0 is empty). */
int config_read_secret_text(const char *path, char **out, size_t *len, mw_err *e);

/* Writes cfg to path atomically (temp, fsync, rename), mode 0600: entries
 * that are not dirty keep their original text, comments included. */
int config_save(const struct mw_config *cfg, const char *path, mw_err *e);
/* The text config_save writes, appended to out (tests, fuzzing, previews).
 * Refuses integrations that config_check_integration refuses, and names
 * used twice, so what is written always loads back. */
int config_render(const struct mw_config *cfg, mw_buf *out, mw_err *e);
/* Saving over a file that changed since cfg was read (another console, a
 * hand edit): config_merge parses cfg->text (what was read) and disk (the
 * file now), takes this side's change (integrations added, deleted, fields
 * changed: cfg against what was read) and applies exactly that to disk's
 * config, marking only the touched entries dirty, so the other edit and its
 * comments are kept; report gets "the config changed on disk since this
 * console read it: <difference>; your change (...) was applied on top", or
 * "; not saved: conflict on <integration> <field>: yours X, on disk Y; edit
 * again". 0 with the merged text appended to out; 1 a conflict (out
 * untouched); -1 either text does not load (e says why). Secrets are never
 * shown, only their form. */
int config_merge(const struct mw_config *cfg, const char *disk, size_t disk_len, mw_buf *out,
		 mw_buf *report, mw_err *e);
/* config_save, unless the file at path is no longer cfg->text: then
 * config_merge against it. 0 saved (the file had not changed); 1 merged and
 * saved, report says what; 2 conflict, nothing saved, report says why; -1
 * error, nothing saved. */
int config_save_merged(const struct mw_config *cfg, const char *path, mw_buf *report,
		       mw_err *e);
/* Renames the integration from in cfg (to checked as loading checks a
 * name, and unique); the entry is marked dirty so config_save writes it
 * and keeps the rest of the file. 0, or -1 with e set and cfg unchanged. */
int config_rename_integration(struct mw_config *cfg, const char *from, const char *to,
			      mw_err *e);

#endif
