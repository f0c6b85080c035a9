/* ui_keys.c - every key of the console in one table: the main loop maps keys
 * to actions through it, and the footer hints and the help screen are
 * generated from it, so they can never disagree. A row whose keyname is NULL
 * is an alias (another code for a key already listed: Enter's CR, j/k): it
 * maps but is not listed twice.
 *
 * Scopes are screen names (struct ui_view_ops.name): "home", "trouble",
 * "help", "preview" (view_logs), "record" (view_record), "coverage"
 * (view_coverage), "wizard"; "*"
 * applies everywhere unless the screen's scope binds the key itself. */
#include <stdio.h>
#include <string.h>

#include "logtypes.h"
#include "ui.h"

#define CTRL(c) ((c) & 0x1f)

const struct ui_keybinding ui_keys[] = {
	/* everywhere: movement and the generic keys */
	{ "*", KEY_UP, "Up", ACT_UP, "move up", 0 },
	{ "*", 'k', NULL, ACT_UP, "move up", 0 },
	{ "*", KEY_DOWN, "Down", ACT_DOWN, "move down", 0 },
	{ "*", 'j', NULL, ACT_DOWN, "move down", 0 },
	{ "*", KEY_PPAGE, "PgUp", ACT_PAGE_UP, "one page up", 0 },
	{ "*", KEY_NPAGE, "PgDn", ACT_PAGE_DOWN, "one page down", 0 },
	{ "*", KEY_HOME, "Home", ACT_FIRST, "to the first line", 0 },
	{ "*", KEY_END, "End", ACT_LAST, "to the last line", 0 },
	/* less's and vi's: top and bottom of every list and page, as Home and End */
	{ "*", 'g', "g", ACT_FIRST, "top: the first line, as Home", 0 },
	{ "*", 'G', "G", ACT_LAST, "bottom: the last line, as End", 0 },
	{ "*", '\n', "Enter", ACT_ENTER, "open the selected item", 0 },
	{ "*", '\r', NULL, ACT_ENTER, "open the selected item", 0 },
	{ "*", KEY_ENTER, NULL, ACT_ENTER, "open the selected item", 0 },
	{ "*", 27, "Esc", ACT_BACK, "back to the previous screen", 1 },
	{ "*", 'q', "q", ACT_BACK, "back to the previous screen", 1 },
	{ "*", '?', "?", ACT_HELP, "help: all keys, from this same table", 1 },
	{ "*", KEY_F(1), "F1", ACT_HELP, "help: all keys, from this same table", 0 },
	{ "*", CTRL('l'), "C-l", ACT_REDRAW, "redraw the screen", 0 },
	/* Offered on the status line when the `mimewatch run` the console was
	 * attached to exits; not a footer hint, since it rarely applies. */
	{ "*", 'C', "C", ACT_COLLECT, "collect in this console (when no mimewatch run does)", 0 },
	/* The column headings and the detail name the zone, so the key needs
	 * no footer hint. */
	{ "*", 'T', "T", ACT_TIME_ZONE, "times in UTC or in local time (TZ), on every screen", 0 },
	/* From any screen, like help; no footer hint (the help lists it). */
	{ "*", 'E', "E", ACT_EVENTS, "events: the collector's recent events, newest first", 0 },

	/* home: the integrations */
	{ "home", '\n', "Enter", ACT_ENTER, "preview: the records of the integration or type", 1 },
	{ "home", '\r', NULL, ACT_ENTER, "preview: the records of the integration or type", 0 },
	{ "home", KEY_ENTER, NULL, ACT_ENTER, "preview: the records of the integration or type", 0 },
	{ "home", 'a', "a", ACT_ADD, "add an integration (the setup wizard)", 1 },
	{ "home", 'e', "e", ACT_EDIT, "edit the selected integration", 1 },
	{ "home", 'd', "d", ACT_DELETE, "delete the selected integration (asks first)", 1 },
	{ "home", 'R', "R", ACT_RENAME, "rename the selected integration, keeping its cursors "
	  "and records (asks for the name)", 0 },
	/* help only: the footer's room goes to the daily keys */
	{ "home", 'c', "c", ACT_COVERAGE, "coverage: the last 30 days of the integration or type, "
	  "collected hours and gaps; a gap is backfilled from there", 0 },
	{ "home", 'v', "v", ACT_VALIDATE, "validate the credentials and permissions", 1 },
	{ "home", 'f', "f", ACT_FETCH, "fetch now", 1 },
	{ "home", 'p', "p", ACT_PAUSE, "pause or resume collecting", 1 },
	/* One key for two kinds of row: an output has nothing to troubleshoot
	 * here, an integration nothing to test (v validates it). */
	{ "home", 't', "t", ACT_TROUBLESHOOT, "test/diagnose: send a test record (an output's row) "
	  "or troubleshoot (an integration's)", 1 },
	{ "home", 'q', "q", ACT_QUIT, "quit (nothing is lost)", 1 },
	{ "home", 27, NULL, ACT_NONE, NULL, 0 },

	/* troubleshooting */
	{ "trouble", 'v', "v", ACT_VALIDATE, "validate again", 1 },
	{ "trouble", 'e', "e", ACT_EDIT, "edit the integration", 1 },

	/* preview: the log tables */
	{ "preview", '\t', "Tab", ACT_NEXT_TYPE, "next type: the next log type's tab", 1 },
	/* A log type by its number on the tabs, i.e. its index in mw_logtypes
	 * (logtypes.c) plus one: no type is named here; ui_key_help words them
	 * from the table, and lists only the types there are. */
	{ "preview", '1', "1", ACT_TYPE + 0, NULL, 0 },
	{ "preview", '2', "2", ACT_TYPE + 1, NULL, 0 },
	{ "preview", '3', "3", ACT_TYPE + 2, NULL, 0 },
	{ "preview", '4', "4", ACT_TYPE + 3, NULL, 0 },
	{ "preview", '5', "5", ACT_TYPE + 4, NULL, 0 },
	{ "preview", '6', "6", ACT_TYPE + 5, NULL, 0 },
	{ "preview", '7', "7", ACT_TYPE + 6, NULL, 0 },
	{ "preview", '8', "8", ACT_TYPE + 7, NULL, 0 },
	{ "preview", '9', "9", ACT_TYPE + 8, NULL, 0 },
	{ "preview", '/', "/", ACT_FILTER, "filter: applies as you type; words ANDed, \"a phrase\", field:value (sender:, url:, action:, result: ...), since:2h, from:/to: a date; Enter keeps it, Esc undoes it", 1 },
	{ "preview", 'm', "m", ACT_THREATS, "threats: only malicious or unsafe records, on or off", 1 },
	{ "preview", ' ', "Space", ACT_FOLLOW, "follow: pause or resume following new records (moving pauses it)", 1 },
	{ "preview", '\n', "Enter", ACT_ENTER, "detail: every field of the record", 1 },
	{ "preview", '\r', NULL, ACT_ENTER, "detail: every field of the record", 0 },
	{ "preview", KEY_ENTER, NULL, ACT_ENTER, "detail: every field of the record", 0 },
	{ "preview", 'x', "x", ACT_EXPORT, "export: the filtered records to an NDJSON file", 1 },
	/* Columns (logs_columns.c): help only, the footer has no room; the
	 * headings show the sort column and its direction. */
	{ "preview", 's', "s", ACT_SORT, "sort: by the next column shown (the time, newest "
	  "first, is the store's own order and follows new records; another column sorts the "
	  "newest 100,000 matching records)", 0 },
	{ "preview", 'S', "S", ACT_SORT_REVERSE, "sort the other way round", 0 },
	{ "preview", '<', "<", ACT_NARROW, "narrow the sorted column (the one marked with its direction), by two", 0 },
	{ "preview", '>', ">", ACT_WIDEN, "widen the sorted column, by two", 0 },
	{ "preview", 'C', "C", ACT_COLUMNS, "columns: choose, order and size them (kept per "
	  "log type)", 0 },
	{ "preview", 27, "Esc", ACT_BACK, "back: clears the filter first, then goes back", 1 },

	/* coverage: per type, a timeline of the last 30 days */
	{ "coverage", KEY_LEFT, "Left", ACT_LEFT, "earlier: the cell to the left", 1 },
	{ "coverage", 'h', NULL, ACT_LEFT, "earlier: the cell to the left", 0 },
	{ "coverage", KEY_RIGHT, "Right", ACT_RIGHT, "later: the cell to the right", 1 },
	{ "coverage", 'l', NULL, ACT_RIGHT, "later: the cell to the right", 0 },
	{ "coverage", KEY_UP, "Up", ACT_UP, "the type above", 0 },
	{ "coverage", KEY_DOWN, "Down", ACT_DOWN, "the type below", 0 },
	{ "coverage", KEY_HOME, "Home", ACT_FIRST, "the oldest cell (30 days ago)", 0 },
	{ "coverage", KEY_END, "End", ACT_LAST, "the newest cell (now)", 0 },
	{ "coverage", '\n', "Enter", ACT_ENTER, "backfill: read the gap under the cursor again, "
	  "all of it (a request to the collector)", 1 },
	{ "coverage", '\r', NULL, ACT_ENTER, "backfill the gap under the cursor", 0 },
	{ "coverage", KEY_ENTER, NULL, ACT_ENTER, "backfill the gap under the cursor", 0 },

	/* record: the detail of one record */
	{ "record", '/', "/", ACT_FILTER, "search: TEXT Enter, case-insensitive, in the lines "
	  "shown", 1 },
	{ "record", 'n', "n", ACT_MATCH_NEXT, "next match of the search (wraps around)", 0 },
	{ "record", 'N', "N", ACT_MATCH_PREV, "previous match of the search (wraps around)", 0 },
	{ "record", 'J', "J", ACT_OLDER, "older: the next record of the preview's list", 1 },
	{ "record", 'K', "K", ACT_NEWER, "newer: the previous record of the preview's list", 1 },
	{ "record", 'r', "r", ACT_RAW, "raw: the stored JSON, or the fields again", 1 },
	{ "record", 'y', "y", ACT_COPY, "copy: the value of the field under the cursor to the "
	  "terminal's clipboard (OSC 52; never a secret)", 1 },
	{ "record", 27, "Esc", ACT_BACK, "back: clears the search first, then goes back", 1 },

	/* columns: the preview's column chooser (C) */
	{ "columns", ' ', "Space", ACT_TOGGLE, "show: show or hide the column (the time column stays)",
	  1 },
	{ "columns", 'K', "K", ACT_MOVE_EARLIER, "left: move the column left (up the list)", 1 },
	{ "columns", 'J', "J", ACT_MOVE_LATER, "right: move the column right (down the list)", 1 },
	{ "columns", '<', "<", ACT_NARROW, "narrow: the column, by two", 1 },
	{ "columns", '>', ">", ACT_WIDEN, "widen: the column, by two", 1 },
	{ "columns", 's', "s", ACT_SORT, "sort: by the column (again: the other way round)", 1 },
	{ "columns", 'S', "S", ACT_SORT_REVERSE, "sort the other way round", 0 },
	{ "columns", 27, "Esc", ACT_BACK, "back: to the preview (every change is kept)", 1 },

	/* the setup wizard's forms */
	{ "wizard", '\t', "Tab", ACT_NEXT_FIELD, "next field: move on", 1 },
	{ "wizard", KEY_BTAB, "BackTab", ACT_PREV_FIELD, "previous field: move back", 1 },
	{ "wizard", '\n', "Enter", ACT_ENTER, "go on: the next page, or the next field still "
	  "wanted (then the check)", 1 },
	{ "wizard", '\r', NULL, ACT_ENTER, "go on", 0 },
	{ "wizard", KEY_ENTER, NULL, ACT_ENTER, "go on", 0 },
	{ "wizard", 27, "Esc", ACT_BACK, "back: the previous page (leaves from the first)", 1 },
	{ "wizard", 'f', "f", ACT_TO_FORM, "form: skip the checklist when the keys are in hand "
	  "(a paste of them does too)", 0 },
	/* Said here because the form gives Up/Down to its fields and Home/End
	 * to the text: these two scroll every wizard page that does not fit. */
	{ "wizard", KEY_PPAGE, "PgUp", ACT_PAGE_UP, "scroll a page up (the form: five fields "
	  "back)", 0 },
	{ "wizard", KEY_NPAGE, "PgDn", ACT_PAGE_DOWN, "scroll a page down (the form: five fields "
	  "on)", 0 },
};

const size_t ui_nkeys = NELEM(ui_keys);

static int scope_lookup(const char *scope, int key, enum ui_action *out)
{
	for (size_t i = 0; i < ui_nkeys; i++) {
		if (ui_keys[i].key == key && strcmp(ui_keys[i].scope, scope) == 0) {
			*out = ui_keys[i].action;
			return 1;
		}
	}
	return 0;
}

enum ui_action ui_key_action(const char *scope, int key)
{
	enum ui_action a;

	/* A screen's own row wins, even when it maps the key to nothing (Esc on
	 * home must not go "back" out of the console). */
	if (scope && scope_lookup(scope, key, &a))
		return a;
	if (scope_lookup("*", key, &a))
		return a;
	return ACT_NONE;
}

const char *ui_key_help(const struct ui_keybinding *k, char *buf, size_t n)
{
	if (k->action >= ACT_TYPE && k->action < ACT_TYPE_END) {
		size_t t = (size_t)(k->action - ACT_TYPE);

		if (t >= mw_nlogtypes)
			return NULL;
		snprintf(buf, n, "%s records", mw_logtypes[t].label);
		return buf;
	}
	return k->help;
}
