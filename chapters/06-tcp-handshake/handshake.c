/*
 * handshake - chapter 6: a host that completes TCP's three-way handshake.
 *
 * Chapter 5's host, with TCP: it listens on each -p PORT, answers a SYN with
 * a SYN-ACK, and once the handshake completes closes the connection at once
 * with a FIN (moving data is chapter 7).  A segment to any other port is
 * answered with a reset.  One line per state change, reset and drop.
 */
#include <stdio.h>

#include "tcpip/prog.h"

/* Connections accepted while the stack was busy with a frame, closed once it
 * has finished with it (on_rx runs last in stack_input()). */
struct handshake {
	const struct prog_opts *opts;
	int to_close[TCPIP_TCP_CONNS];
	int count;
};

/* on_start: listen on every -p port. */
static int handshake_start(void *ctx)
{
	struct prog_stack *ps = ctx;
	const struct prog_opts *opts = ((struct handshake *)ps->user)->opts;

	for (int i = 0; i < opts->port_count; i++) {
		if (tcp_listen(ps->st, opts->ports[i], TCPIP_TCP_BACKLOG) < 0) {
			fprintf(stderr, "handshake: cannot listen on port %u twice\n", opts->ports[i]);
			return -1;
		}
		printf("tcp :%u listening\n", opts->ports[i]);
	}
	fflush(stdout);
	return 0;
}

/* on_event: print it; remember an accepted connection, to close it. */
static void handshake_event(void *ctx, const struct stack_event *ev)
{
	struct prog_stack *ps = ctx;
	struct handshake *hs = ps->user;

	prog_print_event(ev);
	if (ev->kind == EV_TCP_ACCEPTED && hs->count < TCPIP_TCP_CONNS)
		hs->to_close[hs->count++] = ev->conn;
}

/* on_rx: the frame is done; print a drop, close what was accepted. */
static void handshake_rx(void *ctx, const struct stack_rx *rx)
{
	struct prog_stack *ps = ctx;
	struct handshake *hs = ps->user;

	prog_print_drop(ps, rx);
	for (int i = 0; i < hs->count; i++)
		tcp_close(ps->st, prog_now_ms(), hs->to_close[i]);
	hs->count = 0;
}

int main(int argc, char **argv)
{
	static struct handshake hs;
	struct prog_opts opts = {
		.name = "handshake",
		.usage = "-i IFACE -a ADDR/PREFIX -p PORT [-p PORT ...] [--pcap FILE] [-c COUNT] "
			 "[-t SECONDS] [-v]",
		.about = "Answers ARP, ping and TCP handshakes on each PORT, closing each\n"
			 "connection once it is open (chapter 6); other ports are reset.",
		.host = true,
		.answer_echo = true,
		.tcp = true,
		.on_start = handshake_start,
		.on_event = handshake_event,
		.user = &hs,
	};

	hs.opts = &opts;
	prog_parse(&opts, argc, argv);
	if (opts.port_count == 0) {
		fprintf(stderr, "handshake: -p PORT is required\nusage: handshake %s\n", opts.usage);
		return PROG_EXIT_USAGE;
	}
	return prog_run_stack(&opts, handshake_rx);
}
