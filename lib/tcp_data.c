/*
 * tcp_data.c - TCP's bytes (RFC 9293 3.8, RFC 6298, RFC 1122 4.2.3): the
 * send and receive rings, what goes out and when, retransmission, the
 * round-trip estimator, reassembly, and the calls that read and write.
 *
 * Sending: the usable window is the peer's window, capped at
 * TCPIP_TCP_MAX_INFLIGHT_SEGS full segments (no congestion control until
 * chapter 8), less what is in flight; Nagle (MUST-17) and sender SWS
 * avoidance (MUST-38) hold small segments back.  Receiving: out-of-order
 * pieces are kept in the ring at their place (at most TCPIP_TCP_OOO_RANGES),
 * the offered window never shrinks and grows only by useful steps (MUST-39),
 * and ACKs are delayed at most TCPIP_TCP_DELACK_MS, never past the second
 * full segment (SHLD-18, MUST-40, SHLD-19).
 * Limits: no urgent data; no window scaling, SACK or timestamps.
 */
#include <string.h>

#include "stack_impl.h"

#define TCP_SND_MASK (TCPIP_TCP_SND_BUF - 1)
#define TCP_RCV_MASK (TCPIP_TCP_RCV_BUF - 1)

/* 1 while our SYN is unacknowledged (it takes sequence ISS), else 0. */
static uint32_t tcp_syn_out(const struct tcp_tcb *tcb)
{
	return tcb->syn_acked ? 0 : 1;
}

/* 1 while our FIN is sent and unacknowledged, else 0. */
static uint32_t tcp_fin_out(const struct tcp_tcb *tcb)
{
	return tcb->fin_sent && !tcb->fin_acked ? 1 : 0;
}

/* Bytes of data sent and not yet acknowledged. */
static uint32_t tcp_data_in_flight(const struct tcp_tcb *tcb)
{
	return tcb->snd_nxt - tcb->snd_una - tcp_syn_out(tcb) - tcp_fin_out(tcb);
}

/* Bytes of data queued and not yet sent. */
static uint32_t tcp_unsent(const struct tcp_tcb *tcb)
{
	return tcb->snd_len - tcp_data_in_flight(tcb);
}

/* The sequence number of the first byte in the send ring. */
static uint32_t tcp_data_seq(const struct tcp_tcb *tcb)
{
	return tcb->snd_una + tcp_syn_out(tcb);
}

uint16_t tcp_offer_window(struct tcp_tcb *tcb)
{
	uint32_t free_bytes = TCPIP_TCP_RCV_BUF - tcb->rcv_len;
	uint32_t edge, step = TCPIP_MTU - 40;

	if (tcb->state == TCP_SYN_SENT)
		return TCPIP_TCP_RCV_WND;     /* nothing received yet: the whole buffer */
	if (free_bytes > TCPIP_TCP_RCV_WND)
		free_bytes = TCPIP_TCP_RCV_WND;
	if (step > TCPIP_TCP_RCV_BUF / 2)
		step = TCPIP_TCP_RCV_BUF / 2;
	edge = tcb->rcv_nxt + free_bytes;
	/* RFC 9293 3.8.6.2.2: move the right edge only by a useful step, never
	 * back. */
	if (seq_gt(edge, tcb->rcv_adv) && edge - tcb->rcv_adv >= step)
		tcb->rcv_adv = edge;
	tcb->rcv_wnd = seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
	return (uint16_t)tcb->rcv_wnd;
}

/* RTO = SRTT + max(G, 4 RTTVAR) (RFC 6298 2.3, a clock granularity G of
 * 1 ms), kept within 1 s (2.4) and 60 s (2.5); 1 s before any sample (2.1). */
static void tcp_rto_compute(struct tcp_tcb *tcb)
{
	uint32_t var4 = 4 * tcb->rttvar_ms > 1 ? 4 * tcb->rttvar_ms : 1;

	tcb->rto_ms = tcb->has_srtt ? tcb->srtt_ms + var4 : TCPIP_TCP_RTO_INIT_MS;
	if (tcb->rto_ms < TCPIP_TCP_RTO_MIN_MS)
		tcb->rto_ms = TCPIP_TCP_RTO_MIN_MS;
	if (tcb->rto_ms > TCPIP_TCP_RTO_MAX_MS)
		tcb->rto_ms = TCPIP_TCP_RTO_MAX_MS;
}

