/*
 * arpd - chapter 4: a host on the link that answers ARP.
 *
 * With the address from -a, it announces itself (a gratuitous ARP), answers
 * every request for its address, learns its neighbours as RFC 826's merge
 * rule says, ages them, and with --resolve ADDR asks for one.  One line per
 * event: a request seen, a reply sent, an entry learned, aged or evicted.
 */
#include "tcpip/prog.h"

int main(int argc, char **argv)
{
	struct prog_opts opts = {
		.name = "arpd",
		.usage = "-i IFACE -a ADDR/PREFIX [--resolve ADDR] [--pcap FILE] [-c COUNT] "
			 "[-t SECONDS] [-v]",
		.about = "Answers ARP for ADDR on IFACE and keeps a neighbour cache (chapter 4).",
		.host = true,
	};

	prog_parse(&opts, argc, argv);
	return prog_run_stack(&opts, NULL);
}
