/*
 * stack_impl.h - the inside of struct stack, shared by the core's files
 * (stack.c, arp.c, neigh.c, ip4.c, icmp.c) and by nothing outside lib/.
 *
 * All state lives here, bounded by config.h: no file-scope mutable state.
 */
#ifndef TCPIP_STACK_IMPL_H
#define TCPIP_STACK_IMPL_H

#include "tcpip/arp.h"
#include "tcpip/config.h"
#include "tcpip/neigh.h"
#include "tcpip/stack.h"
#include "tcpip/tcp.h"

struct neigh_entry {
	enum neigh_state state;      /* NEIGH_NONE: the slot is free */
	uint32_t addr;
	uint8_t mac[ETH_ADDR_LEN];
	unsigned tries;              /* requests sent while INCOMPLETE */
	stack_time_ms timer;         /* INCOMPLETE: next try; REACHABLE: ages to
	                              * STALE; STALE: evicted unless used */
	stack_time_ms probe_after;   /* STALE: no unicast check before this */
};

/* A packet (IPv4 header and payload) waiting for its next hop's MAC. */
struct neigh_pending {
	bool used;
	uint32_t next_hop;
	uint64_t order;              /* queue order, oldest first */
	size_t len;
	uint8_t pkt[TCPIP_MTU];
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
	/* The one timer: retransmission (SYN, SYN-ACK, FIN) or, in TIME-WAIT, 2 MSL. */
	stack_time_ms timer_at;      /* STACK_NO_DEADLINE: not running */
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
	bool recovering;             /* after a fast retransmit, until recover is acked */
	bool probing;                /* a zero-window probe's byte is out, unacknowledged */
	/* Urgent data (RFC 9293 3.8.5): each pointer names the octet after it. */
	bool snd_urgent, rcv_urgent; /* SND.UP, RCV.UP set */
	uint32_t snd_up, rcv_up;
	uint32_t recover;            /* SND.NXT when the fast retransmit happened */
	unsigned rtx_lost_at;        /* dupacks that say the last repair was lost */
	/* RFC 6298's estimator: one timed segment at a time (Karn, MUST-18). */
	bool rtt_timing, has_srtt;
	uint32_t rtt_seq;
	stack_time_ms rtt_start;
	uint32_t srtt_ms, rttvar_ms;
	uint8_t snd_buf[TCPIP_TCP_SND_BUF];
	uint8_t rcv_buf[TCPIP_TCP_RCV_BUF];
};

/* A port we listen on (RFC 9293 3.10.1, passive OPEN). */
struct tcp_listener {
	bool used;
	uint16_t port;
	unsigned backlog;            /* half-open connections allowed */
	unsigned half_open;          /* connections in SYN-RECEIVED made by it */
};

struct stack {
	struct stack_cfg cfg;
	struct stack_counters counters;
	struct neigh_entry neigh[TCPIP_NEIGH_ENTRIES];
	struct neigh_pending pending[TCPIP_NEIGH_PENDING];
	uint64_t pending_order;      /* the next pending packet's order */
	uint16_t ip4_id;             /* the next IPv4 identification */
	uint8_t tx_frame[TCPIP_FRAME_MAX];
	struct tcp_tcb tcb[TCPIP_TCP_CONNS];
	uint16_t tcp_hash[TCPIP_TCP_HASH_BUCKETS];   /* first TCB of each bucket, index + 1 */
	struct tcp_listener listeners[TCPIP_TCP_LISTENERS];
	uint32_t tcp_ephemeral_next;  /* RFC 6056 algorithm 3's counter */
};

/* Sends payload[0..len) in an Ethernet frame to dst with EtherType type.
 * Returns 0, or -1 (counted) if there is no tx, it is too long, or the
 * device refused it. */
int stack_tx_eth(struct stack *st, const uint8_t dst[ETH_ADDR_LEN], uint16_t type,
		 const uint8_t *payload, size_t len);

/* Calls on_event with ev, if the program asked for events. */
void stack_emit(struct stack *st, const struct stack_event *ev);

/* True if addr is on our link (same prefix as our address). */
bool stack_on_link(const struct stack *st, uint32_t addr);

