/*
 * dev_fault.c - the fault injector (fault.h): a device that wraps another
 * and drops, duplicates, corrupts, reorders and delays its frames, marks
 * ECN-capable IPv4 packets CE (RFC 3168 5, the checksum kept by RFC 1624),
 * and drops those too long for a smaller MTU, at seeded random, so a run
 * repeats.
 *
 * Each frame passes the faults in one order (fault_pass()); a frame that is
 * not delivered at once waits in a bounded hold (TCPIP_FAULT_HOLD slots)
 * with its release time.  Received frames are copied out of the inner
 * device's batch, so the caller's buffers only ever get whole frames in the
 * order the faults chose.  The generator is splitmix64 (Steele, Lea and
 * Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014):
 * 64 bits of state, one add and three xor-shift-multiplies per number.
 *
 * Limits: a frame longer than TCPIP_FRAME_BUF (only a program could send
 * one) is never corrupted, and is dropped, counted, if it must be held.
 * Outside the core: this file may read the clock and write the log.
 */
#include "tcpip/fault.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/config.h"
#include "tcpip/eth.h"
#include "tcpip/ip4.h"

#define FAULT_ETH_HDR 14             /* bytes corrupt= and mtu= skip */
#define FAULT_MS_MAX 3600000u        /* longest delay= or reorder_max=: 1 h */
#define FAULT_ECN_MASK 0x03          /* the ECN field: TOS's low two bits */
#define FAULT_ECN_CE 0x03            /* Congestion Experienced (RFC 3168 5) */

/* Index of each direction in the arrays below. */
enum { FAULT_I_RX, FAULT_I_TX };

/* A frame waiting in the hold. */
struct fault_held {
	uint8_t data[TCPIP_FRAME_BUF];
	struct frame frame;   /* its length, receive time, flags; data above */
	uint64_t held_us;     /* when it was held, to move its receive time */
	uint64_t release_us;  /* when it is due */
	uint64_t ticket;      /* order among frames due at the same time */
	uint64_t seq;         /* its frame number in its direction */
	int dir;              /* FAULT_I_RX or FAULT_I_TX */
	bool used;
	bool behind_next;     /* reordered: also due once a later frame went */
};

/* One direction: its generators and its counts. */
struct fault_side {
	bool on;
	uint64_t rng;     /* drop, corrupt, dup, reorder, the bit to flip */
	uint64_t ce_rng;  /* the CE mark, apart so ce= moves no other fault */
	struct fault_counts counts;
};

/* Where received frames go: the caller's frames[got..max). */
struct fault_sink {
	struct frame *frames;
	int max;
	int got;
};

struct dev_fault {
	struct dev dev;
	struct dev *inner;
	struct fault_spec spec;
	struct fault_env env;
	struct fault_side side[2];
	uint64_t tickets;
	struct fault_held held[TCPIP_FAULT_HOLD];
	struct frame scratch[TCPIP_BATCH];          /* one batch from inner */
	uint8_t scratch_buf[TCPIP_BATCH][TCPIP_FRAME_BUF];
	uint8_t work[TCPIP_FRAME_BUF];              /* a marked or corrupted copy */
};

static const char *const fault_dir_name[2] = {"rx", "tx"};

/* ---- the generator ---- */

/* The next 64 random bits of *state (splitmix64). */
static uint64_t fault_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* A number in [0, 1) from the top 53 bits, so every double is equally
 * likely; "u < rate" is then true with probability rate, 0 and 1 included. */
static double fault_unit(uint64_t *state)
{
	return (double)(fault_rand(state) >> 11) * 0x1.0p-53;
}

/* ---- time and the log ---- */

