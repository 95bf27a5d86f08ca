/*
 * eth.c - Ethernet II framing (RFC 894).  See eth.h.
 */
#include "tcpip/eth.h"

#include <stdio.h>
#include <string.h>

#include "tcpip/bytes.h"

const uint8_t eth_broadcast[ETH_ADDR_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const uint8_t eth_zero[ETH_ADDR_LEN];

enum drop_reason eth_check(const uint8_t *frame, size_t len)
{
	(void)frame;
	if (len < ETH_HDR_LEN)
		return DROP_ETH_TRUNCATED;
	return DROP_NONE;
}

enum drop_reason eth_parse(const uint8_t *frame, size_t len, struct eth_hdr *hdr)
{
	enum drop_reason reason = eth_check(frame, len);

	if (reason != DROP_NONE)
		return reason;
	memcpy(hdr->dst, frame, ETH_ADDR_LEN);
	memcpy(hdr->src, frame + ETH_ADDR_LEN, ETH_ADDR_LEN);
	hdr->type = get_be16(frame + 2 * ETH_ADDR_LEN);
	return DROP_NONE;
}

size_t eth_emit(const struct eth_hdr *hdr, uint8_t *buf, size_t cap)
{
	if (cap < ETH_HDR_LEN)
		return 0;
	memcpy(buf, hdr->dst, ETH_ADDR_LEN);
	memcpy(buf + ETH_ADDR_LEN, hdr->src, ETH_ADDR_LEN);
	put_be16(buf + 2 * ETH_ADDR_LEN, hdr->type);
	return ETH_HDR_LEN;
}

char *eth_ntoa(const uint8_t mac[ETH_ADDR_LEN], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return out;
}

int eth_aton(const char *text, uint8_t mac[ETH_ADDR_LEN])
{
	unsigned byte[ETH_ADDR_LEN];
	int consumed = 0;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%n", &byte[0], &byte[1], &byte[2], &byte[3],
		   &byte[4], &byte[5], &consumed) != ETH_ADDR_LEN ||
	    text[consumed] != '\0')
		return -1;
	for (int i = 0; i < ETH_ADDR_LEN; i++)
		mac[i] = (uint8_t)byte[i];
	return 0;
}

const char *eth_type_name(uint16_t type)
{
	switch (type) {
	case ETHERTYPE_IPV4: return "IPv4";
	case ETHERTYPE_ARP: return "ARP";
	case ETHERTYPE_IPV6: return "IPv6";
	default: return NULL;
	}
}
