"""The book is tested: every shell block of BOOK.md, README.md, each
chapter's README.md and the pages in docs/ runs, in order, and the output block that follows it
must match what it prints.

Conventions (BOOK.md, "How the book is tested"):
- A block fenced as ```sh holds commands.  Each block runs with bash from the
  repository's root; the blocks of one page share a lab name
  (TCPIP_LAB_NAME), and the lab is taken down after the page, pass or fail.
  A block fails if its last command exits non-zero.
- A ```text block right after an sh block (blank lines between are allowed)
  is its expected output, stdout and stderr together.  Placeholders stand for
  what varies: <time> (12:34:56.123456), <hex>, <n> (a number), <any> (the
  rest of the line); a line "..." stands for any number of lines.
- The one command not run here is ./run-tests: it is the command running this
  test.  Every other command is run.
- A block that is one harness module's run, `[TCPIP_BUILD=DIR] /usr/bin/python3
  -m pytest -q [-p no:cacheprovider] harness/MODULE [-k "EXPR"] [| tail -1]`,
  is the same run CTest makes of that module (harness/run_module.py): when
  TCPIP_HARNESS_RUNS holds a record of it (same module, selection and build)
  newer than everything the run depends on, the block is judged on what that
  run printed instead of running the module a second time.  CTest runs each
  page after the modules it shows (harness/CMakeLists.txt).
"""
import json
import os
import re
import subprocess
import time

import pytest

from conftest import ROOT
from run_module import recorded_run

PAGES = ([ROOT / "README.md", ROOT / "BOOK.md"] + sorted(ROOT.glob("chapters/*/README.md"))
         + sorted(ROOT.glob("docs/*.md")))
NOT_RUN = {"./run-tests"}  # runs this test; see the module docstring
PLACEHOLDERS = {
    "<time>": r"\d\d:\d\d:\d\d\.\d{6}",
    "<hex>": r"[0-9a-f]+",
    "<n>": r"\d+",
    "<any>": r".*",
}


