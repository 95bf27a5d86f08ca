/*
 * test_tcp.c - TCP's pieces that scenario scripts cannot reach one by one:
 * SipHash against its published vectors, sequence arithmetic across the
 * wrap, every option rule and every cut of an option list (against a guard
 * page), the ISN's clock, and the bounds: backlog, table, retransmission
 * give-up; and what may be set: the TTL, a connection's DS field and R2.
 * Behaviour on the wire is checked by the scripts in testvectors/scripts/,
 * against the core, our agent and Linux.
 */
#include <string.h>

#include "tcpip/arp.h"
#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/siphash.h"
#include "tcpip/tcp.h"
#include "vec.h"
#include "virt.h"

/* SipHash-2-4 with key 00..0f: the paper's appendix A example (15 bytes
 * 00..0e) and the reference vectors' first entry (the empty message). */
static void test_siphash(void)
{
	uint8_t key[16], msg[15];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	CHECK(siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL, "SipHash paper example");
	CHECK(siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL, "SipHash of the empty message");
}

/* RFC 9293 3.4: comparisons are modulo 2^32. */
static void test_seq(void)
{
	CHECK(seq_lt(0xffffff00u, 0x10u) && seq_gt(0x10u, 0xffffff00u), "across the wrap");
	CHECK(seq_le(5, 5) && seq_ge(5, 5) && !seq_lt(5, 5) && !seq_gt(5, 5), "equal");
	CHECK(seq_lt(0, 0x7fffffffu) && seq_gt(0, 0x80000001u), "half the space either way");
}

struct opt_case {
	const char *name;
	uint8_t len;
	uint8_t bytes[40];
	enum drop_reason verdict;
	int mss;       /* -1: no MSS */
	int wscale;    /* -1: none */
	int sack_ok, ts_val, sack_blocks;
};

/* Each option rule (RFC 9293 3.1 and 3.2, MUST-6, MUST-7, MUST-64; RFC 7323;
 * RFC 2018), one case each. */
static const struct opt_case opt_cases[] = {
	{"none", 0, {0}, DROP_NONE, -1, -1, 0, -1, 0},
	{"mss", 4, {2, 4, 5, 0xb4}, DROP_NONE, 1460, -1, 0, -1, 0},
	{"nop padding", 8, {1, 1, 1, 2, 4, 2, 0x18, 1}, DROP_NONE, 536, -1, 0, -1, 0},
	{"eol ends the list", 4, {0, 2, 0, 9}, DROP_NONE, -1, -1, 0, -1, 0},
	{"unknown kind skipped", 8, {99, 4, 1, 2, 2, 4, 1, 0}, DROP_NONE, 256, -1, 0, -1, 0},
	{"length 0", 4, {2, 0, 5, 0xb4}, DROP_TCP_BAD_OPTION, -1, -1, 0, -1, 0},
	{"length 1", 4, {99, 1, 1, 1}, DROP_TCP_BAD_OPTION, -1, -1, 0, -1, 0},
	{"length past the header", 4, {2, 8, 5, 0xb4}, DROP_TCP_BAD_OPTION, -1, -1, 0, -1, 0},
	{"kind without a length byte", 4, {1, 1, 1, 2}, DROP_TCP_BAD_OPTION, -1, -1, 0, -1, 0},
	{"mss of the wrong length ignored", 4, {2, 3, 5, 1}, DROP_NONE, -1, -1, 0, -1, 0},
	{"wscale", 4, {1, 3, 3, 7}, DROP_NONE, -1, 7, 0, -1, 0},
	{"sack permitted", 4, {1, 1, 4, 2}, DROP_NONE, -1, -1, 1, -1, 0},
	{"timestamps", 12, {1, 1, 8, 10, 0, 0, 0, 100, 0, 0, 0, 0}, DROP_NONE, -1, -1, 0, 100, 0},
	{"sack two blocks", 20, {1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 9},
	 DROP_NONE, -1, -1, 0, -1, 2},
	{"sack of a broken length ignored", 8, {1, 1, 5, 6, 0, 0, 0, 1},
	 DROP_NONE, -1, -1, 0, -1, 0},
	{"forty nops", 40, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
			    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
	 DROP_NONE, -1, -1, 0, -1, 0},
};

