/*
 * virt.c - the C tests' host stack in virtual time (virt.h).
 */
#include <string.h>

#include "virt.h"

const uint8_t our_mac[6] = {2, 0, 0, 0, 0, 2};
const uint8_t peer_mac[6] = {2, 0, 0, 0, 0, 1};

int keep_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct sent *sent = ctx;

	if (sent->count == SENT_MAX)
		return -1;
	memcpy(sent->frame[sent->count], frame, len);
	sent->len[sent->count++] = len;
	return 0;
}

struct stack *host_with(struct sent *sent, const struct stack_cfg *tune)
{
	struct stack_cfg cfg = {.ip4_addr = OURS, .prefix_len = 24, .answer_echo = true,
				.tx = keep_tx, .tx_ctx = sent, .secret = {1, 2, 3, 4, 5, 6, 7, 8}};

	if (tune) {
		cfg.tcp_msl_ms = tune->tcp_msl_ms;
		cfg.ip4_ttl = tune->ip4_ttl;
		cfg.on_event = tune->on_event;
		cfg.event_ctx = tune->event_ctx;
	}
	memset(sent, 0, sizeof *sent);
	memcpy(cfg.mac, our_mac, 6);
	return stack_new(&cfg);
}

struct stack *host(struct sent *sent)
{
	return host_with(sent, NULL);
}
