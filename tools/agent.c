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
 * Data (chapter 7): "send N" writes N bytes of the pattern (byte i is
 * i mod 256) as the send buffer takes them, then says "sent N"; "recv N"
 * reads until N bytes came and says "data N HEX8", the start of their
 * SHA-256 (OpenSSL's libcrypto; or fewer, then "eof" or "reset").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

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
	uint64_t send_total, send_done;   /* a send in progress: bytes asked, taken */
	bool send_urgent;                 /* ... and it is urgent data */
	uint64_t recv_goal, recv_count;   /* a recv in progress: bytes asked, read */
	EVP_MD_CTX *recv_hash;            /* ... and the SHA-256 of what was read */
	bool eof_said;                    /* "eof" was said for the current connection */
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

/* Says "icmp TYPE CODE": a soft ICMP error about the current connection. */
static void agent_icmp(const struct stack_event *ev)
{
	printf("icmp %u %u\n", ev->icmp_type, ev->icmp_code);
	fflush(stdout);
}

/* stack_event_fn: the events the protocol reports; with -v, every event on
 * stderr too. */
static void agent_event(void *ctx, const struct stack_event *ev)
{
	struct agent *ag = ctx;
	char text[160], addr[16];

	if (ev->kind == EV_TCP_CWND) {       /* only with --cwnd-log; never on stdout */
		fprintf(stderr, "tcpagent: %llu ms %s\n", (unsigned long long)agent_now(ag),
			stack_event_text(ev, text, sizeof text));
		return;
	}
	if (ag->verbose)
		fprintf(stderr, "tcpagent: %s\n", stack_event_text(ev, text, sizeof text));
	if (ev->kind == EV_TCP_ACCEPTED) {
		ag->conn = ev->conn;
		ag->eof_said = false;
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
	case EV_TCP_ICMP: agent_icmp(ev); break;
	case EV_TCP_URGENT: agent_say("urgent"); break;
	default: break; /* eof is said by agent_pump(), once the bytes before it are read */
	}
}

/* Moves a send in progress on: the pattern into the send buffer. */
static void agent_pump_send(struct agent *ag)
{
	uint8_t chunk[4096];

	while (ag->send_done < ag->send_total) {
		uint64_t left = ag->send_total - ag->send_done;
		size_t len = left < sizeof chunk ? (size_t)left : sizeof chunk;
		long took;

		for (size_t i = 0; i < len; i++)
			chunk[i] = (uint8_t)(ag->send_done + i);
		took = (ag->send_urgent ? tcp_write_urgent : tcp_write)(ag->st, agent_now(ag), ag->conn,
									 chunk, len);
		if (took <= 0) {
			if (took < 0) { /* the connection cannot send any more */
				agent_say("error send: the connection cannot send");
				ag->send_total = ag->send_done = 0;
			}
			return;
		}
		ag->send_done += (uint64_t)took;
	}
	if (ag->send_total > 0) {
		printf("sent %llu\n", (unsigned long long)ag->send_total);
		fflush(stdout);
		ag->send_total = ag->send_done = 0;
	}
}

/* Says "data N HEX8" for the recv in progress and ends it. */
static void agent_recv_done(struct agent *ag)
{
	uint8_t digest[EVP_MAX_MD_SIZE];

	EVP_DigestFinal_ex(ag->recv_hash, digest, NULL);
	printf("data %llu %02x%02x%02x%02x\n", (unsigned long long)ag->recv_count, digest[0],
	       digest[1], digest[2], digest[3]);
	fflush(stdout);
	ag->recv_goal = ag->recv_count = 0;
}

/* Moves a recv in progress on, and says "eof" once the peer's FIN has come
 * and every byte before it was read. */
static void agent_pump_recv(struct agent *ag)
{
	uint8_t chunk[4096];

	while (ag->recv_count < ag->recv_goal) {
		uint64_t left = ag->recv_goal - ag->recv_count;
		long got = tcp_read(ag->st, agent_now(ag), ag->conn, chunk,
				    left < sizeof chunk ? (size_t)left : sizeof chunk);

		if (got <= 0)
			break;
		EVP_DigestUpdate(ag->recv_hash, chunk, (size_t)got);
		ag->recv_count += (uint64_t)got;
	}
	if (ag->recv_goal > 0 && ag->recv_count == ag->recv_goal)
		agent_recv_done(ag);
	if (ag->conn < 0 || ag->eof_said || !tcp_peer_done(ag->st, ag->conn) ||
	    tcp_conn_state(ag->st, ag->conn) == TCP_CLOSED)
		return;
	if (ag->recv_goal > 0 && ag->recv_count > 0)
		agent_recv_done(ag);
	ag->recv_goal = 0;
	ag->eof_said = true;
	agent_say("eof");
}

/* After anything the stack did: sends and receives in progress move on. */
static void agent_pump(struct agent *ag)
{
	if (ag->conn < 0)
		return;
	agent_pump_send(ag);
	agent_pump_recv(ag);
}

/* send N, urgent N, recv N: start one (only one send and one recv at a
 * time); urgent sends urgent data. */
static const char *agent_data(struct agent *ag, const char *verb, const char *arg)
{
	char *end;
	unsigned long long count = arg ? strtoull(arg, &end, 10) : 0;

	if (!arg || *end != '\0' || count == 0)
		return "error send, urgent and recv want a byte count";
	if (ag->conn < 0)
		return "error no connection";
	if (verb[0] != 'r') {
		if (ag->send_total > 0)
			return "error a send is still in progress";
		ag->send_total = count;
		ag->send_done = 0;
		ag->send_urgent = verb[0] == 'u';
	} else {
		if (ag->recv_goal > 0)
			return "error a recv is still in progress";
		if (!ag->recv_hash)
			ag->recv_hash = EVP_MD_CTX_new();
		if (!ag->recv_hash || !EVP_DigestInit_ex(ag->recv_hash, EVP_sha256(), NULL))
			return "error cannot start a SHA-256 digest (out of memory)";
		ag->recv_goal = count;
		ag->recv_count = 0;
	}
	return "ok";
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
	ag->eof_said = false;
	return "ok";
}

/* cc NAME: connections opened from now on, and the current one, use
 * congestion control NAME. */
static const char *agent_cc(struct agent *ag, const char *name)
{
	if (!name || tcp_set_cc_default(ag->st, name) < 0)
		return "error cc wants newreno or cubic";
	if (ag->conn >= 0 && tcp_conn_state(ag->st, ag->conn) != TCP_CLOSED)
		tcp_conn_set_cc(ag->st, ag->conn, name);
	return "ok";
}

/* ecn on|accept|off: ECN (RFC 3168) for connections opened from now on. */
static const char *agent_ecn(struct agent *ag, const char *mode)
{
	static const char *const names[] = {[TCP_ECN_ACCEPT] = "accept", [TCP_ECN_ON] = "on",
					    [TCP_ECN_OFF] = "off"};

	for (int m = 0; mode && m < (int)(sizeof names / sizeof names[0]); m++)
		if (strcmp(mode, names[m]) == 0)
			return tcp_set_ecn(ag->st, m) < 0 ? "error cannot set ecn" : "ok";
	return "error ecn takes on, accept or off";
}

/* close or abort: the connection is the stack's to finish; like a closed
 * socket, it tells the application nothing more. */
static const char *agent_close(struct agent *ag, bool abort)
{
	int rc = abort ? tcp_abort(ag->st, agent_now(ag), ag->conn)
		       : tcp_close(ag->st, agent_now(ag), ag->conn);

	if (rc < 0)
		return abort ? "error no connection" : "error no open connection";
	ag->conn = -1;
	ag->send_total = ag->send_done = ag->recv_goal = ag->recv_count = 0;
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
	if (strcmp(verb, "close") == 0 || strcmp(verb, "abort") == 0)
		return agent_close(ag, verb[0] == 'a');
	if (ag->virtual_time && strcmp(verb, "time") == 0)
		return agent_time(ag, arg);
	if (ag->virtual_time && strcmp(verb, "frame") == 0)
		return agent_frame(ag, arg);
	if (!strcmp(verb, "send") || !strcmp(verb, "urgent") || !strcmp(verb, "recv"))
		return agent_data(ag, verb, arg);
	if (strcmp(verb, "shutdown") == 0)
		return tcp_shutdown(ag->st, agent_now(ag), ag->conn) < 0 ? "error cannot shut down"
									 : "ok";
	if (strcmp(verb, "cc") == 0)
		return agent_cc(ag, arg);
	if (strcmp(verb, "ecn") == 0)
		return agent_ecn(ag, arg);
	if (strcmp(verb, "nodelay") == 0 && arg && (!strcmp(arg, "on") || !strcmp(arg, "off")))
		return tcp_set_nodelay(ag->st, agent_now(ag), ag->conn, arg[1] == 'n') < 0
			       ? "error no connection"
			       : "ok";
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
		agent_pump(ag);
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
	struct agent *ag = ps->user;

	if (ag->verbose && rx->verdict != DROP_NONE)
		fprintf(stderr, "tcpagent: drop %s: %s (%s)\n", drop_name(rx->verdict),
			drop_what(rx->verdict), drop_rfc(rx->verdict));
	agent_pump(ag); /* the stack is done with the frame: move data on */
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
				.tcp_msl_ms = opts->msl_ms, .tcp_cc = opts->cc,
				.tcp_cc_events = opts->cwnd_log,
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
	EVP_MD_CTX_free(ag.recv_hash);
	return PROG_EXIT_OK;
}

int main(int argc, char **argv)
{
	static char virtual_iface[] = "-ivirtual";
	static struct agent ag = {.conn = -1};
	struct prog_opts opts = {
		.name = "tcpagent",
		.usage = "-i IFACE -a ADDR/PREFIX [--cc NAME] [-v]  |  --virtual [-a ADDR/PREFIX] [--cc NAME] [-v]",
		.about = "Runs the book's stack under the agent protocol (testvectors/README.md):\n"
			 "commands on stdin, answers and events on stdout.  --virtual runs the\n"
			 "core alone in virtual time (no device, no privileges).",
		.host = true,
		.tcp_data = true,
		.on_start = agent_start,
		.on_event = agent_prog_event,
		.on_stdin = agent_prog_stdin,
		.user = &ag,
	};
	bool virtual_time = argc > 1 && strcmp(argv[1], "--virtual") == 0;
	int status;

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
	status = prog_run_stack(&opts, agent_prog_rx);
	EVP_MD_CTX_free(ag.recv_hash);
	return status;
}
