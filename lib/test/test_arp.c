/*
 * test_arp.c - ARP, the neighbour cache and ICMP echo, in virtual time.
 *
 * The stack runs with a transmit callback that keeps what it sends, and the
 * clock is a number the test moves: retries, give-ups and aging happen in
 * microseconds of real time, the same way every run (RFC 826, RFC 1122
 * 2.3.2, RFC 792).
 */
#include <string.h>

#include "tcpip/arp.h"
#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/config.h"
#include "tcpip/neigh.h"
#include "tcpip/stack.h"
#include "vec.h"
#include "virt.h"

#define OTHER 0xc0000203u /* 192.0.2.3 */

static const uint8_t other_mac[6] = {2, 0, 0, 0, 0, 3};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Parses sent frame i as ARP; returns 0, or -1 if it is not one. */
static int sent_arp(const struct sent *sent, int i, struct arp_pkt *arp)
{
	return i < sent->count && get_be16(sent->frame[i] + 12) == ETHERTYPE_ARP &&
			       arp_parse(sent->frame[i] + 14, sent->len[i] - 14, arp) == DROP_NONE
		       ? 0
		       : -1;
}

/* RFC 826: a request for us is answered, to the asker, with our MAC; the
 * asker is learned (STALE: heard from, not confirmed); the frame is padded
 * to Ethernet's 60 bytes. */
static void test_request_answered(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t frame[60], mac[6];
	struct arp_pkt reply;

	stack_input(st, 0, frame, arp_frame(frame, ARP_OP_REQUEST, bcast, peer_mac, PEER,
					    (uint8_t[6]){0}, OURS));
	CHECK(sent.count == 1 && sent_arp(&sent, 0, &reply) == 0, "one ARP reply sent");
	CHECK(reply.op == ARP_OP_REPLY && memcmp(reply.sha, our_mac, 6) == 0 && reply.spa == OURS &&
		      memcmp(reply.tha, peer_mac, 6) == 0 && reply.tpa == PEER,
	      "reply fields");
	CHECK(memcmp(sent.frame[0], peer_mac, 6) == 0 && sent.len[0] == 60, "unicast, padded");
	CHECK(neigh_lookup(st, PEER, mac) == NEIGH_STALE && memcmp(mac, peer_mac, 6) == 0,
	      "asker learned as stale");
	stack_free(st);
}

/* RFC 826 merge: a request for someone else updates a sender we know, and
 * adds no sender we do not know; no reply either way. */
static void test_merge_rule(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t frame[60], mac[6];

	stack_input(st, 0, frame, arp_frame(frame, ARP_OP_REQUEST, bcast, other_mac, OTHER,
					    (uint8_t[6]){0}, PEER));
	CHECK(neigh_lookup(st, OTHER, NULL) == NEIGH_NONE && sent.count == 0,
	      "unknown sender of a request for another host is not learned");
	stack_input(st, 0, frame, arp_frame(frame, ARP_OP_REQUEST, bcast, peer_mac, PEER,
					    (uint8_t[6]){0}, OURS));
	stack_input(st, 10, frame, arp_frame(frame, ARP_OP_REQUEST, bcast, other_mac, PEER,
					     (uint8_t[6]){0}, OTHER));
	CHECK(neigh_lookup(st, PEER, mac) != NEIGH_NONE && memcmp(mac, other_mac, 6) == 0,
	      "known sender's MAC merged from a request not for us");
	CHECK(sent.count == 1, "only the request for us was answered");
	/* A gratuitous ARP (sender = target) of a known host updates it too. */
	stack_input(st, 20, frame, arp_frame(frame, ARP_OP_REQUEST, bcast, peer_mac, PEER,
					     (uint8_t[6]){0}, PEER));
	CHECK(neigh_lookup(st, PEER, mac) != NEIGH_NONE && memcmp(mac, peer_mac, 6) == 0,
	      "gratuitous ARP updates a known entry");
	stack_free(st);
}

/* An RFC 5227 probe (sender 0.0.0.0) for our address is answered and
 * teaches nothing. */
static void test_probe(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t frame[60];

	stack_input(st, 0, frame, arp_frame(frame, ARP_OP_REQUEST, bcast, peer_mac, 0,
					    (uint8_t[6]){0}, OURS));
	CHECK(sent.count == 1 && neigh_lookup(st, 0, NULL) == NEIGH_NONE, "probe answered, not learned");
	stack_free(st);
}

