/**
 * Connection-level detectors, decided when a flow ends: refused connections,
 * resets, unanswered SYNs and SYN-ACKs, and CLOSE_WAIT that the application never
 * ended.
 */
import { formatEndpoint } from '../util/address.js';
import type { EndpointView, FlowView, IcmpInfo, Side } from '../tcp/rfc793/flow.js';
import { ICMP_NAMES, Icmp } from '../decode/icmp.js';
import { TcpState } from '../tcp/rfc793/tcp-state.js';
import type { Emit, Finding } from './finding.js';

/**
 * A connection attempt that failed, as numbers and the two endpoints: a SYN or SYN-ACK never
 * answered (half-open), or a SYN refused by a RST. Under a SYN flood there is one per spoofed
 * SYN, held until the host-level detectors know whether a flood covers it and what else the
 * listener did in the capture, so it is kept this small.
 */
export interface HalfOpen {
  kind: 'syn_unanswered' | 'synack_unanswered' | 'connection_refused';
  /** When the attempt began (the client's SYN): what a flood must cover. */
  attemptTs: number;
  flow: number;
  /** Where the finding shows: the first SYN or packet, or the refusing RST. */
  packet: number;
  ts: number;
  /** SYNs sent (syn_unanswered, connection_refused) or SYN-ACKs sent (synack_unanswered). */
  count: number;
  /** From the first packet to the last (µs). */
  spanUs: number;
  /**
   * Half-open only: µs from the attempt to the end of the capture when the capture ended within
   * the end grace of it (the answer may have come after: undetermined), else -1.
   */
  cutUs: number;
  /** Who sent the RST (connection_refused). */
  side: Side;
  clientAddr: string;
  clientPort: number;
  serverAddr: string;
  serverPort: number;
}

/** What the capture shows of the attempt's listener (its server address and port) over the whole capture. */
export interface ListenerRecord {
  /** Connections it accepted: handshakes completed, and connections already open when the capture began. */
  accepted: number;
  /** Attempts it answered with a SYN-ACK, completed or not. */
  answered: number;
}

/** A failed attempt as the detectors hold it: its two ends are its flow's, made into text only for its finding. */
export type FailedAttempt = Omit<HalfOpen, 'clientAddr' | 'clientPort' | 'serverAddr' | 'serverPort'>;

/**
 * Failed attempts go through here, so a SYN flood can absorb them and a refusal be told against its
 * listener's record; `flow`, the attempt's, is valid during the call only.
 */
export type DeferHalfOpen = (a: FailedAttempt, flow: FlowView) => void;

const count = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** The finding for a failed attempt, `listener`: what its listener did in the whole capture. */
export function halfOpenFinding(h: HalfOpen, listener: ListenerRecord = { accepted: 0, answered: 0 }, endGraceUs = DEFAULT_CONNECTION_THRESHOLDS.endGraceUs): Finding {
  const server = formatEndpoint(h.serverAddr, h.serverPort);
  const client = formatEndpoint(h.clientAddr, h.clientPort);
  if (h.kind === 'connection_refused') {
    // A refusal contradicts nothing only when the capture never saw the port take a connection.
    const why =
      listener.accepted > 0
        ? `, although port ${h.serverPort} accepted ${count(listener.accepted, 'connection')} in this capture: a full backlog, a firewall RST, or the service restarting`
        : listener.answered > 0
          ? `, although port ${h.serverPort} answered ${count(listener.answered, 'other SYN')} with a SYN-ACK in this capture: a full backlog, a firewall RST, or the service restarting`
          : `; nothing listens on port ${h.serverPort}`;
    return {
      kind: 'connection_refused',
      severity: 'warning',
      flow: h.flow,
      packet: h.packet,
      ts: h.ts,
      side: h.side,
      message: `${client} -> ${server} refused: RST answered the SYN${h.count > 1 ? ` (after ${h.count} SYNs)` : ''}${why}`,
      details: { client: h.clientAddr, server: h.serverAddr, port: h.serverPort, syns: h.count, accepted: listener.accepted, answered: listener.answered },
      ends: { client, server },
    };
  }
  // Cut by the end of the capture: whether the answer came is not in it.
  const cut =
    h.cutUs < 0
      ? null
      : `undetermined at end of capture: it began ${secs(h.cutUs)} before the capture ended (within the ${secs(endGraceUs)} end grace), so its answer may have come after`;
  const undetermined = h.cutUs < 0 ? {} : { undetermined: true, before_end_seconds: h.cutUs / 1e6 };
  if (h.kind === 'syn_unanswered') {
    return {
      kind: 'syn_unanswered',
      severity: cut === null ? 'warning' : 'info',
      flow: h.flow,
      packet: h.packet,
      ts: h.ts,
      side: 'client',
      message: `${client} -> ${server}: ${h.count} SYN${h.count === 1 ? '' : 's'} over ${secs(h.spanUs)}, ${cut ?? 'never answered (a connect timeout: the host is down, filtered, or the SYN was dropped)'}`,
      details: { syns: h.count, seconds: h.spanUs / 1e6, server: h.serverAddr, port: h.serverPort, ...undetermined },
      ends: { client, server },
    };
  }
  return {
    kind: 'synack_unanswered',
    severity: cut === null ? 'note' : 'info',
    flow: h.flow,
    packet: h.packet,
    ts: h.ts,
    side: 'server',
    message:
      cut === null
        ? `${server} answered ${client} with ${h.count} SYN-ACK${h.count === 1 ? '' : 's'} and never got the ACK (a spoofed or vanished client, or the SYN-ACK was lost)`
        : `${server} answered ${client} with ${h.count} SYN-ACK${h.count === 1 ? '' : 's'}, no ACK yet: ${cut}`,
    details: { synacks: h.count, client: h.clientAddr, server: h.serverAddr, port: h.serverPort, ...undetermined },
    ends: { client, server },
  };
}

