/*
 * test_fault.c - the fault injector (fault.h) on the in-memory device, in
 * virtual time: the SPEC parser, each fault's rate, what each fault does to
 * a frame, held frames released at their time and not before, the bound on
 * held frames, and that a seed repeats a run exactly.
 *
 * Rates: with a fixed seed a run is the same every time, so a rate check
 * cannot flake; what it checks is that the generator is not biased.  Over
 * N frames at rate p the count of faults is binomial, mean N*p, standard
 * deviation sqrt(N*p*(1-p)) (22 for N = 10000, p = 0.05).  A check allows
 * 5 deviations: an unbiased generator with an unlucky seed would fail it
 * once in 1.7 million, a bias of 1.1 points at p = 0.05 fails it.  The drop
 * rate is also checked over 20 seeds, so a lucky seed cannot hide a bias.
 */
#include <stdlib.h>
#include <string.h>

#include "tcpip/bytes.h"
#include "tcpip/config.h"
#include "tcpip/dev.h"
#include "tcpip/fault.h"
#include "vec.h"

#define N_FRAMES 10000
#define MAX_OUT (2 * N_FRAMES + 16)
#define PUSH_PER_MS 4 /* frames that arrive per ms of virtual time */

/* One frame as it came out of the injector. */
struct out_frame {
	uint32_t id;        /* the number written into it (bytes 2..5) */
	size_t len;
	uint64_t hash;      /* FNV-1a over its bytes */
	int bits_changed;   /* bits that differ from the frame as sent in */
	size_t first_diff;  /* the first byte that differs (if any) */
	uint64_t when_us;   /* the virtual time it came out */
};

/* A run: the memory device, the injector around it, the virtual clock, and
 * what came out. */
struct run {
	struct dev *mem, *dev;
	uint64_t now_us;
	struct out_frame *out;
	int out_count;
};

/* fault_clock_fn: the run's virtual clock. */
static uint64_t run_clock(void *ctx)
{
	return ((const struct run *)ctx)->now_us;
}

/* FNV-1a 64 over data[0..len). */
static uint64_t hash_bytes(const uint8_t *data, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ data[i]) * 0x100000001b3u;
	return h;
}

/* The length of test frame id: 60 to 1514 bytes, varied. */
static size_t frame_len(uint32_t id)
{
	return 60 + (size_t)(id * 7919u % 1455u);
}

/* Writes test frame id into buf: id in the Ethernet header (bytes 2..5,
 * where corrupt= never flips a bit), then a pattern that depends on id.
 * Returns its length. */
static size_t make_frame(uint8_t *buf, uint32_t id)
{
	size_t len = frame_len(id);

	memset(buf, 0xee, 14);
	put_be32(buf + 2, id);
	for (size_t i = 14; i < len; i++)
		buf[i] = (uint8_t)(id * 31u + i);
	return len;
}

/* Records frame f (as it came out) in r, comparing it with the frame its
 * id says went in. */
static void run_record(struct run *r, const uint8_t *data, size_t len)
{
	uint8_t orig[TCPIP_FRAME_BUF];
	struct out_frame *o;
	size_t orig_len;

	if (!r->out || r->out_count >= MAX_OUT || len < 14)
		return;
	o = &r->out[r->out_count++];
	*o = (struct out_frame){.id = get_be32(data + 2), .len = len,
				.hash = hash_bytes(data, len), .when_us = r->now_us};
	orig_len = make_frame(orig, o->id);
	if (orig_len != len) {
		o->bits_changed = 99;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		int bits = __builtin_popcount(orig[i] ^ data[i]);

		if (bits && !o->bits_changed)
			o->first_diff = i;
		o->bits_changed += bits;
	}
}

/* Opens a run: the memory device wrapped by the injector for spec. */
static void run_open(struct run *r, const struct fault_spec *spec, FILE *log)
{
	struct fault_env env = {.clock = run_clock, .clock_ctx = r, .log = log};

	*r = (struct run){.mem = dev_mem_open(), .out = calloc(MAX_OUT, sizeof *r->out)};
	r->dev = fault_wrap(r->mem, spec, &env);
}

/* Closes a run's device and frees what it recorded. */
static void run_close(struct run *r)
{
	dev_close(r->dev);
	free(r->out);
}

