/**
 * One side of a Zeek TCP connection (Zeek's TCP_Endpoint) as columns: its
 * state, its sequence bookkeeping (32-bit values with wrap counters, relative
 * numbers in 64-bit space), the history counters it owns, its packet counters
 * and its reassembler's numbers (reassembler.ts). A connection has two
 * endpoints, one per end of its row's endpoint pair (conn/table.ts: 0 the lower,
 * 1 the higher), stored as records 2 * slot + end of one column set, where slot is
 * the connection's slot (session.ts): endpoint i = 2 * slot + end, its peer i ^ 1.
 * The endpoints do not move when Zeek flips the roles; the session's `origEnd`
 * says which one is the originator.
 */
import { ColumnSet, type ColumnArrays } from '../../conn/columns.js';
import { NONE, Pool } from '../../conn/pool.js';

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

/** A sequence number reduced to 32 bits: `n` (an integer, negative too) modulo 2^32, as ToUint32 gives it without a floating-point remainder. */
export function seq32(n: number): number {
  return n >>> 0;
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
  /** Whether the close has been reported (ConnectionClosed ran to its end). */
  didClose: Uint8Array,
  /** Relative sequence number of the last SYN (history repeats; FIN's and RST's are rare fields). */
  histLastSyn: Float64Array,
  /** The endpoint's record of rare fields (RARE_COLUMNS) in `Endpoints.rare`, NONE until one is needed. */
  rare: Int32Array,
  /** ConnSize: packets and IP bytes that passed the checks. */
  packets: Float64Array,
  ipBytes: Float64Array,
  /** The endpoint's reassembly record (reassembler.ts), NONE until its first data or ACK beyond its start. */
  stream: Int32Array,
};

export type EndpointColumns = ColumnArrays<typeof ENDPOINT_COLUMNS>;

/**
 * Fields an endpoint needs only once it sends a FIN or a RST, counts a history event or wraps
 * its sequence or acknowledgement numbers: in a
 * pool record made then (`Endpoints.rareOf`), so that an endpoint that never does (a SYN of a
 * flood, most of them) has none. Before the record exists every field is as made: 0, and 1 for
 * the `*Next` counts.
 */
export const RARE_COLUMNS = {
  /** Wraps of lastSeq and ackSeq (sequence numbers in 64-bit space: `toFullSeqSpace`). */
  seqWraps: Uint32Array,
  ackWraps: Uint32Array,
  /** FINs sent. */
  finCount: Uint32Array,
  /** Relative sequence number just after the FIN. */
  finSeq: Float64Array,
  /** Relative sequence numbers of the last FIN and RST (history repeats). */
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
  /** Bytes of this endpoint's content gaps (conn.log's missed_bytes is both ends' together). */
  missedBytes: Float64Array,
};

export type RareColumns = ColumnArrays<typeof RARE_COLUMNS>;

/**
 * Both endpoints of every connection Zeek holds, two records a slot (the session's slot,
 * session.ts): endpoint (slot, end) is record `2 * slot + end`, its fields `c.field[2 * slot + end]`.
 */
export class Endpoints {
  readonly set: ColumnSet<typeof ENDPOINT_COLUMNS>;
  /** The rare fields, a record per endpoint that needed one (`rare` column). */
  readonly rare = new Pool(RARE_COLUMNS, 64);

  constructor() {
    this.set = new ColumnSet(ENDPOINT_COLUMNS, 128);
  }

  /** The fields (an object that stays; its arrays are replaced when the set grows). */
  get c(): EndpointColumns {
    return this.set.c;
  }

  /** Endpoint i's record of rare fields, made now if it has none. Read `rare.c` after the call: the pool may grow. */
  rareOf(i: number): number {
    const e = this.set.c;
    let r = e.rare[i];
    if (r === NONE) {
      r = e.rare[i] = this.rare.alloc();
      const x = this.rare.c;
      x.checksumErrorsNext[r] = x.retransmissionsNext[r] = x.zeroWindowsNext[r] = x.gapsNext[r] = 1;
    }
    return r;
  }

  /** Wraps of endpoint i's lastSeq. */
  seqWraps(i: number): number {
    const r = this.set.c.rare[i];
    return r === NONE ? 0 : this.rare.c.seqWraps[r];
  }

