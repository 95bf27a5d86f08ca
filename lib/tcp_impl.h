/*
 * tcp_impl.h - the inside of TCP, shared by lib/tcp_*.c and by nothing
 * outside lib/: the TCB and the listener (RFC 9293 3.3.1), and the
 * functions one TCP file calls in another, grouped by the file that defines
 * them; tcp_timer_rtx(), a field's update that several roles make, is
 * inline here.  The stack itself calls only the four entry points at the
 * top (stack.c and icmp.c); struct stack (stack_impl.h) holds the tables.
 *
 * The send and receive rings' helpers are tcp_ring.h's.
 */
#ifndef TCPIP_TCP_IMPL_H
#define TCPIP_TCP_IMPL_H

#include "tcpip/config.h"
#include "tcpip/ip4.h"
#include "tcpip/stack.h"
#include "tcpip/tcp.h"
#include "tcp_cc.h"

/* The largest segment text our link carries, and so the MSS we announce
 * (MUST-14) and the most we send: the MTU less the IPv4 and TCP headers
 * without options. */
#define TCP_LINK_MSS (TCPIP_MTU - IP4_MIN_HDR_LEN - TCP_MIN_HDR_LEN)

/* A TCB's listener when it has none (an active open, or its listener went). */
#define TCP_NO_LISTENER (-1)

/* Which loss recovery a connection is in (tcp_recovery.c). */
enum tcp_recovery {
	TCP_RECOVERY_NONE,
	TCP_RECOVERY_FAST,           /* after a fast retransmit: PRR paces sending */
	TCP_RECOVERY_CWR,            /* after an ECN-Echo: PRR paces, nothing is repaired */
	TCP_RECOVERY_RTO,            /* after a timeout: each partial ACK repairs the next hole */
};

/* A connection's transmission control block (RFC 9293 3.3.1).  A slot whose
 * state is TCP_CLOSED is free. */
