/**
 * An emulation of Zeek's TCP connection tracking over our decoded packets, so
 * each TCP connection can carry Zeek's `conn_state` and `history` exactly as
 * Zeek would log them (see /work/shared/oracle/zeek/SEMANTICS.md).
 *
 * The tracker keeps Zeek's session table (unordered 5-tuple -> connection),
 * its packet-time clock and timers (attempt, expire, close, inactivity), and
 * decides creation, orientation and reuse; each connection (session.ts) runs
 * Zeek's per-packet TCP processing. Rows come out when Zeek would log them
 * (connection removal), through `onConn` or from `finish()`.
 *
 * Streaming: memory follows the connections alive in Zeek's sense.
 */
import { type ChecksumVerdict, ipv4HeaderChecksum, tcpChecksum } from '../decode/checksum.js';
import { type DecodedPacket, TcpFlag, u16 } from '../decode/packet.js';
import { Note } from '../decode/status.js';
import { formatAddress } from './address.js';
import { ZEEK_DEFAULT_LIKELY_SERVER_PORTS } from './ports.js';
import { type EndpointKey, type SessionHost, type ZeekConn, type ZeekSegment, ZeekTcpSession } from './session.js';
import { TimerQueue, type ZeekTimer } from './timers.js';
import { ZEEK_DEFAULT_TUNING, type ZeekTuning } from './tuning.js';

export type { ZeekConn } from './session.js';
export type { ZeekConnState } from './conn-state.js';
export { zeekConnState } from './conn-state.js';
export { ZEEK_DEFAULT_LIKELY_SERVER_PORTS, zeekLikelyServerPorts } from './ports.js';
export { ZEEK_DEFAULT_TUNING, type ZeekTuning } from './tuning.js';

export interface ZeekConnTrackerOptions {
  /** Zeek validates IPv4 header and TCP checksums unless run with -C. */
  verifyChecksums: boolean;
  /** likely_server_ports (default: every base protocol, as `zeek -r`). */
  likelyServerPorts?: ReadonlySet<number>;
  /** Script constants that differ from init-bare.zeek. */
  tuning?: Partial<ZeekTuning>;
  /** Receives each row when Zeek would log it; without it finish() returns them all. */
  onConn?: (c: ZeekConn) => void;
}

export interface ZeekPacketInfo {
  /** Frame number, reported back as first_frame/last_frame. */
  frame?: number;
  /** End of the captured bytes in p.buf (record offset + caplen): whether the payload was captured, checksum verdicts. */
  capturedEnd?: number;
  /** End of the frame as it was on the wire in p.buf (record offset + original length - FCS): Zeek bounds IP lengths by it. */
  frameEnd?: number;
  /** Verdicts already computed by the caller (computed here when absent and needed). */
  ipChecksum?: ChecksumVerdict;
  tcpChecksum?: ChecksumVerdict;
}

export class ZeekConnTracker implements SessionHost {
  readonly tuning: ZeekTuning;
  readonly likelyServerPorts: ReadonlySet<number>;
  readonly verifyChecksums: boolean;
  private readonly sessions = new SessionTable();
  private readonly timers = new TimerQueue();
  private readonly rows: ZeekConn[] = [];
  private readonly onConn: ((c: ZeekConn) => void) | undefined;
  private now = -Infinity;
  private finished = false;

  /**
   * Timers a connection opened by a lone SYN sets up (expire and inactivity in its
   * constructor, attempt in originatorOpens), and the first of them to come due.
   */
  private readonly loneSynTimers: number;
  private readonly loneSynFirst: { delay: number; rank: number };

  constructor(opts: ZeekConnTrackerOptions) {
    this.verifyChecksums = opts.verifyChecksums;
    this.likelyServerPorts = opts.likelyServerPorts ?? ZEEK_DEFAULT_LIKELY_SERVER_PORTS;
    this.tuning = { ...ZEEK_DEFAULT_TUNING, ...opts.tuning };
    this.onConn = opts.onConn;
    const t = this.tuning;
    const delays = [t.tcpSynTimeout, t.initialInactivityTimeout, t.tcpAttemptDelay].filter((d, i) => i === 0 || d > 0);
    this.loneSynTimers = delays.length;
    const delay = Math.min(...delays);
    this.loneSynFirst = { delay, rank: delays.indexOf(delay) };
  }

  /** Connections alive in Zeek's sense right now. */
  get liveConnections(): number {
    return this.sessions.size;
  }

