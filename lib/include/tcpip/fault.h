/*
 * fault.h - the fault injector: a device that wraps another and makes its
 * link worse on purpose (design: "The core is sans-IO").  Outside the core.
 *
 * Any program turns it on with --fault SPEC (prog.h).  SPEC is a
 * comma-separated list of name=value items:
 *
 *   drop=P       discard a frame with probability P (0..1)
 *   dup=P        deliver a frame twice, back to back
 *   corrupt=P    flip one random bit after the 14-byte Ethernet header
 *   ce=P         mark an ECN-capable IPv4 packet Congestion Experienced, as
 *                a congested router that marks instead of dropping does
 *                (RFC 3168 5): an ECN field of ECT(0) or ECT(1) becomes CE
 *                and the header checksum is updated (RFC 1624); Not-ECT
 *                and CE packets, and frames that are not IPv4 in Ethernet
 *                II or too short for their IPv4 header, are left alone
 *   reorder=P    hold a frame back until the next frame in the same
 *                direction has gone by, or reorder_max has passed
 *   reorder_max=MS  the longest a reordered frame waits (default 50 ms)
 *   delay=MS     hold every frame MS ms (a long link: order is kept)
 *   mtu=N        drop frames whose packet (the bytes after the Ethernet
 *                header) is longer than N, as a link with that MTU would
 *   dir=rx|tx|both  which direction the faults act on (default both)
 *   seed=N       the random generators' seed (default 1)
 *
 * MS takes an optional "ms" suffix.  Per frame, in this order: the size
 * limit, drop, the CE mark, corrupt, dup (the copy is identical to the
 * marked and corrupted frame), then reorder or delay.  Each direction draws
 * from its own generator, and every frame draws the same five numbers
 * whatever happens to it, so a run repeats exactly for the same frames and
 * seed, and changing one rate does not reshuffle the faults of another.
 * The CE mark draws one number per frame from a second generator of its
 * direction, so ce= (added later) leaves every seed's other faults as they
 * were.  The four generators' states are the first four numbers of
 * splitmix64 started at the seed: rx's, tx's, then rx's CE generator's and
 * tx's.  A mark is logged as "fault: rx ce frame 12 (74 bytes): ECT(0) -> CE".
 *
 * Held frames (delay, reorder) are released by time.  dev_next_release_us()
 * (dev.h) tells an event loop how long it may sleep; held frames come out of
 * the next dev_recv() (received ones) or the next dev_recv() or dev_send()
 * (sent ones) at or after their time.  At most TCPIP_FAULT_HOLD frames are
 * held; a frame that finds the hold full is dropped, counted.
 *
 * Limits: a corrupted bit may land in Ethernet padding or in an ARP packet,
 * which no checksum covers; apart from ce=, which reads the IPv4 header,
 * the injector knows no layer above Ethernet.  ce= marks neither IPv6 nor
 * VLAN-tagged frames, and checks no checksum first: a header that was
 * wrong stays exactly as wrong.
 */
#ifndef TCPIP_FAULT_H
#define TCPIP_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dev.h"

/* Frames the injector holds at once, both directions together (each takes
 * TCPIP_FRAME_BUF bytes).  With delay=MS it bounds the frames in flight, as
 * a router's queue does: 128 frames of 1514 bytes are 1.5 ms at 1 Gb/s, or
 * a full 64 KB TCP window in each direction.  Defined here, not in config.h,
 * because only this wrapper uses it. */
#define TCPIP_FAULT_HOLD 128

/* Default longest wait of a reordered frame, and default seed. */
#define FAULT_REORDER_MAX_MS 50
#define FAULT_SEED 1

/* Directions, as bits of fault_spec.dirs. */
enum fault_dir { FAULT_RX = 1, FAULT_TX = 2, FAULT_BOTH = 3 };

/* What a SPEC says, host order.  Rates are probabilities per frame. */
struct fault_spec {
	double drop, dup, corrupt, reorder, ce;
	uint32_t reorder_max_ms;
	uint32_t delay_ms;   /* 0: none */
	uint32_t mtu;        /* 0: no limit */
	uint64_t seed;
	unsigned dirs;       /* FAULT_RX, FAULT_TX or FAULT_BOTH */
};

/* What the injector did in one direction. */
struct fault_counts {
	uint64_t frames;      /* frames that came to it */
	uint64_t too_long;    /* dropped by mtu= */
	uint64_t dropped;     /* dropped by drop= */
	uint64_t ce_marked;   /* ECN field set to CE by ce= */
	uint64_t corrupted;
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t delayed;
	uint64_t hold_full;   /* dropped: TCPIP_FAULT_HOLD frames held already */
	uint64_t send_failed; /* held frames the inner device refused (tx) */
};

/* A monotonic clock in microseconds; ctx is fault_env.clock_ctx. */
typedef uint64_t (*fault_clock_fn)(void *ctx);

/* Where the injector gets its time and says what it does. */
struct fault_env {
	fault_clock_fn clock;  /* NULL: CLOCK_MONOTONIC */
	void *clock_ctx;
	FILE *log;             /* one line per fault ("fault: rx drop frame 12
	                        * (60 bytes)"); NULL: silent */
	bool counts_at_close;  /* print the counts to log when closed (-v) */
};

/* Fills *spec with the defaults (no fault, both directions, seed 1), then
 * applies text.  Returns 0, or -1 with a message naming the bad item in
 * err (err_cap bytes; always terminated): an unknown name, a missing '=', a
 * rate outside 0..1, a malformed number, an empty item. */
int fault_parse(const char *text, struct fault_spec *spec, char *err, size_t err_cap);

/* Writes spec as a SPEC that fault_parse() reads back, listing only the
 * items that differ from the defaults, plus dir and seed.  Returns out. */
char *fault_spec_text(const struct fault_spec *spec, char *out, size_t cap);

/* Wraps inner so that frames through it suffer the faults of spec.  The
 * wrapper owns inner (closing it closes inner).  env may be NULL (the
 * monotonic clock, no log).  Returns NULL with errno set if out of memory
 * (inner is then closed). */
struct dev *fault_wrap(struct dev *inner, const struct fault_spec *spec,
		       const struct fault_env *env);

/* The counts of a device fault_wrap() made, for dir FAULT_RX or FAULT_TX;
 * NULL if dev is not one. */
const struct fault_counts *fault_counts(const struct dev *dev, enum fault_dir dir);

/* Prints "fault: rx N frames: N dropped, ...; tx ..." on one line to out. */
void fault_print_counts(const struct dev *dev, FILE *out);

#endif