export interface ConnectionThresholds {
  /** CLOSE_WAIT longer than this (µs) is stuck: the application did not call close(). */
  closeWaitUs: number;
  /** Data retransmitted and unacknowledged for this long or longer (µs) means the peer is gone. */
  unresponsiveUs: number;
  /** ...with at least this many retransmissions (a backoff, not one lost segment). */
  unresponsiveRetransmissions: number;
  /**
   * A half-open attempt begun less than this (µs) before the end of the capture is undetermined
   * (info), not a finding: its answer may have come after (a few initial RTOs of 1 s).
   */
  endGraceUs: number;
}

export const DEFAULT_CONNECTION_THRESHOLDS: ConnectionThresholds = { closeWaitUs: 5_000_000, unresponsiveUs: 10_000_000, unresponsiveRetransmissions: 3, endGraceUs: 3_000_000 };

const secs = (us: number) => `${(us / 1e6).toFixed(us < 10e6 ? 2 : 0)} s`;

export function connectionFindings(
  flow: FlowView,
  endTs: number,
  emit: Emit,
  t: ConnectionThresholds = DEFAULT_CONNECTION_THRESHOLDS,
  deferHalfOpen: DeferHalfOpen = (a, f) => emit(halfOpenFinding({ ...a, ...attemptEnds(f) }, undefined, t.endGraceUs)),
): void {
  const c = flow.client;
  const s = flow.server;
  const r = flow.resetInfo;

  if (r !== null && r.receiverState === TcpState.SYN_SENT) {
    // Worded at the end of the capture, once the listener's record is known.
    deferHalfOpen({ kind: 'connection_refused', packet: r.frame, ts: r.ts, side: r.sentBy, count: c.synsSent, spanUs: flow.lastTs - flow.firstTs, cutUs: -1, flow: flow.id, attemptTs: c.synTs || flow.firstTs }, flow);
  } else if (r !== null) {
    const by = r.sentBy === 'client' ? c : s;
    const cause = r.afterPeerData
      ? 'it followed data from the peer: an abortive close (the application closed with unread data, or SO_LINGER 0)'
      : r.senderHadNoSocket
        ? 'it answered a segment for a connection its sender had no socket for (a RST without ACK): a crash or restart of that host, its socket destroyed without a packet, or a firewall/NAT that forgot the connection'
        : r.senderHadDataInFlight
        ? 'it came while the sender was still sending: an abort (SO_LINGER 0, a killed process)'
        : r.receiverWindowZero
          ? 'it came while the sender was held back by a zero window with data still to send: an abort (SO_LINGER 0, a killed process, a timeout in the application)'
          : 'it came from nowhere: a crash, a restarted host, or a firewall/NAT that forgot the connection';
    emit({
      kind: 'connection_reset',
      severity: r.senderState === TcpState.ESTABLISHED || r.senderState === TcpState.CLOSE_WAIT ? 'warning' : 'note',
      flow: flow.id,
      packet: r.frame,
      ts: r.ts,
      side: r.sentBy,
      message: `${r.sentBy} ${formatEndpoint(by.addr, by.port)} reset the connection in ${r.senderState} (peer in ${r.receiverState}) after ${c.payloadBytes} bytes from the client and ${s.payloadBytes} from the server; ${cause}`,
      details: {
        sent_by: r.sentBy,
        sender_state: r.senderState,
        receiver_state: r.receiverState,
        client_bytes: c.payloadBytes,
        server_bytes: s.payloadBytes,
        after_peer_data: r.afterPeerData,
        sender_had_data_in_flight: r.senderHadDataInFlight,
        receiver_window_zero: r.receiverWindowZero,
        sender_had_no_socket: r.senderHadNoSocket,
      },
    });
  }

  const icmp = flow.icmpInfo;
  if (icmp !== null) emit(icmpFinding(flow, icmp));

  if (c.state === TcpState.SYN_SENT && r === null) {
    // Still in the handshake when the capture ended, begun within the grace of its end: cut, not failed.
    const age = flow.endTs - (c.synTs || flow.firstTs);
    const cutUs = flow.endReason === 'end_of_capture' && age < t.endGraceUs ? age : -1;
    const span = flow.lastTs - flow.firstTs;
    if (s.synAcks === 0) {
      deferHalfOpen({ kind: 'syn_unanswered', packet: c.synFrame || flow.firstPacket, ts: c.synTs || flow.firstTs, count: c.synsSent, spanUs: span, cutUs, side: 'client', flow: flow.id, attemptTs: c.synTs || flow.firstTs }, flow);
    } else {
      deferHalfOpen({ kind: 'synack_unanswered', packet: flow.firstPacket, ts: flow.firstTs, count: s.synAcks, spanUs: span, cutUs, side: 'server', flow: flow.id, attemptTs: c.synTs || flow.firstTs }, flow);
    }
  }
  closeWait(flow, s, c, endTs, emit, t);
  closeWait(flow, c, s, endTs, emit, t);
  unresponsive(flow, c, s, emit, t);
  unresponsive(flow, s, c, emit, t);
}

