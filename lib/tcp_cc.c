/*
 * tcp_cc.c - congestion control's shared part (chapter 8): the interface
 * of tcp_cc.h that the rest of TCP calls, and what every algorithm shares.
 *
 * - The window: cwnd starts at RFC 6928's initial window, and the room for
 *   new data is cwnd less the "pipe", the data in flight less a segment per
 *   duplicate ACK (RFC 3042's limited transmit; without SACK, RFC 6675's
 *   pipe estimated the way RFC 6937 does it from duplicates).
 * - Growth, through the algorithm, only when the window was used (RFC 7661
 *   4.1: the data in flight before the ACK at least half of cwnd).
 * - Cuts: on the third duplicate ACK the algorithm sets ssthresh and PRR
 *   (RFC 6937, with its slow-start reduction bound) paces the recovery down
 *   to it; after a timeout cwnd is one segment (RFC 5681 3.1).
 * - Restart after idle (RFC 5681 4.1): cwnd back to the initial window.
 * - One RTT sample per ACK, for the algorithms (HyStart++): each new
 *   segment's send time, kept until it is acknowledged, none for a segment
 *   sent again (Karn).  RFC 6298's estimator keeps its one timed segment
 *   (tcp_timer.c): these samples only feed congestion control.
 *
 * Limits: no SACK (chapter 10), so the pipe is an estimate; no pacing.
 */
#include <string.h>

#include "stack_impl.h"
#include "tcp_impl.h"
#include "tcp_ring.h"

static const struct tcp_cc_ops *const tcp_cc_table[TCP_CC__COUNT] = {
	[TCP_CC_NEWRENO] = &tcp_cc_newreno_ops,
	[TCP_CC_CUBIC] = &tcp_cc_cubic_ops,
};

int tcp_cc_by_name(const char *name)
{
	for (int algo = 0; algo < TCP_CC__COUNT; algo++)
		if (strcmp(name, tcp_cc_table[algo]->name) == 0)
			return algo;
	return -1;
}

const char *tcp_cc_name(int algo)
{
	return algo >= 0 && algo < TCP_CC__COUNT ? tcp_cc_table[algo]->name : NULL;
}

/* RFC 6928's initial window: min(10 SMSS, max(2 SMSS, 14600 bytes)). */
static uint32_t tcp_cc_initial_window(uint32_t mss)
{
	uint32_t iw = 14600 > 2 * mss ? 14600 : 2 * mss;

	return iw < 10 * mss ? iw : 10 * mss;
}

void tcp_cc_init(struct tcp_tcb *tcb, int algo)
{
	struct tcp_cc *cc = &tcb->cc;

	memset(cc, 0, sizeof *cc);
	if (algo < 0 || algo >= TCP_CC__COUNT)
		algo = tcp_cc_by_name(TCPIP_TCP_CC_DEFAULT);
	cc->ops = tcp_cc_table[algo];
	cc->mss = tcb->snd_mss;
	cc->cwnd = tcp_cc_initial_window(cc->mss);
	cc->ssthresh = UINT32_MAX;
	cc->ops->init(cc);
	tcb->rtt_marks = 0;
}

void tcp_cc_switch(struct tcp_tcb *tcb, int algo)
{
	struct tcp_cc *cc = &tcb->cc;

	cc->ops = tcp_cc_table[algo];
	memset(&cc->u, 0, sizeof cc->u);
	cc->ops->init(cc);
}

/* The phase tcb's window is in, as EV_TCP_CWND says it. */
static const char *tcp_cc_phase(const struct tcp_tcb *tcb)
{
	if (tcb->recovery == TCP_RECOVERY_FAST)
		return "fast recovery";
	if (tcb->recovery == TCP_RECOVERY_CWR)
		return "ECN reduction";
	if (tcb->recovery == TCP_RECOVERY_RTO)
		return "after a timeout";
	return tcb->cc.cwnd < tcb->cc.ssthresh ? "slow start" : "congestion avoidance";
}

void tcp_cc_report(struct stack *st, struct tcp_tcb *tcb)
{
	struct stack_event ev = {.kind = EV_TCP_CWND, .addr = tcb->remote_addr,
				 .conn = (int)(tcb - st->tcb), .port = tcb->remote_port,
				 .local_port = tcb->local_port};

	if (!st->cfg.tcp_cc_events ||
	    (tcb->cc.cwnd == tcb->cc_told_cwnd && tcb->cc.ssthresh == tcb->cc_told_ssthresh))
		return;
	tcb->cc_told_cwnd = ev.cwnd = tcb->cc.cwnd;
	tcb->cc_told_ssthresh = ev.ssthresh = tcb->cc.ssthresh;
	ev.in_flight = tcp_data_in_flight(tcb);
	ev.why = tcp_cc_phase(tcb);
	event_emit(st, &ev);
}

