"""Chapter 3, checksums: cksumcheck on crafted frames (beside scapy's own
arithmetic) and on live traffic from real Linux tools, and the same frames
against the Linux kernel's counters."""
import re

import pytest
from scapy.all import ICMP, IP, TCP, UDP, Ether

from conftest import Running, assert_linux_agrees, program, start_lab
from labaddr import TARGET_IP, TARGET_MAC
from verdicts import ours_verdicts, verdict_of_line
from vectors import frame_vectors

L4 = frame_vectors("l4.vec")
IP_CKSUM = [v for v in frame_vectors("ipv4.vec") if v.verdict in ("ok", "ip4_bad_checksum")]
VECTORS = L4 + IP_CKSUM


@pytest.fixture(scope="module")
def ours_lines(ours):
    """Sends each vector once to cksumcheck; returns {name: line}."""
    lab, wire = ours
    return ours_verdicts(lab, wire, [program("cksumcheck"), "-i", "target0"], VECTORS)[0]


def right_checksum(frame, layer):
    """The checksum scapy computes for layer of frame (field cleared first)."""
    pkt = Ether(frame)
    del pkt[layer].chksum
    return Ether(bytes(pkt))[layer].chksum


def test_vectors_cover_every_transport_rule():
    """Each transport drop reason has at least one vector."""
    verdicts = {v.verdict for v in L4}
    for reason in ("icmp_truncated", "icmp_bad_checksum", "udp_truncated", "udp_bad_length",
                   "udp_bad_checksum", "tcp_truncated", "tcp_bad_checksum"):
        assert reason in verdicts, reason


@pytest.mark.parametrize("vec", VECTORS, ids=str)
def test_ours_verdict(ours_lines, vec):
    """cksumcheck says ok or BAD as the vector says, for IPv4 and transport."""
    line = ours_lines[vec.name]
    assert verdict_of_line(line) == vec.verdict, line
    proto = {1: "ICMP", 6: "TCP", 17: "UDP"}[Ether(vec.frame)[IP].proto]
    if vec.verdict == "ip4_bad_checksum":
        assert re.search(r"ip cksum 0x[0-9a-f]{4} BAD, should be 0x[0-9a-f]{4}$", line), line
    elif vec.verdict.endswith("_bad_checksum"):
        assert re.search(rf"ip cksum 0x[0-9a-f]{{4}} ok, {proto} cksum 0x[0-9a-f]{{4}} BAD, should be", line), line
    elif vec.verdict == "ok" and "no-checksum" in vec.name:
        assert line.endswith(f"{proto} cksum 0x0000 none (sender computed no checksum)"), line
    elif vec.verdict == "ok":
        assert re.search(rf"ip cksum 0x[0-9a-f]{{4}} ok, {proto} cksum 0x[0-9a-f]{{4}} ok$", line), line
    else:
        assert line.endswith(f"not checked: {vec.verdict}"), line


@pytest.mark.parametrize("vec", [v for v in VECTORS if "bad_checksum" in v.verdict], ids=str)
def test_ours_should_be_matches_scapy(ours_lines, vec):
    """The "should be" value is what scapy computes for the same bytes."""
    layer = {"ip4": IP, "icmp": ICMP, "udp": UDP, "tcp": TCP}[vec.verdict.split("_")[0]]
    want = right_checksum(vec.frame, layer)
    assert ours_lines[vec.name].endswith(f"should be 0x{want:04x}"), ours_lines[vec.name]


@pytest.mark.parametrize("vec", L4, ids=str)
def test_linux_agrees(linux, vec):
    """Linux moves the counters the vector names and no other error counter."""
    assert_linux_agrees(*linux, vec)


@pytest.fixture(scope="module")
def live():
    """Our cksumcheck on target0, the peer kernel at 192.0.2.1 with a static
    neighbour entry for 192.0.2.2 (our stack answers ARP from chapter 4 on)."""
    lab = start_lab(target="ours", peer="kernel")
    lab.run("peer", ["ip", "neigh", "replace", TARGET_IP, "lladdr", TARGET_MAC,
                     "dev", "peer0", "nud", "permanent"])
    yield lab
    lab.down()


def test_live_tools_checksums_ok(live):
    """ping, a UDP datagram (nc -u) and a TCP connect (nc -z, whose SYN Linux
    may send twice) from the real Linux peer: every checksum verifies."""
    prog = Running(live, [program("cksumcheck"), "-i", "target0", "-t", "30"])
    live.run("peer", ["ping", "-c", "3", "-i", "0.2", "-W", "1", TARGET_IP], check=False)
    live.run("peer", ["sh", "-c", f"echo hello | nc -u -w 1 -q 0 {TARGET_IP} 9"], check=False)
    live.run("peer", ["nc", "-z", "-w", "1", TARGET_IP, "80"], check=False)
    lines = prog.lines(5, timeout=10)
    prog.stop()
    assert all(l.endswith(" ok") for l in lines), lines
    assert sum("ICMP cksum" in l for l in lines) == 3, lines
    assert [("UDP cksum" in l, "TCP cksum" in l) for l in lines[3:5]] == [(True, False), (False, True)], lines


def test_live_offload_shows_partial(live):
    """With tx checksum offload on the peer's veth, Linux leaves the TCP
    checksum to "hardware" and the frame says so (TP_STATUS_CSUMNOTREADY):
    cksumcheck calls it partial, not bad.  The lab turns offload off for this
    reason; this test turns it on for one SYN."""
    live.run("peer", ["ethtool", "-K", "peer0", "tx", "on"])
    try:
        prog = Running(live, [program("cksumcheck"), "-i", "target0", "-c", "1", "-t", "20"])
        live.run("peer", ["nc", "-z", "-w", "1", TARGET_IP, "81"], check=False)
        lines = prog.lines(1, timeout=10)
        prog.stop()
    finally:
        live.run("peer", ["ethtool", "-K", "peer0", "tx", "off"])
    assert lines and "TCP cksum" in lines[0] and "partial (left to offload, not an error)" in lines[0], lines
