/*
 * agent.c - tcpagent: drives the book's stack by the agent protocol
 * (testvectors/README.md), so one scenario script runs against our stack, in
 * the lab or in virtual time, or against any other agent.
 *
 *   tcpagent -i IFACE -a ADDR/PREFIX [-v]   the stack on a lab link, real time
 *   tcpagent --virtual [-a ADDR/PREFIX]     the core alone, in virtual time
 *
 * Commands arrive on stdin, one per line; each is answered "ok" or
 * "error TEXT"; events ("accepted IP PORT", "connected", "refused",
 * "timeout", "reset", "eof") come as they happen.  In virtual time two more
 * commands move the world: "time MS" runs the clock to MS, "frame HEX" hands
 * the stack a frame; every frame it sends is printed "tx MS HEX".
 * Limits (chapter 6): send, recv, shutdown and nodelay are chapter 7's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpip/prog.h"

#define AGENT_LINE_MAX 4096          /* a frame of 1514 bytes in hex fits */
#define AGENT_BACKLOG 16
#define AGENT_MAX_STEPS 100000       /* timers run by one "time" command, at most */

struct agent {
	struct stack *st;
	bool virtual_time;
	bool verbose;
	stack_time_ms now;           /* virtual time */
	int conn;                    /* the current connection, or -1 */
	char line[AGENT_LINE_MAX];
	size_t line_len;
};

/* The time for the stack: virtual, or the monotonic clock. */
static stack_time_ms agent_now(const struct agent *ag)
{
	return ag->virtual_time ? ag->now : prog_now_ms();
}

/* Writes one protocol line to stdout. */
static void agent_say(const char *text)
{
	printf("%s\n", text);
	fflush(stdout);
}

/* stack_event_fn: the events the protocol reports; with -v, every event on
 * stderr too. */
static void agent_event(void *ctx, const struct stack_event *ev)
{
	struct agent *ag = ctx;
	char text[160], addr[16];

	if (ag->verbose)
		fprintf(stderr, "tcpagent: %s\n", stack_event_text(ev, text, sizeof text));
	if (ev->kind == EV_TCP_ACCEPTED) {
		ag->conn = ev->conn;
		printf("accepted %s %u\n", ip4_ntoa(ev->addr, addr), ev->port);
		fflush(stdout);
		return;
	}
	if (ev->conn != ag->conn)
		return;
	switch (ev->kind) {
	case EV_TCP_CONNECTED: agent_say("connected"); break;
	case EV_TCP_REFUSED: agent_say("refused"); break;
	case EV_TCP_TIMEOUT: agent_say("timeout"); break;
	case EV_TCP_RESET: agent_say("reset"); break;
	case EV_TCP_EOF: agent_say("eof"); break;
	default: break;
	}
}

/* Parses a port (1-65535); returns 0, or -1 if malformed. */
static int agent_port(const char *text, uint16_t *port)
{
	char *end;
	long value = text ? strtol(text, &end, 10) : 0;

	if (!text || *end != '\0' || value < 1 || value > 65535)
		return -1;
	*port = (uint16_t)value;
	return 0;
}

/* Runs the virtual clock to ms, firing every timer due on the way. */
static const char *agent_time(struct agent *ag, const char *arg)
{
	char *end;
	unsigned long long target = arg ? strtoull(arg, &end, 10) : 0;

	if (!arg || *end != '\0' || target < ag->now)
		return "error time wants MS, never backwards";
	for (int steps = 0; steps < AGENT_MAX_STEPS; steps++) {
		stack_time_ms next = stack_next_deadline(ag->st);

		if (next > target)
			break;
		ag->now = next > ag->now ? next : ag->now;
		stack_poll(ag->st, ag->now);
	}
	ag->now = target;
	return "ok";
}

