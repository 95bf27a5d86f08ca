/*
 * test_cksum.c - the checksum against testvectors/cksum.vec, and the fast
 * sum against the plain one on random inputs (RFC 1071, RFC 1624).
 */
#include <stdlib.h>
#include <string.h>

#include "tcpip/cksum.h"
#include "tcpip/ip4.h"
#include "vec.h"

/* Parses "0x1234" into a 16-bit value; -1 if malformed. */
static long parse_u16(const char *text)
{
	char *end;
	long value = strtol(text, &end, 16);

	return end == text || value < 0 || value > 0xffff ? -1 : value;
}

/* The pseudo-header partial of "192.0.2.1 192.0.2.2 6 20"; -1 if malformed. */
static long parse_pseudo(const char *text)
{
	char src[16], dst[16];
	unsigned proto, len;
	uint32_t src_addr, dst_addr;

	if (sscanf(text, "%15s %15s %u %u", src, dst, &proto, &len) != 4 ||
	    ip4_aton(src, &src_addr) < 0 || ip4_aton(dst, &dst_addr) < 0)
		return -1;
	return cksum_pseudo4(src_addr, dst_addr, (uint8_t)proto, (uint16_t)len);
}

/* Checks a "data" vector: both sums, the folded sum and the checksum. */
static void check_data_vector(const struct vec *v, const char *name)
{
	static uint8_t data[VEC_MAX_VALUE / 2];
	long len = vec_hex(vec_get(v, "data"), data, sizeof data);
	const char *pseudo_text = vec_get(v, "pseudo");
	long pseudo = pseudo_text ? parse_pseudo(pseudo_text) : 0;
	long want_sum = parse_u16(vec_get(v, "sum") ? vec_get(v, "sum") : "");
	long want = parse_u16(vec_get(v, "cksum") ? vec_get(v, "cksum") : "");
	uint8_t *copy;

	CHECK(len >= 0 && pseudo >= 0 && want_sum >= 0 && want >= 0, "%s: malformed", name);
	if (len < 0 || pseudo < 0)
		return;
	copy = guard_copy(data, (size_t)len);
	CHECK(copy != NULL, "%s: guard page", name);
	if (!copy)
		return;
	CHECK(cksum_finish(cksum_add_ref((uint32_t)pseudo, copy, (size_t)len)) == want,
	      "%s: reference sum gives 0x%04x, want 0x%04lx", name,
	      cksum_finish(cksum_add_ref((uint32_t)pseudo, copy, (size_t)len)), want);
	CHECK(cksum_finish(cksum_add((uint32_t)pseudo, copy, (size_t)len)) == want,
	      "%s: fast sum gives 0x%04x, want 0x%04lx", name,
	      cksum_finish(cksum_add((uint32_t)pseudo, copy, (size_t)len)), want);
	CHECK((uint16_t)~cksum_finish(cksum_add((uint32_t)pseudo, copy, (size_t)len)) == want_sum,
	      "%s: folded sum differs", name);
	guard_free(copy, (size_t)len);
}

/* Checks an "update" vector with RFC 1624 eqn. 3. */
static void check_update_vector(const struct vec *v, const char *name)
{
	unsigned old_cksum, old_word, new_word;
	long want = parse_u16(vec_get(v, "cksum") ? vec_get(v, "cksum") : "");

	CHECK(sscanf(vec_get(v, "update"), "%x %x %x", &old_cksum, &old_word, &new_word) == 3 &&
		      want >= 0,
	      "%s: malformed", name);
	CHECK(cksum_update16((uint16_t)old_cksum, (uint16_t)old_word, (uint16_t)new_word) == want,
	      "%s: update gives 0x%04x, want 0x%04lx", name,
	      cksum_update16((uint16_t)old_cksum, (uint16_t)old_word, (uint16_t)new_word), want);
}

/* Runs every vector of testvectors/cksum.vec; returns how many. */
static int run_vectors(void)
{
	static struct vec v;
	char path[512];
	int lineno = 0, count = 0, rc;
	FILE *file = vec_open("cksum.vec", path, sizeof path);

	CHECK(file != NULL, "cannot open %s", path);
	if (!file)
		return 0;
	while ((rc = vec_next(file, path, &v, &lineno)) == 1) {
		const char *name = vec_get(&v, "vector");

		count++;
		CHECK(name && vec_get(&v, "rfc"), "%s:%d: vector without name or rfc", path, v.line);
		if (vec_get(&v, "update"))
			check_update_vector(&v, name ? name : "?");
		else
			check_data_vector(&v, name ? name : "?");
	}
	CHECK(rc == 0, "%s: read error", path);
	fclose(file);
	return count;
}

/* xorshift64*: a seeded generator, so a failure reproduces. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1DULL;
}

/* The fast sum equals the reference for random data, lengths 0..3000 and
 * start offsets 0..7, alone and chained after an even-length first piece. */
static void check_fast_equals_reference(int rounds)
{
	static uint8_t buf[3008];
	uint64_t state = 0x7463706970626f6bULL; /* fixed seed */

	for (int round = 0; round < rounds; round++) {
		size_t offset = next_random(&state) % 8;
		size_t len = next_random(&state) % 3001;
		size_t split = (next_random(&state) % (len / 2 + 1)) * 2;
		uint32_t start = (uint32_t)next_random(&state);

		for (size_t i = offset; i < offset + len; i++)
			buf[i] = (uint8_t)next_random(&state);
		if (round % 16 == 0) /* runs of 0xFF: the most carries */
			memset(buf + offset, 0xff, len);
		CHECK(cksum_finish(cksum_add(start, buf + offset, len)) ==
			      cksum_finish(cksum_add_ref(start, buf + offset, len)),
		      "round %d: fast != reference (offset %zu, len %zu)", round, offset, len);
		CHECK(cksum_finish(cksum_add(cksum_add(0, buf + offset, split), buf + offset + split,
					     len - split)) ==
			      cksum_finish(cksum_add_ref(0, buf + offset, len)),
		      "round %d: chained fast != reference (split %zu)", round, split);
	}
}

/* RFC 1624: after changing one word of random (not all-zero) data, eqn. 3
 * gives the same checksum as recomputing. */
static void check_update_equals_recompute(int rounds)
{
	uint8_t data[40];
	uint64_t state = 0x1624;

	for (int round = 0; round < rounds; round++) {
		size_t word = next_random(&state) % 20 * 2;
		uint16_t old_cksum, new_word = (uint16_t)next_random(&state);
		uint16_t old_word;

		for (size_t i = 0; i < sizeof data; i++)
			data[i] = (uint8_t)next_random(&state);
		data[0] |= 1; /* not all zero */
		if (word == 0)
			new_word |= 0x100;
		old_cksum = cksum(data, sizeof data);
		old_word = (uint16_t)(data[word] << 8 | data[word + 1]);
		data[word] = (uint8_t)(new_word >> 8);
		data[word + 1] = (uint8_t)new_word;
		CHECK(cksum_update16(old_cksum, old_word, new_word) == cksum(data, sizeof data),
		      "round %d: update != recompute", round);
	}
}

int main(void)
{
	int vectors = run_vectors();

	CHECK(vectors >= 20, "only %d checksum vectors", vectors);
	check_fast_equals_reference(50000);
	check_update_equals_recompute(100000);
	printf("test_cksum: %d vectors, 50000 random fast/reference rounds, 100000 update rounds\n",
	       vectors);
	return test_report("test_cksum");
}