  /**
   * One decoded packet holding a TCP header, at `tsUs` (integer µs); returns the connection it
   * went to, or null (dropped). `hint`: the connection an earlier packet of the same endpoints
   * went to, if the caller kept it: while Zeek still has it (not removed), the lookup is skipped.
   */
  packet(tsUs: number, p: DecodedPacket, info: ZeekPacketInfo = {}, hint: ZeekTcpSession | null = null): ZeekTcpSession | null {
    if (this.finished) throw new Error('ZeekConnTracker: packet after finish()');
    this.advanceClock(tsUs);
    return this.process(tsUs, p, info, hint);
  }

  /** Zeek has a connection for the packet's endpoints. */
  has(p: DecodedPacket): boolean {
    return this.lookup(p) !== undefined;
  }

  /** Timer orders the next holdLoneSyn() would reserve up to (exclusive). */
  get heldOrdersEnd(): number {
    return this.timers.orders + this.loneSynTimers;
  }

  /**
   * A lone SYN at the current network time is held outside the tracker (after tick()):
   * the timer orders its connection would take are reserved; returns the first, for
   * replay(). The held SYNs, oldest first, are the `held` lane: when the first timer of
   * the oldest comes due, the lane must bring its connection in with replay(), so its
   * timers fire as they would have.
   */
  holdLoneSyn(): number {
    return this.timers.reserve(this.loneSynTimers);
  }

  /** The lone SYNs held (see holdLoneSyn), oldest first: when each came, and its first reserved order. */
  set held(src: { nextTs(): number; nextOrders(): number; bringIn(): void }) {
    const { delay, rank } = this.loneSynFirst;
    this.timers.lane = {
      nextDue: () => src.nextTs() + delay,
      nextOrder: () => src.nextOrders() + rank,
      fireNext: () => src.bringIn(),
    };
  }

  /**
   * A lone SYN held back by holdLoneSyn() when it came at `tsUs` (then the network time):
   * processed as it would have been then, its timers due from then with the orders
   * reserved; timers already due fire with the next packet or tick, as they would have.
   */
  replay(tsUs: number, p: DecodedPacket, info: ZeekPacketInfo, orders: number): void {
    if (this.finished) throw new Error('ZeekConnTracker: packet after finish()');
    const clock = this.now;
    this.now = tsUs;
    try {
      this.timers.withOrders(orders, this.loneSynTimers, () => this.process(tsUs, p, info));
    } finally {
      this.now = clock;
    }
  }

  /** Log and forget the connection of the packet's endpoints now, as finish() would. */
  forget(p: DecodedPacket): void {
    const s = this.lookup(p);
    if (s !== undefined) this.remove(s);
  }

  private process(tsUs: number, p: DecodedPacket, info: ZeekPacketInfo, hint: ZeekTcpSession | null = null): ZeekTcpSession | null {
    if (p.ipVersion === 0) return null;
    if (this.verifyChecksums && (info.ipChecksum ?? ipv4HeaderChecksum(p)) === 'bad') return null; // bad_IP_checksum: dropped

    const ipEnd = zeekIpEnd(p, info.frameEnd);
    if (ipEnd === null) return null; // truncated_IP: the IP length runs past the frame
    const seg = this.segment(tsUs, p, ipEnd, info);

    // The table's connection for these endpoints: the hint while it is not removed (only a removal
    // takes one out). Keys (strings for IPv6) are built only to look one up or make one.
    let srcKey: EndpointKey | undefined;
    let dstKey: EndpointKey | undefined;
    let s: ZeekTcpSession | undefined;
    if (hint !== null && !hint.removed) s = hint;
    else {
      srcKey = endpointKey(p, p.srcOff, p.srcPort);
      dstKey = endpointKey(p, p.dstOff, p.dstPort);
      s = this.sessionOf(srcKey, dstKey);
    }
    if (s !== undefined && s.isReuse(seg)) {
      this.remove(s); // connection_reused
      s = undefined;
    }
    if (s === undefined) {
      srcKey ??= endpointKey(p, p.srcOff, p.srcPort);
      dstKey ??= endpointKey(p, p.dstOff, p.dstPort);
      const srcFirst = srcKey < dstKey;
      const lowKey = srcFirst ? srcKey : dstKey;
      const highKey = srcFirst ? dstKey : srcKey;
      s = this.newConnection(p, lowKey, highKey, srcKey, dstKey, seg);
      this.sessions.set(lowKey, highKey, s);
    }
    s.deliver(seg, isEndpoint(s.originatorKey, p, p.srcOff, p.srcPort));
    return s;
  }

