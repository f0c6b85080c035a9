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

static const char *const url_threats[] = { "malicious", NULL };
static const char *const impersonation_threats[] = { "true", NULL };
static const char *const attachment_threats[] = { "malicious", "unsafe", NULL };

#define COLS(a) a, sizeof(a) / sizeof((a)[0])

const struct mw_logtype mw_logtypes[] = {
	{
		.name = "url",
		.label = "URL Protect",
		.path = "/api/ttp/url/get-logs",
		.array_key = "clickLogs",
		.time_field = "date",
		.id_field = NULL,
		.filters = "\"route\":\"all\",\"scanResult\":\"all\"",
		.permission = "Monitoring | URL Protection | Read",
		.package = "URL Protection",
		.threat_field = "scanResult",
		.threat_values = url_threats,
		.columns = COLS(url_columns),
	},
	{
		.name = "impersonation",
		.label = "Impersonation Protect",
		.path = "/api/ttp/impersonation/get-logs",
		.array_key = "impersonationLogs",
		.time_field = "eventTime",
		.id_field = "id",
		.filters = "",
		.permission = "Monitoring | Impersonation Protection | Read",
		.package = "Impersonation Protection",
		.threat_field = "taggedMalicious",
		.threat_values = impersonation_threats,
		.columns = COLS(impersonation_columns),
	},
	{
		.name = "attachment",
		.label = "Attachment Protect",
		.path = "/api/ttp/attachment/get-logs",
		.array_key = "attachmentLogs",
		.time_field = "date",
		.id_field = NULL,
		.filters = "\"route\":\"all\",\"result\":\"all\"",
		.permission = "Monitoring | Attachment Protection | Read",
		.package = "Attachment Protection",
		.threat_field = "result",
		.threat_values = attachment_threats,
		.columns = COLS(attachment_columns),
	},
};

const size_t mw_nlogtypes = sizeof(mw_logtypes) / sizeof(mw_logtypes[0]);

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
