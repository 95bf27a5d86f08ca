#!/usr/bin/python3
"""wire.py - puts crafted frames on a lab link, from inside a namespace.

The harness crafts frames with scapy in its own process; this small helper,
started inside the lab's peer namespace (tools/lab peer ...), owns the raw
socket there.  It reads commands on stdin, one per line, and answers each
with one line on stdout:

    send HEX      send one frame (HEX: its bytes)       -> "sent LEN"
    quit          exit                                    (no answer)

Standard library only.  Every read is bounded by stdin closing; each command
does one send.  Usage: wire.py [-q] IFACE   (-q: answer nothing; errors
still go to stderr)
"""
import socket
import sys

ETH_P_ALL = 0x0003


def main(argv):
    """Opens a packet socket on argv[1] and serves commands until EOF or quit."""
    quiet = argv[1:2] == ["-q"]
    args = argv[2:] if quiet else argv[1:]
    if len(args) != 1:
        print("usage: wire.py [-q] IFACE", file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    sock.bind((args[0], ETH_P_ALL))
    say = (lambda text: None) if quiet else (lambda text: print(text, flush=True))
    say("ready")
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] != "send" or len(words) != 2:
            print(f"wire.py: unknown command {words[0]}", file=sys.stderr)
            say("error")
            continue
        try:
            say(f"sent {sock.send(bytes.fromhex(words[1]))}")
        except (OSError, ValueError) as err:
            print(f"wire.py: {err}", file=sys.stderr)
            say("error")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
