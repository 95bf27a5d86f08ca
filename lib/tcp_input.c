/*
 * tcp_input.c - a segment arrives (RFC 9293 3.10.7), in the RFC's order:
 * CLOSED (no connection), LISTEN, SYN-SENT, then the other states' eight
 * checks: sequence number, RST, security, SYN, ACK, URG, text, FIN.
 *
 * RFC 5961 hardens two of them: a RST must hit RCV.NXT exactly, and a SYN in
 * a synchronized state, to be acted on; otherwise a challenge ACK goes back.
 * An ACK of new data frees the send ring here (tcp_data_acked()), takes the
 * RTT sample for tcp_timer.c's estimator and tells tcp_recovery.c; a
 * duplicate goes to tcp_recovery.c.  Text and the urgent pointer are handed
 * to tcp_recv.c.  Limits: text on a SYN is not taken (the peer sends it
 * again); the security check is not supported, and said so where the RFC
 * puts it.
 */
#include "stack_impl.h"
#include "tcp_impl.h"
#include "tcp_ring.h"

/* What one arriving segment is: its header and its length in sequence space. */
struct tcp_seg {
	const struct ip4_hdr *ip;
	const struct tcp_hdr *hdr;
	const uint8_t *text;
	size_t text_len;
	uint32_t seq_len;  /* SEG.LEN: text, plus one for SYN and for FIN */
};

/* Tells the program that tcb (or, when NULL, no connection) dropped seg. */
static void tcp_dropped(struct stack *st, const struct tcp_tcb *tcb, const struct tcp_seg *seg,
			const char *why)
{
	struct stack_event ev = {.kind = EV_TCP_DROPPED, .addr = seg->ip->src,
				 .target = seg->ip->dst, .conn = tcb ? (int)(tcb - st->tcb) : -1,
				 .port = seg->hdr->sport, .local_port = seg->hdr->dport, .why = why};

	event_emit(st, &ev);
}

/* Sends a challenge ACK for seg, if the limit allows, and tells the
 * program why (RFC 5961). */
static void tcp_challenge(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb,
			  const struct tcp_seg *seg, const char *why)
{
	struct stack_event ev = {.kind = EV_TCP_CHALLENGE, .addr = seg->ip->src,
				 .target = seg->ip->dst, .conn = (int)(tcb - st->tcb),
				 .port = seg->hdr->sport, .local_port = seg->hdr->dport, .why = why};

	if (tcp_challenge_ack(st, now, tcb))
		event_emit(st, &ev);
	else
		tcp_dropped(st, tcb, seg, "challenge ACK held back: one per 500 ms");
}

/* RFC 9293 3.10.7.2: a segment for a port we listen on. */
static void tcp_listen_input(struct stack *st, stack_time_ms now, struct tcp_listener *listener,
			     const struct tcp_seg *seg)
{
	const struct tcp_hdr *hdr = seg->hdr;
	struct tcp_tcb *tcb;

	if (hdr->flags & TCP_RST) {               /* first: a RST is ignored */
		tcp_dropped(st, NULL, seg, "RST in LISTEN");
		return;
	}
	if (hdr->flags & TCP_ACK) {               /* second: an ACK is reset */
		tcp_send_reset(st, now, seg->ip, hdr, seg->text_len, "ACK in LISTEN");
		return;
	}
	if (!(hdr->flags & TCP_SYN)) {            /* fifth: anything else dropped */
		tcp_dropped(st, NULL, seg, "neither SYN nor RST nor ACK in LISTEN");
		return;
	}
	if (listener->half_open >= listener->backlog) {
		st->counters.tcp_backlog_drops++;
		tcp_dropped(st, NULL, seg, "backlog full");
		return;
	}
	/* third: SYN.  A new connection in SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT>
	 * <CTL=SYN,ACK>; text and FIN on the SYN are not taken: sent again later. */
	tcb = tcp_tcb_new(st, now, seg->ip->src, hdr->sport, hdr->dport);
	if (!tcb) {
		tcp_dropped(st, NULL, seg, "connection table full");
		return;
	}
	tcb->listener = (int)(listener - st->listeners);
	tcb->state = TCP_LISTEN; /* so the program reads LISTEN -> SYN-RECEIVED */
	tcb->irs = hdr->seq;
	tcb->rcv_nxt = hdr->seq + 1;
	tcb->rcv_adv = tcb->rcv_nxt;
	tcb->snd_mss = tcp_snd_mss(&hdr->opts);   /* MUST-15, MUST-16 */
	tcp_ecn_syn_in(st, tcb, hdr);
	tcp_set_state(st, tcb, TCP_SYN_RECEIVED);
	tcp_send(st, now, tcb, tcb->iss, TCP_SYN | TCP_ACK);
	tcb->snd_nxt = tcb->iss + 1;
	tcb->rtt_timing = true;                   /* the handshake's round trip */
	tcb->rtt_seq = tcb->iss;
	tcb->rtt_start = now;
	tcp_timer_rtx(tcb, now);
}