void tcp_rtt_sample(struct tcp_tcb *tcb, uint32_t rtt_ms)
{
	/* RFC 6298 2.2 and 2.3, with a clock granularity of 1 ms. */
	if (!tcb->has_srtt) {
		tcb->srtt_ms = rtt_ms;
		tcb->rttvar_ms = rtt_ms / 2;
		tcb->has_srtt = true;
	} else {
		uint32_t diff = tcb->srtt_ms > rtt_ms ? tcb->srtt_ms - rtt_ms : rtt_ms - tcb->srtt_ms;

		tcb->rttvar_ms = (3 * tcb->rttvar_ms + diff) / 4;
		tcb->srtt_ms = (7 * tcb->srtt_ms + rtt_ms) / 8;
	}
	tcp_rto_compute(tcb);
}

/* Copies len bytes of the send ring from sequence seq into out. */
static void tcp_ring_read(const uint8_t *ring, uint32_t mask, uint32_t seq, uint8_t *out,
			  uint32_t len)
{
	uint32_t at = seq & mask, first = len < mask + 1 - at ? len : mask + 1 - at;

	memcpy(out, ring + at, first);
	memcpy(out + first, ring, len - first);
}

/* Copies len bytes from in into a ring at sequence seq. */
static void tcp_ring_write(uint8_t *ring, uint32_t mask, uint32_t seq, const uint8_t *in,
			   uint32_t len)
{
	uint32_t at = seq & mask, first = len < mask + 1 - at ? len : mask + 1 - at;

	memcpy(ring + at, in, first);
	memcpy(ring, in + first, len - first);
}

/* Sends len bytes of the send ring from seq, with flags (ACK always). */
static int tcp_send_bytes(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
			  uint32_t len, uint8_t flags)
{
	uint8_t text[TCPIP_MTU];

	tcp_ring_read(tcb->snd_buf, TCP_SND_MASK, seq, text, len);
	return tcp_send_text(st, now, tcb, seq, flags | TCP_ACK, text, len);
}

/* The data in flight that the cap counts: each duplicate ACK says one more
 * segment has left the network (RFC 3042's limited transmit and RFC 5681
 * 3.2's window inflation, with the cap in cwnd's place), so new segments
 * keep the ACKs coming while a hole is repaired. */
static uint32_t tcp_pipe(const struct tcp_tcb *tcb)
{
	uint32_t in_flight = tcp_data_in_flight(tcb);
	uint64_t left = (uint64_t)tcb->dupacks * tcb->snd_mss;

	return in_flight > left ? in_flight - (uint32_t)left : 0;
}

/* How many bytes the next new segment may carry now: at most one MSS, the
 * unsent bytes, the peer's usable window and the cap; then Nagle and sender
 * SWS avoidance (RFC 9293 3.8.6.2.1) may hold a small one back (0). */
static uint32_t tcp_next_len(const struct tcp_tcb *tcb)
{
	uint32_t unsent = tcp_unsent(tcb), in_flight = tcp_data_in_flight(tcb), pipe = tcp_pipe(tcb);
	uint32_t cap = (uint32_t)TCPIP_TCP_MAX_INFLIGHT_SEGS * tcb->snd_mss;
	uint32_t usable = tcb->snd_wnd > in_flight ? tcb->snd_wnd - in_flight : 0;
	uint32_t room = cap > pipe ? cap - pipe : 0;
	uint32_t len = unsent < tcb->snd_mss ? unsent : tcb->snd_mss;
	bool urgent = tcb->snd_urgent && seq_lt(tcb->snd_nxt, tcb->snd_up);

	if (usable > room)
		usable = room;

	if (len > usable)
		len = usable;
	if (len == 0 || len == tcb->snd_mss)
		return len;
	if (len < unsent) /* the window cuts it short: only if it is worth it */
		return len >= tcb->max_snd_wnd / 2 ? len : 0;
	/* The last bytes queued: Nagle waits for the ACK of what is in flight,
	 * unless they are urgent (urgent data goes at once, as BSD's). */
	return in_flight == 0 || tcb->nodelay || urgent ? len : 0;
}