/* Runs every case from just below a guard page, so an over-read faults. */
static void test_options(void)
{
	for (size_t i = 0; i < sizeof opt_cases / sizeof opt_cases[0]; i++) {
		const struct opt_case *c = &opt_cases[i];
		uint8_t *copy = guard_copy(c->bytes, c->len);
		struct tcp_opts opts;
		enum drop_reason verdict = tcp_parse_options(copy, c->len, &opts);

		CHECK(verdict == c->verdict, "%s: verdict %s", c->name, drop_name(verdict));
		if (verdict == DROP_NONE) {
			CHECK(opts.has_mss == (c->mss >= 0) && (c->mss < 0 || opts.mss == c->mss),
			      "%s: mss", c->name);
			CHECK(opts.has_wscale == (c->wscale >= 0) &&
				      (c->wscale < 0 || opts.wscale == c->wscale),
			      "%s: wscale", c->name);
			CHECK(opts.sack_ok == (c->sack_ok == 1), "%s: sackOK", c->name);
			CHECK(opts.has_ts == (c->ts_val >= 0) && (c->ts_val < 0 || (int)opts.ts_val == c->ts_val),
			      "%s: timestamps", c->name);
			CHECK(opts.sack_blocks == c->sack_blocks, "%s: sack blocks", c->name);
		}
		guard_free(copy, c->len);
	}
}

/* Every cut of a full option list either parses or is tcp_bad_option,
 * never reads past the cut, and a cut inside an option is always refused. */
static void test_option_cuts(void)
{
	static const uint8_t full[20] = {2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2,
					 8, 10, 0, 0, 0, 1, 0, 0, 0, 0};
	static const uint8_t whole_at[] = {0, 4, 5, 8, 10, 20}; /* cuts between options */

	for (uint8_t cut = 0; cut <= sizeof full; cut++) {
		uint8_t *copy = guard_copy(full, cut);
		struct tcp_opts opts;
		bool between = memchr(whole_at, cut, sizeof whole_at) != NULL;
		enum drop_reason verdict = tcp_parse_options(copy, cut, &opts);

		CHECK(verdict == (between ? DROP_NONE : DROP_TCP_BAD_OPTION), "cut at %u: %s", cut,
		      drop_name(verdict));
		guard_free(copy, cut);
	}
}

/* tcp_emit() writes what tcp_parse() reads back. */
static void test_emit_parse(void)
{
	struct tcp_hdr out = {.sport = 8080, .dport = 40000, .seq = 0xfffffff0u, .ack = 7,
			      .flags = TCP_SYN | TCP_ACK, .win = 65535,
			      .opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
				       .sack_ok = true, .has_ts = true, .ts_val = 9, .ts_ecr = 3}};
	struct tcp_hdr in;
	uint8_t buf[TCP_MAX_HDR_LEN];
	size_t len = tcp_emit(&out, buf, sizeof buf);

	CHECK(len == 20 + 20 && len == tcp_len(&out), "19 option bytes padded to 20");
	CHECK(tcp_parse(buf, len, &in) == DROP_NONE && in.hdr_len == len, "parses");
	CHECK(in.sport == 8080 && in.dport == 40000 && in.seq == out.seq && in.ack == 7 &&
		      in.flags == out.flags && in.win == 65535,
	      "fixed fields");
	CHECK(in.opts.has_mss && in.opts.mss == 1460 && in.opts.has_wscale && in.opts.wscale == 7 &&
		      in.opts.sack_ok && in.opts.has_ts && in.opts.ts_val == 9 && in.opts.ts_ecr == 3,
	      "options");
	CHECK(tcp_emit(&out, buf, len - 1) == 0, "refuses a short buffer");
}

/* RFC 9293 3.4.1: ISN = M + F(4-tuple): tuples differ, and M runs at one
 * tick per 4 microseconds, 250,000 a second. */
static void test_isn(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t frame[64];
	struct tcp_hdr a, b, c;

	know_peer(st, &sent);
	tcp_listen(st, 8080, 4);
	stack_input(st, 0, frame, tcp_frame(frame, 40000, 8080, TCP_SYN, 1, 0));
	stack_input(st, 0, frame, tcp_frame(frame, 40001, 8080, TCP_SYN, 1, 0));
	stack_input(st, 0, frame, tcp_frame(frame, 40000, 8080, TCP_RST | TCP_ACK, 2, 0));
	stack_input(st, 1000, frame, tcp_frame(frame, 40000, 8080, TCP_SYN, 1, 0));
	CHECK(sent_tcp(&sent, 0, &a) && sent_tcp(&sent, 1, &b) && sent_tcp(&sent, 2, &c),
	      "three SYN-ACKs");
	CHECK(a.seq != b.seq, "another tuple, another ISN");
	CHECK(c.seq - a.seq == 250000, "one second later: 250,000 more (%u)", c.seq - a.seq);
	CHECK(stack_counters(st)->tcp_bad_transitions == 0, "every state change in the table");
	stack_free(st);
}

/* The ISN of a SYN-ACK to a SYN from 192.0.2.1:40000 to port 8080 at time
 * 0, of a stack keyed with secret (all zero: host()'s fixed key). */
