/*
 * tcp_cc_newreno.c - NewReno's window (RFC 5681 3.1, RFC 6582): slow start
 * with byte counting (RFC 3465, L = 2 SMSS, 1 SMSS in the slow start after a
 * timeout), congestion avoidance of one SMSS per window of acknowledged
 * bytes, ssthresh halved on a loss (RFC 5681's equation (4)).  The recovery
 * itself (fast retransmit, partial ACKs, PRR) is the stack's, not the
 * algorithm's: tcp_recovery.c and tcp_cc.c.
 *
 * Limits: none of RFC 5681 3.2's window inflation (PRR does that work).
 */
#include "tcp_cc.h"

/* RFC 3465 2.2: at most L bytes of growth per ACK in slow start. */
#define NEWRENO_ABC_SEGS 2

static void newreno_init(struct tcp_cc *cc)
{
	cc->u.newreno.bytes_acked = 0;
	cc->u.newreno.after_rto = false;
}

/* Slow start (RFC 5681 3.1, equation (2), with RFC 3465's limit L): cwnd +=
 * min(acked, L), up to ssthresh. */
static void newreno_slow_start(struct tcp_cc *cc, uint32_t acked)
{
	struct tcp_cc_newreno *reno = &cc->u.newreno;
	uint32_t limit = (reno->after_rto ? 1 : NEWRENO_ABC_SEGS) * cc->mss;
	uint32_t grow = acked < limit ? acked : limit;

	tcp_cc_slow_start(cc, grow);
	if (cc->cwnd >= cc->ssthresh)
		reno->after_rto = false;
}

/* Congestion avoidance (RFC 5681 3.1, RFC 3465 2.1): one SMSS for each
 * cwnd's worth of acknowledged bytes. */
static void newreno_avoid(struct tcp_cc *cc, uint32_t acked)
{
	struct tcp_cc_newreno *reno = &cc->u.newreno;

	reno->bytes_acked += acked;
	if (reno->bytes_acked >= cc->cwnd) {
		reno->bytes_acked -= cc->cwnd;
		cc->cwnd += cc->mss;
	}
}

static void newreno_on_ack(struct tcp_cc *cc, const struct tcp_cc_ack *ack)
{
	if (cc->cwnd < cc->ssthresh)
		newreno_slow_start(cc, ack->acked);
	else
		newreno_avoid(cc, ack->acked);
}

static void newreno_on_loss(struct tcp_cc *cc, enum tcp_cc_loss why, uint32_t flight,
			    stack_time_ms now)
{
	(void)why;
	(void)now;
	cc->ssthresh = tcp_cc_reno_ssthresh(flight, cc->mss);
	cc->u.newreno.bytes_acked = 0;
}

static void newreno_on_rto(struct tcp_cc *cc, uint32_t flight, bool first)
{
	if (first)
		cc->ssthresh = tcp_cc_reno_ssthresh(flight, cc->mss);
	cc->u.newreno.bytes_acked = 0;
	cc->u.newreno.after_rto = true;
}

static void newreno_on_recovered(struct tcp_cc *cc, stack_time_ms now)
{
	(void)now;
	cc->u.newreno.bytes_acked = 0;
}

static void newreno_on_idle(struct tcp_cc *cc)
{
	cc->u.newreno.bytes_acked = 0;
}

const struct tcp_cc_ops tcp_cc_newreno_ops = {
	.name = "newreno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.on_loss = newreno_on_loss,
	.on_rto = newreno_on_rto,
	.on_recovered = newreno_on_recovered,
	.on_idle = newreno_on_idle,
};
