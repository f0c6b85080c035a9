/* output/kafka.c - the Kafka output: librdkafka's idempotent producer, key =
 * the record id, value = the NDJSON object, topic from the output's template
 * ({integration}, {type}).
 *
 * send() produces the batch and polls delivery reports until every message
 * of it has one, or timeout_ms passes, or the abort flag is set; the leading
 * acknowledged messages are the delivered prefix.
 *
 * Nothing is ever produced twice. librdkafka never gives up on a message by
 * itself (message.timeout.ms = 0): a message that has no report yet when
 * send() returns stays queued inside the producer, which retries it with the
 * same producer id and sequence number, so the broker writes it once. The
 * sink remembers the unfinished tail of its last batch; when the output
 * thread sends again from the first undelivered record (sink.h), the
 * messages still in flight are waited for instead of produced again, and
 * those acknowledged meanwhile (another partition's, past the prefix) count
 * as delivered at once. Only a message whose report says it failed is
 * produced again. Expiring messages instead would be worse: one that timed
 * out in flight may have been written, and librdkafka then bumps the epoch,
 * so a re-send would be a duplicate the broker cannot recognise.
 *
 * security_protocol, SASL (PLAIN, SCRAM-SHA-256/512) and TLS (ca_file,
 * client_cert, client_key; always verified) are librdkafka's own; a broker
 * refusing this client's TLS or SASL is fatal, with its class ("TLS
 * failure", "SASL authentication failure") and the keys that fix it.
 *
 * librdkafka's log lines go through mw_log (stderr), never stdout. */
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "private.h"

#define KAFKA_TIMEOUT_MS 10000
#define KAFKA_POLL_MS 20
#define KAFKA_TOPIC_MAX 249

enum kstate { K_INFLIGHT, K_OK, K_FAILED };

/* A produced message: the opaque of its librdkafka message, so it must live
 * until its delivery report has been served (or the producer is gone). */
struct kmsg {
	char *id;
	int64_t rowid;
	enum kstate state;
	rd_kafka_resp_err_t err;
};

struct ktopic {
	char *name;
	rd_kafka_topic_t *rkt;
};

struct sink {
	char *name, *topic_tmpl;
	int timeout_ms;
	atomic_int *abort_flag;
	rd_kafka_t *rk;
	struct ktopic *topics;
	size_t ntopics;
	/* The undelivered tail of the last batch, in the caller's order. */
	struct kmsg **pend;
	size_t npend;
	/* Messages no batch wants but librdkafka still holds. */
	struct kmsg **orphans;
	size_t norphans, caporphans;
	char last_error[512];   /* latest broker-level error, for messages */
	rd_kafka_resp_err_t hard_error; /* authentication/TLS: stop waiting */
	char hard_reason[512];  /* its words: "all brokers down" follows it */
	mw_buf tbuf;
};

static void kmsg_free(struct kmsg *k)
{
	if (k) {
		free(k->id);
		free(k);
	}
}

/* librdkafka's syslog levels: errors and warnings at mimewatch's default
 * level (info), notices and debug only when asked for. */
static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	const struct sink *s = rd_kafka_opaque(rk);
	int mwlevel = level <= 2 ? 0 : level <= 4 ? 1 : 2;

	mw_log(mwlevel, "kafka output %s: librdkafka %s: %s", s ? s->name : "?", fac, buf);
}

/* Served by rd_kafka_poll() in the sending thread. */
static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct sink *s = opaque;

	(void)rk;
	snprintf(s->last_error, sizeof s->last_error, "%s", reason);
	if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL ||
	    err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED) {
		s->hard_error = (rd_kafka_resp_err_t)err;
		snprintf(s->hard_reason, sizeof s->hard_reason, "%s", reason);
	}
	/* The log callback has already told the story; this is for debugging. */
	mw_log(2, "kafka output %s: %s", s->name, reason);
}

static void kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kmsg *k = m->_private;

	(void)rk;
	(void)opaque;
	if (!k)
		return;
	/* Orphans too are only marked: kafka_prune_orphans frees them. */
	k->state = m->err ? K_FAILED : K_OK;
	k->err = m->err;
}