static uint32_t isn_with_secret(const uint8_t secret[16])
{
	struct stack_cfg tune = {0};
	struct sent sent;
	struct stack *st;
	uint8_t frame[64];
	struct tcp_hdr synack = {0};

	memcpy(tune.secret, secret, sizeof tune.secret);
	st = host_with(&sent, &tune);
	know_peer(st, &sent);
	tcp_listen(st, 8080, 4);
	stack_input(st, 0, frame, tcp_frame(frame, 40000, 8080, TCP_SYN, 1, 0));
	CHECK(sent_tcp(&sent, 0, &synack) && synack.flags == (TCP_SYN | TCP_ACK), "a SYN-ACK");
	stack_free(st);
	return synack.seq;
}

/* RFC 9293 3.4.1 (MUST-9, SHLD-1): F is keyed by a secret an outsider does
 * not know: the same four-tuple at the same time gets another ISN under
 * another secret, and the same ISN under the same secret (so it is the
 * secret, not chance, that makes the difference). */
static void test_isn_secret(void)
{
	static const uint8_t zero[16], other[16] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9},
				       other2[16] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 8};
	uint32_t a = isn_with_secret(zero), b = isn_with_secret(zero);
	uint32_t c = isn_with_secret(other), d = isn_with_secret(other2);

	CHECK(a == b, "same secret, same tuple, same time: same ISN (%u, %u)", a, b);
	CHECK(a != c && c != d && a != d, "another secret, another ISN (%u, %u, %u)", a, c, d);
}

/* A listener holds at most its backlog of half-open connections; a SYN
 * beyond it is dropped and counted, and room comes back as they complete. */
static void test_backlog(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t frame[64];
	struct tcp_hdr synack;

	know_peer(st, &sent);
	CHECK(tcp_listen(st, 8080, 2) == 0 && tcp_listen(st, 8080, 2) < 0, "one listener per port");
	for (uint16_t port = 40000; port < 40003; port++)
		stack_input(st, 0, frame, tcp_frame(frame, port, 8080, TCP_SYN, 1, 0));
	CHECK(sent.count == 2 && stack_counters(st)->tcp_backlog_drops == 1, "third SYN dropped");
	CHECK(sent_tcp(&sent, 0, &synack), "a SYN-ACK");
	stack_input(st, 0, frame, tcp_frame(frame, 40000, 8080, TCP_ACK, 2, synack.seq + 1));
	stack_input(st, 0, frame, tcp_frame(frame, 40003, 8080, TCP_SYN, 1, 0));
	CHECK(sent.count == 3, "a completed connection makes room");
	stack_free(st);
}

/* MUST-15, MUST-16: the send MSS is the peer's option, 536 without one,
 * never above what our MTU allows, never below TCPIP_TCP_MIN_MSS. */
static void test_snd_mss(void)
{
	static const struct { uint16_t option; uint16_t mss; } cases[] = {
		{1460, 1460}, {0, 536}, {536, 536}, {1, TCPIP_TCP_MIN_MSS}, {65535, 1460},
	};
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t frame[64];

	know_peer(st, &sent);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int conn = tcp_connect(st, 0, PEER, 80);
		struct tcp_hdr syn;

		CHECK(sent_tcp(&sent, sent.count - 1, &syn) && syn.flags == TCP_SYN, "a SYN");
		stack_input(st, 0, frame, tcp_frame_mss(frame, 80, syn.sport, TCP_SYN | TCP_ACK, 7,
							 syn.seq + 1, cases[i].option));
		CHECK(tcp_conn_state(st, conn) == TCP_ESTABLISHED &&
			      tcp_conn_snd_mss(st, conn) == cases[i].mss,
		      "option %u: send MSS %u, want %u", cases[i].option, tcp_conn_snd_mss(st, conn),
		      cases[i].mss);
	}
	stack_free(st);
}

/* The table is bounded: the connect after TCPIP_TCP_CONNS is refused, counted. */
static void test_table_full(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	int last = 0;

	know_peer(st, &sent);
	for (int i = 0; i < TCPIP_TCP_CONNS; i++)
		last = tcp_connect(st, 0, PEER, 80);
	CHECK(last >= 0 && tcp_connect(st, 0, PEER, 80) < 0, "connect %d refused", TCPIP_TCP_CONNS + 1);
	CHECK(stack_counters(st)->tcp_table_full == 1, "counted");
	stack_free(st);
}

/* RFC 6298 2.1, 2.5 and 5.5: the SYN is sent again after 1 s, then 2, 4, 8,
 * 16, 32 s and 60 s (the RTO's ceiling), to the millisecond and not one
 * before; 60 s after the 7th the open times out: 183 s, past RFC 9293
 * MUST-23's 3 minutes. */
