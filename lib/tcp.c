/*
 * tcp.c - TCP connections (RFC 9293): the TCB table, the initial sequence
 * number, sending segments and resets, the timers, and the calls a program
 * makes (listen, connect, close, abort).  Segment arrival is tcp_input.c.
 *
 * The table holds TCPIP_TCP_CONNS TCBs, found through TCPIP_TCP_HASH_BUCKETS
 * chains keyed by SipHash of the four-tuple.  Each TCB has one timer:
 * retransmission of SYN, SYN-ACK or FIN (RFC 6298: 1 s, doubling, a bounded
 * number of tries), or in TIME-WAIT its 2 MSL.
 * The bytes themselves (buffers, windows, retransmission of data) are
 * tcp_data.c's.  Limits: IPv4 and one address.
 */
#include <stddef.h>
#include <string.h>

#include "stack_impl.h"
#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/siphash.h"

#define TCP_DEFAULT_MSS 536  /* RFC 9293 3.7.1, MUST-15 */
#define TCP_NO_LISTENER (-1)

const char *tcp_state_name(enum tcp_state state)
{
	static const char *const names[] = {
		"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
		"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
	};

	return (unsigned)state < TCP_STATE__COUNT ? names[state] : "?";
}

/* Every state change the code makes, with what causes it: tcp_set_state()
 * counts any other as a bug (tests check none happens), and tools/tcpstates draws the chapter's
 * diagram from this table, so the picture is the code's.  A passive
 * connection starts in LISTEN; when it closes, its listener is still there. */
static const struct tcp_transition tcp_transitions[] = {
	{TCP_CLOSED, TCP_SYN_SENT, "connect / SYN"},
	{TCP_LISTEN, TCP_SYN_RECEIVED, "SYN / SYN,ACK"},
	{TCP_SYN_SENT, TCP_ESTABLISHED, "SYN,ACK / ACK"},
	{TCP_SYN_SENT, TCP_SYN_RECEIVED, "SYN / SYN,ACK (simultaneous open)"},
	{TCP_SYN_SENT, TCP_CLOSED, "close, RST or timeout"},
	{TCP_SYN_RECEIVED, TCP_ESTABLISHED, "ACK of our SYN"},
	{TCP_SYN_RECEIVED, TCP_FIN_WAIT_1, "close / FIN"},
	{TCP_SYN_RECEIVED, TCP_CLOSED, "RST, SYN, abort or timeout"},
	{TCP_ESTABLISHED, TCP_FIN_WAIT_1, "close / FIN"},
	{TCP_ESTABLISHED, TCP_CLOSE_WAIT, "FIN / ACK"},
	{TCP_ESTABLISHED, TCP_CLOSED, "RST or abort"},
	{TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, "ACK of our FIN"},
	{TCP_FIN_WAIT_1, TCP_CLOSING, "FIN / ACK"},
	{TCP_FIN_WAIT_1, TCP_TIME_WAIT, "FIN and ACK of our FIN / ACK"},
	{TCP_FIN_WAIT_1, TCP_CLOSED, "RST, abort, text after close, or timeout"},
	{TCP_FIN_WAIT_2, TCP_TIME_WAIT, "FIN / ACK"},
	{TCP_FIN_WAIT_2, TCP_CLOSED, "RST, abort, text after close, or 2 MSL idle"},
	{TCP_CLOSE_WAIT, TCP_LAST_ACK, "close / FIN"},
	{TCP_CLOSE_WAIT, TCP_CLOSED, "RST or abort"},
	{TCP_CLOSING, TCP_TIME_WAIT, "ACK of our FIN"},
	{TCP_CLOSING, TCP_CLOSED, "RST, abort or timeout"},
	{TCP_LAST_ACK, TCP_CLOSED, "ACK of our FIN, RST, abort or timeout"},
	{TCP_TIME_WAIT, TCP_CLOSED, "2 MSL, RST or abort"},
};

const struct tcp_transition *tcp_transition_table(size_t *count)
{
	*count = sizeof tcp_transitions / sizeof tcp_transitions[0];
	return tcp_transitions;
}

/* True if the table has from -> to. */
static bool tcp_transition_ok(enum tcp_state from, enum tcp_state to)
{
	for (size_t i = 0; i < sizeof tcp_transitions / sizeof tcp_transitions[0]; i++)
		if (tcp_transitions[i].from == from && tcp_transitions[i].to == to)
			return true;
	return false;
}

