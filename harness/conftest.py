"""Fixtures of the harness: the build, the lab, a frame sender on the peer,
a chapter program running on the target, and Linux's counters.

The harness runs on Debian's /usr/bin/python3 with python3-scapy and
python3-pytest.  It needs network namespaces (root, or unprivileged user
namespaces); where the machine truly cannot make them, lab tests are skipped
with a loud reason, and the session exits 77 so that CTest reports them as
skipped, never as passed.
"""
import contextlib
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lablib  # noqa: E402
from labaddr import TARGET_CIDR  # noqa: E402
from labproc import Running, Wire  # noqa: E402,F401
from verdicts import answer_to, linux_agreement, linux_verdict  # noqa: E402,F401

BUILD = Path(os.environ.get("TCPIP_BUILD", ROOT / "build" / "asan-ubsan"))

def program(name):
    """The path of a chapter program in the build the harness tests."""
    path = BUILD / "bin" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: build first (cmake --build --preset asan-ubsan)")
    return str(path)


def start_lab(**kw):
    """A lab that is up, or a loud skip when this machine cannot make one."""
    try:
        return lablib.Lab(**kw).up()
    except lablib.LabUnavailable as err:
        message = f"NO LAB ON THIS MACHINE: {err}"
        print(message, file=sys.stderr)
        pytest.skip(message)


@contextlib.contextmanager
def lab_with_wire(as_host=False, **kw):
    """A lab (start_lab(**kw)) and a Wire on its peer (playing 192.0.2.1 if
    as_host), both ended on exit."""
    lab = start_lab(**kw)
    try:
        wire = Wire(lab, as_host=as_host)
        try:
            yield lab, wire
        finally:
            wire.close()
    finally:
        lab.down()


@pytest.fixture(scope="module")
def ours():
    """(lab, wire) for an observer program of ours on target0: the target
    kernel holds no address, the peer is raw.  One lab per test module."""
    with lab_with_wire(target="ours", peer="raw") as lab_wire:
        yield lab_wire


@pytest.fixture(scope="module")
def linux():
    """(lab, wire) with the Linux kernel at 192.0.2.2 on target0 and a raw
    peer.  One lab per test module."""
    with lab_with_wire(target="linux", peer="raw") as lab_wire:
        yield lab_wire


def host_answers(prog, vectors, extra=()):
    """{vector name: answer kinds} from our host program prog (arpd, pingd,
    handshake; extra: its own flags) at 192.0.2.2, each vector's frame sent
    by wire.py playing 192.0.2.1."""
    with lab_with_wire(target="ours", peer="raw", as_host=True) as (lab, wire):
        running = Running(lab, [program(prog), "-i", "target0", "-a", TARGET_CIDR, "-t", "120",
                                *extra])
        answers = {vec.name: answer_to(wire, vec, vec.answer) for vec in vectors}
        running.stop()
    return answers


def assert_linux_agrees(lab, wire, vec):
    """Sends vec's frame to the Linux target: the counters the vector names
    move, and no other error counter."""
    moved = linux_verdict(lab, wire, vec.frame, vec.linux_counters)
    ok, why = linux_agreement(vec, moved)
    assert ok, f"{vec.where}: Linux {why}; moved {moved}"


def pytest_sessionfinish(session, exitstatus):
    """Skips are not passes: a run that passed with skips exits 77, which
    CTest reports as skipped."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if exitstatus == 0 and skipped:
        print(f"\n*** {skipped} TEST(S) SKIPPED: see the reasons above; not a pass ***")
        session.exitstatus = 77
