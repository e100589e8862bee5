/**
 * Decoding a record down to its (innermost) TCP header. Importing this module
 * registers every decoder in the dispatch tables.
 */
import './link.js';
import './ip.js';
import './tcp.js';
import './icmp.js';
import './tunnel.js';
import './wlan.js';
import { linkTypeName } from './link-names.js';
import { DecodedPacket } from './packet.js';
import { FragmentCounters, ReassemblyCounters } from './fragments.js';
import { linkTypes } from './registry.js';
import { ENCAP_NAMES, ENCRYPTIONS, NOTE_NAMES, STATUS_NAMES, Status } from './status.js';
import type { PacketRecord } from '../reader/record.js';

export { DecodedPacket, TcpFlag } from './packet.js';
export { Status, STATUS_NAMES, Note, NOTE_NAMES, Encap, ENCAP_NAMES, ENCRYPTIONS } from './status.js';
export { LinkType } from './link.js';
export { Icmp, ICMP_NAMES, ICMP_ABORTS_REQUEST } from './icmp.js';
export { DEFAULT_REASSEMBLY_OPTIONS, FragmentCounters, FragmentReassembler, ReassemblyCounters, type ReassemblyOptions } from './fragments.js';

/** Decode one record into `p`; returns a Status code (Status.TCP when a TCP header was found). */
export function decodeRecord(p: DecodedPacket, rec: PacketRecord): number {
  return decodeFrame(p, rec.linkType, rec.buf, rec.offset, rec.caplen, rec.origLen, rec.fcsLen);
}

/** Decode a frame of `linkType` at buf[off, off + caplen). */
export function decodeFrame(p: DecodedPacket, linkType: number, buf: Uint8Array, off: number, caplen: number, origLen: number, fcsLen = 0): number {
  const wireLen = Math.max(origLen, caplen) - fcsLen;
  let end = off + caplen;
  if (fcsLen > 0 && caplen === origLen) end -= fcsLen;
  p.reset(buf, off + wireLen);
  const decode = linkTypes.get(linkType);
  if (decode === undefined) return Status.UNSUPPORTED_LINK_TYPE;
  return decode(p, buf, off, Math.max(end, off));
}

/**
 * Checksums wrong on this share of the TCP packets or more are not damage on the wire (which
 * is rare, and mostly dropped before any capture point) but the capturing host's own packets,
 * captured before the NIC filled their checksums in: checksum offload.
 */
export const BAD_CHECKSUM_SHARE = 0.25;

/** The warning for TCP packets dropped by --verify-checksums when they are that many, or null. */
export function badChecksumWarning(bad: number, tcp: number): string | null {
  if (bad === 0 || bad < BAD_CHECKSUM_SHARE * tcp) return null;
  const pct = Math.round((100 * bad) / tcp);
  return (
    `${bad.toLocaleString('en-US')} of ${tcp.toLocaleString('en-US')} TCP packets (${pct}%) had a wrong IPv4 or TCP checksum and were dropped (--verify-checksums): ` +
    'usually checksum offload on the capturing host (its own packets are captured before the NIC fills the checksum in), which leaves the analysis without them; rerun without --verify-checksums'
  );
}

/** Counts of packets by outcome and by note. */
export class DecodeCounters {
  readonly byStatus = new Array<number>(STATUS_NAMES.length).fill(0);
  readonly byNote = new Map<number, number>(NOTE_NAMES.map(([bit]) => [bit, 0]));
  /** Packets whose decoding hit a bug of ours (an exception): kept apart, must stay 0. */
  internalErrors = 0;
  /** Packets without a usable timestamp (pcapng SPB, or a time beyond the year 2255). */
  untimed = 0;
  /** TCP packets dropped for a wrong IPv4 header or TCP checksum (with --verify-checksums). */
  badChecksums = 0;
  /** Packets of a link type not decoded, by link type. */
  readonly unsupportedLinkTypes = new Map<number, number>();
  /** Packets in an encapsulation recognised but not decoded, by Encap code (0: unnamed). */
  readonly unsupportedEncaps = new Array<number>(ENCAP_NAMES.length).fill(0);
  /** Encrypted packets, by the Encap code naming the encryption (0: unnamed, e.g. ESP). */
  readonly encryptedEncaps = new Array<number>(ENCAP_NAMES.length).fill(0);
  /** IP datagrams reassembled from fragments, and those that never were, by reason. */
  readonly reassembly = new ReassemblyCounters();

