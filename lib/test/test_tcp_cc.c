/*
 * test_tcp_cc.c - congestion control (chapter 8), below the scripts: each
 * rule of the shared part (tcp_cc.c) on a TCB, and each algorithm through
 * its struct tcp_cc_ops alone, as the interface promises (tcp_cc.h), with
 * windows checked against the RFCs' own arithmetic:
 *
 * - RFC 6928's initial window for several MSS values;
 * - RFC 5681 3.1 slow start with RFC 3465's L = 2 SMSS (1 after a timeout),
 *   congestion avoidance of one SMSS per window, equation (4)'s ssthresh,
 *   the loss window after a timeout and ssthresh kept on a second one;
 * - RFC 7661 4.1: no growth from a window the sender did not use;
 * - RFC 5681 4.1: the restart window after an idle RTO;
 * - RFC 9438: beta = 0.7, W_max and fast convergence, cwnd following
 *   W_cubic(t) = C (t - K)^3 + W_max over an ACK clock, and the
 *   Reno-friendly region on a short path;
 * - RFC 9406: HyStart++ leaves slow start when the RTT grows, after its CSS
 *   rounds, and not when it does not.
 *
 * White-box, like test_tcp_wrap.c: it includes tcp_impl.h.
 */
#include <math.h>
#include <string.h>

#include "../tcp_impl.h"
#include "vec.h"

#define MSS 1460u

static struct tcp_tcb tcb;

/* A fresh TCB, established, with algo and send MSS mss, SND.UNA = SND.NXT
 * = 1000. */
static struct tcp_tcb *fresh(int algo, uint16_t mss)
{
	memset(&tcb, 0, offsetof(struct tcp_tcb, snd_buf));
	tcb.state = TCP_ESTABLISHED;
	tcb.syn_acked = true;
	tcb.snd_mss = mss;
	tcb.snd_una = tcb.snd_nxt = 1000;
	tcb.rto_ms = 1000;
	tcp_cc_init(&tcb, algo);
	return &tcb;
}

/* The peer acknowledges acked more bytes with flight bytes in flight
 * before (SND.NXT kept at SND.UNA + what is still in flight). */
static void ack(struct tcp_tcb *t, stack_time_ms now, uint32_t acked, uint32_t flight)
{
	uint32_t pipe_before = flight;

	t->snd_nxt = t->snd_una + flight;
	t->snd_una += acked;
	tcp_cc_ack(t, now, acked, flight, pipe_before);
}

static void test_initial_window(void)
{
	static const struct { uint16_t mss; uint32_t iw; } rows[] = {
		{1460, 14600}, /* min(14600, max(2920, 14600)) */
		{536, 5360},   /* min(5360, 14600) */
		{1000, 10000},
		{48, 480},
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		fresh(TCP_CC_NEWRENO, rows[i].mss);
		CHECK(tcb.cc.cwnd == rows[i].iw, "RFC 6928: MSS %u starts at %u bytes, not %u",
		      rows[i].mss, rows[i].iw, tcb.cc.cwnd);
		CHECK(tcb.cc.ssthresh == UINT32_MAX, "ssthresh starts unset");
	}
}

static void test_slow_start_byte_counting(void)
{
	struct tcp_tcb *t = fresh(TCP_CC_NEWRENO, MSS);

	ack(t, 10, 2 * MSS, 10 * MSS);
	CHECK(t->cc.cwnd == 12 * MSS, "slow start: an ACK of 2 segments adds 2 (%u)", t->cc.cwnd / MSS);
	ack(t, 20, 1 * MSS, 12 * MSS);
	CHECK(t->cc.cwnd == 13 * MSS, "an ACK of 1 segment adds 1");
	ack(t, 30, 5 * MSS, 13 * MSS);
	CHECK(t->cc.cwnd == 15 * MSS, "RFC 3465: a stretch ACK of 5 adds L = 2 (%u)", t->cc.cwnd / MSS);
	ack(t, 40, 2 * MSS, 7 * MSS);
	CHECK(t->cc.cwnd == 15 * MSS, "RFC 7661: 7 of 15 in flight, the window was not used: no growth");
	ack(t, 50, 2 * MSS, 8 * MSS);
	CHECK(t->cc.cwnd == 17 * MSS, "8 of 15 in flight is half: growth");
	t->cc.ssthresh = 18 * MSS;
	ack(t, 60, 2 * MSS, 17 * MSS);
	CHECK(t->cc.cwnd == 18 * MSS, "slow start stops at ssthresh (%u)", t->cc.cwnd);
}

