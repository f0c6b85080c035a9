/* jsonout.h - JSON writers: the terminal-safe encoding every NDJSON line and
 * stored record uses, and the canonical form whose SHA-256 is a record id. */
#ifndef MW_JSONOUT_H
#define MW_JSONOUT_H

#include "jsonscan.h"
#include "util.h"

/* Appends the value at tok compactly (no white space), keys and values
 * unchanged, but safe: inside strings every U+0000-U+001F, U+007F and
 * U+0080-U+009F is written as \u00XX (lower-case hex, so \u001b, \u007f,
 * \u009b), '"' and '\\' as \" and \\, and invalid UTF-8 as U+FFFD. Other
 * characters, including '/', are written as UTF-8; existing escapes are
 * decoded and re-encoded by the same rule. Numbers are copied as received. */
void jsonout_safe(mw_buf *out, const js_doc *d, int tok);
/* The same encoding for a C string of n bytes, with the quotes. */
void jsonout_safe_string(mw_buf *out, const char *s, size_t n);

/* Canonical form: object keys sorted by code point (byte order of their
 * UTF-8), recursively, duplicates kept in input order; no white space;
 * strings escaped minimally: \" \\ \b \f \n \r \t, other U+0000-U+001F as
 * \u00xx, everything else raw UTF-8 (invalid bytes as U+FFFD); numbers as
 * received. */
void jsonout_canonical(mw_buf *out, const js_doc *d, int tok);
/* Lower-case hex SHA-256 of the canonical form. scratch is reused. */
void jsonout_canonical_id(const js_doc *d, int tok, mw_buf *scratch, char out[65]);

#endif
