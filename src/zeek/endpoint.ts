/**
 * One side of a Zeek TCP connection (Zeek's TCP_Endpoint): its state, its
 * sequence bookkeeping (32-bit values with wrap counters, relative numbers in
 * 64-bit space), the history counters it owns and its packet counters.
 */
import type { ScaledCounter } from './history.js';
import type { ZeekReassembler } from './reassembler.js';

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
export function isHandshakeState(s: EndpointStateValue): boolean {
  return s === EndpointState.INACTIVE || s === EndpointState.SYN_SENT || s === EndpointState.SYN_ACK_SENT;
}

export class ZeekEndpoint {
  state: EndpointStateValue = EndpointState.INACTIVE;
  prevState: EndpointStateValue = EndpointState.INACTIVE;
  peer!: ZeekEndpoint;
  reassembler!: ZeekReassembler;

  /** Initial sequence number (in [0, 2^32)). */
  startSeq = 0;
  /** Sequence number after the last one sent, and the last acknowledgement sent (32-bit). */
  lastSeq = 0;
  ackSeq = 0;
  seqWraps = 0;
  ackWraps = 0;

  finCount = 0;
  rstCount = 0;
  /** Relative sequence number just after the FIN. */
  finSeq = 0;
  /** Whether the close has been reported (ConnectionClosed ran to its end). */
  didClose = false;
  /** Time of the last packet from this side (µs); 0 before any. */
  lastTime = 0;

  /** Relative sequence numbers of the last SYN, FIN and RST (history repeats). */
  histLastSyn = 0;
  histLastFin = 0;
  histLastRst = 0;

  /** The C/T/W/G history counters, made at their first event (most connections never have one). */
  checksumErrors: ScaledCounter | null = null;
  retransmissions: ScaledCounter | null = null;
  zeroWindows: ScaledCounter | null = null;
  gaps: ScaledCounter | null = null;

  /** ConnSize: packets and IP bytes that passed the checks (they travel with the endpoint on a flip). */
  packets = 0;
  ipBytes = 0;

  constructor(public isOrig: boolean) {}

  isActive(): boolean {
    return this.state !== EndpointState.INACTIVE && !this.didClose;
  }

  toFullSeqSpace(seq: number, wraps: number): number {
    return wraps * TWO_32 + seq;
  }

  /** A 32-bit sequence number in this side's relative 64-bit space. */
  toRelativeSeqSpace(seq: number, wraps: number): number {
    return this.toFullSeqSpace(seq, wraps) - this.startSeq;
  }

  initStartSeq(seq: number): void {
    this.startSeq = seq32(seq);
  }

  initLastSeq(seq: number): void {
    this.lastSeq = seq32(seq);
  }

  initAckSeq(seq: number): void {
    this.ackSeq = seq32(seq);
  }

  updateLastSeq(seq: number): void {
    if (seq < this.lastSeq) this.seqWraps++;
    this.lastSeq = seq;
  }

  updateAckSeq(seq: number): void {
    if (seq < this.ackSeq) this.ackWraps++;
    this.ackSeq = seq;
  }

  /** None of this side's data was acknowledged (one octet allowed, for the SYN). */
  noDataAcked(): boolean {
    const ack = this.toFullSeqSpace(this.ackSeq, this.ackWraps);
    return ack === this.startSeq || ack === this.startSeq + 1;
  }

  /** Bytes sent, from sequence numbers (Zeek's TCP_Endpoint::Size). */
  size(): number {
    if (
      this.prevState === EndpointState.SYN_SENT &&
      this.state === EndpointState.RESET &&
      this.peer.state === EndpointState.INACTIVE &&
      !this.noDataAcked()
    ) {
      return 0; // an aborted half-open probe: its sequence numbers would mislead
    }
    const last = this.toFullSeqSpace(this.lastSeq, this.seqWraps);
    const ack = this.toFullSeqSpace(this.ackSeq, this.ackWraps);
    let size = (last > ack ? last : ack) - this.startSeq;
    if (size < 0) size += 2 ** 64; // Zeek computes in unsigned 64 bits
    if (size !== 0) size--; // the SYN octet
    if (this.finCount > 0 && size !== 0) size--; // the FIN octet
    return size;
  }
}
