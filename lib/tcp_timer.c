/*
 * tcp_timer.c - TCP's timers (RFC 9293 3.10.8, RFC 6298): the
 * retransmission timer and RFC 6298's estimator (SRTT, RTTVAR, the RTO), the
 * give-up after R2 and the warning at R1 (3.8.3, MUST-20), TIME-WAIT's 2 MSL
 * (3.4.2, MUST-13) and FIN-WAIT-2's limit, the delayed ACK's deadline, and
 * tcp_poll() and tcp_next_deadline() for the stack.
 *
 * Each TCB has two deadlines: timer_at, which is the retransmission timer
 * (SYN, SYN-ACK, data and FIN), also standing for the persist timer behind a
 * zero window and the SWS override timeout, and in TIME-WAIT and FIN-WAIT-2
 * the 2 MSL; and delack_at, the delayed ACK's.  Sending and ACK processing
 * start the retransmission timer as this file restarts it, with
 * tcp_timer_rtx() (inline in tcp_impl.h: it only sets timer_at); what
 * happens when it fires is here.  Limits: no keep-alive; millisecond
 * granularity; timers run only when the stack is polled.
 */
#include "stack_impl.h"
#include "tcp_impl.h"

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
	tcb->rtt_marks = 0;
	tcp_rto_compute(tcb);
	tcb->timer_at = STACK_NO_DEADLINE;
}

stack_time_ms tcp_2msl(const struct stack *st)
{
	return 2 * (st->cfg.tcp_msl_ms ? st->cfg.tcp_msl_ms : TCPIP_TCP_MSL_MS);
}

void tcp_time_wait(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	tcp_set_state(st, tcb, TCP_TIME_WAIT);
	tcb->timer_at = now + tcp_2msl(st);
}

void tcp_fin_wait_2(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	tcp_set_state(st, tcb, TCP_FIN_WAIT_2);
	/* Only when the application is gone: after a shutdown, it still reads. */
	tcb->timer_at = tcb->app_closed ? now + tcp_2msl(st) : STACK_NO_DEADLINE;
}

/* How many retransmissions tcb's application or state allows before it
 * gives up. */
static unsigned tcp_retry_limit(const struct tcp_tcb *tcb)
{
	if (tcb->r2)
		return tcb->r2;
	switch (tcb->state) {
	case TCP_SYN_SENT: return TCPIP_TCP_SYN_RETRIES;
	case TCP_SYN_RECEIVED: return TCPIP_TCP_SYNACK_RETRIES;
	default: return TCPIP_TCP_DATA_RETRIES;
	}
}

/* Sends again what tcb has outstanding: the SYN, the SYN-ACK, or data and
 * FIN (or a zero-window probe), and tells loss recovery
 * (tcp_recovery_timeout() before, tcp_repair_sent() after a repair).  False
 * if there was nothing. */
static bool tcp_retransmit(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	if (tcb->state == TCP_SYN_SENT) {
		tcp_ecn_syn_again(tcb);
		tcp_send(st, now, tcb, tcb->iss, TCP_SYN);
	} else if (tcb->state == TCP_SYN_RECEIVED) {
		tcp_send(st, now, tcb, tcb->iss, TCP_SYN | TCP_ACK);
	} else {
		enum tcp_rtx sent;

		tcp_recovery_timeout(tcb);
		sent = tcp_retransmit_data(st, now, tcb);
		if (sent == TCP_RTX_NOTHING)
			return false;
		if (sent == TCP_RTX_REPAIR)
			tcp_repair_sent(tcb);
	}
	st->counters.tcp_retransmits++;
	return true;
}

/* Gives up on tcb after R2 retransmissions (MUST-20): a passive half-open
 * one silently, an opening one with "timeout", an open one with a reset. */
static void tcp_give_up(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	if (tcb->state == TCP_SYN_RECEIVED && tcb->listener != TCP_NO_LISTENER) {
		tcp_set_state(st, tcb, TCP_CLOSED);
		return;
	}
	tcp_emit_event(st, tcb, EV_TCP_TIMEOUT);
	if (tcb->state == TCP_SYN_SENT || tcb->state == TCP_SYN_RECEIVED) {
		tcp_set_state(st, tcb, TCP_CLOSED);
		return;
	}
	tcp_reset_conn(st, now, tcb, "retransmissions gave up");
}

/* tcb's timer fired: TIME-WAIT ends, or RFC 6298 5.4-5.6: retransmit and
 * double the RTO, until the state's limit, then give up (MUST-20's R2). */
static void tcp_timer_fired(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	tcb->timer_at = STACK_NO_DEADLINE;
	tcb->timer_sws = false;
	if (tcb->state == TCP_TIME_WAIT || tcb->state == TCP_FIN_WAIT_2) {
		tcp_set_state(st, tcb, TCP_CLOSED);
		return;
	}
	if (tcb->state >= TCP_ESTABLISHED && tcp_sws_override(st, now, tcb))
		return;
	if (tcb->retries >= tcp_retry_limit(tcb) && tcb->snd_nxt != tcb->snd_una) {
		tcp_give_up(st, now, tcb);
		return;
	}
	tcb->rto_ms = tcb->rto_ms * 2 > TCPIP_TCP_RTO_MAX_MS ? TCPIP_TCP_RTO_MAX_MS : tcb->rto_ms * 2;
	if (!tcp_retransmit(st, now, tcb))
		return;
	if (tcb->state >= TCP_ESTABLISHED)
		tcp_cc_report(st, tcb);
	/* R1 (RFC 9293 3.8.3): the application hears of it, also while its
	 * SYN goes unanswered (MUST-22); a passive half-open connection has no
	 * application yet. */
	if (++tcb->retries == TCPIP_TCP_DATA_R1 &&
	    (tcb->state >= TCP_ESTABLISHED || tcb->listener == TCP_NO_LISTENER))
		tcp_emit_event(st, tcb, EV_TCP_R1);
	tcp_timer_rtx(tcb, now);
}

void tcp_delack_poll(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	if (tcb->delack_at <= now)
		tcp_send_ack(st, now, tcb);
}

void tcp_poll(struct stack *st, stack_time_ms now)
{
	for (size_t i = 0; i < TCPIP_TCP_CONNS; i++) {
		struct tcp_tcb *tcb = &st->tcb[i];

		if (tcb->state != TCP_CLOSED && tcb->delack_at <= now)
			tcp_delack_poll(st, now, tcb);
		if (tcb->state != TCP_CLOSED && tcb->timer_at <= now)
			tcp_timer_fired(st, now, tcb);
	}
}

stack_time_ms tcp_next_deadline(const struct stack *st)
{
	stack_time_ms next = STACK_NO_DEADLINE;

	for (size_t i = 0; i < TCPIP_TCP_CONNS; i++) {
		const struct tcp_tcb *tcb = &st->tcb[i];

		if (tcb->state == TCP_CLOSED)
			continue;
		if (tcb->timer_at < next)
			next = tcb->timer_at;
		if (tcb->delack_at < next)
			next = tcb->delack_at;
	}
	return next;
}
