/**
 * An emulation of Zeek's TCP connection tracking over our decoded packets, so
 * each TCP connection can carry Zeek's `conn_state` and `history` exactly as
 * Zeek would log them (see /work/shared/oracle/zeek/SEMANTICS.md).
 *
 * Zeek's session table is the connection table (conn/table.ts): a Zeek
 * connection lives on the row of its endpoint pair, held with bit ZEEK_HOLDER
 * while Zeek has it, its state in columns indexed by a slot of its own
 * (session.ts, conn/slots.ts), bound while Zeek holds the connection. The tracker keeps Zeek's
 * packet-time clock and timers (attempt, expire, close, inactivity) and decides
 * creation, orientation, reuse and removal; session.ts runs Zeek's per-packet
 * TCP processing. Rows of conn.log come out when Zeek would log them
 * (connection removal), through `onConn` or from `finish()`.
 *
 * Streaming: memory follows the connections alive in Zeek's sense.
 */
import { type ChecksumVerdict, ipv4HeaderChecksum, tcpChecksum } from '../../decode/checksum.js';
import { type DecodedPacket, TcpFlag, u16 } from '../../decode/packet.js';
import { Note } from '../../decode/status.js';
import { NO_SLOT } from '../../conn/slots.js';
import { ConnTable } from '../../conn/table.js';
import { ZEEK_DEFAULT_LIKELY_SERVER_PORTS } from './ports.js';
import { type SessionHost, TcpSessions, type ZeekConn, type ZeekSegment } from './session.js';
import { ZeekTimerHeap } from './timers.js';
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
  /**
   * Receives each row when Zeek would log it, with its connection-table row, serial and which end
   * of the row's pair is its originator; without it finish() returns them all.
   */
  onConn?: (c: ZeekConn, row: number, serial: number, origEnd: number) => void;
  /** The connection table shared with the other analyzers; without it the tracker keeps its own. */
  table?: ConnTable;
  /** Lone SYNs wait in compact form (default true; false only to show that it changes nothing). */
  compactLoneSyns?: boolean;
}

