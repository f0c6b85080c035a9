/* test_window.c - the collector's window arithmetic (window.c): the
 * end-of-window rule in each of its branches (records with next, an empty
 * page whatever next says, totalCount above what was received with and
 * without the one restart, absent or lower counts), and the bounds the
 * collector asks for: [horizon - overlap, now - lag], now - lookback for a
 * first window, nothing while the window would be empty or end at the
 * horizon, where a horizon ahead of now - lag is pulled back to (clamped to
 * now - lag), and where a restart or a refused page token starts again (the
 * newest record received less the overlap, floored at the window's start).
 * The replay corpus (test_replay) drives the end-of-window rule with real
 * response bodies; this test pins every branch and boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "window.h"

#define NOW 1731862950LL  /* 2024-11-17T17:02:30Z */
#define LAG 30
#define OVERLAP 600
#define LOOKBACK 86400

static enum window_step after(size_t nrecords, int has_next, int64_t total, int64_t received,
			      int restarted)
{
	struct window_page p = { nrecords, has_next, total, received, restarted };

	return window_after_page(&p);
}

/* ---- the end-of-window rule ------------------------------------------------ */

static void test_records_with_next_follow(void **state)
{
	(void)state;
	assert_int_equal(after(100, 1, 5000, 100, 0), WINDOW_NEXT_PAGE);
	/* totalCount and the restart play no part while pages come with next */
	assert_int_equal(after(1, 1, -1, 1, 0), WINDOW_NEXT_PAGE);
	assert_int_equal(after(100, 1, 0, 100, 0), WINDOW_NEXT_PAGE);
	assert_int_equal(after(100, 1, 5000, 300, 1), WINDOW_NEXT_PAGE);
}

static void test_empty_page_ends_whatever_next_says(void **state)
{
	(void)state;
	/* The public fixture: "data":[] with next and totalCount 0. */
	assert_int_equal(after(0, 1, 0, 0, 0), WINDOW_COMPLETE);
	assert_int_equal(after(0, 1, 0, 250, 0), WINDOW_COMPLETE);
	/* ... with next and no totalCount, and without next */
	assert_int_equal(after(0, 1, -1, 250, 0), WINDOW_COMPLETE);
	assert_int_equal(after(0, 0, -1, 0, 0), WINDOW_COMPLETE);
	/* with next and a totalCount equal to what was received */
	assert_int_equal(after(0, 1, 250, 250, 0), WINDOW_COMPLETE);
}

static void test_last_page_without_next(void **state)
{
	(void)state;
	assert_int_equal(after(37, 0, 237, 237, 0), WINDOW_COMPLETE);
	assert_int_equal(after(37, 0, -1, 237, 0), WINDOW_COMPLETE);
	/* a tenant counting fewer than it served (duplicates across pages) */
	assert_int_equal(after(37, 0, 200, 237, 0), WINDOW_COMPLETE);
}

static void test_total_above_received_restarts_once(void **state)
{
	(void)state;
	/* A page went missing: the tenant counts more than was received. */
	assert_int_equal(after(37, 0, 300, 237, 0), WINDOW_RESTART);
	assert_int_equal(after(0, 1, 300, 237, 0), WINDOW_RESTART);
	assert_int_equal(after(0, 0, 300, 0, 0), WINDOW_RESTART);
	/* The boundary: one more than received restarts, equal does not. */
	assert_int_equal(after(10, 0, 238, 237, 0), WINDOW_RESTART);
	assert_int_equal(after(10, 0, 237, 237, 0), WINDOW_COMPLETE);
	/* Already the restart: complete, however short it still is. */
	assert_int_equal(after(37, 0, 300, 237, 1), WINDOW_COMPLETE);
	assert_int_equal(after(0, 1, 300, 0, 1), WINDOW_COMPLETE);
	assert_int_equal(after(10, 0, 238, 237, 1), WINDOW_COMPLETE);
}

static void test_step_names(void **state)
{
	(void)state;
	assert_string_equal(window_step_name(WINDOW_NEXT_PAGE), "next page");
	assert_string_equal(window_step_name(WINDOW_COMPLETE), "complete");
	assert_string_equal(window_step_name(WINDOW_RESTART), "restart");
	assert_string_equal(window_step_name((enum window_step)99), "?");
}

/* ---- the bounds -------------------------------------------------------------- */

