#!/usr/bin/python3
"""scenario.py - the scenario-script runner's command line (the runner
itself is the package tools/scenariokit/, whose docstring tells what it
does and its limits):
  scenario.py [--target core|ours|linux|all] [--build DIR] [--tolerance MS]
              [--pcap DIR] [-v] SCRIPT_OR_DIR...
plays each script against each target chosen: `core` (our stack in virtual
time, no root), `ours` (our agent over the lab's veth), `linux` (the Linux
kernel over the lab's veth); prints one line per script per target (PASS,
FAIL or N/A with the reason), each failure's detail, and a summary; exits 0
only if nothing failed.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenariokit.benches import VETH_LATE_S  # noqa: E402
from scenariokit.parsing import TARGETS, ScriptError, parse_script  # noqa: E402
from scenariokit.suite import default_build, find_scripts, run_target  # noqa: E402


def parse_args(argv):
    """The CLI's options (see the module docstring)."""
    parser = argparse.ArgumentParser(description="Play scenario scripts against TCP stacks.")
    parser.add_argument("--target", choices=TARGETS + ("all",), default="all")
    parser.add_argument("--build", type=Path, default=default_build(),
                        help="the build whose bin/tcpagent is tested")
    parser.add_argument("--tolerance", type=float, default=VETH_LATE_S * 1000,
                        help="how late (ms) a segment may come over veth (default 50)")
    parser.add_argument("--pcap", type=Path, help="write a pcap of each failing run here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every step")
    parser.add_argument("paths", nargs="+", metavar="SCRIPT_OR_DIR")
    return parser.parse_args(argv)


def main(argv):
    """Runs the CLI; exit status 0 only if nothing failed (N/A is not a failure)."""
    args = parse_args(argv)
    scripts, failed = [], 0
    for path in find_scripts(args.paths):
        try:
            scripts.append(parse_script(path))
        except (ScriptError, OSError) as err:
            print(f"ERROR {err}")
            failed += 1
    targets = TARGETS if args.target == "all" else (args.target,)
    results = [r for target in targets for r in run_target(target, scripts, args)]
    counts = {t: {s: 0 for s in ("PASS", "FAIL", "N/A")} for t in targets}
    for result in results:
        counts[result.target][result.status] += 1
    print("summary: " + "; ".join(f"{t} {c['PASS']} passed, {c['FAIL']} failed, {c['N/A']} n/a"
                                  for t, c in counts.items()))
    failed += sum(c["FAIL"] for c in counts.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
