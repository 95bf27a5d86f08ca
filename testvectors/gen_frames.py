#!/usr/bin/python3
"""Writes the frame vectors of testvectors/frames/ from the rules they test.

Each frame is built with scapy (an implementation independent of ours), then
bent to break exactly one rule.  The expected verdict and the Linux counter
come from the RFC and from Linux's ip_rcv()/icmp_rcv()/udp_rcv()/tcp_v4_rcv(),
never from our stack's output; the harness checks both against Linux.

Run: /usr/bin/python3 testvectors/gen_frames.py [--out DIR]  (rewrites the .vec files;
harness/test_vectors.py fails if the committed files differ from its output).
"""
import os
import struct
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, IPOption_NOP, IPOption_Router_Alert, IPOption_RR, IPv6,
                       Raw)

PEER_MAC, TARGET_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
PEER_IP, TARGET_IP = "192.0.2.1", "192.0.2.2"
HERE = os.path.dirname(os.path.abspath(__file__))


def eth():
    """The lab's Ethernet header, peer to target."""
    return Ether(src=PEER_MAC, dst=TARGET_MAC)


def ip(**kw):
    """An IPv4 header from the peer to the target, DF set, TTL 64."""
    fields = dict(src=PEER_IP, dst=TARGET_IP, id=0x1c46, flags="DF", ttl=64)
    fields.update(kw)
    return IP(**fields)


def echo(payload=b"tcpip-book"):
    """An ICMP echo request with a fixed identifier and sequence number."""
    return ICMP(type=8, id=0x1234, seq=1) / Raw(payload)


def ip_options():
    """Record Route with room for one address, a NOP, Router Alert: 12 bytes, IHL 8."""
    return [IPOption_RR(routers=["0.0.0.0"]), IPOption_NOP(), IPOption_Router_Alert()]


def ip_cksum(header):
    """RFC 1071 over header bytes (a second, plain implementation)."""
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def with_ip_cksum(frame, ihl_bytes):
    """Recomputes the IPv4 header checksum of a raw frame after a field was bent."""
    frame = bytearray(frame)
    frame[24:26] = b"\0\0"
    frame[24:26] = struct.pack("!H", ip_cksum(bytes(frame[14:14 + ihl_bytes])))
    return bytes(frame)


def bend(frame, offset, data, ihl_bytes=20, fix_cksum=True):
    """Overwrites frame[offset:] with data and, by default, re-signs the IP header."""
    frame = bytearray(frame)
    frame[offset:offset + len(data)] = data
    return with_ip_cksum(frame, ihl_bytes) if fix_cksum else bytes(frame)


class Vec:
    """One frame vector: a block of the .vec format (testvectors/README.md)."""

    def __init__(self, name, rfc, frame, verdict, linux, note=None, fields=None, answer=None,
                 linux_answer=None, linux_differs=None):
        self.name, self.rfc, self.frame, self.verdict = name, rfc, bytes(frame), verdict
        self.linux, self.note, self.fields = linux, note, fields
        self.answer, self.linux_answer, self.linux_differs = answer, linux_answer, linux_differs

    def text(self):
        """The block, hex in rows of 16 bytes."""
        hexrows = [self.frame[i:i + 16].hex(" ") for i in range(0, len(self.frame), 16)]
        lines = [f"vector: {self.name}", f"rfc: {self.rfc}",
                 "frame: " + ("\n       ".join(hexrows) if hexrows else "")]
        lines.append(f"verdict: {self.verdict}")
        if self.fields:
            lines.append(f"fields: {self.fields}")
        if self.answer:
            lines.append(f"answer: {self.answer}")
        lines.append(f"linux: {self.linux}")
        if self.linux_answer:
            lines.append(f"linux-answer: {self.linux_answer}")
        if self.linux_differs:
            lines.append(f"linux-differs: {self.linux_differs}")
        if self.note:
            lines.append(f"note: {self.note}")
        return "\n".join(line.rstrip() for line in lines) + "\n"


GOOD_FIELDS = "hdr_len=20 tos=0x00 total_len=38 id=7238 flags=DF offset=0 ttl=64 proto=1 src=192.0.2.1 dst=192.0.2.2"


