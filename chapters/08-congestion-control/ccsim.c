/*
 * ccsim - chapter 8: one TCP connection through a bottleneck, in virtual
 * time, to watch congestion control work (RFC 5681, RFC 6937, RFC 9438).
 *
 * Two of the book's stacks, a sender at 192.0.2.2 and a receiver at
 * 192.0.2.1, are joined by a simulated link.  From sender to receiver each
 * frame waits in a drop-tail FIFO of at most --queue frames (the one being
 * sent included), takes bytes * 8 / --rate microseconds to serialise, and
 * then --rtt / 2 to arrive; --loss loses frames at random before the queue
 * (a seeded generator of our own, --seed).  ACKs go back with the delay
 * alone.  The sender writes an endless stream (or --bytes) to the
 * receiver's port 9, and the receiver reads all that arrives.
 *
 * Output, one line per event, the virtual time first:
 *   12.345 cwnd 29200 ssthresh 14600 in-flight 27740 (congestion avoidance)
 *   12.346 drop (queue full)
 * and a summary line at the end.  The same flags give the same output, byte
 * for byte: no clock, no sleeping, fixed secrets.
 *
 * Limits: one connection, one direction of data; the link's time is in
 * microseconds but the stacks see whole milliseconds; no reordering,
 * duplication or ACK loss; each side's window is at most 64 KB (no window
 * scaling until chapter 9), so a path holding more than that never fills.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpip/config.h"
#include "tcpip/pcap.h"
#include "tcpip/prog.h"
#include "tcpip/stack.h"

#define SENDER_ADDR 0xc0000202u    /* 192.0.2.2 */
#define RECEIVER_ADDR 0xc0000201u  /* 192.0.2.1 */
#define SINK_PORT 9                /* discard (RFC 863) */
#define LINK_SLOTS 1024            /* frames each part of the link can hold */
#define QUEUE_MAX 1000             /* the largest --queue */
#define STEPS_MAX 100000000L       /* a bound on the main loop */
#define CHUNK_BYTES 16384          /* what one tcp_write()/tcp_read() moves at most */
#define CALLS_MAX 64               /* tcp_write()/tcp_read() calls per step */

struct sim_opts {
	const char *cc;
	double rate_mbit;          /* the bottleneck's rate, Mbit/s */
	unsigned rtt_ms;           /* round-trip propagation delay */
	unsigned queue_frames;     /* drop-tail limit */
	double loss_pct;           /* random loss, sender to receiver */
	unsigned long long seed;
	double seconds;            /* virtual time to run */
	unsigned long long bytes;  /* 0: an endless stream */
	const char *pcap;          /* --pcap: the sender's side, or NULL */
};

/* A frame on the link: at_us is when it leaves the part of the link it is in. */
struct slot {
	uint64_t at_us;
	size_t len;
	uint8_t data[TCPIP_FRAME_MAX];
};

/* A bounded first-in, first-out line of frames, in the order of at_us. */
struct fifo {
	struct slot slot[LINK_SLOTS];
	unsigned head, count;
};

struct sim {
	struct sim_opts opts;
	uint64_t now_us;
	uint64_t rng;
	struct fifo queue;         /* sender to receiver, waiting or serialising */
	struct fifo ahead;         /* sender to receiver, propagating */
	struct fifo back;          /* receiver to sender, propagating */
	struct stack *sender, *receiver;
	int conn, peer_conn;       /* the connection's id in each stack */
	unsigned long long written, delivered;
	bool shut, eof;
	uint64_t eof_us;           /* when the receiver saw the end of the stream */
	unsigned long drops_queue, drops_random, drops_full;
	struct pcap_writer *pcap;  /* --pcap's file, or NULL */
};

static const char usage[] =
	"usage: ccsim [--cc newreno|cubic] [--rate MBIT] [--rtt MS] [--queue N]\n"
	"             [--loss PCT] [--seed N] [--seconds S] [--bytes N] [--pcap FILE]\n";

