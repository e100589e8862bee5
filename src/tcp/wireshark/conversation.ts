/**
 * Wireshark's view of TCP conversations, as the sequence analysis needs it, kept on
 * the rows of the connection table (conn/table.ts): one conversation (= one
 * `tcp.stream`) per endpoint pair at a time, two directions ("flows") inside it.
 *
 * Storage, no object per conversation:
 * - a row with a conversation has a dense slot of the analysis's own (conn/slots.ts),
 *   bound when the conversation opens on the row and given back when it is forgotten: the
 *   columns are as long as the conversations held, not as the whole table (a SYN flood's
 *   rows that the analysis has let go of cost it 4 bytes each, the row's slot number);
 * - the conversation's numbers are columns at its slot (`conv`);
 * - each direction's numbers are columns at index 2 * slot + dir (`flows`), dir as the
 *   table gives it (0: the packet's source is the pair's lower endpoint). Wireshark's
 *   flow1 (source sorts after destination) is dir 1, its flow2 dir 0; nothing shown
 *   depends on which is which;
 * - unacknowledged segments and SACK blocks are records of two pools, a direction
 *   holding the head of its lists.
 *
 * Wireshark's semantics stay its own, apart from the RFC 793 flow's: no VLAN or
 * interface in the key, FIN/RST/idle time never end a stream, only a port-reuse SYN
 * restarts it (`open` on a row already held: the latest conversation per key wins).
 *
 * Memory: Wireshark keeps every conversation, and every unacked segment, for the whole
 * file. We hold a row (holder bit HOLDER) while its conversation is live and let it go
 * by packet time, on a clock of our own (`advance`); see DIFFERENCES.md for what that
 * changes.
 */
import { ColumnSet, type ColumnSpec } from '../../conn/columns.js';
import { NONE, Pool } from '../../conn/pool.js';
import { Slots } from '../../conn/slots.js';
import type { ConnTable } from '../../conn/table.js';
import { TimerHeap } from '../../conn/timers.js';
import { gtSeq, leSeq } from './seq.js';

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

/** SACK blocks kept per direction (Wireshark reads at most 4). */
export const MAX_SACK_BLOCKS = 4;

/** The connection table's holder bit of the sequence analysis. */
export const HOLDER = 1;
/** Timer tag of a conversation's idle check (Wireshark's tags are 16-31). */
const TIMER_IDLE = 16;
/** Bytes of one timer heap entry (due, row, generation, tag). */
const TIMER_ENTRY_BYTES = 17;

/** Conversation `state` bits: a FIN from dir 0, from dir 1; a RST; a segment without SYN. */
export const FIN_DIR0 = 1;
export const RST_SEEN = 4;
export const PAST_HANDSHAKE = 8;
/** On the quiet list of its kind (QUIET_LIST << kind, kind 0: never past the handshake, 1: the other quiet ones). */
const QUIET_LIST = 16;
const ON_A_QUIET_LIST = 3 * QUIET_LIST;
/** Quiet and idle past the quiet timeout: kept without its segment and SACK records. */
const COMPACTED = 64;
/** Has its entry in the timer heap (a conversation that was live in the last quietUs or so). */
const TIMER = 128;

/** Flow `bits`. */
export const BASE_SEQ_SET = 1;
/** Between this direction's SYN and its first ACK without SYN: its window is unscaled. */
export const FIRST_ACK = 2;
/** Bytes in flight cannot be computed (after a lost segment, until the other side ACKs). */
export const NO_BIF = 4;
/** This direction sent at least one packet. */
export const SEEN = 8;
/** `ackApplied` holds the last ack value applied to the unacked list. */
const ACK_APPLIED = 16;
/** This direction's previous packet was flagged KEEP_ALIVE, ZERO_WINDOW_PROBE (the only analysis flags read back). */
export const LAST_KEEP_ALIVE = 32;
export const LAST_ZERO_WINDOW_PROBE = 64;
/** `window` holds this direction's previous raw window (else it is WINDOW_UNSET). */
export const WINDOW_SET = 128;

