/*
 * tcp_cc_cubic.c - CUBIC (RFC 9438): after a loss the window follows a
 * cubic function of the time since congestion avoidance began,
 *
 *     W_cubic(t) = C (t - K)^3 + W_max,   K = cbrt((W_max - cwnd_epoch) / C)
 *
 * (Figures 1 and 2; windows in segments, t in seconds), flat near W_max, the
 * window before the last reduction, and steep away from it; never below
 * what Reno would have by then (the Reno-friendly region, 4.3); a multiplicative decrease of
 * beta = 0.7 (4.6), with fast convergence (4.7).  Its initial slow start
 * leaves early with HyStart++ (tcp_hystart.c).
 *
 * C = 0.4 and beta = 0.7, the RFC's.  The arithmetic is in double (this is a
 * user-space stack; Linux's kernel CUBIC works in fixed point); cwnd itself
 * stays whole bytes in struct tcp_cc, the fraction of a byte carried over.
 * Limits: t is measured from the first ACK of congestion avoidance, and an
 * idle restart begins a new epoch rather than shifting it.
 */
#include <math.h>

#include "tcp_cc.h"

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7
/* 4.3: Reno's additive step for the same average rate as CUBIC's beta. */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))
/* RFC 3465's L for the slow starts HyStart++ does not run (after an RTO). */
#define CUBIC_RTO_ABC_SEGS 1

static void cubic_init(struct tcp_cc *cc)
{
	cc->u.cubic = (struct tcp_cc_cubic){0};
	tcp_hystart_init(&cc->u.cubic.hystart);
}

/* W_cubic(t), in segments (Figure 1). */
static double cubic_window(const struct tcp_cc_cubic *cu, double t_s)
{
	double d = t_s - cu->k_s;

	return CUBIC_C * d * d * d + cu->w_max;
}

/* Begins the epoch at the first ACK of congestion avoidance (4.2): K from
 * W_max and the window now; after a timeout, or with no reduction yet, K = 0
 * and W_max is the window now (4.8). */
static void cubic_epoch(struct tcp_cc *cc, stack_time_ms now)
{
	struct tcp_cc_cubic *cu = &cc->u.cubic;
	double cwnd_epoch = (double)cc->cwnd / cc->mss;

	cu->epoch = now;
	cu->in_epoch = true;
	cu->w_est = cwnd_epoch;
	if (cu->reduced && cu->w_max > cwnd_epoch) {
		cu->k_s = cbrt((cu->w_max - cwnd_epoch) / CUBIC_C);
	} else {
		cu->k_s = 0;
		cu->w_max = cwnd_epoch;
	}
}

/* Adds bytes of growth (a fraction of a byte carried to the next ACK). */
static void cubic_grow(struct tcp_cc *cc, double bytes)
{
	struct tcp_cc_cubic *cu = &cc->u.cubic;
	double whole;

	cu->carry_bytes += bytes;
	whole = floor(cu->carry_bytes);
	if (whole >= 1) {
		cc->cwnd += (uint32_t)whole;
		cu->carry_bytes -= whole;
	}
}

/* Congestion avoidance, one ACK (4.2 to 4.5). */
static void cubic_avoid(struct tcp_cc *cc, const struct tcp_cc_ack *ack)
{
	struct tcp_cc_cubic *cu = &cc->u.cubic;
	double cwnd = (double)cc->cwnd / cc->mss, segs = (double)ack->acked / cc->mss;
	double t_s, target, alpha;

	if (!cu->in_epoch)
		cubic_epoch(cc, ack->now);
	t_s = (double)(ack->now - cu->epoch) / 1000.0;
	/* 4.3: the Reno-friendly estimate, alpha 1 once it passes cwnd_prior. */
	alpha = cu->w_est >= cu->cwnd_prior ? 1.0 : CUBIC_ALPHA;
	cu->w_est += alpha * segs / cwnd;
	if (cubic_window(cu, t_s) < cu->w_est) {
		if (cu->w_est > cwnd)
			cubic_grow(cc, (cu->w_est - cwnd) * cc->mss);
		return;
	}
	/* 4.4, 4.5: toward W_cubic one RTT ahead, at most 1.5 cwnd. */
	target = cubic_window(cu, t_s + ack->srtt_ms / 1000.0);
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	if (target > cwnd)
		cubic_grow(cc, (target - cwnd) / cwnd * segs * cc->mss);
}

static void cubic_on_ack(struct tcp_cc *cc, const struct tcp_cc_ack *ack)
{
	struct tcp_cc_cubic *cu = &cc->u.cubic;
	bool leave = false;

	if (cc->cwnd >= cc->ssthresh) {
		cubic_avoid(cc, ack);
		return;
	}
	if (cc->ssthresh == UINT32_MAX) {    /* the initial slow start: HyStart++ */
		tcp_cc_slow_start(cc, tcp_hystart_ack(&cu->hystart, ack, cc->mss, &leave));
		if (leave)
			cc->ssthresh = cc->cwnd;
		return;
	}
	tcp_cc_slow_start(cc, ack->acked < CUBIC_RTO_ABC_SEGS * cc->mss ?
				      ack->acked : CUBIC_RTO_ABC_SEGS * cc->mss);
}

/* 4.6, 4.7: W_max from the window now (less, with fast convergence, when
 * this loss came before the last W_max was reached); ssthresh beta of it. */
static void cubic_reduce(struct tcp_cc *cc)
{
	struct tcp_cc_cubic *cu = &cc->u.cubic;
	double cwnd = (double)cc->cwnd / cc->mss;
	uint32_t ssthresh = (uint32_t)(cc->cwnd * CUBIC_BETA);

	cu->w_max = cu->reduced && cwnd < cu->w_max ? cwnd * (1.0 + CUBIC_BETA) / 2.0 : cwnd;
	cu->cwnd_prior = cwnd;
	cu->reduced = true;
	cu->in_epoch = false;
	cu->carry_bytes = 0;
	cc->ssthresh = ssthresh > 2 * cc->mss ? ssthresh : 2 * cc->mss;
}

static void cubic_on_loss(struct tcp_cc *cc, enum tcp_cc_loss why, uint32_t flight,
			  stack_time_ms now)
{
	(void)why;
	(void)flight;
	(void)now;
	cubic_reduce(cc);
}

static void cubic_on_rto(struct tcp_cc *cc, uint32_t flight, bool first)
{
	struct tcp_cc_cubic *cu = &cc->u.cubic;

	(void)flight;
	if (first)
		cubic_reduce(cc);
	cu->reduced = false;                 /* 4.8: K = 0 after a timeout */
	cu->in_epoch = false;
}

static void cubic_on_recovered(struct tcp_cc *cc, stack_time_ms now)
{
	(void)now;
	cc->u.cubic.in_epoch = false;        /* the epoch starts with avoidance */
}

static void cubic_on_idle(struct tcp_cc *cc)
{
	cc->u.cubic.in_epoch = false;
}

const struct tcp_cc_ops tcp_cc_cubic_ops = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_loss = cubic_on_loss,
	.on_rto = cubic_on_rto,
	.on_recovered = cubic_on_recovered,
	.on_idle = cubic_on_idle,
};
