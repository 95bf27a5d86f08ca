/*
 * test_wire.c - emit/parse round trips, the drop table, the memory device,
 * the pcap writer and the core's time entry points.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/dev.h"
#include "tcpip/pcap.h"
#include "tcpip/stack.h"
#include "vec.h"

/* ip4_emit writes exactly ip4_len() bytes that parse back to the same fields
 * with a checksum that verifies; options are padded to 4 bytes. */
static void test_ip4_round_trip(void)
{
	struct ip4_hdr in = {.tos = 0x10, .total_len = 27, .id = 7, .frag = IP4_FLAG_DF, .ttl = 64,
			     .proto = IPPROTO_NUM_UDP, .src = 0xc0000201, .dst = 0xc0000202,
			     .opt_len = 3, .opt = {IP4_OPT_NOP, IP4_OPT_NOP, IP4_OPT_NOP}};
	uint8_t buf[64] = {0};
	struct ip4_hdr out;
	size_t len = ip4_emit(&in, buf, sizeof buf);

	CHECK(len == 24 && ip4_len(&in) == 24, "emit wrote %zu bytes, want 24", len);
	CHECK(cksum(buf, len) == 0, "emitted header checksum does not verify");
	CHECK(ip4_parse(buf, 27, &out) == DROP_NONE, "emitted header does not parse");
	CHECK(out.hdr_len == 24 && out.tos == in.tos && out.total_len == 27 && out.id == 7 &&
		      out.frag == IP4_FLAG_DF && out.ttl == 64 && out.proto == IPPROTO_NUM_UDP &&
		      out.src == in.src && out.dst == in.dst && out.opt_len == 4 && out.opt[3] == 0,
	      "round trip changed a field");
	CHECK(ip4_emit(&in, buf, 23) == 0, "emit into 23 bytes must refuse");
}

/* A failed parse leaves the output struct untouched. */
static void test_parse_failure_untouched(void)
{
	uint8_t bad[20] = {0x65};
	struct ip4_hdr hdr;
	struct eth_hdr eth;

	memset(&hdr, 0xab, sizeof hdr);
	CHECK(ip4_parse(bad, sizeof bad, &hdr) == DROP_IP4_BAD_VERSION && hdr.ttl == 0xab,
	      "ip4_parse touched the struct on failure");
	memset(&eth, 0xab, sizeof eth);
	CHECK(eth_parse(bad, 13, &eth) == DROP_ETH_TRUNCATED && eth.type == 0xabab,
	      "eth_parse touched the struct on failure");
}

/* Ethernet emit and parse agree; MAC text round trips. */
static void test_eth_round_trip(void)
{
	struct eth_hdr in = {.dst = {2, 0, 0, 0, 0, 2}, .src = {2, 0, 0, 0, 0, 1}, .type = 0x0800};
	struct eth_hdr out;
	uint8_t buf[14], mac[6];
	char text[18];

	CHECK(eth_emit(&in, buf, sizeof buf) == 14, "eth_emit length");
	CHECK(eth_emit(&in, buf, 13) == 0, "eth_emit must refuse 13 bytes");
	CHECK(eth_parse(buf, 14, &out) == DROP_NONE && memcmp(&in, &out, sizeof in) == 0,
	      "eth round trip");
	CHECK(strcmp(eth_ntoa(in.src, text), "02:00:00:00:00:01") == 0, "eth_ntoa");
	CHECK(eth_aton("02:00:00:00:00:01", mac) == 0 && memcmp(mac, in.src, 6) == 0, "eth_aton");
	CHECK(eth_aton("02:00:00:00:00", mac) < 0 && eth_aton("02:00:00:00:00:01x", mac) < 0,
	      "eth_aton accepts malformed text");
}

/* Address text: good and bad forms. */
static void test_ip4_text(void)
{
	uint32_t addr;
	char text[16];

	CHECK(ip4_aton("192.0.2.1", &addr) == 0 && addr == 0xc0000201, "ip4_aton");
	CHECK(strcmp(ip4_ntoa(0xc0000202, text), "192.0.2.2") == 0, "ip4_ntoa");
	CHECK(ip4_aton("192.0.2.256", &addr) < 0 && ip4_aton("192.0.2", &addr) < 0 &&
		      ip4_aton("192.0.2.1 ", &addr) < 0,
	      "ip4_aton accepts malformed text");
}

/* Every reason has a unique name that looks itself up, and an RFC. */
static void test_drop_table(void)
{
	for (int i = 0; i < DROP__COUNT; i++) {
		enum drop_reason reason = (enum drop_reason)i;

		CHECK(drop_by_name(drop_name(reason)) == reason, "name of reason %d", i);
		CHECK(i == DROP_NONE || drop_rfc(reason)[0] != '\0', "%s has no RFC",
		      drop_name(reason));
	}
	CHECK(drop_by_name("no_such_reason") == DROP__COUNT, "unknown name found");
	CHECK(drop_class(DROP_IP4_TRUNCATED_PACKET) == CLASS_TRUNCATED &&
		      strcmp(drop_class_name(CLASS_CHECKSUM), "checksum") == 0,
	      "classes");
}

