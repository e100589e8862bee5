#!/usr/bin/env python3
"""Client and server programs for scripts/kernel/make-samples.sh.

Each sub-command is one side of one scenario. make-samples.sh runs them inside
the tcpstate-client / tcpstate-server network namespaces with `ip netns exec`.
They only ever talk to the address given on the command line (192.0.2.0/24 or
2001:db8::/32 inside those namespaces). Standard library only.
"""
import argparse
import socket
import struct
import sys
import time


def log(*a):
    print(f"[{time.monotonic():.3f}]", *a, file=sys.stderr, flush=True)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


CC = b"cubic"


def new_socket(addr):
    """A TCP socket using CUBIC, the usual Linux default. Set per socket because a
    non-initial namespace may not change net.ipv4.tcp_congestion_control (EPERM
    unless the host allows it), and new namespaces inherit the host's (maybe bbr).
    Accepted sockets inherit the listener's."""
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, CC)
    except OSError as e:
        log("cannot use", CC.decode(), e)
    return s


def listener(addr, port, backlog=16, rcvbuf=None):
    s = new_socket(addr)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        # Set before listen() so the accepted socket inherits it and the
        # window scale offered in the SYN-ACK matches the small buffer.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((addr, port))
    s.listen(backlog)
    return s


def accept_one(addr, port, **kw):
    ls = listener(addr, port, **kw)
    c, peer = ls.accept()
    ls.close()  # like `nc -l`: one connection, no LISTEN socket left behind
    log("accepted", peer)
    return c


def connect(addr, port, bind_addr=None, bind_port=None, before=None):
    s = new_socket(addr)
    if bind_port:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((bind_addr or ("::" if ":" in addr else "0.0.0.0"), bind_port))
    if before:
        before(s)
    s.connect((addr, port))
    log("connected", s.getsockname(), "->", s.getpeername())
    return s


def recv_until(s, token):
    buf = b""
    while token not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    return buf


def recv_to_eof(s):
    n = 0
    while True:
        d = s.recv(65536)
        if not d:
            return n
        n += len(d)


# --- 1/11/13: the seeds' story: Hello, Bye, the server closes first -------------
def story_server(a):
    c = accept_one(a.addr, a.port)
    time.sleep(0.2)
    c.sendall(b"Hello\n")
    log("got", recv_until(c, b"Bye\n"))
    time.sleep(0.2)
    c.close()  # server sends FIN first -> FIN-WAIT-1/2 -> TIME-WAIT
    log("server closed")


def story_client(a):
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    log("got", recv_until(s, b"Hello\n"))
    time.sleep(0.2)
    s.sendall(b"Bye\n")
    recv_to_eof(s)  # server's FIN: we are CLOSE-WAIT now
    time.sleep(0.3)  # the application takes a moment before it closes
    s.close()  # LAST-ACK, then CLOSED
    log("client closed")


# --- 2/12: the client closes first --------------------------------------------
def cc_server(a):
    c = accept_one(a.addr, a.port)
    req = recv_until(c, b"\n")
    c.sendall(b"200 OK " + req)
    recv_to_eof(c)  # client's FIN
    time.sleep(0.2)
    c.close()
    log("server closed")


def cc_client(a):
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"GET /status\n")
    log("got", recv_until(s, b"\n"))
    time.sleep(0.1)
    s.close()  # client FIN first -> client ends in TIME-WAIT
    log("client closed")


# --- 3: the server never calls close() ------------------------------------------
def stuck_server(a):
    c = accept_one(a.addr, a.port)
    req = recv_until(c, b"\n")
    c.sendall(b"200 OK " + req)
    recv_to_eof(c)
    log("peer closed; NOT closing for", a.hold, "s")
    time.sleep(a.hold)  # bug: never closes (killed by the generator)
    c.close()


# --- 4: refused ------------------------------------------------------------------
def refused_client(a):
    for p in [int(x) for x in a.ports.split(",")]:
        s = new_socket(a.addr)
        try:
            s.connect((a.addr, p))
            log("port", p, "unexpectedly open")
        except ConnectionRefusedError:
            log("port", p, "refused")
        finally:
            s.close()
        time.sleep(0.05)


# --- 5: abortive close mid-transfer -----------------------------------------------
def abort_server(a):
    """Stream data for a.hold seconds, then close with SO_LINGER {1,0}: an RST
    goes out while the peer still has unread data and we still have unsent data."""
    c = accept_one(a.addr, a.port)
    c.settimeout(0.02)
    chunk = bytes(range(256)) * 64  # 16 KiB
    sent = 0
    end = time.monotonic() + a.hold
    while time.monotonic() < end:
        try:
            sent += c.send(chunk)
        except socket.timeout:
            pass  # send buffer full: the slow reader is behind
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()  # RST instead of FIN; unsent data is dropped
    log("aborted after queueing", sent)


def abort_client(a):
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    n = 0
    try:
        while True:
            d = s.recv(4096)
            if not d:
                log("EOF after", n)
                break
            n += len(d)
            time.sleep(0.01)  # slow reader (~400 KB/s), so data backs up
    except ConnectionResetError:
        log("ECONNRESET after reading", n)
    s.close()