static void kafka_orphan(struct sink *s, struct kmsg *k)
{
	if (k->state != K_INFLIGHT) {
		kmsg_free(k);
		return;
	}
	if (s->norphans == s->caporphans) {
		s->caporphans = s->caporphans ? 2 * s->caporphans : 16;
		s->orphans = mw_xrealloc(s->orphans, s->caporphans * sizeof *s->orphans);
	}
	s->orphans[s->norphans++] = k;
}

static void kafka_prune_orphans(struct sink *s)
{
	size_t i, j = 0;

	for (i = 0; i < s->norphans; i++) {
		if (s->orphans[i]->state == K_INFLIGHT)
			s->orphans[j++] = s->orphans[i];
		else
			kmsg_free(s->orphans[i]);
	}
	s->norphans = j;
}

/* Kafka's rule for topic names: 1..249 of [A-Za-z0-9._-], not "." or "..". */
static int kafka_topic_legal(const char *t)
{
	size_t n = strlen(t), i;

	if (n == 0 || n > KAFKA_TOPIC_MAX || !strcmp(t, ".") || !strcmp(t, ".."))
		return 0;
	for (i = 0; i < n; i++) {
		char c = t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int kafka_set(rd_kafka_conf_t *conf, const char *name, const char *key,
		     const char *val, mw_err *e)
{
	char err[512];

	if (rd_kafka_conf_set(conf, key, val, err, sizeof err) != RD_KAFKA_CONF_OK) {
		/* The password is the one value never to be shown. */
		mw_err_set(e, "kafka output %s: librdkafka refuses %s=%s: %s", name, key,
			   strcmp(key, "sasl.password") ? val : "[secret]", err);
		return -1;
	}
	return 0;
}

/* security.protocol and what it uses (librdkafka CONFIGURATION.md's
 * names). The loader refused keys the protocol does not use, so what is
 * set here is what is given. Verification is librdkafka's default (the
 * host name since 1.9); it is set anyway so that no other version's
 * default can turn it off: the brokers' chain against ca_file (else the
 * system's CAs), their names against brokers (HACKING, "Style": TLS always
 * verified). */
static int kafka_security(rd_kafka_conf_t *conf, const struct sink_opts *o, const char *name,
			  mw_err *e)
{
	const char *proto = o->security_protocol ? o->security_protocol : "plaintext";
	int tls = !strcmp(proto, "ssl") || !strcmp(proto, "sasl_ssl");

	if (kafka_set(conf, name, "security.protocol", proto, e))
		return -1;
	if (tls && (kafka_set(conf, name, "enable.ssl.certificate.verification", "true", e) ||
		    kafka_set(conf, name, "ssl.endpoint.identification.algorithm", "https", e) ||
		    (o->ca_file && kafka_set(conf, name, "ssl.ca.location", o->ca_file, e)) ||
		    (o->client_cert &&
		     kafka_set(conf, name, "ssl.certificate.location", o->client_cert, e)) ||
		    (o->client_key && kafka_set(conf, name, "ssl.key.location", o->client_key, e))))
		return -1;
	if (strncmp(proto, "sasl_", 5) != 0)
		return 0;
	if (!o->sasl_mechanism || !o->sasl_username || !o->sasl_password) {
		mw_err_set(e, "kafka output %s: security_protocol %s needs sasl_mechanism, "
			   "sasl_username and sasl_password", name, proto);
		return -1;
	}
	return kafka_set(conf, name, "sasl.mechanisms", o->sasl_mechanism, e) ||
	       kafka_set(conf, name, "sasl.username", o->sasl_username, e) ||
	       kafka_set(conf, name, "sasl.password", o->sasl_password, e) ? -1 : 0;
}

static void kafka_close(sink *s)
{
	size_t i;

	if (!s)
		return;
	if (s->rk) {
		/* Undelivered messages stay at or past the output's offset, so
		 * they are sent again after the next open: drop them now rather
		 * than wait for a broker that may be down. */
		rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(s->rk, 0);
		for (i = 0; i < s->ntopics; i++)
			rd_kafka_topic_destroy(s->topics[i].rkt);
		rd_kafka_destroy(s->rk);
	} else {
		for (i = 0; i < s->ntopics; i++)
			rd_kafka_topic_destroy(s->topics[i].rkt);
	}
	/* The producer is gone: no report can reach these any more. */
	for (i = 0; i < s->ntopics; i++)
		free(s->topics[i].name);
	for (i = 0; i < s->npend; i++)
		kmsg_free(s->pend[i]);
	for (i = 0; i < s->norphans; i++)
		kmsg_free(s->orphans[i]);
	free(s->topics);
	free(s->pend);
	free(s->orphans);
	free(s->name);
	free(s->topic_tmpl);
	mw_buf_free(&s->tbuf);
	free(s);
}

static int kafka_open(const struct sink_opts *o, sink **out, mw_err *e)
{
	const char *name = o->name ? o->name : "kafka";
	char err[512], tmo[32];
	rd_kafka_conf_t *conf;
	struct sink *s;
	mw_buf t;
	const char *p;

	*out = NULL;
	if (!o->brokers || !*o->brokers) {
		mw_err_set(e, "kafka output %s: brokers: is empty; set it to the bootstrap "
			   "servers, host:port[,host:port...]", name);
		return -1;
	}
	for (p = o->brokers; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			mw_err_set(e, "kafka output %s: brokers: \"%s\" contains a space; list "
				   "host:port entries separated by commas only", name, o->brokers);
			return -1;
		}
	}
	if (!o->topic || !*o->topic) {
		mw_err_set(e, "kafka output %s: topic: is empty; set a topic or a template "
			   "such as mimecast.{integration}.{type}", name);
		return -1;
	}
	/* Integration names are [A-Za-z0-9._-] and types are letters, so a
	 * template that yields a legal name for a sample yields one for all. */
	mw_buf_init(&t);
	sink_template(&t, o->topic, "integration", "impersonation");
	if (!kafka_topic_legal(t.data)) {
		mw_err_set(e, "kafka output %s: topic: \"%s\" does not make a legal Kafka topic "
			   "name (gives \"%s\"): use only letters, digits, '.', '_', '-' and the "
			   "placeholders {integration} and {type}, at most %d characters",
			   name, o->topic, t.data, KAFKA_TOPIC_MAX);
		mw_buf_free(&t);
		return -1;
	}
	mw_buf_free(&t);

	s = mw_xcalloc(1, sizeof *s);
	s->name = mw_xstrdup(name);
	s->topic_tmpl = mw_xstrdup(o->topic);
	s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : KAFKA_TIMEOUT_MS;
	s->abort_flag = o->abort_flag;
	mw_buf_init(&s->tbuf);

	conf = rd_kafka_conf_new();
	/* A topic missing from the cluster fails its messages after this long
	 * (librdkafka waits for a freshly created topic to show up first); half
	 * the send timeout, so the first send can already say why. */
	snprintf(tmo, sizeof tmo, "%d", s->timeout_ms / 2 < 30000 ? s->timeout_ms / 2 : 30000);
	/* send() waits for every acknowledgement, one request per partition:
	 * latency counts, so no Nagle; and a broker that comes back is tried
	 * again within 2 s rather than librdkafka's 10 s. */
	if (kafka_set(conf, name, "bootstrap.servers", o->brokers, e) ||
	    kafka_set(conf, name, "client.id", "mimewatch", e) ||
	    kafka_set(conf, name, "enable.idempotence", "true", e) ||
	    kafka_set(conf, name, "acks", "all", e) ||
	    kafka_set(conf, name, "message.timeout.ms", "0", e) ||
	    kafka_set(conf, name, "socket.nagle.disable", "true", e) ||
	    kafka_set(conf, name, "reconnect.backoff.max.ms", "2000", e) ||
	    kafka_set(conf, name, "topic.metadata.propagation.max.ms", tmo, e) ||
	    kafka_security(conf, o, name, e)) {
		rd_kafka_conf_destroy(conf);
		kafka_close(s);
		return -1;
	}
	rd_kafka_conf_set_opaque(conf, s);
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
	rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
	rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr_cb);
	s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (!s->rk) {
		rd_kafka_conf_destroy(conf);
		mw_err_set(e, "kafka output %s: cannot create the producer: %s", name, err);
		kafka_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

static rd_kafka_topic_t *kafka_topic(struct sink *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->ntopics; i++)
		if (!strcmp(s->topics[i].name, name))
			return s->topics[i].rkt;
	s->topics = mw_xrealloc(s->topics, (s->ntopics + 1) * sizeof *s->topics);
	s->topics[s->ntopics].name = mw_xstrdup(name);
	s->topics[s->ntopics].rkt = rd_kafka_topic_new(s->rk, name, NULL);
	return s->topics[s->ntopics++].rkt;
}

/* Errors that no retry cures: a person has to change the cluster or the
 * config. Everything else (leaders moving, timeouts, brokers down) passes. */
static int kafka_err_fatal(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR__AUTHENTICATION:
	case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
	case RD_KAFKA_RESP_ERR__SSL:
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
	case RD_KAFKA_RESP_ERR_INVALID_RECORD:
	case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
	case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
	case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
	case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
	case RD_KAFKA_RESP_ERR__INVALID_ARG:
	case RD_KAFKA_RESP_ERR__FATAL:
		return 1;
	default:
		return 0;
	}
}