/* Records the peer's window from an acceptable segment (RFC 9293 3.10.7.4,
 * fifth, "update the send window"). */
static void tcp_take_window(struct tcp_tcb *tcb, const struct tcp_hdr *hdr)
{
	tcb->snd_wnd = hdr->win;
	tcb->snd_wl1 = hdr->seq;
	tcb->snd_wl2 = hdr->ack;
	if (tcb->snd_wnd > tcb->max_snd_wnd)
		tcb->max_snd_wnd = tcb->snd_wnd;
}

/* Both SYNs are acknowledged: ESTABLISHED, and the program is told.  The
 * handshake gives the first RTT sample, unless the SYN went twice (Karn);
 * then RFC 6298 5.7 starts data at an RTO of 3 s. */
static void tcp_established(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb,
			    const struct tcp_hdr *hdr)
{
	tcb->snd_una = hdr->ack;
	tcb->syn_acked = true;
	tcp_take_window(tcb, hdr);
	tcb->timer_at = STACK_NO_DEADLINE;
	tcb->rto_ms = TCPIP_TCP_RTO_INIT_MS;
	if (tcb->retries > 0)
		tcb->rto_ms = 3000;
	else if (tcb->rtt_timing)
		tcp_rtt_sample(tcb, (uint32_t)(now - tcb->rtt_start));
	tcb->rtt_timing = false;
	tcb->retries = 0;
	tcp_cc_init(tcb, tcb->cc_algo);           /* chapter 8: the initial window */
	tcp_set_state(st, tcb, TCP_ESTABLISHED);
	tcp_cc_report(st, tcb);
	tcp_emit_event(st, tcb, tcb->listener >= 0 ? EV_TCP_ACCEPTED : EV_TCP_CONNECTED);
}

