/*
 * rawread - chapter 1: read raw frames from one interface, one line each.
 *
 * Opens an AF_PACKET socket (needs CAP_NET_RAW), drops every capability,
 * then prints each frame's time, MAC addresses, EtherType and length, the way
 * tcpdump -e does.  --pcap saves the frames for Wireshark or tshark.
 */
#include <stdio.h>

#include "tcpip/eth.h"
#include "tcpip/prog.h"

/* Prints one line for frame: "TIME SRC > DST, TYPE (0xNNNN), length N". */
static bool rawread_frame(void *ctx, const struct frame *frame)
{
	struct eth_hdr eth;
	char when[16], src[18], dst[18];
	const char *type_name;

	(void)ctx;
	prog_time(frame->ts_us, when);
	if (eth_parse(frame->data, frame->len, &eth) != DROP_NONE) {
		printf("%s truncated frame, length %zu\n", when, frame->wire_len);
		return true;
	}
	type_name = eth_type_name(eth.type);
	printf("%s %s > %s, %s (0x%04x), length %zu\n", when, eth_ntoa(eth.src, src),
	       eth_ntoa(eth.dst, dst), type_name ? type_name : "unknown", eth.type,
	       frame->wire_len);
	fflush(stdout);
	return true;
}

int main(int argc, char **argv)
{
	struct prog_opts opts = {
		.name = "rawread",
		.usage = "-i IFACE [--pcap FILE] [-c COUNT] [-t SECONDS] [-v]",
		.about = "Prints one line per Ethernet frame seen on IFACE (chapter 1).",
	};
	struct dev *dev;
	int rc;

	prog_parse(&opts, argc, argv);
	dev = prog_open_dev(&opts);
	rc = prog_loop(&opts, dev, NULL, rawread_frame, NULL);
	if (prog_close_dev(&opts, dev) < 0)
		rc = -1;
	return rc == 0 ? PROG_EXIT_OK : PROG_EXIT_RUNTIME;
}
