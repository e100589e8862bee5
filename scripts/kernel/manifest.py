#!/usr/bin/env python3
"""Write samples/kernel/manifest.json and samples/kernel/README.md.

Reads what make-samples.sh and tshark-golden.sh left in samples/kernel/<name>/:
the capture, ss-client.txt / ss-server.txt (`ss -tan`), ss-*-info.txt
(`ss -tanoi`, first line "# ss ... at epoch T"), tshark.tsv and, for bulk-loss,
nft-server.txt. Scenario facts (who is who, what happens) are in SCENARIOS.
Standard library only, plus `capinfos` for the packet count.
"""
import json
import os
import re
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "samples", "kernel")
NS_C, NS_S = "tcpstate-client", "tcpstate-server"
CAP = "Captured in the server namespace on veth-s"
C4, S4, C6, S6 = "192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"


def ep(ns, addr, port):
    return {"ns": ns, "addr": addr, "port": port}


# name -> facts. `extra` are scenario-level anomalies a user should be shown
# that no per-packet tshark flag expresses.
SCENARIOS = [
    dict(
        name="seeds-server-closes",
        description="The seeds' story: the client connects to port 9090, the server sends \"Hello\", "
        "the client answers \"Bye\", then the server closes first (FIN-WAIT-1/2, TIME-WAIT) and the client, "
        "after 0.3 s in CLOSE-WAIT, closes too (LAST-ACK, then gone). Four-way close.",
        client=ep(NS_C, C4, 40001), server=ep(NS_S, S4, 9090), extra={},
    ),
    dict(
        name="client-closes",
        description="Request/response on port 9091; the client closes first, so the client ends in TIME-WAIT "
        "and the server (after a delayed ACK and 0.2 s in CLOSE-WAIT) goes LAST-ACK and is gone.",
        client=ep(NS_C, C4, 40002), server=ep(NS_S, S4, 9091), extra={},
    ),
    dict(
        name="stuck-close-wait",
        description="Request/response on port 9092, then the client closes; the server application never "
        "calls close(). ss is taken 7 s later: the server is stuck in CLOSE-WAIT, the client (orphaned) in "
        "FIN-WAIT-2. After the client's FIN and the server's ACK nothing more happens on the connection; a "
        "ping just before the capture stops marks how long it ran.",
        client=ep(NS_C, C4, 40003), server=ep(NS_S, S4, 9092), extra={"stuck_close_wait": True},
    ),
    dict(
        name="refused",
        description="The client connects to ports 9100-9104 where nothing listens; each SYN gets an RST/ACK "
        "(ECONNREFUSED). No socket is left on either side.",
        client=ep(NS_C, C4, None), server=ep(NS_S, S4, [9100, 9101, 9102, 9103, 9104]),
        extra={"connection_refused": 5},
    ),
    dict(
        name="abortive-close",
        description="The server streams data to a slow reader on port 9094 for 0.5 s, then sets SO_LINGER "
        "{1,0} and closes: an RST instead of a FIN, while the receiver advertises a zero window and about "
        "0.7 MB is still unsent. The client reads what it has and gets ECONNRESET; no socket is left.",
        client=ep(NS_C, C4, 40005), server=ep(NS_S, S4, 9094), extra={"abortive_close": True},
    ),
    dict(
        name="bulk-loss",
        description="The client sends 768 KiB to the server on port 9095 through a 100 Mbit/s tbf "
        "bottleneck on its own egress, while nftables in the server namespace drops about 1 in 20 data "
        "segments (numgen random mod 20) after tcpdump has seen them: real SACKed duplicate ACKs, fast "
        "retransmissions and RTO retransmissions (CUBIC). The client closes first (TIME-WAIT). Snaplen 96.",
        client=ep(NS_C, C4, 40006), server=ep(NS_S, S4, 9095), extra={},
    ),
    dict(
        name="syn-flood",
        description="hping3 sends 480 SYNs to port 9096 from spoofed sources 192.0.2.128-151 (20 each, "
        "0.4 s) while three legitimate clients from 192.0.2.1 connect, talk and finish. The SYN-ACKs to the "
        "spoofed sources are never answered: the server's SYN queue (backlog 128) fills, the rest are "
        "answered with SYN cookies, and the queued ones get SYN-ACK retransmissions.",
        client=ep(NS_C, C4, None), server=ep(NS_S, S4, 9096),
        extra={"syn_flood": True},
        summarise=True,
        more={"spoofed_sources": {"first": "192.0.2.128", "last": "192.0.2.151", "syns_each": 20}},
    ),
    dict(
        name="keepalive",
        description="A connection on port 9097 goes idle after one exchange; the client has SO_KEEPALIVE "
        "with TCP_KEEPIDLE=1, TCP_KEEPINTVL=1, TCP_KEEPCNT=5, so the kernel sends a keep-alive probe every "
        "second and the server ACKs each. Both stay ESTAB.",
        client=ep(NS_C, C4, 40008), server=ep(NS_S, S4, 9097), extra={},
    ),
    dict(
        name="zero-window",
        description="The server on port 9098 has SO_RCVBUF=2048 (set before listen), reads 16 KiB and then "
        "stops reading; the client keeps writing 256 KiB. The window closes (Window Full, ZeroWindow) and "
        "Linux probes it with zero-length segments at snd_una-1, which tshark 4.0.17 labels Keep-Alive. ss is "
        "taken while stuck: Recv-Q on the server, a large Send-Q and a persist timer on the client.",
        client=ep(NS_C, C4, 40009), server=ep(NS_S, S4, 9098), extra={"stalled_by_zero_window": True},
    ),
    dict(
        name="time-wait-pileup",
        description="300 short connections to port 9099 in a row; each time the server sends a line and "
        "closes first, so ss shows 300 TIME-WAIT sockets on the server and nothing on the client.",
        client=ep(NS_C, C4, None), server=ep(NS_S, S4, 9099),
        extra={"time_wait_pileup": True},
        summarise=True,
    ),
    dict(
        name="ipv6-seeds-server-closes",
        description="The seeds' story (Hello, Bye, the server closes first) over IPv6, "
        "[2001:db8::1]:40011 to [2001:db8::2]:9090. The server ends in TIME-WAIT.",
        client=ep(NS_C, C6, 40011), server=ep(NS_S, S6, 9090), extra={},
    ),
    dict(
        name="sll2-any",
        description="client-closes (port 9091) captured with `tcpdump -i any` inside the server namespace: "
        "link type LINUX_SLL2 (276), no capture filter, so IPv6 MLD reports and ARP are mixed in.",
        client=ep(NS_C, C4, 40012), server=ep(NS_S, S4, 9091), extra={},
    ),
    dict(
        name="pcapng-nanosecond",
        description="The seeds' story (port 9090) captured with nanosecond timestamps "
        "(tcpdump --time-stamp-precision=nano) and converted with `editcap -F pcapng`: one IDB with "
        "if_tsresol=9.",
        client=ep(NS_C, C4, 40013), server=ep(NS_S, S4, 9090), extra={},
    ),
    # ---- issue 18: ss at moments during each scenario (moments/<n>-<host>.txt)
    dict(
        name="forged-rst",
        description="Request/response on port 9110, then 2.4 s of quiet during which two RSTs with the "
        "client's tuple are forged (scapy, from the client namespace; the client's kernel never sees them), "
        "their sequence numbers read from the live capture: one 2^30 beyond the server's rcv_nxt, outside its "
        "window (dropped silently), one 1000 bytes past rcv_nxt, inside the window but not at it (RFC 5961 "
        "3.2: the server answers a challenge ACK and keeps the connection). Then the client closes first with "
        "a full FIN exchange (client TIME-WAIT). " + CAP + ", where the forged RSTs arrive.",
        client=ep(NS_C, C4, 40020), server=ep(NS_S, S4, 9110), extra={},
    ),
    dict(
        name="fin-behind-hole",
        description="The client sends 2000 bytes on port 9111, 0.3 s later 100 bytes and at once its FIN "
        "(shutdown). nftables in the server's input drops the 100-byte segment and its retransmissions for "
        "about 1.1 s, after the capture point: the capture shows the segment, then the FIN, but the server "
        "gets the FIN first and answers with a duplicate ACK below the 100 bytes and a SACK block above (it stays ESTAB, the client FIN-WAIT-1) "
        "until an RTO retransmission fills the hole (data and FIN acknowledged: CLOSE-WAIT for 1 s, "
        "FIN-WAIT-2). Then the server answers and closes (client TIME-WAIT). " + CAP + ".",
        client=ep(NS_C, C4, 40021), server=ep(NS_S, S4, 9111), extra={},
    ),
    dict(
        name="syn-to-time-wait",
        description="Two connections from the same client port 40030 to port 9112, 0.6 s apart; the server "
        "closes each first. The second connection's first SYN is dropped in the server's input (nftables), "
        "after the capture point, so the server stays in TIME-WAIT of the first; the SYN retransmission 1 s "
        "later finds the TIME-WAIT socket and opens the new connection (the kernel accepts a SYN with a "
        "higher sequence number there). The server ends in TIME-WAIT of the second. " + CAP + ".",
        client=ep(NS_C, C4, 40030), server=ep(NS_S, S4, 9112), extra={},
    ),
    dict(
        name="syn-sent-bad-ack",
        description="The client's first SYN to port 9113 is dropped in the server's input (nftables, after "
        "the capture point). While the client is in SYN-SENT, an ACK with the server's tuple whose "
        "acknowledgment number acknowledges nothing is forged from the server namespace (scapy): the client "
        "answers with an RST <SEQ=SEG.ACK> and stays in SYN-SENT (RFC 793 p. 66); Linux then retransmits "
        "its SYN at once (the timer rearmed to TCP_TIMEOUT_MIN, 'previous FIN/ACK or RST/ACK might be "
        "ignored'), dropped too. The rule is removed; the next SYN retransmission (about 1.5 s) connects; request/response; the client closes first. " + CAP + ".",
        client=ep(NS_C, C4, 40031), server=ep(NS_S, S4, 9113), extra={},
    ),
    dict(
        name="late-syncookie",
        description="The server namespace has net.ipv4.tcp_syncookies=2: every SYN to port 9114 is answered "
        "with a SYN cookie, and no socket is kept for it. nftables on the client's output drops everything "
        "the client sends after its SYN for 2 s (before the capture point): the client is ESTAB, the server "
        "has nothing but its listener. The request's RTO retransmission (about 3 s in) carries the ACK; the "
        "server checks the cookie and only then makes its socket, ESTAB. The client closes first. " + CAP + ".",
        client=ep(NS_C, C4, 40032), server=ep(NS_S, S4, 9114), extra={},
        more={"sysctls": {"server": {"net.ipv4.tcp_syncookies": 2}}},
    ),
    dict(
        name="ack-dropped",
        description="Request/response on port 9115; 0.6 s after accepting the server closes first. The "
        "client's bare ACKs are dropped in the server's input (nftables) for about 1 s, after the capture "
        "point: the capture shows each ACK of the server's FIN, the server never gets them, stays in "
        "FIN-WAIT-1 and retransmits the FIN (RTO); after the rule goes the next ACK gets through "
        "(FIN-WAIT-2). The client closes 2.5 s after the server's FIN (server TIME-WAIT). " + CAP + ".",
        client=ep(NS_C, C4, 40033), server=ep(NS_S, S4, 9115), extra={},
    ),
    dict(
        name="fin-timeout",
        description="The client namespace has net.ipv4.tcp_fin_timeout=3. Request/response on port 9116; "
        "the client closes (orphaned), the server never calls close() for 4.5 s. The client's FIN-WAIT-2 "
        "ends silently after 3 s (no packet); the server's late FIN then finds no socket and gets an RST. "
        + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40034), server=ep(NS_S, S4, 9116), extra={"connection_reset": True},
        more={"sysctls": {"client": {"net.ipv4.tcp_fin_timeout": 3}}},
    ),
    dict(
        name="syn-retries",
        description="The client namespace has net.ipv4.tcp_syn_retries=2; nftables in the server's input "
        "drops everything to port 9117 (after the capture point). Linux 6.6+ retransmits the first SYNs "
        "every second (net.ipv4.tcp_syn_linear_timeouts, default 4): 6 SYNs from 0 to 5.1 s; at about 7 s "
        "(the 1+2+4 s that tcp_syn_retries=2 stands for) connect() fails with ETIMEDOUT: SYN-SENT ends "
        "without a packet. " + CAP +
        "; a ping marks the end.",
        client=ep(NS_C, C4, 40035), server=ep(NS_S, S4, 9117), extra={"syn_unanswered": True},
        more={"sysctls": {"client": {"net.ipv4.tcp_syn_retries": 2}}},
    ),
    dict(
        name="retries2-give-up",
        description="The client namespace has net.ipv4.tcp_retries2=3. After request/response on port 9118 "
        "the client is black-holed (nftables in the server's input drops all it sends, after the capture "
        "point) and sends 1000 bytes: 5 RTO retransmissions with backoff from 200 ms (to 3.3 s), and at "
        "about 6.6 s (the next RTO) the client gives up without an RST (ETIMEDOUT). The server, which never got the "
        "data, stays ESTAB. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40036), server=ep(NS_S, S4, 9118), extra={},
        more={"sysctls": {"client": {"net.ipv4.tcp_retries2": 3}}},
    ),
    dict(
        name="close-wait-at-end",
        description="Request/response on port 9119; 0.6 s later the client closes (orphaned, default "
        "tcp_fin_timeout) and the server application never calls close(): the capture ends with the server "
        "in CLOSE-WAIT and the client in FIN-WAIT-2. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40037), server=ep(NS_S, S4, 9119), extra={"stuck_close_wait": True},
    ),
    # ---- close paths no earlier sample shows
    dict(
        name="simultaneous-close",
        description="Request/response on port 9120 with 200 ms of delay each way: both namespaces route the "
        "peer's address through scripts/kernel/delay.py (a TUN device that holds every packet 200 ms, then "
        "sends it on the veth end; this kernel has no sch_netem), so the capture on veth-s sees the client's "
        "segments as they reach the server and the server's 200 ms after the server sent them. Both "
        "applications call shutdown(SHUT_WR) at the same instant: both FINs leave before either arrives "
        "(FIN-WAIT-1), each end gets the other's FIN with its own unacknowledged (CLOSING) and ACKs it, and "
        "200 ms later each gets the ACK of its FIN (TIME-WAIT on both ends). No ARP (the TUN route needs "
        "none). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40038), server=ep(NS_S, S4, 9120), extra={},
    ),
    dict(
        name="last-ack-lost",
        description="Request/response on port 9121; the client closes first (FIN-WAIT-2, orphaned) and the "
        "server 0.5 s later (LAST-ACK). nftables on the client's output drops its bare ACKs (before the "
        "capture point, see nft-client.txt): the ACK of the server's FIN never reaches the wire, the client "
        "is in TIME-WAIT, the server stays in LAST-ACK. The rule goes 0.1 s later; the server's FIN "
        "retransmission (RTO, about 0.2 s) is answered from TIME-WAIT and the server's socket is gone. "
        + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40039), server=ep(NS_S, S4, 9121), extra={},
    ),
    dict(
        name="half-close-data",
        description="The client connects to port 9122, sends a request and at once shutdown(SHUT_WR): its FIN "
        "is acknowledged (FIN-WAIT-2 against CLOSE-WAIT) and it keeps reading while the server writes 1000 "
        "bytes every 50 ms for 1.1 s (22000 bytes) in CLOSE-WAIT, then closes (LAST-ACK, gone; the client "
        "TIME-WAIT). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40040), server=ep(NS_S, S4, 9122), extra={},
    ),
    dict(
        name="rst-to-time-wait",
        description="Request/response on port 9123; the client closes first, the server 0.2 s later (the "
        "client in TIME-WAIT, the server gone). About 0.6 s later an RST with the server's tuple and sequence "
        "number exactly the client's rcv_nxt (read from the live capture) is forged from the server "
        "namespace (scapy, so an ARP exchange precedes it): with the default net.ipv4.tcp_rfc1337=0 it kills "
        "the client's TIME-WAIT socket (RFC 1337's TIME-WAIT assassination). " + CAP + "; a ping marks the "
        "end.",
        client=ep(NS_C, C4, 40041), server=ep(NS_S, S4, 9123), extra={"connection_reset": True},
    ),
    # ---- state paths no earlier sample shows
    dict(
        name="keepalive-dead-peer",
        description="A connection on port 9124 goes idle after one exchange; the client has SO_KEEPALIVE with "
        "TCP_KEEPIDLE=1, TCP_KEEPINTVL=1, TCP_KEEPCNT=3. 0.4 s after it connects, nftables in the server's "
        "input drops all the client sends (after the capture point, see nft-server.txt): the three probes "
        "(zero-length at snd_una-1, about 1, 2 and 3 s after the answer) go unanswered, and 1 s after the "
        "third the client's kernel gives up: an RST/ACK at snd_nxt and ETIMEDOUT (client gone). That RST is "
        "dropped too, so the server stays ESTAB. The rule goes; at 5 s the server closes: its FIN finds no "
        "socket on the client and gets an RST (both gone). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40042), server=ep(NS_S, S4, 9124), extra={"connection_reset": True},
    ),
    dict(
        name="accept-queue-overflow",
        description="The server listens on port 9125 with backlog 1 and never calls accept(); its way out goes "
        "through scripts/kernel/delay.py (200 ms, as in simultaneous-close), so the capture sees its segments "
        "200 ms after it sent them. One client connects (40043: queued); 0.6 s later two at once (40044, "
        "40045): both SYNs make requests before either ACK arrives, the first ACK fills the accept queue (two "
        "connections: full once more than the backlog), the second is dropped (ListenOverflows; "
        "net.ipv4.tcp_abort_on_overflow=0, the default): that client is ESTAB while the server keeps the "
        "request in SYN-RECV and retransmits its SYN-ACK (1 s, 3 s), each answered with the same ACK and "
        "dropped again. At 2 s a fourth client's SYN (40046) and its retransmissions are dropped while the "
        "queue is full (SYN-SENT). ss on the server shows the listener (Recv-Q 2), the two queued connections "
        "ESTAB and the request SYN-RECV; nstat-server.txt has the counters. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, [40043, 40044, 40045, 40046]), server=ep(NS_S, S4, 9125), extra={},
    ),
    dict(
        name="syn-recv-client-rst",
        description="The client namespace has net.ipv4.tcp_syn_retries=2, and nftables in its input drops the "
        "server's SYN-ACKs (after the capture point, see nft-client.txt). The client connects to port 9126 (a "
        "listener that never accepts): the server answers every SYN with a SYN-ACK, none arrives, the client "
        "retransmits its SYN every second (to about 5.1 s) and gives up at about 7 s without a packet "
        "(ETIMEDOUT), while the server keeps its request in SYN-RECV. The rule goes at 7.4 s; the server's "
        "SYN-ACK timer sends one more at about 11.1 s, which finds no socket on the client and is answered "
        "with an RST at its acknowledgment number: the server drops the request (its listener stays). "
        + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40048), server=ep(NS_S, S4, 9126), extra={"connection_reset": True},
        more={"sysctls": {"client": {"net.ipv4.tcp_syn_retries": 2}}},
    ),
    dict(
        name="orphan-fin-retries",
        description="The server namespace has net.ipv4.tcp_orphan_retries=2. Request/response on port 9127; "
        "0.3 s before the server writes 2000 bytes and closes, nftables in the client's input starts dropping "
        "all the server sends (after the capture point, see nft-client.txt): the client gets nothing and "
        "sends nothing. The server's orphan in FIN-WAIT-1 sends a tail loss probe of its FIN, retransmits "
        "the first segment at its RTO (0.2, 0.6, 1.5 s after close) and then gives up without a packet once "
        "its retries are spent (ss shows it gone 3.5 s after close), while the client, which never got the "
        "data or the FIN, stays ESTAB. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40049), server=ep(NS_S, S4, 9127), extra={},
        more={"sysctls": {"server": {"net.ipv4.tcp_orphan_retries": 2}}},
    ),
    dict(
        name="simultaneous-open",
        description="Both namespaces route the peer's address through scripts/kernel/delay.py (200 ms each "
        "way, as in simultaneous-close). A socket bound to 192.0.2.1:40050 and one bound to 192.0.2.2:9128 "
        "connect() to each other at the same instant: both SYNs leave before either arrives (SYN-SENT, while "
        "they are in the delays: never on the wire), each end gets the other's SYN (SYN-RECV) and answers "
        "with a SYN-ACK, and 200 ms later each gets the other's SYN-ACK (ESTABLISHED) and acknowledges it "
        "with a D-SACK of the duplicate SYN. Both stay ESTAB. No ARP. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40050), server=ep(NS_S, S4, 9128), extra={},
    ),
    # ---- round 3
    dict(
        name="syn-backlog-full-no-cookies",
        description="The server namespace has net.ipv4.tcp_syncookies=0 and net.ipv4.tcp_max_syn_backlog=4; the "
        "server listens on port 9129 with backlog 1 and accept()s only once, 2.5 s in. Six clients (40051-40056) "
        "connect at once: the first two SYNs make requests (the SYN queue is full once it holds more than the "
        "backlog) and complete their handshakes at once (the accept queue, full likewise, holds both); the "
        "other four are dropped without an answer (no cookies) and stay SYN-SENT, and so are their "
        "retransmissions (every second, Linux 6.6+ linear timeouts) while the accept queue is full. The "
        "accept() makes room: at 3 s two retransmitted SYNs get requests and SYN-ACKs; the first ACK fills the "
        "accept queue again, the second is dropped (tcp_abort_on_overflow=0), so that client is ESTAB while "
        "the server keeps it in SYN-RECV (as in accept-queue-overflow); the last two clients stay SYN-SENT. nstat-server.txt "
        "has the counters. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, [40051, 40052, 40053, 40054, 40055, 40056]), server=ep(NS_S, S4, 9129),
        extra={"syn_unanswered": True},
        more={"sysctls": {"server": {"net.ipv4.tcp_syncookies": 0, "net.ipv4.tcp_max_syn_backlog": 4}}},
    ),
    dict(
        name="close-with-unread-data",
        description="The client connects to port 9130 and sends a request; the server never reads it and "
        "1.5 s later calls close() with the request still in its receive buffer: Linux sends an RST/ACK "
        "instead of a FIN (tcp_close: data was lost) and the socket is gone at once; the client, blocked in "
        "recv(), gets ECONNRESET (gone too). No FIN on the wire. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40057), server=ep(NS_S, S4, 9130), extra={"connection_reset": True},
    ),
    dict(
        name="persist-give-up",
        description="The client namespace has net.ipv4.tcp_retries2=3. As in zero-window, the server on port "
        "9131 has SO_RCVBUF=2048, reads 16 KiB and stops reading while the client writes 256 KiB: the window "
        "closes and the client probes it. 0.5 s in, nftables in the server's input drops all the client "
        "sends (after the capture point, see nft-server.txt): the zero-window probes go unanswered, with "
        "backoff, and once three are unanswered the persist timer gives up (tcp_probe_timer: persist probes "
        "count against tcp_retries2): the client's socket is gone without a packet (ETIMEDOUT), while the "
        "server stays ESTAB with its Recv-Q. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40058), server=ep(NS_S, S4, 9131), extra={"stalled_by_zero_window": True},
        more={"sysctls": {"client": {"net.ipv4.tcp_retries2": 3}}},
    ),
    dict(
        name="fin-wait-2-reset",
        description="The client connects to port 9132, sends a request and at once shutdown(SHUT_WR): its FIN "
        "is acknowledged (FIN-WAIT-2 against CLOSE-WAIT) and it keeps reading while the server writes 1000 "
        "bytes every 100 ms for 1 s, then closes with SO_LINGER {1,0}: an RST instead of a FIN reaches the "
        "client in FIN-WAIT-2 (ECONNRESET; both gone). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40059), server=ep(NS_S, S4, 9132), extra={"abortive_close": True},
    ),
    dict(
        name="ipv6-loss",
        description="The client sends 256 KiB over IPv6, [2001:db8::1]:40060 to [2001:db8::2]:9133, through a "
        "2 Mbit/s tbf bottleneck on its own egress, while nftables in the server namespace drops about 1 in "
        "10 data segments (numgen random mod 10) after tcpdump has seen them (see nft-server.txt): SACKed "
        "duplicate ACKs, fast and RTO retransmissions on IPv6. The client closes first (shutdown, then "
        "close after the server's answer): client TIME-WAIT, the server gone. " + CAP + "; a ping marks "
        "the end.",
        client=ep(NS_C, C6, 40060), server=ep(NS_S, S6, 9133), extra={},
    ),
    dict(
        name="synack-lost",
        description="nftables in the client's input drops the server's SYN-ACKs (after the capture point, see "
        "nft-client.txt) for the first 1.4 s. The client connects to port 9134: the server answers the SYN "
        "and sits in SYN-RECV; at about 1 s the server's SYN-ACK timer and the client's SYN retransmission "
        "(SYN-SENT) cross, and both SYN-ACKs are lost too (three drops). The rule goes at 1.4 s; the answer "
        "to the next SYN retransmission, at about 2 s (linear SYN timeouts), gets through: both ESTAB, "
        "request and answer, then quiet. "
        + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40061), server=ep(NS_S, S4, 9134), extra={},
    ),
    dict(
        name="socket-killed",
        description="An idle established connection on port 9135 (request and answer, then quiet). "
        "`ss -K` in the server namespace (SOCK_DESTROY, CONFIG_INET_DIAG_DESTROY; its output in "
        "ss-K-server.txt) destroys the server's socket: tcp_abort() sends an RST and the server's socket "
        "is gone; the RST resets the client (ECONNRESET on its next call): both gone, no FIN. "
        + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40062), server=ep(NS_S, S4, 9135), extra={"connection_reset": True},
    ),
    dict(
        name="tw-reuse-client",
        description="The client namespace has net.ipv4.tcp_tw_reuse=1 (timestamps on, the default). The client "
        "connects from port 40063 to port 9136, sends a request, reads the answer and closes first: client "
        "TIME-WAIT, the server gone. 1.5 s later it connects again from the same port to the same server "
        "port: connect() takes over the TIME-WAIT socket (older than tcp_tw_reuse_delay, 1 s) and the new SYN "
        "opens a second connection on the same four-tuple, which stays ESTAB. "
        + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40063), server=ep(NS_S, S4, 9136), extra={},
        more={"sysctls": {"client": {"net.ipv4.tcp_tw_reuse": 1}}},
    ),
    dict(
        name="syn-new-isn-to-syn-recv",
        description="nftables in the client's output drops all the client sends to port 9137 but SYNs (before "
        "the wire, see nft-client.txt). The client connects (a listener that never accepts): the server "
        "answers its SYN and sits in SYN-RECV, the client is ESTAB but its handshake ACK and its request never "
        "leave. Then scapy in the client namespace sends a SYN on the same four-tuple with another ISN (the "
        "first + 2^31, outside the window): the server's request sock answers it with a bare ACK "
        "(tcp_check_req: an out-of-window segment gets an ACK) and stays SYN-RECV; it retransmits its "
        "SYN-ACK at 1 s. The rule goes at about 1.1 s and the client's retransmitted request completes the "
        "handshake: both ESTAB. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40064), server=ep(NS_S, S4, 9137), extra={},
    ),
    dict(
        name="abort-on-overflow",
        description="As accept-queue-overflow but with net.ipv4.tcp_abort_on_overflow=1 in the server namespace: "
        "the server listens on port 9138 with backlog 1 and never calls accept(); its way out goes through "
        "scripts/kernel/delay.py (200 ms). One client connects (40065: queued); 0.6 s later two at once (40066, "
        "40067): both SYNs make requests, the first ACK fills the accept queue, the second finds it full and "
        "is answered with an RST (tcp_check_req, listen_overflow -> embryonic_reset): the request is dropped "
        "and the client, ESTAB after its ACK, is gone when the RST arrives. Two queued connections ESTAB at "
        "the end; nstat-server.txt has the counters. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, [40065, 40066, 40067]), server=ep(NS_S, S4, 9138), extra={"connection_reset": True},
        more={"sysctls": {"server": {"net.ipv4.tcp_abort_on_overflow": 1}}},
    ),
    dict(
        name="orphan-gets-data",
        description="The client connects to port 9139, sends a request and at once close()s (not shutdown): "
        "its FIN is acknowledged and the orphan sits in FIN-WAIT-2 (a timewait sock, ss shows FIN-WAIT-2 "
        "with a timewait timer) against the server's CLOSE-WAIT. 0.5 s later the server writes 1000 bytes: "
        "new data after the receive side was closed is answered with an RST (tcp_timewait_state_process, "
        "kill_with_rst) and the orphan is gone; the server's next write fails (EPIPE) and it is gone too. "
        + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40068), server=ep(NS_S, S4, 9139), extra={"connection_reset": True},
    ),
    dict(
        name="server-half-close",
        description="The client connects to port 9140; the server sends a greeting and at once "
        "shutdown(SHUT_WR)s (its FIN first), then keeps reading: FIN-WAIT-2 against CLOSE-WAIT. The client "
        "reads to EOF and sends 200 bytes every 50 ms ten times (0.5 s) in CLOSE-WAIT, then closes (LAST-ACK, "
        "gone); the server ends in TIME-WAIT. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40069), server=ep(NS_S, S4, 9140), extra={},
    ),
    dict(
        name="ipv6-refused",
        description="Over IPv6 the client connects to [2001:db8::2]:9199 where nothing listens: the SYN gets an "
        "RST/ACK (ECONNREFUSED). Then the seeds' story (Hello, Bye, the server closes first) from "
        "[2001:db8::1]:40070 to [2001:db8::2]:9141: the server ends in TIME-WAIT. " + CAP + "; a ping "
        "marks the end.",
        client=ep(NS_C, C6, None), server=ep(NS_S, S6, [9199, 9141]), extra={"connection_refused": 1},
    ),
    dict(
        name="icmp-port-unreachable",
        description="nftables in the server's input rejects SYNs to port 9150 with ICMP port unreachable, before TCP "
        "sees them (see nft-server.txt). The client connects from 40071: the ICMP comes back within about 80 us, "
        "while connect() still holds the socket lock (veth), so tcp_v4_err only counts it (TcpExtLockDroppedIcmps, "
        "nstat-client.txt) and keeps a soft error: ss shows the client still SYN-SENT. The SYN retransmission at 1 s "
        "(sent from the timer) gets a second ICMP, handled with the socket not owned: connect() fails with "
        "ECONNREFUSED and the socket is gone, no TCP answer ever. Then the seeds' story on port 9160 from 40073: the "
        "server ends in TIME-WAIT. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, [40071, 40073]), server=ep(NS_S, S4, [9150, 9160]), extra={"icmp_unreachable": 1},
    ),
    dict(
        name="icmpv6-admin-prohibited",
        description="As icmp-port-unreachable over IPv6: nftables in the server's input rejects SYNs to "
        "[2001:db8::2]:9151 with ICMPv6 administratively prohibited (see nft-server.txt). The first ICMPv6 comes "
        "back while connect() holds the socket (tcp_v6_err: TcpExtLockDroppedIcmps, a soft error), the client stays "
        "SYN-SENT; the second, answering the SYN retransmission at 1 s, ends the connect() with EACCES, no socket "
        "left. Then the seeds' story from [2001:db8::1]:40084 to [2001:db8::2]:9161: the server ends in TIME-WAIT. "
        + CAP + "; a ping marks the end.",
        client=ep(NS_C, C6, [40072, 40084]), server=ep(NS_S, S6, [9151, 9161]), extra={"icmp_unreachable": 1},
    ),
    dict(
        name="icmp-host-unreachable",
        description="The client's way out goes through scripts/kernel/delay.py (50 ms), so an ICMP comes back after "
        "connect() went to sleep. nftables in the server's input rejects SYNs to port 9152 with ICMP host "
        "unreachable: the client (40074) in SYN-SENT gets EHOSTUNREACH at once, its socket gone. Then a connection "
        "on port 9153 (40075) exchanges a line; nftables in the server's input then rejects all the client sends to "
        "9153 with ICMP host unreachable (a second table, after the capture point) and the client sends a second "
        "request: an ICMP error in ESTABLISHED is only a soft error, the client stays ESTAB and retransmits every "
        "RTO (tcp_ld_RTO_revert, RFC 6069, undoes the backoff at each host unreachable), three ICMPs. The rule goes "
        "after about 1 s, the next retransmission gets through and is answered; the client closes first 0.5 s "
        "later (client TIME-WAIT, the server gone). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, [40074, 40075]), server=ep(NS_S, S4, [9152, 9153]),
        extra={"icmp_unreachable": 1},
    ),
    dict(
        name="icmp-to-syn-recv",
        description="The client namespace has net.ipv4.tcp_syn_retries=2 and net.ipv4.icmp_ratelimit=0; nftables in "
        "its input rejects the server's SYN-ACKs (after the capture point, see nft-client.txt): from port 9154 with "
        "ICMP host unreachable, from 9155 with ICMP port unreachable. Two clients (40076 to 9154, 40077 to 9155) "
        "connect to listeners that never accept. On 9154 each ICMP drops the server's request at once (tcp_v4_err "
        "-> tcp_req_err: host/net unreachable, parameter problem or time exceeded abort a request whose SYN-ACK "
        "sequence number the ICMP quotes): ss shows no SYN-RECV after it, and each SYN retransmission (every "
        "second) makes a new request, SYN-ACK and ICMP. On 9155 the port unreachable changes nothing: the request "
        "stays SYN-RECV, answers each SYN retransmission and retransmits its SYN-ACK on its own timer, each time "
        "with another ICMP. At about 7 s both clients give up (ETIMEDOUT, no packet); the request on 9155 is still "
        "SYN-RECV at the end. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, [40076, 40077]), server=ep(NS_S, S4, [9154, 9155]),
        extra={"synack_unanswered": 2, "icmp_unreachable": 1},
        more={"sysctls": {"client": {"net.ipv4.tcp_syn_retries": 2, "net.ipv4.icmp_ratelimit": 0}}},
    ),
    dict(
        name="tcp-fast-open",
        description="Both namespaces have net.ipv4.tcp_fastopen=3; the server's listener on port 9156 has "
        "TCP_FASTOPEN (qlen 5); the client's way out goes through scripts/kernel/delay.py (200 ms). The client "
        "connects twice with sendto(MSG_FASTOPEN): the first (40078) asks for a cookie (TFO option, empty) and "
        "gets one in the SYN-ACK, a normal handshake, the request after it; the second (40079) carries the cookie "
        "and its request in the SYN: the server makes a child socket at once, SYN-RECV but accepted, and answers "
        "while the handshake's last ACK is still in the delay: ss shows the server SYN-RECV with 19 bytes unacked "
        "and the client ESTAB. 200 ms later the ACK arrives (ESTAB). Each time the client closes first 0.5 s after "
        "the answer (client TIME-WAIT twice, the server gone). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, [40078, 40079]), server=ep(NS_S, S4, 9156), extra={},
        more={"sysctls": {"client": {"net.ipv4.tcp_fastopen": 3}, "server": {"net.ipv4.tcp_fastopen": 3}}},
    ),
    dict(
        name="listener-closed-with-queue",
        description="The server listens on port 9157 with backlog 4 and never calls accept(). Two clients connect "
        "(40080, which sends a request, and 40081, which sends nothing) and block in recv(): both ESTAB on both "
        "sides, queued. 0.9 s later the server closes its listening socket: inet_csk_listen_stop disconnects each "
        "queued child (tcp_disconnect: an RST for an established one) and the clients get ECONNRESET: all gone, "
        "no FIN. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, [40080, 40081]), server=ep(NS_S, S4, 9157), extra={"connection_reset": True},
    ),
    dict(
        name="syn-in-established",
        description="Request/response on port 9158 from 40082, then quiet. scapy in the client namespace forges a "
        "SYN with the client's tuple whose sequence number is the server's rcv_nxt + 1000 (read from the live "
        "capture), inside its window (the client's kernel never sees it): RFC 5961 4.2, the server answers with a "
        "challenge ACK (its snd_nxt, rcv_nxt) and keeps the connection: both ESTAB. About 4 s later the client "
        "closes first (client TIME-WAIT, the server gone). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40082), server=ep(NS_S, S4, 9158), extra={},
    ),
    dict(
        name="reuse-after-rst",
        description="The client binds port 40083 (SO_REUSEADDR), connects to port 9159, exchanges a line and closes "
        "with SO_LINGER {1,0}: an RST, both gone. 0.3 s later it connects again from the same port: a second "
        "connection on the same four-tuple (a new ISN), which exchanges a line; the server closes first 0.3 s "
        "later (the server TIME-WAIT, the client gone after LAST-ACK). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40083), server=ep(NS_S, S4, 9159), extra={"connection_reset": True},
    ),
    dict(
        name="syn-to-time-wait-low-isn",
        description="The server namespace has the default net.ipv4.tcp_rfc1337=0. The client connects from port 40090 to "
        "port 9170, sends a line, and the server answers and closes first: the server TIME-WAIT, the client gone "
        "after LAST-ACK. scapy in the client namespace then sends a SYN on the same four-tuple whose sequence number "
        "is 100000 below the first connection's ISN (no timestamps): below the TIME-WAIT's rcv_nxt, so "
        "tcp_timewait_state_process answers it with a bare ACK (TCP_TW_ACK: its snd_nxt, rcv_nxt) instead of opening "
        "a new connection. The client's kernel, which has no socket for it, answers that ACK with an RST at its "
        "acknowledgment number; nftables in the client's output drops that RST (before the wire, see nft-client.txt), "
        "so the server stays TIME-WAIT. The rule goes and, 0.6 s after the first (past the TIME-WAIT's out-of-window "
        "ACK rate limit), a second such SYN, 100000 below the first forged one, gets the same ACK; this time the "
        "client's RST (sequence number the TIME-WAIT's rcv_nxt) reaches the server and kills its TIME-WAIT "
        "(tcp_rfc1337=0). 5 s after the first connection the client connects again from 40090 (its own SYN, a "
        "higher ISN, with timestamps): nothing is left on the four-tuple, a new connection, and the server closes "
        "first again (the server TIME-WAIT). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40090), server=ep(NS_S, S4, 9170), extra={"connection_reset": True},
    ),
    dict(
        name="rst-in-syn-sent",
        description="nftables in the server's input drops the SYNs to port 9171 (after the capture point, see "
        "nft-server.txt); nothing listens there. The client connects from 40091 and sits in SYN-SENT. From the "
        "server namespace scapy forges two RST/ACKs with the server's tuple, the client's ISN read from the live "
        "capture (an ARP exchange precedes each): the first acknowledges ISN + 1001, more than the client sent: "
        "tcp_rcv_synsent_state_process finds the ACK unacceptable and ignores the RST (RFC 793 p. 66/67), the client "
        "stays SYN-SENT and, its SYN never retransmitted yet, retransmits it at once (the timer rearmed to "
        "TCP_TIMEOUT_MIN, 'previous FIN/ACK or RST/ACK might be ignored'; dropped too). The second acknowledges "
        "ISN + 1: the RST is accepted, connect() fails with ECONNREFUSED and the client's socket is gone. "
        + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40091), server=ep(NS_S, S4, 9171), extra={"connection_refused": 1},
    ),
    dict(
        name="server-lost-socket",
        description="A connection on port 9172 from 40092 exchanges a line and goes idle. The server forgets it "
        "silently: `ss -K` in the server namespace destroys its socket (its output in ss-K-server.txt) while "
        "nftables in the server's output drops the RST tcp_abort() sends (see nft-server.txt), so nothing reaches "
        "the wire and the client stays ESTAB: the server has no socket, which the capture cannot show (`unseen`). "
        "About 1.5 s after the exchange the client sends a second request: it finds no socket, the server answers "
        "with an RST at its acknowledgment number (tcp_v4_send_reset), which is at the client's rcv_nxt: the client "
        "is reset (ECONNRESET), both gone, no FIN. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40092), server=ep(NS_S, S4, 9172), extra={"connection_reset": True},
        unseen=[{"moment": 2, "host": "server", "local": "192.0.2.2:9172", "peer": "192.0.2.1:40092",
                 "reason": "ss -K destroyed the server's socket and nftables dropped its RST before the wire: "
                 "nothing on the wire tells that the server has no socket until the client's next segment is reset"}],
    ),
    dict(
        name="keepalive-to-rebooted-peer",
        description="As server-lost-socket on port 9173, but the client (40093) has SO_KEEPALIVE with "
        "TCP_KEEPIDLE=1, TCP_KEEPINTVL=1, TCP_KEEPCNT=5 and sends nothing after the first exchange. 0.2 s after it "
        "the server's socket is destroyed silently (`ss -K`, its RST dropped in the server's output, see "
        "nft-server.txt and ss-K-server.txt): the server has no socket, which the capture cannot show (`unseen`), "
        "the client stays ESTAB. About 1 s after the exchange the client's first keep-alive probe (zero-length at "
        "snd_una-1) finds no socket and gets an RST at its acknowledgment number, the client's rcv_nxt: the client "
        "is reset (ECONNRESET in its blocked recv()), both gone, no FIN. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40093), server=ep(NS_S, S4, 9173), extra={"connection_reset": True},
        unseen=[{"moment": 2, "host": "server", "local": "192.0.2.2:9173", "peer": "192.0.2.1:40093",
                 "reason": "ss -K destroyed the server's socket and nftables dropped its RST before the wire: "
                 "nothing on the wire tells that the server has no socket until the client's keep-alive probe is reset"}],
    ),
    dict(
        name="fin-with-data",
        description="The client connects from 40094 to port 9174, sets TCP_CORK, writes a 16-byte request and at once "
        "shutdown(SHUT_WR)s: tcp_send_fin puts the FIN on the unsent request, one segment carries both (FIN, PSH, "
        "ACK, 16 bytes). The server reads the request and EOF (CLOSE-WAIT; its ACK of both comes with the delayed "
        "ACK, the client then FIN-WAIT-2), answers 0.5 s later and closes (LAST-ACK, gone); the client ends in "
        "TIME-WAIT. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40094), server=ep(NS_S, S4, 9174), extra={},
    ),
    # ---- round 8
    dict(
        name="client-lost-socket-reconnect",
        description="A connection on port 9190 from 40100 (SO_REUSEADDR) exchanges a line and goes idle. The client "
        "forgets it silently: `ss -K` in the client namespace destroys its socket (its output in ss-K-client.txt) "
        "while nftables in the client's output drops the RST tcp_abort() sends (see nft-client.txt): the client has "
        "no socket, which the capture cannot show (`unseen`), the server stays ESTAB. About 1.3 s later the client "
        "application binds 40100 again and connects: its SYN (a new ISN) reaches the server's ESTABLISHED socket, "
        "which answers with a challenge ACK (RFC 5961 4.2: its snd_nxt, rcv_nxt of the old connection); the client, "
        "in SYN-SENT, finds the ACK unacceptable and answers with an RST <SEQ=SEG.ACK> (tcp_rcv_synsent_state_process, "
        "reset_and_undo), which is at the server's rcv_nxt and resets its old connection (ECONNRESET); the client "
        "stays SYN-SENT and, its SYN not yet retransmitted, rearms its SYN timer to TCP_TIMEOUT_MIN: that "
        "retransmission, about 12 ms later, is dropped in the server's input (after the capture point, an nftables "
        "quota that let the first SYN through, see nft-server.txt), so the client is SYN-SENT while the server has "
        "no socket. The next SYN retransmission, about 1 s later, finds only the listener: a new connection on the "
        "same four-tuple, which exchanges a line; the server closes first 0.6 s later (the server TIME-WAIT, the "
        "client gone after LAST-ACK). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40100), server=ep(NS_S, S4, 9190), extra={"connection_reset": True},
        unseen=[{"moment": 2, "host": "client", "local": "192.0.2.1:40100", "peer": "192.0.2.2:9190",
                 "reason": "ss -K destroyed the client's socket and nftables dropped its RST before the wire: "
                 "nothing on the wire tells that the client has no socket until its new SYN arrives"}],
    ),
    dict(
        name="user-timeout-give-up",
        description="As retries2-give-up, but with the default tcp_retries2 (15): the client (40101) sets "
        "TCP_USER_TIMEOUT=1500 ms on its socket. After request/response on port 9191 the client is black-holed "
        "(nftables in the server's input drops all it sends, after the capture point, see nft-server.txt) and sends "
        "1000 bytes: RTO retransmissions with backoff from 200 ms, and about 1.5 s after the data the client gives up "
        "without an RST (tcp_write_timeout: the user timeout, not tcp_retries2; the RTO is clamped to what is left "
        "of it, tcp_clamp_rto_to_user_timeout): ETIMEDOUT, its socket gone. The server, which never got the data, "
        "stays ESTAB; nothing more is sent for about 3 s. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40101), server=ep(NS_S, S4, 9191), extra={},
        unseen=[{"moment": 2, "host": "client", "local": "192.0.2.1:40101", "peer": "192.0.2.2:9191",
                 "reason": "TCP_USER_TIMEOUT is a socket option the wire does not carry: shortly after the give-up "
                 "the capture looks the same as a sender still waiting for its next retransmission, which the "
                 "backoff seen (twice the last gap) puts more than a second later"}],
    ),
    dict(
        name="close-wait-unread-rst",
        description="The client connects from 40102 to port 9192, sends a request and at once shutdown(SHUT_WR)s "
        "(its FIN). The server never reads: its socket is CLOSE-WAIT with the request in its receive buffer, the "
        "client FIN-WAIT-2. 0.5 s later the server close()s with the request unread: tcp_close sends an RST/ACK "
        "instead of a FIN (data was lost; the FIN itself does not count) and the socket is gone at once; the RST "
        "ends the client's FIN-WAIT-2 (ECONNRESET in its recv()): both gone, no FIN from the server. " + CAP +
        "; a ping marks the end.",
        client=ep(NS_C, C4, 40102), server=ep(NS_S, S4, 9192), extra={"connection_reset": True},
    ),
    dict(
        name="rst-to-syn-recv-forged",
        description="nftables in the server's input drops all the client sends to port 9193 but SYNs and RSTs (after "
        "the capture point, see nft-server.txt). The client connects from 40103 to a listener that never accepts: "
        "the server answers the SYN and keeps a request in SYN-RECV, the client is ESTAB, and its handshake ACK and "
        "request (with their retransmissions) never reach the server. scapy in the client namespace forges two RSTs "
        "with the client's tuple, their sequence numbers read from the live capture (the SYN-ACK's acknowledgment "
        "number, the request's rcv_nxt): one 2^30 beyond it, outside the window: tcp_check_req ignores it (no "
        "answer), the request stays SYN-RECV; then one at rcv_nxt: the request is dropped (embryonic_reset, no "
        "answer), the server has no socket, the client is still ESTAB. The rule goes; the client's next "
        "retransmission of its request reaches the listener, which has no request for it: an RST (tcp_v4_send_reset), "
        "the client is reset (ECONNRESET), both gone. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40103), server=ep(NS_S, S4, 9193), extra={"connection_reset": True},
    ),
    dict(
        name="icmpv6-packet-too-big",
        description="The client sends 384 KiB over IPv6, [2001:db8::1]:40104 to [2001:db8::2]:9194, through a 4 Mbit/s "
        "tbf bottleneck on its own egress. A link with MTU 1280 on the way is emulated by nftables in the server's "
        "input dropping the client's packets over 1280 bytes (after the capture point, see nft-server.txt): the "
        "client's full-size segments (1500-byte packets) are lost. scapy in the server namespace then sends, as a "
        "router would, an ICMPv6 Packet Too Big (MTU 1280) quoting the first of them (read from the live capture, "
        "as much as the snaplen kept): tcp_v6_err finds the quoted sequence number unacknowledged, lowers the "
        "path MTU (tcp_v6_mtu_reduced: tcp_sync_mss, tcp_simple_retransmit) and the client resends what is "
        "outstanding in 1280-byte packets, and sends the rest so (route-client.txt: the cached PMTU). No state "
        "changes: both ESTAB, then the client closes first (client TIME-WAIT, the server gone). " + CAP +
        "; a ping marks the end.",
        client=ep(NS_C, C6, 40104), server=ep(NS_S, S6, 9194), extra={},
    ),
    # ---- round 9
    dict(
        name="nat-port-reuse",
        description="What a NAT that reuses a port looks like to the server, in one client namespace: a connection "
        "on port 9200 from 40110 (SO_REUSEADDR) exchanges a line and goes idle. The client forgets it silently: "
        "`ss -K` in the client namespace destroys its socket (ss-K-client.txt) while nftables in the client's output "
        "drops the RST tcp_abort() sends (see nft-client.txt): the client has no socket, which the capture cannot "
        "show (`unseen`), the server stays ESTAB. About 1.4 s after the exchange the server writes 10 bytes to the dead "
        "connection: they find no socket on the client, whose kernel answers with an RST at their acknowledgment "
        "number (tcp_v4_send_reset: <SEQ=SEG.ACK><CTL=RST>), the server's rcv_nxt: the server is reset "
        "(ECONNRESET), both gone, no FIN. 0.8 s later the client application binds 40110 again and connects: the "
        "same four-tuple, a new connection (a new ISN) that exchanges a line; the server closes first 0.6 s later "
        "(the server TIME-WAIT, the client gone after LAST-ACK). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40110), server=ep(NS_S, S4, 9200), extra={"connection_reset": True},
        unseen=[{"moment": 2, "host": "client", "local": "192.0.2.1:40110", "peer": "192.0.2.2:9200",
                 "reason": "ss -K destroyed the client's socket and nftables dropped its RST before the wire: "
                 "nothing on the wire tells that the client has no socket until the server's late data is reset"}],
    ),
    dict(
        name="zero-window-close",
        description="The server on port 9201 has SO_RCVBUF=2048 (set before listen, so it offers a 1448-byte window "
        "without scaling) and reads nothing for nearly 4 s. The client (40111) writes until send() has blocked for "
        "0.5 s (about 23 KiB in its send buffer; 1448 bytes reached the server before the window closed), then "
        "close()s with that data unsent: tcp_close queues its FIN behind the data (tcp_send_fin), the client is "
        "FIN-WAIT-1 (orphaned) with no FIN on the wire, and probes the zero window with zero-length segments at "
        "snd_una-1 (tcp_write_wakeup; tshark labels them Keep-Alive) with backoff, each answered with a zero-window "
        "ACK. The server then reads to EOF: the window opens, the rest of the data goes out, the FIN rides on the "
        "last segment; the server closes at once (LAST-ACK, gone) and the client ends in TIME-WAIT. " + CAP +
        "; a ping marks the end.",
        client=ep(NS_C, C4, 40111), server=ep(NS_S, S4, 9201), extra={"stalled_by_zero_window": True},
        unseen=[{"moment": m, "host": "client", "local": "192.0.2.1:40111", "peer": "192.0.2.2:9201",
                 "reason": "close() with data unsent only queues the FIN behind the data (tcp_send_fin): no packet "
                 "says so until the window opens, and the zero-window probes of an orphaned FIN-WAIT-1 look the "
                 "same as an ESTAB sender's"} for m in (1, 2)],
    ),
    dict(
        name="syn-ack-lost-data-first",
        description="nftables in the server's input drops the client's segments to port 9202 whose flags are exactly "
        "ACK (after the capture point, see nft-server.txt): the handshake's final ACK, seen on the wire, never "
        "reaches the server, which keeps the request in SYN-RECV while the client is ESTAB. About 0.7 s later "
        "(before the SYN-ACK timer fires) the client sends its request (PSH, ACK): its ACK completes the handshake "
        "(tcp_check_req: an acceptable ACK makes the child socket, ESTAB) and the data is delivered. The rule "
        "goes; the server answers, the client closes first 0.5 s later (the client TIME-WAIT, the server gone "
        "after LAST-ACK). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40112), server=ep(NS_S, S4, 9202), extra={},
        unseen=[{"moment": 1, "host": "server", "local": "192.0.2.2:9202", "peer": "192.0.2.1:40112",
                 "reason": "the handshake's ACK is on the wire and was dropped after the capture point; before the "
                 "request nothing the server sends (no SYN-ACK retransmission yet) shows it never got it"}],
    ),
    dict(
        name="simultaneous-close-with-data",
        description="As simultaneous-close, on port 9203 from 40113, with 200 ms of delay each way through "
        "scripts/kernel/delay.py (the capture on veth-s sees the client's segments as they reach the server and the "
        "server's 200 ms after the server sent them). After a request/response both applications write 3000 bytes "
        "and at once shutdown(SHUT_WR) at the same instant: each end's data and FIN leave before anything of the "
        "other's arrives (FIN-WAIT-1 with 3001 unacknowledged). 200 ms later each end gets the other's data and FIN "
        "while its own are unacknowledged: CLOSING; it ACKs them, and another 200 ms later gets the ACKs of its own "
        "(TIME-WAIT on both ends). No ARP (the TUN route needs none). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40113), server=ep(NS_S, S4, 9203), extra={},
        unseen=[{"moment": 2, "host": h, "local": l, "peer": p,
                 "reason": "both ends have written their data and FIN, which are still in delay.py's 200 ms on "
                 "each way out, before the capture point: nothing of the close is on the wire yet"}
                for h, l, p in (("client", "192.0.2.1:40113", "192.0.2.2:9203"),
                                ("server", "192.0.2.2:9203", "192.0.2.1:40113"))],
    ),
    dict(
        name="rst-after-fin-wait-2-timeout-reuse",
        description="The client namespace has net.ipv4.tcp_fin_timeout=2. A connection on port 9204 from 40114 "
        "(SO_REUSEADDR) exchanges a line and the client closes first (orphaned FIN-WAIT-2); the server application "
        "reads EOF and never closes it (CLOSE-WAIT). The client's FIN-WAIT-2 ends silently after 2 s (no packet). "
        "About 3.4 s after the close the client binds 40114 again and connects: its SYN (a new ISN) reaches the "
        "server's CLOSE-WAIT socket, which answers with a challenge ACK (RFC 5961 4.2, tcp_validate_incoming: its "
        "snd_nxt, rcv_nxt of the old connection); the client, in SYN-SENT, finds the ACK unacceptable and answers "
        "with an RST <SEQ=SEG.ACK>, which is at the server's rcv_nxt and resets its CLOSE-WAIT (tcp_reset: EPIPE, "
        "not ECONNRESET, in CLOSE-WAIT); the client's SYN timer, rearmed to TCP_TIMEOUT_MIN, retransmits the SYN "
        "about 10 ms later, which finds only the listener: a new connection on the same four-tuple, a line each way, "
        "and the client closes first 0.5 s later (the client TIME-WAIT, the server gone after LAST-ACK). " + CAP +
        "; a ping marks the end.",
        client=ep(NS_C, C4, 40114), server=ep(NS_S, S4, 9204), extra={"connection_reset": True},
        more={"sysctls": {"client": {"net.ipv4.tcp_fin_timeout": 2}}},
    ),
    # round 10
    dict(
        name="ipv6-syn-to-time-wait-low-isn",
        description="syn-to-time-wait-low-isn over IPv6, without the RST loss. The server namespace has the default "
        "net.ipv4.tcp_rfc1337=0 (it applies to IPv6 too). The client connects from [2001:db8::1]:40120 to "
        "[2001:db8::2]:9220, sends a line, and the server answers and closes first: the server TIME-WAIT, the client "
        "gone after LAST-ACK. scapy in the client namespace then sends a SYN on the same four-tuple whose sequence "
        "number is 100000 below the first connection's ISN (no timestamps): below the TIME-WAIT's rcv_nxt, so "
        "tcp_timewait_state_process answers it with a bare ACK (TCP_TW_ACK: its snd_nxt, rcv_nxt) instead of opening "
        "a new connection. The client's kernel, which has no socket for it, answers that ACK with an RST at its "
        "acknowledgment number (the TIME-WAIT's rcv_nxt), which reaches the server and kills its TIME-WAIT "
        "(tcp_rfc1337=0). 4 s after the first connection the client connects again from 40120 (its own SYN, a new "
        "ISN, with timestamps): nothing is left on the four-tuple, a new connection, and the server closes first "
        "again (the server TIME-WAIT). " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C6, 40120), server=ep(NS_S, S6, 9220), extra={"connection_reset": True},
    ),
    dict(
        name="icmp-port-unreachable-after-data",
        description="A connection on port 9221 from 40121 exchanges a line. Then nftables in the server's input "
        "rejects all the client sends to 9221 with ICMP port unreachable (after the capture point, see "
        "nft-server.txt) and the client sends a second request: an ICMP port unreachable in ESTABLISHED is only a "
        "soft error (tcp_v4_err keeps it in sk_err_soft, inet->recverr being off), the client stays ESTAB and "
        "retransmits, three ICMPs. The rule goes after about 1 s, the next retransmission gets through and is "
        "answered (SO_ERROR 0 afterwards); the client closes first 0.5 s later (client TIME-WAIT, the server gone "
        "after LAST-ACK). " + CAP + "; a ping marks the end.",
        # a soft ICMP error in ESTABLISHED is not an icmp_unreachable finding (only handshakes are): none here
        client=ep(NS_C, C4, 40121), server=ep(NS_S, S4, 9221), extra={},
    ),
    dict(
        name="rst-ack-in-syn-recv-from-client-app",
        description="nftables in the server's input drops all the client sends to port 9222 but SYNs and RSTs (after "
        "the capture point, see nft-server.txt). The client connects from 40122 to a listener that never accepts: "
        "the server answers the SYN and keeps a request in SYN-RECV, the client is ESTAB, and its handshake ACK "
        "(and its duplicate ACK to the SYN-ACK retransmitted at 1 s) never reach the server. About 1.7 s after the "
        "handshake the client application closes with SO_LINGER {1,0}: an RST/ACK from ESTABLISHED, its sequence "
        "number the request's rcv_nxt, so tcp_check_req drops the request (embryonic_reset, no answer): neither has "
        "a socket. " + CAP + "; a ping marks the end.",
        client=ep(NS_C, C4, 40122), server=ep(NS_S, S4, 9222), extra={"connection_reset": True},
    ),
]

