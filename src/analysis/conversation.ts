/**
 * Wireshark's view of TCP conversations, as the sequence analysis needs it:
 * one conversation (= one `tcp.stream`) per unordered pair of (address, port)
 * endpoints, two per-direction flows inside it, and a table that finds the
 * conversation of a packet.
 *
 * Not the flow table of src/flow: Wireshark's semantics differ on purpose
 * (no VLAN or interface in the key, FIN/RST/idle time never split a stream,
 * only a port-reuse SYN does) and the oracle is Wireshark.
 *
 * Memory: Wireshark keeps every conversation, and every unacked segment, for the
 * whole file. We keep a conversation while it is live and sweep it by packet time
 * (ConversationTable.sweep); see DIFFERENCES.md for what that changes.
 */
import type { DecodedPacket } from '../decode/packet.js';

type Endpoints = Pick<DecodedPacket, 'ipVersion' | 'buf' | 'srcOff' | 'dstOff' | 'srcPort' | 'dstPort'>;
import { gtSeq, leSeq } from './seq.js';
import { FrozenStore, freezer, type Frozen, type NumberReader, type NumberWriter } from '../util/number.js';

/** Wireshark's TCP_MAX_UNACKED_SEGMENTS: a direction stops recording segments beyond this many unacked ones. */
export const MAX_UNACKED_SEGMENTS = 10000;

/** The "window not seen yet" value of a flow (G_MAXUINT32; never equal to a 16-bit window). */
export const WINDOW_UNSET = 0xffffffff;

/** Window scale of a flow: not known yet (no SYN seen with or without the option). */
export const WSCALE_UNKNOWN = -1;
/** Window scale of a flow: scaling is not in use on this connection (the raw window is the window). */
export const WSCALE_NOT_USED = -2;

/** Value dupAckCount takes after an "ACKed unseen" beyond everything (makes it fire once per stall). */
export const DUPACK_SENTINEL = 0xffffffff;

const EMPTY = new Float64Array(0);
/** Numbers per entry: frame, seq, nextSeq, time (µs), extra ns. */
const STRIDE = 5;
/** Entries of a list's first array (kept when the list empties; a larger one is given up). */
const FIRST_CAPACITY = 2;
/** Emptied lists kept for the next directions that send (allocating a typed array costs more than analysing a packet). */
const MAX_SPARE = 4096;

/**
 * Segments sent but not acknowledged yet (Wireshark's `tcp_unacked_t` list), kept in
 * sending order, STRIDE numbers an entry in one array. Holds at most
 * MAX_UNACKED_SEGMENTS entries. A direction holds a list only while something is
 * unacknowledged (TcpFlow.unacked): most conversations spend most of their life (and
 * all of it once closed) with everything acknowledged, and then cost nothing here.
 */
export class UnackedSegments {
  count = 0;
  // Allocated on the first push and grown by doubling.
  private d: Float64Array = EMPTY;
  /** Set by ack(): the frame whose segment end the ack matches exactly (0 when none), and when it was sent. */
  ackedFrame = 0;
  ackedUs = 0;
  ackedNs = 0;
  /** The last ack value applied and how many (oldest) entries had already survived it. */
  private lastAck = -1;
  private survivors = 0;

  frame(i: number): number {
    return this.d[i * STRIDE];
  }

  seq(i: number): number {
    return this.d[i * STRIDE + 1];
  }

  nextSeq(i: number): number {
    return this.d[i * STRIDE + 2];
  }

  tsUs(i: number): number {
    return this.d[i * STRIDE + 3];
  }

  tsNs(i: number): number {
    return this.d[i * STRIDE + 4];
  }

  push(frame: number, seq: number, nextSeq: number, tsUs: number, tsNs: number): void {
    if (this.count * STRIDE === this.d.length) this.grow();
    const o = this.count++ * STRIDE;
    const d = this.d;
    d[o] = frame;
    d[o + 1] = seq;
    d[o + 2] = nextSeq;
    d[o + 3] = tsUs;
    d[o + 4] = tsNs;
  }

