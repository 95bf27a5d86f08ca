"""Scenario scripts (testvectors/scripts/, format in testvectors/README.md):
every script (06-handshake, 07-data, 08-congestion: chapters 6 to 8) against our
stack in virtual time (tcpagent --virtual: no lab, no root), one test each,
named after the script; and the runner itself: that a wrong expectation or a
malformed script fails for the reason it gives.

Over veth, against our agent and against Linux, every script is played by
tools/conformance.py in harness/test_conformance.py, which also writes the
report from those runs; playing them here as well would play each twice.
A script whose targets leave the core out is not collected here (its header
says why).  A failure shows the script line, expected beside actual.
"""
import hashlib
import re

import pytest

from conftest import ROOT, program, start_lab
from scenariokit import PYTHON
from scenariokit.benches import CoreBench, VethBench
from scenariokit.flow import PeerStream, StackStream, peer_payload
from scenariokit.parsing import ScriptError, parse_script, parse_segment
from scenariokit.running import run_script

SCRIPTS = sorted((ROOT / "testvectors" / "scripts").rglob("*.pkt"))
PARSED = [parse_script(path) for path in SCRIPTS]
CASES = [pytest.param(script, id=f"{script.path.stem}-core")
         for script in PARSED if "core" in script.targets]


def veth_bench(target, argv):
    """A VethBench for `target` on a fresh lab (loud skip if none can be had)."""
    lab = start_lab(target=target, peer="raw")
    try:
        return VethBench(target, argv, lab=lab)
    except BaseException:
        lab.down()
        raise


@pytest.fixture(scope="module")
def linux_bench():
    """The Linux kernel at 192.0.2.2, driven by tools/linux_agent.py."""
    agent = [PYTHON, str(ROOT / "tools" / "linux_agent.py"), "-i", "target0"]
    bench = veth_bench("linux", agent)
    yield bench
    bench.close()
    bench.lab.down()


def bench_for(request, target):
    """The bench of `target`: core is made per test (a fresh agent per script
    anyway), Linux's is a module-scoped fixture, made only if used."""
    if target == "core":
        return CoreBench(program("tcpagent"))
    return request.getfixturevalue(f"{target}_bench")


def on_core(tmp_path, name, text):
    """Plays the script text (saved as name.pkt) against the core; returns
    the runner's result."""
    path = tmp_path / f"{name}.pkt"
    path.write_text(text)
    return run_script(parse_script(path), bench_for(None, "core"))


def test_scripts_found():
    """The chapter 6 scripts (at least 28), chapter 7's (at least 45) and
    chapter 8's (at least 30) are there, and every one parses."""
    assert len([p for p in SCRIPTS if p.parent.name == "06-handshake"]) >= 28
    assert len([p for p in SCRIPTS if p.parent.name == "07-data"]) >= 45
    assert len([p for p in SCRIPTS if p.parent.name == "08-congestion"]) >= 30


HANDSHAKE = """\
# rfc: RFC 9293 3.5
0.000 app listen 8080
0.100 < S 0:0(0) win 64240 <mss 1460>
"""

# The runner itself: a script that says what the stack does not do must fail,
# with the reason the runner gives.  (Against the core: no lab needed.)
WRONG = [
    ("options", "+0 > S. 0:0(0) ack 1 win * <mss 1400>\n", "options differs"),
    ("flags", "+0 > R. 0:0(0) ack 1 win *\n", "flags, options differ"),
    ("ack", "+0 > S. 0:0(0) ack 2 win * <mss 1460>\n", "ack differs"),
    ("missing-line", "", "unexpected: >  S. 0:0(0) ack 1"),
    ("too-early", "+0.05 > S. 0:0(0) ack 1 win * <mss 1460>\n", "time differs"),
    ("never-sent", "+0 > S. 0:0(0) ack 1 win * <mss 1460>\n+0.1 > . 1:1(0) ack 1 win *\n",
     "no segment by 0.210"),
    ("wrong-event", "+0 > S. 0:0(0) ack 1 win * <mss 1460>\n+0.1 < . 1:1(0) ack 1\n"
     "+0 event eof\n", "event differs"),
]


