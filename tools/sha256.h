/*
 * sha256.h - SHA-256 (FIPS 180-4), for the agent's "data N HEX8" lines:
 * the receiver names the bytes it read by the start of their digest, and
 * the runner compares it with the digest of what was sent.
 */
#ifndef TCPIP_TOOLS_SHA256_H
#define TCPIP_TOOLS_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t state[8];
	uint64_t bytes;        /* message length so far */
	uint8_t block[64];     /* a partial block */
	size_t fill;
};

/* Starts a digest. */
void sha256_init(struct sha256 *ctx);

/* Adds data[0..len). */
void sha256_update(struct sha256 *ctx, const uint8_t *data, size_t len);

/* Finishes the digest into out (32 bytes); ctx must be started again after. */
void sha256_final(struct sha256 *ctx, uint8_t out[32]);

#endif
