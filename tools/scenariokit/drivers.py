"""scenariokit.drivers - what runs a stack for one script: a Driver starts
an agent, moves time, hands frames to the stack, runs application commands,
and records the frames and events that come back.  CoreDriver runs
`tcpagent --virtual` in virtual time; VethDriver runs an agent in the lab's
target namespace in real time, its frames sent and heard by the bench's
wire.py.  Both declare Driver, the interface the runner plays a script
through.  Every wait is bounded.
"""
import abc
import subprocess
import threading
import time

from labaddr import PEER_IP, PEER_MAC, TARGET_CIDR
from labproc import LineReader
from wire import arp_reply_for

from .frames import ip_bytes, mac_bytes
from .parsing import MAX_SCRIPT_S

AGENT_ANSWER_S = 5.0        # an agent answers a command within this
AGENT_START_S = 15.0        # an agent says "listening on" within this
EVENT_NAMES = {"accepted", "connected", "refused", "timeout", "reset", "eof", "data", "sent",
               "icmp", "unreachable", "urgent"}


class AgentError(Exception):
    """The agent died, went quiet or refused a command it must carry out."""


class Driver(abc.ABC):
    """What Run asks of a target for one script, whatever runs the stack.  A
    bench makes a driver with its agent started (bench.driver(); AgentError
    or OSError if it cannot be), Run plays the lines through it, and
    finish_run stops it.  Times are seconds of script time, from 0 at the
    script's start.  What came back is kept in lists Run reads by index:

      virtual   True if the clock moves only when told (wait_until), so a
                line's window can be judged before real time passes
      frames    [(time, frame bytes)]: every frame the stack sent, in order
      events    [(time, text, earliest)]: every agent event line; it
                happened at `time`, and no earlier than `earliest`
      injected  [(time, frame bytes)]: every frame handed to the stack (ARP
                replies included), at the time it went (over veth, the
                time wire.py says it sent it, once absorb() has read that)
      stray     agent stdout lines that are no part of the agent protocol
    """

    virtual: bool
    frames: list
    events: list
    injected: list
    stray: list

    @abc.abstractmethod
    def now(self):
        """The script time now (float seconds); never raises."""

    @abc.abstractmethod
    def wait_until(self, t):
        """Returns once script time `t` has come (at once if it has; time
        never goes back; at most MAX_SCRIPT_S of waiting), with what the
        stack did until then recorded (in virtual time: its timers run) or
        left for absorb() (in real time).  Returns None; AgentError if the
        agent fails or goes quiet on the way."""

    @abc.abstractmethod
    def wait_news(self, t):
        """Returns when something may have come from the stack or at script
        time `t`, whichever is first; the caller then calls absorb() and
        looks.  Returns None; AgentError as wait_until."""

    @abc.abstractmethod
    def absorb(self):
        """Files whatever has come in since the last call into frames, events,
        injected times and stray.  Returns None; never raises."""

    @abc.abstractmethod
    def inject(self, frame):
        """Hands Ethernet frame `frame` (bytes) to the stack now, as the peer
        sends it, and records it in injected.  Returns None; AgentError if
        the agent refuses it or fails, OSError if the peer's sender is gone."""

    @abc.abstractmethod
    def app(self, command):
        """Runs one application command of the agent protocol ("listen 8080",
        "send 10") now.  Returns the agent's answer: "ok" or "error ...";
        AgentError if the agent cannot be written to or does not answer
        within AGENT_ANSWER_S."""

    @abc.abstractmethod
    def stop(self):
        """Tells the agent to quit and waits for it (bounded; it is killed if
        it does not end).  Returns (exit status, stderr text); never raises
        for an agent that is already gone."""



