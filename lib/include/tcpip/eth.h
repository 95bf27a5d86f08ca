/*
 * eth.h - Ethernet II framing (RFC 894: IPv4 over Ethernet).
 *
 * A frame is a 14-byte header (destination MAC, source MAC, EtherType) and a
 * payload.  The FCS never reaches software on Linux, so it is not handled.
 * 802.1Q tags and 802.3 length fields are not parsed: such frames show their
 * EtherType (or length) and go no further.
 */
#ifndef TCPIP_ETH_H
#define TCPIP_ETH_H

#include <stddef.h>
#include <stdint.h>

#include "drop.h"

#define ETH_HDR_LEN 14
#define ETH_ADDR_LEN 6
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd

/* ff:ff:ff:ff:ff:ff, every station; and 00:00:00:00:00:00, no address. */
extern const uint8_t eth_broadcast[ETH_ADDR_LEN];
extern const uint8_t eth_zero[ETH_ADDR_LEN];

/* The Ethernet header in host order. */
struct eth_hdr {
	uint8_t dst[ETH_ADDR_LEN];
	uint8_t src[ETH_ADDR_LEN];
	uint16_t type;
};

/* Checks that frame[0..len) holds an Ethernet header.
 * Returns DROP_NONE or DROP_ETH_TRUNCATED. */
enum drop_reason eth_check(const uint8_t *frame, size_t len);

/* Checks, then fills *hdr.  On a verdict other than DROP_NONE, *hdr is untouched. */
enum drop_reason eth_parse(const uint8_t *frame, size_t len, struct eth_hdr *hdr);

/* Writes the header's ETH_HDR_LEN bytes at buf; returns that length, or 0 if
 * cap is smaller. */
size_t eth_emit(const struct eth_hdr *hdr, uint8_t *buf, size_t cap);

/* Formats mac as "02:00:00:00:00:01" into out (18 bytes); returns out. */
char *eth_ntoa(const uint8_t mac[ETH_ADDR_LEN], char out[18]);

/* Parses "02:00:00:00:00:01" into mac; returns 0, or -1 if malformed. */
int eth_aton(const char *text, uint8_t mac[ETH_ADDR_LEN]);

/* A short name for an EtherType ("IPv4", "ARP", "IPv6"), or NULL. */
const char *eth_type_name(uint16_t type);

#endif
