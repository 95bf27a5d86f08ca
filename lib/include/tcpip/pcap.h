/*
 * pcap.h - writes the classic pcap file format (LINKTYPE_ETHERNET,
 * microsecond timestamps), the format tcpdump, tshark and Wireshark read.
 * Frames longer than TCPIP_PCAP_SNAPLEN are cut and say so in the record.
 */
#ifndef TCPIP_PCAP_H
#define TCPIP_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pcap_writer;

/* Creates (truncates) the file and writes the global header.  Returns NULL
 * with errno set on failure. */
struct pcap_writer *pcap_open(const char *path);

/* Appends one frame captured at ts_us (microseconds since the epoch):
 * frame[0..len) are the bytes kept, wire_len (at least len) the length it
 * had on the wire.  Flushes, so a reader sees it even if the program is
 * killed.  Returns 0, or -1 with errno set. */
int pcap_write(struct pcap_writer *pw, uint64_t ts_us, const uint8_t *frame, size_t len,
	       size_t wire_len);

/* Closes the file; NULL is allowed.  Returns 0, or -1 if a write failed. */
int pcap_close(struct pcap_writer *pw);

#endif
