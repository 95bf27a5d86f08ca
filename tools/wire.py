#!/usr/bin/python3
"""wire.py - puts crafted frames on a lab link, and hears what comes back.

The harness crafts frames with scapy in its own process; this small helper,
started inside the lab's peer namespace (tools/lab peer ...), owns the raw
socket there.  It reads commands on stdin, one per line, and answers each on
stdout:

    send HEX               send one frame                  -> "sent LEN"
    exchange HEX MS WAIT   send one frame, then collect the frames that
                           arrive for up to MS milliseconds -> one "frame HEX"
                           line each, then "end".  WAIT "first" returns after
                           the first frame that is not an ARP request (those
                           are a target resolving or announcing, never an
                           answer); "all" waits the whole MS.
    stream SECONDS         stream mode, for the scenario runner: answers
                           "streaming", then for up to SECONDS (at most 7200)
                           prints "rx NS HEX" for every frame that arrives
                           (NS: CLOCK_MONOTONIC nanoseconds when it was read)
                           while serving these commands:
                             send HEX  send one frame -> "sent NS LEN"
                             stop      leave stream mode -> "end"
                           End of input or the time running out also ends it
                           with "end".  Lines written by this mode may
                           interleave freely: "rx" lines do not wait.
    quit                   exit

With --ip ADDR --mac MAC the helper plays a host at that address: while
collecting, it answers ARP requests for ADDR itself (and does not report
them), as a scapy-only peer must when the peer's kernel holds no address.
Frames this socket sent itself are never reported.

Standard library only.  Every wait is bounded by MS (at most 10 s), or by
SECONDS in stream mode.
Usage: wire.py [-q] [--ip ADDR --mac MAC] IFACE
"""
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
STREAM_MAX_S = 7200
STREAM_MAX_TURNS = 100_000_000  # a bound beside the time: each turn takes a line or a frame
MAX_LINE = 1 << 20          # longest command line accepted (bytes)


def arp_reply_for(frame, ip, mac):
    """The ARP reply our pretend host owes frame, or None if it owes none."""
    if len(frame) < 42 or not is_arp_request(frame):
        return None
    if frame[38:42] != ip:
        return None
    asker_mac, asker_ip = frame[22:28], frame[28:32]
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + mac + ip + asker_mac + asker_ip
    return asker_mac + mac + b"\x08\x06" + arp


def is_arp_request(frame):
    """True for an ARP request (EtherType 0x0806, opcode 1)."""
    return frame[12:14] == b"\x08\x06" and frame[20:22] == b"\x00\x01"


def collect(sock, ms, wait, host):
    """Frames that arrive within ms (answering ARP for host); see the docstring."""
    frames = []
    deadline = time.monotonic() + min(ms, 10000) / 1000
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or (wait == "first" and any(not is_arp_request(f) for f in frames)):
            return frames
        if not select.select([sock], [], [], left)[0]:
            continue
        frame, addr = sock.recvfrom(65535)
        if addr[2] == PACKET_OUTGOING:
            continue
        reply = arp_reply_for(frame, *host) if host else None
        if reply:
            sock.send(reply)
        else:
            frames.append(frame)


def drain(sock):
    """Discards frames already queued (bounded: at most 1000)."""
    for _ in range(1000):
        if not select.select([sock], [], [], 0)[0]:
            return
        sock.recv(65535)


def parse_args(argv):
    """(quiet, host or None, iface) from argv; exits 2 on a usage error."""
    args, quiet, ip, mac = argv[1:], False, None, None
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "-q":
            quiet = True
        elif flag in ("--ip", "--mac") and args:
            value = args.pop(0)
            if flag == "--ip":
                ip = socket.inet_aton(value)
            else:
                mac = bytes.fromhex(value.replace(":", ""))
        else:
            args = []
            break
    if len(args) != 1 or (ip is None) != (mac is None):
        print("usage: wire.py [-q] [--ip ADDR --mac MAC] IFACE", file=sys.stderr)
        sys.exit(2)
    return quiet, (ip, mac) if ip else None, args[0]


