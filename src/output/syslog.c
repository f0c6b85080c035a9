/* output/syslog.c - the syslog sink: RFC 5424 messages to rsyslog (or any
 * RFC 5424 receiver) over TCP with octet counting (RFC 6587), TLS (RFC 5425)
 * or RELP (librelp), plain or over TLS (relp+tls://).
 *
 * Each record becomes
 *   <PRI>1 TIMESTAMP HOSTNAME mimewatch PROCID - [mimewatch@32473
 *   integration="..." type="..." id="..."] MSG
 * with MSG exactly the NDJSON line. The SD values escape '"', '\\' and ']'
 * and write control characters as \u00XX (see sd_value). Choices, and why:
 * - No BOM before MSG: the MSG is a JSON text, and RFC 8259 forbids a BOM
 *   in front of one; receivers hand %msg% straight to a JSON parser, which
 *   would choke on it. RFC 5424 allows MSG-ANY; the line is valid UTF-8.
 * - TIMESTAMP is the record's time (send time only when it has none): the
 *   SIEM indexes by when the event happened, and a re-sent record (RELP is
 *   at-least-once) is byte-identical to its first copy, so it dedupes.
 * - Facility local0; severity notice for a threat (the log type's threat
 *   field in the record, as the console's "only threats" uses), else info.
 *
 * Delivery, as sink.h defines it:
 * - tcp/tls: a message is delivered when the receiving host's TCP has
 *   acknowledged its bytes (the send queue, SIOCOUTQ, drained past it), not
 *   merely when write() took it. What a receiver loses after that (killed
 *   with data in its socket buffer) TCP cannot tell; RELP exists for that.
 * - relp: librelp has no call that waits for outstanding acknowledgements,
 *   but its session close does: the client sends "close" and waits for its
 *   response, which rsyslog sends only after it has answered every earlier
 *   frame. So each send() is one RELP session: open, the messages, close;
 *   an error callback (any non-200 answer, timeout, broken session) makes
 *   the batch fail. On failure the leading messages known to be acknowledged
 *   are those the window proves: before message j goes out librelp waits
 *   until fewer than W are unanswered, and rsyslog answers in order.
 *
 * TLS (tls:// and relp+tls://): the receiver's certificate is always
 * verified and its name checked against the url's host; client_cert and
 * client_key present a certificate to receivers that ask for one. A
 * refused certificate either way is fatal (the settings must change), with
 * a remedy naming ca_file or client_cert.
 *
 * Nothing blocks past timeout_ms without progress, and abort_flag is looked
 * at every 100 ms (librelp polls it through its shutdown pointer), except
 * librelp's TLS handshake, which it runs on a blocking socket. After a
 * failure the connection is dropped and the next send() reconnects. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <unistd.h>

#include <librelp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "jsonscan.h"
#include "logtypes.h"
#include "private.h"

#define DEFAULT_TIMEOUT_MS 10000
#define POLL_SLICE_MS 100           /* how often a wait looks at abort_flag */
#define TLS_CHUNK 16384             /* one TLS record of plaintext per write */
#define RELP_WINDOW 128             /* librelp's default, set explicitly */
#define SD_ID "mimewatch@32473"
#define FACILITY_LOCAL0 16
#define SEV_NOTICE 5
#define SEV_INFO 6

enum transport { TR_TCP, TR_TLS, TR_RELP };

struct sink {
	enum transport tr;
	char *name, *host, *port;
	int timeout_ms;
	atomic_int *abort_flag;
	char hostname[256];             /* RFC 5424 HOSTNAME, already checked */
	char procid[16];

	/* tcp and tls */
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	mw_buf wire;                    /* the framed batch */
	size_t *ends;                   /* byte end of each message in wire */
	size_t nends, ends_cap;

	/* tls: whether the receiver asked for a client certificate */
	int cert_requested;

	/* relp */
	int relp_tls;                   /* relp+tls:// */
	char *ca_file;                  /* relp+tls: librelp loads it */
	char *client_cert, *client_key; /* tls, relp+tls */
	relpEngine_t *engine;
	int relp_failed;                /* set by librelp's error callback */
	int relp_auth_failed;           /* set by its auth error callback */
	char relp_msg[512];
	char relp_tls_msg[512];         /* the TLS reason, when there is one */

	mw_buf msg;                     /* one formatted message */
	js_doc doc;                     /* threat detection */
};

/* ---------------------------------------------------------------- format */

/* A PARAM-VALUE (RFC 5424 section 6.3.3). The id comes from the tenant, so
 * it may hold anything:
 * - '"', '\\' and ']' are escaped with a backslash, as the RFC requires;
 * - C0 controls (U+0000-U+001F, including CR, LF, TAB and ESC), DEL and C1
 *   (U+0080-U+009F, including U+0085 NEL), and U+2028 / U+2029 (line and
 *   paragraph separators) are written as the visible six characters
 *   \u00XX (lower-case hex, as the NDJSON line writes them: \u001b,
 *   \u0085, \u2028): raw, they would break the one-line message a
 *   receiver stores or drive the terminal of whoever reads it. The RFC
 *   keeps a backslash before any other character as a plain backslash, so
 *   a receiver reads the value back as that text;
 * - invalid UTF-8 (PARAM-VALUE is UTF-8) becomes U+FFFD, one per maximal
 *   bad sequence;
 * - everything else, valid UTF-8 included, is copied as is.
 * The exact id is always in MSG, the NDJSON line, JSON-escaped. */
