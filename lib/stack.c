/*
 * stack.c - the sans-IO core (stack.h): input, poll, deadlines, counters.
 *
 * Input runs layer by layer: Ethernet, then IPv4 (RFC 791, RFC 1122 3.2.1),
 * then the transport's first gate (l4.h).  Each layer either hands the rest
 * on or names why the frame stops there; the name is counted and given to the
 * program's on_rx callback.  Chapters 1-3 send nothing and run no timers.
 */
#include "tcpip/stack.h"

#include <stdlib.h>
#include <string.h>

struct stack {
	struct stack_cfg cfg;
	struct stack_counters counters;
};

static const uint8_t eth_broadcast[ETH_ADDR_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t eth_zero[ETH_ADDR_LEN];

struct stack *stack_new(const struct stack_cfg *cfg)
{
	struct stack *st = calloc(1, sizeof *st);

	if (st)
		st->cfg = *cfg;
	return st;
}

void stack_free(struct stack *st)
{
	free(st);
}

/* True if a frame to dst is ours: our MAC, broadcast, or any MAC when we
 * have none configured (a sniffer). */
static bool stack_mac_is_ours(const struct stack *st, const uint8_t *dst)
{
	return memcmp(st->cfg.mac, eth_zero, ETH_ADDR_LEN) == 0 ||
	       memcmp(dst, st->cfg.mac, ETH_ADDR_LEN) == 0 ||
	       memcmp(dst, eth_broadcast, ETH_ADDR_LEN) == 0;
}

/* The transport's first gate for the packet described by rx->ip4, whose
 * payload is payload[0..len). */
static enum drop_reason stack_l4_input(struct stack_rx *rx, const uint8_t *payload, size_t len)
{
	rx->has_l4 = true;
	switch (rx->ip4.proto) {
	case IPPROTO_NUM_ICMP: return icmp_check(payload, len, &rx->l4);
	case IPPROTO_NUM_UDP: return udp_check(&rx->ip4, payload, len, &rx->l4);
	case IPPROTO_NUM_TCP: return tcp_check(&rx->ip4, payload, len, &rx->l4);
	default: rx->has_l4 = false; return DROP_IP4_UNKNOWN_PROTOCOL;
	}
}

/* IPv4 input for pkt[0..len), the frame after its Ethernet header. */
static enum drop_reason stack_ip4_input(struct stack *st, struct stack_rx *rx,
					const uint8_t *pkt, size_t len)
{
	enum drop_reason reason;

	st->counters.ip4_in++;
	rx->ip4_bytes = pkt;
	rx->ip4_avail = len;
	reason = ip4_parse(pkt, len, &rx->ip4);
	if (reason != DROP_NONE)
		return reason;
	rx->has_ip4 = true;
	/* RFC 1122 3.2.1.3: a datagram not for one of our addresses is
	 * silently discarded (when we have an address). */
	if (st->cfg.ip4_addr != 0 && rx->ip4.dst != st->cfg.ip4_addr)
		return DROP_IP4_NOT_FOR_US;
	if (ip4_is_fragment(&rx->ip4))
		return DROP_IP4_FRAGMENT;
	/* Bytes past total_len are link padding (RFC 894), not payload. */
	return stack_l4_input(rx, pkt + rx->ip4.hdr_len, rx->ip4.total_len - rx->ip4.hdr_len);
}

/* Ethernet input: the header, the destination, the EtherType. */
static enum drop_reason stack_eth_input(struct stack *st, struct stack_rx *rx)
{
	enum drop_reason reason = eth_parse(rx->frame, rx->len, &rx->eth);

	if (reason != DROP_NONE)
		return reason;
	rx->has_eth = true;
	if (!stack_mac_is_ours(st, rx->eth.dst))
		return DROP_ETH_NOT_FOR_US;
	if (rx->eth.type != ETHERTYPE_IPV4)
		return DROP_ETH_UNKNOWN_TYPE;
	return stack_ip4_input(st, rx, rx->frame + ETH_HDR_LEN, rx->len - ETH_HDR_LEN);
}

enum drop_reason stack_input(struct stack *st, stack_time_ms now, const uint8_t *frame,
			     size_t len)
{
	struct stack_rx rx = {.frame = frame, .len = len};

	(void)now;
	st->counters.frames_in++;
	rx.verdict = stack_eth_input(st, &rx);
	if (rx.verdict == DROP_NONE)
		st->counters.ip4_delivered++;
	else
		st->counters.drops[rx.verdict]++;
	if (st->cfg.on_rx)
		st->cfg.on_rx(st->cfg.rx_ctx, &rx);
	return rx.verdict;
}

void stack_poll(struct stack *st, stack_time_ms now)
{
	(void)st;
	(void)now;
}

stack_time_ms stack_next_deadline(const struct stack *st)
{
	(void)st;
	return STACK_NO_DEADLINE;
}

const struct stack_counters *stack_counters(const struct stack *st)
{
	return &st->counters;
}
