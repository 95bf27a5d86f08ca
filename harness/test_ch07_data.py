"""Chapter 7, data transfer: real Linux clients and servers move megabytes
through our stack intact (curl from our HTTP server, nc into discard, our
fetch from Linux's python3 -m http.server, echo and chargen), and the same
transfers survive our fault injector (loss, reordering, duplication,
corruption) in both directions, every byte checked by SHA-256, every run
bounded in time, every connection closed in both stacks."""
import hashlib
import os
import re
import subprocess
import time

import pytest

from conftest import Running, program, start_lab
from labaddr import PEER_IP, TARGET_CIDR, TARGET_IP
from labproc import PYTHON

HOST = ["-i", "target0", "-a", TARGET_CIDR]
SIZE = 10_000_000
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    """A 10 MB file of seeded random bytes, and its SHA-256."""
    path = tmp_path_factory.mktemp("www") / "10m.bin"
    data = hashlib.shake_256(b"tcpip-book chapter 7").digest(SIZE)
    path.write_bytes(data)
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o644)
    return path, hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def lab():
    """One lab for the module: the peer's kernel at 192.0.2.1, ours the target."""
    the_lab = start_lab(target="ours", peer="kernel")
    yield the_lab
    the_lab.down()


def sha256_of(path):
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stop_clean(prog):
    """Stops a program of ours; asserts it ended well and its stack stayed sane."""
    code = prog.stop()
    assert code == 0, prog.stderr
    assert not SANITIZER.search(prog.stderr), prog.stderr
    assert "bad transitions 0" in prog.stderr, prog.stderr


def serve(lab, payload, *extra):
    """serve with echo 7, discard 9, chargen 19 and http 8080 (the payload)."""
    return Running(lab, [program("serve")] + HOST + [
        "--echo", "7", "--discard", "9", "--chargen", "19", "--http", "8080",
        "--file", str(payload[0]), "-t", "900", "-v", *extra])


def curl_fetch(lab, out, timeout):
    """curl in the peer fetches the payload from our HTTP server into out."""
    return lab.run("peer", ["curl", "-sS", "-m", str(timeout), "-o", str(out),
                            f"http://{TARGET_IP}:8080/10m.bin"], timeout=timeout + 30, check=False)


def test_curl_fetches_10mb(lab, payload, tmp_path):
    """curl gets 10 MB from serve's HTTP server, byte for byte."""
    prog = serve(lab, payload)
    try:
        run = curl_fetch(lab, tmp_path / "got", 120)
        assert run.returncode == 0, run.stderr
        assert sha256_of(tmp_path / "got") == payload[1]
    finally:
        stop_clean(prog)


def test_nc_into_discard_counts_every_byte(lab, payload):
    """nc sends 10 MB into discard; serve counts exactly 10,000,000 bytes in."""
    prog = serve(lab, payload)
    try:
        with open(payload[0], "rb") as data:
            run = lab.run("peer", ["nc", "-N", "-w", "10", TARGET_IP, "9"], stdin=data,
                          timeout=120, check=False)
        assert run.returncode == 0, run.stderr
        lines = [l for l in prog.lines(200, timeout=10) if l.startswith("discard 192")]
        assert lines and f": {SIZE} bytes in, 0 bytes out, closed" in lines[0], lines
    finally:
        stop_clean(prog)


def test_echo_returns_every_byte(lab, payload):
    """1 MB sent to echo comes back the same (a Python client in the peer that
    reads while it writes, as an echo client must: one that reads only after
    sending everything deadlocks any echo server once both directions'
    buffers are full)."""
    client = ("import socket, threading\n"
              "data = bytes(range(256)) * 4096\n"
              f"s = socket.create_connection(('{TARGET_IP}', 7), timeout=20)\n"
              "def send():\n"
              "    s.sendall(data); s.shutdown(socket.SHUT_WR)\n"
              "t = threading.Thread(target=send); t.start()\n"
              "got = b''.join(iter(lambda: s.recv(65536), b''))\n"
              "t.join()\n"
              "print(len(got), got == data)\n")
    prog = serve(lab, payload)
    try:
        run = lab.run("peer", [PYTHON, "-c", client], timeout=60, check=False)
        assert run.stdout.split() == [str(256 * 4096), "True"], run.stdout + run.stderr
    finally:
        stop_clean(prog)


def test_chargen_lines(lab, payload):
    """chargen sends RFC 864's lines: 72 printable characters, CR LF, each
    line starting one character later than the one before."""
    client = ("import socket\n"
              f"s = socket.create_connection(('{TARGET_IP}', 19), timeout=10)\n"
              "data = b''\n"
              "while len(data) < 74 * 10:\n"
              "    data += s.recv(4096)\n"
              "s.close()\n"
              "print(data[:740].hex())\n")
    prog = serve(lab, payload)
    try:
        run = lab.run("peer", [PYTHON, "-c", client], timeout=30, check=False)
        lines = bytes.fromhex(run.stdout.strip()).decode("ascii").split("\r\n")[:10]
        printable = "".join(chr(c) for c in range(32, 127))
        assert lines == [(printable * 2)[i:i + 72] for i in range(10)], lines
    finally:
        stop_clean(prog)


