"""labaddr.py - the lab's addresses, named once for every Python tool and test.

RFC 5737's TEST-NET-1, 192.0.2.0/24: the peer is 192.0.2.1, the target
192.0.2.2, on fixed locally administered MACs (lablib.py gives them to the
veth ends).  Constants only; the C programs, the chapter texts' commands and
the files of testvectors/ write the same addresses out themselves.
"""

PEER_IP = "192.0.2.1"
TARGET_IP = "192.0.2.2"
PEER_MAC = "02:00:00:00:00:01"
TARGET_MAC = "02:00:00:00:00:02"
PREFIX = 24
TARGET_CIDR = f"{TARGET_IP}/{PREFIX}"   # what a program of ours on target0 takes as -a
