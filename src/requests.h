/* requests.h - what the console (or any process) asks the collector to do,
 * through the store (HACKING, "Parts and their rules": the console reaches
 * the collector only through the store). One table: the name kept in the
 * store's requests table (so a console and a `mimewatch run` of different
 * builds understand each other) and whether the console asks before
 * sending it. The collector's handlers are indexed by the same enum.
 *
 * May include: nothing but the C library. */
#ifndef MW_REQUESTS_H
#define MW_REQUESTS_H

/* X(enum, name in the store, confirmed first). backfill's arg is "FROM TO"
 * (epoch seconds, or dates), for one integration and type; replay's
 * "OUTPUT FROM TO", its integration and type empty for all. */
#define MW_REQUEST_TABLE(X) \
	X(MW_REQ_FETCH, "fetch", 0) \
	X(MW_REQ_PAUSE, "pause", 0) \
	X(MW_REQ_RESUME, "resume", 0) \
	X(MW_REQ_RESET, "reset", 1) \
	X(MW_REQ_VALIDATE, "validate", 0) \
	X(MW_REQ_RELOAD, "reload", 0) \
	X(MW_REQ_DELETE, "delete", 1) \
	X(MW_REQ_TEST_OUTPUT, "test-output", 0) \
	X(MW_REQ_RENAME, "rename", 0) \
	X(MW_REQ_BACKFILL, "backfill", 0) \
	X(MW_REQ_REPLAY, "replay", 0)

enum mw_request {
#define MW_REQ_ENUM(e, name, confirm) e,
	MW_REQUEST_TABLE(MW_REQ_ENUM)
#undef MW_REQ_ENUM
	MW_REQ_COUNT,
	MW_REQ_UNKNOWN = -1
};

/* "fetch", ...; "unknown" for anything else. */
const char *mw_request_name(enum mw_request r);
/* The enum of a stored name; MW_REQ_UNKNOWN when none matches (a newer
 * console's request, say). */
enum mw_request mw_request_from_name(const char *name);
/* 1 when the console confirms before sending it (destructive). */
int mw_request_confirmed(enum mw_request r);

#endif
