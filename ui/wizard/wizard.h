/* wizard/wizard.h - private to ui/wizard/, the onboarding wizard (data/mimewatch.1,
 * THE CONSOLE): the screen's state, the
 * form's fields and the worker jobs, shared by its files. Each section
 * names the file whose functions it declares:
 *   view.c   the screen's ops, page changes, submit and save
 *   form.c   the fields, their checks in the loader's words, the form's keys
 *   jobs.c   the live checks in detached worker threads (through session.c)
 *   draw.c   the checklist page, the form and the check's result
 *   steps.c  the checklist's text (steps.h)
 * The wizard reaches config, Mimecast and the collector only through
 * session.h; from mimecast.h it uses the error classes, the regions and
 * the validation report's types. */
#ifndef MW_UI_WIZARD_H
#define MW_UI_WIZARD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "mimecast/mimecast.h"
#include "steps.h"
#include "ui.h"

#define DISCOVER_DEFAULT "https://api.mimecast.com"
#define V2_DEFAULT_URL "https://api.services.mimecast.com"
#define MAX_SLOTS 32
#define LABEL_COLS 20

/* ---- form fields ------------------------------------------------------------ */

enum fid {
	F_NAME, F_DESC, F_API, F_APP_ID, F_APP_KEY, F_REGION, F_BASE_URL, F_EMAIL, F_CA,
	F_ACCESS, F_SECRET, F_CLIENT_ID, F_CLIENT_SECRET, F_SECRET_FORM, F_SECRET_REF, F_TYPE,
	F_INTERVAL, F_LOOKBACK, F_SUBMIT, F_COUNT
};

enum fkind { FK_TEXT, FK_CHOICE, FK_CHECK, FK_BUTTON };

struct fdef {
	const char *label;
	enum fkind kind;
	int api;                    /* 0 both, or only with API 1 / 2 */
	const char *cfg_key;        /* the config key its checks are reported under */
	const char *hint;
	const char *missing;        /* the error of the field left empty */
};

extern const struct fdef fdefs[F_COUNT];

struct slot {
	enum fid id;
	int sub;                    /* F_TYPE: index in mw_logtypes */
};

/* ---- worker jobs -------------------------------------------------------------- */

enum job_kind { JOB_VALIDATE, JOB_DISCOVER };

/* Shared by the screen and one detached worker thread; whoever lets go last
 * frees it, so the screen can leave while Mimecast is still answering. */
struct job {
	pthread_mutex_t mu;
	int refs;
	int done;
	atomic_int abort;          /* read by the worker, set by the screen */
	enum job_kind kind;
	/* validate */
	struct mw_integration in;
	struct validate_report rep;
	/* discover */
	char *base, *email, *found;  /* the form's integration in in */
	struct mc_result dres;
};

/* ---- screen state ----------------------------------------------------------- */

enum { PAGE_FORM = -1, PAGE_CHECK = -2 };

struct wiz {
	int edit;
	char orig_name[128];
	int orig_api;               /* on edit: the API the integration had */
	int page;                   /* a step index, PAGE_FORM or PAGE_CHECK */
	int first_page;
	unsigned char ticked[32];
	int confirm_leave;
	int dirty;                  /* something typed or changed */
	char title[192];

	struct ui_field f[F_COUNT];
	int api;
	enum mw_secret_src sform;   /* where the Client Secret is kept: inline, file, env */
	int write_secret;           /* the typed Client Secret goes into its file on save */
	unsigned types;
	int focus, top;
	struct ui_doc doc;          /* a checklist page or the check, rebuilt at each
				     * draw; its scroll position is the page's */
	unsigned touched;           /* bit per enum fid */
	int submitted;
	int hide_secret_hint;

	struct job *disc;
	char disc_msg[900];
	char disc_found_for[256];   /* the address the base URL was found for */
	enum ui_role disc_role;

	struct mw_integration built;  /* what the check ran on, and what is saved */
	int have_built;
	struct job *val;
	int val_done;
	struct validate_report rep;
	int refused;                /* Enter pressed with no passing type */
};

/* ---- form.c ---- */

/* The field's text, NUL-terminated. */
const char *wiz_fstr(struct ui_field *f);
void wiz_field_set(struct ui_field *f, const char *s);
/* The value without surrounding blanks, malloc'd; NULL when empty. */
char *wiz_field_dup(struct ui_field *f);
int wiz_field_empty(struct ui_field *f);
void wiz_integ_copy(struct mw_integration *dst, const struct mw_integration *src);
int wiz_is_enter(wint_t ch, int is_key);
/* The checklist of the API chosen on its first page. */
size_t wiz_steps_of(const struct wiz *w, const struct wizard_step **st);
/* The form's rows for the chosen API and secret form: returns how many. */
size_t wiz_form_slots(const struct wiz *w, struct slot *out);
/* Regions of the chosen API version; the one the base URL names, or -1. */
int wiz_region_fits(const struct mw_region *r, int api);
int wiz_region_current(struct wiz *w);
void wiz_set_api(struct wiz *w, int api);
/* On edit: the integration as saved, or NULL. */
const struct mw_integration *wiz_orig_integration(const struct ui_view *v);
/* The error of one field in words that say the fix, or 0 when it is fine;
 * *warn for advice that does not block saving. */
int wiz_field_error(struct ui_view *v, enum fid id, char *out, size_t n, int *warn);
int wiz_error_shown(struct ui_view *v, enum fid id);
/* The integration the form describes (what is checked and saved). */
void wiz_form_build(struct ui_view *v, struct mw_integration *in);
void wiz_focus_move(struct ui_view *v, int delta);
/* The form page's actions and raw keys: 1 when handled. */
int wiz_form_action(struct ui_view *v, enum ui_action a);
int wiz_form_input(struct ui_view *v, wint_t ch, int is_key);
/* A bracketed paste: the values it names ("Client ID: ...", the four API
 * 1.0 values, ...) fill their fields, from a checklist page too; one plain
 * value goes into the focused field. */
void wiz_form_paste(struct ui_view *v, const char *text, size_t len);

/* ---- jobs.c ---- */

/* Lets go of a job (aborting it); wait_ms > 0 waits that long for it. */
void wiz_job_cancel(struct job **jp, int64_t wait_ms);
/* discover-authentication for the email field; the check of w->built. */
void wiz_start_discovery(struct ui_view *v);
void wiz_start_validation(struct ui_view *v);
/* Picks up finished jobs (before drawing and on every wake-up). */
void wiz_poll_jobs(struct ui_view *v);

/* ---- draw.c ---- */

void wiz_draw(struct ui_view *v, int y0, int x0, int height, int width);

/* ---- view.c ---- */

void wiz_update_title(struct ui_view *v);
void wiz_go_page(struct ui_view *v, int page);
/* Leaves the wizard, asking first when something was typed (force: not). */
void wiz_leave(struct ui_view *v, int force);
/* Enter on the form: every field must pass before the check starts. */
void wiz_submit(struct ui_view *v);

#endif
