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

#endif
