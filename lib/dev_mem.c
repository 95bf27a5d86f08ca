/*
 * dev_mem.c - the in-memory device: two bounded queues of frames, one that
 * the program receives from and one it sends into.  Tests use it to run the
 * stack with no socket, no root and no clock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpip/dev.h"

struct mem_queue {
	uint8_t data[TCPIP_MEMDEV_FRAMES][TCPIP_FRAME_BUF];
	size_t len[TCPIP_MEMDEV_FRAMES];
	size_t head;   /* index of the oldest frame */
	size_t count;  /* frames queued */
};

struct dev_mem {
	struct dev dev;
	struct mem_queue rx;  /* pushed by the test, received by the program */
	struct mem_queue tx;  /* sent by the program, popped by the test */
	int batch;            /* 0: sent frames can be popped at once; else
	                       * they wait for a flush or batch of them */
	size_t held;          /* the newest frames of tx not yet flushed */
};

/* Appends data[0..len) to q; returns 0, or -1 if q is full or len too big. */
static int dev_mem_queue_put(struct mem_queue *q, const uint8_t *data, size_t len)
{
	size_t slot;

	if (q->count == TCPIP_MEMDEV_FRAMES || len > TCPIP_FRAME_BUF)
		return -1;
	slot = (q->head + q->count) % TCPIP_MEMDEV_FRAMES;
	memcpy(q->data[slot], data, len);
	q->len[slot] = len;
	q->count++;
	return 0;
}

/* Removes the oldest frame of q into buf; returns its length, 0 if q is
 * empty, -1 if cap is too small (the frame stays).  A longer frame is never
 * cut here: the caller asked for whole frames. */
static long dev_mem_queue_take(struct mem_queue *q, uint8_t *buf, size_t cap)
{
	size_t len;

	if (q->count == 0)
		return 0;
	len = q->len[q->head];
	if (len > cap)
		return -1;
	memcpy(buf, q->data[q->head], len);
	q->head = (q->head + 1) % TCPIP_MEMDEV_FRAMES;
	q->count--;
	return (long)len;
}

/* dev_ops.recv */
static int dev_mem_recv(struct dev *dev, struct frame *frames, int max)
{
	struct dev_mem *dm = (struct dev_mem *)dev;
	int got = 0;

	for (; got < max && dm->rx.count > 0; got++) {
		long len = dev_mem_queue_take(&dm->rx, frames[got].data, frames[got].cap);

		if (len < 0) {
			errno = EMSGSIZE;
			return got > 0 ? got : -1;
		}
		frames[got].len = frames[got].wire_len = (size_t)len;
		frames[got].ts_us = 0;
		frames[got].flags = 0;
	}
	return got;
}

/* dev_ops.send: into tx; a batched device holds them until a flush or a
 * full batch. */
static int dev_mem_send(struct dev *dev, const struct frame *frames, int n)
{
	struct dev_mem *dm = (struct dev_mem *)dev;
	int sent = 0;

	for (; sent < n; sent++) {
		if (dev_mem_queue_put(&dm->tx, frames[sent].data, frames[sent].len) < 0) {
			errno = ENOBUFS;
			return sent > 0 ? sent : -1;
		}
		if (dm->batch && ++dm->held == (size_t)dm->batch)
			dm->held = 0;
	}
	return sent;
}

/* dev_ops.flush: every held frame can be popped. */
static int dev_mem_flush(struct dev *dev)
{
	((struct dev_mem *)dev)->held = 0;
	return 0;
}

/* dev_ops.close */
static int dev_mem_close(struct dev *dev)
{
	free(dev);
	return 0;
}

static const struct dev_ops dev_mem_ops = {
	.recv = dev_mem_recv,
	.send = dev_mem_send,
	.close = dev_mem_close,
};

static const struct dev_ops dev_mem_batched_ops = {
	.recv = dev_mem_recv,
	.send = dev_mem_send,
	.flush = dev_mem_flush,
	.close = dev_mem_close,
};

struct dev *dev_mem_open(void)
{
	struct dev_mem *dm = calloc(1, sizeof *dm);

	if (!dm)
		return NULL;
	dm->dev.ops = &dev_mem_ops;
	dm->dev.fd = -1;
	dm->dev.name = "mem";
	return &dm->dev;
}

struct dev *dev_mem_open_batched(int batch)
{
	struct dev *dev;

	if (batch < 1 || batch > TCPIP_MEMDEV_FRAMES) {
		errno = EINVAL;
		return NULL;
	}
	dev = dev_mem_open();
	if (dev) {
		((struct dev_mem *)dev)->batch = batch;
		dev->ops = &dev_mem_batched_ops;
	}
	return dev;
}

int dev_mem_push(struct dev *dev, const uint8_t *data, size_t len)
{
	return dev_mem_queue_put(&((struct dev_mem *)dev)->rx, data, len);
}

long dev_mem_pop(struct dev *dev, uint8_t *buf, size_t cap)
{
	struct dev_mem *dm = (struct dev_mem *)dev;

	if (dm->tx.count <= dm->held)
		return 0; /* only frames not yet flushed */
	return dev_mem_queue_take(&dm->tx, buf, cap);
}
