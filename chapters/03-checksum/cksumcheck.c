/*
 * cksumcheck - chapter 3: verify every checksum on an interface.
 *
 * For each IPv4 packet: the header checksum (RFC 791), then the ICMP, UDP or
 * TCP checksum (RFC 792, RFC 768, RFC 9293 with the pseudo-header).  A wrong
 * one is shown beside the value it should have had.
 */
#include <stdio.h>

#include "tcpip/cksum.h"
#include "tcpip/prog.h"

/* Prints ", PROTO cksum 0xNNNN VERDICT" for the transport of rx. */
static void cksumcheck_print_l4(const struct stack_rx *rx, unsigned frame_flags)
{
	const char *proto = ip4_proto_name(rx->ip4.proto);
	enum verdict_class cls = drop_class(rx->verdict);

	if (rx->verdict != DROP_NONE && cls != CLASS_CHECKSUM) {
		/* The gate stopped before the checksum: there is no value to show. */
		printf(", %s not checked: %s", proto, drop_name(rx->verdict));
		return;
	}
	printf(", %s cksum 0x%04x", proto, rx->l4.received);
	if (rx->verdict == DROP_NONE && rx->ip4.proto == IPPROTO_NUM_UDP && rx->l4.received == 0)
		printf(" none (sender computed no checksum)");
	else if (rx->verdict == DROP_NONE)
		printf(" ok");
	else if (cls == CLASS_CHECKSUM && (frame_flags & FRAME_CSUM_PARTIAL))
		printf(" partial (left to offload, not an error), final 0x%04x", rx->l4.expected);
	else
		printf(" BAD, should be 0x%04x", rx->l4.expected);
}

/* Prints the IPv4 header checksum's verdict (the header passed ip4_check
 * when has_ip4; otherwise says what stopped it). */
static void cksumcheck_print_ip(const struct stack_rx *rx)
{
	char src[16], dst[16];

	if (rx->has_ip4) {
		printf(" %s > %s: ip cksum 0x%04x ok", ip4_ntoa(rx->ip4.src, src),
		       ip4_ntoa(rx->ip4.dst, dst), rx->ip4.checksum);
	} else if (rx->verdict == DROP_IP4_BAD_CHECKSUM) {
		size_t hdr_len = (size_t)(rx->ip4_bytes[0] & 0x0f) * 4; /* ip4_check found it all */

		printf(" ip cksum 0x%04x BAD, should be 0x%04x",
		       (unsigned)(rx->ip4_bytes[10] << 8 | rx->ip4_bytes[11]),
		       cksum_expected(0, rx->ip4_bytes, hdr_len, 10));
	} else {
		printf(" ip header not checked: %s", drop_name(rx->verdict));
	}
}

/* stack_rx_fn: one line per frame. */
static void cksumcheck_rx(void *ctx, const struct stack_rx *rx)
{
	const struct prog_stack *ps = ctx;
	char when[16];

	prog_time(ps->frame->ts_us, when);
	if (!rx->has_eth || rx->eth.type != ETHERTYPE_IPV4) {
		printf("%s not IPv4, length %zu\n", when, rx->len);
		fflush(stdout);
		return;
	}
	printf("%s", when);
	cksumcheck_print_ip(rx);
	if (rx->has_l4)
		cksumcheck_print_l4(rx, ps->frame->flags);
	else if (rx->has_ip4)
		printf(", %s", drop_name(rx->verdict));
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct prog_opts opts = {
		.name = "cksumcheck",
		.usage = "-i IFACE [-a ADDR/PREFIX] [--pcap FILE] [-c COUNT] [-t SECONDS] [-v]",
		.about = "Verifies the IPv4, ICMP, UDP and TCP checksums of each packet seen on "
			 "IFACE (chapter 3).",
	};

	prog_parse(&opts, argc, argv);
	return prog_run_stack(&opts, cksumcheck_rx);
}
