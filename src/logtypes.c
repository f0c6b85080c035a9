/* logtypes.c - the one table of log types (see logtypes.h). */
#include "logtypes.h"

#include <string.h>

static const struct mw_column url_columns[] = {
	{ "Time", "date", 20 },
	{ "User", "userEmailAddress", 26 },
	{ "URL", "url", 0 },
	{ "Action", "action", 8 },
	{ "Scan result", "scanResult", 11 },
	{ "Category", "category", 18 },
};

static const struct mw_column impersonation_columns[] = {
	{ "Time", "eventTime", 20 },
	{ "Sender", "senderAddress", 24 },
	{ "Recipient", "recipientAddress", 24 },
	{ "Subject", "subject", 0 },
	{ "Hits", "hits", 4 },
	{ "Action", "action", 8 },
	{ "Malicious", "taggedMalicious", 9 },
};

static const struct mw_column attachment_columns[] = {
	{ "Time", "date", 20 },
	{ "Sender", "senderAddress", 24 },
	{ "Recipient", "recipientAddress", 24 },
	{ "File name", "fileName", 0 },
	{ "File type", "fileType", 16 },
	{ "Result", "result", 9 },
	{ "Action", "actionTriggered", 12 },
};

/* audit [MC-AUDIT] [ELA-AUD-TEST]: id, auditType, user, eventTime,
 * eventInfo (free text, may hold newlines), category. */
static const struct mw_column audit_columns[] = {
	{ "Time", "eventTime", 20 },
	{ "User", "user", 26 },
	{ "Category", "category", 20 },
	{ "Type", "auditType", 24 },
	{ "Event", "eventInfo", 0 },
};

/* DLP [ELA-DLP-FIELDS]: senderAddress, recipientAddress, subject,
 * eventTime, route, policy, action, messageId. */
static const struct mw_column dlp_columns[] = {
	{ "Time", "eventTime", 20 },
	{ "Sender", "senderAddress", 24 },
	{ "Recipient", "recipientAddress", 24 },
	{ "Policy", "policy", 0 },
	{ "Action", "action", 12 },
};

/* SIEM 2.0 [ELA-SIEM-V2-TEST]: _offset, _partition, accountId, aggregateId,
 * processingId, type, subtype, timestamp, then the type's own fields. */
static const struct mw_column siem_columns[] = {
	{ "Time", "timestamp", 20 },
	{ "Type", "type", 12 },
	{ "Subtype", "subtype", 12 },
	{ "Sender", "senderEnvelope", 24 },
	{ "Recipient", "recipients", 24 },
	{ "Subject", "subject", 0 },
};

/* The 2.0 type names [ELA-SIEM-MANIFEST] [GRAV-EVENTS] [AZ-V2-SEGCONSTS];
 * the protect events record TTP's verdicts again (HACKING, "The SIEM
 * protect events beside TTP"). */
static const struct mw_subtype siem_subtypes[] = {
	{ "receipt", "receipt", NULL },
	{ "process", "process", NULL },
	{ "delivery", "delivery", NULL },
	{ "av", "av", NULL },
	{ "spam", "spam", NULL },
	{ "journal", "journal", NULL },
	{ "internal_email_protect", "internal email protect", NULL },
	{ "impersonation_protect", "impersonation protect", "impersonation" },
	{ "url_protect", "url protect", "url" },
	{ "attachment_protect", "attachment protect", "attachment" },
};

static const char *const url_threats[] = { "malicious", NULL };
static const char *const impersonation_threats[] = { "true", NULL };
static const char *const attachment_threats[] = { "malicious", "unsafe", NULL };
/* A DLP row is a policy's hit; its verdict is what the policy did: a held
 * or blocked message is the threat, a notification row is not (actions
 * seen in rows: hold, notification, block [ELA-DLP-TEST]; the full list
 * is UNCONFIRMED, HACKING "Beyond TTP: audit, DLP and SIEM"). */
static const char *const dlp_threats[] = { "hold", "block", NULL };

#define DAYS(n) ((int64_t)(n) * 86400)
/* TTP logs need Enhanced Logging and their package; a tenant's mail gives
 * some every day. Audit events and DLP hits may well not come for a day
 * (no administrator logged on; no policy matched): no silence warning. */
#define TTP_SILENCE "no records for 24 hours: Enhanced Logging may be off (Account " \
	"Settings), or the package is not licensed"

#define COLS(a) a, sizeof(a) / sizeof((a)[0])