/** One Wireshark TCP conversation (one `tcp.stream`), at its slot. */
const CONVERSATION = {
  stream: Uint32Array,
  /** Time of the most recent SYN without ACK; (0, 0) = unset. */
  lastSynUs: Float64Array,
  lastSynNs: Uint16Array,
  /** Initial RTT in ns (tcp.analysis.initial_rtt); 0 = not measured. */
  initialRttNs: Float64Array,
  /** Sweep-clock time of the last packet (advance). */
  lastSeen: Float64Array,
  /** FIN_DIR0 << dir, RST_SEEN, PAST_HANDSHAKE, QUIET_LIST << kind, COMPACTED, TIMER. */
  state: Uint8Array,
  /** The rows (not slots) before and after this one on its quiet list (least recently seen first). */
  quietPrev: Int32Array,
  quietNext: Int32Array,
};

/**
 * One direction of a conversation (Wireshark's `tcp_flow_t` with its
 * `tcp_analyze_seq_info`), at 2 * slot + dir. Sequence and ack values are raw 32-bit
 * numbers; 0 means "unset" for nextSeq, maxSeqToBeAcked and lastAck, as in Wireshark.
 * Conversations.open sets every field one by one: a field added here is added there.
 */
const FLOW = {
  /** The recorded ISN (Wireshark's base_seq), used for port-reuse decisions (BASE_SEQ_SET). */
  baseSeq: Uint32Array,
  /** Highest sequence end seen so far, with the frame and time that set it. */
  nextSeq: Uint32Array,
  nextSeqFrame: Uint32Array,
  nextSeqUs: Float64Array,
  nextSeqNs: Uint16Array,
  /** Contiguous high-water mark: the most the other side can legitimately ACK. */
  maxSeqToBeAcked: Uint32Array,
  /** Raw ack field of this direction's previous packet (ACK bit or not), and its time. */
  lastAck: Uint32Array,
  lastAckUs: Float64Array,
  lastAckNs: Uint16Array,
  /** Raw (16-bit) window field of this direction's previous packet, when WINDOW_SET (WINDOW_UNSET before). */
  window: Uint16Array,
  /** Shift (0..14), WSCALE_UNKNOWN or WSCALE_NOT_USED. */
  winScale: Int8Array,
  /** Dup ACKs sent by this direction since its ack value last changed (or DUPACK_SENTINEL). */
  dupAckCount: Uint32Array,
  /** Last frame of this direction whose ack value changed. */
  lastNonDupAckFrame: Uint32Array,
  /** BASE_SEQ_SET, FIRST_ACK, NO_BIF, SEEN, ACK_APPLIED, LAST_KEEP_ALIVE, LAST_ZERO_WINDOW_PROBE, WINDOW_SET. */
  bits: Uint8Array,
  /** SACK blocks of this direction's previous packet: how many, and the head of their records (when tracked). */
  sackCount: Uint8Array,
  sack: Int32Array,
  /** Segments of this direction not acknowledged yet, oldest first: head, tail and count. */
  unacked: Int32Array,
  unackedTail: Int32Array,
  unackedCount: Uint16Array,
  /** The last ack value applied to the list (ACK_APPLIED) and the list's last record after it: those before survive it again. */
  ackApplied: Uint32Array,
  survivor: Int32Array,
};

/** An unacknowledged segment: [seq, nextSeq) sent in `frame` at (tsUs, tsNs). */
const SEGMENT = {
  frame: Uint32Array,
  seq: Uint32Array,
  nextSeq: Uint32Array,
  tsUs: Float64Array,
  tsNs: Uint16Array,
};

/** A SACK block [left, right). */
const SACK_BLOCK = {
  left: Uint32Array,
  right: Uint32Array,
};

export interface ConversationLimits {
  /** Idle time after which a live conversation is forgotten (µs; Infinity: never, as Wireshark). */
  idleUs: number;
  /** Idle time after which a quiet (closed, one-sided or handshake-only) conversation gives up its segment lists (µs). */
  quietUs: number;
  /** Quiet conversations kept at most: beyond, the least recently seen is forgotten, handshake-only ones first. */
  maxQuiet: number;
}

/** The sweep clock moves forward by at most this much per packet (µs), so one bogus timestamp cannot age the whole table. */
const MAX_CLOCK_STEP_US = 60_000_000;
/** The table is swept once per this much sweep-clock time (µs). */
const SWEEP_EVERY_US = 10_000_000;

