/*
 * bench_cksum - the fast Internet checksum against the plain one, in GB/s.
 *
 * A benchmark, not a test: it prints figures and never fails on them.  Each
 * sum runs over the same buffer for a fixed time per size; the result of each
 * run feeds the next so the compiler cannot drop the work.
 * Usage: bench_cksum [SECONDS_PER_CASE]   (default 0.5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tcpip/cksum.h"

typedef uint32_t (*sum_fn)(uint32_t partial, const void *data, size_t len);

/* Seconds on the monotonic clock. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sums buf[0..len) with fn repeatedly for about seconds; returns GB/s. */
static double measure(sum_fn fn, const uint8_t *buf, size_t len, double seconds)
{
	volatile uint32_t sink = 0;
	uint64_t bytes = 0;
	double start = now_s(), elapsed;

	do {
		for (int i = 0; i < 64; i++)
			sink = fn(sink & 0xffff, buf, len);
		bytes += 64 * (uint64_t)len;
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	return (double)bytes / elapsed / 1e9;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {20, 64, 576, 1500, 65536};
	double seconds = argc > 1 ? atof(argv[1]) : 0.5;
	uint8_t *buf = malloc(65536 + 1);

	if (!buf || seconds <= 0 || seconds > 60) {
		fprintf(stderr, "usage: bench_cksum [SECONDS_PER_CASE (0-60]]\n");
		return 2;
	}
	for (size_t i = 0; i < 65537; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	printf("%-8s %-6s %12s %12s %8s\n", "bytes", "align", "plain GB/s", "fast GB/s", "fast/plain");
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		for (size_t align = 0; align < 2; align++) {
			double plain = measure(cksum_add_ref, buf + align, sizes[s], seconds);
			double fast = measure(cksum_add, buf + align, sizes[s], seconds);

			printf("%-8zu %-6zu %12.2f %12.2f %8.2fx\n", sizes[s], align, plain, fast,
			       fast / plain);
		}
	}
	free(buf);
	return 0;
}
