/*
 * serve - chapter 7: TCP servers on the book's stack, over the socket-like
 * calls of tcp.h (tcp_read, tcp_write, tcp_close and the readiness events).
 *
 *   --echo PORT     RFC 862: every byte comes back
 *   --discard PORT  RFC 863: every byte is read, counted and forgotten
 *   --chargen PORT  RFC 864: lines of characters, as fast as the peer takes them
 *   --http PORT --file PATH   HTTP/1.0 (RFC 1945): GET of any path answers
 *                   with the file, then the connection closes
 *
 * Connections are served when the stack has finished with a frame (on_rx),
 * never from inside the stack's own processing.  One line per connection
 * when it ends (bytes each way), and the stack's events with -v.
 * Limits: one file; no keep-alive; a request header longer than 2 KB gets
 * "400 Bad Request".
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcpip/prog.h"

#define SERVE_REQUEST_MAX 2048
#define SERVE_CHUNK 4096

enum serve_kind { SERVE_NONE, SERVE_ECHO, SERVE_DISCARD, SERVE_CHARGEN, SERVE_HTTP };

static const char *const serve_names[] = {"none", "echo", "discard", "chargen", "http"};

/* One connection being served. */
struct serve_conn {
	enum serve_kind kind;
	uint32_t addr;
	uint16_t port;
	uint64_t bytes_in, bytes_out;
	uint64_t chargen_pos;            /* chargen: the next character's index */
	char request[SERVE_REQUEST_MAX]; /* http: the request so far */
	size_t request_len;
	bool answered;                   /* http: the header is queued */
	char header[256];
	size_t header_len, header_sent;
	uint64_t body_len, body_sent;
	bool closed;
};

struct serve {
	const struct prog_opts *opts;
	uint16_t ports[5];               /* by enum serve_kind; 0: not served */
	const char *file;
	int file_fd;
	uint64_t file_len;
	struct serve_conn conns[TCPIP_TCP_CONNS];
	bool busy[TCPIP_TCP_CONNS];      /* has something to do once the frame is done */
};

/* Takes this program's own flags out of argv (before prog_parse() sees the
 * rest); exits 2 on a malformed one. */
