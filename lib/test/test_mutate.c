/*
 * test_mutate.c - nothing crashes, over-reads or leaks on hostile bytes.
 *
 * Every frame vector is mutated many times (bits flipped, bytes set to edge
 * values, cut short, IHL and lengths bent) with a seeded generator, and each
 * result goes through stack_input() from the end of a guard page.  Under the
 * asan-ubsan preset any over-read, undefined behaviour or leak aborts the
 * run; in every build each verdict must be a known reason, and the counters
 * must add up.  A fuzzer in miniature, run by every test command.
 */
#include <stdlib.h>
#include <string.h>

#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/config.h"
#include "tcpip/stack.h"
#include "vec.h"

#define MAX_SEEDS 256
#define ROUNDS_PER_SEED 4000

struct seeds {
	int count;
	size_t len[MAX_SEEDS];
	uint8_t frame[MAX_SEEDS][TCPIP_FRAME_BUF];
};

/* xorshift64*, seeded, so a failure reproduces. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1DULL;
}

/* stack_tx_fn: the answers go nowhere, but through the whole output path. */
static int drop_tx(void *ctx, const uint8_t *frame, size_t len)
{
	(void)ctx;
	return frame && len >= 14 ? 0 : -1;
}

/* Loads every frame of one vector file into seeds. */
static void load_seeds(struct seeds *seeds, const char *file_name)
{
	static struct vec v;
	char path[512];
	int lineno = 0;
	FILE *file = vec_open(file_name, path, sizeof path);

	CHECK(file != NULL, "cannot open %s", path);
	while (file && seeds->count < MAX_SEEDS && vec_next(file, path, &v, &lineno) == 1) {
		long len = vec_hex(vec_get(&v, "frame") ? vec_get(&v, "frame") : "",
				   seeds->frame[seeds->count], TCPIP_FRAME_BUF);

		if (len >= 0)
			seeds->len[seeds->count++] = (size_t)len;
	}
	if (file)
		fclose(file);
}

/* Applies one to four random mutations to frame[0..*len) (cap bytes). */
static void mutate(uint8_t *frame, size_t *len, size_t cap, uint64_t *state)
{
	static const uint8_t edges[] = {0x00, 0x01, 0x04, 0x05, 0x0f, 0x40, 0x45, 0x4f, 0x7f,
					0x80, 0xfe, 0xff};
	int count = 1 + (int)(next_random(state) % 4);

	for (int i = 0; i < count; i++) {
		size_t at = *len ? next_random(state) % *len : 0;

		switch (next_random(state) % 5) {
		case 0: if (*len) frame[at] ^= (uint8_t)(1u << (next_random(state) % 8)); break;
		case 1: if (*len) frame[at] = edges[next_random(state) % sizeof edges]; break;
		case 2: *len = at; break; /* cut short */
		case 3: /* grow with random bytes */
			for (size_t n = next_random(state) % 64; n > 0 && *len < cap; n--)
				frame[(*len)++] = (uint8_t)next_random(state);
			break;
		default: /* bend the IPv4 version/IHL or total length */
			if (*len > 17) {
				frame[14] = (uint8_t)next_random(state);
				frame[16 + next_random(state) % 2] = (uint8_t)next_random(state);
			}
			break;
		}
	}
}

/* Half the time, signs a mutated IPv4+TCP frame's segment again (when its
 * lengths allow), so mutations reach the TCP state machine, not only the
 * checksum check. */
static void maybe_resign_tcp(uint8_t *frame, size_t len, uint64_t *state)
{
	size_t ihl, total, seg_len;
	uint8_t *seg;

	if (next_random(state) % 2 || len < 34 || frame[12] != 0x08 || frame[13] != 0 ||
	    frame[23] != IPPROTO_NUM_TCP)
		return;
	ihl = (size_t)(frame[14] & 0x0f) * 4;
	total = get_be16(frame + 16);
	if (ihl < 20 || total < ihl + 20 || total > len - 14)
		return;
	seg = frame + 14 + ihl;
	seg_len = total - ihl;
	put_be16(seg + 16, 0);
	put_be16(seg + 16, cksum_finish(cksum_add(cksum_pseudo4(get_be32(frame + 26), get_be32(frame + 30),
						       IPPROTO_NUM_TCP, (uint16_t)seg_len),
					  seg, seg_len)));
}

int main(void)
{
	static struct seeds seeds;
	static uint8_t work[TCPIP_FRAME_BUF];
	struct stack_cfg cfg = {.mac = {2, 0, 0, 0, 0, 2}, .ip4_addr = 0xc0000202, .prefix_len = 24,
				.answer_echo = true, .tx = drop_tx};
	struct stack *st = stack_new(&cfg);
	uint64_t state = 0x6d757461746521ULL, accepted = 0, dropped = 0;
	long runs = 0;

	load_seeds(&seeds, "frames/ipv4.vec");
	load_seeds(&seeds, "frames/l4.vec");
	load_seeds(&seeds, "frames/arp.vec");
	load_seeds(&seeds, "frames/icmp.vec");
	load_seeds(&seeds, "frames/tcp.vec");
	tcp_listen(st, 81, 4);   /* the TCP vectors' port: mutations meet a listener */
	CHECK(seeds.count > 20 && st, "seeds: %d", seeds.count);
	for (int s = 0; s < seeds.count; s++) {
		for (int round = 0; round < ROUNDS_PER_SEED; round++, runs++) {
			size_t len = seeds.len[s];
			uint8_t *copy;
			enum drop_reason verdict;

			memcpy(work, seeds.frame[s], len);
			mutate(work, &len, sizeof work, &state);
			maybe_resign_tcp(work, len, &state);
			copy = guard_copy(work, len);
			if (!copy)
				abort();
			verdict = stack_input(st, (stack_time_ms)runs, copy, len);
			guard_free(copy, len);
			CHECK((unsigned)verdict < DROP__COUNT, "seed %d round %d: verdict %d", s, round,
			      verdict);
			*(verdict == DROP_NONE ? &accepted : &dropped) += 1;
		}
	}
	{
		const struct stack_counters *c = stack_counters(st);
		uint64_t drops = 0;

		for (int i = 0; i < DROP__COUNT; i++)
			drops += c->drops[i];
		CHECK(c->tcp_bad_transitions == 0, "a state change outside the table");
		CHECK(c->frames_in == (uint64_t)runs && c->ip4_delivered + c->arp_in == accepted &&
			      drops == dropped,
		      "counters do not add up");
	}
	printf("test_mutate: %ld mutated frames from %d seeds: %llu accepted, %llu dropped\n", runs,
	       seeds.count, (unsigned long long)accepted, (unsigned long long)dropped);
	stack_free(st);
	return test_report("test_mutate");
}
