#!/usr/bin/python3
"""scenario.py - the scenario-script runner: plays packetdrill-like scripts
(testvectors/README.md, "Scenario scripts") against a TCP stack, and says
segment by segment where the stack did otherwise.

Three targets:
  core   our stack in virtual time: `tcpagent --virtual`, no device, no root,
         deterministic (timing tolerance +-10 ms of virtual time);
  ours   our agent (`tcpagent -i target0`) over the lab's veth;
  linux  the Linux kernel over the lab's veth, driven by tools/linux_agent.py.
Over veth, the peer side is tools/wire.py in stream mode, playing 192.0.2.1
(answering ARP for it); the runner sends `<` segments at their times and
reads every frame with its CLOCK_MONOTONIC arrival time.

Library: parse_script(), CoreBench, VethBench, run_script(); CLI:
  scenario.py [--target core|ours|linux|all] [--build DIR] [--tolerance MS]
              [--pcap DIR] [-v] SCRIPT_OR_DIR...
prints one line per script per target (PASS, FAIL or N/A with the reason),
each failure's detail, and a summary; exits 0 only if nothing failed.

Data (chapter 7): the runner keeps both byte streams, so a `>` line's
payload defaults to the application's sends at its place (StackStream), a
`<` line's to the pattern at its place in the peer's stream (peer_payload),
and `event data N` checks the digest of the bytes the peer sent (PeerStream).

Limits: IPv4 only; one flow per script (the peer 192.0.2.1:fresh port, the
stack 192.0.2.2); no IP options or fragments.  Every wait is bounded.
"""
import argparse
import copy
import hashlib
import math
import os
import random
import re
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))

from labproc import LineReader  # noqa: E402
from wire import arp_reply_for  # noqa: E402

PYTHON = "/usr/bin/python3"
PEER_IP, STACK_IP = "192.0.2.1", "192.0.2.2"
PEER_MAC, STACK_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
TARGETS = ("core", "ours", "linux")
TAG_TARGETS = {"core": {"core"}, "ours": {"core", "ours"}, "linux": {"linux"}}
DEFAULT_PORT = 8080
DEFAULT_PEER_WIN = 64240
CORE_TOLERANCE_S = 0.010
VETH_EARLY_S = 0.010
VETH_LATE_S = 0.050
CORE_PEER_PORT = 40000
MAX_SCRIPT_S = 600.0        # no script may last longer
AGENT_ANSWER_S = 5.0        # an agent answers a command within this
AGENT_START_S = 15.0        # an agent says "listening on" within this
LATE_LOOK_S = 1.0           # after a miss, how long to look for a late segment
DELIVERY_S = 0.5            # over veth, how long a frame stamped in time may take to reach us
SEQ_MOD = 1 << 32

FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, ".": 0x10, "U": 0x20,
             "E": 0x40, "W": 0x80}
FLAG_ORDER = "FSRP.UEW"      # tcpdump's order: SYN+ACK is "S.", FIN+PSH+ACK "FP."
EVENT_NAMES = {"accepted", "connected", "refused", "timeout", "reset", "eof", "data", "sent",
               "icmp", "unreachable", "urgent"}
ANY = "*"


class ScriptError(Exception):
    """A script that does not follow the format; the message names file:line."""


# ==================================================================== parsing

class Segment:
    """A segment as a script line writes it.  Numbers are relative (see the
    README); ANY stands for "any value"; None for a field the line omits."""

    def __init__(self, flags, seq, end, length):
        """flags: bit mask; seq/end/length: ints or ANY."""
        self.flags, self.seq, self.end, self.length = flags, seq, end, length
        self.ack = self.win = self.data = self.urg = None
        self.options = []     # list of option tuples, or ANY for <*>
        self.bad_cksum = False


class Line:
    """One timed line of a script."""

    def __init__(self, lineno, text, time_s, tags, kind, rest):
        """kind is "<", ">", "app" or "event"; rest is its parsed argument:
        a Segment for "<"/">", a list of words for "app"/"event"."""
        self.lineno, self.text, self.time = lineno, text, time_s
        self.tags, self.kind, self.rest = tags, kind, rest

    def applies(self, target):
        """True if this line is played against `target`."""
        return self.tags is None or target in self.tags


class Script:
    """A parsed script: path, headers and lines (see parse_script)."""

    def __init__(self, path):
        """An empty script for `path`."""
        self.path = Path(path)
        self.name = self.path.name
        self.targets = list(TARGETS)
        self.targets_why = ""
        self.port = DEFAULT_PORT
        self.linux = ""
        self.rfc = ""
        self.late_ms = {}       # veth target -> how late (ms) a line may come
        self.late_why = ""
        self.lines = []

    def where(self, line):
        """"name:lineno" of `line`."""
        return f"{self.name}:{line.lineno}"

    @property
    def active(self):
        """True if the stack opens the connection (the script has app connect)."""
        return any(l.kind == "app" and l.rest[0] == "connect" for l in self.lines)


def parse_script(path):
    """The Script in file `path`; ScriptError (with file:line) if malformed."""
    script = Script(path)
    prev = 0.0
    for lineno, raw in enumerate(Path(path).read_text().splitlines(), 1):
        text = raw.strip()
        if not text:
            continue
        try:
            if text.startswith("#"):
                parse_header(script, text[1:].strip())
                continue
            line = parse_line(lineno, text, prev)
        except (ValueError, IndexError) as err:
            raise ScriptError(f"{script.name}:{lineno}: {err}: {text}") from None
        script.lines.append(line)
        prev = line.time
    check_script(script)
    return script


def parse_header(script, text):
    """Takes the header keys this runner reads from comment `text`
    (targets, port, linux, rfc); other comments are prose."""
    key, sep, value = text.partition(":")
    key, value = key.strip().lower(), value.strip()
    if not sep or " " in key:
        return
    if key == "targets":
        names, _, why = value.partition("(")
        script.targets = names.split()
        script.targets_why = why.rstrip(")").strip()
        unknown = set(script.targets) - set(TARGETS)
        if unknown or not script.targets:
            raise ValueError(f"unknown targets {' '.join(sorted(unknown))}")
    elif key == "port":
        script.port = port_number(value)
    elif key == "tolerance":
        parse_tolerance(script, value)
    elif key == "linux":
        script.linux = (script.linux + " " + value).strip()
    elif key == "rfc":
        script.rfc = (script.rfc + " " + value).strip()


def parse_tolerance(script, value):
    """Reads "linux 400 ms (why)" (targets, then how late in ms a segment or
    event may come over veth for them): a script whose target's timers are
    coarser than the default tolerance says so, and why."""
    head, _, why = value.partition("(")
    words = head.split()
    if words and words[-1] == "ms":
        words.pop()
    if len(words) < 2 or not why.strip(") "):
        raise ValueError("'# tolerance: TARGET... MS (why)'")
    late_ms = float(words.pop())
    if set(words) - {"ours", "linux"} or not 0 < late_ms <= 10_000:
        raise ValueError("tolerance: targets ours or linux, 1..10000 ms")
    script.late_ms.update({target: late_ms for target in words})
    script.late_why = why.rstrip(") ").strip()


def check_script(script):
    """ScriptError unless the script as a whole is well formed: an rfc header,
    a reason for restricted targets and for {linux} lines, some lines."""
    problems = []
    if not script.rfc:
        problems.append("no '# rfc:' header")
    if set(script.targets) != set(TARGETS) and not script.targets_why:
        problems.append("'# targets:' restricted without '(why)'")
    tagged = any(l.tags == TAG_TARGETS["linux"] for l in script.lines)
    if tagged and not script.linux.startswith("differs:"):
        problems.append("{linux} lines need a '# linux: differs: WHY' header")
    if not script.lines:
        problems.append("no timed lines")
    if script.lines and script.lines[-1].time > MAX_SCRIPT_S:
        problems.append(f"longer than {MAX_SCRIPT_S:.0f} s")
    if problems:
        raise ScriptError(f"{script.name}: " + "; ".join(problems))