/** The holder bit of Zeek's connections on a connection-table row. */
export const ZEEK_HOLDER = 2;

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
  readonly compactLoneSyns: boolean;
  private readonly table: ConnTable;
  private readonly timers = new ZeekTimerHeap();
  private readonly sessions: TcpSessions;
  private readonly rows: ZeekConn[] = [];
  private readonly onConn: ((c: ZeekConn, row: number, serial: number, origEnd: number) => void) | undefined;
  private now = -Infinity;
  /** No timer nor lone SYN was due before this at the last full look (fireTimers). */
  private nextDue = -Infinity;
  private finished = false;
  private live = 0;
  constructor(opts: ZeekConnTrackerOptions) {
    this.verifyChecksums = opts.verifyChecksums;
    this.likelyServerPorts = opts.likelyServerPorts ?? ZEEK_DEFAULT_LIKELY_SERVER_PORTS;
    this.tuning = { ...ZEEK_DEFAULT_TUNING, ...opts.tuning };
    this.onConn = opts.onConn;
    this.compactLoneSyns = opts.compactLoneSyns ?? true;
    this.table = opts.table ?? new ConnTable();
    this.sessions = new TcpSessions(this, this.table, this.timers);
  }

  /** Connections alive in Zeek's sense right now. */
  get liveConnections(): number {
    return this.live;
  }

  /** Timers queued, canceled ones not yet dropped included (memory, not results). */
  get queuedTimers(): number {
    return this.timers.size;
  }

  /**
   * One decoded packet holding a TCP header, at `tsUs` (integer µs); returns the row of the
   * connection it went to, or -1 (dropped). `row`, `dir`: the packet's connection-table row and
   * direction when the caller looked it up (then the table must be the one given as `table`);
   * without them the tracker looks the packet up itself. A caller that passes its row pins it
   * (PACKET_HOLDER) for the call: a timer ending the row's connection must not free it.
   */
  packet(tsUs: number, p: DecodedPacket, info: ZeekPacketInfo = {}, row = -1, dir = 0): number {
    if (this.finished) throw new Error('ZeekConnTracker: packet after finish()');
    this.advanceClock(tsUs);
    return this.process(tsUs, p, info, row, dir);
  }

  private process(tsUs: number, p: DecodedPacket, info: ZeekPacketInfo, row: number, dir: number): number {
    if (p.ipVersion === 0) return -1;
    if (this.verifyChecksums && (info.ipChecksum ?? ipv4HeaderChecksum(p)) === 'bad') return -1; // bad_IP_checksum: dropped

    const ipEnd = zeekIpEnd(p, info.frameEnd);
    if (ipEnd === null) return -1; // truncated_IP: the IP length runs past the frame
    const seg = this.segment(tsUs, p, ipEnd, info);

    if (row < 0) {
      row = this.table.lookup(p);
      dir = this.table.dir;
    }
    const sessions = this.sessions;
    let slot = sessions.slotOf(row);
    if (slot === NO_SLOT) {
      // A lone SYN: its SYN again is counted in its record; anything else needs its slot.
      const lone = sessions.loneOf(row);
      if (lone !== NO_SLOT) {
        if (sessions.repeatLone(lone, dir, seg)) return row;
        slot = sessions.promote(lone);
      }
    }
    if (slot !== NO_SLOT && sessions.isReuse(slot, seg)) {
      this.end(slot, true); // connection_reused
      slot = NO_SLOT;
    }
    if (slot === NO_SLOT) {
      slot = this.newConnection(row, dir, p, seg);
      if (slot === NO_SLOT) return row; // a lone SYN
    }
    sessions.deliver(slot, sessions.senderEnd(slot, dir), seg);
    return row;
  }

  /** A packet without a TCP header at `tsUs`: Zeek's clock, and so its timers, move with every packet. */
  tick(tsUs: number): void {
    if (this.finished) throw new Error('ZeekConnTracker: packet after finish()');
    this.advanceClock(tsUs);
  }

  /** End of input: every connection still alive is logged in its current state, oldest first. */
  finish(): ZeekConn[] {
    if (!this.finished) {
      this.finished = true;
      const sessions = this.sessions;
      const alive: number[] = [];
      for (let row = 0; row < this.table.capacity; row++) if (sessions.has(row)) alive.push(row);
      for (let i = 0; i < alive.length; i++) alive[i] = sessions.slotOf(alive[i]);
      alive.sort((a, b) => sessions.serialOf(a) - sessions.serialOf(b));
      // Lone SYNs are in the order they came, which is their serials' order: the two lists are merged.
      const lone: number[] = [];
      sessions.lone.forEach((r) => lone.push(r));
      const serials = sessions.lone.c.serial;
      for (let i = 0, j = 0; i < alive.length || j < lone.length; ) {
        if (j === lone.length || (i < alive.length && sessions.serialOf(alive[i]) < serials[lone[j]])) this.end(alive[i++], false);
        else this.endLone(lone[j++]);
      }
    }
    return this.rows;
  }

  /** The serial of the connection on `row` (0: none): which one a flow starting now is in. */
  serialOn(row: number): number {
    const slot = this.sessions.slotOf(row);
    if (slot !== NO_SLOT) return this.sessions.serialOf(slot);
    const lone = this.sessions.loneOf(row);
    return lone === NO_SLOT ? 0 : this.sessions.lone.c.serial[lone];
  }

  /** The connection on `row` is evicted (the memory budget): logged as it stands, and forgotten, as Zeek's removal does. */
  evict(row: number): void {
    const slot = this.sessions.slotOf(row);
    if (slot !== NO_SLOT) this.end(slot, false);
    const lone = this.sessions.loneOf(row);
    if (lone !== NO_SLOT) this.endLone(lone);
  }

  // ---------------------------------------------------------------- SessionHost

  networkTime(): number {
    return this.now;
  }

  /** session_mgr->Remove: the connection is logged and forgotten. */
  remove(slot: number): void {
    this.end(slot, false);
  }

  // ---------------------------------------------------------------- internals

  /**
   * The connection in `slot` is logged and leaves it and its row; the row is let go unless a new
   * one follows at once (`keep`).
   */
  private end(slot: number, keep: boolean): void {
    const row = this.sessions.rowOf(slot);
    const serial = this.sessions.serialOf(slot);
    const origEnd = this.sessions.origEndOf(slot);
    const conn = this.sessions.toConn(slot);
    this.sessions.end(slot);
    this.live--;
    if (this.onConn) this.onConn(conn, row, serial, origEnd);
    else this.rows.push(conn);
    if (!keep) this.table.release(row, ZEEK_HOLDER);
  }

  /** The lone SYN in record `r` is logged and leaves its row (its attempt timer, the end, an eviction). */
  private endLone(r: number): void {
    const sessions = this.sessions;
    const row = sessions.lone.c.row[r];
    const serial = sessions.lone.c.serial[r];
    const origEnd = sessions.lone.c.origEnd[r];
    const conn = sessions.loneConn(r);
    sessions.endLone(r);
    this.live--;
    if (this.onConn) this.onConn(conn, row, serial, origEnd);
    else this.rows.push(conn);
    this.table.release(row, ZEEK_HOLDER);
  }

  /** Network time never goes back; timers due by then fire before the packet. */
  private advanceClock(tsUs: number): void {
    if (tsUs > this.now) this.now = tsUs;
    this.fireTimers(this.now, this.tuning.maxTimerExpires);
  }

  /**
   * Fires the timers due at `now`, earliest first (canceled ones are dropped without counting), at
   * most `maxPerPacket`. The lone SYNs' timers (lone-syns.ts), not queued, take their turn by the
   * oldest one's due time and order: its expire timer re-arms (a check canceled at once: orders are
   * only compared, so the one it would take is not needed) and its attempt timer, next in line, logs it. When only the expire timer may still fire, the connection takes
   * its slot and its timers are queued: they fire from there.
   */
  private fireTimers(now: number, maxPerPacket: number): void {
    const timers = this.timers;
    // Nothing can be due before the earliest time known at the last full look, or any timer or
    // lone SYN queued since: most packets end here (no calls, no number boxed for them).
    if (now < this.nextDue && now < timers.queuedLow[0]) return;
    const sessions = this.sessions;
    let fired = 0;
    let loneDue = Infinity;
    for (;;) {
      if (maxPerPacket > 0 && fired >= maxPerPacket) {
        this.nextDue = -Infinity; // more may be due: the next packet looks again
        return;
      }
      const lone = sessions.lone.first();
      loneDue = Infinity;
      if (lone !== NO_SLOT) {
        const due = sessions.loneDue(lone);
        loneDue = due;
        const queued = timers.peek();
        if (due <= now && (due < queued || (due === queued && sessions.lone.c.order[lone] < timers.topOrder()))) {
          if (maxPerPacket > 0 && fired + 2 > maxPerPacket) {
            sessions.promote(lone);
            continue;
          }
          fired += 2;
          this.endLone(lone);
          continue;
        }
      }
      if (timers.peek() > now) {
        // Removals only make the earliest later: this stays a lower bound until something is queued.
        this.nextDue = Math.min(loneDue, timers.peek());
        timers.queuedLow[0] = Infinity;
        return;
      }
      const slot = this.sessions.slotOf(timers.topRow());
      const kind = timers.topKind();
      const stands = slot !== NO_SLOT && this.sessions.standsAt(slot, timers.topSerial(), kind, timers.topEpoch(), timers.topOrder());
      timers.pop();
      if (!stands) {
        timers.stale--;
        continue;
      }
      fired++;
      this.sessions.fire(slot, kind, now);
    }
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

  /**
   * IPBasedAnalyzer::NewConn on `row`: the sender (end `dir`) is the originator unless the port
   * heuristic flips it. Returns the connection's slot, or NO_SLOT for a lone SYN (processed then).
   */
  private newConnection(row: number, dir: number, p: DecodedPacket, seg: ZeekSegment): number {
    const selfPair = isSelfPair(p);
    this.table.hold(row, ZEEK_HOLDER);
    this.live++;
    if (this.sessions.startsLone(seg, selfPair)) {
      this.sessions.beginLone(row, dir, seg);
      return NO_SLOT;
    }
    const flip = this.likelyServerFlip(seg.flags, p.srcPort, p.dstPort) && !isBroadcast(p);
    return this.sessions.begin(row, dir, selfPair, seg.tsUs, seg.frame, flip);
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

/** The packet goes to 255.255.255.255. */
function isBroadcast(p: DecodedPacket): boolean {
  if (p.ipVersion !== 4) return false;
  const b = p.buf;
  const o = p.dstOff;
  return (b[o] & b[o + 1] & b[o + 2] & b[o + 3]) === 255;
}

/** Source and destination are the same address and port. */
function isSelfPair(p: DecodedPacket): boolean {
  if (p.srcPort !== p.dstPort) return false;
  const b = p.buf;
  const n = p.ipVersion === 4 ? 4 : 16;
  for (let i = 0; i < n; i++) if (b[p.srcOff + i] !== b[p.dstOff + i]) return false;
  return true;
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
