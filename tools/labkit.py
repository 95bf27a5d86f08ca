"""labkit.py - driving the lab from Python: crafted frames from the peer, a
chapter program on the target, Linux's counters, and the verdict comparison.

Shared by the harness (harness/conftest.py), the demo and tools/compare.py,
so the tests check exactly what the reader is shown.  Every wait is bounded.
"""
import os
import queue
import re
import signal
import subprocess
import threading
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
        host = ["--ip", "192.0.2.1", "--mac", "02:00:00:00:00:01"] if as_host else []
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


# The error counters Linux may move for a frame of each class of our
# verdicts (drop.h); a class of wrong bytes must move at least one.  A vector
# where Linux and we part ways says so in its "linux-differs" line.
CLASS_COUNTERS = {
    "ok": set(),
    "truncated": {"Ip.InHdrErrors", "IpExt.InTruncatedPkts", "Icmp.InErrors", "Udp.InErrors", "Tcp.InErrs"},
    "malformed": {"Ip.InHdrErrors", "Icmp.InErrors", "Udp.InErrors", "Tcp.InErrs"},
    "checksum": {"IpExt.InCsumErrors", "Ip.InHdrErrors", "Icmp.InCsumErrors", "Icmp.InErrors",
                 "Udp.InCsumErrors", "Udp.InErrors", "Tcp.InCsumErrors", "Tcp.InErrs"},
    "unsupported": {"Ip.ReasmReqds", "Icmp.InErrors", "Ip.InUnknownProtos"},
    "not_for_us": {"Ip.InAddrErrors"},
}
WRONG_BYTES = ("truncated", "malformed", "checksum")


def verdict_classes():
    """{verdict name: class name} read from lib/include/tcpip/drop.h."""
    text = (ROOT / "lib" / "include" / "tcpip" / "drop.h").read_text()
    return {name: cls[len("CLASS_"):].lower()
            for name, cls in re.findall(r'X\(\w+, "(\w+)", (CLASS_\w+)', text)}


def class_agreement(vec, moved, classes):
    """Whether the error counters Linux moved fit the class of vec's verdict.
    Returns (ok, explanation)."""
    if vec.linux_differs or vec.frame[12:14] == b"\x08\x06":
        return True, ""  # a difference the vector explains; ARP: Linux keeps no counters
    cls = classes[vec.verdict]
    errors = {c for c in ERROR_COUNTERS if c in moved}
    if errors - CLASS_COUNTERS[cls]:
        return False, f"our class is {cls}, yet Linux moved {' '.join(sorted(errors - CLASS_COUNTERS[cls]))}"
    if cls in WRONG_BYTES and not errors:
        return False, f"our class is {cls}, yet Linux moved no error counter"
    return True, ""


def linux_agreement(vec, moved):
    """Whether Linux's moved counters are what vec names (every named counter
    moved, no other error counter did) and fit the class of our verdict.
    Returns (ok, explanation)."""
    missing = [c for c in vec.linux_counters if c not in moved]
    stray = [c for c in ERROR_COUNTERS if c in moved and c not in vec.linux_counters]
    if missing:
        return False, f"did not move {' '.join(missing)}"
    if stray:
        return False, f"also moved {' '.join(stray)}"
    return class_agreement(vec, moved, verdict_classes())


