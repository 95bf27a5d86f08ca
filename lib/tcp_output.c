/*
 * tcp_output.c - what TCP sends (RFC 9293 3.8, 3.10): segments, resets
 * (3.10.7.1, 3.10.5) and challenge ACKs (RFC 5961 7); the window we offer,
 * with receiver SWS avoidance (3.8.6.2.2, MUST-39); and tcp_output(), which
 * sends what the windows allow, with Nagle (MUST-17) and sender SWS
 * avoidance and its override timeout (3.8.6.2.1, MUST-38), the FIN after the
 * data, and, when the timer or loss recovery asks, the first unacknowledged
 * segment again or a zero-window probe (3.8.6.1).
 *
 * The usable window is the peer's, at most the room congestion control
 * leaves (tcp_send_room(), tcp_cc.c), which is told of every data segment
 * sent (tcp_cc_sent()).  Limits: a retransmission is one segment; a SYN
 * carries only the MSS option (no window scale, SACK or timestamps).
 */
#include <string.h>

#include "stack_impl.h"
#include "tcp_impl.h"
#include "tcp_ring.h"
#include "tcpip/bytes.h"
#include "tcpip/cksum.h"

/* Builds the segment hdr with text[0..text_len) and hands it to IPv4 for
 * dst, with tos as the DS field. */
static int tcp_output_segment(struct stack *st, stack_time_ms now, uint32_t dst, uint8_t tos,
			      const struct tcp_hdr *hdr, const uint8_t *text, uint32_t text_len)
{
	uint8_t seg[TCP_MAX_HDR_LEN + TCPIP_MTU];
	size_t hdr_len = tcp_emit(hdr, seg, sizeof seg), len = hdr_len + text_len;
	uint32_t pseudo = cksum_pseudo4(st->cfg.ip4_addr, dst, IPPROTO_NUM_TCP, (uint16_t)len);

	if (text_len > TCP_LINK_MSS)
		return -1;
	if (text_len)
		memcpy(seg + hdr_len, text, text_len);

	put_be16(seg + 16, cksum_finish(cksum_add(pseudo, seg, len)));
	st->counters.tcp_out++;
	if (hdr->flags & TCP_RST)
		st->counters.tcp_rsts_out++;
	return ip4_output(st, now, dst, IPPROTO_NUM_TCP, tos, seg, len);
}

/* tcp_send_text() with ecn as the IPv4 header's ECN codepoint. */
static int tcp_send_segment(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
			    uint8_t flags, const uint8_t *text, uint32_t len, uint8_t ecn)
{
	struct tcp_hdr hdr = {.sport = tcb->local_port, .dport = tcb->remote_port, .seq = seq,
			      .flags = flags | tcp_ecn_flags(tcb, flags)};

	if (!(flags & TCP_RST))
		hdr.win = tcp_offer_window(tcb);
	if (flags & TCP_ACK) {
		hdr.ack = tcb->rcv_nxt;
		tcb->delack_at = STACK_NO_DEADLINE; /* this ACK is the one that was owed */
		tcb->unacked_full = 0;
	}
	if (flags & TCP_SYN) { /* MUST-14: our MSS, from the link's MTU */
		hdr.opts.has_mss = true;
		hdr.opts.mss = TCP_LINK_MSS;
	}
	/* RFC 9293 3.8.5: every segment before SND.UP says where the urgent
	 * data ends (MUST-62), as far as 16 bits reach (MUST-31: any length). */
	if (tcb->snd_urgent && seq_lt(seq, tcb->snd_up) && !(flags & (TCP_SYN | TCP_RST))) {
		hdr.flags |= TCP_URG;
		hdr.urg = tcb->snd_up - seq > UINT16_MAX ? UINT16_MAX : (uint16_t)(tcb->snd_up - seq);
	}
	return tcp_output_segment(st, now, tcb->remote_addr, tcb->tos | ecn, &hdr, text, len);
}

int tcp_send_text(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
		  uint8_t flags, const uint8_t *text, uint32_t len)
{
	return tcp_send_segment(st, now, tcb, seq, flags, text, len, 0);
}

int tcp_send(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
	     uint8_t flags)
{
	return tcp_send_text(st, now, tcb, seq, flags, NULL, 0);
}

int tcp_send_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	return tcp_send(st, now, tcb, tcb->snd_nxt, TCP_ACK);
}

bool tcp_challenge_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	if (tcb->challenged && now - tcb->challenge_at < TCPIP_TCP_CHALLENGE_INTERVAL_MS) {
		st->counters.tcp_challenge_limited++;
		return false;
	}
	tcb->challenged = true;
	tcb->challenge_at = now;
	st->counters.tcp_challenge_acks++;
	tcp_send_ack(st, now, tcb);
	return true;
}