/* Receives everything ready now, max frames per call, into r's record. */
static void run_drain(struct run *r, int max)
{
	uint8_t bufs[TCPIP_BATCH][TCPIP_FRAME_BUF];
	struct frame frames[TCPIP_BATCH];
	int got;

	for (int i = 0; i < TCPIP_BATCH; i++)
		frames[i] = (struct frame){.data = bufs[i], .cap = sizeof bufs[i]};
	while ((got = dev_recv(r->dev, frames, max)) > 0)
		for (int i = 0; i < got; i++)
			run_record(r, frames[i].data, frames[i].len);
}

/* Receives frames 1..count through the injector, PUSH_PER_MS of them per
 * ms of virtual time, then waits (in virtual time) until nothing is held. */
static void run_rx(struct run *r, uint32_t count)
{
	uint8_t buf[TCPIP_FRAME_BUF];
	uint32_t id = 0;

	for (int guard = 0; guard < 10 * N_FRAMES; guard++) {
		for (int k = 0; k < PUSH_PER_MS && id < count; k++) {
			id++;
			dev_mem_push(r->mem, buf, make_frame(buf, id));
		}
		run_drain(r, TCPIP_BATCH);
		if (id == count && dev_next_release_us(r->dev) < 0)
			return;
		r->now_us += 1000;
	}
}

/* Sends frames 1..count through the injector, PUSH_PER_MS per ms, taking
 * what reached the memory device into r's record. */
static void run_tx(struct run *r, uint32_t count)
{
	uint8_t buf[TCPIP_FRAME_BUF], got[TCPIP_FRAME_BUF];
	uint32_t id = 0;
	long len;

	for (int guard = 0; guard < 10 * N_FRAMES; guard++) {
		for (int k = 0; k < PUSH_PER_MS && id < count; k++) {
			struct frame f = {.data = buf, .cap = sizeof buf};

			id++;
			f.len = f.wire_len = make_frame(buf, id);
			CHECK(dev_send(r->dev, &f, 1) == 1, "send of frame %u taken", id);
		}
		run_drain(r, TCPIP_BATCH); /* also sends held frames that are due */
		while ((len = dev_mem_pop(r->mem, got, sizeof got)) > 0)
			run_record(r, got, (size_t)len);
		if (id == count && dev_next_release_us(r->dev) < 0)
			return;
		r->now_us += 1000;
	}
}

/* A spec parsed from text, which must be good. */
static struct fault_spec spec_of(const char *text)
{
	struct fault_spec spec;
	char err[128];

	CHECK(fault_parse(text, &spec, err, sizeof err) == 0, "'%s' parses: %s", text, err);
	return spec;
}

/* The square root of x >= 0, by Newton's method (no libm for one call). */
static double root(double x)
{
	double r = x > 1 ? x : 1;

	for (int i = 0; i < 100; i++)
		r = (r + x / r) / 2;
	return r;
}

/* Five standard deviations of a binomial count: n frames at rate. */
static double five_sigma(uint64_t n, double rate)
{
	return 5 * root((double)n * rate * (1 - rate));
}

/* True if count is within 5 standard deviations of n*rate (see the top). */
static bool within_5_sigma(uint64_t count, uint64_t n, double rate)
{
	double off = (double)count - (double)n * rate;

	return (off < 0 ? -off : off) <= five_sigma(n, rate);
}

/* Prints an observed rate, for the record. */
static void report_rate(const char *what, uint64_t count, uint64_t n, double rate)
{
	printf("  %-28s %5llu of %llu (%.4f; expected %.0f +- %.0f)\n", what,
	       (unsigned long long)count, (unsigned long long)n, (double)count / (double)n,
	       (double)n * rate, five_sigma(n, rate));
}

/* ---- SPEC ---- */

