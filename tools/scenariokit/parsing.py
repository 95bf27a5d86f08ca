"""scenariokit.parsing - the scenario-script format (testvectors/README.md):
parse_script() reads a file into a Script of timed Lines, each `<`/`>` line's
segment a Segment with relative numbers, and refuses a malformed script with
ScriptError naming file:line.  Text only: nothing here runs a target.
"""
import math
import re
from pathlib import Path

TARGETS = ("core", "ours", "linux")
TAG_TARGETS = {"core": {"core"}, "ours": {"core", "ours"}, "linux": {"linux"}}
DEFAULT_PORT = 8080
MAX_SCRIPT_S = 600.0        # no script may last longer
FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, ".": 0x10, "U": 0x20,
             "E": 0x40, "W": 0x80}
ANY = "*"


class ScriptError(Exception):
    """A script that does not follow the format; the message names file:line."""


# The IPv4 header's ECN field (RFC 3168 5), as a line names it: `ecn ect0`.
ECN_CODES = {"not-ect": 0, "ect1": 1, "ect0": 2, "ce": 3}


class Segment:
    """A segment as a script line writes it.  Numbers are relative (see the
    README); ANY stands for "any value"; None for a field the line omits."""

    def __init__(self, flags, seq, end, length):
        """flags: bit mask; seq/end/length: ints or ANY."""
        self.flags, self.seq, self.end, self.length = flags, seq, end, length
        self.flags_any = 0    # flag bits a `>` line leaves open (`P?`: PSH or not)
        self.ack = self.win = self.data = self.urg = None
        self.ecn = None       # the IPv4 ECN field, a name of ECN_CODES; None: any (> lines), Not-ECT (<)
        self.options = []     # list of option tuples, or ANY for <*>
        self.bad_cksum = False


class Line:
    """One timed line of a script."""

    def __init__(self, lineno, text, time_s, tags, kind, rest):
        """kind is "<", ">", "app" or "event"; rest is its parsed argument:
        a Segment for "<"/">", a list of words for "app"/"event"."""
        self.lineno, self.text, self.time = lineno, text, time_s
        self.tags, self.kind, self.rest = tags, kind, rest

    def applies(self, target):
        """True if this line is played against `target`."""
        return self.tags is None or target in self.tags


class Script:
    """A parsed script: path, headers and lines (see parse_script)."""

    def __init__(self, path):
        """An empty script for `path`."""
        self.path = Path(path)
        self.name = self.path.name
        self.targets = list(TARGETS)
        self.targets_why = ""
        self.port = DEFAULT_PORT
        self.linux = ""
        self.rfc = ""
        self.late_ms = {}       # veth target -> how late (ms) a line may come
        self.late_why = ""
        self.lines = []

    def where(self, line):
        """"name:lineno" of `line`."""
        return f"{self.name}:{line.lineno}"

    @property
    def active(self):
        """True if the stack opens the connection (the script has app connect)."""
        return any(l.kind == "app" and l.rest[0] == "connect" for l in self.lines)


def parse_script(path):
    """The Script in file `path`; ScriptError (with file:line) if malformed."""
    script = Script(path)
    prev = 0.0
    for lineno, raw in enumerate(Path(path).read_text().splitlines(), 1):
        text = raw.strip()
        if not text:
            continue
        try:
            if text.startswith("#"):
                parse_header(script, text[1:].strip())
                continue
            line = parse_line(lineno, text, prev)
        except (ValueError, IndexError) as err:
            raise ScriptError(f"{script.name}:{lineno}: {err}: {text}") from None
        script.lines.append(line)
        prev = line.time
    check_script(script)
    return script


def parse_header(script, text):
    """Takes the header keys this runner reads from comment `text`
    (targets, port, linux, rfc); other comments are prose."""
    key, sep, value = text.partition(":")
    key, value = key.strip().lower(), value.strip()
    if not sep or " " in key:
        return
    if key == "targets":
        names, _, why = value.partition("(")
        script.targets = names.split()
        script.targets_why = why.rstrip(")").strip()
        unknown = set(script.targets) - set(TARGETS)
        if unknown or not script.targets:
            raise ValueError(f"unknown targets {' '.join(sorted(unknown))}")
    elif key == "port":
        script.port = port_number(value)
    elif key == "tolerance":
        parse_tolerance(script, value)
    elif key == "linux":
        script.linux = (script.linux + " " + value).strip()
    elif key == "rfc":
        script.rfc = (script.rfc + " " + value).strip()


