/* shard.c - rendezvous hashing of integration names onto shards (shard.h).
 * The hash is spelled out in HACKING so that a script can plan a layout
 * without this binary; changing it would move every integration. */
#include "shard.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int shard_parse(const char *s, struct mw_shard *out, char *err, size_t n)
{
	char *end;
	unsigned long k, total;

	/* digits only: strtoul alone takes a sign and leading blanks */
	if (!isdigit((unsigned char)s[0]))
		goto bad;
	k = strtoul(s, &end, 10);
	if (*end != '/' || !isdigit((unsigned char)end[1]))
		goto bad;
	s = end + 1;
	total = strtoul(s, &end, 10);
	if (*end)
		goto bad;
	if (total < 1 || total > SHARD_MAX || k < 1 || k > total) {
		snprintf(err, n, "K must be 1..N and N 1..%d (K counts from 1), e.g. --shard 2/4",
			 SHARD_MAX);
		return -1;
	}
	out->k = (unsigned)k;
	out->n = (unsigned)total;
	return 0;
bad:
	snprintf(err, n, "give K/N, this collector's shard K of N collectors (K counts from 1), "
			 "e.g. --shard 2/4");
	return -1;
}

uint64_t shard_weight(const char *name, unsigned k)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t len = strlen(name);
	char *msg = mw_xmalloc(len + 16);
	uint64_t w = 0;

	/* The name's own NUL separates it from the index: "a1" on shard 2
	 * and "a" on shard 12 must not hash alike. */
	memcpy(msg, name, len + 1);
	len += 1 + (size_t)snprintf(msg + len + 1, 15, "%u", k);
	if (EVP_Digest(msg, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		abort();
	free(msg);
	for (int i = 0; i < 8; i++)
		w = w << 8 | md[i];
	return w;
}

unsigned shard_of(const char *name, unsigned n)
{
	unsigned best = 1;
	uint64_t top = shard_weight(name, 1);

	for (unsigned k = 2; k <= n; k++) {
		uint64_t w = shard_weight(name, k);

		if (w > top) {
			top = w;
			best = k;
		}
	}
	return best;
}

int shard_takes(const struct mw_shard *sh, const char *name)
{
	return sh->n == 0 || shard_of(name, sh->n) == sh->k;
}