/**
 * The conversations: the latest one per endpoint pair (Wireshark uses the most
 * recently created one at or before the current frame, which in a single pass in
 * file order is the latest). Stream indexes count up from 0 in order of creation.
 *
 * Wireshark never forgets a conversation. We keep every quiet one (closed, one-sided,
 * or never past its handshake: what a SYN flood leaves), as Wireshark does, but once
 * idle for quietUs without its segment and SACK records (`compact`: a few hundred bytes
 * of columns are left), and at most maxQuiet of them: past that, the least recently
 * seen is forgotten, one that never got past its handshake first. A live conversation
 * idle for idleUs (two hours by default) is forgotten.
 *
 * Idle time is packet time on a clock that only moves forward, at most
 * MAX_CLOCK_STEP_US per packet: a timestamp jump (forward or back) or a long silent
 * gap in the capture does not age every conversation at once. The sweep, every
 * SWEEP_EVERY_US of clock, finds what has been idle too long in two ways:
 * - the quiet conversations are on two lists (intrusive, in columns; by kind), least
 *   recently seen first, which a packet of theirs moves to the end: the compacted ones
 *   are a prefix of each list, and the sweep compacts on from where it stopped;
 * - a live conversation has one entry in a timer heap, due when it could first be
 *   idle long enough, and due again every quietUs while it is live: the sweep takes the
 *   entries due, forgets what has been idle too long, queues the others again and
 *   drops the entries of those that went quiet. A packet costs the timers nothing.
 */
export class Conversations {
  /** The conversations' slots, and each one's two directions at 2 * slot + dir. */
  readonly flowSlots: Slots<typeof FLOW>;
  /** The conversation's own numbers, at its slot (as many slots as flowSlots has). */
  readonly conv = new ColumnSet(CONVERSATION, 64);
  readonly segments = new Pool(SEGMENT);
  readonly sacks = new Pool(SACK_BLOCK);
  /** Set by ack(): the frame whose segment end the ack matches exactly (0 when none), and when it was sent. */
  ackedFrame = 0;
  ackedUs = 0;
  ackedNs = 0;
  /** Conversations held now; forgotten idle so far, and forgotten past maxQuiet; compacted so far. */
  size = 0;
  swept = 0;
  evicted = 0;
  compacted = 0;
  /** Quiet conversations held now (on a quiet list). */
  quietCount = 0;
  private readonly timers = new TimerHeap();
  /** Head (least recently seen) and tail of each quiet list, by kind, and its first conversation not compacted. */
  private readonly quietHead = new Int32Array([NONE, NONE]);
  private readonly quietTail = new Int32Array([NONE, NONE]);
  private readonly compactFrom = new Int32Array([NONE, NONE]);
  private streams = 0;
  /** Sweep clock (µs), and the last packet time that moved it. */
  private clock = 0;
  private lastTsUs = NaN;
  private nextSweep = SWEEP_EVERY_US;

  constructor(
    readonly table: ConnTable,
    private readonly limits: ConversationLimits,
  ) {
    this.flowSlots = new Slots(table, FLOW, 2);
  }

  /** The directions' columns, at 2 * slot + dir (re-read after open(): they grow). */
  get flows(): ColumnSet<typeof FLOW> {
    return this.flowSlots.set;
  }

  /** Bytes of the columns (with the table's row-to-slot column) and pools as allocated now, and of the timer entries in use. */
  get bytes(): number {
    const pooled = (p: Pool<ColumnSpec>) => p.capacity * (p.rowBytes + 4);
    const flows = this.flowSlots.set;
    const slotMap = this.table.capacity * 4 + this.flowSlots.capacity * 4;
    const columns = this.conv.capacity * this.conv.rowBytes + flows.capacity * flows.rowBytes + slotMap;
    return columns + pooled(this.segments) + pooled(this.sacks) + this.timers.size * TIMER_ENTRY_BYTES;
  }

  /** There is a conversation on the row. */
  has(row: number): boolean {
    return this.table.isHeld(row, HOLDER);
  }

  /** The slot of the row's conversation (the row has one: has(row)). */
  slotOf(row: number): number {
    return this.flowSlots.slotOf(row);
  }

