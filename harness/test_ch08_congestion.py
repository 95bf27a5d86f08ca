"""Chapter 8, congestion control: ccsim runs one connection of the book's
stack through a simulated bottleneck in virtual time.  Its output is the same
on every run; NewReno's cuts follow RFC 5681's equation (4) and its growth in
congestion avoidance is one segment at a time; CUBIC's cuts are RFC 9438's
beta = 0.7 and its window is concave, then convex; the chapter's pictures are
what the tools draw now.  No lab, no timing: everything here is virtual time.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BUILD, ROOT, program

CHAPTER = ROOT / "chapters" / "08-congestion-control"
PICTURES = ROOT / "tools" / "cwnd-pictures"
PYTHON = "/usr/bin/python3"
MSS = 1460                      # ccsim's link is Ethernet's MTU, 1500
# The link of the chapter's picture (tools/cwnd-pictures' VIRTUAL_FLAGS): a
# small queue, no random loss, so every cut is the queue's.
LINK = ["--rate", "1", "--rtt", "200", "--queue", "20", "--loss", "0", "--seconds", "60"]
LINE = re.compile(r"^(\d+\.\d{3}) cwnd (\d+) ssthresh (\d+|none) in-flight (\d+) \(([a-z ]+)\)$")
DROP = re.compile(r"^\d+\.\d{3} drop \((queue full|random loss|link full)\)$")
DONE = re.compile(r"^\d+\.\d{3} done: (\w+), (\d+) bytes delivered, goodput [0-9.]+ Mbit/s, "
                  r"(\d+) drops \(queue full\), (\d+) lost at random, ")


def ccsim(*flags):
    """ccsim's CompletedProcess with flags (text; never raises on its exit)."""
    return subprocess.run([program("ccsim"), *flags], capture_output=True, text=True, timeout=120)


def windows(text):
    """The cwnd lines of ccsim's output as (time_s, cwnd, ssthresh or None,
    in_flight, phase); asserts every line is a cwnd, drop or summary line."""
    lines = text.splitlines()
    assert lines and DONE.match(lines[-1]), lines[-1:]
    out = []
    for line in lines[:-1]:
        found = LINE.match(line)
        assert found or DROP.match(line), line
        if found:
            ssthresh = None if found[3] == "none" else int(found[3])
            out.append((float(found[1]), int(found[2]), ssthresh, int(found[4]), found[5]))
    return out


def cuts(lines):
    """(before, at) pairs of lines: `at` is the first line of a fast recovery
    (its ssthresh newly set), `before` the line before it."""
    return [(lines[i - 1], lines[i]) for i in range(1, len(lines))
            if lines[i][4] == "fast recovery" and lines[i - 1][4] != "fast recovery"]


@pytest.fixture(scope="module")
def newreno():
    run = ccsim("--cc", "newreno", *LINK)
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def cubic():
    run = ccsim("--cc", "cubic", *LINK)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_help_exits_0():
    run = ccsim("--help")
    assert run.returncode == 0 and "--queue N" in run.stdout, run


@pytest.mark.parametrize("flags", [["--bogus"], ["--queue", "0"], ["--rate", "fast"],
                                   ["--cc", "vegas"], ["--loss", "101"], ["stray"]])
def test_bad_flag_exits_2(flags):
    run = ccsim(*flags)
    assert run.returncode == 2 and "usage: ccsim" in run.stderr, run


@pytest.mark.parametrize("flags", [["--cc", "newreno"], ["--cc", "cubic"],
                                   ["--cc", "cubic", "--loss", "1", "--seed", "7", "--queue", "60"]])
def test_same_flags_same_output(flags):
    """Virtual time, fixed secrets, a seeded loss: byte for byte the same."""
    first, second = ccsim(*flags), ccsim(*flags)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout


def test_random_loss_follows_the_seed():
    """--loss drops frames at random (said as such), a different seed others."""
    one = ccsim("--loss", "2", "--queue", "60", "--seed", "1")
    two = ccsim("--loss", "2", "--queue", "60", "--seed", "2")
    assert "drop (random loss)" in one.stdout and "drop (queue full)" not in one.stdout
    assert one.stdout != two.stdout


def test_bytes_then_close():
    """--bytes N: exactly N bytes arrive and the run ends with the stream."""
    run = ccsim("--bytes", "200000", "--seconds", "60")
    done = DONE.match(run.stdout.splitlines()[-1])
    assert run.returncode == 0 and done and int(done[2]) == 200000, run.stdout[-300:]


def test_newreno_slow_start_then_cut_then_avoidance(newreno):
    """Slow start from RFC 6928's initial window with no ssthresh, a loss that
    sets one (fast recovery), then congestion avoidance; the queue, and only
    the queue, drops."""
    lines = windows(newreno)
    assert lines[0][1:3] == (14600, None) and lines[0][4] == "slow start"
    phases = [line[4] for line in lines]
    first_cut = phases.index("fast recovery")
    assert set(phases[:first_cut]) == {"slow start"}
    assert "congestion avoidance" in phases[first_cut:]
    assert "drop (random loss)" not in newreno and "drop (queue full)" in newreno
    assert len(cuts(lines)) >= 5, "a sawtooth: a cut every few seconds"


