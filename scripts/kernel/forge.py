#!/usr/bin/env python3
"""Forged segments for scripts/kernel/make-samples.sh (needs scapy).

  forge.py rst --pcap CAP --src A --sport P --dst B --dport Q --where out|in|at
      An RST from A:P to B:Q. Its sequence number is read from the live connection:
      the last segment B:Q sent (in CAP, which tcpdump is still writing) acknowledges
      B's rcv_nxt and advertises its window. `out`: rcv_nxt + 2^30, outside the window
      (Linux drops it silently); `in`: rcv_nxt + 1000, inside the window but not at
      rcv_nxt (RFC 5961 3.2: Linux answers with a challenge ACK and keeps the connection);
      `at`: exactly rcv_nxt (a TIME-WAIT socket is killed by it when tcp_rfc1337 is 0).

  forge.py ack --src A --sport P --dst B --dport Q
      A bare ACK whose acknowledgment number cannot acknowledge anything B sent (B is in
      SYN-SENT: RFC 793 p. 66, it answers with an RST <SEQ=SEG.ACK> and stays in SYN-SENT).

  forge.py syn --pcap CAP --src A --sport P --dst B --dport Q --offset N
      A SYN from A:P to B:Q whose sequence number (ISN) is that of A's last SYN to B:Q in CAP
      plus N (mod 2^32): another ISN on the same four-tuple.

  forge.py syn-in --pcap CAP --src A --sport P --dst B --dport Q
      A SYN from A:P to B:Q on an established connection, its sequence number B's rcv_nxt + 1000
      (read from CAP as for rst): inside B's window (RFC 5961 4.2: Linux answers with a challenge
      ACK and keeps the connection).

  forge.py rst-ack --pcap CAP --src A --sport P --dst B --dport Q --offset N
      An RST/ACK from A:P to B:Q, B in SYN-SENT: its acknowledgment number is B's ISN (its last
      SYN to A:P in CAP) + 1 + N, its sequence number 0. N = 0 is acceptable (RFC 793 p. 66/67:
      B is reset, ECONNREFUSED); any other N is not (Linux ignores it and stays SYN-SENT).

  forge.py ptb6 --pcap CAP --src A --sport P --dst B --dport Q --mtu M
      An ICMPv6 Packet Too Big (MTU M) from A to B, as a router on the way would send it: it quotes
      the first segment from B:Q to A:P in CAP whose IPv6 packet is larger than M (what CAP holds of
      it: the headers and the start of the payload, the snaplen).

Only ever sends to 192.0.2.0/24 or 2001:db8::/64 inside the generator's namespaces.
"""
import argparse
import sys

from scapy.all import IP, TCP, ICMPv6PacketTooBig, IPv6, PcapReader, Raw, conf, send  # noqa: E402

conf.verb = 0


def last_from(pcap, src, sport, dst, dport):
    """(rcv_nxt, window in bytes) of dst:dport as its last segment to src:sport shows them."""
    wscale, last = 0, None
    try:
        for p in PcapReader(pcap):
            if IP not in p or TCP not in p:
                continue
            ip, t = p[IP], p[TCP]
            if ip.src == dst and ip.dst == src and t.sport == dport and t.dport == sport:
                if t.flags.S:
                    wscale = dict((o[0], o[1]) for o in t.options if isinstance(o, tuple)).get("WScale", 0)
                if t.flags.A:
                    last = t
    except (EOFError, OSError, ValueError) as e:  # the file is still being written
        print(f"forge: read stopped: {e}", file=sys.stderr)
    if last is None:
        raise SystemExit(f"forge: no segment from {dst}:{dport} to {src}:{sport} in {pcap}")
    return last.ack, last.window << wscale


def syn_seq(pcap, src, sport, dst, dport):
    """The sequence number of src:sport's last SYN to dst:dport in pcap."""
    seq = None
    l3 = IPv6 if ":" in src else IP
    try:
        for p in PcapReader(pcap):
            if l3 not in p or TCP not in p:
                continue
            ip, t = p[l3], p[TCP]
            if ip.src == src and ip.dst == dst and t.sport == sport and t.dport == dport and t.flags.S and not t.flags.A:
                seq = t.seq
    except (EOFError, OSError, ValueError) as e:
        print(f"forge: read stopped: {e}", file=sys.stderr)
    if seq is None:
        raise SystemExit(f"forge: no SYN from {src}:{sport} to {dst}:{dport} in {pcap}")
    return seq