/** By Icmp kind (decode/icmp.ts): the error connect() returns on Linux, and what usually sends it. */
const ICMP_ERRNO = ['', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNREFUSED', 'EHOSTUNREACH', 'EHOSTUNREACH or another', 'EHOSTUNREACH', 'EPROTO'];
const ICMP_WHY = [
  '',
  'a router has no route to the network',
  'the host is down or does not answer ARP/neighbour discovery on its last hop, or a firewall rejected with host unreachable',
  'a firewall REJECT rule (Linux itself answers a closed TCP port with a RST; iptables REJECT sends port unreachable by default)',
  'a firewall rejected it (REJECT with admin-prohibited, or a route of type prohibit)',
  'a router or the host could not deliver it',
  'a routing loop, or a TTL/hop limit too small for the path',
  'a router or the host found a bad header field',
];

/** The finding for an ICMP error that ended an end's handshake: a failed connect, or a request dropped. */
function icmpFinding(flow: FlowView, icmp: IcmpInfo): Finding {
  const c = flow.client;
  const s = flow.server;
  const client = formatEndpoint(c.addr, c.port);
  const server = formatEndpoint(s.addr, s.port);
  const what = `ICMP ${ICMP_NAMES[icmp.kind]} (frame ${icmp.frame})`;
  const from = icmp.fromPeer ? `from the ${icmp.side === 'client' ? 'server' : 'client'}'s address` : 'from a router on the way';
  const details = { icmp: ICMP_NAMES[icmp.kind], icmp_frame: icmp.frame, from_peer: icmp.fromPeer };
  if (icmp.side === 'client') {
    return {
      kind: 'icmp_unreachable',
      severity: 'warning',
      flow: flow.id,
      packet: icmp.frame,
      ts: icmp.ts,
      side: 'client',
      message: `${client} -> ${server}: connect() failed (${icmp.kind === Icmp.PROHIBITED && flow.ipVersion === 6 ? 'EACCES' : ICMP_ERRNO[icmp.kind]}): ${what} ${from} answered its SYN${c.synsSent > 1 ? ` (after ${c.synsSent} SYNs)` : ''}; ${ICMP_WHY[icmp.kind]}`,
      details: { ...details, syns: c.synsSent, server: s.addr, port: s.port },
      ends: { client, server },
    };
  }
  return {
    kind: 'icmp_unreachable',
    severity: 'note',
    flow: flow.id,
    packet: icmp.frame,
    ts: icmp.ts,
    side: 'server',
    message: `${server} dropped its half-open connection from ${client}: ${what} ${from} answered its SYN-ACK${icmp.count > 1 ? ` (${icmp.count} requests dropped so: each SYN sent again made a new one)` : ''}; ${ICMP_WHY[icmp.kind]}`,
    details: { ...details, requests: icmp.count, client: c.addr, port: s.port },
    ends: { client, server },
  };
}

/** A failed attempt's two ends, as text: made for its finding only. */
function attemptEnds(flow: FlowView): Pick<HalfOpen, 'clientAddr' | 'clientPort' | 'serverAddr' | 'serverPort'> {
  const c = flow.client;
  const s = flow.server;
  return { clientAddr: c.addr, clientPort: c.port, serverAddr: s.addr, serverPort: s.port };
}

/** e kept retransmitting data that its peer never acknowledged. */
function unresponsive(flow: FlowView, e: EndpointView, peer: EndpointView, emit: Emit, t: ConnectionThresholds): void {
  if (e.unackedSince < 0 || e.retransmissionsUnacked < t.unresponsiveRetransmissions) return;
  const span = e.lastRetransmissionTs - e.unackedSince;
  if (span < t.unresponsiveUs || flow.resetInfo !== null) return;
  emit({
    kind: 'unresponsive_peer',
    severity: 'error',
    flow: flow.id,
    packet: e.unackedFrame,
    ts: e.unackedSince,
    side: e.side,
    message: `${e.side} ${formatEndpoint(e.addr, e.port)} retransmitted ${e.retransmissionsUnacked} times over ${secs(span)} and ${formatEndpoint(peer.addr, peer.port)} never acknowledged: the peer is dead or unreachable (a half-open connection)`,
    details: { retransmissions: e.retransmissionsUnacked, seconds: span / 1e6, peer: formatEndpoint(peer.addr, peer.port) },
  });
}

/** e received its peer's FIN and did not send its own for too long. */
function closeWait(flow: FlowView, e: EndpointView, peer: EndpointView, endTs: number, emit: Emit, t: ConnectionThresholds): void {
  if (e.closeWaitSince < 0) return;
  const until = e.closeWaitUntil >= 0 ? e.closeWaitUntil : endTs;
  const stuck = until - e.closeWaitSince;
  const still = e.closeWaitUntil < 0 && e.state === TcpState.CLOSE_WAIT;
  // Longer than the threshold is stuck, as documented. Still in CLOSE_WAIT when the capture ends
  // is said whatever its age (a note under the threshold): a short capture of a stuck server shows no more.
  if (stuck <= t.closeWaitUs && !still) return;
  const peerState = peer.state === TcpState.FIN_WAIT_2 ? ', its peer waiting in FIN_WAIT_2' : '';
  emit({
    kind: 'stuck_close_wait',
    severity: stuck <= t.closeWaitUs ? 'note' : still ? 'error' : 'warning',
    flow: flow.id,
    packet: e.closeWaitFrame,
    ts: e.closeWaitSince,
    side: e.side,
    message:
      stuck <= t.closeWaitUs
        ? `${e.side} ${formatEndpoint(e.addr, e.port)} is still in CLOSE_WAIT when the capture ends, ${secs(stuck)} after the peer's FIN${peerState} (under the ${secs(t.closeWaitUs)} threshold): the application had not called close() yet`
        : `${e.side} ${formatEndpoint(e.addr, e.port)} ${still ? 'is still' : 'was'} in CLOSE_WAIT ${secs(stuck)} after the peer's FIN${peerState}: the application ${still ? 'never called' : 'was late to call'} close()`,
    details: { seconds: stuck / 1e6, still_at_end: still, peer_state: peer.state, threshold_seconds: t.closeWaitUs / 1e6 },
  });
}
