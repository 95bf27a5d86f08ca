#!/usr/bin/python3
"""conformance.py - the conformance harness in one command: every frame vector
and every scenario script against the targets chosen, with a line per result
as it goes, a summary at the end, and a report in Markdown (CONFORMANCE.md).

Targets:
  core   the stack's core in virtual time (tcpagent --virtual, test_frames):
         no root, no network, deterministic
  ours   our stack over the lab's veth (tcpagent, the chapter programs)
  linux  the Linux kernel over the same veth (tools/linux_agent.py, counters)
  all    the three
Any other stack: --agent 'CMD ARGS' adds a target that runs CMD in the lab's
target namespace and speaks the agent protocol (docs/any-stack.md).  Its
scripts are judged by the lines for every target plus those tagged for the
target named by --agent-like (ours: a stack on the raw link, the kernel
holding no address there; linux: a kernel-held 192.0.2.2).  Frame vectors
judge a chapter program's verdicts or the kernel's counters, so they do not
apply to an outside stack.

Usage: tools/conformance.py [--target core|ours|linux|all|none] [--agent CMD]
           [--agent-name NAME] [--agent-like ours|linux] [--build DIR]
           [--report FILE] [--pcap-dir DIR] [--no-vectors]
           [--requirements FILE] [SCRIPT_OR_DIR ...]
Scripts default to every one under testvectors/scripts.  The requirement
table (default testvectors/rfc9293-requirements.tsv) is checked first: a
covered_by item that names no script, frame vector or C test function is an
error of the run (exit 2), not a check quietly skipped.  Each failing script
leaves a pcap of its run in --pcap-dir (default build/conformance-pcap), and
the failure's line says where.
Exit: 0 if nothing failed (not applicable is not a failure), 1 if something
did, 2 on usage errors and on a requirement table that names what is not
there.
"""
import argparse
import concurrent.futures
import csv
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare  # noqa: E402
import scenariokit  # noqa: E402
from scenariokit import suite  # noqa: E402
from scenariokit.benches import VETH_LATE_S, VethBench  # noqa: E402
from scenariokit.parsing import TARGETS, parse_script  # noqa: E402
from scenariokit.running import Result, display_name  # noqa: E402
from vectors import FRAME_FILES, frame_vectors  # noqa: E402

ROOT = scenariokit.ROOT
SCRIPTS = ROOT / "testvectors" / "scripts"
REQUIREMENTS = ROOT / "testvectors" / "rfc9293-requirements.tsv"
CHAPTER_OF_VECTORS = {"ipv4.vec": 2, "truncation.vec": 2, "l4.vec": 3, "arp.vec": 4,
                      "icmp.vec": 5, "tcp.vec": 6}
CHAPTER_TITLES = {2: "IPv4", 3: "checksum", 4: "ARP", 5: "ICMP echo", 6: "TCP handshake",
                  7: "TCP data transfer", 8: "congestion control"}
STATUSES = ("PASS", "FAIL", "N/A")


class Outcome:
    """One item (vector or script) against one target."""

    def __init__(self, kind, name, chapter, target, status, why="", script=None):
        """kind: "vector" or "script"; status: PASS, FAIL or N/A."""
        self.kind, self.name, self.chapter, self.target = kind, name, chapter, target
        self.status, self.why, self.script = status, why, script


# ================================================================ vectors

def vector_chapter(vec):
    """The chapter a frame vector belongs to (from its file)."""
    return CHAPTER_OF_VECTORS[vec.where.split(":")[0]]


def vectors_core(build):
    """Every frame vector through the core (test_frames): FAIL where the C
    test names the vector in a failure."""
    program = Path(build) / "lib" / "test" / "test_frames"
    run = subprocess.run([str(program)], capture_output=True, text=True, timeout=300,
                         cwd=ROOT, check=False)
    failed = set(re.findall(r"^FAIL [^ ]+ ([\w.-]+):", run.stderr, re.M))
    out = []
    for vec in frame_vectors(*FRAME_FILES):
        status = "FAIL" if vec.name in failed or (run.returncode and not failed) else "PASS"
        out.append(Outcome("vector", vec.name, vector_chapter(vec), "core", status))
        report(out[-1])
    return out


