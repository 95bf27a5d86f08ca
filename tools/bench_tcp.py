#!/usr/bin/python3
"""bench_tcp.py - TCP figures over the lab: our stack beside Linux.

Each figure is measured against our stack (serve, in the target namespace)
and against the Linux kernel (in a second lab of the same shape, up at the
same time), the runs alternating between the two, the same client in the
peer for both, so the ratio ours/Linux compares the stacks.  Three cases
(--only picks some):

  bulk   C on both ends of Linux (tools/tcpbulk), BYTES each way:
         into the target: `tcpbulk send` into serve --discard / tcpbulk
           discard; the time runs until the server has taken every byte
           and closed;
         out of the target: `tcpbulk recv --http` of a BYTES-long file from
           serve --http / tcpbulk source --http; the time runs to the body's
           last byte.
         Offloads off on the veth (the lab's own setting), and then on (the
         veth's defaults).  Median of RUNS, in Mbit/s.
  rr     one connection, 1 byte to echo and 1 back, for SECONDS; and connect,
         1 byte each way, close, for SECONDS.  These are still Python: a
         Python client, and on Linux Python servers, so they say as much
         about Python as about TCP.  One run each.
  loss   curl in the peer fetches LOSS_BYTES over HTTP through a wire
         namespace (lablib.WireLab) that drops PCT% of the frames each way,
         from serve --http and from tcpbulk source --http: seconds, median
         of up to RUNS (one only, once a run takes over --long seconds),
         each bounded by --timeout and shown as ">T s" if it hits it.

A figure, never a test: nothing here passes or fails on a figure; it exits 1
only when a case cannot run at all (a server that does not start).

Usage: tools/bench_tcp.py [--only bulk,rr,loss] [--runs N] [--bytes N]
           [--offloads off,on] [--seconds S] [--loss-bytes N] [--loss PCT,...] [--timeout S]
           [--long S] [--progress] [--build DIR]
The default --only is bulk,rr; tools/bench asks for loss too.
"""
import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))

import lablib  # noqa: E402
from labaddr import TARGET_CIDR, TARGET_IP  # noqa: E402
from labproc import PYTHON, Running  # noqa: E402

DISCARD_PORT, ECHO_PORT, HTTP_PORT = 9, 7, 80
CLIENT_LINE = re.compile(r"^(send|recv) \S+: (\d+) bytes in ([0-9.]+) s")
PROGRESS = False

RR_CLIENT = f"ADDR = {TARGET_IP!r}\n" + r"""
import socket, sys, time
mode, seconds = sys.argv[1], float(sys.argv[2])
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
print("%.1f" % {"rr": rr, "crr": crr}[mode]())
"""

RR_LINUX_SERVER = f"ADDR = {TARGET_IP!r}\n" + r"""
import selectors, socket, sys, time
sel = selectors.DefaultSelector()
srv = socket.create_server((ADDR, 7), backlog=128)
srv.setblocking(False)
sel.register(srv, selectors.EVENT_READ, None)
print("linux-echo: listening on target0", file=sys.stderr, flush=True)
end = time.monotonic() + 600
while time.monotonic() < end:
    for key, _ in sel.select(1):
        if key.data is None:
            conn, _ = srv.accept()
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sel.register(conn, selectors.EVENT_READ, "conn")
            continue
        try:
            data = key.fileobj.recv(262144)
        except OSError:
            data = b""
        if not data:
            sel.unregister(key.fileobj)
            key.fileobj.close()
        else:
            key.fileobj.sendall(data)
"""


def say(text):
    """A progress line on stderr, with --progress only (the tables are stdout's)."""
    if PROGRESS:
        print(f"bench_tcp: {text}", file=sys.stderr, flush=True)


def make_file(directory, nbytes):
    """Path of a new file of nbytes bytes in directory (one pattern, repeated)."""
    path = Path(directory) / f"bench-{nbytes}.bin"
    block = bytes(range(256)) * 4096
    with open(path, "wb") as f:
        for offset in range(0, nbytes, len(block)):
            f.write(block[:min(len(block), nbytes - offset)])
    return path


def median_or_none(values):
    """The median of the figures that are not None, or None if there are none."""
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def alternate(run_index, targets):
    """targets in one order on even runs and the other on odd ones, so neither
    always goes first."""
    return list(targets) if run_index % 2 == 0 else list(reversed(targets))


