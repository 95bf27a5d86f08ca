/*
 * stack.c - the sans-IO core (stack.h), the dispatcher: input, start, poll,
 * deadlines, counters.  The two things every layer shares have homes of
 * their own below it: the link (frames out, on-link and broadcast tests,
 * link.c) and the event channel to the program (event_emit.c).  Layers call
 * down; none calls back into this file.
 *
 * Input runs layer by layer: Ethernet, then ARP (arp.c) or IPv4 (RFC 791,
 * RFC 1122 3.2.1), then the transport's first gate (l4.h) and, for a host,
 * ICMP (icmp.c) and TCP (tcp_input.c).  Each layer either hands the rest on
 * or names why the frame stops there; the name is counted and given to the
 * program's on_rx.
 * A stack with no address is an observer (chapters 1-3): it checks and
 * names, and never answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack_impl.h"

struct stack *stack_new(const struct stack_cfg *cfg)
{
	struct stack *st = calloc(1, sizeof *st);

	if (!st)
		return NULL;
	st->cfg = *cfg;
	st->tcp_cc_default = tcp_cc_by_name(TCPIP_TCP_CC_DEFAULT);
	if (cfg->tcp_cc && tcp_cc_by_name(cfg->tcp_cc) >= 0)
		st->tcp_cc_default = tcp_cc_by_name(cfg->tcp_cc);
	return st;
}

void stack_free(struct stack *st)
{
	free(st);
}

void stack_start(struct stack *st, stack_time_ms now)
{
	struct stack_event ev = {.kind = EV_ARP_ANNOUNCE, .addr = st->cfg.ip4_addr};

	(void)now;
	if (st->cfg.ip4_addr == 0 || !st->cfg.tx)
		return;
	/* RFC 5227 2.3: an ARP request with our address as both sender and
	 * target, broadcast, so neighbours that know us update their caches. */
	memcpy(ev.mac, st->cfg.mac, ETH_ADDR_LEN);
	if (arp_send(st, ARP_OP_REQUEST, eth_broadcast, eth_zero, st->cfg.ip4_addr) == 0)
		event_emit(st, &ev);
}

/* RFC 1122 3.2.1.3: a host MUST silently discard a datagram whose source
 * is a broadcast, a multicast (class D), or loopback (127/8) address, or
 * 0.0.0.0 unless it is sent to a broadcast (a host still configuring). */
static bool stack_martian_source(const struct stack *st, uint32_t src, uint32_t dst)
{
	if (src == 0)
		return !(dst == UINT32_MAX || link_is_broadcast(st, dst));
	return src == UINT32_MAX || (src >> 28) == 0xe || (src >> 24) == 127 ||
	       (st->cfg.ip4_addr != 0 && link_is_broadcast(st, src));
}

/* TCP: the gate and the options, then, for a host, the segment's arrival
 * (RFC 9293 3.10.7). */
static enum drop_reason stack_tcp_input(struct stack *st, stack_time_ms now, struct stack_rx *rx,
					const uint8_t *seg, size_t len)
{
	enum drop_reason reason = tcp_check(&rx->ip4, seg, len, &rx->l4);

	if (reason == DROP_NONE)
		reason = tcp_parse(seg, len, &rx->tcp);
	if (reason != DROP_NONE)
		return reason;
	rx->has_tcp = true;
	if (st->cfg.ip4_addr == 0)
		return DROP_NONE;
	if (rx->ip4.dst != st->cfg.ip4_addr) /* MUST-57: never to a broadcast */
		return DROP_TCP_BROADCAST;
	tcp_input(st, now, &rx->ip4, &rx->tcp, seg + rx->tcp.hdr_len, len - rx->tcp.hdr_len);
	return DROP_NONE;
}

/* The transport's first gate for the packet described by rx->ip4, whose
 * payload is payload[0..len); then, for a host, ICMP. */
