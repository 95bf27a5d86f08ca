"""Chapter 1, raw read: rawread on a real veth prints every frame, saves a
pcap tshark reads cleanly, runs with no capability, and explains itself when
it has none to start with."""
import re
import subprocess
from pathlib import Path

import pytest
from scapy.all import ARP, ICMP, IP, Ether, IPv6, Raw, rdpcap

from conftest import Running, Wire, program, start_lab
from labaddr import PEER_IP, PEER_MAC, TARGET_IP, TARGET_MAC

PEER, TARGET = PEER_MAC, TARGET_MAC
FRAMES = [
    bytes(Ether(src=PEER, dst=TARGET) / IP(src=PEER_IP, dst=TARGET_IP) / ICMP()),
    bytes(Ether(src=PEER, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=PEER_IP, pdst=TARGET_IP)),
    bytes(Ether(src=PEER, dst=TARGET, type=0x88B5) / Raw(b"local experimental ethertype")),
    bytes(Ether(src=PEER, dst=TARGET) / IPv6(src="2001:db8::1", dst="2001:db8::2") / Raw(b"v6")),
    bytes(Ether(src=PEER, dst=TARGET) / IP(src=PEER_IP, dst=TARGET_IP) / ICMP() / Raw(bytes(1472))),
]


@pytest.fixture(scope="module")
def lab():
    lab = start_lab(target="ours", peer="raw")
    yield lab
    lab.down()


@pytest.fixture(scope="module")
def capture(lab, tmp_path_factory):
    """rawread -v --pcap on target0 while the peer sends FRAMES; its output,
    stderr, the CapEff it ran with, and the pcap path."""
    pcap = tmp_path_factory.mktemp("ch01") / "capture.pcap"
    prog = Running(lab, [program("rawread"), "-i", "target0", "-v", "--pcap", str(pcap),
                         "-c", str(len(FRAMES)), "-t", "30"])
    status = Path(f"/proc/{prog.pid}/status").read_text()
    wire = Wire(lab)
    for frame in FRAMES:
        wire.send(frame)
    lines = prog.lines(len(FRAMES))
    wire.close()
    code = prog.stop()
    return dict(lines=lines, stderr=prog.stderr, status=status, pcap=pcap, code=code)


def test_one_line_per_frame(capture):
    """Each frame gives one line: time, source > destination, EtherType by
    name and number, length, as scapy reads the same bytes."""
    assert capture["code"] == 0, capture["stderr"]
    assert len(capture["lines"]) == len(FRAMES)
    names = {0x0800: "IPv4", 0x0806: "ARP", 0x86DD: "IPv6"}
    for frame, line in zip(FRAMES, capture["lines"]):
        eth = Ether(frame)
        want = (f"{eth.src} > {eth.dst}, {names.get(eth.type, 'unknown')} (0x{eth.type:04x}), "
                f"length {len(frame)}")
        assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{6} " + re.escape(want), line), line


def test_capabilities_dropped(capture):
    """The running process has no effective, permitted or bounding capability
    (CapEff, CapPrm, CapBnd of /proc/PID/status), and -v showed the sets."""
    fields = dict(re.findall(r"^(Cap\w+):\s+([0-9a-f]+)$", capture["status"], re.M))
    assert int(fields["CapEff"], 16) == 0, fields
    assert int(fields["CapPrm"], 16) == 0, fields
    assert int(fields["CapBnd"], 16) == 0, fields
    assert "capabilities before drop: =ep" in capture["stderr"]
    assert "capabilities after drop: =\n" in capture["stderr"] + "\n"
    assert re.search(r"^NoNewPrivs:\s+1$", capture["status"], re.M)


def test_pcap_is_clean(capture):
    """tshark reads the pcap with no malformed-packet warning, and its frames
    are byte for byte the frames sent."""
    tshark = subprocess.run(["tshark", "-r", str(capture["pcap"]), "-V"], capture_output=True,
                            text=True, timeout=60)
    assert tshark.returncode == 0, tshark.stderr
    assert "Malformed" not in tshark.stdout and "Expert Info (Error" not in tshark.stdout
    assert [bytes(p) for p in rdpcap(str(capture["pcap"]))] == FRAMES


def test_without_cap_net_raw(lab):
    """Started without CAP_NET_RAW (removed from the bounding and inheritable
    sets), rawread exits 1 and names both ways in."""
    run = lab.run("target", ["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw",
                             program("rawread"), "-i", "target0", "-c", "1"], check=False)
    assert run.returncode == 1, run
    assert "Operation not permitted" in run.stderr
    assert "CAP_NET_RAW" in run.stderr and "tools/lab target" in run.stderr
    assert "setcap cap_net_raw+ep" in run.stderr


@pytest.mark.parametrize("argv,code,text", [
    ([], 2, "-i IFACE is required"),
    (["-i", "target0", "-x"], 2, "unknown option"),
    (["-i", "target0", "-c", "x"], 2, "-c wants a whole number"),
    (["-i", "target0", "extra"], 2, "unexpected argument"),
    (["-i", "no-such-if0"], 1, "No interface is named no-such-if0"),
    (["--help"], 0, "usage: rawread -i IFACE"),
])
def test_usage(lab, argv, code, text):
    """Usage errors exit 2, runtime errors 1, --help 0, each with its message."""
    run = lab.run("target", [program("rawread")] + argv, check=False)
    assert run.returncode == code, run
    assert text in run.stdout + run.stderr
