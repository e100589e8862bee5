/**
 * One side of a Zeek TCP connection (Zeek's TCP_Endpoint) as columns: its
 * state, its sequence bookkeeping (32-bit values with wrap counters, relative
 * numbers in 64-bit space), the history counters it owns, its packet counters
 * and its reassembler's numbers (reassembler.ts). A connection row has two
 * endpoints, one per end of the row's endpoint pair (conn/table.ts: 0 the lower,
 * 1 the higher): `Endpoints` holds a column set per end, so an endpoint is
 * (row, end) and its peer (row, 1 - end). The endpoints do not move when Zeek
 * flips the roles; the session's `origEnd` says which one is the originator.
 */
import { ColumnSet, type ColumnArrays } from '../conn/columns.js';
import { NONE } from '../conn/pool.js';
import type { ConnTable } from '../conn/table.js';

export const EndpointState = {
  INACTIVE: 0,
  SYN_SENT: 1,
  SYN_ACK_SENT: 2,
  PARTIAL: 3,
  ESTABLISHED: 4,
  CLOSED: 5,
  RESET: 6,
} as const;
export type EndpointStateValue = (typeof EndpointState)[keyof typeof EndpointState];

export const ENDPOINT_STATE_NAMES = ['INACTIVE', 'SYN_SENT', 'SYN_ACK_SENT', 'PARTIAL', 'ESTABLISHED', 'CLOSED', 'RESET'] as const;

const TWO_32 = 0x100000000;

/** Signed 32-bit difference a - b of two sequence numbers. */
export function seqDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** A sequence number reduced to 32 bits. */
export function seq32(n: number): number {
  return ((n % TWO_32) + TWO_32) % TWO_32;
}

/** Handshake states: the connection still runs on the initial inactivity timeout. */
export function isHandshakeState(s: number): boolean {
  return s === EndpointState.INACTIVE || s === EndpointState.SYN_SENT || s === EndpointState.SYN_ACK_SENT;
}

/** The fields of one endpoint. */
export const ENDPOINT_COLUMNS = {
  state: Uint8Array,
  prevState: Uint8Array,
  /** Initial sequence number; the sequence number after the last one sent; the last acknowledgement sent (32-bit). */
  startSeq: Uint32Array,
  lastSeq: Uint32Array,
  ackSeq: Uint32Array,
  seqWraps: Uint32Array,
  ackWraps: Uint32Array,
  finCount: Uint32Array,
  rstCount: Uint32Array,
  /** Relative sequence number just after the FIN. */
  finSeq: Float64Array,
  /** Whether the close has been reported (ConnectionClosed ran to its end). */
  didClose: Uint8Array,
  /** Relative sequence numbers of the last SYN, FIN and RST (history repeats). */
  histLastSyn: Float64Array,
  histLastFin: Float64Array,
  histLastRst: Float64Array,
  /** The C/T/W/G history counters (history.ts `bumpScaled`): events counted, and the count due for the next letter. */
  checksumErrors: Uint32Array,
  checksumErrorsNext: Uint32Array,
  retransmissions: Uint32Array,
  retransmissionsNext: Uint32Array,
  zeroWindows: Uint32Array,
  zeroWindowsNext: Uint32Array,
  gaps: Uint32Array,
  gapsNext: Uint32Array,
  /** ConnSize: packets and IP bytes that passed the checks. */
  packets: Float64Array,
  ipBytes: Float64Array,
  /** Reassembler: next relative sequence number to deliver in order; everything below trimSeq was acknowledged and dropped. */
  lastReassemSeq: Float64Array,
  trimSeq: Float64Array,
  /** Reassembly gave up (too much data above a hole, or unacknowledged). */
  skipDeliveries: Uint8Array,
  didEof: Uint8Array,
  /** Seen, not yet acknowledged ranges (a list in reassembler.ts's pool; NONE for none), and their bytes. */
  blocks: Int32Array,
  bufferedBytes: Float64Array,
};

export type EndpointColumns = ColumnArrays<typeof ENDPOINT_COLUMNS>;

/** Both endpoints of every row: `at[end].c.field[row]`. */
export class Endpoints {
  readonly at: [ColumnSet<typeof ENDPOINT_COLUMNS>, ColumnSet<typeof ENDPOINT_COLUMNS>];