/* True if addr is a broadcast address for us: all ones, or our subnet's. */
bool stack_is_broadcast(const struct stack *st, uint32_t addr);

/* ARP input (arp.c): RFC 826's reception algorithm for pkt[0..len). */
enum drop_reason arp_input(struct stack *st, stack_time_ms now, const uint8_t *pkt, size_t len);

/* Sends an ARP packet from us: op, to Ethernet dst, asking about or answering
 * tha/tpa.  Returns 0, or -1 if it could not be sent. */
int arp_send(struct stack *st, uint16_t op, const uint8_t dst[ETH_ADDR_LEN],
	     const uint8_t tha[ETH_ADDR_LEN], uint32_t tpa);

/* RFC 826's merge: if addr is in the cache, its MAC becomes mac and the
 * entry REACHABLE (confirmed: a reply to us) or STALE (heard from), and any
 * packets waiting for it go; returns true ("Merge_flag").  If it is not, and
 * create is set, adds it in that state; returns false. */
bool neigh_merge(struct stack *st, stack_time_ms now, uint32_t addr,
		 const uint8_t mac[ETH_ADDR_LEN], bool confirmed, bool create);

/* Sends the IPv4 packet pkt[0..len) to next_hop: at once if its MAC is known
 * (checking a STALE entry with a unicast request, at most once a retry
 * interval), else queued while ARP asks.  Returns 0 if sent or queued, -1
 * (counted) if dropped. */
int neigh_output(struct stack *st, stack_time_ms now, uint32_t next_hop, const uint8_t *pkt,
		 size_t len);

/* Starts resolving addr if the cache does not know it; returns 0, or -1 if
 * the cache has no room. */
int neigh_resolve(struct stack *st, stack_time_ms now, uint32_t addr);

/* Runs the cache's timers due at now; the earliest one still pending. */
void neigh_poll(struct stack *st, stack_time_ms now);
stack_time_ms neigh_next_deadline(const struct stack *st);

/* IPv4 output (ip4.c): routes, frames and sends payload to dst, with tos
 * as the header's DS field and the configured TTL. */
int ip4_output(struct stack *st, stack_time_ms now, uint32_t dst, uint8_t proto, uint8_t tos,
	       const uint8_t *payload, size_t len);

/* ICMP input (icmp.c) for a packet that passed icmp_check(). */
enum drop_reason icmp_input(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
			    const uint8_t *msg, size_t len);

/* TCP (tcp.c, tcp_input.c).  tcp_input() takes a segment that passed
 * tcp_check() and tcp_parse(), addressed to us: RFC 9293 3.10.7. */
void tcp_input(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
	       const struct tcp_hdr *seg, const uint8_t *text, size_t text_len);

/* An ICMP error (type, code) about the TCP segment to remote_addr whose
 * first 8 bytes are quote[0..8) (RFC 9293 3.9.2.2): a hard one refuses an
 * open, a soft one is reported (EV_TCP_ICMP) and the connection stays.
 * The verdict names why it was ignored, if it was. */
enum drop_reason tcp_icmp_error(struct stack *st, uint32_t remote_addr, const uint8_t *quote,
				uint8_t type, uint8_t code);

/* Runs the TCP timers due at now; the earliest one still pending. */
void tcp_poll(struct stack *st, stack_time_ms now);
stack_time_ms tcp_next_deadline(const struct stack *st);

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

/* Moves tcb to state, telling the program; to TCP_CLOSED frees it. */
void tcp_set_state(struct stack *st, struct tcp_tcb *tcb, enum tcp_state state);

/* Tells the program about tcb with an event of kind (accepted, reset ...). */
void tcp_emit_event(struct stack *st, const struct tcp_tcb *tcb, enum stack_event_kind kind);

/* Sends a segment on tcb: seq, the control bits flags (ACK carries
 * RCV.NXT, and then any delayed ACK is done), the window tcp_offer_window()
 * gives, text[0..len); a SYN carries our MSS.  Returns 0 or -1. */
int tcp_send_text(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
		  uint8_t flags, const uint8_t *text, uint32_t len);

/* tcp_send_text() with no text. */
int tcp_send(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
	     uint8_t flags);

