/* scrub.h - removing our own secrets from text a server or receiver sent
 * back, before that text is printed, stored or cut short.
 *
 * Includes: util.h and the C library only, so any module may use it.
 *
 * A server may quote what it was sent: an error body repeating the
 * Authorization header, a token endpoint repeating the posted form, a
 * receiver repeating its token. Such text reaches stderr, `status`, the
 * store and the console, so every message built from it is scrubbed first,
 * with the secrets of the client or output that made the request:
 *
 *  - every secret in four forms: raw, base64, percent-encoded (as a form
 *    body carries it) and JSON-escaped (as a JSON body quotes it, with and
 *    without '/' escaped as "\/");
 *  - whatever follows "Authorization:" (scheme and credentials), "Bearer "
 *    and "client_secret=", up to the next white space, quote, '&' or the
 *    end, whichever secret it was.
 *
 * Secrets shorter than SCRUB_MIN_SECRET bytes are ignored: replacing every
 * "admin" or "12345" in a message would garble it and hide nothing a short
 * secret does not already give away.
 *
 * A match becomes SCRUB_MARKER, or as many '*' as it had bytes when it is
 * shorter than the marker: text only ever shrinks or keeps its length, so a
 * buffer of any size can be scrubbed in place. Scrub the whole text before
 * cutting it to fit a fixed buffer: a secret cut in half is no longer
 * recognised, and its first half would be printed. */
#ifndef MW_SCRUB_H
#define MW_SCRUB_H

#include <stddef.h>
#include "util.h"

#define SCRUB_MARKER "[secret]"
#define SCRUB_MIN_SECRET 6

typedef struct scrub_set scrub_set;

scrub_set *scrub_set_new(void);
/* Wipes every stored form (explicit_bzero) and frees. NULL is fine. */
void scrub_set_free(scrub_set *s);
/* Forgets every secret (wiped), keeping the set usable. */
void scrub_set_clear(scrub_set *s);
/* Adds a secret (copied, with its other forms computed now). NULL, empty,
 * shorter than SCRUB_MIN_SECRET or already present: nothing is added. */
void scrub_set_add(scrub_set *s, const char *secret);
/* Number of secrets held (not counting their other forms). */
size_t scrub_set_count(const scrub_set *s);

/* Scrubs buf[0..len) in place (NUL bytes are text like any other) and
 * returns the new length, which is at most len. s may be NULL: then only
 * the keyword rules apply. */
size_t scrub_mem(const scrub_set *s, char *buf, size_t len);
/* The same for a NUL-terminated string; returns the number of matches
 * replaced (0: buf is unchanged). */
size_t scrub_text(const scrub_set *s, char *buf);
/* The same for a growable buffer (len and the terminating NUL kept
 * right); returns the number of matches replaced. */
size_t scrub_buf(const scrub_set *s, mw_buf *b);

#endif
