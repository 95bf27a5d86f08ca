#!/usr/bin/python3
"""compare.py - every frame vector against our stack and against Linux, over
the same kind of veth, side by side.

Ours: the chapter program (ipv4parse for IPv4 vectors, cksumcheck for the
transport ones) prints its verdict for each frame.  Linux: the kernel holds
192.0.2.2 and we read which of its counters (/proc/net/snmp, netstat) the
frame moved.  A vector agrees when our verdict is the vector's and Linux moved
exactly the counters the vector names (testvectors/README.md).

Usage: tools/compare.py [--build DIR] [--quiet]
Exit: 0 if every vector agrees, 1 if any does not, 2 on usage errors.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lablib  # noqa: E402
from labkit import ERROR_COUNTERS, ROOT, Wire, linux_agreement, linux_verdict, ours_verdicts, verdict_of_line  # noqa: E402
from vectors import frame_vectors  # noqa: E402

SUITES = [("ipv4parse", ["ipv4.vec", "truncation.vec"]), ("cksumcheck", ["l4.vec"])]


def run_ours(build, suites):
    """{vector name: our verdict} from the chapter programs on a lab."""
    verdicts = {}
    with lablib.Lab(target="ours", peer="raw") as lab:
        wire = Wire(lab)
        for prog, vectors in suites:
            argv = [str(build / "bin" / prog), "-i", "target0"]
            lines, _ = ours_verdicts(lab, wire, argv, vectors)
            verdicts.update({name: verdict_of_line(line) for name, line in lines.items()})
        wire.close()
    return verdicts


def run_linux(vectors):
    """{vector name: counters moved} from the Linux kernel on a lab."""
    moved = {}
    with lablib.Lab(target="linux", peer="raw") as lab:
        wire = Wire(lab)
        for vec in vectors:
            moved[vec.name] = linux_verdict(lab, wire, vec.frame, vec.linux_counters)
        wire.close()
    return moved


def print_rows(rows, ours, linux):
    """One row per vector: our verdict, the Linux counters moved, agreement."""
    print(f"{'vector':38} {'ours':24} {'Linux counters moved':36} agree")
    for vec, ours_ok, linux_ok, why in rows:
        named = " ".join(sorted(c for c in linux.get(vec.name, {}) if c in vec.linux_counters))
        mark = "yes" if ours_ok and linux_ok else "n/a" if linux_ok is None and ours_ok else "NO"
        detail = "" if ours_ok else f" (vector says {vec.verdict})"
        print(f"{vec.name:38} {ours[vec.name] + detail:24} {named or '-':36} {mark} {why}".rstrip())
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
        print(f"{verdict:22} {len(group):>7} {sum(r[1] for r in group):>6} "
              f"{sum(bool(r[2]) for r in group):>6}  {' | '.join(counters)}")
    print()


def main():
    """Runs both targets and prints one row per vector and a summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=str(ROOT / "build" / "default"), help="build directory")
    parser.add_argument("--quiet", action="store_true", help="print only disagreements and the summary")
    args = parser.parse_args()
    build = Path(args.build)
    suites = [(prog, [v for v in frame_vectors(*files) if len(v.frame) >= 14]) for prog, files in SUITES]
    vectors = [v for _, vs in suites for v in vs]
    linux_vectors = [v for v in vectors if v.linux_counters is not None]
    ours = run_ours(build, suites)
    linux = run_linux(linux_vectors)
    rows = []
    for vec in vectors:
        ours_ok = ours[vec.name] == vec.verdict
        linux_ok, why = linux_agreement(vec, linux[vec.name]) if vec.name in linux else (None, "")
        rows.append((vec, ours_ok, linux_ok, why))
    if not args.quiet:
        print_rows(rows, ours, linux)
    print_summary(rows)
    agree_ours = sum(r[1] for r in rows)
    agree_linux = sum(bool(r[2]) for r in rows)
    skipped = len(frame_vectors(*[f for _, fs in SUITES for f in fs])) - len(vectors)
    print(f"\nours:  {agree_ours} of {len(vectors)} vectors give the verdict the vector names")
    print(f"Linux: {agree_linux} of {len(linux_vectors)} vectors move exactly the counters named")
    print(f"({skipped} vectors are shorter than an Ethernet header: a packet socket cannot send them;"
          " the C tests run them)")
    return 0 if agree_ours == len(vectors) and agree_linux == len(linux_vectors) else 1


if __name__ == "__main__":
    sys.exit(main())