# Chapter 7's data lines: the bytes of `>` segments, `data *`, and the digest
# an `event data N` line expects.  The handshake, then data both ways.
ESTABLISHED = HANDSHAKE + """\
+0    > S. 0:0(0) ack 1 win * <mss 1460>
+0.05 < . 1:1(0) ack 1 win 64240
+0    event accepted
+0.1  app nodelay on
"""

WRONG_DATA = [
    ("bytes-differ", "+0 app send 10\n+0 > P. 1:11(10) ack 1 win * data 00010203040506070809\n"
     "+0 app send 4\n+0 > P. 11:15(4) ack 1 win * data 0a0b0c0d\n", "data differs"),
    ("past-the-sends", "+0 app send 10\n+0 > P. 1:12(11) ack 1 win *\n",
     "data, length differ"),
    ("digest", "+0 < P. 1:11(10) ack 1 data 000102030405060708ff\n+0.2 > . 1:1(0) ack 11\n"
     "+0 app recv 10\n+0 event data 10 1f825aa2\n", "event differs"),
    ("digest-count", "+0 < P. 1:11(10) ack 1 win 64240\n+0.2 > . 1:1(0) ack 11\n"
     "+0 app recv 5\n+0 event data 6\n", "event differs"),
]

RIGHT_DATA = """\
+0    app send 10
+0    > P. 1:11(10) ack 1 win *
+0    event sent 10
+0    app send 4
+0    > P. 11:15(4) ack 1 win * data 00010203
+0    event sent 4
+0    app send 3
+0    > P?. 15:18(3) ack 1 win * data *
+0    event sent 3
+0.01 < P. 11:21(10) ack 18 win 64240
+0    > . 18:18(0) ack 1 win *
+0.01 < P. 1:16(15) ack 18 win 64240
+0    > . 18:18(0) ack 21 win *
+0    app recv 7
+0    event data 7
+0    app recv 13
+0    event data 13 *
"""


def test_runner_data_lines(tmp_path):
    """Against the core: a `>` line's bytes default to the application's sends
    (each send's pattern from 0), `data *` takes any bytes, `<` segments carry
    the pattern at their place in the peer's stream, so overlapping ones agree,
    and `event data N` checks the digest of the next N bytes sent."""
    result = on_core(tmp_path, "right-data", ESTABLISHED + RIGHT_DATA)
    assert result.status == "PASS", "\n".join([result.line()] + result.detail)


@pytest.mark.parametrize("name, tail, reason", WRONG_DATA, ids=[w[0] for w in WRONG_DATA])
def test_runner_catches_data(tmp_path, name, tail, reason):
    """Wrong bytes, bytes the application never sent, and a wrong digest fail
    against the core, for the right reason."""
    result = on_core(tmp_path, name, ESTABLISHED + tail)
    assert result.status == "FAIL" and reason in result.reason, \
        "\n".join([result.line()] + result.detail)


def test_streams():
    """The runner's models of both byte streams: the stack's is the
    application's sends end to end, each from 0; the peer's keeps the first
    copy of each byte, and its digest is SHA-256's first 8 hex digits."""
    stack = StackStream()
    stack.add(300)
    stack.add(2)
    assert stack.expected(254, 4) == bytes([254, 255, 0, 1])
    assert stack.expected(299, 3) == bytes([43, 0, 1])
    assert stack.expected(300, 3) is None and stack.expected(-1, 1) is None
    syn = parse_segment("S 0:3(3) win 1", "<")
    later = parse_segment(". 1001:1003(2) ack 1", "<")
    assert peer_payload(syn) == bytes([0, 1, 2])
    assert peer_payload(later) == bytes([1000 % 256, 1001 % 256])
    peer = PeerStream()
    peer.put(0, b"abc")
    peer.put(1, b"XYZ")
    assert bytes(peer.data) == b"abcZ"
    assert peer.digest(4) == hashlib.sha256(b"abcZ").hexdigest()[:8]
    assert peer.digest(5) is None
    peer.read = 1
    peer.put(6, b"!")
    assert peer.digest(3) == hashlib.sha256(b"bcZ").hexdigest()[:8]
    assert peer.digest(6) is None


