/*
 * tcp_ecn.c - Explicit Congestion Notification for TCP (RFC 3168 6.1): a
 * router that would drop a packet marks it CE instead, the receiver echoes
 * the mark (ECE on its ACKs until the sender says CWR), and the sender cuts
 * its window as for a loss, once per window of data, without losing a
 * segment.
 *
 * - Negotiation (6.1.1): an ECN-setup SYN has ECE and CWR; its SYN-ACK ECE
 *   alone.  We answer one when the stack's mode is not off, and send one
 *   when it is on (stack_cfg.tcp_ecn; Linux's default, tcp_ecn=2, is the
 *   same as ours: accept, do not ask).  A SYN sent again goes without (6.1.1.1).
 * - Marking (6.1.2, 6.1.4-6.1.6): new data goes as ECT(0); pure ACKs,
 *   SYNs, retransmissions and window probes as Not-ECT.
 * - The receiver (6.1.3): CE on a segment starts ECE on every ACK; a
 *   segment with CWR stops it (CWR first, so a CE on the same segment
 *   starts it again).
 * - The sender (6.1.2): ECE cuts the window as a loss would, unless a cut
 *   already happened in this window of data: ssthresh from the algorithm,
 *   then PRR brings cwnd down to it over the next round trip (RFC 6937
 *   applies to any reduction; Linux's CWR state does the same), with nothing
 *   to repair; the next new segment carries CWR.
 *
 * Limits: ECT(0) only, never ECT(1); no ECN nonce (RFC 3540, historic); no
 * AccECN.
 */
#include "stack_impl.h"
#include "tcp_impl.h"
#include "tcp_ring.h"

/* The ECN field's codepoints, the low two bits of the IPv4 TOS byte. */
#define ECN_MASK 0x03
#define ECN_ECT0 0x02
#define ECN_CE 0x03

void tcp_ecn_syn_in(const struct stack *st, struct tcp_tcb *tcb, const struct tcp_hdr *syn)
{
	if (st->cfg.tcp_ecn != TCP_ECN_OFF && (syn->flags & (TCP_ECE | TCP_CWR)) == (TCP_ECE | TCP_CWR))
		tcb->ecn_ok = true;
}

void tcp_ecn_syn_again(struct tcp_tcb *tcb)
{
	/* 6.1.1.1: perhaps a middlebox drops SYNs that ask for ECN; the SYN
	 * goes again without asking, and a SYN-ACK then agrees to nothing. */
	tcb->ecn_asked = false;
}

void tcp_ecn_synack_in(struct tcp_tcb *tcb, const struct tcp_hdr *synack)
{
	/* 6.1.1: an ECN-setup SYN-ACK has ECE and not CWR. */
	if (tcb->ecn_asked && (synack->flags & (TCP_ECE | TCP_CWR)) == TCP_ECE)
		tcb->ecn_ok = true;
}

uint8_t tcp_ecn_flags(const struct tcp_tcb *tcb, uint8_t flags)
{
	if (flags & TCP_RST)
		return 0;
	if (flags == TCP_SYN)
		return tcb->ecn_asked ? TCP_ECE | TCP_CWR : 0;
	if (flags & TCP_SYN)
		return tcb->ecn_ok ? TCP_ECE : 0;
	return tcb->ecn_echo && (flags & TCP_ACK) ? TCP_ECE : 0;
}

uint8_t tcp_ecn_new_data(struct tcp_tcb *tcb, uint8_t *flags)
{
	if (!tcb->ecn_ok)
		return 0;
	if (tcb->ecn_cwr_due) {              /* 6.1.2: the window was cut */
		*flags |= TCP_CWR;
		tcb->ecn_cwr_due = false;
	}
	return ECN_ECT0;
}

void tcp_ecn_input(struct tcp_tcb *tcb, uint8_t tos, const struct tcp_hdr *hdr)
{
	if (!tcb->ecn_ok)
		return;
	if (hdr->flags & TCP_CWR)
		tcb->ecn_echo = false;
	if ((tos & ECN_MASK) == ECN_CE)
		tcb->ecn_echo = true;
}

void tcp_ecn_reduced(struct tcp_tcb *tcb)
{
	tcb->ecn_window_end = tcb->snd_nxt;
	tcb->ecn_in_window = true;
}

void tcp_ecn_ack(struct tcp_tcb *tcb, stack_time_ms now, const struct tcp_hdr *hdr)
{
	if (!tcb->ecn_ok || !(hdr->flags & TCP_ECE) || tcb->recovery != TCP_RECOVERY_NONE)
		return;
	/* 6.1.2: at most once per window of data, counting a loss's cut too. */
	if (tcb->ecn_in_window && seq_lt(hdr->ack, tcb->ecn_window_end))
		return;
	tcb->recovery = TCP_RECOVERY_CWR;
	tcb->recover = tcb->snd_nxt;
	tcp_cc_enter_recovery(tcb, now, TCP_CC_LOSS_ECN);
	tcp_ecn_reduced(tcb);
	tcb->ecn_cwr_due = true;
}