/* 1 and e set when err is the brokers refusing this client's TLS or SASL
 * (why: librdkafka's words): the message names the class first, as the
 * HTTP outputs' "TLS failure", then the keys that fix it. */
static int kafka_explain_refusal(struct sink *s, mw_err *e, rd_kafka_resp_err_t err,
				 const char *why)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR__SSL:
		mw_err_set(e, "kafka output %s: TLS failure: %.300s; check ca_file (the CA that "
			   "signed the brokers' certificates), that each certificate names its "
			   "host as brokers writes it, and client_cert and client_key if the "
			   "brokers ask for a client certificate", s->name, why);
		return 1;
	case RD_KAFKA_RESP_ERR__AUTHENTICATION:
	case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
		mw_err_set(e, "kafka output %s: SASL authentication failure: %.300s; check "
			   "sasl_username, sasl_password and sasl_mechanism (one of the brokers' "
			   "sasl.enabled.mechanisms), and that brokers names the brokers' "
			   "SASL listener", s->name, why);
		return 1;
	default:
		return 0;
	}
}

/* A message for a failure of record m (topic t) with error err. */
static void kafka_explain(struct sink *s, mw_err *e, const struct sink_msg *m,
			  const char *t, rd_kafka_resp_err_t err)
{
	if (kafka_explain_refusal(s, e, err, s->hard_reason[0] ? s->hard_reason :
				  rd_kafka_err2str(err)))
		return;
	switch (err) {
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		mw_err_set(e, "kafka output %s: topic \"%s\" does not exist and the brokers do "
			   "not create topics automatically: create it (kafka-topics.sh --create "
			   "--topic %s) or change topic: in the config", s->name, t, t);
		break;
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
		mw_err_set(e, "kafka output %s: the brokers refuse writes to topic \"%s\": grant "
			   "this client WRITE on the topic", s->name, t);
		break;
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
		mw_err_set(e, "kafka output %s: the brokers refuse the idempotent producer: grant "
			   "this client IDEMPOTENT_WRITE on the cluster", s->name);
		break;
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
		mw_err_set(e, "kafka output %s: record %s (%zu bytes) is larger than topic \"%s\" "
			   "accepts: raise max.message.bytes on the topic", s->name, m->id,
			   m->len, t);
		break;
	default:
		mw_err_set(e, "kafka output %s: record %s to topic \"%s\": %s%s", s->name, m->id,
			   t, rd_kafka_err2str(err),
			   kafka_err_fatal(err) ? "" : " (will retry)");
		break;
	}
}