struct tcp_tcb {
	enum tcp_state state;
	uint32_t remote_addr;
	uint16_t local_port, remote_port;
	uint16_t hash_next;          /* the next TCB in this bucket, as index + 1; 0: none */
	int listener;                /* the listener that made it (passive open), or -1 */
	bool app_closed;             /* the application called close: no more text is wanted */
	/* Send sequence space (RFC 9293 3.3.1, figure 3). */
	uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
	uint32_t max_snd_wnd;        /* the largest window the peer offered (RFC 5961 5.2) */
	uint16_t snd_mss;            /* the most we send in one segment */
	uint32_t snd_fin;            /* our FIN's sequence number, once fin_sent */
	/* Whether our SYN and FIN are acknowledged are facts kept as they
	 * happen, never read off the sequence numbers: after 2^32 - 1 bytes
	 * SND.UNA is ISS again, and an ACK of exactly ISS is then valid. */
	bool syn_acked;
	bool fin_acked;
	/* Receive sequence space (figure 4). */
	uint32_t irs, rcv_nxt, rcv_wnd;
	/* The one timer: retransmission (SYN, SYN-ACK, data, FIN; also the
	 * zero-window probe and the SWS override) or, in TIME-WAIT and
	 * FIN-WAIT-2, 2 MSL (tcp_timer.c). */
	stack_time_ms timer_at;      /* STACK_NO_DEADLINE: not running */
	bool timer_sws;              /* timer_at is the SWS override, not the retransmission timer */
	uint32_t rto_ms;
	unsigned retries;            /* retransmissions so far */
	unsigned r2;                 /* the application's R2; 0: the state's limit */
	uint8_t tos;                 /* the DS field of our segments (MUST-48) */
	bool challenged;             /* a challenge ACK was sent, at challenge_at */
	stack_time_ms challenge_at;
	/* Chapter 7: the bytes.  The send ring holds snd_len bytes from
	 * SND.UNA on (sent or not); the receive ring holds rcv_len unread bytes
	 * before RCV.NXT, and out-of-order pieces after it; a byte's place in
	 * either ring is its sequence number modulo the ring's size. */
	bool shut_wr;                /* shutdown or close: a FIN follows the data */
	bool fin_sent;
	bool nodelay;                /* Nagle off (MUST-17) */
	uint32_t snd_len;
	uint32_t rcv_len;
	uint32_t rcv_adv;            /* the right edge of the window we last offered */
	bool rcv_fin;                /* the peer's FIN has come, at rcv_fin_seq */
	uint32_t rcv_fin_seq;
	bool fin_waiting;            /* a FIN came beyond a gap, at fin_waiting_seq */
	uint32_t fin_waiting_seq;
	unsigned ooo_count;          /* out-of-order pieces, sorted, not touching */
	uint32_t ooo_start[TCPIP_TCP_OOO_RANGES], ooo_end[TCPIP_TCP_OOO_RANGES];
	stack_time_ms delack_at;     /* a delayed ACK is due then; STACK_NO_DEADLINE: none */
	unsigned unacked_full;       /* full-sized segments received since our last ACK */
	unsigned dupacks;
	enum tcp_recovery recovery;  /* until recover is acknowledged */
	bool probing;                /* a zero-window probe's byte is out, unacknowledged */
	/* Urgent data (RFC 9293 3.8.5): each pointer names the octet after it. */
	bool snd_urgent, rcv_urgent; /* SND.UP, RCV.UP set */
	uint32_t snd_up, rcv_up;
	uint32_t recover;            /* SND.NXT when the fast retransmit or the timeout happened */
	bool recover_by_rto;         /* a timeout set recover; no ACK has gone past it yet */
	unsigned rtx_lost_at;        /* dupacks that say the last repair was lost */
	uint32_t rtx_next;           /* after a timeout: the next byte to send again */
	/* RFC 6298's estimator: one timed segment at a time (Karn, MUST-18). */
	bool rtt_timing, has_srtt;
	uint32_t rtt_seq;
	stack_time_ms rtt_start;
	uint32_t srtt_ms, rttvar_ms;
	/* Chapter 8: congestion control (tcp_cc.c), and the send time of each
	 * new segment in flight, for one RTT sample per ACK. */
	int cc_algo;                 /* enum tcp_cc_algo, chosen before the handshake ends */
	/* ECN (tcp_ecn.c, RFC 3168). */
	bool ecn_asked;              /* our SYN asks for it */
	bool ecn_ok;                 /* negotiated */
	bool ecn_echo;               /* a CE came: ECE on our ACKs until a CWR */
	bool ecn_cwr_due;            /* the window was cut: CWR on the next new data */
	bool ecn_in_window;          /* a cut happened; the next waits for ecn_window_end */
	uint32_t ecn_window_end;
	struct tcp_cc cc;
	uint32_t cc_told_cwnd, cc_told_ssthresh; /* as EV_TCP_CWND last told them */
	stack_time_ms last_send_at;  /* when data last went */
	unsigned rtt_mark_head, rtt_marks;
	uint32_t rtt_mark_end[TCPIP_TCP_RTT_MARKS];
	stack_time_ms rtt_mark_at[TCPIP_TCP_RTT_MARKS];
	uint8_t snd_buf[TCPIP_TCP_SND_BUF];
	uint8_t rcv_buf[TCPIP_TCP_RCV_BUF];
};

/* Starts (or restarts) tcb's retransmission timer at its current RTO: sets
 * the deadline that tcp_poll() (tcp_timer.c) runs when it passes.  Sending
 * (RFC 6298 5.1), ACK processing (5.3) and the timer (5.6) all start it, so
 * it is here, beside the field, and not a call into any of them; rto_ms is
 * the estimator's (tcp_timer.c). */
static inline void tcp_timer_rtx(struct tcp_tcb *tcb, stack_time_ms now)
{
	tcb->timer_at = now + tcb->rto_ms;
	tcb->timer_sws = false;
}

/* A port we listen on (RFC 9293 3.10.1, passive OPEN). */
struct tcp_listener {
	bool used;
	uint16_t port;
	unsigned backlog;            /* half-open connections allowed */
	unsigned half_open;          /* connections in SYN-RECEIVED made by it */
};

/* The entry points the stack calls. */

/* tcp_input.c: takes a segment that passed tcp_check() and tcp_parse(),
 * addressed to us: RFC 9293 3.10.7. */
void tcp_input(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
	       const struct tcp_hdr *seg, const uint8_t *text, size_t text_len);

/* tcp_conn.c: an ICMP error (type, code) about the TCP segment to
 * remote_addr whose first 8 bytes are quote[0..8) (RFC 9293 3.9.2.2): a hard
 * one refuses an open, a soft one is reported (EV_TCP_ICMP) and the
 * connection stays.  The verdict names why it was ignored, if it was. */
enum drop_reason tcp_icmp_error(struct stack *st, uint32_t remote_addr, const uint8_t *quote,
				uint8_t type, uint8_t code);

/* tcp_timer.c: runs the TCP timers due at now; the earliest one still
 * pending, or STACK_NO_DEADLINE. */