/* Defaults, every item, units, and the text written back. */
static void test_parse_good(void)
{
	struct fault_spec spec = spec_of("drop=0");
	char text[256];

	CHECK(spec.drop == 0 && spec.dup == 0 && spec.corrupt == 0 && spec.reorder == 0 &&
		      spec.delay_ms == 0 && spec.mtu == 0 && spec.seed == FAULT_SEED &&
		      spec.dirs == FAULT_BOTH && spec.reorder_max_ms == FAULT_REORDER_MAX_MS,
	      "defaults");
	spec = spec_of("drop=0.05,dup=0.01,reorder=0.02,delay=20ms,corrupt=0.001,mtu=1000,seed=42,"
		       "dir=rx,reorder_max=7");
	CHECK(spec.drop == 0.05 && spec.dup == 0.01 && spec.reorder == 0.02 &&
		      spec.delay_ms == 20 && spec.corrupt == 0.001 && spec.mtu == 1000 &&
		      spec.seed == 42 && spec.dirs == FAULT_RX && spec.reorder_max_ms == 7,
	      "every item");
	CHECK(strcmp(fault_spec_text(&spec, text, sizeof text),
		     "drop=0.05,dup=0.01,corrupt=0.001,reorder=0.02,reorder_max=7ms,delay=20ms,"
		     "mtu=1000,dir=rx,seed=42") == 0,
	      "spec text: %s", text);
	CHECK(spec_of(text).seed == 42 && spec_of(text).reorder_max_ms == 7, "text reads back");
	CHECK(spec_of("drop=1,dir=tx,seed=0x10").seed == 16 && spec_of("drop=1").drop == 1 &&
		      spec_of("dir=tx").dirs == FAULT_TX && spec_of("drop=.5").drop == 0.5,
	      "edges: rate 1, hex seed, .5");
	CHECK(spec_of("seed=18446744073709551615").seed == UINT64_MAX, "largest seed");
}

/* Every bad item is refused, and the message names it. */
static void test_parse_bad(void)
{
	static const struct {
		const char *text, *named;
	} bad[] = {
		{"drop=2", "'drop=2'"},        {"drop=-0.1", "'drop=-0.1'"},
		{"drop=x", "'drop=x'"},        {"drop=nan", "'drop=nan'"},
		{"drop=", "'drop='"},          {"drop=0.1x", "'drop=0.1x'"},
		{"drop= 0.1", "'drop= 0.1'"},  {"drop=inf", "'drop=inf'"},
		{"frob=1", "'frob=1'"},        {"drop", "'drop'"},
		{"", "empty item"},            {"drop=0.1,", "empty item"},
		{"drop=0.1,,dup=0", "empty item"},
		{"delay=5s", "'delay=5s'"},    {"delay=-5", "'delay=-5'"},
		{"delay=3600001", "'delay=3600001'"},
		{"mtu=0", "'mtu=0'"},          {"mtu=65536", "'mtu=65536'"},
		{"seed=-1", "'seed=-1'"},      {"seed=18446744073709551616", "'seed=1844674"},
		{"dir=up", "'dir=up'"},        {"dup=0.5,dir=rxtx", "'dir=rxtx'"},
		{"drop=0.000000000000000000000000000000000000000000000000000000000001",
		 "item too long"},
	};
	struct fault_spec spec;
	char err[128];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = fault_parse(bad[i].text, &spec, err, sizeof err);

		CHECK(rc == -1 && strstr(err, bad[i].named), "'%s' refused naming %s: %s",
		      bad[i].text, bad[i].named, err);
	}
}

/* ---- each fault ---- */

/* drop=P: about P of the frames are gone, the rest arrive whole and in
 * order; over 20 seeds as well as one. */
static void test_drop_rate(void)
{
	struct fault_spec spec = spec_of("drop=0.05,seed=42");
	uint64_t all = 0, n_all = 0;
	const struct fault_counts *c;
	struct run r;
	bool ordered = true, whole = true;

	run_open(&r, &spec, NULL);
	run_rx(&r, N_FRAMES);
	c = fault_counts(r.dev, FAULT_RX);
	report_rate("drop=0.05 seed 42", c->dropped, N_FRAMES, 0.05);
	CHECK(within_5_sigma(c->dropped, N_FRAMES, 0.05), "drop rate: %llu",
	      (unsigned long long)c->dropped);
	CHECK(c->frames == N_FRAMES && (uint64_t)r.out_count == N_FRAMES - c->dropped,
	      "every frame not dropped arrives (%d)", r.out_count);
	for (int i = 0; i < r.out_count; i++) {
		ordered &= i == 0 || r.out[i].id > r.out[i - 1].id;
		whole &= r.out[i].bits_changed == 0;
	}
	CHECK(ordered && whole, "in order and unchanged");
	run_close(&r);

	for (uint64_t seed = 1; seed <= 20; seed++) {
		spec.seed = seed;
		run_open(&r, &spec, NULL);
		run_rx(&r, 2000);
		all += fault_counts(r.dev, FAULT_RX)->dropped;
		n_all += 2000;
		run_close(&r);
	}
	report_rate("drop=0.05 seeds 1..20", all, n_all, 0.05);
	CHECK(within_5_sigma(all, n_all, 0.05), "drop rate over 20 seeds: %llu",
	      (unsigned long long)all);
}