def parse_line(lineno, text, prev):
    """The Line for `text` (numbered `lineno`), `prev` being the time of the
    previous line; ValueError if malformed."""
    words = text.split()
    time_s = parse_time(words.pop(0), prev)
    tags = None
    if words and words[0].startswith("{"):
        tags = parse_tag(words.pop(0))
    kind = words.pop(0)
    if kind in ("<", ">"):
        rest = parse_segment(" ".join(words), kind)
    elif kind in ("app", "event"):
        rest = words
        if not rest:
            raise ValueError(f"'{kind}' needs a command")
    elif kind == "icmp":
        rest = [int(w) for w in words if w.isdigit()]
        if len(rest) != 2 or len(words) != 2 or max(rest) > 255:
            raise ValueError("write icmp TYPE CODE (two numbers up to 255)")
    else:
        raise ValueError(f"unknown kind {kind!r} (expected <, >, icmp, app or event)")
    return Line(lineno, text, time_s, tags, kind, rest)


def parse_time(token, prev):
    """Seconds from "1.250" (absolute) or "+0.1" (after the previous line at
    `prev`); ValueError if not a number, negative, or going backwards."""
    relative = token.startswith("+")
    value = float(token[1:] if relative else token)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"bad time {token!r}")
    time_s = prev + value if relative else value
    if time_s < prev - 1e-9:
        raise ValueError(f"time {token} goes backwards")
    return round(time_s, 6)


def parse_tag(token):
    """The set of targets of a tag like "{linux}" or "{core,ours}"."""
    if not token.endswith("}"):
        raise ValueError(f"bad target tag {token!r}")
    targets = set()
    for name in token[1:-1].split(","):
        if name not in TAG_TARGETS:
            raise ValueError(f"unknown target {name!r} in tag")
        targets |= TAG_TARGETS[name]
    return targets


SEGMENT_RE = re.compile(r"^(?P<flags>[FSRPUEW.]+)\s+(?P<seq>\*|-?\d+):(?P<end>\*|-?\d+)"
                        r"\((?P<len>\*|\d+)\)\s*(?P<rest>.*)$")


def parse_segment(text, direction):
    """The Segment written as `text` on a `direction` ("<" or ">") line."""
    match = SEGMENT_RE.match(text)
    if not match:
        raise ValueError("expected FLAGS SEQ:END(LEN) ...")
    seq, end, length = (number_or_any(match.group(k)) for k in ("seq", "end", "len"))
    if ANY not in (seq, end, length) and (end - seq) != length:
        raise ValueError(f"END - SEQ is {end - seq}, LEN is {length}")
    if direction == "<" and ANY in (seq, end, length):
        raise ValueError("'*' only in > lines")
    seg = Segment(parse_flags(match.group("flags")), seq, end, length)
    parse_segment_fields(seg, match.group("rest"), direction)
    if seg.flags & FLAG_BITS["."] and seg.ack is None:
        raise ValueError("the ACK flag needs 'ack N' (or 'ack *')")
    return seg


def parse_segment_fields(seg, text, direction):
    """Fills seg's ack, win, options, data and cksum from the rest of a line."""
    if "<" in text:
        head, _, tail = text.partition("<")
        options, sep, after = tail.partition(">")
        if not sep:
            raise ValueError("'<' without '>'")
        seg.options = parse_options(options, direction)
        text = head + " " + after
    words = text.split()
    while words:
        key = words.pop(0)
        if key in ("ack", "win", "urg"):
            setattr(seg, key, number_or_any(words.pop(0)))
        elif key == "data":
            value = words.pop(0)
            seg.data = ANY if value == ANY else bytes.fromhex(value)
        elif key == "cksum" and words.pop(0) == "bad" and direction == "<":
            seg.bad_cksum = True
        else:
            raise ValueError(f"unexpected {key!r}")
    if direction == "<" and ANY in (seg.ack, seg.win, seg.data, seg.urg):
        raise ValueError("'*' only in > lines")
    if seg.data not in (None, ANY) and seg.length not in (ANY, len(seg.data)):
        raise ValueError(f"data has {len(seg.data)} bytes, LEN says {seg.length}")


def parse_flags(text):
    """The TCP flag bits of tcpdump-style letters ("S.", "R", "FP.")."""
    bits = 0
    for letter in text:
        if FLAG_BITS[letter] & bits:
            raise ValueError(f"flag {letter} twice")
        bits |= FLAG_BITS[letter]
    return bits


def parse_options(text, direction):
    """Option tuples from the text between < and >; ANY for "*"."""
    if text.strip() == "*":
        if direction == "<":
            raise ValueError("'<*>' only in > lines")
        return ANY
    return [parse_option(item.split()) for item in text.split(",") if item.strip()]


def parse_option(words):
    """One option tuple: ("mss", N), ("wscale", N), ("sackOK",), ("TS", VAL, ECR),
    ("sack", [(L, R)...]), ("nop",), ("eol",) or ("raw", BYTES)."""
    name, args = words[0], words[1:]
    if name in ("mss", "wscale") and len(args) == 1:
        return (name, number_or_any(args[0]))
    if name in ("sackOK", "nop", "eol") and not args:
        return (name,)
    if name == "TS" and len(args) == 4 and args[0] == "val" and args[2] == "ecr":
        return ("TS", number_or_any(args[1]), number_or_any(args[3]))
    if name == "sack" and args:
        return ("sack", [tuple(int(x) for x in block.split(":")) for block in args])
    if name == "raw" and args:
        return ("raw", bytes.fromhex("".join(args)))
    raise ValueError(f"bad option {' '.join(words)!r}")


def number_or_any(token):
    """ANY for "*", else the integer written."""
    return ANY if token == "*" else int(token)


def port_number(text):
    """A TCP port from text; ValueError unless 1..65535."""
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError(f"port {text} out of range")
    return port


# ============================================================ frames on the wire

def inet_sum(data):
    """The RFC 1071 checksum of `data` (the value a checksum field holds)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    for _ in range(3):
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip_bytes(text):
    """4 bytes of a dotted IPv4 address."""
    return bytes(int(part) for part in text.split("."))


def mac_bytes(text):
    """6 bytes of a colon-separated MAC address."""
    return bytes.fromhex(text.replace(":", ""))


def encode_options(options, their_isn):
    """The option bytes for `options`, padded with EOL to a multiple of 4;
    sack blocks are relative to `their_isn` (the stack's ISN, or 0)."""
    out = b""
    for opt in options:
        out += encode_option(opt, their_isn)
    return out + b"\0" * (-len(out) % 4)


def encode_option(opt, their_isn):
    """The bytes of one option tuple (see parse_option)."""
    name = opt[0]
    if name == "mss":
        return struct.pack("!BBH", 2, 4, opt[1])
    if name == "wscale":
        return struct.pack("!BBB", 3, 3, opt[1])
    if name == "sackOK":
        return b"\x04\x02"
    if name == "TS":
        return struct.pack("!BBII", 8, 10, opt[1], opt[2])
    if name == "sack":
        blocks = b"".join(struct.pack("!II", (their_isn + l) % SEQ_MOD, (their_isn + r) % SEQ_MOD)
                          for l, r in opt[1])
        return struct.pack("!BB", 5, 2 + len(blocks)) + blocks
    return {"nop": b"\x01", "eol": b"\x00"}.get(name, opt[-1])


def build_frame(sport, dport, seq, ack, flags, win, options, payload, ip_id, bad_cksum=False,
                urg=0):
    """An Ethernet frame from the peer (192.0.2.1, 02:..:01) to the stack
    (192.0.2.2, 02:..:02): IPv4 with DF and TTL 64, then TCP with `options`
    (bytes, a multiple of 4), urgent pointer `urg` and `payload`; checksums
    right unless bad_cksum."""
    src, dst = ip_bytes(PEER_IP), ip_bytes(STACK_IP)
    offset_words = (20 + len(options)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq % SEQ_MOD, ack % SEQ_MOD,
                      offset_words << 4, flags, win, 0, urg) + options + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    cksum = inet_sum(pseudo + tcp) ^ (0x0100 if bad_cksum else 0)
    tcp = tcp[:16] + struct.pack("!H", cksum) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ip_id & 0xFFFF, 0x4000, 64, 6, 0,
                     src, dst)
    ip = ip[:10] + struct.pack("!H", inet_sum(ip)) + ip[12:]
    return mac_bytes(STACK_MAC) + mac_bytes(PEER_MAC) + b"\x08\x00" + ip + tcp