void tcp_poll(struct stack *st, stack_time_ms now);
stack_time_ms tcp_next_deadline(const struct stack *st);

/* tcp_conn.c: the table, the states, the events. */

/* The connection of a four-tuple, or NULL. */
struct tcp_tcb *tcp_lookup(struct stack *st, uint32_t remote_addr, uint16_t remote_port,
			   uint16_t local_port);

/* The listener on port, or NULL. */
struct tcp_listener *tcp_listener_of(struct stack *st, uint16_t port);

/* A new TCB for the four-tuple, its ISS chosen (RFC 9293 3.4.1) and hashed
 * in, still CLOSED: the caller moves it to its first state with
 * tcp_set_state() at once.  NULL (counted) if the table is full. */
struct tcp_tcb *tcp_tcb_new(struct stack *st, stack_time_ms now, uint32_t remote_addr,
			    uint16_t remote_port, uint16_t local_port);

/* A local port for an active open to addr:port (RFC 6056 algorithm 3: a
 * keyed-hash offset plus a counter), free for that destination; 0 if none. */
uint16_t tcp_ephemeral_port(struct stack *st, uint32_t addr, uint16_t port);

/* Moves tcb to state, telling the program; to TCP_CLOSED frees it. */
void tcp_set_state(struct stack *st, struct tcp_tcb *tcb, enum tcp_state state);

/* Tells the program about tcb with an event of kind (accepted, reset ...). */
void tcp_emit_event(struct stack *st, const struct tcp_tcb *tcb, enum stack_event_kind kind);

/* The send MSS from the peer's option (536 when absent, MUST-15), never more
 * than our link allows (TCP_LINK_MSS, MUST-16) or less than
 * TCPIP_TCP_MIN_MSS. */
uint16_t tcp_snd_mss(const struct tcp_opts *opts);

/* tcp_output.c: sending. */

/* Sends a segment on tcb: seq, the control bits flags (ACK carries
 * RCV.NXT, and then any delayed ACK is done), the window tcp_offer_window()
 * gives, text[0..len); a SYN carries our MSS.  Returns 0 if it was sent, or
 * queued while ARP resolves the peer; -1 if it was not: len is more than
 * TCP_LINK_MSS, or ip4_output() refused it (no route, too big, no room to
 * wait for ARP, or the device refused; counted there).  Either way the TCB's
 * ACK bookkeeping has been done: a lost segment is repaired by the timer. */
int tcp_send_text(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
		  uint8_t flags, const uint8_t *text, uint32_t len);

/* tcp_send_text() with no text; the same result. */
int tcp_send(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
	     uint8_t flags);

/* Sends <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (RFC 9293 3.10.7.4); returns
 * what tcp_send() does. */
int tcp_send_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* Sends a challenge ACK (RFC 5961 3.2, 4.2), at most one per
 * TCPIP_TCP_CHALLENGE_INTERVAL_MS on the connection (RFC 5961 7).  Returns
 * true if it was sent, false if the limit held it back (counted). */
bool tcp_challenge_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* The reset RFC 9293 3.10.7.1 owes seg, which no connection wanted: none for
 * a RST; <SEQ=SEG.ACK><CTL=RST> if it has ACK, else <SEQ=0><ACK=SEG.SEQ+
 * SEG.LEN><CTL=RST,ACK>.  why is told to the program, if it was sent. */
void tcp_send_reset(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
		    const struct tcp_hdr *seg, size_t text_len, const char *why);

/* Resets the connection: <SEQ=SND.NXT><CTL=RST> (RFC 9293 3.10.5), the
 * program told why (if the reset was sent), and the TCB freed. */
void tcp_reset_conn(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, const char *why);

/* The window to offer now, with receiver SWS avoidance (RFC 9293
 * 3.8.6.2.2): the right edge never moves back, and moves forward only by
 * min(an MSS, half the buffer).  Updates rcv_adv and rcv_wnd. */
uint16_t tcp_offer_window(struct tcp_tcb *tcb);

/* Sends what the windows, Nagle and SWS avoidance allow, then the FIN if
 * one is due and every byte has gone; starts the timer for what is in
 * flight, or to probe a zero window. */
