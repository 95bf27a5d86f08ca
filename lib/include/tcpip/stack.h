/*
 * stack.h - the core of the book's stack: sans-IO, time passed in.
 *
 * The core reads no clock and touches no socket.  A program (or a test) hands
 * it frames with stack_input(), calls stack_poll() when stack_next_deadline()
 * comes, and receives the frames the stack sends through a callback.  So the
 * same core runs on a veth in the lab and in virtual time in a test.
 *
 * Chapters 1-3: parse Ethernet and IPv4, check the transport checksums, name
 * and count every drop.  Chapter 4: ARP and the neighbour cache (neigh.h).
 * Chapter 5: ICMP echo and the IPv4 output path (ip4_output()).
 * Chapter 6: TCP connections (tcp.h).
 */
#ifndef TCPIP_STACK_H
#define TCPIP_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drop.h"
#include "eth.h"
#include "ip4.h"
#include "l4.h"
#include "stack_time.h" /* stack_time_ms, STACK_NO_DEADLINE */
#include "tcp.h"

/* Sends one frame; returns 0, or -1 if the device refused it. */
typedef int (*stack_tx_fn)(void *ctx, const uint8_t *frame, size_t len);

/* What the stack saw in one input frame, for a program to print.  Pointers
 * are valid only during the callback; a layer's flag says whether it parsed. */
struct stack_rx {
	const uint8_t *frame;
	size_t len;
	enum drop_reason verdict;   /* DROP_NONE, or why the frame went no further */
	bool has_eth, has_ip4, has_l4;
	struct eth_hdr eth;
	struct ip4_hdr ip4;
	struct l4_sum l4;           /* transport checksum, when has_l4 */
	bool has_tcp;
	struct tcp_hdr tcp;         /* the TCP header, when has_tcp */
	const uint8_t *ip4_bytes;   /* the IPv4 header's first byte, when has_ip4 */
};

/* Called once per input frame, after the stack has decided its verdict. */
typedef void (*stack_rx_fn)(void *ctx, const struct stack_rx *rx);

/* Things the stack did or learned, one per event, for a program to print
 * (stack_event_text() words them) and a test to check. */
enum stack_event_kind {
	EV_ARP_ANNOUNCE,     /* gratuitous request for our own address, at start */
	EV_ARP_REQUEST_IN,   /* a request for our address: addr asked for target */
	EV_ARP_REPLY_OUT,    /* we answered addr */
	EV_ARP_REQUEST_OUT,  /* we asked for target (try is 1..TCPIP_ARP_TRIES; 0: probe) */
	EV_ARP_REPLY_IN,     /* addr is at mac, answering us */
	EV_NEIGH_LEARNED,    /* a new entry, or an incomplete one completed */
	EV_NEIGH_UPDATED,    /* a known entry got a new MAC or was confirmed */
	EV_NEIGH_STALE,      /* REACHABLE aged to STALE */
	EV_NEIGH_EVICTED,    /* removed: unused too long, or room needed */
	EV_NEIGH_FAILED,     /* no answer after every try; count packets dropped */
	EV_ECHO_REPLIED,     /* an echo request from addr answered */
	EV_ECHO_IGNORED,     /* an echo request to a broadcast address (target) */
	EV_TCP_STATE,        /* connection conn went from old_state to state */
	EV_TCP_ACCEPTED,     /* a passive open completed (ESTABLISHED) */
	EV_TCP_CONNECTED,    /* an active open completed */
	EV_TCP_REFUSED,      /* an active open was answered by a reset (or ICMP unreachable) */
	EV_TCP_TIMEOUT,      /* retransmissions gave up: the connection is gone */
	EV_TCP_RESET,        /* a synchronized connection was reset by the peer */
	EV_TCP_EOF,          /* the peer's FIN: it sends no more */
	EV_TCP_RST_OUT,      /* we sent a reset; why says why */
	EV_TCP_CHALLENGE,    /* we sent a challenge ACK (RFC 5961); why says why */
	EV_TCP_DROPPED,      /* a segment was discarded; why says why */
	EV_TCP_READABLE,     /* new bytes are in order, ready for tcp_read() */
	EV_TCP_WRITABLE,     /* acknowledged bytes left the send buffer */
	EV_TCP_R1,           /* R1 retransmissions unanswered (RFC 9293 3.8.3) */
	EV_TCP_ICMP,         /* an ICMP error about conn, which stays open (icmp_type, icmp_code) */
	EV_TCP_URGENT,       /* the peer's urgent pointer is new or moved on: tcp_urgent_pending() */
	EV_TCP_CWND,         /* cwnd or ssthresh changed (only if cfg.tcp_cc_events): cwnd,
	                      * ssthresh, in_flight; why is the phase */
};

