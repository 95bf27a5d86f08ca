/*
 * stack.h - the core of the book's stack: sans-IO, time passed in.
 *
 * The core reads no clock and touches no socket.  A program (or a test) hands
 * it frames with stack_input(), calls stack_poll() when stack_next_deadline()
 * comes, and receives the frames the stack sends through a callback.  So the
 * same core runs on a veth in the lab and in virtual time in a test.
 *
 * Chapters 1-3: the core parses Ethernet and IPv4, checks the transport
 * checksums, names every drop and counts it.  It sends nothing yet.
 */
#ifndef TCPIP_STACK_H
#define TCPIP_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drop.h"
#include "eth.h"
#include "ip4.h"
#include "l4.h"

/* Milliseconds on a clock the caller chooses (monotonic in programs, virtual
 * in tests).  Only differences matter. */
typedef uint64_t stack_time_ms;
#define STACK_NO_DEADLINE UINT64_MAX

/* Sends one frame; returns 0, or -1 if the device refused it. */
typedef int (*stack_tx_fn)(void *ctx, const uint8_t *frame, size_t len);

/* What the stack saw in one input frame, for a program to print.  Pointers
 * are valid only during the callback; a layer's flag says whether it parsed. */
struct stack_rx {
	const uint8_t *frame;
	size_t len;
	enum drop_reason verdict;   /* DROP_NONE, or why the frame went no further */
	bool has_eth, has_ip4, has_l4;
	struct eth_hdr eth;
	struct ip4_hdr ip4;
	struct l4_sum l4;           /* transport checksum, when has_l4 */
	const uint8_t *ip4_bytes;   /* the IPv4 header's first byte, when has_ip4 */
	size_t ip4_avail;           /* bytes from ip4_bytes to the frame's end */
};

/* Called once per input frame, after the stack has decided its verdict. */
typedef void (*stack_rx_fn)(void *ctx, const struct stack_rx *rx);

struct stack_cfg {
	uint8_t mac[ETH_ADDR_LEN]; /* our MAC; all zero: accept any destination */
	uint32_t ip4_addr;         /* our address, host order; 0: accept any */
	stack_tx_fn tx;            /* may be NULL while the stack sends nothing */
	void *tx_ctx;
	stack_rx_fn on_rx;         /* may be NULL */
	void *rx_ctx;
};

/* Counters a program shows with -v and a test reads. */
struct stack_counters {
	uint64_t frames_in;
	uint64_t ip4_in;         /* frames with EtherType IPv4 */
	uint64_t ip4_delivered;  /* IPv4 packets that passed every check */
	uint64_t drops[DROP__COUNT];  /* by reason; drops[DROP_NONE] stays 0 */
};

struct stack;

/* Allocates a stack (one allocation, bounded).  Returns NULL on no memory. */
struct stack *stack_new(const struct stack_cfg *cfg);

/* Frees a stack made by stack_new(); NULL is allowed. */
void stack_free(struct stack *st);

/* Hands the stack one received frame at time now.  Returns the verdict, also
 * given to on_rx and counted.  Never reads outside frame[0..len). */
enum drop_reason stack_input(struct stack *st, stack_time_ms now, const uint8_t *frame,
			     size_t len);

/* Runs the timers due at now.  Chapters 1-3 have none. */
void stack_poll(struct stack *st, stack_time_ms now);

/* The time stack_poll() next has work, or STACK_NO_DEADLINE. */
stack_time_ms stack_next_deadline(const struct stack *st);

/* The stack's counters (valid until stack_free()). */
const struct stack_counters *stack_counters(const struct stack *st);

#endif
