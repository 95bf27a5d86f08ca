#!/usr/bin/python3
"""vectors.py - reads the vector files of testvectors/ (format: its README).

The same files the C tests read: blocks of "key: value" lines separated by a
blank line, '#' comments, indented lines continuing the previous value.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "testvectors"


def read_blocks(path):
    """Yields each block of path as a dict (keys in order), with '_line'."""
    block, key = {}, None
    for lineno, raw in enumerate(Path(path).read_text().splitlines(), 1):
        line = raw.rstrip()
        if line.startswith("#"):
            continue
        if not line:
            if block:
                yield block
            block, key = {}, None
            continue
        if line[0] in " \t":
            if key is None:
                raise ValueError(f"{path}:{lineno}: continuation without a key")
            block[key] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{path}:{lineno}: expected 'key: value'")
        block.setdefault("_line", lineno)
        block[key] = value.strip()
    if block:
        yield block


class FrameVector:
    """One frame vector: name, RFC, frame bytes, verdict, Linux counters."""

    def __init__(self, block, path):
        self.name = block["vector"]
        self.rfc = block["rfc"]
        self.frame = bytes.fromhex(block.get("frame", "").replace(" ", ""))
        self.verdict = block["verdict"]
        self.linux = block["linux"]
        self.fields = dict(pair.split("=", 1) for pair in block.get("fields", "").split())
        self.note = block.get("note", "")
        self.answer = block.get("answer")
        self.linux_answer = block.get("linux-answer", self.answer)
        self.linux_differs = block.get("linux-differs")
        self.where = f"{path.name}:{block['_line']}"

    @property
    def linux_counters(self):
        """The counters Linux must move, or None when the vector says n/a."""
        if self.linux.startswith("n/a"):
            return None
        return [] if self.linux == "none" else self.linux.split()

    def __repr__(self):
        return self.name


FRAME_FILES = ["ipv4.vec", "truncation.vec", "l4.vec", "arp.vec", "icmp.vec", "tcp.vec"]


def frame_vectors(*names):
    """The frame vectors of testvectors/frames/NAME, in file order."""
    out = []
    for name in names:
        path = VECTORS / "frames" / name
        out += [FrameVector(block, path) for block in read_blocks(path)]
    return out


def main(argv):
    """CLI: "vectors.py wire NAME..." prints a "send HEX" line per named
    vector, for tools/wire.py; "vectors.py list" prints every frame vector's
    name, verdict and RFC."""
    every = frame_vectors(*FRAME_FILES)
    if argv[1:2] == ["list"]:
        for vec in every:
            print(f"{vec.name:38} {vec.verdict:24} {vec.rfc}")
        return 0
    if argv[1:2] == ["wire"] and len(argv) > 2:
        by_name = {vec.name: vec for vec in every}
        unknown = [name for name in argv[2:] if name not in by_name]
        if unknown:
            print(f"vectors.py: no vector named {' '.join(unknown)}", file=sys.stderr)
            return 2
        for name in argv[2:]:
            print("send " + by_name[name].frame.hex())
        return 0
    print("usage: vectors.py list | vectors.py wire NAME...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
