/* shard.h - which integrations a collector of shard K of N takes
 * (HACKING, "Many tenants, several machines"). A leaf: util.h and OpenSSL.
 *
 * Rendezvous (highest-random-weight) hashing: an integration goes to the
 * shard k in 1..N whose weight SHA-256(name "\0" k), k in decimal, first
 * 8 bytes big-endian, is the highest (a tie: the lower k). Changing N moves
 * only the integrations whose winner changes, about 1/N of them from N-1 to
 * N, and the assignment depends on nothing but the name, so other tools
 * can reproduce it. */
#ifndef MW_SHARD_H
#define MW_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define SHARD_MAX 1024

/* The store's meta row naming the shard ("K/N", or "" unsharded) of the
 * collector that last started on it, for status and the console. */
#define SHARD_META_KEY "shard"

struct mw_shard {
	unsigned k, n;  /* 1-based k of n; n 0: no sharding, every integration */
};

/* Parses "K/N" (1 <= K <= N <= SHARD_MAX). 0, or -1 with why (a sentence
 * naming the fix) in err. */
int shard_parse(const char *s, struct mw_shard *out, char *err, size_t n);

/* The weight of name on shard k (exported for tests and the docs). */
uint64_t shard_weight(const char *name, unsigned k);

/* The shard, 1..n, that name goes to. */
unsigned shard_of(const char *name, unsigned n);

/* 1 when sh takes name (always, without sharding). */
int shard_takes(const struct mw_shard *sh, const char *name);

#endif