FLAG_COLS = [
    "retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
    "lost_segment", "ack_lost_segment", "duplicate_ack", "keep_alive", "keep_alive_ack",
    "zero_window", "zero_window_probe", "zero_window_probe_ack", "window_update",
    "window_full", "reused_ports",
]


def rel(p):
    return os.path.relpath(p, ROOT)


def capture_info(path):
    """(format, link_type, precision, snaplen) read from the file itself."""
    with open(path, "rb") as f:
        b = f.read(1 << 16)
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        snaplen, linktype = struct.unpack_from("<II", b, 16)
        return "pcap", linktype & 0x0FFFFFFF, ("ns" if magic == b"\x4d\x3c\xb2\xa1" else "us"), snaplen
    if magic == b"\x0a\x0d\x0d\x0a":
        off = struct.unpack_from("<I", b, 4)[0]  # skip the SHB
        while off + 8 <= len(b):
            btype, blen = struct.unpack_from("<II", b, off)
            if btype == 1:
                body = b[off + 8: off + blen - 4]
                linktype, _, snaplen = struct.unpack_from("<HHI", body, 0)
                tsres, o = 6, 8
                while o + 4 <= len(body):
                    code, olen = struct.unpack_from("<HH", body, o)
                    if code == 0:
                        break
                    if code == 9:
                        v = body[o + 4]
                        tsres = v if v < 128 else None
                    o += 4 + ((olen + 3) & ~3)
                prec = {6: "us", 9: "ns"}.get(tsres, f"if_tsresol={tsres}")
                return "pcapng", linktype, prec, snaplen
            off += blen
    raise SystemExit(f"{path}: unknown capture format")