/* True in the states where our side may still send data or a FIN: after a
 * close, data queued before it still goes, then the FIN (so also in
 * CLOSING, reached when the peer's FIN came first). */
static bool tcp_may_send(const struct tcp_tcb *tcb)
{
	return tcb->state == TCP_ESTABLISHED || tcb->state == TCP_CLOSE_WAIT ||
	       tcb->state == TCP_FIN_WAIT_1 || tcb->state == TCP_CLOSING ||
	       tcb->state == TCP_LAST_ACK;
}

void tcp_output(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	if (!tcp_may_send(tcb) || tcb->fin_sent)
		return;
	/* Bounded: each pass sends at least a byte of the ring, or stops. */
	for (int pass = 0; pass < TCPIP_TCP_SND_BUF; pass++) {
		uint32_t len = tcp_next_len(tcb), unsent = tcp_unsent(tcb);
		uint8_t flags = 0;

		if (len == 0)
			break;
		if (len == unsent)
			flags |= TCP_PSH;
		if (len == unsent && tcb->shut_wr)
			flags |= TCP_FIN;        /* the FIN rides on the last data */
		if (!tcb->rtt_timing) {          /* time this segment (RFC 6298 3) */
			tcb->rtt_timing = true;
			tcb->rtt_seq = tcb->snd_nxt;
			tcb->rtt_start = now;
		}
		tcp_send_bytes(st, now, tcb, tcb->snd_nxt, len, flags);
		tcb->snd_nxt += len;
		if (flags & TCP_FIN) {
			tcb->fin_sent = true;
			tcb->snd_fin = tcb->snd_nxt++;
		}
		if (tcb->timer_at == STACK_NO_DEADLINE)
			tcp_timer_rtx(tcb, now);
	}
	if (tcb->shut_wr && !tcb->fin_sent && tcp_unsent(tcb) == 0) {
		tcb->fin_sent = true;
		tcb->snd_fin = tcb->snd_nxt++;
		tcp_send(st, now, tcb, tcb->snd_fin, TCP_FIN | TCP_ACK);
		if (tcb->timer_at == STACK_NO_DEADLINE)
			tcp_timer_rtx(tcb, now);
	}
	/* Data waiting and nothing in flight to bring an ACK: a zero window is
	 * probed after the RTO, a small one used after the override timeout. */
	if (tcb->timer_at == STACK_NO_DEADLINE && tcp_unsent(tcb) > 0) {
		if (tcb->snd_wnd == 0)
			tcp_timer_rtx(tcb, now);
		else if (tcp_data_in_flight(tcb) == 0 && !tcb->fin_sent)
			tcb->timer_at = now + TCPIP_TCP_SWS_OVERRIDE_MS;
	}
}

bool tcp_sws_override(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	uint32_t unsent = tcp_unsent(tcb), len = unsent < tcb->snd_mss ? unsent : tcb->snd_mss;

	if (tcp_data_in_flight(tcb) > 0 || tcb->fin_sent || unsent == 0 || tcb->snd_wnd == 0)
		return false;
	/* RFC 9293 3.8.6.2.1 (d): the override timeout; send what the window
	 * holds (PSH only if that ends what was written). */
	if (len > tcb->snd_wnd)
		len = tcb->snd_wnd;
	tcp_send_bytes(st, now, tcb, tcb->snd_nxt, len, len == unsent ? TCP_PSH : 0);
	tcb->snd_nxt += len;
	tcp_timer_rtx(tcb, now);
	return true;
}

