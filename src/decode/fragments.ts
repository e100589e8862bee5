/**
 * IP reassembly, as Wireshark (ip.defragment, ipv6.defragment) and Zeek do it: a
 * fragment is held, and the datagram is decoded, from its IP header on, at the
 * frame of the fragment that completes it. It is a stateful stage between the
 * decoders and the trackers (analyze/capture.ts owns one per capture).
 *
 * - Key: (source, destination, protocol, identification) for IPv4; (source,
 *   destination, identification) for IPv6. The fragmented layer may be any IP
 *   layer: an outer one (a tunnel's datagram, decoded on into the tunnel once whole)
 *   or the one that carries TCP; fragments inside a reassembled datagram are
 *   reassembled in turn.
 * - Overlaps, as Wireshark 4.0.17 (checked with tshark): the datagram is built in
 *   order of fragment offset, each fragment adding only the bytes past those already
 *   placed, so where fragments overlap the one with the lower offset wins, and of two
 *   at the same offset the earlier. Overlapping bytes that differ still give a
 *   datagram, counted as an overlap conflict.
 * - A fragment received after its datagram completed starts a new datagram (as in
 *   Wireshark), which never completes.
 * - Limits: datagrams are dropped when their first fragment is older than the timeout
 *   in packet time (30 s for IPv4 and 60 s for IPv6, Linux's ipfrag_time defaults;
 *   Wireshark has none), when data would go past 65,535 bytes, and, oldest first, to
 *   keep the bytes held and the datagrams in progress under their caps. Each drop is
 *   counted by reason (ReassemblyCounters), as are datagrams unfinished at the end.
 *
 *
 * Link-layer fragments go through the same machinery (the same caps, pool and buffer),
 * counted apart (ReassemblyCounters.wlan, .capwap):
 * - 802.11 (Wireshark's wlan.defragment, on by default): fragments of one MSDU share a
 *   sequence number and are numbered from 0, More Fragments set on all but the last. Key:
 *   (receiver, transmitter, sequence number); the MSDU is whole when fragments 0 to the last
 *   are all there, put together in fragment-number order, of two with the same number the
 *   earlier. As in Wireshark (its "802.11 hack"), a last fragment with no fragment before it
 *   in progress is taken as a whole frame. Timeout 1 s (802.11 discards fragments after
 *   dot11MaxReceiveLifetime, 512 TU: about 0.5 s).
 * - CAPWAP data (RFC 5415 4.3; Wireshark's capwap.reassemble, on by default): fragments
 *   carry a byte offset, L on the last. Key: (outer IP source, destination, fragment ID);
 *   overlaps and late fragments as for IP; timeout 30 s, as IPv4's.
 *   The header of the fragment that completes the frame says how its data decodes on
 *   (DecodedPacket.linkNext), as Wireshark dissects at that frame.
 *
 * The unfragmented path never comes here. Fragments are copied into per-datagram
 * buffers that are pooled; the reassembled datagram is built in one buffer owned
 * by the reassembler and valid until its next fragment.
 */
import { decodeIPv4, decodeIPv6 } from './ip.js';
import { decodeEthernet, decodeLlc } from './link.js';
import { type DecodedPacket, LinkFragment, LinkNext } from './packet.js';
import { Note, Status } from './status.js';
import { wlanFrame } from './wlan.js';

export interface ReassemblyOptions {
  /** Fragment bytes held across all datagrams in progress. */
  maxBytes: number;
  /** Datagrams in progress. */
  maxDatagrams: number;
  /** Packet time after a datagram's first fragment beyond which it is dropped (µs). */
  timeoutV4Us: number;
  timeoutV6Us: number;
  /** The same for an 802.11 MSDU's fragments and a CAPWAP packet's. */
  timeoutWlanUs: number;
  timeoutCapwapUs: number;
}

