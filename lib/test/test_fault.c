/*
 * test_fault.c - the fault injector (fault.h) on the in-memory device, in
 * virtual time: the SPEC parser, each fault's rate, what each fault does to
 * a frame, held frames released at their time and not before, the bound on
 * held frames, that a seed repeats a run exactly, and that ce= marks only
 * ECN-capable IPv4 packets, keeps their header checksum right and leaves
 * every seed's other faults as they were.
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
#include "tcpip/eth.h"
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
		      spec.ce == 0 && spec.delay_ms == 0 && spec.mtu == 0 &&
		      spec.seed == FAULT_SEED && spec.dirs == FAULT_BOTH &&
		      spec.reorder_max_ms == FAULT_REORDER_MAX_MS,
	      "defaults");
	spec = spec_of("drop=0.05,dup=0.01,reorder=0.02,delay=20ms,corrupt=0.001,mtu=1000,seed=42,"
		       "dir=rx,reorder_max=7,ce=0.25");
	CHECK(spec.drop == 0.05 && spec.dup == 0.01 && spec.reorder == 0.02 &&
		      spec.delay_ms == 20 && spec.corrupt == 0.001 && spec.mtu == 1000 &&
		      spec.seed == 42 && spec.dirs == FAULT_RX && spec.reorder_max_ms == 7 &&
		      spec.ce == 0.25,
	      "every item");
	CHECK(strcmp(fault_spec_text(&spec, text, sizeof text),
		     "drop=0.05,dup=0.01,corrupt=0.001,ce=0.25,reorder=0.02,reorder_max=7ms,"
		     "delay=20ms,mtu=1000,dir=rx,seed=42") == 0,
	      "spec text: %s", text);
	CHECK(spec_of(text).seed == 42 && spec_of(text).reorder_max_ms == 7 &&
		      spec_of(text).ce == 0.25,
	      "text reads back");
	spec = spec_of("ce=0.1");
	CHECK(spec.ce == 0.1 && spec.drop == 0 && spec.corrupt == 0, "ce=0.1 alone");
	CHECK(strcmp(fault_spec_text(&spec, text, sizeof text), "ce=0.1,dir=both,seed=1") == 0 &&
		      spec_of(text).ce == 0.1,
	      "ce=0.1 round-trips: %s", text);
	CHECK(spec_of("ce=1").ce == 1 && spec_of("ce=0").ce == 0 &&
		      strcmp(fault_spec_text(&(struct fault_spec){.dirs = FAULT_BOTH, .seed = 1},
					     text, sizeof text),
			     "dir=both,seed=1") == 0,
	      "ce edges; ce=0 is not written: %s", text);
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
		{"ce=2", "'ce=2'"},            {"ce=x", "'ce=x'"},
		{"ce=-0.5", "'ce=-0.5'"},      {"drop=0.1,ce=1.5", "'ce=1.5'"},
		{"ce", "'ce'"},                {"cee=0.1", "'cee=0.1'"},
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
	fault_parse("ce=2", &spec, err, sizeof err);
	CHECK(strcmp(err, "'ce=2': a rate is a probability, 0 to 1") == 0, "ce= as a rate: %s",
	      err);
	fault_parse("frob=1", &spec, err, sizeof err);
	CHECK(strstr(err, " ce,") != NULL, "the unknown-name message lists ce: %s", err);
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

/* ---- ce= ---- */

#define CE_FRAME_PAYLOAD 20 /* bytes after the IPv4 header in a ce= test frame */

/* The IPv4 header checksum hdr[0..hdr_len) should carry, from scratch
 * (RFC 1071: the complement of the one's complement sum of the 16-bit
 * words, the checksum field's own word left out), not by the library. */
