#!/usr/bin/python3
"""compare.py - every frame vector against our stack and against Linux, over
the same kind of veth, side by side.

Ours: for the IPv4 and transport vectors (chapters 2-3), the chapter program
(ipv4parse, cksumcheck) prints its verdict for each frame; for the ARP,
ICMP and TCP vectors (chapters 4-6), handshake runs as a host (listening on
port 8080) and we record what it sends back.  Linux: the kernel holds 192.0.2.2; we record which of its counters
(/proc/net/snmp, netstat) each frame moved, and what it sent back.
A vector agrees when our verdict (or answer) is the vector's, and Linux moved
exactly the counters the vector names, in a way that fits our verdict's
class, and answered as the vector says Linux answers (testvectors/README.md).

Usage: tools/compare.py [--build DIR] [--quiet]
Exit: 0 if every vector agrees, 1 if any does not, 2 on usage errors.
"""
import argparse
import concurrent.futures
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lablib  # noqa: E402
from labaddr import TARGET_CIDR  # noqa: E402
from labproc import ROOT, Running, Wire  # noqa: E402
from verdicts import (ERROR_COUNTERS, answer_to, counters_moved, expected_kinds,  # noqa: E402
                      linux_agreement, ours_verdicts, read_counters, verdict_of_line)
from vectors import frame_vectors  # noqa: E402

OBSERVED = [("ipv4parse", ["ipv4.vec", "truncation.vec"]), ("cksumcheck", ["l4.vec"])]
ANSWERED = ["arp.vec", "icmp.vec", "tcp.vec"]
HOST = ["-i", "target0", "-a", TARGET_CIDR]


def sendable(files):
    """The vectors of files a packet socket can send (at least 14 bytes)."""
    return [v for v in frame_vectors(*files) if len(v.frame) >= 14]


def run_ours(build):
    """{vector name: our verdict or answer} from the chapter programs on a lab."""
    ours = {}
    with lablib.Lab(target="ours", peer="raw") as lab:
        wire = Wire(lab, as_host=True)
        for prog, files in OBSERVED:
            lines, _ = ours_verdicts(lab, wire, [str(build / "bin" / prog), "-i", "target0"], sendable(files))
            ours.update({name: verdict_of_line(line) for name, line in lines.items()})
        host = Running(lab, [str(build / "bin" / "handshake")] + HOST + ["-p", "8080", "-t", "300"])
        for vec in sendable(ANSWERED):
            ours[vec.name] = answer_to(wire, vec, vec.answer)
        host.stop()
        wire.close()
    return ours


def run_linux(vectors):
    """{vector name: (counters moved, answer kinds)} from the Linux kernel."""
    linux = {}
    with lablib.Lab(target="linux", peer="raw") as lab:
        wire = Wire(lab, as_host=True)
        for vec in vectors:
            before = read_counters(lab, "target")
            kinds = answer_to(wire, vec, vec.linux_answer)
            linux[vec.name] = (counters_moved(before, read_counters(lab, "target")), kinds)
        wire.close()
    return linux


def run_both(build, vectors):
    """(run_ours(), run_linux() of those vectors Linux is judged on), side
    by side: each target in a lab and a process of its own (both wait mostly
    for silence after each frame)."""
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        ours = pool.submit(run_ours, build)
        linux = pool.submit(run_linux, [v for v in vectors if v.linux_counters is not None])
        return ours.result(), linux.result()


def judge_ours(vec, ours):
    """True if our verdict or answer is the one the vector names."""
    if vec.answer is None:
        return ours == vec.verdict
    return ours == expected_kinds(vec.answer)


def judge_linux(vec, linux):
    """(Linux agrees or None when it cannot be sent, why not); linux is
    (counters moved, answer kinds) as run_linux() gives them."""
    if vec.linux_counters is None:
        return None, ""
    moved, kinds = linux
    ok, why = linux_agreement(vec, moved)
    if ok and vec.linux_answer is not None and kinds != expected_kinds(vec.linux_answer):
        ok, why = False, f"answered {kinds or 'nothing'}"
    return ok, why


def judge(vec, ours, linux):
    """(ours agrees, Linux agrees or None when it cannot be sent, why not)."""
    return (judge_ours(vec, ours),) + judge_linux(vec, linux)


def describe_ours(vec, ours):
    """Our verdict, or our answer, as one short word."""
    if vec.answer is None:
        return ours
    return " ".join(ours) or "none"


def print_rows(rows):
    """One row per vector: ours, the Linux counters moved, agreement."""
    if not rows:
        return
    print(f"{'vector':38} {'ours':24} {'Linux counters moved':36} agree")
    for vec, ours, moved, ours_ok, linux_ok, why in rows:
        named = " ".join(sorted(c for c in moved if c in (vec.linux_counters or [])))
        mark = "yes" if ours_ok and linux_ok else "n/a" if linux_ok is None and ours_ok else "NO"
        detail = "" if ours_ok else f" (vector says {vec.answer or vec.verdict})"
        print(f"{vec.name:38} {describe_ours(vec, ours) + detail:24} {named or '-':36} {mark} {why}".rstrip())
    print()


def describe_linux(vec):
    """The Linux counters a vector names, or why there are none."""
    if vec.linux_counters is None:
        return "(cannot be sent)"
    if not any(c in ERROR_COUNTERS for c in vec.linux_counters):
        return " ".join(vec.linux_counters + ["(no error counter)"])
    return " ".join(vec.linux_counters)


def print_summary(rows):
    """One row per verdict: how many vectors, how many agree on each side."""
    print(f"{'verdict':22} {'vectors':>7} {'ours':>6} {'Linux':>6}  Linux counters that move")
    by_verdict = {}
    for row in rows:
        by_verdict.setdefault(row[0].verdict, []).append(row)
    for verdict, group in by_verdict.items():
        counters = sorted({describe_linux(r[0]) for r in group})
        print(f"{verdict:22} {len(group):>7} {sum(r[3] for r in group):>6} "
              f"{sum(bool(r[4]) for r in group):>6}  {' | '.join(counters)}")
    print()


def all_sendable():
    """Every vector a packet socket can send, chapter 2's first."""
    return sendable([f for _, files in OBSERVED for f in files]) + sendable(ANSWERED)


def main():
    """Runs both targets and prints the rows (unless --quiet) and a summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=str(ROOT / "build" / "default"), help="build directory")
    parser.add_argument("--quiet", action="store_true", help="print only disagreements and the summary")
    args = parser.parse_args()
    vectors = all_sendable()
    ours, linux = run_both(Path(args.build), vectors)
    rows = []
    for vec in vectors:
        ours_ok, linux_ok, why = judge(vec, ours[vec.name], linux.get(vec.name))
        rows.append((vec, ours[vec.name], linux.get(vec.name, ({}, []))[0], ours_ok, linux_ok, why))
    print_rows(rows if not args.quiet else [r for r in rows if not (r[3] and r[4] is not False)])
    print_summary(rows)
    linux_rows = [r for r in rows if r[4] is not None]
    skipped = len(frame_vectors(*[f for _, fs in OBSERVED for f in fs], *ANSWERED)) - len(vectors)
    print(f"ours:  {sum(r[3] for r in rows)} of {len(rows)} vectors give the verdict or answer the vector names")
    print(f"Linux: {sum(bool(r[4]) for r in linux_rows)} of {len(linux_rows)} vectors move exactly the counters "
          f"named and answer as named")
    print(f"({skipped} vectors are shorter than an Ethernet header: a packet socket cannot send them;"
          " the C tests run them)")
    return 0 if all(r[3] and r[4] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