export const DEFAULT_REASSEMBLY_OPTIONS: Readonly<ReassemblyOptions> = {
  maxBytes: 4 * 1024 * 1024, // Linux's ipfrag_high_thresh
  maxDatagrams: 4096,
  timeoutV4Us: 30_000_000,
  timeoutV6Us: 60_000_000,
  timeoutWlanUs: 1_000_000,
  timeoutCapwapUs: 30_000_000,
};

/** Datagrams (or link frames) by outcome; everything but `reassembled` is one that was not decoded. */
export class FragmentCounters {
  /** `prefix` names a link layer's counters (`wlan_reassembled`...); IP's have none. */
  constructor(readonly prefix = '') {}

  reassembled = 0;
  /** Reassembled, but overlapping fragments carried different bytes (Wireshark's rule picked them). */
  overlapConflict = 0;
  timedOut = 0;
  /** Dropped to stay under the caps on bytes held and datagrams in progress. */
  memoryCap = 0;
  /** Data past 65,535 bytes (IPv4 total length, IPv6 payload length). */
  tooLarge = 0;
  /** Fragments (not datagrams) whose bytes were not all captured (snaplen): not usable. */
  fragmentNotCaptured = 0;
  /** Still in progress when the capture ended. */
  incompleteAtEnd = 0;

  entries(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    const p = this.prefix === '' ? '' : `${this.prefix}_`;
    const add = (name: string, n: number) => n > 0 && out.push([p + name, n]);
    add(p === '' ? 'reassembled_datagrams' : 'reassembled', this.reassembled);
    add('reassembly_overlap_conflict', this.overlapConflict);
    add('reassembly_timed_out', this.timedOut);
    add('reassembly_memory_cap', this.memoryCap);
    add('reassembly_too_large', this.tooLarge);
    add('reassembly_fragment_not_captured', this.fragmentNotCaptured);
    add('reassembly_incomplete_at_end', this.incompleteAtEnd);
    return out;
  }
}

/** IP datagrams by outcome, and apart, 802.11 MSDUs and CAPWAP packets. */
export class ReassemblyCounters extends FragmentCounters {
  readonly wlan = new FragmentCounters('wlan');
  readonly capwap = new FragmentCounters('capwap');

  override entries(): Array<[string, number]> {
    return [...super.entries(), ...this.wlan.entries(), ...this.capwap.entries()];
  }
}

const MAX_PAYLOAD = 65535;
/** IPv4 header (<= 60) or IPv6 fixed header plus the extension headers before the fragment header. */
const MAX_HEADER = 1024;
const FIRST_STORE = 2048;

/** The most a reassembled 802.11 MSDU or CAPWAP payload may hold (CAPWAP's 13-bit offsets in 8-byte units reach 65,528). */
const MAX_LINK_FRAME = MAX_PAYLOAD;

/** One datagram (or link frame) in progress. Pooled: reused once released. */
class Datagram {
  key = '';
  /** 0 for IP, else a LinkFragment kind. */
  kind = 0;
  version = 4;
  firstTs = 0;
  expiresAt = 0;
  proto = 0;
  readonly header = new Uint8Array(MAX_HEADER);
  /** 0 until the fragment at offset 0 arrives. */
  headerLen = 0;
  /** Where, in header, the byte naming the fragmentable part sits (IPv6's next header). */
  nextOff = 0;
  /** Payload length, known once the last fragment (MF clear) arrives; -1 before. 802.11: the number of fragments. */
  total = -1;
  /** Fragment data in arrival order; fragment i is store[at[i], at[i] + len[i]) at payload offset start[i]. */
  store = new Uint8Array(FIRST_STORE);
  used = 0;
  count = 0;
  start: number[] = [];
  len: number[] = [];
  at: number[] = [];
  /** Fragment indices sorted by (start, arrival). */
  order: number[] = [];

  clear(): void {
    this.headerLen = 0;
    this.total = -1;
    this.used = 0;
    this.count = 0;
  }
}

