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
"""
import os
import re
import subprocess

import pytest

from conftest import ROOT

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
    failures = []
    try:
        for line, commands, expected in blocks(page):
            if commands.strip() in NOT_RUN:
                continue
            run = subprocess.run(["bash", "-c", commands], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, timeout=600)
            where = f"{page.relative_to(ROOT)}:{line}"
            if run.returncode != 0:
                failures.append(f"{where}: exit {run.returncode}\n{commands}\n--- printed:\n{run.stdout}")
            elif expected is not None and not matches(expected, run.stdout):
                failures.append(f"{where}: output differs\n--- book:\n{expected}--- printed:\n{run.stdout}")
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
