/*
 * arp.h - the ARP packet for IPv4 over Ethernet (RFC 826).
 *
 * arp_check() applies RFC 826's receiver rules in order: the 28 bytes are
 * there, the hardware type is Ethernet (1), the protocol type IPv4 (0x0800),
 * the address lengths 6 and 4, the opcode request (1) or reply (2).
 * arp_parse() then fills a host-order struct; arp_emit() writes one.
 * Limits: only Ethernet and IPv4; RARP and InARP opcodes are refused.
 */
#ifndef TCPIP_ARP_H
#define TCPIP_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "drop.h"
#include "eth.h"

#define ARP_LEN 28          /* bytes of an Ethernet/IPv4 ARP packet */
#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

/* An Ethernet/IPv4 ARP packet in host order. */
struct arp_pkt {
	uint16_t op;
	uint8_t sha[ETH_ADDR_LEN]; /* sender hardware address */
	uint32_t spa;              /* sender protocol address */
	uint8_t tha[ETH_ADDR_LEN]; /* target hardware address */
	uint32_t tpa;              /* target protocol address */
};

/* Checks pkt[0..len), the bytes after the Ethernet header.  Returns
 * DROP_NONE or the first rule broken (DROP_ARP_*).  Bytes past 28 (Ethernet
 * padding) are allowed. */
enum drop_reason arp_check(const uint8_t *pkt, size_t len);

/* Checks, then fills *arp.  On a verdict other than DROP_NONE, *arp is untouched. */
enum drop_reason arp_parse(const uint8_t *pkt, size_t len, struct arp_pkt *arp);

/* Writes the 28 bytes of arp at buf; returns ARP_LEN, or 0 if cap is smaller. */
size_t arp_emit(const struct arp_pkt *arp, uint8_t *buf, size_t cap);

#endif