/* The injector's clock in microseconds: env's, else CLOCK_MONOTONIC. */
static uint64_t fault_now(struct dev_fault *fd)
{
	struct timespec ts;

	if (fd->env.clock)
		return fd->env.clock(fd->env.clock_ctx);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Bytes the frame had on the wire (more than len if a device cut it). */
static size_t fault_wire_len(const struct frame *f)
{
	return f->wire_len > f->len ? f->wire_len : f->len;
}

/* Writes "fault: DIR WHAT frame SEQ (N bytes)DETAIL" to the log, if any. */
static void fault_log(const struct dev_fault *fd, int dir, const char *what, uint64_t seq,
		      const struct frame *f, const char *detail)
{
	if (!fd->env.log)
		return;
	fprintf(fd->env.log, "fault: %s %s frame %" PRIu64 " (%zu bytes)%s\n", fault_dir_name[dir],
		what, seq, fault_wire_len(f), detail);
	fflush(fd->env.log);
}

/* ---- the hold ---- */

/* Copies f into a free slot, due at release_us; behind_next marks a
 * reordered frame.  Returns the slot, or NULL if the hold is full or f too
 * long for a slot (counted and logged as hold_full). */
static struct fault_held *fault_hold(struct dev_fault *fd, int dir, const struct frame *f,
				     uint64_t seq, uint64_t now, uint64_t release_us, bool behind_next)
{
	for (int i = 0; i < TCPIP_FAULT_HOLD && f->len <= TCPIP_FRAME_BUF; i++) {
		struct fault_held *h = &fd->held[i];

		if (h->used)
			continue;
		memcpy(h->data, f->data, f->len);
		h->frame = *f;
		h->frame.data = h->data;
		h->frame.cap = sizeof h->data;
		h->held_us = now;
		h->release_us = release_us;
		h->ticket = fd->tickets++;
		h->seq = seq;
		h->dir = dir;
		h->used = true;
		h->behind_next = behind_next;
		return h;
	}
	fd->side[dir].counts.hold_full++;
	fault_log(fd, dir, "hold-full", seq, f, ": dropped");
	return NULL;
}

/* The held frame of dir that is due at now and comes first (earliest
 * release, then earliest ticket); NULL if none is due. */
static struct fault_held *fault_due(struct dev_fault *fd, int dir, uint64_t now)
{
	struct fault_held *first = NULL;

	for (int i = 0; i < TCPIP_FAULT_HOLD; i++) {
		struct fault_held *h = &fd->held[i];

		if (!h->used || h->dir != dir || h->release_us > now)
			continue;
		if (!first || h->release_us < first->release_us ||
		    (h->release_us == first->release_us && h->ticket < first->ticket))
			first = h;
	}
	return first;
}

/* The reordered frame of dir that waits behind a frame numbered below seq
 * and came first; NULL if none. */
static struct fault_held *fault_behind(struct dev_fault *fd, int dir, uint64_t seq)
{
	struct fault_held *first = NULL;

	for (int i = 0; i < TCPIP_FAULT_HOLD; i++) {
		struct fault_held *h = &fd->held[i];

		if (!h->used || h->dir != dir || !h->behind_next || h->seq >= seq)
			continue;
		if (!first || h->ticket < first->ticket)
			first = h;
	}
	return first;
}

/* ---- delivery ---- */

/* Hands f on: a received frame into the sink (cut to the buffer's cap, as
 * a device cuts), a sent one to the inner device.  Returns 1 if done, 0 if
 * the sink is full (f untouched), -1 if the inner device refused it (errno
 * set). */
static int fault_put(struct dev_fault *fd, int dir, const struct frame *f, struct fault_sink *sink)
{
	struct frame *out;

	if (dir == FAULT_I_TX)
		return dev_send(fd->inner, f, 1) == 1 ? 1 : -1;
	if (sink->got >= sink->max)
		return 0;
	out = &sink->frames[sink->got++];
	out->len = f->len < out->cap ? f->len : out->cap;
	memcpy(out->data, f->data, out->len);
	out->wire_len = fault_wire_len(f);
	out->ts_us = f->ts_us;
	out->flags = f->flags;
	return 1;
}

/* Delivers held frame h now and frees its slot; a received frame's time
 * moves by how long it was held.  Returns 0 if the sink is full (h stays,
 * due now, in its turn); 1 otherwise.  A sent frame the inner device
 * refuses is lost, counted as send_failed. */
static int fault_put_held(struct dev_fault *fd, struct fault_held *h, uint64_t now,
			  struct fault_sink *sink)
{
	struct frame f = h->frame;
	int rc;

	if (f.ts_us)
		f.ts_us += now - h->held_us;
	rc = fault_put(fd, h->dir, &f, sink);
	if (rc == 0) {
		if (h->release_us > now)
			h->release_us = now;
		h->behind_next = false;
		return 0;
	}
	if (rc < 0) {
		fd->side[h->dir].counts.send_failed++;
		fault_log(fd, h->dir, "send-failed", h->seq, &f, ": lost");
	}
	h->used = false;
	return 1;
}

/* Frame seq of dir has just gone: the reordered frames held behind an
 * earlier frame go now, right after it, oldest first. */
static void fault_release_behind(struct dev_fault *fd, int dir, uint64_t seq, uint64_t now,
				 struct fault_sink *sink)
{
	struct fault_held *h;

	while ((h = fault_behind(fd, dir, seq)) != NULL) {
		h->ticket = fd->tickets++; /* after anything already due now */
		fault_put_held(fd, h, now, sink);
	}
}

/* Delivers the held frames of dir that are due at now, in order, until the
 * sink is full.  A delayed frame going by releases the reordered frames
 * held behind it, as a frame delivered at once does. */
static void fault_release_due(struct dev_fault *fd, int dir, uint64_t now, struct fault_sink *sink)
{
	struct fault_held *h;

	while ((h = fault_due(fd, dir, now)) != NULL) {
		uint64_t seq = h->seq;
		bool was_behind = h->behind_next;

		if (fault_put_held(fd, h, now, sink) == 0)
			return;
		if (!was_behind)
			fault_release_behind(fd, dir, seq, now, sink);
	}
}

/* Delivers f (frame seq of dir) now, or, if the sink is full, holds it due
 * now.  Returns fault_put()'s -1 for a refused send, else 0. */
static int fault_emit(struct dev_fault *fd, int dir, const struct frame *f, uint64_t seq,
		      uint64_t now, struct fault_sink *sink)
{
	int rc = fault_put(fd, dir, f, sink);

	if (rc == 0) {
		fault_hold(fd, dir, f, seq, now, now, false);
		return 0;
	}
	if (rc > 0)
		fault_release_behind(fd, dir, seq, now, sink);
	return rc < 0 ? -1 : 0;
}

/* ---- the faults ---- */

/* The random numbers one frame draws, always all of them, so the faults of
 * a frame do not depend on what happened to the frames before it. */
struct fault_draw {
	double drop, corrupt, dup, reorder;
	uint64_t bit;
	double ce;  /* from side->ce_rng */
};

/* Draws the numbers for the next frame of side: five from its generator,
 * in the order they have always been drawn, and one from its CE one. */
static struct fault_draw fault_draw(struct fault_side *side)
{
	struct fault_draw d;

	d.drop = fault_unit(&side->rng);
	d.corrupt = fault_unit(&side->rng);
	d.dup = fault_unit(&side->rng);
	d.reorder = fault_unit(&side->rng);
	d.bit = fault_rand(&side->rng);
	d.ce = fault_unit(&side->ce_rng);
	return d;
}

/* True if mtu= drops f (its packet after the Ethernet header is longer). */
static bool fault_too_long(const struct fault_spec *spec, const struct frame *f)
{
	size_t wire = fault_wire_len(f);

	return spec->mtu > 0 && wire > FAULT_ETH_HDR && wire - FAULT_ETH_HDR > spec->mtu;
}

/* Makes f's bytes the injector's own to change: copies them into fd->work
 * and points f there, unless an earlier fault of this frame did.  Returns
 * false if f is too long for the copy (nothing changed). */
static bool fault_own(struct dev_fault *fd, struct frame *f)
{
	if (f->data == fd->work)
		return true;
	if (f->len > sizeof fd->work)
		return false;
	memcpy(fd->work, f->data, f->len);
	f->data = fd->work;
	return true;
}

/* The ECN field's names (RFC 3168 5), by its value. */
static const char *const fault_ecn_name[4] = {"Not-ECT", "ECT(1)", "ECT(0)", "CE"};

/* Marks f CE as a congested router would (RFC 3168 5), in fd->work, if f
 * is an IPv4 packet in Ethernet II (EtherType 0x0800, version 4, header
 * length at least 20 bytes and all of it in the frame) whose ECN field is
 * ECT(0) or ECT(1).  The header checksum follows by RFC 1624 eqn. 3, over
 * the 16-bit word of version, IHL and TOS; no other byte changes (the TCP
 * and UDP checksums do not cover TOS).  Returns false if f is left alone:
 * not such a packet, Not-ECT (never marked), CE already, or too long. */
static bool fault_mark_ce(struct dev_fault *fd, int dir, struct frame *f, uint64_t seq)
{
	const uint8_t *ip;
	size_t hdr_len;
	uint16_t old_word, new_word;
	uint8_t *wip;
	char detail[40];

	if (f->len < ETH_HDR_LEN + IP4_MIN_HDR_LEN || get_be16(f->data + 12) != ETHERTYPE_IPV4)
		return false;
	ip = f->data + ETH_HDR_LEN;
	hdr_len = (size_t)(ip[0] & 0x0f) * 4;
	if (ip[0] >> 4 != 4 || hdr_len < IP4_MIN_HDR_LEN || hdr_len > f->len - ETH_HDR_LEN)
		return false;
	if ((ip[1] & FAULT_ECN_MASK) == 0 || (ip[1] & FAULT_ECN_MASK) == FAULT_ECN_CE)
		return false;
	snprintf(detail, sizeof detail, ": %s -> CE", fault_ecn_name[ip[1] & FAULT_ECN_MASK]);
	if (!fault_own(fd, f))
		return false;
	wip = fd->work + ETH_HDR_LEN;
	old_word = get_be16(wip);
	new_word = old_word | FAULT_ECN_CE;
	put_be16(wip, new_word);
	put_be16(wip + 10, cksum_update16(get_be16(wip + 10), old_word, new_word));
	fault_log(fd, dir, "ce", seq, f, detail);
	return true;
}

/* Flips one bit of *f after the Ethernet header, chosen by bit, in a copy
 * (fd->work) that f then points to.  Returns false if f has no such bytes or
 * is too long to copy (nothing changed). */
static bool fault_corrupt(struct dev_fault *fd, int dir, struct frame *f, uint64_t seq,
			  uint64_t bit)
{
	size_t pos, byte;
	unsigned shift;
	char detail[48];

	if (f->len <= FAULT_ETH_HDR || !fault_own(fd, f))
		return false;
	pos = (size_t)(bit % ((f->len - FAULT_ETH_HDR) * 8)); /* bits after the header */
	byte = FAULT_ETH_HDR + pos / 8;
	shift = (unsigned)(pos % 8);
	fd->work[byte] ^= (uint8_t)(1u << shift);
	snprintf(detail, sizeof detail, ": bit %u of byte %zu", shift, byte);
	fault_log(fd, dir, "corrupt", seq, f, detail);
	return true;
}

/* Sends one copy of f on its way: held if reordered or delayed, else
 * delivered.  Returns -1 if the inner device refused it, else 0. */
static int fault_route(struct dev_fault *fd, int dir, const struct frame *f, uint64_t seq,
		       uint64_t now, bool reorder, struct fault_sink *sink)
{
	uint64_t delay_us = (uint64_t)fd->spec.delay_ms * 1000u;

	if (reorder) {
		fault_hold(fd, dir, f, seq, now,
			   now + delay_us + (uint64_t)fd->spec.reorder_max_ms * 1000u, true);
		return 0;
	}
	if (delay_us > 0) {
		fault_hold(fd, dir, f, seq, now, now + delay_us, false);
		return 0;
	}
	return fault_emit(fd, dir, f, seq, now, sink);
}

/* One frame of dir through the faults, in fault.h's order.  Returns -1 if
 * the inner device refused it (errno set), else 0 (delivered, held or lost
 * on purpose). */
static int fault_pass(struct dev_fault *fd, int dir, const struct frame *in, uint64_t now,
		      struct fault_sink *sink)
{
	struct fault_side *side = &fd->side[dir];
	uint64_t seq = ++side->counts.frames;
	struct frame f = *in;
	struct fault_draw d;
	bool reorder;
	int rc;

	if (!side->on)
		return fault_emit(fd, dir, &f, seq, now, sink);
	d = fault_draw(side);
	if (fault_too_long(&fd->spec, &f)) {
		side->counts.too_long++;
		fault_log(fd, dir, "mtu", seq, &f, ": dropped");
		return 0;
	}
	if (d.drop < fd->spec.drop) {
		side->counts.dropped++;
		fault_log(fd, dir, "drop", seq, &f, "");
		return 0;
	}
	if (d.ce < fd->spec.ce && fault_mark_ce(fd, dir, &f, seq))
		side->counts.ce_marked++;
	if (d.corrupt < fd->spec.corrupt && fault_corrupt(fd, dir, &f, seq, d.bit))
		side->counts.corrupted++;
	reorder = d.reorder < fd->spec.reorder;
	if (reorder) {
		side->counts.reordered++;
		fault_log(fd, dir, "reorder", seq, &f, "");
	}
	if (fd->spec.delay_ms > 0)
		side->counts.delayed++;
	rc = fault_route(fd, dir, &f, seq, now, reorder, sink);
	if (d.dup < fd->spec.dup) {
		side->counts.duplicated++;
		fault_log(fd, dir, "dup", seq, &f, "");
		fault_route(fd, dir, &f, seq, now, reorder, sink);
	}
	return rc;
}

/* ---- the device ---- */

/* dev_ops.recv: sent frames that are due go out; then received frames
 * that are due, then a batch from inner through the faults, up to max. */
static int fault_recv(struct dev *dev, struct frame *frames, int max)
{
	struct dev_fault *fd = (struct dev_fault *)dev;
	struct fault_sink sink = {.frames = frames, .max = max};
	uint64_t now = fault_now(fd);
	int want, got;

	fault_release_due(fd, FAULT_I_TX, now, NULL);
	fault_release_due(fd, FAULT_I_RX, now, &sink);
	want = max - sink.got < TCPIP_BATCH ? max - sink.got : TCPIP_BATCH;
	if (want <= 0)
		return sink.got;
	got = dev_recv(fd->inner, fd->scratch, want);
	if (got < 0)
		return sink.got > 0 ? sink.got : -1;
	for (int i = 0; i < got; i++)
		fault_pass(fd, FAULT_I_RX, &fd->scratch[i], now, &sink);
	return sink.got;
}

/* dev_ops.send: sent frames that are due go out, then frames[0..n) through
 * the faults.  A frame dropped on purpose counts as sent, as a lossy link
 * takes it.  Returns n, or how many went before the inner device refused
 * one (-1 if the first, errno set). */
static int fault_send(struct dev *dev, const struct frame *frames, int n)
{
	struct dev_fault *fd = (struct dev_fault *)dev;
	uint64_t now = fault_now(fd);

	fault_release_due(fd, FAULT_I_TX, now, NULL);
	for (int i = 0; i < n; i++)
		if (fault_pass(fd, FAULT_I_TX, &frames[i], now, NULL) < 0)
			return i > 0 ? i : -1;
	return n;
}

/* dev_ops.flush: what inner queued goes out.  Frames held back on purpose
 * (delay, reorder) stay held: they go at their time, as before. */
static int fault_flush(struct dev *dev)
{
	return dev_flush(((struct dev_fault *)dev)->inner);
}

/* dev_ops.next_release_us: until the earliest held frame is due. */
static int64_t fault_next_release_us(struct dev *dev)
{
	struct dev_fault *fd = (struct dev_fault *)dev;
	uint64_t now = fault_now(fd), first = UINT64_MAX;

	for (int i = 0; i < TCPIP_FAULT_HOLD; i++)
		if (fd->held[i].used && fd->held[i].release_us < first)
			first = fd->held[i].release_us;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int64_t)(first - now);
}

