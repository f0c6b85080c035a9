/* service.h - mimewatch run as a systemd service (Type=notify): readiness,
 * reload and stop notices, status text and watchdog pings over the
 * $NOTIFY_SOCKET datagram protocol (sd_notify(3)). Without NOTIFY_SOCKET
 * every call does nothing, so `run` behaves the same outside systemd. */
#ifndef MW_SERVICE_H
#define MW_SERVICE_H

#include <stdint.h>

/* Sends one notice ("READY=1", "STATUS=...", several lines allowed).
 * 0 sent, 1 no NOTIFY_SOCKET, -1 the socket refused it (logged once). */
int service_notify(const char *text);

void service_ready(const char *status);   /* READY=1 and STATUS= */
void service_reloading(void);             /* RELOADING=1 + MONOTONIC_USEC= */
void service_stopping(void);              /* STOPPING=1 */

/* The watchdog interval systemd asked for ($WATCHDOG_USEC, for this pid
 * when $WATCHDOG_PID is set), in ms; 0 when there is no watchdog. */
int64_t service_watchdog_ms(void);
/* Pings the watchdog if half the interval has passed since the last ping.
 * Call it from the loop whose liveness it vouches for. */
void service_watchdog(void);

#endif