/** What adding a fragment did: held it, completed its datagram (in out), or (802.11) found it whole by itself. */
export const Reassembly = { HELD: 0, COMPLETE: 1, WHOLE: 2 } as const;

export class FragmentReassembler {
  private readonly opts: ReassemblyOptions;
  /** Datagrams in progress, oldest first (a Map keeps insertion order). */
  private readonly live = new Map<string, Datagram>();
  private readonly pool: Datagram[] = [];
  private bytesHeld = 0;
  private sweepAt = Infinity;
  /** The last reassembled datagram: out[0, outLen), an IPv4 or IPv6 packet. */
  readonly out = new Uint8Array(MAX_HEADER + MAX_PAYLOAD);
  outLen = 0;
  outVersion = 4;

  constructor(
    readonly counters: ReassemblyCounters = new ReassemblyCounters(),
    opts: Partial<ReassemblyOptions> = {},
  ) {
    this.opts = { ...DEFAULT_REASSEMBLY_OPTIONS, ...opts };
  }

  /** Datagrams in progress and the fragment bytes they hold. */
  get inProgress(): number {
    return this.live.size;
  }
  get held(): number {
    return this.bytesHeld;
  }

  /**
   * A packet that decoded to Status.IP_FRAGMENT or Status.LINK_FRAGMENT (`status`): hold it,
   * and when it completes its datagram or frame, decode that into `p` (p.buf becomes the
   * reassembler's buffer). Returns the decode status, `status` while it is incomplete.
   */
  packet(p: DecodedPacket, tsUs: number, status: number = Status.IP_FRAGMENT): number {
    // A reassembled datagram or frame may itself carry a fragment (an inner layer); the decoders' layer cap bounds this.
    for (;;) {
      if (status === Status.IP_FRAGMENT) {
        if (this.add(p, tsUs) !== Reassembly.COMPLETE) return Status.IP_FRAGMENT;
        status = decodeDatagram(p, this.out, this.outLen, this.outVersion);
      } else if (status === Status.LINK_FRAGMENT) {
        const r = this.addLink(p, tsUs);
        if (r === Reassembly.HELD) return Status.LINK_FRAGMENT;
        status = r === Reassembly.WHOLE ? decodeLinkData(p, p.buf, p.fragDataOff, p.fragDataEnd) : decodeLinkFrame(p, this.out, this.outLen);
      } else return status;
    }
  }

  /** Drop datagrams whose time is up. Cheap when none is due: call it for every packet. */
  tick(nowUs: number): void {
    if (nowUs < this.sweepAt) return;
    let next = Infinity;
    for (const d of this.live.values()) {
      if (nowUs > d.expiresAt) {
        this.countersOf(d).timedOut++;
        this.release(d);
      } else if (d.expiresAt < next) next = d.expiresAt;
    }
    this.sweepAt = next;
  }

  /** The end of the capture: whatever is in progress never completed. */
  finish(): void {
    for (const d of this.live.values()) {
      this.countersOf(d).incompleteAtEnd++;
      this.release(d);
    }
  }

  /** Hold one IP fragment; Reassembly.COMPLETE when it completed its datagram (then in out). */
  add(p: DecodedPacket, tsUs: number): number {
    if (p.fragCut) {
      this.counters.fragmentNotCaptured++;
      return Reassembly.HELD;
    }
    const d = this.open(keyOf(p), 0, tsUs, p.ipVersion === 4 ? this.opts.timeoutV4Us : this.opts.timeoutV6Us);
    if (d.count === 0) {
      d.version = p.ipVersion;
      d.proto = p.fragProto;
    }
    const len = Math.max(0, p.fragDataEnd - p.fragDataOff);
    const start = p.fragOffset;
    // The data may not go past 65,535 bytes of IP payload (IPv4: with its header).
    const unfragmentable = p.ipVersion === 4 ? p.fragHeaderEnd - p.ipOff : p.fragHeaderEnd - p.ipOff - 40;
    if (unfragmentable + start + len > MAX_PAYLOAD || p.fragHeaderEnd - p.ipOff > MAX_HEADER) {
      this.counters.tooLarge++;
      this.release(d);
      return Reassembly.HELD;
    }
    if (!this.hold(d, p, start, len)) return Reassembly.HELD;
    if (start === 0 && d.headerLen === 0) {
      d.headerLen = p.fragHeaderEnd - p.ipOff;
      d.header.set(p.buf.subarray(p.ipOff, p.fragHeaderEnd));
      d.nextOff = p.fragNextOff - p.ipOff;
    }
    if (!p.fragMore && d.total < 0) d.total = start + len;
    if (d.total < 0 || d.headerLen === 0 || !covered(d)) return Reassembly.HELD;
    const ok = this.assemble(d);
    this.release(d);
    if (!ok) {
      this.counters.tooLarge++;
      return Reassembly.HELD;
    }
    this.counters.reassembled++;
    return Reassembly.COMPLETE;
  }