  /**
   * Apply an acknowledgement number from the other direction: drop the segments it
   * covers, trim the one it cuts, and note the segment whose end it matches exactly
   * (as Wireshark walks its list newest first, the oldest such match is the one kept).
   * The ACK bit is not looked at, as in Wireshark.
   */
  ack(ack: number): void {
    this.ackedFrame = 0;
    const n = this.count;
    if (n === 0) return;
    const d = this.d;
    // Entries that survived this same ack value before are unchanged by it: only newer ones need a look.
    let w = ack === this.lastAck ? this.survivors : 0;
    for (let i = w; i < n; i++) {
      const o = i * STRIDE;
      const end = d[o + 2];
      if (ack === end) {
        if (this.ackedFrame === 0) {
          this.ackedFrame = d[o];
          this.ackedUs = d[o + 3];
          this.ackedNs = d[o + 4];
        }
        continue; // acked exactly: dropped
      }
      if (gtSeq(ack, d[o + 1]) && leSeq(ack, end)) d[o + 1] = ack; // partly acked: trimmed
      else if (!gtSeq(end, ack)) continue; // wholly acked: dropped
      if (w !== i) d.copyWithin(w * STRIDE, o, o + STRIDE);
      w++;
    }
    this.count = w;
    this.lastAck = ack;
    this.survivors = w;
  }

  /** Back to new (only when empty), keeping a first-size array: an emptied list can serve another direction. */
  reset(): void {
    if (this.d.length > FIRST_CAPACITY * STRIDE) this.d = EMPTY;
    this.ackedFrame = 0;
    this.ackedUs = 0;
    this.ackedNs = 0;
    this.lastAck = -1;
    this.survivors = 0;
  }

  private grow(): void {
    if (this.d.length === 0) {
      this.d = new Float64Array(FIRST_CAPACITY * STRIDE);
      return;
    }
    const d = new Float64Array(Math.min(this.count * 2, MAX_UNACKED_SEGMENTS) * STRIDE);
    d.set(this.d.subarray(0, this.count * STRIDE));
    this.d = d;
  }
}

/**
 * One direction of a conversation (Wireshark's `tcp_flow_t` with its
 * `tcp_analyze_seq_info`). All sequence and ack values are raw 32-bit numbers;
 * 0 means "unset" for nextSeq, maxSeqToBeAcked and lastAck, as in Wireshark.
 */
export class TcpFlow {
  /** The recorded ISN (Wireshark's base_seq), used for port-reuse decisions. */
  baseSeq = 0;
  baseSeqSet = false;
  /** Highest sequence end seen so far. */
  nextSeq = 0;
  nextSeqFrame = 0;
  nextSeqUs = 0;
  nextSeqNs = 0;
  /** Contiguous high-water mark: the most the other side can legitimately ACK. */
  maxSeqToBeAcked = 0;
  /** Raw ack field of this direction's previous packet (ACK bit or not). */
  lastAck = 0;
  /** Time of this direction's previous packet. */
  lastAckUs = 0;
  lastAckNs = 0;
  /** Raw window field of this direction's previous packet. */
  window = WINDOW_UNSET;
  /** Shift (0..14), WSCALE_UNKNOWN or WSCALE_NOT_USED. */
  winScale = WSCALE_UNKNOWN;
  /** Between this direction's SYN and its first ACK without SYN: its window is unscaled. */
  isFirstAck = false;
  /** Dup ACKs sent by this direction since its ack value last changed (or DUPACK_SENTINEL). */
  dupAckCount = 0;
  /** Last frame of this direction whose ack value changed. */
  lastNonDupAckFrame = 0;
  /** Analysis flags of this direction's previous packet. */
  lastFlags = 0;
  /** Bytes in flight can be computed (off after a lost segment until the other side ACKs). */
  validBif = true;
  /** This direction sent at least one packet. */
  seen = false;
  /** SACK blocks of this direction's previous packet ([left, right) pairs), for bytes in flight (allocated when tracked). */
  sack: Uint32Array | null = null;
  sackCount = 0;
  /**
   * Segments of this direction not acknowledged yet. While there are none (most of a conversation's
   * life, and all of it once closed) this is the shared NO_UNACKED: a list is taken when a segment
   * is recorded and given back once everything is acknowledged.
   */
  unacked: UnackedSegments = NO_UNACKED;