  /** Wraps of endpoint i's ackSeq. */
  ackWraps(i: number): number {
    const r = this.set.c.rare[i];
    return r === NONE ? 0 : this.rare.c.ackWraps[r];
  }

  /** FINs endpoint i sent. */
  finCount(i: number): number {
    const r = this.set.c.rare[i];
    return r === NONE ? 0 : this.rare.c.finCount[r];
  }

  /** Bytes of endpoint i's content gaps. */
  missedBytes(i: number): number {
    const r = this.set.c.rare[i];
    return r === NONE ? 0 : this.rare.c.missedBytes[r];
  }

  /** Give back endpoint i's record of rare fields (its connection is gone). */
  release(i: number): void {
    const e = this.set.c;
    if (e.rare[i] === NONE) return;
    this.rare.release(e.rare[i]);
    e.rare[i] = NONE;
  }

  /** Room for slots 0..slots-1. */
  ensure(slots: number): void {
    this.set.ensure(2 * slots);
  }

  /**
   * Endpoint record `i` (2 * slot + end) as a new one: INACTIVE, nothing counted, no reassembly
   * record, no rare fields (whatever the slot held was released, or never was: not a list). Field by field: a loop
   * over the columns by name costs more than the rest of a connection's start.
   */
  reset(i: number): void {
    const e = this.set.c;
    e.state[i] = e.prevState[i] = 0;
    e.startSeq[i] = e.lastSeq[i] = e.ackSeq[i] = 0;
    e.didClose[i] = 0;
    e.histLastSyn[i] = 0;
    e.rare[i] = NONE;
    e.packets[i] = e.ipBytes[i] = 0;
    e.stream[i] = NONE;
  }
}

/** A 32-bit sequence number with `wraps` wraps, in 64-bit space. */
export function toFullSeqSpace(seq: number, wraps: number): number {
  return wraps * TWO_32 + seq;
}

export function updateLastSeq(ends: Endpoints, i: number, seq: number): void {
  const e = ends.c;
  if (seq < e.lastSeq[i]) {
    const r = ends.rareOf(i);
    ends.rare.c.seqWraps[r]++;
  }
  e.lastSeq[i] = seq;
}

export function updateAckSeq(ends: Endpoints, i: number, seq: number): void {
  const e = ends.c;
  if (seq < e.ackSeq[i]) {
    const r = ends.rareOf(i);
    ends.rare.c.ackWraps[r]++;
  }
  e.ackSeq[i] = seq;
}

/** The start, acknowledged and last sequence numbers all set to `seq` (32-bit reduced). */
export function restartSequence(e: EndpointColumns, i: number, start: number, ack: number, last: number): void {
  e.startSeq[i] = seq32(start);
  e.ackSeq[i] = seq32(ack);
  e.lastSeq[i] = seq32(last);
}

/** None of this side's data was acknowledged (one octet allowed, for the SYN). */
export function noDataAcked(ends: Endpoints, i: number): boolean {
  const e = ends.c;
  const ack = toFullSeqSpace(e.ackSeq[i], ends.ackWraps(i));
  return ack === e.startSeq[i] || ack === e.startSeq[i] + 1;
}

/** Bytes sent by endpoint `e`, from sequence numbers (Zeek's TCP_Endpoint::Size); `peerState` is the other side's state. */
export function endpointSize(ends: Endpoints, i: number, peerState: number): number {
  const e = ends.c;
  if (e.prevState[i] === EndpointState.SYN_SENT && e.state[i] === EndpointState.RESET && peerState === EndpointState.INACTIVE && !noDataAcked(ends, i)) {
    return 0; // an aborted half-open probe: its sequence numbers would mislead
  }
  const last = toFullSeqSpace(e.lastSeq[i], ends.seqWraps(i));
  const ack = toFullSeqSpace(e.ackSeq[i], ends.ackWraps(i));
  let size = (last > ack ? last : ack) - e.startSeq[i];
  if (size < 0) size += 2 ** 64; // Zeek computes in unsigned 64 bits
  if (size !== 0) size--; // the SYN octet
  if (ends.finCount(i) > 0 && size !== 0) size--; // the FIN octet
  return size;
}