static void sd_value(mw_buf *b, const char *v)
{
	static const char hx[] = "0123456789abcdef";
	const char *text = v ? v : "";
	const unsigned char *p = (const unsigned char *)text, *end = p + strlen(text);

	while (p < end) {
		uint32_t cp;
		size_t n = js_utf8_decode(p, end, &cp);

		if (cp == JS_CP_INVALID) {
			mw_buf_append(b, "\xEF\xBF\xBD", 3);
		} else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029) {
			char esc[6] = { '\\', 'u', hx[cp >> 12 & 0xF], hx[cp >> 8 & 0xF],
					hx[cp >> 4 & 0xF], hx[cp & 0xF] };

			mw_buf_append(b, esc, sizeof(esc));
		} else {
			if (cp == '"' || cp == '\\' || cp == ']')
				mw_buf_putc(b, '\\');
			mw_buf_append(b, p, n);
		}
		p += n;
	}
}

/* A threat per the log type's own rule (logtypes.c): the record's
 * threat_field holds one of threat_values. Unknown types or lines that do
 * not parse are simply not threats. */
static int is_threat(sink *s, const struct sink_msg *m)
{
	const struct mw_logtype *lt = m->type ? logtype_find(m->type) : NULL;
	mw_err e;
	int rec, v;
	size_t i;

	if (!lt || !lt->threat_field || !lt->threat_values)
		return 0;
	if (js_parse(&s->doc, m->line, m->len, &e) < 0)
		return 0;
	rec = js_get(&s->doc, 0, "record");
	if (rec < 0 || s->doc.toks[rec].type != JS_OBJECT)
		return 0;
	v = js_get(&s->doc, rec, lt->threat_field);
	if (v < 0)
		return 0;
	for (i = 0; lt->threat_values[i]; i++) {
		const char *want = lt->threat_values[i];
		switch (s->doc.toks[v].type) {
		case JS_STRING:
			if (js_streq(&s->doc, v, want))
				return 1;
			break;
		case JS_TRUE:
			if (strcmp(want, "true") == 0)
				return 1;
			break;
		case JS_FALSE:
			if (strcmp(want, "false") == 0)
				return 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Appends the RFC 5424 message for m to b. */
static void format_message(sink *s, const struct sink_msg *m, mw_buf *b)
{
	char ts[32];
	int pri = FACILITY_LOCAL0 * 8 + (is_threat(s, m) ? SEV_NOTICE : SEV_INFO);

	mw_format_rfc3339(m->time > 0 ? m->time : mw_now(), ts);
	mw_buf_printf(b, "<%d>1 %s %s mimewatch %s - [" SD_ID " integration=\"", pri, ts,
		      s->hostname, s->procid);
	sd_value(b, m->integration);
	mw_buf_puts(b, "\" type=\"");
	sd_value(b, m->type);
	mw_buf_puts(b, "\" id=\"");
	sd_value(b, m->id);
	if (m->revision >= 2)
		mw_buf_printf(b, "\" revision=\"%lld", (long long)m->revision);
	mw_buf_puts(b, "\"] ");
	mw_buf_append(b, m->line, m->len);
}

/* HOSTNAME is 1*255 PRINTUSASCII (33..126): other bytes are dropped, and
 * nothing left means NILVALUE. */
static void set_hostname(sink *s, const char *h)
{
	char buf[256];
	size_t n = 0;

	if (!h || !*h) {
		if (gethostname(buf, sizeof(buf)) < 0)
			buf[0] = '\0';
		buf[sizeof(buf) - 1] = '\0';
		h = buf;
	}
	for (; *h && n < sizeof(s->hostname) - 1; h++)
		if ((unsigned char)*h >= 33 && (unsigned char)*h <= 126)
			s->hostname[n++] = *h;
	if (n == 0)
		s->hostname[n++] = '-';
	s->hostname[n] = '\0';
}

/* ----------------------------------------------------------------- waits */

static int aborted(const sink *s)
{
	return s->abort_flag && *s->abort_flag;
}

/* Waits until fd has one of events, the deadline (monotonic ms) passes, or
 * abort_flag is set. 0 when ready; -1 with e set otherwise. */
static int wait_fd(sink *s, int fd, short events, int64_t deadline, const char *what, mw_err *e)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - mw_mono_ms();
		int r;

		if (aborted(s)) {
			mw_err_set(e, "output %s: %s: aborted", s->name, what);
			return -1;
		}
		if (left <= 0) {
			mw_err_set(e, "output %s: %s %s:%s: no progress for %d ms", s->name, what,
				   s->host, s->port, s->timeout_ms);
			return -1;
		}
		r = poll(&p, 1, (int)(left < POLL_SLICE_MS ? left : POLL_SLICE_MS));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR) {
			mw_err_set(e, "output %s: poll: %s", s->name, strerror(errno));
			return -1;
		}
	}
}

/* OpenSSL writes to the socket with write(), which raises SIGPIPE when the
 * receiver is gone. The program ignores SIGPIPE, but the sink must not rely
 * on it: block it around TLS calls, and swallow one raised meanwhile. */
struct pipe_guard {
	sigset_t old;
	int had_pending;
};

static void pipe_block(struct pipe_guard *g)
{
	sigset_t pipe, pending;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigpending(&pending);
	g->had_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &g->old);
}