def build_icmp_error(pkt, icmp_type, code, ip_id):
    """An Ethernet frame from the peer carrying ICMP error (icmp_type, code)
    about the stack's segment Packet `pkt`: RFC 792's unused word, then the
    segment's IPv4 header and first 8 bytes (ports, sequence number) as the
    stack sent them."""
    icmp = struct.pack("!BBHI", icmp_type, code, 0, 0) + pkt.head
    icmp = icmp[:2] + struct.pack("!H", inet_sum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), ip_id & 0xFFFF, 0, 64, 1, 0,
                     ip_bytes(PEER_IP), ip_bytes(STACK_IP))
    ip = ip[:10] + struct.pack("!H", inet_sum(ip)) + ip[12:]
    return mac_bytes(STACK_MAC) + mac_bytes(PEER_MAC) + b"\x08\x00" + ip + icmp


class Packet:
    """A TCP/IPv4 segment read off the wire, fields in host order."""

    def __init__(self, **fields):
        """Fields: src, dst (dotted), sport, dport, seq, ack, flags, win, urg
        (the urgent pointer), options (tuples), payload, cksum_ok (IP and TCP
        checksums both right), head (the IPv4 header and 8 bytes of TCP, as an
        ICMP error quotes)."""
        self.__dict__.update(fields)


