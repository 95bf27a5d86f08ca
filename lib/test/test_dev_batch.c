/*
 * test_dev_batch.c - a device that batches its sends (dev.h, dev_flush()),
 * on the in-memory device in batched mode, which holds frames as the
 * AF_PACKET device's sendmmsg() queue does: nothing leaves before a flush
 * or a full batch; a flush sends every queued frame, in the order sent; a
 * full batch goes at once; a device that does not batch sends at once and
 * flush does nothing; the pcap tee and the fault injector pass flush
 * through, and still record and judge each frame when it is handed over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpip/dev.h"
#include "tcpip/fault.h"
#include "vec.h"

#define FRAME_LEN 60

/* Sends one frame whose first byte is id; returns dev_send()'s answer. */
static int send_id(struct dev *dev, uint8_t id)
{
	uint8_t bytes[FRAME_LEN] = {id};
	struct frame frame = {.data = bytes, .cap = sizeof bytes, .len = sizeof bytes};

	return dev_send(dev, &frame, 1);
}

/* Pops every frame the memory device lets go into ids (cap of them);
 * returns how many. */
static int pop_ids(struct dev *mem, uint8_t *ids, int cap)
{
	uint8_t buf[TCPIP_FRAME_BUF];
	int n = 0;

	while (n < cap && dev_mem_pop(mem, buf, sizeof buf) == FRAME_LEN)
		ids[n++] = buf[0];
	return n;
}

/* Queued frames stay until the flush, then go in the order sent. */
static void test_flush_sends_queued_in_order(void)
{
	struct dev *dev = dev_mem_open_batched(8);
	uint8_t ids[16];

	CHECK(dev != NULL, "batched memdev open");
	for (uint8_t id = 1; id <= 5; id++)
		CHECK(send_id(dev, id) == 1, "send %u taken", id);
	CHECK(pop_ids(dev, ids, 16) == 0, "nothing leaves before the flush");
	CHECK(dev_flush(dev) == 0, "flush");
	CHECK(pop_ids(dev, ids, 16) == 5 && ids[0] == 1 && ids[1] == 2 && ids[2] == 3 &&
		      ids[3] == 4 && ids[4] == 5,
	      "flush sends all five, in order");
	CHECK(dev_flush(dev) == 0 && pop_ids(dev, ids, 16) == 0, "a second flush sends nothing");
	dev_close(dev);
}

/* The frame that fills the batch sends the whole batch at once. */
static void test_full_batch_goes_at_once(void)
{
	struct dev *dev = dev_mem_open_batched(4);
	uint8_t ids[16];

	for (uint8_t id = 1; id <= 3; id++)
		send_id(dev, id);
	CHECK(pop_ids(dev, ids, 16) == 0, "three of four: still queued");
	send_id(dev, 4);
	CHECK(pop_ids(dev, ids, 16) == 4 && ids[0] == 1 && ids[3] == 4,
	      "the fourth sends the batch, in order");
	send_id(dev, 5);
	CHECK(pop_ids(dev, ids, 16) == 0, "the next batch starts empty");
	dev_flush(dev);
	CHECK(pop_ids(dev, ids, 16) == 1 && ids[0] == 5, "and goes on flush");
	dev_close(dev);
}

/* A device that does not batch sends at once; flush is a no-op. */
static void test_unbatched_sends_at_once(void)
{
	struct dev *dev = dev_mem_open();
	uint8_t ids[4];

	send_id(dev, 7);
	CHECK(pop_ids(dev, ids, 4) == 1 && ids[0] == 7, "unbatched: out at once");
	CHECK(dev_flush(dev) == 0, "unbatched: flush does nothing, says 0");
	CHECK(dev_mem_open_batched(0) == NULL && dev_mem_open_batched(TCPIP_MEMDEV_FRAMES + 1) == NULL,
	      "batch out of range refused");
	dev_close(dev);
}

/* The tee records each frame when it is handed over (before the flush),
 * and its flush reaches the inner device. */
static void test_pcap_tee_passes_flush(void)
{
	char path[] = "/tmp/tcpip-test-XXXXXX";
	int fd = mkstemp(path);
	struct dev *mem = dev_mem_open_batched(8);
	struct dev *dev = dev_pcap_tee(mem, path);
	uint8_t ids[4];

	CHECK(fd >= 0 && dev != NULL, "tee open");
	send_id(dev, 1);
	send_id(dev, 2);
	CHECK(lseek(fd, 0, SEEK_END) == 24 + 2 * (16 + FRAME_LEN),
	      "both frames recorded when handed over");
	CHECK(pop_ids(mem, ids, 4) == 0, "tee: nothing out before the flush");
	CHECK(dev_flush(dev) == 0 && pop_ids(mem, ids, 4) == 2 && ids[0] == 1 && ids[1] == 2,
	      "tee: flush reaches the inner device, in order");
	dev_close(dev);
	close(fd);
	unlink(path);
}

/* The fault injector judges (and logs) each frame when handed over: one
 * dropped on purpose never reaches the queue; its flush reaches inner. */
static void test_fault_passes_flush(void)
{
	char log_text[512] = "";
	FILE *log = fmemopen(log_text, sizeof log_text - 1, "w");
	struct fault_spec spec = {.drop = 1.0, .seed = 1, .dirs = FAULT_TX};
	struct fault_env env = {.log = log};
	struct dev *mem = dev_mem_open_batched(8);
	struct dev *dev = fault_wrap(mem, &spec, &env);
	uint8_t ids[4];

	CHECK(log != NULL && dev != NULL, "fault open");
	CHECK(send_id(dev, 1) == 1, "a dropped frame counts as sent");
	fflush(log);
	CHECK(strstr(log_text, "drop") != NULL, "the drop is logged when handed over: '%s'",
	      log_text);
	CHECK(dev_flush(dev) == 0 && pop_ids(mem, ids, 4) == 0, "the dropped frame never leaves");
	dev_close(dev);
	fclose(log);

	spec = (struct fault_spec){.seed = 1, .dirs = FAULT_BOTH};
	env = (struct fault_env){0};
	mem = dev_mem_open_batched(8);
	dev = fault_wrap(mem, &spec, &env);
	send_id(dev, 3);
	send_id(dev, 4);
	CHECK(pop_ids(mem, ids, 4) == 0, "fault: nothing out before the flush");
	CHECK(dev_flush(dev) == 0 && pop_ids(mem, ids, 4) == 2 && ids[0] == 3 && ids[1] == 4,
	      "fault: flush reaches the inner device, in order");
	dev_close(dev);
}

int main(void)
{
	test_flush_sends_queued_in_order();
	test_full_batch_goes_at_once();
	test_unbatched_sends_at_once();
	test_pcap_tee_passes_flush();
	test_fault_passes_flush();
	return test_report("test_dev_batch");
}
