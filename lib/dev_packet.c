/*
 * dev_packet.c - the AF_PACKET device: a raw socket bound to one interface
 * (packet(7)).  Opening it needs CAP_NET_RAW; using it needs nothing, which
 * is why programs drop their capabilities right after dev_packet_open().
 *
 * Receive uses recvmsg(): the source address it fills in (struct sockaddr_ll)
 * gives each frame's direction (sll_pkttype), and the PACKET_AUXDATA control
 * message says whether its checksum was left to offload
 * (TP_STATUS_CSUMNOTREADY).  MSG_TRUNC makes recvmsg() return a frame's true
 * length even when the buffer was too small, so a cut frame is known as cut.
 *
 * Send queues: a frame handed to send is copied into a queue of
 * TCPIP_TX_BATCH, and the queue goes to the kernel in one sendmmsg() when it
 * is full, on flush (the event loop's, before it waits) and on close, so a
 * burst of segments costs one system call, not one each.  Limits: one frame
 * per system call on receive; a ring (PACKET_MMAP) comes with the chapter on
 * going fast.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcpip/dev.h"

struct dev_packet {
	struct dev dev;
	int ifindex;
	int keep_outgoing;
	char ifname[IF_NAMESIZE];
	int tx_count;                     /* frames queued for sendmmsg() */
	size_t tx_len[TCPIP_TX_BATCH];
	uint8_t tx_buf[TCPIP_TX_BATCH][TCPIP_FRAME_BUF];
};

/* Reads the PACKET_AUXDATA control message of msg into *aux; returns 0, or
 * -1 if the kernel sent none. */
static int dev_packet_auxdata(struct msghdr *msg, struct tpacket_auxdata *aux)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA &&
		    cm->cmsg_len >= CMSG_LEN(sizeof *aux)) {
			memcpy(aux, CMSG_DATA(cm), sizeof *aux);
			return 0;
		}
	}
	return -1;
}

enum recv_result { RECV_ERROR = -1, RECV_EMPTY, RECV_SKIPPED, RECV_KEPT };

/* Receives one frame into *frame without blocking: RECV_KEPT, RECV_SKIPPED
 * (sent by this host), RECV_EMPTY (none ready) or RECV_ERROR (errno set). */
static enum recv_result dev_packet_recv_one(struct dev_packet *dp, struct frame *frame)
{
	struct sockaddr_ll from;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} control;
	struct iovec iov = {.iov_base = frame->data, .iov_len = frame->cap};
	struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = &control,
			     .msg_controllen = sizeof control};
	struct tpacket_auxdata aux;
	ssize_t got = recvmsg(dp->dev.fd, &msg, MSG_DONTWAIT | MSG_TRUNC);

	if (got < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? RECV_EMPTY
										   : RECV_ERROR;
	if (from.sll_pkttype == PACKET_OUTGOING && !dp->keep_outgoing)
		return RECV_SKIPPED;
	frame->wire_len = (size_t)got;
	frame->len = (size_t)got > frame->cap ? frame->cap : (size_t)got;
	frame->ts_us = dev_now_us();
	frame->flags = 0;
	if (dev_packet_auxdata(&msg, &aux) == 0 && (aux.tp_status & TP_STATUS_CSUMNOTREADY))
		frame->flags |= FRAME_CSUM_PARTIAL;
	return RECV_KEPT;
}

/* dev_ops.recv: up to max frames, stopping when none is ready. */
static int dev_packet_recv(struct dev *dev, struct frame *frames, int max)
{
	struct dev_packet *dp = (struct dev_packet *)dev;
	int kept = 0;

	/* Bounded: at most 4*max reads, so a flood of our own frames cannot
	 * hold us here. */
	for (int tries = 0; kept < max && tries < 4 * max; tries++) {
		enum recv_result got = dev_packet_recv_one(dp, &frames[kept]);

		if (got == RECV_ERROR)
			return kept > 0 ? kept : -1;
		if (got == RECV_EMPTY)
			break;
		if (got == RECV_KEPT)
			kept++;
	}
	return kept;
}