/* 1 and e set when the producer has raised a fatal error: it cannot produce
 * any more (an idempotence guarantee broken, or the producer id refused). */
static int kafka_fatal(struct sink *s, mw_err *e)
{
	char why[512];
	rd_kafka_resp_err_t err = rd_kafka_fatal_error(s->rk, why, sizeof why);

	if (!err)
		return 0;
	if (err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED)
		mw_err_set(e, "kafka output %s: the brokers refuse the idempotent producer (%s): "
			   "grant this client IDEMPOTENT_WRITE on the cluster, then restart "
			   "the output", s->name, why);
	else
		mw_err_set(e, "kafka output %s: the idempotent producer failed for good (%s): "
			   "restart the output; records from its offset are sent again",
			   s->name, why);
	return 1;
}

static int kafka_match(const struct kmsg *k, const struct sink_msg *m)
{
	return k->rowid == m->rowid && !strcmp(k->id, m->id ? m->id : "");
}

/* Takes over from the last batch the messages that m sends again: *cur
 * gets them (NULL elsewhere). Both lists are in the caller's order, so one
 * forward pass matches them; the rest of the last batch is let go. */
static void kafka_reconcile(struct sink *s, const struct sink_msg *m, size_t n,
			    struct kmsg **cur)
{
	size_t i, j = 0, k;