  /**
   * A new conversation on the row (replacing the one it had, if any) with the next stream
   * index; both directions fresh. `clock` is the packet's. Returns its slot (the one the row
   * had, if it had a conversation).
   */
  open(row: number, clock: number): number {
    let slot: number;
    if (this.table.isHeld(row, HOLDER)) {
      slot = this.flowSlots.slotOf(row);
      this.releaseLists(slot);
    } else {
      this.table.hold(row, HOLDER);
      slot = this.flowSlots.bind(row);
      this.conv.ensure(this.flowSlots.capacity);
      this.size++;
      this.conv.c.state[slot] = 0;
    }
    const c = this.conv.c;
    c.stream[slot] = this.streams++;
    c.lastSynUs[slot] = 0;
    c.lastSynNs[slot] = 0;
    c.initialRttNs[slot] = 0;
    c.lastSeen[slot] = clock;
    // Its place on a quiet list and its timer entry stay (settle() after the packet moves them).
    c.state[slot] &= ON_A_QUIET_LIST | COMPACTED | TIMER;
    const d = this.flowSlots.c;
    // Field by field (ColumnSet.clear goes through every column by name: slower by far, per connection).
    for (let f = 2 * slot; f <= 2 * slot + 1; f++) {
      d.baseSeq[f] = 0;
      d.nextSeq[f] = 0;
      d.nextSeqFrame[f] = 0;
      d.nextSeqUs[f] = 0;
      d.nextSeqNs[f] = 0;
      d.maxSeqToBeAcked[f] = 0;
      d.lastAck[f] = 0;
      d.lastAckUs[f] = 0;
      d.lastAckNs[f] = 0;
      d.window[f] = 0;
      d.winScale[f] = WSCALE_UNKNOWN;
      d.dupAckCount[f] = 0;
      d.lastNonDupAckFrame[f] = 0;
      d.bits[f] = 0;
      d.sackCount[f] = 0;
      d.sack[f] = NONE;
      d.unacked[f] = NONE;
      d.unackedTail[f] = NONE;
      d.unackedCount[f] = 0;
      d.ackApplied[f] = 0;
      d.survivor[f] = NONE;
    }
    return slot;
  }

  /** Closed (RST, or FIN both ways), never answered, or never past the handshake: forgotten after the short timeout. */
  quiet(slot: number): boolean {
    const s = this.conv.c.state[slot];
    const bits = this.flowSlots.c.bits;
    return (s & RST_SEEN) !== 0 || (s & (3 * FIN_DIR0)) === 3 * FIN_DIR0 || (bits[2 * slot] & SEEN) === 0 || (bits[2 * slot + 1] & SEEN) === 0 || (s & PAST_HANDSHAKE) === 0;
  }

  // ------------------------------------------------------------ unacked segments (Wireshark's tcp_unacked_t list)

  /** Record a segment sent by flow `f` (the caller keeps the list under MAX_UNACKED_SEGMENTS). */
  pushUnacked(f: number, frame: number, seq: number, nextSeq: number, tsUs: number, tsNs: number): void {
    const pool = this.segments;
    const r = pool.take();
    const s = pool.c;
    s.frame[r] = frame;
    s.seq[r] = seq;
    s.nextSeq[r] = nextSeq;
    s.tsUs[r] = tsUs;
    s.tsNs[r] = tsNs;
    const d = this.flowSlots.c;
    const tail = d.unackedTail[f];
    if (tail === NONE) d.unacked[f] = r;
    else pool.next[tail] = r;
    d.unackedTail[f] = r;
    d.unackedCount[f]++;
  }

  /**
   * Apply an acknowledgement number from the other direction to flow `f`'s list: drop the
   * segments it covers, trim the one it cuts, and note the segment whose end it matches
   * exactly in ackedFrame (as Wireshark walks its list newest first, the oldest such match is
   * the one kept). The ACK bit is not looked at, as in Wireshark.
   */
  ack(f: number, ack: number): void {
    this.ackedFrame = 0;
    const d = this.flowSlots.c;
    if (d.unackedCount[f] === 0) return;
    const pool = this.segments;
    const s = pool.c;
    // Records that survived this same ack value before are unchanged by it: only newer ones need a look.
    let prev = NONE;
    if ((d.bits[f] & ACK_APPLIED) !== 0 && d.ackApplied[f] === ack) prev = d.survivor[f];
    let r = prev === NONE ? d.unacked[f] : pool.next[prev];
    let count = d.unackedCount[f];
    while (r !== NONE) {
      const next = pool.next[r];
      const end = s.nextSeq[r];
      let drop = false;
      if (ack === end) {
        if (this.ackedFrame === 0) {
          this.ackedFrame = s.frame[r];
          this.ackedUs = s.tsUs[r];
          this.ackedNs = s.tsNs[r];
        }
        drop = true; // acked exactly
      } else if (gtSeq(ack, s.seq[r]) && leSeq(ack, end)) s.seq[r] = ack; // partly acked: trimmed
      else if (!gtSeq(end, ack)) drop = true; // wholly acked
      if (drop) {
        if (prev === NONE) d.unacked[f] = next;
        else pool.next[prev] = next;
        pool.release(r);
        count--;
      } else prev = r;
      r = next;
    }
    d.unackedTail[f] = prev;
    d.unackedCount[f] = count;
    d.ackApplied[f] = ack;
    d.survivor[f] = prev;
    d.bits[f] = count === 0 ? d.bits[f] & ~ACK_APPLIED : d.bits[f] | ACK_APPLIED;
  }

