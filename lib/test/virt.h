/*
 * virt.h - a host stack in virtual time for the C tests: 192.0.2.2/24 at
 * 02:00:00:00:00:02, whose transmit callback keeps every frame it sends, and
 * a clock that is just the number a test passes in; and a scripted peer at
 * 192.0.2.1 (02:00:00:00:00:01) that writes the frames a test sends it.
 */
#ifndef TCPIP_TEST_VIRT_H
#define TCPIP_TEST_VIRT_H

#include <stddef.h>
#include <stdint.h>

#include "tcpip/config.h"
#include "tcpip/stack.h"
#include "tcpip/tcp.h"

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
 * defaults), its event callback and its secret (all zero: host()'s fixed
 * one); tune may be NULL. */
struct stack *host_with(struct sent *sent, const struct stack_cfg *tune);

/* Writes an Ethernet+IPv4+TCP frame from the peer into frame: header tcp
 * (window 64240), then text_len zero bytes of text; returns its length.
 * frame holds TCPIP_FRAME_MAX bytes if text_len is not 0. */
size_t tcp_frame_hdr(uint8_t *frame, struct tcp_hdr tcp, uint16_t text_len);

/* A frame as tcp_frame_hdr() without text, with an MSS option of mss (none
 * when 0); returns its length. */
size_t tcp_frame_mss(uint8_t *frame, uint16_t sport, uint16_t dport, uint8_t flags,
		     uint32_t seq, uint32_t ack, uint16_t mss);

/* A frame as tcp_frame_mss() with an MSS option of 1460; its length. */
size_t tcp_frame(uint8_t *frame, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
		 uint32_t ack);

/* Writes an Ethernet+ARP frame into frame (60 bytes, padded): op, from
 * sha/spa to Ethernet eth_dst, about tha/tpa; returns 60. */
size_t arp_frame(uint8_t *frame, uint16_t op, const uint8_t *eth_dst, const uint8_t *sha,
		 uint32_t spa, const uint8_t *tha, uint32_t tpa);

/* Teaches the stack the peer's MAC with an ARP reply at now, and forgets
 * what it sent. */
void know_peer_at(struct stack *st, struct sent *sent, stack_time_ms now);

/* know_peer_at() at time 0. */
void know_peer(struct stack *st, struct sent *sent);

/* Fills *hdr from sent frame i; false if there is no frame i or it is not a
 * TCP segment that parses. */
bool sent_tcp(const struct sent *sent, int i, struct tcp_hdr *hdr);

/* An active open to the peer's port 80 at time 0, answered by its SYN-ACK
 * (the peer's ISN 7): the connection, ESTABLISHED, with *syn our SYN; -1 if
 * no SYN went. */
int open_to_peer(struct stack *st, struct sent *sent, struct tcp_hdr *syn);

/* How many of the frames sent are TCP segments. */
int tcp_count(const struct sent *sent);

#endif