/* SipHash of the four-tuple and a tag (1: ISN, 2: bucket, 3: port offset),
 * under the stack's secret. */
static uint64_t tcp_tuple_hash(const struct stack *st, uint32_t remote_addr,
			       uint16_t remote_port, uint16_t local_port, uint8_t tag)
{
	uint8_t tuple[13];

	put_be32(tuple, st->cfg.ip4_addr);
	put_be32(tuple + 4, remote_addr);
	put_be16(tuple + 8, local_port);
	put_be16(tuple + 10, remote_port);
	tuple[12] = tag;
	return siphash24(st->cfg.secret, tuple, sizeof tuple);
}

/* The bucket of a four-tuple. */
static size_t tcp_bucket(const struct stack *st, uint32_t remote_addr, uint16_t remote_port,
			 uint16_t local_port)
{
	return tcp_tuple_hash(st, remote_addr, remote_port, local_port, 2) % TCPIP_TCP_HASH_BUCKETS;
}

struct tcp_tcb *tcp_lookup(struct stack *st, uint32_t remote_addr, uint16_t remote_port,
			   uint16_t local_port)
{
	uint16_t next = st->tcp_hash[tcp_bucket(st, remote_addr, remote_port, local_port)];

	/* Each TCB is in one chain once, so the walk ends within the table. */
	for (unsigned steps = 0; next != 0 && steps < TCPIP_TCP_CONNS; steps++) {
		struct tcp_tcb *tcb = &st->tcb[next - 1];

		if (tcb->remote_addr == remote_addr && tcb->remote_port == remote_port &&
		    tcb->local_port == local_port)
			return tcb;
		next = tcb->hash_next;
	}
	return NULL;
}

/* Takes tcb out of its hash chain. */
static void tcp_unhash(struct stack *st, struct tcp_tcb *tcb)
{
	uint16_t *link = &st->tcp_hash[tcp_bucket(st, tcb->remote_addr, tcb->remote_port,
						  tcb->local_port)];
	uint16_t self = (uint16_t)(tcb - st->tcb + 1);

	for (unsigned steps = 0; *link != 0 && steps < TCPIP_TCP_CONNS; steps++) {
		if (*link == self) {
			*link = tcb->hash_next;
			return;
		}
		link = &st->tcb[*link - 1].hash_next;
	}
}

/* RFC 9293 3.4.1 (MUST-8, MUST-9) and RFC 6528: ISN = M + F(4-tuple, key),
 * M a clock ticking every 4 microseconds, F a keyed pseudorandom function. */
static uint32_t tcp_isn(const struct stack *st, stack_time_ms now, uint32_t remote_addr,
			uint16_t remote_port, uint16_t local_port)
{
	uint32_t clock_4us = (uint32_t)(now * 250);

	return clock_4us + (uint32_t)tcp_tuple_hash(st, remote_addr, remote_port, local_port, 1);
}

struct tcp_tcb *tcp_tcb_new(struct stack *st, stack_time_ms now, uint32_t remote_addr,
			    uint16_t remote_port, uint16_t local_port)
{
	for (size_t i = 0; i < TCPIP_TCP_CONNS; i++) {
		struct tcp_tcb *tcb = &st->tcb[i];
		size_t bucket;

		if (tcb->state != TCP_CLOSED)
			continue;
		bucket = tcp_bucket(st, remote_addr, remote_port, local_port);
		/* Everything but the two rings, which need no clearing. */
		memset(tcb, 0, offsetof(struct tcp_tcb, snd_buf));
		tcb->remote_addr = remote_addr;
		tcb->remote_port = remote_port;
		tcb->local_port = local_port;
		tcb->hash_next = st->tcp_hash[bucket];
		tcb->listener = TCP_NO_LISTENER;
		tcb->rcv_wnd = TCPIP_TCP_RCV_WND;
		tcb->snd_mss = TCP_DEFAULT_MSS;
		tcb->timer_at = STACK_NO_DEADLINE;
		tcb->delack_at = STACK_NO_DEADLINE;
		tcb->rto_ms = TCPIP_TCP_RTO_INIT_MS;
		tcb->iss = tcp_isn(st, now, remote_addr, remote_port, local_port);
		tcb->snd_una = tcb->iss;
		tcb->snd_nxt = tcb->iss;
		st->tcp_hash[bucket] = (uint16_t)(i + 1);
		return tcb;
	}
	st->counters.tcp_table_full++;
	return NULL;
}

