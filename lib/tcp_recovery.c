/*
 * tcp_recovery.c - TCP's loss recovery without SACK: duplicate ACKs and fast
 * retransmit (RFC 5681 3.2), NewReno's partial ACKs (RFC 6582 3.2), the
 * duplicate count that limited transmit (RFC 3042) and PRR take off the
 * pipe (tcp_cc.c), after a timeout the resending of everything that was in
 * flight as slow start allows (go-back-N, from rtx_next), and the count that
 * says a fast repair was itself lost.
 *
 * Recovery decides what to send again and tcp_output.c sends it
 * (tcp_retransmit_data()); congestion control (tcp_cc.c) is told of each
 * step and decides how much new data may go with the repairs.  Limits: no
 * SACK (chapter 10), so a lost repair is seen only by counting duplicates.
 */
#include "stack_impl.h"
#include "tcp_impl.h"
#include "tcp_ring.h"

/* Sends the first unacknowledged segment again for loss recovery (counted
 * in tcp_fast_retransmits) and notes when that repair will have been lost
 * too (tcp_repair_sent()). */
static void tcp_fast_repair(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	st->counters.tcp_fast_retransmits++;
	if (tcp_retransmit_data(st, now, tcb) == TCP_RTX_REPAIR)
		tcp_repair_sent(tcb);
}

/* True if tcb's duplicate ACKs may be the echoes of go-back-N: recover was
 * set by a timeout and SND.UNA does not cover more than it.  RFC 6582 3.2
 * step 2 tests "ack_number - 1 > recover", the RFC's recover the highest
 * byte sent, ours the byte after it: SND.UNA past our recover.  After a
 * timeout the repeats went back over segments the receiver may already
 * hold, and each brings back a duplicate that is no sign of a new loss
 * (RFC 6582 4, "Handling Duplicate Acknowledgments after a Timeout"). */
static bool tcp_rto_echoes(const struct tcp_tcb *tcb)
{
	return tcb->recover_by_rto && seq_le(tcb->snd_una, tcb->recover);
}

void tcp_dup_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	bool repairing = (tcb->recovery == TCP_RECOVERY_FAST || tcb->recovery == TCP_RECOVERY_RTO) &&
			 seq_lt(tcb->snd_una, tcb->recover);

	++tcb->dupacks;
	tcp_cc_dup_ack(tcb);
	/* A lost repair: duplicates still come from segments sent after it
	 * (limited transmit keeps them going).  Without SACK only the count
	 * can say so; waiting for the timer would cost a second or more.
	 * (After a timeout the count starts again at each resend: below.) */
	if (tcb->recovery == TCP_RECOVERY_FAST && repairing && tcb->dupacks >= tcb->rtx_lost_at) {
		tcp_fast_repair(st, now, tcb);
		return;
	}
	/* After a timeout the first hole was sent again before anything the
	 * timeout resends after it; duplicates of its ACK that those bring say
	 * it was lost once more.  Sent again at once, three duplicates allowing
	 * for reordering, without a second cut: waiting for the timer would
	 * cost a doubled RTO each time. */
	if (tcb->recovery == TCP_RECOVERY_RTO && tcb->dupacks == 3 &&
	    seq_lt(tcp_data_seq(tcb), tcb->rtx_next)) {
		tcp_fast_repair(st, now, tcb);
		tcb->dupacks = 0;
		return;
	}
	/* RFC 6582 3.2 step 2: no fast retransmit (nor a new ssthresh) while a
	 * recovery, after a fast retransmit or a timeout, is repairing what was
	 * then in flight, nor on the echoes of a timeout's repeats. */
	if (tcb->dupacks != 3 || repairing || tcp_rto_echoes(tcb))
		return;
	/* The third duplicate: the first unacknowledged segment is sent again
	 * at once (fast retransmit, RFC 5681 3.2), the timer left as it is;
	 * congestion control cuts ssthresh and PRR paces what follows. */
	if (tcb->recovery == TCP_RECOVERY_CWR) {
		/* A loss during an ECN reduction: ssthresh was cut for this
		 * window already (RFC 3168 6.1.2), PRR goes on. */
		tcb->recovery = TCP_RECOVERY_FAST;
	} else {
		tcb->recovery = TCP_RECOVERY_FAST;
		tcp_cc_enter_recovery(tcb, now, TCP_CC_LOSS_DUPACK);
		tcp_cc_dup_ack(tcb);     /* the third duplicate delivered a segment too */
		tcp_ecn_reduced(tcb);
	}
	tcb->recover = tcb->snd_nxt;
	tcp_fast_repair(st, now, tcb);
}

