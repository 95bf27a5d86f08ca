#!/usr/bin/python3
"""bench_tcp.py - TCP figures over the lab's veth: our stack beside Linux.

Three measures, each against our stack (serve: discard on port 9, echo on
port 7) and against the Linux kernel (the same two services, in Python, in
the target namespace), with one client, in Python, in the peer namespace:

  bulk   one connection sends BYTES into discard as fast as it can; the time
         runs until our side has acknowledged every byte and closed: Mbit/s
  rr     one connection, 1 byte to echo and 1 byte back, over and over for
         SECONDS: round trips per second
  crr    for SECONDS: connect, 1 byte to echo and 1 back, close: connections
         per second

Offloads are off on the lab's veth (the lab does it), so both stacks see
the frames as they are.  The client is the same for both targets, so the
ratio ours/Linux compares the stacks (and their servers), not the client.
A figure, never a test: nothing here passes or fails.

Usage: tools/bench_tcp.py [--build DIR] [--seconds S] [--bytes N]
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))

import lablib  # noqa: E402
from labaddr import TARGET_CIDR, TARGET_IP  # noqa: E402
from labproc import PYTHON, Running  # noqa: E402

CLIENT = f"ADDR = {TARGET_IP!r}\n" + r"""
import socket, sys, time
mode, seconds, nbytes = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
def bulk():
    s = socket.create_connection((ADDR, 9), timeout=30)
    chunk = b"x" * 65536
    start, left = time.monotonic(), nbytes
    while left > 0:
        left -= s.send(chunk[:min(left, len(chunk))])
    s.shutdown(socket.SHUT_WR)
    s.recv(1)                      # the server's close: every byte was taken
    return nbytes * 8 / (time.monotonic() - start) / 1e6
def rr():
    s = socket.create_connection((ADDR, 7), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    count, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        s.send(b"x")
        if s.recv(1) != b"x":
            raise SystemExit("echo answered wrong")
        count += 1
    s.close()
    return count / seconds
def crr():
    count, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        s = socket.create_connection((ADDR, 7), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        s.send(b"x")
        if s.recv(1) != b"x":
            raise SystemExit("echo answered wrong")
        s.close()                  # linger 0: a reset, so no TIME-WAIT piles up
        count += 1
    return count / seconds
print("%.1f" % {"bulk": bulk, "rr": rr, "crr": crr}[mode]())
"""

LINUX_SERVERS = f"ADDR = {TARGET_IP!r}\n" + r"""
import selectors, socket, time
sel = selectors.DefaultSelector()
for port in (7, 9):
    srv = socket.create_server((ADDR, port), backlog=128)
    srv.setblocking(False)
    sel.register(srv, selectors.EVENT_READ, ("listen", port))
import sys
print("linux-servers: listening on target0", file=sys.stderr, flush=True)
end = time.monotonic() + 600
while time.monotonic() < end:
    for key, _ in sel.select(1):
        kind, port = key.data
        if kind == "listen":
            conn, _ = key.fileobj.accept()
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sel.register(conn, selectors.EVENT_READ, ("conn", port))
            continue
        try:
            data = key.fileobj.recv(262144)
        except OSError:
            data = b""
        if not data:
            sel.unregister(key.fileobj)
            key.fileobj.close()
        elif port == 7:
            key.fileobj.sendall(data)
"""


def measure(lab, mode, seconds, nbytes):
    """Runs the client once in the peer; its figure."""
    run = lab.run("peer", [PYTHON, "-c", CLIENT, mode, str(seconds), str(nbytes)],
                  timeout=seconds + 60, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{mode} client failed: {run.stderr.strip()[-300:]}")
    return float(run.stdout.strip())


def run_target(target, build, seconds, nbytes):
    """{measure: figure} for one target, in a lab of its own."""
    with lablib.Lab(target=target, peer="kernel") as lab:
        if target == "ours":
            server = Running(lab, [str(build / "bin" / "serve"), "-i", "target0", "-a",
                                   TARGET_CIDR, "--echo", "7", "--discard", "9", "-t", "600"])
        else:
            server = Running(lab, [PYTHON, "-u", "-c", LINUX_SERVERS])
        try:
            lab.run("peer", ["ping", "-c", "1", "-W", "2", TARGET_IP], check=False)
            return {mode: measure(lab, mode, seconds, nbytes) for mode in ("bulk", "rr", "crr")}
        finally:
            server.stop()


def main(argv):
    """Measures both targets and prints each figure with the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", type=Path, default=TOOLS.parent / "build" / "default")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--bytes", type=int, default=50_000_000)
    args = parser.parse_args(argv[1:])
    ours = run_target("ours", args.build, args.seconds, args.bytes)
    linux = run_target("linux", args.build, args.seconds, args.bytes)
    units = {"bulk": "Mbit/s", "rr": "round trips/s", "crr": "connections/s"}
    names = {"bulk": f"bulk, {args.bytes // 1_000_000} MB into discard",
             "rr": "request/response, 1 byte each way", "crr": "connect, 1 byte each way, close"}
    print(f"{'measure':40} {'ours':>12} {'Linux':>12} {'ours/Linux':>11}  unit")
    for mode in ("bulk", "rr", "crr"):
        ratio = ours[mode] / linux[mode] if linux[mode] else 0.0
        print(f"{names[mode]:40} {ours[mode]:12.1f} {linux[mode]:12.1f} {ratio:11.2f}  {units[mode]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