/* Prints --help's text on stdout. */
static void sim_help(void)
{
	printf("%s\nOne TCP connection of the book's stack through a simulated bottleneck, in\n"
	       "virtual time (chapter 8).  One line per change of the sender's congestion\n"
	       "window and per frame dropped, then a summary.\n\n"
	       "  --cc NAME      congestion control: newreno (the default) or cubic\n"
	       "  --rate MBIT    the bottleneck's rate in Mbit/s (default 1)\n"
	       "  --rtt MS       round-trip propagation delay (default 200)\n"
	       "  --queue N      drop-tail queue of N frames, 1 to %d (default 20)\n"
	       "  --loss PCT     random loss sender to receiver, percent (default 0)\n"
	       "  --seed N       seed of the random loss (default 1)\n"
	       "  --seconds S    virtual time to run (default 30)\n"
	       "  --bytes N      send N bytes, then close (default: an endless stream)\n"
	       "  --pcap FILE    write the sender's side to FILE: each frame it sends (also\n"
	       "                 those the link then drops) and each it receives, at\n"
	       "                 virtual time\n"
	       "  --help         this text\n",
	       usage, QUEUE_MAX);
}

/* Says what is wrong with the command line and exits 2. */
static void sim_usage_error(const char *what)
{
	fprintf(stderr, "ccsim: %s\n%s", what, usage);
	exit(PROG_EXIT_USAGE);
}

/* The number in text, which must be all of it and within [min, max];
 * exits 2 naming flag otherwise. */
static double sim_number(const char *flag, const char *text, double min, double max)
{
	char *end, what[80];
	double value = strtod(text, &end);

	if (end == text || *end != '\0' || !(value >= min && value <= max)) {
		snprintf(what, sizeof what, "--%s wants a number from %g to %g", flag, min, max);
		sim_usage_error(what);
	}
	return value;
}

