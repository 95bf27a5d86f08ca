/*
 * tcp.h - TCP (RFC 9293): the header and its options, sequence arithmetic,
 * and the connection calls a program makes.
 *
 * Wire format (tcp_wire.c): tcp_check() is the gate (fixed header, data
 * offset, checksum), tcp_parse() fills a host-order struct with the options
 * this stack reads (MSS, window scale, SACK-permitted, SACK, timestamps;
 * unknown ones skipped by their length), tcp_emit() writes one back.
 * Connections, laid out by role after RFC 9293 3.10: the TCB table, ISN,
 * ports and states (tcp_conn.c); the calls below (tcp_user.c); segment
 * arrival (tcp_input.c); sending (tcp_output.c); the timers (tcp_timer.c);
 * arriving text (tcp_recv.c); loss recovery (tcp_recovery.c); how much may
 * be in flight (tcp_cc.c, chapter 8: congestion control, ECN in tcp_ecn.c).  A bounded table of TCBs found by a keyed hash of
 * the four-tuple, listeners with a bounded backlog, passive, active and
 * simultaneous open, resets, the close states; bounded send and receive
 * rings, windows, reassembly, RFC 6298 retransmission, fast retransmit,
 * Nagle, delayed ACK, urgent data (chapter 7); NewReno or CUBIC and ECN
 * (chapter 8).  Limits: window scale, SACK and timestamps are parsed, never
 * sent.
 */
#ifndef TCPIP_TCP_H
#define TCPIP_TCP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drop.h"
#include "stack_time.h"

struct stack;

/* Control bits (RFC 9293 3.1), as in byte 13 of the header. */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define TCP_MAX_HDR_LEN 60
#define TCP_MAX_OPT_LEN (TCP_MAX_HDR_LEN - 20)
#define TCP_MAX_SACK_BLOCKS 4

/* Option kinds (RFC 9293 3.2; RFC 7323; RFC 2018). */
#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WSCALE 3
#define TCP_OPT_SACK_OK 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TS 8

/* The options this stack reads; a has_ flag says whether one was present. */
struct tcp_opts {
	bool has_mss, has_wscale, sack_ok, has_ts;
	uint16_t mss;
	uint8_t wscale;
	uint32_t ts_val, ts_ecr;
	uint8_t sack_blocks;                       /* 0..TCP_MAX_SACK_BLOCKS */
	uint32_t sack_left[TCP_MAX_SACK_BLOCKS];
	uint32_t sack_right[TCP_MAX_SACK_BLOCKS];
};

/* The TCP header in host order. */
struct tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t hdr_len;   /* bytes: data offset * 4 */
	uint8_t flags;     /* TCP_FIN ... TCP_CWR */
	uint16_t win;
	uint16_t checksum; /* as received; computed by tcp_emit() */
	uint16_t urg;
	struct tcp_opts opts;
};

/* Sequence numbers compare modulo 2^32 (RFC 9293 3.4): a is before b when
 * b - a, as a signed 32-bit distance, is positive. */
static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

/* Reads the options in opt[0..len) into *opts (zeroed first).  Returns
 * DROP_NONE, or DROP_TCP_BAD_OPTION for a length below 2 or one running past
 * the end (RFC 9293 3.1, MUST-7).  An unknown kind is skipped by its length
 * (MUST-6), and so is a known kind with the wrong length, as Linux does. */
enum drop_reason tcp_parse_options(const uint8_t *opt, size_t len, struct tcp_opts *opts);

/* Parses the segment seg[0..len), which passed tcp_check(), into *hdr.
 * Returns DROP_NONE or DROP_TCP_BAD_OPTION; *hdr is then partly filled. */
enum drop_reason tcp_parse(const uint8_t *seg, size_t len, struct tcp_hdr *hdr);

/* Bytes tcp_emit() writes for hdr: 20 plus the options it carries (MSS,
 * window scale, SACK-permitted, timestamps), padded to 4 bytes. */
size_t tcp_len(const struct tcp_hdr *hdr);

/* Writes hdr and the payload's place at buf (cap bytes), checksum left 0;
 * returns tcp_len(hdr), or 0 if cap is smaller. */
size_t tcp_emit(const struct tcp_hdr *hdr, uint8_t *buf, size_t cap);