  /**
   * Hold one 802.11 or CAPWAP fragment (Status.LINK_FRAGMENT); Reassembly.COMPLETE when it
   * completed its frame (then in out), WHOLE for an 802.11 last fragment with nothing in
   * progress before it (its own data is the frame's, decoded where it is).
   */
  addLink(p: DecodedPacket, tsUs: number): number {
    const wlan = p.linkFragKind === LinkFragment.WLAN;
    const counters = wlan ? this.counters.wlan : this.counters.capwap;
    const key = linkKeyOf(p);
    if (wlan && !p.fragMore && !this.live.has(key)) return Reassembly.WHOLE;
    if (p.fragCut) {
      counters.fragmentNotCaptured++;
      return Reassembly.HELD;
    }
    const d = this.open(key, p.linkFragKind, tsUs, wlan ? this.opts.timeoutWlanUs : this.opts.timeoutCapwapUs);
    const len = Math.max(0, p.fragDataEnd - p.fragDataOff);
    const start = p.fragOffset;
    if ((wlan ? d.used : start) + len > MAX_LINK_FRAME) {
      counters.tooLarge++;
      this.release(d);
      return Reassembly.HELD;
    }
    if (!this.hold(d, p, start, len)) return Reassembly.HELD;
    if (!p.fragMore && d.total < 0) d.total = wlan ? start + 1 : start + len;
    if (d.total < 0 || !(wlan ? numbered(d) : covered(d))) return Reassembly.HELD;
    let conflict: boolean;
    if (wlan) conflict = this.concatenate(d);
    else {
      conflict = this.place(d, 0);
      this.outLen = d.total;
    }
    this.release(d);
    if (conflict) counters.overlapConflict++;
    counters.reassembled++;
    return Reassembly.COMPLETE;
  }

  private countersOf(d: Datagram): FragmentCounters {
    return d.kind === 0 ? this.counters : d.kind === LinkFragment.WLAN ? this.counters.wlan : this.counters.capwap;
  }

  /** The datagram in progress under `key`, or a new one (making room under the cap on their number). */
  private open(key: string, kind: number, tsUs: number, timeoutUs: number): Datagram {
    let d = this.live.get(key);
    if (d === undefined) {
      while (this.live.size >= this.opts.maxDatagrams) this.evictOldest();
      d = this.pool.pop() ?? new Datagram();
      d.clear();
      d.key = key;
      d.kind = kind;
      d.firstTs = tsUs;
      d.expiresAt = tsUs + timeoutUs;
      if (d.expiresAt < this.sweepAt) this.sweepAt = d.expiresAt;
      this.live.set(key, d);
    }
    return d;
  }