def test_newreno_cut_is_rfc5681_equation_4(newreno):
    """Each cut sets ssthresh = max(FlightSize / 2, 2 SMSS) (RFC 5681 3.1,
    equation (4)), FlightSize being the data in flight when the third
    duplicate ACK came: the in-flight of the cut's own line, which is said
    before anything more is sent, less what limited transmit sent on the
    first two duplicates (RFC 5681 3.2 step 2: it MUST NOT count), zero, one
    or two segments as the peer's window allowed.  (The line before the cut
    is older: the last ACKs of congestion avoidance sent more after it.)"""
    for _before, at in cuts(windows(newreno)):
        assert any(at[2] == max((at[3] - limited * MSS) // 2, 2 * MSS) for limited in (0, 1, 2)), at


def test_newreno_halves_the_window(newreno):
    """A cut from congestion avoidance ends the recovery at about half the
    window before it, and avoidance begins again one segment above it."""
    lines = windows(newreno)
    for before, at in cuts(lines)[1:]:       # the first comes out of slow start's overshoot
        assert before[4] == "congestion avoidance"
        assert 0.45 <= at[2] / before[1] <= 0.6, (before, at)
        after = next((line for line in lines
                      if line[0] > at[0] and line[4] == "congestion avoidance"), None)
        assert after is None or after[1] == at[2] + MSS, (at, after)  # None: the run ended


def test_newreno_avoidance_adds_one_segment(newreno):
    """Congestion avoidance grows cwnd one SMSS at a time (RFC 5681 3.1)."""
    lines = windows(newreno)
    steps = [b[1] - a[1] for a, b in zip(lines, lines[1:])
             if a[4] == b[4] == "congestion avoidance" and a[2] == b[2]]
    assert steps and set(steps) == {MSS}


def test_cubic_cut_is_beta_0_7(cubic):
    """Each cut sets ssthresh = max(cwnd * 0.7, 2 SMSS) (RFC 9438 4.6), cwnd
    the window just before the loss: the line before the cut."""
    found = cuts(windows(cubic))
    assert len(found) >= 5
    for before, at in found:
        assert abs(at[2] - max(int(before[1] * 0.7), 2 * MSS)) <= 1, (before, at)


def test_cubic_concave_then_convex(cubic):
    """In the longest stretch of congestion avoidance the window grows fast,
    then slowly near W_max, then fast again (RFC 9438 figure 2)."""
    lines, stretches, current = windows(cubic), [], []
    for line in lines:
        if line[4] == "congestion avoidance":
            current.append(line)
        else:
            stretches.append(current)
            current = []
    stretches.append(current)
    longest = max(stretches, key=len)
    third = len(longest) // 3
    growth = [longest[(k + 1) * third][1] - longest[k * third][1] for k in range(3)]
    assert growth[1] < growth[0] and growth[1] < growth[2], growth


def test_pictures_are_current(tmp_path):
    """tools/cwnd-pictures draws cwnd-virtual.png from ccsim now, and
    cwnd-veth.png from the committed veth logs, the same bytes as the
    chapter's: the pictures show what the code does."""
    run = subprocess.run([PYTHON, str(PICTURES), "--build", str(BUILD), "--out", str(tmp_path),
                          "--logs", str(CHAPTER)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    for name in ("cwnd-virtual.png", "cwnd-veth.png"):
        assert (tmp_path / name).read_bytes() == (CHAPTER / name).read_bytes(), (
            f"{name} is not what the tools draw now: run tools/cwnd-pictures")


def test_cwndplot_reads_both_clocks():
    """cwndplot's parser: ccsim's virtual seconds, --cwnd-log's wall clock
    (across midnight), ssthresh none, several connections (the longest kept)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import cwndplot

    virtual = "1.500 cwnd 14600 ssthresh none in-flight 0 (slow start)\n1.750 drop (queue full)\n"
    points, drops = cwndplot.parse_log(virtual)
    assert points == [(0.0, 14600, None, 0)] and drops == [0.25]
    wall = ("23:59:59.500000 tcp :80 192.0.2.1:1 cwnd 100 ssthresh 50 in-flight 10 (slow start)\n"
            "00:00:00.250000 tcp :80 192.0.2.1:1 cwnd 200 ssthresh 50 in-flight 20 (x)\n"
            "00:00:00.300000 tcp :80 192.0.2.1:2 cwnd 300 ssthresh 50 in-flight 30 (x)\n")
    points, _ = cwndplot.parse_log(wall)
    assert [(round(p[0], 3), p[1]) for p in points] == [(0.0, 100), (0.75, 200)]


def test_picture_is_the_same_bytes_twice(tmp_path):
    """cwndplot.py writes no time stamp or version: the same log, the same PNG."""
    log = CHAPTER / "cwnd-veth-newreno.log"
    for name in ("a.png", "b.png"):
        subprocess.run([PYTHON, str(ROOT / "tools" / "cwndplot.py"), "-o", str(tmp_path / name),
                        str(log)], check=True, timeout=120)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