static void pipe_unblock(struct pipe_guard *g)
{
	sigset_t pipe, pending;
	struct timespec zero = { 0, 0 };

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigpending(&pending);
	if (!g->had_pending && sigismember(&pending, SIGPIPE))
		while (sigtimedwait(&pipe, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ------------------------------------------------------------ tcp and tls */

static void conn_close(sink *s)
{
	if (s->ssl) {
		struct pipe_guard g;
		pipe_block(&g);
		SSL_shutdown(s->ssl);   /* one try: a polite close_notify, no wait */
		pipe_unblock(&g);
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
}

/* Non-blocking connect to each address of host:port in turn. */
static int tcp_connect(sink *s, mw_err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	int r, fd = -1;
	char last[256] = "no address";

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	r = getaddrinfo(s->host, s->port, &hints, &res);
	if (r != 0) {
		mw_err_set(e, "output %s: cannot resolve %s: %s", s->name, s->host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			snprintf(last, sizeof(last), "socket: %s", strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			if (errno != EINPROGRESS) {
				snprintf(last, sizeof(last), "%s", strerror(errno));
				close(fd);
				fd = -1;
				continue;
			}
			if (wait_fd(s, fd, POLLOUT, mw_mono_ms() + s->timeout_ms, "connect to", e) < 0) {
				if (aborted(s))
					snprintf(last, sizeof(last), "aborted");
				else
					snprintf(last, sizeof(last), "no answer in %d ms", s->timeout_ms);
				close(fd);
				fd = -1;
				if (aborted(s))
					break;
				continue;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
				snprintf(last, sizeof(last), "%s", strerror(soerr ? soerr : errno));
				close(fd);
				fd = -1;
				continue;
			}
		}
		break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		mw_err_set(e, "output %s: cannot connect to %s:%s: %s", s->name, s->host, s->port,
			   last);
		return -1;
	}
	s->fd = fd;
	return 0;
}

/* The first OpenSSL error on the queue, as text. */
static void ssl_errtext(char *buf, size_t n)
{
	unsigned long err = ERR_get_error();

	if (err)
		ERR_error_string_n(err, buf, n);
	else
		snprintf(buf, n, "%s", errno ? strerror(errno) : "connection closed");
	ERR_clear_error();
}

/* The receiver refused our certificate, or the lack of one (a TLS alert). */
static void cert_refused(sink *s, const char *txt, enum sink_fail *why, mw_err *e)
{
	*why = SINK_FATAL;
	if (s->client_cert)
		mw_err_set(e, "output %s: %s:%s refused the client certificate (%s): check that "
			   "client_cert %s is signed by a CA the receiver trusts and names what "
			   "it permits, and that client_key is its key", s->name, s->host, s->port,
			   txt, s->client_cert);
	else
		mw_err_set(e, "output %s: %s:%s refused the TLS session (%s): the receiver asks "
			   "for a client certificate; set client_cert and client_key", s->name,
			   s->host, s->port, txt);
}

/* SSL_CTX_set_cert_cb: called on a client when the server asks for a
 * certificate (CertificateRequest), whether or not one is set. */
static int on_cert_request(SSL *ssl, void *arg)
{
	sink *s = arg;

	(void)ssl;
	s->cert_requested = 1;
	return 1;
}

/* In TLS 1.3 the client's handshake is over before the server has looked at
 * the client's certificate: a server that refuses it answers with an alert
 * after, when bytes sent meanwhile are already acknowledged by its TCP and
 * would count as delivered (stream_write). So when the server asked for a
 * certificate, wait for its first word: session tickets (OpenSSL and
 * GnuTLS servers send them at once) mean accepted, an alert refused. A
 * server that sends nothing costs one timeout_ms per connection, then is
 * taken as accepted: nothing else can be known. TLS 1.2 settles this
 * inside the handshake. */
static int tls_verdict(sink *s, enum sink_fail *why, mw_err *e)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	int64_t deadline = mw_mono_ms() + s->timeout_ms;
	struct pipe_guard g;
	char buf[256], txt[256];
	int r, err;

	if (!s->cert_requested || SSL_version(s->ssl) < TLS1_3_VERSION)
		return 0;
	for (;;) {
		int64_t left = deadline - mw_mono_ms();

		if (aborted(s)) {
			mw_err_set(e, "output %s: TLS handshake with %s:%s: aborted", s->name,
				   s->host, s->port);
			return -1;
		}
		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)(left < POLL_SLICE_MS ? left : POLL_SLICE_MS));
		if (r > 0)
			break;
		if (r < 0 && errno != EINTR) {
			mw_err_set(e, "output %s: poll: %s", s->name, strerror(errno));
			return -1;
		}
	}
	pipe_block(&g);
	errno = 0;
	r = SSL_read(s->ssl, buf, sizeof(buf));
	err = r > 0 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);
	pipe_unblock(&g);
	if (r > 0 || err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		return 0;
	}
	ssl_errtext(txt, sizeof(txt));
	if (strstr(txt, "alert"))
		cert_refused(s, txt, why, e);
	else
		mw_err_set(e, "output %s: %s:%s closed the TLS session right after the "
			   "handshake: %s", s->name, s->host, s->port, txt);
	return -1;
}

/* TLS handshake over the connected socket: TLS >= 1.2, peer verified
 * against the system store plus ca_file, host name (or IP) checked. A
 * refused certificate or protocol is fatal; anything else retries. */
static int tls_handshake(sink *s, enum sink_fail *why, mw_err *e)
{
	struct in6_addr a6;
	struct in_addr a4;
	int is_ip = inet_pton(AF_INET, s->host, &a4) == 1 || inet_pton(AF_INET6, s->host, &a6) == 1;
	int64_t deadline = mw_mono_ms() + s->timeout_ms;
	struct pipe_guard g;
	int r;

	ERR_clear_error();
	s->ssl = SSL_new(s->ctx);
	if (!s->ssl) {
		mw_err_set(e, "output %s: SSL_new failed", s->name);
		return -1;
	}
	SSL_set_fd(s->ssl, s->fd);
	if (is_ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), s->host);
	} else {
		SSL_set_tlsext_host_name(s->ssl, s->host);
		SSL_set1_host(s->ssl, s->host);
	}
	for (;;) {
		int err;

		pipe_block(&g);
		errno = 0;
		r = SSL_connect(s->ssl);
		err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);
		pipe_unblock(&g);
		if (r == 1)
			return tls_verdict(s, why, e);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			if (wait_fd(s, s->fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
				    deadline, "TLS handshake with", e) < 0)
				return -1;
			continue;
		}
		break;
	}
	{
		long vr = SSL_get_verify_result(s->ssl);
		char txt[256];

		if (vr != X509_V_OK) {
			*why = SINK_FATAL;
			mw_err_set(e, "output %s: the certificate of %s:%s is refused: %s; if a "
				   "private CA signs it, set ca_file to that CA; if the name differs, "
				   "use the name the certificate holds in url",
				   s->name, s->host, s->port, X509_verify_cert_error_string(vr));
			return -1;
		}
		ssl_errtext(txt, sizeof(txt));
		if (strstr(txt, "alert") && (strstr(txt, "certificate") || strstr(txt, "unknown ca") ||
					     (s->cert_requested && strstr(txt, "handshake failure")))) {
			cert_refused(s, txt, why, e);
		} else if (strstr(txt, "version") || strstr(txt, "protocol")) {
			*why = SINK_FATAL;
			mw_err_set(e, "output %s: TLS with %s:%s failed (%s): the receiver must offer "
				   "TLS 1.2 or later", s->name, s->host, s->port, txt);
		} else {
			mw_err_set(e, "output %s: TLS handshake with %s:%s failed: %s", s->name,
				   s->host, s->port, txt);
		}
	}
	return -1;
}