/* Fills *opts from the command line; exits 0 after --help, 2 on a bad flag. */
static void sim_parse(struct sim_opts *opts, int argc, char **argv)
{
	static const struct option longs[] = {
		{"cc", required_argument, NULL, 'c'},     {"rate", required_argument, NULL, 'r'},
		{"rtt", required_argument, NULL, 'd'},    {"queue", required_argument, NULL, 'q'},
		{"loss", required_argument, NULL, 'l'},   {"seed", required_argument, NULL, 's'},
		{"seconds", required_argument, NULL, 't'}, {"bytes", required_argument, NULL, 'b'},
		{"pcap", required_argument, NULL, 'p'},   {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int flag;

	*opts = (struct sim_opts){.cc = "newreno", .rate_mbit = 1, .rtt_ms = 200, .queue_frames = 20,
				  .seed = 1, .seconds = 30};
	opterr = 0;
	while ((flag = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (flag) {
		case 'c':
			if (!tcp_cc_exists(optarg))
				sim_usage_error("--cc wants newreno or cubic");
			opts->cc = optarg;
			break;
		case 'r': opts->rate_mbit = sim_number("rate", optarg, 0.01, 10000); break;
		case 'd': opts->rtt_ms = (unsigned)sim_number("rtt", optarg, 0, 10000); break;
		case 'q': opts->queue_frames = (unsigned)sim_number("queue", optarg, 1, QUEUE_MAX); break;
		case 'l': opts->loss_pct = sim_number("loss", optarg, 0, 100); break;
		case 's': opts->seed = (unsigned long long)sim_number("seed", optarg, 0, 1e15); break;
		case 't': opts->seconds = sim_number("seconds", optarg, 0.001, 3600); break;
		case 'b': opts->bytes = (unsigned long long)sim_number("bytes", optarg, 1, 1e12); break;
		case 'p': opts->pcap = optarg; break;
		case 'h': sim_help(); exit(PROG_EXIT_OK);
		default: sim_usage_error("unknown flag, or one without its value");
		}
	}
	if (optind < argc)
		sim_usage_error("no arguments are taken, only flags");
}

/* Prints the virtual time as seconds with 3 decimals, and a space. */
static void sim_print_time(const struct sim *sim)
{
	printf("%llu.%03llu ", (unsigned long long)(sim->now_us / 1000000),
	       (unsigned long long)(sim->now_us / 1000 % 1000));
}

/* The link's seeded generator (splitmix64): the next 64 random bits. */
static uint64_t sim_random(struct sim *sim)
{
	uint64_t z = (sim->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The frame at the front of f; f must not be empty. */
static struct slot *fifo_front(struct fifo *f)
{
	return &f->slot[f->head];
}

/* Appends a frame leaving at at_us; returns false (and keeps nothing) if f
 * is full. */
static bool fifo_push(struct fifo *f, uint64_t at_us, const uint8_t *frame, size_t len)
{
	struct slot *s;

	if (f->count == LINK_SLOTS || len > TCPIP_FRAME_MAX)
		return false;
	s = &f->slot[(f->head + f->count++) % LINK_SLOTS];
	s->at_us = at_us;
	s->len = len;
	memcpy(s->data, frame, len);
	return true;
}

/* Drops the front frame of f (which must not be empty). */
static void fifo_pop(struct fifo *f)
{
	f->head = (f->head + 1) % LINK_SLOTS;
	f->count--;
}

/* The time the front frame of f leaves, or UINT64_MAX if f is empty. */
static uint64_t fifo_next_us(const struct fifo *f)
{
	return f->count ? f->slot[f->head].at_us : UINT64_MAX;
}

/* Microseconds a frame of len bytes takes to serialise at the link's rate. */
static uint64_t link_serialise_us(const struct sim *sim, size_t len)
{
	return (uint64_t)((double)len * 8.0 / sim->opts.rate_mbit + 0.5);
}

/* The one-way propagation delay. */
static uint64_t link_delay_us(const struct sim *sim)
{
	return (uint64_t)sim->opts.rtt_ms * 500;
}

/* Prints a drop line. */
static void link_say_drop(const struct sim *sim, const char *why)
{
	sim_print_time(sim);
	printf("drop (%s)\n", why);
}

/* fifo_push(), and a drop line if the part of the link is full (never with
 * 64 KB windows: LINK_SLOTS frames are more than any window holds). */
static void link_push(struct sim *sim, struct fifo *f, uint64_t at_us, const uint8_t *frame,
		      size_t len)
{
	if (!fifo_push(f, at_us, frame, len)) {
		sim->drops_full++;
		link_say_drop(sim, "link full");
	}
}

/* Writes frame[0..len) to --pcap's file at the virtual time, if there is
 * one; a failed write is found by pcap_close() at the end. */
static void sim_capture(struct sim *sim, const uint8_t *frame, size_t len)
{
	size_t kept = len < TCPIP_PCAP_SNAPLEN ? len : TCPIP_PCAP_SNAPLEN;

	if (sim->pcap)
		pcap_write(sim->pcap, sim->now_us, frame, kept, len);
}

/* stack_tx_fn of the sender: the frame is lost at random, or dropped at the
 * tail of a full queue, or queued to finish serialising after the frame
 * before it.  Always returns 0: a device does not know what a link loses. */
static int link_tx_forward(void *ctx, const uint8_t *frame, size_t len)
{
	struct sim *sim = ctx;
	uint64_t start_us = sim->now_us;

	sim_capture(sim, frame, len);
	if (sim->opts.loss_pct > 0 &&
	    (double)(sim_random(sim) % 1000000) < sim->opts.loss_pct * 10000.0) {
		sim->drops_random++;
		link_say_drop(sim, "random loss");
		return 0;
	}
	if (sim->queue.count >= sim->opts.queue_frames) {
		sim->drops_queue++;
		link_say_drop(sim, "queue full");
		return 0;
	}
	if (sim->queue.count > 0) {
		uint64_t last_us = sim->queue.slot[(sim->queue.head + sim->queue.count - 1) % LINK_SLOTS].at_us;

		start_us = last_us > start_us ? last_us : start_us;
	}
	link_push(sim, &sim->queue, start_us + link_serialise_us(sim, len), frame, len);
	return 0;
}

/* stack_tx_fn of the receiver: back after the delay alone.  Returns 0. */
static int link_tx_back(void *ctx, const uint8_t *frame, size_t len)
{
	struct sim *sim = ctx;

	link_push(sim, &sim->back, sim->now_us + link_delay_us(sim), frame, len);
	return 0;
}

/* Moves every frame whose time has come one part of the link on: from the
 * queue to the wire, from the wire into its stack.  Bounded by the slots. */
static void link_run(struct sim *sim)
{
	stack_time_ms now_ms = sim->now_us / 1000;

	for (int i = 0; i < LINK_SLOTS && fifo_next_us(&sim->queue) <= sim->now_us; i++) {
		struct slot *s = fifo_front(&sim->queue);

		link_push(sim, &sim->ahead, s->at_us + link_delay_us(sim), s->data, s->len);
		fifo_pop(&sim->queue);
	}
	for (int i = 0; i < LINK_SLOTS && fifo_next_us(&sim->ahead) <= sim->now_us; i++) {
		stack_input(sim->receiver, now_ms, fifo_front(&sim->ahead)->data,
			    fifo_front(&sim->ahead)->len);
		fifo_pop(&sim->ahead);
	}
	for (int i = 0; i < LINK_SLOTS && fifo_next_us(&sim->back) <= sim->now_us; i++) {
		sim_capture(sim, fifo_front(&sim->back)->data, fifo_front(&sim->back)->len);
		stack_input(sim->sender, now_ms, fifo_front(&sim->back)->data,
			    fifo_front(&sim->back)->len);
		fifo_pop(&sim->back);
	}
}

/* The earlier of two times. */
static uint64_t earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* A stack's next deadline in microseconds (UINT64_MAX: none). */
static uint64_t stack_next_us(const struct stack *st)
{
	stack_time_ms at = stack_next_deadline(st);

	return at == STACK_NO_DEADLINE ? UINT64_MAX : at * 1000;
}

/* When anything next happens: a frame moving on, or a stack's timer. */
static uint64_t sim_next_us(const struct sim *sim)
{
	uint64_t next = earliest(fifo_next_us(&sim->queue), fifo_next_us(&sim->ahead));

	next = earliest(next, fifo_next_us(&sim->back));
	next = earliest(next, stack_next_us(sim->sender));
	return earliest(next, stack_next_us(sim->receiver));
}

/* stack_event_fn of the sender: a line per change of its window. */
static void sim_sender_event(void *ctx, const struct stack_event *ev)
{
	struct sim *sim = ctx;

	if (ev->kind != EV_TCP_CWND)
		return;
	sim_print_time(sim);
	printf("cwnd %u ssthresh ", ev->cwnd);
	if (ev->ssthresh == UINT32_MAX)
		printf("none");
	else
		printf("%u", ev->ssthresh);
	printf(" in-flight %u (%s)\n", ev->in_flight, ev->why);
}

/* stack_event_fn of the receiver: notes the accepted connection's id. */
static void sim_receiver_event(void *ctx, const struct stack_event *ev)
{
	struct sim *sim = ctx;

	if (ev->kind == EV_TCP_ACCEPTED)
		sim->peer_conn = ev->conn;
}

/* A stack at addr with MAC 02:00:00:00:00:last_mac and a fixed secret, its
 * frames going to tx; NULL on no memory. */
static struct stack *sim_host(struct sim *sim, uint32_t addr, uint8_t last_mac, stack_tx_fn tx,
			      stack_event_fn on_event, bool cc_events)
{
	struct stack_cfg cfg = {.mac = {2, 0, 0, 0, 0, last_mac}, .ip4_addr = addr,
				.prefix_len = 24, .tx = tx, .tx_ctx = sim, .on_event = on_event,
				.event_ctx = sim, .secret = {'c', 'c', 's', 'i', 'm', last_mac},
				.tcp_cc_events = cc_events, .tcp_cc = sim->opts.cc};

	return stack_new(&cfg);
}

/* The sender's turn: write what its send buffer takes (a pattern of bytes,
 * up to --bytes), then close once all is written. */
static void sim_write(struct sim *sim, stack_time_ms now_ms)
{
	static uint8_t chunk[CHUNK_BYTES];
	enum tcp_state state = tcp_conn_state(sim->sender, sim->conn);

	if (sim->shut || (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT))
		return;
	for (int i = 0; i < CALLS_MAX && tcp_writable(sim->sender, sim->conn) > 0; i++) {
		unsigned long long left = sim->opts.bytes ? sim->opts.bytes - sim->written : sizeof chunk;
		size_t len = left < sizeof chunk ? (size_t)left : sizeof chunk;
		long took;

		for (size_t j = 0; j < len; j++)
			chunk[j] = (uint8_t)(sim->written + j);
		took = tcp_write(sim->sender, now_ms, sim->conn, chunk, len);
		if (took <= 0)
			break;
		sim->written += (unsigned long long)took;
		if (sim->opts.bytes && sim->written == sim->opts.bytes)
			break;
	}
	if (sim->opts.bytes && sim->written == sim->opts.bytes)
		sim->shut = tcp_close(sim->sender, now_ms, sim->conn) == 0;
}

/* The receiver's turn: read everything that has arrived in order. */
static void sim_read(struct sim *sim, stack_time_ms now_ms)
{
	uint8_t buf[CHUNK_BYTES];
	long got;

	if (sim->peer_conn < 0)
		return;
	for (int i = 0; i < CALLS_MAX &&
			(got = tcp_read(sim->receiver, now_ms, sim->peer_conn, buf, sizeof buf)) > 0;
	     i++)
		sim->delivered += (unsigned long long)got;
	if (tcp_peer_done(sim->receiver, sim->peer_conn) && !sim->eof) {
		sim->eof = true;
		sim->eof_us = sim->now_us;
		tcp_close(sim->receiver, now_ms, sim->peer_conn);
	}
}

/* Runs the connection until --seconds of virtual time, or until the stream
 * has ended and nothing is left to happen.  Returns false if it stopped at
 * the step bound instead. */
static bool sim_run(struct sim *sim)
{
	uint64_t end_us = (uint64_t)(sim->opts.seconds * 1e6 + 0.5);

	stack_start(sim->sender, 0);
	stack_start(sim->receiver, 0);
	tcp_listen(sim->receiver, SINK_PORT, 1);
	sim->conn = tcp_connect(sim->sender, 0, RECEIVER_ADDR, SINK_PORT);
	for (long step = 0; step < STEPS_MAX; step++) {
		uint64_t next_us = sim_next_us(sim);
		stack_time_ms now_ms;

		if (next_us == UINT64_MAX || next_us > end_us)
			return true;
		sim->now_us = next_us > sim->now_us ? next_us : sim->now_us;
		now_ms = sim->now_us / 1000;
		link_run(sim);
		stack_poll(sim->sender, now_ms);
		stack_poll(sim->receiver, now_ms);
		sim_write(sim, now_ms);
		sim_read(sim, now_ms);
	}
	return false;
}

/* Prints the summary line: what arrived, at what goodput, what was lost. */
static void sim_summary(struct sim *sim, uint64_t end_us)
{
	double seconds = (double)end_us / 1e6;

	sim->now_us = end_us;
	sim_print_time(sim);
	printf("done: %s, %llu bytes delivered, goodput %.3f Mbit/s, %lu drops (queue full), "
	       "%lu lost at random, %lu link full, %llu fast retransmits\n",
	       sim->opts.cc, sim->delivered, (double)sim->delivered * 8.0 / seconds / 1e6,
	       sim->drops_queue, sim->drops_random, sim->drops_full,
	       (unsigned long long)stack_counters(sim->sender)->tcp_fast_retransmits);
}

int main(int argc, char **argv)
{
	static struct sim sim;      /* large (its frame slots): not on the stack */
	bool finished;
	int rc = PROG_EXIT_OK;

	sim_parse(&sim.opts, argc, argv);
	sim.rng = sim.opts.seed;
	sim.peer_conn = -1;
	sim.sender = sim_host(&sim, SENDER_ADDR, 2, link_tx_forward, sim_sender_event, true);
	sim.receiver = sim_host(&sim, RECEIVER_ADDR, 1, link_tx_back, sim_receiver_event, false);
	if (!sim.sender || !sim.receiver) {
		fprintf(stderr, "ccsim: out of memory for two stacks\n");
		return PROG_EXIT_RUNTIME;
	}
	if (sim.opts.pcap && !(sim.pcap = pcap_open(sim.opts.pcap))) {
		fprintf(stderr, "ccsim: cannot write %s: %s\n", sim.opts.pcap, strerror(errno));
		return PROG_EXIT_RUNTIME;
	}
	finished = sim_run(&sim);
	if (sim.conn < 0) {
		fprintf(stderr, "ccsim: the sender could not open a connection\n");
		rc = PROG_EXIT_RUNTIME;
	} else if (!finished) {
		fprintf(stderr, "ccsim: stopped after %ld steps, before the end of the time\n",
			STEPS_MAX);
		rc = PROG_EXIT_RUNTIME;
	}
	sim_summary(&sim, sim.eof ? sim.eof_us : (uint64_t)(sim.opts.seconds * 1e6 + 0.5));
	if (pcap_close(sim.pcap) != 0) {
		fprintf(stderr, "ccsim: writing %s failed: check the disk\n", sim.opts.pcap);
		rc = PROG_EXIT_RUNTIME;
	}
	stack_free(sim.sender);
	stack_free(sim.receiver);
	return rc;
}
