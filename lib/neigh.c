/*
 * neigh.c - the neighbour cache and its queue of waiting packets (neigh.h).
 *
 * RFC 826 gives the merge rule, RFC 1122 2.3.2.1 asks that entries time out
 * and that requests for one address go no faster than one a second, and
 * 2.3.2.2 that a packet waiting for resolution be kept (at least the latest).
 * Limits: one link; entries are never proxied or published.
 */
#include <string.h>

#include "stack_impl.h"

const char *neigh_state_name(enum neigh_state state)
{
	switch (state) {
	case NEIGH_INCOMPLETE: return "incomplete";
	case NEIGH_REACHABLE: return "reachable";
	case NEIGH_STALE: return "stale";
	default: return "none";
	}
}

/* The entry for addr, or NULL. */
static struct neigh_entry *neigh_find(struct stack *st, uint32_t addr)
{
	for (int i = 0; i < TCPIP_NEIGH_ENTRIES; i++)
		if (st->neigh[i].state != NEIGH_NONE && st->neigh[i].addr == addr)
			return &st->neigh[i];
	return NULL;
}

enum neigh_state neigh_lookup(const struct stack *st, uint32_t addr, uint8_t mac[ETH_ADDR_LEN])
{
	struct neigh_entry *entry = neigh_find((struct stack *)st, addr);

	if (!entry)
		return NEIGH_NONE;
	if (mac && entry->state != NEIGH_INCOMPLETE)
		memcpy(mac, entry->mac, ETH_ADDR_LEN);
	return entry->state;
}

/* Tells the program about entry (kind; count for failures). */
static void neigh_emit(struct stack *st, enum stack_event_kind kind,
		       const struct neigh_entry *entry, unsigned count)
{
	struct stack_event ev = {.kind = kind, .addr = entry->addr, .state = entry->state,
				 .count = count};

	memcpy(ev.mac, entry->mac, ETH_ADDR_LEN);
	event_emit(st, &ev);
}

/* Drops the packets waiting for addr; returns how many. */
static unsigned neigh_drop_pending(struct stack *st, uint32_t addr)
{
	unsigned dropped = 0;

	for (int i = 0; i < TCPIP_NEIGH_PENDING; i++) {
		if (st->pending[i].used && st->pending[i].next_hop == addr) {
			st->pending[i].used = false;
			dropped++;
		}
	}
	return dropped;
}

/* Frees entry, counting and reporting why. */
static void neigh_free(struct stack *st, struct neigh_entry *entry, enum stack_event_kind why)
{
	unsigned dropped = neigh_drop_pending(st, entry->addr);

	st->counters.out_unresolved += dropped;
	neigh_emit(st, why, entry, dropped);
	entry->state = NEIGH_NONE;
}

/* True if a is a better entry to evict than b (b may be NULL): a STALE
 * entry before a REACHABLE one, and within a state the one whose timer ends
 * first (the least recently heard from or used). */
static bool neigh_evict_before(const struct neigh_entry *a, const struct neigh_entry *b)
{
	if (!b)
		return true;
	if (a->state != b->state)
		return a->state == NEIGH_STALE;
	return a->timer < b->timer;
}

/* A free slot; when there is none, a complete entry is evicted to make room
 * (neigh_evict_before() picks it).  NULL if every entry is INCOMPLETE (those
 * are never pushed out: their packets would be lost). */
static struct neigh_entry *neigh_alloc(struct stack *st)
{
	struct neigh_entry *victim = NULL;

	for (int i = 0; i < TCPIP_NEIGH_ENTRIES; i++) {
		struct neigh_entry *entry = &st->neigh[i];

		if (entry->state == NEIGH_NONE)
			return entry;
		if (entry->state != NEIGH_INCOMPLETE && neigh_evict_before(entry, victim))
			victim = entry;
	}
	if (victim)
		neigh_free(st, victim, EV_NEIGH_EVICTED);
	return victim;
}

/* Sends the packets waiting for entry's address, oldest first. */
static void neigh_flush(struct stack *st, const struct neigh_entry *entry)
{
	for (;;) {
		struct neigh_pending *oldest = NULL;

		for (int i = 0; i < TCPIP_NEIGH_PENDING; i++) {
			struct neigh_pending *p = &st->pending[i];

			if (p->used && p->next_hop == entry->addr && (!oldest || p->order < oldest->order))
				oldest = p;
		}
		if (!oldest)
			return;
		oldest->used = false;
		link_output(st, entry->mac, ETHERTYPE_IPV4, oldest->pkt, oldest->len);
	}
}

/* Puts entry in state at now, setting the timer that state runs on. */
static void neigh_set_state(struct neigh_entry *entry, enum neigh_state state, stack_time_ms now)
{
	entry->state = state;
	entry->timer = now + (state == NEIGH_REACHABLE ? TCPIP_NEIGH_REACHABLE_MS
						       : TCPIP_NEIGH_STALE_MS);
	entry->probe_after = now;
}

bool neigh_merge(struct stack *st, stack_time_ms now, uint32_t addr,
		 const uint8_t mac[ETH_ADDR_LEN], bool confirmed, bool create)
{
	struct neigh_entry *entry = neigh_find(st, addr);
	enum neigh_state state = confirmed ? NEIGH_REACHABLE : NEIGH_STALE;
	bool known = entry != NULL;

	if (!entry && create)
		entry = neigh_alloc(st);
	if (!entry)
		return known;
	if (!known || entry->state == NEIGH_INCOMPLETE) {
		entry->addr = addr;
		memcpy(entry->mac, mac, ETH_ADDR_LEN);
		neigh_set_state(entry, state, now);
		neigh_emit(st, EV_NEIGH_LEARNED, entry, 0);
		neigh_flush(st, entry);
	} else if (memcmp(entry->mac, mac, ETH_ADDR_LEN) != 0 || confirmed) {
		memcpy(entry->mac, mac, ETH_ADDR_LEN);
		neigh_set_state(entry, state, now);
		neigh_emit(st, EV_NEIGH_UPDATED, entry, 0);
	}
	return known;
}