def ipv4_vectors():
    """One vector per IPv4 validity rule, good packets, and fragments."""
    good = bytes(eth() / ip() / echo())
    opts = bytes(eth() / ip(options=ip_options()) / echo(b"odd"))
    v = []
    v.append(Vec("ipv4-ok-echo", "RFC 791 3.1", good, "ok", "Icmp.InEchos",
                 fields=GOOD_FIELDS))
    v.append(Vec("ipv4-ok-options", "RFC 791 3.1 (options: RR, NOP, Router Alert)", opts, "ok",
                 "Icmp.InEchos",
                 fields="hdr_len=32 tos=0x00 total_len=43 id=7238 flags=DF offset=0 ttl=64 proto=1 src=192.0.2.1 dst=192.0.2.2"))
    v.append(Vec("ipv4-ok-ethernet-padding", "RFC 894 (frames padded to 60 bytes); RFC 791 3.1 total length",
                 good + bytes(60 - len(good)), "ok", "Icmp.InEchos",
                 note="bytes past the total length are link padding, not payload"))
    v.append(Vec("ipv4-ok-tos-ttl1", "RFC 791 3.1", bytes(eth() / ip(tos=0xb8, ttl=1) / echo()), "ok",
                 "Icmp.InEchos", note="TTL 1 is fine for a packet that ends here"))
    v.append(Vec("ipv4-bad-version-6", "RFC 791 3.1 (Version: 4)", bend(good, 14, b"\x65"),
                 "ip4_bad_version", "Ip.InHdrErrors",
                 note="an IPv6 version nibble behind EtherType 0x0800"))
    v.append(Vec("ipv4-bad-version-0", "RFC 791 3.1 (Version: 4)", bend(good, 14, b"\x05"),
                 "ip4_bad_version", "Ip.InHdrErrors"))
    for ihl in (0, 4):
        v.append(Vec(f"ipv4-bad-ihl-{ihl}", "RFC 791 3.1 (IHL: minimum 5)",
                     bend(good, 14, bytes([0x40 | ihl]), fix_cksum=False), "ip4_bad_ihl",
                     "Ip.InHdrErrors"))
    v.append(Vec("ipv4-bad-checksum", "RFC 791 3.1; RFC 1122 3.2.1.2 (MUST verify, MUST discard)",
                 bend(good, 24, b"\xde\xad", fix_cksum=False), "ip4_bad_checksum",
                 "IpExt.InCsumErrors Ip.InHdrErrors"))
    v.append(Vec("ipv4-bad-checksum-in-options", "RFC 791 3.1 (the checksum covers the options)",
                 bend(opts, 14 + 21, b"\x08", fix_cksum=False), "ip4_bad_checksum",
                 "IpExt.InCsumErrors Ip.InHdrErrors",
                 note="an option byte changed after the checksum was computed"))
    v.append(Vec("ipv4-bad-total-length-19", "RFC 791 3.1 (Total Length includes the header)",
                 bend(good, 16, b"\x00\x13"), "ip4_bad_total_length", "Ip.InHdrErrors"))
    v.append(Vec("ipv4-bad-total-length-below-options", "RFC 791 3.1 (Total Length includes the header)",
                 bend(opts, 16, b"\x00\x1c", ihl_bytes=32), "ip4_bad_total_length", "Ip.InHdrErrors",
                 note="total length 28 is less than the 32-byte header"))
    v.append(Vec("ipv4-truncated-total-length-100", "RFC 791 3.1 (Total Length)",
                 bend(good, 16, b"\x00\x64"), "ip4_truncated_packet", "IpExt.InTruncatedPkts"))
    v.append(Vec("ipv4-truncated-total-length-by-one", "RFC 791 3.1 (Total Length)",
                 bend(good, 16, struct.pack("!H", len(good) - 14 + 1)), "ip4_truncated_packet",
                 "IpExt.InTruncatedPkts"))
    v += ipv4_option_vectors(good)
    v += ipv4_fragment_vectors()
    v += ipv4_address_vectors()
    return v


def ipv4_address_vectors():
    """RFC 1122 3.2.1.3's source rule, and a protocol nobody speaks."""
    v = []
    martian = "Linux drops a martian source in routing, without an SNMP counter (rt_cache's in_martian_src)"
    for name, src in (("broadcast", "255.255.255.255"), ("multicast", "224.0.0.1"),
                      ("loopback", "127.0.0.1"), ("zero", "0.0.0.0")):
        v.append(Vec(f"ipv4-bad-source-{name}", "RFC 1122 3.2.1.3 (a host MUST discard)",
                     bytes(eth() / ip(src=src) / echo()), "ip4_bad_source", "none", note=martian,
                     linux_differs=martian))
    v.append(Vec("ipv4-unknown-protocol-253", "RFC 791 3.1 (Protocol); RFC 3692 (253: experiments)",
                 bytes(eth() / ip(proto=253) / Raw(b"experimental")), "ip4_unknown_protocol",
                 "Ip.InUnknownProtos", note="Linux also answers with ICMP protocol unreachable"))
    return v


def ipv4_option_vectors(good):
    """Options whose length is 0, 1, or runs past the header (RFC 791 3.1)."""
    v = []
    base = bytes(eth() / ip(options=[IPOption_NOP()] * 4) / echo())

    def opt(name, opt_bytes, note):
        frame = bend(base, 34, opt_bytes, ihl_bytes=24)
        v.append(Vec(f"ipv4-bad-option-{name}", "RFC 791 3.1 (Options: type, length, data)",
                     frame, "ip4_bad_option", "Ip.InHdrErrors", note=note))

    opt("length-0", b"\x94\x00\x00\x00", "Router Alert with length 0: a parser that trusts it loops forever")
    opt("length-1", b"\x94\x01\x00\x00", "length 1 cannot cover the type and length bytes")
    opt("past-header", b"\x01\x94\x08\x00", "length 8 from byte 1 of a 4-byte options area")
    opt("no-length-byte", b"\x01\x01\x01\x94", "a multi-byte option type as the header's last byte")
    base8 = bytes(eth() / ip(options=[IPOption_NOP()] * 8) / echo())

    def opt8(name, opt_bytes, rfc, note, verdict="ip4_bad_option", linux="Ip.InHdrErrors", differs=None):
        frame = bend(base8, 34, opt_bytes.ljust(8, b"\x01"), ihl_bytes=28)
        v.append(Vec(f"ipv4-{'ok' if verdict == 'ok' else 'bad'}-option-{name}", rfc, frame, verdict, linux,
                     note=note, linux_differs=differs))

    opt8("ra-length-2", b"\x94\x02", "RFC 2113 2.1 (Router Alert: length 4)", "a Router Alert with no value")
    opt8("ra-length-6", b"\x94\x06\x00\x00\x00\x00", "RFC 2113 2.1 (Router Alert: length 4)",
         "a Router Alert of 6 bytes", linux="Icmp.InEchos",
         differs="Linux refuses a Router Alert shorter than 4 bytes but accepts a longer one; "
                 "RFC 2113 fixes the length at 4, and so do we")
    opt8("rr-pointer-3", b"\x07\x07\x03" + bytes(4), "RFC 791 3.1 (Record Route: pointer at least 4)",
         "the pointer would point at the option's own length byte")
    opt8("rr-no-room", b"\x07\x06\x04" + bytes(3), "RFC 791 3.1 (Record Route: 4-byte entries)",
         "pointer 4 in a 6-byte option: the next address would run past it")
    opt8("ts-pointer-4", b"\x44\x08\x04\x00" + bytes(4), "RFC 791 3.1 (Timestamp: pointer at least 5)",
         "a Timestamp pointing into its own header")
    opt8("ts-length-3", b"\x44\x03\x05", "RFC 791 3.1 (Timestamp: at least 4 bytes)",
         "a Timestamp too short for its pointer and flags")
    opt8("ts-full", b"\x44\x08\x09\x00" + bytes(4), "RFC 791 3.1 (Timestamp: a full area is legal)",
         "pointer past the end: the area is full, and the option is well formed", verdict="ok",
         linux="Icmp.InEchos")
    rr = b"\x07\x07\x04" + bytes(4)
    frame = bend(bytes(eth() / ip(options=[IPOption_NOP()] * 16) / echo()), 34, (rr + rr).ljust(16, b"\x01"),
                 ihl_bytes=36)
    v.append(Vec("ipv4-bad-option-rr-twice", "RFC 791 3.1 (Record Route: once per datagram)", frame,
                 "ip4_bad_option", "Ip.InHdrErrors", note="two Record Route options"))
    return v


