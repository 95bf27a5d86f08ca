/*
 * config.h - every bound of the stack, in one place.
 *
 * Each table and buffer in lib/ is sized here, with its default and a line on
 * what it limits.  Change a value and rebuild; no function body has an #if on
 * these (lwIP's opt.h idea, without the #if forest).
 */
#ifndef TCPIP_CONFIG_H
#define TCPIP_CONFIG_H

/* Largest IPv4 packet the link carries (Ethernet's MTU, RFC 894). */
#define TCPIP_MTU 1500

/* Largest frame a device hands us: MTU plus the 14-byte Ethernet header.
 * Devices read into buffers of TCPIP_FRAME_BUF bytes, larger than that, so an
 * oversized frame arrives whole; one longer than the buffer is cut, and its
 * frame.wire_len keeps the true length. */
#define TCPIP_FRAME_MAX (TCPIP_MTU + 14)
#define TCPIP_FRAME_BUF 2048

/* Frames a device moves per call (recv or send batch). */
#define TCPIP_BATCH 16

/* Frames the AF_PACKET device holds back on send and then hands to the
 * kernel in one sendmmsg(): when this many are queued, or when the event
 * loop flushes before it waits.  1 sends each frame alone, as send() did. */
#define TCPIP_TX_BATCH 32

/* Frames the in-memory test device can hold in each direction. */
#define TCPIP_MEMDEV_FRAMES 64

/* Bytes of each frame a pcap file keeps (the snap length). */
#define TCPIP_PCAP_SNAPLEN 65535

/* ARP (chapter 4).  The neighbour cache: how many addresses it knows. */
#define TCPIP_NEIGH_ENTRIES 16

/* Packets waiting for an address to resolve: in all, and per destination
 * (RFC 1122 2.3.2.2: keep at least the latest; when a destination's share is
 * full the oldest of its packets makes room). */
#define TCPIP_NEIGH_PENDING 8
#define TCPIP_NEIGH_PENDING_PER_DEST 3

/* Requests sent for an address before giving up (and dropping, counted, the
 * packets that waited), and the time between them (RFC 1122 2.3.2.1 asks
 * for no more than one per second). */
#define TCPIP_ARP_TRIES 3
#define TCPIP_ARP_RETRY_MS 1000

/* A confirmed entry is REACHABLE this long, then STALE (still used, and
 * checked again by a unicast request when used); a STALE entry unused this
 * long is evicted.  Linux's defaults are 30 s (randomised) and 60 s. */
#define TCPIP_NEIGH_REACHABLE_MS 30000
#define TCPIP_NEIGH_STALE_MS 60000

/* IPv4 output: the TTL of packets we send (RFC 1700's recommendation, and
 * Linux's default). */
#define TCPIP_IP4_TTL 64

/* TCP (chapter 6).  Connections the stack holds at once (every state but
 * LISTEN), and the buckets of the table that finds them by four-tuple. */
#define TCPIP_TCP_CONNS 64
#define TCPIP_TCP_HASH_BUCKETS 64

/* Ports listened on at once, and the half-open connections (SYN-RECEIVED)
 * one listener may hold; a SYN beyond that is dropped, counted. */
#define TCPIP_TCP_LISTENERS 8
#define TCPIP_TCP_BACKLOG 16

/* Each connection's send and receive buffers (chapter 7), in bytes; a
 * power of two, as both are rings indexed by sequence number.  The window we
 * offer is the receive buffer's free space, at most 65535: without window
 * scaling that is the largest a header can say (RFC 9293 3.1). */
#define TCPIP_TCP_SND_BUF 65536
#define TCPIP_TCP_RCV_BUF 65536
#define TCPIP_TCP_RCV_WND 65535

/* Out-of-order pieces the receive side keeps at once; a segment that would
 * need more is dropped, and sent again by the peer. */
#define TCPIP_TCP_OOO_RANGES 8

/* Chapter 8: the congestion control of a new connection ("newreno", RFC
 * 5681 and 6582, or "cubic", RFC 9438); a program's --cc, the agent's cc
 * and tcp_set_cc_default() change it. */
#define TCPIP_TCP_CC_DEFAULT "newreno"

/* Segments in flight whose send times are kept for congestion control's RTT
 * samples (one per ACK); beyond that a segment goes unmarked.  64 full
 * segments is more than the send buffer holds. */
#define TCPIP_TCP_RTT_MARKS 64

/* A delayed ACK waits at most this long (RFC 1122 4.2.3.2: under 0.5 s;
 * RFC 9293 MUST-40), and never past the second full-sized segment. */
#define TCPIP_TCP_DELACK_MS 200

/* Data that sender SWS avoidance holds back, with nothing in flight to bring
 * an ACK, goes after this long (RFC 9293 3.8.6.2.1: the override timeout,
 * 0.1 to 1 s). */
#define TCPIP_TCP_SWS_OVERRIDE_MS 200

/* RFC 6298: the retransmission timeout never goes below this (2.4: 1 s). */
#define TCPIP_TCP_RTO_MIN_MS 1000

/* Data retransmissions: after R1 the program is told (an event), after R2
 * the connection is given up and reset (RFC 9293 3.8.3, MUST-20: R2 at
 * least 100 s: retransmissions 1, 2, 4 ... 60, 60 s apart from an RTO of 1 s
 * give up at 243 s). */
#define TCPIP_TCP_DATA_R1 3
#define TCPIP_TCP_DATA_RETRIES 8

/* The smallest send MSS we accept from a peer's option; smaller values are
 * raised to it (Linux's net.ipv4.tcp_min_snd_mss default, 48). */
#define TCPIP_TCP_MIN_MSS 48

/* Retransmission of SYN, SYN-ACK and FIN: the first timeout (RFC 6298 2.1:
 * 1 s), doubling each time up to the maximum (RFC 6298 2.5: at least 60 s),
 * and how many retransmissions before giving up.  Our SYN: 7, sent at 1, 3,
 * 7, 15, 31, 63 and 123 s, giving up at 183 s, because RFC 9293 MUST-23 wants
 * a SYN retried for at least 3 minutes (Linux: tcp_syn_retries 6, 134 s).
 * A SYN-ACK: 5, giving up at 63 s, so half-open connections do not linger
 * (Linux's tcp_synack_retries is 5 too). */
#define TCPIP_TCP_RTO_INIT_MS 1000
#define TCPIP_TCP_RTO_MAX_MS 60000
#define TCPIP_TCP_SYN_RETRIES 7
#define TCPIP_TCP_SYNACK_RETRIES 5

/* Maximum segment lifetime: TIME-WAIT lasts 2 MSL (RFC 9293 3.4.2, MUST-13;
 * the RFC's MSL is 2 minutes, Linux's TIME-WAIT is 60 s). */
#define TCPIP_TCP_MSL_MS 30000

/* A connection sends at most one challenge ACK (RFC 5961 7) per this many
 * ms.  The limit is per connection, not stack-wide: a shared budget is the
 * side channel of CVE-2016-5696, where an off-path attacker counted the
 * challenge ACKs left to learn whether a guessed connection existed.
 * (Linux: net.ipv4.tcp_invalid_ratelimit, 500 ms.) */
#define TCPIP_TCP_CHALLENGE_INTERVAL_MS 500

/* Ephemeral ports for active opens (RFC 6056 suggests 1024-65535; this is
 * IANA's dynamic range, 49152-65535). */
#define TCPIP_TCP_EPHEMERAL_FIRST 49152
#define TCPIP_TCP_EPHEMERAL_COUNT 16384

#endif