# --- 6: bulk transfer -------------------------------------------------------------
def sink_server(a):
    c = accept_one(a.addr, a.port)
    n = recv_to_eof(c)
    c.sendall(b"got %d\n" % n)
    c.close()
    log("received", n)


def bulk_client(a):
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"\x5a" * a.bytes)
    s.shutdown(socket.SHUT_WR)
    log("reply", recv_until(s, b"\n"))
    s.close()


# --- 7/10: many connections ------------------------------------------------------
def multi_server(a):
    """Accept connections for a.hold seconds; send a line and close first."""
    ls = listener(a.addr, a.port, backlog=a.backlog)
    ls.settimeout(0.2)
    end = time.monotonic() + a.hold
    n = 0
    while time.monotonic() < end and (a.count == 0 or n < a.count):
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        c.settimeout(2)
        try:
            if a.expect_request:
                recv_until(c, b"\n")
            c.sendall(b"bye\n")
        except OSError as e:
            log("conn error", e)
        c.close()  # the server closes first -> TIME-WAIT on the server
        n += 1
    log("served", n)
    ls.close()


def multi_client(a):
    ok = 0
    for i in range(a.count):
        s = new_socket(a.addr)
        s.settimeout(5)
        try:
            s.connect((a.addr, a.port))
            if a.expect_request:
                s.sendall(b"hello %d\n" % i)
            recv_to_eof(s)
            ok += 1
        except OSError as e:
            log("conn", i, "error", e)
        s.close()
        if a.gap:
            time.sleep(a.gap)
    log("ok", ok, "of", a.count)


# --- 8: keep-alive ----------------------------------------------------------------
def hold_server(a):
    c = accept_one(a.addr, a.port)
    log("got", recv_until(c, b"\n"))
    c.sendall(b"ok\n")
    time.sleep(a.hold)
    c.close()


def ka_client(a):
    def opts(s):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, a.idle)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, a.intvl)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, a.cnt)

    s = connect(a.addr, a.port, a.bind, a.bind_port, before=opts)
    s.sendall(b"hi\n")
    log("got", recv_until(s, b"\n"))
    time.sleep(a.hold)  # idle: the kernel sends keep-alive probes
    s.close()


# --- 9: zero window ----------------------------------------------------------------
def slow_reader_server(a):
    c = accept_one(a.addr, a.port, rcvbuf=a.rcvbuf)
    got = 0
    while got < a.read:
        d = c.recv(min(4096, a.read - got))
        if not d:
            break
        got += len(d)
    log("read", got, "then stop reading for", a.hold, "s")
    time.sleep(a.hold)
    c.close()


def writer_client(a):
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.settimeout(a.hold)
    try:
        s.sendall(b"\xa5" * a.bytes)
        log("all sent")
    except (socket.timeout, OSError) as e:
        log("send stopped:", e)
    time.sleep(a.hold)
    s.close()


# --- issue 18: the timeline scenarios -------------------------------------------
def talk_client(a):
    """Request, reply, then a.hold seconds of quiet before the client closes first."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"GET /status\n")
    log("got", recv_until(s, b"\n"))
    time.sleep(a.hold)
    s.close()
    log("client closed")


def hole_client(a):
    """Data, then a last small write (100 bytes) and at once the FIN: the generator drops
    that last segment on the client's output, so the FIN arrives first."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(b"\x11" * 2000)
    time.sleep(0.3)
    s.sendall(b"\x22" * 100)
    time.sleep(0.02)
    s.shutdown(socket.SHUT_WR)
    log("reply", recv_until(s, b"\n"))
    recv_to_eof(s)
    s.close()
    log("client closed")


def slow_sink_server(a):
    """Read to EOF, then a.hold seconds in CLOSE-WAIT, then answer and close."""
    c = accept_one(a.addr, a.port)
    n = recv_to_eof(c)
    log("received", n, "then", a.hold, "s in CLOSE-WAIT")
    time.sleep(a.hold)
    c.sendall(b"got %d\n" % n)
    c.close()


def serve_server(a):
    """Accept a.count connections on one listener; each: read a line, answer, close first
    (TIME-WAIT on the server). The listener stays open for a.hold seconds."""
    ls = listener(a.addr, a.port)
    ls.settimeout(0.1)
    end = time.monotonic() + a.hold
    n = 0
    while time.monotonic() < end and n < a.count:
        try:
            c, peer = ls.accept()
        except socket.timeout:
            continue
        log("accepted", peer)
        recv_until(c, b"\n")
        c.sendall(b"bye\n")
        c.close()
        n += 1
    log("served", n)
    ls.close()


def reuse_client(a):
    """Two connections from the same port a.bind_port, a.gap seconds apart; the server closes
    each first, so the second SYN finds the server's TIME-WAIT socket of the first. The first
    connects at epoch a.at (at once without it)."""
    sleep_until(a.at)
    for i in range(2):
        s = connect(a.addr, a.port, a.bind, a.bind_port)
        s.sendall(b"hello %d\n" % i)
        recv_to_eof(s)
        s.close()
        log("connection", i, "done")
        if i == 0:
            time.sleep(a.gap)


