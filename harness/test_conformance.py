"""The conformance harness as a product (tools/conformance.py): its report
has a row for every RFC 9293 requirement and none blank, a failing script
leaves a pcap that tshark reads, the whole suite runs against all three
targets and against an outside stack (the Linux agent run through --agent),
which must get Linux's result on every script, and the committed
CONFORMANCE.md is what the command writes today."""
import csv
import re
import subprocess

import pytest

from conftest import BUILD, ROOT, start_lab

import conformance as tool  # noqa: E402 (tools/, on the path conftest sets)
from scenariokit import suite  # noqa: E402
from scenariokit.parsing import parse_script  # noqa: E402
from scenariokit.running import Result  # noqa: E402

TOOL = [str(ROOT / "tools" / "conformance.py"), "--build", str(BUILD)]
REPORT = ROOT / "CONFORMANCE.md"
# The command that writes CONFORMANCE.md (docs/any-stack.md, README.md).
OUTSIDE = ["--agent", "tools/linux_agent.py", "--agent-name", "linux-agent",
           "--agent-like", "linux"]
RESULT = re.compile(r"^(PASS|FAIL|N/A) +(\S+) +(\S+\.pkt) ")


def conformance(args, timeout):
    """Runs tools/conformance.py with args; the finished process."""
    return subprocess.run(TOOL + args, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def requirement_rows(text):
    """{id: [cells]} of the report's requirement table."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if re.fullmatch(r"(MUST|SHLD|MAY)-\d+", cells[0]):
            rows[cells[0]] = cells
    return rows


def test_report_has_every_requirement_and_no_blank(tmp_path):
    """Against the core: every Appendix B row of the table file is in the
    report, each with its six cells filled, and every chapter is counted."""
    run = conformance(["--target", "core", "--report", str(tmp_path / "r.md")], 120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    with open(ROOT / "testvectors" / "rfc9293-requirements.tsv", newline="") as f:
        wanted = [row["id"] for row in csv.DictReader(f, delimiter="\t")]
    rows = requirement_rows((tmp_path / "r.md").read_text())
    assert len(wanted) == len(set(wanted)) and set(rows) == set(wanted)
    assert sum(1 for w in wanted if w.startswith("MUST-")) == 69
    blank = [k for k, cells in rows.items() if len(cells) != 6 or not all(cells)]
    assert not blank, blank
    with open(ROOT / "testvectors" / "rfc9293-requirements.tsv", newline="") as f:
        partial = [row["id"] for row in csv.DictReader(f, delimiter="\t") if row["unchecked"]]
    # Chapter 8 checks slow start and congestion avoidance; these two rows
    # still have a clause no test checks.
    assert "MUST-19" not in partial and {"MUST-20", "SHLD-26"} <= set(partial)
    claimed = [k for k in partial if rows[k][4].startswith("pass")]
    assert not claimed, f"rows passed on part of their clauses: {claimed}"
    text = (tmp_path / "r.md").read_text()
    for chapter in range(2, 9):
        assert re.search(rf"^\| {chapter} ", text, re.M), f"chapter {chapter} not counted"


def test_failure_leaves_a_pcap(tmp_path):
    """A script that expects the wrong window fails, and its run is in a
    pcap that tshark reads: the SYN and the SYN-ACK."""
    script = tmp_path / "wrong.pkt"
    script.write_text("# rfc: RFC 9293 3.5 (a script that must fail)\n"
                      "0.000 app listen 8080\n"
                      "0.100 < S 0:0(0) win 64240 <mss 1460>\n"
                      "+0    > S. 0:0(0) ack 1 win 1 <mss 1460>\n")
    run = conformance(["--target", "core", "--no-vectors", "--report", str(tmp_path / "r.md"),
                       "--pcap-dir", str(tmp_path / "pcap"), str(script)], 120)
    assert run.returncode == 1, run.stdout + run.stderr
    found = re.search(r"pcap: (\S+\.pcap)", run.stdout)
    assert found, run.stdout
    read = subprocess.run(["tshark", "-r", found.group(1), "-T", "fields", "-e", "tcp.flags.str"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert read.returncode == 0, read.stderr
    flags = [line for line in read.stdout.split() if line]
    assert len(flags) >= 2 and "S" in flags[0] and "A" in flags[1], read.stdout
    assert "wrong.pkt" in (tmp_path / "r.md").read_text().split("## Failures")[1]


def test_unknown_covered_by_is_an_error(tmp_path):
    """A requirement row whose covered_by names a script, a frame vector or a
    C test function that is not there fails the run before anything is
    played (exit 2), naming the row and the item; it is not skipped."""
    with open(ROOT / "testvectors" / "rfc9293-requirements.tsv", newline="") as f:
        header = f.readline()
    bad = ["scripts/06-handshake/no-such-script.pkt", "frames/tcp.vec:no-such-vector",
           "lib/test/test_tcp.c:test_no_such_function"]
    good = "scripts/06-handshake/passive-open.pkt lib/test/test_tcp.c:test_isn"
    table = tmp_path / "requirements.tsv"
    table.write_text(header + f"MUST-1\t3.1\ta row\tMUST\t{good} {' '.join(bad)}\t\t\n")
    run = conformance(["--target", "core", "--no-vectors", "--requirements", str(table),
                       "--report", str(tmp_path / "r.md"),
                       str(ROOT / "testvectors/scripts/06-handshake/passive-open.pkt")], 120)
    assert run.returncode == 2, run.stdout + run.stderr
    for item in bad:
        assert f"MUST-1: {item}: " in run.stderr, run.stderr
    assert "passive-open.pkt:" not in run.stderr and "test_isn'" not in run.stderr, run.stderr
    assert not (tmp_path / "r.md").exists() and "PASS" not in run.stdout, run.stdout


@pytest.mark.parametrize("target,firsts,played,status,named", [
    ("ours", ["FAIL", "PASS"], 2, "PASS", True),    # a pass on the second try counts, named
    ("ours", ["FAIL", "FAIL"], 2, "FAIL", False),   # two failures stay a failure
    ("core", ["FAIL", "PASS"], 1, "FAIL", False),   # virtual time is never played twice
    ("ours", ["PASS"], 1, "PASS", False),
])
def test_second_try(monkeypatch, target, firsts, played, status, named):
    """Over veth, a script that fails is played once more (scripts keep real
    time on a shared machine); a pass then counts and is named with the first
    run's reason, and the core, in virtual time, gets one run only."""
    script = parse_script(ROOT / "testvectors/scripts/06-handshake/passive-open.pkt")
    plays = []

    def run_target(tgt, chosen, _args, **_kw):
        """A stand-in for suite.run_target: the next status in firsts."""
        plays.append(tgt)
        result = firsts[len(plays) - 1]
        return [Result(chosen[0], tgt, result, "line 9: late" if result == "FAIL" else "")]

    monkeypatch.setattr(suite, "run_target", run_target)
    tries = []
    out = tool.scripts_for(target, [script], None, tries)
    assert len(plays) == played and [o.status for o in out] == [status]
    assert bool(tries) == named and all("line 9: late" in t for t in tries), tries


def test_whole_suite_and_an_outside_stack(tmp_path):
    """All targets, and the Linux agent through --agent as if it were an
    outside stack: nothing fails, the outside stack gets Linux's result on
    every script, and CONFORMANCE.md is what this command writes (but for
    its run times)."""
    start_lab(target="linux", peer="raw").down()   # a loud skip if no lab can be had
    report = tmp_path / "CONFORMANCE.md"
    run = conformance(OUTSIDE + ["--report", str(report)], 1500)
    failed = report.read_text().split("## Failures")[-1][:6000] if report.exists() else ""
    assert run.returncode == 0, failed + run.stdout[-3000:] + run.stderr
    results = {}
    for line in run.stdout.splitlines():
        found = RESULT.match(line)
        if found:
            results[(found.group(2), found.group(3))] = found.group(1)
    scripts = {name for _, name in results}
    assert len(scripts) >= 85
    differ = [s for s in scripts if results.get(("linux", s)) != results.get(("linux-agent", s))]
    assert not differ, "\n".join([str(differ)] + [l for l in run.stdout.splitlines()
                                                   if any(s in l for s in differ)])
    for target in ("core", "ours", "linux", "linux-agent"):
        assert re.search(rf"^summary: {target}: .* / 0 / ", run.stdout, re.M), target
    fresh = [l for l in report.read_text().splitlines() if not l.startswith(("Run times", "Generated"))]
    kept = [l for l in REPORT.read_text().splitlines() if not l.startswith(("Run times", "Generated"))]
    assert fresh == kept, "CONFORMANCE.md is stale: regenerate it (README.md, 'Run the conformance harness')"
