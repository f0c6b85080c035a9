/* test_service.c - the sd_notify protocol against a real datagram socket
 * standing in for systemd: exact notices for ready, reload, stop and status,
 * path and abstract sockets, the watchdog interval and its pid rule, and
 * pings no more often than half the interval. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* mkdtemp, setenv alongside -std=c11 */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "service.h"
#include "util.h"

struct fx {
	char dir[64];
	char path[128];
	int fd;
};

static int bind_dgram(const char *name, int abstract)
{
	struct sockaddr_un sa;
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path + (abstract ? 1 : 0), name, n);
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (abstract ? 1 : 0))) < 0)
		fail_msg("bind %s: %m", name);
	return fd;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/mw_service.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/notify", f->dir);
	f->fd = bind_dgram(f->path, 0);
	setenv("NOTIFY_SOCKET", f->path, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->fd);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

/* The next notice, or "" when none is waiting. */
static const char *next_msg(int fd)
{
	static char buf[1024];
	ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_notices(void **state)
{
	struct fx *f = *state;
	const char *m;

	service_ready("collecting 2 integrations");
	assert_string_equal(next_msg(f->fd), "READY=1\nSTATUS=collecting 2 integrations");
	service_reloading();
	m = next_msg(f->fd);
	assert_memory_equal(m, "RELOADING=1\nMONOTONIC_USEC=", 27);
	assert_true(strtoll(m + 27, NULL, 10) > 0);
	service_stopping();
	assert_string_equal(next_msg(f->fd), "STOPPING=1");
	assert_int_equal(service_notify("STATUS=x"), 0);
	assert_string_equal(next_msg(f->fd), "STATUS=x");
	assert_string_equal(next_msg(f->fd), "");
}

static void test_abstract_socket(void **state)
{
	char name[64];
	int fd;

	(void)state;
	snprintf(name, sizeof name, "mw-test-notify-%ld", (long)getpid());
	fd = bind_dgram(name, 1);
	char env[80];
	snprintf(env, sizeof env, "@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);
	assert_int_equal(service_notify("READY=1"), 0);
	assert_string_equal(next_msg(fd), "READY=1");
	close(fd);
}

static void test_no_socket(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(service_notify("READY=1"), 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	assert_int_equal(service_watchdog_ms(), 0);  /* nobody to ping */
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(service_notify("READY=1"), -1);
	setenv("NOTIFY_SOCKET", "/nonexistent/mw/notify", 1);
	assert_int_equal(service_notify("READY=1"), -1);
}

static void test_watchdog_interval(void **state)
{
	char pid[32];

	(void)state;
	assert_int_equal(service_watchdog_ms(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(service_watchdog_ms(), 30000);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(service_watchdog_ms(), 30000);
	snprintf(pid, sizeof pid, "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(service_watchdog_ms(), 0);  /* for another process */
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "abc", 1);
	assert_int_equal(service_watchdog_ms(), 0);
	setenv("WATCHDOG_USEC", "-5", 1);
	assert_int_equal(service_watchdog_ms(), 0);
	setenv("WATCHDOG_USEC", "", 1);
	assert_int_equal(service_watchdog_ms(), 0);
}

static void test_watchdog_pings(void **state)
{
	struct fx *f = *state;

	setenv("WATCHDOG_USEC", "400000", 1);  /* 400 ms: ping every 200 ms */
	service_ready(NULL);
	assert_string_equal(next_msg(f->fd), "READY=1\nSTATUS=collecting");
	service_watchdog();
	assert_string_equal(next_msg(f->fd), "");  /* just readied: too soon */
	mw_sleep_ms(220);
	service_watchdog();
	assert_string_equal(next_msg(f->fd), "WATCHDOG=1");
	service_watchdog();
	assert_string_equal(next_msg(f->fd), "");
	mw_sleep_ms(220);
	service_watchdog();
	assert_string_equal(next_msg(f->fd), "WATCHDOG=1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abstract_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_pings, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
