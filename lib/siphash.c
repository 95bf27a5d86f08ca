/*
 * siphash.c - SipHash-2-4, written from the algorithm's description in
 * "SipHash: a fast short-input PRF" (2012): four 64-bit words of state, two
 * rounds per 8-byte block, four to finish.  Words are read little-endian.
 */
#include "tcpip/siphash.h"

/* Reads 8 bytes little-endian (fewer: the rest are zero). */
static uint64_t sip_le64(const uint8_t *p, size_t len)
{
	uint64_t word = 0;

	for (size_t i = 0; i < len; i++)
		word |= (uint64_t)p[i] << (8 * i);
	return word;
}

static uint64_t sip_rotl(uint64_t word, unsigned bits)
{
	return word << bits | word >> (64 - bits);
}

/* One SipRound over the state v[0..4). */
static void sip_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = sip_rotl(v[1], 13); v[1] ^= v[0]; v[0] = sip_rotl(v[0], 32);
	v[2] += v[3]; v[3] = sip_rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = sip_rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = sip_rotl(v[1], 17); v[1] ^= v[2]; v[2] = sip_rotl(v[2], 32);
}

/* Absorbs one message word with the two compression rounds. */
static void sip_absorb(uint64_t v[4], uint64_t word)
{
	v[3] ^= word;
	sip_round(v);
	sip_round(v);
	v[0] ^= word;
}

uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const uint8_t *data, size_t len)
{
	uint64_t k0 = sip_le64(key, 8), k1 = sip_le64(key + 8, 8);
	uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
			 k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
	size_t whole = len - len % 8;

	for (size_t pos = 0; pos < whole; pos += 8)
		sip_absorb(v, sip_le64(data + pos, 8));
	/* The last block: the leftover bytes, and the length's low byte on top. */
	sip_absorb(v, sip_le64(data + whole, len % 8) | (uint64_t)(len & 0xff) << 56);
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
