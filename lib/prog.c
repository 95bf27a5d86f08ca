/*
 * prog.c - the conventions every chapter program shares (prog.h): its core
 * flags, how it opens its device and sheds its privileges, and its bounded
 * event loop.  Outside the core: this file may read clocks and block.
 */
#include "tcpip/prog.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "tcpip/caps.h"
#include "tcpip/fault.h"
#include "tcpip/ip4.h"

/* Prints "NAME: message" and the usage line to stderr; exits 2. */
static void prog_usage_error(const struct prog_opts *opts, const char *message)
{
	fprintf(stderr, "%s: %s\nusage: %s %s\ntry '%s --help'\n", opts->name, message,
		opts->name, opts->usage, opts->name);
	exit(PROG_EXIT_USAGE);
}

/* Prints --help to stdout; exits 0. */
static void prog_help(const struct prog_opts *opts)
{
	printf("usage: %s %s\n\n%s\n\n"
	       "  -i IFACE         the interface to open (required)\n"
	       "  -a ADDR/PREFIX   our IPv4 address (default: none; see every packet;\n"
	       "                   used from chapter 2 on)\n"
	       "  --pcap FILE      also save every frame to FILE (pcap format)\n"
	       "  -c COUNT         stop after COUNT frames (default: no limit)\n"
	       "  -t SECONDS       stop after SECONDS (default: no limit)\n"
	       "  -v               verbose: capability sets; from chapter 2 on, the\n"
	       "                   stack's counters at exit\n"
	       "  --fault SPEC     make the link worse on purpose, reproducibly: SPEC is\n"
	       "                   items like drop=0.05,dup=0.01,corrupt=0.001,reorder=0.02\n"
	       "                   (rates per frame, 0 to 1), ce=0.01 (mark ECN-capable\n"
	       "                   IPv4 packets CE, as a congested router does),\n"
	       "                   reorder_max=50ms, delay=20ms, mtu=1000, dir=rx|tx|both\n"
	       "                   (default both), seed=N (default 1); one line per fault\n"
	       "                   on stderr, the counts at exit with -v; --pcap still\n"
	       "                   saves the frames as they are on the wire\n"
	       "%s%s%s"
	       "  --help           this text\n",
	       opts->name, opts->usage, opts->about,
	       opts->host ? "  --resolve ADDR   ask ARP for ADDR's MAC at start\n"
			    "  --msl MS         TCP's maximum segment lifetime: TIME-WAIT lasts 2 MSL\n"
			    "                   (default 30000, so 60 s, as Linux's; shorter for tests)\n"
			  : "",
	       opts->tcp ? "  -p PORT          listen on TCP port PORT (may be given up to 8 times)\n"
			 : "",
	       opts->tcp_data ? "  --cc NAME        TCP congestion control: newreno (the default) or cubic\n"
				"  --cwnd-log       a line for each change of a congestion window\n"
			      : "");
	exit(PROG_EXIT_OK);
}

/* Parses "192.0.2.2/24" into opts; returns 0, or -1 if malformed. */
static int prog_parse_addr(struct prog_opts *opts, const char *text)
{
	char addr[16];
	const char *slash = strchr(text, '/');
	char *end;
	long prefix;

	if (!slash || (size_t)(slash - text) >= sizeof addr)
		return -1;
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	prefix = strtol(slash + 1, &end, 10);
	if (ip4_aton(addr, &opts->addr) < 0 || end == slash + 1 || *end != '\0' || prefix < 0 ||
	    prefix > 32)
		return -1;
	opts->prefix_len = (int)prefix;
	return 0;
}

/* Parses a non-negative number into *out; returns 0, or -1 if malformed. */
static int prog_parse_number(const char *text, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(text, &end);
	return errno != 0 || end == text || *end != '\0' || *out < 0 ? -1 : 0;
}

/* Parses --fault's SPEC into opts; exits 2 naming the bad item. */
static void prog_parse_fault(struct prog_opts *opts, const char *text)
{
	char err[128], message[160];

	if (fault_parse(text, &opts->fault, err, sizeof err) < 0) {
		snprintf(message, sizeof message, "--fault: %s", err);
		prog_usage_error(opts, message);
	}
	opts->fault_on = true;
}

