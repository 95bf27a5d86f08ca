/*
 * pingd - chapter 5: a host that answers ARP and ping.
 *
 * Chapter 4's host, with ICMP echo: each echo request for our address gets
 * an echo reply with the same identifier, sequence number and data, sent
 * through the IPv4 output path (route, header, ARP).  One line per event.
 */
#include "tcpip/prog.h"

int main(int argc, char **argv)
{
	struct prog_opts opts = {
		.name = "pingd",
		.usage = "-i IFACE -a ADDR/PREFIX [--resolve ADDR] [--pcap FILE] [-c COUNT] "
			 "[-t SECONDS] [-v]",
		.about = "Answers ARP and ICMP echo (ping) for ADDR on IFACE (chapter 5).",
		.host = true,
		.answer_echo = true,
	};

	prog_parse(&opts, argc, argv);
	return prog_run_stack(&opts, NULL);
}
