#!/usr/bin/python3
"""linux_agent.py - the agent protocol (testvectors/README.md, "The agent
protocol") spoken with real Linux sockets, so one scenario script drives the
Linux kernel's TCP as it drives ours.

Run it in the lab's target namespace where the kernel holds 192.0.2.2
(Lab(target="linux")).  It reads commands on stdin, one per line, answers
each at once with "ok" or "error TEXT", and reports what happens later as
event lines on stdout.  One poll() loop serves stdin and every socket; all
sockets are non-blocking.

    commands: listen PORT | connect IP PORT | send N | urgent N | recv N |
              shutdown | close | abort | nodelay on|off | cc newreno|cubic |
              ecn on|accept|off | quit
    events:   accepted IP PORT | connected | refused | timeout | unreachable |
              reset | eof | urgent | data N HEX8 | sent N

The "current" connection is the latest accepted or connected one (a connect
in progress is current at once, so close and abort reach it).  eof and reset
are found without consuming data: recv(MSG_PEEK) when the socket is readable
and no data is known to wait, and SO_ERROR when poll() says POLLERR.

`cc NAME` chooses the congestion control (TCP_CONGESTION: newreno is the
kernel's "reno", cubic its "cubic") of the current connection, of every
listener (so what they accept after it inherits it) and of every socket opened
after it.  A namespace's default is the host's (bbr on some hosts), so a
script that depends on it names it.

Limits: one current connection; older ones stay open until quit; the loop
ends after --max-seconds (default 900) or --max-turns turns, whichever first.
It exits 0 on quit or end of input, closing every socket (a plain close).
Usage: linux_agent.py [-i IFACE] [--max-seconds S]
"""
import errno
import fcntl
import hashlib
import os
import select
import signal
import socket
import struct
import sys
import time

NAME = "linux_agent"
BACKLOG = 16
MAX_TURNS = 10_000_000       # poll() turns, a bound beside the time limit
MAX_LINE = 4096              # longest command line (bytes)
MAX_BYTES = 1 << 30          # largest N for send and recv
CHUNK = 65536                # bytes moved per send()/recv() call
POLL_SLICE_MS = 1000         # longest single poll() wait
CC_NAMES = {"newreno": "reno", "cubic": "cubic"}   # protocol name -> Linux's
# ecn MODE -> net.ipv4.tcp_ecn (RFC 3168: 1 asks and accepts, 2 only accepts).
ECN_MODES = {"on": "1", "accept": "2", "off": "0"}
TCP_ECN = "/proc/sys/net/ipv4/tcp_ecn"
ERRNO_EVENTS = {errno.ECONNREFUSED: "refused", errno.ETIMEDOUT: "timeout",
                errno.ECONNRESET: "reset", errno.EPIPE: "reset",
                errno.EHOSTUNREACH: "unreachable", errno.ENETUNREACH: "unreachable"}


def pattern(offset, count):
    """`count` bytes of the fixed send pattern starting at `offset`: byte i of
    one send command's data is i mod 256."""
    return bytes((offset + i) & 0xFF for i in range(count))


class NoConnection(Exception):
    """A command that needs the current connection came when there is none."""


class Conn:
    """One TCP connection and what has been reported about it."""

    def __init__(self, sock, connecting=False):
        """Wraps non-blocking socket `sock`; `connecting` while a connect() runs."""
        self.sock = sock
        self.connecting = connecting
        self.done = False           # reset, timed out or refused: nothing more to report
        self.hup = False            # poll() said POLLHUP with no error: both ways closed
        self.eof = False            # eof reported
        self.data_waiting = False   # MSG_PEEK saw bytes that no recv has taken yet
        self.out = b""              # bytes of send commands not yet accepted by the kernel
        self.out_total = 0          # size of the send command being carried out
        self.out_urgent = False     # ... and they are urgent data (MSG_OOB)
        self.recv_goal = 0          # bytes the current recv command still wants
        self.recv_count = 0         # bytes read for it so far
        self.recv_hash = hashlib.sha256()

    def poll_mask(self):
        """The poll() events worth watching now, or None to leave the socket out
        of poll() (POLLERR and POLLHUP come whatever the mask, so a socket that
        can only repeat them forever is left out, or the loop would spin)."""
        if self.done or (self.hup and not self.recv_goal):
            return None
        if self.connecting:
            return select.POLLOUT
        mask = select.POLLOUT if self.out else 0
        if not self.eof and (self.recv_goal or not self.data_waiting):
            mask |= select.POLLIN
        return mask