void tcp_send_reset(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
		    const struct tcp_hdr *seg, size_t text_len, const char *why)
{
	struct tcp_hdr rst = {.sport = seg->dport, .dport = seg->sport};
	struct stack_event ev = {.kind = EV_TCP_RST_OUT, .addr = ip->src, .target = ip->dst,
				 .conn = -1, .port = seg->sport, .local_port = seg->dport,
				 .why = why};

	if (seg->flags & TCP_RST)
		return;                 /* never a reset for a reset */
	if (seg->flags & TCP_ACK) {
		rst.seq = seg->ack;
		rst.flags = TCP_RST;
	} else {
		rst.ack = seg->seq + (uint32_t)text_len + !!(seg->flags & TCP_SYN) +
			  !!(seg->flags & TCP_FIN);
		rst.flags = TCP_RST | TCP_ACK;
	}
	if (tcp_output_segment(st, now, ip->src, 0, &rst, NULL, 0) == 0)
		event_emit(st, &ev);
}

void tcp_reset_conn(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, const char *why)
{
	struct stack_event ev = {.kind = EV_TCP_RST_OUT, .addr = tcb->remote_addr,
				 .target = st->cfg.ip4_addr, .conn = (int)(tcb - st->tcb),
				 .port = tcb->remote_port, .local_port = tcb->local_port, .why = why};

	if (tcp_send(st, now, tcb, tcb->snd_nxt, TCP_RST) == 0)
		event_emit(st, &ev);
	tcp_set_state(st, tcb, TCP_CLOSED);
}

