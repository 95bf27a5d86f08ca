/*
 * duplex.c - two stacks over a faulty virtual wire (duplex.h).
 */
#include <stdlib.h>
#include <string.h>

#include "duplex.h"
#include "tcpip/config.h"
#include "tcpip/tcp.h"
#include "vec.h"

#define WIRE_FRAMES 4096
#define WIRE_DELAY_MS 1
#define MAX_STEPS 5000000

/* A frame on its way, and when it lands. */
struct flight {
	stack_time_ms at;
	int to;                    /* 0: host A, 1: host B */
	size_t len;
	uint8_t data[TCPIP_FRAME_MAX];
};

struct wire {
	struct flight *queue;      /* WIRE_FRAMES slots, unordered */
	int count;
	stack_time_ms now;
	uint64_t rng;
	struct faults faults;
	unsigned long sent, dropped, duplicated, reordered, corrupted, overflow;
};

/* Each host's end of the wire, handed to its stack as tx_ctx. */
struct end {
	struct wire *wire;
	int peer;                  /* where its frames go */
};

/* splitmix64: the wire's seeded generator. */
static uint64_t wire_random(struct wire *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* True with probability per_mille / 1000. */
static bool wire_chance(struct wire *w, unsigned per_mille)
{
	return wire_random(w) % 1000 < per_mille;
}

/* Puts a frame in flight to host `to`, landing after delay_ms; counted as
 * an overflow (and lost) if the wire is full. */
static void wire_put(struct wire *w, int to, const uint8_t *frame, size_t len,
		     stack_time_ms delay_ms)
{
	struct flight *f;

	if (w->count == WIRE_FRAMES) {
		w->overflow++;
		return;
	}
	f = &w->queue[w->count++];
	f->at = w->now + delay_ms;
	f->to = to;
	f->len = len;
	memcpy(f->data, frame, len);
}

/* stack_tx_fn: the frame meets the wire's faults.  Always returns 0. */
static int wire_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct end *end = ctx;
	struct wire *w = end->wire;
	uint8_t copy[TCPIP_FRAME_MAX];
	stack_time_ms delay = WIRE_DELAY_MS;

	w->sent++;
	if (wire_chance(w, w->faults.drop)) {
		w->dropped++;
		return 0;
	}
	memcpy(copy, frame, len);
	if (len > 14 && wire_chance(w, w->faults.corrupt)) { /* one bit, past Ethernet */
		size_t bit = 14 * 8 + wire_random(w) % ((len - 14) * 8);

		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		w->corrupted++;
	}
	if (wire_chance(w, w->faults.reorder)) {
		delay += 1 + wire_random(w) % 20; /* overtaken by what follows */
		w->reordered++;
	}
	wire_put(w, end->peer, copy, len, delay);
	if (wire_chance(w, w->faults.dup)) {
		wire_put(w, end->peer, copy, len, delay + 1);
		w->duplicated++;
	}
	return 0;
}

/* Hands every frame due by now to its host (in flight order, bounded). */
static void wire_deliver(struct wire *w, struct stack *hosts[2])
{
	for (int round = 0; round < WIRE_FRAMES; round++) {
		int next = -1;

		for (int i = 0; i < w->count; i++)
			if (w->queue[i].at <= w->now && (next < 0 || w->queue[i].at < w->queue[next].at))
				next = i;
		if (next < 0)
			return;
		{
			struct flight f = w->queue[next];

			w->queue[next] = w->queue[--w->count];
			stack_input(hosts[f.to], w->now, f.data, f.len);
		}
	}
}

/* The earliest time anything happens: a landing or a stack's timer. */
static stack_time_ms wire_next(const struct wire *w, struct stack *hosts[2])
{
	stack_time_ms next = STACK_NO_DEADLINE;

	for (int i = 0; i < w->count; i++)
		if (w->queue[i].at < next)
			next = w->queue[i].at;
	for (int h = 0; h < 2; h++)
		if (stack_next_deadline(hosts[h]) < next)
			next = stack_next_deadline(hosts[h]);
	return next;
}

/* One direction of the transfer: bytes written by one host, read by the
 * other and compared with the pattern as they come. */
struct stream {
	uint64_t total, written, read;
	bool shut, mismatch, eof;
};

uint8_t duplex_byte(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 8));
}

/* Writes what the send buffer takes; shuts down once all is written. */
static void stream_write(struct stack *st, stack_time_ms now, int conn, struct stream *s)
{
	uint8_t buf[4096];

	for (int i = 0; i < 32 && s->written < s->total; i++) {
		size_t len = s->total - s->written < sizeof buf ? (size_t)(s->total - s->written) : sizeof buf;
		long took;

		for (size_t j = 0; j < len; j++)
			buf[j] = duplex_byte(s->written + j);
		took = tcp_write(st, now, conn, buf, len);
		if (took <= 0)
			break;
		s->written += (uint64_t)took;
	}
	if (s->written == s->total && !s->shut)
		s->shut = tcp_shutdown(st, now, conn) == 0;
}

/* Reads what has come, checking each byte. */
static void stream_read(struct stack *st, stack_time_ms now, int conn, struct stream *s)
{
	uint8_t buf[4096];
	long got;

	for (int i = 0; i < 32 && (got = tcp_read(st, now, conn, buf, sizeof buf)) > 0; i++)
		for (long j = 0; j < got; j++, s->read++)
			if (buf[j] != duplex_byte(s->read))
				s->mismatch = true;
	if (tcp_peer_done(st, conn) && tcp_readable(st, conn) == 0)
		s->eof = true;
}