/* API 2.0 products: the TTP logs' and SIEM events' is "Threats, Security
 * Events and Data for CG" [SYNQLY]; audit events are product "Audit Events" [XSOAR-EC2]
 * [DATABEE], DLP logs "Security Events" [DNIF] [AZ-V2-DLP]. */
#define TTP_PRODUCT "Threats, Security Events and Data for CG"

const struct mw_logtype mw_logtypes[] = {
	{
		.name = "url",
		.label = "URL Protect",
		.path = "/api/ttp/url/get-logs",
		.shape = MW_SHAPE_PAGED,
		.array_key = "clickLogs",
		.from_key = "from",
		.to_key = "to",
		.newest_first = 0,
		.retention = DAYS(30),
		.clamped = 0,           /* "about 30 days": UNCONFIRMED (HACKING 4.8) */
		.kept_as = "TTP logs",
		.by_default = 1,
		.silence_warning = TTP_SILENCE,
		.time_field = "date",
		.id_field = NULL,
		.filters = "\"route\":\"all\",\"scanResult\":\"all\"",
		.permission = "Monitoring | URL Protection | Read",
		.product = TTP_PRODUCT,
		.package = "URL Protection",
		.threat_field = "scanResult",
		.threat_values = url_threats,
		.columns = COLS(url_columns),
	},
	{
		.name = "impersonation",
		.label = "Impersonation Protect",
		.path = "/api/ttp/impersonation/get-logs",
		.shape = MW_SHAPE_PAGED,
		.array_key = "impersonationLogs",
		.from_key = "from",
		.to_key = "to",
		.newest_first = 0,
		.retention = DAYS(30),
		.clamped = 0,           /* "about 30 days": UNCONFIRMED (HACKING 4.8) */
		.kept_as = "TTP logs",
		.by_default = 1,
		.silence_warning = TTP_SILENCE,
		.time_field = "eventTime",
		.id_field = "id",
		.filters = "",
		.permission = "Monitoring | Impersonation Protection | Read",
		.product = TTP_PRODUCT,
		.package = "Impersonation Protection",
		.threat_field = "taggedMalicious",
		.threat_values = impersonation_threats,
		.columns = COLS(impersonation_columns),
	},
	{
		.name = "attachment",
		.label = "Attachment Protect",
		.path = "/api/ttp/attachment/get-logs",
		.shape = MW_SHAPE_PAGED,
		.array_key = "attachmentLogs",
		.from_key = "from",
		.to_key = "to",
		.newest_first = 0,
		.retention = DAYS(30),
		.clamped = 0,           /* "about 30 days": UNCONFIRMED (HACKING 4.8) */
		.kept_as = "TTP logs",
		.by_default = 1,
		.silence_warning = TTP_SILENCE,
		.time_field = "date",
		.id_field = NULL,
		.filters = "\"route\":\"all\",\"result\":\"all\"",
		.permission = "Monitoring | Attachment Protection | Read",
		.product = TTP_PRODUCT,
		.package = "Attachment Protection",
		.threat_field = "result",
		.threat_values = attachment_threats,
		.columns = COLS(attachment_columns),
	},
	{
		/* [MC-AUDIT]: a flat data[], startDateTime/endDateTime, no
		 * oldestFirst and pages newest first [ELA-AUD-HJ] [ELA-MOCK];
		 * "historical lookup is restricted to last 60 days". No package:
		 * every account keeps an audit log. No verdict. */
		.name = "audit",
		.label = "Audit",
		.path = "/api/audit/get-audit-events",
		.shape = MW_SHAPE_PAGED,
		.array_key = NULL,
		.from_key = "startDateTime",
		.to_key = "endDateTime",
		.newest_first = 1,
		.window_max = DAYS(1),
		.retention = DAYS(60),
		.clamped = 1,           /* "restricted to last 60 days" [MC-AUDIT] */
		.kept_as = "audit events",
		.by_default = 0,
		.time_field = "eventTime",
		.id_field = "id",
		.filters = "",
		.permission = "Account | Logs | Read",
		.product = "Audit Events",
		.package = NULL,
		.threat_field = NULL,
		.threat_values = NULL,
		.columns = COLS(audit_columns),
	},
	{
		/* [MC-DLP]: data[0].dlpLogs, from/to/oldestFirst as TTP; no id.
		 * Retention undocumented: Azure starts 60 days back
		 * [AZ-V2-SEGCONSTS]. The package ("Content Control and Data Leak
		 * Prevention", [XSOAR-V2-TEST]) is not checked: whether the
		 * endpoint needs it is UNCONFIRMED, so only its own answer
		 * (403: the permission remedy) decides. */
		.name = "dlp",
		.label = "DLP",
		.path = "/api/dlp/get-logs",
		.shape = MW_SHAPE_PAGED,
		.array_key = "dlpLogs",
		.from_key = "from",
		.to_key = "to",
		.newest_first = 0,
		.retention = DAYS(60),
		.clamped = 0,           /* undocumented: asked for in full */
		.kept_as = "DLP logs",
		.by_default = 0,
		.time_field = "eventTime",
		.id_field = NULL,
		.filters = "",
		.permission = "Monitoring | Data Leak Prevention | Read",
		.product = "Security Events",
		.package = NULL,
		.threat_field = "action",
		.threat_values = dlp_threats,
		.columns = COLS(dlp_columns),
	},
	{
		/* SIEM on API 2.0: batch files per sub-type and day (HACKING,
		 * "Beyond TTP: audit, DLP and SIEM"; [GRAV-EVENTS] [ELA-SIEM-CEL]),
		 * gzip'd NDJSON, no id, time in epoch ms, 7 days kept, an older
		 * start refused [SEK-CHANGES]. API 1.0's get-siem-logs needs
		 * Gateway | Tracking | Read [MC-SIEM1]. No verdict. */
		.name = "siem",
		.label = "SIEM events",
		.path = "/siem/v1/batch/events/cg",
		.path_v1 = "/api/audit/get-siem-logs",
		.shape = MW_SHAPE_BATCH,
		.array_key = NULL,
		.from_key = "dateRangeStartsAt",
		.to_key = "dateRangeEndsAt",
		.newest_first = 0,
		.retention = DAYS(7),
		.clamped = 1,           /* an older start is refused [SEK-CHANGES] */
		.kept_as = "SIEM events",
		.by_default = 0,
		.time_field = "timestamp",
		.time_field_v1 = "datetime",   /* "2021-10-18T09:02:43+0100" [ELA-SIEM-V1-TEST] */
		.id_field = NULL,
		.filters = "",
		.permission = "Security Events and Data Retrieval | Threat and Security Events "
			      "(SIEM) | Read",
		.permission_v1 = "Gateway | Tracking | Read",
		.product = TTP_PRODUCT,     /* [DNIF] [SEKOIA-DOC] [XSOAR-EC2-README] */
		.package = NULL,
		.threat_field = NULL,
		.threat_values = NULL,
		.columns = COLS(siem_columns),
		.subtypes = siem_subtypes,
		.nsubtypes = sizeof(siem_subtypes) / sizeof(siem_subtypes[0]),
	},
};

