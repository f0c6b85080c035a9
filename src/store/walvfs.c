/* walvfs.c - an SQLite VFS that writes a transaction's WAL frames with one
 * system call instead of two per frame.
 *
 * SQLite writes each WAL frame as two writes, its 24-byte header and then
 * the page (sqlite.org/fileformat2.html, "WAL File Format"), so a page
 * commit of about 20 frames costs about 40 pwrite calls; on a virtual
 * machine a call costs about as much as copying the 16 KiB page it carries
 * (make bench's breakdown). This VFS sits over the platform's default VFS
 * and changes one thing: writes to a WAL file that continue the previous
 * write are gathered in memory and reach the file as one pwrite when the
 * frame that commits the transaction has been written, and before anything
 * else is done with that file (a read, a write elsewhere, a sync, a
 * truncate, a size query, a close). Every other file, and every other
 * method, is the default VFS's.
 *
 * Why this keeps SQLite's guarantees:
 * - A transaction is committed when its commit frame (a frame header whose
 *   "database size after commit" field is not zero) is in the WAL and the
 *   wal-index header says so. The gathered writes reach the file when the
 *   commit frame's page does, inside SQLite's xWrite of that page, so a
 *   failure (a full disk) is that write's error and the transaction fails
 *   as it would have. Frames of a transaction not yet committed are not
 *   visible to any reader, so holding them in memory changes nothing that
 *   another connection can see.
 * - As a second line, should a future SQLite write a commit frame in a
 *   shape this file does not recognise, SQLite calls xShmBarrier on the
 *   database file after writing the frames and before it publishes the new
 *   wal-index header (a memory barrier there is what makes the header safe
 *   to read): every gathered write of this process is written out there.
 * - kill -9 loses at most gathered frames of a transaction that had not
 *   committed, which SQLite ignores on recovery exactly as it ignores a
 *   frame that was cut short.
 * The store's kill -9 and full-disk tests run over this VFS. */
#include <pthread.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define WALVFS_NAME "mimewatch-wal"
#define FRAME_HEADER 24
/* Gathered bytes past this go out at once: a transaction that spills its
 * page cache need not hold all of it. */
#define GATHER_MAX (4u << 20)
#define WRITE_PIECE (120u << 10)

struct wal_file {
	sqlite3_file base;	/* pMethods: wal_methods or pass_methods */
	sqlite3_file *real;	/* the default VFS's file, right after this struct */
	unsigned char *buf;	/* gathered writes, for file offsets [at, at+len) */
	size_t len, cap;
	sqlite3_int64 at;
	sqlite3_int64 commit_end;	/* where the commit frame seen ends, or 0 */
	int page_size;		/* from the WAL's header, else 0 */
	struct wal_file *next_pending;	/* in the process's list, while len > 0 */
};

static sqlite3_vfs walvfs;
static sqlite3_vfs *base_vfs;
static sqlite3_io_methods wal_methods, pass_methods;
static pthread_once_t walvfs_once = PTHREAD_ONCE_INIT;
static int walvfs_rc = SQLITE_ERROR;

/* WAL files holding gathered writes, for the xShmBarrier backstop. */
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wal_file *pending;
static atomic_int npending;
/* The writes that reached the WAL files, for sdb_vfs_wal_writes. */
static atomic_long wal_writes;

/* Both with pending_lock held, as is every use of a wal_file's buffer: the
 * backstop may write out another thread's connection's gathered frames. */
static void pending_add(struct wal_file *f)
{
	f->next_pending = pending;
	pending = f;
	atomic_fetch_add(&npending, 1);
}

static void pending_remove(struct wal_file *f)
{
	for (struct wal_file **p = &pending; *p; p = &(*p)->next_pending)
		if (*p == f) {
			*p = f->next_pending;
			atomic_fetch_sub(&npending, 1);
			break;
		}
}

/* Writes n gathered bytes at offset at, in pieces the default VFS takes:
 * its xWrite writes at most 128 KiB - 1 per call (it expects a page, and
 * masks the length with 0x1ffff). */
static int write_out(struct wal_file *f, const unsigned char *b, size_t n, sqlite3_int64 at)
{
	while (n > 0) {
		size_t k = n < WRITE_PIECE ? n : WRITE_PIECE;
		int rc = f->real->pMethods->xWrite(f->real, b, (int)k, at);

		atomic_fetch_add(&wal_writes, 1);
		if (rc != SQLITE_OK)
			return rc;
		b += k;
		at += (sqlite3_int64)k;
		n -= k;
	}
	return SQLITE_OK;
}

