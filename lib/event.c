/*
 * event.c - words each stack event as one line (stack_event_text()), the
 * way every chapter program prints it, so a program and a test read the
 * same text.
 */
#include <stdio.h>

#include "tcpip/neigh.h"
#include "tcpip/stack.h"
#include "tcpip/tcp.h"

/* Words the ARP events. */
static void event_arp_text(const struct stack_event *ev, const char *addr, const char *target,
			   const char *mac, char *out, size_t cap)
{
	switch (ev->kind) {
	case EV_ARP_ANNOUNCE:
		snprintf(out, cap, "arp announce %s is-at %s", addr, mac);
		break;
	case EV_ARP_REQUEST_IN:
		snprintf(out, cap, "arp who-has %s tell %s (%s)", target, addr, mac);
		break;
	case EV_ARP_REPLY_OUT:
		snprintf(out, cap, "arp reply %s is-at %s to %s", target, mac, addr);
		break;
	case EV_ARP_REQUEST_OUT:
		if (ev->count == 0)
			snprintf(out, cap, "arp who-has %s (unicast check of a stale entry)", target);
		else
			snprintf(out, cap, "arp who-has %s (try %u)", target, ev->count);
		break;
	default: /* EV_ARP_REPLY_IN */
		snprintf(out, cap, "arp reply %s is-at %s", addr, mac);
		break;
	}
}

/* Words the neighbour-cache events. */
static void event_neigh_text(const struct stack_event *ev, const char *addr, const char *mac,
			     char *out, size_t cap)
{
	const char *state = neigh_state_name((enum neigh_state)ev->state);

	switch (ev->kind) {
	case EV_NEIGH_LEARNED:
		snprintf(out, cap, "neigh %s learned %s, %s", addr, mac, state);
		break;
	case EV_NEIGH_UPDATED:
		snprintf(out, cap, "neigh %s updated %s, %s", addr, mac, state);
		break;
	case EV_NEIGH_STALE:
		snprintf(out, cap, "neigh %s aged to stale", addr);
		break;
	case EV_NEIGH_EVICTED:
		snprintf(out, cap, "neigh %s evicted (was %s)", addr, state);
		break;
	default: /* EV_NEIGH_FAILED */
		snprintf(out, cap, "neigh %s unresolved, gave up: %u waiting packet%s dropped", addr,
			 ev->count, ev->count == 1 ? "" : "s");
		break;
	}
}

/* Words the TCP events: "tcp :LOCAL PEER:PORT what". */
static void event_tcp_text(const struct stack_event *ev, const char *addr, char *out, size_t cap)
{
	static const char *const what[] = {
		[EV_TCP_ACCEPTED] = "accepted", [EV_TCP_CONNECTED] = "connected",
		[EV_TCP_REFUSED] = "refused (a reset, or ICMP port or protocol unreachable)",
		[EV_TCP_TIMEOUT] = "timed out (no answer to our retransmissions)",
		[EV_TCP_RESET] = "reset by the peer", [EV_TCP_EOF] = "peer sent FIN (end of its data)",
		[EV_TCP_READABLE] = "data to read", [EV_TCP_WRITABLE] = "room to write",
		[EV_TCP_R1] = "3 retransmissions unanswered (R1)",
		[EV_TCP_URGENT] = "urgent data pending",
	};
	int used = snprintf(out, cap, "tcp :%u %s:%u ", ev->local_port, addr, ev->port);
	size_t at = used < 0 || (size_t)used >= cap ? cap - 1 : (size_t)used;

	switch (ev->kind) {
	case EV_TCP_STATE:
		snprintf(out + at, cap - at, "%s -> %s", tcp_state_name((enum tcp_state)ev->old_state),
			 tcp_state_name((enum tcp_state)ev->state));
		break;
	case EV_TCP_RST_OUT:
		snprintf(out + at, cap - at, "reset sent (%s)", ev->why);
		break;
	case EV_TCP_CHALLENGE:
		snprintf(out + at, cap - at, "challenge ACK sent (%s)", ev->why);
		break;
	case EV_TCP_DROPPED:
		snprintf(out + at, cap - at, "segment dropped (%s)", ev->why);
		break;
	case EV_TCP_CWND:
		if (ev->ssthresh == UINT32_MAX)
			snprintf(out + at, cap - at, "cwnd %u ssthresh none in-flight %u (%s)", ev->cwnd,
				 ev->in_flight, ev->why);
		else
			snprintf(out + at, cap - at, "cwnd %u ssthresh %u in-flight %u (%s)", ev->cwnd,
				 ev->ssthresh, ev->in_flight, ev->why);
		break;
	case EV_TCP_ICMP:
		snprintf(out + at, cap - at, "ICMP error type %u code %u (soft: the connection stays)",
			 ev->icmp_type, ev->icmp_code);
		break;
	default:
		snprintf(out + at, cap - at, "%s",
			 (size_t)ev->kind < sizeof what / sizeof what[0] && what[ev->kind]
				 ? what[ev->kind]
				 : "?");
		break;
	}
}

char *stack_event_text(const struct stack_event *ev, char *out, size_t cap)
{
	char addr[16], target[16], mac[18];

	ip4_ntoa(ev->addr, addr);
	ip4_ntoa(ev->target, target);
	eth_ntoa(ev->mac, mac);
	if (ev->kind <= EV_ARP_REPLY_IN)
		event_arp_text(ev, addr, target, mac, out, cap);
	else if (ev->kind <= EV_NEIGH_FAILED)
		event_neigh_text(ev, addr, mac, out, cap);
	else if (ev->kind >= EV_TCP_STATE)
		event_tcp_text(ev, addr, out, cap);
	else if (ev->kind == EV_ECHO_REPLIED)
		snprintf(out, cap, "icmp echo from %s id %u seq %u, %zu data bytes: replied", addr,
			 ev->id, ev->seq, ev->len);
	else
		snprintf(out, cap, "icmp echo from %s to broadcast %s id %u seq %u: ignored", addr,
			 target, ev->id, ev->seq);
	return out;
}
