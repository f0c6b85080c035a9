/* service.c - the sd_notify protocol, written out rather than linking
 * libsystemd: it is one datagram per notice to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or '@' for the abstract namespace), a stable and
 * documented interface, and the build then needs no systemd headers on
 * machines that never run systemd. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "service.h"
#include "util.h"

static int64_t last_ping_ms;
static int warned;

int service_notify(const char *text)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t plen;
	socklen_t salen;
	ssize_t n;
	int fd;

	if (!path || !*path)
		return 1;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sa.sun_path)) {
		if (!warned++)
			mw_log(1, "NOTIFY_SOCKET '%s' is neither a path nor an abstract "
			       "socket: systemd notices are not sent", path);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	close(fd);
	if (n < 0) {
		if (!warned++)
			mw_log(1, "NOTIFY_SOCKET %s: %s: systemd notices are not arriving",
			       path, strerror(errno));
		return -1;
	}
	return 0;
}

void service_ready(const char *status)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status ? status : "collecting");
	service_notify(msg);
	last_ping_ms = mw_mono_ms();
}

void service_reloading(void)
{
	char msg[96];
	struct timespec ts;

	/* Type=notify-reload wants the time of the reload request; plain
	 * Type=notify ignores it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%lld",
		 (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
	service_notify(msg);
}

void service_stopping(void)
{
	service_notify("STOPPING=1");
}

int64_t service_watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;
	long long v;

	if (!usec || !*usec || !getenv("NOTIFY_SOCKET"))
		return 0;
	if (pid && *pid && strtoll(pid, NULL, 10) != (long long)getpid())
		return 0;  /* meant for another process (we were exec'd by it) */
	errno = 0;
	v = strtoll(usec, &end, 10);
	if (errno || *end || v <= 0)
		return 0;
	return v < 1000 ? 1 : v / 1000;
}

void service_watchdog(void)
{
	int64_t every = service_watchdog_ms(), now;

	if (!every)
		return;
	now = mw_mono_ms();
	if (now - last_ping_ms < every / 2)
		return;
	last_ping_ms = now;
	service_notify("WATCHDOG=1");
}
