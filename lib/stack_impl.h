/*
 * stack_impl.h - the inside of struct stack, shared by the core's files
 * (stack.c, link.c, event_emit.c, arp.c, neigh.c, ip4.c, icmp.c, and TCP's
 * tcp_*.c, whose own declarations are tcp_impl.h's) and by nothing outside
 * lib/.
 *
 * All state lives here, bounded by config.h: no file-scope mutable state.
 * Layers call downward: each lower layer's functions are declared here, by
 * file, and none of them calls stack.c, the dispatcher.
 */
#ifndef TCPIP_STACK_IMPL_H
#define TCPIP_STACK_IMPL_H

#include "tcp_impl.h" /* struct stack holds TCP's tables */
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
	int tcp_cc_default;           /* new connections' congestion control (tcp_cc.h) */
};

/* The link (link.c): frames out, and which addresses and MACs are ours. */

/* Sends payload[0..len) in an Ethernet frame from our MAC to dst with
 * EtherType type, padded to Ethernet's minimum.  Returns 0, or -1 (counted)
 * if there is no tx, it is too long, or the device refused it. */
int link_output(struct stack *st, const uint8_t dst[ETH_ADDR_LEN], uint16_t type,
		const uint8_t *payload, size_t len);

/* True if addr is on our link (same prefix as our address). */
bool link_is_onlink(const struct stack *st, uint32_t addr);

/* True if addr is a broadcast address for us: all ones, or our subnet's. */
bool link_is_broadcast(const struct stack *st, uint32_t addr);

/* True if a frame to dst is ours: our MAC, broadcast, or any MAC when we
 * have none configured (an observer). */
bool link_mac_is_ours(const struct stack *st, const uint8_t dst[ETH_ADDR_LEN]);

/* The event channel (event_emit.c): calls on_event with ev, if the program
 * asked for events. */
void event_emit(struct stack *st, const struct stack_event *ev);

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
 * as the header's DS field and the configured TTL.  Returns 0 if the packet
 * was sent, or queued while ARP resolves dst (neigh_output()); -1 (counted)
 * if it was dropped: dst is neither on our link nor 255.255.255.255
 * (out_no_route), the header and payload exceed the MTU (out_too_big), the
 * neighbour cache had no room to hold it (out_queue_full), or there is no
 * device or it refused the frame (out_tx_failed).  -1 says the packet is
 * gone; 0 is no promise of delivery. */
int ip4_output(struct stack *st, stack_time_ms now, uint32_t dst, uint8_t proto, uint8_t tos,
	       const uint8_t *payload, size_t len);

/* ICMP input (icmp.c) for a packet that passed icmp_check(). */
enum drop_reason icmp_input(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
			    const uint8_t *msg, size_t len);

#endif
