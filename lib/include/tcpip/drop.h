/*
 * drop.h - the named verdict of every frame the stack refuses.
 *
 * One table lists each reason once: its name, its class, the rule it enforces
 * and the RFC section that states the rule.  The enum, the printed names, the
 * classes and the per-reason counters are all generated from it, so a new rule
 * is one new line.  Tests and the harness read verdicts by these names.
 */
#ifndef TCPIP_DROP_H
#define TCPIP_DROP_H

/* The class of a verdict: what kind of wrong the bytes are. */
enum verdict_class {
	CLASS_OK,          /* accepted */
	CLASS_TRUNCATED,   /* the bytes end before the header says they do */
	CLASS_MALFORMED,   /* a field breaks a validity rule */
	CLASS_CHECKSUM,    /* the checksum does not verify */
	CLASS_UNSUPPORTED, /* well-formed, but this stack does not handle it */
	CLASS_NOT_FOR_US,  /* well-formed, addressed to someone else */
};

/* X(symbol, name, class, rfc, what went wrong) */
#define TCPIP_DROP_REASONS(X)                                                           \
	X(NONE, "ok", CLASS_OK, "",                                                     \
	  "accepted")                                                                   \
	X(ETH_TRUNCATED, "eth_truncated", CLASS_TRUNCATED, "RFC 894",                   \
	  "frame shorter than the 14-byte Ethernet header")                             \
	X(ETH_NOT_FOR_US, "eth_not_for_us", CLASS_NOT_FOR_US, "RFC 894",                \
	  "destination MAC is neither ours nor broadcast")                              \
	X(ETH_UNKNOWN_TYPE, "eth_unknown_type", CLASS_UNSUPPORTED, "RFC 894",           \
	  "EtherType not handled")                                                      \
	X(IP4_TRUNCATED_HEADER, "ip4_truncated_header", CLASS_TRUNCATED, "RFC 791 3.1", \
	  "fewer than 20 bytes: the fixed header is cut")                               \
	X(IP4_BAD_VERSION, "ip4_bad_version", CLASS_MALFORMED, "RFC 791 3.1, RFC 1122 3.2.1.1", \
	  "version is not 4")                                                           \
	X(IP4_BAD_IHL, "ip4_bad_ihl", CLASS_MALFORMED, "RFC 791 3.1",                   \
	  "IHL below 5 words")                                                          \
	X(IP4_TRUNCATED_OPTIONS, "ip4_truncated_options", CLASS_TRUNCATED, "RFC 791 3.1", \
	  "the frame ends inside the IHL*4-byte header")                                \
	X(IP4_BAD_CHECKSUM, "ip4_bad_checksum", CLASS_CHECKSUM, "RFC 791 3.1, RFC 1122 3.2.1.2", \
	  "header checksum does not verify")                                            \
	X(IP4_BAD_TOTAL_LENGTH, "ip4_bad_total_length", CLASS_MALFORMED, "RFC 791 3.1", \
	  "total length below the header length")                                       \
	X(IP4_TRUNCATED_PACKET, "ip4_truncated_packet", CLASS_TRUNCATED, "RFC 791 3.1", \
	  "total length runs past the end of the frame")                                \
	X(IP4_BAD_OPTION, "ip4_bad_option", CLASS_MALFORMED, "RFC 791 3.1, RFC 1122 3.2.1.8", \
	  "an option's length or pointer breaks its rules")                      \
	X(IP4_FRAGMENT, "ip4_fragment", CLASS_UNSUPPORTED, "RFC 791 2.3, RFC 1122 3.3.2", \
	  "a fragment: this stack does not reassemble yet")                             \
	X(IP4_BAD_SOURCE, "ip4_bad_source", CLASS_MALFORMED, "RFC 1122 3.2.1.3",           \
	  "source is broadcast, multicast, loopback or 0.0.0.0")                        \
	X(IP4_NOT_FOR_US, "ip4_not_for_us", CLASS_NOT_FOR_US, "RFC 1122 3.2.1.3",       \
	  "destination is not our address")                                             \
	X(IP4_UNKNOWN_PROTOCOL, "ip4_unknown_protocol", CLASS_UNSUPPORTED, "RFC 791 3.1, RFC 1122 3.2.2.1", \
	  "transport protocol not handled")                                             \
	X(ARP_TRUNCATED, "arp_truncated", CLASS_TRUNCATED, "RFC 826",                    \
	  "fewer than 28 bytes of ARP")                                                  \
	X(ARP_BAD_HTYPE, "arp_bad_htype", CLASS_UNSUPPORTED, "RFC 826 (Packet Reception)", \
	  "hardware type is not Ethernet (1)")                                           \
	X(ARP_BAD_PTYPE, "arp_bad_ptype", CLASS_UNSUPPORTED, "RFC 826 (Packet Reception)", \
	  "protocol type is not IPv4 (0x0800)")                                          \
	X(ARP_BAD_LENGTH, "arp_bad_length", CLASS_MALFORMED, "RFC 826 (Packet format)",  \
	  "address lengths are not 6 and 4")                                             \
	X(ARP_BAD_OP, "arp_bad_op", CLASS_UNSUPPORTED, "RFC 826 (Packet Reception)",     \
	  "opcode is neither request (1) nor reply (2)")                                 \
	X(ARP_NOT_FOR_US, "arp_not_for_us", CLASS_NOT_FOR_US, "RFC 826 (Packet Reception)", \
	  "target address is not ours (the sender may still be merged)")                 \
	X(ICMP_TRUNCATED, "icmp_truncated", CLASS_TRUNCATED, "RFC 792",                 \
	  "fewer than 8 bytes of ICMP header")                                          \
	X(ICMP_BAD_CHECKSUM, "icmp_bad_checksum", CLASS_CHECKSUM, "RFC 792, RFC 1122 3.2.2", \
	  "ICMP checksum does not verify")                                              \
	X(ICMP_UNKNOWN_TYPE, "icmp_unknown_type", CLASS_UNSUPPORTED, "RFC 792, RFC 1122 3.2.2", \
	  "ICMP type not handled (echo, echo reply and the errors to TCP only)")        \
	X(ICMP_SOURCE_QUENCH, "icmp_source_quench", CLASS_UNSUPPORTED,                  \
	  "RFC 9293 3.9.2.2 (MUST-55), RFC 6633", "source quench: silently discarded")   \
	X(ICMP_ERROR_TRUNCATED, "icmp_error_truncated", CLASS_TRUNCATED, "RFC 792, RFC 1122 3.2.2", \
	  "an ICMP error without the IPv4 header and 8 bytes of what caused it")        \
	X(ICMP_ERROR_BAD_QUOTE, "icmp_error_bad_quote", CLASS_MALFORMED, "RFC 792, RFC 1122 3.2.2", \
	  "the header an ICMP error quotes is not IPv4 (version, IHL)")                \
	X(ICMP_ERROR_NOT_OURS, "icmp_error_not_ours", CLASS_NOT_FOR_US, "RFC 1122 3.2.2", \
	  "the datagram an ICMP error quotes was not sent from our address")            \
	X(ICMP_ECHO_BROADCAST, "icmp_echo_broadcast", CLASS_UNSUPPORTED, "RFC 1122 3.2.2.6", \
	  "echo request to a broadcast address: ignored, as Linux does by default")      \
	X(UDP_TRUNCATED, "udp_truncated", CLASS_TRUNCATED, "RFC 768",                   \
	  "fewer than 8 bytes of UDP header")                                           \
	X(UDP_BAD_LENGTH, "udp_bad_length", CLASS_MALFORMED, "RFC 768",                 \
	  "UDP length below 8 or beyond the IP payload")                                \
	X(UDP_BAD_CHECKSUM, "udp_bad_checksum", CLASS_CHECKSUM, "RFC 768, RFC 1122 4.1.3.4", \
	  "UDP checksum does not verify")                                               \
	X(TCP_TRUNCATED, "tcp_truncated", CLASS_TRUNCATED, "RFC 9293 3.1",              \
	  "fewer than 20 bytes of TCP header")                                          \
	X(TCP_BAD_CHECKSUM, "tcp_bad_checksum", CLASS_CHECKSUM, "RFC 9293 3.1 (MUST-2, MUST-3)", \
	  "TCP checksum does not verify")                                               \
	X(TCP_BAD_OFFSET, "tcp_bad_offset", CLASS_MALFORMED, "RFC 9293 3.1",            \
	  "data offset below 5 words")                                                  \
	X(TCP_TRUNCATED_OPTIONS, "tcp_truncated_options", CLASS_TRUNCATED, "RFC 9293 3.1", \
	  "data offset runs past the end of the segment")                               \
	X(TCP_BAD_OPTION, "tcp_bad_option", CLASS_MALFORMED, "RFC 9293 3.1 (MUST-7)",   \
	  "an option's length is 0 or 1, or runs past the header")                     \
	X(TCP_BROADCAST, "tcp_broadcast", CLASS_NOT_FOR_US, "RFC 9293 MUST-57, RFC 1122 4.2.3.10", \
	  "a segment to a broadcast address")                                           \
	X(TCP_ICMP_NO_CONNECTION, "tcp_icmp_no_connection", CLASS_NOT_FOR_US,           \
	  "RFC 9293 3.9.2.2 (MUST-54)", "an ICMP error about a segment of no connection") \
	X(TCP_ICMP_BAD_SEQ, "tcp_icmp_bad_seq", CLASS_NOT_FOR_US, "RFC 5927 4.1",        \
	  "an ICMP error about a sequence number not in flight (SND.UNA..SND.NXT)")

#define TCPIP_DROP_ENUM(sym, name, cls, rfc, what) DROP_##sym,
enum drop_reason { TCPIP_DROP_REASONS(TCPIP_DROP_ENUM) DROP__COUNT };
#undef TCPIP_DROP_ENUM

/* The reason's name in lower case ("ip4_bad_ihl"); "?" when out of range. */
const char *drop_name(enum drop_reason reason);

/* The class of the reason (CLASS_OK for DROP_NONE). */
enum verdict_class drop_class(enum drop_reason reason);

/* The class's name in lower case ("truncated"). */
const char *drop_class_name(enum verdict_class cls);

/* The RFC section that states the rule, and a phrase saying what broke it. */
const char *drop_rfc(enum drop_reason reason);
const char *drop_what(enum drop_reason reason);

/* Looks a reason up by its lower-case name; returns DROP__COUNT if unknown. */
enum drop_reason drop_by_name(const char *name);

#endif
