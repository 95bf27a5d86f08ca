/*
 * tcp_recovery.c - TCP's loss recovery without SACK: duplicate ACKs and fast
 * retransmit (RFC 5681 3.2), NewReno's partial ACKs (RFC 6582 3.2), the
 * duplicate count that limited transmit (RFC 3042) takes off the pipe
 * (tcp_cc.c), the repair after a timeout of every hole behind the first,
 * and the count that says a repair was itself lost.
 *
 * Recovery decides what to send again and tcp_output.c sends it
 * (tcp_retransmit_data()).  Limits: no congestion window and no ssthresh to
 * cut on a loss (chapter 8, behind tcp_cc.c); no SACK (chapter 10), so a
 * lost repair is seen only by counting duplicates.
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

void tcp_dup_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	bool repairing = tcb->recovering && seq_lt(tcb->snd_una, tcb->recover);

	++tcb->dupacks;
	/* A lost repair: duplicates still come from segments sent after it
	 * (limited transmit keeps them going).  Without SACK only the count
	 * can say so; waiting for the timer would cost a second or more. */
	if (repairing && tcb->dupacks >= tcb->rtx_lost_at) {
		tcp_fast_repair(st, now, tcb);
		return;
	}
	if (tcb->dupacks != 3 || repairing)
		return;
	/* The third duplicate: the first unacknowledged segment is sent again
	 * at once (fast retransmit, RFC 5681 3.2), the timer left as it is. */
	tcb->recovering = true;
	tcb->recover = tcb->snd_nxt;
	tcp_fast_repair(st, now, tcb);
}

void tcp_recovery_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t ack,
		      uint32_t acked)
{
	/* RFC 6582 3.2 (NewReno's rule for loss): an ACK that covers only part
	 * of what was in flight at the fast retransmit means the next segment
	 * was lost too: send it at once.  Step 4's window deflation, with our
	 * cap for cwnd: the duplicates still count the segments that left the
	 * network, less those this ACK covers, plus one for the repair. */
	if (tcb->recovering && seq_lt(ack, tcb->recover) && tcp_data_in_flight(tcb) > 0) {
		unsigned covered = acked / tcb->snd_mss;

		tcb->dupacks = (tcb->dupacks > covered ? tcb->dupacks - covered : 0) + 1;
		tcp_fast_repair(st, now, tcb);
	} else {
		tcb->dupacks = 0;
		tcb->recovering = false;
	}
}

void tcp_recovery_timeout(struct tcp_tcb *tcb)
{
	if (tcb->probing || tcb->snd_nxt == tcb->snd_una)
		return;
	/* Every hole up to SND.NXT is repaired on the partial ACKs that
	 * follow, not one timeout each (RFC 6582 3.2 step 4's idea). */
	tcb->recovering = true;
	tcb->recover = tcb->snd_nxt;
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