def vectors_veth(target, build):
    """Every frame vector a packet socket can send, against ours or Linux
    (tools/compare.py's rules); the rest are N/A, with the reason."""
    sendable = compare.all_sendable()
    names = {v.name for v in sendable}
    if target == "ours":
        seen = compare.run_ours(Path(build))
        judged = {v.name: (compare.judge_ours(v, seen[v.name]), "") for v in sendable}
    else:
        seen = compare.run_linux([v for v in sendable if v.linux_counters is not None])
        judged = {v.name: compare.judge_linux(v, seen.get(v.name)) for v in sendable}
    out = []
    for vec in frame_vectors(*FRAME_FILES):
        ok, why = judged.get(vec.name, (None, ""))
        if vec.name not in names:
            status, why = "N/A", "shorter than an Ethernet header: a packet socket cannot send it"
        elif ok is None:
            status, why = "N/A", vec.linux
        else:
            status = "PASS" if ok else "FAIL"
        out.append(Outcome("vector", vec.name, vector_chapter(vec), target, status, why))
        report(out[-1])
    return out


def veth_vectors(targets, build):
    """vectors_veth() for each of targets in turn: (Outcomes, seconds)."""
    began, out = time.monotonic(), []
    for target in targets:
        out += vectors_veth(target, build)
    return out, time.monotonic() - began


def report(outcome):
    """The progress line of one vector result that is not a pass."""
    if outcome.status != "PASS":
        suite.say(f"{outcome.status:4}  {outcome.target:5}  vector {outcome.name}  {outcome.why}")


# ================================================================ scripts

def script_chapter(script):
    """The chapter of a script: its folder's number (06-handshake: 6)."""
    match = re.match(r"(\d+)-", script.path.parent.name)
    return int(match.group(1)) if match else 0


class RunArgs:
    """The options suite.run_target() reads, for every target."""

    def __init__(self, build, pcap_dir):
        """build: the build tested; pcap_dir: where failing runs leave pcaps."""
        self.build, self.pcap = Path(build), pcap_dir
        self.tolerance = VETH_LATE_S * 1000
        self.verbose = False


def scripts_for(target, scripts, args, second_tries, agent=None):
    """Every script against target (agent: (name, argv, like) for an outside
    stack); Outcomes, printed as they come.  Over veth a script keeps real
    time on a shared machine, so one that fails is played once more; a pass
    then counts, and goes into second_tries with the first run's reason."""
    def play(chosen):
        """Results of the scripts chosen against this target."""
        if agent is None:
            return suite.run_target(target, chosen, args)
        return run_agent(agent, chosen, args)
    results = play(scripts)
    for i, result in enumerate(results):
        if result.status == "FAIL" and target != "core":
            again = play([result.script])[0]
            if again.status == "PASS":
                second_tries.append(f"{target} {display_name(result.script.path)} "
                                    f"(first: {result.reason})")
                results[i] = again
    return [Outcome("script", display_name(r.script.path), script_chapter(r.script),
                    target, r.status, r.reason + pcap_note(r), r.script) for r in results]


def timed_scripts(target, scripts, args, agent):
    """scripts_for() in a process of its own: (Outcomes, seconds, second tries)."""
    began, second_tries = time.monotonic(), []
    out = scripts_for(target, scripts, args, second_tries, agent)
    return out, time.monotonic() - began, second_tries


def pcap_note(result):
    """" (pcap: PATH)" when the run left one."""
    paths = [d[len("pcap: "):] for d in result.detail if d.startswith("pcap: ")]
    return f" (pcap: {paths[0]})" if paths else ""


def run_agent(agent, scripts, args):
    """Plays every script against an outside agent, judged like its
    --agent-like target; prints as it goes; returns Results."""
    name, argv, like = agent
    try:
        bench = VethBench(like, argv)
    except Exception as err:  # noqa: BLE001 - any reason is reported as N/A
        why = f"{type(err).__name__}: {err}"
        results = [Result(script, like, "N/A", why) for script in scripts]
        for result in results:
            suite.say(result.line(name))
        return results
    return suite.run_target(like, scripts, RunArgs(args.build, args.pcap / name),
                               bench=bench, label=name)


# ================================================================ report

def counts(outcomes):
    """"P / F / N" for a list of outcomes."""
    n = {s: sum(o.status == s for o in outcomes) for s in STATUSES}
    return f"{n['PASS']} / {n['FAIL']} / {n['N/A']}"


