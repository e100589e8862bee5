#!/usr/bin/env python3
"""A fixed delay on one namespace's way out, for scripts/kernel/make-samples.sh (standard library).

  delay.py --tun NAME --out IFACE --src-mac MAC --dst-mac MAC --delay SECONDS

Makes the TUN device NAME (IFF_TUN | IFF_NO_PI) in the namespace it runs in; the generator
routes the peer's address through it. Every IPv4 packet the kernel writes there is held for
SECONDS, then sent unchanged on IFACE (an AF_PACKET socket, the veth end) in an Ethernet frame
from --src-mac to --dst-mac, in the order it came. Anything else (IPv6 on the TUN device) is
dropped. This stands in for `tc qdisc ... netem delay` where the kernel has no sch_netem: as
with netem on the veth end, tcpdump on IFACE sees a packet when it leaves the delay, and the
peer gets it at once.
"""
import argparse
import fcntl
import heapq
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
ETH_P_IP = 0x0800


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tun", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--src-mac", required=True)
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--delay", type=float, required=True)
    a = p.parse_args()

    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", a.tun.encode(), IFF_TUN | IFF_NO_PI))
    out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: send only
    out.bind((a.out, 0))
    eth = mac(a.dst_mac) + mac(a.src_mac) + struct.pack("!H", ETH_P_IP)
    print(f"delay: {a.tun} -> {a.out}, {a.delay * 1000:.0f} ms", file=sys.stderr, flush=True)

    held = []  # (due, n, packet)
    n = 0
    while True:
        timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
        r, _, _ = select.select([tun], [], [], timeout)
        if r:
            pkt = os.read(tun, 65535)
            if pkt and pkt[0] >> 4 == 4:
                n += 1
                heapq.heappush(held, (time.monotonic() + a.delay, n, pkt))
        now = time.monotonic()
        while held and held[0][0] <= now:
            out.send(eth + heapq.heappop(held)[2])


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
