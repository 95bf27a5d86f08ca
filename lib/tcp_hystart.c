/*
 * tcp_hystart.c - HyStart++ (RFC 9406): leaving slow start before the first
 * loss, when the round trip starts to grow (a queue is building), through a
 * few rounds of Conservative Slow Start (CSS) that grows a quarter as fast.
 * An algorithm calls it in its initial slow start (RFC 9406 4.3: only while
 * ssthresh is still unset); CUBIC does (tcp_cc_cubic.c).
 *
 * Rounds are counted by the ACK of SND.NXT as it was when the round began;
 * RTT samples are congestion control's, one per ACK (tcp_cc.c).  Limits: no
 * pacing, so L is 8 (RFC 9406 4.3's value for a sender that does not pace);
 * RTTs in whole milliseconds.
 */
#include "tcp_cc.h"

#define HYSTART_MIN_RTT_THRESH_MS 4
#define HYSTART_MAX_RTT_THRESH_MS 16
#define HYSTART_MIN_RTT_DIVISOR 8
#define HYSTART_N_RTT_SAMPLE 8
#define HYSTART_CSS_GROWTH_DIVISOR 4
#define HYSTART_CSS_ROUNDS 5
#define HYSTART_L_SEGS 8
#define HYSTART_NO_RTT UINT32_MAX

void tcp_hystart_init(struct tcp_hystart *hs)
{
	*hs = (struct tcp_hystart){.last_round_min_rtt_ms = HYSTART_NO_RTT,
				   .current_round_min_rtt_ms = HYSTART_NO_RTT};
}

/* RFC 9406 4.2: a round ends when what was in flight at its start is
 * acknowledged; the next one begins with the round's minimum remembered. */
static void hystart_round(struct tcp_hystart *hs, const struct tcp_cc_ack *ack)
{
	if (hs->round_started && seq_lt(ack->snd_una, hs->window_end))
		return;
	if (hs->round_started) {
		hs->last_round_min_rtt_ms = hs->current_round_min_rtt_ms;
		if (hs->css)
			hs->css_rounds++;
	}
	hs->round_started = true;
	hs->window_end = ack->snd_nxt;
	hs->current_round_min_rtt_ms = HYSTART_NO_RTT;
	hs->rtt_samples = 0;
}

/* True once this round has enough samples to compare with the last one. */
static bool hystart_can_compare(const struct tcp_hystart *hs)
{
	return hs->rtt_samples >= HYSTART_N_RTT_SAMPLE &&
	       hs->current_round_min_rtt_ms != HYSTART_NO_RTT &&
	       hs->last_round_min_rtt_ms != HYSTART_NO_RTT;
}

/* RFC 9406 4.2: the round trip grew by RttThresh over the last round's
 * minimum: clamp(lastRoundMinRTT / 8, 4 ms, 16 ms). */
static bool hystart_delay_grew(const struct tcp_hystart *hs)
{
	uint32_t thresh = hs->last_round_min_rtt_ms / HYSTART_MIN_RTT_DIVISOR;

	if (thresh < HYSTART_MIN_RTT_THRESH_MS)
		thresh = HYSTART_MIN_RTT_THRESH_MS;
	if (thresh > HYSTART_MAX_RTT_THRESH_MS)
		thresh = HYSTART_MAX_RTT_THRESH_MS;
	return hs->current_round_min_rtt_ms >= (uint64_t)hs->last_round_min_rtt_ms + thresh;
}

uint32_t tcp_hystart_ack(struct tcp_hystart *hs, const struct tcp_cc_ack *ack, uint32_t mss,
			 bool *leave)
{
	uint32_t limit = HYSTART_L_SEGS * mss, grow = ack->acked < limit ? ack->acked : limit;

	*leave = false;
	hystart_round(hs, ack);
	if (ack->has_rtt) {
		if (ack->rtt_ms < hs->current_round_min_rtt_ms)
			hs->current_round_min_rtt_ms = ack->rtt_ms;
		hs->rtt_samples++;
	}
	if (!hs->css) {
		if (hystart_can_compare(hs) && hystart_delay_grew(hs)) {
			hs->css = true;      /* a queue is building: go carefully */
			hs->css_rounds = 0;
			hs->css_baseline_min_rtt_ms = hs->current_round_min_rtt_ms;
		}
		return grow;
	}
	/* In CSS: the delay fell back (the rise was noise): slow start again. */
	if (hystart_can_compare(hs) && hs->current_round_min_rtt_ms < hs->css_baseline_min_rtt_ms) {
		hs->css = false;
		return grow;
	}
	if (hs->css_rounds >= HYSTART_CSS_ROUNDS)
		*leave = true;               /* CSS ran its rounds: congestion avoidance */
	return grow / HYSTART_CSS_GROWTH_DIVISOR;
}