class CoreDriver(Driver):
    """Drives `tcpagent --virtual`: the clock moves only when told."""

    virtual = True

    def __init__(self, agent):
        """Starts the agent at path `agent` (no root needed)."""
        self.proc = subprocess.Popen([agent, "--virtual", "-a", TARGET_CIDR],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out, self.err = LineReader(self.proc.stdout), LineReader(self.proc.stderr)
        self.clock_ms = 0
        self.frames, self.events, self.injected = [], [], []
        self.arp_owed = []
        self.stray = []     # stdout lines that are not the agent protocol
        self.since_ms = 0   # events read now happened after this time (ms) at the earliest

    def now(self):
        """The virtual time, seconds."""
        return self.clock_ms / 1000

    def call(self, command):
        """Sends one command and reads up to its answer; frames and events
        before it are recorded.  Returns "ok" or "error ..."; AgentError if the
        agent ends or says nothing for AGENT_ANSWER_S seconds."""
        try:
            self.proc.stdin.write(command.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            raise AgentError(f"cannot write to the agent: {err}") from None
        for _ in range(1_000_000):
            line = self.out.readline(AGENT_ANSWER_S)
            if line is None:
                raise AgentError(f"no answer to {command[:60]!r}")
            if line == "ok" or line.startswith("error"):
                return line
            self.record(line)
        raise AgentError("endless output")

    def record(self, line):
        """Files one output line: "tx MS HEX" as a frame (owing an ARP reply if
        it asks for 192.0.2.1), anything else as an event: (time, text,
        earliest time) - an event of a "time" command happened somewhere after
        the clock it started from, by the clock it ends at."""
        words = line.split()
        if len(words) == 3 and words[0] == "tx":
            frame = bytes.fromhex(words[2])
            self.frames.append((int(words[1]) / 1000, frame))
            reply = arp_reply_for(frame, ip_bytes(PEER_IP), mac_bytes(PEER_MAC))
            if reply:
                self.arp_owed.append(reply)
        elif words and words[0] in EVENT_NAMES:
            self.events.append((self.now(), line, self.since_ms / 1000))
        else:
            self.stray.append(line)

    def must(self, command):
        """call(command), answering the ARP requests it caused; AgentError
        unless the answer is "ok"."""
        answer = self.call(command)
        if answer != "ok":
            raise AgentError(f"{command[:40]!r} answered {answer!r}")
        self.pay_arp()

    def pay_arp(self):
        """Hands the stack the ARP replies it is owed (bounded: 16 rounds)."""
        for _ in range(16):
            if not self.arp_owed:
                return
            reply = self.arp_owed.pop(0)
            self.injected.append((self.now(), reply))
            if self.call("frame " + reply.hex()) != "ok":
                raise AgentError("the stack refused an ARP reply")

    def wait_until(self, t):
        """Moves the clock to `t` seconds (never back), running due timers."""
        ms = round(t * 1000)
        if ms > self.clock_ms:
            self.since_ms, self.clock_ms = self.clock_ms + 1, ms
            try:
                self.must(f"time {ms}")
            finally:
                self.since_ms = self.clock_ms
            self.settle()

    wait_news = wait_until

    def absorb(self):
        """Nothing to do: every output is read with its command."""

    def inject(self, frame):
        """Hands the stack one frame at the current time."""
        self.injected.append((self.now(), frame))
        self.must("frame " + frame.hex())
        self.settle()

    def app(self, command):
        """Runs one application command; returns the agent's answer."""
        answer = self.call(command)
        self.pay_arp()
        self.settle()
        return answer

    def settle(self):
        """Reads what the last command did after its answer.  An agent may
        carry on after "ok" (tcpagent moves a send's bytes, a recv's reading
        and the "eof" it finds after every command), so a `time` to the same
        clock, which changes nothing, brings that output in, at the time it
        happened."""
        self.must(f"time {self.clock_ms}")

    def stop(self):
        """Says quit and waits (bounded); returns (exit status, stderr text)."""
        return stop_process(self.proc, self.err)


def stop_process(proc, err_reader):
    """Writes "quit" to `proc`, closes its stdin and waits up to 5 s (then
    kills it); returns (exit status, stderr text read within 2 s)."""
    try:
        proc.stdin.write(b"quit\n")
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    return proc.returncode, "\n".join(err_reader.rest(2.0))


class Inbox:
    """Timestamped items from reader threads, waited for with a deadline."""

    def __init__(self):
        """Empty."""
        self.items = []
        self.cond = threading.Condition()

    def put(self, item):
        """Adds one item (kind, monotonic seconds, value) and wakes waiters."""
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def take_all(self):
        """Removes and returns every item."""
        with self.cond:
            items, self.items = self.items, []
        return items

    def wait(self, deadline):
        """Waits until some item is there or monotonic time `deadline`."""
        with self.cond:
            if not self.items:
                self.cond.wait(max(0.0, min(deadline - time.monotonic(), MAX_SCRIPT_S)))


def pump_lines(pipe, inbox, parse):
    """Thread body: each line of `pipe` becomes inbox item parse(line, now);
    ("eof", now, None) at end of file."""
    for raw in iter(pipe.readline, b""):
        inbox.put(parse(raw.decode(errors="replace").rstrip("\n"), time.monotonic()))
    inbox.put(("eof", time.monotonic(), None))


def agent_item(line, now):
    """An inbox item for one line of an agent's stdout."""
    return ("line", now, line)


def wire_item(line, now):
    """An inbox item for one line of wire.py in stream mode: frames and sends
    carry wire.py's own CLOCK_MONOTONIC stamp."""
    words = line.split()
    if len(words) == 3 and words[0] == "rx":
        return ("rx", int(words[1]) / 1e9, bytes.fromhex(words[2]))
    if len(words) == 3 and words[0] == "sent":
        return ("sent", int(words[1]) / 1e9, int(words[2]))
    return ("wire", now, line)


class VethDriver(Driver):
    """Drives an agent in the lab's target namespace, in real time; the bench's
    wire.py stream sends and hears frames on the peer side."""

    virtual = False

    def __init__(self, bench, argv):
        """Starts agent `argv` in the target and waits until it is listening."""
        self.bench = bench
        self.proc = bench.lab.popen("target", argv, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err = LineReader(self.proc.stderr)
        self.wait_listening(argv[0])
        bench.inbox.take_all()  # frames of earlier runs
        self.thread = threading.Thread(target=pump_lines, daemon=True,
                                       args=(self.proc.stdout, bench.inbox, agent_item))
        self.thread.start()
        self.frames, self.events, self.injected, self.answers = [], [], [], []
        self.stray = []
        self.sends = 0
        self.agent_ended = False
        self.t0 = time.monotonic()

    def wait_listening(self, name):
        """Reads stderr until "listening on" (AGENT_START_S at most)."""
        seen = []
        deadline = time.monotonic() + AGENT_START_S
        for _ in range(10_000):  # bounded by count and by the deadline
            if time.monotonic() >= deadline:
                break
            line = self.err.readline(deadline - time.monotonic())
            if line is None:
                break
            seen.append(line)
            if "listening on" in line:
                return
        code, rest = stop_process(self.proc, self.err)
        raise AgentError(f"{name} did not say 'listening on' (exit {code}): "
                         + " | ".join(seen + [rest])[-800:])

    def now(self):
        """Seconds since the script began."""
        return time.monotonic() - self.t0

    def wait_until(self, t):
        """Sleeps until script time `t` (at most MAX_SCRIPT_S)."""
        time.sleep(min(max(0.0, t - self.now()), MAX_SCRIPT_S))

    def wait_news(self, t):
        """Waits until something arrives or script time `t`."""
        self.bench.inbox.wait(self.t0 + t)

    def absorb(self):
        """Files what the reader threads brought: frames, events, answers."""
        for kind, stamp, value in self.bench.inbox.take_all():
            t = stamp - self.t0
            if kind == "rx":
                self.frames.append((t, value))
            elif kind == "sent" and self.sends < len(self.injected):
                self.injected[self.sends][0] = t
                self.sends += 1
            elif kind == "line" and (value == "ok" or value.startswith("error")):
                self.answers.append(value)
            elif kind == "line" and value.split()[:1] and value.split()[0] in EVENT_NAMES:
                self.events.append((t, value, t))
            elif kind == "line":
                self.stray.append(value)
            elif kind == "eof":
                self.agent_ended = True

    def inject(self, frame):
        """Sends `frame` from the peer now (its wire time is filled in later)."""
        self.injected.append([self.now(), frame])
        self.bench.send(frame)

    def app(self, command):
        """Writes one command to the agent; returns its answer, AgentError if
        none comes within AGENT_ANSWER_S."""
        try:
            self.proc.stdin.write(command.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            raise AgentError(f"cannot write to the agent: {err}") from None
        deadline = time.monotonic() + AGENT_ANSWER_S
        for _ in range(100_000):  # bounded by count and by the deadline
            if time.monotonic() >= deadline:
                break
            self.absorb()
            if self.answers:
                return self.answers.pop(0)
            if self.agent_ended:
                break
            self.bench.inbox.wait(deadline)
        raise AgentError(f"no answer to {command[:60]!r}")

    def stop(self):
        """Quits the agent (bounded); returns (exit status, stderr text)."""
        result = stop_process(self.proc, self.err)
        self.thread.join(2.0)
        return result
