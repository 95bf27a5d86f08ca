/*
 * cksum.h - the Internet checksum (RFC 1071), its incremental update
 * (RFC 1624) and the pseudo-header of TCP and UDP (RFC 9293 3.1, RFC 768).
 *
 * The checksum is the one's complement of the one's complement sum of 16-bit
 * big-endian words.  A running sum is kept in a uint32_t "partial" that has not
 * been folded yet; cksum_finish() folds and complements it.
 * Partial sums may be chained: every piece but the last must have an even
 * length, because a 16-bit word cannot straddle two pieces.
 */
#ifndef TCPIP_CKSUM_H
#define TCPIP_CKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds the bytes data[0..len) to partial, one 16-bit word at a time: the
 * reference, written to read like RFC 1071 section 4.1.  An odd last byte is
 * the high byte of a word whose low byte is 0.  Returns the new partial. */
uint32_t cksum_add_ref(uint32_t partial, const void *data, size_t len);

/* Same result as cksum_add_ref(), up to folding: sums 8 bytes at a time into a
 * 64-bit accumulator (RFC 1071 section 2(D), "deferred carries", and 2(B),
 * byte order independence).  Any alignment, any length. */
uint32_t cksum_add(uint32_t partial, const void *data, size_t len);

/* Folds the partial sum to 16 bits and complements it: the value to store in
 * a checksum field, in host order. */
uint16_t cksum_finish(uint32_t partial);

/* The checksum of data[0..len): cksum_finish(cksum_add(0, data, len)).
 * A header whose checksum field is correct gives 0 here. */
uint16_t cksum(const void *data, size_t len);

/* The partial sum of the IPv4 pseudo-header: source and destination address
 * (host order), zero, protocol, and the transport length in bytes. */
uint32_t cksum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len);

/* RFC 1624 equation 3: the new checksum field after one 16-bit word of the
 * covered data changes from old_word to new_word: ~(~HC + ~m + m'). */
uint16_t cksum_update16(uint16_t old_cksum, uint16_t old_word, uint16_t new_word);

/* The value the checksum field at field_off should hold for data[0..len),
 * whatever it holds now, given extra (a pseudo-header partial, or 0).
 * field_off + 2 <= len, field_off even. */
uint16_t cksum_expected(uint32_t extra, const uint8_t *data, size_t len, size_t field_off);

#endif