struct stack_event {
	enum stack_event_kind kind;
	uint32_t addr;               /* the other host */
	uint32_t target;             /* the address asked for, where one is */
	uint8_t mac[ETH_ADDR_LEN];
	int state;                   /* enum neigh_state, for neighbour events */
	unsigned count;              /* try number, or packets dropped */
	uint16_t id, seq;            /* echo identifier and sequence number */
	size_t len;                  /* echo data bytes */
	int conn;                    /* TCP: the connection's id */
	uint16_t port, local_port;   /* TCP: the peer's port and ours */
	int old_state;               /* TCP: enum tcp_state before EV_TCP_STATE */
	const char *why;             /* TCP: a phrase for resets, challenges, drops */
	uint8_t icmp_type, icmp_code; /* TCP: the ICMP error of EV_TCP_ICMP */
	uint32_t cwnd, ssthresh;     /* TCP: EV_TCP_CWND's window, bytes (UINT32_MAX: no ssthresh) */
	uint32_t in_flight;          /* TCP: EV_TCP_CWND's data in flight */
};

/* Called for each event, when it happens: in the middle of the stack_input(),
 * stack_poll(), stack_start() or tcp_ call that raised it, with that work
 * half done.  So the callback must not call back into the stack: no
 * tcp_read(), tcp_write(), tcp_close(), tcp_connect() or any other call that
 * changes or sends, and no stack_input() or stack_poll().  Such a call would
 * run on a half-updated TCB: a tcp_read() inside EV_TCP_READABLE sends an ACK
 * in the middle of the segment's arrival, before the delayed-ACK rules have
 * decided; a tcp_close() frees a TCB the caller goes on processing; a
 * tcp_connect() inside the EV_TCP_STATE of a connection going to CLOSED can
 * take that slot before it leaves its hash chain.  Note what is to be done
 * and do it after the call returns (on_rx comes after a frame's work is done,
 * the place the chapter programs use).  Calls that only read are safe:
 * tcp_readable(), tcp_writable(), tcp_peer_done(), tcp_urgent_pending(),
 * tcp_conn_state(), tcp_conn_snd_mss(), stack_counters(), stack_event_text(). */
typedef void (*stack_event_fn)(void *ctx, const struct stack_event *ev);

struct stack_cfg {
	uint8_t mac[ETH_ADDR_LEN]; /* our MAC; all zero: accept any destination */
	uint32_t ip4_addr;         /* our address, host order; 0: accept any */
	int prefix_len;            /* our subnet's prefix, for on-link and broadcast */
	bool answer_echo;          /* answer ICMP echo requests (chapter 5) */
	stack_tx_fn tx;            /* where frames go; NULL: the stack sends nothing */
	void *tx_ctx;
	stack_rx_fn on_rx;         /* may be NULL */
	void *rx_ctx;
	stack_event_fn on_event;   /* may be NULL */
	void *event_ctx;
	uint8_t secret[16];        /* key of the ISN and connection-hash function
	                            * (siphash.h): random in programs, fixed in tests */
	stack_time_ms tcp_msl_ms;  /* TIME-WAIT is 2 of these; 0: TCPIP_TCP_MSL_MS */
	uint8_t ip4_ttl;           /* the TTL of what we send; 0: TCPIP_IP4_TTL */
	bool tcp_cc_events;        /* tell EV_TCP_CWND, each change of a window */
	int tcp_ecn;               /* enum tcp_ecn_mode (tcp.h): ECN of new connections */
	const char *tcp_cc;        /* congestion control of new connections, by name
	                            * (tcp.h); NULL or unknown: TCPIP_TCP_CC_DEFAULT */
};

