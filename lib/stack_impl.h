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
	bool fin_queued;             /* our FIN is due, or sent: it takes sequence snd_fin */
	uint32_t snd_fin;
	/* Receive sequence space (figure 4). */
	uint32_t irs, rcv_nxt, rcv_wnd;
	/* The one timer: retransmission (SYN, SYN-ACK, FIN) or, in TIME-WAIT, 2 MSL. */
	stack_time_ms timer_at;      /* STACK_NO_DEADLINE: not running */
	uint32_t rto_ms;
	unsigned retries;            /* retransmissions so far */
	bool challenged;             /* a challenge ACK was sent, at challenge_at */
	stack_time_ms challenge_at;
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

/* IPv4 output (ip4.c): routes, frames and sends payload to dst. */
int ip4_output(struct stack *st, stack_time_ms now, uint32_t dst, uint8_t proto,
	       const uint8_t *payload, size_t len);

/* ICMP input (icmp.c) for a packet that passed icmp_check(). */
enum drop_reason icmp_input(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
			    const uint8_t *msg, size_t len);

/* TCP (tcp.c, tcp_input.c).  tcp_input() takes a segment that passed
 * tcp_check() and tcp_parse(), addressed to us: RFC 9293 3.10.7. */
void tcp_input(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
	       const struct tcp_hdr *seg, size_t text_len);

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
 * rcv_nxt), our window; a SYN carries our MSS.  Returns 0 or -1. */
int tcp_send(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
	     uint8_t flags);

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