def close_first_server(a):
    """Read a line, answer, a.gap seconds later close first (FIN-WAIT-1/2, TIME-WAIT)."""
    c = accept_one(a.addr, a.port)
    recv_until(c, b"\n")
    c.sendall(b"200 OK\n")
    time.sleep(a.gap)
    c.close()
    log("server closed")


def lingering_client(a):
    """Request, reply, read to the server's FIN, then a.hold seconds in CLOSE-WAIT."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"GET /status\n")
    recv_to_eof(s)
    log("server closed; CLOSE-WAIT for", a.hold, "s")
    time.sleep(a.hold)
    s.close()
    log("client closed")


def try_connect_client(a):
    """At epoch a.at (at once without it), one connect() that may fail (ETIMEDOUT after
    tcp_syn_retries)."""
    s = new_socket(a.addr)
    if a.bind_port:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.bind or "0.0.0.0", a.bind_port))
    sleep_until(a.at)
    t0 = time.monotonic()
    try:
        s.connect((a.addr, a.port))
        log("connected")
        s.sendall(b"GET /status\n")
        log("got", recv_until(s, b"\n"))
        time.sleep(a.hold)
    except OSError as e:
        log("connect failed after %.1f s:" % (time.monotonic() - t0), e)
    s.close()


def send_and_wait_client(a):
    """Request, reply; a.gap seconds later 1000 bytes more (the generator black-holes them),
    then wait for an answer that never comes until tcp_retries2 gives up."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"hi\n")
    log("got", recv_until(s, b"\n"))
    time.sleep(a.gap)
    s.sendall(b"\x33" * 1000)
    t0 = time.monotonic()
    try:
        d = s.recv(100)
        log("recv", d)
    except OSError as e:
        log("gave up after %.1f s:" % (time.monotonic() - t0), e)
    s.close()


# --- close paths: simultaneous close, lost last ACK, half-close with data, RST to TIME-WAIT
def sleep_until(t):
    """Sleep until epoch t (time.time(), the clock of the generator and of the capture)."""
    d = t - time.time()
    if d > 0:
        time.sleep(d)


def xclose_server(a):
    """Read a line, answer; at epoch a.at shut down the sending side (FIN) whatever came in,
    then read to EOF and close. With xclose-client at the same a.at the FINs cross."""
    c = accept_one(a.addr, a.port)
    recv_until(c, b"\n")
    c.sendall(b"200 OK\n")
    sleep_until(a.at)
    c.shutdown(socket.SHUT_WR)
    log("server shut down its sending side")
    recv_to_eof(c)
    log("server got EOF")
    c.close()


def xclose_client(a):
    """Request, reply; at epoch a.at shut down the sending side (FIN), read to EOF, close."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"GET /status\n")
    log("got", recv_until(s, b"\n"))
    sleep_until(a.at)
    s.shutdown(socket.SHUT_WR)
    log("client shut down its sending side")
    recv_to_eof(s)
    log("client got EOF")
    s.close()


def close_at_server(a):
    """Read a line, answer, read to the client's FIN (CLOSE-WAIT), close at epoch a.at (LAST-ACK)."""
    c = accept_one(a.addr, a.port)
    recv_until(c, b"\n")
    c.sendall(b"200 OK\n")
    recv_to_eof(c)
    log("client closed; CLOSE-WAIT until", a.at)
    sleep_until(a.at)
    c.close()
    log("server closed")


