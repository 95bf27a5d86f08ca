/*
 * icmp.c - ICMP (RFC 792, RFC 1122 3.2.2).  Chapter 3: the header gate and
 * the checksum.  Chapter 5: echo (RFC 792 "Echo or Echo Reply Message",
 * RFC 1122 3.2.2.6).
 * Limits: echo only; other types are counted and dropped, and no ICMP error
 * is ever sent.  IP options of a request (Record Route, Timestamp) are not
 * reflected in the reply (RFC 1122 3.2.2.6 says SHOULD).
 */
#include <string.h>

#include "stack_impl.h"
#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/l4.h"

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

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

	stack_emit(st, &ev);
}

/* Answers the echo request msg[0..len) from ip->src: the same message with
 * type 0, its checksum updated by RFC 1624 rather than recomputed. */
static enum drop_reason icmp_echo(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
				  const uint8_t *msg, size_t len)
{
	uint8_t reply[TCPIP_MTU - IP4_MIN_HDR_LEN];

	/* RFC 1122 3.2.2.6: an echo to a broadcast address MAY be ignored;
	 * Linux does by default (icmp_echo_ignore_broadcasts), and so do we. */
	if (stack_is_broadcast(st, ip->dst)) {
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

enum drop_reason icmp_input(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
			    const uint8_t *msg, size_t len)
{
	switch (msg[0]) {
	case ICMP_ECHO_REQUEST:
		/* RFC 792 says code 0; like Linux, we answer whatever the code. */
		return st->cfg.answer_echo ? icmp_echo(st, now, ip, msg, len) : DROP_NONE;
	case ICMP_ECHO_REPLY:
		return DROP_NONE; /* no ping client yet: accepted, nothing to do */
	default:
		return DROP_ICMP_UNKNOWN_TYPE;
	}
}