  /** Columns that grow with `table`'s rows, or (without one: tests) with `ensure`. */
  constructor(table?: ConnTable) {
    this.at = table ? [table.columns(ENDPOINT_COLUMNS), table.columns(ENDPOINT_COLUMNS)] : [new ColumnSet(ENDPOINT_COLUMNS), new ColumnSet(ENDPOINT_COLUMNS)];
  }

  ensure(rows: number): void {
    this.at[0].ensure(rows);
    this.at[1].ensure(rows);
  }

  /**
   * Endpoint (row, end) as a new one: INACTIVE, nothing counted, no ranges (whatever the row
   * held was released, or never was: not a list). Field by field: a loop over the columns
   * by name costs more than the rest of a connection's start.
   */
  reset(row: number, end: number): void {
    const e = this.at[end].c;
    e.state[row] = e.prevState[row] = 0;
    e.startSeq[row] = e.lastSeq[row] = e.ackSeq[row] = e.seqWraps[row] = e.ackWraps[row] = 0;
    e.finCount[row] = e.rstCount[row] = 0;
    e.finSeq[row] = 0;
    e.didClose[row] = 0;
    e.histLastSyn[row] = e.histLastFin[row] = e.histLastRst[row] = 0;
    e.checksumErrors[row] = e.retransmissions[row] = e.zeroWindows[row] = e.gaps[row] = 0;
    e.checksumErrorsNext[row] = e.retransmissionsNext[row] = e.zeroWindowsNext[row] = e.gapsNext[row] = 1;
    e.packets[row] = e.ipBytes[row] = 0;
    e.lastReassemSeq[row] = e.trimSeq[row] = 1;
    e.skipDeliveries[row] = e.didEof[row] = 0;
    e.blocks[row] = NONE;
    e.bufferedBytes[row] = 0;
  }
}

/** A 32-bit sequence number with `wraps` wraps, in 64-bit space. */
export function toFullSeqSpace(seq: number, wraps: number): number {
  return wraps * TWO_32 + seq;
}

export function updateLastSeq(e: EndpointColumns, row: number, seq: number): void {
  if (seq < e.lastSeq[row]) e.seqWraps[row]++;
  e.lastSeq[row] = seq;
}

export function updateAckSeq(e: EndpointColumns, row: number, seq: number): void {
  if (seq < e.ackSeq[row]) e.ackWraps[row]++;
  e.ackSeq[row] = seq;
}

/** The start, acknowledged and last sequence numbers all set to `seq` (32-bit reduced). */
export function restartSequence(e: EndpointColumns, row: number, start: number, ack: number, last: number): void {
  e.startSeq[row] = seq32(start);
  e.ackSeq[row] = seq32(ack);
  e.lastSeq[row] = seq32(last);
}

/** None of this side's data was acknowledged (one octet allowed, for the SYN). */
export function noDataAcked(e: EndpointColumns, row: number): boolean {
  const ack = toFullSeqSpace(e.ackSeq[row], e.ackWraps[row]);
  return ack === e.startSeq[row] || ack === e.startSeq[row] + 1;
}

/** Bytes sent by endpoint `e`, from sequence numbers (Zeek's TCP_Endpoint::Size); `peerState` is the other side's state. */
export function endpointSize(e: EndpointColumns, row: number, peerState: number): number {
  if (e.prevState[row] === EndpointState.SYN_SENT && e.state[row] === EndpointState.RESET && peerState === EndpointState.INACTIVE && !noDataAcked(e, row)) {
    return 0; // an aborted half-open probe: its sequence numbers would mislead
  }
  const last = toFullSeqSpace(e.lastSeq[row], e.seqWraps[row]);
  const ack = toFullSeqSpace(e.ackSeq[row], e.ackWraps[row]);
  let size = (last > ack ? last : ack) - e.startSeq[row];
  if (size < 0) size += 2 ** 64; // Zeek computes in unsigned 64 bits
  if (size !== 0) size--; // the SYN octet
  if (e.finCount[row] > 0 && size !== 0) size--; // the FIN octet
  return size;
}