void tcp_output(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* The timer fired with data queued, nothing in flight and a window too small
 * for sender SWS avoidance: sends what the window holds (RFC 9293 3.8.6.2.1,
 * the override timeout) and starts the retransmission timer.  False if that
 * is not the case. */
bool tcp_sws_override(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* What tcp_retransmit_data() sent. */
enum tcp_rtx {
	TCP_RTX_NOTHING,             /* nothing: no data or FIN in flight, no probe due */
	TCP_RTX_PROBE,               /* a zero-window probe, one new byte */
	TCP_RTX_REPAIR,              /* the first unacknowledged segment again */
};

/* Sends again the first unacknowledged segment (one MSS at most, with the
 * FIN if it is the last), or probes a zero window with one new byte: for
 * the retransmission timer and for loss recovery, in a synchronized state.
 * Says which it sent; TCP_RTX_NOTHING (0) if there was nothing to send.  A
 * caller that repaired tells tcp_repair_sent(). */
enum tcp_rtx tcp_retransmit_data(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* tcp_timer.c: the timers and the round-trip estimator. */

/* Takes one round-trip sample into SRTT, RTTVAR and the RTO (RFC 6298 2). */
void tcp_rtt_sample(struct tcp_tcb *tcb, uint32_t rtt_ms);

/* The peer's window opened while a zero-window probe's byte was out and
 * not acknowledged: that byte goes again with the data behind it, at once,
 * the timer's backoff undone. */
void tcp_window_opened(struct tcp_tcb *tcb);

/* Two maximum segment lifetimes, in ms: the stack's tcp_msl_ms, or
 * TCPIP_TCP_MSL_MS. */
stack_time_ms tcp_2msl(const struct stack *st);

/* Enters TIME-WAIT, or restarts its 2 MSL (RFC 9293 3.10.7.4, MUST-13). */
void tcp_time_wait(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* Enters FIN-WAIT-2 with a 2 MSL limit: our side is closed, so a peer
 * that never sends its FIN cannot hold the TCB for ever (Linux's orphaned
 * sockets get tcp_fin_timeout, 60 s, the same way). */
void tcp_fin_wait_2(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* Sends the delayed ACK if its time has come. */
void tcp_delack_poll(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* tcp_recv.c: arriving text. */

/* Text text[0..len) at seq arrived in a state that takes text: trimmed to
 * what is new and what the buffer holds, kept in order or out of order,
 * acknowledged now or delayed.  True if RCV.NXT moved. */
bool tcp_text_arrives(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
		      const uint8_t *text, uint32_t len);

/* RFC 9293 3.10.7.4, sixth: hdr's urgent pointer, if URG is set, moves
 * RCV.UP on and tells the application (EV_TCP_URGENT). */
void tcp_urg_input(struct stack *st, struct tcp_tcb *tcb, const struct tcp_hdr *hdr);

/* tcp_cc.c: congestion control's shared part (its interface: tcp_cc.h). */

/* The algorithm called name ("newreno", "cubic"), as an enum tcp_cc_algo;
 * -1 if there is none. */
int tcp_cc_by_name(const char *name);

/* The name of algorithm algo; NULL if there is none. */
const char *tcp_cc_name(int algo);

/* Starts tcb's congestion control with algorithm algo (an unknown one:
 * TCPIP_TCP_CC_DEFAULT) at the initial window for its send MSS. */
void tcp_cc_init(struct tcp_tcb *tcb, int algo);

/* tcb goes on with algorithm algo, keeping cwnd and ssthresh. */
void tcp_cc_switch(struct tcp_tcb *tcb, int algo);

/* Tells the program of a change of tcb's cwnd or ssthresh since the last
 * time (EV_TCP_CWND), if it asked (cfg.tcp_cc_events). */
void tcp_cc_report(struct stack *st, struct tcp_tcb *tcb);

/* The data in flight less a segment per duplicate ACK, and after a timeout
 * less what is presumed lost and not yet sent again: RFC 6675's pipe as well
 * as it can be told without SACK. */
uint32_t tcp_pipe(const struct tcp_tcb *tcb);

/* The bytes of new data congestion control lets go now: cwnd less the pipe,
 * or in a fast recovery what PRR allows; 0 when none. */
uint32_t tcp_send_room(const struct tcp_tcb *tcb);

/* len bytes of data from seq went at now, again (a repair) or for the first
 * time: counted for PRR, and their send time kept for an RTT sample. */
void tcp_cc_sent(struct tcp_tcb *tcb, stack_time_ms now, uint32_t seq, uint32_t len, bool again);

/* Before new data goes at now: after more than an RTO with nothing sent,
 * cwnd goes back to at most the initial window (RFC 5681 4.1). */
void tcp_cc_idle_check(struct tcp_tcb *tcb, stack_time_ms now);

/* A congestion event (the third duplicate ACK, or an ECN-Echo): the
 * algorithm sets ssthresh, PRR starts.  The caller has set recovery to
 * TCP_RECOVERY_FAST or TCP_RECOVERY_CWR, and tells of the third duplicate's
 * delivery with tcp_cc_dup_ack(). */
void tcp_cc_enter_recovery(struct tcp_tcb *tcb, stack_time_ms now, enum tcp_cc_loss why);

/* A duplicate ACK during a fast recovery or an ECN reduction: PRR counts a
 * segment delivered. */
void tcp_cc_dup_ack(struct tcp_tcb *tcb);

/* An ACK of acked new bytes, with flight_before bytes in flight and a pipe
 * of pipe_before before it (SND.UNA and the duplicate count already moved):
 * PRR's step in a fast recovery, else the algorithm's growth. */
void tcp_cc_ack(struct tcp_tcb *tcb, stack_time_ms now, uint32_t acked, uint32_t flight_before,
		uint32_t pipe_before);

/* A fast recovery or an ECN reduction ended at now: cwnd = ssthresh. */
void tcp_cc_recovered(struct tcp_tcb *tcb, stack_time_ms now);

/* The retransmission timer fired, for the first time for this segment or
 * not: ssthresh cut (the first time), cwnd one segment. */
void tcp_cc_timeout(struct tcp_tcb *tcb, bool first);

/* tcp_ecn.c: ECN (RFC 3168 6.1). */

/* A SYN came for a new passive connection: ECN is on for tcb if the SYN asks
 * (ECE and CWR) and the stack's mode allows. */
void tcp_ecn_syn_in(const struct stack *st, struct tcp_tcb *tcb, const struct tcp_hdr *syn);

/* Our SYN is sent again: it no longer asks for ECN. */
void tcp_ecn_syn_again(struct tcp_tcb *tcb);

/* Our SYN was answered by synack: ECN is on if we asked and it agrees (ECE,
 * not CWR). */
void tcp_ecn_synack_in(struct tcp_tcb *tcb, const struct tcp_hdr *synack);

/* The ECN flags (ECE, CWR) a segment with flags adds: ECE and CWR on our
 * SYN while we ask, ECE on a SYN-ACK that agrees, ECE on an ACK while a CE
 * is being echoed; 0 on a RST. */
uint8_t tcp_ecn_flags(const struct tcp_tcb *tcb, uint8_t flags);

/* A segment of new data is about to go with *flags: adds CWR once after a
 * cut; returns the ECN codepoint for its IPv4 header (ECT(0), or 0 if ECN
 * is off). */
uint8_t tcp_ecn_new_data(struct tcp_tcb *tcb, uint8_t *flags);

/* An acceptable segment with header hdr came in an IPv4 packet with tos:
 * CWR stops the echo, CE starts it. */
void tcp_ecn_input(struct tcp_tcb *tcb, uint8_t tos, const struct tcp_hdr *hdr);

/* An ACK hdr: ECE cuts the window, once per window of data. */
void tcp_ecn_ack(struct tcp_tcb *tcb, stack_time_ms now, const struct tcp_hdr *hdr);

/* The window was just cut (ECE, or a loss): no ECE cuts it again until what
 * is in flight now is acknowledged. */
void tcp_ecn_reduced(struct tcp_tcb *tcb);

/* tcp_recovery.c: loss recovery. */

/* A duplicate ACK: the third sends the first unacknowledged segment again. */
void tcp_dup_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* An ACK of new data, acked bytes of sequence space past the ring's old
 * start, moved SND.UNA to ack; flight_before and pipe_before were the data
 * in flight and the pipe before it: a partial ACK during a recovery sends
 * the next hole again (NewReno), any other ends the recovery; congestion
 * control is told either way. */
void tcp_recovery_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t ack,
		      uint32_t acked, uint32_t flight_before, uint32_t pipe_before);

/* The retransmission timer is about to repair the first hole (the call
 * comes before the repair goes): congestion control collapses the window,
 * and the holes after it up to SND.NXT are repaired on the partial ACKs that
 * follow.  Nothing when only a zero-window probe is out, or nothing is. */
void tcp_recovery_timeout(struct tcp_tcb *tcb);

/* tcp_retransmit_data() just sent the first unacknowledged segment again
 * (TCP_RTX_REPAIR): sets the count of duplicate ACKs past which that repair
 * itself was lost (tcp_dup_ack()). */
void tcp_repair_sent(struct tcp_tcb *tcb);

#endif
