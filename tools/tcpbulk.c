/*
 * tcpbulk - bulk TCP on Linux's own sockets, in C: the Linux side of the
 * book's speed figures (tools/bench), so that they measure the kernel and
 * not a Python loop.
 *
 *   tcpbulk discard PORT          server: read each connection to its end,
 *                                 count, close (RFC 863's discard)
 *   tcpbulk source PORT BYTES     server: write BYTES on each connection,
 *                                 then close (like chargen, but a known
 *                                 count); with --http, read an HTTP/1.0
 *                                 request up to its blank line first and
 *                                 answer 200 with a Content-Length
 *   tcpbulk send ADDR PORT BYTES  client: write BYTES, half-close, wait for
 *                                 the server's close (every byte taken)
 *   tcpbulk recv ADDR PORT BYTES  client: read BYTES (0: to the end), then
 *                                 close; with --http, send a GET first and
 *                                 count only the body
 *
 * Clients print one line: bytes, seconds (from the connection being
 * established to the last byte), Mbit/s.  Servers say "listening on" on
 * stderr once they listen, and one line per connection on stdout.
 * Limits: IPv4 only; a server serves one connection at a time; the HTTP is
 * just enough for curl's GET (any path, no keep-alive, a request of at most
 * 4 KB); every wait ends at the -t deadline (default 60 s), and a client's
 * handshake within 10 s (so a server that never answers costs little).
 * Exit status: 0 done, 1 runtime error (the message says which), 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BULK_CHUNK 65536
#define BULK_REQUEST_MAX 4096
#define BULK_CONNECT_S 10.0   /* a handshake not done by then fails */
#define BULK_EXIT_OK 0
#define BULK_EXIT_RUNTIME 1
#define BULK_EXIT_USAGE 2

enum bulk_mode { BULK_DISCARD, BULK_SOURCE, BULK_SEND, BULK_RECV };

struct bulk_opts {
	enum bulk_mode mode;
	struct sockaddr_in addr;  /* servers: where to listen; clients: where to connect */
	uint64_t bytes;
	bool http;
	double seconds;           /* the whole run's deadline */
	long conns;               /* servers: stop after this many (0: until the deadline) */
};

static volatile sig_atomic_t bulk_stop;
static char bulk_chunk[BULK_CHUNK];

static const char bulk_usage[] =
	"usage: tcpbulk discard PORT [-a ADDR] [-n CONNS] [-t SECONDS]\n"
	"       tcpbulk source PORT BYTES [--http] [-a ADDR] [-n CONNS] [-t SECONDS]\n"
	"       tcpbulk send ADDR PORT BYTES [-t SECONDS]\n"
	"       tcpbulk recv ADDR PORT BYTES [--http] [-t SECONDS]\n"
	"Bulk TCP on Linux's sockets: the C servers and client of tools/bench.\n"
	"  -a ADDR     servers: the IPv4 address to listen on (default any)\n"
	"  -n CONNS    servers: end after CONNS connections (default: at the deadline)\n"
	"  -t SECONDS  the whole run ends by then (default 60)\n"
	"  --http      source: answer an HTTP/1.0 GET; recv: send one, count the body\n"
	"Exit status: 0 done, 1 runtime error, 2 usage error.\n";

/* Seconds on the monotonic clock. */
static double bulk_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SIGTERM/SIGINT handler: asks every loop to end at its next wake-up. */
static void bulk_on_signal(int sig)
{
	(void)sig;
	bulk_stop = 1;
}

/* Prints msg and the usage to stderr and exits 2. */
static void bulk_usage_error(const char *msg)
{
	fprintf(stderr, "tcpbulk: %s\n%s", msg, bulk_usage);
	exit(BULK_EXIT_USAGE);
}

/* Parses a whole decimal number in [min, max]; exits 2 naming what otherwise. */
static uint64_t bulk_number(const char *text, uint64_t min, uint64_t max, const char *what)
{
	char *end;
	unsigned long long value;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || value < min || value > max) {
		char msg[128];

		snprintf(msg, sizeof msg, "%s wants a number from %llu to %llu, not '%s'", what,
			 (unsigned long long)min, (unsigned long long)max, text);
		bulk_usage_error(msg);
	}
	return (uint64_t)value;
}