/* The event of kind about tcb, its other fields zero. */
static struct stack_event tcp_event_of(const struct stack *st, const struct tcp_tcb *tcb,
				       enum stack_event_kind kind)
{
	return (struct stack_event){.kind = kind, .addr = tcb->remote_addr,
				    .target = st->cfg.ip4_addr, .conn = (int)(tcb - st->tcb),
				    .port = tcb->remote_port, .local_port = tcb->local_port,
				    .state = (int)tcb->state};
}

void tcp_emit_event(struct stack *st, const struct tcp_tcb *tcb, enum stack_event_kind kind)
{
	struct stack_event ev = tcp_event_of(st, tcb, kind);

	stack_emit(st, &ev);
}

void tcp_set_state(struct stack *st, struct tcp_tcb *tcb, enum tcp_state state)
{
	struct stack_event ev = {.kind = EV_TCP_STATE, .addr = tcb->remote_addr,
				 .target = st->cfg.ip4_addr, .conn = (int)(tcb - st->tcb),
				 .port = tcb->remote_port, .local_port = tcb->local_port,
				 .state = (int)state, .old_state = (int)tcb->state};
	struct tcp_listener *listener = tcb->listener >= 0 ? &st->listeners[tcb->listener] : NULL;

	if (tcb->state == state)
		return;
	if (!tcp_transition_ok(tcb->state, state))
		st->counters.tcp_bad_transitions++; /* a bug: tests check it stays 0 */
	/* A half-open connection leaves its listener's backlog. */
	if (tcb->state == TCP_SYN_RECEIVED && listener && listener->half_open > 0)
		listener->half_open--;
	if (state == TCP_SYN_RECEIVED && listener)
		listener->half_open++;
	tcb->state = state;
	stack_emit(st, &ev);
	if (state == TCP_CLOSED)
		tcp_unhash(st, tcb);
}

uint16_t tcp_snd_mss(const struct tcp_opts *opts)
{
	uint16_t mss = opts->has_mss ? opts->mss : TCP_DEFAULT_MSS;

	if (mss > TCPIP_MTU - 40)
		mss = TCPIP_MTU - 40;
	return mss < TCPIP_TCP_MIN_MSS ? TCPIP_TCP_MIN_MSS : mss;
}

/* Builds the segment hdr with text[0..text_len) and hands it to IPv4 for
 * dst, with tos as the DS field. */
static int tcp_output_segment(struct stack *st, stack_time_ms now, uint32_t dst, uint8_t tos,
			      const struct tcp_hdr *hdr, const uint8_t *text, uint32_t text_len)
{
	uint8_t seg[TCP_MAX_HDR_LEN + TCPIP_MTU];
	size_t hdr_len = tcp_emit(hdr, seg, sizeof seg), len = hdr_len + text_len;
	uint32_t pseudo = cksum_pseudo4(st->cfg.ip4_addr, dst, IPPROTO_NUM_TCP, (uint16_t)len);

	if (text_len > TCPIP_MTU - 40)
		return -1;
	if (text_len)
		memcpy(seg + hdr_len, text, text_len);

	put_be16(seg + 16, cksum_finish(cksum_add(pseudo, seg, len)));
	st->counters.tcp_out++;
	if (hdr->flags & TCP_RST)
		st->counters.tcp_rsts_out++;
	return ip4_output(st, now, dst, IPPROTO_NUM_TCP, tos, seg, len);
}

int tcp_send_text(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
		  uint8_t flags, const uint8_t *text, uint32_t len)
{
	struct tcp_hdr hdr = {.sport = tcb->local_port, .dport = tcb->remote_port, .seq = seq,
			      .flags = flags};

	if (!(flags & TCP_RST))
		hdr.win = tcp_offer_window(tcb);
	if (flags & TCP_ACK) {
		hdr.ack = tcb->rcv_nxt;
		tcb->delack_at = STACK_NO_DEADLINE; /* this ACK is the one that was owed */
		tcb->unacked_full = 0;
	}
	if (flags & TCP_SYN) { /* MUST-14: our MSS, from the link's MTU */
		hdr.opts.has_mss = true;
		hdr.opts.mss = TCPIP_MTU - 40;
	}
	/* RFC 9293 3.8.5: every segment before SND.UP says where the urgent
	 * data ends (MUST-62), as far as 16 bits reach (MUST-31: any length). */
	if (tcb->snd_urgent && seq_lt(seq, tcb->snd_up) && !(flags & (TCP_SYN | TCP_RST))) {
		hdr.flags |= TCP_URG;
		hdr.urg = tcb->snd_up - seq > UINT16_MAX ? UINT16_MAX : (uint16_t)(tcb->snd_up - seq);
	}
	return tcp_output_segment(st, now, tcb->remote_addr, tcb->tos, &hdr, text, len);
}

