"""scenariokit.benches - a target's setting for many scripts, each of which
gets a fresh driver: CoreBench (tcpagent --virtual; no lab, no root) and
VethBench (one lab and one wire.py stream playing the peer, over veth).
A bench also gives each script its peer port and ISN, and the target's
timing tolerance.
"""
import random
import subprocess
import threading
import time
import zlib
from pathlib import Path

from labaddr import PEER_IP, PEER_MAC

from . import PYTHON, TOOLS
from .drivers import CoreDriver, Inbox, VethDriver, pump_lines, wire_item

CORE_TOLERANCE_S = 0.010
# Over veth a `>` segment or an event is judged by wire.py's stamp: it may come
# VETH_EARLY_S before its TIME and VETH_LATE_S after.  Measured on the
# project's 2-core machine, every script against ours and Linux played at
# once (as tools/conformance.py plays them), on the lines without a
# `# tolerance:` of their own, how late each came after its TIME:
#   idle:             ours  610, median +0.9, 95% +3.7, 99% +4.7, max +11.5 ms
#                     linux 403, median +0.7, 95% +2.4, 99% +3.1, max +12.3 ms
#   both cores kept busy by two loops of another process:
#                     ours  610, median +0.7, 95% +4.6, 99% +8.7, max +10.8 ms
#                     linux 403, median +0.6, 95% +2.8, 99% +4.3, max +14.7 ms
#   four such loops (each core loaded twice over): ours max +17.6 ms
# 50 ms is three times the worst of these.  A script that fails over veth is
# still played once more by tools/conformance.py, and the pass is named.
# Linux's own timers (HZ=250 wheels, its 40 ms delayed ACK) come later: a
# script that waits on one says so, in a `# tolerance:` line with its
# measurement or in a line of its own for Linux.
VETH_EARLY_S = 0.010
VETH_LATE_S = 0.050
CORE_PEER_PORT = 40000


class CoreBench:
    """The core target: a fresh `tcpagent --virtual` per script."""

    target = "core"
    tolerance = (0.0, CORE_TOLERANCE_S)   # virtual time: nothing comes early by chance

    def __init__(self, agent):
        """`agent`: path of tcpagent; ValueError if it is not there."""
        if not Path(agent).is_file():
            raise ValueError(f"{agent} is missing: build its preset "
                             "(cmake --build --preset asan-ubsan, or default)")
        self.agent = str(agent)

    def driver(self):
        """A started CoreDriver."""
        return CoreDriver(self.agent)

    def peer_port(self):
        """The peer's port: fixed in virtual time."""
        return CORE_PEER_PORT

    def peer_isn(self, script):
        """The peer's ISN: fixed per script (CRC-32 of its name)."""
        return zlib.crc32(script.name.encode())

    def close(self):
        """Nothing to end."""


class VethBench:
    """A veth target ("ours" or "linux"): one lab and one wire.py stream for
    many scripts, a fresh agent per script."""

    def __init__(self, target, agent_argv, lab=None, late_s=VETH_LATE_S):
        """Uses `lab` (a Lab that is up, target and peer="raw" as `target`
        needs) or brings one up (lablib.LabUnavailable if it cannot)."""
        import lablib
        self.target, self.agent_argv = target, list(agent_argv)
        self.tolerance = (VETH_EARLY_S, late_s)
        self.own_lab = lab is None
        self.lab = lab or lablib.Lab(target=target, peer="raw").up()
        self.inbox = Inbox()
        self.wire = None
        self.next_port = random.randrange(20000, 30000)
        try:
            self.start_wire()
        except BaseException:
            self.close()
            raise

    def start_wire(self):
        """Starts wire.py in the peer playing 192.0.2.1, in stream mode."""
        self.wire = self.lab.popen("peer", [PYTHON, str(TOOLS / "wire.py"), "--ip", PEER_IP,
                                            "--mac", PEER_MAC, "peer0"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        threading.Thread(target=pump_lines, args=(self.wire.stdout, self.inbox, wire_item),
                         daemon=True).start()
        self.await_wire("ready")
        self.write_wire("stream 7200")
        self.await_wire("streaming")

    def await_wire(self, word):
        """Waits (10 s at most) for wire.py to say `word`; RuntimeError if not."""
        deadline = time.monotonic() + 10
        for _ in range(100_000):  # bounded by count and by the deadline
            if time.monotonic() >= deadline:
                break
            for kind, _, value in self.inbox.take_all():
                if kind == "wire" and value == word:
                    return
            self.inbox.wait(deadline)
        raise RuntimeError(f"wire.py did not say {word!r} in the peer")

    def write_wire(self, line):
        """Writes one command line to wire.py."""
        self.wire.stdin.write(line.encode() + b"\n")
        self.wire.stdin.flush()

    def send(self, frame):
        """Puts `frame` on the wire from the peer (does not wait)."""
        self.write_wire("send " + frame.hex())

    def driver(self):
        """A started VethDriver."""
        return VethDriver(self, self.agent_argv)

    def peer_port(self):
        """A port the peer has not used in this bench yet (20000..59999)."""
        port = self.next_port
        self.next_port = 20000 + (port - 20000 + 1) % 40000
        return port

    def peer_isn(self, script):
        """A random ISN for the peer."""
        return random.getrandbits(32)

    def close(self):
        """Stops wire.py and, if this bench brought the lab up, ends it."""
        if self.wire and self.wire.poll() is None:
            try:
                self.write_wire("stop")
                self.write_wire("quit")
                self.wire.stdin.close()
                self.wire.wait(5)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                self.wire.kill()
                self.wire.wait(5)
        if self.own_lab:
            self.lab.down()