/* dev_ops.close: prints the counts if asked, discards what is held (said
 * in the log), closes inner; returns inner's verdict. */
static int fault_close(struct dev *dev)
{
	struct dev_fault *fd = (struct dev_fault *)dev;
	int held = 0, rc;

	for (int i = 0; i < TCPIP_FAULT_HOLD; i++)
		held += fd->held[i].used;
	if (fd->env.log && held > 0)
		fprintf(fd->env.log, "fault: %d held frames discarded at close\n", held);
	if (fd->env.counts_at_close)
		fault_print_counts(dev, fd->env.log ? fd->env.log : stderr);
	rc = dev_close(fd->inner);
	free(fd);
	return rc;
}

static const struct dev_ops fault_ops = {
	.recv = fault_recv,
	.send = fault_send,
	.flush = fault_flush,
	.close = fault_close,
	.next_release_us = fault_next_release_us,
};

struct dev *fault_wrap(struct dev *inner, const struct fault_spec *spec,
		       const struct fault_env *env)
{
	struct dev_fault *fd = calloc(1, sizeof *fd);
	uint64_t seeder;

	if (!fd) {
		dev_close(inner);
		errno = ENOMEM;
		return NULL;
	}
	fd->inner = inner;
	fd->spec = *spec;
	if (env)
		fd->env = *env;
	seeder = spec->seed; /* fault.h: rx, tx, then rx's and tx's CE generators */
	for (int dir = FAULT_I_RX; dir <= FAULT_I_TX; dir++) {
		fd->side[dir].on = (spec->dirs & (dir == FAULT_I_RX ? FAULT_RX : FAULT_TX)) != 0;
		fd->side[dir].rng = fault_rand(&seeder); /* one stream per direction */
	}
	for (int dir = FAULT_I_RX; dir <= FAULT_I_TX; dir++)
		fd->side[dir].ce_rng = fault_rand(&seeder);
	for (int i = 0; i < TCPIP_BATCH; i++)
		fd->scratch[i] = (struct frame){.data = fd->scratch_buf[i], .cap = TCPIP_FRAME_BUF};
	fd->dev = (struct dev){.ops = &fault_ops, .fd = inner->fd, .name = inner->name};
	memcpy(fd->dev.mac, inner->mac, sizeof fd->dev.mac);
	return &fd->dev;
}