/* Formats the flags the way tcpdump does ("S.", "F.", "R", "."), in its
 * order F S R P . U E W; "-" for none.  out holds 9 bytes. */
char *tcp_flags_text(uint8_t flags, char out[9]);

/* Connection states (RFC 9293 3.3.2), CLOSED first. */
#define TCP_STATES(X) \
	X(CLOSED) X(LISTEN) X(SYN_SENT) X(SYN_RECEIVED) X(ESTABLISHED) X(FIN_WAIT_1) \
	X(FIN_WAIT_2) X(CLOSE_WAIT) X(CLOSING) X(LAST_ACK) X(TIME_WAIT)
#define TCP_STATE_ENUM(name) TCP_##name,
enum tcp_state { TCP_STATES(TCP_STATE_ENUM) TCP_STATE__COUNT };
#undef TCP_STATE_ENUM

/* The state's name as the RFC writes it ("SYN-RECEIVED"). */
const char *tcp_state_name(enum tcp_state state);

/* One state change the stack makes, and what causes it ("event / what we
 * send"). */
struct tcp_transition {
	enum tcp_state from, to;
	const char *cause;
};

/* The stack's table of every state change it makes (*count entries).  A
 * change not in it is counted as tcp_bad_transitions, a bug. */
const struct tcp_transition *tcp_transition_table(size_t *count);

/* Starts listening on port (passive OPEN, RFC 9293 3.10.1).  Connections
 * that complete are reported by EV_TCP_ACCEPTED; at most backlog (capped at
 * TCPIP_TCP_BACKLOG) may be half-open at once.  Returns 0, or -1 if the port
 * is 0, already listened on, or the listener table is full. */
int tcp_listen(struct stack *st, uint16_t port, unsigned backlog);

/* Stops listening on port; connections it made live on.  Returns 0, or -1
 * if nothing listens there. */
int tcp_unlisten(struct stack *st, uint16_t port);

/* Active OPEN (RFC 9293 3.10.1) to addr:port from an ephemeral port: sends a
 * SYN.  Returns the connection's id (>= 0), reported later by
 * EV_TCP_CONNECTED, EV_TCP_REFUSED or EV_TCP_TIMEOUT; or -1 if addr is not on
 * our link or the table is full. */
int tcp_connect(struct stack *st, stack_time_ms now, uint32_t addr, uint16_t port);

/* CLOSE (RFC 9293 3.10.4): we send no more and read no more; a FIN follows
 * the queued data.  With unread data, or text arriving after it, the peer
 * gets a RST instead (RFC 1122 4.2.2.13).  Returns 0, or -1 if conn is not
 * an open connection or was closed already. */
int tcp_close(struct stack *st, stack_time_ms now, int conn);

/* Half-close: we send no more (a FIN follows the queued data), and go on
 * reading.  Returns 0, or -1 if conn is not open or was shut already. */
int tcp_shutdown(struct stack *st, stack_time_ms now, int conn);

/* Queues up to len bytes of data to send (ESTABLISHED or CLOSE-WAIT, not
 * shut); returns how many the send buffer took (0 when it is full: wait
 * for EV_TCP_WRITABLE), or -1 if conn cannot send. */
long tcp_write(struct stack *st, stack_time_ms now, int conn, const uint8_t *data, size_t len);

/* tcp_write() of urgent data (RFC 9293 3.8.5, SEND with the urgent flag):
 * SND.UP moves to the end of what the buffer took, and every segment before
 * it carries URG and the urgent pointer. */
long tcp_write_urgent(struct stack *st, stack_time_ms now, int conn, const uint8_t *data,
		      size_t len);

/* Reads up to cap bytes, in order; returns how many (0: none yet, see
 * tcp_peer_done()), or -1 if conn is not a connection.  Reading may send a
 * window update. */
long tcp_read(struct stack *st, stack_time_ms now, int conn, uint8_t *buf, size_t cap);

/* Readiness: bytes waiting to be read; room in the send buffer (0 if conn
 * cannot send); true once the peer's FIN has come and every byte before it
 * was read, or the connection is gone. */
size_t tcp_readable(const struct stack *st, int conn);
size_t tcp_writable(const struct stack *st, int conn);
bool tcp_peer_done(const struct stack *st, int conn);

