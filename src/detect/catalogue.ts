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
    meaning: 'A SYN was answered by a RST: the host is up but nothing listens on that port (ECONNREFUSED).',
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
  syn_unanswered: {
    title: 'SYN never answered',
    meaning: 'A client sent SYNs (retransmitting with backoff) and got neither a SYN-ACK nor a RST: connect() timed out.',
    causes: ['the server host is down or unreachable', 'a firewall silently dropping (DROP rather than REJECT)', 'a full listen queue with SYN cookies disabled', 'a routing problem on the way back'],
    check: ['is the server reachable (ping, traceroute)?', 'firewall rules on the path and on the host (DROP)', '`nstat TcpExtListenDrops TcpExtListenOverflows` on the server', '`net.ipv4.tcp_syn_retries` for how long clients try'],
  },
  synack_unanswered: {
    title: 'SYN-ACK never acknowledged',
    meaning: 'A server answered a SYN with SYN-ACKs and the client never completed the handshake.',
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