static uint16_t ip4_cksum_scratch(const uint8_t *hdr, size_t hdr_len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < hdr_len; i += 2)
		if (i != 10)
			sum += (uint32_t)hdr[i] << 8 | hdr[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Writes test frame id as an IPv4 packet in Ethernet II, or whatever
 * ethertype says: id in the Ethernet header as make_frame() puts it, then
 * version and IHL ver_ihl, TOS tos, IP ID ip_id, TTL 64, TCP, 192.0.2.1 to
 * 192.0.2.2, its header checksum right (from scratch), options and
 * CE_FRAME_PAYLOAD bytes of a pattern after.  Returns its length. */
static size_t make_ip_frame(uint8_t *buf, uint32_t id, uint16_t ethertype, uint8_t ver_ihl,
			    uint8_t tos, uint16_t ip_id)
{
	size_t hdr_len = (size_t)(ver_ihl & 0x0f) * 4 < 20 ? 20 : (size_t)(ver_ihl & 0x0f) * 4;
	size_t len = 14 + hdr_len + CE_FRAME_PAYLOAD;
	uint8_t *ip = buf + 14;

	memset(buf, 0xee, 12);
	put_be32(buf + 2, id);
	put_be16(buf + 12, ethertype);
	for (size_t i = 14; i < len; i++)
		buf[i] = (uint8_t)(id * 31u + i);
	ip[0] = ver_ihl;
	ip[1] = tos;
	put_be16(ip + 2, (uint16_t)(hdr_len + CE_FRAME_PAYLOAD));
	put_be16(ip + 4, ip_id);
	put_be16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 6;
	put_be32(ip + 12, 0xc0000201);
	put_be32(ip + 16, 0xc0000202);
	for (size_t i = 20; i < hdr_len; i++)
		ip[i] = 1; /* NOP options */
	put_be16(ip + 10, ip4_cksum_scratch(ip, hdr_len));
	return len;
}

/* Up to two frames that came out of one_through(). */
struct ce_out {
	uint8_t data[2][TCPIP_FRAME_BUF];
	size_t len[2];
	int count;
	uint64_t marked; /* the injector's ce_marked count, of dir */
};

/* Passes frame in[0..len) once through an injector for spec_text, received
 * (dir FAULT_RX) or sent (FAULT_TX), and takes what came out into *out;
 * log may be NULL. */
static void one_through(const char *spec_text, enum fault_dir dir, const uint8_t *in, size_t len,
			struct ce_out *out, FILE *log)
{
	struct fault_spec spec = spec_of(spec_text);
	struct fault_env env = {.log = log, .counts_at_close = log != NULL};
	struct dev *mem = dev_mem_open(), *dev = fault_wrap(mem, &spec, &env);
	struct frame frames[2];
	long got;
	int n;

	*out = (struct ce_out){0};
	for (int i = 0; i < 2; i++)
		frames[i] = (struct frame){.data = out->data[i], .cap = TCPIP_FRAME_BUF};
	if (dir == FAULT_RX) {
		dev_mem_push(mem, in, len);
		n = dev_recv(dev, frames, 2);
		for (int i = 0; i < n; i++)
			out->len[i] = frames[i].len;
		out->count = n > 0 ? n : 0;
	} else {
		struct frame f = {.data = (uint8_t *)in, .len = len, .wire_len = len, .cap = len};

		CHECK(dev_send(dev, &f, 1) == 1, "send taken");
		while (out->count < 2 &&
		       (got = dev_mem_pop(mem, out->data[out->count], TCPIP_FRAME_BUF)) > 0)
			out->len[out->count++] = (size_t)got;
	}
	out->marked = fault_counts(dev, dir)->ce_marked;
	dev_close(dev);
}

/* True if got[0..len) is in[0..len) marked CE: the ECN field 11, the DSCP
 * kept, the header checksum what a from-scratch sum says, no other byte
 * changed. */
static bool is_marked_copy(const uint8_t *in, const uint8_t *got, size_t len)
{
	size_t hdr_len = (size_t)(in[14] & 0x0f) * 4;

	for (size_t i = 0; i < len; i++)
		if (i != 15 && i != 24 && i != 25 && got[i] != in[i])
			return false;
	return got[15] == (in[15] | 0x03) &&
	       get_be16(got + 24) == ip4_cksum_scratch(got + 14, hdr_len);
}

/* ce=1 marks exactly the ECN-capable IPv4 packets (RFC 3168 5: ECT(0) and
 * ECT(1); a router never marks Not-ECT, and CE is already marked) and
 * leaves every other frame as it came, byte for byte; ce=0 leaves all. */
static void test_ce_marks(void)
{
	static const struct {
		const char *name;
		uint16_t ethertype;
		uint8_t ver_ihl, tos;
		size_t cut; /* bytes of the frame that go in; 0: all of it */
		bool marked;
	} cases[] = {
		{"ECT(0) is marked", ETHERTYPE_IPV4, 0x45, 0x02, 0, true},
		{"ECT(1) is marked", ETHERTYPE_IPV4, 0x45, 0x01, 0, true},
		{"ECT(0) under DSCP 46 keeps its DSCP", ETHERTYPE_IPV4, 0x45, 0xba, 0, true},
		{"ECT(1) with options (IHL 6)", ETHERTYPE_IPV4, 0x46, 0x01, 0, true},
		{"ECT(1), IHL 15", ETHERTYPE_IPV4, 0x4f, 0x01, 0, true},
		{"ECT(0), the frame ends with the header", ETHERTYPE_IPV4, 0x45, 0x02, 34, true},
		{"Not-ECT is never marked", ETHERTYPE_IPV4, 0x45, 0x00, 0, false},
		{"Not-ECT under DSCP 46", ETHERTYPE_IPV4, 0x45, 0xb8, 0, false},
		{"CE stays as it is", ETHERTYPE_IPV4, 0x45, 0x03, 0, false},
		{"ARP is not IPv4", ETHERTYPE_ARP, 0x45, 0x02, 0, false},
		{"IPv6 is not IPv4", ETHERTYPE_IPV6, 0x45, 0x02, 0, false},
		{"an 802.1Q tag is not Ethernet II IPv4", 0x8100, 0x45, 0x02, 0, false},
		{"IPv4 cut at 33 bytes, a byte short", ETHERTYPE_IPV4, 0x45, 0x02, 33, false},
		{"IPv4 cut at 16 bytes", ETHERTYPE_IPV4, 0x45, 0x02, 16, false},
		{"Ethernet header only", ETHERTYPE_IPV4, 0x45, 0x02, 14, false},
		{"IHL 6 cut inside its options", ETHERTYPE_IPV4, 0x46, 0x02, 37, false},
		{"IHL 4, below the minimum", ETHERTYPE_IPV4, 0x44, 0x02, 0, false},
		{"version 6 under EtherType 0x0800", ETHERTYPE_IPV4, 0x65, 0x02, 0, false},
	};
	uint8_t in[TCPIP_FRAME_BUF];
	struct ce_out out;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = make_ip_frame(in, 1, cases[i].ethertype, cases[i].ver_ihl,
					   cases[i].tos, 0x1234);

		len = cases[i].cut ? cases[i].cut : len;
		one_through("ce=1", FAULT_RX, in, len, &out, NULL);
		CHECK(out.count == 1 && out.len[0] == len, "%s: one frame, its length",
		      cases[i].name);
		if (cases[i].marked)
			CHECK(is_marked_copy(in, out.data[0], len) && out.marked == 1,
			      "%s: CE, checksum right, nothing else changed", cases[i].name);
		else
			CHECK(memcmp(in, out.data[0], len) == 0 && out.marked == 0,
			      "%s: untouched", cases[i].name);
		one_through("ce=0", FAULT_RX, in, len, &out, NULL);
		CHECK(out.count == 1 && memcmp(in, out.data[0], len) == 0 && out.marked == 0,
		      "%s: ce=0 changes nothing", cases[i].name);
	}
}