def parse_tolerance(script, value):
    """Reads "linux 400 ms (why)" (targets, then how late in ms a segment or
    event may come over veth for them): a script whose target's timers are
    coarser than the default tolerance says so, and why."""
    head, _, why = value.partition("(")
    words = head.split()
    if words and words[-1] == "ms":
        words.pop()
    if len(words) < 2 or not why.strip(") "):
        raise ValueError("'# tolerance: TARGET... MS (why)'")
    late_ms = float(words.pop())
    if set(words) - {"ours", "linux"} or not 0 < late_ms <= 10_000:
        raise ValueError("tolerance: targets ours or linux, 1..10000 ms")
    script.late_ms.update({target: late_ms for target in words})
    script.late_why = why.rstrip(") ").strip()


def check_script(script):
    """ScriptError unless the script as a whole is well formed: an rfc header,
    a reason for restricted targets and for {linux} lines, some lines."""
    problems = []
    if not script.rfc:
        problems.append("no '# rfc:' header")
    if set(script.targets) != set(TARGETS) and not script.targets_why:
        problems.append("'# targets:' restricted without '(why)'")
    tagged = any(l.tags == TAG_TARGETS["linux"] for l in script.lines)
    if tagged and not script.linux.startswith("differs:"):
        problems.append("{linux} lines need a '# linux: differs: WHY' header")
    if not script.lines:
        problems.append("no timed lines")
    if script.lines and script.lines[-1].time > MAX_SCRIPT_S:
        problems.append(f"longer than {MAX_SCRIPT_S:.0f} s")
    if problems:
        raise ScriptError(f"{script.name}: " + "; ".join(problems))


def parse_line(lineno, text, prev):
    """The Line for `text` (numbered `lineno`), `prev` being the time of the
    previous line; ValueError if malformed."""
    words = text.split()
    time_s = parse_time(words.pop(0), prev)
    tags = None
    if words and words[0].startswith("{"):
        tags = parse_tag(words.pop(0))
    kind = words.pop(0)
    if kind in ("<", ">"):
        rest = parse_segment(" ".join(words), kind)
    elif kind in ("app", "event"):
        rest = words
        if not rest:
            raise ValueError(f"'{kind}' needs a command")
    elif kind == "icmp":
        rest = [int(w) for w in words if w.isdigit()]
        if len(rest) != 2 or len(words) != 2 or max(rest) > 255:
            raise ValueError("write icmp TYPE CODE (two numbers up to 255)")
    else:
        raise ValueError(f"unknown kind {kind!r} (expected <, >, icmp, app or event)")
    return Line(lineno, text, time_s, tags, kind, rest)


def parse_time(token, prev):
    """Seconds from "1.250" (absolute) or "+0.1" (after the previous line at
    `prev`); ValueError if not a number, negative, or going backwards."""
    relative = token.startswith("+")
    value = float(token[1:] if relative else token)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"bad time {token!r}")
    time_s = prev + value if relative else value
    if time_s < prev - 1e-9:
        raise ValueError(f"time {token} goes backwards")
    return round(time_s, 6)


def parse_tag(token):
    """The set of targets of a tag like "{linux}" or "{core,ours}"."""
    if not token.endswith("}"):
        raise ValueError(f"bad target tag {token!r}")
    targets = set()
    for name in token[1:-1].split(","):
        if name not in TAG_TARGETS:
            raise ValueError(f"unknown target {name!r} in tag")
        targets |= TAG_TARGETS[name]
    return targets


SEGMENT_RE = re.compile(r"^(?P<flags>[FSRPUEW.?]+)\s+(?P<seq>\*|-?\d+):(?P<end>\*|-?\d+)"
                        r"\((?P<len>\*|\d+)\)\s*(?P<rest>.*)$")