static void test_syn_backoff(void)
{
	static const stack_time_ms at[] = {1000, 3000, 7000, 15000, 31000, 63000, 123000};
	struct sent sent;
	struct stack *st = host(&sent);
	int conn;

	know_peer(st, &sent);
	conn = tcp_connect(st, 0, PEER, 80);
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		int before;

		know_peer_at(st, &sent, at[i] - 1); /* the cache would age it out */
		before = tcp_count(&sent);
		stack_poll(st, at[i] - 1);
		CHECK(tcp_count(&sent) == before, "nothing before %llu ms", (unsigned long long)at[i]);
		stack_poll(st, at[i]);
		CHECK(tcp_count(&sent) == before + 1, "SYN again at %llu ms", (unsigned long long)at[i]);
	}
	stack_poll(st, 182999);
	CHECK(tcp_conn_state(st, conn) == TCP_SYN_SENT, "still trying at 182.999 s");
	stack_poll(st, 183000);
	CHECK(tcp_conn_state(st, conn) == TCP_CLOSED, "gave up at 183 s");
	CHECK(stack_counters(st)->tcp_retransmits == 7, "seven retransmissions");
	stack_free(st);
}

/* An active open to the peer's port 80, answered (the peer's ISN 7), then
 * closed by us: our FIN is out at syn->seq + 1.  The connection. */
static int opened_and_closed(struct stack *st, struct sent *sent, struct tcp_hdr *syn)
{
	int conn = open_to_peer(st, sent, syn);

	CHECK(conn >= 0, "a SYN, answered");
	tcp_close(st, 0, conn);
	return conn;
}

/* RFC 9293 3.4.2 and 3.10.7.4 (MUST-13): TIME-WAIT lasts 2 MSL from the
 * peer's FIN, not a millisecond less, then the connection is gone; the MSL
 * is the stack's default (30 s, so 60 s as Linux's) or the one configured. */
static void test_time_wait(void)
{
	static const stack_time_ms msl[] = {0, 250};

	for (size_t i = 0; i < sizeof msl / sizeof msl[0]; i++) {
		stack_time_ms two = 2 * (msl[i] ? msl[i] : TCPIP_TCP_MSL_MS);
		struct sent sent;
		struct stack *st = host_with(&sent, &(struct stack_cfg){.tcp_msl_ms = msl[i]});
		uint8_t frame[64];
		struct tcp_hdr syn;
		int conn;

		conn = opened_and_closed(st, &sent, &syn);
		stack_input(st, 10, frame, tcp_frame(frame, 80, syn.sport, TCP_FIN | TCP_ACK, 8,
						     syn.seq + 2));
		CHECK(tcp_conn_state(st, conn) == TCP_TIME_WAIT, "MSL %llu: TIME-WAIT",
		      (unsigned long long)msl[i]);
		stack_poll(st, 10 + two - 1);
		CHECK(tcp_conn_state(st, conn) == TCP_TIME_WAIT, "still TIME-WAIT at 2 MSL - 1 ms");
		stack_poll(st, 10 + two);
		CHECK(tcp_conn_state(st, conn) == TCP_CLOSED, "MSL %llu: CLOSED at 2 MSL",
		      (unsigned long long)msl[i]);
		stack_free(st);
	}
}

/* RFC 9293 3.10.7.4 (MUST-13) on the other ways into TIME-WAIT: from
 * FIN-WAIT-2 (our FIN acknowledged first, the peer's FIN later) and from
 * CLOSING (the FINs crossed), 2 MSL count from the segment that entered
 * TIME-WAIT, not a millisecond less; and when the peer's FIN comes again
 * in TIME-WAIT, 2 MSL start again from it (3.10.7.4, TIME-WAIT eighth). */
