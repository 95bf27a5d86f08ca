/*
 * vec.h - reads the test-vector files of testvectors/ (format in
 * testvectors/README.md): blocks of "key: value" lines, a blank line between
 * blocks, '#' comments, indented lines continuing the previous value.
 */
#ifndef TCPIP_TEST_VEC_H
#define TCPIP_TEST_VEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VEC_MAX_KEYS 16
#define VEC_MAX_VALUE 16384

struct vec {
	int line;                     /* where the block starts, for messages */
	int nkeys;
	char key[VEC_MAX_KEYS][32];
	char value[VEC_MAX_KEYS][VEC_MAX_VALUE];
};

/* Reads the next block of file into *v.  Returns 1 for a block, 0 at the
 * end, -1 on a malformed line (printed with its line number). */
int vec_next(FILE *file, const char *path, struct vec *v, int *lineno);

/* The value of key in v, or NULL. */
const char *vec_get(const struct vec *v, const char *key);

/* Decodes the hex digits of text (whitespace ignored) into out; returns the
 * byte count, or -1 if text has an odd digit count, a non-hex character or
 * more than cap bytes. */
long vec_hex(const char *text, uint8_t *out, size_t cap);

/* Opens TCPIP_VECTORS/name (the directory from the environment, set by
 * CTest); prints why and returns NULL if it cannot. */
FILE *vec_open(const char *name, char *path, size_t path_cap);

/* Copies data[0..len) to the end of a page followed by an unmapped page, so
 * reading one byte past len faults at once (picohttpparser's trick).  Returns
 * the copy; guard_free() releases it.  NULL if mmap fails. */
uint8_t *guard_copy(const uint8_t *data, size_t len);
void guard_free(uint8_t *copy, size_t len);

/* Test bookkeeping: CHECK(cond, fmt, ...) counts and reports a failure. */
extern int test_failures;
extern int test_checks;
#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		test_checks++;                                                   \
		if (!(cond)) {                                                   \
			test_failures++;                                         \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);     \
			fprintf(stderr, __VA_ARGS__);                            \
			fputc('\n', stderr);                                     \
		}                                                                \
	} while (0)

/* Prints "NAME: N passed, N failed" and returns the exit status. */
int test_report(const char *name);

#endif