static enum drop_reason stack_l4_input(struct stack *st, stack_time_ms now, struct stack_rx *rx,
				       const uint8_t *payload, size_t len)
{
	enum drop_reason reason;

	rx->has_l4 = true;
	switch (rx->ip4.proto) {
	case IPPROTO_NUM_ICMP:
		reason = icmp_check(payload, len, &rx->l4);
		if (reason == DROP_NONE && st->cfg.ip4_addr != 0)
			reason = icmp_input(st, now, &rx->ip4, payload, len);
		return reason;
	case IPPROTO_NUM_UDP: return udp_check(&rx->ip4, payload, len, &rx->l4);
	case IPPROTO_NUM_TCP: return stack_tcp_input(st, now, rx, payload, len);
	default: rx->has_l4 = false; return DROP_IP4_UNKNOWN_PROTOCOL;
	}
}

/* IPv4 input for pkt[0..len), the frame after its Ethernet header. */
static enum drop_reason stack_ip4_input(struct stack *st, stack_time_ms now, struct stack_rx *rx,
					const uint8_t *pkt, size_t len)
{
	enum drop_reason reason;

	st->counters.ip4_in++;
	rx->ip4_bytes = pkt;
	reason = ip4_parse(pkt, len, &rx->ip4);
	if (reason != DROP_NONE)
		return reason;
	rx->has_ip4 = true;
	if (stack_martian_source(st, rx->ip4.src, rx->ip4.dst))
		return DROP_IP4_BAD_SOURCE;
	/* RFC 1122 3.2.1.3: a datagram not for one of our addresses (or a
	 * broadcast) is silently discarded, when we have an address. */
	if (st->cfg.ip4_addr != 0 && rx->ip4.dst != st->cfg.ip4_addr &&
	    !link_is_broadcast(st, rx->ip4.dst))
		return DROP_IP4_NOT_FOR_US;
	if (ip4_is_fragment(&rx->ip4))
		return DROP_IP4_FRAGMENT;
	/* Bytes past total_len are link padding (RFC 894), not payload. */
	return stack_l4_input(st, now, rx, pkt + rx->ip4.hdr_len,
			      rx->ip4.total_len - rx->ip4.hdr_len);
}

/* Ethernet input: the header, the destination, the EtherType. */
static enum drop_reason stack_eth_input(struct stack *st, stack_time_ms now, struct stack_rx *rx)
{
	enum drop_reason reason = eth_parse(rx->frame, rx->len, &rx->eth);
	const uint8_t *payload = rx->frame + ETH_HDR_LEN;
	size_t len = rx->len - ETH_HDR_LEN;

	if (reason != DROP_NONE)
		return reason;
	rx->has_eth = true;
	if (!link_mac_is_ours(st, rx->eth.dst))
		return DROP_ETH_NOT_FOR_US;
	switch (rx->eth.type) {
	case ETHERTYPE_IPV4: return stack_ip4_input(st, now, rx, payload, len);
	case ETHERTYPE_ARP:
		reason = arp_input(st, now, payload, len);
		if (reason == DROP_NONE)
			st->counters.arp_in++;
		return reason;
	default: return DROP_ETH_UNKNOWN_TYPE;
	}
}

enum drop_reason stack_input(struct stack *st, stack_time_ms now, const uint8_t *frame,
			     size_t len)
{
	struct stack_rx rx = {.frame = frame, .len = len};

	st->counters.frames_in++;
	rx.verdict = stack_eth_input(st, now, &rx);
	if (rx.verdict != DROP_NONE)
		st->counters.drops[rx.verdict]++;
	else if (rx.has_ip4)
		st->counters.ip4_delivered++;
	if (st->cfg.on_rx)
		st->cfg.on_rx(st->cfg.rx_ctx, &rx);
	return rx.verdict;
}

void stack_poll(struct stack *st, stack_time_ms now)
{
	neigh_poll(st, now);
	tcp_poll(st, now);
}

stack_time_ms stack_next_deadline(const struct stack *st)
{
	stack_time_ms neigh = neigh_next_deadline(st), tcp = tcp_next_deadline(st);

	return neigh < tcp ? neigh : tcp;
}

int stack_resolve(struct stack *st, stack_time_ms now, uint32_t addr)
{
	if (!link_is_onlink(st, addr) || link_is_broadcast(st, addr)) {
		st->counters.out_no_route++;
		return -1;
	}
	return neigh_resolve(st, now, addr);
}

const struct stack_counters *stack_counters(const struct stack *st)
{
	return &st->counters;
}