static void test_time_wait_paths(void)
{
	const stack_time_ms two = 2 * TCPIP_TCP_MSL_MS;

	for (int closing = 0; closing < 2; closing++) {
		struct sent sent;
		struct stack *st = host(&sent);
		uint8_t frame[64];
		struct tcp_hdr syn;
		const char *path = closing ? "CLOSING" : "FIN-WAIT-2";
		int conn;

		conn = opened_and_closed(st, &sent, &syn);      /* our FIN: syn.seq + 1 */
		if (closing) {
			/* The peer's FIN, not acknowledging ours: CLOSING. */
			stack_input(st, 10, frame, tcp_frame(frame, 80, syn.sport, TCP_FIN | TCP_ACK,
							     8, syn.seq + 1));
			CHECK(tcp_conn_state(st, conn) == TCP_CLOSING, "FINs crossed: CLOSING");
			stack_input(st, 1000, frame, tcp_frame(frame, 80, syn.sport, TCP_ACK, 9,
							       syn.seq + 2));
		} else {
			stack_input(st, 10, frame, tcp_frame(frame, 80, syn.sport, TCP_ACK, 8,
							     syn.seq + 2));
			CHECK(tcp_conn_state(st, conn) == TCP_FIN_WAIT_2, "our FIN acked: FIN-WAIT-2");
			stack_input(st, 1000, frame, tcp_frame(frame, 80, syn.sport, TCP_FIN | TCP_ACK,
							       8, syn.seq + 2));
		}
		CHECK(tcp_conn_state(st, conn) == TCP_TIME_WAIT, "%s: TIME-WAIT at 1 s", path);
		stack_poll(st, 1000 + two - 1);
		CHECK(tcp_conn_state(st, conn) == TCP_TIME_WAIT, "%s: still TIME-WAIT at 2 MSL - 1 ms",
		      path);
		stack_poll(st, 1000 + two);
		CHECK(tcp_conn_state(st, conn) == TCP_CLOSED, "%s: CLOSED at 2 MSL", path);
		stack_free(st);
	}
	/* The peer's FIN again, 10 s into TIME-WAIT (our ACK of it was lost):
	 * acknowledged, and the 2 MSL starts again from then. */
	{
		struct sent sent;
		struct stack *st = host(&sent);
		uint8_t frame[64];
		struct tcp_hdr syn, ack;
		int conn;

		conn = opened_and_closed(st, &sent, &syn);
		stack_input(st, 10, frame, tcp_frame(frame, 80, syn.sport, TCP_ACK, 8, syn.seq + 2));
		stack_input(st, 1000, frame, tcp_frame(frame, 80, syn.sport, TCP_FIN | TCP_ACK, 8,
						       syn.seq + 2));
		stack_input(st, 11000, frame, tcp_frame(frame, 80, syn.sport, TCP_FIN | TCP_ACK, 8,
							syn.seq + 2));
		CHECK(sent_tcp(&sent, sent.count - 1, &ack) && ack.flags == TCP_ACK && ack.ack == 9,
		      "the FIN again: acknowledged (ack 9)");
		stack_poll(st, 1000 + two);
		CHECK(tcp_conn_state(st, conn) == TCP_TIME_WAIT,
		      "2 MSL after the first FIN: still TIME-WAIT (restarted at 11 s)");
		stack_poll(st, 11000 + two - 1);
		CHECK(tcp_conn_state(st, conn) == TCP_TIME_WAIT, "still TIME-WAIT at 11 s + 2 MSL - 1 ms");
		stack_poll(st, 11000 + two);
		CHECK(tcp_conn_state(st, conn) == TCP_CLOSED, "CLOSED 2 MSL after the FIN again");
		stack_free(st);
	}
}

/* RFC 9293 3.9.2 (MUST-49) and 3.9.1.9 (MUST-48): the TTL of what we send is
 * the stack's configuration (64 by default), and a connection's DS field is
 * its application's choice, from the segment after the call on, during the
 * connection too (SHLD-21), handed to IP unchanged (SHLD-22; RFC 2474: the
 * DSCP in the top six bits); a DSCP over 63 is refused. */
static void test_ttl_and_dscp(void)
{
	struct sent sent;
	struct stack *st = host_with(&sent, &(struct stack_cfg){.ip4_ttl = 33});
	struct stack *plain = host(&sent);
	int conn;

	know_peer(st, &sent);
	conn = tcp_connect(st, 0, PEER, 80);
	CHECK(sent.count == 1 && sent.frame[0][22] == 33 && sent.frame[0][15] == 0,
	      "the SYN: TTL 33, DS field 0");
	CHECK(tcp_conn_set_dscp(st, conn, 64) < 0 && tcp_conn_set_dscp(st, 99, 1) < 0,
	      "DSCP 64 and a closed connection refused");
	CHECK(tcp_conn_set_dscp(st, conn, 46) == 0, "DSCP 46 (EF) taken");
	stack_poll(st, 1000);
	CHECK(sent.count == 2 && sent.frame[1][15] == 46 << 2 && sent.frame[1][22] == 33,
	      "the SYN again: DS field 0xb8, TTL 33");
	know_peer(plain, &sent);
	tcp_connect(plain, 0, PEER, 80);
	CHECK(sent.count == 1 && sent.frame[0][22] == TCPIP_IP4_TTL, "TTL %d by default",
	      TCPIP_IP4_TTL);
	stack_free(st);
	stack_free(plain);
}

/* RFC 9293 3.8.3 (MUST-21): an application sets its connection's R2.  With
 * 2, the open gives up on the third timeout (7 s: SYNs at 0, 1 and 3 s)
 * instead of the seventh; with TCP_R2_FOREVER it still tries after an hour;
 * and 0 puts the state's limit back (183 s, as test_syn_backoff). */
