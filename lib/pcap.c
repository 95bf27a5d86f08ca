/*
 * pcap.c - the classic pcap file format, and a device that tees into one.
 *
 * Format (as libpcap writes it): a 24-byte global header (magic 0xa1b2c3d4
 * in the writer's byte order, version 2.4, snap length, LINKTYPE_ETHERNET 1),
 * then per frame a 16-byte record header (seconds, microseconds, bytes kept,
 * bytes on the wire) and the bytes kept.
 */
#include "tcpip/pcap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpip/config.h"
#include "tcpip/dev.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_LINKTYPE_ETHERNET 1u

struct pcap_writer {
	FILE *file;
	int failed;
};

/* Writes n bytes; remembers a failure for pcap_close(). */
static int pcap_put(struct pcap_writer *pw, const void *data, size_t n)
{
	if (fwrite(data, 1, n, pw->file) != n) {
		pw->failed = 1;
		return -1;
	}
	return 0;
}

/* Lays out the 24-byte global header in this machine's byte order, which
 * the magic number tells a reader. */
static void pcap_global_header(uint8_t head[24])
{
	const uint32_t magic = PCAP_MAGIC_US, zero = 0, snaplen = TCPIP_PCAP_SNAPLEN;
	const uint32_t linktype = PCAP_LINKTYPE_ETHERNET;
	const uint16_t major = 2, minor = 4;

	memcpy(head, &magic, 4);
	memcpy(head + 4, &major, 2);
	memcpy(head + 6, &minor, 2);
	memcpy(head + 8, &zero, 4);   /* thiszone: timestamps are UTC */
	memcpy(head + 12, &zero, 4);  /* sigfigs */
	memcpy(head + 16, &snaplen, 4);
	memcpy(head + 20, &linktype, 4);
}

struct pcap_writer *pcap_open(const char *path)
{
	uint8_t head[24];
	struct pcap_writer *pw = calloc(1, sizeof *pw);

	if (!pw)
		return NULL;
	pw->file = fopen(path, "wb");
	if (!pw->file) {
		free(pw);
		return NULL;
	}
	pcap_global_header(head);
	if (pcap_put(pw, head, sizeof head) < 0 || fflush(pw->file) != 0) {
		pcap_close(pw);
		errno = EIO;
		return NULL;
	}
	return pw;
}

int pcap_write(struct pcap_writer *pw, uint64_t ts_us, const uint8_t *frame, size_t len,
	       size_t wire_len)
{
	size_t kept = len > TCPIP_PCAP_SNAPLEN ? TCPIP_PCAP_SNAPLEN : len;
	uint32_t rec[4] = {(uint32_t)(ts_us / 1000000u), (uint32_t)(ts_us % 1000000u),
			   (uint32_t)kept, (uint32_t)(wire_len > len ? wire_len : len)};

	if (pcap_put(pw, rec, sizeof rec) < 0 || pcap_put(pw, frame, kept) < 0 ||
	    fflush(pw->file) != 0)
		return -1;
	return 0;
}

int pcap_close(struct pcap_writer *pw)
{
	int failed;

	if (!pw)
		return 0;
	failed = fclose(pw->file) != 0 || pw->failed;
	free(pw);
	return failed ? -1 : 0;
}

/* The tee device: every frame through inner is also written to a pcap. */
struct dev_tee {
	struct dev dev;
	struct dev *inner;
	struct pcap_writer *pw;
};

/* Writes frames[0..n) to the tee's file; a failed write is kept for close. */
static void pcap_tee_write(struct dev_tee *tee, const struct frame *frames, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t ts = frames[i].ts_us ? frames[i].ts_us : dev_now_us();

		pcap_write(tee->pw, ts, frames[i].data, frames[i].len,
			   frames[i].wire_len > frames[i].len ? frames[i].wire_len : frames[i].len);
	}
}

/* dev_ops.recv: receive from inner, then record. */
static int pcap_tee_recv(struct dev *dev, struct frame *frames, int max)
{
	struct dev_tee *tee = (struct dev_tee *)dev;
	int got = dev_recv(tee->inner, frames, max);

	if (got > 0)
		pcap_tee_write(tee, frames, got);
	return got;
}

/* dev_ops.send: send through inner, then record what went. */
static int pcap_tee_send(struct dev *dev, const struct frame *frames, int n)
{
	struct dev_tee *tee = (struct dev_tee *)dev;
	int sent = dev_send(tee->inner, frames, n);

	if (sent > 0)
		pcap_tee_write(tee, frames, sent);
	return sent;
}

/* dev_ops.flush: inner's queue goes out; the frames were recorded when
 * they were handed over, in that order. */
static int pcap_tee_flush(struct dev *dev)
{
	return dev_flush(((struct dev_tee *)dev)->inner);
}

/* dev_ops.close: closes the file and the inner device; -1 if any write to
 * the file failed (a full disk), so the program can say so. */
static int pcap_tee_close(struct dev *dev)
{
	struct dev_tee *tee = (struct dev_tee *)dev;
	int rc = pcap_close(tee->pw);

	if (dev_close(tee->inner) < 0)
		rc = -1;
	free(tee);
	return rc;
}

static const struct dev_ops dev_tee_ops = {
	.recv = pcap_tee_recv,
	.send = pcap_tee_send,
	.flush = pcap_tee_flush,
	.close = pcap_tee_close,
};

struct dev *dev_pcap_tee(struct dev *inner, const char *path)
{
	struct dev_tee *tee = calloc(1, sizeof *tee);

	if (tee)
		tee->pw = pcap_open(path);
	if (!tee || !tee->pw) {
		int saved = errno;

		free(tee);
		dev_close(inner);
		errno = saved;
		return NULL;
	}
	tee->inner = inner;
	tee->dev = (struct dev){.ops = &dev_tee_ops, .fd = inner->fd, .name = inner->name};
	memcpy(tee->dev.mac, inner->mac, sizeof tee->dev.mac);
	return &tee->dev;
}