/* dev_ops.flush: the queued frames in one sendmmsg() (more if the kernel
 * takes only part); the queue is empty afterwards.  -1 (errno set) if the
 * kernel refused some: those are lost, as a busy link loses frames. */
static int dev_packet_flush(struct dev *dev)
{
	struct dev_packet *dp = (struct dev_packet *)dev;
	struct mmsghdr msgs[TCPIP_TX_BATCH];
	struct iovec iov[TCPIP_TX_BATCH];
	int n = dp->tx_count, done = 0;

	dp->tx_count = 0;
	for (int i = 0; i < n; i++) {
		iov[i] = (struct iovec){.iov_base = dp->tx_buf[i], .iov_len = dp->tx_len[i]};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	while (done < n) {
		int sent = sendmmsg(dev->fd, msgs + done, (unsigned)(n - done), 0);

		if (sent < 0 && errno == EINTR)
			continue;
		if (sent <= 0)
			return -1;
		done += sent;
	}
	return 0;
}

/* dev_ops.send: each frame into the queue, which goes out when full.  A
 * frame too long for a queue slot goes alone, after what is queued, so the
 * order holds.  Returns n, or how many were taken before a refusal (-1 if
 * the first, errno set). */
static int dev_packet_send(struct dev *dev, const struct frame *frames, int n)
{
	struct dev_packet *dp = (struct dev_packet *)dev;

	for (int i = 0; i < n; i++) {
		const struct frame *f = &frames[i];

		if (f->len > TCPIP_FRAME_BUF) {
			if (dev_packet_flush(dev) < 0 || send(dev->fd, f->data, f->len, 0) < 0)
				return i > 0 ? i : -1;
			continue;
		}
		memcpy(dp->tx_buf[dp->tx_count], f->data, f->len);
		dp->tx_len[dp->tx_count++] = f->len;
		if (dp->tx_count == TCPIP_TX_BATCH && dev_packet_flush(dev) < 0)
			return i > 0 ? i : -1;
	}
	return n;
}

/* dev_ops.close: sends what is queued, then closes.  Returns 0 even if
 * the kernel refused the last frames: a link's loss, not a lost record. */
static int dev_packet_close(struct dev *dev)
{
	dev_packet_flush(dev);
	close(dev->fd);
	free(dev);
	return 0;
}

static const struct dev_ops dev_packet_ops = {
	.recv = dev_packet_recv,
	.send = dev_packet_send,
	.flush = dev_packet_flush,
	.close = dev_packet_close,
};

/* Opens, binds and configures the socket for ifindex; returns the fd, or -1
 * with errno set. */
static int dev_packet_socket(int ifindex)
{
	struct sockaddr_ll addr = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = ifindex};
	int on = 1;
	/* Protocol 0 receives nothing until bind() names the interface and the
	 * protocol; a socket opened with ETH_P_ALL would queue frames from every
	 * interface in the moment before bind(). */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &on, sizeof on) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Reads the interface's MAC into mac (SIOCGIFHWADDR); leaves it zero if the
 * interface has none. */
static void dev_packet_mac(int fd, const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = {0};

	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

struct dev *dev_packet_open(const char *ifname, int keep_outgoing)
{
	struct dev_packet *dp;
	unsigned ifindex = if_nametoindex(ifname);

	if (ifindex == 0 || strlen(ifname) >= IF_NAMESIZE) {
		errno = ENODEV;
		return NULL;
	}
	dp = calloc(1, sizeof *dp);
	if (!dp)
		return NULL;
	dp->dev.fd = dev_packet_socket((int)ifindex);
	if (dp->dev.fd < 0) {
		int saved = errno;

		free(dp);
		errno = saved;
		return NULL;
	}
	memcpy(dp->ifname, ifname, strlen(ifname) + 1);
	dev_packet_mac(dp->dev.fd, dp->ifname, dp->dev.mac);
	dp->dev.ops = &dev_packet_ops;
	dp->dev.name = dp->ifname;
	dp->ifindex = (int)ifindex;
	dp->keep_outgoing = keep_outgoing;
	return &dp->dev;
}