def ipv4_fragment_vectors():
    """Fragments: well-formed, noted, not reassembled (RFC 791 2.3, 3.2)."""
    first = bytes(eth() / ip(flags="MF", id=0x4242) / Raw(bytes(range(48))))
    last = bytes(eth() / ip(flags=0, frag=185, id=0x4243, proto=1) / Raw(b"tail"))
    return [
        Vec("ipv4-fragment-first", "RFC 791 2.3 (MF set, offset 0)", first, "ip4_fragment",
            "Ip.ReasmReqds", note="this stack does not reassemble; Linux queues it (and times it out in 30 s)"),
        Vec("ipv4-fragment-last", "RFC 791 2.3 (MF clear, offset 1480)", last, "ip4_fragment",
            "Ip.ReasmReqds"),
    ]


def truncation_vectors():
    """The options packet cut at every byte of its IPv4 packet."""
    opts = bytes(eth() / ip(options=ip_options()) / echo(b"odd"))
    packet = opts[14:]
    v = []
    for cut in range(len(packet)):
        if cut < 20:
            verdict, linux = "ip4_truncated_header", "Ip.InHdrErrors"
        elif cut < 32:
            verdict, linux = "ip4_truncated_options", "Ip.InHdrErrors"
        else:
            verdict, linux = "ip4_truncated_packet", "IpExt.InTruncatedPkts"
        v.append(Vec(f"ipv4-cut-at-{cut}", "RFC 791 3.1", opts[:14 + cut], verdict, linux,
                     note=f"the 43-byte packet with a 32-byte header, cut to {cut} bytes"))
    for cut in range(14):
        v.append(Vec(f"eth-cut-at-{cut}", "RFC 894", opts[:cut], "eth_truncated",
                     "n/a: a packet socket cannot send a frame shorter than its 14-byte header"))
    ipv6 = bytes(eth() / IPv6(src="2001:db8::1", dst="2001:db8::2") / Raw(b"v6"))
    v.append(Vec("eth-not-ipv4-ipv6", "RFC 894; RFC 2464", ipv6, "eth_unknown_type", "none",
                 note="an IPv6 packet: this stack speaks IPv4 only (IPv6 is off on the lab's links)"))
    return v


def udp_cksum_ffff():
    """A datagram whose checksum computes to 0, which RFC 768 sends as 0xFFFF."""
    pkt = eth() / ip(proto=17) / UDP(sport=40000, dport=9, chksum=0xFFFF) / Raw(b"\0\0ab")
    frame = bytearray(bytes(pkt))
    # Choose the first payload word so that the checksum comes out 0: sum the
    # pseudo-header and datagram with that word 0 and the field 0.
    udp = bytearray(frame[34:])
    udp[6:8] = b"\0\0"
    pseudo = bytes(frame[26:34]) + struct.pack("!BBH", 0, 17, len(udp))
    free = ip_cksum(pseudo + bytes(udp))  # ~sum: the word that makes the sum 0xFFFF
    udp[8:10] = struct.pack("!H", free)
    udp[6:8] = b"\xff\xff"
    assert ip_cksum(pseudo + bytes(udp)) == 0
    return bytes(frame[:34]) + bytes(udp)


