/*
 * tcp_conn.c - TCP connections (RFC 9293 3.3): the TCB table and its hash,
 * the initial sequence number (3.4.1, RFC 6528), ephemeral ports (RFC 6056),
 * the states and the one table of their transitions (3.3.2), the events a
 * connection raises to the program, and the ICMP errors about one (3.9.2.2,
 * RFC 5927).
 *
 * The table holds TCPIP_TCP_CONNS TCBs, found through TCPIP_TCP_HASH_BUCKETS
 * chains keyed by SipHash of the four-tuple.  What a connection does is the
 * other tcp_ files': the calls a program makes (tcp_user.c), segment arrival
 * (tcp_input.c), sending (tcp_output.c), the timers (tcp_timer.c), arriving
 * text (tcp_recv.c), loss recovery (tcp_recovery.c), how much may be in
 * flight (tcp_cc.c), the header (tcp_wire.c).
 * Limits: IPv4 and one local address; a fixed table, no allocation.
 */
#include <stddef.h>
#include <string.h>

#include "stack_impl.h"
#include "tcp_impl.h"
#include "tcpip/bytes.h"
#include "tcpip/siphash.h"

#define TCP_DEFAULT_MSS 536  /* RFC 9293 3.7.1, MUST-15 */

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
		tcb->cc_algo = st->tcp_cc_default;
		tcb->ecn_asked = st->cfg.tcp_ecn == TCP_ECN_ON;
		tcb->iss = tcp_isn(st, now, remote_addr, remote_port, local_port);
		tcb->snd_una = tcb->iss;
		tcb->snd_nxt = tcb->iss;
		st->tcp_hash[bucket] = (uint16_t)(i + 1);
		return tcb;
	}
	st->counters.tcp_table_full++;
	return NULL;
}

struct tcp_listener *tcp_listener_of(struct stack *st, uint16_t port)
{
	for (size_t i = 0; i < TCPIP_TCP_LISTENERS; i++)
		if (st->listeners[i].used && st->listeners[i].port == port)
			return &st->listeners[i];
	return NULL;
}

uint16_t tcp_ephemeral_port(struct stack *st, uint32_t addr, uint16_t port)
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

	event_emit(st, &ev);
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
	event_emit(st, &ev);
	if (state == TCP_CLOSED)
		tcp_unhash(st, tcb);
}

uint16_t tcp_snd_mss(const struct tcp_opts *opts)
{
	uint16_t mss = opts->has_mss ? opts->mss : TCP_DEFAULT_MSS;

	if (mss > TCP_LINK_MSS)
		mss = TCP_LINK_MSS;
	return mss < TCPIP_TCP_MIN_MSS ? TCPIP_TCP_MIN_MSS : mss;
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
	event_emit(st, &ev);
	return DROP_NONE;
}
