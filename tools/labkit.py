"""labkit.py - driving the lab from Python: crafted frames from the peer, a
chapter program on the target, Linux's counters, and the verdict comparison.

Shared by the harness (harness/conftest.py), the demo and tools/compare.py,
so the tests check exactly what the reader is shown.  Every wait is bounded.
"""
import os
import re
import selectors
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "/usr/bin/python3"

# Linux counters that move only when a packet is refused as wrong.  A vector
# that names some of these expects exactly those to move, and the rest to stay.
ERROR_COUNTERS = [
    "Ip.InHdrErrors", "Ip.InAddrErrors", "Ip.InUnknownProtos", "Ip.InDiscards",
    "IpExt.InTruncatedPkts", "IpExt.InCsumErrors", "Ip.ReasmReqds",
    "Icmp.InErrors", "Icmp.InCsumErrors", "Udp.InErrors", "Udp.InCsumErrors",
    "Tcp.InErrs", "Tcp.InCsumErrors",
]


class LineReader:
    """Reads whole lines from a pipe with a deadline, never blocking past it."""

    def __init__(self, pipe):
        self.pipe = pipe
        os.set_blocking(pipe.fileno(), False)
        self.buf = b""
        self.lines = []

    def _fill(self, timeout):
        """Waits up to timeout for bytes; returns False at end of file."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.pipe, selectors.EVENT_READ)
            if not sel.select(max(timeout, 0)):
                return True
        chunk = self.pipe.read()
        if not chunk:
            return False
        self.buf += chunk
        *done, self.buf = self.buf.split(b"\n")
        self.lines += [line.decode(errors="replace") for line in done]
        return True

    def readline(self, timeout):
        """The next line, or None if none came within timeout seconds."""
        deadline = time.monotonic() + timeout
        while not self.lines:
            left = deadline - time.monotonic()
            if left <= 0 or not self._fill(left):
                break
        return self.lines.pop(0) if self.lines else None

    def rest(self, timeout=2.0):
        """Every line until end of file or timeout."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.readline(max(deadline - time.monotonic(), 0))
            if line is None:
                return out
            out.append(line)


