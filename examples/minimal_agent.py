#!/usr/bin/python3
"""minimal_agent.py - the smallest useful agent: the skeleton to start from
when you point the conformance harness at a stack of your own
(docs/any-stack.md).

It speaks chapter 6's part of the agent protocol (testvectors/README.md):
listen, connect, close, abort and quit, and the events accepted, connected,
refused, timeout, reset and eof; send, recv, shutdown and nodelay get
"error unsupported".  Here the stack behind it is the Linux kernel's, through
its socket API, so it runs in a lab whose kernel holds 192.0.2.2
(`--agent-like linux`).  For your stack, replace the calls marked STACK
with your stack's own, and the sockets' readiness with your stack's events.

Bounded: it ends after --max-seconds (default 300), on quit, or at the end
of its input, closing what is open.
Usage: minimal_agent.py [-i IFACE] [--max-seconds S]
"""
import argparse
import errno
import selectors
import socket
import sys
import time

FAILURES = {errno.ECONNREFUSED: "refused", errno.ETIMEDOUT: "timeout",
            errno.ECONNRESET: "reset", errno.EHOSTUNREACH: "unreachable",
            errno.ENETUNREACH: "unreachable"}


def say(line):
    """One protocol line on standard output."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Agent:
    """The listening sockets, the current connection, and one selector."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.current = None       # (socket, "connecting" | "open" | "done")
        self.others = []

    def command(self, words):
        """Runs one command; returns the answer line."""
        verb, args = words[0], words[1:]
        if verb == "listen" and len(args) == 1:
            sock = socket.socket()                                # STACK: a listener
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("0.0.0.0", int(args[0])))
            sock.listen(16)
            sock.setblocking(False)
            self.sel.register(sock, selectors.EVENT_READ, "listener")
            return "ok"
        if verb == "connect" and len(args) == 2:
            sock = socket.socket()                                # STACK: an active open
            sock.setblocking(False)
            code = sock.connect_ex((args[0], int(args[1])))
            if code not in (0, errno.EINPROGRESS):                # refused before a SYN
                sock.close()
                raise OSError(code, "connect refused")
            self.make_current(sock, "connecting")
            return "ok"
        if verb in ("close", "abort") and self.current:
            sock = self.current[0]
            if verb == "abort":                                   # STACK: abort with RST
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            if self.current[1] != "done":
                self.sel.unregister(sock)
            sock.close()                                          # STACK: close
            self.current = None
            return "ok"
        return "error unsupported " + " ".join(words)

    def make_current(self, sock, state="open"):
        """sock becomes the connection commands and events are about."""
        if self.current:
            if self.current[1] != "done":
                self.sel.unregister(self.current[0])
            self.others.append(self.current[0])
        self.current = (sock, state)
        mask = selectors.EVENT_WRITE if state == "connecting" else selectors.EVENT_READ
        self.sel.register(sock, mask, "conn")

    def ready(self, key):
        """A socket is ready: an accept, an open's outcome, or eof/reset."""
        sock = key.fileobj
        if key.data == "listener":
            conn, peer = sock.accept()                            # STACK: accept
            conn.setblocking(False)
            self.make_current(conn)
            return say(f"accepted {peer[0]} {peer[1]}")
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if self.current[1] == "connecting":                      # the open's outcome
            if error:
                self.sel.unregister(sock)
                self.current = (sock, "done")
                return say(FAILURES.get(error, "refused"))
            self.current = (sock, "open")
            self.sel.modify(sock, selectors.EVENT_READ, "conn")
            return say("connected")
        try:
            got = sock.recv(1, socket.MSG_PEEK)                   # STACK: eof or reset?
        except OSError as err:
            got, error = None, err.errno
        self.sel.unregister(sock)          # eof, reset, or data this agent never reads
        self.current = (sock, "done")
        if got:
            return None
        return say("eof" if got == b"" and not error else FAILURES.get(error, "reset"))

    def run(self, deadline):
        """Serves standard input and the sockets until quit, EOF or deadline."""
        self.sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
        print("minimal_agent: listening on target0", file=sys.stderr, flush=True)
        while time.monotonic() < deadline:
            for key, _ in self.sel.select(timeout=1.0):
                if key.data != "stdin":
                    self.ready(key)
                    continue
                line = sys.stdin.readline()
                if not line or line.split() == ["quit"]:
                    return
                if line.split():
                    try:
                        say(self.command(line.split()))
                    except OSError as err:                        # a refused listen or open
                        say(f"error {err.strerror}")


def main():
    """Parses the options and serves."""
    parser = argparse.ArgumentParser(description="The smallest agent of the harness.")
    parser.add_argument("-i", default="target0", help="the lab's interface (unused here)")
    parser.add_argument("--max-seconds", type=float, default=300)
    args = parser.parse_args()
    Agent().run(time.monotonic() + args.max_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