/* RFC 9293 3.8.5 (MUST-33): how many bytes of urgent data the application
 * has still to read, from tcp_read()'s next byte to RCV.UP; 0 if none.  The
 * urgent bytes come in order, inline (RFC 6093); EV_TCP_URGENT says when an
 * urgent pointer is new or moves on (MUST-32). */
size_t tcp_urgent_pending(const struct stack *st, int conn);

/* Nagle's algorithm off (on = true) or on, for conn (MUST-17).  Returns 0,
 * or -1 if conn is not a connection. */
int tcp_set_nodelay(struct stack *st, stack_time_ms now, int conn, bool on);

/* ABORT (RFC 9293 3.10.5): a RST to the peer (in a synchronized state) and
 * the connection is gone.  Returns 0, or -1 if conn is not a connection. */
int tcp_abort(struct stack *st, stack_time_ms now, int conn);

/* RFC 9293 3.9.1.9 (MUST-48): conn's segments from now on carry dscp (0-63)
 * in the IPv4 DS field (RFC 2474), ECN bits 0.  Returns 0, or -1 if conn is
 * not a connection or dscp is out of range. */
int tcp_conn_set_dscp(struct stack *st, int conn, uint8_t dscp);

/* RFC 9293 3.8.3 (MUST-21): conn gives up after r2 retransmissions without
 * progress instead of its state's limit (0 puts that back; TCP_R2_FOREVER:
 * never, for an application that decides itself when to quit).  Returns 0,
 * or -1 if conn is not a connection. */
#define TCP_R2_FOREVER UINT_MAX
int tcp_conn_set_r2(struct stack *st, int conn, unsigned r2);

/* The most connection conn sends in one segment: the peer's MSS option, or
 * 536 without one (MUST-15), capped by our MTU (MUST-16), at least
 * TCPIP_TCP_MIN_MSS; 0 if there is no such connection. */
uint16_t tcp_conn_snd_mss(const struct stack *st, int conn);

/* The state of connection conn (TCP_CLOSED if there is none). */
enum tcp_state tcp_conn_state(const struct stack *st, int conn);

/* Chapter 8: congestion control, by name: "newreno" (RFC 5681, RFC 6582;
 * Linux calls its own "reno") or "cubic" (RFC 9438). */

/* True if name is an algorithm's. */
bool tcp_cc_exists(const char *name);

/* Connections opened from now on use algorithm name.  Returns 0, or -1 if
 * there is no such algorithm. */
int tcp_set_cc_default(struct stack *st, const char *name);

/* Connection conn uses algorithm name from now on (an open one keeps its
 * window and ssthresh; the new algorithm starts its own state from them).
 * Returns 0, or -1 if conn is not a connection or there is no such
 * algorithm. */
int tcp_conn_set_cc(struct stack *st, int conn, const char *name);

/* What congestion control holds for a connection, for tests and pictures. */
struct tcp_cc_info {
	const char *algo;          /* its name */
	uint32_t cwnd, ssthresh;   /* bytes; ssthresh UINT32_MAX: none yet */
	uint32_t in_flight;        /* data sent and not acknowledged */
	uint32_t pipe;             /* in_flight less a segment per duplicate ACK */
	bool recovering;           /* in a loss recovery */
	bool ecn;                  /* ECN was negotiated (RFC 3168) */
};

/* ECN (RFC 3168) for new connections: stack_cfg.tcp_ecn, tcp_set_ecn(). */
enum tcp_ecn_mode {
	TCP_ECN_ACCEPT,            /* used when the peer's SYN asks (the default; Linux's tcp_ecn=2) */
	TCP_ECN_ON,                /* our SYNs ask too (Linux's tcp_ecn=1) */
	TCP_ECN_OFF,               /* never (Linux's tcp_ecn=0) */
};

/* Connections opened from now on use ECN mode mode.  Returns 0, or -1 if
 * mode is none of the three. */
int tcp_set_ecn(struct stack *st, int mode);

/* Fills *info for conn; returns 0, or -1 if conn is not a connection. */
int tcp_conn_cc_info(const struct stack *st, int conn, struct tcp_cc_info *info);

#endif