static void test_congestion_avoidance(void)
{
	struct tcp_tcb *t = fresh(TCP_CC_NEWRENO, MSS);

	t->cc.ssthresh = t->cc.cwnd = 10 * MSS;
	for (int i = 0; i < 4; i++)
		ack(t, 10 + i, 2 * MSS, 10 * MSS);
	CHECK(t->cc.cwnd == 10 * MSS, "avoidance: 8 of 10 segments acknowledged, no growth yet");
	ack(t, 20, 2 * MSS, 10 * MSS);
	CHECK(t->cc.cwnd == 11 * MSS, "a window of 10 acknowledged: one SMSS more (%u)", t->cc.cwnd);
	for (int i = 0; i < 5; i++)
		ack(t, 30 + i, 2 * MSS, 11 * MSS);
	CHECK(t->cc.cwnd == 11 * MSS, "10 of the next 11: not yet");
	ack(t, 40, 1 * MSS, 11 * MSS);
	CHECK(t->cc.cwnd == 12 * MSS, "11 of 11: one more");
}

static void test_loss_and_recovery(void)
{
	struct tcp_tcb *t = fresh(TCP_CC_NEWRENO, MSS);

	t->cc.cwnd = 20 * MSS;
	t->snd_nxt = t->snd_una + 20 * MSS;
	t->recovery = TCP_RECOVERY_FAST;
	t->dupacks = 3;
	tcp_cc_enter_recovery(t, 100, TCP_CC_LOSS_DUPACK);
	tcp_cc_dup_ack(t);       /* the third duplicate's delivery, as tcp_dup_ack() tells it */
	CHECK(t->cc.ssthresh == 10 * MSS, "RFC 5681 (4): ssthresh = FlightSize / 2 (%u)", t->cc.ssthresh);
	CHECK(tcp_send_room(t) == MSS, "PRR: 1 of 20 delivered, ceil(1 * 10 / 20) = 1 segment");
	tcp_cc_recovered(t, 200);
	CHECK(t->cc.cwnd == 10 * MSS, "the recovery ends with cwnd = ssthresh");

	t = fresh(TCP_CC_NEWRENO, MSS);
	t->snd_nxt = t->snd_una + 3 * MSS;
	t->recovery = TCP_RECOVERY_FAST;
	t->dupacks = 3;
	tcp_cc_enter_recovery(t, 100, TCP_CC_LOSS_DUPACK);
	CHECK(t->cc.ssthresh == 2 * MSS, "RFC 5681 (4): never below 2 SMSS");
}

static void test_timeout(void)
{
	struct tcp_tcb *t = fresh(TCP_CC_NEWRENO, MSS);

	t->cc.cwnd = 16 * MSS;
	t->snd_nxt = t->snd_una + 16 * MSS;
	tcp_cc_timeout(t, true);
	CHECK(t->cc.cwnd == MSS, "RFC 5681 3.1: the loss window is one segment");
	CHECK(t->cc.ssthresh == 8 * MSS, "ssthresh = FlightSize / 2");
	tcp_cc_timeout(t, false);
	CHECK(t->cc.ssthresh == 8 * MSS, "a second timeout of the same segment keeps ssthresh");
	ack(t, 10, 2 * MSS, 1 * MSS);
	CHECK(t->cc.cwnd == 2 * MSS, "RFC 3465 2.3: after a timeout L = 1 SMSS (%u)", t->cc.cwnd / MSS);
}

