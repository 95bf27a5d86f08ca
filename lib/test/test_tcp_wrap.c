/*
 * test_tcp_wrap.c - a connection past 2^32 bytes (RFC 9293 3.4: sequence
 * numbers are modulo 2^32, and after 4 GiB a stream's sequence numbers come
 * round to its ISS again).
 *
 * Moving 4 GiB through the core takes minutes, so these tests move a
 * connection on instead: after N bytes, a TCB differs from a fresh one only
 * in how far its sequence numbers are from ISS.  Setting ISS to SND.UNA + k
 * on an idle, just-opened connection gives the TCB of one that has sent
 * 2^32 - 1 - k bytes and has k to go before SND.UNA meets ISS again (the
 * send ring's offsets are the same either way).  That needs the inside of
 * the TCB, so this test, alone, includes stack_impl.h.
 *
 * Three ways a stack can trip there, each checked: the peer acknowledges
 * exactly ISS with data still in flight; it acknowledges everything there;
 * and a plain transfer, both ways, across 2^32 -> 0 and across ISS, clean
 * and through faults.
 */
#include <string.h>

#include "../stack_impl.h"
#include "duplex.h"
#include "tcpip/config.h"
#include "tcpip/tcp.h"
#include "vec.h"
#include "virt.h"

#define MSS 1460u

/* Writes len bytes of the pattern from offset from; true if all were taken. */
static bool write_pattern(struct stack *st, stack_time_ms now, int conn, uint32_t from,
			  uint32_t len)
{
	static uint8_t buf[TCPIP_TCP_SND_BUF];

	for (uint32_t i = 0; i < len; i++)
		buf[i] = duplex_byte(from + i);
	return len <= sizeof buf && tcp_write(st, now, conn, buf, len) == (long)len;
}

/* Moves conn on as if it had sent 2^32 - 1 - ahead bytes, all acknowledged:
 * SND.UNA meets ISS again after `ahead` more bytes. */
static void move_on(struct stack *st, int conn, uint32_t ahead)
{
	struct tcp_tcb *tcb = &st->tcb[conn];

	tcb->iss = tcb->snd_una + ahead;
}

/* An active open to the peer's port 80, answered: the connection, open,
 * with Nagle off; *syn is our SYN. */
static int opened(struct stack *st, struct sent *sent, struct tcp_hdr *syn)
{
	int conn = open_to_peer(st, sent, syn);

	CHECK(conn >= 0 && tcp_conn_state(st, conn) == TCP_ESTABLISHED, "open");
	tcp_set_nodelay(st, 0, conn, true);
	sent->count = 0;
	return conn;
}

/* The peer acknowledges ack (its own sequence number 8). */
static void peer_acks(struct stack *st, stack_time_ms now, const struct tcp_hdr *syn, uint32_t ack)
{
	uint8_t frame[64];

	stack_input(st, now, frame, tcp_frame(frame, 80, syn->sport, TCP_ACK, 8, ack));
}

/* The index of the n-th TCP segment sent (from 0), or -1. */
static int nth_segment(const struct sent *sent, int n)
{
	struct tcp_hdr hdr;

	for (int i = 0; i < sent->count; i++)
		if (sent_tcp(sent, i, &hdr) && n-- == 0)
			return i;
	return -1;
}

/* True if the n-th TCP segment sent is at seq and carries len bytes of the
 * pattern from offset from. */
static bool sent_bytes(const struct sent *sent, int n, uint32_t seq, uint32_t from, uint32_t len)
{
	int i = nth_segment(sent, n);
	struct tcp_hdr hdr;
	const uint8_t *text;

	if (i < 0 || !sent_tcp(sent, i, &hdr) || hdr.seq != seq ||
	    sent->len[i] != 34 + hdr.hdr_len + len)
		return false;
	text = sent->frame[i] + 34 + hdr.hdr_len;
	for (uint32_t j = 0; j < len; j++)
		if (text[j] != duplex_byte(from + j))
			return false;
	return true;
}

/* The peer acknowledges exactly ISS while three segments are still in
 * flight: the first of them, sent again by the timer, is the stream's bytes
 * at their place, and so is what follows the full ACK. */