def l4_vectors():
    """Transport checksums and lengths (chapter 3)."""
    icmp = bytes(eth() / ip() / echo())
    udp = bytes(eth() / ip() / UDP(sport=40000, dport=9) / Raw(b"hello"))
    tcp = bytes(eth() / ip() / TCP(sport=40000, dport=80, flags="S", seq=1000, window=64240))
    tcp_odd = bytes(eth() / ip() / TCP(sport=40000, dport=80, flags="S", seq=1000) / Raw(b"x"))
    v = [
        Vec("icmp-ok-echo", "RFC 792 (Echo)", icmp, "ok", "Icmp.InEchos"),
        Vec("icmp-ok-odd-payload", "RFC 792; RFC 1071 (odd byte padded with zero)",
            bytes(eth() / ip() / echo(b"odd")), "ok", "Icmp.InEchos"),
        Vec("icmp-bad-checksum", "RFC 792 (Checksum); RFC 1122 3.2.2", bend(icmp, 36, b"\x00\x00", fix_cksum=False),
            "icmp_bad_checksum", "Icmp.InCsumErrors Icmp.InErrors"),
        Vec("icmp-truncated", "RFC 792 (8-byte header)",
            bend(icmp[:14 + 20] + b"\x08\x00\xf7\xff", 16, b"\x00\x18"), "icmp_truncated", "Icmp.InErrors",
            note="4 ICMP bytes whose own checksum is right, in a 24-byte IPv4 packet"),
        Vec("udp-ok", "RFC 768", udp, "ok", "Udp.NoPorts"),
        Vec("udp-ok-no-checksum", "RFC 768; RFC 1122 4.1.3.4 (0: no checksum)",
            bend(udp, 40, b"\x00\x00", fix_cksum=False), "ok", "Udp.NoPorts"),
        Vec("udp-ok-checksum-ffff", "RFC 768 (a computed 0 is sent as all ones)", udp_cksum_ffff(), "ok",
            "Udp.NoPorts"),
        Vec("udp-bad-checksum", "RFC 768; RFC 1122 4.1.3.4", bend(udp, 40, b"\x12\x34", fix_cksum=False),
            "udp_bad_checksum", "Udp.InCsumErrors Udp.InErrors"),
        Vec("udp-truncated", "RFC 768 (8-byte header)",
            bend(udp[:14 + 20 + 4], 16, b"\x00\x18"), "udp_truncated", "Udp.InErrors",
            note="the first 4 bytes of a UDP header in a 24-byte IPv4 packet"),
        Vec("udp-bad-length-7", "RFC 768 (Length: at least 8)", bend(udp, 38, b"\x00\x07", fix_cksum=False),
            "udp_bad_length", "Udp.InErrors"),
        Vec("udp-bad-length-past-packet", "RFC 768 (Length)", bend(udp, 38, b"\x00\x20", fix_cksum=False),
            "udp_bad_length", "Udp.InErrors"),
        Vec("tcp-ok-syn", "RFC 9293 3.1", tcp, "ok", "Tcp.InSegs Tcp.OutRsts",
            note="port 80 is closed on both targets: Linux answers with a reset"),
        Vec("tcp-ok-odd-length", "RFC 9293 3.1 (odd segment padded with zero for the sum)", tcp_odd, "ok",
            "Tcp.InSegs Tcp.OutRsts"),
        Vec("tcp-bad-checksum", "RFC 9293 3.1 (MUST-2, MUST-3)", bend(tcp, 50, b"\x00\x01", fix_cksum=False),
            "tcp_bad_checksum", "Tcp.InCsumErrors Tcp.InErrs"),
        Vec("tcp-truncated", "RFC 9293 3.1 (20-byte minimum header)", truncated_tcp(tcp),
            "tcp_truncated", "Tcp.InSegs",
            linux_differs="Linux drops a segment shorter than 20 bytes without an error counter "
                          "(tcp_v4_rcv: discard_it); we name it"),
    ]
    return v


ZERO_MAC = "00:00:00:00:00:00"
BCAST = "ff:ff:ff:ff:ff:ff"


def arp(op=1, psrc=PEER_IP, pdst=TARGET_IP, hwsrc=PEER_MAC, hwdst=ZERO_MAC, dst=BCAST, **kw):
    """An Ethernet+ARP frame from the peer's MAC (scapy's ARP, any field bent by kw)."""
    return bytes(Ether(src=PEER_MAC, dst=dst) /
                 ARP(op=op, psrc=psrc, pdst=pdst, hwsrc=hwsrc, hwdst=hwdst, **kw))


def patch(frame, offset, data):
    """frame with data written at offset (no checksum to fix in ARP)."""
    return frame[:offset] + data + frame[offset + len(data):]


def arp_vectors():
    """Chapter 4: RFC 826's reception rules, and what a host answers."""
    rfc = "RFC 826 (Packet Reception)"
    none = "none"
    v = [
        Vec("arp-request", rfc, arp(), "ok", none, answer="arp-reply"),
        Vec("arp-request-unicast", rfc, arp(dst=TARGET_MAC), "ok", none, answer="arp-reply",
            note="a request sent to our MAC, as a neighbour checks a cached entry"),
        Vec("arp-request-padded", "RFC 826; RFC 894 (60-byte minimum frame)", arp() + bytes(18), "ok", none,
            answer="arp-reply"),
        Vec("arp-probe", "RFC 5227 2.1.1 (sender address 0.0.0.0)", arp(psrc="0.0.0.0"), "ok", none,
            answer="arp-reply", note="a probe for our address is answered; 0.0.0.0 is never learned"),
        Vec("arp-reply-to-us", rfc, arp(op=2, dst=TARGET_MAC, hwdst=TARGET_MAC), "ok", none, answer="none",
            note="an unsolicited reply: we learn the sender (RFC 826 adds it: we are the target); "
                 "Linux does not create an entry from it (arp_accept=0)"),
        Vec("arp-gratuitous-request", "RFC 5227 2.3 (announcement)", arp(pdst=PEER_IP), "arp_not_for_us", none,
            answer="none", note="updates a neighbour we know; adds none"),
        Vec("arp-gratuitous-reply", "RFC 5227 2.3, 3 (a reply as announcement)", arp(op=2, pdst=PEER_IP, hwdst=BCAST), "arp_not_for_us", none,
            answer="none"),
        Vec("arp-request-for-another", rfc, arp(pdst="192.0.2.3"), "arp_not_for_us", none, answer="none"),
        Vec("arp-bad-htype-ieee802", rfc, patch(arp(), 14, b"\x00\x06"), "arp_bad_htype", none, answer="none",
            linux_answer="arp-reply",
            note="hardware type 6 (IEEE 802): Linux treats it as Ethernet (arp_process accepts "
                 "ARPHRD_IEEE802) and answers; RFC 826 says to discard a hardware type we do not speak"),
        Vec("arp-bad-htype-7", rfc, patch(arp(), 14, b"\x00\x07"), "arp_bad_htype", none, answer="none"),
        Vec("arp-bad-ptype", rfc, patch(arp(), 16, b"\x86\xdd"), "arp_bad_ptype", none, answer="none"),
        Vec("arp-bad-hlen", "RFC 826 (Packet format: ar$hln)", patch(arp(), 18, b"\x05"), "arp_bad_length",
            none, answer="none"),
        Vec("arp-bad-plen", "RFC 826 (Packet format: ar$pln)", patch(arp(), 19, b"\x10"), "arp_bad_length",
            none, answer="none"),
        Vec("arp-bad-op-rarp", "RFC 826; RFC 903 (opcode 3, RARP)", patch(arp(), 20, b"\x00\x03"),
            "arp_bad_op", none, answer="none"),
    ]
    whole = arp()
    for cut in range(14, 14 + 28):
        v.append(Vec(f"arp-cut-at-{cut - 14}", "RFC 826 (28-byte packet)", whole[:cut], "arp_truncated",
                     none, answer="none", note=f"an ARP request cut to {cut - 14} of its 28 bytes"))
    return v