void prog_parse(struct prog_opts *opts, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"pcap", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{"resolve", required_argument, NULL, 'R'},
		{"fault", required_argument, NULL, 'F'},
		{"msl", required_argument, NULL, 'M'},
		{"cc", required_argument, NULL, 'C'},
		{"cwnd-log", no_argument, NULL, 'W'},
		{NULL, 0, NULL, 0},
	};
	int opt;
	double number;

	opts->prefix_len = -1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":i:a:c:t:vp:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i': opts->iface = optarg; break;
		case 'a':
			if (prog_parse_addr(opts, optarg) < 0)
				prog_usage_error(opts, "-a wants ADDR/PREFIX, like 192.0.2.2/24");
			break;
		case 'c':
			if (prog_parse_number(optarg, &number) < 0 || number != (long)number)
				prog_usage_error(opts, "-c wants a whole number of frames");
			opts->count = (long)number;
			break;
		case 't':
			if (prog_parse_number(optarg, &number) < 0)
				prog_usage_error(opts, "-t wants a number of seconds");
			opts->timeout_s = number;
			break;
		case 'v': opts->verbose = true; break;
		case 'P': opts->pcap = optarg; break;
		case 'F': prog_parse_fault(opts, optarg); break;
		case 'M':
			if (!opts->host || prog_parse_number(optarg, &number) < 0 || number < 1 ||
			    number > 600000 || number != (long)number)
				prog_usage_error(opts, opts->host ? "--msl wants milliseconds, 1 to 600000"
								  : "unknown option");
			opts->msl_ms = (uint32_t)number;
			break;
		case 'C':
			if (!opts->tcp_data || !tcp_cc_exists(optarg))
				prog_usage_error(opts, opts->tcp_data ? "--cc wants newreno or cubic"
								 : "unknown option");
			opts->cc = optarg;
			break;
		case 'W':
			if (!opts->tcp_data)
				prog_usage_error(opts, "unknown option");
			opts->cwnd_log = true;
			break;
		case 'R':
			if (!opts->host || ip4_aton(optarg, &opts->resolve) < 0)
				prog_usage_error(opts, opts->host ? "--resolve wants an address"
								  : "unknown option");
			break;
		case 'p':
			if (!opts->tcp || prog_parse_number(optarg, &number) < 0 || number < 1 ||
			    number > 65535 || number != (long)number || opts->port_count >= PROG_MAX_PORTS)
				prog_usage_error(opts, opts->tcp ? "-p wants a port, 1 to 65535, at most 8 times"
								 : "unknown option");
			opts->ports[opts->port_count++] = (uint16_t)number;
			break;
		case 'h': prog_help(opts); break;
		case ':': prog_usage_error(opts, "an option is missing its value"); break;
		default: prog_usage_error(opts, "unknown option"); break;
		}
	}
	if (optind < argc)
		prog_usage_error(opts, "unexpected argument");
	if (!opts->iface)
		prog_usage_error(opts, "-i IFACE is required");
	if (opts->host && opts->addr == 0)
		prog_usage_error(opts, "-a ADDR/PREFIX is required: a host needs an address");
}

/* The path a reader can type to run this program again: relative to the
 * working directory when the program lies below it, else absolute; the bare
 * name if /proc/self/exe cannot be read.  Returns out. */