/* RFC 1624's update keeps the header checksum right for every value it can
 * hold: 65536 headers, one per IP ID, ECT(0) and ECT(1) in turn, each
 * marked and checked from scratch. */
static void test_ce_checksum_every_value(void)
{
	struct fault_spec spec = spec_of("ce=1");
	uint8_t in[TCPIP_FRAME_BUF], got[TCPIP_FRAME_BUF];
	struct frame f = {.data = got, .cap = sizeof got};
	struct dev *mem = dev_mem_open(), *dev = fault_wrap(mem, &spec, NULL);
	uint32_t bad = 0, first_bad = 0;

	for (uint32_t ip_id = 0; ip_id <= 0xffff; ip_id++) {
		size_t len = make_ip_frame(in, ip_id, ETHERTYPE_IPV4, 0x45, ip_id & 1 ? 0x01 : 0x02,
					   (uint16_t)ip_id);

		dev_mem_push(mem, in, len);
		if (dev_recv(dev, &f, 1) != 1 || f.len != len || !is_marked_copy(in, got, len))
			first_bad = bad++ ? first_bad : ip_id;
	}
	CHECK(bad == 0 && fault_counts(dev, FAULT_RX)->ce_marked == 0x10000,
	      "every checksum right after the mark: %u wrong, the first IP ID %#x", bad,
	      first_bad);
	dev_close(dev);
}