  /** Copy the fragment's data into d, within the cap on bytes held (false: dropped, counted). */
  private hold(d: Datagram, p: DecodedPacket, start: number, len: number): boolean {
    if (this.bytesHeld + len > this.opts.maxBytes) {
      while (this.bytesHeld + len > this.opts.maxBytes && this.live.size > 1) this.evictOldest(d);
      if (this.bytesHeld + len > this.opts.maxBytes) {
        this.countersOf(d).memoryCap++;
        this.release(d);
        return false;
      }
    }
    if (d.used + len > d.store.length) {
      let size = d.store.length * 2;
      while (size < d.used + len) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(d.store.subarray(0, d.used));
      d.store = grown;
    }
    d.store.set(p.buf.subarray(p.fragDataOff, p.fragDataOff + len), d.used);
    const i = d.count++;
    d.start[i] = start;
    d.len[i] = len;
    d.at[i] = d.used;
    d.used += len;
    this.bytesHeld += len;
    insertInOrder(d, i);
    return true;
  }

  /**
   * Place the payload [0, total) in out from byte `h` on, in order of offset: where fragments
   * overlap, the bytes placed first stay. Returns whether overlapping bytes differed.
   */
  private place(d: Datagram, h: number): boolean {
    const out = this.out;
    let pos = 0;
    let conflict = false;
    for (let k = 0; k < d.count && pos < d.total; k++) {
      const i = d.order[k];
      const s = d.start[i];
      const e = Math.min(s + d.len[i], d.total);
      // Bytes already placed by a fragment earlier in the order: compare, keep the placed ones.
      const same = Math.min(e, pos);
      for (let j = s; j < same && !conflict; j++) if (out[h + j] !== d.store[d.at[i] + j - s]) conflict = true;
      if (e > pos) {
        out.set(d.store.subarray(d.at[i] + pos - s, d.at[i] + e - s), h + pos);
        pos = e;
      }
    }
    return conflict;
  }

  /** 802.11: the fragments' data one after the other in out (outLen bytes) by fragment number, of a number seen twice the first. */
  private concatenate(d: Datagram): boolean {
    const out = this.out;
    let pos = 0;
    let expected = 0;
    let conflict = false;
    let prev = -1;
    for (let k = 0; k < d.count && expected < d.total; k++) {
      const i = d.order[k];
      if (d.start[i] === expected) {
        out.set(d.store.subarray(d.at[i], d.at[i] + d.len[i]), pos);
        pos += d.len[i];
        prev = i;
        expected++;
      } else if (prev >= 0 && d.start[i] === d.start[prev] && !sameBytes(d, i, prev)) conflict = true;
    }
    this.outLen = pos;
    return conflict;
  }

  /** Build the datagram in out: its header (lengths and fragment fields made whole), then the payload. */
  private assemble(d: Datagram): boolean {
    const out = this.out;
    const h = d.headerLen;
    if (h + d.total > out.length || (d.version === 4 ? h + d.total : h - 40 + d.total) > MAX_PAYLOAD) return false;
    out.set(d.header.subarray(0, h), 0);
    if (this.place(d, h)) this.counters.overlapConflict++;
    if (d.version === 4) {
      const total = h + d.total;
      out[2] = total >> 8;
      out[3] = total & 255;
      out[6] &= 0x40; // DF stays; MF and the offset go
      out[7] = 0;
      out[10] = out[11] = 0;
      const sum = headerChecksum(out, h);
      out[10] = sum >> 8;
      out[11] = sum & 255;
    } else {
      const plen = h - 40 + d.total;
      out[4] = plen >> 8;
      out[5] = plen & 255;
      out[d.nextOff] = d.proto;
    }
    this.outLen = h + d.total;
    this.outVersion = d.version;
    return true;
  }

  private evictOldest(keep?: Datagram): void {
    for (const d of this.live.values()) {
      if (d === keep) continue;
      this.countersOf(d).memoryCap++;
      this.release(d);
      return;
    }
  }

  private release(d: Datagram): void {
    if (this.live.get(d.key) !== d) return;
    this.live.delete(d.key);
    this.bytesHeld -= d.used;
    d.clear();
    // Keep a few for reuse; a buffer grown for a large datagram goes back to its first size.
    if (this.pool.length < 64) {
      if (d.store.length > 16 * FIRST_STORE) d.store = new Uint8Array(FIRST_STORE);
      this.pool.push(d);
    }
  }
}