/* Writes out what f has gathered and takes it off the list (pending_lock
 * held). */
static int flush(struct wal_file *f)
{
	int rc = SQLITE_OK;

	if (f->len > 0)
		rc = write_out(f, f->buf, f->len, f->at);
	f->len = 0;
	pending_remove(f);
	return rc;
}

static int gather(struct wal_file *f, const void *data, int n, sqlite3_int64 at)
{
	if (f->len > 0 && at != f->at + (sqlite3_int64)f->len) {
		int rc = flush(f);

		if (rc != SQLITE_OK)
			return rc;
	}
	if (f->len + (size_t)n > f->cap) {
		size_t cap = f->cap ? f->cap : 512 * 1024;
		unsigned char *b;

		while (cap < f->len + (size_t)n)
			cap *= 2;
		if (!(b = realloc(f->buf, cap))) {
			int rc = flush(f);

			return rc != SQLITE_OK ? rc :
				f->real->pMethods->xWrite(f->real, data, n, at);
		}
		f->buf = b;
		f->cap = cap;
	}
	if (f->len == 0) {
		f->at = at;
		if (f->commit_end != 0 && f->commit_end <= at)
			f->commit_end = 0;	/* a commit frame already out */
		pending_add(f);
	}
	memcpy(f->buf + f->len, data, (size_t)n);
	f->len += (size_t)n;
	return SQLITE_OK;
}

static uint32_t be32(const unsigned char *d)
{
	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

/* The WAL's page size, from its header, when this connection did not write
 * that header itself. */
static int learn_page_size(struct wal_file *f)
{
	unsigned char h[12];

	if (f->real->pMethods->xRead(f->real, h, sizeof h, 0) != SQLITE_OK)
		return -1;
	f->page_size = (int)be32(h + 8);
	return f->page_size >= 512 && f->page_size <= 65536 ? 0 : -1;
}

static int wal_write_locked(struct wal_file *f, const unsigned char *d, int n,
			    sqlite3_int64 at)
{
	sqlite3_int64 end;
	int rc;

	/* The WAL file's own header (offset 0, its page size at bytes 8..11)
	 * goes straight out. So does everything, should the page size be
	 * unknown. */
	if (at == 0 || (f->page_size == 0 && learn_page_size(f) < 0)) {
		if ((rc = flush(f)) != SQLITE_OK)
			return rc;
		if (at == 0 && n >= 12)
			f->page_size = (int)be32(d + 8);
		return write_out(f, d, (size_t)n, at);
	}
	if ((rc = gather(f, d, n, at)) != SQLITE_OK)
		return rc;
	/* A frame header, written alone or with its page: bytes 4..7 are the
	 * database size after the commit, zero in every frame but a
	 * transaction's last. The commit frame ends 24 + page size bytes
	 * after its header; the earliest such end seen is kept, so that a page
	 * written in pieces (at a sync point) still goes out whole. */
	if ((n == FRAME_HEADER || n == FRAME_HEADER + f->page_size) && be32(d + 4) != 0) {
		end = at + FRAME_HEADER + f->page_size;
		if (f->commit_end == 0 || end < f->commit_end)
			f->commit_end = end;
	}
	if (f->commit_end != 0 && f->at + (sqlite3_int64)f->len >= f->commit_end) {
		f->commit_end = 0;
		return flush(f);
	}
	return f->len >= GATHER_MAX ? flush(f) : SQLITE_OK;
}

static int wal_write(sqlite3_file *pf, const void *data, int n, sqlite3_int64 at)
{
	int rc;

	pthread_mutex_lock(&pending_lock);
	rc = wal_write_locked((struct wal_file *)pf, data, n, at);
	pthread_mutex_unlock(&pending_lock);
	return rc;
}

static int flush_locked(struct wal_file *f)
{
	int rc;

	pthread_mutex_lock(&pending_lock);
	rc = flush(f);
	pthread_mutex_unlock(&pending_lock);
	return rc;
}

static int wal_read(sqlite3_file *pf, void *data, int n, sqlite3_int64 at)
{
	struct wal_file *f = (struct wal_file *)pf;
	int rc = flush_locked(f);

	return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, data, n, at);
}