bool tcp_retransmit_data(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	uint32_t data = tcp_data_in_flight(tcb);
	uint32_t len = data < tcb->snd_mss ? data : tcb->snd_mss;
	/* A repeat that reaches the end of what was written pushes it, as the
	 * segment first sent there did (tcp_output()). */
	uint8_t flags = len > 0 && len == data && tcp_unsent(tcb) == 0 ? TCP_PSH : 0;

	if (len == data && tcp_fin_out(tcb))
		flags |= TCP_FIN;

	tcb->rtt_timing = false;             /* Karn: no sample from a repeat */
	if (data == 0 && !tcp_fin_out(tcb)) {
		if (tcp_unsent(tcb) == 0 || tcb->snd_wnd != 0)
			return false;
		/* RFC 9293 3.8.6.1: probe a zero window with one byte of new data. */
		tcp_send_bytes(st, now, tcb, tcb->snd_nxt, 1, 0);
		tcb->snd_nxt++;
		tcb->probing = true;
		return true;
	}
	tcp_send_bytes(st, now, tcb, tcp_data_seq(tcb), len, flags);
	/* The segments in flight behind this one may bring a duplicate ACK
	 * each; more than that (and three for reordering) means segments sent
	 * after it arrived and it did not: it was lost too (tcp_dup_ack()). */
	tcb->rtx_lost_at = (data - len + tcb->snd_mss - 1) / tcb->snd_mss;
	if (tcb->rtx_lost_at < tcb->dupacks)
		tcb->rtx_lost_at = tcb->dupacks;
	tcb->rtx_lost_at += 3;
	return true;
}

void tcp_data_acked(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t ack)
{
	uint32_t acked = ack - tcp_data_seq(tcb);
	uint32_t data = acked < tcb->snd_len ? acked : tcb->snd_len;

	if (tcb->rtt_timing && seq_gt(ack, tcb->rtt_seq)) {
		tcp_rtt_sample(tcb, (uint32_t)(now - tcb->rtt_start));
		tcb->rtt_timing = false;
	}
	tcb->snd_una = ack;
	tcb->snd_len -= data;
	if (tcb->fin_sent && seq_gt(ack, tcb->snd_fin))
		tcb->fin_acked = true;
	if (tcb->snd_urgent && !seq_lt(ack, tcb->snd_up))
		tcb->snd_urgent = false;         /* the urgent data is acknowledged */
	tcb->retries = 0;
	tcb->probing = false;
	/* RFC 6582 3.2 (NewReno's rule for loss): an ACK that covers only part
	 * of what was in flight at the fast retransmit means the next segment
	 * was lost too: send it at once.  Step 4's window deflation, with our
	 * cap for cwnd: the duplicates still count the segments that left the
	 * network, less those this ACK covers, plus one for the repair. */
	if (tcb->recovering && seq_lt(ack, tcb->recover) && tcp_data_in_flight(tcb) > 0) {
		unsigned covered = acked / tcb->snd_mss;

		tcb->dupacks = (tcb->dupacks > covered ? tcb->dupacks - covered : 0) + 1;
		st->counters.tcp_fast_retransmits++;
		tcp_retransmit_data(st, now, tcb);
	} else {
		tcb->dupacks = 0;
		tcb->recovering = false;
	}
	/* RFC 6298 5.2, 5.3: stop the timer when all is acknowledged, else
	 * restart it for what remains. */
	tcb->timer_at = STACK_NO_DEADLINE;
	if (tcb->snd_nxt != tcb->snd_una)
		tcp_timer_rtx(tcb, now);
	if (data > 0)
		tcp_emit_event(st, tcb, EV_TCP_WRITABLE);
}

void tcp_window_opened(struct tcp_tcb *tcb)
{
	/* The probe's byte may have been lost, or refused: take it back, so
	 * tcp_output() sends it first (Linux's probes carry no data, so its
	 * data starts at SND.UNA too).  The probes' backoff was the persist
	 * timer's (RFC 9293 3.8.6.1), no sign of loss: the RTO goes back to the
	 * estimate, and tcp_output() starts the timer afresh. */
	tcb->probing = false;
	tcb->snd_nxt = tcb->snd_una;
	tcb->retries = 0;
	tcb->rtt_timing = false;
	tcp_rto_compute(tcb);
	tcb->timer_at = STACK_NO_DEADLINE;
}

