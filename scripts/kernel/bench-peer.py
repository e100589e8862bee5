#!/usr/bin/env python3
"""Server, clients and counter for scripts/kernel/make-bench-capture.sh.

  serve  --addr A --ports P1-P2 --sink-port S   short request/response on P1..P2 (the server
         answers and closes first, so TIME_WAIT is on its side); on S, read to EOF, answer, close
  short  --addr A --ports P1-P2 --count N --parallel K   N connections, K at a time, round robin
         over the ports: connect, one line, read the answer to EOF, close
  bulk   --addr A --port S --bytes B   send B bytes in 1 MB writes, half-close, read the answer
  count  FILE.pcap   packets, and connections as distinct (4-tuple, ISN) of the SYNs without ACK

Run inside the tcpstate-bench-c / tcpstate-bench-s namespaces with `ip netns exec`; they only ever
talk to the address given (192.0.2.0/24 there). Standard library only.
"""
import argparse
import asyncio
import signal
import socket
import struct
import sys
import time

REQUEST = b"GET /%d\n"
ANSWER = b"200 ok " + b"x" * 90 + b"\n"
CC = b"cubic"  # as peer.py: the usual Linux default, per socket (a namespace may inherit bbr)


def log(*a):
    print(f"[{time.monotonic():.3f}]", *a, file=sys.stderr, flush=True)


def port_list(spec):
    lo, _, hi = spec.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def tcp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, CC)
    except OSError:
        pass
    return s


# --- server ------------------------------------------------------------------------------
class Short(asyncio.Protocol):
    served = 0

    def connection_made(self, t):
        self.t = t

    def data_received(self, d):
        if b"\n" in d:
            self.t.write(ANSWER)
            self.t.close()  # after the answer is written: the server closes first
            Short.served += 1


class Sink(asyncio.Protocol):
    def connection_made(self, t):
        self.t, self.n = t, 0

    def data_received(self, d):
        self.n += len(d)

    def eof_received(self):
        log("sink received", self.n)
        self.t.write(b"got %d\n" % self.n)
        self.t.close()
        return True


def serve(a):
    loop = asyncio.new_event_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    servers = []
    for port, proto in [(p, Short) for p in port_list(a.ports)] + [(a.sink_port, Sink)]:
        s = tcp_socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.addr, port))
        s.listen(a.backlog)
        servers.append(loop.run_until_complete(loop.create_server(proto, sock=s, backlog=a.backlog)))
    log("listening on", a.ports, "and", a.sink_port)
    loop.run_until_complete(stop)
    log("served", Short.served)


# --- clients -----------------------------------------------------------------------------
async def short_clients(a):
    loop = asyncio.get_running_loop()
    ports = port_list(a.ports)
    state = {"next": 0, "ok": 0, "failed": 0}

    async def one(i):
        s = tcp_socket()
        s.setblocking(False)
        try:
            await loop.sock_connect(s, (a.addr, ports[i % len(ports)]))
            await loop.sock_sendall(s, REQUEST % i)
            while await loop.sock_recv(s, 4096):
                pass
            state["ok"] += 1
        except OSError as e:
            state["failed"] += 1
            if state["failed"] <= 10:
                log("connection", i, "failed:", e)
        finally:
            s.close()

    async def worker():
        while state["next"] < a.count:
            i = state["next"]
            state["next"] += 1
            await one(i)

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(min(a.parallel, a.count))))
    s = time.monotonic() - t0
    log(f"short: {state['ok']} ok, {state['failed']} failed of {a.count} in {s:.1f} s ({a.count / s:.0f}/s)")
    return 0 if state["ok"] > 0 else 1


def short(a):
    sys.exit(asyncio.run(short_clients(a)))


def bulk(a):
    t0 = time.monotonic()
    s = tcp_socket()
    s.connect((a.addr, a.port))
    chunk = b"\x5a" * (1 << 20)
    left = a.bytes
    while left > 0:
        n = min(left, len(chunk))
        s.sendall(chunk[:n] if n < len(chunk) else chunk)
        left -= n
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        reply += d
    s.close()
    log(f"bulk: sent {a.bytes} bytes in {time.monotonic() - t0:.2f} s (connect included), reply {reply!r}")


# --- count -------------------------------------------------------------------------------
def count(a):
    """Packets, and distinct (4-tuple, ISN) of SYNs without ACK: the connections attempted
    (a retransmitted SYN counts once). pcap (not pcapng), Ethernet, IPv4/IPv6."""
    syns = set()
    packets = 0
    with open(a.file, "rb") as f:
        head = f.read(24)
        magic = head[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            rec = struct.Struct("<IIII")
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            rec = struct.Struct(">IIII")
        else:
            sys.exit(f"{a.file}: not a pcap file")
        linktype = rec.unpack(head[8:24])[3] & 0xFFFF
        if linktype != 1:
            sys.exit(f"{a.file}: link type {linktype}, not Ethernet")
        data = f.read()
    at, end = 0, len(data)
    while at + 16 <= end:
        incl = rec.unpack_from(data, at)[2]
        p = at + 16
        at = p + incl
        packets += 1
        et = data[p + 12:p + 14]
        if et == b"\x08\x00" and data[p + 23] == 6:
            ihl = (data[p + 14] & 15) * 4
            t = p + 14 + ihl
            if data[t + 13] & 0x12 == 0x02:
                syns.add((data[p + 26:p + 34], data[t:t + 8]))
        elif et == b"\x86\xdd" and data[p + 20] == 6:
            t = p + 54
            if data[t + 13] & 0x12 == 0x02:
                syns.add((data[p + 22:p + 54], data[t:t + 8]))
    print(packets, len(syns))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cmd", choices=["serve", "short", "bulk", "count"])
    p.add_argument("file", nargs="?")
    p.add_argument("--addr", default="192.0.2.2")
    p.add_argument("--ports", default="9200-9207")
    p.add_argument("--port", type=int, default=9300)
    p.add_argument("--sink-port", type=int, default=9300)
    p.add_argument("--backlog", type=int, default=4096)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--parallel", type=int, default=200)
    p.add_argument("--bytes", type=int, default=1 << 20)
    a = p.parse_args()
    {"serve": serve, "short": short, "bulk": bulk, "count": count}[a.cmd](a)


if __name__ == "__main__":
    main()
