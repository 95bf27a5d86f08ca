/*
 * caps.c - reading and dropping capabilities with libcap (capabilities(7)).
 */
#include "tcpip/caps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

char *caps_text(char *out, size_t cap)
{
	cap_t caps = cap_get_proc();
	char *text = caps ? cap_to_text(caps, NULL) : NULL;

	snprintf(out, cap, "%s", text ? text : "(unreadable)");
	cap_free(text);
	cap_free(caps);
	return out;
}

/* Empties the bounding set, so no exec can gain a capability back from a
 * file.  Needs CAP_SETPCAP; without it the bounding set stays, and the
 * cleared permitted set plus no_new_privs still keep everything dropped. */
static void caps_drop_bounding(void)
{
	/* cap_max_bits(): what the running kernel has, which may be more than
	 * this libcap was built to know. */
	for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++)
		(void)cap_drop_bound(c);
}

int caps_drop_all(void)
{
	cap_t none;
	int rc;

	caps_drop_bounding();
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return -1;
	none = cap_init(); /* every set empty */
	if (!none)
		return -1;
	rc = cap_set_proc(none);
	cap_free(none);
	if (rc < 0)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}