  /** Record a segment sent (on the list from a spare one when it was empty). */
  pushUnacked(frame: number, seq: number, nextSeq: number, tsUs: number, tsNs: number): void {
    if (this.unacked === NO_UNACKED) this.unacked = spareLists.pop() ?? new UnackedSegments();
    this.unacked.push(frame, seq, nextSeq, tsUs, tsNs);
  }

  /** Give the list back if everything on it was acknowledged (after its ack() figures were read). */
  settleUnacked(): void {
    const u = this.unacked;
    if (u.count > 0 || u === NO_UNACKED) return;
    this.unacked = NO_UNACKED;
    u.reset();
    if (spareLists.length < MAX_SPARE) spareLists.push(u);
  }

  /** Append this direction to a frozen conversation: FLOW_FIELDS numbers, then its SACK blocks and unacked segments. */
  freezeInto(out: NumberWriter): void {
    const u = this.unacked;
    const bits = (this.baseSeqSet ? 1 : 0) | (this.isFirstAck ? 2 : 0) | (this.validBif ? 4 : 0) | (this.seen ? 8 : 0) | (this.sack !== null ? 16 : 0);
    out.add(this.baseSeq);
    out.add(this.nextSeq);
    out.add(this.nextSeqFrame);
    out.add(this.nextSeqUs);
    out.add(this.nextSeqNs);
    out.add(this.maxSeqToBeAcked);
    out.add(this.lastAck);
    out.add(this.lastAckUs);
    out.add(this.lastAckNs);
    out.add(this.window);
    out.add(this.winScale);
    out.add(this.dupAckCount);
    out.add(this.lastNonDupAckFrame);
    out.add(this.lastFlags);
    out.add(this.sackCount);
    out.add(u.count);
    out.add(bits);
    if (this.sack !== null) for (let i = 0; i < this.sack.length; i++) out.add(this.sack[i]);
    for (let i = 0; i < u.count; i++) {
      out.add(u.frame(i));
      out.add(u.seq(i));
      out.add(u.nextSeq(i));
      out.add(u.tsUs(i));
      out.add(u.tsNs(i));
    }
    if (u !== NO_UNACKED) {
      u.count = 0;
      this.settleUnacked();
    }
  }

  /** The direction freezeInto wrote, read from `r`. */
  thawFrom(r: NumberReader): void {
    this.baseSeq = r.next();
    this.nextSeq = r.next();
    this.nextSeqFrame = r.next();
    this.nextSeqUs = r.next();
    this.nextSeqNs = r.next();
    this.maxSeqToBeAcked = r.next();
    this.lastAck = r.next();
    this.lastAckUs = r.next();
    this.lastAckNs = r.next();
    this.window = r.next();
    this.winScale = r.next();
    this.dupAckCount = r.next();
    this.lastNonDupAckFrame = r.next();
    this.lastFlags = r.next();
    this.sackCount = r.next();
    const unacked = r.next();
    const bits = r.next();
    this.baseSeqSet = (bits & 1) !== 0;
    this.isFirstAck = (bits & 2) !== 0;
    this.validBif = (bits & 4) !== 0;
    this.seen = (bits & 8) !== 0;
    if (bits & 16) {
      this.sack = new Uint32Array(SACK_NUMBERS);
      for (let i = 0; i < SACK_NUMBERS; i++) this.sack[i] = r.next();
    }
    for (let i = 0; i < unacked; i++) this.pushUnacked(r.next(), r.next(), r.next(), r.next(), r.next());
  }
}