def close_at_client(a):
    """Request, reply, close at epoch a.at (the client closes first: FIN-WAIT-1/2, TIME-WAIT)."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"GET /status\n")
    log("got", recv_until(s, b"\n"))
    sleep_until(a.at)
    s.close()
    log("client closed")


def halfclose_client(a):
    """At epoch a.at: connect, send a request and at once shutdown(SHUT_WR) (FIN), then read
    what the server sends in FIN-WAIT-2 to its FIN, and close (TIME-WAIT)."""
    sleep_until(a.at)
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"GET /stream\n")
    s.shutdown(socket.SHUT_WR)
    log("client shut down its sending side")
    try:
        n = recv_to_eof(s)
        log("client got", n, "bytes, then EOF")
    except OSError as e:
        log("client read:", e)  # fin-wait-2-reset: the server aborts
    s.close()


def stream_server(a):
    """Read the request to EOF (the client's FIN: CLOSE-WAIT), then write a.bytes bytes every
    a.gap seconds until epoch a.at, then close (LAST-ACK)."""
    c = accept_one(a.addr, a.port)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    recv_to_eof(c)
    log("client shut down; writing in CLOSE-WAIT until", a.at)
    n = 0
    while time.time() < a.at:
        c.sendall(b"\x44" * a.bytes)
        n += a.bytes
        time.sleep(a.gap)
    c.close()
    log("server wrote", n, "and closed")


# --- state paths no earlier sample shows: keep-alive to a dead peer, a full accept queue, an RST to
# SYN-RECV, an orphan's FIN retransmissions, a simultaneous open
def ka_dead_client(a):
    """At epoch a.at connect with SO_KEEPALIVE (a.idle, a.intvl, a.cnt), one exchange, then block
    in recv(): the generator black-holes the client, so the kernel's probes go unanswered and it
    gives up (ETIMEDOUT, an RST)."""
    def opts(s):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, a.idle)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, a.intvl)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, a.cnt)

    sleep_until(a.at)
    s = connect(a.addr, a.port, a.bind, a.bind_port, before=opts)
    s.sendall(b"hi\n")
    log("got", recv_until(s, b"\n"))
    t0 = time.monotonic()
    s.settimeout(a.hold)
    try:
        log("recv", s.recv(100))
    except OSError as e:
        log("keep-alive gave up after %.1f s:" % (time.monotonic() - t0), e)
    s.close()


def answer_close_at_server(a):
    """Read a line, answer, then at epoch a.at write a.tail bytes (if any) and close: with the peer
    gone or silent, an orphan in FIN-WAIT-1."""
    c = accept_one(a.addr, a.port)
    recv_until(c, b"\n")
    c.sendall(b"ok\n")
    sleep_until(a.at)
    try:
        if a.tail:
            c.sendall(b"\x55" * a.tail)
        c.close()
        log("server wrote", a.tail, "and closed")
    except OSError as e:
        log("server close:", e)


def noaccept_server(a):
    """Listen with backlog a.backlog and never call accept() for a.hold seconds."""
    ls = listener(a.addr, a.port, backlog=a.backlog)
    log("listening, backlog", a.backlog, "; never accepting")
    time.sleep(a.hold)
    ls.close()


def burst_client(a):
    """At epoch a.at, a.count non-blocking connect()s at once from ports a.bind_port, +1, ...;
    log which completed, then hold them open for a.hold seconds."""
    import select
    socks = []
    for i in range(a.count):
        s = new_socket(a.addr)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.bind, a.bind_port + i))
        s.setblocking(False)
        socks.append(s)
    sleep_until(a.at)
    for s in socks:
        s.connect_ex((a.addr, a.port))
    log("connecting", [s.getsockname()[1] for s in socks])
    end = time.monotonic() + a.hold
    pending = list(socks)
    while pending and time.monotonic() < end:
        _, w, _ = select.select([], pending, [], max(0.0, end - time.monotonic()))
        for s in w:
            log("port", s.getsockname()[1], "connect:", s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) or "ok")
            pending.remove(s)
    time.sleep(max(0.0, end - time.monotonic()))
    for s in socks:
        s.close()


def xopen(a):
    """Bind a.bind:a.bind_port and at epoch a.at connect() to a.addr:a.port, where the peer does
    the same the other way at the same instant: the SYNs cross (a simultaneous open)."""
    s = new_socket(a.addr)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.bind, a.bind_port))
    sleep_until(a.at)
    try:
        s.connect((a.addr, a.port))
        log("connected", s.getsockname(), "->", s.getpeername())
    except OSError as e:
        log("connect failed:", e)
    time.sleep(a.hold)
    s.close()


# --- round 3: a full SYN queue without cookies, close with unread data, persist give-up,
# an RST in FIN-WAIT-2
def unread_close_server(a):
    """Accept, never read the request; at epoch a.at close(): with unread data in the receive
    buffer Linux sends an RST, not a FIN (tcp_close)."""
    c = accept_one(a.addr, a.port)
    sleep_until(a.at)
    c.close()
    log("server closed with the request unread")


def accept_late_server(a):
    """Listen with backlog a.backlog, accept() one connection at epoch a.at (and keep it), then never
    again for a.hold seconds."""
    ls = listener(a.addr, a.port, backlog=a.backlog)
    log("listening, backlog", a.backlog, "; one accept() at", a.at)
    sleep_until(a.at)
    c, peer = ls.accept()
    log("accepted", peer)
    time.sleep(a.hold)
    c.close()
    ls.close()


def wait_reply_client(a):
    """Send a request and wait for a reply (the server's close with the request unread: an RST,
    ECONNRESET), then a.hold seconds before close()."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"GET /status\n")
    try:
        log("recv", s.recv(100))
    except OSError as e:
        log("recv:", e)
    time.sleep(a.hold)
    s.close()


def stream_abort_server(a):
    """Read the request to EOF (the client's FIN: CLOSE-WAIT), write a.bytes bytes every a.gap
    seconds until epoch a.at, then close with SO_LINGER {1,0}: an RST to the peer's FIN-WAIT-2."""
    c = accept_one(a.addr, a.port)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    recv_to_eof(c)
    n = 0
    while time.time() < a.at:
        c.sendall(b"\x66" * a.bytes)
        n += a.bytes
        time.sleep(a.gap)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    log("server wrote", n, "and aborted (RST)")


# --- 4: round 4 ------------------------------------------------------------------
def cc_count_server(a):
    """Accept a.count connections on one listener; each: read a line, answer, read to the
    client's FIN and close (the client closes first: TIME-WAIT on the client)."""
    ls = listener(a.addr, a.port)
    for _ in range(a.count):
        c, peer = ls.accept()
        log("accepted", peer)
        req = recv_until(c, b"\n")
        c.sendall(b"200 OK " + req)
        recv_to_eof(c)
        c.close()
    log("served", a.count)
    time.sleep(a.hold)
    ls.close()


def tw_reuse_client(a):
    """Two connections from port a.bind_port, a.gap seconds apart; the client closes the first
    first (TIME-WAIT), so the second connect() has to reuse that TIME-WAIT socket (tcp_tw_reuse).
    The second one stays open a.hold seconds. The first starts at epoch a.at."""
    sleep_until(a.at)
    for i in range(2):
        s = connect(a.addr, a.port, a.bind, a.bind_port)
        s.sendall(b"hello %d\n" % i)
        log("got", recv_until(s, b"\n"))
        if i == 0:
            s.close()
            log("connection 0 closed")
            time.sleep(a.gap)
        else:
            time.sleep(a.hold)
            s.close()


def eof_then_write_server(a):
    """Read the request to EOF (the client's FIN: CLOSE-WAIT), then at epoch a.at write a.bytes
    bytes every a.gap seconds, a.count times, until a write fails (orphan-gets-data: the client
    close()d, its orphan answers data with an RST)."""
    c = accept_one(a.addr, a.port)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    recv_to_eof(c)
    log("client closed; writing at", a.at)
    sleep_until(a.at)
    n = 0
    try:
        for _ in range(a.count):
            c.sendall(b"\x44" * a.bytes)
            n += a.bytes
            time.sleep(a.gap)
    except OSError as e:
        log("server write:", e)
    c.close()
    log("server wrote", n, "and closed")


def request_close_client(a):
    """At epoch a.at: connect, send a request and at once close() (not shutdown): an orphan."""
    sleep_until(a.at)
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"GET /stream\n")
    s.close()
    log("client closed after its request")