void tcp_recovery_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t ack,
		      uint32_t acked, uint32_t flight_before, uint32_t pipe_before)
{
	enum tcp_recovery was = tcb->recovery;

	if (seq_gt(ack, tcb->recover))
		tcb->recover_by_rto = false;   /* beyond it: duplicates mean loss again */

	/* RFC 6582 3.2 (NewReno's rule for loss): an ACK that covers only part
	 * of what was in flight when the recovery began means the next segment
	 * was lost too: send it at once.  The duplicates still count the
	 * segments that left the network, less those this ACK covers but one
	 * (the repair that it acknowledges; Linux's Reno counts the same way). */
	if (was == TCP_RECOVERY_RTO && seq_lt(ack, tcb->recover) && tcp_data_in_flight(tcb) > 0) {
		/* After a timeout: slow start, and output goes on sending again
		 * from rtx_next as the window allows (tcp_output_resend()). */
		if (seq_lt(tcb->rtx_next, ack))
			tcb->rtx_next = ack;
		tcb->dupacks = 0;
		tcp_cc_ack(tcb, now, acked, flight_before, pipe_before);
		return;
	}
	if (was == TCP_RECOVERY_FAST && seq_lt(ack, tcb->recover) && tcp_data_in_flight(tcb) > 0) {
		unsigned covered = acked / tcb->snd_mss;

		tcb->dupacks = (tcb->dupacks > covered ? tcb->dupacks - covered : 0) + 1;
		tcp_cc_ack(tcb, now, acked, flight_before, pipe_before);
		tcp_fast_repair(st, now, tcb);
		return;
	}
	if (was == TCP_RECOVERY_CWR && seq_lt(ack, tcb->recover)) {
		tcb->dupacks = 0;        /* PRR paces the reduction; nothing to repair */
		tcp_cc_ack(tcb, now, acked, flight_before, pipe_before);
		return;
	}
	tcb->dupacks = 0;
	tcb->recovery = TCP_RECOVERY_NONE;
	if (was == TCP_RECOVERY_FAST || was == TCP_RECOVERY_CWR)
		tcp_cc_recovered(tcb, now);
	else
		tcp_cc_ack(tcb, now, acked, flight_before, pipe_before);
}

void tcp_recovery_timeout(struct tcp_tcb *tcb)
{
	if (tcb->probing || tcb->snd_nxt == tcb->snd_una)
		return;
	/* RFC 5681 3.1: the loss window, and ssthresh cut only on a segment's
	 * first timeout.  Without SACK nothing says which segments after the
	 * first were lost, so all are presumed lost (as BSD's and Linux's
	 * stacks do): after the one the timer sends now, output sends them
	 * again in order as slow start opens the window (go-back-N), not one
	 * timeout each.  The duplicates counted before say nothing any more. */
	tcp_cc_timeout(tcb, tcb->retries == 0);
	tcb->recovery = TCP_RECOVERY_RTO;
	tcb->recover = tcb->snd_nxt;
	tcb->recover_by_rto = true;     /* RFC 6582 3.2 step 4 */
	tcb->dupacks = 0;
	tcb->rtx_next = tcp_data_seq(tcb) + tcp_repair_len(tcb);
	tcp_ecn_reduced(tcb);
}

void tcp_repair_sent(struct tcp_tcb *tcb)
{
	/* The repair was the first tcp_repair_len() bytes in flight; sending it
	 * moved neither end. */
	uint32_t data = tcp_data_in_flight(tcb), len = tcp_repair_len(tcb);

	/* The segments in flight behind this one may bring a duplicate ACK
	 * each; more than that (and three for reordering) means segments sent
	 * after it arrived and it did not: it was lost too (tcp_dup_ack()). */
	tcb->rtx_lost_at = (data - len + tcb->snd_mss - 1) / tcb->snd_mss;
	if (tcb->rtx_lost_at < tcb->dupacks)
		tcb->rtx_lost_at = tcb->dupacks;
	tcb->rtx_lost_at += 3;
}