  /** The connection of the packet's endpoints, by key. */
  private lookup(p: DecodedPacket): ZeekTcpSession | undefined {
    return this.sessionOf(endpointKey(p, p.srcOff, p.srcPort), endpointKey(p, p.dstOff, p.dstPort));
  }

  /** The connection between two endpoints, by their keys (either order). */
  private sessionOf(srcKey: EndpointKey, dstKey: EndpointKey): ZeekTcpSession | undefined {
    return srcKey < dstKey ? this.sessions.get(srcKey, dstKey) : this.sessions.get(dstKey, srcKey);
  }

  /** A packet without a TCP header at `tsUs`: Zeek's clock, and so its timers, move with every packet. */
  tick(tsUs: number): void {
    if (this.finished) throw new Error('ZeekConnTracker: packet after finish()');
    this.advanceClock(tsUs);
  }

  /** End of input: every connection still alive is logged in its current state. */
  finish(): ZeekConn[] {
    if (!this.finished) {
      this.finished = true;
      for (const s of [...this.sessions.values()]) this.remove(s);
    }
    return this.rows;
  }

  // ---------------------------------------------------------------- SessionHost

  networkTime(): number {
    return this.now;
  }

  addTimer(due: number, fire: (now: number) => void): ZeekTimer {
    return this.timers.add(due, fire);
  }

  cancelTimer(t: ZeekTimer): void {
    this.timers.cancel(t);
  }

  /** session_mgr->Remove: the connection is logged and forgotten. */
  remove(s: ZeekTcpSession): void {
    if (s.removed) return;
    s.removed = true;
    s.cancelAllTimers();
    this.sessions.delete(s);
    const row = s.toConn();
    if (this.onConn) this.onConn(row);
    else this.rows.push(row);
  }

  // ---------------------------------------------------------------- internals

  /** Network time never goes back; timers due by then fire before the packet. */
  private advanceClock(tsUs: number): void {
    if (tsUs > this.now) this.now = tsUs;
    this.timers.advance(this.now, this.tuning.maxTimerExpires);
  }

  /** The packet being processed (one object, refilled: nothing keeps a segment past its packet). */
  private readonly seg: ZeekSegment = { tsUs: 0, frame: 0, flags: 0, seq: 0, ack: 0, len: 0, payloadCaptured: false, window: 0, ipBytes: 0, tcpChecksum: 'unknown' };

  private segment(tsUs: number, p: DecodedPacket, ipEnd: number, info: ZeekPacketInfo): ZeekSegment {
    // A datagram reassembled from fragments (decode/fragments.ts) is whole in p.buf: info's ends are its own.
    const ownLength = ipEnd !== p.ipEnd;
    const payloadCaptured = info.capturedEnd !== undefined ? ipEnd <= info.capturedEnd : !(p.notes & Note.PAYLOAD_TRUNCATED);
    let tcpVerdict: ChecksumVerdict = 'unknown';
    if (this.verifyChecksums) {
      tcpVerdict = info.tcpChecksum ?? tcpChecksum(p, info.capturedEnd ?? p.buf.length, ownLength ? ipEnd : undefined);
    }
    const seg = this.seg;
    seg.tsUs = tsUs;
    seg.frame = info.frame ?? 0;
    seg.flags = p.flags;
    seg.seq = p.seq;
    seg.ack = p.ack;
    seg.len = ownLength ? ipEnd - p.tcpOff - p.tcpHeaderLen : p.payloadLen;
    seg.payloadCaptured = payloadCaptured;
    seg.window = p.window;
    seg.ipBytes = ipTotalLength(p);
    seg.tcpChecksum = tcpVerdict;
    return seg;
  }

  /** IPBasedAnalyzer::NewConn: the sender is the originator unless the port heuristic flips it. */
  private newConnection(p: DecodedPacket, lowKey: EndpointKey, highKey: EndpointKey, srcKey: EndpointKey, dstKey: EndpointKey, seg: ZeekSegment): ZeekTcpSession {
    const src = { addr: formatAddress(p.buf, p.srcOff, p.ipVersion as 4 | 6), port: p.srcPort, key: srcKey };
    const dst = { addr: formatAddress(p.buf, p.dstOff, p.ipVersion as 4 | 6), port: p.dstPort, key: dstKey };
    const flip = this.likelyServerFlip(seg.flags, src.port, dst.port) && !isBroadcast(dst.addr);
    return new ZeekTcpSession(this, lowKey, highKey, src, dst, seg.tsUs, seg.frame, flip);
  }

