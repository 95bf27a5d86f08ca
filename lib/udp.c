/*
 * udp.c - UDP (RFC 768, RFC 1122 4.1).  Chapter 3: the header gate and the
 * checksum over the pseudo-header.  Limits: no sockets yet.
 */
#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/l4.h"

enum drop_reason udp_check(const struct ip4_hdr *ip, const uint8_t *dgram, size_t len,
			   struct l4_sum *sum)
{
	uint16_t udp_len;
	uint32_t pseudo;

	if (len < UDP_HDR_LEN)
		return DROP_UDP_TRUNCATED;
	udp_len = get_be16(dgram + 4);
	if (udp_len < UDP_HDR_LEN || udp_len > len)
		return DROP_UDP_BAD_LENGTH;
	pseudo = cksum_pseudo4(ip->src, ip->dst, IPPROTO_NUM_UDP, udp_len);
	sum->received = get_be16(dgram + 6);
	sum->expected = cksum_expected(pseudo, dgram, udp_len, 6);
	/* RFC 768: a computed 0 is sent as 0xFFFF, since 0 means "no checksum". */
	if (sum->expected == 0)
		sum->expected = 0xffff;
	if (sum->received == 0) /* RFC 1122 4.1.3.4: none was sent; accept */
		return DROP_NONE;
	if (cksum_finish(cksum_add(pseudo, dgram, udp_len)) != 0)
		return DROP_UDP_BAD_CHECKSUM;
	return DROP_NONE;
}