int tcp_send(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, uint32_t seq,
	     uint8_t flags)
{
	return tcp_send_text(st, now, tcb, seq, flags, NULL, 0);
}

int tcp_send_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	return tcp_send(st, now, tcb, tcb->snd_nxt, TCP_ACK);
}

bool tcp_challenge_ack(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	if (tcb->challenged && now - tcb->challenge_at < TCPIP_TCP_CHALLENGE_INTERVAL_MS) {
		st->counters.tcp_challenge_limited++;
		return false;
	}
	tcb->challenged = true;
	tcb->challenge_at = now;
	st->counters.tcp_challenge_acks++;
	tcp_send_ack(st, now, tcb);
	return true;
}

void tcp_send_reset(struct stack *st, stack_time_ms now, const struct ip4_hdr *ip,
		    const struct tcp_hdr *seg, size_t text_len, const char *why)
{
	struct tcp_hdr rst = {.sport = seg->dport, .dport = seg->sport};
	struct stack_event ev = {.kind = EV_TCP_RST_OUT, .addr = ip->src, .target = ip->dst,
				 .conn = -1, .port = seg->sport, .local_port = seg->dport,
				 .why = why};

	if (seg->flags & TCP_RST)
		return;                 /* never a reset for a reset */
	if (seg->flags & TCP_ACK) {
		rst.seq = seg->ack;
		rst.flags = TCP_RST;
	} else {
		rst.ack = seg->seq + (uint32_t)text_len + !!(seg->flags & TCP_SYN) +
			  !!(seg->flags & TCP_FIN);
		rst.flags = TCP_RST | TCP_ACK;
	}
	if (tcp_output_segment(st, now, ip->src, 0, &rst, NULL, 0) == 0)
		stack_emit(st, &ev);
}

void tcp_timer_rtx(struct tcp_tcb *tcb, stack_time_ms now)
{
	tcb->timer_at = now + tcb->rto_ms;
}

/* Two maximum segment lifetimes, in ms. */
static stack_time_ms tcp_2msl(const struct stack *st)
{
	return 2 * (st->cfg.tcp_msl_ms ? st->cfg.tcp_msl_ms : TCPIP_TCP_MSL_MS);
}

void tcp_time_wait(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	tcp_set_state(st, tcb, TCP_TIME_WAIT);
	tcb->timer_at = now + tcp_2msl(st);
}

void tcp_fin_wait_2(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	tcp_set_state(st, tcb, TCP_FIN_WAIT_2);
	/* Only when the application is gone: after a shutdown, it still reads. */
	tcb->timer_at = tcb->app_closed ? now + tcp_2msl(st) : STACK_NO_DEADLINE;
}

/* How many retransmissions tcb's application or state allows before it
 * gives up. */
static unsigned tcp_retry_limit(const struct tcp_tcb *tcb)
{
	if (tcb->r2)
		return tcb->r2;
	switch (tcb->state) {
	case TCP_SYN_SENT: return TCPIP_TCP_SYN_RETRIES;
	case TCP_SYN_RECEIVED: return TCPIP_TCP_SYNACK_RETRIES;
	default: return TCPIP_TCP_DATA_RETRIES;
	}
}

/* Sends again what tcb has outstanding: the SYN, the SYN-ACK, or data and
 * FIN (or a zero-window probe).  False if there was nothing. */
static bool tcp_retransmit(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	if (tcb->state == TCP_SYN_SENT)
		tcp_send(st, now, tcb, tcb->iss, TCP_SYN);
	else if (tcb->state == TCP_SYN_RECEIVED)
		tcp_send(st, now, tcb, tcb->iss, TCP_SYN | TCP_ACK);
	else if (!tcp_retransmit_data(st, now, tcb))
		return false;
	else if (!tcb->probing && tcb->snd_nxt != tcb->snd_una) {
		/* Every hole up to SND.NXT is repaired on the partial ACKs that
		 * follow, not one timeout each (RFC 6582 3.2 step 4's idea). */
		tcb->recovering = true;
		tcb->recover = tcb->snd_nxt;
	}
	st->counters.tcp_retransmits++;
	return true;
}

