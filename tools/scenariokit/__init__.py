"""scenariokit - the scenario-script runner as a library: plays
packetdrill-like scripts (testvectors/README.md, "Scenario scripts") against
a TCP stack, and says segment by segment where the stack did otherwise.
tools/scenario.py is its command line; tools/conformance.py and
harness/test_scripts.py use it too.

Three targets:
  core   our stack in virtual time: `tcpagent --virtual`, no device, no root,
         deterministic (a segment or event may come up to 10 ms of virtual
         time late, never early);
  ours   our agent (`tcpagent -i target0`) over the lab's veth;
  linux  the Linux kernel over the lab's veth, driven by tools/linux_agent.py.
Over veth, the peer side is tools/wire.py in stream mode, playing 192.0.2.1
(answering ARP for it); the runner sends `<` segments at their times and
reads every frame with its CLOCK_MONOTONIC arrival time.

Modules, in the order a script goes through them:
  parsing     the script format: parse_script() -> Script of Lines
  frames      Ethernet/IPv4/TCP frames built for `<` lines, parsed off the wire
  formatting  segments and options written back as a script writes them
  flow        the script's one connection (Flow) and both byte streams
  drivers     the Driver interface, and its two kinds: CoreDriver, VethDriver
  benches     a target's setting for many scripts: CoreBench, VethBench
  running     one script against one target: run_script() -> Result
  suite       many scripts against a target: find_scripts(), run_target()

Data (chapter 7): the runner keeps both byte streams, so a `>` line's
payload defaults to the application's sends at its place (StackStream), a
`<` line's to the pattern at its place in the peer's stream (peer_payload),
and `event data N` checks the digest of the bytes the peer sent (PeerStream).

Limits: IPv4 only; one flow per script (the peer 192.0.2.1:fresh port, the
stack 192.0.2.2); no IP options or fragments.  Every wait is bounded.  The
modules import labaddr, labproc, lablib and wire from tools/, which must be on
sys.path (as it is for anything that finds this package there).
"""
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1]
ROOT = TOOLS.parent
PYTHON = "/usr/bin/python3"