uint32_t tcp_pipe(const struct tcp_tcb *tcb)
{
	uint32_t in_flight = tcp_data_in_flight(tcb);
	uint64_t left = (uint64_t)tcb->dupacks * tcb->snd_mss;

	/* After a timeout, what is not yet sent again is presumed lost
	 * (tcp_recovery.c): it is not in the network. */
	if (tcb->recovery == TCP_RECOVERY_RTO && seq_lt(tcb->rtx_next, tcb->recover))
		left += tcb->recover - tcb->rtx_next;
	return in_flight > left ? in_flight - (uint32_t)left : 0;
}

uint32_t tcp_send_room(const struct tcp_tcb *tcb)
{
	uint32_t pipe = tcp_pipe(tcb);

	if (tcb->recovery == TCP_RECOVERY_FAST || tcb->recovery == TCP_RECOVERY_CWR)
		return tcb->cc.prr_allow;
	return tcb->cc.cwnd > pipe ? tcb->cc.cwnd - pipe : 0;
}

/* Takes the send times of the segments ack covers off the front of the
 * marks; the newest of them gives this ACK's RTT sample (false if none). */
static bool tcp_cc_rtt(struct tcp_tcb *tcb, stack_time_ms now, uint32_t ack, uint32_t *rtt_ms)
{
	bool found = false;

	while (tcb->rtt_marks > 0 && seq_le(tcb->rtt_mark_end[tcb->rtt_mark_head], ack)) {
		*rtt_ms = (uint32_t)(now - tcb->rtt_mark_at[tcb->rtt_mark_head]);
		found = true;
		tcb->rtt_mark_head = (tcb->rtt_mark_head + 1) % TCPIP_TCP_RTT_MARKS;
		tcb->rtt_marks--;
	}
	return found;
}

void tcp_cc_sent(struct tcp_tcb *tcb, stack_time_ms now, uint32_t seq, uint32_t len, bool again)
{
	struct tcp_cc *cc = &tcb->cc;

	if (tcb->recovery == TCP_RECOVERY_FAST || tcb->recovery == TCP_RECOVERY_CWR) {
		cc->prr_out += len;
		cc->prr_allow = cc->prr_allow > len ? cc->prr_allow - len : 0;
	} else if (tcb->recovery == TCP_RECOVERY_NONE && tcb->dupacks > 0 && !again) {
		cc->limited_sent += len;
	}
	tcb->last_send_at = now;
	if (again) {                /* Karn: no sample from what this repeats */
		while (tcb->rtt_marks > 0 &&
		       seq_le(tcb->rtt_mark_end[tcb->rtt_mark_head], seq + len)) {
			tcb->rtt_mark_head = (tcb->rtt_mark_head + 1) % TCPIP_TCP_RTT_MARKS;
			tcb->rtt_marks--;
		}
		return;
	}
	if (tcb->rtt_marks < TCPIP_TCP_RTT_MARKS) {
		unsigned slot = (tcb->rtt_mark_head + tcb->rtt_marks) % TCPIP_TCP_RTT_MARKS;

		tcb->rtt_mark_end[slot] = seq + len;
		tcb->rtt_mark_at[slot] = now;
		tcb->rtt_marks++;
	}
}

void tcp_cc_idle_check(struct tcp_tcb *tcb, stack_time_ms now)
{
	struct tcp_cc *cc = &tcb->cc;
	uint32_t rw = tcp_cc_initial_window(cc->mss);

	/* RFC 5681 4.1: nothing sent for more than an RTO, so the ACK clock
	 * has stopped: begin again from at most the initial window. */
	if (tcp_data_in_flight(tcb) > 0 || now - tcb->last_send_at <= tcb->rto_ms)
		return;
	if (cc->cwnd > rw)
		cc->cwnd = rw;
	cc->ops->on_idle(cc);
}

/* PRR (RFC 6937 3, with the slow-start reduction bound of its section
 * 3.1): delivered bytes left the network on this ACK; sets the bytes that
 * may go now. */
