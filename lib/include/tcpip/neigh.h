/*
 * neigh.h - the neighbour cache: IPv4 address to MAC, learned by ARP
 * (RFC 826, RFC 1122 2.3.2), with states, timers and a queue of packets that
 * wait for an answer.  Part of the sans-IO core: every timer runs on the time
 * stack_poll() is given.
 *
 *   INCOMPLETE  asked, no answer yet; packets wait; retried, then given up
 *   REACHABLE   confirmed by a reply to us; used freely until it ages
 *   STALE       heard from but not confirmed lately; still used, and a
 *               unicast request checks it; evicted when unused too long
 */
#ifndef TCPIP_NEIGH_H
#define TCPIP_NEIGH_H

#include <stdint.h>

#include "eth.h"
#include "stack.h"

enum neigh_state { NEIGH_NONE, NEIGH_INCOMPLETE, NEIGH_REACHABLE, NEIGH_STALE };

/* The state's name in lower case ("reachable"). */
const char *neigh_state_name(enum neigh_state state);

/* The state of addr in st's cache (NEIGH_NONE if absent); when mac is not
 * NULL and the MAC is known, copies it there. */
enum neigh_state neigh_lookup(const struct stack *st, uint32_t addr, uint8_t mac[ETH_ADDR_LEN]);

#endif