def capinfos_packets(path):
    out = subprocess.run(["capinfos", "-M", "-c", path], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Number of packets:\s*(\d+)", out).group(1))


def parse_ss(path):
    rows = []
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith(("State", "#")) or line[0].isspace():
                continue
            p = line.split()
            rows.append({"state": p[0], "local": p[3], "peer": p[4]})
    return rows


def ss_time(path):
    with open(path) as f:
        m = re.search(r"at epoch ([0-9.]+)", f.readline())
    return m.group(1) if m else None  # a string: keeps all nine decimals


def parse_moment(path):
    """moments/<n>-<host>.txt: "# moment n in namespace NS: LABEL", "# before T", ss -tanoH rows, "# after T".
    The manifest names the file and its times; readers parse the rows themselves."""
    m = {"file": rel(path)}
    with open(path) as f:
        for line in f:
            if line.startswith("# moment"):
                m["label"] = line.split(": ", 1)[1].strip()
            elif line.startswith("# before "):
                m["before"] = line.split()[2]
            elif line.startswith("# after "):
                m["after"] = line.split()[2]
    return m


def moments(d, e):
    """The moments taken during the scenario, then the end-of-capture ss as the last one."""
    out = []
    md = os.path.join(d, "moments")
    ns = sorted({int(f.split("-")[0]) for f in os.listdir(md)}) if os.path.isdir(md) else []
    for n in ns:
        c, s = (parse_moment(os.path.join(md, f"{n}-{h}.txt")) for h in ("client", "server"))
        s.pop("label")
        out.append({"moment": n, "label": c.pop("label"), "client": c, "server": s})
    end = {"moment": len(ns) + 1, "label": "end of capture (ss-client.txt, ss-server.txt)"}
    for h in ("client", "server"):
        end[h] = {"file": e["ss"][h], "before": e["ss_time_epoch"]}
    out.append(end)
    return out


def read_tsv(path):
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f if not l.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, l.split("\t"))) for l in lines[1:] if l]


