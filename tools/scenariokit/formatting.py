"""scenariokit.formatting - segments, options and data written back as a
script line writes them, for the runner's traces and failure tables.
"""
from .parsing import ANY, FLAG_BITS

FLAG_ORDER = "FSRP.UEW"      # tcpdump's order: SYN+ACK is "S.", FIN+PSH+ACK "FP."


def format_flags(bits, open_bits=0):
    """tcpdump-style letters for flag bits: "S.", "R", "FP."; a bit of
    `open_bits` (set or not) as "P?"."""
    letters = [letter + ("?" if open_bits & FLAG_BITS[letter] else "")
               for letter in FLAG_ORDER if (bits | open_bits) & FLAG_BITS[letter]]
    return "".join(letters) or "none"


def format_option(opt):
    """The script text of one option tuple (values may be ANY)."""
    name = opt[0]
    if name in ("mss", "wscale"):
        return f"{name} {opt[1]}"
    if name == "TS":
        return f"TS val {opt[1]} ecr {opt[2]}"
    if name == "sack":
        return "sack " + " ".join(f"{l}:{r}" for l, r in opt[1])
    if name == "raw":
        return "raw " + opt[1].hex(" ")
    return name


def format_options(options):
    """"<...>" for a list of option tuples, "<*>" for ANY, "" for none."""
    if options == ANY:
        return "<*>"
    return "<" + ",".join(map(format_option, options)) + ">" if options else ""


def format_data(data, shown=16):
    """The hex of `data` as a line writes it, or "*"; past `shown` bytes cut
    short, with the whole length said ("000102...(1460 bytes)")."""
    if data == ANY:
        return ANY
    if len(data) <= shown:
        return data.hex()
    return f"{data[:shown // 2].hex()}...{data[-2:].hex()}({len(data)} bytes)"


def format_segment(seg):
    """The script text of a Segment (as a line writes it, minus TIME and '>')."""
    text = f"{format_flags(seg.flags, seg.flags_any)} {seg.seq}:{seg.end}({seg.length})"
    if seg.ack is not None:
        text += f" ack {seg.ack}"
    if seg.win is not None:
        text += f" win {seg.win}"
    if seg.urg is not None:
        text += f" urg {seg.urg}"
    if seg.options:
        text += " " + format_options(seg.options)
    if seg.data is not None:
        text += " data " + format_data(seg.data)
    if seg.bad_cksum:
        text += " cksum bad"
    if seg.ecn not in (None, "not-ect"):
        text += f" ecn {seg.ecn}"
    return text
