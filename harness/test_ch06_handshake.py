"""Chapter 6, the TCP handshake: handshake completes connections from real
Linux clients (nc -z, curl), resets closed ports, shows nmap exactly the
open ports as Linux does with the same ports open, and answers every TCP
vector as the vector says, with Linux's counters and answers beside.
The state diagram the chapter shows is the code's own table."""
import re
import subprocess

import pytest

from conftest import ROOT, Running, host_answers, lab_with_wire, program, start_lab
from labaddr import TARGET_CIDR, TARGET_IP
from labproc import PYTHON
from verdicts import answer_to, counters_moved, expected_kinds, linux_agreement, read_counters
from vectors import frame_vectors

VECTORS = [v for v in frame_vectors("tcp.vec") if len(v.frame) >= 14]
HOST = ["-i", "target0", "-a", TARGET_CIDR]
OPEN = (8080, 8081)
# Linux doing what handshake does on the same ports: accept, close at once.
LISTENER = ("import select, socket, time\n"
            "socks = []\n"
            "for port in (%s):\n"
            "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "    s.bind((%r, port)); s.listen(16); socks.append(s)\n"
            "print('listening', flush=True)\n"
            "end = time.monotonic() + 300\n"
            "while time.monotonic() < end:\n"
            "    for s in select.select(socks, [], [], 1)[0]:\n"
            "        s.accept()[0].close()\n") % (", ".join(map(str, OPEN)), TARGET_IP)

@pytest.fixture(scope="module", params=["ours", "linux"])
def client_lab(request):
    """The peer's kernel at 192.0.2.1 with real clients; the target is
    handshake on ports 8080 and 8081, or Linux listening on the same."""
    lab = start_lab(target=request.param, peer="kernel")
    if request.param == "ours":
        argv = [program("handshake")] + HOST + ["-p", "8080", "-p", "8081", "-t", "300", "-v"]
        target = Running(lab, argv)
    else:
        target = lab.popen("target", [PYTHON, "-c", LISTENER], stdout=subprocess.PIPE)
        assert target.stdout.readline().strip() == b"listening"
    yield request.param, lab, target
    if request.param == "ours":
        assert target.stop() == 0, target.stderr
        assert "bad transitions 0" in target.stderr, target.stderr
    lab.down()


def peer(lab, *argv, timeout=30):
    """Runs a client in the peer; its CompletedProcess (never raises on exit status)."""
    return lab.run("peer", list(argv), timeout=timeout, check=False)


def tcp_lines(target, count, timeout=10):
    """The next count lines handshake prints about TCP (ARP lines skipped;
    at most 100 lines read, within timeout seconds)."""
    found = []
    for _ in range(100):
        got = target.lines(1, timeout)
        if not got:
            break
        if " tcp :" in got[0]:
            found.append(got[0])
        if len(found) == count:
            break
    return found


def test_nc_open_port(client_lab):
    """nc -z connects to an open port (exit 0): the handshake completed."""
    kind, lab, target = client_lab
    run = peer(lab, "nc", "-z", "-w", "3", TARGET_IP, "8080")
    assert run.returncode == 0, run.stderr
    if kind == "ours":
        lines = tcp_lines(target, 3)
        assert [re.sub(r"^\S+ tcp :8080 192\.0\.2\.1:\d+ ", "", line) for line in lines] == [
            "LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED", "accepted"], lines


def test_nc_closed_port_refused(client_lab):
    """nc -z to a closed port is refused by a reset (exit 1, "refused"), not
    left to time out."""
    kind, lab, target = client_lab
    run = peer(lab, "nc", "-v", "-z", "-w", "3", TARGET_IP, "9")
    assert run.returncode == 1 and "refused" in run.stderr, run.stderr


def test_curl_connects(client_lab):
    """curl connects (it fails only after, with an empty reply or a reset:
    exit 52 or 56, never 7, "could not connect")."""
    kind, lab, target = client_lab
    run = peer(lab, "curl", "-sS", "-m", "5", f"http://{TARGET_IP}:8080/")
    assert run.returncode in (52, 56), (run.returncode, run.stderr)


def test_nmap_sees_exactly_the_open_ports(client_lab):
    """nmap -sS over 1-1024 and 8000-8100 lists exactly 8080 and 8081 open,
    every other port closed (reset), against ours as against Linux."""
    kind, lab, target = client_lab
    run = peer(lab, "nmap", "-sS", "-n", "-Pn", "--max-retries", "1", "-p", "1-1024,8000-8100",
               TARGET_IP, timeout=120)
    opened = re.findall(r"^(\d+)/tcp\s+open", run.stdout, re.M)
    assert opened == ["8080", "8081"], run.stdout
    assert "1123 closed tcp ports (reset)" in run.stdout, run.stdout


@pytest.fixture(scope="module")
def ours_answers():
    """{vector: answer kinds} from handshake (port 8080 open), wire.py
    playing 192.0.2.1."""
    return host_answers("handshake", VECTORS, extra=["-p", "8080"])


@pytest.mark.parametrize("vec", VECTORS, ids=str)
def test_ours_answers(ours_answers, vec):
    """handshake answers (or not) as the vector says: RFC 9293 3.10.7.1's
    reset for a closed port, silence for a bad header or option."""
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


def test_state_diagram_is_the_code_table():
    """The chapter's Mermaid state diagram is exactly what tcpstates prints
    from tcp_transition_table()."""
    text = (ROOT / "chapters" / "06-tcp-handshake" / "README.md").read_text()
    blocks = re.findall(r"```mermaid\n(stateDiagram-v2\n.*?)```", text, re.S)
    printed = subprocess.run([program("tcpstates")], capture_output=True, text=True, check=True).stdout
    assert blocks and blocks[0] == printed