static void test_first_window_from_lookback(void **state)
{
	int64_t from = -1, to = -1;

	(void)state;
	assert_int_equal(window_bounds(0, NOW, LAG, OVERLAP, LOOKBACK, &from, &to), 1);
	assert_int_equal(from, NOW - LOOKBACK);
	assert_int_equal(to, NOW - LAG);
	/* no lag: up to now */
	assert_int_equal(window_bounds(0, NOW, 0, OVERLAP, 3600, &from, &to), 1);
	assert_int_equal(from, NOW - 3600);
	assert_int_equal(to, NOW);
	/* a lookback no longer than the lag leaves nothing to ask for */
	assert_int_equal(window_bounds(0, NOW, LAG, OVERLAP, LAG, &from, &to), 0);
	assert_int_equal(from, NOW - LAG);
	assert_int_equal(to, NOW - LAG);
	assert_int_equal(window_bounds(0, NOW, LAG, OVERLAP, LAG - 1, &from, &to), 0);
	/* one second more is a one-second window */
	assert_int_equal(window_bounds(0, NOW, LAG, OVERLAP, LAG + 1, &from, &to), 1);
	assert_int_equal(from, NOW - LAG - 1);
	assert_int_equal(to, NOW - LAG);
}

static void test_next_window_overlaps_horizon(void **state)
{
	int64_t h = NOW - 300, from = -1, to = -1;

	(void)state;
	assert_int_equal(window_bounds(h, NOW, LAG, OVERLAP, LOOKBACK, &from, &to), 1);
	assert_int_equal(from, h - OVERLAP);
	assert_int_equal(to, NOW - LAG);
	/* the lookback plays no part once there is a horizon */
	assert_int_equal(window_bounds(h, NOW, LAG, OVERLAP, 60, &from, &to), 1);
	assert_int_equal(from, h - OVERLAP);
	/* no overlap: the window starts at the horizon */
	assert_int_equal(window_bounds(h, NOW, LAG, 0, LOOKBACK, &from, &to), 1);
	assert_int_equal(from, h);
	assert_int_equal(to, NOW - LAG);
}

static void test_nothing_new_at_or_past_horizon(void **state)
{
	int64_t from = -1, to = -1;

	(void)state;
	/* A window completed this very second: the overlap alone would make
	 * [to - overlap, to] non-empty, but nothing after the horizon exists. */
	assert_int_equal(window_bounds(NOW - LAG, NOW, LAG, OVERLAP, LOOKBACK, &from, &to), 0);
	assert_int_equal(from, NOW - LAG - OVERLAP);
	assert_int_equal(to, NOW - LAG);
	/* one second later there is */
	assert_int_equal(window_bounds(NOW - LAG, NOW + 1, LAG, OVERLAP, LOOKBACK, &from, &to), 1);
	assert_int_equal(from, NOW - LAG - OVERLAP);
	assert_int_equal(to, NOW + 1 - LAG);
	/* the same without overlap */
	assert_int_equal(window_bounds(NOW - LAG, NOW, LAG, 0, LOOKBACK, &from, &to), 0);
	assert_int_equal(window_bounds(NOW - LAG - 1, NOW, LAG, 0, LOOKBACK, &from, &to), 1);
	assert_int_equal(from, NOW - LAG - 1);
	assert_int_equal(to, NOW - LAG);
	/* a horizon ahead of now - lag (not pulled back): nothing */
	assert_int_equal(window_bounds(NOW + 3600, NOW, LAG, OVERLAP, LOOKBACK, &from, &to), 0);
	assert_int_equal(to, NOW - LAG);
}

/* Windows one after another, as the collector walks them: every second from
 * the first window's start to the last one's end is asked for, each window
 * reads exactly the overlap again, and none ends before it starts. */
static void test_consecutive_windows_leave_no_gap(void **state)
{
	static const int64_t steps[] = { 1, 7, 300, 301, 599, 600, 601, 3600, 86400, 2, 1 };
	int64_t h = 0, now = NOW, from, to, first_from = 0, windows = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int64_t prev_to = h;

		now += steps[i];
		assert_int_equal(window_bounds(h, now, LAG, OVERLAP, LOOKBACK, &from, &to), 1);
		if (!h) {
			first_from = from;
		} else {
			assert_int_equal(from, prev_to - OVERLAP);
			assert_true(from < prev_to);  /* no gap */
		}
		assert_true(to > from);
		assert_true(to > h);
		h = to;  /* the window completed */
		windows++;
		/* at once again: nothing */
		assert_int_equal(window_bounds(h, now, LAG, OVERLAP, LOOKBACK, &from, &to), 0);
	}
	assert_int_equal(windows, 11);
	assert_int_equal(first_from, NOW + 1 - LOOKBACK);
	assert_int_equal(h, now - LAG);
}

