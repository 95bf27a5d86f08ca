/*
 * l4.h - the first gate of ICMP (RFC 792), UDP (RFC 768) and TCP (RFC 9293):
 * the header is present, lengths agree, the checksum verifies.
 *
 * Chapter 3 needs only this much of each transport; the chapters that teach
 * ICMP echo and TCP grow each check into a full parser behind the same gate.
 */
#ifndef TCPIP_L4_H
#define TCPIP_L4_H

#include <stddef.h>
#include <stdint.h>

#include "drop.h"
#include "ip4.h"

#define ICMP_HDR_LEN 8
#define UDP_HDR_LEN 8
#define TCP_MIN_HDR_LEN 20

/* What a transport check found: the checksum as received and the value it
 * should have been (equal when it verifies; for UDP, 0 means "none sent"). */
struct l4_sum {
	uint16_t received;
	uint16_t expected;
};

/* ICMP: msg[0..len) holds 8 header bytes; the checksum over the whole message
 * verifies (RFC 792).  Returns DROP_NONE, DROP_ICMP_TRUNCATED or
 * DROP_ICMP_BAD_CHECKSUM; fills *sum whenever the header is present. */
enum drop_reason icmp_check(const uint8_t *msg, size_t len, struct l4_sum *sum);

/* UDP: 8 header bytes; 8 <= length field <= len; the checksum over the
 * pseudo-header and length-field bytes verifies, unless it is 0, "no checksum"
 * (RFC 768, RFC 1122 4.1.3.4).  ip gives the pseudo-header. */
enum drop_reason udp_check(const struct ip4_hdr *ip, const uint8_t *dgram, size_t len,
			   struct l4_sum *sum);

/* TCP: 20 header bytes; the checksum over the pseudo-header and the whole
 * segment verifies (RFC 9293 3.1, MUST-2, MUST-3).  Data offset and options
 * are chapter 6's. */
enum drop_reason tcp_check(const struct ip4_hdr *ip, const uint8_t *seg, size_t len,
			   struct l4_sum *sum);

#endif