/* drop=0.5 and drop=1: the rate holds away from small values; 1 drops all. */
static void test_drop_rate_high(void)
{
	struct fault_spec spec = spec_of("drop=0.5,seed=7");
	struct run r;

	run_open(&r, &spec, NULL);
	run_rx(&r, N_FRAMES);
	report_rate("drop=0.5 seed 7", fault_counts(r.dev, FAULT_RX)->dropped, N_FRAMES, 0.5);
	CHECK(within_5_sigma(fault_counts(r.dev, FAULT_RX)->dropped, N_FRAMES, 0.5), "drop=0.5");
	run_close(&r);
	spec = spec_of("drop=1");
	run_open(&r, &spec, NULL);
	run_rx(&r, 500);
	CHECK(r.out_count == 0 && fault_counts(r.dev, FAULT_RX)->dropped == 500, "drop=1: all");
	run_close(&r);
}

/* dup=P: about P of the frames arrive twice, the copy identical and right
 * behind the original. */
static void test_dup(void)
{
	struct fault_spec spec = spec_of("dup=0.05,seed=42");
	const struct fault_counts *c;
	uint64_t pairs = 0;
	bool identical = true;
	struct run r;

	run_open(&r, &spec, NULL);
	run_rx(&r, N_FRAMES);
	c = fault_counts(r.dev, FAULT_RX);
	report_rate("dup=0.05", c->duplicated, N_FRAMES, 0.05);
	CHECK(within_5_sigma(c->duplicated, N_FRAMES, 0.05), "dup rate");
	CHECK((uint64_t)r.out_count == N_FRAMES + c->duplicated, "originals and copies arrive");
	for (int i = 1; i < r.out_count; i++) {
		if (r.out[i].id != r.out[i - 1].id)
			continue;
		pairs++;
		identical &= r.out[i].hash == r.out[i - 1].hash && r.out[i].len == r.out[i - 1].len &&
			     r.out[i].bits_changed == 0;
	}
	CHECK(pairs == c->duplicated && identical, "each copy identical, right behind (%llu)",
	      (unsigned long long)pairs);
	run_close(&r);
}

/* corrupt=P: about P of the frames have exactly one bit flipped, after the
 * Ethernet header; a corrupted frame that is also duplicated is duplicated
 * corrupted. */
static void test_corrupt(void)
{
	struct fault_spec spec = spec_of("corrupt=0.05,dup=0.2,seed=42");
	const struct fault_counts *c;
	uint64_t one_bit = 0, more = 0, in_header = 0, copies_differ = 0;
	struct run r;

	run_open(&r, &spec, NULL);
	run_rx(&r, N_FRAMES);
	c = fault_counts(r.dev, FAULT_RX);
	report_rate("corrupt=0.05", c->corrupted, N_FRAMES, 0.05);
	CHECK(within_5_sigma(c->corrupted, N_FRAMES, 0.05), "corrupt rate");
	for (int i = 0; i < r.out_count; i++) {
		bool copy = i > 0 && r.out[i].id == r.out[i - 1].id;

		if (copy) {
			copies_differ += r.out[i].hash != r.out[i - 1].hash;
			continue;
		}
		one_bit += r.out[i].bits_changed == 1;
		more += r.out[i].bits_changed > 1;
		in_header += r.out[i].bits_changed > 0 && r.out[i].first_diff < 14;
	}
	CHECK(one_bit == c->corrupted && more == 0,
	      "one bit each: %llu, other: %llu", (unsigned long long)one_bit,
	      (unsigned long long)more);
	CHECK(in_header == 0 && copies_differ == 0, "never the Ethernet header; copies equal");
	run_close(&r);
}

/* reorder=P: about P of the frames arrive after the next one, none lost,
 * none twice, and without waiting for reorder_max. */