static int wal_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
	struct wal_file *f = (struct wal_file *)pf;
	int rc = flush_locked(f);

	return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wal_sync(sqlite3_file *pf, int flags)
{
	struct wal_file *f = (struct wal_file *)pf;
	int rc = flush_locked(f);

	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wal_size(sqlite3_file *pf, sqlite3_int64 *size)
{
	struct wal_file *f = (struct wal_file *)pf;
	int rc = flush_locked(f);

	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int any_close(sqlite3_file *pf)
{
	struct wal_file *f = (struct wal_file *)pf;
	int rc = flush_locked(f), rc2;

	free(f->buf);
	f->buf = NULL;
	f->cap = 0;
	rc2 = f->real->pMethods->xClose(f->real);
	return rc != SQLITE_OK ? rc : rc2;
}

/* The methods that only pass the call on. */
#define REAL(pf) (((struct wal_file *)(pf))->real)
static int pass_read(sqlite3_file *pf, void *d, int n, sqlite3_int64 at)
{ return REAL(pf)->pMethods->xRead(REAL(pf), d, n, at); }
static int pass_write(sqlite3_file *pf, const void *d, int n, sqlite3_int64 at)
{ return REAL(pf)->pMethods->xWrite(REAL(pf), d, n, at); }
static int pass_truncate(sqlite3_file *pf, sqlite3_int64 size)
{ return REAL(pf)->pMethods->xTruncate(REAL(pf), size); }
static int pass_sync(sqlite3_file *pf, int flags)
{ return REAL(pf)->pMethods->xSync(REAL(pf), flags); }
static int pass_size(sqlite3_file *pf, sqlite3_int64 *size)
{ return REAL(pf)->pMethods->xFileSize(REAL(pf), size); }
static int pass_lock(sqlite3_file *pf, int lock)
{ return REAL(pf)->pMethods->xLock(REAL(pf), lock); }
static int pass_unlock(sqlite3_file *pf, int lock)
{ return REAL(pf)->pMethods->xUnlock(REAL(pf), lock); }
static int pass_reserved(sqlite3_file *pf, int *out)
{ return REAL(pf)->pMethods->xCheckReservedLock(REAL(pf), out); }
static int pass_fcntl(sqlite3_file *pf, int op, void *arg)
{ return REAL(pf)->pMethods->xFileControl(REAL(pf), op, arg); }
static int pass_sector(sqlite3_file *pf)
{ return REAL(pf)->pMethods->xSectorSize(REAL(pf)); }
static int pass_caps(sqlite3_file *pf)
{ return REAL(pf)->pMethods->xDeviceCharacteristics(REAL(pf)); }
static int pass_shm_map(sqlite3_file *pf, int region, int size, int extend, void volatile **p)
{ return REAL(pf)->pMethods->xShmMap(REAL(pf), region, size, extend, p); }
static int pass_shm_lock(sqlite3_file *pf, int offset, int n, int flags)
{ return REAL(pf)->pMethods->xShmLock(REAL(pf), offset, n, flags); }
static int pass_shm_unmap(sqlite3_file *pf, int del)
{ return REAL(pf)->pMethods->xShmUnmap(REAL(pf), del); }
static int pass_fetch(sqlite3_file *pf, sqlite3_int64 at, int n, void **p)
{ return REAL(pf)->pMethods->xFetch(REAL(pf), at, n, p); }
static int pass_unfetch(sqlite3_file *pf, sqlite3_int64 at, void *p)
{ return REAL(pf)->pMethods->xUnfetch(REAL(pf), at, p); }

/* The backstop: SQLite calls this between writing a transaction's frames
 * and publishing it. Nothing is gathered here when the commit frame was
 * recognised, which is every time with the SQLite of this file's writing. */
static void pass_shm_barrier(sqlite3_file *pf)
{
	if (atomic_load(&npending) > 0) {
		pthread_mutex_lock(&pending_lock);
		/* No caller to tell of a failure here: the commit frame's own
		 * write, which comes first, reports it. flush takes each file
		 * off the list. */
		while (pending)
			(void)flush(pending);
		pthread_mutex_unlock(&pending_lock);
	}
	REAL(pf)->pMethods->xShmBarrier(REAL(pf));
}

static int walvfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *pf, int flags,
		       int *out_flags)
{
	struct wal_file *f = (struct wal_file *)pf;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)(f + 1);
	rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK || !f->real->pMethods) {
		/* Left without methods: SQLite calls no xClose on it. */
		f->base.pMethods = NULL;
		return rc;
	}
	/* A file without the shared-memory methods is not wrapped: it is
	 * opened again, in place, as the default VFS's own. */
	if (f->real->pMethods->iVersion < 3) {
		f->real->pMethods->xClose(f->real);
		return base_vfs->xOpen(base_vfs, name, pf, flags, out_flags);
	}
	f->base.pMethods = (flags & SQLITE_OPEN_WAL) ? &wal_methods : &pass_methods;
	return SQLITE_OK;
}

