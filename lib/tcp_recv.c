/*
 * tcp_recv.c - text arriving on a connection (RFC 9293 3.10.7.4, sixth and
 * seventh): trimmed to what is new and what the window offered holds,
 * written into the receive ring at its place, kept out of order (at most
 * TCPIP_TCP_OOO_RANGES pieces) and joined when the gap fills; the ACK sent
 * at once or delayed (3.8.6.3, RFC 1122 4.2.3.2: at most TCPIP_TCP_DELACK_MS
 * and never past the second full segment, SHLD-18, MUST-40, SHLD-19; at once
 * when a gap is filled, RFC 5681 4.2); and the peer's urgent pointer (3.8.5).
 *
 * Limits: a piece that would need more ranges is dropped (counted) and
 * sent again by the peer; no SACK tells the peer what we hold.
 */
#include <string.h>

#include "stack_impl.h"
#include "tcp_impl.h"
#include "tcp_ring.h"

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
	if (len >= tcb->snd_mss || len >= TCP_LINK_MSS)
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

		if (old >= len) {          /* a duplicate: say where we are */
			tcp_send_ack(st, now, tcb);
			return false;
		}
		seq += old;
		text += old;
		len -= old;
	}
	if (seq_gt(seq + len, edge))              /* trim what the buffer cannot hold */
		len = seq_lt(seq, edge) ? edge - seq : 0;
	if (len == 0) {
		tcp_send_ack(st, now, tcb);
		return false;
	}
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