static void test_reorder(void)
{
	struct fault_spec spec = spec_of("reorder=0.05,seed=42");
	const struct fault_counts *c;
	uint32_t highest = 0;
	uint64_t late = 0, sum = 0, slow = 0;
	struct run r;

	run_open(&r, &spec, NULL);
	run_rx(&r, N_FRAMES);
	c = fault_counts(r.dev, FAULT_RX);
	report_rate("reorder=0.05", c->reordered, N_FRAMES, 0.05);
	CHECK(within_5_sigma(c->reordered, N_FRAMES, 0.05), "reorder rate");
	CHECK(r.out_count == N_FRAMES, "none lost, none twice: %d", r.out_count);
	for (int i = 0; i < r.out_count; i++) {
		late += r.out[i].id < highest;
		highest = r.out[i].id > highest ? r.out[i].id : highest;
		sum += r.out[i].id;
		/* frame id is pushed in ms (id-1)/4; one waiting for reorder_max
		 * arrives 50 ms later, one behind the next frame within a few */
		slow += r.out[i].when_us / 1000 >= (r.out[i].id - 1) / PUSH_PER_MS + 10;
	}
	CHECK(sum == (uint64_t)N_FRAMES * (N_FRAMES + 1) / 2, "each frame once");
	/* each reordered frame arrives behind a later one, but the last frame
	 * (if reordered) has no later one and waits for reorder_max */
	CHECK(late + 1 >= c->reordered && late <= c->reordered, "late %llu of %llu reordered",
	      (unsigned long long)late, (unsigned long long)c->reordered);
	CHECK(slow <= 1, "only a last frame waits for reorder_max (%llu)",
	      (unsigned long long)slow);
	run_close(&r);
}

/* mtu=N: exactly the frames whose packet is longer than N are dropped. */
static void test_mtu(void)
{
	struct fault_spec spec = spec_of("mtu=1000");
	uint64_t longer = 0, arrived_longer = 0;
	struct run r;

	run_open(&r, &spec, NULL);
	run_rx(&r, 2000);
	for (uint32_t id = 1; id <= 2000; id++)
		longer += frame_len(id) - 14 > 1000;
	for (int i = 0; i < r.out_count; i++)
		arrived_longer += r.out[i].len - 14 > 1000;
	CHECK(fault_counts(r.dev, FAULT_RX)->too_long == longer && arrived_longer == 0 &&
		      (uint64_t)r.out_count == 2000 - longer,
	      "mtu drops exactly the %llu longer", (unsigned long long)longer);
	run_close(&r);
}

/* ---- time ---- */

/* delay=20ms: a frame is not out at 19.999 ms, is at 20 ms, and the device
 * says how long to wait meanwhile. */
static void test_delay_released_at_its_time(void)
{
	struct fault_spec spec = spec_of("delay=20ms");
	uint8_t buf[TCPIP_FRAME_BUF];
	struct run r;

	run_open(&r, &spec, NULL);
	r.now_us = 5000000;
	CHECK(dev_next_release_us(r.dev) == -1, "nothing held: -1");
	dev_mem_push(r.mem, buf, make_frame(buf, 1));
	run_drain(&r, TCPIP_BATCH);
	CHECK(r.out_count == 0 && dev_next_release_us(r.dev) == 20000, "held; 20000 us to wait");
	r.now_us += 19999;
	run_drain(&r, TCPIP_BATCH);
	CHECK(r.out_count == 0 && dev_next_release_us(r.dev) == 1, "not before its time");
	r.now_us += 1;
	CHECK(dev_next_release_us(r.dev) == 0, "due now: 0");
	run_drain(&r, TCPIP_BATCH);
	CHECK(r.out_count == 1 && r.out[0].id == 1 && r.out[0].bits_changed == 0,
	      "released at its time, whole");
	CHECK(dev_next_release_us(r.dev) == -1, "nothing held again");
	run_close(&r);
}

/* delay=10ms over many frames: each arrives exactly 10 ms after it was
 * pushed, in order, and the delay counter counts them all. */
static void test_delay_keeps_order(void)
{
	struct fault_spec spec = spec_of("delay=10ms");
	bool on_time = true, ordered = true;
	struct run r;

	run_open(&r, &spec, NULL);
	run_rx(&r, 2000);
	for (int i = 0; i < r.out_count; i++) {
		on_time &= r.out[i].when_us / 1000 == (r.out[i].id - 1) / PUSH_PER_MS + 10;
		ordered &= i == 0 || r.out[i].id == r.out[i - 1].id + 1;
	}
	CHECK(r.out_count == 2000 && on_time && ordered, "2000 frames, 10 ms late, in order");
	CHECK(fault_counts(r.dev, FAULT_RX)->delayed == 2000, "all counted delayed");
	run_close(&r);
}

/* reorder=1: a reordered frame with no frame after it is released at
 * reorder_max, not before. */