const struct fault_counts *fault_counts(const struct dev *dev, enum fault_dir dir)
{
	const struct dev_fault *fd = (const struct dev_fault *)dev;

	if (!dev || dev->ops != &fault_ops || (dir != FAULT_RX && dir != FAULT_TX))
		return NULL;
	return &fd->side[dir == FAULT_RX ? FAULT_I_RX : FAULT_I_TX].counts;
}

void fault_print_counts(const struct dev *dev, FILE *out)
{
	const char *sep = "fault:";

	for (int dir = FAULT_I_RX; dir <= FAULT_I_TX; dir++) {
		const struct fault_counts *c = fault_counts(dev, dir == FAULT_I_RX ? FAULT_RX : FAULT_TX);

		if (!c)
			return;
		fprintf(out,
			"%s %s %" PRIu64 " frames: %" PRIu64 " dropped, %" PRIu64 " too long, %" PRIu64
			" marked CE, %" PRIu64 " corrupted, %" PRIu64 " duplicated, %" PRIu64
			" reordered, %" PRIu64 " delayed, %" PRIu64 " hold full, %" PRIu64
			" send failed",
			sep, fault_dir_name[dir], c->frames, c->dropped, c->too_long, c->ce_marked,
			c->corrupted, c->duplicated, c->reordered, c->delayed, c->hold_full,
			c->send_failed);
		sep = ";";
	}
	fputc('\n', out);
}