def answer_kinds(request, frames):
    """What a target answered request with: a sorted list of kinds among
    "arp-reply" (to the asker, saying 192.0.2.2 is at the target's MAC),
    "echo-reply" (same identifier, sequence and data as an echo request),
    "timestamp-reply", "tcp-rst" (the reset RFC 9293 3.10.7.1 computes for
    the request), "tcp-synack" (acknowledging the request's SYN), and
    "other:<summary>" for anything else.  ARP requests
    the target sends to resolve the peer are resolution, not answers, and the
    target's gratuitous announcements are ignored, as is Linux's "fragment
    reassembly time exceeded", which answers a fragment sent 30 s before."""
    from scapy.all import ARP, ICMP, IP, TCP, Ether  # the harness's Python has scapy

    req = Ether(request)
    kinds = []
    for frame in frames:
        pkt = Ether(frame)
        if ARP in pkt and pkt[ARP].op == 1:
            continue
        if ICMP in pkt and pkt[ICMP].type == 11 and pkt[ICMP].code == 1:
            continue  # Linux giving up reassembly of an earlier fragment vector, 30 s on
        if ARP in pkt and pkt[ARP].op == 2 and pkt[ARP].psrc == "192.0.2.2" and pkt[ARP].pdst != "192.0.2.2":
            # By bytes, not scapy's fields: a request with an odd hardware
            # type has its addresses decoded otherwise.
            ok = frame[22:28] == bytes.fromhex("020000000002") and frame[32:38] == request[22:28]
            kinds.append("arp-reply" if ok else "other:bad arp reply " + pkt.summary())
        elif ICMP in pkt and pkt[ICMP].type == 0 and ICMP in req:
            same = (pkt[IP].src == req[IP].dst and pkt[IP].dst == req[IP].src and
                    pkt[ICMP].id == req[ICMP].id and pkt[ICMP].seq == req[ICMP].seq and
                    icmp_data(pkt) == icmp_data(req))
            kinds.append("echo-reply" if same else "other:echo reply that differs " + pkt.summary())
        elif ICMP in pkt and pkt[ICMP].type == 14:
            kinds.append("timestamp-reply")
        elif TCP in pkt and TCP in req:
            kinds.append(tcp_answer_kind(req, pkt))
        else:
            kinds.append("other:" + pkt.summary())
    return sorted(kinds)


def tcp_answer_kind(req, pkt):
    """"tcp-rst" if pkt is exactly the reset RFC 9293 3.10.7.1 owes the
    segment req (SEQ=SEG.ACK with ACK; else SEQ=0, ACK=SEG.SEQ+SEG.LEN,
    RST+ACK), "tcp-synack" for a SYN-ACK of req's SYN, else "other:..."."""
    from scapy.all import IP, TCP

    seg, ans = req[TCP], pkt[TCP]
    ports = ans.sport == seg.dport and ans.dport == seg.sport
    if ans.flags.R and ports:
        if seg.flags.A:
            ok = str(ans.flags) == "R" and ans.seq == seg.ack
        else:
            text = req[IP].len - req[IP].ihl * 4 - seg.dataofs * 4
            seq_len = text + bool(seg.flags.S) + bool(seg.flags.F)
            ok = str(ans.flags) == "RA" and ans.seq == 0 and ans.ack == (seg.seq + seq_len) % 2**32
        return "tcp-rst" if ok else f"other:reset that differs (seq {ans.seq} ack {ans.ack} {ans.flags})"
    if str(ans.flags) == "SA" and ports and ans.ack == (seg.seq + 1) % 2**32:
        return "tcp-synack"
    return "other:" + pkt.summary()


def icmp_data(pkt):
    """The data of the ICMP message in pkt, by the IPv4 total length (so
    Ethernet padding is not taken for data)."""
    from scapy.all import IP

    raw = bytes(pkt[IP])
    return raw[pkt[IP].ihl * 4 + 8:pkt[IP].len]


def answer_to(wire, vec, answer):
    """Sends vec's frame and returns the answer kinds the target gave: for a
    vector that expects an answer, as soon as one comes (1 s at most); for
    one that expects none ("none"), whatever comes within 250 ms."""
    silent = answer in (None, "none")
    return answer_kinds(vec.frame, wire.exchange(vec.frame, 250 if silent else 1000,
                                                 "all" if silent else "first"))


def expected_kinds(answer):
    """The answer_kinds() a vector's "answer" line stands for."""
    return [] if answer in (None, "none") else [answer]
