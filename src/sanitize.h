/* sanitize.h - makes attacker-controlled text safe to draw on a terminal.
 * Every string from Mimecast passes through here before it reaches a screen:
 * invalid UTF-8 becomes U+FFFD, C0, DEL, C1 and bidi/zero-width controls are
 * shown escaped, and cutting counts display columns, never bytes. */
#ifndef MW_SANITIZE_H
#define MW_SANITIZE_H

#include <stddef.h>
#include "util.h"

/* Appends a display-safe version of s[0..n) to out, at most max_cols
 * terminal columns wide (-1: no limit). Controls become visible escapes:
 * TAB, CR, LF -> "\t" "\r" "\n"; other C0, DEL, C1 -> "\x1b" style; bidi
 * overrides, isolates and zero-width characters -> "<U+202E>" style. A cut
 * string ends in "…" (or "..." when ascii, as much of it as fits). ascii=1 replaces every non-ASCII
 * character by '?' (C locale). Returns the columns used. */
int sanitize_display(mw_buf *out, const char *s, size_t n, int max_cols, int ascii);

/* The same rules for one line of plain terminal or log output (the headless
 * commands, log lines): s, whole, made safe into out (reset first); returns
 * out's NUL-terminated text. NULL reads as "". */
const char *sanitize_text(mw_buf *out, const char *s);

/* Display width of a sanitized UTF-8 string. */
int sanitize_width(const char *s, size_t n);

#endif
