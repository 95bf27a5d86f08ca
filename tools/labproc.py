"""labproc.py - the lab's processes, driven from Python: crafted frames sent
from the peer (Wire, over tools/wire.py), a chapter program running on the
target (Running), and the line reader both read their pipes with.

Shared by the harness (harness/conftest.py), tools/compare.py,
tools/bench_tcp.py and the scenario runner (LineReader), so the tests drive
the lab as the reader is shown.  Verdicts and Linux's counters are
verdicts.py's.  Every wait is bounded.
"""
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

from labaddr import PEER_IP, PEER_MAC

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "/usr/bin/python3"


class LineReader:
    """Reads whole lines from a pipe in a thread of its own, so the writer
    never blocks on a full pipe, and hands them out with a deadline."""

    def __init__(self, pipe):
        self.queue = queue.Queue()
        self.thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self.thread.start()

    def _pump(self, pipe):
        """Moves lines from the pipe to the queue until end of file."""
        for raw in iter(pipe.readline, b""):
            self.queue.put(raw.decode(errors="replace").rstrip("\n"))
        self.queue.put(None)

    def readline(self, timeout):
        """The next line, or None at end of file or if none came within
        timeout seconds."""
        try:
            line = self.queue.get(timeout=max(timeout, 0.001))
        except queue.Empty:
            return None
        if line is None:
            self.queue.put(None)  # stay at end of file
        return line

    def rest(self, timeout=2.0):
        """Every line until end of file or timeout."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.readline(deadline - time.monotonic())
            if line is None:
                return out
            out.append(line)


class Wire:
    """Sends crafted frames from the peer's interface, and collects what
    comes back (tools/wire.py).  With as_host=True it also plays 192.0.2.1,
    answering ARP for it, as a scapy-only peer must."""

    def __init__(self, lab, as_host=False):
        host = ["--ip", PEER_IP, "--mac", PEER_MAC] if as_host else []
        self.proc = lab.popen("peer", [PYTHON, str(ROOT / "tools" / "wire.py")] + host + ["peer0"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.out = LineReader(self.proc.stdout)
        assert self.out.readline(10) == "ready", "wire.py did not start in the peer"

    def _command(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def send(self, frame):
        """Sends frame (bytes) and waits for the helper to say it went."""
        self._command("send " + frame.hex())
        answer = self.out.readline(5)
        assert answer == f"sent {len(frame)}", f"wire.py answered {answer!r}"

    def exchange(self, frame, ms=300, wait="all"):
        """Sends frame, then returns the frames that came back within ms
        (wait="first": as soon as one has)."""
        self._command(f"exchange {frame.hex()} {ms} {wait}")
        frames = []
        while True:
            line = self.out.readline(ms / 1000 + 5)
            assert line is not None, "wire.py went quiet"
            if line == "end":
                return frames
            assert line.startswith("frame "), f"wire.py answered {line!r}"
            frames.append(bytes.fromhex(line[6:]))

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
