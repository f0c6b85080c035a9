/* requests.c - the request table's lookups (requests.h). */
#include "requests.h"

#include <string.h>

static const struct {
	const char *name;
	int confirm;
} table[MW_REQ_COUNT] = {
#define MW_REQ_ROW(e, name, confirm) [e] = { name, confirm },
	MW_REQUEST_TABLE(MW_REQ_ROW)
#undef MW_REQ_ROW
};

const char *mw_request_name(enum mw_request r)
{
	return r >= 0 && r < MW_REQ_COUNT ? table[r].name : "unknown";
}

enum mw_request mw_request_from_name(const char *name)
{
	for (int i = 0; name && i < MW_REQ_COUNT; i++)
		if (strcmp(table[i].name, name) == 0)
			return (enum mw_request)i;
	return MW_REQ_UNKNOWN;
}

int mw_request_confirmed(enum mw_request r)
{
	return r >= 0 && r < MW_REQ_COUNT && table[r].confirm;
}
