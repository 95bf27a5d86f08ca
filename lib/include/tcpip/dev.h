/*
 * dev.h - devices: where frames come from and go to.  Outside the core.
 *
 * A device moves frames in batches (up to TCPIP_BATCH per call), so a faster
 * device (a PACKET_MMAP ring) can slot in later without touching the core.
 * A device may also hold sent frames back and hand them on together (the
 * AF_PACKET device queues up to TCPIP_TX_BATCH for one sendmmsg()): they
 * leave in the order sent, by dev_flush() at the latest, which an event
 * loop calls before it waits, and close flushes too.
 * Devices here: an AF_PACKET raw socket on one interface (dev_packet.c), an
 * in-memory pair of queues for tests (dev_mem.c), a pcap tee that wraps
 * any device and writes what passes through it (pcap.c), and a fault
 * injector that wraps any device and drops, duplicates, corrupts, reorders
 * and delays its frames (dev_fault.c, fault.h).
 */
#ifndef TCPIP_DEV_H
#define TCPIP_DEV_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Frame flags a device may set on receive. */
#define FRAME_CSUM_PARTIAL 0x1 /* the sender left the transport checksum to
                                * offload: the field holds only the
                                * pseudo-header sum (TP_STATUS_CSUMNOTREADY) */

/* One frame and its buffer.  The caller owns data (cap bytes). */
struct frame {
	uint8_t *data;
	size_t cap;
	size_t len;       /* bytes in data */
	size_t wire_len;  /* bytes the frame had on the wire: > len if it was cut */
	uint64_t ts_us;  /* receive time, microseconds since the Unix epoch */
	unsigned flags;
};

struct dev;

struct dev_ops {
	/* Fills up to max frames; returns how many (0: none ready), or -1 with
	 * errno set.  A frame longer than its cap is cut to cap bytes (len);
	 * wire_len says how long it was. */
	int (*recv)(struct dev *dev, struct frame *frames, int max);
	/* Sends n frames, or queues them to go at the next flush (the device
	 * copies them: the caller may reuse its buffers at once); returns how
	 * many it took, or -1 with errno set. */
	int (*send)(struct dev *dev, const struct frame *frames, int n);
	/* Optional (NULL: the device queues nothing).  Hands every queued
	 * frame on, in order; returns 0, or -1 with errno set if some were
	 * lost (as a link loses frames: TCP sends them again). */
	int (*flush)(struct dev *dev);
	/* Releases the device and itself; returns 0, or -1 if something it
	 * owed was lost (a pcap tee's write failed). */
	int (*close)(struct dev *dev);
	/* Optional (NULL: the device holds no frames back).  Microseconds
	 * until the device has a held frame to release although its fd may not
	 * become readable (the fault injector's delayed frames): 0 if one is
	 * due now, -1 if it holds none.  An event loop sleeps no longer than
	 * this, then calls recv, which releases what is due. */
	int64_t (*next_release_us)(struct dev *dev);
};

struct dev {
	const struct dev_ops *ops;
	int fd;            /* what poll() waits on; -1 for the memory device */
	const char *name;  /* interface or device name */
	uint8_t mac[6];    /* the interface's MAC (all zero if it has none) */
};

/* The wall clock in microseconds since the Unix epoch: the receive time of
 * a frame, and the time a program prints beside an event. */
uint64_t dev_now_us(void);

/* Receives, sends, closes through the device's ops (close accepts NULL,
 * sends what is queued, and returns the device's verdict: 0, or -1 if
 * something was lost). */
int dev_recv(struct dev *dev, struct frame *frames, int max);
int dev_send(struct dev *dev, const struct frame *frames, int n);
int dev_close(struct dev *dev);

/* Sends what the device queued (see struct dev_ops); 0 at once for a device
 * that queues nothing. */
static inline int dev_flush(struct dev *dev)
{
	return dev->ops->flush ? dev->ops->flush(dev) : 0;
}

/* The device's next_release_us (see struct dev_ops); -1 if it has none. */
static inline int64_t dev_next_release_us(struct dev *dev)
{
	return dev->ops->next_release_us ? dev->ops->next_release_us(dev) : -1;
}

/* Opens an AF_PACKET raw socket bound to ifname.  Frames this host sent
 * (PACKET_OUTGOING) are dropped in the device unless keep_outgoing is set, so
 * a stack never hears itself.  Returns NULL with errno set (EPERM without
 * CAP_NET_RAW, ENODEV for an unknown interface). */
struct dev *dev_packet_open(const char *ifname, int keep_outgoing);

/* The in-memory device: frames pushed with dev_mem_push() are received;
 * frames sent are kept for dev_mem_pop().  Each queue holds
 * TCPIP_MEMDEV_FRAMES frames of up to TCPIP_FRAME_BUF bytes. */
struct dev *dev_mem_open(void);
/* The same, but batching as the AF_PACKET device does: a sent frame can be
 * popped only once dev_flush() ran or batch frames (1 to
 * TCPIP_MEMDEV_FRAMES) were held; so tests see what a batch changes. */
struct dev *dev_mem_open_batched(int batch);
/* Queues a frame for receive; returns 0, or -1 if full or too long. */
int dev_mem_push(struct dev *dev, const uint8_t *data, size_t len);
/* Takes the oldest sent frame into buf; returns its length, 0 if none, or -1
 * if cap is too small (the frame stays queued). */
long dev_mem_pop(struct dev *dev, uint8_t *buf, size_t cap);

/* Wraps inner so that every frame received or sent is also written to the
 * pcap file at path (see pcap.h).  The wrapper owns inner.  Returns NULL with
 * errno set if the file cannot be created (inner is then closed). */
struct dev *dev_pcap_tee(struct dev *inner, const char *path);

#endif