  /**
   * The counters again from their plain data, e.g. after a trip through postMessage (class
   * instances arrive as plain objects): each part, down to the link layers' reassembly
   * counters, gets its methods back. Decode owns the shape, so it revives it.
   */
  static revive(data: DecodeCounters): DecodeCounters {
    const r = data.reassembly;
    const reassembly = Object.assign(new ReassemblyCounters(), r, {
      wlan: Object.assign(new FragmentCounters('wlan'), r.wlan),
      capwap: Object.assign(new FragmentCounters('capwap'), r.capwap),
    });
    return Object.assign(new DecodeCounters(), data, { reassembly });
  }

  /** Count a packet's outcome; `linkType` and `encap` name what was not decoded, if that was the outcome. */
  add(status: number, notes: number, linkType = 0, encap = 0): void {
    this.byStatus[status]++;
    if (notes !== 0) for (const [bit] of NOTE_NAMES) if (notes & bit) this.byNote.set(bit, this.byNote.get(bit)! + 1);
    if (status === Status.UNSUPPORTED_LINK_TYPE) this.unsupportedLinkTypes.set(linkType, (this.unsupportedLinkTypes.get(linkType) ?? 0) + 1);
    else if (status === Status.UNSUPPORTED_ENCAPSULATION) this.unsupportedEncaps[encap]++;
    else if (status === Status.ENCRYPTED) this.encryptedEncaps[encap]++;
  }

  /**
   * One line per link type or encapsulation that was not decoded: whatever TCP those packets
   * carry is missing from the analysis, which must not look complete without saying so.
   */
  warnings(): string[] {
    const out: string[] = [];
    const packets = (n: number) => `${n} packet${n === 1 ? '' : 's'}`;
    for (const [t, n] of this.unsupportedLinkTypes) {
      out.push(`link type ${linkTypeName(t)} (${t}) is not decoded: ${packets(n)} skipped, any TCP they carry is not analysed`);
    }
    this.unsupportedEncaps.forEach((n, code) => {
      if (n > 0) out.push(`${packets(n)} in an encapsulation not decoded (${code === 0 ? 'unnamed' : ENCAP_NAMES[code]}): any TCP they carry is not analysed`);
    });
    for (const e of ENCRYPTIONS) if (this.encryptedEncaps[e.encap] > 0) out.push(e.warning(this.encryptedEncaps[e.encap]));
    const bad = badChecksumWarning(this.badChecksums, this.tcp);
    if (bad !== null) out.push(bad);
    return out;
  }

  get tcp(): number {
    return this.byStatus[Status.TCP];
  }

  /** [name, count] for every non-zero counter. */
  entries(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    this.byStatus.forEach((n, i) => n > 0 && out.push([STATUS_NAMES[i], n]));
    for (const [bit, name] of NOTE_NAMES) {
      const n = this.byNote.get(bit)!;
      if (n > 0) out.push([name, n]);
    }
    for (const e of ENCRYPTIONS) if (this.encryptedEncaps[e.encap] > 0) out.push([e.counter, this.encryptedEncaps[e.encap]]);
    if (this.untimed > 0) out.push(['no_timestamp', this.untimed]);
    if (this.badChecksums > 0) out.push(['bad_checksum_dropped', this.badChecksums]);
    out.push(...this.reassembly.entries());
    if (this.internalErrors > 0) out.push(['internal_error', this.internalErrors]);
    return out;
  }
}
