/*
 * duplex.h - two of our stacks joined by a virtual wire that loses,
 * duplicates, reorders and corrupts frames (seeded), in virtual time, moving
 * a byte pattern each way and checking every byte and a clean close.
 *
 * The wire is a queue of frames with delivery times; no device, no root, no
 * clock.  Host A (192.0.2.1) connects to host B (192.0.2.2) port 9000.
 */
#ifndef TCPIP_TEST_DUPLEX_H
#define TCPIP_TEST_DUPLEX_H

#include <stdint.h>

#include "tcpip/stack.h"

/* Fault rates, in parts per thousand of frames. */
struct faults {
	unsigned drop, dup, reorder, corrupt;
};

/* Called once for each end when its connection is first ESTABLISHED, before
 * any byte is written on it (end: 0 for A, 1 for B). */
typedef void (*duplex_hook)(struct stack *st, int conn, int end, void *ctx);

/* One transfer: bytes each way through faults, the wire seeded by seed; A
 * connects at connect_at (virtual ms), and established, if set, is called
 * with ctx as each end opens. */
struct duplex_run {
	const char *name;
	struct faults faults;
	uint64_t seed;
	uint64_t bytes;
	stack_time_ms connect_at;
	duplex_hook established;
	void *ctx;
};

/* Byte i of every stream a transfer moves: a function of i alone. */
uint8_t duplex_byte(uint64_t i);

/* Runs it; CHECKs every byte each way, the end of each stream, both ends
 * CLOSED, no unexpected state change and no wire overflow, and prints one
 * line of figures.  Returns the virtual time both streams took to end (0 if
 * they never did). */
stack_time_ms duplex_transfer(const struct duplex_run *run);

#endif