/* tcp_data.c.  The window to offer now, with receiver SWS avoidance (RFC
 * 9293 3.8.6.2.2): the right edge never moves back, and moves forward only
 * by min(an MSS, half the buffer).  Updates
 * rcv_adv and rcv_wnd. */
uint16_t tcp_offer_window(struct tcp_tcb *tcb);

/* Takes one round-trip sample into SRTT, RTTVAR and the RTO (RFC 6298 2). */
void tcp_rtt_sample(struct tcp_tcb *tcb, uint32_t rtt_ms);

/* Sends what the windows, Nagle and SWS avoidance allow, then the FIN if
 * one is due and every byte has gone; starts the timer for what is in
 * flight, or to probe a zero window. */
void tcp_output(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* The timer fired with data queued, nothing in flight and a window too small
 * for sender SWS avoidance: sends what the window holds (RFC 9293 3.8.6.2.1,
 * the override timeout) and starts the retransmission timer.  False if that
 * is not the case. */
bool tcp_sws_override(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* The retransmission timer fired in a synchronized state: sends again the
 * first unacknowledged segment (one MSS at most, with the FIN if it is the
 * last), or probes a zero window with one new byte.  False if there was
 * nothing to send. */
bool tcp_retransmit_data(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* An ACK moved SND.UNA to ack: frees the acknowledged bytes, takes an RTT
 * sample, restarts or stops the timer (RFC 6298 5.2, 5.3). */
void tcp_data_acked(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t ack);

/* The peer's window opened while a zero-window probe's byte was out and
 * not acknowledged: that byte goes again with the data behind it, at once,
 * the timer's backoff undone. */
void tcp_window_opened(struct tcp_tcb *tcb);

/* A duplicate ACK: the third sends the first unacknowledged segment again. */
void tcp_dup_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* Text text[0..len) at seq arrived in a state that takes text: trimmed to
 * what is new and what the buffer holds, kept in order or out of order,
 * acknowledged now or delayed.  True if RCV.NXT moved. */
bool tcp_text_arrives(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
		      const uint8_t *text, uint32_t len);

/* RFC 9293 3.10.7.4, sixth: hdr's urgent pointer, if URG is set, moves
 * RCV.UP on and tells the application (EV_TCP_URGENT). */
void tcp_urg_input(struct stack *st, struct tcp_tcb *tcb, const struct tcp_hdr *hdr);

/* Sends the delayed ACK if its time has come. */
void tcp_delack_poll(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* Sends <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (RFC 9293 3.10.7.4). */
int tcp_send_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* Sends a challenge ACK (RFC 5961 3.2, 4.2), at most one per
 * TCPIP_TCP_CHALLENGE_INTERVAL_MS on the connection (RFC 5961 7).  Returns
 * true if it was sent, false if the limit held it back (counted). */
bool tcp_challenge_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* The reset RFC 9293 3.10.7.1 owes seg, which no connection wanted: none for
 * a RST; <SEQ=SEG.ACK><CTL=RST> if it has ACK, else <SEQ=0><ACK=SEG.SEQ+
 * SEG.LEN><CTL=RST,ACK>.  why is told to the program. */
void tcp_send_reset(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
		    const struct tcp_hdr *seg, size_t text_len, const char *why);

/* Resets the connection: <SEQ=SND.NXT><CTL=RST> (RFC 9293 3.10.5), the
 * program told why, and the TCB freed. */
void tcp_reset_conn(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, const char *why);

/* Starts (or restarts) tcb's retransmission timer at its current RTO. */
void tcp_timer_rtx(struct tcp_tcb *tcb, stack_time_ms now);

/* Enters TIME-WAIT, or restarts its 2 MSL (RFC 9293 3.10.7.4, MUST-13). */
void tcp_time_wait(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* Enters FIN-WAIT-2 with a 2 MSL limit: our side is closed, so a peer
 * that never sends its FIN cannot hold the TCB for ever (Linux's orphaned
 * sockets get tcp_fin_timeout, 60 s, the same way). */
void tcp_fin_wait_2(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb);

/* The send MSS from the peer's option (536 when absent, MUST-15), never more
 * than our link allows (MUST-16) or less than TCPIP_TCP_MIN_MSS. */
uint16_t tcp_snd_mss(const struct tcp_opts *opts);

#endif