def start_servers(lab, target, build, http_file, nbytes, life_s, discard=True):
    """The servers of one lab, as a list of Running: ours is one serve (discard
    and HTTP); Linux's are tcpbulk discard and tcpbulk source --http."""
    tcpbulk = str(build / "bin" / "tcpbulk")
    if target == "ours":
        argv = [str(build / "bin" / "serve"), "-i", "target0", "-a", TARGET_CIDR,
                "--http", str(HTTP_PORT), "--file", str(http_file), "-t", str(life_s)]
        return [Running(lab, argv + (["--discard", str(DISCARD_PORT)] if discard else []))]
    servers = [Running(lab, [tcpbulk, "source", str(HTTP_PORT), str(nbytes), "--http",
                             "-a", TARGET_IP, "-t", str(life_s)])]
    if discard:
        servers.append(Running(lab, [tcpbulk, "discard", str(DISCARD_PORT), "-a", TARGET_IP,
                                     "-t", str(life_s)]))
    return servers


def stop_all(servers):
    """Stops every server (each bounded)."""
    for server in servers:
        server.stop()


def tcpbulk_client(lab, build, direction, nbytes, timeout_s):
    """One `tcpbulk send` (direction "into") or `recv --http` ("out") in the peer:
    Mbit/s, or None (with a progress line) if it failed or timed out."""
    argv = ([str(build / "bin" / "tcpbulk"), "send", TARGET_IP, str(DISCARD_PORT), str(nbytes)]
            if direction == "into" else
            [str(build / "bin" / "tcpbulk"), "recv", TARGET_IP, str(HTTP_PORT), str(nbytes),
             "--http"])
    try:
        run = lab.run("peer", argv + ["-t", str(int(timeout_s))], timeout=timeout_s + 10,
                      check=False)
    except subprocess.TimeoutExpired:
        say(f"{direction}: tcpbulk did not end in {timeout_s} s")
        return None
    found = CLIENT_LINE.match(run.stdout.strip())
    if run.returncode or not found or float(found.group(3)) <= 0:
        say(f"{direction} failed: {(run.stderr or run.stdout).strip()[-200:]}")
        return None
    return int(found.group(2)) * 8 / float(found.group(3)) / 1e6


def bulk_offloads(build, http_file, nbytes, runs, offloads, timeout_s):
    """{direction: {target: [Mbit/s or None per run]}} with offloads "off" or
    "on".  Once a target fails a run, it runs no more in this lab (a failure
    costs a timeout): its later figures are missing, not None."""
    figures = {d: {"ours": [], "linux": []} for d in ("into", "out")}
    failed = set()
    life_s = int(4 * runs * (timeout_s + 10) + 60)
    with ExitStack() as stack:
        labs, servers = {}, []
        for target in ("ours", "linux"):
            labs[target] = stack.enter_context(
                lablib.Lab(target=target, peer="kernel", offloads=offloads, ttl=life_s + 60))
            servers += start_servers(labs[target], target, build, http_file, nbytes, life_s)
        try:
            for lab in labs.values():
                lab.run("peer", ["ping", "-c", "1", "-W", "2", TARGET_IP], check=False)
            for direction in ("into", "out"):
                for run_index in range(runs):
                    for target in alternate(run_index, ("ours", "linux")):
                        if target in failed:
                            continue
                        figure = tcpbulk_client(labs[target], build, direction, nbytes,
                                                timeout_s)
                        say(f"bulk {direction}, offloads {offloads}, {target}: {figure}")
                        figures[direction][target].append(figure)
                        if figure is None:
                            failed.add(target)
        finally:
            stop_all(servers)
    return figures


def fmt_mbit(values):
    """The median of values as "1234.5 (1200-1300)", or "failed" if none ran."""
    mid = median_or_none(values)
    kept = [v for v in values if v is not None]
    if mid is None:
        return "failed"
    spread = f" ({min(kept):.0f}-{max(kept):.0f})" if len(kept) > 1 else ""
    return f"{mid:.1f}{spread}"


def case_bulk(args):
    """Prints the bulk table: both directions, offloads off and on."""
    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        http_file = make_file(directory, args.bytes)
        for offloads in args.offloads:
            figures = bulk_offloads(args.build, http_file, args.bytes, args.runs, offloads,
                                    args.bulk_timeout)
            for direction in ("into", "out"):
                rows.append((direction, offloads, figures[direction]))
            for target in ("ours", "linux"):
                if any(None in figures[d][target] for d in figures):
                    notes.append(f"{target}, offloads {offloads}: a transfer failed, so that lab "
                                 f"ran no more (--progress says why; serve -v names its drops)")
    names = {"into": "into the target (discard)", "out": "out of the target (HTTP GET)"}
    print(f"== bulk, {args.bytes / 1e6:g} MB, C client in the peer (tools/tcpbulk), "
          f"C servers on Linux; Mbit/s, median (range) of {args.runs}, targets alternating")
    print(f"{'direction':30} {'offloads':8} {'ours':>22} {'Linux':>22} {'ours/Linux':>10}")
    for direction, offloads, figures in rows:
        ours, linux = median_or_none(figures["ours"]), median_or_none(figures["linux"])
        ratio = f"{ours / linux:.2f}" if ours and linux else "-"
        print(f"{names[direction]:30} {offloads:8} {fmt_mbit(figures['ours']):>22} "
              f"{fmt_mbit(figures['linux']):>22} {ratio:>10}")
    for note in notes:
        print(note)


