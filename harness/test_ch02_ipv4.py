"""Chapter 2, IPv4 parse: every frame vector on a real veth, against our
ipv4parse and against the Linux kernel's counters."""
import re

import pytest
from scapy.all import IP, Ether

from conftest import assert_linux_agrees, program
from verdicts import ours_verdicts, verdict_of_line
from vectors import frame_vectors

VECTORS = frame_vectors("ipv4.vec", "truncation.vec")
SENDABLE = [v for v in VECTORS if len(v.frame) >= 14]  # a packet socket cannot send less


@pytest.fixture(scope="module")
def ours_lines(ours):
    """Sends every sendable vector once; returns ({name: line}, stderr)."""
    lab, wire = ours
    return ours_verdicts(lab, wire, [program("ipv4parse"), "-i", "target0", "-v"], SENDABLE)


def expected_line(vec):
    """A pattern for what ipv4parse prints for vec, from the vector alone."""
    stamp = r"^\d\d:\d\d:\d\d\.\d{6} "
    if vec.verdict == "ok":
        return stamp + r"IPv4 192\.0\.2\.1 > 192\.0\.2\.2: .* ok$"
    if vec.verdict == "ip4_fragment":
        return stamp + r"IPv4 .* ok, fragment \(not reassembled\)$"
    if vec.verdict == "eth_unknown_type":
        return stamp + r"not IPv4: "
    if vec.verdict in ("ip4_bad_source", "ip4_unknown_protocol"):
        return stamp + rf"IPv4 .* ok, then {vec.verdict}$"
    return stamp + rf"IPv4 drop {vec.verdict}: .* \(RFC "


@pytest.mark.parametrize("vec", SENDABLE, ids=str)
def test_ours_names_the_rule(ours_lines, vec):
    """ipv4parse prints the verdict the vector names (RFC 791 3.1)."""
    lines, _ = ours_lines
    assert lines[vec.name] is not None, f"{vec.name}: no line printed"
    assert re.search(expected_line(vec), lines[vec.name]), f"{vec.where}: {lines[vec.name]}"
    assert verdict_of_line(lines[vec.name]) == vec.verdict


@pytest.mark.parametrize("vec", [v for v in SENDABLE if v.verdict in ("ok", "ip4_fragment")], ids=str)
def test_ours_fields_match_scapy(ours_lines, vec):
    """The fields ipv4parse prints equal scapy's dissection of the same bytes."""
    lines, _ = ours_lines
    ip = Ether(vec.frame)[IP]
    flags = {0: "none", 1: "MF", 2: "DF", 3: "DF+MF"}[int(ip.flags)]
    want = (f"IPv4 {ip.src} > {ip.dst}: ihl {ip.ihl} tos 0x{ip.tos:02x} len {ip.len} id {ip.id} "
            f"flags [{flags}] off {ip.frag * 8} ttl {ip.ttl} proto ")
    assert want in lines[vec.name]
    assert f"cksum 0x{ip.chksum:04x} ok" in lines[vec.name]


def test_ours_counts_every_drop(ours_lines):
    """-v's counters at exit add up to the vectors sent, reason by reason."""
    _, stderr = ours_lines
    counts = dict(re.findall(r"(\w+) (\d+)", stderr.split("counters:")[1]))
    for reason in {v.verdict for v in SENDABLE} - {"ok"}:
        want = sum(v.verdict == reason for v in SENDABLE)
        assert int(counts.get(reason, 0)) == want, f"{reason}: counted {counts.get(reason)}, sent {want}"
    assert int(counts["frames_in"]) == len(SENDABLE)


LINUX_VECTORS = [v for v in SENDABLE if v.linux_counters is not None]


@pytest.mark.parametrize("vec", LINUX_VECTORS, ids=str)
def test_linux_agrees(linux, vec):
    """Linux moves exactly the counters the vector names, and no other error
    counter: the class of its verdict matches ours."""
    assert_linux_agrees(*linux, vec)
