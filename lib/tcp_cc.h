/*
 * tcp_cc.h - congestion control's one interface (chapter 8): what an
 * algorithm is told (an ACK, a loss, a timeout, an idle restart) and the one
 * thing it answers, the congestion window.  The stack never reads an
 * algorithm's own state: it calls the tcp_cc_* functions of tcp_cc.c, which
 * call the algorithm through its struct tcp_cc_ops and keep what every
 * algorithm shares (cwnd, ssthresh, the initial window, PRR during a
 * recovery, the restart after idle).
 *
 * Algorithms, one file each: NewReno (tcp_cc_newreno.c, RFC 5681, RFC 3465,
 * RFC 6582) and CUBIC (tcp_cc_cubic.c, RFC 9438, with HyStart++ of RFC 9406
 * in tcp_hystart.c).  Windows are in bytes, as RFC 5681's are.
 */
#ifndef TCPIP_TCP_CC_H
#define TCPIP_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpip/stack_time.h"
#include "tcpip/tcp.h"

/* HyStart++'s state (RFC 9406 4.2), kept by the algorithm that uses it. */
struct tcp_hystart {
	bool css;                    /* in Conservative Slow Start */
	unsigned css_rounds;         /* rounds spent in CSS so far */
	uint32_t window_end;         /* the round ends when this is acknowledged */
	bool round_started;
	uint32_t last_round_min_rtt_ms, current_round_min_rtt_ms; /* UINT32_MAX: none */
	uint32_t css_baseline_min_rtt_ms;
	unsigned rtt_samples;        /* samples in the current round */
};

/* NewReno's own state: RFC 3465's counter for congestion avoidance. */
struct tcp_cc_newreno {
	uint32_t bytes_acked;
	bool after_rto;              /* slow start after a timeout: L = 1 SMSS */
};

/* CUBIC's own state (RFC 9438 4), windows in segments. */
struct tcp_cc_cubic {
	double w_max;                /* the window before the last reduction */
	double cwnd_prior;           /* cwnd when the last reduction began */
	double w_est;                /* the Reno-friendly estimate (4.3) */
	double k_s;                  /* K, seconds (Figure 2) */
	double carry_bytes;          /* growth not yet a whole byte */
	stack_time_ms epoch;         /* t_epoch: when this congestion avoidance began */
	bool in_epoch;               /* epoch, w_est and k_s are set */
	bool reduced;                /* a congestion event set w_max (else K = 0) */
	struct tcp_hystart hystart;
};

/* What one ACK of new data tells an algorithm. */
struct tcp_cc_ack {
	stack_time_ms now;
	uint32_t acked;              /* bytes newly acknowledged */
	uint32_t flight_before;      /* data in flight before this ACK */
	uint32_t snd_una, snd_nxt;   /* after it */
	bool has_rtt;                /* rtt_ms is this ACK's sample */
	uint32_t rtt_ms;
	uint32_t srtt_ms;            /* RFC 6298's SRTT; 0: none yet */
};

/* Why the window is cut (tcp_cc_loss()). */
enum tcp_cc_loss {
	TCP_CC_LOSS_DUPACK,          /* three duplicate ACKs: fast retransmit */
	TCP_CC_LOSS_ECN,             /* an ECN-Echo: a CE mark (RFC 3168 6.1.2) */
};

/* Which algorithm a connection uses. */
enum tcp_cc_algo {
	TCP_CC_NEWRENO,
	TCP_CC_CUBIC,
	TCP_CC__COUNT,
};

struct tcp_cc;

/* An algorithm.  Each function may change cc->cwnd and cc->ssthresh; none
 * sends or reads the TCB. */
struct tcp_cc_ops {
	const char *name;
	/* A new connection, cwnd already the initial window. */
	void (*init)(struct tcp_cc *cc);
	/* An ACK of new data outside a recovery, with cwnd validated (the
	 * sender used it): grow cwnd. */
	void (*on_ack)(struct tcp_cc *cc, const struct tcp_cc_ack *ack);
	/* A congestion event at now with flight bytes in flight: set ssthresh
	 * (PRR then brings cwnd down to it). */
	void (*on_loss)(struct tcp_cc *cc, enum tcp_cc_loss why, uint32_t flight, stack_time_ms now);
	/* The retransmission timer fired; first is its first time for this
	 * segment (RFC 5681 3.1: ssthresh is cut only then).  cwnd becomes one
	 * segment after the call. */
	void (*on_rto)(struct tcp_cc *cc, uint32_t flight, bool first);
	/* A fast recovery ended; cwnd is ssthresh. */
	void (*on_recovered)(struct tcp_cc *cc, stack_time_ms now);
	/* Sending after an idle period: cwnd was cut to the restart window. */
	void (*on_idle)(struct tcp_cc *cc);
};

/* A connection's congestion control: the shared part, then the algorithm's. */
struct tcp_cc {
	const struct tcp_cc_ops *ops;
	uint32_t mss;                /* SMSS */
	uint32_t cwnd, ssthresh;     /* bytes; ssthresh UINT32_MAX: none yet */
	/* RFC 6937 (PRR), during a fast recovery. */
	uint32_t recover_fs;         /* FlightSize when it began */
	uint64_t prr_delivered, prr_out;
	uint32_t prr_allow;          /* bytes it lets go now */
	uint32_t limited_sent;       /* new bytes sent on duplicates 1 and 2 (RFC 3042) */
	union {
		struct tcp_cc_newreno newreno;
		struct tcp_cc_cubic cubic;
	} u;
};

/* The algorithms, for tcp_cc.c's table. */
extern const struct tcp_cc_ops tcp_cc_newreno_ops;
extern const struct tcp_cc_ops tcp_cc_cubic_ops;

/* tcp_cc.c: slow start's step, cwnd += grow, never past ssthresh. */
void tcp_cc_slow_start(struct tcp_cc *cc, uint32_t grow);

/* tcp_cc.c: RFC 5681's ssthresh after a loss, max(FlightSize / 2, 2 SMSS)
 * (3.1, equation (4)). */
uint32_t tcp_cc_reno_ssthresh(uint32_t flight, uint32_t mss);

/* tcp_hystart.c: HyStart++ (RFC 9406) for an algorithm's slow start. */

/* Starts HyStart++ afresh (a connection, or slow start after a timeout). */
void tcp_hystart_init(struct tcp_hystart *hs);

/* An ACK in slow start: takes its RTT sample and moves the round on; the
 * growth slow start may add for acked bytes (at most 8 SMSS per ACK, RFC
 * 9406 4.3's L; a quarter of it in CSS).  Sets *leave when CSS has run its
 * rounds: the caller ends slow start (ssthresh = cwnd). */
uint32_t tcp_hystart_ack(struct tcp_hystart *hs, const struct tcp_cc_ack *ack, uint32_t mss,
			 bool *leave);

#endif