def rr_measure(lab, mode, seconds):
    """Runs the Python rr/crr client once in the peer; its figure."""
    run = lab.run("peer", [PYTHON, "-c", RR_CLIENT, mode, str(seconds)],
                  timeout=seconds + 60, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{mode} client failed: {run.stderr.strip()[-300:]}")
    return float(run.stdout.strip())


def rr_target(target, build, seconds):
    """{"rr": round trips/s, "crr": connections/s} for one target, in a lab of its own."""
    with lablib.Lab(target=target, peer="kernel") as lab:
        if target == "ours":
            server = Running(lab, [str(build / "bin" / "serve"), "-i", "target0", "-a",
                                   TARGET_CIDR, "--echo", str(ECHO_PORT), "-t", "600"])
        else:
            server = Running(lab, [PYTHON, "-u", "-c", RR_LINUX_SERVER])
        try:
            lab.run("peer", ["ping", "-c", "1", "-W", "2", TARGET_IP], check=False)
            return {mode: rr_measure(lab, mode, seconds) for mode in ("rr", "crr")}
        finally:
            server.stop()


def case_rr(args):
    """Prints the round-trip table (Python client; Python servers on Linux)."""
    ours = rr_target("ours", args.build, args.seconds)
    linux = rr_target("linux", args.build, args.seconds)
    units = {"rr": "round trips/s", "crr": "connections/s"}
    names = {"rr": "request/response, 1 byte each way", "crr": "connect, 1 byte each way, close"}
    print("== round trips: Python client in the peer; on Linux a Python echo server, "
          "so these compare whole servers")
    print(f"{'measure':40} {'ours':>12} {'Linux':>12} {'ours/Linux':>11}  unit")
    for mode in ("rr", "crr"):
        ratio = ours[mode] / linux[mode] if linux[mode] else 0.0
        print(f"{names[mode]:40} {ours[mode]:12.1f} {linux[mode]:12.1f} {ratio:11.2f}  "
              f"{units[mode]}")


def curl_fetch(lab, nbytes, timeout_s):
    """Seconds curl in the peer took to fetch the nbytes-long body, float("inf")
    if it hit timeout_s, or None (with a progress line) if it failed otherwise."""
    argv = ["curl", "-s", "-o", "/dev/null", "--max-time", str(int(timeout_s)),
            "-w", "%{http_code} %{size_download} %{time_total}",
            f"http://{TARGET_IP}:{HTTP_PORT}/bench.bin"]
    try:
        run = lab.run("peer", argv, timeout=timeout_s + 15, check=False)
    except subprocess.TimeoutExpired:
        return float("inf")
    if run.returncode == 28:  # curl's "operation timed out"
        return float("inf")
    fields = run.stdout.split()
    if run.returncode or len(fields) != 3 or fields[0] != "200" or int(fields[1]) != nbytes:
        say(f"curl failed (exit {run.returncode}): {run.stdout.strip()} {run.stderr.strip()}")
        return None
    return float(fields[2])


def loss_level(args, http_file, loss_pct):
    """{target: [seconds per run]} at loss_pct each way, both wire labs up at once."""
    times = {"ours": [], "linux": []}
    life_s = int(args.runs * 2 * (args.timeout + 20) + 60)
    with ExitStack() as stack:
        labs, servers = {}, []
        for target in ("ours", "linux"):
            labs[target] = stack.enter_context(
                lablib.WireLab(target=target, peer="kernel", loss_pct=loss_pct, ttl=life_s + 60))
            servers += start_servers(labs[target], target, args.build, http_file,
                                     args.loss_bytes, life_s, discard=False)
        stack.callback(stop_all, servers)
        for lab in labs.values():
            lab.run("peer", ["ping", "-c", "3", "-i", "0.2", "-W", "1", TARGET_IP], check=False)
        for run_index in range(args.runs):
            for target in alternate(run_index, ("ours", "linux")):
                if any(t is not None and t > args.long for t in times[target]):
                    continue  # one long run is the figure; do not spend more
                seconds = curl_fetch(labs[target], args.loss_bytes, args.timeout)
                say(f"loss {loss_pct}%, {target}, run {run_index + 1}: {seconds} s")
                times[target].append(seconds)
    return times


def fmt_seconds(values, timeout_s):
    """The median of values as "12.345", ">300 s" if it is a timeout, "failed"."""
    mid = median_or_none(values)
    if mid is None:
        return "failed"
    return f">{timeout_s:g} s" if mid == float("inf") else f"{mid:.3f}"


def case_loss(args):
    """Prints the loss table: curl's fetch through the wire at each loss level."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        http_file = make_file(directory, args.loss_bytes)
        for loss_pct in args.loss:
            rows.append((loss_pct, loss_level(args, http_file, loss_pct)))
    print(f"== loss: curl in the peer fetches {args.loss_bytes / 1e6:g} MB over HTTP through a "
          f"wire namespace that drops PCT% each way (nftables); seconds, median of up to "
          f"{args.runs}, each fetch bounded at {args.timeout:g} s")
    print(f"{'loss each way':14} {'ours s':>10} {'Linux s':>10} {'ours/Linux':>11} "
          f"{'runs ours/Linux':>16}")
    for loss_pct, times in rows:
        ours, linux = median_or_none(times["ours"]), median_or_none(times["linux"])
        finite = ours not in (None, float("inf")) and linux not in (None, float("inf"), 0.0)
        ratio = (f"{ours / linux:.1f}" if finite else
                 f">{args.timeout / linux:.0f}" if ours == float("inf") and linux else "-")
        runs = f"{len(times['ours'])}/{len(times['linux'])}"
        print(f"{str(loss_pct) + '%':14} {fmt_seconds(times['ours'], args.timeout):>10} "
              f"{fmt_seconds(times['linux'], args.timeout):>10} {ratio:>11} {runs:>16}")


def parse_args(argv):
    """The command line as an argparse.Namespace; exits 2 on a usage error."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n", 2)[2])
    parser.add_argument("--only", default="bulk,rr",
                        help="comma-separated cases: bulk, rr, loss (default bulk,rr)")
    parser.add_argument("--build", type=Path, default=TOOLS.parent / "build" / "default")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median), 1-9")
    parser.add_argument("--bytes", type=int, default=50_000_000, help="bulk bytes per run")
    parser.add_argument("--bulk-timeout", type=float, default=60.0,
                        help="seconds one bulk transfer may take")
    parser.add_argument("--offloads", default="off,on",
                        help="bulk with the veth's offloads off, on, or both (default off,on)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per rr/crr figure")
    parser.add_argument("--loss-bytes", type=int, default=10_000_000, help="bytes curl fetches")
    parser.add_argument("--loss", default="0,1,5,10", help="loss levels, percent each way")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one fetch may take")
    parser.add_argument("--long", type=float, default=60.0,
                        help="after a fetch longer than this, no more runs of that target there")
    parser.add_argument("--progress", action="store_true", help="a line on stderr per run")
    args = parser.parse_args(argv[1:])
    args.only = [c for c in args.only.split(",") if c]
    if not args.only or set(args.only) - {"bulk", "rr", "loss"}:
        parser.error("--only takes bulk, rr and loss, comma-separated")
    args.offloads = [o for o in args.offloads.split(",") if o]
    if not args.offloads or set(args.offloads) - {"off", "on"}:
        parser.error("--offloads takes off, on or off,on")
    try:
        args.loss = [int(p) for p in args.loss.split(",")]
    except ValueError:
        parser.error("--loss takes whole percents, comma-separated")
    if not 1 <= args.runs <= 9 or any(not 0 <= p <= 100 for p in args.loss):
        parser.error("--runs is 1 to 9; a loss level is 0 to 100")
    if not (0 < args.timeout <= 3600 and 0 < args.bulk_timeout <= 3600
            and 0 < args.seconds <= 600 and args.bytes > 0 and args.loss_bytes > 0):
        parser.error("timeouts up to 3600 s, --seconds up to 600, byte counts above 0")
    return args


def main(argv):
    """Runs the cases asked for, in order, printing each table; 1 if one cannot run."""
    global PROGRESS
    args = parse_args(argv)
    PROGRESS = args.progress
    cases = {"bulk": case_bulk, "rr": case_rr, "loss": case_loss}
    for index, case in enumerate(args.only):
        if index:
            print()
        started = time.monotonic()
        try:
            cases[case](args)
        except (AssertionError, RuntimeError, lablib.LabUnavailable) as error:
            print(f"bench_tcp: {case} could not run: {error}", file=sys.stderr)
            return 1
        say(f"{case} took {time.monotonic() - started:.0f} s")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
