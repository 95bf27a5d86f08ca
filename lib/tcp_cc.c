/*
 * tcp_cc.c - how much data may be in flight: the room tcp_output() asks for
 * before it sends new data.  Until chapter 8 that is a fixed cap of
 * TCPIP_TCP_MAX_INFLIGHT_SEGS full segments (RFC 6928's initial window),
 * standing where the congestion window goes, counted against the "pipe",
 * the data in flight less a segment per duplicate ACK (RFC 3042's limited
 * transmit, RFC 5681 3.2's window inflation).
 *
 * It reads the TCB and calls no other file: loss recovery (tcp_recovery.c)
 * keeps the duplicate count, output asks.  Chapter 8 puts congestion
 * control behind an interface here (with one file per algorithm), and output
 * keeps asking the same question.  Limits: no congestion window, no
 * ssthresh, no slow start; a pipe counted by duplicates, without SACK
 * (chapter 10).
 */
#include "tcp_impl.h"
#include "tcp_ring.h"

/* The data in flight that the cap counts: each duplicate ACK says one more
 * segment has left the network (RFC 3042's limited transmit and RFC 5681
 * 3.2's window inflation, with the cap in cwnd's place), so new segments
 * keep the ACKs coming while a hole is repaired. */
static uint32_t tcp_pipe(const struct tcp_tcb *tcb)
{
	uint32_t in_flight = tcp_data_in_flight(tcb);
	uint64_t left = (uint64_t)tcb->dupacks * tcb->snd_mss;

	return in_flight > left ? in_flight - (uint32_t)left : 0;
}

uint32_t tcp_send_room(const struct tcp_tcb *tcb)
{
	uint32_t cap = (uint32_t)TCPIP_TCP_MAX_INFLIGHT_SEGS * tcb->snd_mss, pipe = tcp_pipe(tcb);

	return cap > pipe ? cap - pipe : 0;
}
