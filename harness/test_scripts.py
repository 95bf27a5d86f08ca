"""Scenario scripts (testvectors/scripts/, format in testvectors/README.md):
every script against each of its targets, one test each, named after the
script and the target.

core:  our stack in virtual time (tcpagent --virtual): no lab, no root.
ours:  tcpagent on the lab's veth; one lab for the module.
linux: the Linux kernel on the lab's veth, driven by tools/linux_agent.py;
       one lab for the module.
A script whose targets leave one out is not collected for it (its header
says why).  A failure shows the script line, expected beside actual.
"""
import re

import pytest

from conftest import ROOT, program, start_lab
import scenario

SCRIPTS = sorted((ROOT / "testvectors" / "scripts").rglob("*.pkt"))
PARSED = [scenario.parse_script(path) for path in SCRIPTS]
CASES = [pytest.param(script, target, id=f"{script.path.stem}-{target}")
         for script in PARSED for target in scenario.TARGETS if target in script.targets]


def veth_bench(target, argv):
    """A VethBench for `target` on a fresh lab (loud skip if none can be had)."""
    lab = start_lab(target=target, peer="raw")
    try:
        return scenario.VethBench(target, argv, lab=lab)
    except BaseException:
        lab.down()
        raise


@pytest.fixture(scope="module")
def ours_bench():
    """Our agent on target0 of a lab whose kernel holds no address."""
    bench = veth_bench("ours", [program("tcpagent"), "-i", "target0", "-a", "192.0.2.2/24"])
    yield bench
    bench.close()
    bench.lab.down()


@pytest.fixture(scope="module")
def linux_bench():
    """The Linux kernel at 192.0.2.2, driven by tools/linux_agent.py."""
    agent = [scenario.PYTHON, str(ROOT / "tools" / "linux_agent.py"), "-i", "target0"]
    bench = veth_bench("linux", agent)
    yield bench
    bench.close()
    bench.lab.down()


def bench_for(request, target):
    """The bench of `target`: core is made per test (a fresh agent per script
    anyway), the veth ones are module-scoped fixtures, made only if used."""
    if target == "core":
        return scenario.CoreBench(program("tcpagent"))
    return request.getfixturevalue(f"{target}_bench")


def test_scripts_found():
    """The chapter 6 scripts are there (at least 28) and every one parses."""
    assert len([p for p in SCRIPTS if p.parent.name == "06-handshake"]) >= 28


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


@pytest.mark.parametrize("name, tail, reason", WRONG, ids=[w[0] for w in WRONG])
def test_runner_catches(tmp_path, name, tail, reason):
    """A wrong expectation fails against the core, for the right reason."""
    path = tmp_path / f"{name}.pkt"
    path.write_text(HANDSHAKE + tail)
    result = scenario.run_script(scenario.parse_script(path),
                                 scenario.CoreBench(program("tcpagent")))
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
]


@pytest.mark.parametrize("name, text, message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_parser_refuses(tmp_path, name, text, message):
    """A script that breaks the format is refused, saying why (and where)."""
    path = tmp_path / f"{name}.pkt"
    path.write_text(text)
    with pytest.raises(scenario.ScriptError, match=re.escape(message)):
        scenario.parse_script(path)


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
    result = scenario.run_script(scenario.parse_script(path), bench_for(request, "linux"))
    print("\n".join(result.trace))
    assert result.status == "PASS", "\n".join([result.line()] + result.detail)


@pytest.mark.parametrize("script, target", CASES)
def test_script(request, script, target):
    """The script passes against the target (see the module docstring)."""
    result = scenario.run_script(script, bench_for(request, target))
    print(result.line())
    print("\n".join(result.trace))
    assert result.status == "PASS", "\n".join([result.line()] + result.detail)