/* RFC 9293 3.10.7.3: a segment for a connection in SYN-SENT. */
static void tcp_syn_sent_input(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb,
			       const struct tcp_seg *seg)
{
	const struct tcp_hdr *hdr = seg->hdr;
	bool has_ack = hdr->flags & TCP_ACK;

	/* first: an ACK must cover our SYN and nothing more (ISS < ACK =< SND.NXT). */
	if (has_ack && (seq_le(hdr->ack, tcb->iss) || seq_gt(hdr->ack, tcb->snd_nxt))) {
		if (hdr->flags & TCP_RST) {
			tcp_dropped(st, tcb, seg, "RST with a bad ACK in SYN-SENT");
			return;
		}
		tcp_send_reset(st, now, seg->ip, hdr, seg->text_len, "bad ACK in SYN-SENT");
		return;
	}
	/* second: a RST counts only with an acceptable ACK (RFC 5961 3.2 too). */
	if (hdr->flags & TCP_RST) {
		if (!has_ack) {
			tcp_dropped(st, tcb, seg, "RST without ACK in SYN-SENT");
			return;
		}
		tcp_emit_event(st, tcb, EV_TCP_REFUSED);
		tcp_set_state(st, tcb, TCP_CLOSED);
		return;
	}
	/* third: security and precedence are not supported. */
	if (!(hdr->flags & TCP_SYN)) {            /* fifth: neither SYN nor RST */
		tcp_dropped(st, tcb, seg, "no SYN in SYN-SENT");
		return;
	}
	/* fourth: SYN.  Text on it is not taken: the peer sends it again. */
	tcb->irs = hdr->seq;
	tcb->rcv_nxt = hdr->seq + 1;
	tcb->rcv_adv = tcb->rcv_nxt;
	tcb->snd_mss = tcp_snd_mss(&hdr->opts);
	if (has_ack) {                            /* our SYN is acknowledged */
		tcp_ecn_synack_in(tcb, hdr);
		tcp_established(st, now, tcb, hdr);
		tcp_send_ack(st, now, tcb);
		return;
	}
	/* Simultaneous open (MUST-10): SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
	tcb->snd_wnd = hdr->win;
	tcb->snd_wl1 = hdr->seq;
	tcp_set_state(st, tcb, TCP_SYN_RECEIVED);
	tcp_send(st, now, tcb, tcb->iss, TCP_SYN | TCP_ACK);
	tcb->retries = 0;
	tcb->rto_ms = TCPIP_TCP_RTO_INIT_MS;
	tcp_timer_rtx(tcb, now);
}

/* RFC 9293 3.10.7.4, first: is seg's sequence space inside our window? */
static bool tcp_acceptable(const struct tcp_tcb *tcb, const struct tcp_seg *seg)
{
	uint32_t seq = seg->hdr->seq, wnd = tcb->rcv_wnd, nxt = tcb->rcv_nxt;
	bool first_in = seq_le(nxt, seq) && seq_lt(seq, nxt + wnd);

	if (seg->seq_len == 0)
		return wnd == 0 ? seq == nxt : first_in;
	if (wnd == 0)
		return false;
	return first_in ||
	       (seq_le(nxt, seq + seg->seq_len - 1) && seq_lt(seq + seg->seq_len - 1, nxt + wnd));
}

/* True if seg, in TIME-WAIT, is the peer's FIN again: ending at RCV.NXT.
 * It is below the window, so the first check would only acknowledge it, but
 * RFC 9293 3.10.7.4 (TIME-WAIT, eighth) wants the 2 MSL restarted too
 * (MUST-13), as Linux does. */
static bool tcp_fin_again(const struct tcp_tcb *tcb, const struct tcp_seg *seg)
{
	return tcb->state == TCP_TIME_WAIT && (seg->hdr->flags & TCP_FIN) &&
	       seg->hdr->seq + seg->seq_len == tcb->rcv_nxt;
}

/* RFC 9293 3.10.7.4, second, with RFC 5961 3.2: a RST in the window. */
static void tcp_rst_input(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb,
			  const struct tcp_seg *seg)
{
	if (seg->hdr->seq != tcb->rcv_nxt) {
		tcp_challenge(st, now, tcb, seg, "RST in window, not at RCV.NXT");
		return;
	}
	switch (tcb->state) {
	case TCP_SYN_RECEIVED:
		/* Passive: back to LISTEN (the listener is still there, so the
		 * connection just goes).  Active: the connection was refused. */
		if (tcb->listener < 0)
			tcp_emit_event(st, tcb, EV_TCP_REFUSED);
		break;
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
		tcp_emit_event(st, tcb, EV_TCP_RESET);
		break;
	default: /* CLOSING, LAST-ACK, TIME-WAIT: the connection just goes */
		break;
	}
	tcp_set_state(st, tcb, TCP_CLOSED);
}

/* True once the peer has acknowledged our FIN. */
static bool tcp_fin_acked(const struct tcp_tcb *tcb)
{
	return tcb->fin_acked;
}

/* An ACK moved SND.UNA to ack (RFC 9293 3.10.7.4, fifth: what it acknowledges
 * leaves the retransmission queue): frees the acknowledged bytes, takes an
 * RTT sample, tells loss recovery, restarts or stops the timer (RFC 6298 5.2,
 * 5.3). */
static void tcp_data_acked(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb,
			   uint32_t ack)
{
	uint32_t acked = ack - tcp_data_seq(tcb);
	uint32_t data = acked < tcb->snd_len ? acked : tcb->snd_len;
	uint32_t flight_before = tcp_data_in_flight(tcb), pipe_before = tcp_pipe(tcb);

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
	tcp_recovery_ack(st, now, tcb, ack, acked, flight_before, pipe_before);
	/* RFC 6298 5.2, 5.3: stop the timer when all is acknowledged, else
	 * restart it for what remains. */
	tcb->timer_at = STACK_NO_DEADLINE;
	if (tcb->snd_nxt != tcb->snd_una)
		tcp_timer_rtx(tcb, now);
	if (data > 0)
		tcp_emit_event(st, tcb, EV_TCP_WRITABLE);
}

/* RFC 9293 3.10.7.4, fifth, in a synchronized state: the ACK field.  Returns
 * false if processing stops here. */
static bool tcp_ack_input(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb,
			  const struct tcp_seg *seg)
{
	const struct tcp_hdr *hdr = seg->hdr;

	if (seq_gt(hdr->ack, tcb->snd_nxt)) {     /* acknowledges what we never sent */
		tcp_send_ack(st, now, tcb);
		tcp_dropped(st, tcb, seg, "ACK of unsent data");
		return false;
	}
	/* RFC 5961 5.2: an ACK older than SND.UNA - MAX.SND.WND is dropped, with an ACK. */
	if (seq_lt(hdr->ack, tcb->snd_una - tcb->max_snd_wnd)) {
		tcp_send_ack(st, now, tcb);
		tcp_dropped(st, tcb, seg, "ACK too old");
		return false;
	}
	tcp_ecn_ack(tcb, now, hdr);              /* RFC 3168 6.1.2: ECE, before what it acks */
	if (seq_lt(tcb->snd_una, hdr->ack)) {
		tcp_data_acked(st, now, tcb, hdr->ack);
	} else if (hdr->ack == tcb->snd_una && tcb->snd_nxt != tcb->snd_una) {
		if (hdr->win == 0)
			tcb->retries = 0; /* a zero window, answered: probe for ever (MUST-37) */
		else if (seg->text_len == 0 && !(hdr->flags & (TCP_SYN | TCP_FIN)) &&
			 hdr->win == tcb->snd_wnd)
			tcp_dup_ack(st, now, tcb);
	}
	if (seq_lt(tcb->snd_wl1, hdr->seq) || (tcb->snd_wl1 == hdr->seq && seq_le(tcb->snd_wl2, hdr->ack)))
		tcp_take_window(tcb, hdr);
	if (tcb->probing && tcb->snd_wnd > 0)
		tcp_window_opened(tcb);
	tcp_cc_report(st, tcb);
	if (!tcp_fin_acked(tcb))
		return true;
	switch (tcb->state) {                     /* our FIN is acknowledged */
	case TCP_FIN_WAIT_1:
		tcp_fin_wait_2(st, now, tcb);
		return true;
	case TCP_CLOSING: tcp_time_wait(st, now, tcb); return false;
	case TCP_LAST_ACK: tcp_set_state(st, tcb, TCP_CLOSED); return false;
	default: return true;
	}
}

/* RFC 9293 3.10.7.4, eighth: the peer's FIN, at RCV.NXT. */
static void tcp_fin_input(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	tcb->fin_waiting = false;
	tcb->rcv_fin = true;
	tcb->rcv_fin_seq = tcb->rcv_nxt;
	tcb->rcv_nxt++;
	/* The FIN takes a sequence number but no buffer: the right edge moves
	 * with it, and the window offered stays the free space, as Linux's. */
	if (!seq_lt(tcb->rcv_adv, tcb->rcv_nxt))
		tcb->rcv_adv++;
	tcp_send_ack(st, now, tcb);
	switch (tcb->state) {
	case TCP_ESTABLISHED:
		tcp_set_state(st, tcb, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT_1:
		if (tcp_fin_acked(tcb))
			tcp_time_wait(st, now, tcb);
		else
			tcp_set_state(st, tcb, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		tcp_time_wait(st, now, tcb);
		break;
	default: /* CLOSE-WAIT, CLOSING, LAST-ACK: stay */
		return;
	}
	tcp_emit_event(st, tcb, EV_TCP_EOF);
}

/* RFC 9293 3.10.7.4, seventh: text, in ESTABLISHED and FIN-WAIT-1/2 (after
 * the peer's FIN there is none to take).  After the application closed,
 * text is answered with a RST (RFC 1122 4.2.2.13).  Returns false if
 * processing stops here (the connection is gone). */
static bool tcp_text_input(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb,
			   const struct tcp_seg *seg)
{
	if (seg->text_len == 0 || tcb->state == TCP_CLOSE_WAIT || tcb->state == TCP_CLOSING ||
	    tcb->state == TCP_LAST_ACK || tcb->state == TCP_TIME_WAIT)
		return true; /* text after the peer's FIN is ignored */
	if (tcb->app_closed) {
		tcp_reset_conn(st, now, tcb, "text after close");
		return false;
	}
	tcp_text_arrives(st, now, tcb, seg->hdr->seq, seg->text, (uint32_t)seg->text_len);
	return true;
}

/* Linux answers a repeat of the SYN that opened a half-open connection with
 * the SYN-ACK again (tcp_check_req()); RFC 9293's check would send a bare ACK
 * the peer in SYN-SENT cannot use.  True if seg was that repeat. */
static bool tcp_repeat_syn(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb,
			   const struct tcp_seg *seg)
{
	const struct tcp_hdr *hdr = seg->hdr;

	if (tcb->state != TCP_SYN_RECEIVED || (hdr->flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN ||
	    hdr->seq != tcb->irs)
		return false;
	st->counters.tcp_retransmits++;
	tcp_send(st, now, tcb, tcb->iss, TCP_SYN | TCP_ACK);
	return true;
}

/* Simultaneous open: in SYN-RECEIVED after our own SYN, the peer's SYN-ACK
 * (its SYN again, acknowledging ours) completes the handshake, as Linux
 * lets it (tcp_validate_incoming()).  True if seg was that SYN-ACK. */
static bool tcp_crossed_synack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb,
			       const struct tcp_seg *seg)
{
	const struct tcp_hdr *hdr = seg->hdr;

	if (tcb->state != TCP_SYN_RECEIVED || tcb->listener >= 0 ||
	    (hdr->flags & (TCP_SYN | TCP_ACK | TCP_RST)) != (TCP_SYN | TCP_ACK) ||
	    hdr->seq != tcb->irs || hdr->ack != tcb->snd_nxt)
		return false;
	tcp_established(st, now, tcb, hdr);
	return true;
}

/* RFC 9293 3.10.7.4: SYN-RECEIVED and the synchronized states. */
static void tcp_sync_input(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb,
			   const struct tcp_seg *seg)
{
	const struct tcp_hdr *hdr = seg->hdr;

	if (tcp_repeat_syn(st, now, tcb, seg) || tcp_crossed_synack(st, now, tcb, seg))
		return;
	if (!tcp_acceptable(tcb, seg)) {          /* first: sequence number */
		if (hdr->flags & TCP_RST) {
			tcp_dropped(st, tcb, seg, "RST outside the window");
			return;
		}
		if (tcp_fin_again(tcb, seg)) {
			tcp_send_ack(st, now, tcb);
			tcp_time_wait(st, now, tcb);
			return;
		}
		if (tcb->rcv_wnd == 0 && hdr->seq == tcb->rcv_nxt)
			tcp_urg_input(st, tcb, hdr);    /* MUST-66: URG counts at a zero window */
		tcp_send_ack(st, now, tcb);
		tcp_dropped(st, tcb, seg, "outside the window");
		return;
	}
	if (hdr->flags & TCP_RST) {               /* second: RST */
		tcp_rst_input(st, now, tcb, seg);
		return;
	}
	/* third: security and precedence are not supported. */
	if (hdr->flags & TCP_SYN) {               /* fourth: SYN */
		if (tcb->state == TCP_SYN_RECEIVED && tcb->listener >= 0) {
			tcp_dropped(st, tcb, seg, "SYN in SYN-RECEIVED: back to LISTEN");
			tcp_set_state(st, tcb, TCP_CLOSED);
			return;
		}
		tcp_challenge(st, now, tcb, seg, "SYN in a synchronized state");
		return;
	}
	if (!(hdr->flags & TCP_ACK)) {            /* fifth: ACK */
		tcp_dropped(st, tcb, seg, "no ACK");
		return;
	}
	tcp_ecn_input(tcb, seg->ip->tos, hdr);    /* RFC 3168 6.1.3: CE and CWR */
	if (tcb->state == TCP_SYN_RECEIVED) {
		if (seq_le(hdr->ack, tcb->snd_una) || seq_gt(hdr->ack, tcb->snd_nxt)) {
			tcp_send_reset(st, now, seg->ip, hdr, seg->text_len,
				       "bad ACK in SYN-RECEIVED");
			return;
		}
		tcp_established(st, now, tcb, hdr);
	}
	if (!tcp_ack_input(st, now, tcb, seg))
		return;
	tcp_urg_input(st, tcb, hdr);              /* sixth: URG */
	if (!tcp_text_input(st, now, tcb, seg))   /* seventh: text */
		return;
	if (!(hdr->flags & TCP_FIN)) {            /* eighth: FIN */
		/* A FIN that came beyond a gap counts once the gap is filled. */
		if (tcb->fin_waiting && tcb->rcv_nxt == tcb->fin_waiting_seq &&
		    (tcb->state == TCP_ESTABLISHED || tcb->state == TCP_FIN_WAIT_1 ||
		     tcb->state == TCP_FIN_WAIT_2))
			tcp_fin_input(st, now, tcb);
		return;
	}
	if (tcb->state == TCP_TIME_WAIT) {        /* the FIN again: ACK it, restart 2 MSL */
		tcp_send_ack(st, now, tcb);
		tcp_time_wait(st, now, tcb);
		return;
	}
	if (hdr->seq + seg->text_len != tcb->rcv_nxt) { /* beyond a gap: kept for later */
		tcb->fin_waiting = true;
		tcb->fin_waiting_seq = hdr->seq + (uint32_t)seg->text_len;
		tcp_send_ack(st, now, tcb);
		return;
	}
	tcp_fin_input(st, now, tcb);
}

void tcp_input(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
	       const struct tcp_hdr *hdr, const uint8_t *text, size_t text_len)
{
	struct tcp_seg seg = {.ip = ip, .hdr = hdr, .text = text, .text_len = text_len,
			      .seq_len = (uint32_t)text_len + !!(hdr->flags & TCP_SYN) +
					 !!(hdr->flags & TCP_FIN)};
	struct tcp_tcb *tcb = tcp_lookup(st, ip->src, hdr->sport, hdr->dport);
	struct tcp_listener *listener;

	st->counters.tcp_in++;
	if (tcb && tcb->state == TCP_SYN_SENT) {
		tcp_syn_sent_input(st, now, tcb, &seg);
		return;
	}
	if (tcb) {
		tcp_sync_input(st, now, tcb, &seg);
		tcp_output(st, now, tcb); /* what the ACK or window now allow */
		return;
	}
	listener = tcp_listener_of(st, hdr->dport);
	if (listener) {
		tcp_listen_input(st, now, listener, &seg);
		return;
	}
	/* RFC 9293 3.10.7.1: CLOSED.  Everything but a RST gets a RST. */
	if (hdr->flags & TCP_RST) {
		tcp_dropped(st, NULL, &seg, "RST to a closed port");
		return;
	}
	tcp_send_reset(st, now, ip, hdr, text_len, "port closed");
}