static void serve_take_flags(struct serve *sv, int *argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		int kind = 0;

		for (int k = SERVE_ECHO; k <= SERVE_HTTP; k++)
			if (argv[i][0] == '-' && argv[i][1] == '-' && strcmp(argv[i] + 2, serve_names[k]) == 0)
				kind = k;
		if (kind && i + 1 < *argc) {
			long port = strtol(argv[++i], NULL, 10);

			if (port < 1 || port > 65535) {
				fprintf(stderr, "serve: --%s wants a port, 1 to 65535\n", serve_names[kind]);
				exit(PROG_EXIT_USAGE);
			}
			sv->ports[kind] = (uint16_t)port;
		} else if (strcmp(argv[i], "--file") == 0 && i + 1 < *argc) {
			sv->file = argv[++i];
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	argv[out] = NULL;
}

/* The service on local port, or SERVE_NONE. */
static enum serve_kind serve_kind_of(const struct serve *sv, uint16_t port)
{
	for (int k = SERVE_ECHO; k <= SERVE_HTTP; k++)
		if (sv->ports[k] == port)
			return (enum serve_kind)k;
	return SERVE_NONE;
}

/* Echo: what was read goes back, as far as the send buffer takes it. */
static void serve_echo(struct stack *st, stack_time_ms now, int conn, struct serve_conn *c)
{
	uint8_t buf[SERVE_CHUNK];
	size_t room = tcp_writable(st, conn);
	long got = tcp_read(st, now, conn, buf, room < sizeof buf ? room : sizeof buf);

	if (got > 0) {
		c->bytes_in += (uint64_t)got;
		c->bytes_out += (uint64_t)tcp_write(st, now, conn, buf, (size_t)got);
	}
}

/* Discard: read and forget. */
static void serve_discard(struct stack *st, stack_time_ms now, int conn, struct serve_conn *c)
{
	uint8_t buf[SERVE_CHUNK];
	long got;

	for (int i = 0; i < 64 && (got = tcp_read(st, now, conn, buf, sizeof buf)) > 0; i++)
		c->bytes_in += (uint64_t)got;
}

/* Chargen: RFC 864's rotating lines of 72 printable characters. */
static void serve_chargen(struct stack *st, stack_time_ms now, int conn, struct serve_conn *c)
{
	uint8_t buf[SERVE_CHUNK];
	size_t room = tcp_writable(st, conn), len = room < sizeof buf ? room : sizeof buf;
	long took;

	serve_discard(st, now, conn, c);
	for (size_t i = 0; i < len; i++) {
		uint64_t line = (c->chargen_pos + i) / 74, col = (c->chargen_pos + i) % 74;

		buf[i] = col == 72 ? '\r' : col == 73 ? '\n' : (uint8_t)(' ' + (line + col) % 95);
	}
	took = tcp_write(st, now, conn, buf, len);
	if (took > 0) {
		c->chargen_pos += (uint64_t)took;
		c->bytes_out += (uint64_t)took;
	}
}

/* Prints the line that ends a connection's service. */
static void serve_report(const struct serve_conn *c, const char *how)
{
	char addr[16];

	printf("%s %s:%u: %llu bytes in, %llu bytes out, %s\n", serve_names[c->kind],
	       ip4_ntoa(c->addr, addr), c->port, (unsigned long long)c->bytes_in,
	       (unsigned long long)c->bytes_out, how);
	fflush(stdout);
}

/* HTTP: once the request header is whole, queue the answer. */
static void serve_http_request(struct serve *sv, struct serve_conn *c)
{
	bool get = strncmp(c->request, "GET ", 4) == 0;
	bool whole = c->request_len < sizeof c->request;

	c->answered = true;
	if (!whole || !get) {
		c->header_len = (size_t)snprintf(c->header, sizeof c->header,
						 "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
		return;
	}
	c->body_len = sv->file_len;
	c->header_len = (size_t)snprintf(c->header, sizeof c->header,
					 "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
					 "Content-Length: %llu\r\n\r\n",
					 (unsigned long long)sv->file_len);
}

/* HTTP: read the request, then send header and file as room allows. */
static void serve_http(struct serve *sv, struct stack *st, stack_time_ms now, int conn,
		       struct serve_conn *c)
{
	uint8_t buf[SERVE_CHUNK];

	if (!c->answered) {
		size_t room = sizeof c->request - 1 - c->request_len;
		long got = tcp_read(st, now, conn, (uint8_t *)c->request + c->request_len, room);

		if (got > 0) {
			c->bytes_in += (uint64_t)got;
			c->request_len += (size_t)got;
			c->request[c->request_len] = '\0';
		}
		if (strstr(c->request, "\r\n\r\n") || strstr(c->request, "\n\n") ||
		    c->request_len == sizeof c->request - 1)
			serve_http_request(sv, c);
		if (!c->answered)
			return;
	}
	serve_discard(st, now, conn, c); /* anything after the request is not read as one */
	if (c->header_sent < c->header_len) {
		long took = tcp_write(st, now, conn, (uint8_t *)c->header + c->header_sent,
				      c->header_len - c->header_sent);

		c->header_sent += took > 0 ? (size_t)took : 0;
		c->bytes_out += took > 0 ? (uint64_t)took : 0;
	}
	while (c->header_sent == c->header_len && c->body_sent < c->body_len) {
		size_t room = tcp_writable(st, conn), want = sizeof buf;
		ssize_t got;
		long took;

		if (room < want)
			want = room;
		if (c->body_len - c->body_sent < want)
			want = (size_t)(c->body_len - c->body_sent);
		got = want ? pread(sv->file_fd, buf, want, (off_t)c->body_sent) : 0;
		if (got <= 0)
			break;
		took = tcp_write(st, now, conn, buf, (size_t)got);
		if (took <= 0)
			break;
		c->body_sent += (uint64_t)took;
		c->bytes_out += (uint64_t)took;
	}
	if (c->header_sent == c->header_len && c->body_sent == c->body_len && !c->closed) {
		c->closed = true; /* HTTP/1.0: the close marks the end of the body */
		tcp_close(st, now, conn);
		serve_report(c, "closed");
	}
}

/* Serves connection conn once: the service's step, then the close when the
 * peer is done (echo, discard, chargen). */
static void serve_step(struct serve *sv, struct stack *st, int conn)
{
	struct serve_conn *c = &sv->conns[conn];
	stack_time_ms now = prog_now_ms();

	switch (c->kind) {
	case SERVE_ECHO: serve_echo(st, now, conn, c); break;
	case SERVE_DISCARD: serve_discard(st, now, conn, c); break;
	case SERVE_CHARGEN: serve_chargen(st, now, conn, c); break;
	case SERVE_HTTP: serve_http(sv, st, now, conn, c); break;
	default: return;
	}
	if (!c->closed && c->kind != SERVE_HTTP && tcp_peer_done(st, conn) &&
	    tcp_conn_state(st, conn) != TCP_CLOSED && tcp_readable(st, conn) == 0) {
		c->closed = true;
		tcp_close(st, now, conn);
		serve_report(c, "closed");
	}
}

/* on_event: remember what needs serving; report the ends. */
static void serve_event(void *ctx, const struct stack_event *ev)
{
	struct prog_stack *ps = ctx;
	struct serve *sv = ps->user;
	struct serve_conn *c;

	if (ev->kind == EV_TCP_CWND ||
	    (sv->opts->verbose && ev->kind != EV_TCP_READABLE && ev->kind != EV_TCP_WRITABLE))
		prog_print_event(ev);
	if (ev->conn < 0 || ev->conn >= TCPIP_TCP_CONNS)
		return;
	c = &sv->conns[ev->conn];
	if (ev->kind == EV_TCP_ACCEPTED) {
		memset(c, 0, sizeof *c);
		c->kind = serve_kind_of(sv, ev->local_port);
		c->addr = ev->addr;
		c->port = ev->port;
	}
	if (c->kind == SERVE_NONE)
		return;
	if (ev->kind == EV_TCP_RESET || ev->kind == EV_TCP_TIMEOUT) {
		if (!c->closed)
			serve_report(c, ev->kind == EV_TCP_RESET ? "reset by the peer" : "timed out");
		c->kind = SERVE_NONE;
		return;
	}
	if (ev->kind == EV_TCP_STATE && ev->state == TCP_CLOSED) {
		c->kind = SERVE_NONE;
		return;
	}
	sv->busy[ev->conn] = true;
}

/* on_rx: the frame is done; serve what its events woke. */
static void serve_rx(void *ctx, const struct stack_rx *rx)
{
	struct prog_stack *ps = ctx;
	struct serve *sv = ps->user;

	if (sv->opts->verbose)
		prog_print_drop(ps, rx);
	for (int conn = 0; conn < TCPIP_TCP_CONNS; conn++) {
		if (!sv->busy[conn])
			continue;
		sv->busy[conn] = false;
		serve_step(sv, ps->st, conn);
	}
}

/* on_start: open the file, listen on every service's port. */
static int serve_start(void *ctx)
{
	struct prog_stack *ps = ctx;
	struct serve *sv = ps->user;
	struct stat info;

	if (sv->ports[SERVE_HTTP] && (!sv->file || (sv->file_fd = open(sv->file, O_RDONLY)) < 0 ||
				      fstat(sv->file_fd, &info) < 0)) {
		fprintf(stderr, "serve: --http needs --file PATH, a file it can read\n");
		return -1;
	}
	if (sv->ports[SERVE_HTTP])
		sv->file_len = (uint64_t)info.st_size;
	for (int k = SERVE_ECHO; k <= SERVE_HTTP; k++) {
		if (!sv->ports[k])
			continue;
		if (tcp_listen(ps->st, sv->ports[k], TCPIP_TCP_BACKLOG) < 0) {
			fprintf(stderr, "serve: cannot listen on port %u\n", sv->ports[k]);
			return -1;
		}
		printf("%s on port %u\n", serve_names[k], sv->ports[k]);
	}
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static struct serve sv = {.file_fd = -1};
	struct prog_opts opts = {
		.name = "serve",
		.usage = "-i IFACE -a ADDR/PREFIX [--echo PORT] [--discard PORT] [--chargen PORT] "
			 "[--http PORT --file PATH] [--cc NAME] [-t SECONDS] [-v]",
		.about = "TCP servers on the book's stack (chapter 7): echo (RFC 862), discard\n"
			 "(RFC 863), chargen (RFC 864) and HTTP/1.0 GET of one file (RFC 1945).",
		.host = true,
		.tcp_data = true,
		.answer_echo = true,
		.on_start = serve_start,
		.on_event = serve_event,
		.user = &sv,
	};
	int rc;

	sv.opts = &opts;
	serve_take_flags(&sv, &argc, argv);
	prog_parse(&opts, argc, argv);
	if (!sv.ports[SERVE_ECHO] && !sv.ports[SERVE_DISCARD] && !sv.ports[SERVE_CHARGEN] &&
	    !sv.ports[SERVE_HTTP]) {
		fprintf(stderr, "serve: name at least one service\nusage: serve %s\n", opts.usage);
		return PROG_EXIT_USAGE;
	}
	rc = prog_run_stack(&opts, serve_rx);
	if (sv.file_fd >= 0)
		close(sv.file_fd);
	return rc;
}