/* The VFS's other methods are the default VFS's own. */
static int vfs_delete(sqlite3_vfs *v, const char *name, int sync)
{ (void)v; return base_vfs->xDelete(base_vfs, name, sync); }
static int vfs_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{ (void)v; return base_vfs->xAccess(base_vfs, name, flags, out); }
static int vfs_fullpath(sqlite3_vfs *v, const char *name, int n, char *out)
{ (void)v; return base_vfs->xFullPathname(base_vfs, name, n, out); }
static void *vfs_dlopen(sqlite3_vfs *v, const char *name)
{ (void)v; return base_vfs->xDlOpen(base_vfs, name); }
static void vfs_dlerror(sqlite3_vfs *v, int n, char *out)
{ (void)v; base_vfs->xDlError(base_vfs, n, out); }
static void (*vfs_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{ (void)v; return base_vfs->xDlSym(base_vfs, h, sym); }
static void vfs_dlclose(sqlite3_vfs *v, void *h)
{ (void)v; base_vfs->xDlClose(base_vfs, h); }
static int vfs_random(sqlite3_vfs *v, int n, char *out)
{ (void)v; return base_vfs->xRandomness(base_vfs, n, out); }
static int vfs_sleep(sqlite3_vfs *v, int us)
{ (void)v; return base_vfs->xSleep(base_vfs, us); }
static int vfs_time(sqlite3_vfs *v, double *out)
{ (void)v; return base_vfs->xCurrentTime(base_vfs, out); }
static int vfs_lasterror(sqlite3_vfs *v, int n, char *out)
{ (void)v; return base_vfs->xGetLastError ? base_vfs->xGetLastError(base_vfs, n, out) : 0; }
static int vfs_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{ (void)v; return base_vfs->xCurrentTimeInt64(base_vfs, out); }

static void walvfs_init(void)
{
	static const sqlite3_io_methods pass = {
		.iVersion = 3,
		.xClose = any_close,
		.xRead = pass_read,
		.xWrite = pass_write,
		.xTruncate = pass_truncate,
		.xSync = pass_sync,
		.xFileSize = pass_size,
		.xLock = pass_lock,
		.xUnlock = pass_unlock,
		.xCheckReservedLock = pass_reserved,
		.xFileControl = pass_fcntl,
		.xSectorSize = pass_sector,
		.xDeviceCharacteristics = pass_caps,
		.xShmMap = pass_shm_map,
		.xShmLock = pass_shm_lock,
		.xShmBarrier = pass_shm_barrier,
		.xShmUnmap = pass_shm_unmap,
		.xFetch = pass_fetch,
		.xUnfetch = pass_unfetch,
	};

	base_vfs = sqlite3_vfs_find(NULL);
	if (!base_vfs || base_vfs->iVersion < 2 || !base_vfs->xCurrentTimeInt64)
		return;
	pass_methods = pass;
	wal_methods = pass;
	wal_methods.xRead = wal_read;
	wal_methods.xWrite = wal_write;
	wal_methods.xTruncate = wal_truncate;
	wal_methods.xSync = wal_sync;
	wal_methods.xFileSize = wal_size;
	walvfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct wal_file) + base_vfs->szOsFile,
		.mxPathname = base_vfs->mxPathname,
		.zName = WALVFS_NAME,
		.xOpen = walvfs_open,
		.xDelete = vfs_delete,
		.xAccess = vfs_access,
		.xFullPathname = vfs_fullpath,
		.xDlOpen = vfs_dlopen,
		.xDlError = vfs_dlerror,
		.xDlSym = vfs_dlsym,
		.xDlClose = vfs_dlclose,
		.xRandomness = vfs_random,
		.xSleep = vfs_sleep,
		.xCurrentTime = vfs_time,
		.xGetLastError = vfs_lasterror,
		.xCurrentTimeInt64 = vfs_time64,
	};
	walvfs_rc = sqlite3_vfs_register(&walvfs, 0);
}

const char *sdb_vfs_name(void)
{
	pthread_once(&walvfs_once, walvfs_init);
	return walvfs_rc == SQLITE_OK ? WALVFS_NAME : NULL;
}

long sdb_vfs_wal_writes(void)
{
	return atomic_load(&wal_writes);
}
