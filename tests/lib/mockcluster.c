/* mockcluster.c - a Kafka cluster for tests: librdkafka's mock cluster
 * (rdkafka_mock.h, 3 brokers in this process) driven by line commands.
 *
 * Tests of the Kafka output need real Kafka protocol behaviour (idempotent
 * producer ids, sequence numbers, leaders that go away) without a JVM. This
 * program owns the cluster, prints its bootstrap address as its first line,
 * then answers one command per line on stdin:
 *
 *   down N | up N            broker N (1..3) stops / resumes answering
 *   create TOPIC PARTITIONS  creates TOPIC with replication factor 3
 *   topicerr TOPIC ERR       metadata for TOPIC reports error code ERR
 *                            (3 = unknown topic: a cluster without auto-create)
 *   reqerr APIKEY ERR CNT    the next CNT requests of APIKEY (0 Produce,
 *                            22 InitProducerId) fail with error code ERR
 *   consume TOPIC            reads TOPIC back from the start of every
 *                            partition: one line "PARTITION OFFSET KEY VLEN"
 *                            per message, then "end COUNT"
 *   quit
 *
 * Every other command answers "ok" or "error MESSAGE", so the caller can wait
 * for each. End of input also quits, and the parent's death kills us: a
 * crashed test leaves no cluster behind. librdkafka's logs go to stderr.
 *
 * librdkafka 2.0.2's mock brokers listen in plaintext only and have no
 * SaslHandshake or SaslAuthenticate (rd_kafka_mock_set_apiversion cannot
 * add an API the mock does not handle): a SASL or SSL client is refused
 * before any credential is sent. test_out_kafka_auth relies on exactly
 * that refusal; HACKING, "Outputs and delivery", says what it leaves. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define BROKERS 3
#define CONSUME_TIMEOUT_MS 30000

static int mock_consume(const char *bootstraps, const char *topic)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_partition_list_t *parts;
	int npart, eofs = 0, i;
	long count = 0;
	rd_kafka_resp_err_t rerr;
	struct timespec ts;
	long long deadline, now;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof err) ||
	    rd_kafka_conf_set(conf, "group.id", "mockcluster-consume", err, sizeof err) ||
	    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err)) {
		printf("error %s\n", err);
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
	if (!rk) {
		printf("error %s\n", err);
		return -1;
	}
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	rerr = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
	if (rerr || md->topic_cnt != 1 || md->topics[0].err) {
		printf("error metadata for %s: %s\n", topic,
		       rd_kafka_err2str(rerr ? rerr : md->topic_cnt != 1 ?
					RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC :
					md->topics[0].err));
		if (md)
			rd_kafka_metadata_destroy(md);
		rd_kafka_topic_destroy(rkt);
		rd_kafka_destroy(rk);
		return -1;
	}
	npart = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);

	parts = rd_kafka_topic_partition_list_new(npart);
	for (i = 0; i < npart; i++)
		rd_kafka_topic_partition_list_add(parts, topic, i)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + CONSUME_TIMEOUT_MS;
	/* One EOF per partition: an empty partition reports EOF at offset 0. */
	while (eofs < npart) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
		if (!m) {
			if (now > deadline)
				break;
			continue;
		}
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eofs++;
		} else if (m->err) {
			fprintf(stderr, "mockcluster: consume %s: %s\n", topic,
				rd_kafka_message_errstr(m));
		} else {
			printf("%d %lld %.*s %zu\n", (int)m->partition, (long long)m->offset,
			       (int)m->key_len, m->key ? (const char *)m->key : "-", m->len);
			count++;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	if (eofs < npart) {
		printf("error timeout: %d of %d partitions read to the end\n", eofs, npart);
		return -1;
	}
	printf("end %ld\n", count);
	return 0;
}

int main(void)
{
	char err[512], line[1024], a[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	const char *boot;
	int n, m, c;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The mock cluster needs an rd_kafka_t for its bookkeeping only; that
	 * handle has no bootstrap servers, which is no news worth a notice. */
	rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err);
	rd_kafka_conf_set(conf, "socket.nagle.disable", "true", err, sizeof err);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (!rk) {
		fprintf(stderr, "mockcluster: %s\n", err);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, BROKERS);
	if (!mc) {
		fprintf(stderr, "mockcluster: cannot create the mock cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	boot = rd_kafka_mock_cluster_bootstraps(mc);
	printf("%s\n", boot);

	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (sscanf(line, "down %d", &n) == 1) {
			rd_kafka_mock_broker_set_down(mc, n);
			printf("ok\n");
		} else if (sscanf(line, "up %d", &n) == 1) {
			rd_kafka_mock_broker_set_up(mc, n);
			printf("ok\n");
		} else if (sscanf(line, "create %511s %d", a, &n) == 2) {
			rd_kafka_resp_err_t r = rd_kafka_mock_topic_create(mc, a, n, BROKERS);
			if (r)
				printf("error %s\n", rd_kafka_err2str(r));
			else
				printf("ok\n");
		} else if (sscanf(line, "topicerr %511s %d", a, &n) == 2) {
			rd_kafka_mock_topic_set_error(mc, a, (rd_kafka_resp_err_t)n);
			printf("ok\n");
		} else if (sscanf(line, "reqerr %d %d %d", &n, &m, &c) == 3 && c > 0) {
			rd_kafka_resp_err_t *errs = calloc((size_t)c, sizeof *errs);
			int i;

			for (i = 0; i < c; i++)
				errs[i] = (rd_kafka_resp_err_t)m;
			rd_kafka_mock_push_request_errors_array(mc, (int16_t)n, (size_t)c, errs);
			free(errs);
			printf("ok\n");
		} else if (sscanf(line, "consume %511s", a) == 1) {
			mock_consume(boot, a);
		} else if (strcmp(line, "quit") == 0) {
			break;
		} else {
			printf("error unknown command: %s\n", line);
		}
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