static void test_reorder_max(void)
{
	struct fault_spec spec = spec_of("reorder=1,reorder_max=30ms");
	uint8_t buf[TCPIP_FRAME_BUF];
	struct run r;

	run_open(&r, &spec, NULL);
	dev_mem_push(r.mem, buf, make_frame(buf, 1));
	run_drain(&r, TCPIP_BATCH);
	CHECK(r.out_count == 0 && dev_next_release_us(r.dev) == 30000, "held for 30 ms");
	r.now_us = 29999;
	run_drain(&r, TCPIP_BATCH);
	CHECK(r.out_count == 0, "not before reorder_max");
	r.now_us = 30000;
	run_drain(&r, TCPIP_BATCH);
	CHECK(r.out_count == 1 && r.out[0].id == 1, "released at reorder_max");
	run_close(&r);
}

/* The hold is bounded: with a long delay, frames beyond TCPIP_FAULT_HOLD
 * are dropped and counted; closing with frames held loses nothing else
 * (ASan watches). */
static void test_hold_bound(void)
{
	struct fault_spec spec = spec_of("delay=100ms");
	uint8_t buf[TCPIP_FRAME_BUF];
	const struct fault_counts *c;
	struct run r;

	run_open(&r, &spec, NULL);
	for (uint32_t id = 1; id <= TCPIP_FAULT_HOLD + 72; id++) {
		dev_mem_push(r.mem, buf, make_frame(buf, id));
		run_drain(&r, TCPIP_BATCH);
	}
	c = fault_counts(r.dev, FAULT_RX);
	CHECK(c->hold_full == 72 && r.out_count == 0, "72 over the bound dropped (%llu)",
	      (unsigned long long)c->hold_full);
	r.now_us = 100000;
	run_drain(&r, TCPIP_BATCH);
	CHECK(r.out_count == TCPIP_FAULT_HOLD && r.out[TCPIP_FAULT_HOLD - 1].id == TCPIP_FAULT_HOLD,
	      "the first %d arrive", TCPIP_FAULT_HOLD);
	dev_mem_push(r.mem, buf, make_frame(buf, 999));
	run_drain(&r, TCPIP_BATCH);
	run_close(&r); /* one frame still held */
}

/* dup=1 into a caller that takes one frame per call: the copy waits, due
 * at once, and comes out of the next call. */
static void test_dup_into_small_batch(void)
{
	struct fault_spec spec = spec_of("dup=1");
	uint8_t buf[TCPIP_FRAME_BUF];
	struct run r;

	run_open(&r, &spec, NULL);
	dev_mem_push(r.mem, buf, make_frame(buf, 1));
	dev_mem_push(r.mem, buf, make_frame(buf, 2));
	run_drain(&r, 1);
	CHECK(r.out_count == 4 && r.out[0].id == 1 && r.out[1].id == 1 && r.out[2].id == 2 &&
		      r.out[3].id == 2,
	      "1 1 2 2 (%d frames)", r.out_count);
	CHECK(dev_next_release_us(r.dev) == -1, "nothing left held");
	run_close(&r);
}

/* ---- directions and seeds ---- */

/* dir=tx: sent frames suffer, received ones pass; dir=rx the other way. */
static void test_directions(void)
{
	struct fault_spec spec = spec_of("drop=0.1,dir=tx,seed=3");
	const struct fault_counts *tx;
	struct run r;

	run_open(&r, &spec, NULL);
	run_tx(&r, N_FRAMES);
	tx = fault_counts(r.dev, FAULT_TX);
	report_rate("tx drop=0.1", tx->dropped, N_FRAMES, 0.1);
	CHECK(within_5_sigma(tx->dropped, N_FRAMES, 0.1) &&
		      (uint64_t)r.out_count == N_FRAMES - tx->dropped,
	      "tx drop rate, the rest sent");
	r.out_count = 0;
	run_rx(&r, 1000);
	CHECK(r.out_count == 1000 && fault_counts(r.dev, FAULT_RX)->dropped == 0, "rx untouched");
	run_close(&r);

	spec = spec_of("drop=1,dir=rx");
	run_open(&r, &spec, NULL);
	run_tx(&r, 100);
	CHECK(r.out_count == 100, "dir=rx: tx untouched");
	run_close(&r);
}

/* tx with reorder and delay: every frame reaches the inner device once,
 * none before its delay, released by the receive calls of the loop. */
