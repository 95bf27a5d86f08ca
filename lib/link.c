/*
 * link.c - the link layer as the stack's layers see it (RFC 894 framing,
 * RFC 1122 3.3.1.1 and 3.2.1.3): frames out from our MAC (link_output()),
 * and the questions about addresses every layer asks: is this address on
 * our link, is it a broadcast, is this frame's MAC ours.
 *
 * Every layer that sends (arp.c, neigh.c, ip4.c) hands its frame's payload
 * here; nothing here calls up.  Limits: Ethernet II only; one link, one
 * address and prefix; no VLANs, no multicast MACs.
 */
#include <string.h>

#include "stack_impl.h"

#define ETH_MIN_FRAME 60 /* RFC 894: 46 data bytes at least, padded */

int link_output(struct stack *st, const uint8_t dst[ETH_ADDR_LEN], uint16_t type,
		const uint8_t *payload, size_t len)
{
	struct eth_hdr eth = {.type = type};
	size_t frame_len = ETH_HDR_LEN + len;

	if (!st->cfg.tx || len > sizeof st->tx_frame - ETH_HDR_LEN) {
		st->counters.out_tx_failed++;
		return -1;
	}
	memcpy(eth.dst, dst, ETH_ADDR_LEN);
	memcpy(eth.src, st->cfg.mac, ETH_ADDR_LEN);
	eth_emit(&eth, st->tx_frame, sizeof st->tx_frame);
	memcpy(st->tx_frame + ETH_HDR_LEN, payload, len);
	if (frame_len < ETH_MIN_FRAME) {
		memset(st->tx_frame + frame_len, 0, ETH_MIN_FRAME - frame_len);
		frame_len = ETH_MIN_FRAME;
	}
	if (st->cfg.tx(st->cfg.tx_ctx, st->tx_frame, frame_len) < 0) {
		st->counters.out_tx_failed++;
		return -1;
	}
	st->counters.frames_out++;
	return 0;
}

/* Our subnet mask, host order (0 for /0). */
static uint32_t link_mask(const struct stack *st)
{
	int prefix = st->cfg.prefix_len;

	return prefix <= 0 ? 0 : prefix >= 32 ? UINT32_MAX : ~(UINT32_MAX >> prefix);
}

bool link_is_onlink(const struct stack *st, uint32_t addr)
{
	return st->cfg.ip4_addr != 0 && ((addr ^ st->cfg.ip4_addr) & link_mask(st)) == 0;
}

bool link_is_broadcast(const struct stack *st, uint32_t addr)
{
	uint32_t mask = link_mask(st);

	/* RFC 1122 3.2.1.3: all ones, and the subnet's directed broadcast
	 * (host part all ones; a /31 or /32 has none). */
	return addr == UINT32_MAX ||
	       (st->cfg.prefix_len < 31 && link_is_onlink(st, addr) && (addr | mask) == UINT32_MAX);
}

bool link_mac_is_ours(const struct stack *st, const uint8_t dst[ETH_ADDR_LEN])
{
	return memcmp(st->cfg.mac, eth_zero, ETH_ADDR_LEN) == 0 ||
	       memcmp(dst, st->cfg.mac, ETH_ADDR_LEN) == 0 ||
	       memcmp(dst, eth_broadcast, ETH_ADDR_LEN) == 0;
}
