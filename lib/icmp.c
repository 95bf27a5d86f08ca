/*
 * icmp.c - ICMP (RFC 792, RFC 1122 3.2.2).  Chapter 3: the header gate and
 * the checksum.  Chapter 5: echo (RFC 792 "Echo or Echo Reply Message",
 * RFC 1122 3.2.2.6).  Chapter 7: the errors a TCP connection caused go to
 * TCP (RFC 1122 3.2.2, RFC 9293 3.9.2.2).
 * Limits: echo and the errors to TCP only; other types are counted and
 * dropped, and no ICMP error is ever sent.  IP options of a request (Record
 * Route, Timestamp) are not reflected in the reply (RFC 1122 3.2.2.6 says
 * SHOULD).
 */
#include <string.h>

#include "stack_impl.h"
#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/l4.h"

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACHABLE 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETER_PROBLEM 12
#define ICMP_QUOTE_L4_LEN 8 /* RFC 792: the first 64 bits of the datagram's data */

/* What an ICMP error says about the datagram that caused it. */
struct icmp_quote {
	uint32_t src, dst;   /* the quoted IPv4 header's addresses */
	uint8_t proto;
	const uint8_t *l4;   /* its first ICMP_QUOTE_L4_LEN bytes of data */
};

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

/* Reports an echo request from ip->src: answered, or ignored. */
static void icmp_report(struct stack *st, enum stack_event_kind kind, const struct ip4_hdr *ip,
			const uint8_t *msg, size_t len)
{
	struct stack_event ev = {.kind = kind, .addr = ip->src, .target = ip->dst,
				 .id = get_be16(msg + 4), .seq = get_be16(msg + 6),
				 .len = len - ICMP_HDR_LEN};

	event_emit(st, &ev);
}

/* Answers the echo request msg[0..len) from ip->src: the same message with
 * type 0, its checksum updated by RFC 1624 rather than recomputed. */
static enum drop_reason icmp_echo(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
				  const uint8_t *msg, size_t len)
{
	uint8_t reply[TCPIP_MTU - IP4_MIN_HDR_LEN];

	/* RFC 1122 3.2.2.6: an echo to a broadcast address MAY be ignored;
	 * Linux does by default (icmp_echo_ignore_broadcasts), and so do we. */
	if (link_is_broadcast(st, ip->dst)) {
		icmp_report(st, EV_ECHO_IGNORED, ip, msg, len);
		return DROP_ICMP_ECHO_BROADCAST;
	}
	if (len > sizeof reply) { /* a request larger than our MTU: we never fragment */
		st->counters.out_too_big++;
		return DROP_NONE;
	}
	memcpy(reply, msg, len);
	reply[0] = ICMP_ECHO_REPLY;
	/* Only the type byte changes (8 to 0; the code byte is kept, as
	 * Linux does), so the first word changes by the type alone. */
	put_be16(reply + 2, cksum_update16(get_be16(msg + 2), (uint16_t)(ICMP_ECHO_REQUEST << 8 | msg[1]),
					   (uint16_t)(ICMP_ECHO_REPLY << 8 | msg[1])));
	if (ip4_output(st, now, ip->src, IPPROTO_NUM_ICMP, 0, reply, len) == 0) {
		st->counters.echo_replies_out++;
		icmp_report(st, EV_ECHO_REPLIED, ip, msg, len);
	}
	return DROP_NONE;
}

/* Parses the datagram an ICMP error msg[0..len) quotes (RFC 792: after the
 * 8-byte header, an IPv4 header with its options, then at least 8 bytes of
 * its data) into q.  Reads nothing past len. */
static enum drop_reason icmp_quote_parse(const uint8_t *msg, size_t len, struct icmp_quote *q)
{
	const uint8_t *ip = msg + ICMP_HDR_LEN;
	size_t ihl;

	if (len < ICMP_HDR_LEN + IP4_MIN_HDR_LEN)
		return DROP_ICMP_ERROR_TRUNCATED;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ip[0] >> 4 != 4 || ihl < IP4_MIN_HDR_LEN)
		return DROP_ICMP_ERROR_BAD_QUOTE;
	if (len < ICMP_HDR_LEN + ihl + ICMP_QUOTE_L4_LEN)
		return DROP_ICMP_ERROR_TRUNCATED;
	*q = (struct icmp_quote){.src = get_be32(ip + 12), .dst = get_be32(ip + 16),
				 .proto = ip[9], .l4 = ip + ihl};
	return DROP_NONE;
}

/* An ICMP error: RFC 1122 3.2.2 hands it to the transport protocol of the
 * datagram it quotes, which must be one we sent; only TCP acts on it (RFC
 * 9293 3.9.2.2, MUST-54).  A source quench is discarded (MUST-55). */
static enum drop_reason icmp_error_input(struct stack *st, const uint8_t *msg, size_t len)
{
	struct icmp_quote q;
	enum drop_reason why = icmp_quote_parse(msg, len, &q);

	if (why != DROP_NONE)
		return why;
	if (q.src != st->cfg.ip4_addr)
		return DROP_ICMP_ERROR_NOT_OURS;
	if (msg[0] == ICMP_SOURCE_QUENCH)
		return DROP_ICMP_SOURCE_QUENCH;
	if (q.proto != IPPROTO_NUM_TCP)
		return DROP_NONE; /* UDP and ICMP keep no state to tell */
	return tcp_icmp_error(st, q.dst, q.l4, msg[0], msg[1]);
}

enum drop_reason icmp_input(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
			    const uint8_t *msg, size_t len)
{
	switch (msg[0]) {
	case ICMP_DEST_UNREACHABLE:
	case ICMP_SOURCE_QUENCH:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETER_PROBLEM:
		return icmp_error_input(st, msg, len);
	case ICMP_ECHO_REQUEST:
		/* RFC 792 says code 0; like Linux, we answer whatever the code. */
		return st->cfg.answer_echo ? icmp_echo(st, now, ip, msg, len) : DROP_NONE;
	case ICMP_ECHO_REPLY:
		return DROP_NONE; /* no ping client yet: accepted, nothing to do */
	default:
		return DROP_ICMP_UNKNOWN_TYPE;
	}
}
