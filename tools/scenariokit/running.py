"""scenariokit.running - one script played against one target: run_script()
takes a bench, makes a driver, plays each line in turn (Run) and returns a
Result: PASS, N/A, or FAIL with the reason and a table of expected beside
actual.  Writes a pcap of a failing run when asked.
"""
import copy
import math
import struct
import time
from pathlib import Path

from . import ROOT
from .drivers import AgentError
from .flow import (Flow, PeerStream, StackStream, data_offset, differences, event_fits,
                   peer_payload)
from .formatting import format_data, format_segment
from .frames import build_icmp_error, parse_frame
from .parsing import ANY, Segment, port_number

LATE_LOOK_S = 1.0           # after a miss, how long to look for a late segment
DELIVERY_S = 0.5            # over veth, how long a frame stamped in time may take to reach us


class Result:
    """What one script did against one target."""

    def __init__(self, script, target, status, reason="", detail=()):
        """status: "PASS", "FAIL" or "N/A"; reason: one line; detail: lines."""
        self.script, self.target, self.status = script, target, status
        self.reason, self.detail = reason, list(detail)
        self.late = []      # seconds each matched > segment and event came after its TIME
        self.injected = []  # seconds each < segment reached the wire after its TIME
        self.seconds = 0.0
        self.trace = []

    def line(self, label=None):
        """The one-line summary, e.g. "PASS  linux  06-handshake/x.pkt  (0.4 s)"
        (label in place of the target's name if given)."""
        name = display_name(self.script.path)
        tail = f"  {self.reason}" if self.reason else ""
        return f"{self.status:4}  {label or self.target:5}  {name}  ({self.seconds:.1f} s){tail}"


def display_name(path):
    """`path` relative to testvectors/scripts when it lies there."""
    path = Path(path).resolve()
    base = ROOT / "testvectors" / "scripts"
    return str(path.relative_to(base)) if base in path.parents else str(path)


class Failed(Exception):
    """A step of a script failed; carries the reason and detail lines."""

    def __init__(self, reason, detail=()):
        """reason: one line; detail: lines shown under it."""
        super().__init__(reason)
        self.reason, self.detail = reason, list(detail)