/** Decode a reassembled datagram into p, keeping what the layers outside it set (tags, tunnels, notes). */
export function decodeDatagram(p: DecodedPacket, buf: Uint8Array, len: number, version: number): number {
  p.buf = buf;
  p.wireEnd = len;
  p.notes |= Note.REASSEMBLED;
  p.ipVersion = 0;
  return version === 4 ? decodeIPv4(p, buf, 0, len) : decodeIPv6(p, buf, 0, len);
}

/** Decode a reassembled 802.11 frame's or CAPWAP packet's data into p, keeping what the layers outside it set. */
export function decodeLinkFrame(p: DecodedPacket, buf: Uint8Array, len: number): number {
  p.buf = buf;
  p.wireEnd = len;
  p.notes |= Note.LINK_REASSEMBLED;
  p.ipVersion = 0;
  return decodeLinkData(p, buf, 0, len);
}

/** A link frame's data, as its last fragment's header said it is. */
function decodeLinkData(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  switch (p.linkNext) {
    case LinkNext.LLC:
      return decodeLlc(p, b, off, end);
    case LinkNext.ETHERNET:
      return decodeEthernet(p, b, off, end);
    case LinkNext.WLAN_SWAPPED:
      return wlanFrame(p, b, off, end, true, false);
    default:
      return Status.NON_IP;
  }
}

/** A link frame's identity: its kind, fragment ID (or sequence number) and addresses. */
function linkKeyOf(p: DecodedPacket): string {
  const b = p.buf;
  let k = String.fromCharCode(0x100 + p.linkFragKind, p.fragId);
  for (let i = 0; i < p.fragKeyLen; i += 2) k += String.fromCharCode((b[p.fragKeyOff + i] << 8) | b[p.fragKeyOff + i + 1]);
  return k;
}

/** 802.11: whether fragments 0 to total - 1 are all there (the order is by fragment number). */
function numbered(d: Datagram): boolean {
  let expected = 0;
  for (let k = 0; k < d.count; k++) if (d.start[d.order[k]] === expected) expected++;
  return expected >= d.total;
}

function sameBytes(d: Datagram, i: number, j: number): boolean {
  if (d.len[i] !== d.len[j]) return false;
  for (let x = 0; x < d.len[i]; x++) if (d.store[d.at[i] + x] !== d.store[d.at[j] + x]) return false;
  return true;
}

/** The datagram's identity as a string (fragments only: the unfragmented path builds none). */
function keyOf(p: DecodedPacket): string {
  const b = p.buf;
  const n = p.ipVersion === 4 ? 4 : 16;
  let k = String.fromCharCode(p.ipVersion, p.ipVersion === 4 ? p.fragProto : 0, p.fragId >>> 16, p.fragId & 0xffff);
  for (let i = 0; i < n; i += 2) k += String.fromCharCode((b[p.srcOff + i] << 8) | b[p.srcOff + i + 1], (b[p.dstOff + i] << 8) | b[p.dstOff + i + 1]);
  return k;
}

/** Insert fragment i into the order: by offset, and after fragments of the same offset (they came first). */
function insertInOrder(d: Datagram, i: number): void {
  let k = i;
  while (k > 0 && d.start[d.order[k - 1]] > d.start[i]) {
    d.order[k] = d.order[k - 1];
    k--;
  }
  d.order[k] = i;
}

/** Whether the fragments cover the payload [0, total) without a hole. */
function covered(d: Datagram): boolean {
  let pos = 0;
  for (let k = 0; k < d.count; k++) {
    const i = d.order[k];
    if (d.start[i] > pos) return false;
    pos = Math.max(pos, d.start[i] + d.len[i]);
    if (pos >= d.total) return true;
  }
  return pos >= d.total;
}

function headerChecksum(b: Uint8Array, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (b[i] << 8) | b[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