def too_big(pcap, src, sport, dst, dport, mtu):
    """(the captured bytes of the IPv6 packet, its TCP seq, its length) of src:sport's first segment
    to dst:dport in pcap longer than mtu."""
    try:
        for p in PcapReader(pcap):
            if IPv6 not in p or TCP not in p:
                continue
            ip, t = p[IPv6], p[TCP]
            if ip.src == src and ip.dst == dst and t.sport == sport and t.dport == dport and 40 + ip.plen > mtu:
                return bytes(p.original)[14:], t.seq, 40 + ip.plen  # after the Ethernet header
    except (EOFError, OSError, ValueError) as e:
        print(f"forge: read stopped: {e}", file=sys.stderr)
    raise SystemExit(f"forge: no packet over {mtu} bytes from {src}:{sport} to {dst}:{dport} in {pcap}")


WHERE = {"out": "outside the window", "in": "inside the window, not at rcv_nxt", "at": "at rcv_nxt"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["rst", "ack", "syn", "syn-in", "rst-ack", "ptb6"])
    p.add_argument("--mtu", type=int, default=1280)
    p.add_argument("--pcap")
    p.add_argument("--src", required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--dport", type=int, required=True)
    p.add_argument("--offset", type=int, default=1 << 31)
    p.add_argument("--where", choices=["out", "in", "at"], default="out")
    a = p.parse_args()
    for addr in (a.src, a.dst):
        if not (addr.startswith("192.0.2.") or addr.startswith("2001:db8::")):
            raise SystemExit("forge: only 192.0.2.0/24 or 2001:db8::/64")
    if a.what == "ptb6":
        quote, seq, size = too_big(a.pcap, a.dst, a.dport, a.src, a.sport, a.mtu)
        seg = IPv6(src=a.src, dst=a.dst) / ICMPv6PacketTooBig(mtu=a.mtu) / Raw(quote)
        print(f"forge: ICMPv6 Packet Too Big {a.src} > {a.dst} mtu {a.mtu} quoting {a.dst}:{a.dport} > {a.src}:{a.sport} "
              f"seq {seq} ({size} bytes, {len(quote)} quoted)")
    elif a.what == "rst":
        rcv_nxt, wnd = last_from(a.pcap, a.src, a.sport, a.dst, a.dport)
        seq = (rcv_nxt + {"out": 1 << 30, "in": 1000, "at": 0}[a.where]) & 0xFFFFFFFF
        seg = IP(src=a.src, dst=a.dst) / TCP(sport=a.sport, dport=a.dport, flags="R", seq=seq, window=0)
        print(f"forge: RST {a.src}:{a.sport} > {a.dst}:{a.dport} seq {seq} (rcv_nxt {rcv_nxt}, window {wnd}, {a.where}: {WHERE[a.where]})")
    elif a.what == "syn-in":
        rcv_nxt, wnd = last_from(a.pcap, a.src, a.sport, a.dst, a.dport)
        seq = (rcv_nxt + 1000) & 0xFFFFFFFF
        seg = IP(src=a.src, dst=a.dst) / TCP(sport=a.sport, dport=a.dport, flags="S", seq=seq, window=64240,
                                             options=[("MSS", 1460)])
        print(f"forge: SYN {a.src}:{a.sport} > {a.dst}:{a.dport} seq {seq} (rcv_nxt {rcv_nxt} + 1000, window {wnd})")
    elif a.what == "syn":
        first = syn_seq(a.pcap, a.src, a.sport, a.dst, a.dport)
        seq = (first + a.offset) & 0xFFFFFFFF
        l3 = IPv6 if ":" in a.src else IP  # syn: IPv4 or IPv6
        seg = l3(src=a.src, dst=a.dst) / TCP(sport=a.sport, dport=a.dport, flags="S", seq=seq, window=64240,
                                             options=[("MSS", 1440 if l3 is IPv6 else 1460)])
        print(f"forge: SYN {a.src}:{a.sport} > {a.dst}:{a.dport} seq {seq} (the first SYN's {first} + {a.offset})")
    elif a.what == "rst-ack":
        isn = syn_seq(a.pcap, a.dst, a.dport, a.src, a.sport)
        ack = (isn + 1 + a.offset) & 0xFFFFFFFF
        seg = IP(src=a.src, dst=a.dst) / TCP(sport=a.sport, dport=a.dport, flags="RA", seq=0, ack=ack, window=0)
        print(f"forge: RST/ACK {a.src}:{a.sport} > {a.dst}:{a.dport} seq 0 ack {ack} (the SYN's ISN {isn} + 1 + {a.offset})")
    else:
        seg = IP(src=a.src, dst=a.dst) / TCP(sport=a.sport, dport=a.dport, flags="A", seq=1000000, ack=123456789, window=512)
        print(f"forge: ACK {a.src}:{a.sport} > {a.dst}:{a.dport} seq 1000000 ack 123456789")
    send(seg)


if __name__ == "__main__":
    main()