/* ---- SPEC ---- */

/* How an item's value is read. */
enum fault_value { FAULT_V_RATE, FAULT_V_MS, FAULT_V_MTU, FAULT_V_SEED, FAULT_V_DIR };

/* The items a SPEC may hold, and where each goes in struct fault_spec. */
static const struct fault_item {
	const char *name;
	enum fault_value kind;
	size_t offset;
} fault_items[] = {
	{"drop", FAULT_V_RATE, offsetof(struct fault_spec, drop)},
	{"dup", FAULT_V_RATE, offsetof(struct fault_spec, dup)},
	{"corrupt", FAULT_V_RATE, offsetof(struct fault_spec, corrupt)},
	{"reorder", FAULT_V_RATE, offsetof(struct fault_spec, reorder)},
	{"ce", FAULT_V_RATE, offsetof(struct fault_spec, ce)},
	{"reorder_max", FAULT_V_MS, offsetof(struct fault_spec, reorder_max_ms)},
	{"delay", FAULT_V_MS, offsetof(struct fault_spec, delay_ms)},
	{"mtu", FAULT_V_MTU, offsetof(struct fault_spec, mtu)},
	{"seed", FAULT_V_SEED, offsetof(struct fault_spec, seed)},
	{"dir", FAULT_V_DIR, offsetof(struct fault_spec, dirs)},
};