def parse_segment(text, direction):
    """The Segment written as `text` on a `direction` ("<" or ">") line."""
    match = SEGMENT_RE.match(text)
    if not match:
        raise ValueError("expected FLAGS SEQ:END(LEN) ...")
    seq, end, length = (number_or_any(match.group(k)) for k in ("seq", "end", "len"))
    if ANY not in (seq, end, length) and (end - seq) != length:
        raise ValueError(f"END - SEQ is {end - seq}, LEN is {length}")
    if direction == "<" and ANY in (seq, end, length):
        raise ValueError("'*' only in > lines")
    flags, flags_any = parse_flags(match.group("flags"))
    if flags_any and direction == "<":
        raise ValueError("'P?' only in > lines")
    seg = Segment(flags, seq, end, length)
    seg.flags_any = flags_any
    parse_segment_fields(seg, match.group("rest"), direction)
    if seg.flags & FLAG_BITS["."] and seg.ack is None:
        raise ValueError("the ACK flag needs 'ack N' (or 'ack *')")
    return seg


def parse_segment_fields(seg, text, direction):
    """Fills seg's ack, win, options, data, cksum and ecn from the rest of a line."""
    if "<" in text:
        head, _, tail = text.partition("<")
        options, sep, after = tail.partition(">")
        if not sep:
            raise ValueError("'<' without '>'")
        seg.options = parse_options(options, direction)
        text = head + " " + after
    words = text.split()
    while words:
        key = words.pop(0)
        if key in ("ack", "win", "urg"):
            setattr(seg, key, number_or_any(words.pop(0)))
        elif key == "data":
            value = words.pop(0)
            seg.data = ANY if value == ANY else bytes.fromhex(value)
        elif key == "cksum" and words.pop(0) == "bad" and direction == "<":
            seg.bad_cksum = True
        elif key == "ecn":
            seg.ecn = words.pop(0) if words else ""
            if seg.ecn not in ECN_CODES:
                raise ValueError(f"ecn wants one of {', '.join(ECN_CODES)}")
        else:
            raise ValueError(f"unexpected {key!r}")
    if direction == "<" and ANY in (seg.ack, seg.win, seg.data, seg.urg):
        raise ValueError("'*' only in > lines")
    if seg.data not in (None, ANY) and seg.length not in (ANY, len(seg.data)):
        raise ValueError(f"data has {len(seg.data)} bytes, LEN says {seg.length}")


def parse_flags(text):
    """(bits, open bits) of tcpdump-style letters ("S.", "R", "FP."); `P?`
    (PSH, set or not) puts PSH among the open bits instead."""
    bits = 0
    if text.count("?") > 1 or ("?" in text and "P?" not in text):
        raise ValueError("'?' only after P (P?: PSH set or not)")
    open_bits = FLAG_BITS["P"] if "P?" in text else 0
    for letter in text.replace("P?", ""):
        if FLAG_BITS[letter] & (bits | open_bits):
            raise ValueError(f"flag {letter} twice")
        bits |= FLAG_BITS[letter]
    return bits, open_bits


def parse_options(text, direction):
    """Option tuples from the text between < and >; ANY for "*"."""
    if text.strip() == "*":
        if direction == "<":
            raise ValueError("'<*>' only in > lines")
        return ANY
    return [parse_option(item.split()) for item in text.split(",") if item.strip()]


def parse_option(words):
    """One option tuple: ("mss", N), ("wscale", N), ("sackOK",), ("TS", VAL, ECR),
    ("sack", [(L, R)...]), ("nop",), ("eol",) or ("raw", BYTES)."""
    name, args = words[0], words[1:]
    if name in ("mss", "wscale") and len(args) == 1:
        return (name, number_or_any(args[0]))
    if name in ("sackOK", "nop", "eol") and not args:
        return (name,)
    if name == "TS" and len(args) == 4 and args[0] == "val" and args[2] == "ecr":
        return ("TS", number_or_any(args[1]), number_or_any(args[3]))
    if name == "sack" and args:
        return ("sack", [tuple(int(x) for x in block.split(":")) for block in args])
    if name == "raw" and args:
        return ("raw", bytes.fromhex("".join(args)))
    raise ValueError(f"bad option {' '.join(words)!r}")


def number_or_any(token):
    """ANY for "*", else the integer written."""
    return ANY if token == "*" else int(token)


def port_number(text):
    """A TCP port from text; ValueError unless 1..65535."""
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError(f"port {text} out of range")
    return port
