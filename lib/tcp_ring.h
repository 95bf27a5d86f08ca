/*
 * tcp_ring.h - a TCB's send and receive rings (RFC 9293 3.3.1's sequence
 * spaces laid on two buffers): a byte's place in either ring is its sequence
 * number modulo the ring's size, a power of two.  The send ring holds
 * snd_len bytes from SND.UNA on (sent or not), the receive ring rcv_len
 * unread bytes before RCV.NXT and out-of-order pieces after it.  These
 * helpers say which part of the send space is what, and copy in and out;
 * static inline, for every tcp_ file that needs them.
 */
#ifndef TCPIP_TCP_RING_H
#define TCPIP_TCP_RING_H

#include <string.h>

#include "tcp_impl.h"

#define TCP_SND_MASK (TCPIP_TCP_SND_BUF - 1)
#define TCP_RCV_MASK (TCPIP_TCP_RCV_BUF - 1)

/* 1 while our SYN is unacknowledged (it takes sequence ISS), else 0. */
static inline uint32_t tcp_syn_out(const struct tcp_tcb *tcb)
{
	return tcb->syn_acked ? 0 : 1;
}

/* 1 while our FIN is sent and unacknowledged, else 0. */
static inline uint32_t tcp_fin_out(const struct tcp_tcb *tcb)
{
	return tcb->fin_sent && !tcb->fin_acked ? 1 : 0;
}

/* Bytes of data sent and not yet acknowledged. */
static inline uint32_t tcp_data_in_flight(const struct tcp_tcb *tcb)
{
	return tcb->snd_nxt - tcb->snd_una - tcp_syn_out(tcb) - tcp_fin_out(tcb);
}

/* Bytes of data queued and not yet sent. */
static inline uint32_t tcp_unsent(const struct tcp_tcb *tcb)
{
	return tcb->snd_len - tcp_data_in_flight(tcb);
}

/* Bytes of data a repair carries: the first ones in flight, one MSS at most
 * (tcp_retransmit_data() sends them, tcp_repair_sent() counts on them). */
static inline uint32_t tcp_repair_len(const struct tcp_tcb *tcb)
{
	uint32_t data = tcp_data_in_flight(tcb);

	return data < tcb->snd_mss ? data : tcb->snd_mss;
}

/* The sequence number of the first byte in the send ring. */
static inline uint32_t tcp_data_seq(const struct tcp_tcb *tcb)
{
	return tcb->snd_una + tcp_syn_out(tcb);
}

/* Copies len bytes of the send ring from sequence seq into out. */
static inline void tcp_ring_read(const uint8_t *ring, uint32_t mask, uint32_t seq, uint8_t *out,
			  uint32_t len)
{
	uint32_t at = seq & mask, first = len < mask + 1 - at ? len : mask + 1 - at;

	memcpy(out, ring + at, first);
	memcpy(out + first, ring, len - first);
}

/* Copies len bytes from in into a ring at sequence seq. */
static inline void tcp_ring_write(uint8_t *ring, uint32_t mask, uint32_t seq, const uint8_t *in,
			   uint32_t len)
{
	uint32_t at = seq & mask, first = len < mask + 1 - at ? len : mask + 1 - at;

	memcpy(ring + at, in, first);
	memcpy(ring, in + first, len - first);
}

/* The sequence number of the next byte tcp_read() gives: the unread bytes
 * end at RCV.NXT, or at the FIN's number once the FIN (which RCV.NXT
 * counts) has come. */
static inline uint32_t tcp_read_seq(const struct tcp_tcb *tcb)
{
	return (tcb->rcv_fin ? tcb->rcv_fin_seq : tcb->rcv_nxt) - tcb->rcv_len;
}

#endif
