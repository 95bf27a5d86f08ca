/*
 * tcp.c - TCP (RFC 9293).  Chapter 3: the header gate and the checksum over
 * the pseudo-header (RFC 9293 3.1, MUST-2, MUST-3).  Chapter 6 adds the rest.
 */
#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/l4.h"

enum drop_reason tcp_check(const struct ip4_hdr *ip, const uint8_t *seg, size_t len,
			   struct l4_sum *sum)
{
	uint32_t pseudo;

	if (len < TCP_MIN_HDR_LEN)
		return DROP_TCP_TRUNCATED;
	/* The caller passes the IP payload, so len fits in 16 bits. */
	pseudo = cksum_pseudo4(ip->src, ip->dst, IPPROTO_NUM_TCP, (uint16_t)len);
	sum->received = get_be16(seg + 16);
	sum->expected = cksum_expected(pseudo, seg, len, 16);
	if (cksum_finish(cksum_add(pseudo, seg, len)) != 0)
		return DROP_TCP_BAD_CHECKSUM;
	return DROP_NONE;
}