static const char *prog_self_path(const struct prog_opts *opts, char *out, size_t cap)
{
	char exe[PATH_MAX], cwd[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	size_t cwd_len;

	if (len <= 0) {
		snprintf(out, cap, "%s", opts->name);
		return out;
	}
	exe[len] = '\0';
	cwd_len = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
	if (cwd_len > 1 && strncmp(exe, cwd, cwd_len) == 0 && exe[cwd_len] == '/')
		snprintf(out, cap, "%s", exe + cwd_len + 1);
	else
		snprintf(out, cap, "%s", exe);
	return out;
}

/* Explains a failed open of the packet socket and exits 1. */
static void prog_open_failed(const struct prog_opts *opts, int err)
{
	char self[PATH_MAX];

	fprintf(stderr, "%s: cannot open a packet socket on %s: %s\n", opts->name, opts->iface,
		strerror(err));
	if (err == EPERM || err == EACCES)
		fprintf(stderr,
			"A raw socket needs the capability CAP_NET_RAW. Two ways in:\n"
			"  1. run it in the book's lab, which gives it the capability over the\n"
			"     lab's own network namespace:  tools/lab target %s -i target0 ...\n"
			"  2. give the binary that one capability (safer than running it as root,\n"
			"     which grants every capability):\n"
			"     sudo setcap cap_net_raw+ep %s\n",
			prog_self_path(opts, self, sizeof self), self);
	else if (err == ENODEV)
		fprintf(stderr, "No interface is named %s here; 'ip link' lists them.\n",
			opts->iface);
	exit(PROG_EXIT_RUNTIME);
}

/* Wraps dev in the fault injector of --fault, outside the pcap tee (so the
 * capture shows the wire, and the loop sees the injector's held frames),
 * logging to stderr, the counts at close with -v.  Says which faults are
 * on.  Exits 1 if out of memory. */
static struct dev *prog_wrap_fault(const struct prog_opts *opts, struct dev *dev)
{
	struct fault_env env = {.log = stderr, .counts_at_close = opts->verbose};
	char text[256];

	dev = fault_wrap(dev, &opts->fault, &env);
	if (!dev) {
		fprintf(stderr, "%s: --fault: %s\n", opts->name, strerror(errno));
		exit(PROG_EXIT_RUNTIME);
	}
	fprintf(stderr, "%s: fault: %s\n", opts->name,
		fault_spec_text(&opts->fault, text, sizeof text));
	return dev;
}

struct dev *prog_open_dev(const struct prog_opts *opts)
{
	char text[256];
	struct dev *dev = dev_packet_open(opts->iface, 0);

	if (!dev)
		prog_open_failed(opts, errno);
	if (opts->pcap) {
		dev = dev_pcap_tee(dev, opts->pcap);
		if (!dev) {
			fprintf(stderr, "%s: cannot write %s: %s\n", opts->name, opts->pcap,
				strerror(errno));
			exit(PROG_EXIT_RUNTIME);
		}
	}
	if (opts->fault_on)
		dev = prog_wrap_fault(opts, dev);
	if (opts->verbose)
		fprintf(stderr, "%s: capabilities before drop: %s\n", opts->name,
			caps_text(text, sizeof text));
	if (caps_drop_all() < 0) {
		fprintf(stderr, "%s: cannot drop capabilities: %s\n", opts->name, strerror(errno));
		dev_close(dev);
		exit(PROG_EXIT_RUNTIME);
	}
	if (opts->verbose)
		fprintf(stderr, "%s: capabilities after drop: %s\n", opts->name,
			caps_text(text, sizeof text));
	return dev;
}

int prog_close_dev(const struct prog_opts *opts, struct dev *dev)
{
	if (dev_close(dev) == 0)
		return 0;
	fprintf(stderr, "%s: writing %s failed (is the disk full?): the capture is incomplete\n",
		opts->name, opts->pcap ? opts->pcap : "the capture");
	return -1;
}

uint64_t prog_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

char *prog_time(uint64_t ts_us, char out[16])
{
	time_t secs = (time_t)(ts_us / 1000000u);
	struct tm tm;

	localtime_r(&secs, &tm);
	snprintf(out, 16, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ts_us % 1000000u));
	return out;
}

/* Milliseconds poll() may wait: until the earliest of the run's deadline,
 * the stack's (if st) and the device's next held frame (a fault injector's,
 * rounded up to a whole ms), at most a second, 0 if past. */
static int prog_wait_ms(uint64_t deadline_ms, const struct stack *st, struct dev *dev)
{
	uint64_t now = prog_now_ms();
	int64_t release_us = dev_next_release_us(dev);
	int wait_ms;

	if (st && stack_next_deadline(st) < deadline_ms)
		deadline_ms = stack_next_deadline(st);

	if (deadline_ms <= now)
		return 0;
	wait_ms = deadline_ms - now > 1000 ? 1000 : (int)(deadline_ms - now);
	if (release_us >= 0 && (release_us + 999) / 1000 < wait_ms)
		wait_ms = (int)((release_us + 999) / 1000);
	return wait_ms;
}

/* A descriptor that becomes readable on SIGINT or SIGTERM, which are
 * blocked so they no longer kill us mid-frame; -1 if it cannot be made (the
 * signals then keep their default action). */
static int prog_signal_fd(void)
{
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &stop, NULL) < 0)
		return -1;
	return signalfd(-1, &stop, SFD_CLOEXEC);
}

/* Hands frames[0..got) to fn; returns false when the loop must stop. */
static bool prog_deliver(const struct prog_opts *opts, struct frame *frames, int got,
			 prog_frame_fn fn, void *ctx, long *handled)
{
	for (int i = 0; i < got; i++) {
		if (!fn(ctx, &frames[i]))
			return false;
		if (opts->count > 0 && ++*handled >= opts->count)
			return false;
	}
	return true;
}