static void test_idle_restart(void)
{
	struct tcp_tcb *t = fresh(TCP_CC_NEWRENO, MSS);

	t->cc.cwnd = 40 * MSS;
	t->last_send_at = 1000;
	tcp_cc_idle_check(t, 2000);
	CHECK(t->cc.cwnd == 40 * MSS, "idle for exactly one RTO: cwnd kept");
	tcp_cc_idle_check(t, 2001);
	CHECK(t->cc.cwnd == 10 * MSS, "RFC 5681 4.1: idle past the RTO, back to the initial window");
	t->cc.cwnd = 5 * MSS;
	tcp_cc_idle_check(t, 9000);
	CHECK(t->cc.cwnd == 5 * MSS, "a window below the initial one is kept");
}

/* An ACK told to an algorithm directly, for its own tests. */
static struct tcp_cc_ack cc_ack(stack_time_ms now, uint32_t acked, uint32_t flight, uint32_t srtt_ms)
{
	return (struct tcp_cc_ack){.now = now, .acked = acked, .flight_before = flight,
				   .srtt_ms = srtt_ms};
}

/* RFC 9438 Figure 1, in segments. */
static double w_cubic(double t_s, double k_s, double w_max)
{
	return 0.4 * pow(t_s - k_s, 3) + w_max;
}

/* Runs CUBIC's congestion avoidance from a loss at 100 segments over an
 * ACK clock of rtt_ms (one ACK per segment, spread over each round trip)
 * for seconds; returns the window, in segments, at the end. */
static double cubic_run(struct tcp_cc *cc, uint32_t rtt_ms, double seconds)
{
	stack_time_ms now = 1000, end = now + (stack_time_ms)(seconds * 1000);

	for (int round = 0; round < 100000 && now < end; round++) {
		uint32_t segs = cc->cwnd / MSS;

		for (uint32_t i = 0; i < segs; i++) {
			struct tcp_cc_ack a = cc_ack(now + (stack_time_ms)i * rtt_ms / segs, MSS, cc->cwnd, rtt_ms);

			cc->ops->on_ack(cc, &a);
		}
		now += rtt_ms;
	}
	return (double)cc->cwnd / MSS;
}

/* A CUBIC connection just out of a recovery from a loss at w segments. */
static struct tcp_cc *cubic_after_loss(double w)
{
	struct tcp_tcb *t = fresh(TCP_CC_CUBIC, MSS);
	struct tcp_cc *cc = &t->cc;

	cc->cwnd = (uint32_t)(w * MSS);
	cc->ops->on_loss(cc, TCP_CC_LOSS_DUPACK, cc->cwnd, 1000);
	cc->cwnd = cc->ssthresh;
	cc->ops->on_recovered(cc, 1000);
	return cc;
}

static void test_cubic_curve(void)
{
	double k_s = cbrt(100 * 0.3 / 0.4); /* 4.22 s */
	static const double at_s[] = {0.5, 1.0, 2.0, 4.2, 6.0, 8.0};
	struct tcp_cc *cc = cubic_after_loss(100);

	CHECK(cc->ssthresh == 70 * MSS, "RFC 9438 4.6: ssthresh = 0.7 cwnd (%u)", cc->ssthresh / MSS);
	for (size_t i = 0; i < sizeof at_s / sizeof at_s[0]; i++) {
		double want, got;

		cc = cubic_after_loss(100);
		got = cubic_run(cc, 100, at_s[i]);
		want = w_cubic(at_s[i], k_s, 100);
		CHECK(fabs(got - want) <= 0.01 * want + 0.5,
		      "RFC 9438 Figure 1: %.1f s after the loss cwnd is %.1f segments, W_cubic %.1f",
		      at_s[i], got, want);
	}
}