/* Resolution: a request every TCPIP_ARP_RETRY_MS, TCPIP_ARP_TRIES of them,
 * then a counted give-up that drops the waiting packets; the deadline says
 * when each is due. */
static void test_retries_and_give_up(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	struct arp_pkt req;
	stack_time_ms t = 1000;

	CHECK(stack_resolve(st, t, PEER) == 0 && neigh_lookup(st, PEER, NULL) == NEIGH_INCOMPLETE,
	      "resolve starts an incomplete entry");
	CHECK(sent_arp(&sent, 0, &req) == 0 && req.op == ARP_OP_REQUEST && req.tpa == PEER &&
		      memcmp(sent.frame[0], bcast, 6) == 0,
	      "first request broadcast");
	for (int try = 2; try <= TCPIP_ARP_TRIES; try++) {
		CHECK(stack_next_deadline(st) == t + TCPIP_ARP_RETRY_MS, "deadline of try %d", try);
		stack_poll(st, t + TCPIP_ARP_RETRY_MS - 1);
		CHECK(sent.count == try - 1, "no request before its time");
		t += TCPIP_ARP_RETRY_MS;
		stack_poll(st, t);
		CHECK(sent.count == try, "request %d sent at its time", try);
	}
	stack_poll(st, t + TCPIP_ARP_RETRY_MS);
	CHECK(neigh_lookup(st, PEER, NULL) == NEIGH_NONE && sent.count == TCPIP_ARP_TRIES,
	      "given up after %d tries", TCPIP_ARP_TRIES);
	CHECK(stack_next_deadline(st) == STACK_NO_DEADLINE, "no deadline left");
	stack_free(st);
}

/* Builds an Ethernet+IPv4+ICMP echo request from the peer to dst into
 * frame; returns its length. */
static size_t echo_frame(uint8_t *frame, const uint8_t *eth_dst, uint32_t dst, uint16_t seq,
			 size_t data_len)
{
	struct eth_hdr eth = {.type = ETHERTYPE_IPV4};
	struct ip4_hdr ip = {.total_len = (uint16_t)(20 + 8 + data_len), .id = seq,
			     .ttl = 64, .proto = IPPROTO_NUM_ICMP, .src = PEER, .dst = dst};
	uint8_t *icmp = frame + 34;

	memcpy(eth.dst, eth_dst, 6);
	memcpy(eth.src, peer_mac, 6);
	eth_emit(&eth, frame, 14);
	ip4_emit(&ip, frame + 14, 20);
	memset(icmp, 0, 8);
	icmp[0] = 8;
	put_be16(icmp + 4, 0x1234);
	put_be16(icmp + 6, seq);
	for (size_t i = 0; i < data_len; i++)
		icmp[8 + i] = (uint8_t)(i * 7 + seq);
	put_be16(icmp + 2, cksum(icmp, 8 + data_len));
	return 34 + 8 + data_len;
}

/* RFC 792: the reply has type 0, the same identifier, sequence and data,
 * a checksum that verifies, and comes from the address asked. */
static void check_echo_reply(const uint8_t *req, size_t req_len, const uint8_t *rep,
			     size_t rep_len, const char *what)
{
	struct ip4_hdr ip;

	CHECK(rep_len >= req_len && ip4_parse(rep + 14, rep_len - 14, &ip) == DROP_NONE, "%s: IPv4",
	      what);
	CHECK(ip.src == OURS && ip.dst == PEER && ip.ttl == TCPIP_IP4_TTL &&
		      (ip.frag & IP4_FLAG_DF) && ip.proto == IPPROTO_NUM_ICMP &&
		      ip.total_len == req_len - 14,
	      "%s: IPv4 fields", what);
	CHECK(rep[34] == 0 && rep[35] == 0 && memcmp(rep + 38, req + 38, req_len - 38) == 0,
	      "%s: type 0, same identifier, sequence and data", what);
	CHECK(cksum(rep + 34, req_len - 34) == 0, "%s: ICMP checksum verifies", what);
	CHECK(memcmp(rep, peer_mac, 6) == 0 && memcmp(rep + 6, our_mac, 6) == 0, "%s: MACs", what);
}

/* With the peer unknown, the reply waits: the stack asks ARP first, and
 * sends the reply only once the peer answers (it never guesses a MAC). */
