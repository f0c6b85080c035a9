/* test_sink_kafka.c - the Kafka sink against librdkafka's mock cluster.
 *
 * The cluster runs in tests/lib/mockcluster (3 brokers on 127.0.0.1, found
 * through $MW_KAFKA_MOCK or ./tests/lib/mockcluster; exit 77 when absent).
 * The stream test sends 20,000 records the way the output thread will: in
 * batches, moving its offset by the delivered prefix and sending again from
 * there after a failure, while a broker goes down and comes back. Then it
 * reads every topic back and counts each key: every record exactly once,
 * key = id, in the topic its template names. Other tests make the cluster
 * refuse (unknown topic, authorization, producer id) and check the sink says
 * SINK_FATAL with the right message and delivered prefix. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "output/private.h"

#define NREC 20000
#ifndef BATCH
#define BATCH 500
#endif

static const char *const integrations[2] = { "acme", "globex" };
static const char *const types[3] = { "url", "impersonation", "attachment" };

static const char *mock_path;
static char tmpdir[64];
static pid_t mock_pid;
static FILE *mock_in, *mock_out;
static char bootstraps[512];

/* ---- the mock cluster helper ------------------------------------------ */

static int mock_start(void)
{
	int in[2], out[2], logfd;
	char logpath[128];

	snprintf(logpath, sizeof logpath, "%s/mockcluster.log", tmpdir);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (logfd < 0 || pipe(in) < 0 || pipe(out) < 0)
		return -1;
	mock_pid = fork();
	if (mock_pid < 0)
		return -1;
	if (mock_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(logfd, 2);
		close(in[1]);
		close(out[0]);
		execl(mock_path, mock_path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(logfd);
	mock_in = fdopen(in[1], "w");
	mock_out = fdopen(out[0], "r");
	setvbuf(mock_in, NULL, _IOLBF, 0);
	if (!fgets(bootstraps, sizeof bootstraps, mock_out))
		return -1;
	bootstraps[strcspn(bootstraps, "\n")] = '\0';
	return strchr(bootstraps, ':') ? 0 : -1;
}

static void mock_stop(void)
{
	int st;

	if (mock_pid <= 0)
		return;
	fputs("quit\n", mock_in);
	fclose(mock_in);
	fclose(mock_out);
	waitpid(mock_pid, &st, 0);
	mock_pid = 0;
}

/* Sends one command and returns 0 when the helper answers "ok". */
static int mock_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int mock_cmd(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vfprintf(mock_in, fmt, ap);
	va_end(ap);
	fputc('\n', mock_in);
	fflush(mock_in);
	if (!fgets(line, sizeof line, mock_out))
		return -1;
	if (strcmp(line, "ok\n") != 0) {
		fprintf(stderr, "mockcluster: %s", line);
		return -1;
	}
	return 0;
}

/* Reads topic back; calls fn per message. Returns the count or -1. */
typedef void consume_fn(const char *topic, int part, long long off, const char *key,
			size_t vlen, void *arg);

static long mock_consume(const char *topic, consume_fn *fn, void *arg)
{
	char line[1024], key[512];
	int part;
	long long off;
	size_t vlen;
	long n = 0, end;

	fprintf(mock_in, "consume %s\n", topic);
	fflush(mock_in);
	while (fgets(line, sizeof line, mock_out)) {
		if (sscanf(line, "end %ld", &end) == 1)
			return end == n ? n : -1;
		if (sscanf(line, "%d %lld %511s %zu", &part, &off, key, &vlen) != 4) {
			fprintf(stderr, "mockcluster: %s", line);
			return -1;
		}
		fn(topic, part, off, key, vlen, arg);
		n++;
	}
	return -1;
}

/* ---- records ----------------------------------------------------------- */

struct rec {
	char id[48];
	char line[256];
	struct sink_msg m;
};

/* Record i: integration i % 2, type (i / 2) % 3, id ending in -i. */
static struct rec *make_records(const char *tag, int n)
{
	struct rec *r = calloc((size_t)n, sizeof *r);
	int i;

	for (i = 0; i < n; i++) {
		const char *in = integrations[i % 2], *ty = types[(i / 2) % 3];
		int len;

		snprintf(r[i].id, sizeof r[i].id, "%s-%08x-%06d", tag,
			 (unsigned)(i * 2654435761u), i);
		/* Lengths vary so the value length checks something. */
		len = snprintf(r[i].line, sizeof r[i].line,
			       "{\"integration\":\"%s\",\"type\":\"%s\",\"id\":\"%s\","
			       "\"n\":%d,\"pad\":\"%.*s\"}", in, ty, r[i].id, i, i % 50,
			       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		r[i].m.line = r[i].line;
		r[i].m.len = (size_t)len;
		r[i].m.integration = in;
		r[i].m.type = ty;
		r[i].m.id = r[i].id;
		r[i].m.time = 1700000000 + i;
		r[i].m.rowid = i + 1;
	}
	return r;
}

static struct sink_msg *msgs_of(struct rec *r, int n)
{
	struct sink_msg *m = calloc((size_t)n, sizeof *m);
	int i;

	for (i = 0; i < n; i++)
		m[i] = r[i].m;
	return m;
}

struct tally {
	struct rec *r;
	int n;
	int *seen;
	long wrong_topic, wrong_key, wrong_len, foreign;
};

static void tally_one(const char *topic, int part, long long off, const char *key,
		      size_t vlen, void *arg)
{
	struct tally *t = arg;
	const char *dash = strrchr(key, '-');
	int i = dash ? atoi(dash + 1) : -1;
	char want[128];

	(void)part;
	(void)off;
	if (i < 0 || i >= t->n || strcmp(t->r[i].id, key) != 0) {
		t->foreign++;
		return;
	}
	t->seen[i]++;
	snprintf(want, sizeof want, "mimecast.%s.%s", t->r[i].m.integration, t->r[i].m.type);
	if (strncmp(topic, want, strlen(want)) != 0)
		t->wrong_topic++;
	if (vlen != t->r[i].m.len)
		t->wrong_len++;
}

static struct sink *open_sink(const char *topic, int timeout_ms, atomic_int *abort_flag)
{
	struct sink_opts o = { 0 };
	sink *s = NULL;
	mw_err e;

	o.name = "k";
	o.brokers = bootstraps;
	o.topic = topic;
	o.timeout_ms = timeout_ms;
	o.abort_flag = abort_flag;
	assert_int_equal(sink_kafka_ops.open(&o, &s, &e), 0);
	assert_non_null(s);
	return s;
}

/* Reads back every topic of a template "mimecast.{integration}.{type}SUFFIX"
 * and checks each of r[0..n) arrived exactly once. */
static void expect_exactly_once(struct rec *r, int n, const char *suffix, long *total)
{
	struct tally t = { 0 };
	int i, j, lost = 0, dup = 0;
	char topic[128];

	t.r = r;
	t.n = n;
	t.seen = calloc((size_t)n, sizeof *t.seen);
	*total = 0;
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 3; j++) {
			long c;

			snprintf(topic, sizeof topic, "mimecast.%s.%s%s", integrations[i],
				 types[j], suffix);
			c = mock_consume(topic, tally_one, &t);
			assert_true(c >= 0);
			*total += c;
		}
	}
	for (i = 0; i < n; i++) {
		if (t.seen[i] == 0)
			lost++;
		else if (t.seen[i] > 1)
			dup += t.seen[i] - 1;
	}
	assert_int_equal(lost, 0);
	assert_int_equal(dup, 0);
	assert_int_equal(t.foreign, 0);
	assert_int_equal(t.wrong_topic, 0);
	assert_int_equal(t.wrong_len, 0);
	assert_int_equal(*total, n);
	free(t.seen);
}

static void create_topics(const char *suffix, int partitions)
{
	int i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++)
			assert_int_equal(mock_cmd("create mimecast.%s.%s%s %d", integrations[i],
						  types[j], suffix, partitions), 0);
}