/* Is the open connection still usable? rsyslog never sends on a syslog
 * connection, so anything readable is the peer closing (or, with TLS 1.3,
 * session tickets, which SSL_read consumes). */
static int conn_alive(sink *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN | POLLRDHUP };
	char buf[4096];

	if (poll(&p, 1, 0) <= 0)
		return 1;
	if (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL))
		return 0;
	if (s->ssl) {
		struct pipe_guard g;
		int r, err;

		pipe_block(&g);
		do {
			r = SSL_read(s->ssl, buf, sizeof(buf));
		} while (r > 0);
		err = SSL_get_error(s->ssl, r);
		pipe_unblock(&g);
		ERR_clear_error();
		return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE;
	}
	for (;;) {
		ssize_t r = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0)
			continue;
		return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
}

static int stream_connect(sink *s, enum sink_fail *why, mw_err *e)
{
	if (s->fd >= 0 && conn_alive(s))
		return 0;
	conn_close(s);
	if (tcp_connect(s, e) < 0)
		return -1;
	s->cert_requested = 0;
	if (s->tr == TR_TLS && tls_handshake(s, why, e) < 0) {
		conn_close(s);
		return -1;
	}
	return 0;
}

/* Bytes the receiving host has not yet acknowledged. */
static int unacked_bytes(sink *s, size_t *out)
{
	int q = 0;

	if (ioctl(s->fd, SIOCOUTQ, &q) < 0)
		return -1;
	*out = (size_t)q;
	return 0;
}

/* How many leading messages lie entirely within the first `bytes` bytes. */
static size_t msgs_within(const sink *s, size_t bytes)
{
	size_t lo = 0, hi = s->nends;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->ends[mid] <= bytes)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Writes s->wire and waits until the peer's TCP has acknowledged it.
 * *confirmed: leading bytes of wire known to be acknowledged. */
static int stream_write(sink *s, size_t *confirmed, mw_err *e)
{
	const char *buf = s->wire.data;
	size_t len = s->wire.len, off = 0, q;
	int64_t deadline = mw_mono_ms() + s->timeout_ms;
	int64_t pause = 1;

	*confirmed = 0;
	while (off < len) {
		if (aborted(s)) {
			mw_err_set(e, "output %s: aborted", s->name);
			return -1;
		}
		if (s->ssl) {
			struct pipe_guard g;
			size_t n = len - off < TLS_CHUNK ? len - off : TLS_CHUNK;
			int r, err;

			pipe_block(&g);
			errno = 0;
			r = SSL_write(s->ssl, buf + off, (int)n);
			err = r > 0 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);
			pipe_unblock(&g);
			if (r > 0) {
				off += (size_t)r;
				deadline = mw_mono_ms() + s->timeout_ms;
			} else if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
				if (wait_fd(s, s->fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
					    deadline, "sending to", e) < 0)
					return -1;
			} else {
				char txt[256];
				ssl_errtext(txt, sizeof(txt));
				mw_err_set(e, "output %s: TLS write to %s:%s failed: %s", s->name,
					   s->host, s->port, txt);
				return -1;
			}
		} else {
			ssize_t r = send(s->fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (r > 0) {
				off += (size_t)r;
				deadline = mw_mono_ms() + s->timeout_ms;
			} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
				if (wait_fd(s, s->fd, POLLOUT, deadline, "sending to", e) < 0)
					return -1;
			} else {
				mw_err_set(e, "output %s: write to %s:%s failed: %s", s->name, s->host,
					   s->port, r < 0 ? strerror(errno) : "nothing written");
				return -1;
			}
		}
		/* With TLS the unacknowledged bytes are ciphertext: only an empty
		 * queue maps back to plaintext (everything written so far). */
		if (unacked_bytes(s, &q) == 0) {
			if (!s->ssl && off >= q)
				*confirmed = off - q;
			else if (q == 0)
				*confirmed = off;
		}
	}
	/* Drain: wait for the acknowledgement of the last bytes; the deadline
	 * moves while the queue shrinks (a slow receiver is not a dead one). */
	for (;;) {
		size_t prev = len - *confirmed;
		struct pollfd p = { .fd = s->fd, .events = POLLRDHUP };

		if (unacked_bytes(s, &q) < 0) {
			mw_err_set(e, "output %s: SIOCOUTQ: %s", s->name, strerror(errno));
			return -1;
		}
		if (!s->ssl)
			*confirmed = len - q;
		if (q == 0) {
			*confirmed = len;
			return 0;
		}
		if (q < prev)
			deadline = mw_mono_ms() + s->timeout_ms;
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLRDHUP))) {
			mw_err_set(e, "output %s: %s:%s closed the connection", s->name, s->host,
				   s->port);
			return -1;
		}
		if (aborted(s)) {
			mw_err_set(e, "output %s: aborted", s->name);
			return -1;
		}
		if (mw_mono_ms() >= deadline) {
			mw_err_set(e, "output %s: %s:%s acknowledged nothing for %d ms", s->name,
				   s->host, s->port, s->timeout_ms);
			return -1;
		}
		mw_sleep_ms(pause);
		if (pause < 20)
			pause *= 2;
	}
}

