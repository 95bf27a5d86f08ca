/*
 * vec.c - the test-vector reader and the small test kit (vec.h).
 */
#include "vec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int test_failures;
int test_checks;

/* Strips trailing whitespace from s in place. */
static void vec_rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* Appends text to v's last value with one space between; returns 0, or -1
 * if the value would overflow. */
static int vec_continue(struct vec *v, const char *text)
{
	char *value = v->value[v->nkeys - 1];
	size_t have = strlen(value), add = strlen(text);

	if (have + 1 + add + 1 > VEC_MAX_VALUE)
		return -1;
	value[have] = ' ';
	memcpy(value + have + 1, text, add + 1);
	return 0;
}

/* Adds "key: value" from line to v; returns 0, or -1 if malformed. */
static int vec_add(struct vec *v, char *line)
{
	char *colon = strchr(line, ':');
	const char *value;

	if (!colon || v->nkeys == VEC_MAX_KEYS || (size_t)(colon - line) >= sizeof v->key[0])
		return -1;
	*colon = '\0';
	value = colon + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (strlen(value) >= VEC_MAX_VALUE)
		return -1;
	strcpy(v->key[v->nkeys], line);
	strcpy(v->value[v->nkeys], value);
	v->nkeys++;
	return 0;
}

int vec_next(FILE *file, const char *path, struct vec *v, int *lineno)
{
	char line[VEC_MAX_VALUE];

	v->nkeys = 0;
	while (fgets(line, sizeof line, file)) {
		int bad;

		++*lineno;
		vec_rstrip(line);
		if (line[0] == '#')
			continue;
		if (line[0] == '\0') {
			if (v->nkeys > 0)
				return 1;
			continue;
		}
		if (v->nkeys == 0)
			v->line = *lineno;
		if (line[0] == ' ' || line[0] == '\t')
			bad = v->nkeys == 0 || vec_continue(v, line + strspn(line, " \t")) < 0;
		else
			bad = vec_add(v, line) < 0;
		if (bad) {
			fprintf(stderr, "%s:%d: malformed vector line\n", path, *lineno);
			return -1;
		}
	}
	return v->nkeys > 0;
}

const char *vec_get(const struct vec *v, const char *key)
{
	for (int i = 0; i < v->nkeys; i++)
		if (strcmp(v->key[i], key) == 0)
			return v->value[i];
	return NULL;
}

/* The value of hex digit c, or -1. */
static int vec_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long vec_hex(const char *text, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int high = -1;

	for (; *text; text++) {
		int digit;

		if (isspace((unsigned char)*text))
			continue;
		digit = vec_hex_digit(*text);
		if (digit < 0)
			return -1;
		if (high < 0) {
			high = digit;
			continue;
		}
		if (n == cap)
			return -1;
		out[n++] = (uint8_t)(high << 4 | digit);
		high = -1;
	}
	return high < 0 ? (long)n : -1;
}

FILE *vec_open(const char *name, char *path, size_t path_cap)
{
	const char *dir = getenv("TCPIP_VECTORS");
	FILE *file;

	snprintf(path, path_cap, "%s/%s", dir ? dir : "testvectors", name);
	file = fopen(path, "r");
	if (!file)
		perror(path);
	return file;
}

uint8_t *guard_copy(const uint8_t *data, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (len + page - 1) / page * page + page;
	uint8_t *base = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED)
		return NULL;
	if (mprotect(base + span - page, page, PROT_NONE) < 0) {
		munmap(base, span);
		return NULL;
	}
	memcpy(base + span - page - len, data, len);
	return base + span - page - len;
}

void guard_free(uint8_t *copy, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (len + page - 1) / page * page + page;

	munmap(copy + len + page - span, span);
}

int test_report(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, test_checks - test_failures, test_failures);
	return test_failures == 0 ? 0 : 1;
}