/* ---- tests ------------------------------------------------------------- */

static void test_open_checks(void **state)
{
	struct sink_opts o = { 0 };
	sink *s = (sink *)1;
	mw_err e;

	(void)state;
	o.name = "k";
	o.topic = "mimecast.{integration}.{type}";
	assert_int_equal(sink_kafka_ops.open(&o, &s, &e), -1);
	assert_null(s);
	assert_string_equal(e.msg, "kafka output k: brokers: is empty; set it to the bootstrap "
			    "servers, host:port[,host:port...]");

	o.brokers = "127.0.0.1:1, 127.0.0.1:2";
	assert_int_equal(sink_kafka_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "brokers: \"127.0.0.1:1, 127.0.0.1:2\" contains a space"));

	o.brokers = "127.0.0.1:1";
	o.topic = "";
	assert_int_equal(sink_kafka_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "topic: is empty"));

	o.topic = "mimecast.{tenant}.{type}";
	assert_int_equal(sink_kafka_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "topic: \"mimecast.{tenant}.{type}\" does not make a "
			       "legal Kafka topic name (gives \"mimecast.{tenant}.impersonation\")"));

	o.topic = "mimecast {type}";
	assert_int_equal(sink_kafka_ops.open(&o, &s, &e), -1);

	/* No broker listens on port 1: opening still works (connects later). */
	o.topic = "mimecast.{integration}.{type}";
	assert_int_equal(sink_kafka_ops.open(&o, &s, &e), 0);
	assert_non_null(s);
	sink_kafka_ops.close(s);
}