class Run:
    """One script played against one target through a driver."""

    def __init__(self, script, target, driver, bench, verbose=False):
        """Ready to play; the flow's ports and ISN come from `bench`."""
        self.script, self.target, self.driver = script, target, driver
        self.early, self.late = bench.tolerance
        if not driver.virtual and target in script.late_ms:
            self.late = max(self.late, script.late_ms[target] / 1000)
        stack_port = None if script.active else script.port
        self.flow = Flow(bench.peer_port(), stack_port, bench.peer_isn(script))
        self.verbose = verbose
        self.frame_i = self.event_i = 0
        self.stack_stream = StackStream()   # what `app send` gave the stack
        self.peer_stream = PeerStream()     # what `<` segments carried
        self.result = Result(script, target, "PASS")

    def say(self, text):
        """Adds one line to the trace (printed at once with -v)."""
        self.result.trace.append(text)
        if self.verbose:
            print(f"    [{self.target}] {text}", flush=True)

    def play(self):
        """Plays every line for this target, then looks for leftovers; raises
        Failed at the first step that fails."""
        lines = [line for line in self.script.lines if line.applies(self.target)]
        for i, line in enumerate(lines):
            next_time = lines[i + 1].time if i + 1 < len(lines) else math.inf
            try:
                getattr(self, STEPS[line.kind])(line, next_time)
            except (ValueError, AgentError) as err:
                raise Failed(f"line {line.lineno}: {err}", [self.script.where(line) + ": "
                                                          + line.text]) from None
        self.check_leftovers(lines[-1].time + self.late if lines else 0.0)

    def send_segment(self, line, _next_time):
        """A `<` line: the peer sends its segment at TIME."""
        self.driver.wait_until(line.time)
        frame = self.flow.frame(line.rest)
        self.driver.inject(frame)
        self.peer_stream.put(data_offset(line.rest), peer_payload(line.rest))
        self.say(f"{line.time:8.3f} <  {format_segment(line.rest)}")

    def send_icmp(self, line, _next_time):
        """An `icmp` line: the peer sends ICMP error TYPE CODE at TIME about
        the stack's latest segment of the flow."""
        if self.flow.last is None:
            raise ValueError(f"line {line.lineno}: an icmp line needs a segment of the stack's "
                             "before it")
        self.driver.wait_until(line.time)
        self.flow.ip_id += 1
        self.driver.inject(build_icmp_error(self.flow.last, *line.rest, self.flow.ip_id))
        about = format_segment(self.flow.relative(self.flow.last))
        self.say(f"{line.time:8.3f} <  icmp {line.rest[0]} {line.rest[1]} about {about}")

    def run_app(self, line, _next_time):
        """An `app` line: the application command at TIME must be answered ok,
        or refused if the line ends `-> error`.  `connect IP PORT` goes to the
        peer's port of this run."""
        words = list(line.rest)
        refuse = words[-2:] == ["->", "error"]
        if refuse:
            words = words[:-2]
        if words[0] == "connect":
            if len(words) != 3 or words[2] != "PORT":
                raise ValueError("write app connect IP PORT (the word PORT)")
            words[2] = str(self.flow.peer_port)
            self.flow.dsts.add(words[1])
        if words[0] == "listen" and len(words) == 2:
            self.flow.stack_port = port_number(words[1])
        if words[0] in ("send", "urgent") and len(words) == 2:
            self.stack_stream.add(int(words[1]))
        self.driver.wait_until(line.time)
        answer = self.driver.app(" ".join(words))
        self.say(f"{line.time:8.3f} app {' '.join(words)} -> {answer}")
        if answer.startswith("error") != refuse:
            raise Failed(f"line {line.lineno}: the agent answered {answer!r}",
                         [self.script.where(line) + ": " + line.text])

    def expect_segment(self, line, next_time):
        """A `>` line: the stack's next segment of the flow must fit the line
        and come within the tolerance of TIME."""
        deadline = line.time + self.late
        limit = min(deadline, next_time) if self.driver.virtual else deadline
        self.driver.wait_until(min(line.time, limit))
        got = self.await_item(self.next_packet, limit)
        if got is None:
            later = self.await_item(self.next_packet, deadline + LATE_LOOK_S)
            if later:
                later = (later[0], format_segment(self.flow.relative(later[1])))
            raise self.missing(line, later)
        stamp, pkt = got
        self.frame_i += 1
        self.flow.learn(pkt, line.rest)
        self.flow.last = pkt
        actual = self.flow.relative(pkt)
        want, unsent = self.expected_segment(line.rest)
        diffs = differences(want, actual, pkt) + self.timing(line, stamp)
        if unsent:
            diffs.insert(0, ("data", unsent, format_data(pkt.payload)))
        if diffs:
            raise self.mismatch(line, format_segment(line.rest), format_segment(actual), diffs)
        self.result.late.append(stamp - line.time)
        late_ms = (stamp - line.time) * 1000
        self.say(f"{stamp:8.3f} >  {format_segment(actual)}  ({late_ms:+.1f} ms)")

    def expected_segment(self, seg):
        """(seg, None), or for a `>` line with data and no `data` field a copy
        of seg expecting the application's bytes at its place (see
        StackStream), and None; or (seg, why) when the application never gave
        the stack those bytes."""
        if seg.data is not None or seg.length in (ANY, 0) or seg.seq == ANY:
            return seg, None
        offset = data_offset(seg)
        data = self.stack_stream.expected(offset, seg.length)
        if data is None:
            return seg, (f"stream bytes {offset}..{offset + seg.length - 1}, but the "
                         f"application sent {self.stack_stream.length}")
        filled = copy.copy(seg)
        filled.data = data
        return filled, None

    def expected_event(self, words):
        """The event words a line means: `data N` (no digest) expects the
        digest of the next N bytes the peer sent ("unsent" if it never sent
        them all); other lines as written."""
        if words[0] == "data" and len(words) == 2 and words[1].isdigit():
            return words + [self.peer_stream.digest(int(words[1])) or "unsent"]
        return list(words)

    def expect_event(self, line, next_time):
        """An `event` line: the agent's next event must be this one, within
        the tolerance of TIME."""
        deadline = line.time + self.late
        limit = min(deadline, next_time) if self.driver.virtual else deadline
        if self.driver.virtual:  # what comes before the window is known to be early
            self.driver.wait_until(max(self.driver.now(), line.time - self.early - 0.001))
        self.driver.wait_until(min(line.time, limit))
        got = self.await_item(self.next_event, limit)
        if got is None:
            later = self.await_item(self.next_event, deadline + LATE_LOOK_S)
            raise self.missing(line, later and (later[0], later[1], later[2]))
        stamp, text, earliest = got
        self.event_i += 1
        diffs = self.timing(line, stamp, earliest)
        want = self.expected_event(line.rest)
        if not event_fits(want, text, self.flow):
            diffs.insert(0, ("event", " ".join(want), text))
        words = text.split()
        if words[0] == "data" and len(words) > 1 and words[1].isdigit():
            self.peer_stream.read += int(words[1])
        if diffs:
            raise self.mismatch(line, " ".join(line.rest), text, diffs)
        self.result.late.append(stamp - line.time)
        self.say(f"{stamp:8.3f} event {text}  ({(stamp - line.time) * 1000:+.1f} ms)")

    def timing(self, line, stamp, earliest=None):
        """[("time", ...)] unless what came at `stamp` (at the earliest at
        `earliest`, in virtual time) lies within the tolerance of line's TIME."""
        earliest = stamp if earliest is None else earliest
        if line.time - self.early - 1e-9 <= earliest and stamp <= line.time + self.late + 1e-9:
            return []
        window = f"{line.time:.3f} (-{self.early * 1000:.0f}/+{self.late * 1000:.0f} ms)"
        when = (f"{stamp:.3f} ({(stamp - line.time) * 1000:+.1f} ms)" if earliest == stamp
                else f"between {earliest:.3f} and {stamp:.3f}")
        return [("time", window, when)]

    def await_item(self, take, limit):
        """take() (next_packet or next_event) as soon as it gives something,
        waiting for news until script time `limit`; None if nothing came.
        Over veth it waits DELIVERY_S longer: a frame wire.py stamped in time
        can reach this process late on a busy machine, and what comes is
        judged by its stamp (timing()), not by when it got here."""
        if not self.driver.virtual:
            limit += DELIVERY_S
        for _ in range(100_000):
            self.driver.absorb()
            got = take()
            if got is not None or self.driver.now() >= limit:
                return got
            self.driver.wait_news(limit)
        return None

    def next_packet(self):
        """(time, Packet) of the stack's next unmatched segment of the flow,
        skipping other frames; None if there is none yet."""
        frames = self.driver.frames
        while self.frame_i < len(frames):
            stamp, frame = frames[self.frame_i]
            pkt = parse_frame(frame)
            if self.flow.has(pkt):
                return stamp, pkt
            self.frame_i += 1
        return None

    def next_event(self):
        """(time, text) of the agent's next unmatched event, or None."""
        events = self.driver.events
        return events[self.event_i] if self.event_i < len(events) else None

    def check_leftovers(self, end):
        """Waits until script time `end`; any segment of the flow or event that
        no line took is a failure ("unexpected")."""
        self.driver.wait_until(end)
        self.driver.absorb()
        extra = []
        for stamp, frame in self.driver.frames[self.frame_i:]:
            pkt = parse_frame(frame)
            if self.flow.has(pkt):
                self.flow.learn(pkt, Segment(pkt.flags, 0, 0, 0))  # show it relative
                extra.append(f"{stamp:8.3f} >  {format_segment(self.flow.relative(pkt))}")
        extra += [f"{e[0]:8.3f} event {e[1]}" for e in self.driver.events[self.event_i:]]
        if extra:
            raise Failed(f"unexpected: {extra[0].split(None, 1)[1]}",
                         ["what the stack did that no line expects, up to the last "
                          f"line's time + {self.late * 1000:.0f} ms:"] + ["  " + e for e in extra])

    def missing(self, line, later):
        """Failed for a `>` or `event` line that saw nothing in time; `later`
        is (time, text) of what came after the deadline, if anything."""
        what = "segment" if line.kind == ">" else "event"
        seen = "nothing"
        if later and len(later) > 2 and later[2] != later[0]:
            seen = f"{later[1]} between {later[2]:.3f} and {later[0]:.3f}"
        elif later:
            seen = f"{later[1]} at {later[0]:.3f}"
        return Failed(f"line {line.lineno}: no {what} by {line.time + self.late:.3f}",
                      [f"{self.script.where(line)}: {line.text}",
                       side_by_side([("time", f"{line.time:.3f} (+{self.late * 1000:.0f} ms)",
                                      seen)])])

    def mismatch(self, line, expected, actual, diffs):
        """Failed for a line whose segment or event came but differs."""
        fields = ", ".join(field for field, _, _ in diffs)
        return Failed(f"line {line.lineno}: {fields} differ" if len(diffs) > 1
                      else f"line {line.lineno}: {fields} differs",
                      [f"{self.script.where(line)}: {line.text}",
                       side_by_side([("whole", expected, actual)] + diffs)])


