/*
 * cksum.c - the Internet checksum: RFC 1071 (the sum), RFC 1624 (the
 * incremental update), and the IPv4 pseudo-header of TCP and UDP.
 *
 * Two ways to sum, proven equal by lib/test/test_cksum.c on random inputs:
 * cksum_add_ref() reads one 16-bit word at a time, as the RFC's sample code
 * does; cksum_add() reads 8 bytes at a time in the machine's own byte order and
 * defers all carries to the end.  RFC 1071 section 2 says why that is allowed:
 * the sum is (A) commutative and associative, (B) independent of byte order,
 * and (D) its carries may be deferred.
 */
#include "tcpip/cksum.h"

#include <string.h>

#include "tcpip/bytes.h"

uint32_t cksum_add_ref(uint32_t partial, const void *data, size_t len)
{
	const uint8_t *byte = data;
	uint64_t sum = partial;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get_be16(byte + i);
	if (len % 2)
		sum += (uint32_t)byte[len - 1] << 8;
	while (sum >> 32)
		sum = (sum & 0xffffffff) + (sum >> 32);
	return (uint32_t)sum;
}

/* Folds a 64-bit one's complement sum to 16 bits (end-around carries). */
static uint16_t cksum_fold64(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Sums data[0..len) as native-order 16-bit words, 8 bytes per load, into a
 * 64-bit accumulator.  Each load is split into two 32-bit halves, adding at
 * most 2^33 - 2, so the sum can take 2^31 loads (16 GiB) before it could
 * overflow: no carry is lost on any packet (RFC 1071 2(D)). */
static uint64_t cksum_sum_native(const uint8_t *byte, size_t len)
{
	uint64_t sum = 0;
	uint64_t word;

	for (; len >= 32; len -= 32, byte += 32) {
		for (int k = 0; k < 4; k++) {
			memcpy(&word, byte + 8 * k, 8);
			sum += (word & 0xffffffff) + (word >> 32);
		}
	}
	for (; len >= 8; len -= 8, byte += 8) {
		memcpy(&word, byte, 8);
		sum += (word & 0xffffffff) + (word >> 32);
	}
	/* The last 0..7 bytes, by fixed-size loads so no call to memcpy() is
	 * needed for a variable length. */
	if (len & 4) {
		uint32_t word32;

		memcpy(&word32, byte, 4);
		sum += word32;
		byte += 4;
	}
	if (len & 2) {
		uint16_t word16;

		memcpy(&word16, byte, 2);
		sum += word16;
		byte += 2;
	}
	if (len & 1) {
		/* A lone last byte is the high byte of a word whose low byte is
		 * 0 (RFC 1071 4.1); laid out in memory as {byte, 0}. */
		const uint8_t pair[2] = {*byte, 0};
		uint16_t word16;

		memcpy(&word16, pair, 2);
		sum += word16;
	}
	return sum;
}

uint32_t cksum_add(uint32_t partial, const void *data, size_t len)
{
	uint16_t native = cksum_fold64(cksum_sum_native(data, len));
	/* On a little-endian machine the words were read byte-swapped; the sum
	 * of swapped words is the swapped sum (RFC 1071 2(B)), so swap it back
	 * by reading its bytes in network order. */
	uint16_t sum16 = get_be16((const uint8_t *)&native);
	uint64_t sum = (uint64_t)partial + sum16;

	return (uint32_t)((sum & 0xffffffff) + (sum >> 32));
}

uint16_t cksum_finish(uint32_t partial)
{
	return (uint16_t)~cksum_fold64(partial);
}

uint16_t cksum(const void *data, size_t len)
{
	return cksum_finish(cksum_add(0, data, len));
}

uint32_t cksum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + l4_len;
}

uint16_t cksum_update16(uint16_t old_cksum, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~old_cksum;

	sum += (uint16_t)~old_word;
	sum += new_word;
	return cksum_finish(sum);
}

uint16_t cksum_expected(uint32_t extra, const uint8_t *data, size_t len, size_t field_off)
{
	uint32_t sum = cksum_add(extra, data, len);

	/* Take the field's word back out: adding its complement subtracts it. */
	sum += (uint16_t)~get_be16(data + field_off);
	return cksum_finish(sum);
}