  /** Record `count` SACK blocks ([left, right) pairs in `blocks`) as flow `f`'s latest. */
  setSack(f: number, blocks: Uint32Array, count: number): void {
    const d = this.flowSlots.c;
    d.sackCount[f] = count;
    const pool = this.sacks;
    let prev = NONE;
    let r = d.sack[f];
    for (let i = 0; i < count; i++) {
      if (r === NONE) {
        r = pool.take();
        if (prev === NONE) d.sack[f] = r;
        else pool.next[prev] = r;
      }
      pool.c.left[r] = blocks[2 * i];
      pool.c.right[r] = blocks[2 * i + 1];
      prev = r;
      r = pool.next[r];
    }
  }

  // ------------------------------------------------------------ the clock and forgetting

  /** Advance the sweep clock to packet time `tsUs`; returns the clock, for open() and lastSeen. */
  advance(tsUs: number): number {
    const step = tsUs - this.lastTsUs;
    if (step > 0) this.clock += Math.min(step, MAX_CLOCK_STEP_US);
    this.lastTsUs = tsUs;
    return this.clock;
  }

  /**
   * After a packet of the conversation on `row` at `slot` (its state updated, lastSeen =
   * `clock`): its place last on the quiet list of its kind, or its timer entry if it is live;
   * then, past maxQuiet quiet conversations, forget the least recently seen.
   */
  settle(row: number, slot: number, clock: number): void {
    const c = this.conv.c;
    const state = c.state[slot];
    const wasCompacted = (state & COMPACTED) !== 0;
    if (wasCompacted) c.state[slot] = state & ~COMPACTED;
    const kind = !this.quiet(slot) ? -1 : (state & PAST_HANDSHAKE) === 0 ? 0 : 1;
    const on = (state & ON_A_QUIET_LIST) === 0 ? -1 : state & QUIET_LIST ? 0 : 1;
    if (kind < 0) {
      if (on >= 0) this.unlinkQuiet(row, slot, on);
      if ((state & TIMER) === 0) this.armTimer(row, slot, clock);
      return;
    }
    if (on === kind && this.quietTail[kind] === row && !wasCompacted) return;
    if (on >= 0) this.unlinkQuiet(row, slot, on);
    this.linkQuiet(row, slot, kind);
    while (this.quietCount > this.limits.maxQuiet) {
      // Never the conversation of this packet (the newest of its list).
      const head = this.quietHead[0];
      this.evicted++;
      this.forget(head !== NONE && head !== row ? head : this.quietHead[1]);
    }
  }

  /**
   * Once per SWEEP_EVERY_US of clock, after a packet: compact the quiet conversations idle for
   * longer than quietUs, forget the live ones idle for longer than both timeouts.
   */
  maybeSweep(): void {
    const clock = this.clock;
    if (clock < this.nextSweep) return;
    this.nextSweep = clock + SWEEP_EVERY_US;
    const { idleUs, quietUs } = this.limits;
    const c = this.conv.c;
    const slots = this.flowSlots;
    for (let kind = 0; kind < 2; kind++) {
      let row = this.compactFrom[kind];
      while (row !== NONE) {
        const slot = slots.slotOf(row);
        if (!(clock - c.lastSeen[slot] > quietUs)) break;
        this.compact(slot);
        row = c.quietNext[slot];
      }
      this.compactFrom[kind] = row;
    }
    const timers = this.timers;
    const table = this.table;
    while (timers.peek() < clock) {
      const row = timers.topRow();
      const gen = timers.topGen();
      timers.pop();
      // Stale: the row was freed, or the conversation forgotten past maxQuiet.
      if (table.gen(row) !== gen || !table.isHeld(row, HOLDER)) continue;
      const slot = slots.slotOf(row);
      if ((c.state[slot] & TIMER) === 0) continue;
      c.state[slot] &= ~TIMER;
      // Gone quiet: the lists look after it.
      if (this.quiet(slot)) continue;
      const lastSeen = c.lastSeen[slot];
      const limit = Math.max(quietUs, idleUs);
      if (clock - lastSeen > limit) {
        this.swept++;
        this.forget(row, slot);
        continue;
      }
      // Not yet: due again when it could first go, at most quietUs from now.
      let due = lastSeen + quietUs;
      if (due < clock) due = Math.min(lastSeen + limit, clock + quietUs);
      timers.push(due, row, gen, TIMER_IDLE);
      c.state[slot] |= TIMER;
    }
  }