	for (i = 0; i < n; i++) {
		cur[i] = NULL;
		for (k = j; k < s->npend; k++)
			if (kafka_match(s->pend[k], &m[i]))
				break;
		if (k == s->npend)
			continue;
		cur[i] = s->pend[k];
		s->pend[k] = NULL;
		j = k + 1;
	}
	for (k = 0; k < s->npend; k++)
		if (s->pend[k])
			kafka_orphan(s, s->pend[k]);
	s->npend = 0;
	kafka_prune_orphans(s);
}

static int kafka_send(sink *s, const struct sink_msg *m, size_t n, size_t *delivered,
		      enum sink_fail *why, mw_err *e)
{
	struct kmsg **cur, *first;
	size_t i, produced = 0, d;
	int64_t deadline = mw_mono_ms() + s->timeout_ms;
	rd_kafka_resp_err_t stop_err = 0;
	const char *stop_topic = NULL;
	char stop_name[KAFKA_TOPIC_MAX + 1] = "";
	mw_err fatal_e;

	*delivered = 0;
	if (kafka_fatal(s, e)) {
		*why = SINK_FATAL;
		return -1;
	}
	if (n == 0)
		return 0;
	cur = mw_xcalloc(n, sizeof *cur);
	kafka_reconcile(s, m, n, cur);
	s->hard_error = 0;
	s->hard_reason[0] = '\0';

