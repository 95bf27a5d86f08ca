"""Chapter 4, ARP: arpd answers real Linux tools (arping, the kernel's own
resolution), resolves on demand, gives up when nobody answers, and answers
every ARP vector as Linux does (or as the vector says Linux does not)."""
import re

import pytest

from conftest import Running, host_answers, lab_with_wire, program, start_lab
from labaddr import PEER_IP, PEER_MAC, TARGET_CIDR, TARGET_IP, TARGET_MAC
from verdicts import answer_to, expected_kinds
from vectors import frame_vectors

VECTORS = frame_vectors("arp.vec")
ARPD = ["-i", "target0", "-a", TARGET_CIDR]


@pytest.fixture(scope="module")
def tools_lab():
    """The peer's kernel at 192.0.2.1, our arpd on target0."""
    lab = start_lab(target="ours", peer="kernel")
    yield lab
    lab.down()


def test_arping_gets_three_replies(tools_lab):
    """arping -c 3 from the peer: three replies from our MAC; arpd prints
    its announce, then request, learned, reply."""
    prog = Running(tools_lab, [program("arpd")] + ARPD + ["-t", "20", "-c", "3"])
    run = tools_lab.run("peer", ["arping", "-c", "3", "-w", "5", TARGET_IP], check=False)
    lines = prog.lines(8, timeout=10)
    prog.stop()
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(re.findall(re.escape(f"bytes from {TARGET_MAC} ({TARGET_IP})"), run.stdout)) == 3
    assert re.search(r" 3 packets received", run.stdout), run.stdout
    assert lines[0].endswith(f"arp announce {TARGET_IP} is-at {TARGET_MAC}"), lines
    assert sum(l.endswith(f"arp who-has {TARGET_IP} tell {PEER_IP} ({PEER_MAC})") for l in lines) == 3
    assert sum(l.endswith(f"arp reply {TARGET_IP} is-at {TARGET_MAC} to {PEER_IP}") for l in lines) == 3
    assert any(l.endswith(f"neigh {PEER_IP} learned {PEER_MAC}, stale") for l in lines), lines


def test_kernel_neighbour_reachable(tools_lab):
    """The peer kernel resolves 192.0.2.2 through us: its neighbour entry
    becomes REACHABLE with our MAC (ping gets no echo reply until chapter 5)."""
    tools_lab.run("peer", ["ip", "neigh", "flush", "dev", "peer0"])
    prog = Running(tools_lab, [program("arpd")] + ARPD + ["-t", "20"])
    tools_lab.run("peer", ["ping", "-c", "1", "-W", "1", TARGET_IP], check=False)
    neigh = tools_lab.run("peer", ["ip", "neigh", "show", TARGET_IP, "dev", "peer0"]).stdout
    prog.stop()
    assert re.search(rf"lladdr {TARGET_MAC} (REACHABLE|DELAY|PROBE)", neigh), neigh
    assert "REACHABLE" in neigh, neigh


def test_resolve_on_demand(tools_lab):
    """--resolve 192.0.2.1: one request, the peer kernel's reply, a
    REACHABLE entry."""
    prog = Running(tools_lab, [program("arpd")] + ARPD + ["--resolve", PEER_IP, "-t", "20", "-c", "1"])
    lines = prog.lines(4, timeout=10)
    prog.stop()
    assert lines[1].endswith(f"arp who-has {PEER_IP} (try 1)"), lines
    assert lines[2].endswith(f"arp reply {PEER_IP} is-at {PEER_MAC}"), lines
    assert lines[3].endswith(f"neigh {PEER_IP} learned {PEER_MAC}, reachable"), lines


def test_resolve_gives_up(tools_lab):
    """Nobody holds 192.0.2.9: three tries, then a give-up line."""
    prog = Running(tools_lab, [program("arpd")] + ARPD + ["--resolve", "192.0.2.9", "-t", "6"])
    lines = prog.lines(5, timeout=10)
    prog.stop()
    tries = [l for l in lines if "arp who-has 192.0.2.9 (try" in l]
    assert [t.rsplit(" ", 2)[-1] for t in tries] == ["1)", "2)", "3)"], lines
    assert lines[-1].endswith("neigh 192.0.2.9 unresolved, gave up: 0 waiting packets dropped"), lines


def test_linux_arping_for_comparison():
    """The same arping against Linux: three replies too."""
    lab = start_lab(target="linux", peer="kernel")
    try:
        run = lab.run("peer", ["arping", "-c", "3", "-w", "5", TARGET_IP], check=False)
    finally:
        lab.down()
    assert run.returncode == 0 and " 3 packets received" in run.stdout, run.stdout


@pytest.fixture(scope="module")
def ours_answers():
    """{vector: answer kinds} from arpd, the peer played by wire.py."""
    return host_answers("arpd", VECTORS)


@pytest.fixture(scope="module")
def linux_answers():
    """{vector: answer kinds} from the Linux kernel at 192.0.2.2."""
    with lab_with_wire(target="linux", peer="raw", as_host=True) as (lab, wire):
        return {v.name: answer_to(wire, v, v.linux_answer) for v in VECTORS}


@pytest.mark.parametrize("vec", VECTORS, ids=str)
def test_ours_answers(ours_answers, vec):
    """arpd answers (or not) as the vector says (RFC 826)."""
    assert ours_answers[vec.name] == expected_kinds(vec.answer), vec.where


@pytest.mark.parametrize("vec", VECTORS, ids=str)
def test_linux_answers(linux_answers, vec):
    """Linux answers as the vector says Linux does."""
    assert linux_answers[vec.name] == expected_kinds(vec.linux_answer), vec.where
