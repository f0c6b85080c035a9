/* output/private.h - for src/output/ alone (and its unit tests): the transport of a network output (syslog, HTTP event collectors,
 * Kafka): how a batch of stored records reaches the receiving system.
 *
 * The output thread reads the store from the output's durable offset (by
 * rowid), hands the rows to the sink in order, and moves the offset only past
 * the rows the sink reports delivered. So a sink never holds more than one
 * batch, a dead receiver never stops collection, and after a restart
 * everything from the offset is sent again (at-least-once; receivers that
 * can, dedupe by id: Elasticsearch _id, Kafka's idempotent producer key).
 *
 * Every sink carries the same JSON object as an NDJSON line (HACKING,
 * "Outputs and delivery"). Sinks live in src/ (no curses), own their
 * sockets, libcurl handles or librdkafka handles, and are used from one
 * thread at a time. */
#ifndef MW_OUTPUT_PRIVATE_H
#define MW_OUTPUT_PRIVATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "output.h"

/* Bytes of lines per send when batch_bytes is not given (mimewatch.yaml(5)). */
#define DEFAULT_BATCH_BYTES ((size_t)4 << 20)

/* One record to deliver. */
struct sink_msg {
	const char *line;           /* the NDJSON object, without the '\n' */
	size_t len;
	const char *integration, *type, *id;
	int64_t time;               /* record time, epoch seconds */
	int64_t rowid;              /* store rowid (0 for a test record) */
	int64_t revision;           /* >= 2: a revised record (ndjson_line) */
};

/* What the config gives a sink; unused fields are NULL or 0. */
struct sink_opts {
	const char *name;           /* the output's name, for messages */
	const char *url;            /* syslog: tcp://H:P, tls://H:P, relp://H:P,
				     * relp+tls://H:P;
				     * hec: https://H:P/services/collector/event;
				     * elasticsearch: https://H:P */
	const char *ca_file;        /* extra trust anchor for TLS */
	const char *client_cert;    /* PEM client certificate, or NULL */
	const char *client_key;     /* its PEM private key */
	const char *username;       /* Elasticsearch basic auth, or NULL */
	const char *password;       /* its password */
	const char *token;          /* HEC token, Elasticsearch API key */
	const char *index;          /* Elasticsearch index template */
	const char *brokers;        /* Kafka bootstrap servers */
	const char *topic;          /* Kafka topic template */
	const char *security_protocol; /* Kafka: as in struct mw_output */
	const char *sasl_mechanism, *sasl_username, *sasl_password; /* Kafka */
	const char *hostname;       /* syslog HOSTNAME; NULL: gethostname() */
	int batch_max;              /* records per request; 0: 500 */
	size_t batch_bytes;         /* bytes per request; 0: 4 MiB */
	int timeout_ms;             /* per operation; 0: 10 s */
	atomic_int *abort_flag;     /* set from another thread: give up soon */
};

/* Why a send failed, so the caller knows whether to back off and retry. */
enum sink_fail {
	SINK_RETRY,                 /* receiver down, 429, 5xx, timeout: retry */
	SINK_FATAL                  /* refused for good: bad token, 4xx, TLS */
};

typedef struct sink sink;

struct sink_ops {
	const char *kind;           /* "syslog", "hec", "elasticsearch", "kafka" */
	/* Checks the options and prepares the sink; does not need the receiver
	 * to be up (connecting happens on the first send). */
	int (*open)(const struct sink_opts *o, sink **out, mw_err *e);
	/* Delivers m[0..n) in order. Returns 0 when all n are delivered (as far
	 * as the transport can know: RELP and Kafka acknowledged, HTTP 2xx, TCP
	 * written), -1 otherwise with *delivered = the count of the leading
	 * messages that were, *why and e set. */
	int (*send)(sink *s, const struct sink_msg *m, size_t n, size_t *delivered,
		    enum sink_fail *why, mw_err *e);
	void (*close)(sink *s);
};

extern const struct sink_ops sink_syslog_ops, sink_hec_ops, sink_es_ops, sink_kafka_ops;

/* Expands {integration} and {type} in tmpl into out (replacing its contents);
 * other text is copied, an unknown {name} is kept as written. */
void sink_template(mw_buf *out, const char *tmpl, const char *integration, const char *type);

/* Counts a failed delivery of output name (output_failures). Only the
 * thread delivering that output writes its row, so reading and writing it
 * back loses nothing; a count that cannot be written (a full disk) is
 * dropped, not retried. */
void output_count_failure(mw_store *s, const char *name);

/* The state of an output's replay for status (sink.c): "running", "done"
 * or "failed", the count, the span and the error. */
void output_replay_note(mw_store *s, const char *name, const struct store_time_span *sp,
			const char *state, int64_t done, const char *error);

/* ndjson.c: the NDJSON side of output_replay: the span's lines appended to
 * today's files with the committed sizes, the offset left where it is. */
int ndjson_replay(const struct output_set *cfg, const struct mw_output *out,
		  const struct store_time_span *sp, mw_store *s, atomic_int *abort_flag,
		  int64_t *done, mw_err *e);

/* ndjson.c: gives the open file or directory fd mode and, when group is
 * set, gid, where it lacks them (an NDJSON output's mode: and group:). */
int ndjson_share_fd(int fd, const char *path, unsigned mode, const char *group, unsigned gid,
		    mw_err *e);

/* ndjson_days.c: an NDJSON output's days before today, swept after a
 * delivery that did not fail. */
struct ndjson_days {
	const char *dir;            /* the output's directory */
	char today[16];             /* YYYY-MM-DD (UTC): this day is left alone */
	int64_t now;                /* epoch seconds */
	int64_t keep;               /* seconds; 0 keep every day */
	int compress;               /* gzip each day that is over */
	unsigned file_mode;         /* mode: (0: 0600 and no group) */
	const char *group;
	unsigned gid;
};
/* Gzips each over day's plain file (compress) and deletes the files of
 * days that ended more than keep ago; both crash safe (ndjson_days.c). */
int ndjson_days_sweep(const struct ndjson_days *d, mw_err *e);

#endif