@pytest.fixture(scope="module")
def http_server(lab, payload):
    """python3 -m http.server in the peer, serving the payload's folder."""
    proc = lab.popen("peer", [PYTHON, "-m", "http.server", "8000", "--bind", PEER_IP,
                              "--directory", str(payload[0].parent)],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ready = lab.run("peer", [PYTHON, "-c",
                             "import socket, time\n"
                             "for _ in range(100):\n"
                             "    try:\n"
                             f"        socket.create_connection(('{PEER_IP}', 8000), 1).close(); break\n"
                             "    except OSError: time.sleep(0.1)\n"], timeout=20)
    assert ready.returncode == 0
    yield proc
    proc.kill()
    proc.wait(5)


def fetch(lab, out, timeout, *extra):
    """Our fetch, in the target, gets the payload from the peer's server."""
    return lab.run("target", [program("fetch")] + HOST + [
        "--url", f"http://{PEER_IP}:8000/10m.bin", "-o", str(out), "-t", str(timeout), "-v",
        *extra], timeout=timeout + 30, check=False)


def test_fetch_from_linux_server(lab, payload, http_server, tmp_path):
    """Our fetch gets 10 MB from Linux's python3 -m http.server, intact."""
    run = fetch(lab, tmp_path / "got", 120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "status 200, 10000000 body bytes" in run.stdout, run.stdout
    assert sha256_of(tmp_path / "got") == payload[1]
    assert not SANITIZER.search(run.stderr), run.stderr


# Integrity under faults: (name, --fault spec, bytes).  The injector runs in
# our program, on both directions of the link.  Since chapter 8 a loss halves
# the window, and a window under four segments finds its losses only by the
# timer (RFC 6298's 1 s minimum): 10 MB through 10% loss took 366 s from us in
# one run, against curl's 400 s bound, so that case moves 2 MB (chapter 10's
# SACK and RACK-TLP are the cure, and will bring it back to 10 MB).
FAULTS = [
    ("loss-1pct", "drop=0.01,seed=11", SIZE),
    ("loss-5pct", "drop=0.05,seed=12", SIZE),
    ("loss-10pct", "drop=0.1,seed=13", 2_000_000),
    ("reorder-dup", "reorder=0.05,dup=0.05,seed=14", SIZE),
    ("corrupt", "corrupt=0.01,seed=15", SIZE),
]


@pytest.fixture(scope="module")
def small_payload(payload):
    """The payload's first 2 MB, beside it, and their SHA-256."""
    path = payload[0].parent / "2m.bin"
    data = payload[0].read_bytes()[:2_000_000]
    path.write_bytes(data)
    os.chmod(path, 0o644)
    return path, hashlib.sha256(data).hexdigest()


def sized(payload, small_payload, size):
    """The payload of that size."""
    return payload if size == SIZE else small_payload


def no_connections_left(lab, port, wait=30):
    """The peer kernel holds no connection to or from port but TIME-WAIT
    (and its listener), within wait seconds: a last ACK the fault injector
    dropped is made good when the peer sends its FIN again and our TIME-WAIT
    answers it, a retransmission timeout later."""
    deadline = time.monotonic() + wait
    while True:
        run = lab.run("peer", ["ss", "-Htan", f"( sport = :{port} or dport = :{port} )"],
                      check=False)
        left = [l for l in run.stdout.splitlines()
                if l and not l.startswith(("TIME-WAIT", "LISTEN"))]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left, left


def closed_from_time_wait(prog, port, wait):
    """True once prog (run with -v) says a connection on port went from
    TIME-WAIT to CLOSED, within wait seconds."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        line = prog.out.readline(max(deadline - time.monotonic(), 0))
        if line is None:
            return False
        if f" tcp :{port} " in line and "TIME-WAIT -> CLOSED" in line:
            return True
    return False


@pytest.mark.parametrize("name,spec,size", FAULTS, ids=[f[0] for f in FAULTS])
def test_ours_to_linux_under_faults(lab, payload, small_payload, tmp_path, name, spec, size):
    """curl (Linux) fetches from serve running with --fault: the same bytes
    arrive, in bounded time, and both ends close."""
    src = sized(payload, small_payload, size)
    prog = Running(lab, [program("serve")] + HOST + [
        "--http", "8080", "--file", str(src[0]), "-t", "900", "-v", "--msl", "2000",
        "--fault", spec])
    try:
        run = lab.run("peer", ["curl", "-sS", "-m", "400", "-o", str(tmp_path / "got"),
                               f"http://{TARGET_IP}:8080/{src[0].name}"], timeout=430, check=False)
        assert run.returncode == 0, run.stderr
        assert sha256_of(tmp_path / "got") == src[1]
        no_connections_left(lab, 8080)
        # serve closed first: its side ends in TIME-WAIT, 2 MSL (4 s here), then CLOSED.
        assert closed_from_time_wait(prog, 8080, 30), "serve's connection did not close"
    finally:
        stop_clean(prog)
    assert re.search(r"fault: .*dropped|fault: rx|fault: tx", prog.stderr), prog.stderr


@pytest.mark.parametrize("name,spec,size", FAULTS, ids=[f[0] for f in FAULTS])
def test_linux_to_ours_under_faults(lab, payload, small_payload, http_server, tmp_path, name,
                                    spec, size):
    """Our fetch, with --fault, gets the file from Linux's http.server: the
    same bytes, in bounded time, and both ends close."""
    src = sized(payload, small_payload, size)
    run = lab.run("target", [program("fetch")] + HOST + [
        "--url", f"http://{PEER_IP}:8000/{src[0].name}", "-o", str(tmp_path / "got"),
        "-t", "400", "-v", "--fault", spec], timeout=430, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert sha256_of(tmp_path / "got") == src[1]
    assert not SANITIZER.search(run.stderr), run.stderr
    assert "bad transitions 0" in run.stderr, run.stderr
    no_connections_left(lab, 8000)