  /** The live conversation's timer entry, due quietUs after `clock` (none when quietUs is Infinity: then nothing is forgotten). */
  private armTimer(row: number, slot: number, clock: number): void {
    const { quietUs } = this.limits;
    if (quietUs === Infinity) return;
    this.timers.push(clock + quietUs, row, this.table.gen(row), TIMER_IDLE);
    this.conv.c.state[slot] |= TIMER;
  }

  /** Keep a quiet idle conversation without its lists: its unacked segments and SACK blocks are forgotten. */
  private compact(slot: number): void {
    this.releaseLists(slot);
    const d = this.flowSlots.c;
    for (let f = 2 * slot; f <= 2 * slot + 1; f++) {
      d.unackedTail[f] = NONE;
      d.unackedCount[f] = 0;
      d.survivor[f] = NONE;
      d.bits[f] &= ~ACK_APPLIED;
      d.sackCount[f] = 0;
    }
    this.conv.c.state[slot] |= COMPACTED;
    this.compacted++;
  }

  /** The memory budget takes the row: its conversation, if it has one, is forgotten (a later packet starts a new stream). */
  evict(row: number): void {
    if (this.has(row)) this.forget(row);
  }

  /** Forget the conversation on `row` at `slot` (NONE: look it up): the slot and the row go back. */
  private forget(row: number, slot = NONE): void {
    if (slot === NONE) slot = this.flowSlots.slotOf(row);
    const state = this.conv.c.state[slot];
    if (state & ON_A_QUIET_LIST) this.unlinkQuiet(row, slot, state & QUIET_LIST ? 0 : 1);
    this.releaseLists(slot);
    this.size--;
    this.flowSlots.unbind(row);
    this.table.release(row, HOLDER);
  }

  /** Put the row (at `slot`) last on quiet list `kind` (it is not compacted). The lists link rows; their links are at the slots. */
  private linkQuiet(row: number, slot: number, kind: number): void {
    const c = this.conv.c;
    if (this.compactFrom[kind] === NONE) this.compactFrom[kind] = row;
    const tail = this.quietTail[kind];
    c.quietPrev[slot] = tail;
    c.quietNext[slot] = NONE;
    if (tail === NONE) this.quietHead[kind] = row;
    else c.quietNext[this.flowSlots.slotOf(tail)] = row;
    this.quietTail[kind] = row;
    c.state[slot] |= QUIET_LIST << kind;
    this.quietCount++;
  }

  /** Take the row (at `slot`) off quiet list `kind`. */
  private unlinkQuiet(row: number, slot: number, kind: number): void {
    const c = this.conv.c;
    const slots = this.flowSlots;
    const prev = c.quietPrev[slot];
    const next = c.quietNext[slot];
    if (this.compactFrom[kind] === row) this.compactFrom[kind] = next;
    if (prev === NONE) this.quietHead[kind] = next;
    else c.quietNext[slots.slotOf(prev)] = next;
    if (next === NONE) this.quietTail[kind] = prev;
    else c.quietPrev[slots.slotOf(next)] = prev;
    c.state[slot] &= ~ON_A_QUIET_LIST;
    this.quietCount--;
  }

  /** Give both directions' segment and SACK records back. */
  private releaseLists(slot: number): void {
    const d = this.flowSlots.c;
    for (let f = 2 * slot; f <= 2 * slot + 1; f++) {
      d.unacked[f] = this.segments.releaseList(d.unacked[f]);
      d.sack[f] = this.sacks.releaseList(d.sack[f]);
    }
  }
}