/* Sets the IPv4 address of *addr from dotted text; exits 2 if it is not one. */
static void bulk_address(struct sockaddr_in *addr, const char *text)
{
	if (inet_pton(AF_INET, text, &addr->sin_addr) != 1)
		bulk_usage_error("an address is an IPv4 address such as 192.0.2.2");
}

/* Reads the mode's positional arguments (argv[0] is the mode) into *opts;
 * exits 2 on a wrong count or value. */
static void bulk_positionals(struct bulk_opts *opts, int argc, char **argv)
{
	static const char *const names[] = {"discard", "source", "send", "recv"};
	static const int counts[] = {2, 3, 4, 4};
	int mode = -1, first;

	for (int m = 0; m < 4 && argc > 0; m++)
		if (strcmp(argv[0], names[m]) == 0)
			mode = m;
	if (mode < 0)
		bulk_usage_error("the first word is discard, source, send or recv");
	if (argc != counts[mode])
		bulk_usage_error("wrong number of arguments for that mode");
	opts->mode = (enum bulk_mode)mode;
	first = opts->mode == BULK_SEND || opts->mode == BULK_RECV ? 2 : 1;
	if (first == 2)
		bulk_address(&opts->addr, argv[1]);
	opts->addr.sin_port = htons((uint16_t)bulk_number(argv[first], 1, 65535, "PORT"));
	if (argc > first + 1)
		opts->bytes = bulk_number(argv[first + 1], opts->mode == BULK_RECV ? 0 : 1,
					  UINT64_C(1) << 50, "BYTES");
}

/* Fills *opts from the command line; prints the usage and exits 0 on
 * --help, exits 2 on a usage error. */
static void bulk_parse(struct bulk_opts *opts, int argc, char **argv)
{
	static const struct option longs[] = {
		{"help", no_argument, NULL, 'h'}, {"http", no_argument, NULL, 'H'}, {0, 0, 0, 0}};
	int opt;

	opts->addr.sin_family = AF_INET;
	opts->addr.sin_addr.s_addr = htonl(INADDR_ANY);
	opts->seconds = 60;
	/* GNU getopt moves the positionals after the options, in their order. */
	while ((opt = getopt_long(argc, argv, "a:n:t:h", longs, NULL)) != -1) {
		switch (opt) {
		case 'a': bulk_address(&opts->addr, optarg); break;
		case 'n': opts->conns = (long)bulk_number(optarg, 1, 1000000, "-n"); break;
		case 't': opts->seconds = (double)bulk_number(optarg, 1, 86400, "-t"); break;
		case 'H': opts->http = true; break;
		case 'h': fputs(bulk_usage, stdout); exit(BULK_EXIT_OK);
		default: bulk_usage_error("unknown option");
		}
	}
	bulk_positionals(opts, argc - optind, argv + optind);
	if (opts->http && (opts->mode == BULK_DISCARD || opts->mode == BULK_SEND))
		bulk_usage_error("--http goes with source or recv");
}

/* Waits until fd is ready for events or the deadline passes; returns 1 if
 * ready, 0 on the deadline or a stop signal, -1 on a poll error. */