class Agent:
    """The agent's state: listeners, connections, the current one, and output."""

    def __init__(self, out=sys.stdout, iface="target0"):
        """An agent with nothing open that writes its lines to `out`, on the
        lab's interface `iface`."""
        self.out = out
        self.iface = iface
        self.listeners = {}   # fd -> socket
        self.conns = {}       # fd -> Conn
        self.current = None
        self.quit = False
        self.urgent_fd = None  # SIGURG's wakeup pipe, once watch_urgent() ran
        self.cc = None         # Linux's name of the congestion control chosen by cc, if any
        self.ecn_was = None    # net.ipv4.tcp_ecn before an ecn command changed it

    def say(self, text):
        """Writes one protocol line and flushes it."""
        self.out.write(text + "\n")
        self.out.flush()

    # ----------------------------------------------------------- commands

    def command(self, line):
        """Carries out one command line and answers it ("ok" or "error TEXT")."""
        words = line.split()
        if not words:
            return
        handler = getattr(self, "cmd_" + words[0], None)
        if handler is None:
            self.say(f"error unknown command {words[0][:40]}")
            return
        try:
            error = handler(*words[1:])
        except TypeError:
            error = f"usage of {words[0]}"
        except NoConnection:
            error = "no current connection"
        except (ValueError, OverflowError) as err:
            error = f"bad argument: {err}"
        except OSError as err:
            error = f"{words[0]}: {os.strerror(err.errno) if err.errno else err}"
        self.say("error " + error if error else "ok")

    def cmd_listen(self, port):
        """listen PORT: a listener on 0.0.0.0:PORT with SO_REUSEADDR."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.set_cc(sock)          # before listen(): accepted sockets inherit it
            sock.bind(("0.0.0.0", port_number(port)))
            sock.listen(BACKLOG)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.listeners[sock.fileno()] = sock
        return None

    def cmd_connect(self, ip, port):
        """connect IP PORT: a non-blocking connect; its outcome comes as an event
        (an error at once if the kernel refuses before sending a SYN)."""
        address = (socket.inet_ntoa(socket.inet_aton(ip)), port_number(port))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        own_urgent(sock)
        try:
            self.set_cc(sock)          # before the SYN: the connection starts with it
        except OSError:
            sock.close()
            raise
        code = sock.connect_ex(address)
        if code not in (0, errno.EINPROGRESS):   # refused before any SYN (a broadcast)
            sock.close()
            raise OSError(code, os.strerror(code))
        conn = Conn(sock, connecting=True)
        self.conns[sock.fileno()] = conn
        self.current = conn
        return None

    def cmd_send(self, count, urgent=False):
        """send N: N bytes of the pattern, queued; "sent N" once all are taken."""
        conn, count = self.need_current(), byte_count(count)
        if conn.out:
            return "a send is still in progress"
        conn.out, conn.out_total, conn.out_urgent = pattern(0, count), count, urgent
        self.flush_out(conn)
        return None

    def cmd_urgent(self, count):
        """urgent N: as send, but urgent data (MSG_OOB: the urgent pointer
        after its last byte, RFC 9293 3.8.5)."""
        return self.cmd_send(count, urgent=True)

    def cmd_recv(self, count):
        """recv N: read until N bytes came ("data N HEX8"), or eof or reset."""
        conn, count = self.need_current(), byte_count(count)
        if conn.recv_goal:
            return "a recv is still in progress"
        conn.recv_goal, conn.recv_count, conn.recv_hash = count, 0, hashlib.sha256()
        conn.data_waiting = False
        return None

    def cmd_shutdown(self):
        """shutdown: no more sending on the current connection (SHUT_WR)."""
        self.need_current().sock.shutdown(socket.SHUT_WR)
        return None

    def cmd_close(self):
        """close: close the current connection (FIN, or RST if data is unread)."""
        self.drop(self.need_current())
        return None

    def cmd_abort(self):
        """abort: close the current connection with RST (SO_LINGER on, 0 s)."""
        conn = self.need_current()
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.drop(conn)
        return None

    def cmd_nodelay(self, value):
        """nodelay on|off: TCP_NODELAY on the current connection."""
        if value not in ("on", "off"):
            return "nodelay takes on or off"
        self.need_current().sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,
                                            int(value == "on"))
        return None

    def cmd_cc(self, name):
        """cc newreno|cubic: the congestion control of the current connection
        (if any), of every listener (what it accepts later inherits it) and of
        every connection opened after this command."""
        if name not in CC_NAMES:
            return f"unknown congestion control {name[:40]} (newreno or cubic)"
        self.cc = CC_NAMES[name]
        for sock in self.listeners.values():
            self.set_cc(sock)
        if self.current is not None and not self.current.done:
            self.set_cc(self.current.sock)
        return None

    def set_cc(self, sock):
        """Sets the congestion control chosen by cc on `sock` (nothing if none
        was chosen); OSError if the kernel refuses it."""
        if self.cc is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, self.cc.encode())

    def cmd_ecn(self, mode):
        """ecn on|accept|off: ECN (RFC 3168) for connections opened after it.
        Linux has no socket option for it, so this sets net.ipv4.tcp_ecn, which
        belongs to the network namespace: only in one that holds nothing but
        the lab's interface (never the host's), and put back as it was when
        the agent ends."""
        if mode not in ECN_MODES:
            return "ecn takes on, accept or off"
        with open("/proc/self/net/dev") as f:      # this namespace's interfaces
            names = {line.split(":")[0].strip() for line in f.readlines()[2:]}
        if not names <= {"lo", self.iface}:
            return f"ecn needs a network namespace with only lo and {self.iface[:20]} (the lab's target)"
        with open(TCP_ECN) as f:
            now = f.read().strip()
        if self.ecn_was is None:
            self.ecn_was = now
        with open(TCP_ECN, "w") as f:
            f.write(ECN_MODES[mode])
        return None

    def restore_ecn(self):
        """Puts net.ipv4.tcp_ecn back as it was before any ecn command."""
        if self.ecn_was is not None:
            with open(TCP_ECN, "w") as f:
                f.write(self.ecn_was)
            self.ecn_was = None

    def cmd_quit(self):
        """quit: close everything and leave the loop."""
        self.quit = True
        return None

    def need_current(self):
        """The current connection; NoConnection if there is none."""
        if self.current is None:
            raise NoConnection()
        return self.current

    def drop(self, conn):
        """Closes `conn` and forgets it (no longer current)."""
        self.conns.pop(conn.sock.fileno(), None)
        conn.sock.close()
        if self.current is conn:
            self.current = None

    def close_all(self):
        """Closes every listener and connection."""
        for conn in list(self.conns.values()):
            self.drop(conn)
        for sock in self.listeners.values():
            sock.close()
        self.listeners.clear()

    # ------------------------------------------------------------- events

    def on_listener(self, sock):
        """Accepts the connections waiting on listener `sock` (at most BACKLOG);
        each becomes current and is reported as "accepted IP PORT"."""
        for _ in range(BACKLOG):
            try:
                child, (ip, port) = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:  # e.g. ECONNABORTED: the connection died in the queue
                self.say(f"error accept: {os.strerror(err.errno)}")
                return
            child.setblocking(False)
            own_urgent(child)
            conn = Conn(child)
            self.conns[child.fileno()] = conn
            self.current = conn
            self.say(f"accepted {ip} {port}")

    def on_conn(self, conn, revents):
        """Handles poll() events `revents` on connection `conn`."""
        if conn.connecting:
            self.finish_connect(conn, conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
            return
        if revents & select.POLLOUT and conn.out:
            self.flush_out(conn)
        if revents & (select.POLLIN | select.POLLERR | select.POLLHUP):
            self.on_readable(conn)
        if revents & select.POLLERR and not conn.done:
            self.on_error(conn, conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
        if revents & select.POLLHUP and not conn.done:
            conn.hup = True  # both directions closed: only a recv has more to do

    def finish_connect(self, conn, code):
        """Reports the outcome of a connect: "connected", or refused/timeout/reset."""
        conn.connecting = False
        if code == 0:
            self.say("connected")
            return
        conn.done = True
        self.say(ERRNO_EVENTS.get(code) or f"error connect: {os.strerror(code)}")

    def on_error(self, conn, code):
        """Reports a pending socket error once (reset, timeout) and stops watching."""
        if code:
            conn.done = True
            self.say(ERRNO_EVENTS.get(code) or f"error {os.strerror(code)}")

    def on_readable(self, conn):
        """Reads for a recv command in progress, else peeks for eof and reset."""
        if conn.recv_goal:
            self.read_some(conn)
            return
        try:
            peeked = conn.sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            self.on_error(conn, err.errno)
            return
        if peeked:
            conn.data_waiting = True
        elif not conn.eof:
            conn.eof = True
            self.say("eof")

    def read_some(self, conn):
        """Reads what is there for the recv in progress (bounded by CHUNK per
        call and the goal); reports data, then eof or reset when they end it."""
        ended = None
        try:
            chunk = conn.sock.recv(min(CHUNK, conn.recv_goal - conn.recv_count))
            ended = None if chunk else "eof"
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            chunk, ended = b"", ERRNO_EVENTS.get(err.errno, f"error {os.strerror(err.errno)}")
        conn.recv_count += len(chunk)
        conn.recv_hash.update(chunk)
        if ended or conn.recv_count == conn.recv_goal:
            if conn.recv_count:
                self.say(f"data {conn.recv_count} {conn.recv_hash.hexdigest()[:8]}")
            conn.recv_goal = conn.recv_count = 0
        if ended:
            conn.eof = conn.eof or ended == "eof"
            conn.done = ended != "eof"
            self.say(ended)

    def flush_out(self, conn):
        """Hands the kernel what it takes of a send in progress; "sent N" when done."""
        try:
            taken = conn.sock.send(conn.out[:CHUNK], socket.MSG_OOB if conn.out_urgent else 0)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            conn.out = b""
            self.on_error(conn, err.errno)
            return
        conn.out = conn.out[taken:]
        if not conn.out:
            conn.out_urgent = False
            self.say(f"sent {conn.out_total}")

    # --------------------------------------------------------------- loop

    def poller(self):
        """A poll object watching stdin, the listeners and every connection."""
        poller = select.poll()
        poller.register(0, select.POLLIN)
        if self.urgent_fd is not None:
            poller.register(self.urgent_fd, select.POLLIN)
        for fd in self.listeners:
            poller.register(fd, select.POLLIN)
        for fd, conn in self.conns.items():
            mask = conn.poll_mask()
            if mask is not None:
                poller.register(fd, mask)
        return poller

    def turn(self, stdin, timeout_ms):
        """One turn of the loop: poll, then serve what is ready; commands last,
        so that events of this turn come before the answers they may explain."""
        at_eof = False
        for fd, revents in self.poller().poll(timeout_ms):
            if fd == 0:
                at_eof = not stdin.fill()
            elif fd == self.urgent_fd:
                self.on_urgent()
            elif fd in self.listeners:
                self.on_listener(self.listeners[fd])
            elif fd in self.conns and not self.conns[fd].done:
                self.on_conn(self.conns[fd], revents)
        for line in stdin.lines():
            if self.quit:
                break
            self.command(line)
        self.quit = self.quit or at_eof

    def watch_urgent(self):
        """The kernel tells a socket's owner of each new urgent pointer by
        SIGURG (tcp_check_urg); the signal wakes poll() through a pipe."""
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)
        signal.signal(signal.SIGURG, lambda *_: None)
        signal.set_wakeup_fd(write_end)
        self.urgent_fd = read_end

    def on_urgent(self):
        """Says "urgent" for each SIGURG the pipe holds (current connection only)."""
        try:
            signals = os.read(self.urgent_fd, 64)
        except BlockingIOError:
            return
        for _ in range(signals.count(bytes([signal.SIGURG]))):
            if self.current and not self.current.done:
                self.say("urgent")

    def run(self, max_seconds):
        """Serves stdin and the sockets until quit, end of input, `max_seconds`
        or MAX_TURNS turns; closes everything; returns the exit status."""
        stdin = StdinLines()
        self.watch_urgent()
        deadline = time.monotonic() + max_seconds
        try:
            for _ in range(MAX_TURNS):
                left_ms = int((deadline - time.monotonic()) * 1000)
                if self.quit or left_ms <= 0:
                    break
                self.turn(stdin, min(left_ms, POLL_SLICE_MS))
        finally:
            self.restore_ecn()
        self.close_all()
        return 0


class StdinLines:
    """Whole lines from fd 0, read without Python's buffering."""

    def __init__(self):
        """Nothing read yet."""
        self.buffer = b""

    def fill(self):
        """One os.read(); False at end of input.  A line longer than MAX_LINE is
        cut there (no valid command is that long)."""
        chunk = os.read(0, 65536)
        self.buffer += chunk
        if b"\n" not in self.buffer and len(self.buffer) > MAX_LINE:
            self.buffer += b"\n"
        return bool(chunk)

    def lines(self):
        """Takes every whole line buffered so far (text, without newlines)."""
        *whole, self.buffer = self.buffer.split(b"\n")
        return [line.decode(errors="replace") for line in whole]


