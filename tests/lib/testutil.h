/* testutil.h - helpers the unit tests share: removing a scratch tree, and a
 * small private tmpfs for real disk-full tests (with, for cmocka tests,
 * the wait for the child that mounted it). */
#ifndef MW_TESTUTIL_H
#define MW_TESTUTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static inline int testutil_rm_one(const char *p, const struct stat *sb, int flag,
				  struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

/* rm -rf dir (no links followed). */
static inline void rm_rf(const char *dir)
{
	nftw(dir, testutil_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Mounts a tmpfs of size ("512k", "2m") on dir in a private mount namespace
 * of this process (a user namespace when not root). -1: not allowed here,
 * the caller skips. Call it in a forked child: the mount dies with it. */
static inline int private_tmpfs(const char *dir, const char *size)
{
	char opts[32];

	if (unshare(CLONE_NEWNS) < 0) {
		uid_t uid = getuid();
		gid_t gid = getgid();
		char m[64];
		int fd;
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return -1;
		fd = open("/proc/self/setgroups", O_WRONLY);
		if (fd >= 0) {
			(void)!write(fd, "deny", 4);
			close(fd);
		}
		snprintf(m, sizeof m, "%u %u 1", (unsigned)uid, (unsigned)uid);
		fd = open("/proc/self/uid_map", O_WRONLY);
		if (fd < 0 || write(fd, m, strlen(m)) < 0)
			return -1;
		close(fd);
		snprintf(m, sizeof m, "%u %u 1", (unsigned)gid, (unsigned)gid);
		fd = open("/proc/self/gid_map", O_WRONLY);
		if (fd < 0 || write(fd, m, strlen(m)) < 0)
			return -1;
		close(fd);
	}
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	snprintf(opts, sizeof opts, "size=%s,mode=0700", size);
	return mount("tmpfs", dir, "tmpfs", 0, opts);
}

#ifdef cmocka_unit_test
/* Waits for a forked child that ran a private_tmpfs test: it must exit 0;
 * 77 (it could not mount a tmpfs here) skips the test. */
static inline void tmpfs_child_wait(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}
#endif

#endif
