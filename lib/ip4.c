/*
 * ip4.c - the IPv4 header: check, parse, emit (RFC 791 section 3.1,
 * RFC 1122 section 3.2.1), and the output path every later chapter sends
 * through (ip4_output()).  See ip4.h for the limits.
 */
#include "tcpip/ip4.h"

#include <stdio.h>
#include <string.h>

#include "stack_impl.h"
#include "tcpip/bytes.h"
#include "tcpip/cksum.h"

/* The rules of the options whose insides a host must check, given one
 * option opt[0..len) (len >= 2).  Returns true if it keeps them.
 * RFC 791 3.1: Record Route's pointer is at least 4 and Timestamp's at least
 * 5; while the pointer is inside the option there is room for the next
 * entry (4 bytes; 8 for Timestamp with addresses, flags 1 and 3).  RFC 2113:
 * Router Alert is 4 bytes.  Linux's ip_options_compile() refuses the same. */
static bool ip4_option_ok(const uint8_t *opt, size_t len)
{
	switch (opt[0]) {
	case IP4_OPT_RR:
		return len >= 3 && opt[2] >= 4 && (opt[2] > len || opt[2] + 3u <= len);
	case IP4_OPT_TS:
		if (len < 4 || opt[2] < 5)
			return false;
		if (opt[2] > len)
			return true; /* full: the overflow count is kept instead */
		return opt[2] + ((opt[3] & 0x0f) == 0 ? 3u : 7u) <= len;
	case IP4_OPT_RA:
		return len == 4;
	default:
		return true; /* other options are carried, not interpreted */
	}
}

/* RFC 791 3.1 "Options": EOL and NOP are single bytes; every other option
 * is type, length (counting both), data.  A length below 2, or one that
 * runs past the header, makes the header malformed, and so does an option
 * that breaks its own rules (ip4_option_ok()) or, for Record Route and
 * Timestamp, appears twice.  EOL ends the list; what follows it is padding.
 * opt[0..len) is the options area of the header. */
static enum drop_reason ip4_check_options(const uint8_t *opt, size_t len)
{
	const uint8_t *pos = opt;
	const uint8_t *end = opt + len;
	bool seen_rr = false, seen_ts = false;

	while (pos < end) {
		uint8_t type = pos[0];

		if (type == IP4_OPT_EOL)
			break;
		if (type == IP4_OPT_NOP) {
			pos++;
			continue;
		}
		if (end - pos < 2 || pos[1] < 2 || pos[1] > end - pos || !ip4_option_ok(pos, pos[1]))
			return DROP_IP4_BAD_OPTION;
		if ((type == IP4_OPT_RR && seen_rr) || (type == IP4_OPT_TS && seen_ts))
			return DROP_IP4_BAD_OPTION;
		seen_rr |= type == IP4_OPT_RR;
		seen_ts |= type == IP4_OPT_TS;
		pos += pos[1];
	}
	return DROP_NONE;
}

enum drop_reason ip4_check(const uint8_t *pkt, size_t len)
{
	size_t hdr_len;
	size_t total_len;

	if (len < IP4_MIN_HDR_LEN)
		return DROP_IP4_TRUNCATED_HEADER;
	if (pkt[0] >> 4 != 4)
		return DROP_IP4_BAD_VERSION;
	hdr_len = (size_t)(pkt[0] & 0x0f) * 4;
	if (hdr_len < IP4_MIN_HDR_LEN)
		return DROP_IP4_BAD_IHL;
	if (len < hdr_len)
		return DROP_IP4_TRUNCATED_OPTIONS;
	if (cksum(pkt, hdr_len) != 0) /* RFC 1122 3.2.1.2: MUST verify, MUST drop */
		return DROP_IP4_BAD_CHECKSUM;
	total_len = get_be16(pkt + 2);
	if (total_len < hdr_len)
		return DROP_IP4_BAD_TOTAL_LENGTH;
	if (total_len > len)
		return DROP_IP4_TRUNCATED_PACKET;
	return ip4_check_options(pkt + IP4_MIN_HDR_LEN, hdr_len - IP4_MIN_HDR_LEN);
}

enum drop_reason ip4_parse(const uint8_t *pkt, size_t len, struct ip4_hdr *hdr)
{
	enum drop_reason reason = ip4_check(pkt, len);

	if (reason != DROP_NONE)
		return reason;
	hdr->version = pkt[0] >> 4;
	hdr->hdr_len = (uint8_t)((pkt[0] & 0x0f) * 4);
	hdr->tos = pkt[1];
	hdr->total_len = get_be16(pkt + 2);
	hdr->id = get_be16(pkt + 4);
	hdr->frag = get_be16(pkt + 6);
	hdr->ttl = pkt[8];
	hdr->proto = pkt[9];
	hdr->checksum = get_be16(pkt + 10);
	hdr->src = get_be32(pkt + 12);
	hdr->dst = get_be32(pkt + 16);
	hdr->opt_len = (uint8_t)(hdr->hdr_len - IP4_MIN_HDR_LEN);
	memcpy(hdr->opt, pkt + IP4_MIN_HDR_LEN, hdr->opt_len);
	return DROP_NONE;
}