/** Numbers freezeInto writes for a direction before its variable parts, the last two its unacked count and flag bits; SACK blocks kept per direction (4 pairs). */
const FLOW_FIELDS = 17;
const FLOW_AT_UNACKED = 15;
const FLOW_AT_BITS = 16;
export const SACK_NUMBERS = 8;
/** Where a frozen conversation keeps what the sweep reads (see TcpConversation.freeze). */
const AT_LAST_SEEN = 5;
const AT_FLAGS = 6;
const AT_FLOW1 = 7;
/** Bit 3 of a frozen conversation's flags number: it got past its handshake (bits 0-2 are finMask). */
const PAST_HANDSHAKE = 8;

/** The list of every direction with nothing unacknowledged: never pushed to; its ack() only sets ackedFrame to 0. */
const NO_UNACKED = new UnackedSegments();
/** Emptied lists, for the next directions that send. */
const spareLists: UnackedSegments[] = [];

/** One Wireshark TCP conversation: one `tcp.stream`. */
export class TcpConversation {
  /** flow1 carries the packets whose source sorts first (see endpointOrder). */
  readonly flow1 = new TcpFlow();
  readonly flow2 = new TcpFlow();
  /** Time of the most recent SYN without ACK; (0, 0) = unset. */
  lastSynUs = 0;
  lastSynNs = 0;
  /** Initial RTT in ns (tcp.analysis.initial_rtt); 0 = not measured. */
  initialRttNs = 0;
  /** Sweep-clock time of the last packet (ConversationTable.advance). */
  lastSeen = 0;
  /** A RST was seen, or a FIN in each direction: only a short idle time keeps it. */
  finMask = 0;
  /** A segment without SYN was seen: the connection got past its handshake (a SYN flood's never do). */
  pastHandshake = false;
  /** The table holds this object under its key: false once it is replaced, frozen or forgotten (then it is a stale hint). */
  inTable = true;

  constructor(
    readonly stream: number,
    readonly key: string,
    readonly firstFrame: number,
  ) {}

  /** Closed (RST, or FIN both ways), never answered, or never past the handshake: swept after the short timeout. */
  get quiet(): boolean {
    return isQuiet(this.finMask, this.pastHandshake, this.flow1.seen, this.flow2.seen);
  }

  /**
   * Everything a later packet could need, as one record of numbers in `store` (no object per
   * field or direction): the conversation's own fields, each direction's fixed fields, then
   * each direction's SACK blocks and unacknowledged segments. Its lists go back to the pool.
   */
  freeze(store: FrozenStore): Frozen {
    freezer.add(this.stream);
    freezer.add(this.firstFrame);
    freezer.add(this.lastSynUs);
    freezer.add(this.lastSynNs);
    freezer.add(this.initialRttNs);
    freezer.add(this.lastSeen);
    freezer.add(this.finMask | (this.pastHandshake ? PAST_HANDSHAKE : 0));
    this.flow1.freezeInto(freezer);
    this.flow2.freezeInto(freezer);
    return store.put(freezer);
  }

  /** The conversation `freeze` made `f` of, as it was (`f` is released). */
  static thaw(key: string, store: FrozenStore, f: Frozen): TcpConversation {
    const r = store.reader(f);
    const c = new TcpConversation(r.next(), key, r.next());
    c.lastSynUs = r.next();
    c.lastSynNs = r.next();
    c.initialRttNs = r.next();
    c.lastSeen = r.next();
    const flags = r.next();
    c.finMask = flags & 7;
    c.pastHandshake = (flags & PAST_HANDSHAKE) !== 0;
    c.flow1.thawFrom(r);
    c.flow2.thawFrom(r);
    store.release(f);
    return c;
  }
}

function isQuiet(finMask: number, pastHandshake: boolean, seen1: boolean, seen2: boolean): boolean {
  return (finMask & 4) !== 0 || (finMask & 3) === 3 || !seen1 || !seen2 || !pastHandshake;
}