int prog_loop(const struct prog_opts *opts, struct dev *dev, struct stack *st, prog_frame_fn fn,
	      void *ctx)
{
	uint8_t bufs[TCPIP_BATCH][TCPIP_FRAME_BUF];
	struct frame frames[TCPIP_BATCH];
	uint64_t deadline = opts->timeout_s > 0 ? prog_now_ms() + (uint64_t)(opts->timeout_s * 1000)
						: UINT64_MAX;
	struct pollfd pfd[3] = {{.fd = dev->fd, .events = POLLIN},
				{.fd = prog_signal_fd(), .events = POLLIN},
				{.fd = opts->on_stdin ? STDIN_FILENO : -1, .events = POLLIN}};
	long handled = 0;
	int rc = 0;

	for (int i = 0; i < TCPIP_BATCH; i++)
		frames[i] = (struct frame){.data = bufs[i], .cap = sizeof bufs[i]};
	/* Said once everything is set up (a host has announced itself), so a
	 * script that waits for this line can start sending. */
	fprintf(stderr, "%s: listening on %s\n", opts->name, opts->iface);
	while (prog_now_ms() < deadline) {
		int got;

		/* What this pass sent goes out before we wait, so a batching
		 * device adds no latency (a loss here is a link's loss). */
		dev_flush(dev);
		if (poll(pfd, 3, prog_wait_ms(deadline, st, dev)) < 0 && errno != EINTR) {
			fprintf(stderr, "%s: poll failed: %s\n", opts->name, strerror(errno));
			rc = -1;
			break;
		}
		if (pfd[1].revents & POLLIN)
			break; /* SIGINT or SIGTERM: stop cleanly, so -v still reports */
		if (st)
			stack_poll(st, prog_now_ms());
		if ((pfd[2].revents & (POLLIN | POLLHUP)) && !opts->on_stdin(ctx))
			break;
		got = dev_recv(dev, frames, TCPIP_BATCH);
		if (got < 0) {
			fprintf(stderr, "%s: receive failed: %s\n", opts->name, strerror(errno));
			rc = -1;
			break;
		}
		if (!prog_deliver(opts, frames, got, fn, ctx, &handled))
			break;
	}
	if (pfd[1].fd >= 0)
		close(pfd[1].fd);
	return rc;
}

void prog_print_counters(const struct prog_opts *opts, const struct stack *st)
{
	const struct stack_counters *c = stack_counters(st);

	fprintf(stderr, "%s: counters: frames_in %llu, ip4_in %llu, ip4_delivered %llu", opts->name,
		(unsigned long long)c->frames_in, (unsigned long long)c->ip4_in,
		(unsigned long long)c->ip4_delivered);
	if (c->arp_in)
		fprintf(stderr, ", arp_in %llu", (unsigned long long)c->arp_in);
	for (int i = 1; i < DROP__COUNT; i++)
		if (c->drops[i])
			fprintf(stderr, ", %s %llu", drop_name((enum drop_reason)i),
				(unsigned long long)c->drops[i]);
	if (c->frames_out)
		fprintf(stderr,
			"; out: frames %llu, arp requests %llu, arp replies %llu, echo replies %llu, "
			"no route %llu, too big %llu, queue full %llu, unresolved %llu, tx failed %llu",
			(unsigned long long)c->frames_out, (unsigned long long)c->arp_requests_out,
			(unsigned long long)c->arp_replies_out, (unsigned long long)c->echo_replies_out,
			(unsigned long long)c->out_no_route, (unsigned long long)c->out_too_big,
			(unsigned long long)c->out_queue_full, (unsigned long long)c->out_unresolved,
			(unsigned long long)c->out_tx_failed);
	if (c->tcp_in || c->tcp_out)
		fprintf(stderr,
			"; tcp: in %llu, out %llu, resets out %llu, retransmits %llu, challenge acks "
			"%llu (%llu over the limit), backlog drops %llu, table full %llu, fast "
			"retransmits %llu, out-of-order dropped %llu, bad transitions %llu",
			(unsigned long long)c->tcp_in, (unsigned long long)c->tcp_out,
			(unsigned long long)c->tcp_rsts_out, (unsigned long long)c->tcp_retransmits,
			(unsigned long long)c->tcp_challenge_acks,
			(unsigned long long)c->tcp_challenge_limited,
			(unsigned long long)c->tcp_backlog_drops, (unsigned long long)c->tcp_table_full,
			(unsigned long long)c->tcp_fast_retransmits,
			(unsigned long long)c->tcp_ooo_dropped, (unsigned long long)c->tcp_bad_transitions);
	fputc('\n', stderr);
}

