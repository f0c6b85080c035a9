/* bench_json.c - cost per record of the hot path: js_parse of a 100-record
 * URL Protect page, jsonout_safe of each record, jsonout_canonical_id of
 * each record. Prints ns per record; not a test (figures vary by machine).
 * Usage: bench_json [pages] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonout.h"
#include "jsonscan.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU, not wall: machines are shared */
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A page shaped like a real clickLogs response: every field HACKING lists
 * ("The log endpoints"), varied per record, some escapes and non-ASCII. */
static void build_page(mw_buf *b, int n)
{
	int i;

	mw_buf_puts(b, "{\"meta\":{\"status\":200,\"pagination\":{\"pageSize\":100,"
		       "\"totalCount\":123456,\"next\":\"eNqrVkouLS7Jz00tUrJSMjQyMDUyNTJQ\"}},"
		       "\"data\":[{\"clickLogs\":[");
	for (i = 0; i < n; i++) {
		mw_buf_printf(b,
			"%s{\"userEmailAddress\":\"user%d@example.com\","
			"\"fromUserEmailAddress\":\"sender%d@phish-%d.example.net\","
			"\"url\":\"https:\\/\\/login-%d.example.net\\/o365\\/auth?session=%08x"
			"&redirect=https%%3A%%2F%%2Fexample.com%%2Finbox&lang=en-GB&tracking=%d\","
			"\"ttpDefinition\":\"Default Inbound URL Protect Definition\","
			"\"subject\":\"Re: Invoice %d \\u2013 payment overdue (\\u00e9ch\\u00e9ance)\","
			"\"action\":\"%s\",\"adminOverride\":\"N/A\",\"userOverride\":\"None\","
			"\"scanResult\":\"%s\",\"category\":\"Compromised\","
			"\"sendingIp\":\"34.235.%d.%d\",\"userAwarenessAction\":\"N/A\","
			"\"date\":\"2024-11-17T17:%02d:%02d+0000\",\"actions\":\"Allow\","
			"\"route\":\"inbound\",\"creationMethod\":\"User Click\","
			"\"emailPartsDescription\":[\"Body\"],"
			"\"messageId\":\"<871dda3d6bf5107e-%d@hapi.b41.one>\","
			"\"tagMap\":{\"UrlReputationScan\":{\"Status\":[\"CustomerAll\"],"
			"\"Type\":[\"Compromised\"],\"UrlBlock\":[\"ORIGINAL:https://login-%d.example.net "
			"(Blocked as COMPROMISED)\"]}}}",
			i ? "," : "", i, i, i % 7, i, (unsigned)i * 2654435761u, i, 1000 + i,
			i % 3 ? "allow" : "warn", i % 5 ? "clean" : "malicious", i % 256,
			(i * 7) % 256, i % 60, (i * 13) % 60, i, i);
	}
	mw_buf_puts(b, "]}],\"fail\":[]}");
}

int main(int argc, char **argv)
{
	int pages = argc > 1 ? atoi(argv[1]) : 2000, p, nrec = 0;
	mw_buf page, out, scratch;
	js_doc d;
	mw_err e;
	double t0, tparse = 0, tsafe = 0, tid = 0;
	size_t outbytes = 0;
	char id[65];

	mw_buf_init(&page);
	mw_buf_init(&out);
	mw_buf_init(&scratch);
	js_init(&d);
	build_page(&page, 100);
	for (p = 0; p < pages; p++) {
		int logs, r, n;

		t0 = now_ns();
		if (js_parse(&d, page.data, page.len, &e) != 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		tparse += now_ns() - t0;
		logs = js_path(&d, 0, "data[0].clickLogs");
		n = (int)d.toks[logs].size;

		t0 = now_ns();
		mw_buf_reset(&out);
		for (r = logs + 1; n-- > 0; r = (int)d.toks[r].next) {
			jsonout_safe(&out, &d, r);
			mw_buf_putc(&out, '\n');
		}
		tsafe += now_ns() - t0;
		outbytes += out.len;

		n = (int)d.toks[logs].size;
		t0 = now_ns();
		for (r = logs + 1; n-- > 0; r = (int)d.toks[r].next) {
			jsonout_canonical_id(&d, r, &scratch, id);
			nrec++;
		}
		tid += now_ns() - t0;
	}
	printf("page %zu bytes, %d records/page, %d pages\n", page.len, 100, pages);
	printf("parse      %7.0f ns/record  (%.2f bytes/ns)\n", tparse / nrec,
	       (double)page.len * pages / tparse);
	printf("safe       %7.0f ns/record  (%zu bytes out per page)\n", tsafe / nrec,
	       outbytes / (size_t)pages);
	printf("canon id   %7.0f ns/record  (last id %s)\n", tid / nrec, id);
	printf("total      %7.0f ns/record\n", (tparse + tsafe + tid) / nrec);
	mw_buf_free(&page);
	mw_buf_free(&out);
	mw_buf_free(&scratch);
	js_free(&d);
	return 0;
}