def tshark_version(path):
    with open(path) as f:
        first = f.readline()
    m = re.match(r"# (.*?) \|", first)
    return m.group(1) if m else None


def anomalies(rows, extra, cap, name, d):
    a = {}
    for c in FLAG_COLS:
        n = sum(1 for r in rows if r.get("tcp.analysis." + c))
        if n:
            a[c] = n
    flags = [int(r["tcp.flags"], 16) for r in rows if r.get("tcp.flags")]
    rst = sum(1 for f in flags if f & 0x04)
    if rst:
        a["rst"] = rst
    syn_only = sum(1 for f in flags if f & 0x12 == 0x02)
    if name == "syn-flood":
        a["syn"] = syn_only
        a["syn_ack"] = sum(1 for f in flags if f & 0x12 == 0x12)
    # SACK blocks are not in the golden; counted with tshark for the loss scenario
    sack = subprocess.run(
        ["tshark", "-r", cap, "-n", "-Y", "tcp.options.sack_le", "-T", "fields", "-e", "frame.number"],
        capture_output=True, text=True, env={**os.environ, "WIRESHARK_CONFIG_DIR": "/nonexistent"},
    ).stdout.split()
    if sack:
        a["sack"] = len(sack)
    tc = os.path.join(d, "tc-client.txt")
    if os.path.exists(tc):
        m = re.search(r"\(dropped (\d+),", open(tc).read())
        if m:
            a["dropped_by_tbf"] = int(m.group(1))  # before the capture point: would be holes
    ns = os.path.join(d, "nstat-server.txt")
    if os.path.exists(ns):
        for line in open(ns):
            p = line.split()
            if len(p) >= 2 and p[0] == "TcpExtSyncookiesSent":
                a["syncookies_sent"] = int(p[1])
    nft = os.path.join(d, "nft-server.txt")
    if os.path.exists(nft):
        m = re.search(r"counter packets (\d+)", open(nft).read())
        if m:
            a["dropped_by_nft"] = int(m.group(1))
    a.update(extra)
    return a


