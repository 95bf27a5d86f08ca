"""verdicts.py - what the lab's targets made of a frame, and whether they
agree: a chapter program's verdict line (verdict_of_line), Linux's counters
(read_counters, linux_verdict) judged against a vector (linux_agreement), and
the answers a target sent back, by kind (answer_to, answer_kinds).

Shared by the harness (harness/conftest.py) and tools/compare.py, so the
tests check exactly what the reader is shown.  Every wait is bounded.  The
answers are decoded with scapy (the harness's Python has it), but for TCP
segments, which the scenario runner's decoder reads (scenariokit.frames), so
the two judge segments alike.
"""
import re
import time
from pathlib import Path

from labaddr import TARGET_IP, TARGET_MAC
from labproc import Running
from scenariokit.frames import SEQ_MOD, mac_bytes, parse_frame
from scenariokit.parsing import FLAG_BITS

ROOT = Path(__file__).resolve().parents[1]
FIN, SYN, RST, ACK = (FLAG_BITS[letter] for letter in "FSR.")

# Linux counters that move only when a packet is refused as wrong.  A vector
# that names some of these expects exactly those to move, and the rest to stay.
ERROR_COUNTERS = [
    "Ip.InHdrErrors", "Ip.InAddrErrors", "Ip.InUnknownProtos", "Ip.InDiscards",
    "IpExt.InTruncatedPkts", "IpExt.InCsumErrors", "Ip.ReasmReqds",
    "Icmp.InErrors", "Icmp.InCsumErrors", "Udp.InErrors", "Udp.InCsumErrors",
    "Tcp.InErrs", "Tcp.InCsumErrors",
]


def read_counters(lab, side):
    """Linux's IP, ICMP, UDP and TCP counters in that side, flattened to
    {"Ip.InHdrErrors": n, "IpExt.InCsumErrors": n, ...}."""
    pid = lab.pids[side]
    out = {}
    for name in ("snmp", "netstat"):
        lines = Path(f"/proc/{pid}/net/{name}").read_text().splitlines()
        for head, values in zip(lines[0::2], lines[1::2]):
            group, keys = head.split(":", 1)
            for key, value in zip(keys.split(), values.split(":", 1)[1].split()):
                out[f"{group}.{key}"] = int(value)
    return out


def counters_moved(before, after):
    """The counters that changed between two read_counters() snapshots."""
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def linux_verdict(lab, wire, frame, expect, settle=1.0):
    """Sends frame to the Linux target; returns the counters that moved once
    every counter in expect has moved, or after settle seconds."""
    before = read_counters(lab, "target")
    wire.send(frame)
    deadline = time.monotonic() + settle
    while True:
        moved = counters_moved(before, read_counters(lab, "target"))
        if all(name in moved for name in expect) or time.monotonic() > deadline:
            return moved
        time.sleep(0.01)


def verdict_of_line(line):
    """The verdict a line of ipv4parse or cksumcheck states, by the names of
    lib/include/tcpip/drop.h ("ok", "ip4_bad_ihl", ...), or "?"."""
    named = (re.search(r"IPv4 drop (\w+):", line) or re.search(r"not checked: (\w+)$", line)
             or re.search(r"ip cksum 0x[0-9a-f]{4} ok, (\w+)$", line)
             or re.search(r" ok, then (\w+)$", line))
    if named:
        return named.group(1)
    bad_l4 = re.search(r"(ICMP|TCP|UDP) cksum 0x[0-9a-f]{4} BAD", line)
    if bad_l4:
        return bad_l4.group(1).lower() + "_bad_checksum"
    if re.search(r"ip cksum 0x[0-9a-f]{4} BAD", line):
        return "ip4_bad_checksum"
    if "fragment (not reassembled)" in line:
        return "ip4_fragment"
    if "not IPv4" in line:
        return "eth_unknown_type"
    if line.endswith(" ok") or line.endswith("(sender computed no checksum)"):
        return "ok"
    return "?"


