/*
 * fetch - chapter 7: an HTTP/1.0 client on the book's stack.  It connects
 * (an active open), sends "GET PATH HTTP/1.0", reads the answer, writes the
 * body to a file and checks it against Content-Length.
 *
 *   fetch -i IFACE -a ADDR/PREFIX --url http://IP:PORT/PATH -o FILE [-t SECONDS] [-v]
 *
 * Prints one line at the end: status, bytes, time and rate.  Exits 0 only
 * if the status was 200 and the body was whole, after the connection has
 * closed in both directions.  The work is done when the stack has finished
 * with a frame (on_rx), never inside it; the end is a SIGTERM to itself,
 * which the program loop takes as "stop cleanly".
 * Limits: IPv4 addresses only (no DNS); HTTP/1.0, no redirects, no chunks.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpip/prog.h"

#define FETCH_HEADER_MAX 4096

struct fetch {
	const struct prog_opts *opts;
	uint32_t addr;
	uint16_t port;
	char path[512];
	const char *out_path;
	FILE *out;
	int conn;
	bool busy, sent_request, closing, done;
	char header[FETCH_HEADER_MAX];
	size_t header_len;
	bool header_done;
	int status;
	long long content_length;        /* -1: not given */
	unsigned long long body;
	stack_time_ms started;
	const char *failure;             /* why it failed, or NULL */
};

/* Takes --url and -o out of argv; exits 2 if either is missing or wrong. */
static void fetch_take_flags(struct fetch *fe, int *argc, char **argv)
{
	const char *url = NULL;
	int out = 1;
	char host[64];
	unsigned port = 80;
	int used = 0;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--url") == 0 && i + 1 < *argc)
			url = argv[++i];
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < *argc)
			fe->out_path = argv[++i];
		else
			argv[out++] = argv[i];
	}
	*argc = out;
	argv[out] = NULL;
	if (!url || !fe->out_path || sscanf(url, "http://%63[0-9.]%n", host, &used) != 1 ||
	    ip4_aton(host, &fe->addr) < 0 ||
	    (url[used] == ':' && (sscanf(url + used, ":%u%n", &port, &used) != 1 || port == 0 ||
				  port > 65535))) {
		fprintf(stderr, "fetch: wants --url http://IP[:PORT]/PATH and -o FILE\n");
		exit(PROG_EXIT_USAGE);
	}
	fe->port = (uint16_t)port;
	url = strchr(url + strlen("http://"), '/');
	snprintf(fe->path, sizeof fe->path, "%s", url ? url : "/");
}

/* Ends the run: the program loop stops at the next wake-up. */
static void fetch_finish(struct fetch *fe, const char *failure)
{
	if (fe->done)
		return;
	fe->done = true;
	fe->failure = failure;
	kill(getpid(), SIGTERM);
}

/* Reads the status line and headers once they are whole; false if more
 * bytes are needed. */
static bool fetch_parse_header(struct fetch *fe, size_t *body_at)
{
	char *end = strstr(fe->header, "\r\n\r\n");
	char *length;

	if (!end)
		return false;
	*body_at = (size_t)(end + 4 - fe->header);
	*end = '\0';
	if (sscanf(fe->header, "HTTP/%*d.%*d %d", &fe->status) != 1)
		fe->status = 0;
	length = strcasestr(fe->header, "\r\nContent-Length:");
	fe->content_length = length ? atoll(length + strlen("\r\nContent-Length:")) : -1;
	fe->header_done = true;
	return true;
}

/* Writes body bytes to the output file. */
static void fetch_body(struct fetch *fe, const char *data, size_t len)
{
	if (len && fwrite(data, 1, len, fe->out) != len)
		fetch_finish(fe, "cannot write the output file");
	fe->body += len;
}

/* Reads what the connection has: header first, then body. */
static void fetch_read(struct fetch *fe, struct stack *st, stack_time_ms now)
{
	char buf[8192];
	long got;

	while ((got = tcp_read(st, now, fe->conn, (uint8_t *)buf, sizeof buf)) > 0) {
		size_t at = 0, copy;

		if (fe->header_done) {
			fetch_body(fe, buf, (size_t)got);
			continue;
		}
		copy = (size_t)got < sizeof fe->header - 1 - fe->header_len
			       ? (size_t)got
			       : sizeof fe->header - 1 - fe->header_len;
		memcpy(fe->header + fe->header_len, buf, copy);
		fe->header_len += copy;
		fe->header[fe->header_len] = '\0';
		if (!fetch_parse_header(fe, &at)) {
			if (fe->header_len == sizeof fe->header - 1)
				fetch_finish(fe, "the answer's header is too long");
			continue;
		}
		/* Body bytes that came with the header: from the buffer, past it. */
		fetch_body(fe, fe->header + at, fe->header_len - at);
		fetch_body(fe, buf + copy, (size_t)got - copy);
	}
}

