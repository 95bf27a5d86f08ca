"""scenariokit.flow - the script's one connection (Flow: ports, both ISNs,
relative and absolute numbers), the two byte streams (StackStream,
PeerStream, the pattern both carry), and whether what the stack did fits a
line (differences, event_fits).  IPv4, one flow per script.
"""
import hashlib

from labaddr import PEER_IP, TARGET_IP

from .formatting import format_data, format_flags, format_options
from .frames import SEQ_MOD, build_frame, encode_options
from .parsing import ANY, ECN_CODES, FLAG_BITS, Segment

DEFAULT_PEER_WIN = 64240


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
        return (pkt is not None and pkt.src == TARGET_IP and pkt.dst in self.dsts
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
        seg.ecn = next(name for name, code in ECN_CODES.items() if code == pkt.ecn)
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
                           self.ip_id, seg.bad_cksum, seg.urg or 0, ECN_CODES[seg.ecn or "not-ect"])


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
    if (expected.flags ^ actual.flags) & ~expected.flags_any:
        out.append(("flags", format_flags(expected.flags, expected.flags_any),
                    format_flags(actual.flags)))
    for field in ("seq", "length", "ack", "win", "urg", "ecn"):
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