/* Reads a whole decimal (or 0x hex, for seed=) number into *out; suffix,
 * if not NULL, may follow.  Returns 0, or -1 if malformed or too big. */
static int fault_parse_uint(const char *text, const char *suffix, uint64_t *out)
{
	char *end;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	*out = strtoull(text, &end, suffix ? 10 : 0);
	if (errno != 0 || end == text)
		return -1;
	return *end == '\0' || (suffix && strcmp(end, suffix) == 0) ? 0 : -1;
}

/* Reads value as item's kind into spec; returns NULL, or why it is bad. */
static const char *fault_parse_value(const struct fault_item *item, const char *value,
				     struct fault_spec *spec)
{
	char *field = (char *)spec + item->offset, *end;
	uint64_t number;
	double rate;

	switch (item->kind) {
	case FAULT_V_RATE:
		errno = 0;
		rate = strtod(value, &end); /* then refuse what strtod allows beyond digits */
		if (((*value < '0' || *value > '9') && *value != '.') || errno != 0 || *end != '\0' ||
		    !(rate >= 0 && rate <= 1))
			return "a rate is a probability, 0 to 1";
		memcpy(field, &rate, sizeof rate);
		return NULL;
	case FAULT_V_MS:
		if (fault_parse_uint(value, "ms", &number) < 0 || number > FAULT_MS_MAX)
			return "wants milliseconds, 0 to 3600000, like 20ms";
		memcpy(field, &(uint32_t){(uint32_t)number}, sizeof(uint32_t));
		return NULL;
	case FAULT_V_MTU:
		if (fault_parse_uint(value, NULL, &number) < 0 || number < 1 || number > 65535)
			return "wants a packet size in bytes, 1 to 65535";
		memcpy(field, &(uint32_t){(uint32_t)number}, sizeof(uint32_t));
		return NULL;
	case FAULT_V_SEED:
		if (fault_parse_uint(value, NULL, &number) < 0)
			return "wants a whole number below 2^64";
		memcpy(field, &number, sizeof number);
		return NULL;
	case FAULT_V_DIR:
		spec->dirs = strcmp(value, "rx") == 0	? FAULT_RX
			     : strcmp(value, "tx") == 0 ? FAULT_TX
			     : strcmp(value, "both") == 0 ? FAULT_BOTH
							  : 0;
		return spec->dirs ? NULL : "wants rx, tx or both";
	}
	return "unknown kind";
}

