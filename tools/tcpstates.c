/*
 * tcpstates.c - prints the stack's TCP state table (tcp_transition_table())
 * as a Mermaid state diagram, the one chapter 6 shows, so the picture in
 * the book is drawn from the code and a test can check they agree.
 */
#include <stdio.h>
#include <string.h>

#include "tcpip/tcp.h"

/* The state's name as a Mermaid identifier: the RFC's name, '-' as '_'. */
static const char *tcpstates_id(enum tcp_state state, char *out, size_t cap)
{
	snprintf(out, cap, "%s", tcp_state_name(state));
	for (char *p = out; *p; p++)
		if (*p == '-')
			*p = '_';
	return out;
}

int main(void)
{
	size_t count;
	const struct tcp_transition *table = tcp_transition_table(&count);
	char from[16], to[16];

	puts("stateDiagram-v2");
	for (int state = 0; state < TCP_STATE__COUNT; state++)
		if (strchr(tcp_state_name((enum tcp_state)state), '-'))
			printf("    state \"%s\" as %s\n", tcp_state_name((enum tcp_state)state),
			       tcpstates_id((enum tcp_state)state, from, sizeof from));
	for (size_t i = 0; i < count; i++)
		printf("    %s --> %s: %s\n", tcpstates_id(table[i].from, from, sizeof from),
		       tcpstates_id(table[i].to, to, sizeof to), table[i].cause);
	return 0;
}