void tcp_dup_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	bool repairing = tcb->recovering && seq_lt(tcb->snd_una, tcb->recover);

	++tcb->dupacks;
	/* A lost repair: duplicates still come from segments sent after it
	 * (limited transmit keeps them going).  Without SACK only the count
	 * can say so; waiting for the timer would cost a second or more. */
	if (repairing && tcb->dupacks >= tcb->rtx_lost_at) {
		st->counters.tcp_fast_retransmits++;
		tcp_retransmit_data(st, now, tcb);
		return;
	}
	if (tcb->dupacks != 3 || repairing)
		return;
	/* The third duplicate: the first unacknowledged segment is sent again
	 * at once (fast retransmit, RFC 5681 3.2), the timer left as it is. */
	st->counters.tcp_fast_retransmits++;
	tcb->recovering = true;
	tcb->recover = tcb->snd_nxt;
	tcp_retransmit_data(st, now, tcb);
}

/* Adds [start, end) to the out-of-order pieces, merging; false if it would
 * need more than TCPIP_TCP_OOO_RANGES pieces. */
static bool tcp_ooo_add(struct tcp_tcb *tcb, uint32_t start, uint32_t end)
{
	unsigned i = 0, j;

	while (i < tcb->ooo_count && seq_lt(tcb->ooo_end[i], start))
		i++;
	/* Pieces i..j-1 touch or overlap [start, end): they merge into one. */
	for (j = i; j < tcb->ooo_count && seq_le(tcb->ooo_start[j], end); j++) {
		if (seq_lt(tcb->ooo_start[j], start))
			start = tcb->ooo_start[j];
		if (seq_gt(tcb->ooo_end[j], end))
			end = tcb->ooo_end[j];
	}
	if (j == i && tcb->ooo_count == TCPIP_TCP_OOO_RANGES)
		return false;
	memmove(&tcb->ooo_start[i + 1], &tcb->ooo_start[j], (tcb->ooo_count - j) * sizeof start);
	memmove(&tcb->ooo_end[i + 1], &tcb->ooo_end[j], (tcb->ooo_count - j) * sizeof end);
	tcb->ooo_count = tcb->ooo_count - (j - i) + 1;
	tcb->ooo_start[i] = start;
	tcb->ooo_end[i] = end;
	return true;
}

/* Moves RCV.NXT over the out-of-order pieces it now reaches. */
static void tcp_ooo_join(struct tcp_tcb *tcb)
{
	while (tcb->ooo_count > 0 && seq_le(tcb->ooo_start[0], tcb->rcv_nxt)) {
		if (seq_gt(tcb->ooo_end[0], tcb->rcv_nxt)) {
			tcb->rcv_len += tcb->ooo_end[0] - tcb->rcv_nxt;
			tcb->rcv_nxt = tcb->ooo_end[0];
		}
		tcb->ooo_count--;
		memmove(&tcb->ooo_start[0], &tcb->ooo_start[1], tcb->ooo_count * sizeof(uint32_t));
		memmove(&tcb->ooo_end[0], &tcb->ooo_end[1], tcb->ooo_count * sizeof(uint32_t));
	}
}

/* After text arrived in order: an ACK now for every second full segment
 * (SHLD-19) or when a gap was filled (RFC 5681 4.2), else within
 * TCPIP_TCP_DELACK_MS (MUST-40). */
static void tcp_ack_policy(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb,
			   uint32_t len, bool filled_gap)
{
	if (len >= tcb->snd_mss || len >= TCPIP_MTU - 40)
		tcb->unacked_full++;
	if (filled_gap || tcb->unacked_full >= 2) {
		tcp_send_ack(st, now, tcb);
		return;
	}
	if (tcb->delack_at == STACK_NO_DEADLINE)
		tcb->delack_at = now + TCPIP_TCP_DELACK_MS;
}