/* Applies one item ("name=value", item_len bytes at text) to spec.
 * Returns 0, or -1 with the reason in err. */
static int fault_parse_item(const char *text, size_t item_len, struct fault_spec *spec, char *err,
			    size_t err_cap)
{
	char item[64];
	const char *why = "unknown name (drop, dup, corrupt, ce, reorder, reorder_max, delay, "
			  "mtu, seed, dir)";
	char *eq;

	if (item_len == 0) {
		snprintf(err, err_cap, "an empty item (two commas, or one at an end)");
		return -1;
	}
	if (item_len >= sizeof item) {
		snprintf(err, err_cap, "'%.*s...': item too long", 20, text);
		return -1;
	}
	memcpy(item, text, item_len);
	item[item_len] = '\0';
	eq = strchr(item, '=');
	if (!eq) {
		snprintf(err, err_cap, "'%s': wants name=value", item);
		return -1;
	}
	*eq = '\0';
	for (size_t i = 0; i < sizeof fault_items / sizeof fault_items[0]; i++)
		if (strcmp(item, fault_items[i].name) == 0) {
			why = fault_parse_value(&fault_items[i], eq + 1, spec);
			break;
		}
	if (!why)
		return 0;
	*eq = '=';
	snprintf(err, err_cap, "'%s': %s", item, why);
	return -1;
}