const size_t mw_nlogtypes = sizeof(mw_logtypes) / sizeof(mw_logtypes[0]);

unsigned logtype_default_mask(void)
{
	unsigned m = 0;

	for (size_t i = 0; i < mw_nlogtypes && i < 32; i++)
		if (mw_logtypes[i].by_default)
			m |= 1u << i;
	return m;
}

int64_t logtype_lookback(const struct mw_logtype *lt, int64_t lookback)
{
	return lt && lt->clamped && lt->retention > 0 && lookback > lt->retention ? lt->retention :
								      lookback;
}

int logtype_has_verdict(const struct mw_logtype *lt)
{
	return lt && lt->threat_field && lt->threat_values;
}

int logtype_index(const char *name)
{
	for (size_t i = 0; name && i < mw_nlogtypes; i++)
		if (strcmp(mw_logtypes[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct mw_logtype *logtype_find(const char *name)
{
	int i = logtype_index(name);

	return i < 0 ? NULL : &mw_logtypes[i];
}

const char *logtype_permission(const struct mw_logtype *lt, int api)
{
	return api != 2 && lt->permission_v1 ? lt->permission_v1 : lt->permission;
}

const struct mw_logtype *logtype_batch(void)
{
	for (size_t i = 0; i < mw_nlogtypes; i++)
		if (mw_logtypes[i].nsubtypes)
			return &mw_logtypes[i];
	return NULL;
}

int logtype_subtype_index(const struct mw_logtype *lt, const char *name)
{
	for (size_t i = 0; lt && name && i < lt->nsubtypes; i++)
		if (strcmp(lt->subtypes[i].name, name) == 0)
			return (int)i;
	return -1;
}

unsigned logtype_subtype_default(const struct mw_logtype *lt, unsigned types)
{
	unsigned m = 0;

	for (size_t i = 0; lt && i < lt->nsubtypes && i < 32; i++) {
		int beside = logtype_index(lt->subtypes[i].beside);

		if (beside < 0 || !(types & (1u << beside)))
			m |= 1u << i;
	}
	return m;
}