/* One step: send the request once connected, read, finish at the end. */
static void fetch_step(struct fetch *fe, struct stack *st)
{
	stack_time_ms now = prog_now_ms();

	if (!fe->sent_request && tcp_conn_state(st, fe->conn) == TCP_ESTABLISHED) {
		char request[700];
		int len = snprintf(request, sizeof request, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n",
				   fe->path, "tcpip-book");

		fe->sent_request = tcp_write(st, now, fe->conn, (uint8_t *)request, (size_t)len) == len;
	}
	fetch_read(fe, st, now);
	if (!fe->closing && tcp_peer_done(st, fe->conn)) {
		tcp_close(st, now, fe->conn);
		fe->closing = true;
	}
	/* Done when our FIN is acknowledged too (LAST-ACK to CLOSED): leaving
	 * earlier would strand the peer in FIN-WAIT-2 if the FIN was lost. */
	if (fe->closing && tcp_conn_state(st, fe->conn) == TCP_CLOSED)
		fetch_finish(fe, NULL);
}

/* on_event: wake the step; the connection's failures end the run. */
static void fetch_event(void *ctx, const struct stack_event *ev)
{
	struct prog_stack *ps = ctx;
	struct fetch *fe = ps->user;

	if (ev->kind == EV_TCP_CWND ||
	    (fe->opts->verbose && ev->kind != EV_TCP_READABLE && ev->kind != EV_TCP_WRITABLE))
		prog_print_event(ev);
	if (ev->conn != fe->conn)
		return;
	if (ev->kind == EV_TCP_REFUSED)
		fetch_finish(fe, "connection refused");
	else if (ev->kind == EV_TCP_TIMEOUT)
		fetch_finish(fe, "connection timed out");
	else if (ev->kind == EV_TCP_RESET)
		fetch_finish(fe, "connection reset");
	else
		fe->busy = true;
}

/* on_rx: the frame is done; move the fetch on. */
static void fetch_rx(void *ctx, const struct stack_rx *rx)
{
	struct prog_stack *ps = ctx;
	struct fetch *fe = ps->user;

	if (fe->opts->verbose)
		prog_print_drop(ps, rx);
	if (fe->busy && !fe->done) {
		fe->busy = false;
		fetch_step(fe, ps->st);
	}
}

/* on_start: open the output, start the connection. */
static int fetch_start(void *ctx)
{
	struct prog_stack *ps = ctx;
	struct fetch *fe = ps->user;

	fe->out = fopen(fe->out_path, "wb");
	if (!fe->out) {
		fprintf(stderr, "fetch: cannot write %s\n", fe->out_path);
		return -1;
	}
	fe->started = prog_now_ms();
	fe->conn = tcp_connect(ps->st, fe->started, fe->addr, fe->port);
	if (fe->conn < 0) {
		fprintf(stderr, "fetch: cannot connect: the address is not on our link\n");
		return -1;
	}
	return 0;
}

/* The line that ends the run; returns the exit status. */
static int fetch_verdict(struct fetch *fe)
{
	double secs = (double)(prog_now_ms() - fe->started) / 1000.0;

	if (!fe->failure && !fe->done)
		fe->failure = "no answer in time";
	if (!fe->failure && fe->status != 200)
		fe->failure = "the status was not 200";
	if (!fe->failure && fe->content_length >= 0 && (long long)fe->body != fe->content_length)
		fe->failure = "the body is shorter than its Content-Length";
	printf("fetch: status %d, %llu body bytes in %.3f s (%.1f MB/s)%s%s\n", fe->status, fe->body,
	       secs, secs > 0 ? (double)fe->body / secs / 1e6 : 0.0, fe->failure ? ": " : "",
	       fe->failure ? fe->failure : "");
	return fe->failure ? PROG_EXIT_RUNTIME : PROG_EXIT_OK;
}

int main(int argc, char **argv)
{
	static struct fetch fe = {.conn = -1};
	struct prog_opts opts = {
		.name = "fetch",
		.usage = "-i IFACE -a ADDR/PREFIX --url http://IP[:PORT]/PATH -o FILE [--cc NAME] [-t SECONDS] "
			 "[-v]",
		.about = "Fetches one URL over HTTP/1.0 with the book's stack (chapter 7) and\n"
			 "writes the body to FILE.",
		.host = true,
		.tcp_data = true,
		.on_start = fetch_start,
		.on_event = fetch_event,
		.user = &fe,
	};
	int rc;

	fe.opts = &opts;
	fetch_take_flags(&fe, &argc, argv);
	prog_parse(&opts, argc, argv);
	rc = prog_run_stack(&opts, fetch_rx);
	if (fe.out && fclose(fe.out) != 0 && !fe.failure)
		fe.failure = "cannot write the output file";
	if (rc != PROG_EXIT_OK)
		return rc;
	return fetch_verdict(&fe);
}