/* The memory device keeps order, refuses when full, never cuts a frame. */
static void test_memdev(void)
{
	struct dev *dev = dev_mem_open();
	uint8_t byte = 0, buf[TCPIP_FRAME_BUF];
	struct frame frame = {.data = buf, .cap = sizeof buf};
	int pushed = 0;

	while (dev_mem_push(dev, &byte, 1) == 0 && pushed < 1000)
		byte = (uint8_t)++pushed;
	CHECK(pushed == TCPIP_MEMDEV_FRAMES, "memdev held %d frames", pushed);
	CHECK(dev_recv(dev, &frame, 1) == 1 && frame.len == 1 && buf[0] == 0, "memdev order");
	CHECK(dev_send(dev, &frame, 1) == 1 && dev_mem_pop(dev, buf, 0) == -1 &&
		      dev_mem_pop(dev, buf, 1) == 1 && dev_mem_pop(dev, buf, 1) == 0,
	      "memdev send and pop");
	dev_close(dev);
}

/* The tee writes a pcap global header and one record per frame, each with
 * its true length, in the layout libpcap reads. */
static void test_pcap_tee(void)
{
	char path[] = "/tmp/tcpip-test-XXXXXX";
	int fd = mkstemp(path);
	struct dev *dev = dev_pcap_tee(dev_mem_open(), path);
	uint8_t frame_bytes[60] = {2, 0, 0, 0, 0, 2}, file[256];
	struct frame frame = {.data = frame_bytes, .cap = sizeof frame_bytes, .len = 60,
			      .ts_us = 1500000};
	uint32_t magic, caplen, origlen, secs, usecs, linktype;
	uint16_t major, minor;
	ssize_t got;

	CHECK(fd >= 0 && dev != NULL, "tee open");
	CHECK(dev_send(dev, &frame, 1) == 1, "tee send");
	dev_close(dev);
	got = read(fd, file, sizeof file);
	close(fd);
	unlink(path);
	CHECK(got == 24 + 16 + 60, "pcap file is %zd bytes, want 100", got);
	memcpy(&magic, file, 4), memcpy(&major, file + 4, 2), memcpy(&minor, file + 6, 2);
	memcpy(&linktype, file + 20, 4), memcpy(&secs, file + 24, 4), memcpy(&usecs, file + 28, 4);
	memcpy(&caplen, file + 32, 4), memcpy(&origlen, file + 36, 4);
	CHECK(magic == 0xa1b2c3d4 && major == 2 && minor == 4 && linktype == 1, "pcap header");
	CHECK(secs == 1 && usecs == 500000 && caplen == 60 && origlen == 60, "pcap record");
	CHECK(memcmp(file + 40, frame_bytes, 60) == 0, "pcap frame bytes");
}

/* A frame cut by the device keeps its true length in the record's
 * "bytes on the wire", as libpcap writes it. */
static void test_pcap_cut_frame(void)
{
	char path[] = "/tmp/tcpip-test-XXXXXX";
	int fd = mkstemp(path);
	struct pcap_writer *pw = pcap_open(path);
	uint8_t frame_bytes[60] = {0}, file[128];
	uint32_t caplen, origlen;

	CHECK(fd >= 0 && pw && pcap_write(pw, 0, frame_bytes, 60, 9000) == 0 && pcap_close(pw) == 0,
	      "pcap write");
	CHECK(read(fd, file, sizeof file) == 24 + 16 + 60, "cut frame file size");
	close(fd);
	unlink(path);
	memcpy(&caplen, file + 32, 4);
	memcpy(&origlen, file + 36, 4);
	CHECK(caplen == 60 && origlen == 9000, "cut frame: caplen %u origlen %u", caplen, origlen);
}

/* Chapters 1-3 have no timers: no deadline, and polling changes nothing. */
static void test_stack_time(void)
{
	struct stack_cfg cfg = {0};
	struct stack *st = stack_new(&cfg);

	CHECK(stack_next_deadline(st) == STACK_NO_DEADLINE, "unexpected deadline");
	stack_poll(st, 12345);
	CHECK(stack_counters(st)->frames_in == 0, "poll touched counters");
	CHECK(stack_input(st, 0, (const uint8_t *)"", 0) == DROP_ETH_TRUNCATED &&
		      stack_counters(st)->drops[DROP_ETH_TRUNCATED] == 1,
	      "empty frame");
	stack_free(st);
}

int main(void)
{
	test_ip4_round_trip();
	test_parse_failure_untouched();
	test_eth_round_trip();
	test_ip4_text();
	test_drop_table();
	test_memdev();
	test_pcap_tee();
	test_pcap_cut_frame();
	test_stack_time();
	return test_report("test_wire");
}