def build():
    manifest = []
    versions = set()
    for sc in SCENARIOS:
        name = sc["name"]
        d = os.path.join(OUT, name)
        caps = [f for f in sorted(os.listdir(d)) if f.endswith((".pcap", ".pcapng"))] if os.path.isdir(d) else []
        if not caps:
            print(f"manifest: {name}: no capture, left out", file=sys.stderr)
            continue
        cap = os.path.join(d, caps[0])
        fmt, lt, prec, snap = capture_info(cap)
        tsv = os.path.join(d, "tshark.tsv")
        rows = read_tsv(tsv)
        versions.add(tshark_version(tsv))
        e = {
            "name": name,
            "capture": rel(cap),
            "format": fmt,
            "link_type": lt,
            "timestamp_precision": prec,
            "snaplen": snap,
            "description": sc["description"],
            "client": sc["client"],
            "server": sc["server"],
            **sc.get("more", {}),
            "ss": {"client": rel(os.path.join(d, "ss-client.txt")), "server": rel(os.path.join(d, "ss-server.txt"))},
            "ss_info": {
                "client": rel(os.path.join(d, "ss-client-info.txt")),
                "server": rel(os.path.join(d, "ss-server-info.txt")),
            },
            "ss_time_epoch": ss_time(os.path.join(d, "ss-server-info.txt")),
        }
        states, counts = [], {}
        for host in ("client", "server"):
            for r in parse_ss(os.path.join(d, f"ss-{host}.txt")):
                states.append({"host": host, **r})
                counts.setdefault(host, {})
                counts[host][r["state"]] = counts[host].get(r["state"], 0) + 1
        if not sc.get("summarise"):
            e["final_states"] = states
        e["state_counts"] = counts
        e["moments"] = moments(d, e)
        e["unseen"] = sc.get("unseen", [])
        e["anomalies"] = anomalies(rows, sc["extra"], cap, name, d)
        e["tshark"] = rel(tsv)
        e["tshark_frames"] = len(rows)
        e["packets"] = capinfos_packets(cap)
        if os.path.exists(os.path.join(d, "nft-client.txt")):
            e["nft_client"] = rel(os.path.join(d, "nft-client.txt"))
        if os.path.exists(os.path.join(d, "nstat-client.txt")):
            e["nstat_client"] = rel(os.path.join(d, "nstat-client.txt"))
        for key, fn in (("nft", "nft-server.txt"), ("tc", "tc-client.txt"), ("nstat", "nstat-server.txt")):
            if os.path.exists(os.path.join(d, fn)):
                e[key] = rel(os.path.join(d, fn))
        manifest.append(e)
    return manifest, versions