static void test_echo_resolves_first(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t req[TCPIP_FRAME_MAX], frame[60];
	size_t req_len = echo_frame(req, our_mac, OURS, 1, 33); /* odd data length */
	struct arp_pkt ask;

	stack_input(st, 0, req, req_len);
	CHECK(sent.count == 1 && sent_arp(&sent, 0, &ask) == 0 && ask.tpa == PEER,
	      "an ARP request goes out first, nothing else");
	stack_input(st, 5, frame, arp_frame(frame, ARP_OP_REPLY, our_mac, peer_mac, PEER, our_mac,
					    OURS));
	CHECK(neigh_lookup(st, PEER, NULL) == NEIGH_REACHABLE, "a reply to us makes it reachable");
	CHECK(sent.count == 2, "the waiting echo reply is sent");
	if (sent.count == 2)
		check_echo_reply(req, req_len, sent.frame[1], sent.len[1], "after resolution");
	stack_input(st, 6, req, echo_frame(req, our_mac, OURS, 2, 1400));
	CHECK(sent.count == 3 && stack_counters(st)->echo_replies_out == 2, "next reply at once");
	if (sent.count == 3)
		check_echo_reply(req, 34 + 8 + 1400, sent.frame[2], sent.len[2], "1400 bytes");
	stack_free(st);
}

/* RFC 1122 3.2.2.6: echo to a broadcast address is ignored (named); echo
 * to another host's address is not for us. */
static void test_echo_not_answered(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t req[TCPIP_FRAME_MAX];

	CHECK(stack_input(st, 0, req, echo_frame(req, bcast, 0xc00002ffu, 1, 8)) ==
		      DROP_ICMP_ECHO_BROADCAST,
	      "subnet broadcast echo ignored");
	CHECK(stack_input(st, 0, req, echo_frame(req, bcast, UINT32_MAX, 1, 8)) ==
		      DROP_ICMP_ECHO_BROADCAST,
	      "all-ones broadcast echo ignored");
	CHECK(stack_input(st, 0, req, echo_frame(req, our_mac, OTHER, 1, 8)) == DROP_IP4_NOT_FOR_US,
	      "echo to another address");
	CHECK(sent.count == 0, "nothing sent");
	stack_free(st);
}

/* RFC 1122 2.3.2.2: while unresolved, at most TCPIP_NEIGH_PENDING_PER_DEST
 * packets wait per destination, the latest kept; the give-up counts the
 * waiting ones as dropped. */
static void test_pending_queue(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t req[TCPIP_FRAME_MAX];
	int asked = TCPIP_NEIGH_PENDING_PER_DEST + 2;

	for (int i = 1; i <= asked; i++)
		stack_input(st, 0, req, echo_frame(req, our_mac, OURS, (uint16_t)i, 8));
	CHECK(sent.count == 1, "one ARP request, replies waiting");
	CHECK(stack_counters(st)->out_queue_full == (uint64_t)(asked - TCPIP_NEIGH_PENDING_PER_DEST),
	      "each packet that gave way is counted");
	for (int i = 1; i <= TCPIP_ARP_TRIES; i++)
		stack_poll(st, (stack_time_ms)i * TCPIP_ARP_RETRY_MS);
	CHECK(stack_counters(st)->out_unresolved == TCPIP_NEIGH_PENDING_PER_DEST,
	      "give-up dropped %llu waiting, want %d",
	      (unsigned long long)stack_counters(st)->out_unresolved, TCPIP_NEIGH_PENDING_PER_DEST);
	stack_free(st);

	st = host(&sent);
	for (int i = 1; i <= asked; i++)
		stack_input(st, 0, req, echo_frame(req, our_mac, OURS, (uint16_t)i, 8));
	{
		uint8_t frame[60];

		stack_input(st, 1, frame, arp_frame(frame, ARP_OP_REPLY, our_mac, peer_mac, PEER,
						    our_mac, OURS));
	}
	CHECK(sent.count == 1 + TCPIP_NEIGH_PENDING_PER_DEST, "the waiting replies went");
	CHECK(sent.count < 2 || get_be16(sent.frame[1] + 40) == asked - TCPIP_NEIGH_PENDING_PER_DEST + 1,
	      "the oldest gave way: first sent is seq %u", sent.count > 1 ? get_be16(sent.frame[1] + 40) : 0);
	stack_free(st);
}

/* Aging: REACHABLE for TCPIP_NEIGH_REACHABLE_MS, then STALE; a STALE entry
 * unused for TCPIP_NEIGH_STALE_MS is evicted; using it sends a unicast
 * check and keeps it. */