static int bulk_wait(int fd, short events, double deadline)
{
	for (int tries = 0; tries < 1000000; tries++) {
		struct pollfd pfd = {.fd = fd, .events = events};
		double left_s = deadline - bulk_now_s();
		int got;

		if (left_s <= 0 || bulk_stop)
			return 0;
		got = poll(&pfd, 1, left_s > 1 ? 1000 : (int)(left_s * 1000) + 1);
		if (got > 0)
			return 1;
		if (got < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

/* Writes len bytes of buf to non-blocking fd by the deadline; returns 0, or
 * -1 (errno set; ETIMEDOUT on the deadline). */
static int bulk_write_all(int fd, const char *buf, size_t len, double deadline)
{
	while (len > 0) {
		ssize_t took = send(fd, buf, len, MSG_NOSIGNAL);

		if (took > 0) {
			buf += took;
			len -= (size_t)took;
			continue;
		}
		if (took < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (bulk_wait(fd, POLLOUT, deadline) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/* Reads from non-blocking fd into buf (cap bytes) by the deadline; returns
 * the count, 0 at the peer's end, -1 on an error or the deadline (errno set). */
static ssize_t bulk_read(int fd, char *buf, size_t cap, double deadline)
{
	for (;;) {
		ssize_t got = recv(fd, buf, cap, 0);

		if (got >= 0 || (errno != EAGAIN && errno != EINTR))
			return got;
		if (bulk_wait(fd, POLLIN, deadline) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

/* Writes bytes of the pattern chunk to fd; returns 0 or -1 (errno set). */
static int bulk_write_count(int fd, uint64_t bytes, double deadline)
{
	while (bytes > 0) {
		size_t len = bytes < BULK_CHUNK ? (size_t)bytes : BULK_CHUNK;

		if (bulk_write_all(fd, bulk_chunk, len, deadline) < 0)
			return -1;
		bytes -= len;
	}
	return 0;
}

/* Makes fd non-blocking; returns 0 or -1. */
static int bulk_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Reads an HTTP request on fd up to its blank line (at most 4 KB); returns
 * the bytes read, or -1 on an error, the deadline, an early end or a request
 * too long.  Bytes past the blank line are not expected (no pipelining). */
static ssize_t bulk_read_request(int fd, double deadline)
{
	char request[BULK_REQUEST_MAX + 1];
	size_t len = 0;

	while (len < BULK_REQUEST_MAX) {
		ssize_t got = bulk_read(fd, request + len, BULK_REQUEST_MAX - len, deadline);

		if (got <= 0)
			return -1;
		len += (size_t)got;
		request[len] = '\0';
		if (strstr(request, "\r\n\r\n") || strstr(request, "\n\n"))
			return (ssize_t)len;
	}
	return -1;
}

/* Source: (with --http, the request and a header, then) opts->bytes of
 * pattern, then the close.  Returns the bytes read (the request) or -1. */
static ssize_t bulk_serve_source(int fd, const struct bulk_opts *opts, double deadline)
{
	ssize_t request_len = 0;

	if (opts->http) {
		char header[160];
		int len;

		request_len = bulk_read_request(fd, deadline);
		if (request_len < 0)
			return -1;
		len = snprintf(header, sizeof header,
			       "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
			       "Content-Length: %llu\r\n\r\n", (unsigned long long)opts->bytes);
		if (bulk_write_all(fd, header, (size_t)len, deadline) < 0)
			return -1;
	}
	return bulk_write_count(fd, opts->bytes, deadline) < 0 ? -1 : request_len;
}

/* Discard: reads fd to its end; returns the bytes read, or -1. */
static int64_t bulk_serve_discard(int fd, double deadline)
{
	static char buf[BULK_CHUNK];
	int64_t total = 0;

	for (;;) {
		ssize_t got = bulk_read(fd, buf, sizeof buf, deadline);

		if (got <= 0)
			return got == 0 ? total : -1;
		total += got;
	}
}

/* Serves one accepted connection and prints its line; returns 0 or -1. */
static int bulk_serve_one(int fd, const struct sockaddr_in *from, const struct bulk_opts *opts,
			  double deadline)
{
	char addr[INET_ADDRSTRLEN];
	double start = bulk_now_s();
	int64_t bytes_in = 0;
	uint64_t bytes_out = 0;

	inet_ntop(AF_INET, &from->sin_addr, addr, sizeof addr);
	if (bulk_nonblock(fd) < 0)
		return -1;
	if (opts->mode == BULK_DISCARD) {
		bytes_in = bulk_serve_discard(fd, deadline);
	} else {
		bytes_in = bulk_serve_source(fd, opts, deadline);
		bytes_out = opts->bytes;
	}
	if (bytes_in < 0) {
		printf("%s %s:%u: failed: %s\n", opts->mode == BULK_DISCARD ? "discard" : "source",
		       addr, ntohs(from->sin_port), strerror(errno));
		fflush(stdout);
		return -1;
	}
	printf("%s %s:%u: %lld bytes in, %llu bytes out, %.6f s, closed\n",
	       opts->mode == BULK_DISCARD ? "discard" : "source", addr, ntohs(from->sin_port),
	       (long long)bytes_in, (unsigned long long)bytes_out, bulk_now_s() - start);
	fflush(stdout);
	return 0;
}

/* Opens a listening socket on opts->addr; returns it, or -1 with a message. */
static int bulk_listen(const struct bulk_opts *opts)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
	    bind(fd, (const struct sockaddr *)&opts->addr, sizeof opts->addr) < 0 ||
	    listen(fd, 16) < 0 || bulk_nonblock(fd) < 0) {
		fprintf(stderr, "tcpbulk: cannot listen on port %u: %s (is the address on a link "
			"of this namespace, the port free?)\n", ntohs(opts->addr.sin_port),
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Servers: accept and serve connections one at a time until -n of them, the
 * deadline or a stop signal.  Returns the exit status. */
static int bulk_server(const struct bulk_opts *opts)
{
	double deadline = bulk_now_s() + opts->seconds;
	int listener = bulk_listen(opts);
	char addr[INET_ADDRSTRLEN];
	long served = 0;

	if (listener < 0)
		return BULK_EXIT_RUNTIME;
	inet_ntop(AF_INET, &opts->addr.sin_addr, addr, sizeof addr);
	fprintf(stderr, "tcpbulk: %s listening on %s:%u\n",
		opts->mode == BULK_DISCARD ? "discard" : "source", addr, ntohs(opts->addr.sin_port));
	while (!opts->conns || served < opts->conns) {
		struct sockaddr_in from;
		socklen_t from_len = sizeof from;
		int fd;

		if (bulk_wait(listener, POLLIN, deadline) <= 0)
			break;
		fd = accept4(listener, (struct sockaddr *)&from, &from_len, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		bulk_serve_one(fd, &from, opts, deadline);
		close(fd);
		served++;
	}
	close(listener);
	return BULK_EXIT_OK;
}

/* Connects a non-blocking socket to opts->addr within BULK_CONNECT_S and by
 * the deadline; returns it, or -1 with a message. */
static int bulk_connect(const struct bulk_opts *opts, double deadline)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0;
	socklen_t err_len = sizeof err;

	if (fd < 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&opts->addr, sizeof opts->addr) < 0 &&
	    errno != EINPROGRESS)
		goto fail;
	if (bulk_now_s() + BULK_CONNECT_S < deadline)
		deadline = bulk_now_s() + BULK_CONNECT_S;
	if (bulk_wait(fd, POLLOUT, deadline) <= 0) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0 || err) {
		errno = err ? err : errno;
		goto fail;
	}
	return fd;
fail:
	fprintf(stderr, "tcpbulk: cannot connect to port %u: %s (is the server up, the lab's "
		"peer address set?)\n", ntohs(opts->addr.sin_port), strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Send: BYTES, the half-close, then the server's close; *elapsed_s is from
 * the connection to that close.  Returns 0, or -1 with a message. */
static int bulk_client_send(int fd, const struct bulk_opts *opts, double deadline,
			    double *elapsed_s)
{
	double start = bulk_now_s();
	char buf[4096];
	ssize_t got;

	if (bulk_write_count(fd, opts->bytes, deadline) < 0 || shutdown(fd, SHUT_WR) < 0) {
		fprintf(stderr, "tcpbulk: sending failed: %s\n", strerror(errno));
		return -1;
	}
	while ((got = bulk_read(fd, buf, sizeof buf, deadline)) > 0)
		;
	if (got < 0) {
		fprintf(stderr, "tcpbulk: waiting for the server's close: %s\n", strerror(errno));
		return -1;
	}
	*elapsed_s = bulk_now_s() - start;
	return 0;
}

/* The body's first byte in an HTTP answer of len bytes, or -1 if the header
 * is not whole yet.  Exits 1 on an answer other than 200. */
static ssize_t bulk_body_offset(const char *answer, size_t len)
{
	const char *end = memmem(answer, len, "\r\n\r\n", 4);

	if (!end)
		return len >= BULK_REQUEST_MAX ? (ssize_t)len : -1;
	if (len < 12 || memcmp(answer, "HTTP/1.", 7) != 0 || memcmp(answer + 8, " 200", 4) != 0) {
		fprintf(stderr, "tcpbulk: the server did not answer 200 OK\n");
		exit(BULK_EXIT_RUNTIME);
	}
	return end + 4 - answer;
}

/* Recv: (with --http, a GET, then) reads until BYTES of body or the end;
 * *got_bytes is the body, *elapsed_s from the connection to its last byte.
 * Returns 0, or -1 with a message. */
static int bulk_client_recv(int fd, const struct bulk_opts *opts, double deadline,
			    uint64_t *got_bytes, double *elapsed_s)
{
	static char buf[BULK_CHUNK];
	static const char get[] = "GET / HTTP/1.0\r\n\r\n";
	double start = bulk_now_s();
	size_t header_len = 0;
	bool in_body = !opts->http;

	if (opts->http && bulk_write_all(fd, get, sizeof get - 1, deadline) < 0)
		goto fail;
	while (!opts->bytes || *got_bytes < opts->bytes) {
		size_t cap = in_body ? sizeof buf : BULK_REQUEST_MAX - header_len;
		ssize_t got, body;

		if (in_body && opts->bytes && opts->bytes - *got_bytes < cap)
			cap = (size_t)(opts->bytes - *got_bytes); /* no byte past BYTES */
		got = bulk_read(fd, buf + (in_body ? 0 : header_len), cap, deadline);

		if (got < 0)
			goto fail;
		if (got == 0)
			break;
		if (in_body) {
			*got_bytes += (uint64_t)got;
			continue;
		}
		header_len += (size_t)got;
		body = bulk_body_offset(buf, header_len);
		if (body >= 0) {
			*got_bytes += header_len - (size_t)body;
			in_body = true;
		}
	}
	*elapsed_s = bulk_now_s() - start;
	if (opts->bytes && *got_bytes < opts->bytes) {
		fprintf(stderr, "tcpbulk: the server closed after %llu of %llu bytes\n",
			(unsigned long long)*got_bytes, (unsigned long long)opts->bytes);
		return -1;
	}
	return 0;
fail:
	fprintf(stderr, "tcpbulk: receiving failed after %llu bytes: %s\n",
		(unsigned long long)*got_bytes, strerror(errno));
	return -1;
}

/* Clients: connect, move the bytes, print the line.  Returns the exit status. */
static int bulk_client(const struct bulk_opts *opts)
{
	double deadline = bulk_now_s() + opts->seconds, elapsed_s = 0;
	uint64_t bytes = opts->bytes;
	int fd = bulk_connect(opts, deadline), rc;
	char addr[INET_ADDRSTRLEN];

	if (fd < 0)
		return BULK_EXIT_RUNTIME;
	if (opts->mode == BULK_SEND) {
		rc = bulk_client_send(fd, opts, deadline, &elapsed_s);
	} else {
		bytes = 0;
		rc = bulk_client_recv(fd, opts, deadline, &bytes, &elapsed_s);
	}
	close(fd);
	if (rc < 0)
		return BULK_EXIT_RUNTIME;
	inet_ntop(AF_INET, &opts->addr.sin_addr, addr, sizeof addr);
	printf("%s %s:%u: %llu bytes in %.6f s, %.1f Mbit/s\n",
	       opts->mode == BULK_SEND ? "send" : "recv", addr, ntohs(opts->addr.sin_port),
	       (unsigned long long)bytes, elapsed_s,
	       elapsed_s > 0 ? (double)bytes * 8 / elapsed_s / 1e6 : 0.0);
	return BULK_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct bulk_opts opts = {0};
	struct sigaction stop = {.sa_handler = bulk_on_signal};

	bulk_parse(&opts, argc, argv);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	for (size_t i = 0; i < sizeof bulk_chunk; i++)
		bulk_chunk[i] = (char)('a' + i % 26);
	if (opts.mode == BULK_DISCARD || opts.mode == BULK_SOURCE)
		return bulk_server(&opts);
	return bulk_client(&opts);
}