@pytest.mark.parametrize("name, tail, reason", WRONG, ids=[w[0] for w in WRONG])
def test_runner_catches(tmp_path, name, tail, reason):
    """A wrong expectation fails against the core, for the right reason."""
    result = on_core(tmp_path, name, HANDSHAKE + tail)
    assert result.status == "FAIL" and reason in result.reason, \
        "\n".join([result.line()] + result.detail)


MALFORMED = [
    ("no-rfc", "0.000 app listen 8080\n", "no '# rfc:' header"),
    ("tag-without-why", "# rfc: x\n0.1 {linux} > R 0:0(0)\n", "differs: WHY"),
    ("restricted-without-why", "# rfc: x\n# targets: core\n0 app close\n", "without '(why)'"),
    ("backwards", "# rfc: x\n1.0 app close\n0.5 app close\n", "goes backwards"),
    ("bad-length", "# rfc: x\n0 < S 0:5(4) win 1\n", "END - SEQ is 5"),
    ("ack-needs-value", "# rfc: x\n0 > . 1:1(0) win *\n", "needs 'ack N'"),
    ("star-in-send", "# rfc: x\n0 < S *:0(0) win 1\n", "only in > lines"),
    ("data-star-in-send", "# rfc: x\n0 < P. 1:3(2) ack 1 data *\n", "only in > lines"),
    ("data-length", "# rfc: x\n0 > P. 1:3(2) ack 1 data 000102\n", "data has 3 bytes"),
    ("psh-open-in-send", "# rfc: x\n0 < P?. 1:3(2) ack 1\n", "only in > lines"),
    ("open-not-psh", "# rfc: x\n0 > S?. 0:0(0) ack 1\n", "only after P"),
]


@pytest.mark.parametrize("name, text, message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_parser_refuses(tmp_path, name, text, message):
    """A script that breaks the format is refused, saying why (and where)."""
    path = tmp_path / f"{name}.pkt"
    path.write_text(text)
    with pytest.raises(ScriptError, match=re.escape(message)):
        parse_script(path)


# The agent protocol's data commands (chapter 7 uses them), against Linux now:
# recv, nodelay, send (the pattern's first bytes), shutdown, eof, and recv at
# end of file.  sha256(bytes 0..9) begins 1f825aa2.
AGENT_DATA_SCRIPT = """\
# agent-data.pkt: the data commands of the agent protocol
# rfc: RFC 9293 3.8 (data communication), 3.6 (half-close)
# targets: linux (our agent moves data from chapter 7 on)
0.000 app listen 8080
0.100 < S 0:0(0) win 64240 <mss 1460>
+0    > S. 0:0(0) ack 1 win * <mss 1460>
+0.05 < . 1:1(0) ack 1 win 64240
+0    event accepted
+0.1  < P. 1:11(10) ack 1 win 64240
+0    > . 1:1(0) ack 11 win *
+0.1  app recv 10
+0    event data 10 1f825aa2
+0.1  app nodelay on
+0    app send 5
+0    > P. 1:6(5) ack 11 win * data 0001020304
+0    event sent 5
+0.05 < . 11:11(0) ack 6 win 64240
+0.1  app shutdown
+0    > F. 6:6(0) ack 11 win *
+0.05 < F. 11:11(0) ack 7 win 64240
+0    > . 7:7(0) ack 12 win *
+0    event eof
+0.1  app recv 5
+0    event eof
+0.1  app close
"""


def test_linux_agent_data(request, tmp_path):
    """tools/linux_agent.py carries out recv, send, nodelay and shutdown."""
    path = tmp_path / "agent-data.pkt"
    path.write_text(AGENT_DATA_SCRIPT)
    result = run_script(parse_script(path), bench_for(request, "linux"))
    print("\n".join(result.trace))
    assert result.status == "PASS", "\n".join([result.line()] + result.detail)


@pytest.mark.parametrize("script", CASES)
def test_script(script):
    """The script passes against the core (see the module docstring)."""
    result = run_script(script, bench_for(None, "core"))
    print(result.line())
    print("\n".join(result.trace))
    assert result.status == "PASS", "\n".join([result.line()] + result.detail)