bool tcp_text_arrives(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
		      const uint8_t *text, uint32_t len)
{
	uint32_t room = TCPIP_TCP_RCV_BUF - tcb->rcv_len, edge = tcb->rcv_nxt + room;
	bool had_gap = tcb->ooo_count > 0;

	if (seq_lt(tcb->rcv_adv, edge)) /* never past the window we offered */
		edge = seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv : tcb->rcv_nxt;

	if (seq_lt(seq, tcb->rcv_nxt)) {           /* trim what we have already */
		uint32_t old = tcb->rcv_nxt - seq;

		if (old >= len)
			return tcp_send_ack(st, now, tcb), false; /* a duplicate: say where we are */
		seq += old;
		text += old;
		len -= old;
	}
	if (seq_gt(seq + len, edge))              /* trim what the buffer cannot hold */
		len = seq_lt(seq, edge) ? edge - seq : 0;
	if (len == 0)
		return tcp_send_ack(st, now, tcb), false;
	if (seq != tcb->rcv_nxt) {                /* out of order: keep it, ACK at once */
		if (tcp_ooo_add(tcb, seq, seq + len))
			tcp_ring_write(tcb->rcv_buf, TCP_RCV_MASK, seq, text, len);
		else
			st->counters.tcp_ooo_dropped++;
		tcp_send_ack(st, now, tcb);
		return false;
	}
	tcp_ring_write(tcb->rcv_buf, TCP_RCV_MASK, seq, text, len);
	tcb->rcv_nxt += len;
	tcb->rcv_len += len;
	tcp_ooo_join(tcb);
	tcp_emit_event(st, tcb, EV_TCP_READABLE);
	/* A FIN kept beyond the gap is taken next, and its ACK covers this. */
	if (!tcb->fin_waiting || tcb->rcv_nxt != tcb->fin_waiting_seq)
		tcp_ack_policy(st, now, tcb, len, had_gap);
	return true;
}

void tcp_delack_poll(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	if (tcb->delack_at <= now)
		tcp_send_ack(st, now, tcb);
}

/* The TCB of conn if it is a connection, else NULL. */
static struct tcp_tcb *tcp_open_conn(struct stack *st, int conn)
{
	if (conn < 0 || conn >= TCPIP_TCP_CONNS || st->tcb[conn].state == TCP_CLOSED)
		return NULL;
	return &st->tcb[conn];
}

/* tcp_write() and tcp_write_urgent(): queues what fits, SND.UP after it if
 * urgent, and sends what may go now. */
static long tcp_write_data(struct stack *st, stack_time_ms now, int conn, const uint8_t *data,
			   size_t len, bool urgent)
{
	struct tcp_tcb *tcb = tcp_open_conn(st, conn);
	uint32_t room, take;

	if (!tcb || tcb->shut_wr ||
	    (tcb->state != TCP_ESTABLISHED && tcb->state != TCP_CLOSE_WAIT))
		return -1;
	room = TCPIP_TCP_SND_BUF - tcb->snd_len;
	take = len < room ? (uint32_t)len : room;
	tcp_ring_write(tcb->snd_buf, TCP_SND_MASK, tcp_data_seq(tcb) + tcb->snd_len, data, take);
	tcb->snd_len += take;
	if (urgent && take > 0) {                /* RFC 9293 3.10.2: SND.UP <- SND.NXT */
		tcb->snd_urgent = true;
		tcb->snd_up = tcp_data_seq(tcb) + tcb->snd_len;
	}
	tcp_output(st, now, tcb);
	return take;
}

long tcp_write(struct stack *st, stack_time_ms now, int conn, const uint8_t *data, size_t len)
{
	return tcp_write_data(st, now, conn, data, len, false);
}

long tcp_write_urgent(struct stack *st, stack_time_ms now, int conn, const uint8_t *data,
		      size_t len)
{
	return tcp_write_data(st, now, conn, data, len, true);
}

/* The sequence number of the next byte tcp_read() gives: the unread bytes
 * end at RCV.NXT, or at the FIN's number once the FIN (which RCV.NXT
 * counts) has come. */
