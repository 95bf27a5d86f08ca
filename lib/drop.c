/*
 * drop.c - names, classes and RFC sections of the drop reasons (drop.h).
 */
#include "tcpip/drop.h"

#include <string.h>

struct drop_info {
	const char *name;
	enum verdict_class cls;
	const char *rfc;
	const char *what;
};

static const struct drop_info drop_table[DROP__COUNT] = {
#define TCPIP_DROP_INFO(sym, name, cls, rfc, what) {name, cls, rfc, what},
	TCPIP_DROP_REASONS(TCPIP_DROP_INFO)
#undef TCPIP_DROP_INFO
};

static const char *const class_names[] = {
	[CLASS_OK] = "ok",
	[CLASS_TRUNCATED] = "truncated",
	[CLASS_MALFORMED] = "malformed",
	[CLASS_CHECKSUM] = "checksum",
	[CLASS_UNSUPPORTED] = "unsupported",
	[CLASS_NOT_FOR_US] = "not_for_us",
};

/* True if reason indexes the table. */
static int drop_valid(enum drop_reason reason)
{
	return (unsigned)reason < DROP__COUNT;
}

const char *drop_name(enum drop_reason reason)
{
	return drop_valid(reason) ? drop_table[reason].name : "?";
}

enum verdict_class drop_class(enum drop_reason reason)
{
	return drop_valid(reason) ? drop_table[reason].cls : CLASS_MALFORMED;
}

const char *drop_class_name(enum verdict_class cls)
{
	return (unsigned)cls < sizeof class_names / sizeof class_names[0] ? class_names[cls] : "?";
}

const char *drop_rfc(enum drop_reason reason)
{
	return drop_valid(reason) ? drop_table[reason].rfc : "";
}

const char *drop_what(enum drop_reason reason)
{
	return drop_valid(reason) ? drop_table[reason].what : "unknown reason";
}

enum drop_reason drop_by_name(const char *name)
{
	for (int i = 0; i < DROP__COUNT; i++)
		if (strcmp(drop_table[i].name, name) == 0)
			return (enum drop_reason)i;
	return DROP__COUNT;
}