class StdinLines:
    """Lines from file descriptor 0, read unbuffered (os.read), so that select()
    on fd 0 never misses a line already read into a buffer."""

    def __init__(self, fd=0):
        """Reads from `fd`; nothing is read until asked."""
        self.fd = fd
        self.buffer = b""
        self.eof = False

    def pending(self):
        """True if a whole line is buffered, or end of input was seen."""
        return b"\n" in self.buffer or self.eof

    def fill(self):
        """One os.read() (blocks if nothing is ready); sets eof at end of input.
        A line longer than MAX_LINE is cut there (it is never a valid command)."""
        chunk = os.read(self.fd, 65536)
        if not chunk:
            self.eof = True
        self.buffer += chunk
        if b"\n" not in self.buffer and len(self.buffer) > MAX_LINE:
            self.buffer += b"\n"

    def take(self):
        """The next buffered line (text, without its newline), or None if no
        whole line is buffered (at end of input: the unterminated rest, then None)."""
        line, sep, rest = self.buffer.partition(b"\n")
        if not sep and not (self.eof and line):
            return None
        self.buffer = rest
        return line.decode(errors="replace")

    def readline(self):
        """The next line, blocking; None at end of input.  Bounded: each
        os.read() either ends input or adds bytes, and a line is cut at MAX_LINE."""
        for _ in range(MAX_LINE + 2):
            line = self.take()
            if line is not None or self.eof:
                return line
            self.fill()
        return None


def now_ns():
    """CLOCK_MONOTONIC in nanoseconds (the clock the scenario runner also reads)."""
    return time.monotonic_ns()


def stream_command(sock, line, say):
    """Carries out one stream-mode command line; returns False on "stop"."""
    words = line.split()
    if words == ["stop"]:
        return False
    try:
        if len(words) == 2 and words[0] == "send":
            frame = bytes.fromhex(words[1])
            sent = sock.send(frame)
            say(f"sent {now_ns()} {sent}")
        elif words:
            print(f"wire.py: bad stream command {line.strip()[:40]}", file=sys.stderr)
            say("error")
    except (OSError, ValueError) as err:
        print(f"wire.py: {err}", file=sys.stderr)
        say("error")
    return True


def stream_frame(sock, host, say):
    """Reads one frame and reports it as "rx NS HEX", unless it is our own or an
    ARP request for our pretend host (answered here instead)."""
    frame, addr = sock.recvfrom(65535)
    stamp = now_ns()
    if addr[2] == PACKET_OUTGOING:
        return
    reply = arp_reply_for(frame, *host) if host else None
    if reply:
        sock.send(reply)
    else:
        say(f"rx {stamp} {frame.hex()}")


def stream(sock, lines, seconds, host, say):
    """Stream mode (see the module docstring): until "stop", end of input or
    `seconds` (at most STREAM_MAX_S) pass; each turn of the loop handles at
    least one line or frame, or waits until the deadline."""
    deadline = time.monotonic() + min(max(seconds, 0), STREAM_MAX_S)
    say("streaming")
    for _ in range(STREAM_MAX_TURNS):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if lines.pending():
            line = lines.take()
            if line is None or not stream_command(sock, line, say):
                break
            continue
        ready = select.select([sock, lines.fd], [], [], left)[0]
        if sock in ready:
            stream_frame(sock, host, say)
        if lines.fd in ready:
            lines.fill()
    say("end")


def serve(sock, host, line, say, lines):
    """Carries out one command line outside stream mode."""
    words = line.split()
    try:
        if words[0] == "send" and len(words) == 2:
            say(f"sent {sock.send(bytes.fromhex(words[1]))}")
        elif words[0] == "exchange" and len(words) == 4 and words[3] in ("first", "all"):
            drain(sock)
            sock.send(bytes.fromhex(words[1]))
            for frame in collect(sock, int(words[2]), words[3], host):
                say("frame " + frame.hex())
            say("end")
        elif words[0] == "stream" and len(words) == 2:
            stream(sock, lines, float(words[1]), host, say)
        else:
            print(f"wire.py: bad command {line.strip()[:40]}", file=sys.stderr)
            say("error")
    except (OSError, ValueError) as err:
        print(f"wire.py: {err}", file=sys.stderr)
        say("error")


def main(argv):
    """Opens a packet socket on the interface and serves commands until EOF or
    quit (an empty line also ends it, as it always has)."""
    quiet, host, iface = parse_args(argv)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # bind() picks the protocol
    sock.bind((iface, ETH_P_ALL))
    say = (lambda text: None) if quiet else (lambda text: print(text, flush=True))
    say("ready")
    lines = StdinLines()
    while True:  # bounded by the input: each turn consumes one line
        line = lines.readline()
        if line is None:
            break
        words = line.split()
        if not words or words[0] == "quit":
            break
        serve(sock, host, line, say, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