static void test_r2(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	int two, forever, reset;

	know_peer(st, &sent);
	two = tcp_connect(st, 0, PEER, 80);
	forever = tcp_connect(st, 0, PEER, 81);
	reset = tcp_connect(st, 0, PEER, 82);
	CHECK(tcp_conn_set_r2(st, two, 2) == 0 && tcp_conn_set_r2(st, forever, TCP_R2_FOREVER) == 0,
	      "R2 set");
	CHECK(tcp_conn_set_r2(st, reset, 2) == 0 && tcp_conn_set_r2(st, reset, 0) == 0, "R2 put back");
	CHECK(tcp_conn_set_r2(st, TCPIP_TCP_CONNS, 2) < 0, "no such connection");
	for (stack_time_ms now = 0; now <= 3600 * 1000; now += 500) {
		know_peer_at(st, &sent, now);
		stack_poll(st, now);
		if (now == 6500)
			CHECK(tcp_conn_state(st, two) == TCP_SYN_SENT, "R2 2: still trying at 6.5 s");
		if (now == 7000)
			CHECK(tcp_conn_state(st, two) == TCP_CLOSED, "R2 2: gave up at 7 s");
		if (now == 183000)
			CHECK(tcp_conn_state(st, reset) == TCP_CLOSED, "R2 0: gave up at 183 s");
	}
	CHECK(tcp_conn_state(st, forever) == TCP_SYN_SENT, "R2 forever: still trying at 1 h");
	stack_free(st);
}

/* What a test hears: R1 warnings (the last one's time), the give-up's
 * time, urgent-data notices. */
struct event_log {
	stack_time_ms now, r1_at, timeout_at;
	int r1s, urgents;
};

/* stack_event_fn: notes EV_TCP_R1, EV_TCP_TIMEOUT and EV_TCP_URGENT in the
 * event_log at ctx. */
static void note_event(void *ctx, const struct stack_event *ev)
{
	struct event_log *log = ctx;

	if (ev->kind == EV_TCP_R1) {
		log->r1s++;
		log->r1_at = log->now;
	}
	if (ev->kind == EV_TCP_TIMEOUT)
		log->timeout_at = log->now;
	log->urgents += ev->kind == EV_TCP_URGENT;
}

/* RFC 9293 3.8.3 (MUST-22): SYN retransmissions are handled as data's, with
 * the application told at R1: the third retransmission of our SYN (7 s)
 * raises EV_TCP_R1, once; a listener's half-open connection, which no
 * application holds yet, raises none. */
static void test_syn_r1(void)
{
	static const stack_time_ms at[] = {1000, 3000, 7000, 15000};
	struct event_log log = {0};
	struct sent sent;
	struct stack *st = host_with(&sent, &(struct stack_cfg){.on_event = note_event, .event_ctx = &log});
	uint8_t frame[64];

	know_peer(st, &sent);
	tcp_connect(st, 0, PEER, 80);
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		log.now = at[i];
		know_peer_at(st, &sent, at[i] - 1);
		stack_poll(st, at[i]);
		CHECK(log.r1s == (at[i] >= 7000), "R1 events after the SYN at %llu ms: %d",
		      (unsigned long long)at[i], log.r1s);
	}
	CHECK(log.r1_at == 7000, "R1 at the third retransmission, 7 s");
	stack_free(st);

	log = (struct event_log){0};
	st = host_with(&sent, &(struct stack_cfg){.on_event = note_event, .event_ctx = &log});
	know_peer(st, &sent);
	tcp_listen(st, 8080, 4);
	stack_input(st, 0, frame, tcp_frame(frame, 40000, 8080, TCP_SYN, 100, 0));
	for (stack_time_ms t = 1000; t <= 63000; t += 1000) {
		know_peer_at(st, &sent, t - 1);
		stack_poll(st, t);
	}
	CHECK(log.r1s == 0, "a listener's half-open connection: no R1 (%d)", log.r1s);
	stack_free(st);
}

/* RFC 9293 3.8.3 (SHLD-9, SHLD-10) and 3.9.1.8 (MUST-47: soft errors reach
 * the application): data nobody acknowledges is sent again at 1, 3 and 7 s;
 * the third retransmission warns the application once (EV_TCP_R1, R1 = 3)
 * while the connection stays open, and only R2 (the eighth unanswered, at
 * 243 s) ends it. */
static void test_r1(void)
{
	struct event_log log = {.r1_at = STACK_NO_DEADLINE, .timeout_at = STACK_NO_DEADLINE};
	struct sent sent;
	struct stack *st = host_with(&sent, &(struct stack_cfg){.on_event = note_event, .event_ctx = &log});
	uint8_t frame[64], data[100] = {0};
	struct tcp_hdr syn;
	int conn;

	know_peer(st, &sent);
	conn = tcp_connect(st, 0, PEER, 80);
	CHECK(sent_tcp(&sent, sent.count - 1, &syn), "a SYN");
	stack_input(st, 0, frame, tcp_frame(frame, 80, syn.sport, TCP_SYN | TCP_ACK, 7, syn.seq + 1));
	CHECK(tcp_write(st, 0, conn, data, sizeof data) == 100, "100 bytes queued");
	for (log.now = 0; log.now <= 250000; log.now += 500) {
		know_peer_at(st, &sent, log.now);
		stack_poll(st, log.now);
		if (log.now == 6500)
			CHECK(log.r1s == 0, "no warning after two retransmissions");
		if (log.now == 7000)
			CHECK(log.r1s == 1 && tcp_conn_state(st, conn) == TCP_ESTABLISHED,
			      "warned at the third (7 s), still open");
	}
	CHECK(log.r1s == 1 && log.r1_at == 7000, "one warning, at 7 s (%llu)",
	      (unsigned long long)log.r1_at);
	CHECK(log.timeout_at == 243000 && tcp_conn_state(st, conn) == TCP_CLOSED,
	      "gave up at R2, 243 s (%llu)", (unsigned long long)log.timeout_at);
	stack_free(st);
}