class Wire:
    """Sends crafted frames from the peer's interface (tools/wire.py)."""

    def __init__(self, lab):
        self.proc = lab.popen("peer", [PYTHON, str(ROOT / "tools" / "wire.py"), "peer0"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.out = LineReader(self.proc.stdout)
        assert self.out.readline(10) == "ready", "wire.py did not start in the peer"

    def send(self, frame):
        """Sends frame (bytes) and waits for the helper to say it went."""
        self.proc.stdin.write(b"send " + frame.hex().encode() + b"\n")
        self.proc.stdin.flush()
        answer = self.out.readline(5)
        assert answer == f"sent {len(frame)}", f"wire.py answered {answer!r}"

    def close(self):
        """Stops the helper (bounded)."""
        try:
            self.proc.stdin.close()
            self.proc.wait(5)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            self.proc.kill()
            self.proc.wait(5)


class Running:
    """A chapter program running in the target namespace."""

    def __init__(self, lab, argv, side="target"):
        self.proc = lab.popen(side, argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = LineReader(self.proc.stdout)
        self.err = LineReader(self.proc.stderr)
        self.err_lines = []
        while True:
            line = self.err.readline(15)
            assert line is not None, f"{argv[0]} did not start: {self.stop()}"
            self.err_lines.append(line)
            if "listening on" in line:
                break
        self.pid = self.program_pid()

    def program_pid(self):
        """The host pid of the program itself (nsenter forks it; bounded wait)."""
        for _ in range(100):
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            if kids:
                return int(kids[0])
            time.sleep(0.05)
        raise AssertionError("the program's process did not appear")

    def lines(self, count, timeout=10):
        """The next count stdout lines (fewer if they do not come in time)."""
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < count:
            line = self.out.readline(max(deadline - time.monotonic(), 0))
            if line is None:
                break
            out.append(line)
        return out

    def stop(self):
        """SIGTERM to the program (it ends cleanly on it), then its exit code
        (as nsenter passes it on) and remaining stderr; kills it if it does not
        end in 10 s."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except (ProcessLookupError, AttributeError):
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.err_lines += self.err.rest(1)
        return self.proc.returncode

    @property
    def stderr(self):
        return "\n".join(self.err_lines)


def read_counters(lab, side):
    """Linux's IP, ICMP, UDP and TCP counters in that side, flattened to
    {"Ip.InHdrErrors": n, "IpExt.InCsumErrors": n, ...}."""
    pid = lab.pids[side]
    out = {}
    for name in ("snmp", "netstat"):
        lines = Path(f"/proc/{pid}/net/{name}").read_text().splitlines()
        for head, values in zip(lines[0::2], lines[1::2]):
            group, keys = head.split(":", 1)
            for key, value in zip(keys.split(), values.split(":", 1)[1].split()):
                out[f"{group}.{key}"] = int(value)
    return out


def counters_moved(before, after):
    """The counters that changed between two read_counters() snapshots."""
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def linux_verdict(lab, wire, frame, expect, settle=1.0):
    """Sends frame to the Linux target; returns the counters that moved once
    every counter in expect has moved, or after settle seconds."""
    before = read_counters(lab, "target")
    wire.send(frame)
    deadline = time.monotonic() + settle
    while True:
        moved = counters_moved(before, read_counters(lab, "target"))
        if all(name in moved for name in expect) or time.monotonic() > deadline:
            return moved
        time.sleep(0.01)


def verdict_of_line(line):
    """The verdict a line of ipv4parse or cksumcheck states, by the names of
    lib/include/tcpip/drop.h ("ok", "ip4_bad_ihl", ...), or "?"."""
    named = (re.search(r"IPv4 drop (\w+):", line) or re.search(r"not checked: (\w+)$", line)
             or re.search(r"ip cksum 0x[0-9a-f]{4} ok, (\w+)$", line)
             or re.search(r" ok, then (\w+)$", line))
    if named:
        return named.group(1)
    bad_l4 = re.search(r"(ICMP|TCP|UDP) cksum 0x[0-9a-f]{4} BAD", line)
    if bad_l4:
        return bad_l4.group(1).lower() + "_bad_checksum"
    if re.search(r"ip cksum 0x[0-9a-f]{4} BAD", line):
        return "ip4_bad_checksum"
    if "fragment (not reassembled)" in line:
        return "ip4_fragment"
    if "not IPv4" in line:
        return "eth_unknown_type"
    if line.endswith(" ok") or line.endswith("(sender computed no checksum)"):
        return "ok"
    return "?"


def ours_verdicts(lab, wire, argv, vectors):
    """Runs argv (ipv4parse or cksumcheck) on the target, sends each vector's
    frame from the peer, and returns ({name: line}, program stderr)."""
    prog = Running(lab, argv + ["-c", str(len(vectors)), "-t", "120"])
    lines = {}
    for vec in vectors:
        wire.send(vec.frame)
        got = prog.lines(1, timeout=5)
        lines[vec.name] = got[0] if got else ""
    code = prog.stop()
    if code != 0:
        raise AssertionError(f"{argv[0]} exited {code}: {prog.stderr}")
    return lines, prog.stderr


def linux_agreement(vec, moved):
    """Whether Linux's moved counters are what vec names: every named counter
    moved and no other error counter did.  Returns (ok, explanation)."""
    missing = [c for c in vec.linux_counters if c not in moved]
    stray = [c for c in ERROR_COUNTERS if c in moved and c not in vec.linux_counters]
    if missing:
        return False, f"did not move {' '.join(missing)}"
    if stray:
        return False, f"also moved {' '.join(stray)}"
    return True, ""