/* ce=P marks about P of the ECN-capable packets, no others; dir= holds for
 * it; a duplicate carries the mark, and corrupt= flips its bit in the
 * marked frame (the mark comes first). */
static void test_ce_rate_and_order(void)
{
	struct fault_spec spec = spec_of("ce=0.05,seed=42");
	uint8_t in[TCPIP_FRAME_BUF], got[TCPIP_FRAME_BUF], marked[TCPIP_FRAME_BUF];
	struct frame f = {.data = got, .cap = sizeof got};
	struct dev *mem = dev_mem_open(), *dev = fault_wrap(mem, &spec, NULL);
	uint64_t capable = 0, seen = 0, wrong = 0;
	struct ce_out out;
	size_t len;
	int flipped = 0;

	for (uint32_t id = 1; id <= N_FRAMES; id++) {
		uint8_t tos = (uint8_t)(id % 4); /* Not-ECT, ECT(1), ECT(0), CE in turn */

		len = make_ip_frame(in, id, ETHERTYPE_IPV4, 0x45, tos, (uint16_t)id);
		capable += tos == 1 || tos == 2;
		dev_mem_push(mem, in, len);
		if (dev_recv(dev, &f, 1) != 1 || f.len != len) {
			wrong++;
		} else if (memcmp(in, got, len) != 0) {
			seen++;
			wrong += (tos != 1 && tos != 2) || !is_marked_copy(in, got, len);
		}
	}
	report_rate("ce=0.05 of ECT frames", seen, capable, 0.05);
	CHECK(within_5_sigma(seen, capable, 0.05) && wrong == 0 &&
		      fault_counts(dev, FAULT_RX)->ce_marked == seen,
	      "ce rate over %llu ECT frames: %llu marked, %llu wrong", (unsigned long long)capable,
	      (unsigned long long)seen, (unsigned long long)wrong);
	dev_close(dev);

	len = make_ip_frame(in, 7, ETHERTYPE_IPV4, 0x45, 0x02, 0x0707);
	one_through("ce=1,dir=tx", FAULT_RX, in, len, &out, NULL);
	CHECK(out.count == 1 && memcmp(in, out.data[0], len) == 0, "dir=tx: received untouched");
	one_through("ce=1,dir=tx", FAULT_TX, in, len, &out, NULL);
	CHECK(out.count == 1 && is_marked_copy(in, out.data[0], len) && out.marked == 1,
	      "dir=tx: sent marked");
	one_through("ce=1,dir=rx", FAULT_TX, in, len, &out, NULL);
	CHECK(out.count == 1 && memcmp(in, out.data[0], len) == 0, "dir=rx: sent untouched");

	one_through("ce=1,dup=1", FAULT_RX, in, len, &out, NULL);
	CHECK(out.count == 2 && is_marked_copy(in, out.data[0], len) &&
		      is_marked_copy(in, out.data[1], len),
	      "the duplicate carries the mark");
	memcpy(marked, out.data[0], len);
	one_through("ce=1,corrupt=1,seed=3", FAULT_RX, in, len, &out, NULL);
	for (size_t i = 0; out.count == 1 && i < len; i++)
		flipped += __builtin_popcount(marked[i] ^ out.data[0][i]);
	CHECK(out.count == 1 && out.marked == 1 && flipped == 1,
	      "corrupt= flips one bit of the marked frame (%d bits differ)", flipped);
}

/* The ids of the frames that came out of an rx run of spec_text over 3000
 * ECT(0) IPv4 frames (so ce= has something to mark), in order, into
 * ids[0..cap); returns how many.  *marked and *dropped get those counts. */
static int ce_run_ids(const char *spec_text, uint32_t *ids, int cap, uint64_t *marked,
		      uint64_t *dropped)
{
	struct fault_spec spec = spec_of(spec_text);
	uint8_t in[TCPIP_FRAME_BUF], bufs[TCPIP_BATCH][TCPIP_FRAME_BUF];
	struct frame frames[TCPIP_BATCH];
	struct run r = {0};
	struct fault_env env = {.clock = run_clock, .clock_ctx = &r};
	struct dev *mem = dev_mem_open(), *dev = fault_wrap(mem, &spec, &env);
	int count = 0, got;

	for (int i = 0; i < TCPIP_BATCH; i++)
		frames[i] = (struct frame){.data = bufs[i], .cap = sizeof bufs[i]};
	for (uint32_t id = 1; id <= 3000 || dev_next_release_us(dev) >= 0; id++) {
		if (id <= 3000)
			dev_mem_push(mem, in, make_ip_frame(in, id, ETHERTYPE_IPV4, 0x45, 0x02, 0));
		while ((got = dev_recv(dev, frames, TCPIP_BATCH)) > 0)
			for (int i = 0; i < got && count < cap; i++)
				ids[count++] = get_be32(frames[i].data + 2);
		r.now_us += 1000;
	}
	*marked = fault_counts(dev, FAULT_RX)->ce_marked;
	*dropped = fault_counts(dev, FAULT_RX)->dropped;
	dev_close(dev);
	return count;
}

