/*
 * arp.c - ARP (RFC 826): the packet's check, parse and emit (arp.h), and
 * the reception algorithm: merge the sender, answer requests for us.
 * Limits: no proxy ARP; no duplicate address detection (RFC 5227 probes are
 * answered, not sent).
 */
#include "tcpip/arp.h"

#include <string.h>

#include "stack_impl.h"
#include "tcpip/bytes.h"

enum drop_reason arp_check(const uint8_t *pkt, size_t len)
{
	if (len < ARP_LEN)
		return DROP_ARP_TRUNCATED;
	/* RFC 826 "Packet Reception": "?Do I have the hardware type in ar$hrd?"
	 * then "?Do I speak the protocol in ar$pro?"; the lengths must be the
	 * ones those types imply, or the addresses cannot be read. */
	if (get_be16(pkt) != ARP_HTYPE_ETHER)
		return DROP_ARP_BAD_HTYPE;
	if (get_be16(pkt + 2) != ETHERTYPE_IPV4)
		return DROP_ARP_BAD_PTYPE;
	if (pkt[4] != ETH_ADDR_LEN || pkt[5] != 4)
		return DROP_ARP_BAD_LENGTH;
	if (get_be16(pkt + 6) != ARP_OP_REQUEST && get_be16(pkt + 6) != ARP_OP_REPLY)
		return DROP_ARP_BAD_OP;
	return DROP_NONE;
}

enum drop_reason arp_parse(const uint8_t *pkt, size_t len, struct arp_pkt *arp)
{
	enum drop_reason reason = arp_check(pkt, len);

	if (reason != DROP_NONE)
		return reason;
	arp->op = get_be16(pkt + 6);
	memcpy(arp->sha, pkt + 8, ETH_ADDR_LEN);
	arp->spa = get_be32(pkt + 14);
	memcpy(arp->tha, pkt + 18, ETH_ADDR_LEN);
	arp->tpa = get_be32(pkt + 24);
	return DROP_NONE;
}

size_t arp_emit(const struct arp_pkt *arp, uint8_t *buf, size_t cap)
{
	if (cap < ARP_LEN)
		return 0;
	put_be16(buf, ARP_HTYPE_ETHER);
	put_be16(buf + 2, ETHERTYPE_IPV4);
	buf[4] = ETH_ADDR_LEN;
	buf[5] = 4;
	put_be16(buf + 6, arp->op);
	memcpy(buf + 8, arp->sha, ETH_ADDR_LEN);
	put_be32(buf + 14, arp->spa);
	memcpy(buf + 18, arp->tha, ETH_ADDR_LEN);
	put_be32(buf + 24, arp->tpa);
	return ARP_LEN;
}

/* ARP processing: the part of the layer that needs the stack. */

int arp_send(struct stack *st, uint16_t op, const uint8_t dst[ETH_ADDR_LEN],
	     const uint8_t tha[ETH_ADDR_LEN], uint32_t tpa)
{
	struct arp_pkt arp = {.op = op, .spa = st->cfg.ip4_addr, .tpa = tpa};
	uint8_t buf[ARP_LEN];

	memcpy(arp.sha, st->cfg.mac, ETH_ADDR_LEN);
	memcpy(arp.tha, tha, ETH_ADDR_LEN);
	arp_emit(&arp, buf, sizeof buf);
	if (op == ARP_OP_REQUEST)
		st->counters.arp_requests_out++;
	else
		st->counters.arp_replies_out++;
	return link_output(st, dst, ETHERTYPE_ARP, buf, sizeof buf);
}

/* Tells the program what arrived for us: a request, or a reply. */
static void arp_report(struct stack *st, const struct arp_pkt *arp)
{
	struct stack_event ev = {.kind = arp->op == ARP_OP_REQUEST ? EV_ARP_REQUEST_IN
								   : EV_ARP_REPLY_IN,
				 .addr = arp->spa, .target = arp->tpa};

	memcpy(ev.mac, arp->sha, ETH_ADDR_LEN);
	event_emit(st, &ev);
}

/* Answers a request for our address (RFC 826: swap the sender and target
 * fields, put in our own, set the opcode to reply, send it to the asker). */
static void arp_answer(struct stack *st, const struct arp_pkt *req)
{
	struct stack_event sent = {.kind = EV_ARP_REPLY_OUT, .addr = req->spa, .target = req->tpa};

	memcpy(sent.mac, st->cfg.mac, ETH_ADDR_LEN);
	if (arp_send(st, ARP_OP_REPLY, req->sha, req->sha, req->spa) == 0)
		event_emit(st, &sent);
}

enum drop_reason arp_input(struct stack *st, stack_time_ms now, const uint8_t *pkt, size_t len)
{
	struct arp_pkt arp;
	enum drop_reason reason = arp_parse(pkt, len, &arp);
	bool for_us, confirmed, merged;

	if (reason != DROP_NONE)
		return reason;
	for_us = st->cfg.ip4_addr != 0 && arp.tpa == st->cfg.ip4_addr;
	confirmed = for_us && arp.op == ARP_OP_REPLY; /* a reply to us: reachable */
	if (for_us)
		arp_report(st, &arp);
	/* RFC 826 "Packet Reception": merge the sender if we know it, whoever
	 * the packet is for.  A sender of 0.0.0.0 (an RFC 5227 probe) has no
	 * address to learn. */
	merged = arp.spa != 0 && neigh_merge(st, now, arp.spa, arp.sha, confirmed, false);
	if (!for_us)
		return DROP_ARP_NOT_FOR_US;
	/* "If Merge_flag is false, add the triplet" (we are the target). */
	if (!merged && arp.spa != 0)
		neigh_merge(st, now, arp.spa, arp.sha, confirmed, true);
	if (arp.op == ARP_OP_REQUEST)
		arp_answer(st, &arp);
	return DROP_NONE;
}