/* prog_frame_fn of prog_run_stack(): the frame into the stack. */
static bool prog_stack_frame(void *ctx, const struct frame *frame)
{
	struct prog_stack *ps = ctx;

	ps->frame = frame;
	stack_input(ps->st, prog_now_ms(), frame->data, frame->len);
	return true;
}

/* stack_tx_fn of a host: one frame out through the device. */
static int prog_stack_tx(void *ctx, const uint8_t *data, size_t len)
{
	struct prog_stack *ps = ctx;
	struct frame frame = {.data = (uint8_t *)data, .cap = len, .len = len, .wire_len = len};

	return dev_send(ps->dev, &frame, 1) == 1 ? 0 : -1;
}

void prog_print_event(const struct stack_event *ev)
{
	char when[16], text[160];

	printf("%s %s\n", prog_time(dev_now_us(), when), stack_event_text(ev, text, sizeof text));
	fflush(stdout);
}

/* stack_event_fn of a host: "TIME text" on stdout. */
static void prog_stack_event(void *ctx, const struct stack_event *ev)
{
	(void)ctx;
	prog_print_event(ev);
}

void prog_print_drop(const struct prog_stack *ps, const struct stack_rx *rx)
{
	char when[16];

	if (rx->verdict == DROP_NONE)
		return;
	printf("%s drop %s: %s (%s)\n", prog_time(ps->frame->ts_us, when), drop_name(rx->verdict),
	       drop_what(rx->verdict), drop_rfc(rx->verdict));
	fflush(stdout);
}

/* stack_rx_fn of a host: a line for each frame the stack dropped. */
static void prog_stack_drop(void *ctx, const struct stack_rx *rx)
{
	prog_print_drop(ctx, rx);
}

/* Fills key with random bytes (getrandom(2)); the stack's ISNs depend on
 * nobody else knowing them (RFC 6528).  Exits 1 if the kernel gives none. */
static void prog_secret(uint8_t key[16])
{
	if (getrandom(key, 16, 0) != 16) {
		fprintf(stderr, "getrandom failed: %s\n", strerror(errno));
		exit(PROG_EXIT_RUNTIME);
	}
}

/* The stack's configuration for opts: an observer, or a host on dev. */
static struct stack_cfg prog_stack_cfg(const struct prog_opts *opts, struct prog_stack *ps,
				       stack_rx_fn on_rx)
{
	struct stack_cfg cfg = {.ip4_addr = opts->addr, .prefix_len = opts->prefix_len,
				.on_rx = on_rx, .rx_ctx = ps};

	if (opts->host) {
		memcpy(cfg.mac, ps->dev->mac, ETH_ADDR_LEN);
		cfg.answer_echo = opts->answer_echo;
		cfg.tx = prog_stack_tx;
		cfg.tx_ctx = ps;
		cfg.on_event = opts->on_event ? opts->on_event : prog_stack_event;
		cfg.event_ctx = ps;
		prog_secret(cfg.secret);
		cfg.on_rx = on_rx ? on_rx : prog_stack_drop;
		cfg.tcp_msl_ms = opts->msl_ms;
		cfg.tcp_cc = opts->cc;
		cfg.tcp_cc_events = opts->cwnd_log;
	}
	return cfg;
}

int prog_run_stack(const struct prog_opts *opts, stack_rx_fn on_rx)
{
	struct prog_stack ps = {.dev = prog_open_dev(opts), .user = opts->user};
	struct stack_cfg cfg = prog_stack_cfg(opts, &ps, on_rx);
	int rc;

	ps.st = stack_new(&cfg);
	if (!ps.st) {
		fprintf(stderr, "%s: out of memory\n", opts->name);
		dev_close(ps.dev);
		return PROG_EXIT_RUNTIME;
	}
	if (opts->host) {
		stack_start(ps.st, prog_now_ms());
		if (opts->resolve && stack_resolve(ps.st, prog_now_ms(), opts->resolve) < 0)
			fprintf(stderr, "%s: cannot resolve: not on our link\n", opts->name);
	}
	rc = opts->on_start ? opts->on_start(&ps) : 0;
	if (rc == 0)
		rc = prog_loop(opts, ps.dev, ps.st, prog_stack_frame, &ps);
	if (opts->verbose)
		prog_print_counters(opts, ps.st);
	if (prog_close_dev(opts, ps.dev) < 0)
		rc = -1;
	stack_free(ps.st);
	return rc == 0 ? PROG_EXIT_OK : PROG_EXIT_RUNTIME;
}