/* Sends request number entry->tries for entry (broadcast), and sets the
 * time of the next. */
static void neigh_ask(struct stack *st, struct neigh_entry *entry, stack_time_ms now)
{
	struct stack_event ev = {.kind = EV_ARP_REQUEST_OUT, .target = entry->addr,
				 .count = ++entry->tries};

	arp_send(st, ARP_OP_REQUEST, eth_broadcast, eth_zero, entry->addr);
	event_emit(st, &ev);
	entry->timer = now + TCPIP_ARP_RETRY_MS;
}

/* A new INCOMPLETE entry for addr with its first request sent, or NULL. */
static struct neigh_entry *neigh_start(struct stack *st, stack_time_ms now, uint32_t addr)
{
	struct neigh_entry *entry = neigh_alloc(st);

	if (!entry)
		return NULL;
	*entry = (struct neigh_entry){.state = NEIGH_INCOMPLETE, .addr = addr};
	neigh_ask(st, entry, now);
	return entry;
}

int neigh_resolve(struct stack *st, stack_time_ms now, uint32_t addr)
{
	return neigh_find(st, addr) || neigh_start(st, now, addr) ? 0 : -1;
}

/* Queues pkt for next_hop, keeping at most TCPIP_NEIGH_PENDING_PER_DEST per
 * destination (the oldest gives way) and TCPIP_NEIGH_PENDING in all.
 * Returns 0, or -1 (counted) if there is no room. */
static int neigh_enqueue(struct stack *st, uint32_t next_hop, const uint8_t *pkt, size_t len)
{
	struct neigh_pending *slot = NULL, *oldest_same = NULL;
	int same = 0;

	for (int i = 0; i < TCPIP_NEIGH_PENDING; i++) {
		struct neigh_pending *p = &st->pending[i];

		if (!p->used && !slot)
			slot = p;
		if (p->used && p->next_hop == next_hop) {
			same++;
			if (!oldest_same || p->order < oldest_same->order)
				oldest_same = p;
		}
	}
	if (same >= TCPIP_NEIGH_PENDING_PER_DEST) {
		slot = oldest_same; /* RFC 1122 2.3.2.2: keep the latest */
		st->counters.out_queue_full++; /* the oldest gives way: counted */
	}
	if (!slot || len > sizeof slot->pkt) {
		st->counters.out_queue_full++;
		return -1;
	}
	*slot = (struct neigh_pending){.used = true, .next_hop = next_hop,
				       .order = st->pending_order++, .len = len};
	memcpy(slot->pkt, pkt, len);
	return 0;
}

int neigh_output(struct stack *st, stack_time_ms now, uint32_t next_hop, const uint8_t *pkt,
		 size_t len)
{
	struct neigh_entry *entry = neigh_find(st, next_hop);

	if (!entry) {
		entry = neigh_start(st, now, next_hop);
		if (!entry) {
			st->counters.out_queue_full++;
			return -1;
		}
	}
	if (entry->state == NEIGH_INCOMPLETE)
		return neigh_enqueue(st, next_hop, pkt, len);
	if (entry->state == NEIGH_STALE) {
		entry->timer = now + TCPIP_NEIGH_STALE_MS; /* used: not evicted yet */
		if (now >= entry->probe_after) {
			struct stack_event ev = {.kind = EV_ARP_REQUEST_OUT, .target = next_hop};

			arp_send(st, ARP_OP_REQUEST, entry->mac, eth_zero, next_hop);
			event_emit(st, &ev);
			entry->probe_after = now + TCPIP_ARP_RETRY_MS;
		}
	}
	return link_output(st, entry->mac, ETHERTYPE_IPV4, pkt, len);
}

/* Runs one entry's timer, due at now. */
static void neigh_expire(struct stack *st, struct neigh_entry *entry, stack_time_ms now)
{
	switch (entry->state) {
	case NEIGH_INCOMPLETE:
		if (entry->tries < TCPIP_ARP_TRIES)
			neigh_ask(st, entry, now);
		else
			neigh_free(st, entry, EV_NEIGH_FAILED);
		break;
	case NEIGH_REACHABLE:
		neigh_set_state(entry, NEIGH_STALE, now);
		neigh_emit(st, EV_NEIGH_STALE, entry, 0);
		break;
	case NEIGH_STALE:
		neigh_free(st, entry, EV_NEIGH_EVICTED);
		break;
	default:
		break;
	}
}

void neigh_poll(struct stack *st, stack_time_ms now)
{
	for (int i = 0; i < TCPIP_NEIGH_ENTRIES; i++)
		if (st->neigh[i].state != NEIGH_NONE && now >= st->neigh[i].timer)
			neigh_expire(st, &st->neigh[i], now);
}

stack_time_ms neigh_next_deadline(const struct stack *st)
{
	stack_time_ms next = STACK_NO_DEADLINE;

	for (int i = 0; i < TCPIP_NEIGH_ENTRIES; i++)
		if (st->neigh[i].state != NEIGH_NONE && st->neigh[i].timer < next)
			next = st->neigh[i].timer;
	return next;
}
