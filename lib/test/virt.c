/*
 * virt.c - the C tests' host stack in virtual time, and the scripted peer
 * that talks to it (virt.h).
 */
#include <string.h>

#include "tcpip/arp.h"
#include "tcpip/cksum.h"
#include "tcpip/bytes.h"
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
		for (size_t i = 0; i < sizeof cfg.secret; i++)
			if (tune->secret[i]) {   /* a secret of the test's own */
				memcpy(cfg.secret, tune->secret, sizeof cfg.secret);
				break;
			}
	}
	memset(sent, 0, sizeof *sent);
	memcpy(cfg.mac, our_mac, 6);
	return stack_new(&cfg);
}

struct stack *host(struct sent *sent)
{
	return host_with(sent, NULL);
}

size_t tcp_frame_hdr(uint8_t *frame, struct tcp_hdr tcp, uint16_t text_len)
{
	struct eth_hdr eth = {.type = ETHERTYPE_IPV4};
	uint16_t hdr_len = (uint16_t)tcp_len(&tcp), seg_len = (uint16_t)(hdr_len + text_len);
	struct ip4_hdr ip = {.ttl = 64, .proto = IPPROTO_NUM_TCP, .src = PEER, .dst = OURS,
			     .total_len = (uint16_t)(20 + seg_len)};
	uint8_t *seg = frame + 14 + 20;

	tcp.win = 64240;
	memcpy(eth.dst, our_mac, 6);
	memcpy(eth.src, peer_mac, 6);
	eth_emit(&eth, frame, 14);
	ip4_emit(&ip, frame + 14, 20);
	tcp_emit(&tcp, seg, hdr_len);
	memset(seg + hdr_len, 0, text_len);
	put_be16(seg + 16, cksum_finish(cksum_add(cksum_pseudo4(PEER, OURS, 6, seg_len), seg, seg_len)));
	return 14 + 20u + seg_len;
}

size_t tcp_frame_mss(uint8_t *frame, uint16_t sport, uint16_t dport, uint8_t flags,
		     uint32_t seq, uint32_t ack, uint16_t mss)
{
	return tcp_frame_hdr(frame, (struct tcp_hdr){.sport = sport, .dport = dport, .seq = seq,
						     .ack = ack, .flags = flags,
						     .opts = {.has_mss = mss != 0, .mss = mss}},
			     0);
}

size_t tcp_frame(uint8_t *frame, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
		 uint32_t ack)
{
	return tcp_frame_mss(frame, sport, dport, flags, seq, ack, 1460);
}

size_t arp_frame(uint8_t *frame, uint16_t op, const uint8_t *eth_dst, const uint8_t *sha,
		 uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	struct eth_hdr eth = {.type = ETHERTYPE_ARP};
	struct arp_pkt arp = {.op = op, .spa = spa, .tpa = tpa};

	memset(frame, 0, 60);
	memcpy(eth.dst, eth_dst, 6);
	memcpy(eth.src, sha, 6);
	memcpy(arp.sha, sha, 6);
	memcpy(arp.tha, tha, 6);
	eth_emit(&eth, frame, 14);
	arp_emit(&arp, frame + 14, ARP_LEN);
	return 60;
}

void know_peer_at(struct stack *st, struct sent *sent, stack_time_ms now)
{
	uint8_t frame[60];

	stack_input(st, now, frame,
		    arp_frame(frame, ARP_OP_REPLY, our_mac, peer_mac, PEER, our_mac, OURS));
	sent->count = 0;
}

void know_peer(struct stack *st, struct sent *sent)
{
	know_peer_at(st, sent, 0);
}

bool sent_tcp(const struct sent *sent, int i, struct tcp_hdr *hdr)
{
	return i < sent->count && sent->len[i] >= 54 && sent->frame[i][23] == IPPROTO_NUM_TCP &&
	       tcp_parse(sent->frame[i] + 34, sent->len[i] - 34, hdr) == DROP_NONE;
}

int open_to_peer(struct stack *st, struct sent *sent, struct tcp_hdr *syn)
{
	uint8_t frame[64];
	int conn;

	know_peer(st, sent);
	conn = tcp_connect(st, 0, PEER, 80);
	if (conn < 0 || !sent_tcp(sent, sent->count - 1, syn))
		return -1;
	stack_input(st, 0, frame, tcp_frame(frame, 80, syn->sport, TCP_SYN | TCP_ACK, 7, syn->seq + 1));
	return conn;
}

int tcp_count(const struct sent *sent)
{
	struct tcp_hdr hdr;
	int count = 0;

	for (int i = 0; i < sent->count; i++)
		count += sent_tcp(sent, i, &hdr);
	return count;
}