	for (i = 0; i < n; i++, produced++) {
		rd_kafka_topic_t *rkt;
		rd_kafka_resp_err_t err;

		if (cur[i] && cur[i]->state != K_FAILED)
			continue;  /* in flight or acknowledged since the last call */
		sink_template(&s->tbuf, s->topic_tmpl, m[i].integration ? m[i].integration : "",
			      m[i].type ? m[i].type : "");
		if (!kafka_topic_legal(s->tbuf.data)) {
			stop_err = RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION;
			break;
		}
		rkt = kafka_topic(s, s->tbuf.data);
		if (!cur[i]) {
			cur[i] = mw_xcalloc(1, sizeof *cur[i]);
			cur[i]->id = mw_xstrdup(m[i].id ? m[i].id : "");
			cur[i]->rowid = m[i].rowid;
		}
		cur[i]->state = K_INFLIGHT;
		cur[i]->err = 0;
		for (;;) {
			err = rd_kafka_producev(s->rk, RD_KAFKA_V_RKT(rkt),
						RD_KAFKA_V_KEY(cur[i]->id, strlen(cur[i]->id)),
						RD_KAFKA_V_VALUE((void *)m[i].line, m[i].len),
						RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
						RD_KAFKA_V_OPAQUE(cur[i]), RD_KAFKA_V_END);
			if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
			    mw_mono_ms() >= deadline || (s->abort_flag && *s->abort_flag))
				break;
			rd_kafka_poll(s->rk, KAFKA_POLL_MS);
		}
		if (err) {
			/* Never entered the producer: no report will come. */
			kmsg_free(cur[i]);
			cur[i] = NULL;
			stop_err = err;
			break;
		}
	}
	if (stop_err) {
		stop_topic = stop_name;
		mw_strlcpy(stop_name, s->tbuf.data, sizeof stop_name);
	}

	/* Wait for the reports of m[0..produced) until the prefix is decided:
	 * all acknowledged, or the first one not acknowledged failed. What is
	 * still in flight then stays in the producer for the next call. */
	for (;;) {
		for (d = 0; d < produced && cur[d]->state == K_OK; d++)
			;
		if (d == produced || cur[d]->state == K_FAILED)
			break;
		if (s->hard_error || rd_kafka_fatal_error(s->rk, NULL, 0))
			break;
		if (s->abort_flag && *s->abort_flag)
			break;
		int64_t left = deadline - mw_mono_ms();
		if (left <= 0)
			break;
		rd_kafka_poll(s->rk, (int)(left < KAFKA_POLL_MS ? left : KAFKA_POLL_MS));
	}
	/* Serve reports that are already there, so a batch that ends on time
	 * hands over as little as possible to the next call. */
	rd_kafka_poll(s->rk, 0);

	for (d = 0; d < produced && cur[d]->state == K_OK; d++)
		;
	*delivered = d;
	first = d < produced ? cur[d] : NULL;
	for (i = 0; i < d; i++)
		kmsg_free(cur[i]);
	/* Keep the rest for the next call: in flight, failed, and (after a
	 * stop) those past it that an earlier call had already produced. */
	s->pend = mw_xrealloc(s->pend, (n - d + 1) * sizeof *s->pend);
	s->npend = 0;
	for (i = d; i < n; i++)
		if (cur[i])
			s->pend[s->npend++] = cur[i];
	free(cur);
	if (d == n)
		return 0;

	if (kafka_fatal(s, &fatal_e)) {
		*e = fatal_e;
		*why = SINK_FATAL;
	} else if (first && first->state == K_FAILED) {
		rd_kafka_resp_err_t err = first->err;
		sink_template(&s->tbuf, s->topic_tmpl, m[d].integration ? m[d].integration : "",
			      m[d].type ? m[d].type : "");
		kafka_explain(s, e, &m[d], s->tbuf.data, err);
		*why = kafka_err_fatal(err) ? SINK_FATAL : SINK_RETRY;
	} else if (first && s->hard_error) {
		kafka_explain_refusal(s, e, s->hard_error, s->hard_reason);
		*why = SINK_FATAL;
	} else if (first) {
		mw_err_set(e, "kafka output %s: %zu of %zu records not acknowledged %s%s%s",
			   s->name, n - d, n,
			   s->abort_flag && *s->abort_flag ? "before the output was stopped" :
			   "within the timeout",
			   s->last_error[0] ? "; last broker error: " : "", s->last_error);
		*why = SINK_RETRY;
	} else if (stop_err == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION) {
		mw_err_set(e, "kafka output %s: topic: \"%s\" gives \"%s\" for integration %s "
			   "type %s, not a legal Kafka topic name: use only letters, digits, "
			   "'.', '_' and '-'", s->name, s->topic_tmpl, stop_topic,
			   m[d].integration ? m[d].integration : "", m[d].type ? m[d].type : "");
		*why = SINK_FATAL;
	} else if (stop_err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		mw_err_set(e, "kafka output %s: the producer's queue stayed full for %d ms; "
			   "last broker error: %s", s->name, s->timeout_ms,
			   s->last_error[0] ? s->last_error : "none");
		*why = SINK_RETRY;
	} else {
		kafka_explain(s, e, &m[d], stop_topic, stop_err);
		*why = kafka_err_fatal(stop_err) ? SINK_FATAL : SINK_RETRY;
	}
	return -1;
}

const struct sink_ops sink_kafka_ops = {
	.kind = "kafka",
	.open = kafka_open,
	.send = kafka_send,
	.close = kafka_close,
};