def ours_verdicts(lab, wire, argv, vectors):
    """Runs argv (ipv4parse or cksumcheck) on the target, sends each vector's
    frame from the peer, and returns ({name: line}, program stderr)."""
    prog = Running(lab, argv + ["-c", str(len(vectors)), "-t", "120"])
    lines = {}
    for vec in vectors:
        wire.send(vec.frame)
        got = prog.lines(1, timeout=5)
        lines[vec.name] = got[0] if got else ""
    code = prog.stop()
    if code != 0:
        raise AssertionError(f"{argv[0]} exited {code}: {prog.stderr}")
    return lines, prog.stderr


# The error counters Linux may move for a frame of each class of our
# verdicts (drop.h); a class of wrong bytes must move at least one.  A vector
# where Linux and we part ways says so in its "linux-differs" line.
CLASS_COUNTERS = {
    "ok": set(),
    "truncated": {"Ip.InHdrErrors", "IpExt.InTruncatedPkts", "Icmp.InErrors", "Udp.InErrors", "Tcp.InErrs"},
    "malformed": {"Ip.InHdrErrors", "Icmp.InErrors", "Udp.InErrors", "Tcp.InErrs"},
    "checksum": {"IpExt.InCsumErrors", "Ip.InHdrErrors", "Icmp.InCsumErrors", "Icmp.InErrors",
                 "Udp.InCsumErrors", "Udp.InErrors", "Tcp.InCsumErrors", "Tcp.InErrs"},
    "unsupported": {"Ip.ReasmReqds", "Icmp.InErrors", "Ip.InUnknownProtos"},
    "not_for_us": {"Ip.InAddrErrors"},
}
WRONG_BYTES = ("truncated", "malformed", "checksum")


def verdict_classes():
    """{verdict name: class name} read from lib/include/tcpip/drop.h."""
    text = (ROOT / "lib" / "include" / "tcpip" / "drop.h").read_text()
    return {name: cls[len("CLASS_"):].lower()
            for name, cls in re.findall(r'X\(\w+, "(\w+)", (CLASS_\w+)', text)}


def class_agreement(vec, moved, classes):
    """Whether the error counters Linux moved fit the class of vec's verdict.
    Returns (ok, explanation)."""
    if vec.linux_differs or vec.frame[12:14] == b"\x08\x06":
        return True, ""  # a difference the vector explains; ARP: Linux keeps no counters
    cls = classes[vec.verdict]
    errors = {c for c in ERROR_COUNTERS if c in moved}
    if errors - CLASS_COUNTERS[cls]:
        return False, f"our class is {cls}, yet Linux moved {' '.join(sorted(errors - CLASS_COUNTERS[cls]))}"
    if cls in WRONG_BYTES and not errors:
        return False, f"our class is {cls}, yet Linux moved no error counter"
    return True, ""


def linux_agreement(vec, moved):
    """Whether Linux's moved counters are what vec names (every named counter
    moved, no other error counter did) and fit the class of our verdict.
    Returns (ok, explanation)."""
    missing = [c for c in vec.linux_counters if c not in moved]
    stray = [c for c in ERROR_COUNTERS if c in moved and c not in vec.linux_counters]
    if missing:
        return False, f"did not move {' '.join(missing)}"
    if stray:
        return False, f"also moved {' '.join(stray)}"
    return class_agreement(vec, moved, verdict_classes())