/* Gives up on tcb after R2 retransmissions (MUST-20): a passive half-open
 * one silently, an opening one with "timeout", an open one with a reset. */
static void tcp_give_up(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	if (tcb->state == TCP_SYN_RECEIVED && tcb->listener != TCP_NO_LISTENER)
		return tcp_set_state(st, tcb, TCP_CLOSED);
	tcp_emit_event(st, tcb, EV_TCP_TIMEOUT);
	if (tcb->state == TCP_SYN_SENT || tcb->state == TCP_SYN_RECEIVED)
		return tcp_set_state(st, tcb, TCP_CLOSED);
	tcp_reset_conn(st, now, tcb, "retransmissions gave up");
}

enum drop_reason tcp_icmp_error(struct stack *st, uint32_t remote_addr, const uint8_t *quote,
				uint8_t type, uint8_t code)
{
	struct tcp_tcb *tcb = tcp_lookup(st, remote_addr, get_be16(quote + 2), get_be16(quote));
	uint32_t seq = get_be32(quote + 4);
	struct stack_event ev;

	if (!tcb)
		return DROP_TCP_ICMP_NO_CONNECTION;
	/* RFC 5927 4.1: believe only an error about a segment in flight, which
	 * a blind attacker has to guess. */
	if (seq_lt(seq, tcb->snd_una) || !seq_lt(seq, tcb->snd_nxt))
		return DROP_TCP_ICMP_BAD_SEQ;
	/* RFC 9293 3.9.2.2: protocol and port unreachable (codes 2, 3) are
	 * hard errors, and an open they answer is refused (SHLD-26).  Once
	 * synchronized we take them as soft, as RFC 5927 section 6 advises
	 * and Linux does.  Code 4 (fragmentation needed) is path MTU
	 * discovery's (RFC 1191), not a failure: soft too. */
	if (type == 3 && (code == 2 || code == 3) &&
	    (tcb->state == TCP_SYN_SENT || tcb->state == TCP_SYN_RECEIVED)) {
		if (tcb->state == TCP_SYN_SENT || tcb->listener == TCP_NO_LISTENER)
			tcp_emit_event(st, tcb, EV_TCP_REFUSED);
		tcp_set_state(st, tcb, TCP_CLOSED);
		return DROP_NONE;
	}
	/* Soft: the connection stays (MUST-56), the application is told
	 * (SHLD-25, MUST-47). */
	ev = tcp_event_of(st, tcb, EV_TCP_ICMP);
	ev.icmp_type = type;
	ev.icmp_code = code;
	stack_emit(st, &ev);
	return DROP_NONE;
}

/* tcb's timer fired: TIME-WAIT ends, or RFC 6298 5.4-5.6: retransmit and
 * double the RTO, until the state's limit, then give up (MUST-20's R2). */
static void tcp_timer_fired(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	tcb->timer_at = STACK_NO_DEADLINE;
	if (tcb->state == TCP_TIME_WAIT || tcb->state == TCP_FIN_WAIT_2) {
		tcp_set_state(st, tcb, TCP_CLOSED);
		return;
	}
	if (tcb->state >= TCP_ESTABLISHED && tcp_sws_override(st, now, tcb))
		return;
	if (tcb->retries >= tcp_retry_limit(tcb) && tcb->snd_nxt != tcb->snd_una)
		return tcp_give_up(st, now, tcb);
	tcb->rto_ms = tcb->rto_ms * 2 > TCPIP_TCP_RTO_MAX_MS ? TCPIP_TCP_RTO_MAX_MS : tcb->rto_ms * 2;
	if (!tcp_retransmit(st, now, tcb))
		return;
	if (++tcb->retries == TCPIP_TCP_DATA_R1 && tcb->state >= TCP_ESTABLISHED)
		tcp_emit_event(st, tcb, EV_TCP_R1);
	tcp_timer_rtx(tcb, now);
}

