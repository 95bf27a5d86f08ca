/*
 * icmp.c - ICMP (RFC 792, RFC 1122 3.2.2).  Chapter 3: the header gate and
 * the checksum.  Chapter 5 adds echo.
 */
#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/l4.h"

enum drop_reason icmp_check(const uint8_t *msg, size_t len, struct l4_sum *sum)
{
	if (len < ICMP_HDR_LEN)
		return DROP_ICMP_TRUNCATED;
	/* RFC 792: the checksum covers the whole ICMP message, no pseudo-header. */
	sum->received = get_be16(msg + 2);
	sum->expected = cksum_expected(0, msg, len, 2);
	if (cksum(msg, len) != 0)
		return DROP_ICMP_BAD_CHECKSUM;
	return DROP_NONE;
}
