/*
 * ipv4parse - chapter 2: parse every IPv4 header on an interface.
 *
 * Each frame goes through the stack's input (stack_input), which checks the
 * Ethernet and IPv4 headers.  A good header prints its fields; a bad one
 * prints the name of the rule it breaks and the RFC that states the rule.
 */
#include <stdio.h>

#include "tcpip/prog.h"

/* Formats the flags of hdr as tcpdump does: "[DF]", "[MF]", "[DF+MF]", "[none]". */
static const char *ipv4parse_flags(const struct ip4_hdr *hdr)
{
	bool df = hdr->frag & IP4_FLAG_DF, mf = hdr->frag & IP4_FLAG_MF;

	return df && mf ? "[DF+MF]" : df ? "[DF]" : mf ? "[MF]" : "[none]";
}

/* The end of an ok line: nothing when the whole frame was accepted; a note
 * for a fragment; otherwise the verdict of the layer above IPv4 (chapter 3's
 * checks, or ip4_not_for_us with -a), so "ok" never hides a drop. */
static const char *ipv4parse_after(const struct stack_rx *rx, char *buf, size_t cap)
{
	if (rx->verdict == DROP_NONE)
		return "";
	if (rx->verdict == DROP_IP4_FRAGMENT)
		return ", fragment (not reassembled)";
	snprintf(buf, cap, ", then %s", drop_name(rx->verdict));
	return buf;
}

/* Prints the fields of a header that passed every rule. */
static void ipv4parse_print_ok(const struct stack_rx *rx, const char *when)
{
	const struct ip4_hdr *ip = &rx->ip4;
	const char *proto = ip4_proto_name(ip->proto);
	char src[16], dst[16], after[64];

	printf("%s IPv4 %s > %s: ihl %u tos 0x%02x len %u id %u flags %s off %u ttl %u "
	       "proto %s (%u) cksum 0x%04x ok%s\n",
	       when, ip4_ntoa(ip->src, src), ip4_ntoa(ip->dst, dst), ip->hdr_len / 4, ip->tos,
	       ip->total_len, ip->id, ipv4parse_flags(ip), (ip->frag & IP4_FRAG_OFFSET_MASK) * 8u,
	       ip->ttl, proto ? proto : "unknown", ip->proto, ip->checksum,
	       ipv4parse_after(rx, after, sizeof after));
}

/* stack_rx_fn: one line per frame. */
static void ipv4parse_rx(void *ctx, const struct stack_rx *rx)
{
	const struct prog_stack *ps = ctx;
	char when[16];

	prog_time(ps->frame->ts_us, when);
	if (!rx->has_eth) {
		printf("%s truncated frame, length %zu\n", when, rx->len);
	} else if (rx->eth.type != ETHERTYPE_IPV4) {
		const char *name = eth_type_name(rx->eth.type);

		printf("%s not IPv4: %s (0x%04x), length %zu\n", when, name ? name : "unknown",
		       rx->eth.type, rx->len);
	} else if (rx->has_ip4) {
		ipv4parse_print_ok(rx, when);
	} else {
		printf("%s IPv4 drop %s: %s (%s)\n", when, drop_name(rx->verdict),
		       drop_what(rx->verdict), drop_rfc(rx->verdict));
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct prog_opts opts = {
		.name = "ipv4parse",
		.usage = "-i IFACE [-a ADDR/PREFIX] [--pcap FILE] [-c COUNT] [-t SECONDS] [-v]",
		.about = "Parses each IPv4 header seen on IFACE and names every broken rule "
			 "(chapter 2).",
	};

	prog_parse(&opts, argc, argv);
	return prog_run_stack(&opts, ipv4parse_rx);
}