/* The accepted connection's id, from B's events. */
static void note_accept(void *ctx, const struct stack_event *ev)
{
	if (ev->kind == EV_TCP_ACCEPTED)
		*(int *)ctx = ev->conn;
}

/* A host on the virtual wire; NULL on no memory. */
static struct stack *wire_host(struct end *end, uint32_t addr, uint8_t last_mac,
			       stack_event_fn on_event, void *event_ctx)
{
	struct stack_cfg cfg = {.mac = {2, 0, 0, 0, 0, last_mac}, .ip4_addr = addr, .prefix_len = 24,
				.tx = wire_tx, .tx_ctx = end, .on_event = on_event,
				.event_ctx = event_ctx, .secret = {last_mac, 9, 9}};

	return stack_new(&cfg);
}

/* True while conn may be written to (ESTABLISHED or CLOSE-WAIT). */
static bool writable_state(struct stack *st, int conn)
{
	enum tcp_state state = tcp_conn_state(st, conn);

	return state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT;
}

/* One end's turn: the hook once it is open, then its write and read. */
static void end_turn(const struct duplex_run *run, struct stack *st, stack_time_ms now, int conn,
		     int end, bool *opened, struct stream *out, struct stream *in)
{
	if (!*opened && writable_state(st, conn)) {
		*opened = true;
		if (run->established)
			run->established(st, conn, end, run->ctx);
	}
	if (writable_state(st, conn))
		stream_write(st, now, conn, out);
	stream_read(st, now, conn, in);
}

/* CHECKs one stream's outcome. */
static void check_stream(const char *name, const char *dir, const struct stream *s)
{
	CHECK(s->read == s->total && !s->mismatch && s->eof, "%s: %s: %llu of %llu bytes read, %s",
	      name, dir, (unsigned long long)s->read, (unsigned long long)s->total,
	      s->mismatch ? "some wrong" : "all right");
}

stack_time_ms duplex_transfer(const struct duplex_run *run)
{
	struct wire w = {.queue = calloc(WIRE_FRAMES, sizeof(struct flight)), .rng = run->seed,
			 .faults = run->faults, .now = run->connect_at};
	struct end ends[2] = {{&w, 1}, {&w, 0}};
	int conn_b = -1, conn_a;
	bool opened[2] = {false, false};
	struct stack *hosts[2];
	struct stream a_to_b = {.total = run->bytes}, b_to_a = {.total = run->bytes};
	stack_time_ms done_at = 0;

	hosts[0] = wire_host(&ends[0], 0xc0000201u, 1, NULL, NULL);
	hosts[1] = wire_host(&ends[1], 0xc0000202u, 2, note_accept, &conn_b);
	CHECK(w.queue && hosts[0] && hosts[1], "%s: memory", run->name);
	tcp_listen(hosts[1], 9000, 4);
	conn_a = tcp_connect(hosts[0], run->connect_at, 0xc0000202u, 9000);
	for (long steps = 0; steps < MAX_STEPS; steps++) {
		stack_time_ms next = wire_next(&w, hosts);

		if (next == STACK_NO_DEADLINE)
			break;                       /* nothing left to happen */
		w.now = next > w.now ? next : w.now;
		wire_deliver(&w, hosts);
		stack_poll(hosts[0], w.now);
		stack_poll(hosts[1], w.now);
		end_turn(run, hosts[0], w.now, conn_a, 0, &opened[0], &a_to_b, &b_to_a);
		if (conn_b >= 0)
			end_turn(run, hosts[1], w.now, conn_b, 1, &opened[1], &b_to_a, &a_to_b);
		if (!done_at && a_to_b.eof && b_to_a.eof)
			done_at = w.now - run->connect_at;
	}
	check_stream(run->name, "A to B", &a_to_b);
	check_stream(run->name, "B to A", &b_to_a);
	CHECK(tcp_conn_state(hosts[0], conn_a) == TCP_CLOSED &&
		      tcp_conn_state(hosts[1], conn_b) == TCP_CLOSED,
	      "%s: both ends closed (A %s, B %s)", run->name,
	      tcp_state_name(tcp_conn_state(hosts[0], conn_a)),
	      tcp_state_name(tcp_conn_state(hosts[1], conn_b)));
	CHECK(stack_counters(hosts[0])->tcp_bad_transitions == 0 &&
		      stack_counters(hosts[1])->tcp_bad_transitions == 0,
	      "%s: every state change in the table", run->name);
	CHECK(w.overflow == 0, "%s: the wire never overflowed", run->name);
	printf("%s: %llu bytes each way in %.3f s of virtual time; %lu frames, "
	       "%lu dropped, %lu duplicated, %lu reordered, %lu corrupted; retransmits %llu + %llu\n",
	       run->name, (unsigned long long)run->bytes, (double)done_at / 1000.0, w.sent,
	       w.dropped, w.duplicated, w.reordered, w.corrupted,
	       (unsigned long long)stack_counters(hosts[0])->tcp_retransmits,
	       (unsigned long long)stack_counters(hosts[1])->tcp_retransmits);
	stack_free(hosts[0]);
	stack_free(hosts[1]);
	free(w.queue);
	return done_at;
}