/* Hands the stack the frame written in hex at arg. */
static const char *agent_frame(struct agent *ag, const char *arg)
{
	uint8_t frame[TCPIP_FRAME_BUF];
	size_t len = arg ? strlen(arg) / 2 : 0;

	if (!arg || strlen(arg) % 2 != 0 || len > sizeof frame)
		return "error frame wants HEX bytes";
	for (size_t i = 0; i < len; i++) {
		unsigned byte;

		if (sscanf(arg + 2 * i, "%2x", &byte) != 1)
			return "error frame wants HEX bytes";
		frame[i] = (uint8_t)byte;
	}
	stack_input(ag->st, ag->now, frame, len);
	return "ok";
}

/* connect IP PORT: an active open; the outcome comes as an event. */
static const char *agent_connect(struct agent *ag, const char *ip, const char *port_text)
{
	uint32_t addr;
	uint16_t port;
	int conn;

	if (!ip || ip4_aton(ip, &addr) < 0 || agent_port(port_text, &port) < 0)
		return "error connect wants IP PORT";
	conn = tcp_connect(ag->st, agent_now(ag), addr, port);
	if (conn < 0)
		return "error cannot connect: not on our link, or no free connection";
	ag->conn = conn;
	return "ok";
}

/* Carries out one command line; returns the answer, or NULL for quit. */
static const char *agent_command(struct agent *ag, char *line)
{
	char *verb = strtok(line, " \t\r"), *arg = strtok(NULL, " \t\r"), *arg2 = strtok(NULL, " \t\r");
	uint16_t port;

	if (!verb)
		return "error empty command";
	if (strcmp(verb, "quit") == 0)
		return NULL;
	if (strcmp(verb, "listen") == 0)
		return agent_port(arg, &port) < 0 ? "error listen wants PORT"
		       : tcp_listen(ag->st, port, AGENT_BACKLOG) < 0 ? "error cannot listen there"
								     : "ok";
	if (strcmp(verb, "connect") == 0)
		return agent_connect(ag, arg, arg2);
	if (strcmp(verb, "close") == 0)
		return tcp_close(ag->st, agent_now(ag), ag->conn) < 0 ? "error no open connection" : "ok";
	if (strcmp(verb, "abort") == 0)
		return tcp_abort(ag->st, agent_now(ag), ag->conn) < 0 ? "error no connection" : "ok";
	if (ag->virtual_time && strcmp(verb, "time") == 0)
		return agent_time(ag, arg);
	if (ag->virtual_time && strcmp(verb, "frame") == 0)
		return agent_frame(ag, arg);
	if (!strcmp(verb, "send") || !strcmp(verb, "recv") || !strcmp(verb, "shutdown") ||
	    !strcmp(verb, "nodelay"))
		return "error unsupported until chapter 7";
	return "error unknown command";
}

/* Carries out every whole line in the buffer; false after quit. */
static bool agent_lines(struct agent *ag)
{
	char *newline;

	while ((newline = memchr(ag->line, '\n', ag->line_len)) != NULL) {
		size_t used = (size_t)(newline - ag->line) + 1;
		const char *answer;

		*newline = '\0';
		answer = agent_command(ag, ag->line);
		memmove(ag->line, ag->line + used, ag->line_len - used);
		ag->line_len -= used;
		if (!answer)
			return false;
		agent_say(answer);
	}
	if (ag->line_len == sizeof ag->line) { /* a line longer than any command */
		agent_say("error line too long");
		ag->line_len = 0;
	}
	return true;
}

/* Reads what stdin has; false at end of input or after quit. */
static bool agent_read(struct agent *ag)
{
	ssize_t got = read(STDIN_FILENO, ag->line + ag->line_len, sizeof ag->line - ag->line_len);

	if (got <= 0)
		return false;
	ag->line_len += (size_t)got;
	return agent_lines(ag);
}

/* prog hook: the stack exists; the agent takes it. */
static int agent_start(void *ctx)
{
	struct prog_stack *ps = ctx;
	struct agent *ag = ps->user;

	ag->st = ps->st;
	return 0;
}