static uint32_t tcp_read_seq(const struct tcp_tcb *tcb)
{
	return (tcb->rcv_fin ? tcb->rcv_fin_seq : tcb->rcv_nxt) - tcb->rcv_len;
}

long tcp_read(struct stack *st, stack_time_ms now, int conn, uint8_t *buf, size_t cap)
{
	struct tcp_tcb *tcb = tcp_open_conn(st, conn);
	uint32_t take, before;

	if (!tcb)
		return -1;
	take = cap < tcb->rcv_len ? (uint32_t)cap : tcb->rcv_len;
	tcp_ring_read(tcb->rcv_buf, TCP_RCV_MASK, tcp_read_seq(tcb), buf, take);
	tcb->rcv_len -= take;
	if (tcb->rcv_urgent && !seq_gt(tcb->rcv_up, tcp_read_seq(tcb)))
		tcb->rcv_urgent = false;         /* all urgent data read: out of urgent mode */
	/* A window update when reading opened a useful step (RFC 9293 3.8.6.2.2). */
	before = tcb->rcv_adv;
	if (take > 0 && tcb->state != TCP_SYN_RECEIVED) {
		tcp_offer_window(tcb);
		if (tcb->rcv_adv != before)
			tcp_send_ack(st, now, tcb);
	}
	return take;
}

size_t tcp_readable(const struct stack *st, int conn)
{
	return conn >= 0 && conn < TCPIP_TCP_CONNS ? st->tcb[conn].rcv_len : 0;
}

size_t tcp_writable(const struct stack *st, int conn)
{
	const struct tcp_tcb *tcb;

	if (conn < 0 || conn >= TCPIP_TCP_CONNS)
		return 0;
	tcb = &st->tcb[conn];
	if (tcb->shut_wr || (tcb->state != TCP_ESTABLISHED && tcb->state != TCP_CLOSE_WAIT))
		return 0;
	return TCPIP_TCP_SND_BUF - tcb->snd_len;
}

bool tcp_peer_done(const struct stack *st, int conn)
{
	const struct tcp_tcb *tcb;

	if (conn < 0 || conn >= TCPIP_TCP_CONNS)
		return true;
	tcb = &st->tcb[conn];
	return tcb->state == TCP_CLOSED || (tcb->rcv_fin && tcb->rcv_len == 0);
}

size_t tcp_urgent_pending(const struct stack *st, int conn)
{
	const struct tcp_tcb *tcb;

	if (conn < 0 || conn >= TCPIP_TCP_CONNS)
		return 0;
	tcb = &st->tcb[conn];
	if (tcb->state == TCP_CLOSED || !tcb->rcv_urgent || !seq_gt(tcb->rcv_up, tcp_read_seq(tcb)))
		return 0;
	return tcb->rcv_up - tcp_read_seq(tcb);
}

void tcp_urg_input(struct stack *st, struct tcp_tcb *tcb, const struct tcp_hdr *hdr)
{
	uint32_t up = hdr->seq + hdr->urg;

	/* RFC 9293 3.10.7.4, sixth: only while the peer may still send. */
	if (!(hdr->flags & TCP_URG) || (tcb->state != TCP_ESTABLISHED &&
					tcb->state != TCP_FIN_WAIT_1 && tcb->state != TCP_FIN_WAIT_2))
		return;
	/* RCV.UP <- max(RCV.UP, SEG.UP); the application hears when it is new
	 * or moves on past what it has read (MUST-32). */
	if (tcb->rcv_urgent && !seq_gt(up, tcb->rcv_up))
		return;
	tcb->rcv_urgent = true;
	tcb->rcv_up = up;
	if (seq_gt(up, tcp_read_seq(tcb)))
		tcp_emit_event(st, tcb, EV_TCP_URGENT);
}

int tcp_set_nodelay(struct stack *st, stack_time_ms now, int conn, bool on)
{
	struct tcp_tcb *tcb = tcp_open_conn(st, conn);

	if (!tcb)
		return -1;
	tcb->nodelay = on;
	tcp_output(st, now, tcb);
	return 0;
}