def own_urgent(sock):
    """Urgent data stays inline (RFC 6093), and its SIGURG comes to us."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
    fcntl.fcntl(sock, fcntl.F_SETOWN, os.getpid())


def port_number(text):
    """A TCP port from text; ValueError unless 1..65535."""
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError(f"port {text} out of range")
    return port


def byte_count(text):
    """A byte count for send/recv; ValueError unless 1..MAX_BYTES."""
    count = int(text)
    if not 0 < count <= MAX_BYTES:
        raise ValueError(f"count {text} out of range")
    return count


def parse_args(argv):
    """(iface, max_seconds) from argv; exits 2 on a usage error."""
    iface, max_seconds, args = "target0", 900.0, list(argv[1:])
    try:
        while args:
            flag = args.pop(0)
            if flag == "-i":
                iface = args.pop(0)
            elif flag == "--max-seconds":
                max_seconds = float(args.pop(0))
            else:
                raise ValueError(flag)
    except (IndexError, ValueError):
        print("usage: linux_agent.py [-i IFACE] [--max-seconds S]", file=sys.stderr)
        sys.exit(2)
    return iface, max_seconds


def main(argv):
    """Says it is listening (stderr), then serves the protocol until quit or EOF."""
    iface, max_seconds = parse_args(argv)
    print(f"{NAME}: listening on {iface}", file=sys.stderr, flush=True)
    return Agent(iface=iface).run(max_seconds)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