STEPS = {"<": "send_segment", ">": "expect_segment", "icmp": "send_icmp", "app": "run_app",
         "event": "expect_event"}


def side_by_side(rows):
    """A table of (field, expected, actual) rows under a header line."""
    width = max([len("expected")] + [len(e) for _, e, _ in rows])
    head = f"  {'':9} {'expected':{width}}   actual"
    return "\n".join([head] + [f"  {f:9} {e:{width}}   {a}" for f, e, a in rows])


def run_script(script, bench, verbose=False, pcap_dir=None):
    """Plays `script` against bench's target; returns its Result (N/A if the
    script's targets leave it out, FAIL with the reason and detail if a line
    fails, the agent fails or exits other than 0)."""
    target = bench.target
    if target not in script.targets:
        return Result(script, target, "N/A", f"targets: {' '.join(script.targets)}"
                      + (f" ({script.targets_why})" if script.targets_why else ""))
    began = time.monotonic()
    try:
        driver = bench.driver()
    except (AgentError, OSError) as err:
        result = Result(script, target, "FAIL", f"agent: {err}")
        result.seconds = time.monotonic() - began
        return result
    run = Run(script, target, driver, bench, verbose)
    result = finish_run(run, driver)
    result.seconds = time.monotonic() - began
    if result.status == "FAIL" and pcap_dir:
        result.detail.append(f"pcap: {write_pcap(pcap_dir, script, target, driver)}")
    return result