static double stream_rate;
static int down_retries, up_retries, down_partial;
static long down_ms, recover_ms, stream_ms;

/* 20,000 records, 2 integrations x 3 types; broker 2 (leader of a third of
 * the partitions) goes down after 6,000 and comes back three failed sends
 * later. The loop is the output thread's: offset += delivered, again. */
static void test_stream_broker_down(void **state)
{
	struct rec *r = make_records("s", NREC);
	struct sink_msg *m = msgs_of(r, NREC);
	struct sink *s;
	size_t off = 0, d;
	enum sink_fail why;
	mw_err e;
	int down = 0, up = 0;
	int64_t t0, t_down = 0, t_up = 0, t_recovered = 0;
	long total;

	(void)state;
	create_topics("", 4);
	s = open_sink("mimecast.{integration}.{type}", 1000, NULL);
	t0 = mw_mono_ms();
	while (off < NREC) {
		size_t n = NREC - off < BATCH ? NREC - off : BATCH;
		int rc = sink_kafka_ops.send(s, &m[off], n, &d, &why, &e);

		assert_true(d <= n);
		off += d;
		if (rc == 0) {
			assert_int_equal(d, n);
			if (up && !t_recovered)
				t_recovered = mw_mono_ms();
		} else {
			/* Only the outage (and the reconnection after it) may
			 * make a send fail. */
			assert_true(down);
			assert_int_equal(why, SINK_RETRY);
			assert_non_null(strstr(e.msg, "not acknowledged within the timeout"));
			if (up)
				up_retries++;
			else
				down_retries++;
			if (d > 0)
				down_partial++;
		}
		if (!down && off >= 6000) {
			assert_int_equal(mock_cmd("down 2"), 0);
			down = 1;
			t_down = mw_mono_ms();
		}
		if (down && !up && down_retries >= 3) {
			assert_int_equal(mock_cmd("up 2"), 0);
			up = 1;
			t_up = mw_mono_ms();
		}
	}
	stream_ms = (long)(mw_mono_ms() - t0);
	if (t_recovered == 0)
		t_recovered = mw_mono_ms();
	recover_ms = (long)(t_recovered - t_up);
	sink_kafka_ops.close(s);
	assert_true(up);
	/* The outage must have cost at least one failed send per second down. */
	assert_true(down_retries >= 3);
	down_ms = (long)(t_up - t_down);

	expect_exactly_once(r, NREC, "", &total);
	assert_int_equal(total, NREC);
	free(m);
	free(r);
}

/* The same volume with no faults: the rate the sink sustains. */
static void test_stream_rate(void **state)
{
	struct rec *r = make_records("r", NREC);
	struct sink_msg *m = msgs_of(r, NREC);
	struct sink *s;
	size_t off = 0, d;
	enum sink_fail why;
	mw_err e;
	int64_t t0;
	long total;

	(void)state;
	create_topics(".rate", 4);
	s = open_sink("mimecast.{integration}.{type}.rate", 10000, NULL);
	t0 = mw_mono_ms();
	while (off < NREC) {
		size_t n = NREC - off < BATCH ? NREC - off : BATCH;

		assert_int_equal(sink_kafka_ops.send(s, &m[off], n, &d, &why, &e), 0);
		assert_int_equal(d, n);
		off += d;
	}
	stream_rate = NREC * 1000.0 / (double)(mw_mono_ms() - t0 + 1);
	sink_kafka_ops.close(s);
	expect_exactly_once(r, NREC, ".rate", &total);
	free(m);
	free(r);
}

struct abort_arg {
	atomic_int *flag;
	int after_ms;
};

static void *set_abort(void *p)
{
	struct abort_arg *a = p;

	mw_sleep_ms(a->after_ms);
	*a->flag = 1;
	return NULL;
}

