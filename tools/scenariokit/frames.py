"""scenariokit.frames - frames on the wire: the Ethernet/IPv4/TCP frames the
peer sends for `<` and `icmp` lines (build_frame, build_icmp_error), and the
decoder of the frames a stack sends (parse_frame -> Packet), which
tools/verdicts.py uses too.  IPv4 without options or fragments, from the
lab's peer to its target only.
"""
import struct

from labaddr import PEER_IP, PEER_MAC, TARGET_IP, TARGET_MAC

SEQ_MOD = 1 << 32


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
                urg=0, ecn=0):
    """An Ethernet frame from the peer (192.0.2.1, 02:..:01) to the stack
    (192.0.2.2, 02:..:02): IPv4 with DF, TTL 64 and ECN field `ecn` (0-3),
    then TCP with `options` (bytes, a multiple of 4), urgent pointer `urg`
    and `payload`; checksums right unless bad_cksum."""
    src, dst = ip_bytes(PEER_IP), ip_bytes(TARGET_IP)
    offset_words = (20 + len(options)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq % SEQ_MOD, ack % SEQ_MOD,
                      offset_words << 4, flags, win, 0, urg) + options + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    cksum = inet_sum(pseudo + tcp) ^ (0x0100 if bad_cksum else 0)
    tcp = tcp[:16] + struct.pack("!H", cksum) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, ecn & 3, 20 + len(tcp), ip_id & 0xFFFF, 0x4000, 64,
                     6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", inet_sum(ip)) + ip[12:]
    return mac_bytes(TARGET_MAC) + mac_bytes(PEER_MAC) + b"\x08\x00" + ip + tcp


def build_icmp_error(pkt, icmp_type, code, ip_id):
    """An Ethernet frame from the peer carrying ICMP error (icmp_type, code)
    about the stack's segment Packet `pkt`: RFC 792's unused word, then the
    segment's IPv4 header and first 8 bytes (ports, sequence number) as the
    stack sent them."""
    icmp = struct.pack("!BBHI", icmp_type, code, 0, 0) + pkt.head
    icmp = icmp[:2] + struct.pack("!H", inet_sum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), ip_id & 0xFFFF, 0, 64, 1, 0,
                     ip_bytes(PEER_IP), ip_bytes(TARGET_IP))
    ip = ip[:10] + struct.pack("!H", inet_sum(ip)) + ip[12:]
    return mac_bytes(TARGET_MAC) + mac_bytes(PEER_MAC) + b"\x08\x00" + ip + icmp


class Packet:
    """A TCP/IPv4 segment read off the wire, fields in host order."""

    def __init__(self, **fields):
        """Fields: src, dst (dotted), sport, dport, seq, ack, flags, win, urg
        (the urgent pointer), ecn (the IPv4 ECN field, 0-3), options
        (tuples), payload, cksum_ok (IP and TCP
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
                  ecn=ip[1] & 3,
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