def greet_shut_server(a):
    """Accept, send a greeting and at once shutdown(SHUT_WR) (FIN first), read to EOF, close."""
    c = accept_one(a.addr, a.port)
    c.sendall(b"Hello\n")
    c.shutdown(socket.SHUT_WR)
    log("server greeted and shut down its sending side")
    n = recv_to_eof(c)
    log("server got", n, "bytes, then EOF")
    c.close()


def send_after_eof_client(a):
    """At epoch a.at: connect, read the greeting to EOF (CLOSE-WAIT), then send 200 bytes every
    a.gap seconds, a.count times, and close (LAST-ACK)."""
    sleep_until(a.at)
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n = recv_to_eof(s)
    log("client got", n, "bytes, then EOF; sending in CLOSE-WAIT")
    for _ in range(a.count):
        s.sendall(b"\x43" * 200)
        time.sleep(a.gap)
    s.close()
    log("client closed")


# --- round 6: ICMP errors, TCP Fast Open, a listener closed with a queue, a SYN in ESTABLISHED,
# a new connection on the same four-tuple after an RST
def answer_lines_server(a):
    """Accept; answer each line ("200 OK <line>") until the client's FIN, then close (the client
    closes first)."""
    c = accept_one(a.addr, a.port)
    buf, n = b"", 0
    while True:
        d = c.recv(4096)
        if not d:
            break
        buf += d
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            c.sendall(b"200 OK " + line + b"\n")
            n += 1
    log("answered", n, "lines; client closed")
    c.close()