/* Every broker down: a send gives up at the abort flag before its timeout,
 * the next one at its timeout, both SINK_RETRY; once the brokers are back,
 * sending the same batch again on the same sink delivers each record once
 * (the messages of the failed calls were still queued in the producer and
 * are waited for, not produced a second time). */
static void test_abort_then_resend(void **state)
{
	struct rec *r = make_records("a", 60);
	struct sink_msg *m = msgs_of(r, 60);
	atomic_int flag = 0;
	struct abort_arg a = { &flag, 200 };
	pthread_t th;
	struct sink *s;
	size_t d = 99, off;
	enum sink_fail why;
	mw_err e;
	int64_t t0, took;
	long total;
	int tries = 0;

	(void)state;
	create_topics(".abort", 2);
	assert_int_equal(mock_cmd("down 1"), 0);
	assert_int_equal(mock_cmd("down 2"), 0);
	assert_int_equal(mock_cmd("down 3"), 0);
	s = open_sink("mimecast.{integration}.{type}.abort", 900, &flag);
	pthread_create(&th, NULL, set_abort, &a);
	t0 = mw_mono_ms();
	assert_int_equal(sink_kafka_ops.send(s, m, 60, &d, &why, &e), -1);
	took = mw_mono_ms() - t0;
	pthread_join(th, NULL);
	assert_int_equal(d, 0);
	assert_int_equal(why, SINK_RETRY);
	assert_true(took >= 150 && took < 700);
	assert_non_null(strstr(e.msg, "kafka output k: 60 of 60 records not acknowledged "
			       "before the output was stopped"));

	/* Still down, no abort: the timeout bounds the wait. */
	flag = 0;
	t0 = mw_mono_ms();
	assert_int_equal(sink_kafka_ops.send(s, m, 60, &d, &why, &e), -1);
	took = mw_mono_ms() - t0;
	assert_int_equal(d, 0);
	assert_int_equal(why, SINK_RETRY);
	assert_true(took >= 850 && took < 2000);
	assert_non_null(strstr(e.msg, "60 of 60 records not acknowledged within the timeout"));

	assert_int_equal(mock_cmd("up 1"), 0);
	assert_int_equal(mock_cmd("up 2"), 0);
	assert_int_equal(mock_cmd("up 3"), 0);
	/* The output thread's loop: from the first undelivered, again. */
	for (off = 0; off < 60 && tries < 20; tries++) {
		sink_kafka_ops.send(s, &m[off], 60 - off, &d, &why, &e);
		off += d;
	}
	assert_int_equal(off, 60);
	sink_kafka_ops.close(s);
	expect_exactly_once(r, 60, ".abort", &total);
	free(m);
	free(r);
}

/* Closing with messages still queued for a dead cluster returns at once:
 * they are at or past the output's offset and are sent again later. */
static void test_close_while_down(void **state)
{
	struct rec *r = make_records("c", 20);
	struct sink_msg *m = msgs_of(r, 20);
	struct sink *s;
	size_t d = 99;
	enum sink_fail why;
	mw_err e;
	int64_t t0;

	(void)state;
	assert_int_equal(mock_cmd("down 1"), 0);
	assert_int_equal(mock_cmd("down 2"), 0);
	assert_int_equal(mock_cmd("down 3"), 0);
	s = open_sink("mimecast.{integration}.{type}.close", 300, NULL);
	assert_int_equal(sink_kafka_ops.send(s, m, 20, &d, &why, &e), -1);
	assert_int_equal(d, 0);
	assert_int_equal(why, SINK_RETRY);
	t0 = mw_mono_ms();
	sink_kafka_ops.close(s);
	assert_true(mw_mono_ms() - t0 < 1500);
	assert_int_equal(mock_cmd("up 1"), 0);
	assert_int_equal(mock_cmd("up 2"), 0);
	assert_int_equal(mock_cmd("up 3"), 0);
	free(m);
	free(r);
}

/* One batch sent across a broker outage with a short timeout: the caller
 * re-sends from the first undelivered record while the earlier messages are
 * still queued in the producer; each still goes out once. */