def finish_run(run, driver):
    """Plays `run`, stops the agent, and returns the Result, failed by the
    first failure or by the agent's exit status or sanitizer report."""
    result = run.result
    try:
        run.play()
    except Failed as failure:
        result.status, result.reason, result.detail = "FAIL", failure.reason, failure.detail
    except AgentError as err:
        result.status, result.reason = "FAIL", f"agent: {err}"
    finally:
        code, stderr = driver.stop()
    result.injected = [sent - line.time for (sent, _), line in zip(
        [i for i in driver.injected if not is_arp(i[1])],
        [l for l in run.script.lines if l.kind in ("<", "icmp") and l.applies(run.target)])]
    if driver.stray:
        if result.status != "FAIL":
            result.status, result.reason = "FAIL", "agent protocol: stray lines on stdout"
        result.detail.append("the agent wrote lines that are no part of the agent protocol on "
                             "stdout (logs belong on stderr):\n"
                             + indent("\n".join(driver.stray[:5])))
    if code != 0 or "Sanitizer" in stderr or "runtime error:" in stderr:
        if result.status != "FAIL":
            result.status, result.reason = "FAIL", f"agent exited {code}"
        result.detail.append(f"agent exit status {code}; its stderr ends:\n"
                             + indent(stderr[-2000:] or "(nothing)"))
    if result.status == "FAIL" and result.trace:
        result.detail.append("what happened before:\n" + indent("\n".join(result.trace[-12:])))
    return result


def is_arp(frame):
    """True for an ARP frame."""
    return frame[12:14] == b"\x08\x06"


def indent(text, prefix="    "):
    """`text` with every line indented by `prefix`."""
    return "\n".join(prefix + line for line in text.splitlines())


def write_pcap(directory, script, target, driver):
    """Writes every frame of the run, both ways, to DIR/SCRIPT-TARGET.pcap
    (microsecond pcap, Ethernet, times from the script's start); returns the path."""
    path = Path(directory) / f"{script.path.stem}-{target}.pcap"
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = sorted([(t, f) for t, f in driver.injected] + list(driver.frames),
                    key=lambda item: item[0])
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for stamp, frame in frames:
            usec = max(0, round(stamp * 1e6))
            out.write(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000,
                                  len(frame), len(frame)) + frame)
    return path