void tcp_poll(struct stack *st, stack_time_ms now)
{
	for (size_t i = 0; i < TCPIP_TCP_CONNS; i++) {
		struct tcp_tcb *tcb = &st->tcb[i];

		if (tcb->state != TCP_CLOSED && tcb->delack_at <= now)
			tcp_delack_poll(st, now, tcb);
		if (tcb->state != TCP_CLOSED && tcb->timer_at <= now)
			tcp_timer_fired(st, now, tcb);
	}
}

stack_time_ms tcp_next_deadline(const struct stack *st)
{
	stack_time_ms next = STACK_NO_DEADLINE;

	for (size_t i = 0; i < TCPIP_TCP_CONNS; i++) {
		const struct tcp_tcb *tcb = &st->tcb[i];

		if (tcb->state == TCP_CLOSED)
			continue;
		if (tcb->timer_at < next)
			next = tcb->timer_at;
		if (tcb->delack_at < next)
			next = tcb->delack_at;
	}
	return next;
}

struct tcp_listener *tcp_listener_of(struct stack *st, uint16_t port)
{
	for (size_t i = 0; i < TCPIP_TCP_LISTENERS; i++)
		if (st->listeners[i].used && st->listeners[i].port == port)
			return &st->listeners[i];
	return NULL;
}

int tcp_listen(struct stack *st, uint16_t port, unsigned backlog)
{
	if (port == 0 || tcp_listener_of(st, port))
		return -1;
	for (size_t i = 0; i < TCPIP_TCP_LISTENERS; i++) {
		struct tcp_listener *listener = &st->listeners[i];

		if (listener->used)
			continue;
		*listener = (struct tcp_listener){.used = true, .port = port,
						  .backlog = backlog < TCPIP_TCP_BACKLOG ? backlog
										 : TCPIP_TCP_BACKLOG};
		return 0;
	}
	return -1;
}

int tcp_unlisten(struct stack *st, uint16_t port)
{
	struct tcp_listener *listener = tcp_listener_of(st, port);
	int index;

	if (!listener)
		return -1;
	index = (int)(listener - st->listeners);
	for (size_t i = 0; i < TCPIP_TCP_CONNS; i++)
		if (st->tcb[i].listener == index)
			st->tcb[i].listener = TCP_NO_LISTENER;
	listener->used = false;
	return 0;
}

/* A local port for an active open to addr:port (RFC 6056 algorithm 3: a
 * keyed-hash offset plus a counter), free for that destination; 0 if none. */
static uint16_t tcp_ephemeral_port(struct stack *st, uint32_t addr, uint16_t port)
{
	uint32_t offset = (uint32_t)tcp_tuple_hash(st, addr, port, 0, 3);

	for (unsigned tries = 0; tries < TCPIP_TCP_EPHEMERAL_COUNT; tries++) {
		uint16_t local = (uint16_t)(TCPIP_TCP_EPHEMERAL_FIRST +
					    (offset + st->tcp_ephemeral_next++) %
						    TCPIP_TCP_EPHEMERAL_COUNT);

		if (!tcp_lookup(st, addr, port, local) && !tcp_listener_of(st, local))
			return local;
	}
	return 0;
}

int tcp_connect(struct stack *st, stack_time_ms now, uint32_t addr, uint16_t port)
{
	struct tcp_tcb *tcb;
	uint16_t local;

	/* RFC 9293 3.9.1.1 (MUST-46): no open toward a broadcast (or, off
	 * our link, multicast) address. */
	if (!stack_on_link(st, addr) || stack_is_broadcast(st, addr) || port == 0) {
		st->counters.out_no_route++;
		return -1;
	}
	local = tcp_ephemeral_port(st, addr, port);
	tcb = local ? tcp_tcb_new(st, now, addr, port, local) : NULL;
	if (!tcb)
		return -1;
	tcp_set_state(st, tcb, TCP_SYN_SENT);
	/* RFC 9293 3.10.1: send <SEQ=ISS><CTL=SYN>, SND.UNA = ISS, SND.NXT = ISS+1. */
	tcp_send(st, now, tcb, tcb->iss, TCP_SYN);
	tcb->snd_nxt = tcb->iss + 1;
	tcp_timer_rtx(tcb, now);
	return (int)(tcb - st->tcb);
}

/* The TCB of id conn, if it is a connection; NULL if not. */
static struct tcp_tcb *tcp_conn(struct stack *st, int conn)
{
	if (conn < 0 || conn >= TCPIP_TCP_CONNS || st->tcb[conn].state == TCP_CLOSED)
		return NULL;
	return &st->tcb[conn];
}

