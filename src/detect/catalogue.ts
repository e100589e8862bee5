/**
 * What each finding kind means, its likely causes and what to check: shown by
 * `tcpstate explain KIND` and in reports.
 */
export interface KindInfo {
  title: string;
  meaning: string;
  causes: string[];
  check: string[];
}

export const KINDS: Record<string, KindInfo> = {
  connection_refused: {
    title: 'Connection refused',
    meaning:
      'A SYN was answered by a RST: the host is up and refused the connection (ECONNREFUSED). Usually nothing listens on that port; when the finding says the port accepted other connections in the capture, something did listen, and its backlog was full, a firewall sent the RST, or the service was restarting.',
    causes: ['the service is down, restarting or listening on another port or address', 'a firewall rejecting with TCP RST', 'a client configured with the wrong port'],
    check: ['`ss -tlnp` on the server: is the port in LISTEN, on the right address?', 'service logs around the time of the RSTs', 'firewall rules with REJECT --reject-with tcp-reset'],
  },
  connection_reset: {
    title: 'Connection reset',
    meaning: 'An established or closing connection was ended by a RST the receiver accepted, instead of a FIN exchange.',
    causes: [
      'the application closed with unread data, or set SO_LINGER 0 (an abortive close)',
      'a process was killed or crashed; a host restarted',
      'a firewall, NAT or load balancer forgot the connection (idle timeout) and reset it',
    ],
    check: ['which side sent it, and after whose data (the finding says)', 'application logs for errors or timeouts at that moment', 'idle timeouts of middleboxes versus the connection\'s idle time; TCP keep-alives'],
  },
  icmp_unreachable: {
    title: 'Handshake ended by an ICMP error',
    meaning:
      'An ICMP or ICMPv6 error (destination unreachable, administratively prohibited, time exceeded, parameter problem) quoting a handshake segment reached its sender, and the kernel took it as Linux does: a connect() in SYN-SENT fails at once (port unreachable ECONNREFUSED, host unreachable EHOSTUNREACH, network unreachable ENETUNREACH, prohibited EHOSTUNREACH or, over IPv6, EACCES) with no TCP packet; a server\'s half-open request (SYN-RECV) is dropped silently by the kinds that abort it (IPv4: network or host unreachable, time exceeded, parameter problem; IPv6: port unreachable, prohibited, parameter problem). The same errors for an established connection are soft: reported to the application, the connection goes on, so they are not findings.',
    causes: ['a firewall REJECT rule (iptables REJECT answers with port unreachable unless told otherwise)', 'the host is down: its last router gets no ARP or neighbour answer (host unreachable)', 'no route to the network on a router (network unreachable)', 'a routing loop or a hop limit too small (time exceeded)'],
    check: ['the finding says whether the error came from the peer\'s own address or a router on the way', 'firewall rules on the host and the path (REJECT, reject with icmp)', '`ip route get ADDRESS` and traceroute towards the peer', 'is the peer up (ping, `ip neigh` on its last hop)?'],
  },
  syn_unanswered: {
    title: 'SYN never answered',
    meaning:
      'A client sent SYNs (retransmitting with backoff) and got neither a SYN-ACK nor a RST: connect() timed out. One begun within the end grace of the end of the capture (`--end-grace`, 3 s) is undetermined (info): its answer may have come after the capture ended.',
    causes: ['the server host is down or unreachable', 'a firewall silently dropping (DROP rather than REJECT)', 'a full listen queue with SYN cookies disabled', 'a routing problem on the way back'],
    check: ['is the server reachable (ping, traceroute)?', 'firewall rules on the path and on the host (DROP)', '`nstat TcpExtListenDrops TcpExtListenOverflows` on the server', '`net.ipv4.tcp_syn_retries` for how long clients try'],
  },
  synack_unanswered: {
    title: 'SYN-ACK never acknowledged',
    meaning:
      'A server answered a SYN with SYN-ACKs and the client never completed the handshake. One begun within the end grace of the end of the capture (`--end-grace`, 3 s) is undetermined (info): the ACK may have come after the capture ended.',
    causes: ['spoofed SYNs (a SYN flood)', 'the client gave up or vanished', 'the SYN-ACK or the ACK was lost on an asymmetric path'],
    check: ['many at once from many sources: see syn_flood', '`net.ipv4.tcp_synack_retries`', 'the return path from server to client'],
  },
  stuck_close_wait: {
    title: 'Stuck in CLOSE_WAIT',
    meaning:
      'The peer closed its side (its FIN arrived) and the local application did not close its socket for too long: the kernel keeps the socket in CLOSE_WAIT until close() is called, and the peer sits in FIN_WAIT_2.',
    causes: ['the application forgot to close the socket on EOF (read() returned 0)', 'a thread or connection pool blocked or leaking connections', 'a long task before the close'],
    check: ['`ss -tanp state close-wait` on that host: which process holds them?', 'the code path that handles EOF or errors on the connection: is close() always called?', 'connection-pool settings and leaks', 'on the peer, `net.ipv4.tcp_fin_timeout` bounds FIN_WAIT_2 for orphaned sockets only'],
  },
  retransmission: {
    title: 'Retransmission (Wireshark: TCP Retransmission)',
    meaning: 'A segment carrying data (or SYN/FIN) already sent once: the sender did not see it acknowledged in time. Fast and spurious retransmissions are retransmissions too.',
    causes: ['packet loss on the path (congestion, a bad link, a full queue)', 'a delayed or lost ACK', 'a receiver too slow to acknowledge'],
    check: ['where the loss is: capture on both ends if you can', 'interface errors and drops (`ip -s link`, `ethtool -S`)', 'queueing and shaping on the path'],
  },
  fast_retransmission: {
    title: 'Fast retransmission',
    meaning: 'A retransmission triggered by duplicate ACKs (the receiver saw a gap) rather than by a timeout.',
    causes: ['a single lost segment in a flow of data', 'reordering on the path mistaken for loss'],
    check: ['the duplicate ACKs and SACK blocks before it', 'reordering on multipath links (ECMP, bonding)'],
  },
  spurious_retransmission: {
    title: 'Spurious retransmission',
    meaning: 'A retransmission of data the receiver had already acknowledged: the original arrived, its ACK was late or lost.',
    causes: ['a retransmission timer shorter than the real RTT (RTT spikes, bufferbloat)', 'lost ACKs'],
    check: ['RTT variation on the path', 'ACK loss in the reverse direction'],
  },
  out_of_order: {
    title: 'Out-of-order segment',
    meaning: 'A segment arrived with a lower sequence number than one already seen, soon after it: reordering rather than a retransmission.',
    causes: ['multipath routing, link aggregation', 'packet processing on several queues or cores'],
    check: ['ECMP and bonding configuration', 'whether the capture point itself reorders (several capture interfaces merged)'],
  },
  lost_segment: {
    title: 'Previous segment not captured',
    meaning: 'A sequence gap: data before this segment never passed the capture point.',
    causes: ['real loss before the capture point', 'the capture dropped packets (capture buffer, snaplen on a busy link)', 'the capture started mid-transfer'],
    check: ['tcpdump/dumpcap drop counters ("packets dropped by kernel")', 'whether the gap is later retransmitted (real loss) or ACKed anyway (capture loss)'],
  },
  ack_lost_segment: {
    title: 'ACKed unseen segment',
    meaning: 'An ACK covers data that never passed the capture point: the data took another path or the capture missed it.',
    causes: ['the capture dropped packets', 'asymmetric routing around the capture point', 'offloading (TSO/GRO) on the capturing host'],
    check: ['capture drop counters', 'the capture point: does it see both directions?', '`ethtool -k` offloads on the capturing host'],
  },
  duplicate_ack: {
    title: 'Duplicate ACK',
    meaning: 'The receiver acknowledged the same point again: it got later data but misses something before it.',
    causes: ['a lost or reordered segment (three duplicates trigger a fast retransmission)'],
    check: ['the SACK blocks: what the receiver holds beyond the gap', 'the retransmission that should follow'],
  },
  keep_alive: {
    title: 'Keep-alive',
    meaning: 'A segment one byte before the next expected sequence number, to check the peer is alive (TCP keep-alive, or a Linux zero-window probe).',
    causes: ['SO_KEEPALIVE on an idle connection', 'a zero window being probed'],
    check: ['`net.ipv4.tcp_keepalive_time/intvl/probes` or the socket options', 'a zero window just before'],
  },
  keep_alive_ack: {
    title: 'Keep-alive ACK',
    meaning: "The peer answered a keep-alive: it is alive.",
    causes: ['normal answer to a keep-alive'],
    check: ['nothing, unless they are missing'],
  },
  zero_window: {
    title: 'Zero window',
    meaning: 'The receiver advertised a window of zero: its receive buffer is full and the sender must stop.',
    causes: ['the receiving application does not read fast enough, or stopped reading', 'a small receive buffer'],
    check: ['the receiving process: blocked, busy, or not reading?', 'Recv-Q in `ss -tn` on the receiver', '`net.ipv4.tcp_rmem` and SO_RCVBUF'],
  },
  zero_window_probe: {
    title: 'Zero-window probe',
    meaning: 'The sender probes a zero window with one byte to learn when it opens again.',
    causes: ['a zero window that lasts'],
    check: ['why the receiver is not reading (see zero_window)'],
  },
  zero_window_probe_ack: {
    title: 'Zero-window probe ACK',
    meaning: 'The receiver answered a zero-window probe, usually still with a zero window.',
    causes: ['normal answer to a probe'],
    check: ['how long the window stays closed'],
  },
  window_update: {
    title: 'Window update',
    meaning: 'A pure ACK that only moves the advertised window: the receiver made room.',
    causes: ['normal flow control, often after a zero or small window'],
    check: ['nothing on its own'],
  },
  window_full: {
    title: 'Window full',
    meaning: "The sender filled the receiver's whole advertised window: it cannot send more until the receiver acknowledges or opens the window.",
    causes: ['a receiver window smaller than the bandwidth-delay product', 'a slow receiver'],
    check: ['window scaling on both SYNs', '`net.ipv4.tcp_rmem` on the receiver', 'the receiving application'],
  },
  reused_ports: {
    title: 'Port numbers reused',
    meaning: 'A new SYN on a 4-tuple already used earlier in the capture: a new connection with the same ports.',
    causes: ['a client cycling through a small port range', 'TIME_WAIT reuse (`tcp_tw_reuse`)', 'a NAT reusing ports'],
    check: ['time_wait_pileup and port_exhaustion_risk findings', 'the ephemeral port range'],
  },
  unresponsive_peer: {
    title: 'Unresponsive peer',
    meaning:
      'One side kept retransmitting data with growing intervals (exponential backoff) and the other never acknowledged it: the peer is gone while the sender still believes the connection is open (a half-open connection).',
    causes: ['the peer host crashed, rebooted or lost its network', 'a firewall or NAT dropped the connection state and now drops its packets', 'a routing change or a broken link on the path'],
    check: ['is the peer alive and reachable?', 'middlebox idle timeouts; TCP keep-alives to detect dead peers sooner', '`net.ipv4.tcp_retries2` (how long Linux retransmits before giving up, about 15 min by default)'],
  },
  syn_flood: {
    title: 'SYN flood',
    meaning:
      'Many half-open connection attempts at one listener within a second: SYNs whose handshake never completed. A flood from spoofed sources fills the listen queue; the kernel then answers with SYN cookies (no state kept) or drops SYNs.',
    causes: ['a denial-of-service attack with spoofed sources', 'a misbehaving client or load balancer health check in a loop', 'a return path that loses the SYN-ACKs (asymmetric routing)'],
    check: [
      '`net.ipv4.tcp_syncookies` (1: cookies when the queue is full) and `nstat TcpExtSyncookiesSent TcpExtListenDrops`',
      'the listen backlog (`listen()` argument, `net.core.somaxconn`, `net.ipv4.tcp_max_syn_backlog`)',
      'the sources: many addresses (spoofed) or a few (a broken client)?',
      'rate limiting or SYN proxying upstream',
    ],
  },
  connections_evicted: {
    title: 'Connections evicted at the memory budget',
    meaning:
      'More connections were open at once than the memory budget allows (`--max-connections`, 1,000,000 by default, about 2 KB each at most), so the least recently seen were no longer followed: each such connection ends at that moment with end_reason `evicted` (in flows, and in Zeek\'s conn.log as Zeek logs a removed connection), its endpoints\' states are known up to its last packet only (the census and the state timeline leave it out after), and a later packet of it starts a new connection picked up mid-stream. A connection never evicted is analysed as without a budget.',
    causes: ['a capture of a very busy host (many connections open, or in TIME_WAIT, at once)', 'a flood of connection attempts from many sources', 'a budget set low on purpose to bound memory'],
    check: ['the finding\'s first frame: where the budget was reached', 'rerun with a larger `--max-connections` (about 2 KB of memory per connection) when the evicted connections matter', '`SELECT count(*) FROM flows WHERE end_reason = \'evicted\'`'],
  },
  time_wait_pileup: {
    title: 'TIME_WAIT pile-up',
    meaning:
      'A host held many connections in TIME_WAIT at once. TIME_WAIT belongs to the side that closes first and lasts 60 s on Linux; each one holds a 4-tuple, so a host opening and closing connections quickly to one peer can run out of them.',
    causes: ['a server that closes first (HTTP/1.0 without keep-alive, a proxy)', 'short-lived connections where keep-alive or pooling would do', 'a client hammering one destination'],
    check: ['`ss -tan state time-wait | wc -l` on that host', 'enable keep-alive or connection pooling; let the client close first', '`net.ipv4.tcp_tw_reuse` (for outgoing connections) and the ephemeral port range'],
  },
  port_exhaustion_risk: {
    title: 'Ephemeral port exhaustion risk',
    meaning:
      'A client used a large share of its ephemeral port range towards one destination within one TIME_WAIT period: every closed connection keeps its port busy for 60 s, so new connections soon fail with EADDRNOTAVAIL.',
    causes: ['no connection reuse (keep-alive, pooling) towards a busy backend', 'a retry storm', 'the client closes first and keeps every TIME_WAIT'],
    check: ['`net.ipv4.ip_local_port_range`', 'connection pooling and keep-alive in the client', '`net.ipv4.tcp_tw_reuse`', 'spreading over more destination addresses or ports'],
  },
};

export function explain(kind: string): string | null {
  const k = KINDS[kind];
  if (k === undefined) return null;
  return [
    `${kind}: ${k.title}`,
    '',
    k.meaning,
    '',
    'Likely causes:',
    ...k.causes.map((c) => `  - ${c}`),
    '',
    'What to check:',
    ...k.check.map((c) => `  - ${c}`),
    '',
  ].join('\n');
}