/* An established connection to port 80 of st, with 100 bytes written at
 * time 0 that the peer will never acknowledge; its number. */
static int conn_with_data(struct stack *st, struct sent *sent)
{
	uint8_t frame[64], data[100] = {0};
	struct tcp_hdr syn;
	int conn;

	know_peer(st, sent);
	conn = tcp_connect(st, 0, PEER, 80);
	CHECK(sent_tcp(sent, sent->count - 1, &syn), "a SYN");
	stack_input(st, 0, frame, tcp_frame(frame, 80, syn.sport, TCP_SYN | TCP_ACK, 7, syn.seq + 1));
	CHECK(tcp_write(st, 0, conn, data, sizeof data) == 100, "100 bytes queued");
	return conn;
}

/* RFC 9293 3.8.3 (MUST-21) for data: R2 set on an established connection
 * holds for its data retransmissions.  With 2, the data is sent again at 1
 * and 3 s and the connection gives up at the next timeout (7 s), not at
 * 243 s; with TCP_R2_FOREVER it is still sent again after an hour. */
static void test_r2_data(void)
{
	struct event_log log = {.timeout_at = STACK_NO_DEADLINE};
	struct sent sent;
	struct stack *st = host_with(&sent, &(struct stack_cfg){.on_event = note_event, .event_ctx = &log});
	struct stack *forever_st = host(&sent);
	int two = conn_with_data(st, &sent), forever = conn_with_data(forever_st, &sent);
	uint64_t at_50min = 0;

	CHECK(tcp_conn_set_r2(st, two, 2) == 0, "R2 2 set while established");
	CHECK(tcp_conn_set_r2(forever_st, forever, TCP_R2_FOREVER) == 0, "R2 forever set");
	for (log.now = 0; log.now <= 3600 * 1000; log.now += 500) {
		know_peer_at(st, &sent, log.now);
		stack_poll(st, log.now);
		know_peer_at(forever_st, &sent, log.now);
		stack_poll(forever_st, log.now);
		if (log.now == 6500)
			CHECK(tcp_conn_state(st, two) == TCP_ESTABLISHED &&
				      stack_counters(st)->tcp_retransmits == 2,
			      "R2 2: two retransmissions, still open at 6.5 s");
		if (log.now == 3000 * 1000)
			at_50min = stack_counters(forever_st)->tcp_retransmits;
	}
	CHECK(log.timeout_at == 7000 && tcp_conn_state(st, two) == TCP_CLOSED,
	      "R2 2: gave up at 7 s (%llu)", (unsigned long long)log.timeout_at);
	CHECK(stack_counters(st)->tcp_retransmits == 2, "no third retransmission");
	CHECK(tcp_conn_state(forever_st, forever) == TCP_ESTABLISHED &&
		      stack_counters(forever_st)->tcp_retransmits >= at_50min + 9,
	      "R2 forever: open, still sending again in the last 10 minutes (%llu then %llu)",
	      (unsigned long long)at_50min,
	      (unsigned long long)stack_counters(forever_st)->tcp_retransmits);
	stack_free(st);
	stack_free(forever_st);
}

/* RFC 9293 3.7.4 (MUST-17): Nagle is switched off per connection.  Two
 * connections each have 100 bytes in flight; of the next 100 bytes written
 * to each, only the one with Nagle off sends at once. */
static void test_nodelay_per_conn(void)
{
	struct sent sent;
	struct stack *st = host(&sent);
	uint8_t frame[64], data[100] = {0};
	int conn[2];
	uint16_t sport[2];

	know_peer(st, &sent);
	for (int i = 0; i < 2; i++) {
		struct tcp_hdr syn;

		conn[i] = tcp_connect(st, 0, PEER, 80);
		CHECK(sent_tcp(&sent, sent.count - 1, &syn), "a SYN");
		sport[i] = syn.sport;
		stack_input(st, 0, frame, tcp_frame(frame, 80, syn.sport, TCP_SYN | TCP_ACK, 7,
						    syn.seq + 1));
	}
	CHECK(tcp_set_nodelay(st, 0, conn[1], true) == 0, "Nagle off on the second");
	for (int i = 0; i < 2; i++)
		CHECK(tcp_write(st, 10, conn[i], data, sizeof data) == 100, "100 bytes");
	sent.count = 0;
	for (int i = 0; i < 2; i++)
		CHECK(tcp_write(st, 20, conn[i], data, sizeof data) == 100, "100 bytes more");
	{
		int from[2] = {0, 0};
		struct tcp_hdr seg;

		for (int i = 0; i < sent.count; i++)
			for (int c = 0; c < 2; c++)
				from[c] += sent_tcp(&sent, i, &seg) && seg.sport == sport[c];
		CHECK(from[0] == 0, "Nagle on: the small write waits (%d sent)", from[0]);
		CHECK(from[1] == 1, "Nagle off: the small write goes at once (%d sent)", from[1]);
	}
	stack_free(st);
}