int tcp_conn_set_dscp(struct stack *st, int conn, uint8_t dscp)
{
	struct tcp_tcb *tcb = tcp_conn(st, conn);

	if (!tcb || dscp > 63)
		return -1;
	tcb->tos = (uint8_t)(dscp << 2); /* RFC 2474 3: DSCP in the top six bits; ECN 0 */
	return 0;
}

int tcp_conn_set_r2(struct stack *st, int conn, unsigned r2)
{
	struct tcp_tcb *tcb = tcp_conn(st, conn);

	if (!tcb)
		return -1;
	tcb->r2 = r2;
	return 0;
}

enum tcp_state tcp_conn_state(const struct stack *st, int conn)
{
	if (conn < 0 || conn >= TCPIP_TCP_CONNS)
		return TCP_CLOSED;
	return st->tcb[conn].state;
}

uint16_t tcp_conn_snd_mss(const struct stack *st, int conn)
{
	if (conn < 0 || conn >= TCPIP_TCP_CONNS || st->tcb[conn].state == TCP_CLOSED)
		return 0;
	return st->tcb[conn].snd_mss;
}

/* Our side sends no more (RFC 9293 3.10.4): the FIN follows the queued
 * data, and the state moves on. */
static void tcp_shut_wr(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb)
{
	if (tcb->shut_wr)
		return;
	tcb->shut_wr = true;
	switch (tcb->state) {
	case TCP_SYN_SENT: /* nothing sent yet: the TCB just goes */
		return tcp_set_state(st, tcb, TCP_CLOSED);
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		tcp_set_state(st, tcb, TCP_FIN_WAIT_1);
		break;
	case TCP_CLOSE_WAIT:
		tcp_set_state(st, tcb, TCP_LAST_ACK);
		break;
	default:
		return;
	}
	tcp_output(st, now, tcb);
}

int tcp_close(struct stack *st, stack_time_ms now, int conn)
{
	struct tcp_tcb *tcb = tcp_conn(st, conn);

	if (!tcb || tcb->app_closed)
		return -1;
	tcb->app_closed = true;
	if (tcb->rcv_len > 0) { /* RFC 1122 4.2.2.13: data would be lost: say so */
		tcp_reset_conn(st, now, tcb, "closed with unread data");
		return 0;
	}
	if (tcb->state == TCP_FIN_WAIT_2) /* after a shutdown: now nobody reads */
		tcb->timer_at = now + tcp_2msl(st);
	tcp_shut_wr(st, now, tcb);
	return 0;
}

int tcp_shutdown(struct stack *st, stack_time_ms now, int conn)
{
	struct tcp_tcb *tcb = tcp_conn(st, conn);

	if (!tcb || tcb->shut_wr)
		return -1;
	tcp_shut_wr(st, now, tcb);
	return 0;
}

void tcp_reset_conn(struct stack *st, stack_time_ms now, struct tcp_tcb *tcb, const char *why)
{
	struct stack_event ev = {.kind = EV_TCP_RST_OUT, .addr = tcb->remote_addr,
				 .target = st->cfg.ip4_addr, .conn = (int)(tcb - st->tcb),
				 .port = tcb->remote_port, .local_port = tcb->local_port, .why = why};

	if (tcp_send(st, now, tcb, tcb->snd_nxt, TCP_RST) == 0)
		stack_emit(st, &ev);
	tcp_set_state(st, tcb, TCP_CLOSED);
}

int tcp_abort(struct stack *st, stack_time_ms now, int conn)
{
	struct tcp_tcb *tcb = tcp_conn(st, conn);

	if (!tcb)
		return -1;
	/* RFC 9293 3.10.5: in SYN-RECEIVED and the synchronized states, except
	 * the last three, <SEQ=SND.NXT><CTL=RST>; elsewhere the TCB just goes. */
	if (tcb->state == TCP_SYN_RECEIVED || tcb->state == TCP_ESTABLISHED ||
	    tcb->state == TCP_FIN_WAIT_1 || tcb->state == TCP_FIN_WAIT_2 ||
	    tcb->state == TCP_CLOSE_WAIT)
		tcp_reset_conn(st, now, tcb, "abort");
	else
		tcp_set_state(st, tcb, TCP_CLOSED);
	return 0;
}
