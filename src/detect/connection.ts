/**
 * Connection-level detectors, decided when a flow ends: refused connections,
 * resets, unanswered SYNs and SYN-ACKs, and CLOSE_WAIT that the application never
 * ended.
 */
import { formatEndpoint } from '../flow/address.js';
import type { Endpoint, Flow } from '../flow/flow.js';
import { TcpState } from '../state/tcp-state.js';
import type { Emit, Finding } from './finding.js';

/** Half-open findings go through here, so a SYN flood can absorb them. */
export type DeferHalfOpen = (listener: string, ts: number, f: Finding) => void;

export interface ConnectionThresholds {
  /** CLOSE_WAIT longer than this (µs) is stuck: the application did not call close(). */
  closeWaitUs: number;
  /** Data retransmitted and unacknowledged for longer than this (µs) means the peer is gone. */
  unresponsiveUs: number;
  /** ...with at least this many retransmissions (a backoff, not one lost segment). */
  unresponsiveRetransmissions: number;
}

export const DEFAULT_CONNECTION_THRESHOLDS: ConnectionThresholds = { closeWaitUs: 5_000_000, unresponsiveUs: 10_000_000, unresponsiveRetransmissions: 3 };

const secs = (us: number) => `${(us / 1e6).toFixed(us < 10e6 ? 2 : 0)} s`;

export function connectionFindings(
  flow: Flow,
  endTs: number,
  emit: Emit,
  t: ConnectionThresholds = DEFAULT_CONNECTION_THRESHOLDS,
  deferHalfOpen: DeferHalfOpen = (_l, _ts, f) => emit(f),
): void {
  const c = flow.client;
  const s = flow.server;
  const server = formatEndpoint(s.addr, s.port);
  const client = formatEndpoint(c.addr, c.port);
  const r = flow.resetInfo;

  if (r !== null && r.receiverState === TcpState.SYN_SENT) {
    emit({
      kind: 'connection_refused',
      severity: 'warning',
      flow: flow.id,
      packet: r.frame,
      ts: r.ts,
      side: r.sentBy,
      message: `${client} -> ${server} refused: RST answered the SYN${c.synsSent > 1 ? ` (after ${c.synsSent} SYNs)` : ''}; nothing listens on port ${s.port}`,
      details: { client: c.addr, server: s.addr, port: s.port, syns: c.synsSent },
    });
  } else if (r !== null) {
    const by = r.sentBy === 'client' ? c : s;
    const cause = r.afterPeerData
      ? 'it followed data from the peer: an abortive close (the application closed with unread data, or SO_LINGER 0)'
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
      },
    });
  }

  if (c.state === TcpState.SYN_SENT && s.synAcks === 0 && r === null) {
    deferHalfOpen(server, c.synTs || flow.firstTs, {
      kind: 'syn_unanswered',
      severity: 'warning',
      flow: flow.id,
      packet: c.synFrame || flow.firstPacket,
      ts: c.synTs || flow.firstTs,
      side: 'client',
      message: `${client} -> ${server}: ${c.synsSent} SYN${c.synsSent === 1 ? '' : 's'} over ${secs(flow.lastTs - flow.firstTs)}, never answered (a connect timeout: the host is down, filtered, or the SYN was dropped)`,
      details: { syns: c.synsSent, seconds: (flow.lastTs - flow.firstTs) / 1e6, server: s.addr, port: s.port },
    });
  }
  if (s.synAcks > 0 && c.state === TcpState.SYN_SENT && r === null) {
    deferHalfOpen(server, c.synTs || flow.firstTs, {
      kind: 'synack_unanswered',
      severity: 'note',
      flow: flow.id,
      packet: flow.firstPacket,
      ts: flow.firstTs,
      side: 'server',
      message: `${server} answered ${client} with ${s.synAcks} SYN-ACK${s.synAcks === 1 ? '' : 's'} and never got the ACK (a spoofed or vanished client, or the SYN-ACK was lost)`,
      details: { synacks: s.synAcks, client: c.addr, server: s.addr, port: s.port },
    });
  }
  closeWait(flow, s, c, endTs, emit, t);
  closeWait(flow, c, s, endTs, emit, t);
  unresponsive(flow, c, s, emit, t);
  unresponsive(flow, s, c, emit, t);
}

/** e kept retransmitting data that its peer never acknowledged. */
function unresponsive(flow: Flow, e: Endpoint, peer: Endpoint, emit: Emit, t: ConnectionThresholds): void {
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
function closeWait(flow: Flow, e: Endpoint, peer: Endpoint, endTs: number, emit: Emit, t: ConnectionThresholds): void {
  if (e.closeWaitSince < 0) return;
  const until = e.closeWaitUntil >= 0 ? e.closeWaitUntil : endTs;
  const stuck = until - e.closeWaitSince;
  if (stuck < t.closeWaitUs) return;
  const still = e.closeWaitUntil < 0;
  const peerState = peer.state === TcpState.FIN_WAIT_2 ? ', its peer waiting in FIN_WAIT_2' : '';
  emit({
    kind: 'stuck_close_wait',
    severity: still ? 'error' : 'warning',
    flow: flow.id,
    packet: e.closeWaitFrame,
    ts: e.closeWaitSince,
    side: e.side,
    message: `${e.side} ${formatEndpoint(e.addr, e.port)} ${still ? 'is still' : 'was'} in CLOSE_WAIT ${secs(stuck)} after the peer's FIN${peerState}: the application ${still ? 'never called' : 'was late to call'} close()`,
    details: { seconds: stuck / 1e6, still_at_end: still, peer_state: peer.state, threshold_seconds: t.closeWaitUs / 1e6 },
  });
}