static void test_cubic_fast_convergence(void)
{
	struct tcp_cc *cc = cubic_after_loss(100);

	cc->cwnd = 80 * MSS;                   /* lost again below W_max = 100 */
	cc->ops->on_loss(cc, TCP_CC_LOSS_DUPACK, cc->cwnd, 2000);
	CHECK(fabs(cc->u.cubic.w_max - 80 * 1.7 / 2) < 0.01,
	      "RFC 9438 4.7: W_max = cwnd (1 + beta) / 2 = 68 (%.2f)", cc->u.cubic.w_max);
	CHECK(cc->ssthresh == 56 * MSS, "ssthresh = 0.7 * 80 = 56 segments");
}

static void test_cubic_reno_friendly(void)
{
	/* 10 segments at the loss, a 10 ms path: W_est passes W_cubic at once.
	 * W_est grows by alpha = 3 (1 - 0.7) / 1.7 = 0.53 per round trip from 7
	 * until it reaches cwnd_prior = 10 (5.7 round trips), then by 1: after
	 * 1 s, 10 + (100 - 5.7) = 104.3 segments. */
	struct tcp_cc *cc = cubic_after_loss(10);
	double got = cubic_run(cc, 10, 1.0), want = 10 + (100 - 3 / (0.9 / 1.7));

	CHECK(fabs(got - want) <= 0.03 * want,
	      "RFC 9438 4.3: the Reno-friendly region, %.1f segments after 1 s, W_est %.1f", got, want);
	CHECK(got > w_cubic(1.0, cbrt(10 * 0.3 / 0.4), 10) * 2, "far above W_cubic there");
}

/* HyStart++ over rounds of 8 ACKs of 2 segments each: rtt_ms(round) is
 * every sample's RTT in that round.  Returns the rounds until slow start
 * ended (ssthresh set), or 0 if it did not within 20. */
static int hystart_rounds(uint32_t (*rtt_ms)(int round), uint32_t *css_growth)
{
	struct tcp_cc *cc = &fresh(TCP_CC_CUBIC, MSS)->cc;
	uint32_t una = 1000;
	stack_time_ms now = 0;

	for (int round = 1; round <= 20; round++) {
		for (int i = 0; i < 8; i++, now++) {
			struct tcp_cc_ack a = cc_ack(now, 2 * MSS, cc->cwnd, rtt_ms(round));
			uint32_t before = cc->cwnd;

			una += 2 * MSS;
			a.snd_una = una;
			a.snd_nxt = una + 16 * MSS;  /* 16 segments in flight after it */
			a.has_rtt = true;
			a.rtt_ms = rtt_ms(round);
			cc->ops->on_ack(cc, &a);
			if (cc->u.cubic.hystart.css && cc->cwnd > before)
				*css_growth = cc->cwnd - before;
			if (cc->ssthresh != UINT32_MAX)
				return round;
		}
		now += rtt_ms(round);
	}
	return 0;
}

static uint32_t rtt_flat(int round) { (void)round; return 20; }
static uint32_t rtt_grows(int round) { return round < 4 ? 20 : 30; }

static void test_hystart(void)
{
	uint32_t css_growth = 0;
	int rounds;

	CHECK(hystart_rounds(rtt_flat, &css_growth) == 0,
	      "RFC 9406: an RTT that does not grow keeps slow start");
	css_growth = 0;
	rounds = hystart_rounds(rtt_grows, &css_growth);
	/* Round 4 sees 30 ms >= 20 + max(4, 20 / 8): CSS; 5 CSS rounds end
	 * during round 9. */
	CHECK(rounds == 9, "RFC 9406 4.2: CSS from round 4, its 5 rounds, then avoidance (%d)", rounds);
	CHECK(css_growth == 2 * MSS / 4, "CSS grows a quarter as fast (%u bytes per ACK of 2)",
	      css_growth);
}

int main(void)
{
	test_initial_window();
	test_slow_start_byte_counting();
	test_congestion_avoidance();
	test_loss_and_recovery();
	test_timeout();
	test_idle_restart();
	test_cubic_curve();
	test_cubic_fast_convergence();
	test_cubic_reno_friendly();
	test_hystart();
	return test_report("test_tcp_cc");
}