/* RFC 9293 3.8.5, urgent data.  Received: the pointer names the octet after
 * the urgent data (MUST-62), the application hears of a new pointer once
 * (MUST-32), and tcp_urgent_pending() counts down as it reads the bytes
 * inline (MUST-33).  At a zero window the URG of a segment that cannot be
 * taken still counts (MUST-66).  Sent: a pointer past 16 bits is sent as
 * 65535 (MUST-31: urgent data of any length), and every segment before the
 * end of the urgent data carries one. */
static void test_urgent(void)
{
	struct event_log log = {0};
	struct sent sent;
	struct stack *st = host_with(&sent, &(struct stack_cfg){.on_event = note_event, .event_ctx = &log});
	static uint8_t frame[TCPIP_FRAME_MAX], data[TCPIP_TCP_SND_BUF];
	struct tcp_hdr syn, seg = {.flags = TCP_ACK | TCP_PSH | TCP_URG, .urg = 50};
	uint32_t seq = 8;
	int conn;

	know_peer(st, &sent);
	conn = tcp_connect(st, 0, PEER, 80);
	CHECK(sent_tcp(&sent, sent.count - 1, &syn), "a SYN");
	stack_input(st, 0, frame, tcp_frame(frame, 80, syn.sport, TCP_SYN | TCP_ACK, 7, syn.seq + 1));
	seg.sport = 80;
	seg.dport = syn.sport;
	seg.ack = syn.seq + 1;
	seg.seq = seq;
	stack_input(st, 10, frame, tcp_frame_hdr(frame, seg, 100));
	CHECK(log.urgents == 1 && tcp_urgent_pending(st, conn) == 50, "told; 50 urgent bytes (%zu)",
	      tcp_urgent_pending(st, conn));
	CHECK(tcp_read(st, 20, conn, data, 30) == 30 && tcp_urgent_pending(st, conn) == 20,
	      "20 once 30 are read");
	CHECK(tcp_read(st, 20, conn, data, 70) == 70 && tcp_urgent_pending(st, conn) == 0,
	      "none once all are read");
	/* Fill the window, reading nothing; the delayed ACK then offers 0. */
	seg.flags = TCP_ACK;
	seq += 100;
	for (int i = 0; i < 60 && tcp_readable(st, conn) < TCPIP_TCP_RCV_BUF - 1; i++, seq += 1460) {
		seg.seq = seq;
		stack_input(st, 30, frame, tcp_frame_hdr(frame, seg, 1460));
	}
	stack_poll(st, 300);
	CHECK(sent_tcp(&sent, sent.count - 1, &syn) && syn.win == 0, "the window is 0 (%u)", syn.win);
	seg.flags = TCP_ACK | TCP_URG;
	seg.seq = syn.ack;                        /* RCV.NXT */
	seg.urg = 10;
	{
		size_t before = tcp_readable(st, conn);

		stack_input(st, 400, frame, tcp_frame_hdr(frame, seg, 100));
		CHECK(log.urgents == 2 && tcp_readable(st, conn) == before,
		      "URG taken at a zero window, its text not");
	}
	sent.count = 0;
	CHECK(tcp_write_urgent(st, 500, conn, data, sizeof data) == (long)sizeof data, "64 KB urgent");
	{
		struct tcp_hdr first, second;

		CHECK(sent_tcp(&sent, 0, &first) && sent_tcp(&sent, 1, &second) &&
			      (first.flags & second.flags & TCP_URG),
		      "the first two segments carry URG");
		CHECK(first.urg == 65535 && second.urg == 65536 - 1460, "pointers 65535, 64076 (%u, %u)",
		      first.urg, second.urg);
	}
	stack_free(st);
}

int main(void)
{
	test_siphash();
	test_seq();
	test_options();
	test_option_cuts();
	test_emit_parse();
	test_isn();
	test_isn_secret();
	test_backlog();
	test_snd_mss();
	test_table_full();
	test_syn_backoff();
	test_syn_r1();
	test_time_wait();
	test_time_wait_paths();
	test_ttl_and_dscp();
	test_r2();
	test_r1();
	test_r2_data();
	test_nodelay_per_conn();
	test_urgent();
	return test_report("test_tcp");
}
