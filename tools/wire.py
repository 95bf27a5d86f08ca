#!/usr/bin/python3
"""wire.py - puts crafted frames on a lab link, and hears what comes back.

The harness crafts frames with scapy in its own process; this small helper,
started inside the lab's peer namespace (tools/lab peer ...), owns the raw
socket there.  It reads commands on stdin, one per line, and answers each on
stdout:

    send HEX               send one frame                  -> "sent LEN"
    exchange HEX MS WAIT   send one frame, then collect the frames that
                           arrive for up to MS milliseconds -> one "frame HEX"
                           line each, then "end".  WAIT "first" returns after
                           the first frame that is not an ARP request (those
                           are a target resolving or announcing, never an
                           answer); "all" waits the whole MS.
    quit                   exit

With --ip ADDR --mac MAC the helper plays a host at that address: while
collecting, it answers ARP requests for ADDR itself (and does not report
them), as a scapy-only peer must when the peer's kernel holds no address.
Frames this socket sent itself are never reported.

Standard library only.  Every wait is bounded by MS (at most 10 s).
Usage: wire.py [-q] [--ip ADDR --mac MAC] IFACE
"""
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def arp_reply_for(frame, ip, mac):
    """The ARP reply our pretend host owes frame, or None if it owes none."""
    if len(frame) < 42 or not is_arp_request(frame):
        return None
    if frame[38:42] != ip:
        return None
    asker_mac, asker_ip = frame[22:28], frame[28:32]
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + mac + ip + asker_mac + asker_ip
    return asker_mac + mac + b"\x08\x06" + arp


def is_arp_request(frame):
    """True for an ARP request (EtherType 0x0806, opcode 1)."""
    return frame[12:14] == b"\x08\x06" and frame[20:22] == b"\x00\x01"


def collect(sock, ms, wait, host):
    """Frames that arrive within ms (answering ARP for host); see the docstring."""
    frames = []
    deadline = time.monotonic() + min(ms, 10000) / 1000
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or (wait == "first" and any(not is_arp_request(f) for f in frames)):
            return frames
        if not select.select([sock], [], [], left)[0]:
            continue
        frame, addr = sock.recvfrom(65535)
        if addr[2] == PACKET_OUTGOING:
            continue
        reply = arp_reply_for(frame, *host) if host else None
        if reply:
            sock.send(reply)
        else:
            frames.append(frame)


def drain(sock):
    """Discards frames already queued (bounded: at most 1000)."""
    for _ in range(1000):
        if not select.select([sock], [], [], 0)[0]:
            return
        sock.recv(65535)


def parse_args(argv):
    """(quiet, host or None, iface) from argv; exits 2 on a usage error."""
    args, quiet, ip, mac = argv[1:], False, None, None
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "-q":
            quiet = True
        elif flag in ("--ip", "--mac") and args:
            value = args.pop(0)
            if flag == "--ip":
                ip = socket.inet_aton(value)
            else:
                mac = bytes.fromhex(value.replace(":", ""))
        else:
            args = []
            break
    if len(args) != 1 or (ip is None) != (mac is None):
        print("usage: wire.py [-q] [--ip ADDR --mac MAC] IFACE", file=sys.stderr)
        sys.exit(2)
    return quiet, (ip, mac) if ip else None, args[0]


def main(argv):
    """Opens a packet socket on the interface and serves commands until EOF or quit."""
    quiet, host, iface = parse_args(argv)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # bind() picks the protocol
    sock.bind((iface, ETH_P_ALL))
    say = (lambda text: None) if quiet else (lambda text: print(text, flush=True))
    say("ready")
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        try:
            if words[0] == "send" and len(words) == 2:
                say(f"sent {sock.send(bytes.fromhex(words[1]))}")
            elif words[0] == "exchange" and len(words) == 4 and words[3] in ("first", "all"):
                drain(sock)
                sock.send(bytes.fromhex(words[1]))
                for frame in collect(sock, int(words[2]), words[3], host):
                    say("frame " + frame.hex())
                say("end")
            else:
                print(f"wire.py: bad command {line.strip()[:40]}", file=sys.stderr)
                say("error")
        except (OSError, ValueError) as err:
            print(f"wire.py: {err}", file=sys.stderr)
            say("error")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