/** TcpConversation.quiet of a frozen conversation. */
function frozenQuiet(store: FrozenStore, f: Frozen): boolean {
  const flags = store.at(f, AT_FLAGS);
  const bits1 = store.at(f, AT_FLOW1 + FLOW_AT_BITS);
  const flow2 = AT_FLOW1 + FLOW_FIELDS + ((bits1 & 16) !== 0 ? SACK_NUMBERS : 0) + store.at(f, AT_FLOW1 + FLOW_AT_UNACKED) * STRIDE;
  return isQuiet(flags & 7, (flags & PAST_HANDSHAKE) !== 0, (bits1 & 8) !== 0, (store.at(f, flow2 + FLOW_AT_BITS) & 8) !== 0);
}

/**
 * Wireshark's direction of a packet: compare the source and destination
 * addresses (length first, then bytes), then the ports. >= 0 means the packet
 * belongs to flow1 of its conversation, < 0 to flow2.
 */
export function endpointOrder(p: Endpoints): number {
  const b = p.buf;
  const n = p.ipVersion === 4 ? 4 : 16;
  for (let i = 0; i < n; i++) {
    const d = b[p.srcOff + i] - b[p.dstOff + i];
    if (d !== 0) return d;
  }
  return p.srcPort > p.dstPort ? 1 : -1;
}

/** The conversation key: both endpoints, flow1's source first, as UTF-16 code units (no allocation beyond the string). */
export function conversationKey(p: Endpoints, order: number): string {
  const b = p.buf;
  const a = order >= 0 ? p.srcOff : p.dstOff;
  const z = order >= 0 ? p.dstOff : p.srcOff;
  const pa = order >= 0 ? p.srcPort : p.dstPort;
  const pz = order >= 0 ? p.dstPort : p.srcPort;
  if (p.ipVersion === 4) {
    return String.fromCharCode((b[a] << 8) | b[a + 1], (b[a + 2] << 8) | b[a + 3], pa, (b[z] << 8) | b[z + 1], (b[z + 2] << 8) | b[z + 3], pz);
  }
  return String.fromCharCode(
    (b[a] << 8) | b[a + 1], (b[a + 2] << 8) | b[a + 3], (b[a + 4] << 8) | b[a + 5], (b[a + 6] << 8) | b[a + 7],
    (b[a + 8] << 8) | b[a + 9], (b[a + 10] << 8) | b[a + 11], (b[a + 12] << 8) | b[a + 13], (b[a + 14] << 8) | b[a + 15],
    pa,
    (b[z] << 8) | b[z + 1], (b[z + 2] << 8) | b[z + 3], (b[z + 4] << 8) | b[z + 5], (b[z + 6] << 8) | b[z + 7],
    (b[z + 8] << 8) | b[z + 9], (b[z + 10] << 8) | b[z + 11], (b[z + 12] << 8) | b[z + 13], (b[z + 14] << 8) | b[z + 15],
    pz,
    0x6, // IPv6 keys are 19 units long, IPv4 keys 6: never equal
  );
}

export interface ConversationTimeouts {
  /** Idle time after which a live conversation is forgotten (µs; Infinity: never, as Wireshark). */
  idleUs: number;
  /** Idle time after which a closed or one-sided conversation is forgotten (µs). */
  quietUs: number;
  /** Idle time after which a conversation is kept frozen (TcpConversation.freeze) until its next packet (µs). */
  freezeUs: number;
}

/** The sweep clock moves forward by at most this much per packet (µs), so one bogus timestamp cannot age the whole table. */
const MAX_CLOCK_STEP_US = 60_000_000;
/** The table is swept once per this much sweep-clock time (µs). */
const SWEEP_EVERY_US = 10_000_000;

/**
 * The conversation table: the latest conversation per key (Wireshark uses the most
 * recently created one at or before the current frame, which in a single pass in
 * file order is the latest). Stream indexes count up from 0 in order of creation.
 *
 * Idle conversations are forgotten by packet time, on a clock that only moves
 * forward, at most MAX_CLOCK_STEP_US per packet: a timestamp jump (forward or back)
 * or a long silent gap in the capture does not age every conversation at once.
 */