static void test_resend_while_in_flight(void **state)
{
	struct rec *r = make_records("f", 300);
	struct sink_msg *m = msgs_of(r, 300);
	struct sink *s;
	size_t off = 0, d;
	enum sink_fail why;
	mw_err e;
	int fails = 0, tries = 0;
	long total;

	(void)state;
	create_topics(".inflight", 6);
	s = open_sink("mimecast.{integration}.{type}.inflight", 300, NULL);
	assert_int_equal(mock_cmd("down 3"), 0);
	while (off < 300 && tries++ < 200) {
		int rc = sink_kafka_ops.send(s, &m[off], 300 - off, &d, &why, &e);

		off += d;
		if (rc < 0) {
			assert_int_equal(why, SINK_RETRY);
			if (++fails == 3)
				assert_int_equal(mock_cmd("up 3"), 0);
		}
	}
	assert_int_equal(off, 300);
	assert_true(fails >= 3);
	sink_kafka_ops.close(s);
	expect_exactly_once(r, 300, ".inflight", &total);
	free(m);
	free(r);
}

/* A topic the cluster does not have (auto-create off): SINK_FATAL with the
 * fix, after the records before it were delivered. */
static void test_unknown_topic(void **state)
{
	struct rec *r = make_records("u", 4);
	struct sink_msg m[4];
	struct sink *s;
	size_t d = 99;
	enum sink_fail why = SINK_RETRY;
	mw_err e;
	int i;

	(void)state;
	create_topics(".unknown", 1);
	assert_int_equal(mock_cmd("topicerr mimecast.nope.url.unknown 3"), 0);
	for (i = 0; i < 4; i++)
		m[i] = r[i].m;
	m[2].integration = "nope";
	m[2].type = "url";
	s = open_sink("mimecast.{integration}.{type}.unknown", 1500, NULL);
	assert_int_equal(sink_kafka_ops.send(s, m, 4, &d, &why, &e), -1);
	assert_int_equal(d, 2);
	assert_int_equal(why, SINK_FATAL);
	assert_string_equal(e.msg, "kafka output k: topic \"mimecast.nope.url.unknown\" does "
			    "not exist and the brokers do not create topics automatically: "
			    "create it (kafka-topics.sh --create --topic mimecast.nope.url.unknown) "
			    "or change topic: in the config");
	sink_kafka_ops.close(s);
	free(r);
}

/* A name from the template that Kafka refuses: SINK_FATAL before anything
 * is produced from that record on, earlier ones delivered. */
static void test_illegal_topic_from_record(void **state)
{
	struct rec *r = make_records("i", 3);
	struct sink_msg m[3];
	struct sink *s;
	size_t d = 99;
	enum sink_fail why = SINK_RETRY;
	mw_err e;

	(void)state;
	create_topics(".illegal", 1);
	m[0] = r[0].m;
	m[1] = r[1].m;
	m[2] = r[2].m;
	m[1].integration = "bad name";
	s = open_sink("mimecast.{integration}.{type}.illegal", 3000, NULL);
	assert_int_equal(sink_kafka_ops.send(s, m, 3, &d, &why, &e), -1);
	assert_int_equal(d, 1);
	assert_int_equal(why, SINK_FATAL);
	assert_string_equal(e.msg, "kafka output k: topic: \"mimecast.{integration}.{type}."
			    "illegal\" gives \"mimecast.bad name.url.illegal\" for integration "
			    "bad name type url, not a legal Kafka topic name: use only letters, "
			    "digits, '.', '_' and '-'");
	sink_kafka_ops.close(s);
	free(r);
}

/* The broker refuses writes to the topic once (ACLs): SINK_FATAL; after the
 * operator's fix the caller's next send delivers the record exactly once. */
