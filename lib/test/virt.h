/*
 * virt.h - a host stack in virtual time for the C tests: 192.0.2.2/24 at
 * 02:00:00:00:00:02, whose transmit callback keeps every frame it sends, and
 * a clock that is just the number a test passes in.
 */
#ifndef TCPIP_TEST_VIRT_H
#define TCPIP_TEST_VIRT_H

#include <stddef.h>
#include <stdint.h>

#include "tcpip/config.h"
#include "tcpip/stack.h"

#define OURS 0xc0000202u  /* 192.0.2.2 */
#define PEER 0xc0000201u  /* 192.0.2.1 */
#define SENT_MAX 64

extern const uint8_t our_mac[6];
extern const uint8_t peer_mac[6];

/* What the stack sent, oldest first (at most SENT_MAX frames). */
struct sent {
	int count;
	size_t len[SENT_MAX];
	uint8_t frame[SENT_MAX][TCPIP_FRAME_MAX];
};

/* stack_tx_fn: keeps the frame in the struct sent at ctx; -1 when full. */
int keep_tx(void *ctx, const uint8_t *frame, size_t len);

/* A host stack at 192.0.2.2/24 (answering pings, a fixed secret) that
 * records what it sends into sent (emptied first).  NULL on no memory. */
struct stack *host(struct sent *sent);

/* host(), with tune's TCP maximum segment lifetime and IPv4 TTL (0: the
 * defaults) and its event callback; tune may be NULL. */
struct stack *host_with(struct sent *sent, const struct stack_cfg *tune);

#endif
