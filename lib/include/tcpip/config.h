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

/* Frames the in-memory test device can hold in each direction. */
#define TCPIP_MEMDEV_FRAMES 64

/* Bytes of each frame a pcap file keeps (the snap length). */
#define TCPIP_PCAP_SNAPLEN 65535

#endif