static void test_pull_back_clamped(void **state)
{
	int64_t to = NOW - LAG, wf = NOW - 7200;

	(void)state;
	/* the newest record stored inside the window that set the horizon */
	assert_int_equal(window_pull_back(NOW - 4000, wf, to), NOW - 4000);
	assert_int_equal(window_pull_back(to - 1, wf, to), to - 1);
	/* none stored: that window's start, when before to */
	assert_int_equal(window_pull_back(0, wf, to), wf);
	assert_int_equal(window_pull_back(0, to - 1, to), to - 1);
	/* none stored and no usable start: to itself */
	assert_int_equal(window_pull_back(0, 0, to), to);
	assert_int_equal(window_pull_back(0, to, to), to);
	assert_int_equal(window_pull_back(0, to + 500, to), to);
	/* never past to: a record dated ahead (the fast clock's) is clamped */
	assert_int_equal(window_pull_back(to, wf, to), to);
	assert_int_equal(window_pull_back(to + 1, wf, to), to);
	assert_int_equal(window_pull_back(NOW + 86400, wf, to), to);
}

static void test_restart_from_floored_at_window_start(void **state)
{
	int64_t wf = NOW - 7200;

	(void)state;
	/* the newest record received less the overlap */
	assert_int_equal(window_restart_from(wf, NOW - 3600, OVERLAP), NOW - 3600 - OVERLAP);
	assert_int_equal(window_restart_from(wf, wf + OVERLAP + 1, OVERLAP), wf + 1);
	/* never before the window's own start */
	assert_int_equal(window_restart_from(wf, wf + OVERLAP, OVERLAP), wf);
	assert_int_equal(window_restart_from(wf, wf + 10, OVERLAP), wf);
	assert_int_equal(window_restart_from(wf, wf, OVERLAP), wf);
	/* nothing received (progress still at the start) */
	assert_int_equal(window_restart_from(wf, wf, 0), wf);
	/* no overlap: from the newest record itself */
	assert_int_equal(window_restart_from(wf, NOW - 3600, 0), NOW - 3600);
}

static void test_token_restart_needs_progress(void **state)
{
	int64_t wf = NOW - 7200, from = -1;

	(void)state;
	assert_int_equal(window_token_restart(wf, NOW - 3600, OVERLAP, &from), 1);
	assert_int_equal(from, NOW - 3600 - OVERLAP);
	assert_int_equal(window_token_restart(wf, wf + OVERLAP + 1, OVERLAP, &from), 1);
	assert_int_equal(from, wf + 1);
	/* not after the start: the same pages again, so no restart */
	assert_int_equal(window_token_restart(wf, wf + OVERLAP, OVERLAP, &from), 0);
	assert_int_equal(window_token_restart(wf, wf + 1, OVERLAP, &from), 0);
	assert_int_equal(window_token_restart(wf, wf, OVERLAP, &from), 0);
	assert_int_equal(window_token_restart(wf, wf, 0, &from), 0);
	assert_int_equal(window_token_restart(wf, wf + 1, 0, &from), 1);
	assert_int_equal(from, wf + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_with_next_follow),
		cmocka_unit_test(test_empty_page_ends_whatever_next_says),
		cmocka_unit_test(test_last_page_without_next),
		cmocka_unit_test(test_total_above_received_restarts_once),
		cmocka_unit_test(test_step_names),
		cmocka_unit_test(test_first_window_from_lookback),
		cmocka_unit_test(test_next_window_overlaps_horizon),
		cmocka_unit_test(test_nothing_new_at_or_past_horizon),
		cmocka_unit_test(test_consecutive_windows_leave_no_gap),
		cmocka_unit_test(test_pull_back_clamped),
		cmocka_unit_test(test_restart_from_floored_at_window_start),
		cmocka_unit_test(test_token_restart_needs_progress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