uint16_t tcp_offer_window(struct tcp_tcb *tcb)
{
	uint32_t free_bytes = TCPIP_TCP_RCV_BUF - tcb->rcv_len;
	uint32_t edge, step = TCP_LINK_MSS;

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

/* What a segment of the send ring is. */
enum tcp_bytes {
	TCP_BYTES_NEW,               /* data sent for the first time */
	TCP_BYTES_AGAIN,             /* a repair */
	TCP_BYTES_PROBE,             /* a zero-window probe's byte */
};

/* Sends len bytes of the send ring from seq, with flags (ACK always), and
 * tells congestion control.  Only new data is ECN-capable (RFC 3168 6.1.5,
 * 6.1.6: not a repair, not a probe). */
static int tcp_send_bytes(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
			  uint32_t len, uint8_t flags, enum tcp_bytes kind)
{
	uint8_t text[TCPIP_MTU], ecn = 0;

	if (kind == TCP_BYTES_NEW)
		ecn = tcp_ecn_new_data(tcb, &flags);
	tcp_cc_sent(tcb, now, seq, len, kind == TCP_BYTES_AGAIN);
	tcp_ring_read(tcb->snd_buf, TCP_SND_MASK, seq, text, len);
	return tcp_send_segment(st, now, tcb, seq, flags | TCP_ACK, text, len, ecn);
}

/* How many bytes the next new segment may carry now: at most one MSS, the
 * unsent bytes and the peer's usable window, and nothing until congestion
 * control's room (tcp_send_room()) holds the whole segment; then Nagle and
 * sender SWS avoidance (RFC 9293 3.8.6.2.1) may hold a small one back (0). */
static uint32_t tcp_next_len(const struct tcp_tcb *tcb)
{
	uint32_t unsent = tcp_unsent(tcb), in_flight = tcp_data_in_flight(tcb);
	uint32_t usable = tcb->snd_wnd > in_flight ? tcb->snd_wnd - in_flight : 0;
	uint32_t room = tcp_send_room(tcb);
	uint32_t len = unsent < tcb->snd_mss ? unsent : tcb->snd_mss;
	bool urgent = tcb->snd_urgent && seq_lt(tcb->snd_nxt, tcb->snd_up);

	/* Congestion control's room is not a window to split: a segment it
	 * would cut short waits for the ACKs that make room. */
	if (room < len && in_flight > 0)
		return 0;
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

/* The flags of a repeat of len bytes from seq: one that reaches the end of
 * what was sent pushes it if that is all that was written, as the segment
 * first sent there did (tcp_output()), and carries the FIN again if the FIN
 * is out; others none. */
static uint8_t tcp_repeat_flags(const struct tcp_tcb *tcb, uint32_t seq, uint32_t len)
{
	uint8_t flags = 0;

	if (seq + len != tcp_data_seq(tcb) + tcp_data_in_flight(tcb))
		return 0;
	if (len > 0 && tcp_unsent(tcb) == 0)
		flags |= TCP_PSH;
	if (tcp_fin_out(tcb))
		flags |= TCP_FIN;
	return flags;
}

/* After a timeout (TCP_RECOVERY_RTO): sends again, in order from rtx_next,
 * what was in flight when the timer fired, as far as congestion control's
 * room goes (tcp_recovery_timeout() says why), flagged as any repeat is
 * (tcp_repeat_flags()). */
static void tcp_output_resend(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	uint32_t data_end = tcp_data_seq(tcb) + tcp_data_in_flight(tcb);
	uint32_t end = seq_lt(tcb->recover, data_end) ? tcb->recover : data_end;

	if (seq_lt(tcb->rtx_next, tcp_data_seq(tcb)))
		tcb->rtx_next = tcp_data_seq(tcb);
	/* Bounded: each pass sends at least a byte up to end, or stops. */
	for (int pass = 0; pass < TCPIP_TCP_SND_BUF && seq_lt(tcb->rtx_next, end); pass++) {
		uint32_t len = end - tcb->rtx_next < tcb->snd_mss ? end - tcb->rtx_next : tcb->snd_mss;

		if (tcp_send_room(tcb) < len)
			break;
		tcp_send_bytes(st, now, tcb, tcb->rtx_next, len, tcp_repeat_flags(tcb, tcb->rtx_next, len),
			       TCP_BYTES_AGAIN);
		tcb->rtx_next += len;
		st->counters.tcp_retransmits++;
	}
}

/* New data or the FIN just went at now: the retransmission timer runs for
 * it (RFC 6298 5.1: started if it is not running).  The SWS override's
 * deadline is not that timer: it was set with nothing in flight, for
 * 200 ms, and left in place it would fire as a timeout that far too soon,
 * sending again what the peer is about to acknowledge. */
static void tcp_timer_sent(struct tcp_tcb *tcb, stack_time_ms now)
{
	if (tcb->timer_at == STACK_NO_DEADLINE || tcb->timer_sws)
		tcp_timer_rtx(tcb, now);
}

void tcp_output(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	if (tcp_may_send(tcb) && tcb->recovery == TCP_RECOVERY_RTO)
		tcp_output_resend(st, now, tcb);
	if (!tcp_may_send(tcb) || tcb->fin_sent)
		return;
	if (tcp_unsent(tcb) > 0)
		tcp_cc_idle_check(tcb, now);
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
		tcp_send_bytes(st, now, tcb, tcb->snd_nxt, len, flags, TCP_BYTES_NEW);
		tcb->snd_nxt += len;
		if (flags & TCP_FIN) {
			tcb->fin_sent = true;
			tcb->snd_fin = tcb->snd_nxt++;
		}
		tcp_timer_sent(tcb, now);
	}
	if (tcb->shut_wr && !tcb->fin_sent && tcp_unsent(tcb) == 0) {
		tcb->fin_sent = true;
		tcb->snd_fin = tcb->snd_nxt++;
		tcp_send(st, now, tcb, tcb->snd_fin, TCP_FIN | TCP_ACK);
		tcp_timer_sent(tcb, now);
	}
	/* Data waiting and nothing in flight to bring an ACK: a zero window is
	 * probed after the RTO, a small one used after the override timeout. */
	if (tcb->timer_at == STACK_NO_DEADLINE && tcp_unsent(tcb) > 0) {
		if (tcb->snd_wnd == 0)
			tcp_timer_rtx(tcb, now);
		else if (tcp_data_in_flight(tcb) == 0 && !tcb->fin_sent) {
			tcb->timer_at = now + TCPIP_TCP_SWS_OVERRIDE_MS;
			tcb->timer_sws = true;
		}
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
	tcp_send_bytes(st, now, tcb, tcb->snd_nxt, len, len == unsent ? TCP_PSH : 0,
		       TCP_BYTES_NEW);
	tcb->snd_nxt += len;
	tcp_timer_rtx(tcb, now);
	return true;
}

enum tcp_rtx tcp_retransmit_data(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	uint32_t data = tcp_data_in_flight(tcb), len = tcp_repair_len(tcb);

	tcb->rtt_timing = false;             /* Karn: no sample from a repeat */
	if (data == 0 && !tcp_fin_out(tcb)) {
		if (tcp_unsent(tcb) == 0 || tcb->snd_wnd != 0)
			return TCP_RTX_NOTHING;
		/* RFC 9293 3.8.6.1: probe a zero window with one byte of new data. */
		tcp_send_bytes(st, now, tcb, tcb->snd_nxt, 1, 0, TCP_BYTES_PROBE);
		tcb->snd_nxt++;
		tcb->probing = true;
		return TCP_RTX_PROBE;
	}
	tcp_send_bytes(st, now, tcb, tcp_data_seq(tcb), len, tcp_repeat_flags(tcb, tcp_data_seq(tcb), len),
		       TCP_BYTES_AGAIN);
	return TCP_RTX_REPAIR;
}