def parse_frame(frame):
    """The Packet in Ethernet `frame`, or None if it is no whole TCP/IPv4 segment."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return None
    ip_len, total = (frame[14] & 0x0F) * 4, struct.unpack("!H", frame[16:18])[0]
    ip = frame[14:14 + total]
    if ip_len < 20 or len(ip) != total or total < ip_len + 20 or ip[9] != 6:
        return None
    tcp = ip[ip_len:]
    (sport, dport, seq, ack, offset, flags, win) = struct.unpack("!HHIIBBH", tcp[:16])
    urg = struct.unpack("!H", tcp[18:20])[0]
    tcp_len = (offset >> 4) * 4
    if tcp_len < 20 or tcp_len > len(tcp):
        return None
    pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(tcp))
    return Packet(src=".".join(map(str, ip[12:16])), dst=".".join(map(str, ip[16:20])),
                  sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, win=win, urg=urg,
                  options=decode_options(tcp[20:tcp_len]), payload=tcp[tcp_len:],
                  cksum_ok=inet_sum(ip[:ip_len]) == 0 and inet_sum(pseudo + tcp) == 0,
                  head=ip[:ip_len + 8])


def decode_options(raw):
    """Option tuples from option bytes; what cannot be read as an option
    (a bad length, bytes after EOL that are not zero) becomes ("raw", BYTES)."""
    out, pos = [], 0
    sizes = {2: 4, 3: 3, 4: 2, 8: 10}
    for _ in range(len(raw)):
        if pos >= len(raw):
            break
        kind = raw[pos]
        if kind in (0, 1):
            out.append(("eol",) if kind == 0 else ("nop",))
            pos += 1
            if kind == 0:
                break
            continue
        size = raw[pos + 1] if pos + 1 < len(raw) else 0
        if size < 2 or size > len(raw) - pos:
            out.append(("raw", raw[pos:]))
            return out
        out.append(decode_option(kind, raw[pos:pos + size], sizes))
        pos += size
    if any(raw[pos:]):
        out.append(("raw", raw[pos:]))
    return out


def decode_option(kind, body, sizes):
    """One option tuple from its bytes `body` (kind, length, value)."""
    if sizes.get(kind) not in (None, len(body)):
        return ("raw", body)
    if kind == 2:
        return ("mss", struct.unpack("!H", body[2:])[0])
    if kind == 3:
        return ("wscale", body[2])
    if kind == 4:
        return ("sackOK",)
    if kind == 8:
        return ("TS",) + struct.unpack("!II", body[2:])
    if kind == 5 and len(body) % 8 == 2:
        return ("sack", [struct.unpack("!II", body[i:i + 8]) for i in range(2, len(body), 8)])
    return ("raw", body)


# ================================================================ formatting

def format_flags(bits):
    """tcpdump-style letters for flag bits: "S.", "R", "FP."."""
    return "".join(letter for letter in FLAG_ORDER if bits & FLAG_BITS[letter]) or "none"


def format_option(opt):
    """The script text of one option tuple (values may be ANY)."""
    name = opt[0]
    if name in ("mss", "wscale"):
        return f"{name} {opt[1]}"
    if name == "TS":
        return f"TS val {opt[1]} ecr {opt[2]}"
    if name == "sack":
        return "sack " + " ".join(f"{l}:{r}" for l, r in opt[1])
    if name == "raw":
        return "raw " + opt[1].hex(" ")
    return name


def format_options(options):
    """"<...>" for a list of option tuples, "<*>" for ANY, "" for none."""
    if options == ANY:
        return "<*>"
    return "<" + ",".join(map(format_option, options)) + ">" if options else ""


def format_data(data, shown=16):
    """The hex of `data` as a line writes it, or "*"; past `shown` bytes cut
    short, with the whole length said ("000102...(1460 bytes)")."""
    if data == ANY:
        return ANY
    if len(data) <= shown:
        return data.hex()
    return f"{data[:shown // 2].hex()}...{data[-2:].hex()}({len(data)} bytes)"


def format_segment(seg):
    """The script text of a Segment (as a line writes it, minus TIME and '>')."""
    text = f"{format_flags(seg.flags)} {seg.seq}:{seg.end}({seg.length})"
    if seg.ack is not None:
        text += f" ack {seg.ack}"
    if seg.win is not None:
        text += f" win {seg.win}"
    if seg.urg is not None:
        text += f" urg {seg.urg}"
    if seg.options:
        text += " " + format_options(seg.options)
    if seg.data is not None:
        text += " data " + format_data(seg.data)
    if seg.bad_cksum:
        text += " cksum bad"
    return text


# ================================================================== the flow

def signed32(value):
    """`value` modulo 2**32 read as a signed 32-bit number (for display)."""
    value %= SEQ_MOD
    return value - SEQ_MOD if value >= SEQ_MOD // 2 else value


class Flow:
    """The script's one connection: the peer 192.0.2.1:peer_port, the stack
    192.0.2.2:stack_port (None until learned from its first SYN), both ISNs
    (the stack's None until it sends a SYN or SYN-ACK: numbers are absolute)."""

    def __init__(self, peer_port, stack_port, peer_isn):
        """A flow whose stack ISN is not known yet."""
        self.peer_port, self.stack_port, self.peer_isn = peer_port, stack_port, peer_isn
        self.stack_isn = None
        # Where the stack's segments may go: the peer, and any address an
        # `app connect` named, so a SYN sent where it must not go is seen.
        self.dsts = {PEER_IP}
        self.last = None        # the stack's latest segment (a Packet), for icmp lines
        self.ip_id = 0

    def has(self, pkt):
        """True if Packet `pkt` is a segment of this flow sent by the stack."""
        return (pkt is not None and pkt.src == STACK_IP and pkt.dst in self.dsts
                and pkt.dport == self.peer_port
                and self.stack_port in (None, pkt.sport))

    def peer_abs(self, rel):
        """Absolute sequence number of the peer's relative `rel`."""
        return (self.peer_isn + rel) % SEQ_MOD

    def stack_abs(self, rel):
        """Absolute sequence number of the stack's `rel` (absolute already if
        the stack's ISN is not known)."""
        return (rel if self.stack_isn is None else self.stack_isn + rel) % SEQ_MOD

    def stack_rel(self, absolute):
        """The stack's sequence number as a script writes it."""
        return absolute if self.stack_isn is None else signed32(absolute - self.stack_isn)

    def learn(self, pkt, expected):
        """Takes the stack's port and ISN from `pkt`, matched to line segment
        `expected`: the ISN from its first SYN (relative seq of the line)."""
        if self.stack_port is None:
            self.stack_port = pkt.sport
        if self.stack_isn is None and pkt.flags & FLAG_BITS["S"]:
            rel = expected.seq if expected.seq != ANY else 0
            self.stack_isn = (pkt.seq - rel) % SEQ_MOD

    def relative(self, pkt):
        """Packet `pkt` of the stack as a Segment in the script's numbers."""
        seq = self.stack_rel(pkt.seq)
        seg = Segment(pkt.flags, seq, seq + len(pkt.payload), len(pkt.payload))
        if pkt.flags & FLAG_BITS["."]:
            seg.ack = signed32(pkt.ack - self.peer_isn)
        elif pkt.ack:
            seg.ack = pkt.ack  # an ack field without the ACK flag: shown as it is
        seg.win = pkt.win
        if pkt.flags & FLAG_BITS["U"]:
            seg.urg = pkt.urg
        seg.options = [("sack", [(signed32(l - self.peer_isn), signed32(r - self.peer_isn))
                                 for l, r in o[1]]) if o[0] == "sack" else o
                       for o in pkt.options]
        seg.data = pkt.payload or None
        return seg

    def frame(self, seg):
        """The Ethernet frame of the peer's `<` Segment `seg` in this flow."""
        if self.stack_port is None:
            raise ValueError("the stack's port is not known yet (no SYN from it so far)")
        self.ip_id += 1
        ack = self.stack_abs(seg.ack) if seg.ack is not None else 0
        isn = self.stack_isn or 0
        payload = peer_payload(seg)
        win = DEFAULT_PEER_WIN if seg.win is None else seg.win
        return build_frame(self.peer_port, self.stack_port, self.peer_abs(seg.seq), ack,
                           seg.flags, win, encode_options(seg.options, isn), payload,
                           self.ip_id, seg.bad_cksum, seg.urg or 0)


def pattern(count, offset=0):
    """`count` bytes of the fixed pattern from stream offset `offset`: byte i
    of the pattern is i mod 256 (what an agent's `send N` writes, from 0)."""
    return bytes((offset + i) & 0xFF for i in range(count))


def data_offset(seg):
    """The stream offset of the first data byte of line Segment `seg`: data
    begins at relative sequence 1 (the SYN takes 0), so a segment at SEQ
    carries offsets SEQ - 1 on, a SYN's data offsets SEQ on."""
    return seg.seq - 1 + (1 if seg.flags & FLAG_BITS["S"] else 0)


def peer_payload(seg):
    """The payload of the peer's `<` Segment `seg`: its `data`, else LEN bytes
    of the pattern at its place in the peer's stream (byte at relative
    sequence s is (s - 1) mod 256), so a segment sent again, or overlapping
    another, carries the same bytes at the same sequence numbers."""
    if seg.data is not None:
        return seg.data
    return pattern(seg.length, data_offset(seg))


class StackStream:
    """What the application gave the stack to send: each `app send N` adds N
    bytes of the pattern, starting again at 0, after the bytes before it."""

    def __init__(self):
        """No sends yet."""
        self.sends = []    # (stream offset, length) of each send
        self.length = 0

    def add(self, count):
        """An `app send count` was made."""
        self.sends.append((self.length, count))
        self.length += count

    def expected(self, offset, count):
        """The `count` bytes at stream `offset`, or None if some were never
        given to the stack (before the stream, or past its end)."""
        if offset < 0 or offset + count > self.length:
            return None
        out = bytearray()
        for start, length in self.sends:
            lo, hi = max(offset, start), min(offset + count, start + length)
            if lo < hi:
                out += pattern(hi - lo, lo - start)
        return bytes(out)


class PeerStream:
    """The bytes the peer's `<` segments carried, by stream offset (where
    segments overlap, the first copy counts), and how far the application
    has read them (the `data N` events matched so far)."""

    def __init__(self):
        """Nothing sent, nothing read."""
        self.data = bytearray()
        self.known = bytearray()   # 1 where data holds a byte the peer sent
        self.read = 0

    def put(self, offset, payload):
        """Records `payload` sent at stream `offset` (bytes before 0 are no
        part of the stream: they would precede the SYN)."""
        if offset < 0:
            payload, offset = payload[-offset:], 0
        end = offset + len(payload)
        if end > len(self.data):
            grow = end - len(self.data)
            self.data += bytes(grow)
            self.known += bytes(grow)
        for i, byte in enumerate(payload):
            if not self.known[offset + i]:
                self.data[offset + i], self.known[offset + i] = byte, 1

    def digest(self, count):
        """The first 8 hex digits of the SHA-256 of the next `count` unread
        bytes, as an agent's `data` event shows them; None if the peer never
        sent some of them."""
        end = self.read + count
        if end > len(self.data) or not all(self.known[self.read:end]):
            return None
        return hashlib.sha256(bytes(self.data[self.read:end])).hexdigest()[:8]


def differences(expected, actual, pkt):
    """[(field, expected text, actual text)] where Segment `actual` (from
    Flow.relative of Packet `pkt`) does not fit line Segment `expected`."""
    out = []
    if expected.flags != actual.flags:
        out.append(("flags", format_flags(expected.flags), format_flags(actual.flags)))
    for field in ("seq", "length", "ack", "win", "urg"):
        want, got = getattr(expected, field), getattr(actual, field)
        if want not in (None, ANY) and want != got:
            out.append((field, str(want), str(got)))
    if expected.options != ANY and not options_fit(expected.options, actual.options):
        out.append(("options", format_options(expected.options) or "none",
                    format_options(actual.options) or "none"))
    if expected.data not in (None, ANY) and expected.data != pkt.payload:
        out.append(("data",) + data_difference(expected.data, pkt.payload))
    if not pkt.cksum_ok:
        out.append(("checksum", "right", "WRONG (IP or TCP)"))
    return out


def data_difference(want, got):
    """(expected text, actual text) for payloads that differ: both cut short,
    and where they first part."""
    first = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
    where = (f" (byte {first}: {got[first]:02x}, not {want[first]:02x})"
             if first < min(len(want), len(got)) else f" ({len(got)} bytes, not {len(want)})")
    return format_data(want), format_data(got) + where


def options_fit(want, got):
    """True if option list `got` is `want` item by item (ANY fits any value)."""
    if len(want) != len(got):
        return False
    return all(len(w) == len(g) and all(a in (ANY, b) for a, b in zip(w, g))
               for w, g in zip(want, got))


def event_fits(want, got, flow):
    """True if agent event line `got` (text) is the event `want` (words): same
    name, each written argument equal or "*"; a bare "accepted" must come from
    the peer's address and port."""
    words = got.split()
    if not words or words[0] != want[0] or len(want) > len(words):
        return False
    if want == ["accepted"]:
        return words[1:] == [PEER_IP, str(flow.peer_port)]
    return all(w in (ANY, g) for w, g in zip(want[1:], words[1:]))


# =================================================================== drivers

class AgentError(Exception):
    """The agent died, went quiet or refused a command it must carry out."""


class CoreDriver:
    """Drives `tcpagent --virtual`: the clock moves only when told."""

    virtual = True

    def __init__(self, agent):
        """Starts the agent at path `agent` (no root needed)."""
        self.proc = subprocess.Popen([agent, "--virtual", "-a", f"{STACK_IP}/24"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out, self.err = LineReader(self.proc.stdout), LineReader(self.proc.stderr)
        self.clock_ms = 0
        self.frames, self.events, self.injected = [], [], []
        self.arp_owed = []
        self.stray = []     # stdout lines that are not the agent protocol
        self.since_ms = 0   # events read now happened after this time (ms) at the earliest

    def now(self):
        """The virtual time, seconds."""
        return self.clock_ms / 1000

    def call(self, command):
        """Sends one command and reads up to its answer; frames and events
        before it are recorded.  Returns "ok" or "error ..."; AgentError if the
        agent ends or says nothing for AGENT_ANSWER_S seconds."""
        try:
            self.proc.stdin.write(command.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            raise AgentError(f"cannot write to the agent: {err}") from None
        for _ in range(1_000_000):
            line = self.out.readline(AGENT_ANSWER_S)
            if line is None:
                raise AgentError(f"no answer to {command[:60]!r}")
            if line == "ok" or line.startswith("error"):
                return line
            self.record(line)
        raise AgentError("endless output")

    def record(self, line):
        """Files one output line: "tx MS HEX" as a frame (owing an ARP reply if
        it asks for 192.0.2.1), anything else as an event: (time, text,
        earliest time) - an event of a "time" command happened somewhere after
        the clock it started from, by the clock it ends at."""
        words = line.split()
        if len(words) == 3 and words[0] == "tx":
            frame = bytes.fromhex(words[2])
            self.frames.append((int(words[1]) / 1000, frame))
            reply = arp_reply_for(frame, ip_bytes(PEER_IP), mac_bytes(PEER_MAC))
            if reply:
                self.arp_owed.append(reply)
        elif words and words[0] in EVENT_NAMES:
            self.events.append((self.now(), line, self.since_ms / 1000))
        else:
            self.stray.append(line)

    def must(self, command):
        """call(command), answering the ARP requests it caused; AgentError
        unless the answer is "ok"."""
        answer = self.call(command)
        if answer != "ok":
            raise AgentError(f"{command[:40]!r} answered {answer!r}")
        self.pay_arp()

    def pay_arp(self):
        """Hands the stack the ARP replies it is owed (bounded: 16 rounds)."""
        for _ in range(16):
            if not self.arp_owed:
                return
            reply = self.arp_owed.pop(0)
            self.injected.append((self.now(), reply))
            if self.call("frame " + reply.hex()) != "ok":
                raise AgentError("the stack refused an ARP reply")

    def wait_until(self, t):
        """Moves the clock to `t` seconds (never back), running due timers."""
        ms = round(t * 1000)
        if ms > self.clock_ms:
            self.since_ms, self.clock_ms = self.clock_ms + 1, ms
            try:
                self.must(f"time {ms}")
            finally:
                self.since_ms = self.clock_ms
            self.settle()

    wait_news = wait_until

    def absorb(self):
        """Nothing to do: every output is read with its command."""

    def inject(self, frame):
        """Hands the stack one frame at the current time."""
        self.injected.append((self.now(), frame))
        self.must("frame " + frame.hex())
        self.settle()

    def app(self, command):
        """Runs one application command; returns the agent's answer."""
        answer = self.call(command)
        self.pay_arp()
        self.settle()
        return answer

    def settle(self):
        """Reads what the last command did after its answer.  An agent may
        carry on after "ok" (tcpagent moves a send's bytes, a recv's reading
        and the "eof" it finds after every command), so a `time` to the same
        clock, which changes nothing, brings that output in, at the time it
        happened."""
        self.must(f"time {self.clock_ms}")

    def stop(self):
        """Says quit and waits (bounded); returns (exit status, stderr text)."""
        return stop_process(self.proc, self.err)


def stop_process(proc, err_reader):
    """Writes "quit" to `proc`, closes its stdin and waits up to 5 s (then
    kills it); returns (exit status, stderr text read within 2 s)."""
    try:
        proc.stdin.write(b"quit\n")
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    return proc.returncode, "\n".join(err_reader.rest(2.0))


class Inbox:
    """Timestamped items from reader threads, waited for with a deadline."""

    def __init__(self):
        """Empty."""
        self.items = []
        self.cond = threading.Condition()

    def put(self, item):
        """Adds one item (kind, monotonic seconds, value) and wakes waiters."""
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def take_all(self):
        """Removes and returns every item."""
        with self.cond:
            items, self.items = self.items, []
        return items

    def wait(self, deadline):
        """Waits until some item is there or monotonic time `deadline`."""
        with self.cond:
            if not self.items:
                self.cond.wait(max(0.0, min(deadline - time.monotonic(), MAX_SCRIPT_S)))


def pump_lines(pipe, inbox, parse):
    """Thread body: each line of `pipe` becomes inbox item parse(line, now);
    ("eof", now, None) at end of file."""
    for raw in iter(pipe.readline, b""):
        inbox.put(parse(raw.decode(errors="replace").rstrip("\n"), time.monotonic()))
    inbox.put(("eof", time.monotonic(), None))


def agent_item(line, now):
    """An inbox item for one line of an agent's stdout."""
    return ("line", now, line)


def wire_item(line, now):
    """An inbox item for one line of wire.py in stream mode: frames and sends
    carry wire.py's own CLOCK_MONOTONIC stamp."""
    words = line.split()
    if len(words) == 3 and words[0] == "rx":
        return ("rx", int(words[1]) / 1e9, bytes.fromhex(words[2]))
    if len(words) == 3 and words[0] == "sent":
        return ("sent", int(words[1]) / 1e9, int(words[2]))
    return ("wire", now, line)


class VethDriver:
    """Drives an agent in the lab's target namespace, in real time; the bench's
    wire.py stream sends and hears frames on the peer side."""

    virtual = False

    def __init__(self, bench, argv):
        """Starts agent `argv` in the target and waits until it is listening."""
        self.bench = bench
        self.proc = bench.lab.popen("target", argv, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err = LineReader(self.proc.stderr)
        self.wait_listening(argv[0])
        bench.inbox.take_all()  # frames of earlier runs
        self.thread = threading.Thread(target=pump_lines, daemon=True,
                                       args=(self.proc.stdout, bench.inbox, agent_item))
        self.thread.start()
        self.frames, self.events, self.injected, self.answers = [], [], [], []
        self.stray = []
        self.sends = 0
        self.agent_ended = False
        self.t0 = time.monotonic()

    def wait_listening(self, name):
        """Reads stderr until "listening on" (AGENT_START_S at most)."""
        seen = []
        deadline = time.monotonic() + AGENT_START_S
        for _ in range(10_000):  # bounded by count and by the deadline
            if time.monotonic() >= deadline:
                break
            line = self.err.readline(deadline - time.monotonic())
            if line is None:
                break
            seen.append(line)
            if "listening on" in line:
                return
        code, rest = stop_process(self.proc, self.err)
        raise AgentError(f"{name} did not say 'listening on' (exit {code}): "
                         + " | ".join(seen + [rest])[-800:])

    def now(self):
        """Seconds since the script began."""
        return time.monotonic() - self.t0

    def wait_until(self, t):
        """Sleeps until script time `t` (at most MAX_SCRIPT_S)."""
        time.sleep(min(max(0.0, t - self.now()), MAX_SCRIPT_S))

    def wait_news(self, t):
        """Waits until something arrives or script time `t`."""
        self.bench.inbox.wait(self.t0 + t)

    def absorb(self):
        """Files what the reader threads brought: frames, events, answers."""
        for kind, stamp, value in self.bench.inbox.take_all():
            t = stamp - self.t0
            if kind == "rx":
                self.frames.append((t, value))
            elif kind == "sent" and self.sends < len(self.injected):
                self.injected[self.sends][0] = t
                self.sends += 1
            elif kind == "line" and (value == "ok" or value.startswith("error")):
                self.answers.append(value)
            elif kind == "line" and value.split()[:1] and value.split()[0] in EVENT_NAMES:
                self.events.append((t, value, t))
            elif kind == "line":
                self.stray.append(value)
            elif kind == "eof":
                self.agent_ended = True

    def inject(self, frame):
        """Sends `frame` from the peer now (its wire time is filled in later)."""
        self.injected.append([self.now(), frame])
        self.bench.send(frame)

    def app(self, command):
        """Writes one command to the agent; returns its answer, AgentError if
        none comes within AGENT_ANSWER_S."""
        try:
            self.proc.stdin.write(command.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            raise AgentError(f"cannot write to the agent: {err}") from None
        deadline = time.monotonic() + AGENT_ANSWER_S
        for _ in range(100_000):  # bounded by count and by the deadline
            if time.monotonic() >= deadline:
                break
            self.absorb()
            if self.answers:
                return self.answers.pop(0)
            if self.agent_ended:
                break
            self.bench.inbox.wait(deadline)
        raise AgentError(f"no answer to {command[:60]!r}")

    def stop(self):
        """Quits the agent (bounded); returns (exit status, stderr text)."""
        result = stop_process(self.proc, self.err)
        self.thread.join(2.0)
        return result


# ==================================================================== benches

class CoreBench:
    """The core target: a fresh `tcpagent --virtual` per script."""

    target = "core"
    tolerance = (CORE_TOLERANCE_S, CORE_TOLERANCE_S)

    def __init__(self, agent):
        """`agent`: path of tcpagent; ValueError if it is not there."""
        if not Path(agent).is_file():
            raise ValueError(f"{agent} is missing: build it (cmake --build --preset default)")
        self.agent = str(agent)

    def driver(self):
        """A started CoreDriver."""
        return CoreDriver(self.agent)

    def peer_port(self):
        """The peer's port: fixed in virtual time."""
        return CORE_PEER_PORT

    def peer_isn(self, script):
        """The peer's ISN: fixed per script (CRC-32 of its name)."""
        return zlib.crc32(script.name.encode())

    def close(self):
        """Nothing to end."""


class VethBench:
    """A veth target ("ours" or "linux"): one lab and one wire.py stream for
    many scripts, a fresh agent per script."""

    def __init__(self, target, agent_argv, lab=None, late_s=VETH_LATE_S):
        """Uses `lab` (a Lab that is up, target and peer="raw" as `target`
        needs) or brings one up (lablib.LabUnavailable if it cannot)."""
        import lablib
        self.target, self.agent_argv = target, list(agent_argv)
        self.tolerance = (VETH_EARLY_S, late_s)
        self.own_lab = lab is None
        self.lab = lab or lablib.Lab(target=target, peer="raw").up()
        self.inbox = Inbox()
        self.wire = None
        self.next_port = random.randrange(20000, 30000)
        try:
            self.start_wire()
        except BaseException:
            self.close()
            raise

    def start_wire(self):
        """Starts wire.py in the peer playing 192.0.2.1, in stream mode."""
        self.wire = self.lab.popen("peer", [PYTHON, str(TOOLS / "wire.py"), "--ip", PEER_IP,
                                            "--mac", PEER_MAC, "peer0"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        threading.Thread(target=pump_lines, args=(self.wire.stdout, self.inbox, wire_item),
                         daemon=True).start()
        self.await_wire("ready")
        self.write_wire("stream 7200")
        self.await_wire("streaming")

    def await_wire(self, word):
        """Waits (10 s at most) for wire.py to say `word`; RuntimeError if not."""
        deadline = time.monotonic() + 10
        for _ in range(100_000):  # bounded by count and by the deadline
            if time.monotonic() >= deadline:
                break
            for kind, _, value in self.inbox.take_all():
                if kind == "wire" and value == word:
                    return
            self.inbox.wait(deadline)
        raise RuntimeError(f"wire.py did not say {word!r} in the peer")

    def write_wire(self, line):
        """Writes one command line to wire.py."""
        self.wire.stdin.write(line.encode() + b"\n")
        self.wire.stdin.flush()

    def send(self, frame):
        """Puts `frame` on the wire from the peer (does not wait)."""
        self.write_wire("send " + frame.hex())

    def driver(self):
        """A started VethDriver."""
        return VethDriver(self, self.agent_argv)

    def peer_port(self):
        """A port the peer has not used in this bench yet (20000..59999)."""
        port = self.next_port
        self.next_port = 20000 + (port - 20000 + 1) % 40000
        return port

    def peer_isn(self, script):
        """A random ISN for the peer."""
        return random.getrandbits(32)

    def close(self):
        """Stops wire.py and, if this bench brought the lab up, ends it."""
        if self.wire and self.wire.poll() is None:
            try:
                self.write_wire("stop")
                self.write_wire("quit")
                self.wire.stdin.close()
                self.wire.wait(5)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                self.wire.kill()
                self.wire.wait(5)
        if self.own_lab:
            self.lab.down()


# ===================================================================== running

class Result:
    """What one script did against one target."""

    def __init__(self, script, target, status, reason="", detail=()):
        """status: "PASS", "FAIL" or "N/A"; reason: one line; detail: lines."""
        self.script, self.target, self.status = script, target, status
        self.reason, self.detail = reason, list(detail)
        self.late = []      # seconds each matched > segment and event came after its TIME
        self.injected = []  # seconds each < segment reached the wire after its TIME
        self.seconds = 0.0
        self.trace = []

    def line(self, label=None):
        """The one-line summary, e.g. "PASS  linux  06-handshake/x.pkt  (0.4 s)"
        (label in place of the target's name if given)."""
        name = display_name(self.script.path)
        tail = f"  {self.reason}" if self.reason else ""
        return f"{self.status:4}  {label or self.target:5}  {name}  ({self.seconds:.1f} s){tail}"


def display_name(path):
    """`path` relative to testvectors/scripts when it lies there."""
    path = Path(path).resolve()
    base = ROOT / "testvectors" / "scripts"
    return str(path.relative_to(base)) if base in path.parents else str(path)


class Failed(Exception):
    """A step of a script failed; carries the reason and detail lines."""

    def __init__(self, reason, detail=()):
        """reason: one line; detail: lines shown under it."""
        super().__init__(reason)
        self.reason, self.detail = reason, list(detail)


class Run:
    """One script played against one target through a driver."""

    def __init__(self, script, target, driver, bench, verbose=False):
        """Ready to play; the flow's ports and ISN come from `bench`."""
        self.script, self.target, self.driver = script, target, driver
        self.early, self.late = bench.tolerance
        if not driver.virtual and target in script.late_ms:
            self.late = max(self.late, script.late_ms[target] / 1000)
        stack_port = None if script.active else script.port
        self.flow = Flow(bench.peer_port(), stack_port, bench.peer_isn(script))
        self.verbose = verbose
        self.frame_i = self.event_i = 0
        self.stack_stream = StackStream()   # what `app send` gave the stack
        self.peer_stream = PeerStream()     # what `<` segments carried
        self.result = Result(script, target, "PASS")

    def say(self, text):
        """Adds one line to the trace (printed at once with -v)."""
        self.result.trace.append(text)
        if self.verbose:
            print(f"    [{self.target}] {text}", flush=True)

    def play(self):
        """Plays every line for this target, then looks for leftovers; raises
        Failed at the first step that fails."""
        lines = [line for line in self.script.lines if line.applies(self.target)]
        for i, line in enumerate(lines):
            next_time = lines[i + 1].time if i + 1 < len(lines) else math.inf
            try:
                getattr(self, STEPS[line.kind])(line, next_time)
            except (ValueError, AgentError) as err:
                raise Failed(f"line {line.lineno}: {err}", [self.script.where(line) + ": "
                                                          + line.text]) from None
        self.check_leftovers(lines[-1].time + self.late if lines else 0.0)

    def send_segment(self, line, _next_time):
        """A `<` line: the peer sends its segment at TIME."""
        self.driver.wait_until(line.time)
        frame = self.flow.frame(line.rest)
        self.driver.inject(frame)
        self.peer_stream.put(data_offset(line.rest), peer_payload(line.rest))
        self.say(f"{line.time:8.3f} <  {format_segment(line.rest)}")

    def send_icmp(self, line, _next_time):
        """An `icmp` line: the peer sends ICMP error TYPE CODE at TIME about
        the stack's latest segment of the flow."""
        if self.flow.last is None:
            raise ValueError(f"line {line.lineno}: an icmp line needs a segment of the stack's "
                             "before it")
        self.driver.wait_until(line.time)
        self.flow.ip_id += 1
        self.driver.inject(build_icmp_error(self.flow.last, *line.rest, self.flow.ip_id))
        about = format_segment(self.flow.relative(self.flow.last))
        self.say(f"{line.time:8.3f} <  icmp {line.rest[0]} {line.rest[1]} about {about}")

    def run_app(self, line, _next_time):
        """An `app` line: the application command at TIME must be answered ok,
        or refused if the line ends `-> error`.  `connect IP PORT` goes to the
        peer's port of this run."""
        words = list(line.rest)
        refuse = words[-2:] == ["->", "error"]
        if refuse:
            words = words[:-2]
        if words[0] == "connect":
            if len(words) != 3 or words[2] != "PORT":
                raise ValueError("write app connect IP PORT (the word PORT)")
            words[2] = str(self.flow.peer_port)
            self.flow.dsts.add(words[1])
        if words[0] == "listen" and len(words) == 2:
            self.flow.stack_port = port_number(words[1])
        if words[0] in ("send", "urgent") and len(words) == 2:
            self.stack_stream.add(int(words[1]))
        self.driver.wait_until(line.time)
        answer = self.driver.app(" ".join(words))
        self.say(f"{line.time:8.3f} app {' '.join(words)} -> {answer}")
        if answer.startswith("error") != refuse:
            raise Failed(f"line {line.lineno}: the agent answered {answer!r}",
                         [self.script.where(line) + ": " + line.text])

    def expect_segment(self, line, next_time):
        """A `>` line: the stack's next segment of the flow must fit the line
        and come within the tolerance of TIME."""
        deadline = line.time + self.late
        limit = min(deadline, next_time) if self.driver.virtual else deadline
        self.driver.wait_until(min(line.time, limit))
        got = self.await_item(self.next_packet, limit)
        if got is None:
            later = self.await_item(self.next_packet, deadline + LATE_LOOK_S)
            if later:
                later = (later[0], format_segment(self.flow.relative(later[1])))
            raise self.missing(line, later)
        stamp, pkt = got
        self.frame_i += 1
        self.flow.learn(pkt, line.rest)
        self.flow.last = pkt
        actual = self.flow.relative(pkt)
        want, unsent = self.expected_segment(line.rest)
        diffs = differences(want, actual, pkt) + self.timing(line, stamp)
        if unsent:
            diffs.insert(0, ("data", unsent, format_data(pkt.payload)))
        if diffs:
            raise self.mismatch(line, format_segment(line.rest), format_segment(actual), diffs)
        self.result.late.append(stamp - line.time)
        late_ms = (stamp - line.time) * 1000
        self.say(f"{stamp:8.3f} >  {format_segment(actual)}  ({late_ms:+.1f} ms)")

    def expected_segment(self, seg):
        """(seg, None), or for a `>` line with data and no `data` field a copy
        of seg expecting the application's bytes at its place (see
        StackStream), and None; or (seg, why) when the application never gave
        the stack those bytes."""
        if seg.data is not None or seg.length in (ANY, 0) or seg.seq == ANY:
            return seg, None
        offset = data_offset(seg)
        data = self.stack_stream.expected(offset, seg.length)
        if data is None:
            return seg, (f"stream bytes {offset}..{offset + seg.length - 1}, but the "
                         f"application sent {self.stack_stream.length}")
        filled = copy.copy(seg)
        filled.data = data
        return filled, None

    def expected_event(self, words):
        """The event words a line means: `data N` (no digest) expects the
        digest of the next N bytes the peer sent ("unsent" if it never sent
        them all); other lines as written."""
        if words[0] == "data" and len(words) == 2 and words[1].isdigit():
            return words + [self.peer_stream.digest(int(words[1])) or "unsent"]
        return list(words)

    def expect_event(self, line, next_time):
        """An `event` line: the agent's next event must be this one, within
        the tolerance of TIME."""
        deadline = line.time + self.late
        limit = min(deadline, next_time) if self.driver.virtual else deadline
        if self.driver.virtual:  # what comes before the window is known to be early
            self.driver.wait_until(max(self.driver.now(), line.time - self.early - 0.001))
        self.driver.wait_until(min(line.time, limit))
        got = self.await_item(self.next_event, limit)
        if got is None:
            later = self.await_item(self.next_event, deadline + LATE_LOOK_S)
            raise self.missing(line, later and (later[0], later[1], later[2]))
        stamp, text, earliest = got
        self.event_i += 1
        diffs = self.timing(line, stamp, earliest)
        want = self.expected_event(line.rest)
        if not event_fits(want, text, self.flow):
            diffs.insert(0, ("event", " ".join(want), text))
        words = text.split()
        if words[0] == "data" and len(words) > 1 and words[1].isdigit():
            self.peer_stream.read += int(words[1])
        if diffs:
            raise self.mismatch(line, " ".join(line.rest), text, diffs)
        self.result.late.append(stamp - line.time)
        self.say(f"{stamp:8.3f} event {text}  ({(stamp - line.time) * 1000:+.1f} ms)")

    def timing(self, line, stamp, earliest=None):
        """[("time", ...)] unless what came at `stamp` (at the earliest at
        `earliest`, in virtual time) lies within the tolerance of line's TIME."""
        earliest = stamp if earliest is None else earliest
        if line.time - self.early - 1e-9 <= earliest and stamp <= line.time + self.late + 1e-9:
            return []
        window = f"{line.time:.3f} (-{self.early * 1000:.0f}/+{self.late * 1000:.0f} ms)"
        when = (f"{stamp:.3f} ({(stamp - line.time) * 1000:+.1f} ms)" if earliest == stamp
                else f"between {earliest:.3f} and {stamp:.3f}")
        return [("time", window, when)]

    def await_item(self, take, limit):
        """take() (next_packet or next_event) as soon as it gives something,
        waiting for news until script time `limit`; None if nothing came.
        Over veth it waits DELIVERY_S longer: a frame wire.py stamped in time
        can reach this process late on a busy machine, and what comes is
        judged by its stamp (timing()), not by when it got here."""
        if not self.driver.virtual:
            limit += DELIVERY_S
        for _ in range(100_000):
            self.driver.absorb()
            got = take()
            if got is not None or self.driver.now() >= limit:
                return got
            self.driver.wait_news(limit)
        return None

    def next_packet(self):
        """(time, Packet) of the stack's next unmatched segment of the flow,
        skipping other frames; None if there is none yet."""
        frames = self.driver.frames
        while self.frame_i < len(frames):
            stamp, frame = frames[self.frame_i]
            pkt = parse_frame(frame)
            if self.flow.has(pkt):
                return stamp, pkt
            self.frame_i += 1
        return None

    def next_event(self):
        """(time, text) of the agent's next unmatched event, or None."""
        events = self.driver.events
        return events[self.event_i] if self.event_i < len(events) else None

    def check_leftovers(self, end):
        """Waits until script time `end`; any segment of the flow or event that
        no line took is a failure ("unexpected")."""
        self.driver.wait_until(end)
        self.driver.absorb()
        extra = []
        for stamp, frame in self.driver.frames[self.frame_i:]:
            pkt = parse_frame(frame)
            if self.flow.has(pkt):
                self.flow.learn(pkt, Segment(pkt.flags, 0, 0, 0))  # show it relative
                extra.append(f"{stamp:8.3f} >  {format_segment(self.flow.relative(pkt))}")
        extra += [f"{e[0]:8.3f} event {e[1]}" for e in self.driver.events[self.event_i:]]
        if extra:
            raise Failed(f"unexpected: {extra[0].split(None, 1)[1]}",
                         ["what the stack did that no line expects, up to the last "
                          f"line's time + {self.late * 1000:.0f} ms:"] + ["  " + e for e in extra])

    def missing(self, line, later):
        """Failed for a `>` or `event` line that saw nothing in time; `later`
        is (time, text) of what came after the deadline, if anything."""
        what = "segment" if line.kind == ">" else "event"
        seen = "nothing"
        if later and len(later) > 2 and later[2] != later[0]:
            seen = f"{later[1]} between {later[2]:.3f} and {later[0]:.3f}"
        elif later:
            seen = f"{later[1]} at {later[0]:.3f}"
        return Failed(f"line {line.lineno}: no {what} by {line.time + self.late:.3f}",
                      [f"{self.script.where(line)}: {line.text}",
                       side_by_side([("time", f"{line.time:.3f} (+{self.late * 1000:.0f} ms)",
                                      seen)])])

    def mismatch(self, line, expected, actual, diffs):
        """Failed for a line whose segment or event came but differs."""
        fields = ", ".join(field for field, _, _ in diffs)
        return Failed(f"line {line.lineno}: {fields} differ" if len(diffs) > 1
                      else f"line {line.lineno}: {fields} differs",
                      [f"{self.script.where(line)}: {line.text}",
                       side_by_side([("whole", expected, actual)] + diffs)])


STEPS = {"<": "send_segment", ">": "expect_segment", "icmp": "send_icmp", "app": "run_app",
         "event": "expect_event"}


def side_by_side(rows):
    """A table of (field, expected, actual) rows under a header line."""
    width = max([len("expected")] + [len(e) for _, e, _ in rows])
    head = f"  {'':9} {'expected':{width}}   actual"
    return "\n".join([head] + [f"  {f:9} {e:{width}}   {a}" for f, e, a in rows])


def run_script(script, bench, verbose=False, pcap_dir=None):
    """Plays `script` against bench's target; returns its Result (N/A if the
    script's targets leave it out, FAIL with the reason and detail if a line
    fails, the agent fails or exits other than 0)."""
    target = bench.target
    if target not in script.targets:
        return Result(script, target, "N/A", f"targets: {' '.join(script.targets)}"
                      + (f" ({script.targets_why})" if script.targets_why else ""))
    began = time.monotonic()
    try:
        driver = bench.driver()
    except (AgentError, OSError) as err:
        result = Result(script, target, "FAIL", f"agent: {err}")
        result.seconds = time.monotonic() - began
        return result
    run = Run(script, target, driver, bench, verbose)
    result = finish_run(run, driver)
    result.seconds = time.monotonic() - began
    if result.status == "FAIL" and pcap_dir:
        result.detail.append(f"pcap: {write_pcap(pcap_dir, script, target, driver)}")
    return result


def finish_run(run, driver):
    """Plays `run`, stops the agent, and returns the Result, failed by the
    first failure or by the agent's exit status or sanitizer report."""
    result = run.result
    try:
        run.play()
    except Failed as failure:
        result.status, result.reason, result.detail = "FAIL", failure.reason, failure.detail
    except AgentError as err:
        result.status, result.reason = "FAIL", f"agent: {err}"
    finally:
        code, stderr = driver.stop()
    result.injected = [sent - line.time for (sent, _), line in zip(
        [i for i in driver.injected if not is_arp(i[1])],
        [l for l in run.script.lines if l.kind in ("<", "icmp") and l.applies(run.target)])]
    if driver.stray:
        if result.status != "FAIL":
            result.status, result.reason = "FAIL", "agent protocol: stray lines on stdout"
        result.detail.append("the agent wrote lines that are no part of the agent protocol on "
                             "stdout (logs belong on stderr):\n"
                             + indent("\n".join(driver.stray[:5])))
    if code != 0 or "Sanitizer" in stderr or "runtime error:" in stderr:
        if result.status != "FAIL":
            result.status, result.reason = "FAIL", f"agent exited {code}"
        result.detail.append(f"agent exit status {code}; its stderr ends:\n"
                             + indent(stderr[-2000:] or "(nothing)"))
    if result.status == "FAIL" and result.trace:
        result.detail.append("what happened before:\n" + indent("\n".join(result.trace[-12:])))
    return result


def is_arp(frame):
    """True for an ARP frame."""
    return frame[12:14] == b"\x08\x06"


def indent(text, prefix="    "):
    """`text` with every line indented by `prefix`."""
    return "\n".join(prefix + line for line in text.splitlines())


def write_pcap(directory, script, target, driver):
    """Writes every frame of the run, both ways, to DIR/SCRIPT-TARGET.pcap
    (microsecond pcap, Ethernet, times from the script's start); returns the path."""
    path = Path(directory) / f"{script.path.stem}-{target}.pcap"
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = sorted([(t, f) for t, f in driver.injected] + list(driver.frames),
                    key=lambda item: item[0])
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for stamp, frame in frames:
            usec = max(0, round(stamp * 1e6))
            out.write(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000,
                                  len(frame), len(frame)) + frame)
    return path


# ======================================================================== CLI

def find_scripts(paths):
    """The .pkt files named, or found (sorted) under the directories named."""
    found = []
    for name in paths:
        path = Path(name)
        found += sorted(path.rglob("*.pkt")) if path.is_dir() else [path]
    return found


def default_build():
    """$TCPIP_BUILD, else build/asan-ubsan if it has tcpagent, else build/default."""
    if os.environ.get("TCPIP_BUILD"):
        return Path(os.environ["TCPIP_BUILD"])
    sanitized = ROOT / "build" / "asan-ubsan"
    return sanitized if (sanitized / "bin" / "tcpagent").exists() else ROOT / "build" / "default"


def open_bench(target, build, late_s):
    """The bench for `target`, or (None, why) when it cannot be had here."""
    agent = Path(build) / "bin" / "tcpagent"
    try:
        if target == "core":
            return CoreBench(agent), ""
        if target == "ours":
            if not agent.is_file():
                raise ValueError(f"{agent} is missing: build it first")
            argv = [str(agent), "-i", "target0", "-a", f"{STACK_IP}/24"]
        else:
            argv = [PYTHON, str(TOOLS / "linux_agent.py"), "-i", "target0"]
        return VethBench(target, argv, late_s=late_s), ""
    except Exception as err:  # noqa: BLE001 - any reason is reported as N/A
        return None, f"{type(err).__name__}: {err}"


def late_summary(results):
    """"n, median, max ms" of how late matched segments/events were, or ""."""
    late = sorted(x * 1000 for r in results for x in r.late)
    sent = sorted(x * 1000 for r in results for x in r.injected)
    if not late:
        return ""
    median, p95 = late[len(late) // 2], late[int(len(late) * .95)]
    text = (f", timing: {len(late)} segments/events came {late[0]:+.1f}..{late[-1]:+.1f} ms "
            f"from TIME (median {median:+.1f}, 95% {p95:+.1f})")
    if sent:
        text += (f"; {len(sent)} < segments left {sent[0]:+.1f}..{sent[-1]:+.1f} ms "
                 f"from TIME (median {sent[len(sent) // 2]:+.1f})")
    return text


def run_target(target, scripts, args, bench=None, label=None):
    """Plays every script against `target`, or against `bench` (an outside
    agent's, judged as `target`, shown as `label`); prints as it goes;
    returns Results."""
    why = ""
    if bench is None:
        bench, why = open_bench(target, args.build, args.tolerance / 1000)
    label = label or target
    results = []
    began = time.monotonic()
    try:
        for script in scripts:
            if bench is None:
                result = Result(script, target, "N/A", why)
            else:
                result = run_script(script, bench, args.verbose, args.pcap)
            results.append(result)
            print(result.line(label), flush=True)
            for text in result.detail:
                print(indent(text), flush=True)
    finally:
        if bench is not None:
            bench.close()
    print(f"  {label}: {time.monotonic() - began:.1f} s{late_summary(results)}")
    return results


def parse_args(argv):
    """The CLI's options (see the module docstring)."""
    parser = argparse.ArgumentParser(description="Play scenario scripts against TCP stacks.")
    parser.add_argument("--target", choices=TARGETS + ("all",), default="all")
    parser.add_argument("--build", type=Path, default=default_build(),
                        help="the build whose bin/tcpagent is tested")
    parser.add_argument("--tolerance", type=float, default=VETH_LATE_S * 1000,
                        help="how late (ms) a segment may come over veth (default 50)")
    parser.add_argument("--pcap", type=Path, help="write a pcap of each failing run here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every step")
    parser.add_argument("paths", nargs="+", metavar="SCRIPT_OR_DIR")
    return parser.parse_args(argv)


def main(argv):
    """Runs the CLI; exit status 0 only if nothing failed (N/A is not a failure)."""
    args = parse_args(argv)
    scripts, failed = [], 0
    for path in find_scripts(args.paths):
        try:
            scripts.append(parse_script(path))
        except (ScriptError, OSError) as err:
            print(f"ERROR {err}")
            failed += 1
    targets = TARGETS if args.target == "all" else (args.target,)
    results = [r for target in targets for r in run_target(target, scripts, args)]
    counts = {t: {s: 0 for s in ("PASS", "FAIL", "N/A")} for t in targets}
    for result in results:
        counts[result.target][result.status] += 1
    print("summary: " + "; ".join(f"{t} {c['PASS']} passed, {c['FAIL']} failed, {c['N/A']} n/a"
                                  for t, c in counts.items()))
    failed += sum(c["FAIL"] for c in counts.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