def chapter_table(outcomes, targets):
    """Per chapter and kind: passed / failed / not applicable per target."""
    rows = ["| chapter | checks | " + " | ".join(targets) + " |",
            "|---|---|" + "---|" * len(targets)]
    for chapter in sorted({o.chapter for o in outcomes}):
        for kind, label in (("vector", "frame vectors"), ("script", "scenario scripts")):
            mine = [o for o in outcomes if o.chapter == chapter and o.kind == kind]
            if not mine:
                continue
            cells = [counts([o for o in mine if o.target == t]) if any(o.target == t for o in mine)
                     else "not run" for t in targets]
            title = CHAPTER_TITLES.get(chapter, "")
            rows.append(f"| {chapter} {title} | {label} | " + " | ".join(cells) + " |")
    return rows


def read_requirements():
    """The rows of RFC 9293 Appendix B, as dicts (REQUIREMENTS: by default
    testvectors/rfc9293-requirements.tsv; --requirements sets it)."""
    with open(REQUIREMENTS, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def c_test_defined(path, function):
    """True if the C file at path defines function (a test is a
    `static void NAME(void)` at the start of a line)."""
    try:
        text = path.read_text()
    except OSError:
        return False
    return re.search(rf"^(?:static\s+)?void\s+{re.escape(function)}\s*\(", text, re.M) is not None


def unknown_items(rows):
    """Every covered_by item of rows that names nothing there: no script
    under testvectors/scripts, no frame vector of that file, no C test
    function in that file.  Each as "ID: ITEM: why"."""
    vectors = {(v.where.split(":")[0], v.name) for v in frame_vectors(*FRAME_FILES)}
    out = []
    for row in rows:
        for item in row["covered_by"].split():
            if item.startswith("scripts/"):
                ok, why = (SCRIPTS / item[len("scripts/"):]).is_file(), "no such script"
            elif item.startswith("frames/"):
                file, _, name = item[len("frames/"):].partition(":")
                ok, why = (file, name) in vectors, f"no frame vector {name!r} in {file}"
            elif item.startswith("lib/test/"):
                file, _, function = item.partition(":")
                ok = bool(function) and c_test_defined(ROOT / file, function)
                why = f"no C test function {function!r} in {file}"
            else:
                ok, why = False, "neither scripts/..., frames/FILE:VECTOR nor lib/test/FILE.c:FUNCTION"
            if not ok:
                out.append(f"{row['id']}: {item}: {why}")
    return out


def item_name(item):
    """The outcome name of a covered_by item (a vector's or a script's)."""
    return item.split(":", 1)[1] if item.startswith("frames/") else item[len("scripts/"):]


def on_own_lines(outcome):
    """True if a script outcome was judged by lines of its target's own: the
    script says Linux differs, or tags lines for one target."""
    script = outcome.script if outcome else None
    return bool(script) and (script.linux.startswith("differs")
                             or any(line.tags is not None for line in script.lines))


def item_status(item, by_name, target, c_tests):
    """The status of one covered_by item for target, or None if it is not
    run against target."""
    if item.startswith("lib/test/"):
        program = Path(item.split(":")[0]).stem
        return c_tests.get(program) if target in ("core", "ours") else None
    found = by_name.get((item_name(item), target))
    return found.status if found else None


def requirement_cell(row, by_name, targets, c_tests):
    """The result of one requirement row for a group of targets."""
    if row["not_applicable"]:
        return "n/a: " + row["not_applicable"]
    items = row["covered_by"].split()
    if not items:
        return "**not checked yet**"
    statuses = [(i, item_status(i, by_name, t, c_tests)) for i in items for t in targets]
    ran = [(i, s) for i, s in statuses if s is not None]
    failed = sorted({i for i, s in ran if s == "FAIL"})
    if failed:
        return "**FAIL** " + ", ".join(failed)
    if not ran:
        return "not run: its checks are C tests of our core"
    passed = sum(s == "PASS" for _, s in ran)
    if not passed:
        return "not applicable: its scripts run on our stack only (their `targets:` say why)"
    own = sum(on_own_lines(by_name.get((item_name(i), "linux"))) for i in items
              if targets == ("linux",) and item_status(i, by_name, "linux", c_tests) == "PASS")
    mine = f"; {own} by Linux's own lines, listed below" if own else ""
    checks = f"{passed} check{'s' if passed > 1 else ''}{mine}"
    # A row passes only when every clause of it is checked.
    if row["unchecked"]:
        return f"**partly checked** ({checks} pass); not checked: {row['unchecked']}"
    return f"pass ({checks})"


def requirement_table(outcomes, c_tests):
    """RFC 9293 Appendix B, a row per requirement, no row blank."""
    by_name = {(o.name, o.target): o for o in outcomes}
    rows = ["| requirement | RFC 9293 | what it asks | checked by | ours | Linux |",
            "|---|---|---|---|---|---|"]
    for row in read_requirements():
        checked = " ".join(f"`{i}`" for i in row["covered_by"].split()) or "—"
        ours = requirement_cell(row, by_name, ("core", "ours"), c_tests)
        linux = requirement_cell(row, by_name, ("linux",), c_tests)
        rows.append(f"| {row['id']} | {row['section']} | {row['feature']} | {checked} | "
                    f"{ours} | {linux} |")
    return rows


def requirement_summary():
    """A line of MUST figures: rows, checked, not applicable, gaps."""
    rows = [r for r in read_requirements() if r["level"] == "MUST"]
    covered = [r for r in rows if r["covered_by"] and not r["not_applicable"]]
    partly = sum(bool(r["unchecked"]) for r in covered)
    na = sum(bool(r["not_applicable"]) for r in rows)
    return (f"{len(rows)} MUST rows: {len(covered) - partly} checked, {partly} partly checked "
            f"(the clause not checked is named), {na} not applicable to this stack, "
            f"{len(rows) - len(covered) - na} not checked yet.")


def differences(scripts):
    """Every place a script expects Linux to act otherwise than our stack:
    the script, why (its `linux:` header), and each line for one side only."""
    out = []
    for script in scripts:
        tagged = [line for line in script.lines if line.tags is not None]
        if not script.linux.startswith("differs") and not tagged:
            continue
        out.append(f"**{display_name(script.path)}**: {script.linux or 'differs'}")
        out.append("")
        for line in tagged:
            out.append(f"    line {line.lineno}: {line.text.strip()}")
        out.append("")
    return out


def vector_differences():
    """Every frame vector on which Linux acts otherwise than our stack, with
    the vector's reason."""
    out = []
    for vec in frame_vectors(*FRAME_FILES):
        if vec.linux_differs:
            out.append(f"- `{vec.name}` ({vec.where}): ours `{vec.verdict}`; Linux's "
                       f"counters: {vec.linux}; {vec.linux_differs}")
    return out


def failures(outcomes):
    """Every failure, with its reason and pcap."""
    failed = [o for o in outcomes if o.status == "FAIL"]
    if not failed:
        return ["None."]
    return [f"- {o.target}: {o.kind} `{o.name}`: {o.why}" for o in failed]


def write_report(path, outcomes, scripts, targets, c_tests, runs, command):
    """Writes the Markdown report; runs is (seconds per target, the scripts
    that passed on a second try)."""
    timings, second_tries = runs
    tries = f" Passed on a second try: {'; '.join(second_tries)}." if second_tries else ""
    lines = ["# Conformance report", "",
             "Generated by `" + command + "`; do not edit by hand. Results: passed / failed / "
             "not applicable. How to read it and how to point it at another stack: "
             "[docs/any-stack.md](docs/any-stack.md).", "",
             "Run times: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + "." + tries,
             "",
             "## Per chapter", ""]
    lines += chapter_table(outcomes, targets)
    lines += ["", "C tests of the core: " + ", ".join(f"`{k}` {v.lower()}" for k, v in
                                                       sorted(c_tests.items())) + ".", "",
              "## RFC 9293 requirements (Appendix B)", "",
              requirement_summary() + " A row's result for ours combines the core in virtual "
              "time, the C tests and our stack over veth; Linux's, the scripts and vectors run "
              "against the kernel (its own expected lines where it differs, listed below).", ""]
    lines += requirement_table(outcomes, c_tests)
    lines += ["", "## Where Linux differs from our stack", "",
              "Each script that expects something else of Linux, with the reason its header "
              "gives and the lines played for one side only (`{ours}`: core and ours; "
              "`{linux}`: Linux).", ""]
    lines += differences(scripts)
    lines += ["Frame vectors (each vector's `linux-differs` field):", ""]
    lines += vector_differences() + [""]
    lines += ["## Failures", ""] + failures(outcomes) + [""]
    Path(path).write_text("\n".join(lines))


# ================================================================ CLI

def c_test_programs():
    """The C test programs the requirement table names (lib/test/NAME.c:...)."""
    return sorted({Path(item.split(":")[0]).stem for row in read_requirements()
                   for item in row["covered_by"].split() if item.startswith("lib/test/")})


def c_test_results(build):
    """{program: PASS or FAIL} for the C tests the requirement table names."""
    out = {}
    for program in c_test_programs():
        path = Path(build) / "lib" / "test" / program
        run = subprocess.run([str(path)], capture_output=True, timeout=300, check=False)
        out[program] = "PASS" if run.returncode == 0 else "FAIL"
        print(f"{out[program]:4}  core   C test {program}", flush=True)
    return out


def parse_args(argv):
    """The CLI's options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=TARGETS + ("all", "none"), default="all")
    parser.add_argument("--agent", help="an outside stack's agent command, run in the target side")
    parser.add_argument("--agent-name", default="agent", help="its name in the report")
    parser.add_argument("--agent-like", choices=("ours", "linux"), default="ours",
                        help="whose tagged lines it is judged by, and whose lab it gets")
    parser.add_argument("--build", type=Path, default=suite.default_build())
    parser.add_argument("--report", type=Path, default=ROOT / "CONFORMANCE.md")
    parser.add_argument("--pcap-dir", type=Path, default=ROOT / "build" / "conformance-pcap")
    parser.add_argument("--no-vectors", action="store_true", help="scripts only")
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS,
                        help="the requirement table (default testvectors/rfc9293-requirements.tsv)")
    parser.add_argument("paths", nargs="*", metavar="SCRIPT_OR_DIR")
    args = parser.parse_args(argv)
    if args.target == "none" and not args.agent:
        parser.error("--target none needs --agent")
    return args


def main(argv):
    """Runs the CLI; exit 0 only if nothing failed."""
    global REQUIREMENTS  # noqa: PLW0603 - the table every report function reads
    args = parse_args(argv)
    REQUIREMENTS = args.requirements
    unknown = unknown_items(read_requirements())
    if unknown:
        for line in unknown:
            print(f"error: {REQUIREMENTS}: {line}", file=sys.stderr)
        print(f"error: {len(unknown)} covered_by item(s) name nothing that exists; "
              "no check was run", file=sys.stderr)
        return 2
    targets = [] if args.target == "none" else (
        list(TARGETS) if args.target == "all" else [args.target])
    scripts = [parse_script(p) for p in suite.find_scripts(args.paths or [SCRIPTS])]
    run_args = RunArgs(args.build, args.pcap_dir)
    outcomes, timings, second_tries = [], {}, []
    c_tests = c_test_results(args.build) if "core" in targets else {}
    veth = [] if args.no_vectors else [t for t in targets if t != "core"]
    agent = (args.agent_name, shlex.split(args.agent), args.agent_like) if args.agent else None
    plays = [(t, None) for t in targets if t != "core"] + ([(args.agent_name, agent)] if agent else [])
    # Over veth each target plays in a lab and a process of its own, side by
    # side: the scripts wait on timers far more than they compute, and a
    # process of its own gives each its own interpreter lock.  The frame
    # vectors over veth, which wait mostly for silence (compare.py), run in
    # one more, alongside.
    with concurrent.futures.ProcessPoolExecutor(max_workers=1 + len(plays)) as pool:
        vectors = pool.submit(veth_vectors, veth, args.build)
        played = [(name, pool.submit(timed_scripts, name, scripts, run_args, play))
                  for name, play in plays]
        if "core" in targets:
            began = time.monotonic()
            if not args.no_vectors:
                outcomes += vectors_core(args.build)
            outcomes += scripts_for("core", scripts, run_args, second_tries)
            timings["core"] = time.monotonic() - began
        for name, future in played:
            more, timings[name], tries = future.result()
            outcomes, second_tries = outcomes + more, second_tries + tries
        veth_outcomes, veth_seconds = vectors.result()
        outcomes += veth_outcomes
        if veth:
            timings["vectors over veth, alongside"] = veth_seconds
    targets += [args.agent_name] if agent else []
    command = "tools/conformance.py " + " ".join(shlex.quote(a) for a in argv)
    write_report(args.report, outcomes, scripts, targets, c_tests, (timings, second_tries),
                 command.strip())
    for target in targets:
        mine = [o for o in outcomes if o.target == target]
        print(f"summary: {target}: vectors {counts([o for o in mine if o.kind == 'vector'])}, "
              f"scripts {counts([o for o in mine if o.kind == 'script'])} "
              f"(passed / failed / n/a), {timings[target]:.0f} s")
    if "vectors over veth, alongside" in timings:
        print(f"vectors over veth ({', '.join(veth)}): "
              f"{timings['vectors over veth, alongside']:.0f} s, alongside the scripts")
    for line in second_tries:
        print(f"passed on a second try: {line}")
    print(f"report: {args.report}")
    failed = any(o.status == "FAIL" for o in outcomes) or "FAIL" in c_tests.values()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