  /** TCPAnalyzer::WantConnection: a first packet that is not a pure SYN, from a likely server port. */
  private likelyServerFlip(flags: number, srcPort: number, dstPort: number): boolean {
    const pureSyn = (flags & TcpFlag.SYN) !== 0 && (flags & TcpFlag.ACK) === 0;
    if (pureSyn || !this.likelyServerPorts.has(srcPort)) return false;
    if (!this.likelyServerPorts.has(dstPort)) return true;
    // Both plausible: flip only a non-SYN towards the higher port.
    return (flags & TcpFlag.SYN) === 0 && srcPort < dstPort;
  }
}

/** The session table, keyed by the ordered pair of endpoint keys (two levels, so IPv4 lookups build no string). */
class SessionTable {
  private readonly byLow = new Map<EndpointKey, Map<EndpointKey, ZeekTcpSession>>();
  size = 0;

  get(low: EndpointKey, high: EndpointKey): ZeekTcpSession | undefined {
    return this.byLow.get(low)?.get(high);
  }

  set(low: EndpointKey, high: EndpointKey, s: ZeekTcpSession): void {
    let inner = this.byLow.get(low);
    if (inner === undefined) this.byLow.set(low, (inner = new Map()));
    if (!inner.has(high)) this.size++;
    inner.set(high, s);
  }

  delete(s: ZeekTcpSession): void {
    const inner = this.byLow.get(s.lowKey);
    if (inner === undefined || inner.get(s.highKey) !== s) return;
    inner.delete(s.highKey);
    this.size--;
    if (inner.size === 0) this.byLow.delete(s.lowKey);
  }

  *values(): Generator<ZeekTcpSession> {
    for (const inner of this.byLow.values()) yield* inner.values();
  }
}

/** An (address, port) as a key: a number for IPv4, a 9-character string for IPv6. */
function endpointKey(p: DecodedPacket, addrOff: number, port: number): EndpointKey {
  const b = p.buf;
  if (p.ipVersion === 4) return (((b[addrOff] << 24) | (b[addrOff + 1] << 16) | (b[addrOff + 2] << 8) | b[addrOff + 3]) >>> 0) * 65536 + port;
  // One call makes one flat string (a concatenation per group made a rope, flattened again to hash it).
  const a = addrOff;
  return String.fromCharCode(
    (b[a] << 8) | b[a + 1], (b[a + 2] << 8) | b[a + 3], (b[a + 4] << 8) | b[a + 5], (b[a + 6] << 8) | b[a + 7],
    (b[a + 8] << 8) | b[a + 9], (b[a + 10] << 8) | b[a + 11], (b[a + 12] << 8) | b[a + 13], (b[a + 14] << 8) | b[a + 15],
    port,
  );
}

/** `key` is the packet's (address, port) at `addrOff` (as endpointKey would make it, without making it). */
function isEndpoint(key: EndpointKey, p: DecodedPacket, addrOff: number, port: number): boolean {
  const b = p.buf;
  if (typeof key === 'number') {
    return p.ipVersion === 4 && key === (((b[addrOff] << 24) | (b[addrOff + 1] << 16) | (b[addrOff + 2] << 8) | b[addrOff + 3]) >>> 0) * 65536 + port;
  }
  if (p.ipVersion === 4 || key.charCodeAt(8) !== port) return false;
  for (let i = 0; i < 8; i++) if (key.charCodeAt(i) !== ((b[addrOff + 2 * i] << 8) | b[addrOff + 2 * i + 1])) return false;
  return true;
}

function isBroadcast(addr: string): boolean {
  return addr === '255.255.255.255';
}

/**
 * Where Zeek takes the IP datagram to end. Zeek believes the IP length field as
 * long as it fits in the frame on the wire (an encapsulation's own length, such
 * as PPPoE's, does not bound it); a length running past the frame makes Zeek
 * drop the packet (null).
 */
function zeekIpEnd(p: DecodedPacket, frameEnd: number | undefined): number | null {
  if (!(p.notes & Note.IP_LENGTH_EXCEEDS_FRAME) || frameEnd === undefined) return p.ipEnd;
  const claimedEnd = p.ipOff + ipTotalLength(p);
  if (claimedEnd > frameEnd) return null;
  return Math.max(claimedEnd, p.tcpOff + p.tcpHeaderLen);
}

/** The IP total length (IPv6: payload length + 40), as ConnSize sums it. */
function ipTotalLength(p: DecodedPacket): number {
  if (p.ipVersion === 4) {
    const total = u16(p.buf, p.ipOff + 2);
    return total !== 0 ? total : p.ipEnd - p.ipOff;
  }
  const plen = u16(p.buf, p.ipOff + 4);
  return plen !== 0 ? plen + 40 : p.ipEnd - p.ipOff;
}