static void test_tx_delay_and_reorder(void)
{
	struct fault_spec spec = spec_of("reorder=0.1,delay=5ms,seed=9");
	struct run r;
	uint64_t sum = 0;
	bool on_time = true;

	run_open(&r, &spec, NULL);
	run_tx(&r, 2000);
	for (int i = 0; i < r.out_count; i++) {
		sum += r.out[i].id;
		on_time &= r.out[i].when_us / 1000 >= (r.out[i].id - 1) / PUSH_PER_MS + 5;
	}
	CHECK(r.out_count == 2000 && sum == 2000u * 2001u / 2, "tx: every frame sent once");
	CHECK(on_time, "tx: none before its delay");
	run_close(&r);
}

/* A digest of a whole run: every frame that came out, in order. */
static uint64_t run_digest(const struct run *r)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (int i = 0; i < r->out_count; i++)
		h = (h ^ r->out[i].hash ^ r->out[i].when_us) * 0x100000001b3u;
	return h;
}

/* The digest of an rx run of spec_text over 3000 frames. */
static uint64_t digest_of(const char *spec_text)
{
	struct fault_spec spec = spec_of(spec_text);
	struct run r;
	uint64_t digest;

	run_open(&r, &spec, NULL);
	run_rx(&r, 3000);
	digest = run_digest(&r);
	run_close(&r);
	return digest;
}

/* The same seed repeats a run exactly; another seed does not. */
static void test_seed_repeats(void)
{
	const char *all = "drop=0.05,dup=0.05,corrupt=0.05,reorder=0.05,delay=3ms,seed=42";
	uint64_t first = digest_of(all);

	CHECK(digest_of(all) == first, "same seed, same run");
	CHECK(digest_of("drop=0.05,dup=0.05,corrupt=0.05,reorder=0.05,delay=3ms,seed=43") != first,
	      "another seed, another run");
	CHECK(digest_of("drop=0.05,seed=1") == digest_of("drop=0.05"), "the default seed is 1");
}

/* The frames drop= takes do not change when another rate changes: every
 * frame draws the same numbers whatever happens to it. */
static void test_rates_independent(void)
{
	struct fault_spec a = spec_of("drop=0.1,seed=5"), b = spec_of("drop=0.1,corrupt=0.3,seed=5");
	struct run ra, rb;
	bool same = true;

	run_open(&ra, &a, NULL);
	run_open(&rb, &b, NULL);
	run_rx(&ra, 3000);
	run_rx(&rb, 3000);
	same = ra.out_count == rb.out_count;
	for (int i = 0; same && i < ra.out_count; i++)
		same = ra.out[i].id == rb.out[i].id;
	CHECK(same, "corrupt= leaves drop='s choices alone");
	run_close(&ra);
	run_close(&rb);
}

/* ---- the log and the counts ---- */

/* One line per fault, and the counts at close. */
static void test_log(void)
{
	struct fault_spec spec = spec_of("drop=1");
	char *text = NULL;
	size_t size = 0;
	FILE *log = open_memstream(&text, &size);
	struct fault_env env = {.log = log, .counts_at_close = true};
	uint8_t buf[TCPIP_FRAME_BUF];
	struct dev *mem = dev_mem_open(), *dev = fault_wrap(mem, &spec, &env);

	CHECK(fault_counts(mem, FAULT_RX) == NULL, "a memory device has no fault counts");
	dev_mem_push(mem, buf, make_frame(buf, 1));
	run_drain(&(struct run){.dev = dev}, TCPIP_BATCH);
	dev_close(dev);
	fclose(log);
	CHECK(text && strncmp(text, "fault: rx drop frame 1 (", 24) == 0, "drop line: %s", text);
	CHECK(text && strstr(text, "fault: rx 1 frames: 1 dropped,") &&
		      strstr(text, "; tx 0 frames: 0 dropped,"),
	      "counts at close: %s", text);
	free(text);
}

int main(void)
{
	printf("observed rates (N frames, expected count +- 5 sigma):\n");
	test_parse_good();
	test_parse_bad();
	test_drop_rate();
	test_drop_rate_high();
	test_dup();
	test_corrupt();
	test_reorder();
	test_mtu();
	test_delay_released_at_its_time();
	test_delay_keeps_order();
	test_reorder_max();
	test_hold_bound();
	test_dup_into_small_batch();
	test_directions();
	test_tx_delay_and_reorder();
	test_seed_repeats();
	test_rates_independent();
	test_log();
	return test_report("test_fault");
}