/* prog hook: a stack event, to the protocol. */
static void agent_prog_event(void *ctx, const struct stack_event *ev)
{
	struct prog_stack *ps = ctx;

	agent_event(ps->user, ev);
}

/* prog hook: stdin is readable. */
static bool agent_prog_stdin(void *ctx)
{
	struct prog_stack *ps = ctx;

	return agent_read(ps->user);
}

/* on_rx in the lab: stdout carries only the protocol, so a dropped frame
 * is told on stderr, with -v. */
static void agent_prog_rx(void *ctx, const struct stack_rx *rx)
{
	struct prog_stack *ps = ctx;
	const struct agent *ag = ps->user;

	if (ag->verbose && rx->verdict != DROP_NONE)
		fprintf(stderr, "tcpagent: drop %s: %s (%s)\n", drop_name(rx->verdict),
			drop_what(rx->verdict), drop_rfc(rx->verdict));
}

/* stack_tx_fn in virtual time: "tx MS HEX". */
static int agent_virtual_tx(void *ctx, const uint8_t *frame, size_t len)
{
	const struct agent *ag = ctx;

	printf("tx %llu ", (unsigned long long)ag->now);
	for (size_t i = 0; i < len; i++)
		printf("%02x", frame[i]);
	putchar('\n');
	fflush(stdout);
	return 0;
}

/* The virtual-time mode: the core alone, commands until quit or EOF. */
static int agent_virtual(const struct prog_opts *opts)
{
	static struct agent ag = {.virtual_time = true, .conn = -1};
	struct stack_cfg cfg = {.mac = {2, 0, 0, 0, 0, 2}, .ip4_addr = opts->addr,
				.prefix_len = opts->prefix_len, .tx = agent_virtual_tx, .tx_ctx = &ag,
				.on_event = agent_event, .event_ctx = &ag,
				.secret = {0x74, 0x63, 0x70, 0x61, 0x67, 0x65, 0x6e, 0x74, 0x2d, 0x76,
					   0x69, 0x72, 0x74, 0x75, 0x61, 0x6c}}; /* fixed: runs repeat */

	ag.verbose = opts->verbose;
	ag.st = stack_new(&cfg);
	if (!ag.st) {
		fprintf(stderr, "tcpagent: out of memory\n");
		return PROG_EXIT_RUNTIME;
	}
	fprintf(stderr, "tcpagent: listening on virtual\n");
	stack_start(ag.st, 0);
	while (agent_read(&ag))
		;
	stack_free(ag.st);
	return PROG_EXIT_OK;
}

int main(int argc, char **argv)
{
	static char virtual_iface[] = "-ivirtual";
	static struct agent ag = {.conn = -1};
	struct prog_opts opts = {
		.name = "tcpagent",
		.usage = "-i IFACE -a ADDR/PREFIX [-v]  |  --virtual [-a ADDR/PREFIX] [-v]",
		.about = "Runs the book's stack under the agent protocol (testvectors/README.md):\n"
			 "commands on stdin, answers and events on stdout.  --virtual runs the\n"
			 "core alone in virtual time (no device, no privileges).",
		.host = true,
		.on_start = agent_start,
		.on_event = agent_prog_event,
		.on_stdin = agent_prog_stdin,
		.user = &ag,
	};
	bool virtual_time = argc > 1 && strcmp(argv[1], "--virtual") == 0;

	if (virtual_time) {
		argv[1] = virtual_iface; /* the core flags want an interface */
		opts.addr = 0xc0000202;  /* default 192.0.2.2/24, the lab's target */
	}
	prog_parse(&opts, argc, argv);
	if (virtual_time) {
		if (opts.prefix_len < 0)
			opts.prefix_len = 24;
		return agent_virtual(&opts);
	}
	ag.verbose = opts.verbose;
	return prog_run_stack(&opts, agent_prog_rx);
}