export class ConversationTable {
  /** Live conversations as objects; idle ones frozen into records of numbers (most of the table: closed ones wait out the quiet timeout). */
  private readonly map = new Map<string, TcpConversation | Frozen>();
  /** Frozen conversations' records: 46 numbers hold the fixed fields and one unacked segment (all of the bench mix's; more get an array). */
  private readonly store = new FrozenStore(46);
  private streams = 0;
  /** Sweep clock (µs), and the last packet time that moved it. */
  private clock = 0;
  private lastTsUs = NaN;
  private nextSweep = SWEEP_EVERY_US;
  /** Conversations forgotten by the sweep so far. */
  swept = 0;
  /** Conversations frozen, and frozen ones brought back by a packet, so far. */
  frozen = 0;
  thawed = 0;

  constructor(private readonly timeouts: ConversationTimeouts) {}

  get size(): number {
    return this.map.size;
  }

  /** There is a conversation (live or frozen) under `key`. */
  has(key: string): boolean {
    return this.map.has(key);
  }

  /** The conversation under `key`, thawed if it was frozen. */
  get(key: string): TcpConversation | undefined {
    const c = this.map.get(key);
    if (c === undefined || c instanceof TcpConversation) return c;
    const live = TcpConversation.thaw(key, this.store, c);
    this.map.set(key, live);
    this.thawed++;
    return live;
  }

  /** A new conversation for `key` (replacing any earlier one under that key) with the next stream index, or `stream` reserved earlier. */
  create(key: string, frame: number, stream = -1): TcpConversation {
    const c = new TcpConversation(stream >= 0 ? stream : this.streams++, key, frame);
    const old = this.map.get(key);
    if (old instanceof TcpConversation) old.inTable = false;
    else if (old !== undefined) this.store.release(old);
    this.map.set(key, c);
    return c;
  }

  /** A stream index for a conversation created later (see SequenceAnalyzer.reserve). */
  reserveStream(): number {
    return this.streams++;
  }


  /** Advance the sweep clock to packet time `tsUs`; returns the clock, for TcpConversation.lastSeen. */
  advance(tsUs: number): number {
    const step = tsUs - this.lastTsUs;
    if (step > 0) this.clock += Math.min(step, MAX_CLOCK_STEP_US);
    this.lastTsUs = tsUs;
    return this.clock;
  }

  /** After a packet: forget idle conversations once per SWEEP_EVERY_US of clock. */
  maybeSweep(): void {
    if (this.clock < this.nextSweep) return;
    this.nextSweep = this.clock + SWEEP_EVERY_US;
    const { idleUs, quietUs, freezeUs } = this.timeouts;
    if (idleUs === Infinity && quietUs === Infinity && freezeUs === Infinity) return;
    this.sweep();
  }

  /** Forget conversations idle for longer than their timeout; freeze those idle for longer than timeouts.freezeUs. */
  sweep(): void {
    const { idleUs, quietUs, freezeUs } = this.timeouts;
    const store = this.store;
    for (const [key, c] of this.map) {
      const live = c instanceof TcpConversation;
      const idle = this.clock - (live ? c.lastSeen : store.at(c, AT_LAST_SEEN));
      if (idle > quietUs && (idle > idleUs || (live ? c.quiet : frozenQuiet(store, c)))) {
        this.map.delete(key);
        if (live) c.inTable = false;
        else store.release(c);
        this.swept++;
      } else if (live && idle >= freezeUs) this.freeze(key, c);
    }
  }

  /** Freeze every conversation idle for timeouts.freezeUs or longer now, without waiting for the next sweep. */
  freezeIdle(): void {
    const { freezeUs } = this.timeouts;
    for (const [key, c] of this.map) {
      if (c instanceof TcpConversation && this.clock - c.lastSeen >= freezeUs) this.freeze(key, c);
    }
  }

  private freeze(key: string, c: TcpConversation): void {
    c.inTable = false;
    this.map.set(key, c.freeze(this.store));
    this.frozen++;
  }
}
