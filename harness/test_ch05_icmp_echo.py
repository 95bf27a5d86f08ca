"""Chapter 5, ICMP echo: pingd answers Linux's ping (plain, large, patterned,
flood), resolves the peer before it sends, and answers every echo vector as
Linux does, with Linux's counters beside."""
import re

import pytest
from scapy.all import ARP, ICMP, Ether, rdpcap

from conftest import Running, host_answers, lab_with_wire, program, start_lab
from labaddr import PEER_IP, TARGET_CIDR, TARGET_IP, TARGET_MAC
from verdicts import answer_to, counters_moved, expected_kinds, linux_agreement, read_counters
from vectors import frame_vectors

VECTORS = frame_vectors("icmp.vec")
PINGD = ["-i", "target0", "-a", TARGET_CIDR]


@pytest.fixture(scope="module", params=["ours", "linux"])
def ping_lab(request):
    """The peer's kernel at 192.0.2.1; the target is pingd or Linux."""
    lab = start_lab(target=request.param, peer="kernel")
    prog = Running(lab, [program("pingd")] + PINGD + ["-t", "300"]) if request.param == "ours" else None
    yield lab
    if prog:
        assert prog.stop() == 0, prog.stderr
    lab.down()


def ping(lab, *args, timeout=60):
    """Runs ping in the peer; returns (transmitted, received, output)."""
    run = lab.run("peer", ["ping", *args, TARGET_IP], timeout=timeout, check=False)
    counts = re.search(r"(\d+) packets transmitted, (\d+) received", run.stdout)
    assert counts, run.stdout + run.stderr
    return int(counts.group(1)), int(counts.group(2)), run.stdout + run.stderr


def test_ping_five(ping_lab):
    """ping -c 5: five replies."""
    assert ping(ping_lab, "-c", "5", "-i", "0.2")[:2] == (5, 5)


def test_ping_large(ping_lab):
    """ping -s 1400: 1428-byte packets, every reply."""
    sent, got, out = ping(ping_lab, "-c", "3", "-i", "0.2", "-s", "1400")
    assert (sent, got) == (3, 3) and f"1408 bytes from {TARGET_IP}" in out, out


def test_ping_payload_intact(ping_lab):
    """A patterned payload comes back byte for byte (ping checks it and
    says 'wrong data byte' otherwise)."""
    sent, got, out = ping(ping_lab, "-c", "3", "-i", "0.2", "-s", "301", "-p", "a55a0ff0")
    assert (sent, got) == (3, 3) and "wrong data" not in out, out


def test_ping_flood(ping_lab):
    """ping -f -c 1000: every reply."""
    sent, got, out = ping(ping_lab, "-f", "-c", "1000", "-W", "1", timeout=120)
    print(f"flood: {got}/{sent} replies")
    assert (sent, got) == (1000, 1000), out


def test_resolves_before_sending(tmp_path):
    """With the peer never asking (a static entry for us in the peer),
    pingd must resolve 192.0.2.1 itself: after the echo request, the first
    frame it sends is an ARP request, and its echo reply comes only after the
    peer's ARP reply (the pcap holds both directions, in order)."""
    lab = start_lab(target="ours", peer="kernel")
    try:
        lab.run("peer", ["ip", "neigh", "replace", TARGET_IP, "lladdr", TARGET_MAC,
                         "dev", "peer0", "nud", "permanent"])
        pcap = tmp_path / "pingd.pcap"
        prog = Running(lab, [program("pingd")] + PINGD + ["--pcap", str(pcap), "-t", "20", "-c", "2"])
        sent, got, _ = ping(lab, "-c", "1", "-W", "2")
        prog.stop()
    finally:
        lab.down()
    frames = [Ether(bytes(p)) for p in rdpcap(str(pcap))]
    kinds = [("arp-request" if ARP in f and f[ARP].op == 1 and f[ARP].pdst == PEER_IP else
              "arp-reply" if ARP in f and f[ARP].op == 2 and f[ARP].psrc == PEER_IP else
              "echo-request" if ICMP in f and f[ICMP].type == 8 else
              "echo-reply" if ICMP in f and f[ICMP].type == 0 else "other") for f in frames]
    assert got == 1, kinds
    assert [k for k in kinds if k != "other"] == ["echo-request", "arp-request", "arp-reply", "echo-reply"], kinds


@pytest.fixture(scope="module")
def ours_answers():
    """{vector: answer kinds} from pingd, the peer played by wire.py."""
    return host_answers("pingd", VECTORS)


@pytest.mark.parametrize("vec", VECTORS, ids=str)
def test_ours_answers(ours_answers, vec):
    """pingd answers (or not) as the vector says (RFC 792, RFC 1122 3.2.2.6)."""
    assert ours_answers[vec.name] == expected_kinds(vec.answer), vec.where


@pytest.fixture(scope="module")
def linux():
    """The Linux kernel at 192.0.2.2; wire.py plays 192.0.2.1."""
    with lab_with_wire(target="linux", peer="raw", as_host=True) as lab_wire:
        yield lab_wire


@pytest.mark.parametrize("vec", VECTORS, ids=str)
def test_linux_answers_and_counters(linux, vec):
    """Linux answers as the vector says Linux does, and moves the counters
    it names (and no other error counter)."""
    lab, wire = linux
    before = read_counters(lab, "target")
    kinds = answer_to(wire, vec, vec.linux_answer)
    moved = counters_moved(before, read_counters(lab, "target"))
    assert kinds == expected_kinds(vec.linux_answer), vec.where
    ok, why = linux_agreement(vec, moved)
    assert ok, f"{vec.where}: Linux {why}; moved {moved}"
