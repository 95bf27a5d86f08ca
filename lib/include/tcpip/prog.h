/*
 * prog.h - what every chapter program shares: the core flags, the event
 * loop, opening the device, and printing (design: "Program conventions").
 *
 * Flags: -i IFACE, -a ADDR/PREFIX, --pcap FILE, -v, --help, -p PORT for the
 * TCP chapters, --fault SPEC (fault.h: a worse link, on purpose), and two
 * bounds every program has so no run is endless: -c COUNT (stop after COUNT frames)
 * and -t SECONDS (stop after that long; default 0, no limit).
 * Exit codes: 0 success, 2 usage error, 1 runtime error.
 */
#ifndef TCPIP_PROG_H
#define TCPIP_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include "dev.h"
#include "fault.h"
#include "stack.h"

#define PROG_EXIT_OK 0
#define PROG_EXIT_RUNTIME 1
#define PROG_EXIT_USAGE 2
#define PROG_MAX_PORTS 8

struct prog_opts {
	const char *name;     /* program name for messages */
	const char *usage;    /* one line after "usage: NAME " */
	const char *about;    /* what the program does, for --help */
	const char *iface;    /* -i */
	uint32_t addr;        /* -a, host order; 0 if not given */
	int prefix_len;       /* -a's /PREFIX; -1 if not given */
	const char *pcap;     /* --pcap */
	bool fault_on;        /* --fault given */
	struct fault_spec fault; /* --fault's SPEC, parsed */
	bool verbose;         /* -v */
	long count;           /* -c; 0: no limit */
	double timeout_s;     /* -t; 0: no limit */
	bool host;            /* set by the program: a host on the link (chapter 4
	                       * on): needs -a, takes --resolve ADDR, answers */
	bool answer_echo;     /* set by the program: answer pings (chapter 5) */
	uint32_t resolve;     /* --resolve, host order; 0 if not given */
	bool tcp;             /* set by the program: takes -p PORT (chapter 6 on) */
	bool tcp_data;        /* set by the program: carries TCP data (chapter 7
	                       * on): takes --cc NAME */
	uint16_t ports[PROG_MAX_PORTS]; /* -p, each time it is given */
	int port_count;
	uint32_t msl_ms;      /* --msl (hosts); 0: the stack's default */
	const char *cc;       /* --cc (TCP programs); NULL: the stack's default */
	bool cwnd_log;        /* --cwnd-log (TCP programs): a line per change of a
	                       * congestion window (EV_TCP_CWND) */
	/* Hooks a program built on prog_run_stack() may set (NULL: none); ctx is
	 * the struct prog_stack *.  on_start runs once the stack exists, before
	 * the loop (return -1 to stop with exit 1); on_event replaces the default
	 * line per event (prog_print_event()); on_stdin runs when standard input
	 * is readable (return false to stop the loop). */
	int (*on_start)(void *ctx);
	void (*on_event)(void *ctx, const struct stack_event *ev);
	bool (*on_stdin)(void *ctx);
	void *user;           /* the program's own state, for its hooks */
};

/* Parses the core flags into *opts (name, usage and about set by the caller).
 * Prints help and exits 0 for --help; prints the problem and exits 2 for a
 * usage error, including a missing -i. */
void prog_parse(struct prog_opts *opts, int argc, char **argv);

/* Opens the AF_PACKET device on opts->iface, tees it to opts->pcap if given,
 * wraps that in the fault injector if --fault was given (saying which
 * faults are on; its log on stderr; its counts at close with -v),
 * then drops every capability (printing the sets before and after with -v).
 * The program says it is listening when prog_loop() starts.
 * On failure prints what to do and exits 1: without CAP_NET_RAW the message
 * names the two ways in, the lab and setcap. */
struct dev *prog_open_dev(const struct prog_opts *opts);

/* Closes the device; if that lost something (a pcap write failed), says so
 * and returns -1, so the program exits 1. */
int prog_close_dev(const struct prog_opts *opts, struct dev *dev);

/* Called for each received frame; returns false to stop the loop. */
typedef bool (*prog_frame_fn)(void *ctx, const struct frame *frame);

/* Receives frames until opts->count frames were handled, opts->timeout_s
 * passed, or fn returns false (or opts->on_stdin does, called with ctx).  Between frames it waits in poll() no longer
 * than the time left, nor past the stack's next deadline when st is given
 * (NULL: no stack), nor past the device's next held frame
 * (dev_next_release_us()), and runs stack_poll() whenever it wakes.  Before
 * each wait it flushes the device (dev_flush()), so frames a batching device
 * queued during the pass are on the wire before the loop sleeps.  SIGINT and SIGTERM end the loop cleanly (they are
 * blocked and read from a signalfd).  Prints "NAME: listening on IFACE" to
 * stderr as it starts.  Returns 0, or -1 on a device error (printed). */
int prog_loop(const struct prog_opts *opts, struct dev *dev, struct stack *st, prog_frame_fn fn,
	      void *ctx);

/* What prog_run_stack() gives its on_rx callback as ctx. */
struct prog_stack {
	struct stack *st;
	struct dev *dev;
	const struct frame *frame; /* the frame being handled: its time, flags */
	void *user;                /* opts->user, for the program's hooks */
};

/* The whole life of a program built on the stack: opens the device
 * (prog_open_dev), makes a stack, hands every received frame to
 * stack_input() until prog_loop() ends, prints the counters with -v, and
 * frees everything.  on_rx (may be NULL) runs once per frame with a
 * struct prog_stack * as ctx.
 * An observer (opts->host unset) has no MAC of its own, so it sees every
 * frame, and never sends.  A host (chapter 4 on) takes the interface's MAC
 * and -a's address, sends through the device, announces itself, resolves
 * --resolve's address, answers pings if opts->answer_echo, and prints one
 * line per stack event (stack_event_text()) and per dropped frame.
 * Returns the exit status (PROG_EXIT_OK or PROG_EXIT_RUNTIME). */
int prog_run_stack(const struct prog_opts *opts, stack_rx_fn on_rx);

/* Prints ev as "TIME text" on stdout (the default for a host's events). */
void prog_print_event(const struct stack_event *ev);

/* Prints "TIME drop NAME: what (RFC)" on stdout if rx was dropped (the
 * default on_rx of a host); nothing for an accepted frame. */
void prog_print_drop(const struct prog_stack *ps, const struct stack_rx *rx);

/* Prints the stack's counters on one line to stderr: "NAME: counters: ...",
 * every drop reason that is not zero by name.  Programs call it for -v. */
void prog_print_counters(const struct prog_opts *opts, const struct stack *st);

/* The monotonic clock in milliseconds, for stack_input()'s now. */
uint64_t prog_now_ms(void);

/* Formats a receive time as local "HH:MM:SS.uuuuuu" into out (16 bytes). */
char *prog_time(uint64_t ts_us, char out[16]);

#endif
