/*
 * tcp_user.c - the calls a program makes on TCP (RFC 9293 3.10.1-3.10.6 and
 * the interface of 3.9.1): listen and unlisten, connect (OPEN), write and
 * write_urgent (SEND), read (RECEIVE), shutdown and close (CLOSE), abort
 * (ABORT), and the connection's status and options (STATUS: state, send
 * MSS, readable, writable, peer done, urgent pending; Nagle, the DS field,
 * R2).
 *
 * A connection is named by its id (its slot in the TCB table); each call
 * checks the id and the state, changes the TCB, and sends through
 * tcp_output.c (the data and the FIN through tcp_output()).  No call blocks.
 * Limits: a passive open listens on a port for any peer (no fully
 * specified passive OPEN); OPEN and SEND take no timeout (R2,
 * tcp_conn_set_r2(), is the only limit); urgent data is read inline, and
 * tcp_urgent_pending() says how much of what is ahead is urgent.
 */
#include "stack_impl.h"
#include "tcp_impl.h"
#include "tcp_ring.h"

/* The TCB of id conn, if it is a connection; NULL if not. */
static struct tcp_tcb *tcp_conn(struct stack *st, int conn)
{
	if (conn < 0 || conn >= TCPIP_TCP_CONNS || st->tcb[conn].state == TCP_CLOSED)
		return NULL;
	return &st->tcb[conn];
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

int tcp_connect(struct stack *st, stack_time_ms now, uint32_t addr, uint16_t port)
{
	struct tcp_tcb *tcb;
	uint16_t local;

	/* RFC 9293 3.9.1.1 (MUST-46): no open toward a broadcast (or, off
	 * our link, multicast) address. */
	if (!link_is_onlink(st, addr) || link_is_broadcast(st, addr) || port == 0) {
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

/* tcp_write() and tcp_write_urgent(): queues what fits, SND.UP after it if
 * urgent, and sends what may go now. */
static long tcp_write_data(struct stack *st, stack_time_ms now, int conn, const uint8_t *data,
			   size_t len, bool urgent)
{
	struct tcp_tcb *tcb = tcp_conn(st, conn);
	uint32_t room, take;

	if (!tcb || tcb->shut_wr ||
	    (tcb->state != TCP_ESTABLISHED && tcb->state != TCP_CLOSE_WAIT))
		return -1;
	room = TCPIP_TCP_SND_BUF - tcb->snd_len;
	take = len < room ? (uint32_t)len : room;
	tcp_ring_write(tcb->snd_buf, TCP_SND_MASK, tcp_data_seq(tcb) + tcb->snd_len, data, take);
	tcb->snd_len += take;
	if (urgent && take > 0) {                /* RFC 9293 3.10.2: SND.UP <- SND.NXT */
		tcb->snd_urgent = true;
		tcb->snd_up = tcp_data_seq(tcb) + tcb->snd_len;
	}
	tcp_output(st, now, tcb);
	return take;
}

long tcp_write(struct stack *st, stack_time_ms now, int conn, const uint8_t *data, size_t len)
{
	return tcp_write_data(st, now, conn, data, len, false);
}

long tcp_write_urgent(struct stack *st, stack_time_ms now, int conn, const uint8_t *data,
		      size_t len)
{
	return tcp_write_data(st, now, conn, data, len, true);
}

long tcp_read(struct stack *st, stack_time_ms now, int conn, uint8_t *buf, size_t cap)
{
	struct tcp_tcb *tcb = tcp_conn(st, conn);
	uint32_t take, before;

	if (!tcb)
		return -1;
	take = cap < tcb->rcv_len ? (uint32_t)cap : tcb->rcv_len;
	tcp_ring_read(tcb->rcv_buf, TCP_RCV_MASK, tcp_read_seq(tcb), buf, take);
	tcb->rcv_len -= take;
	if (tcb->rcv_urgent && !seq_gt(tcb->rcv_up, tcp_read_seq(tcb)))
		tcb->rcv_urgent = false;         /* all urgent data read: out of urgent mode */
	/* A window update when reading opened a useful step (RFC 9293 3.8.6.2.2). */
	before = tcb->rcv_adv;
	if (take > 0 && tcb->state != TCP_SYN_RECEIVED) {
		tcp_offer_window(tcb);
		if (tcb->rcv_adv != before)
			tcp_send_ack(st, now, tcb);
	}
	return take;
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
		tcp_set_state(st, tcb, TCP_CLOSED);
		return;
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

size_t tcp_readable(const struct stack *st, int conn)
{
	return conn >= 0 && conn < TCPIP_TCP_CONNS ? st->tcb[conn].rcv_len : 0;
}

size_t tcp_writable(const struct stack *st, int conn)
{
	const struct tcp_tcb *tcb;

	if (conn < 0 || conn >= TCPIP_TCP_CONNS)
		return 0;
	tcb = &st->tcb[conn];
	if (tcb->shut_wr || (tcb->state != TCP_ESTABLISHED && tcb->state != TCP_CLOSE_WAIT))
		return 0;
	return TCPIP_TCP_SND_BUF - tcb->snd_len;
}

bool tcp_peer_done(const struct stack *st, int conn)
{
	const struct tcp_tcb *tcb;

	if (conn < 0 || conn >= TCPIP_TCP_CONNS)
		return true;
	tcb = &st->tcb[conn];
	return tcb->state == TCP_CLOSED || (tcb->rcv_fin && tcb->rcv_len == 0);
}

size_t tcp_urgent_pending(const struct stack *st, int conn)
{
	const struct tcp_tcb *tcb;

	if (conn < 0 || conn >= TCPIP_TCP_CONNS)
		return 0;
	tcb = &st->tcb[conn];
	if (tcb->state == TCP_CLOSED || !tcb->rcv_urgent || !seq_gt(tcb->rcv_up, tcp_read_seq(tcb)))
		return 0;
	return tcb->rcv_up - tcp_read_seq(tcb);
}

int tcp_set_nodelay(struct stack *st, stack_time_ms now, int conn, bool on)
{
	struct tcp_tcb *tcb = tcp_conn(st, conn);

	if (!tcb)
		return -1;
	tcb->nodelay = on;
	tcp_output(st, now, tcb);
	return 0;
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

bool tcp_cc_exists(const char *name)
{
	return tcp_cc_by_name(name) >= 0;
}

int tcp_set_cc_default(struct stack *st, const char *name)
{
	int algo = tcp_cc_by_name(name);

	if (algo < 0)
		return -1;
	st->tcp_cc_default = algo;
	return 0;
}

int tcp_conn_set_cc(struct stack *st, int conn, const char *name)
{
	struct tcp_tcb *tcb = tcp_conn(st, conn);
	int algo = tcp_cc_by_name(name);

	if (!tcb || algo < 0)
		return -1;
	tcb->cc_algo = algo;
	if (tcb->syn_acked)
		tcp_cc_switch(tcb, algo);
	return 0;
}

int tcp_conn_cc_info(const struct stack *st, int conn, struct tcp_cc_info *info)
{
	const struct tcp_tcb *tcb;

	if (tcp_conn_state(st, conn) == TCP_CLOSED)
		return -1;
	tcb = &st->tcb[conn];
	info->algo = tcp_cc_name(tcb->cc_algo);
	info->cwnd = tcb->cc.cwnd;
	info->ssthresh = tcb->cc.ssthresh;
	info->in_flight = tcp_data_in_flight(tcb);
	info->pipe = tcp_pipe(tcb);
	info->recovering = tcb->recovery != TCP_RECOVERY_NONE;
	info->ecn = tcb->ecn_ok;
	return 0;
}

int tcp_set_ecn(struct stack *st, int mode)
{
	if (mode != TCP_ECN_ACCEPT && mode != TCP_ECN_ON && mode != TCP_ECN_OFF)
		return -1;
	st->cfg.tcp_ecn = mode;
	return 0;
}