def fmt_states(e, host):
    c = e["state_counts"].get(host, {})
    if not c:
        return "(none: CLOSED)"
    if "final_states" in e:
        parts = []
        for s in e["final_states"]:
            if s["host"] == host:
                parts.append(f"{s['state']} {s['local']} ↔ {s['peer']}")
        return "<br>".join(parts)
    return ", ".join(f"{n} × {k}" for k, n in c.items())


def readme(manifest, versions):
    L = []
    L.append("# Kernel-made sample captures with `ss` ground truth")
    L.append("")
    L.append("Real Linux TCP between two network namespaces joined by a veth pair, captured with tcpdump. "
             "Just before each capture stops, `ss -tan` (and `ss -tanoi`) is taken in **both** namespaces: "
             "that is each endpoint's true state, to check what tcpstate infers from the capture alone.")
    L.append("")
    L.append("Generated files: do not edit by hand. Everything here is rewritten by the generator.")
    L.append("")
    L.append("## Regenerate")
    L.append("")
    L.append("```sh")
    L.append("sudo bash scripts/kernel/make-samples.sh            # all scenarios, about 1 minute")
    L.append("sudo bash scripts/kernel/make-samples.sh keepalive  # only some (the manifest keeps the others)")
    L.append("```")
    L.append("")
    L.append("Needs root, network namespaces, and `iproute2 tcpdump tshark hping3 nftables ethtool python3 iputils-ping` "
             "(Debian package names). Without them it prints `skipped: ...` and exits 0. "
             "`scripts/kernel/tshark-golden.sh` rewrites only the goldens; `scripts/kernel/manifest.py` only "
             "this README and `manifest.json`. Captures differ on every run (ISNs, timing, random loss), so "
             "regenerate all three together.")
    L.append("")
    L.append("## Setup")
    L.append("")
    L.append(f"* Namespaces `{NS_C}` (veth-c, {C4}/24, {C6}/64, MAC 02:00:00:00:02:01) and "
             f"`{NS_S}` (veth-s, {S4}/24, {S6}/64, MAC 02:00:00:00:02:02); no default route, so nothing "
             "leaves them. The SYN-flood's spoofed sources are 192.0.2.128-151.")
    L.append("* Every socket of `peer.py` uses CUBIC (setsockopt TCP_CONGESTION; a namespace inherits "
             "the host's default, which may be bbr, and may not change it).")
    L.append("* Offloads off on both ends (`ethtool -K tso off gso off gro off tx off rx off`): wire-sized "
             "segments, correct checksums.")
    L.append("* tcpdump runs in the server namespace on veth-s (`-i any` for sll2-any) with "
             "`--immediate-mode`, snaplen 128 (96 for bulk-loss, syn-flood, time-wait-pileup) and the filter "
             "`tcp or arp or icmp or icmp6` (none for sll2-any).")
    L.append("* Peers are `scripts/kernel/peer.py` (Python standard library); loss is nftables "
             "`numgen random mod 20 0 drop` in the server's input hook (see `bulk-loss/nft-server.txt` for "
             "the real drop count); the flood is hping3 with `-a` per spoofed source; ICMP errors are nftables "
             "`reject with icmp type ...` (icmpv6 for IPv6) in the input hook of the namespace that answers.")
    L.append("* Delay (simultaneous-close, accept-queue-overflow, simultaneous-open, abort-on-overflow, icmp-host-unreachable, tcp-fast-open, simultaneous-close-with-data): the kernel these were made on has no sch_netem, so each namespace "
             "routes the peer's address through `scripts/kernel/delay.py`, a TUN device whose reader holds "
             "every IPv4 packet for a fixed time and then sends it on the veth end (AF_PACKET); like netem on "
             "the veth end, the capture sees a packet when it leaves the delay.")
    L.append("")
    L.append("## Files per scenario (`samples/kernel/<name>/`)")
    L.append("")
    L.append("| file | what |")
    L.append("|---|---|")
    L.append("| `<name>.pcap` / `<name>.pcapng` | the capture |")
    L.append("| `ss-client.txt`, `ss-server.txt` | `ss -tan` in each namespace, just before the capture stopped |")
    L.append("| `ss-client-info.txt`, `ss-server-info.txt` | `ss -tanoi` at the same moment (timers, cwnd, rtt, ...); first line gives the epoch time |")
    L.append("| `moments/<n>-client.txt`, `moments/<n>-server.txt` | timeline scenarios: `ss -tanoH` in each namespace at moment n during the scenario; `# before <epoch>` and `# after <epoch>` (`date +%s.%N`, the clock of the capture's timestamps) bracket the moment the kernel's table was read |")
    L.append("| `nft-client.txt` | the nftables table of the client namespace with its drop counter, where a scenario drops on the client's output |")
    L.append("| `tshark.tsv` | tshark golden: line 1 `# <tshark --version | head -1> | options`, line 2 the header, then one line per TCP frame |")
    L.append("| `nft-server.txt`, `tc-client.txt` | the nftables table of the server namespace with its drop counter (bulk-loss, ipv6-loss and the scenarios that drop on the server's input); the tbf bottleneck with its drop counter (bulk-loss, ipv6-loss, icmpv6-packet-too-big) |")
    L.append("| `nstat-server.txt` | syn-flood, accept-queue-overflow, syn-backlog-full-no-cookies, abort-on-overflow: the server's SYN-cookie and listen-queue counters |")
    L.append("| `nstat-client.txt` | icmp-port-unreachable, icmpv6-admin-prohibited, icmp-host-unreachable: the client's ICMP counters (TcpExtLockDroppedIcmps: ICMP errors that came while the socket was owned by the application) |")
    L.append("| `ss-K-server.txt`, `ss-K-client.txt` | socket-killed, server-lost-socket, keepalive-to-rebooted-peer (server), client-lost-socket-reconnect, nat-port-reuse (client): what `ss -K` printed for the socket it destroyed |")
    L.append("| `route-client.txt` | icmpv6-packet-too-big: `ip -6 route get` of the server in the client namespace at the end (the path MTU the Packet Too Big left) |")
    L.append("")
    L.append("The golden follows `shared/design/tcp-analysis-rules.md` §8: one pass, empty profile, "
             "`tcp.analyze_sequence_numbers`, `tcp.relative_sequence_numbers`, `tcp.calculate_timestamps`, "
             "`tcp.track_bytes_in_flight`, `tcp.fastrt_supersedes_ooo` TRUE, `tcp.desegment_tcp_streams` FALSE, "
             "display filter `tcp and not icmp and not icmpv6` (so ARP/NDP/MLD frames have no line; "
             "`frame.number` is the capture's own), `-E occurrence=f`. Columns: frame.number, "
             "frame.time_epoch, src (ip.src or ipv6.src), srcport, dst, dstport, tcp.stream, tcp.flags (hex), "
             "tcp.seq_raw, tcp.ack_raw, tcp.len, tcp.window_size_value, then every `tcp.analysis.*` flag "
             "(`1` or empty; duplicate_ack_num/duplicate_ack_frame are numbers), then "
             "tcp.window_size_scalefactor and tcp.analysis.initial_rtt.")
    L.append("")
    L.append(f"tshark: {', '.join(sorted(v for v in versions if v))}.")
    L.append("")
    L.append("## Moments")
    L.append("")
    L.append("Every entry of `manifest.json` lists its `moments`: those taken during the scenario "
             "(`moments/`, 2-4 for the timeline scenarios, none for the first 13, whose captures predate them) "
             "and, last, the end-of-capture ss. `test/census-timeline.test.ts` and "
             "`node dist/scripts/kernel/timeline.js` compare `tcpstate census --at <before>` with each of "
             "them, host by host; `unseen` lists the endpoints the wire cannot show at that moment, with the "
             "reason. `sysctls` gives a namespace's non-default TCP settings.")
    L.append("")
    L.append("## Scenarios")
    L.append("")
    for e in manifest:
        L.append(f"* **{e['name']}** (`{e['capture']}`, {e['format']}, link type {e['link_type']}, "
                 f"{e['timestamp_precision']}, {e['packets']} packets): {e['description']}")
    L.append("")
    L.append("## Final states (from ss)")
    L.append("")
    L.append("A socket that is gone (CLOSED) does not appear in ss. LISTEN sockets are shown when the server still had one.")
    L.append("")
    L.append("| scenario | client | server |")
    L.append("|---|---|---|")
    for e in manifest:
        L.append(f"| {e['name']} | {fmt_states(e, 'client')} | {fmt_states(e, 'server')} |")
    L.append("")
    L.append("## Anomalies")
    L.append("")
    L.append("Counts of frames with each `tcp.analysis.*` flag in the golden (`retransmission` includes the "
             "fast and spurious ones; `window_update` is informational), `rst` = frames with RST, `sack` = "
             "frames carrying SACK blocks, `syncookies_sent` = the server's TcpExtSyncookiesSent, `dropped_by_nft` = segments the nft rule really dropped, plus "
             "scenario-level findings a user should be shown.")
    L.append("")
    L.append("| scenario | anomalies |")
    L.append("|---|---|")
    for e in manifest:
        a = ", ".join(f"{k}: {json.dumps(v)}" for k, v in e["anomalies"].items()) or "(none)"
        L.append(f"| {e['name']} | {a} |")
    L.append("")
    L.append("Notes:")
    L.append("")
    L.append("* Linux probes a zero window with a zero-length segment at snd_una-1; tshark 4.0.17 calls that "
             "`keep_alive` (and the reply `zero_window`), not `zero_window_probe` (rules §10, zephyr #47966).")
    L.append("* bulk-loss is captured in front of the drop, so every dropped segment is in the capture and "
             "followed by SACKed dup ACKs and its retransmission (`dropped_by_nft` = real losses). The "
             "capture has no holes, so no `lost_segment`; `dropped_by_tbf` would count losses before the "
             "capture point and is 0.")
    L.append("* hping3 SYNs carry a random non-zero ack number without the ACK flag (tshark expert note).")
    L.append("")
    return "\n".join(L)


def main():
    manifest, versions = build()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(readme(manifest, versions))
    print(f"==> manifest: {len(manifest)} scenarios -> {rel(os.path.join(OUT, 'manifest.json'))}, README.md")


if __name__ == "__main__":
    main()