def echo_req(dst=TARGET_IP, eth_dst=TARGET_MAC, payload=b"tcpip-book echo", code=0, itype=8, ip_kw=None,
             icmp_kw=None):
    """An echo request (or another ICMP type) from the peer."""
    return bytes(Ether(src=PEER_MAC, dst=eth_dst) / ip(dst=dst, **(ip_kw or {})) /
                 ICMP(type=itype, code=code, id=0x4242, seq=7, **(icmp_kw or {})) / Raw(payload))


def icmp_vectors():
    """Chapter 5: echo (RFC 792), and what a host does with the rest."""
    rfc = "RFC 792 (Echo or Echo Reply Message)"
    ok = "Icmp.InEchos Icmp.OutEchoReps"
    bad = bytearray(echo_req())
    bad[36:38] = b"\x00\x00"
    v = [
        Vec("echo", rfc, echo_req(), "ok", ok, answer="echo-reply"),
        Vec("echo-no-data", rfc, echo_req(payload=b""), "ok", ok, answer="echo-reply"),
        Vec("echo-odd-data", rfc + "; RFC 1071 (odd length)", echo_req(payload=bytes(range(33))), "ok", ok,
            answer="echo-reply"),
        Vec("echo-1400", rfc, echo_req(payload=bytes(i & 0xFF for i in range(1400))), "ok", ok,
            answer="echo-reply"),
        Vec("echo-mtu", rfc + "; RFC 894 (1500-byte MTU)", echo_req(payload=bytes(1472)), "ok", ok,
            answer="echo-reply", note="the largest echo that fits an unfragmented 1500-byte packet"),
        Vec("echo-code-1", rfc + " (Code 0)", echo_req(code=1), "ok", ok, answer="echo-reply",
            note="RFC 792 says code 0; Linux answers any code, and so do we"),
        Vec("echo-ttl-1", rfc, echo_req(ip_kw={"ttl": 1}), "ok", ok, answer="echo-reply"),
        Vec("echo-with-options", rfc + "; RFC 1122 3.2.2.6 (options SHOULD be reflected)",
            echo_req(ip_kw={"options": [IPOption_RR(routers=["0.0.0.0"]), IPOption_NOP()]}), "ok", ok,
            answer="echo-reply",
            note="Linux copies the Record Route option into its reply; we reply without options"),
        Vec("echo-bad-checksum", "RFC 792 (Checksum); RFC 1122 3.2.2", bytes(bad), "icmp_bad_checksum",
            "Icmp.InCsumErrors Icmp.InErrors", answer="none"),
        Vec("echo-to-another-mac", "RFC 894; RFC 1122 2.4 (frames for other stations)",
            echo_req(eth_dst="02:00:00:00:00:03"), "eth_not_for_us", "none", answer="none",
            note="Linux drops a frame for another station before IP (PACKET_OTHERHOST)"),
        Vec("echo-to-another-address", "RFC 1122 3.2.1.3", echo_req(dst="192.0.2.3"), "ip4_not_for_us",
            "Ip.InAddrErrors", answer="none", note="Linux, not forwarding, counts it as an address error"),
        Vec("echo-subnet-broadcast", "RFC 1122 3.2.2.6 (MAY ignore)", echo_req(dst="192.0.2.255", eth_dst=BCAST),
            "icmp_echo_broadcast", "Icmp.InErrors", answer="none",
            note="Linux ignores broadcast echo by default (icmp_echo_ignore_broadcasts=1), counting an input error"),
        Vec("echo-limited-broadcast", "RFC 1122 3.2.2.6", echo_req(dst="255.255.255.255", eth_dst=BCAST),
            "icmp_echo_broadcast", "Icmp.InErrors", answer="none"),
        Vec("echo-fragment", "RFC 791 2.3", echo_req(ip_kw={"flags": "MF", "id": 0x5151}), "ip4_fragment",
            "Ip.ReasmReqds", answer="none", note="we do not reassemble; Linux waits for the rest"),
        Vec("icmp-echo-reply-unsolicited", rfc, echo_req(itype=0), "ok", "Icmp.InEchoReps", answer="none",
            note="accepted and ignored: no ping client is waiting"),
        Vec("icmp-timestamp-request", "RFC 792 (Timestamp); RFC 1122 3.2.2.8 (MAY)",
            echo_req(itype=13, payload=b"", icmp_kw={"ts_ori": 0, "ts_rx": 0, "ts_tx": 0}), "icmp_unknown_type", "Icmp.InTimestamps", answer="none",
            linux_answer="timestamp-reply", note="Linux answers timestamp requests; we do not implement them"),
        Vec("icmp-unknown-type-99", "RFC 792; RFC 1122 3.2.2 (unknown types silently discarded)",
            echo_req(itype=99), "icmp_unknown_type", "Icmp.InErrors", answer="none",
            note="Linux counts a type beyond its table as an input error"),
    ]
    return v