int fault_parse(const char *text, struct fault_spec *spec, char *err, size_t err_cap)
{
	*spec = (struct fault_spec){.reorder_max_ms = FAULT_REORDER_MAX_MS, .seed = FAULT_SEED,
				    .dirs = FAULT_BOTH};
	if (err_cap > 0)
		err[0] = '\0';
	for (;;) {
		const char *comma = strchr(text, ',');
		size_t len = comma ? (size_t)(comma - text) : strlen(text);

		if (fault_parse_item(text, len, spec, err, err_cap) < 0)
			return -1;
		if (!comma)
			return 0;
		text = comma + 1;
	}
}

/* Appends printf(fmt, ...) to out (cap bytes, *used of them taken). */
__attribute__((format(printf, 4, 5))) static void fault_append(char *out, size_t cap,
							      size_t *used, const char *fmt, ...)
{
	va_list args;

	if (*used >= cap)
		return;
	va_start(args, fmt);
	*used += (size_t)vsnprintf(out + *used, cap - *used, fmt, args);
	va_end(args);
}

char *fault_spec_text(const struct fault_spec *spec, char *out, size_t cap)
{
	static const char *const dir_text[4] = {"none", "rx", "tx", "both"};
	size_t used = 0;

	out[0] = '\0';
	if (spec->drop > 0)
		fault_append(out, cap, &used, "drop=%g,", spec->drop);
	if (spec->dup > 0)
		fault_append(out, cap, &used, "dup=%g,", spec->dup);
	if (spec->corrupt > 0)
		fault_append(out, cap, &used, "corrupt=%g,", spec->corrupt);
	if (spec->ce > 0)
		fault_append(out, cap, &used, "ce=%g,", spec->ce);
	if (spec->reorder > 0)
		fault_append(out, cap, &used, "reorder=%g,reorder_max=%" PRIu32 "ms,",
			     spec->reorder, spec->reorder_max_ms);
	if (spec->delay_ms > 0)
		fault_append(out, cap, &used, "delay=%" PRIu32 "ms,", spec->delay_ms);
	if (spec->mtu > 0)
		fault_append(out, cap, &used, "mtu=%" PRIu32 ",", spec->mtu);
	fault_append(out, cap, &used, "dir=%s,seed=%" PRIu64, dir_text[spec->dirs & 3],
		     spec->seed);
	return out;
}
