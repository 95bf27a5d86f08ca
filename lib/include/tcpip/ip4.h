/*
 * ip4.h - the IPv4 header (RFC 791 section 3.1, RFC 1122 section 3.2.1).
 *
 * ip4_check() applies every validity rule, in the order Linux's ip_rcv applies
 * them, and names the first one a packet breaks.  ip4_parse() then fills a
 * host-order struct; ip4_emit() writes one back, checksum included.
 * Limits: options are checked for shape (RFC 791's TLV rules), and Record
 * Route, Timestamp and Router Alert for their own rules, then kept as bytes;
 * none is acted on.  Fragments are recognised, not reassembled.
 */
#ifndef TCPIP_IP4_H
#define TCPIP_IP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drop.h"

#define IP4_MIN_HDR_LEN 20
#define IP4_MAX_HDR_LEN 60
#define IP4_MAX_OPT_LEN (IP4_MAX_HDR_LEN - IP4_MIN_HDR_LEN)

#define IP4_FLAG_DF 0x4000 /* don't fragment */
#define IP4_FLAG_MF 0x2000 /* more fragments */
#define IP4_FRAG_OFFSET_MASK 0x1fff

#define IP4_OPT_EOL 0   /* end of option list */
#define IP4_OPT_NOP 1   /* no operation */
#define IP4_OPT_RR 7    /* record route */
#define IP4_OPT_TS 68   /* timestamp */
#define IP4_OPT_RA 148  /* router alert (RFC 2113) */

#define IPPROTO_NUM_ICMP 1
#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17

/* The IPv4 header in host order.  Addresses are host-order integers. */
struct ip4_hdr {
	uint8_t version;
	uint8_t hdr_len;        /* bytes: IHL * 4 */
	uint8_t tos;
	uint16_t total_len;     /* bytes: header and payload */
	uint16_t id;
	uint16_t frag;          /* flags (DF, MF) and offset in 8-byte units */
	uint8_t ttl;
	uint8_t proto;
	uint16_t checksum;      /* as received; recomputed by ip4_emit() */
	uint32_t src;
	uint32_t dst;
	uint8_t opt_len;        /* bytes of options: hdr_len - 20 */
	uint8_t opt[IP4_MAX_OPT_LEN];
};

/* Applies RFC 791's rules to pkt[0..len), the bytes after the Ethernet header,
 * in this order: the fixed header is present; version is 4; IHL is at least 5;
 * the whole header is present; the header checksum verifies; total length is
 * at least the header length; total length fits in len; the options are well
 * formed.  Returns DROP_NONE or the first rule broken.  Bytes past total length
 * (Ethernet padding) are allowed. */
enum drop_reason ip4_check(const uint8_t *pkt, size_t len);

/* Checks, then fills *hdr.  On a verdict other than DROP_NONE, *hdr is untouched. */
enum drop_reason ip4_parse(const uint8_t *pkt, size_t len, struct ip4_hdr *hdr);

/* True if the header describes a fragment (MF set or a non-zero offset). */
bool ip4_is_fragment(const struct ip4_hdr *hdr);

/* Bytes ip4_emit() writes for hdr: 20 plus the options padded to 4 bytes. */
size_t ip4_len(const struct ip4_hdr *hdr);

/* Writes hdr at buf: version 4, IHL from ip4_len(), the checksum computed.
 * Fields version, hdr_len and checksum of *hdr are ignored.  Returns the bytes
 * written (ip4_len()), or 0 if cap is smaller. */
size_t ip4_emit(const struct ip4_hdr *hdr, uint8_t *buf, size_t cap);

/* Formats a host-order address as dotted quad into out (16 bytes); returns out. */
char *ip4_ntoa(uint32_t addr, char out[16]);

/* Parses a dotted quad; returns 0 and sets *addr, or -1 if malformed. */
int ip4_aton(const char *text, uint32_t *addr);

/* A short name for an IP protocol number ("ICMP", "TCP", "UDP"), or NULL. */
const char *ip4_proto_name(uint8_t proto);

#endif
