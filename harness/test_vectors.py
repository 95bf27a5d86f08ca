"""The vector files themselves: well formed, reproducible from their
generator, and the checksum vectors right by a third implementation (plain
Python, separate from lib/ and from scapy)."""
import struct
import subprocess
import sys

import pytest

from vectors import FRAME_FILES, VECTORS, frame_vectors, read_blocks


def ones_sum(data, start=0):
    """RFC 1071's one's complement sum of 16-bit big-endian words, folded."""
    if len(data) % 2:
        data += b"\0"
    total = start + sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def pseudo_sum(text):
    """The pseudo-header sum of "SRC DST PROTO LEN"."""
    src, dst, proto, length = text.split()
    raw = bytes(map(int, src.split("."))) + bytes(map(int, dst.split(".")))
    return ones_sum(raw + struct.pack("!BBH", 0, int(proto), int(length)))


CKSUM = list(read_blocks(VECTORS / "cksum.vec"))


def test_enough_checksum_vectors():
    """At least 20, covering odd lengths, zeros, 0x0000 and 0xFFFF results, RFC 1624."""
    assert len(CKSUM) >= 20
    data = [b for b in CKSUM if "data" in b]
    results = {b["cksum"] for b in data}
    assert {"0x0000", "0xffff"} <= results
    assert any(len(bytes.fromhex(b["data"].replace(" ", ""))) % 2 for b in data)
    assert sum("update" in b for b in CKSUM) >= 3


@pytest.mark.parametrize("block", CKSUM, ids=lambda b: b["vector"])
def test_checksum_vector(block):
    """sum and cksum of each vector, recomputed here."""
    assert block.get("rfc"), "every vector cites its RFC"
    if "update" in block:
        hc, m, m2 = (int(x, 16) for x in block["update"].split())
        # RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')
        want = ~ones_sum(b"", (~hc & 0xFFFF) + (~m & 0xFFFF) + m2) & 0xFFFF
        assert int(block["cksum"], 16) == want
        return
    data = bytes.fromhex(block["data"].replace(" ", ""))
    start = pseudo_sum(block["pseudo"]) if "pseudo" in block else 0
    total = ones_sum(data, start)
    assert int(block["sum"], 16) == total
    assert int(block["cksum"], 16) == ~total & 0xFFFF


@pytest.mark.parametrize("vector,frame,field", [("tcp-pseudo-header", "tcp-ok-syn", 50),
                                                 ("udp-pseudo-header-odd", "udp-ok", 40)])
def test_pseudo_header_vectors_match_scapy(vector, frame, field):
    """A pseudo-header vector's checksum is the one scapy wrote into the
    frame vector it was taken from (read from that frame's bytes)."""
    block = next(b for b in CKSUM if b["vector"] == vector)
    vec = next(v for v in frame_vectors("l4.vec") if v.name == frame)
    assert int(block["cksum"], 16) == int.from_bytes(vec.frame[field:field + 2], "big")


def test_frame_vectors_well_formed():
    """Unique names; every vector has an RFC, a verdict and a Linux entry."""
    vectors = frame_vectors(*FRAME_FILES)
    names = [v.name for v in vectors]
    assert len(names) == len(set(names))
    for vec in vectors:
        assert vec.rfc.startswith("RFC"), vec.where
        assert vec.linux, vec.where


def test_truncation_at_every_byte():
    """Every cut of the options packet, from 0 bytes to one short of whole."""
    cuts = sorted(len(v.frame) - 14 for v in frame_vectors("truncation.vec") if v.name.startswith("ipv4-cut"))
    whole = 43
    assert cuts == list(range(whole))


def test_generator_reproduces_files(tmp_path):
    """gen_frames.py writes exactly the committed files (no hand edits drift)."""
    out = tmp_path / "frames"
    subprocess.run([sys.executable, str(VECTORS / "gen_frames.py"), "--out", str(out)],
                   check=True, capture_output=True, timeout=120)
    for name in FRAME_FILES:
        assert (out / name).read_text() == (VECTORS / "frames" / name).read_text(), name