bool ip4_is_fragment(const struct ip4_hdr *hdr)
{
	return (hdr->frag & (IP4_FLAG_MF | IP4_FRAG_OFFSET_MASK)) != 0;
}

/* The option bytes of hdr that fit in a header (at most 40). */
static size_t ip4_opt_bytes(const struct ip4_hdr *hdr)
{
	return hdr->opt_len > IP4_MAX_OPT_LEN ? IP4_MAX_OPT_LEN : hdr->opt_len;
}

size_t ip4_len(const struct ip4_hdr *hdr)
{
	return IP4_MIN_HDR_LEN + (ip4_opt_bytes(hdr) + 3) / 4 * 4;
}

size_t ip4_emit(const struct ip4_hdr *hdr, uint8_t *buf, size_t cap)
{
	size_t hdr_len = ip4_len(hdr);

	if (cap < hdr_len)
		return 0;
	buf[0] = (uint8_t)(4 << 4 | hdr_len / 4);
	buf[1] = hdr->tos;
	put_be16(buf + 2, hdr->total_len);
	put_be16(buf + 4, hdr->id);
	put_be16(buf + 6, hdr->frag);
	buf[8] = hdr->ttl;
	buf[9] = hdr->proto;
	put_be16(buf + 10, 0);
	put_be32(buf + 12, hdr->src);
	put_be32(buf + 16, hdr->dst);
	/* Options, then zeros (EOL) up to the 4-byte boundary (RFC 791 3.1). */
	memset(buf + IP4_MIN_HDR_LEN, 0, hdr_len - IP4_MIN_HDR_LEN);
	memcpy(buf + IP4_MIN_HDR_LEN, hdr->opt, ip4_opt_bytes(hdr));
	put_be16(buf + 10, cksum(buf, hdr_len));
	return hdr_len;
}

char *ip4_ntoa(uint32_t addr, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", addr >> 24, addr >> 16 & 0xff, addr >> 8 & 0xff,
		 addr & 0xff);
	return out;
}

int ip4_aton(const char *text, uint32_t *addr)
{
	unsigned part[4];
	int consumed = 0;

	if (sscanf(text, "%3u.%3u.%3u.%3u%n", &part[0], &part[1], &part[2], &part[3],
		   &consumed) != 4 ||
	    text[consumed] != '\0')
		return -1;
	for (int i = 0; i < 4; i++)
		if (part[i] > 255)
			return -1;
	*addr = part[0] << 24 | part[1] << 16 | part[2] << 8 | part[3];
	return 0;
}

const char *ip4_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_NUM_ICMP: return "ICMP";
	case IPPROTO_NUM_TCP: return "TCP";
	case IPPROTO_NUM_UDP: return "UDP";
	default: return NULL;
	}
}

/* The IPv4 output path: route, header, next hop.
 * Limits: one link and no gateway, so a destination off the link has no
 * route; we never fragment (DF is set, RFC 1191), so a packet over the MTU
 * is refused. */
int ip4_output(struct stack *st, stack_time_ms now, uint32_t dst, uint8_t proto, uint8_t tos,
	       const uint8_t *payload, size_t len)
{
	/* RFC 9293 3.9.2 (MUST-49): the TTL is the stack's configuration. */
	struct ip4_hdr hdr = {.tos = tos, .id = st->ip4_id++, .frag = IP4_FLAG_DF,
			      .ttl = st->cfg.ip4_ttl ? st->cfg.ip4_ttl : TCPIP_IP4_TTL,
			      .proto = proto, .src = st->cfg.ip4_addr, .dst = dst};
	uint8_t pkt[TCPIP_MTU];
	size_t hdr_len = ip4_len(&hdr);

	if (!link_is_onlink(st, dst) && dst != UINT32_MAX) {
		st->counters.out_no_route++;
		return -1;
	}
	if (len > sizeof pkt - hdr_len) {
		st->counters.out_too_big++;
		return -1;
	}
	hdr.total_len = (uint16_t)(hdr_len + len);
	ip4_emit(&hdr, pkt, sizeof pkt);
	memcpy(pkt + hdr_len, payload, len);
	if (link_is_broadcast(st, dst))
		return link_output(st, eth_broadcast, ETHERTYPE_IPV4, pkt, hdr_len + len);
	return neigh_output(st, now, dst, pkt, hdr_len + len);
}