/* Counters a program shows with -v and a test reads. */
struct stack_counters {
	uint64_t frames_in;
	uint64_t ip4_in;         /* frames with EtherType IPv4 */
	uint64_t ip4_delivered;  /* IPv4 packets that passed every check */
	uint64_t arp_in;         /* ARP packets that passed every check */
	uint64_t drops[DROP__COUNT];  /* by reason; drops[DROP_NONE] stays 0 */
	uint64_t frames_out;
	uint64_t arp_requests_out;
	uint64_t arp_replies_out;
	uint64_t echo_replies_out;
	uint64_t out_no_route;      /* an IPv4 packet for a destination off our link */
	uint64_t out_too_big;       /* an IPv4 packet larger than the MTU (we never fragment) */
	uint64_t out_queue_full;    /* a packet waiting for ARP found no room, or
	                             * pushed out the oldest of its destination's */
	uint64_t out_unresolved;    /* packets dropped when ARP gave up */
	uint64_t out_tx_failed;     /* frames the device refused */
	uint64_t tcp_in;            /* TCP segments for a host that passed every check */
	uint64_t tcp_out;           /* TCP segments sent */
	uint64_t tcp_rsts_out;
	uint64_t tcp_retransmits;   /* SYN, SYN-ACK and FIN sent again */
	uint64_t tcp_challenge_acks;
	uint64_t tcp_challenge_limited; /* challenge ACKs not sent: over the rate */
	uint64_t tcp_backlog_drops; /* SYNs dropped: the listener's backlog was full */
	uint64_t tcp_table_full;    /* SYNs or connects refused: no free TCB */
	uint64_t tcp_bad_transitions; /* state changes missing from the table: bugs */
	uint64_t tcp_fast_retransmits;
	uint64_t tcp_ooo_dropped;   /* out-of-order segments with no room to keep them */
};

struct stack;

/* Allocates a stack (one allocation, bounded).  Returns NULL on no memory. */
struct stack *stack_new(const struct stack_cfg *cfg);

/* Frees a stack made by stack_new(); NULL is allowed. */
void stack_free(struct stack *st);

/* Starts the stack at now: with an address and a transmit callback, it
 * announces itself with a gratuitous ARP request (RFC 5227 section 2.3). */
void stack_start(struct stack *st, stack_time_ms now);

/* Hands the stack one received frame at time now.  Returns the verdict, also
 * given to on_rx and counted.  Never reads outside frame[0..len). */
enum drop_reason stack_input(struct stack *st, stack_time_ms now, const uint8_t *frame,
			     size_t len);

/* Runs the timers due at now: ARP retries and give-ups, cache aging, TCP
 * retransmission and TIME-WAIT. */
void stack_poll(struct stack *st, stack_time_ms now);

/* The time stack_poll() next has work, or STACK_NO_DEADLINE. */
stack_time_ms stack_next_deadline(const struct stack *st);

/* Starts resolving addr (an ARP request) unless the cache knows it.
 * Returns 0, or -1 if addr is not on our link or the cache has no room. */
int stack_resolve(struct stack *st, stack_time_ms now, uint32_t addr);

/* The stack's counters (valid until stack_free()). */
const struct stack_counters *stack_counters(const struct stack *st);

/* Words ev as one line without a newline ("arp reply 192.0.2.2 is-at ...")
 * into out; returns out. */
char *stack_event_text(const struct stack_event *ev, char *out, size_t cap);

#endif