static void tcp_prr_ack(struct tcp_tcb *tcb, uint32_t delivered)
{
	struct tcp_cc *cc = &tcb->cc;
	uint32_t pipe = tcp_pipe(tcb);
	int64_t sndcnt;

	cc->prr_delivered += delivered;
	if (pipe > cc->ssthresh) {
		/* Proportional: ssthresh / RecoverFS of what was delivered,
		 * rounded up (RFC 6937's CEIL) to whole segments, which is what
		 * goes. */
		uint64_t share = (cc->prr_delivered * cc->ssthresh + cc->recover_fs - 1) / cc->recover_fs;

		share = (share + cc->mss - 1) / cc->mss * cc->mss;
		sndcnt = (int64_t)share - (int64_t)cc->prr_out;
	} else {                         /* slow start back up to ssthresh */
		int64_t limit = (int64_t)cc->prr_delivered - (int64_t)cc->prr_out;

		if (limit < delivered)
			limit = delivered;
		limit += cc->mss;
		sndcnt = (int64_t)cc->ssthresh - pipe;
		if (sndcnt > limit)
			sndcnt = limit;
	}
	cc->prr_allow = sndcnt > 0 ? (uint32_t)sndcnt : 0;
	cc->cwnd = pipe + cc->prr_allow;
}

void tcp_cc_enter_recovery(struct tcp_tcb *tcb, stack_time_ms now, enum tcp_cc_loss why)
{
	struct tcp_cc *cc = &tcb->cc;
	uint32_t flight = tcp_data_in_flight(tcb);
	/* RFC 5681 3.2 step 2: what limited transmit sent MUST NOT count in the
	 * FlightSize that equation (4) halves. */
	uint32_t limited = cc->limited_sent < flight ? cc->limited_sent : flight;

	cc->ops->on_loss(cc, why, flight - limited, now);
	cc->limited_sent = 0;
	cc->recover_fs = flight > 0 ? flight : 1;
	cc->prr_delivered = 0;
	cc->prr_out = 0;
	cc->prr_allow = 0;
}

void tcp_cc_dup_ack(struct tcp_tcb *tcb)
{
	if (tcb->recovery == TCP_RECOVERY_FAST || tcb->recovery == TCP_RECOVERY_CWR)
		tcp_prr_ack(tcb, tcb->cc.mss);
}

void tcp_cc_ack(struct tcp_tcb *tcb, stack_time_ms now, uint32_t acked, uint32_t flight_before,
		uint32_t pipe_before)
{
	struct tcp_cc *cc = &tcb->cc;
	struct tcp_cc_ack ack = {.now = now, .acked = acked, .flight_before = flight_before,
				 .snd_una = tcb->snd_una, .snd_nxt = tcb->snd_nxt,
				 .srtt_ms = tcb->has_srtt ? tcb->srtt_ms : 0};

	ack.has_rtt = tcp_cc_rtt(tcb, now, tcb->snd_una, &ack.rtt_ms);
	cc->limited_sent = 0;
	if (tcb->recovery == TCP_RECOVERY_FAST || tcb->recovery == TCP_RECOVERY_CWR) {
		/* DeliveredData (RFC 6937 3): what SND.UNA moved past, less
		 * what duplicates had already counted, which is what the pipe
		 * shrank by. */
		uint32_t pipe = tcp_pipe(tcb);

		tcp_prr_ack(tcb, pipe_before > pipe ? pipe_before - pipe : 0);
		return;
	}
	/* RFC 7661 4.1: only a window the sender used may grow. */
	if (2 * (uint64_t)flight_before >= cc->cwnd)
		cc->ops->on_ack(cc, &ack);
}

void tcp_cc_recovered(struct tcp_tcb *tcb, stack_time_ms now)
{
	struct tcp_cc *cc = &tcb->cc;

	/* RFC 6937 3: at the end of the recovery, cwnd = ssthresh. */
	cc->cwnd = cc->ssthresh;
	cc->prr_allow = 0;
	cc->ops->on_recovered(cc, now);
}

void tcp_cc_timeout(struct tcp_tcb *tcb, bool first)
{
	struct tcp_cc *cc = &tcb->cc;

	cc->ops->on_rto(cc, tcp_data_in_flight(tcb), first);
	cc->cwnd = cc->mss;             /* RFC 5681 3.1: the loss window, one segment */
	cc->prr_allow = 0;
}

void tcp_cc_slow_start(struct tcp_cc *cc, uint32_t grow)
{
	cc->cwnd = cc->ssthresh - cc->cwnd < grow ? cc->ssthresh : cc->cwnd + grow;
}

uint32_t tcp_cc_reno_ssthresh(uint32_t flight, uint32_t mss)
{
	/* RFC 5681 3.1, equation (4). */
	return flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
}