static int stream_send(sink *s, const struct sink_msg *m, size_t n, size_t *delivered,
		       enum sink_fail *why, mw_err *e)
{
	size_t i, confirmed;

	if (stream_connect(s, why, e) < 0)
		return -1;
	mw_buf_reset(&s->wire);
	if (s->ends_cap < n) {
		s->ends = mw_xrealloc(s->ends, n * sizeof(*s->ends));
		s->ends_cap = n;
	}
	s->nends = n;
	for (i = 0; i < n; i++) {
		/* RFC 6587 octet counting: "MSG-LEN SP SYSLOG-MSG". */
		mw_buf_reset(&s->msg);
		format_message(s, &m[i], &s->msg);
		mw_buf_printf(&s->wire, "%zu ", s->msg.len);
		mw_buf_append(&s->wire, s->msg.data, s->msg.len);
		s->ends[i] = s->wire.len;
	}
	if (stream_write(s, &confirmed, e) < 0) {
		*delivered = msgs_within(s, confirmed);
		conn_close(s);     /* a half-written frame poisons the stream */
		return -1;
	}
	*delivered = n;
	return 0;
}

/* ------------------------------------------------------------------ relp */

/* librelp ends some messages with a newline: one line is wanted. */
static void trim_librelp(char *msg)
{
	size_t n = strlen(msg);

	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

static void relp_on_err(void *usr, char *objinfo, char *errmsg, relpRetVal code)
{
	sink *s = usr;

	if (!s)
		return;
	if (!s->relp_failed) {
		snprintf(s->relp_msg, sizeof(s->relp_msg), "%s: %s (librelp %d)",
			 objinfo ? objinfo : "", errmsg ? errmsg : "", (int)code);
		trim_librelp(s->relp_msg);
	}
	/* librelp reports a TLS failure as a generic handshake error first
	 * and OpenSSL's own reason (the alert) after it: keep the reason,
	 * without librelp's "relpTcpLastSSLErrorMsg: OpenSSL Error Stack: ". */
	if (s->relp_tls && errmsg && !s->relp_tls_msg[0] &&
	    (strstr(errmsg, "alert") || strstr(errmsg, "certificate"))) {
		const char *why = strstr(errmsg, "Error Stack: ");

		snprintf(s->relp_tls_msg, sizeof(s->relp_tls_msg), "%s",
			 why ? why + strlen("Error Stack: ") : errmsg);
		trim_librelp(s->relp_tls_msg);
	}
	s->relp_failed = 1;
}

/* librelp's onAuthErr: the receiver's certificate failed our check (chain
 * or name). */
static void relp_on_auth_err(void *usr, char *authinfo, char *errmsg, relpRetVal code)
{
	sink *s = usr;

	if (!s)
		return;
	snprintf(s->relp_tls_msg, sizeof(s->relp_tls_msg), "%s%s%s (librelp %d)",
		 errmsg ? errmsg : "", authinfo && *authinfo ? ": " : "",
		 authinfo ? authinfo : "", (int)code);
	s->relp_auth_failed = 1;
	s->relp_failed = 1;
}

/* Whether librelp's code or messages say the TLS session itself failed. */
static int relp_tls_failed(const sink *s, relpRetVal r)
{
	return s->relp_auth_failed || s->relp_tls_msg[0] || r == RELP_RET_ERR_TLS_SETUP ||
	       r == RELP_RET_ERR_TLS_HANDS || r == RELP_RET_ERR_TLS ||
	       r == RELP_RET_AUTH_ERR_NAME || r == RELP_RET_AUTH_NO_CERT ||
	       r == RELP_RET_AUTH_CERT_INVL;
}

/* The fatal message for a RELP session TLS refused, one side or the other. */
static void relp_tls_error(sink *s, relpRetVal r, enum sink_fail *why, mw_err *e)
{
	const char *detail = s->relp_tls_msg[0] ? s->relp_tls_msg
			     : s->relp_msg[0] ? s->relp_msg : "TLS failed";

	*why = SINK_FATAL;
	if (s->relp_auth_failed || r == RELP_RET_AUTH_ERR_NAME || r == RELP_RET_AUTH_CERT_INVL)
		mw_err_set(e, "output %s: the certificate of %s:%s is refused over RELP/TLS: %s; "
			   "set ca_file to the CA that signed it, and use the name the "
			   "certificate holds in url", s->name, s->host, s->port, detail);
	else
		mw_err_set(e, "output %s: RELP/TLS with %s:%s failed (%s): check ca_file, and "
			   "that the receiver trusts client_cert %s (its tls.caCert, its "
			   "tls.permittedPeer)", s->name, s->host, s->port, detail, s->client_cert);
}

/* librelp's OpenSSL backend keeps one SSL_CTX for the whole process: made
 * (with the CA of whichever session came first) when its use count goes
 * from 0, freed when it drops back, counted without a lock (tcp.c,
 * relpTcpConnectTLSInit_ossl). Sessions over TLS therefore run one at a
 * time, each with its own CA: a second relp+tls output waits for the
 * first's session (at most its timeout, plus the handshake). */
static pthread_mutex_t relp_tls_lock = PTHREAD_MUTEX_INITIALIZER;

/* Sets up a client's TLS: verification by name against the url's host
 * (relp.h: relpCltSetAuthMode "name", relpCltAddPermittedPeer; rsyslog's
 * imrelp calls the same tls.authMode and tls.permittedPeer). */
static relpRetVal relp_tls_setup(sink *s, relpClt_t *clt)
{
	static char mode[] = "name";
	relpRetVal r;

	if ((r = relpCltEnableTLS(clt)) != RELP_RET_OK ||
	    (r = relpCltSetCACert(clt, s->ca_file)) != RELP_RET_OK ||
	    (r = relpCltSetOwnCert(clt, s->client_cert)) != RELP_RET_OK ||
	    (r = relpCltSetPrivKey(clt, s->client_key)) != RELP_RET_OK ||
	    (r = relpCltSetAuthMode(clt, mode)) != RELP_RET_OK ||
	    (r = relpCltAddPermittedPeer(clt, s->host)) != RELP_RET_OK)
		return r;
	return RELP_RET_OK;
}

static int relp_send_guarded(sink *s, const struct sink_msg *m, size_t n, size_t *delivered,
			     enum sink_fail *why, mw_err *e);

/* librelp's session broke while opening with nothing said of TLS: in TLS
 * 1.3 a receiver that refuses our certificate says so only after the
 * handshake, and librelp may meet the closed socket (EPIPE) before it
 * reads the alert, which would be retried for as long as fetch's budget.
 * One handshake of our own, as tls:// makes it (tls_verdict waits for the
 * server's first word), tells that refusal from a receiver that is down. */
static void relp_probe(sink *s, enum sink_fail *why, mw_err *e)
{
	enum sink_fail pw = SINK_RETRY;
	mw_err pe;

	if (tcp_connect(s, &pe) == 0) {
		s->cert_requested = 0;
		if (tls_handshake(s, &pw, &pe) < 0 && pw == SINK_FATAL) {
			*why = SINK_FATAL;
			*e = pe;
		}
	}
	conn_close(s);
}

/* librelp writes with send() and no MSG_NOSIGNAL: a receiver that went away
 * mid-session (rsyslogd restarted) raises SIGPIPE, as OpenSSL's writes do,
 * so the whole session runs with it blocked (see pipe_guard). */
static int relp_send(sink *s, const struct sink_msg *m, size_t n, size_t *delivered,
		     enum sink_fail *why, mw_err *e)
{
	struct pipe_guard g;
	int rc;

	pipe_block(&g);
	if (s->relp_tls)
		pthread_mutex_lock(&relp_tls_lock);
	rc = relp_send_guarded(s, m, n, delivered, why, e);
	if (s->relp_tls)
		pthread_mutex_unlock(&relp_tls_lock);
	pipe_unblock(&g);
	return rc;
}

static int relp_send_guarded(sink *s, const struct sink_msg *m, size_t n, size_t *delivered,
			     enum sink_fail *why, mw_err *e)
{
	relpClt_t *clt = NULL;
	unsigned secs = (unsigned)((s->timeout_ms + 999) / 1000);
	size_t j, safe = 0;
	relpRetVal r;

	s->relp_failed = 0;
	s->relp_auth_failed = 0;
	s->relp_msg[0] = '\0';
	s->relp_tls_msg[0] = '\0';
	if (relpEngineCltConstruct(s->engine, &clt) != RELP_RET_OK) {
		mw_err_set(e, "output %s: cannot create a RELP client", s->name);
		return -1;
	}
	relpCltSetUsrPtr(clt, s);
	relpCltSetTimeout(clt, secs);
	relpCltSetConnTimeout(clt, (int)secs);
	relpCltSetWindowSize(clt, RELP_WINDOW);
	if (s->relp_tls && (r = relp_tls_setup(s, clt)) != RELP_RET_OK) {
		*why = SINK_FATAL;
		mw_err_set(e, "output %s: librelp refused the TLS settings (librelp %d); is it "
			   "built with TLS?", s->name, (int)r);
		relpEngineCltDestruct(s->engine, &clt);
		return -1;
	}
	r = relpCltConnect(clt, AF_UNSPEC, (unsigned char *)s->port, (unsigned char *)s->host);
	if (r != RELP_RET_OK) {
		int tls_failed = s->relp_tls && relp_tls_failed(s, r);

		if (tls_failed)
			relp_tls_error(s, r, why, e);
		else
			mw_err_set(e, "output %s: cannot open a RELP session with %s:%s: %s",
				   s->name, s->host, s->port,
				   s->relp_msg[0] ? s->relp_msg : "connect failed");
		relpEngineCltDestruct(s->engine, &clt);
		if (s->relp_tls && !tls_failed)
			relp_probe(s, why, e);
		return -1;
	}
	/* No relpCltHintBurstBegin: it corks the socket, and a frame held in
	 * the cork while librelp waits for a window slot stalls 200 ms (the
	 * kernel's cork timer): measured 2,100 records/s corked, 16,000 not. */
	for (j = 0; j < n; j++) {
		if (aborted(s)) {
			snprintf(s->relp_msg, sizeof(s->relp_msg), "aborted");
			s->relp_failed = 1;
			break;
		}
		mw_buf_reset(&s->msg);
		format_message(s, &m[j], &s->msg);
		r = relpCltSendSyslog(clt, (unsigned char *)s->msg.data, s->msg.len);
		if (r != RELP_RET_OK || s->relp_failed) {
			if (!s->relp_failed)
				snprintf(s->relp_msg, sizeof(s->relp_msg), "send failed (librelp %d)",
					 (int)r);
			s->relp_failed = 1;
			break;
		}
		/* librelp sent message j only once fewer than W were unanswered:
		 * the first j - W + 1 have their 200. */
		if (j + 1 >= RELP_WINDOW)
			safe = j + 1 - RELP_WINDOW;
	}
	/* Closing sends "close" and waits for its answer, which comes after
	 * the answers to every message; a failure shows in the callback. */
	relpEngineCltDestruct(s->engine, &clt);
	if (s->relp_failed || aborted(s)) {
		*delivered = safe;
		mw_err_set(e, "output %s: RELP delivery to %s:%s failed after %zu of %zu: %s",
				   s->name, s->host, s->port, safe, n,
				   s->relp_msg[0] ? s->relp_msg : "aborted");
		return -1;
	}
	*delivered = n;
	return 0;
}

/* ------------------------------------------------------------------- ops */

/* scheme://host:port, host a name, IPv4 or [IPv6]. */
static int parse_url(const char *name, const char *url, enum transport *tr, int *relp_tls,
		     char **host, char **port, mw_err *e)
{
	const char *p, *h, *he, *pt;
	char *end;
	long v;

	if (!url || !*url) {
		mw_err_set(e, "output %s: url is missing: set tcp://host:port, tls://host:port, "
			   "relp://host:port or relp+tls://host:port", name);
		return -1;
	}
	*relp_tls = 0;
	if (strncmp(url, "tcp://", 6) == 0) {
		*tr = TR_TCP;
		p = url + 6;
	} else if (strncmp(url, "tls://", 6) == 0) {
		*tr = TR_TLS;
		p = url + 6;
	} else if (strncmp(url, "relp://", 7) == 0) {
		*tr = TR_RELP;
		p = url + 7;
	} else if (strncmp(url, "relp+tls://", 11) == 0) {
		*tr = TR_RELP;
		*relp_tls = 1;
		p = url + 11;
	} else {
		mw_err_set(e, "output %s: url %s: the scheme must be tcp://, tls://, relp:// or "
			   "relp+tls://", name, url);
		return -1;
	}
	if (*p == '[') {
		h = p + 1;
		he = strchr(h, ']');
		if (!he || he[1] != ':') {
			mw_err_set(e, "output %s: url %s: write an IPv6 address as [addr]:port", name, url);
			return -1;
		}
		pt = he + 2;
	} else {
		h = p;
		he = strrchr(p, ':');
		if (!he || memchr(h, ':', (size_t)(he - h))) {
			mw_err_set(e, "output %s: url %s: the port is missing (host:port)", name, url);
			return -1;
		}
		pt = he + 1;
	}
	if (he == h) {
		mw_err_set(e, "output %s: url %s: the host is missing", name, url);
		return -1;
	}
	errno = 0;
	v = strtol(pt, &end, 10);
	if (!*pt || *end || errno || v < 1 || v > 65535 || *pt == '+' || *pt == '-') {
		mw_err_set(e, "output %s: url %s: the port must be a number from 1 to 65535 with "
			   "nothing after it", name, url);
		return -1;
	}
	*host = mw_xstrndup(h, (size_t)(he - h));
	*port = mw_xstrdup(pt);
	return 0;
}

static void syslog_close(sink *s);

/* Checks ca_file, client_cert and client_key against the transport and
 * that each can be read now: a typo is a message at start, not a failed
 * handshake later. */
static int check_tls_files(const char *name, const struct sink_opts *o, enum transport tr,
			   int relp_tls, mw_err *e)
{
	int tls = tr == TR_TLS || relp_tls;
	const char *files[3] = { o->ca_file, o->client_cert, o->client_key };
	const char *keys[3] = { "ca_file", "client_cert", "client_key" };

	if (o->ca_file && *o->ca_file && !tls) {
		mw_err_set(e, "output %s: ca_file is only used with tls:// and relp+tls:// urls: "
			   "remove it or change url %s", name, o->url);
		return -1;
	}
	if ((o->client_cert || o->client_key) && !tls) {
		mw_err_set(e, "output %s: client_cert and client_key are only used with tls:// "
			   "and relp+tls:// urls: remove them or change url %s", name, o->url);
		return -1;
	}
	if (!o->client_cert != !o->client_key) {
		mw_err_set(e, "output %s: %s without %s: give both", name,
			   o->client_cert ? "client_cert" : "client_key",
			   o->client_cert ? "client_key" : "client_cert");
		return -1;
	}
	/* librelp checks the receiver's certificate only against the CA it
	 * is given, and only when it has a certificate of its own: without
	 * one it runs anonymous TLS and checks nothing (tcp.c: isAnonAuth(),
	 * then authmode forced to none). */
	if (relp_tls && (!o->ca_file || !*o->ca_file)) {
		mw_err_set(e, "output %s: relp+tls:// needs ca_file, the PEM file of the CA that "
			   "signed the receiver's certificate: RELP over TLS does not read the "
			   "system's trust store", name);
		return -1;
	}
	if (relp_tls && !o->client_cert) {
		mw_err_set(e, "output %s: relp+tls:// needs client_cert and client_key: librelp "
			   "verifies the receiver's certificate only when it presents one of its "
			   "own", name);
		return -1;
	}
	/* tls:// loads ca_file itself, at once (syslog_open); librelp only at
	 * its first connection. */
	for (int i = relp_tls ? 0 : 1; i < 3; i++)
		if (files[i] && access(files[i], R_OK) < 0) {
			mw_err_set(e, "output %s: %s %s cannot be read: %s", name, keys[i], files[i],
				   strerror(errno));
			return -1;
		}
	return 0;
}

/* OpenSSL's default asks for a key's passphrase on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return 0;
}

/* tls://: the client certificate (with its chain) and key, checked to
 * belong together. */
static int load_client_cert(sink *s, const struct sink_opts *o, mw_err *e)
{
	SSL_CTX_set_default_passwd_cb(s->ctx, no_passphrase);
	if (SSL_CTX_use_certificate_chain_file(s->ctx, o->client_cert) != 1) {
		ERR_clear_error();
		mw_err_set(e, "output %s: client_cert %s cannot be read as a PEM certificate: "
			   "fix client_cert", s->name, o->client_cert);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(s->ctx, o->client_key, SSL_FILETYPE_PEM) != 1) {
		ERR_clear_error();
		mw_err_set(e, "output %s: client_key %s cannot be read as a PEM private key "
			   "(one without a passphrase): fix client_key", s->name, o->client_key);
		return -1;
	}
	if (SSL_CTX_check_private_key(s->ctx) != 1) {
		ERR_clear_error();
		mw_err_set(e, "output %s: client_key %s is not the key of client_cert %s: give "
			   "the matching pair", s->name, o->client_key, o->client_cert);
		return -1;
	}
	return 0;
}

/* tls://'s TLS context, and relp+tls://'s for relp_probe: TLS >= 1.2,
 * the peer verified, the client certificate loaded. */
static int tls_ctx_new(sink *s, const struct sink_opts *o, mw_err *e)
{
	s->ctx = SSL_CTX_new(TLS_client_method());
	if (!s->ctx) {
		mw_err_set(e, "output %s: cannot create a TLS context", s->name);
		return -1;
	}
	SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_cb(s->ctx, on_cert_request, s);
	/* The system's trust store always counts; ca_file adds to it, as it
	 * does for the Mimecast client. */
	SSL_CTX_set_default_verify_paths(s->ctx);
	if (o->ca_file && *o->ca_file &&
	    SSL_CTX_load_verify_locations(s->ctx, o->ca_file, NULL) != 1) {
		ERR_clear_error();
		mw_err_set(e, "output %s: ca_file %s cannot be read as PEM certificates: fix "
			   "ca_file or remove it", s->name, o->ca_file);
		return -1;
	}
	return o->client_cert ? load_client_cert(s, o, e) : 0;
}

static int syslog_open(const struct sink_opts *o, sink **out, mw_err *e)
{
	const char *name = o->name ? o->name : "syslog";
	sink *s;
	enum transport tr;
	int relp_tls;
	char *host = NULL, *port = NULL;

	*out = NULL;
	if (parse_url(name, o->url, &tr, &relp_tls, &host, &port, e) < 0)
		return -1;
	if (check_tls_files(name, o, tr, relp_tls, e) < 0) {
		free(host);
		free(port);
		return -1;
	}
	s = mw_xcalloc(1, sizeof(*s));
	s->tr = tr;
	s->relp_tls = relp_tls;
	s->name = mw_xstrdup(name);
	s->host = host;
	s->port = port;
	s->fd = -1;
	s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	s->abort_flag = o->abort_flag;
	if (o->client_cert) {
		s->client_cert = mw_xstrdup(o->client_cert);
		s->client_key = mw_xstrdup(o->client_key);
	}
	set_hostname(s, o->hostname);
	snprintf(s->procid, sizeof(s->procid), "%ld", (long)getpid());
	mw_buf_init(&s->wire);
	mw_buf_init(&s->msg);
	js_init(&s->doc);

	/* relp+tls:// has one too, for relp_probe's handshake */
	if ((tr == TR_TLS || relp_tls) && tls_ctx_new(s, o, e) < 0)
		goto fail;
	if (tr == TR_RELP) {
		if (relpEngineConstruct(&s->engine) != RELP_RET_OK) {
			mw_err_set(e, "output %s: cannot create the RELP engine", name);
			goto fail;
		}
		/* librelp calls its debug hook unconditionally; NULL installs
		 * its no-op. */
		relpEngineSetDbgprint(s->engine, NULL);
		relpEngineSetEnableCmd(s->engine, (unsigned char *)"syslog", eRelpCmdState_Required);
		relpEngineSetOnErr(s->engine, relp_on_err);
		/* librelp only reads the flag, as a plain int after each
		 * syscall of its loop; an atomic_int is an int in memory. */
		if (s->abort_flag)
			relpEngineSetShutdownImmdtPtr(s->engine, (int *)s->abort_flag);
		if (relp_tls) {
			relpEngineSetOnAuthErr(s->engine, relp_on_auth_err);
			/* OpenSSL, as the tls:// transport: Debian's librelp has
			 * both backends, and GnuTLS's (the default) would bring
			 * a second TLS stack's rules and messages. */
			if (relpEngineSetTLSLibByName(s->engine, "openssl") != RELP_RET_OK) {
				mw_err_set(e, "output %s: this librelp has no OpenSSL TLS support, "
					   "which relp+tls:// needs; use tls:// or a librelp built "
					   "with OpenSSL", name);
				goto fail;
			}
			s->ca_file = mw_xstrdup(o->ca_file);
		}
	}
	*out = s;
	return 0;
fail:
	syslog_close(s);
	return -1;
}

static int syslog_send(sink *s, const struct sink_msg *m, size_t n, size_t *delivered,
		       enum sink_fail *why, mw_err *e)
{
	*delivered = 0;
	*why = SINK_RETRY;
	mw_err_clear(e);
	if (n == 0)
		return 0;
	if (aborted(s)) {
		mw_err_set(e, "output %s: aborted", s->name);
		return -1;
	}
	if (s->tr == TR_RELP)
		return relp_send(s, m, n, delivered, why, e);
	return stream_send(s, m, n, delivered, why, e);
}

static void syslog_close(sink *s)
{
	if (!s)
		return;
	conn_close(s);
	if (s->ctx)
		SSL_CTX_free(s->ctx);
	if (s->engine)
		relpEngineDestruct(&s->engine);
	mw_buf_free(&s->wire);
	mw_buf_free(&s->msg);
	js_free(&s->doc);
	free(s->ends);
	free(s->ca_file);
	free(s->client_cert);
	free(s->client_key);
	free(s->name);
	free(s->host);
	free(s->port);
	free(s);
}

const struct sink_ops sink_syslog_ops = {
	.kind = "syslog",
	.open = syslog_open,
	.send = syslog_send,
	.close = syslog_close,
};