static void test_ack_at_iss_in_flight(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	struct tcp_hdr syn, seg;
	int conn = opened(st, &sent, &syn);
	uint32_t start = syn.seq + 1, iss = start + 2 * MSS;
	stack_time_ms rto_at;

	move_on(st, conn, 2 * MSS);
	CHECK(write_pattern(st, 0, conn, 0, 5 * MSS), "5 segments written");
	CHECK(tcp_count(&sent) == 5 && sent_bytes(&sent, 2, iss, 2 * MSS, MSS), "5 segments sent");
	peer_acks(st, 10, &syn, iss);
	sent.count = 0;
	rto_at = stack_next_deadline(st);
	CHECK(rto_at <= 10 + TCPIP_TCP_RTO_MAX_MS, "the timer runs for what is in flight");
	stack_poll(st, rto_at);
	CHECK(tcp_count(&sent) == 1 && sent_bytes(&sent, 0, iss, 2 * MSS, MSS),
	      "the timer sends the segment at ISS again, with bytes 2920.. (%d segments; seq %u)",
	      tcp_count(&sent),
	      sent_tcp(&sent, nth_segment(&sent, 0), &seg) ? seg.seq - start : 0);
	peer_acks(st, rto_at + 10, &syn, start + 5 * MSS);
	CHECK(tcp_writable(st, conn) == TCPIP_TCP_SND_BUF, "all acknowledged: the buffer is free (%zu)",
	      tcp_writable(st, conn));
	sent.count = 0;
	CHECK(write_pattern(st, rto_at + 20, conn, 5 * MSS, 100), "100 more written");
	CHECK(tcp_count(&sent) == 1 && sent_bytes(&sent, 0, start + 5 * MSS, 5 * MSS, 100),
	      "and sent at their place with their bytes");
	stack_free(st);
}

/* Everything in flight is acknowledged at exactly ISS: nothing is
 * outstanding, no timer runs, and new data goes at once from ISS. */
static void test_all_acked_at_iss(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	struct tcp_hdr syn;
	int conn = opened(st, &sent, &syn);
	uint32_t iss = syn.seq + 1 + 3 * MSS;

	move_on(st, conn, 3 * MSS);
	CHECK(write_pattern(st, 0, conn, 0, 3 * MSS) && tcp_count(&sent) == 3, "3 segments sent");
	peer_acks(st, 10, &syn, iss);
	CHECK(tcp_writable(st, conn) == TCPIP_TCP_SND_BUF, "the buffer is free (%zu)",
	      tcp_writable(st, conn));
	CHECK(st->tcb[conn].timer_at == STACK_NO_DEADLINE, "no timer: nothing is outstanding");
	sent.count = 0;
	CHECK(write_pattern(st, 20, conn, 3 * MSS, 1000), "1000 more written");
	CHECK(tcp_count(&sent) == 1 && sent_bytes(&sent, 0, iss, 3 * MSS, 1000),
	      "sent at once, from ISS, with bytes 4380.. (%d segments)", tcp_count(&sent));
	stack_free(st);
}

/* What the transfer across the wrap needs of each end. */
struct wrap_plan {
	uint32_t iss_a;          /* A's ISS as first chosen (the probe's finding) */
	uint32_t want_a;         /* where A's data should start */
	bool checked_a;
};

/* duplex_hook for the probe: notes A's ISS. */
static void note_iss(struct stack *st, int conn, int end, void *ctx)
{
	if (end == 0)
		((struct wrap_plan *)ctx)->iss_a = st->tcb[conn].iss;
}

/* duplex_hook for the transfer: A's data starts just before 2^32, and each
 * end meets its ISS again some way into the stream, at an ACK's place. */
static void wrap_ends(struct stack *st, int conn, int end, void *ctx)
{
	struct wrap_plan *plan = ctx;
	uint32_t start = st->tcb[conn].snd_una;

	if (end == 0) {
		plan->checked_a = plan->want_a - start < 250;
		move_on(st, conn, 171 * 2 * MSS);    /* byte 499,320 of A's stream */
	} else {
		move_on(st, conn, 240 * 2 * MSS);    /* byte 700,800 of B's */
	}
}

/* A million bytes each way, A's sequence numbers crossing 2^32 -> 0 at
 * about byte 300,000, both ends passing their ISS, clean and with faults. */
static void test_transfer_across(void)
{
	struct wrap_plan plan = {0};
	struct duplex_run probe = {.name = "test_tcp_wrap: probe", .bytes = 0,
				   .established = note_iss, .ctx = &plan};
	struct duplex_run run = {.bytes = 1000000, .established = wrap_ends, .ctx = &plan};

	duplex_transfer(&probe);
	/* The ISN's clock runs at 250 a millisecond (RFC 9293 3.4.1): connect
	 * later, by as many milliseconds as it takes to reach want_a. */
	plan.want_a = 0u - 300000u;
	run.connect_at = (stack_time_ms)((uint32_t)(plan.want_a - 1 - plan.iss_a) / 250);
	run.name = "test_tcp_wrap: clean across 2^32 and ISS";
	duplex_transfer(&run);
	CHECK(plan.checked_a, "A's data started within 250 of 2^32 - 300000");
	run.name = "test_tcp_wrap: faults across 2^32 and ISS";
	run.faults = (struct faults){30, 10, 30, 5};
	run.seed = 8;
	plan.checked_a = false;
	duplex_transfer(&run);
	CHECK(plan.checked_a, "A's data started within 250 of 2^32 - 300000, again");
}

int main(void)
{
	test_ack_at_iss_in_flight();
	test_all_acked_at_iss();
	test_transfer_across();
	return test_report("test_tcp_wrap");
}