static void test_aging(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t frame[60], req[TCPIP_FRAME_MAX];
	stack_time_ms t = 0;

	stack_resolve(st, t, PEER);
	stack_input(st, t, frame, arp_frame(frame, ARP_OP_REPLY, our_mac, peer_mac, PEER, our_mac,
					    OURS));
	CHECK(stack_next_deadline(st) == TCPIP_NEIGH_REACHABLE_MS, "reachable deadline");
	stack_poll(st, TCPIP_NEIGH_REACHABLE_MS - 1);
	CHECK(neigh_lookup(st, PEER, NULL) == NEIGH_REACHABLE, "still reachable");
	t = TCPIP_NEIGH_REACHABLE_MS;
	stack_poll(st, t);
	CHECK(neigh_lookup(st, PEER, NULL) == NEIGH_STALE, "aged to stale");
	sent.count = 0;
	t += TCPIP_NEIGH_STALE_MS / 2;
	stack_input(st, t, req, echo_frame(req, our_mac, OURS, 1, 8));
	CHECK(sent.count == 2 && memcmp(sent.frame[0], peer_mac, 6) == 0 &&
		      get_be16(sent.frame[0] + 12) == ETHERTYPE_ARP,
	      "using a stale entry sends a unicast check, then the packet");
	stack_poll(st, t + TCPIP_NEIGH_STALE_MS - 1);
	CHECK(neigh_lookup(st, PEER, NULL) == NEIGH_STALE, "use kept it");
	stack_poll(st, t + TCPIP_NEIGH_STALE_MS);
	CHECK(neigh_lookup(st, PEER, NULL) == NEIGH_NONE, "evicted when unused");
	stack_free(st);
}

/* A full cache makes room by evicting a complete entry, never an
 * incomplete one. */
static void test_cache_bounded(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t frame[60];
	int known = 0;

	for (uint32_t i = 0; i < TCPIP_NEIGH_ENTRIES + 4; i++) {
		uint8_t mac[6] = {2, 0, 0, 0, 1, (uint8_t)i};

		stack_input(st, i, frame, arp_frame(frame, ARP_OP_REQUEST, bcast, mac,
						    0xc0000210u + i, (uint8_t[6]){0}, OURS));
	}
	for (uint32_t i = 0; i < TCPIP_NEIGH_ENTRIES + 4; i++)
		known += neigh_lookup(st, 0xc0000210u + i, NULL) != NEIGH_NONE;
	CHECK(known == TCPIP_NEIGH_ENTRIES, "cache holds %d, want %d", known, TCPIP_NEIGH_ENTRIES);
	CHECK(neigh_lookup(st, 0xc0000210u + TCPIP_NEIGH_ENTRIES + 3, NULL) == NEIGH_STALE &&
		      neigh_lookup(st, 0xc0000210u, NULL) == NEIGH_NONE,
	      "the newest stays, the oldest went");
	stack_free(st);

	/* A confirmed (REACHABLE) neighbour outlives STALE ones, even though
	 * its timer (aging to STALE) ends first. */
	st = host(&sent);
	stack_resolve(st, 0, PEER);
	stack_input(st, 0, frame, arp_frame(frame, ARP_OP_REPLY, our_mac, peer_mac, PEER, our_mac,
					    OURS));
	for (uint32_t i = 0; i < TCPIP_NEIGH_ENTRIES; i++) {
		uint8_t mac[6] = {2, 0, 0, 0, 1, (uint8_t)i};

		stack_input(st, 1 + i, frame, arp_frame(frame, ARP_OP_REQUEST, bcast, mac,
							0xc0000210u + i, (uint8_t[6]){0}, OURS));
	}
	CHECK(neigh_lookup(st, PEER, NULL) == NEIGH_REACHABLE, "the reachable entry was kept");
	stack_free(st);
}

/* The announce: a broadcast request with our address as sender and target. */
static void test_announce(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	struct arp_pkt arp;

	stack_start(st, 0);
	CHECK(sent_arp(&sent, 0, &arp) == 0 && arp.op == ARP_OP_REQUEST && arp.spa == OURS &&
		      arp.tpa == OURS && memcmp(sent.frame[0], bcast, 6) == 0,
	      "gratuitous ARP at start");
	stack_free(st);
}

int main(void)
{
	test_request_answered();
	test_merge_rule();
	test_probe();
	test_retries_and_give_up();
	test_echo_resolves_first();
	test_echo_not_answered();
	test_pending_queue();
	test_aging();
	test_cache_bounded();
	test_announce();
	return test_report("test_arp");
}
