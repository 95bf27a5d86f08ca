/*
 * bytes.h - network byte order reads and writes.
 *
 * Wire formats are big-endian (RFC 1700, "network byte order").  These helpers
 * read and write through byte pointers, so they never cast a struct onto packet
 * bytes and never make an unaligned access.
 */
#ifndef TCPIP_BYTES_H
#define TCPIP_BYTES_H

#include <stdint.h>

/* Reads the big-endian 16-bit value at p (2 readable bytes). */
static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Reads the big-endian 32-bit value at p (4 readable bytes). */
static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes v big-endian at p (2 writable bytes). */
static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Writes v big-endian at p (4 writable bytes). */
static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