def second_request_client(a):
    """Request, reply; at epoch a.at a second request (the generator makes the server's side
    reject it with ICMP for a while), wait for its reply, a.hold seconds later close first."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"GET /status\n")
    log("got", recv_until(s, b"\n"))
    sleep_until(a.at)
    s.sendall(b"GET /again\n")
    t0 = time.monotonic()
    log("got", recv_until(s, b"\n"), "after %.2f s" % (time.monotonic() - t0))
    try:
        e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        log("SO_ERROR after the reply:", e, "(the soft ICMP error is not reported)")
    except OSError as e:
        log("SO_ERROR:", e)
    time.sleep(a.hold)
    s.close()
    log("client closed")


def tfo_server(a):
    """A listener with TCP_FASTOPEN (qlen a.backlog); accept a.count connections: read a line,
    answer at once (for a Fast Open child that is still SYN-RECV), read to EOF, close."""
    ls = new_socket(a.addr)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, a.backlog)
    ls.listen(16)
    for _ in range(a.count):
        c, peer = ls.accept()
        req = recv_until(c, b"\n")
        c.sendall(b"200 OK " + req)
        log("accepted", peer, "answered", req)
        recv_to_eof(c)
        c.close()
    time.sleep(a.hold)
    ls.close()


def tfo_client(a):
    """a.count connections from ports a.bind_port, +1, ..., the i-th at epoch a.at + i * a.gap,
    each with sendto(MSG_FASTOPEN): the first asks for a cookie (a normal handshake, the request
    after it), the next carry the request in the SYN. Read the answer, a.hold s later close first."""
    for i in range(a.count):
        s = new_socket(a.addr)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.bind, a.bind_port + i))
        sleep_until(a.at + i * a.gap)
        s.sendto(b"GET /fast %d\n" % i, socket.MSG_FASTOPEN, (a.addr, a.port))
        log("connection", i, "got", recv_until(s, b"\n"))
        time.sleep(a.hold)
        s.close()
        log("connection", i, "closed")


def listen_close_at_server(a):
    """Listen with backlog a.backlog, never accept(), close the listener at epoch a.at (the queued
    connections are reset), then a.hold seconds more."""
    ls = listener(a.addr, a.port, backlog=a.backlog)
    log("listening, backlog", a.backlog, "; never accepting; closing at", a.at)
    sleep_until(a.at)
    ls.close()
    log("listener closed")
    time.sleep(a.hold)


def queued_client(a):
    """At epoch a.at connect (to a listener that never accepts), send a request when a.count is
    non-zero, then block in recv() (ECONNRESET when the listener is closed) and close."""
    sleep_until(a.at)
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    if a.count:
        s.sendall(b"GET /status\n")
    try:
        log("recv", s.recv(100))
    except OSError as e:
        log("recv:", e)
    s.close()


def rst_reconnect_client(a):
    """From port a.bind_port: connect, request, reply; at epoch a.at close with SO_LINGER {1,0}
    (an RST), a.gap seconds later connect again from the same port (the same four-tuple), request,
    read to the server's FIN, close."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"hello 0\n")
    log("got", recv_until(s, b"\n"))
    sleep_until(a.at)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    log("connection 0 reset")
    time.sleep(a.gap)
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"hello 1\n")
    n = recv_to_eof(s)
    log("connection 1 got", n, "bytes, then EOF")
    s.close()
    log("client closed")


def rst_then_close_server(a):
    """Two connections: the first is answered, then read until the client's RST; the second is
    answered and a.gap seconds later closed first (TIME-WAIT on the server)."""
    ls = listener(a.addr, a.port)
    c, peer = ls.accept()
    log("accepted", peer)
    recv_until(c, b"\n")
    c.sendall(b"200 OK\n")
    try:
        log("recv", c.recv(100))
    except OSError as e:
        log("recv:", e)
    c.close()
    c, peer = ls.accept()
    log("accepted", peer)
    recv_until(c, b"\n")
    c.sendall(b"200 OK\n")
    time.sleep(a.gap)
    c.close()
    log("server closed")
    time.sleep(a.hold)
    ls.close()


# --- round 7: a low-ISN SYN to TIME-WAIT, RSTs in SYN-SENT, a server that forgot its socket,
# a FIN riding on data
def late_request_client(a):
    """Request, reply; at epoch a.at a second request on the idle connection (the generator has
    made the server forget its socket silently), then wait for a reply: ECONNRESET."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"GET /status\n")
    log("got", recv_until(s, b"\n"))
    sleep_until(a.at)
    try:
        s.sendall(b"GET /again\n")
        log("got", s.recv(100))
    except OSError as e:
        log("second request:", e)
    s.close()
    log("client closed")


def corked_fin_client(a):
    """At epoch a.at: connect, then with TCP_CORK write a request and at once shutdown(SHUT_WR):
    tcp_send_fin puts the FIN on the unsent request, one segment carries both. Read the answer to
    EOF, close (TIME-WAIT)."""
    sleep_until(a.at)
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    s.sendall(b"GET /last-words\n")
    s.shutdown(socket.SHUT_WR)
    log("client wrote its request and shut down its sending side (corked)")
    buf = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    log("got", buf, "then EOF")
    s.close()
    log("client closed")


# --- round 8: a client that lost its socket reconnects from the same port, TCP_USER_TIMEOUT
def lost_reconnect_client(a):
    """Request, reply, then quiet: the generator destroys the socket silently (ss -K, its RST
    dropped). At epoch a.at the application closes the dead socket, binds the same port again
    and connects (its SYN meets the server's old connection), request, read to EOF, close."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"hello 0\n")
    log("got", recv_until(s, b"\n"))
    sleep_until(a.at)
    e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    log("old socket SO_ERROR:", e, "(ss -K: ECONNABORTED is 103)")
    s.close()
    t0 = time.monotonic()
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    log("reconnected after %.3f s" % (time.monotonic() - t0))
    s.sendall(b"hello 1\n")
    n = recv_to_eof(s)
    log("connection 1 got", n, "bytes, then EOF")
    s.close()
    log("client closed")


def user_timeout_client(a):
    """As send-and-wait-client with TCP_USER_TIMEOUT = a.user_timeout ms on the socket: request,
    reply; a.gap seconds later 1000 bytes more (black-holed), then wait: ETIMEDOUT after the user
    timeout, whatever tcp_retries2 says."""
    def opts(s):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, a.user_timeout)

    s = connect(a.addr, a.port, a.bind, a.bind_port, before=opts)
    s.sendall(b"hi\n")
    log("got", recv_until(s, b"\n"))
    time.sleep(a.gap)
    s.sendall(b"\x33" * 1000)
    t0 = time.monotonic()
    try:
        d = s.recv(100)
        log("recv", d)
    except OSError as e:
        log("gave up after %.2f s:" % (time.monotonic() - t0), e)
    s.close()