def answer_kinds(request, frames):
    """What a target answered request with: a sorted list of kinds among
    "arp-reply" (to the asker, saying 192.0.2.2 is at the target's MAC),
    "echo-reply" (same identifier, sequence and data as an echo request),
    "timestamp-reply", "tcp-rst" (the reset RFC 9293 3.10.7.1 computes for
    the request), "tcp-synack" (acknowledging the request's SYN), and
    "other:<summary>" for anything else.  ARP requests
    the target sends to resolve the peer are resolution, not answers, and the
    target's gratuitous announcements are ignored, as is Linux's "fragment
    reassembly time exceeded", which answers a fragment sent 30 s before."""
    from scapy.all import ARP, ICMP, IP, TCP, Ether  # the harness's Python has scapy

    req = Ether(request)
    kinds = []
    for frame in frames:
        pkt = Ether(frame)
        if ARP in pkt and pkt[ARP].op == 1:
            continue
        if ICMP in pkt and pkt[ICMP].type == 11 and pkt[ICMP].code == 1:
            continue  # Linux giving up reassembly of an earlier fragment vector, 30 s on
        if ARP in pkt and pkt[ARP].op == 2 and pkt[ARP].psrc == TARGET_IP and pkt[ARP].pdst != TARGET_IP:
            # By bytes, not scapy's fields: a request with an odd hardware
            # type has its addresses decoded otherwise.
            ok = frame[22:28] == mac_bytes(TARGET_MAC) and frame[32:38] == request[22:28]
            kinds.append("arp-reply" if ok else "other:bad arp reply " + pkt.summary())
        elif ICMP in pkt and pkt[ICMP].type == 0 and ICMP in req:
            same = (pkt[IP].src == req[IP].dst and pkt[IP].dst == req[IP].src and
                    pkt[ICMP].id == req[ICMP].id and pkt[ICMP].seq == req[ICMP].seq and
                    icmp_data(pkt) == icmp_data(req))
            kinds.append("echo-reply" if same else "other:echo reply that differs " + pkt.summary())
        elif ICMP in pkt and pkt[ICMP].type == 14:
            kinds.append("timestamp-reply")
        elif TCP in pkt and TCP in req:
            kinds.append(tcp_answer_kind(request, frame))
        else:
            kinds.append("other:" + pkt.summary())
    return sorted(kinds)


def tcp_answer_kind(request, frame):
    """"tcp-rst" if Ethernet frame `frame` is exactly the reset RFC 9293
    3.10.7.1 owes the segment in frame `request` (SEQ=SEG.ACK with ACK; else
    SEQ=0, ACK=SEG.SEQ+SEG.LEN, RST+ACK), "tcp-synack" for a SYN-ACK of the
    request's SYN, else "other:...", also when either is no whole TCP/IPv4
    segment.  Both are read by the scenario runner's decoder, parse_frame;
    scapy only words an "other:" kind."""
    from scapy.all import TCP, Ether

    seg, ans = parse_frame(request), parse_frame(frame)
    if seg is None or ans is None:
        return "other:" + Ether(frame).summary()
    ports = ans.sport == seg.dport and ans.dport == seg.sport
    if ans.flags & RST and ports:
        if seg.flags & ACK:
            ok = ans.flags == RST and ans.seq == seg.ack
        else:
            seq_len = len(seg.payload) + bool(seg.flags & SYN) + bool(seg.flags & FIN)
            ok = (ans.flags == RST | ACK and ans.seq == 0
                  and ans.ack == (seg.seq + seq_len) % SEQ_MOD)
        flags = Ether(frame)[TCP].flags
        return "tcp-rst" if ok else f"other:reset that differs (seq {ans.seq} ack {ans.ack} {flags})"
    if ans.flags == SYN | ACK and ports and ans.ack == (seg.seq + 1) % SEQ_MOD:
        return "tcp-synack"
    return "other:" + Ether(frame).summary()


def icmp_data(pkt):
    """The data of the ICMP message in pkt, by the IPv4 total length (so
    Ethernet padding is not taken for data)."""
    from scapy.all import IP

    raw = bytes(pkt[IP])
    return raw[pkt[IP].ihl * 4 + 8:pkt[IP].len]


def answer_to(wire, vec, answer):
    """Sends vec's frame and returns the answer kinds the target gave: for a
    vector that expects an answer, as soon as one comes (1 s at most); for
    one that expects none ("none"), whatever comes within 250 ms."""
    silent = answer in (None, "none")
    return answer_kinds(vec.frame, wire.exchange(vec.frame, 250 if silent else 1000,
                                                 "all" if silent else "first"))


def expected_kinds(answer):
    """The answer_kinds() a vector's "answer" line stands for."""
    return [] if answer in (None, "none") else [answer]
