"""scenariokit.suite - many scripts against a target, as tools/scenario.py
and tools/conformance.py play them: the scripts under a path
(find_scripts), the build tested (default_build), the bench of a target
(open_bench: N/A with the reason when it cannot be had here), and
run_target(), which prints a line per script as it goes.
"""
import os
import sys
import time
from pathlib import Path

from labaddr import TARGET_CIDR

from . import PYTHON, ROOT, TOOLS
from .benches import CoreBench, VethBench
from .running import Result, indent, run_script


def find_scripts(paths):
    """The .pkt files named, or found (sorted) under the directories named."""
    found = []
    for name in paths:
        path = Path(name)
        found += sorted(path.rglob("*.pkt")) if path.is_dir() else [path]
    return found


def default_build():
    """$TCPIP_BUILD, else build/asan-ubsan if it has tcpagent, else build/default."""
    if os.environ.get("TCPIP_BUILD"):
        return Path(os.environ["TCPIP_BUILD"])
    sanitized = ROOT / "build" / "asan-ubsan"
    return sanitized if (sanitized / "bin" / "tcpagent").exists() else ROOT / "build" / "default"


def open_bench(target, build, late_s):
    """The bench for `target`, or (None, why) when it cannot be had here."""
    agent = Path(build) / "bin" / "tcpagent"
    try:
        if target == "core":
            return CoreBench(agent), ""
        if target == "ours":
            if not agent.is_file():
                raise ValueError(f"{agent} is missing: build it first")
            argv = [str(agent), "-i", "target0", "-a", TARGET_CIDR]
        else:
            argv = [PYTHON, str(TOOLS / "linux_agent.py"), "-i", "target0"]
        return VethBench(target, argv, late_s=late_s), ""
    except Exception as err:  # noqa: BLE001 - any reason is reported as N/A
        return None, f"{type(err).__name__}: {err}"


def late_summary(results):
    """"n, median, max ms" of how late matched segments/events were, or ""."""
    late = sorted(x * 1000 for r in results for x in r.late)
    sent = sorted(x * 1000 for r in results for x in r.injected)
    if not late:
        return ""
    median, p95 = late[len(late) // 2], late[int(len(late) * .95)]
    text = (f", timing: {len(late)} segments/events came {late[0]:+.1f}..{late[-1]:+.1f} ms "
            f"from TIME (median {median:+.1f}, 95% {p95:+.1f})")
    if sent:
        text += (f"; {len(sent)} < segments left {sent[0]:+.1f}..{sent[-1]:+.1f} ms "
                 f"from TIME (median {sent[len(sent) // 2]:+.1f})")
    return text


def run_target(target, scripts, args, bench=None, label=None):
    """Plays every script against `target`, or against `bench` (an outside
    agent's, judged as `target`, shown as `label`); prints as it goes;
    returns Results."""
    why = ""
    if bench is None:
        bench, why = open_bench(target, args.build, args.tolerance / 1000)
    label = label or target
    results = []
    began = time.monotonic()
    try:
        for script in scripts:
            if bench is None:
                result = Result(script, target, "N/A", why)
            else:
                result = run_script(script, bench, args.verbose, args.pcap)
            results.append(result)
            say(result.line(label))
            for text in result.detail:
                for line in indent(text).splitlines():
                    say(line)
    finally:
        if bench is not None:
            bench.close()
    say(f"  {label}: {time.monotonic() - began:.1f} s{late_summary(results)}")
    return results


def say(line):
    """Prints one line in one write: tools/conformance.py plays targets in
    processes side by side on one stdout, and a pipe keeps a write of at
    most PIPE_BUF (4096) bytes whole, so no line is cut by another's.
    (print() is not enough: four processes printing 20,000 short lines each
    with print(..., flush=True) into one pipe left 10,500 of the 80,000 lines
    broken, a line's newline written apart from it; with this, none.)"""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
