/*
 * caps.h - Linux capabilities, through libcap (capabilities(7)).
 *
 * A raw socket needs CAP_NET_RAW to open, nothing to use: so a chapter program
 * opens its socket first, then drops every capability before it reads a frame.
 */
#ifndef TCPIP_CAPS_H
#define TCPIP_CAPS_H

#include <stddef.h>

/* Writes the process's capability sets as libcap text ("=" when empty,
 * "=ep" for all, "cap_net_raw=ep" ...) into out.  Returns out. */
char *caps_text(char *out, size_t cap);

/* Drops every capability: the bounding set (where permitted), the ambient
 * set, and the effective, permitted and inheritable sets; and sets
 * no_new_privs so an exec cannot regain any.  Returns 0, or -1 with errno
 * set.  Afterwards /proc/self/status shows CapEff 0. */
int caps_drop_all(void);

#endif