static void test_topic_authorization(void **state)
{
	struct rec *r = make_records("z", 1);
	struct sink *s;
	size_t d = 99;
	enum sink_fail why = SINK_RETRY;
	mw_err e;
	long total;
	int rc = -1, tries;

	(void)state;
	create_topics(".authz", 1);
	s = open_sink("mimecast.{integration}.{type}.authz", 5000, NULL);
	/* Warm up the producer id and metadata first, on another record. */
	{
		struct rec *w = make_records("w", 1);
		assert_int_equal(sink_kafka_ops.send(s, &w[0].m, 1, &d, &why, &e), 0);
		free(w);
	}
	/* 29 = TOPIC_AUTHORIZATION_FAILED, on the next Produce request. */
	assert_int_equal(mock_cmd("reqerr 0 29 1"), 0);
	assert_int_equal(sink_kafka_ops.send(s, &r[0].m, 1, &d, &why, &e), -1);
	assert_int_equal(d, 0);
	assert_int_equal(why, SINK_FATAL);
	assert_string_equal(e.msg, "kafka output k: the brokers refuse writes to topic "
			    "\"mimecast.acme.url.authz\": grant this client WRITE on the topic");
	/* The topic stays refused until librdkafka refreshes its metadata;
	 * the output thread retries with a backoff, as here. */
	for (tries = 0; tries < 20; tries++) {
		rc = sink_kafka_ops.send(s, &r[0].m, 1, &d, &why, &e);
		if (rc == 0)
			break;
		assert_int_equal(why, SINK_FATAL);
		mw_sleep_ms(250);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(d, 1);
	sink_kafka_ops.close(s);
	{
		struct tally t = { 0 };
		int seen[1] = { 0 };

		t.r = r;
		t.n = 1;
		t.seen = seen;
		total = mock_consume("mimecast.acme.url.authz", tally_one, &t);
		assert_int_equal(total, 2);  /* the warm-up record and r[0] */
		assert_int_equal(seen[0], 1);
	}
	free(r);
}

/* The cluster refuses the idempotent producer id (IDEMPOTENT_WRITE not
 * granted): a fatal producer error, SINK_FATAL naming the fix, and every
 * later send says the same at once. */
static void test_producer_id_refused(void **state)
{
	struct rec *r = make_records("p", 2);
	struct sink_msg *m = msgs_of(r, 2);
	struct sink *s;
	size_t d = 99;
	enum sink_fail why = SINK_RETRY;
	mw_err e;
	int64_t t0;

	(void)state;
	create_topics(".pid", 1);
	/* 31 = CLUSTER_AUTHORIZATION_FAILED on InitProducerId (22). */
	assert_int_equal(mock_cmd("reqerr 22 31 5"), 0);
	s = open_sink("mimecast.{integration}.{type}.pid", 5000, NULL);
	assert_int_equal(sink_kafka_ops.send(s, m, 2, &d, &why, &e), -1);
	assert_int_equal(d, 0);
	assert_int_equal(why, SINK_FATAL);
	assert_non_null(strstr(e.msg, "kafka output k: the brokers refuse the idempotent "
			       "producer ("));
	assert_non_null(strstr(e.msg, "grant this client IDEMPOTENT_WRITE on the cluster, "
			       "then restart the output"));
	t0 = mw_mono_ms();
	assert_int_equal(sink_kafka_ops.send(s, m, 2, &d, &why, &e), -1);
	assert_true(mw_mono_ms() - t0 < 100);
	assert_int_equal(why, SINK_FATAL);
	sink_kafka_ops.close(s);
	free(m);
	free(r);
}

static int group_setup(void **state)
{
	(void)state;
	if (mock_start() != 0) {
		fprintf(stderr, "cannot start %s\n", mock_path);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	mock_stop();
	rm_rf(tmpdir);
	printf("kafka sink: %.0f records/s (20000 records, batches of %d, mock cluster of 3)\n",
	       stream_rate, BATCH);
	printf("kafka sink: broker 2 down for %ld ms mid-stream: %d sends failed with "
	       "SINK_RETRY while it was down, %d more in the %ld ms until the producer was "
	       "back (%d of all these after a partial prefix); whole stream %ld ms; "
	       "0 lost, 0 duplicated\n", down_ms, down_retries, up_retries, recover_ms,
	       down_partial, stream_ms);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_checks),
		cmocka_unit_test(test_stream_rate),
		cmocka_unit_test(test_stream_broker_down),
		cmocka_unit_test(test_resend_while_in_flight),
		cmocka_unit_test(test_abort_then_resend),
		cmocka_unit_test(test_close_while_down),
		cmocka_unit_test(test_unknown_topic),
		cmocka_unit_test(test_illegal_topic_from_record),
		cmocka_unit_test(test_topic_authorization),
		cmocka_unit_test(test_producer_id_refused),
	};
	static char local[] = "tests/lib/mockcluster";

	mock_path = getenv("MW_KAFKA_MOCK");
	if (!mock_path || !*mock_path)
		mock_path = local;
	if (access(mock_path, X_OK) != 0) {
		fprintf(stderr, "SKIP: no Kafka mock cluster helper at %s (set MW_KAFKA_MOCK)\n",
			mock_path);
		return 77;
	}
	snprintf(tmpdir, sizeof tmpdir, "/tmp/mw-kafka-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	if (getenv("MW_TEST_FILTER"))
		cmocka_set_test_filter(getenv("MW_TEST_FILTER"));
	mw_log_level = 0;  /* librdkafka's connection refusals are expected here */
	signal(SIGPIPE, SIG_IGN);
	alarm(110);  /* a wedged cluster must not hang the suite */
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