/* The determinism rule (fault.h): ce= draws from generators of its own, so
 * adding it moves none of the other faults; and every seed gives exactly
 * the run it gave before ce= existed (digests recorded then). */
static void test_ce_leaves_other_faults(void)
{
	static const char *const pairs[][2] = {
		{"drop=0.3,seed=5", "drop=0.3,ce=0.5,seed=5"},
		{"drop=0.3,seed=77", "drop=0.3,ce=1,seed=77"},
		{"drop=0.05,dup=0.05,reorder=0.05,seed=42",
		 "drop=0.05,dup=0.05,reorder=0.05,ce=0.5,seed=42"},
	};
	const char *all = "drop=0.05,dup=0.05,corrupt=0.05,reorder=0.05,delay=3ms,seed=42";
	static uint32_t ids_a[2 * 3000], ids_b[2 * 3000];
	struct fault_spec spec = spec_of(all);
	struct run r;

	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		uint64_t marked_a, marked_b, dropped_a, dropped_b;
		int na = ce_run_ids(pairs[i][0], ids_a, 2 * 3000, &marked_a, &dropped_a);
		int nb = ce_run_ids(pairs[i][1], ids_b, 2 * 3000, &marked_b, &dropped_b);

		CHECK(na == nb && memcmp(ids_a, ids_b, (size_t)na * sizeof ids_a[0]) == 0 &&
			      dropped_a == dropped_b && dropped_a > 0,
		      "'%s' and '%s': the same frames out, in the same order", pairs[i][0],
		      pairs[i][1]);
		CHECK(marked_a == 0 && marked_b > 0, "and the second marked some (%llu)",
		      (unsigned long long)marked_b);
	}
	CHECK(digest_of(all) == 0x87cb9160ae26c9e1u, "rx: the run of seed 42 from before ce=");
	run_open(&r, &spec, NULL);
	run_tx(&r, 3000);
	CHECK(run_digest(&r) == 0xb9a7dff6be4bcec0u, "tx: the run of seed 42 from before ce=");
	run_close(&r);
}

/* A line per mark, none for a frame left alone, and the count at close. */
static void test_ce_log(void)
{
	char *text = NULL;
	size_t size = 0;
	FILE *log = open_memstream(&text, &size);
	uint8_t in[TCPIP_FRAME_BUF];
	size_t len = make_ip_frame(in, 1, ETHERTYPE_IPV4, 0x45, 0x02, 1);
	struct ce_out out;

	one_through("ce=1", FAULT_RX, in, len, &out, log);
	in[15] = 0x01;
	one_through("ce=1", FAULT_TX, in, len, &out, log);
	in[15] = 0x00;
	one_through("ce=1", FAULT_RX, in, len, &out, log);
	fclose(log);
	CHECK(text && strstr(text, "fault: rx ce frame 1 (54 bytes): ECT(0) -> CE\n") &&
		      strstr(text, "fault: tx ce frame 1 (54 bytes): ECT(1) -> CE\n"),
	      "a line per mark: %s", text);
	CHECK(text && strstr(text, "fault: rx 1 frames: 0 dropped, 0 too long, 1 marked CE, 0 "
				   "corrupted,") &&
		      strstr(text, "; tx 1 frames: 0 dropped, 0 too long, 1 marked CE,") &&
		      strstr(text, "fault: rx 1 frames: 0 dropped, 0 too long, 0 marked CE,"),
	      "counts at close: %s", text);
	CHECK(text && !strstr(text, "Not-ECT"), "no line for a frame left alone");
	free(text);
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
	test_ce_marks();
	test_ce_checksum_every_value();
	test_ce_rate_and_order();
	test_ce_leaves_other_faults();
	test_log();
	test_ce_log();
	return test_report("test_fault");
}