def blocks(page):
    """[(line, commands, expected output or None)] of page, in order."""
    text = page.read_text()
    fences = list(re.finditer(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", text, re.M | re.S))
    out = []
    for i, fence in enumerate(fences):
        if fence.group(1) != "sh":
            continue
        expected = None
        if i + 1 < len(fences) and fences[i + 1].group(1) == "text":
            between = text[fence.end():fences[i + 1].start()]
            if not between.strip():
                expected = fences[i + 1].group(2)
        line = text[:fence.start()].count("\n") + 1
        out.append((line, fence.group(2), expected))
    return out


# A block that runs one harness module (see the module docstring).
MODULE_RUN = re.compile(r'(?:TCPIP_BUILD=(\S+) )?/usr/bin/python3 -m pytest -q(?: -p no:cacheprovider)?'
                        r' harness/(test_\w+\.py)(?: -k (?:"([^"]*)"|(\w+)))?( \| tail -1)?')


def recorded(commands):
    """(exit status, output) for a block that shows a module's run CTest has
    recorded, fresh; None if the block is not such a run or there is none."""
    found = MODULE_RUN.fullmatch(commands.strip())
    runs_dir = os.environ.get("TCPIP_HARNESS_RUNS")
    if not found or not runs_dir:
        return None
    build, module, quoted, word, tail = found.groups()
    build = ROOT / (build or "build/asan-ubsan")
    record = recorded_run(runs_dir, module, quoted or word or "", build)
    if record is None:
        return None
    if tail:  # `| tail -1`: the last line, and tail's status
        return 0, record["output"].rstrip("\n").rsplit("\n", 1)[-1] + "\n"
    return record["returncode"], record["output"]


def line_pattern(line):
    """A regex for one expected line, placeholders expanded."""
    parts = re.split(r"(<time>|<hex>|<n>|<any>)", line)
    return "".join(PLACEHOLDERS.get(part, re.escape(part)) for part in parts)


def matches(expected, actual):
    """True if actual's lines match expected's, "..." matching any run."""
    want = expected.rstrip("\n").split("\n")
    got = actual.rstrip("\n").split("\n") if actual.strip() else []

    def match(i, j):
        if i == len(want):
            return j == len(got)
        if want[i] == "...":
            return any(match(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and re.fullmatch(line_pattern(want[i]), got[j]) is not None and match(i + 1, j + 1)

    return match(0, 0)


def run_page(page):
    """Runs every block of page; returns a list of failures (text)."""
    env = dict(os.environ, TCPIP_LAB_NAME=f"book-{page.parent.name}-{os.getpid()}")
    env.pop("TCPIP_BUILD", None)
    env.pop("TCPIP_HARNESS_RUNS", None)
    failures = []
    try:
        for line, commands, expected in blocks(page):
            if commands.strip() in NOT_RUN:
                continue
            where = f"{page.relative_to(ROOT)}:{line}"
            done = recorded(commands)
            if done:
                print(f"{where}: judged on CTest's run of the same module")
            else:
                run = subprocess.run(["bash", "-c", commands], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     timeout=600)
                done = run.returncode, run.stdout
            status, printed = done
            if status != 0:
                failures.append(f"{where}: exit {status}\n{commands}\n--- printed:\n{printed}")
            elif expected is not None and not matches(expected, printed):
                failures.append(f"{where}: output differs\n--- book:\n{expected}--- printed:\n{printed}")
    finally:
        subprocess.run([str(ROOT / "tools" / "lab"), "down"], env=env, capture_output=True, timeout=60)
    return failures


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page(page):
    """Every command on the page runs, and prints what the page says."""
    assert page.exists(), f"{page} is missing"
    failures = run_page(page)
    assert not failures, "\n\n".join(failures)


def test_matcher():
    """The placeholders match what they say and nothing more."""
    assert matches("<time> x <n>\n...\nend\n", "12:34:56.123456 x 42\na\nb\nend\n")
    assert matches("a\n...\n", "a\n")
    assert not matches("<n>\n", "x\n")
    assert not matches("a\nb\n", "a\n")
    assert not matches("<time>\n", "12:34:56\n")


def test_recorded(tmp_path, monkeypatch):
    """A block that shows a module's run is judged on CTest's record of the
    same run only: same module, selection and build, and newer than its
    inputs; `| tail -1` gives the last line and tail's status."""
    monkeypatch.setenv("TCPIP_HARNESS_RUNS", str(tmp_path))
    build = ROOT / "build" / "asan-ubsan"

    def record(module, selection, build_dir, finished):
        """Writes a record as run_module.py does."""
        from run_module import record_path
        path = record_path(tmp_path, module, selection)
        path.write_text(json.dumps({"module": module, "selection": selection,
                                    "build": str(build_dir), "returncode": 1,
                                    "output": "x\n1 failed in 2s\n", "finished": finished}))

    shown = '/usr/bin/python3 -m pytest -q -p no:cacheprovider harness/test_ch07_data.py'
    record("test_ch07_data.py", "not under_faults", build, time.time() + 60)
    assert recorded(shown + ' -k "not under_faults" | tail -1') == (0, "1 failed in 2s\n")
    assert recorded(shown + ' -k "not under_faults"') == (1, "x\n1 failed in 2s\n")
    assert recorded(shown) is None                       # another selection
    assert recorded("TCPIP_BUILD=build/default " + shown + ' -k "not under_faults"') is None
    assert recorded(shown + ' -k "not under_faults" | tail -2') is None   # not the same command
    record("test_ch07_data.py", "not under_faults", build, 0.0)
    assert recorded(shown + ' -k "not under_faults"') is None           # older than its inputs


def cmake_parts():
    """{module: [selection, ...]} of the split modules in harness/CMakeLists.txt."""
    text = (ROOT / "harness" / "CMakeLists.txt").read_text()
    parts = {}
    for module, _name, selection in re.findall(r'^  "(\w+)\|([\w-]+)\|([^"]*)"', text, re.M):
        parts.setdefault(module, []).append(selection)
    return parts


def collected(module, selection=None):
    """The test ids pytest collects from harness/module.py, with -k selection."""
    argv = ["/usr/bin/python3", "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
            f"harness/{module}.py"] + (["-k", selection] if selection else [])
    run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    return [line for line in run.stdout.splitlines() if "::" in line]


def test_parts_cover_modules():
    """Each module that CTest runs in parts has every test in exactly one of
    its parts: splitting it cannot lose a test."""
    parts = cmake_parts()
    assert "test_ch07_data" in parts and "test_book" in parts, parts
    for module, selections in parts.items():
        every = collected(module)
        chosen = [test for selection in selections for test in collected(module, selection)]
        if module == "test_book":   # the pages are CTest tests of their own, one per page
            chosen += [test for page in PAGES
                       for test in collected(module, f"test_page[{page.relative_to(ROOT)}]")]
        assert every and sorted(chosen) == sorted(every), (module, selections)
