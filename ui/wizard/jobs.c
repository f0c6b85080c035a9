/* wizard/jobs.c - the wizard's network work (validation, discover-
 * authentication) in detached worker threads that share a reference-counted
 * job with the screen, so leaving the screen never waits for Mimecast. The
 * work itself is session.c's (session_validate, session_discover). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* explicit_bzero, strdup alongside -std=c11 */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "util.h"
#include "wizard.h"

/* ---- jobs ------------------------------------------------------------------------ */

static void job_release(struct job *j)
{
	int left;

	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	left = --j->refs;
	pthread_mutex_unlock(&j->mu);
	if (left > 0)
		return;
	session_integration_clear(&j->in);
	free(j->base);
	free(j->email);
	free(j->found);
	pthread_mutex_destroy(&j->mu);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

/* Workers still running: the process must not exit under them (libcrypto
 * tears its tables down at exit while a transfer may still sign). */
static atomic_int workers_running;

void wizard_wait_workers(int64_t wait_ms)
{
	int64_t until = mw_mono_ms() + wait_ms;

	while (atomic_load(&workers_running) > 0 && mw_mono_ms() < until)
		mw_sleep_ms(20);
}

static void *job_main(void *arg)
{
	struct job *j = arg;

	if (j->kind == JOB_VALIDATE) {
		struct validate_report rep;

		session_validate(&j->in, &rep, &j->abort);
		pthread_mutex_lock(&j->mu);
		j->rep = rep;
		j->done = 1;
		pthread_mutex_unlock(&j->mu);
	} else {
		struct mc_result res;
		char *found = NULL;

		session_discover(&j->in, j->base, j->email, &found, &res);
		pthread_mutex_lock(&j->mu);
		j->dres = res;
		j->found = found;
		j->done = 1;
		pthread_mutex_unlock(&j->mu);
	}
	/* busy drops before the wake-up, so wait-idle sees the result drawn */
	ui_busy(-1);
	ui_wake();
	job_release(j);
	atomic_fetch_sub(&workers_running, 1);
	return NULL;
}

static struct job *job_new(enum job_kind kind)
{
	struct job *j = mw_xcalloc(1, sizeof(*j));

	pthread_mutex_init(&j->mu, NULL);
	j->refs = 2;  /* the screen and the worker */
	j->kind = kind;
	return j;
}

/* Starts the worker; on failure the job is marked done with the reason. */
static void job_start(struct job *j)
{
	pthread_attr_t attr;
	pthread_t th;
	int rc;

	ui_busy(+1);
	atomic_fetch_add(&workers_running, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &attr, job_main, j);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return;
	ui_busy(-1);
	atomic_fetch_sub(&workers_running, 1);
	j->refs = 1;
	j->done = 1;
	if (j->kind == JOB_VALIDATE) {
		for (size_t i = 0; i < j->rep.nrows; i++) {
			mc_result_init(&j->rep.rows[i].res);
			j->rep.rows[i].res.cls = MC_UNKNOWN;
		}
	} else {
		mc_result_init(&j->dres);
		j->dres.cls = MC_UNKNOWN;
		snprintf(j->dres.remedy, sizeof(j->dres.remedy),
			 "could not start a thread (%s); try again", strerror(rc));
	}
}

static int job_done(struct job *j)
{
	int d;

	pthread_mutex_lock(&j->mu);
	d = j->done;
	pthread_mutex_unlock(&j->mu);
	return d;
}

/* Lets go of a job; when leaving the screen for good (wait_ms > 0) waits a
 * little for the worker, so the process does not tear libcurl down under a
 * transfer that is already aborting. */
void wiz_job_cancel(struct job **jp, int64_t wait_ms)
{
	struct job *j = *jp;

	if (!j)
		return;
	j->abort = 1;
	if (wait_ms > 0) {
		int64_t until = mw_mono_ms() + wait_ms;

		while (!job_done(j) && mw_mono_ms() < until)
			mw_sleep_ms(20);
	}
	job_release(j);
	*jp = NULL;
}



void wiz_start_discovery(struct ui_view *v)
{
	struct wiz *w = v->priv;
	const char *env = getenv("MIMEWATCH_DISCOVER_URL");
	char *email = wiz_field_dup(&w->f[F_EMAIL]);
	struct job *j;

	if (!email || !strchr(email, '@')) {
		snprintf(w->disc_msg, sizeof(w->disc_msg), "type the service user's email address "
			 "(name@company.example), then press Enter");
		w->disc_role = ROLE_ERROR;
		free(email);
		return;
	}
	if (!mw_is_guid(wiz_fstr(&w->f[F_APP_ID]))) {
		/* the lookup is made in the name of the API application */
		snprintf(w->disc_msg, sizeof(w->disc_msg), "the lookup needs the Application ID: "
			 "fill it in above first");
		w->disc_role = ROLE_ERROR;
		free(email);
		return;
	}
	wiz_job_cancel(&w->disc, 0);
	j = job_new(JOB_DISCOVER);
	j->base = mw_xstrdup(env && *env ? env : DISCOVER_DEFAULT);
	/* the form as it stands: its application, CA file and proxy (the
	 * integration's own when editing, else the top level's) */
	wiz_form_build(v, &j->in);
	j->email = email;
	snprintf(w->disc_msg, sizeof(w->disc_msg), "asking Mimecast which region hosts %s ...",
		 email);
	w->disc_role = ROLE_MUTED;
	w->disc = j;
	job_start(j);
}


void wiz_start_validation(struct ui_view *v)
{
	struct wiz *w = v->priv;
	struct job *j;

	wiz_job_cancel(&w->val, 0);
	j = job_new(JOB_VALIDATE);
	wiz_integ_copy(&j->in, &w->built);
	w->val = j;
	w->val_done = 0;
	w->refused = 0;
	memset(&w->rep, 0, sizeof(w->rep));
	wiz_go_page(v, PAGE_CHECK);
	job_start(j);
}


/* Picks up finished jobs (called before drawing and on every wake-up). */
void wiz_poll_jobs(struct ui_view *v)
{
	struct wiz *w = v->priv;

	if (w->disc && job_done(w->disc)) {
		struct job *j = w->disc;

		pthread_mutex_lock(&j->mu);
		if (j->found) {
			wiz_field_set(&w->f[F_BASE_URL], j->found);
			snprintf(w->disc_msg, sizeof(w->disc_msg), "found %s for %s", j->found,
				 j->email);
			mw_strlcpy(w->disc_found_for, j->email, sizeof(w->disc_found_for));
			w->disc_role = ROLE_OK;
			w->dirty = 1;
		} else {
			const char *why = j->dres.remedy[0] ? j->dres.remedy : j->dres.message;

			if (j->dres.http_status)
				snprintf(w->disc_msg, sizeof(w->disc_msg), "%s, HTTP %ld: %s",
					 mc_class_label(j->dres.cls, w->api), j->dres.http_status,
					 why);
			else
				snprintf(w->disc_msg, sizeof(w->disc_msg), "%s: %s",
					 mc_class_label(j->dres.cls, w->api), why);
			w->disc_role = ROLE_ERROR;
		}
		pthread_mutex_unlock(&j->mu);
		job_release(j);
		w->disc = NULL;
	}
	if (w->val && job_done(w->val)) {
		struct job *j = w->val;

		pthread_mutex_lock(&j->mu);
		w->rep = j->rep;
		pthread_mutex_unlock(&j->mu);
		job_release(j);
		w->val = NULL;
		w->val_done = 1;
	}
}