# --- round 9: a reused NAT port after a silent loss, close() into a zero window, the handshake's
# ACK lost under the first data, a simultaneous close with data, a SYN to CLOSE-WAIT
def late_write_server(a):
    """Two connections: the first is answered; at epoch a.at the server writes to it again (the
    generator has destroyed the client's socket silently) and reads: ECONNRESET. The second is
    answered and a.gap seconds later closed first (TIME-WAIT on the server)."""
    ls = listener(a.addr, a.port)
    c, peer = ls.accept()
    log("accepted", peer)
    recv_until(c, b"\n")
    c.sendall(b"200 OK\n")
    sleep_until(a.at)
    try:
        c.sendall(b"late news\n")
        log("late write sent; recv", c.recv(100))
    except OSError as e:
        log("late write:", e)
    c.close()
    c, peer = ls.accept()
    log("accepted", peer)
    recv_until(c, b"\n")
    c.sendall(b"200 OK\n")
    time.sleep(a.gap)
    c.close()
    log("server closed")
    time.sleep(a.hold)
    ls.close()


def stall_then_drain_server(a):
    """SO_RCVBUF a.rcvbuf (set before listen); read nothing until epoch a.at, then read to EOF
    and close."""
    c = accept_one(a.addr, a.port, rcvbuf=a.rcvbuf)
    sleep_until(a.at)
    n = recv_to_eof(c)
    log("server read", n, "bytes, then EOF")
    c.close()
    log("server closed")


def close_blocked_client(a):
    """Write a.bytes until the send blocks for a.gap s, then close() with data still unsent."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.settimeout(a.gap)
    sent = 0
    try:
        while sent < a.bytes:
            sent += s.send(b"\x5a" * min(65536, a.bytes - sent))
    except (socket.timeout, OSError) as e:
        log("send blocked:", e)
    log("wrote", sent, "bytes; close() with unsent data")
    s.close()


def late_data_client(a):
    """Connect; at epoch a.at send the request (the first data segment), read the reply, at
    a.at + a.gap close first, read nothing more."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    sleep_until(a.at)
    s.sendall(b"GET /first\n")
    log("got", recv_until(s, b"\n"))
    time.sleep(a.gap)
    s.close()
    log("client closed")


def answer_to_eof_server(a):
    """Read a line, answer, read to EOF, close."""
    c = accept_one(a.addr, a.port)
    log("got", recv_until(c, b"\n"))
    c.sendall(b"200 OK\n")
    recv_to_eof(c)
    c.close()
    log("server closed")


def xdata_server(a):
    """Read a line, answer; at epoch a.at write a.bytes and at once shut down the sending side,
    read to EOF, close."""
    c = accept_one(a.addr, a.port)
    recv_until(c, b"\n")
    c.sendall(b"200 OK\n")
    sleep_until(a.at)
    c.sendall(b"\x53" * a.bytes)
    c.shutdown(socket.SHUT_WR)
    log("server wrote", a.bytes, "bytes and shut down its sending side")
    log("server read", recv_to_eof(c), "bytes, then EOF")
    c.close()


def xdata_client(a):
    """Request, reply; at epoch a.at write a.bytes and at once shut down the sending side, read
    to EOF, close."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"GET /status\n")
    recv_until(s, b"\n")
    sleep_until(a.at)
    s.sendall(b"\x43" * a.bytes)
    s.shutdown(socket.SHUT_WR)
    log("client wrote", a.bytes, "bytes and shut down its sending side")
    log("client read", recv_to_eof(s), "bytes, then EOF")
    s.close()


def close_wait_then_serve_server(a):
    """First connection: answer, read to EOF and never close it (CLOSE-WAIT); second: answer,
    read to EOF, close. Then the first is closed (it was reset by then) and the listener held."""
    ls = listener(a.addr, a.port)
    c1, peer = ls.accept()
    log("accepted", peer)
    recv_until(c1, b"\n")
    c1.sendall(b"200 OK\n")
    recv_to_eof(c1)
    log("first connection: EOF, not closing")
    c2, peer = ls.accept()
    log("accepted", peer)
    log("first connection now: SO_ERROR", c1.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), "(tcp_reset: EPIPE, 32, in CLOSE-WAIT)")
    recv_until(c2, b"\n")
    c2.sendall(b"200 OK\n")
    recv_to_eof(c2)
    c2.close()
    c1.close()
    log("server closed")
    time.sleep(a.hold)
    ls.close()


def close_then_reconnect_client(a):
    """Request, reply, close first (orphaned FIN-WAIT-2); at epoch a.at bind the same port again,
    connect, request, reply, close first."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    s.sendall(b"hello 0\n")
    log("got", recv_until(s, b"\n"))
    s.close()
    log("connection 0 closed")
    sleep_until(a.at)
    t0 = time.monotonic()
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    log("reconnected after %.3f s" % (time.monotonic() - t0))
    s.sendall(b"hello 1\n")
    log("got", recv_until(s, b"\n"))
    time.sleep(a.gap)
    s.close()
    log("client closed")