CLOSED_PORT = 81  # closed on both targets: every answer is RFC 9293 3.10.7.1's


def tcp_seg(flags="S", seq=1000, ack=0, options=(("MSS", 1460),), payload=b"", dport=CLOSED_PORT,
            **ip_kw):
    """A TCP segment from the peer's port 40000 to the target, whole frame."""
    seg = TCP(sport=40000, dport=dport, flags=flags, seq=seq, ack=ack, window=64240,
              options=list(options))
    return bytes(eth() / ip(**ip_kw) / seg / Raw(payload)) if payload else bytes(eth() / ip(**ip_kw) / seg)


def tcp_raw_options(opt_bytes, flags="S"):
    """A SYN whose options are opt_bytes verbatim (a multiple of 4 bytes),
    checksum right, so only the option rule can be broken."""
    seg = TCP(sport=40000, dport=CLOSED_PORT, flags=flags, seq=1000, window=64240,
              dataofs=5 + len(opt_bytes) // 4) / Raw(opt_bytes)
    frame = bytearray(bytes(eth() / ip() / seg))
    frame[50:52] = b"\0\0"
    frame[50:52] = struct.pack("!H", tcp_cksum(frame))
    return bytes(frame)


def tcp_cksum(frame):
    """The TCP checksum of a raw frame (20-byte IPv4 header), over the
    pseudo-header and the segment the IPv4 total length gives."""
    total_len = struct.unpack("!H", frame[16:18])[0]
    seg = bytes(frame[34:14 + total_len])
    pseudo = bytes(frame[26:34]) + struct.pack("!BBH", 0, 6, len(seg))
    data = pseudo + seg + (b"\0" if len(seg) % 2 else b"")
    return ip_cksum(data)


def tcp_bent(frame, offset, data):
    """frame with data written at offset, both checksums made right again."""
    frame = bytearray(bend(frame, offset, data))
    frame[50:52] = b"\0\0"
    frame[50:52] = struct.pack("!H", tcp_cksum(frame))
    return bytes(frame)


def tcp_cut(frame, tcp_len):
    """The segment cut to its first tcp_len bytes, IPv4 total length to match."""
    cut = bytearray(frame[:34 + tcp_len])
    cut[16:18] = struct.pack("!H", 20 + tcp_len)
    return with_ip_cksum(cut, 20)


TCP_RST_NOTE = "Linux sends the same reset (tcp_v4_send_reset)"
LINUX_IGNORES_OPTIONS = ("Linux stops reading options at a bad length and takes the segment "
                         "(tcp_parse_options); it answers the SYN with a reset")


def tcp_vectors():
    """TCP header and option rules, and the reset a closed port owes (chapter 6)."""
    rfc_closed = "RFC 9293 3.10.7.1 (CLOSED: the reset's SEQ and ACK)"
    rfc_opt = "RFC 9293 3.1 (Options), MUST-7"
    full_opts = (("MSS", 1460), ("NOP", None), ("WScale", 7), ("SAckOK", b""),
                 ("Timestamp", (100, 0)))
    full = tcp_seg(options=full_opts)
    rst = ("tcp-rst", "Tcp.InSegs Tcp.OutRsts")
    v = [
        Vec("tcp-syn-closed-port", rfc_closed + "; <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>",
            tcp_seg(), "ok", rst[1], answer=rst[0], linux_answer=rst[0], note=TCP_RST_NOTE),
        Vec("tcp-syn-ip-options-closed-port",
            "RFC 9293 3.9.2 (MUST-50: IP options TCP does not use are ignored); " + rfc_closed,
            bytes(eth() / ip(options=ip_options()) / TCP(sport=40000, dport=CLOSED_PORT, flags="S",
                                                        seq=1000, window=64240,
                                                        options=[("MSS", 1460)])),
            "ok", rst[1], answer=rst[0], linux_answer=rst[0]),
        Vec("tcp-ack-closed-port", rfc_closed + "; <SEQ=SEG.ACK><CTL=RST>",
            tcp_seg(flags="A", ack=5000, options=()), "ok", rst[1], answer=rst[0], linux_answer=rst[0]),
        Vec("tcp-rst-closed-port", rfc_closed + " (a RST is never answered)",
            tcp_seg(flags="R", options=()), "ok", "Tcp.InSegs", answer="none", linux_answer="none"),
        Vec("tcp-syn-fin-data-closed-port", rfc_closed + " (SEG.LEN counts SYN, text and FIN)",
            tcp_seg(flags="SF", payload=b"hello"), "ok", rst[1], answer=rst[0], linux_answer=rst[0]),
        Vec("tcp-fin-data-closed-port", rfc_closed + " (no ACK bit: ACK = SEQ + text + FIN)",
            tcp_seg(flags="F", options=(), payload=b"bye"), "ok", rst[1], answer=rst[0],
            linux_answer=rst[0]),
        Vec("tcp-ok-every-option", "RFC 9293 3.2; RFC 7323; RFC 2018 (MSS, NOP, WS, SACK-permitted, TS)",
            full, "ok", rst[1], answer=rst[0], linux_answer=rst[0]),
        Vec("tcp-ok-unknown-option", "RFC 9293 3.1, MUST-6 (an unknown kind is skipped by its length)",
            tcp_raw_options(bytes([99, 6, 1, 2, 3, 4, 2, 4, 5, 0xb4, 1, 1])), "ok", rst[1],
            answer=rst[0], linux_answer=rst[0]),
        Vec("tcp-ok-mss-wrong-length", "RFC 9293 3.1 (a known kind of the wrong length is ignored, as Linux does)",
            tcp_raw_options(bytes([2, 3, 5, 1])), "ok", rst[1], answer=rst[0], linux_answer=rst[0]),
        Vec("tcp-ok-eol-then-junk", "RFC 9293 3.1 (End of Option List: the rest is padding)",
            tcp_raw_options(bytes([2, 4, 5, 0xb4, 0, 0xff, 0x00, 0xee])), "ok", rst[1], answer=rst[0],
            linux_answer=rst[0]),
        Vec("tcp-bad-option-length-0", rfc_opt, tcp_raw_options(bytes([2, 0, 5, 0xb4])), "tcp_bad_option",
            rst[1], answer="none", linux_answer=rst[0], linux_differs=LINUX_IGNORES_OPTIONS),
        Vec("tcp-bad-option-length-1", rfc_opt, tcp_raw_options(bytes([99, 1, 1, 1])), "tcp_bad_option",
            rst[1], answer="none", linux_answer=rst[0], linux_differs=LINUX_IGNORES_OPTIONS),
        Vec("tcp-bad-option-past-header", rfc_opt, tcp_raw_options(bytes([1, 1, 2, 8])), "tcp_bad_option",
            rst[1], answer="none", linux_answer=rst[0], linux_differs=LINUX_IGNORES_OPTIONS),
        Vec("tcp-bad-option-no-length-byte", rfc_opt, tcp_raw_options(bytes([1, 1, 1, 3])), "tcp_bad_option",
            rst[1], answer="none", linux_answer=rst[0], linux_differs=LINUX_IGNORES_OPTIONS),
        Vec("tcp-bad-offset-4", "RFC 9293 3.1 (Data Offset: at least 5)", tcp_bent(tcp_seg(options=()), 46, b"\x40"),
            "tcp_bad_offset", "Tcp.InSegs Tcp.InErrs", answer="none", linux_answer="none"),
        Vec("tcp-bad-offset-0", "RFC 9293 3.1 (Data Offset: at least 5)", tcp_bent(tcp_seg(options=()), 46, b"\x00"),
            "tcp_bad_offset", "Tcp.InSegs Tcp.InErrs", answer="none", linux_answer="none"),
        Vec("tcp-truncated-options", "RFC 9293 3.1 (Data Offset runs past the segment)",
            tcp_bent(tcp_seg(), 46, b"\xf0"), "tcp_truncated_options", "Tcp.InSegs", answer="none",
            linux_answer="none",
            linux_differs="Linux drops a header longer than the segment without an error counter "
                          "(tcp_v4_rcv: discard_it); we name it"),
        Vec("tcp-syn-to-broadcast", "RFC 9293 MUST-57; RFC 1122 4.2.3.10 (no connection from a broadcast SYN)",
            bytes(Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff") / ip(dst="192.0.2.255") /
                  TCP(sport=40000, dport=CLOSED_PORT, flags="S", seq=1000)),
            "tcp_broadcast", "IpExt.InBcastPkts", answer="none", linux_answer="none",
            note="Linux drops it before TCP counts it (tcp_v4_rcv: not PACKET_HOST)"),
    ]
    for cut in range(len(full) - 34):
        verdict = "tcp_truncated" if cut < 20 else "tcp_truncated_options"
        v.append(Vec(f"tcp-cut-at-{cut}", "RFC 9293 3.1 (the header, with options, cut at every byte)",
                     tcp_cut(full, cut), verdict, "Tcp.InSegs", answer="none", linux_answer="none",
                     linux_differs="Linux drops a cut header without an error counter "
                                   "(tcp_v4_rcv: discard_it); we name it"))
    return v


ICMP_RFC = "RFC 9293 3.9.2.2 (MUST-54: to the connection the quoted segment belongs to)"
ICMP_TYPES = {(3, 1): ("InDestUnreachs", "host-unreachable"), (3, 3): ("InDestUnreachs", "port-unreachable"),
              (11, 0): ("InTimeExcds", "time-exceeded"), (12, 0): ("InParmProbs", "parameter-problem")}


def our_segment_head(ihl_words=5, src=TARGET_IP, proto=6):
    """What an ICMP error quotes of a segment we sent, 192.0.2.2:8080 to
    192.0.2.1:40000 (seq 1000): its IPv4 header and first 8 bytes."""
    options = [IPOption_NOP()] * ((ihl_words - 5) * 4)
    head = bytes(IP(src=src, dst=PEER_IP, id=0x2a2a, flags="DF", ttl=64, proto=proto, options=options) /
                 TCP(sport=8080, dport=40000, flags="S", seq=1000, window=64240))
    return head[:ihl_words * 4 + 8]


def icmp_error(itype, code, quote):
    """A frame from the peer: ICMP error (itype, code), unused word 0, then quote."""
    return bytes(eth() / ip(flags=0) / ICMP(type=itype, code=code, id=0, seq=0) / Raw(quote))


def tcp_icmp_vectors():
    """ICMP errors about TCP segments (chapter 7): each kind goes to TCP, which
    finds no connection here; a source quench is discarded; the quote is
    checked, and cut at every byte."""
    head = our_segment_head()
    bent_version = bytes([0x65]) + head[1:]
    bent_ihl = bytes([0x44]) + head[1:]
    unreach = "Icmp.InDestUnreachs Icmp.InErrors"
    no_socket = ("Linux counts an error about a segment of no socket as an ICMP input error "
                 "(tcp_v4_err); we name why it was ignored")
    v = [Vec(f"tcp-icmp-{name}-no-connection", ICMP_RFC, icmp_error(t, c, head), "tcp_icmp_no_connection",
             f"Icmp.{counter} Icmp.InErrors", answer="none", linux_answer="none",
             linux_differs=no_socket)
         for (t, c), (counter, name) in ICMP_TYPES.items()]
    v += [
        Vec("tcp-icmp-source-quench", "RFC 9293 3.9.2.2 (MUST-55: silently discard); RFC 6633",
            icmp_error(4, 0, head), "icmp_source_quench", "Icmp.InSrcQuenchs Icmp.InErrors",
            answer="none", linux_answer="none",
            note="Linux discards it too (icmp_discard), and counts it as an input error"),
        Vec("tcp-icmp-quote-with-options", ICMP_RFC + " (the quoted header's options are skipped by IHL)",
            icmp_error(3, 1, our_segment_head(ihl_words=6)), "tcp_icmp_no_connection", unreach,
            answer="none", linux_answer="none", linux_differs=no_socket),
        Vec("tcp-icmp-quote-udp", "RFC 1122 3.2.2 (to the quoted protocol: UDP keeps no state to tell)",
            icmp_error(3, 3, our_segment_head(proto=17)), "ok", unreach, answer="none", linux_answer="none",
            linux_differs="Linux's UDP finds no socket for it and counts an ICMP input error "
                          "(__udp4_lib_err); we keep no UDP state to tell"),
        Vec("tcp-icmp-quote-not-ours", "RFC 1122 3.2.2 (about a datagram we sent)",
            icmp_error(3, 1, our_segment_head(src="192.0.2.3")), "icmp_error_not_ours", unreach,
            answer="none", linux_answer="none", linux_differs=no_socket),
        Vec("tcp-icmp-quote-version-6", "RFC 792 (the quote is the datagram's IPv4 header)",
            icmp_error(3, 1, bent_version), "icmp_error_bad_quote", unreach, answer="none",
            linux_answer="none"),
        Vec("tcp-icmp-quote-ihl-4", "RFC 792; RFC 791 3.1 (IHL at least 5)",
            icmp_error(3, 1, bent_ihl), "icmp_error_bad_quote", unreach, answer="none",
            linux_answer="none"),
    ]
    for cut in range(len(head)):
        v.append(Vec(f"tcp-icmp-quote-cut-at-{cut}",
                     "RFC 792 (the IPv4 header and 64 bits of data, cut at every byte)",
                     icmp_error(3, 1, head[:cut]), "icmp_error_truncated", unreach, answer="none",
                     linux_answer="none"))
    with_options = our_segment_head(ihl_words=6)
    for cut in range(20, len(with_options)):
        v.append(Vec(f"tcp-icmp-quote-options-cut-at-{cut}",
                     "RFC 792 (IHL 6: the options and 64 bits of data, cut at every byte)",
                     icmp_error(3, 1, with_options[:cut]), "icmp_error_truncated", unreach,
                     answer="none", linux_answer="none"))
    return v


def truncated_tcp(tcp):
    """The SYN's first 12 TCP bytes, with the IPv4 total length fixed to match."""
    frame = bytearray(tcp[:14 + 20 + 12])
    frame[16:18] = struct.pack("!H", 32)
    return with_ip_cksum(frame, 20)


def write(out_dir, name, header, vectors):
    """Writes one .vec file into out_dir."""
    path = os.path.join(out_dir, name)
    body = header + "\n" + "\n".join(v.text() for v in vectors)
    with open(path, "w") as out:
        out.write(body)
    return path


HEADER = """# {title}
# Written by testvectors/gen_frames.py; the format is in testvectors/README.md.
# Every frame is a whole Ethernet frame from the peer (02:00:00:00:00:01,
# 192.0.2.1) to the target (02:00:00:00:00:02, 192.0.2.2).
"""


def main():
    """Writes every frame vector file (into testvectors/frames, or the
    directory after --out); prints their names and counts."""
    out_dir = sys.argv[2] if sys.argv[1:2] == ["--out"] else os.path.join(HERE, "frames")
    os.makedirs(out_dir, exist_ok=True)
    files = {
        "ipv4.vec": ("IPv4 header rules (chapter 2)", ipv4_vectors()),
        "truncation.vec": ("Every truncation of a frame with IPv4 options (chapter 2)", truncation_vectors()),
        "l4.vec": ("ICMP, UDP and TCP checksums and lengths (chapter 3)", l4_vectors()),
        "arp.vec": ("ARP: RFC 826's rules and a host's answers (chapter 4)", arp_vectors()),
        "icmp.vec": ("ICMP echo and a host's answers (chapter 5)", icmp_vectors()),
        "tcp.vec": ("TCP header and option rules, and a closed port's resets (chapter 6); ICMP errors "
                    "about TCP segments (chapter 7)", tcp_vectors() + tcp_icmp_vectors()),
    }
    for name, (title, vectors) in files.items():
        write(out_dir, name, HEADER.format(title=title), vectors)
        print(f"{name}: {len(vectors)} vectors")


if __name__ == "__main__":
    sys.exit(main())
