/*
 * test_tcp_data.c - two of our stacks talk over a virtual wire that loses,
 * duplicates, reorders and corrupts frames, in virtual time (duplex.h):
 * every byte must arrive whole, in order, once, and both ends must close
 * cleanly.
 *
 * A seeded generator picks the faults, so each run is the same.  No device,
 * no root, no clock: a megabyte each way under 10% loss runs in well under
 * a second, under AddressSanitizer too.  (The harness does the same against
 * Linux over veth with the fault injector; this is the part that needs
 * neither.)
 */
#include "duplex.h"
#include "vec.h"

/* A transfer of a million bytes each way through faults, seeded. */
static void transfer(const char *name, struct faults faults, uint64_t seed)
{
	duplex_transfer(&(struct duplex_run){.name = name, .faults = faults, .seed = seed,
					     .bytes = 1000000});
}

int main(void)
{
	transfer("test_tcp_data: clean", (struct faults){0, 0, 0, 0}, 1);
	transfer("test_tcp_data: 1% loss", (struct faults){10, 0, 0, 0}, 2);
	transfer("test_tcp_data: 5% loss", (struct faults){50, 0, 0, 0}, 3);
	transfer("test_tcp_data: 10% loss", (struct faults){100, 0, 0, 0}, 4);
	transfer("test_tcp_data: reorder and duplicate", (struct faults){0, 20, 50, 0}, 5);
	transfer("test_tcp_data: corrupt", (struct faults){0, 0, 0, 10}, 6);
	transfer("test_tcp_data: everything", (struct faults){30, 10, 30, 5}, 7);
	return test_report("test_tcp_data");
}