def linger_abort_client(a):
    """Connect (nothing sent), at epoch a.at close with SO_LINGER {1,0}: an RST/ACK from
    ESTABLISHED."""
    s = connect(a.addr, a.port, a.bind, a.bind_port)
    log("connected")
    sleep_until(a.at)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    log("closed with SO_LINGER {1,0}")

COMMANDS = {
    "story-server": story_server,
    "story-client": story_client,
    "cc-server": cc_server,
    "cc-client": cc_client,
    "stuck-server": stuck_server,
    "refused-client": refused_client,
    "abort-server": abort_server,
    "abort-client": abort_client,
    "sink-server": sink_server,
    "bulk-client": bulk_client,
    "multi-server": multi_server,
    "multi-client": multi_client,
    "hold-server": hold_server,
    "ka-client": ka_client,
    "slow-reader-server": slow_reader_server,
    "writer-client": writer_client,
    "talk-client": talk_client,
    "hole-client": hole_client,
    "slow-sink-server": slow_sink_server,
    "serve-server": serve_server,
    "reuse-client": reuse_client,
    "close-first-server": close_first_server,
    "lingering-client": lingering_client,
    "try-connect-client": try_connect_client,
    "send-and-wait-client": send_and_wait_client,
    "xclose-server": xclose_server,
    "xclose-client": xclose_client,
    "close-at-server": close_at_server,
    "close-at-client": close_at_client,
    "halfclose-client": halfclose_client,
    "stream-server": stream_server,
    "ka-dead-client": ka_dead_client,
    "answer-close-at-server": answer_close_at_server,
    "noaccept-server": noaccept_server,
    "burst-client": burst_client,
    "xopen": xopen,
    "unread-close-server": unread_close_server,
    "wait-reply-client": wait_reply_client,
    "accept-late-server": accept_late_server,
    "stream-abort-server": stream_abort_server,
    "cc-count-server": cc_count_server,
    "tw-reuse-client": tw_reuse_client,
    "eof-then-write-server": eof_then_write_server,
    "request-close-client": request_close_client,
    "greet-shut-server": greet_shut_server,
    "send-after-eof-client": send_after_eof_client,
    "answer-lines-server": answer_lines_server,
    "second-request-client": second_request_client,
    "tfo-server": tfo_server,
    "tfo-client": tfo_client,
    "listen-close-at-server": listen_close_at_server,
    "queued-client": queued_client,
    "rst-reconnect-client": rst_reconnect_client,
    "rst-then-close-server": rst_then_close_server,
    "late-request-client": late_request_client,
    "corked-fin-client": corked_fin_client,
    "lost-reconnect-client": lost_reconnect_client,
    "user-timeout-client": user_timeout_client,
    "late-write-server": late_write_server,
    "stall-then-drain-server": stall_then_drain_server,
    "close-blocked-client": close_blocked_client,
    "late-data-client": late_data_client,
    "answer-to-eof-server": answer_to_eof_server,
    "xdata-server": xdata_server,
    "xdata-client": xdata_client,
    "close-wait-then-serve-server": close_wait_then_serve_server,
    "close-then-reconnect-client": close_then_reconnect_client,
    "linger-abort-client": linger_abort_client,
}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("cmd", choices=sorted(COMMANDS))
    p.add_argument("--addr", required=True, help="server address (listen or connect)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--bind", help="client source address")
    p.add_argument("--bind-port", type=int, help="fixed client source port")
    p.add_argument("--ports", default="", help="refused-client: comma-separated ports")
    p.add_argument("--bytes", type=int, default=1 << 20)
    p.add_argument("--hold", type=float, default=5.0)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--gap", type=float, default=0.0)
    p.add_argument("--backlog", type=int, default=128)
    p.add_argument("--expect-request", action="store_true")
    p.add_argument("--idle", type=int, default=1)
    p.add_argument("--intvl", type=int, default=1)
    p.add_argument("--cnt", type=int, default=5)
    p.add_argument("--rcvbuf", type=int, default=2048)
    p.add_argument("--read", type=int, default=0)
    p.add_argument("--tail", type=int, default=0, help="answer-close-at-server: bytes written just before close")
    p.add_argument("--user-timeout", type=int, default=0, help="user-timeout-client: TCP_USER_TIMEOUT in ms")
    p.add_argument("--at", type=float, default=0.0, help="epoch time (time.time()) of the scripted step")
    a = p.parse_args()
    COMMANDS[a.cmd](a)


if __name__ == "__main__":
    main()
