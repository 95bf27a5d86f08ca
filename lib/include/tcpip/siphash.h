/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein, 2012), a keyed
 * pseudorandom function of short inputs.
 *
 * TCP uses it twice, with one secret key: as RFC 9293 3.4.1's F() in the
 * initial sequence number (MUST-8, MUST-9; RFC 6528), and to hash four-tuples
 * into the connection table, so a peer who does not know the key can neither
 * guess our ISN nor aim many connections at one bucket.
 */
#ifndef TCPIP_SIPHASH_H
#define TCPIP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

/* SipHash-2-4 of data[0..len) under key; the 64-bit result. */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const uint8_t *data, size_t len);

#endif
