/**
 * Classic libpcap files: 24-byte file header, then records of a 16-byte header
 * and the captured bytes. Byte order and timestamp precision come from the magic.
 */
import type { ByteQueue } from './byte-queue.js';
import { CaptureError } from './errors.js';
import { packetLimit } from './limits.js';
import type { InterfaceInfo, PacketRecord } from './record.js';

const FILE_HEADER = 24;
/** Record header size: 16, or 24 in the "modified" (Kuznetzov) format with ifindex, protocol and type. */
const RECORD_HEADER_STANDARD = 16;
const RECORD_HEADER_MODIFIED = 24;

/**
 * Files older than version 2.3 wrote the captured and original lengths the other
 * way round; 2.3 files may or may not have. libpcap and Wireshark swap them back.
 */
type LengthOrder = 'normal' | 'swapped' | 'maybe-swapped';

export interface PcapHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  modified: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: number;
  fcsLen: number;
}

/** Read the pcap magic at buf[off]; null when it is not a pcap magic. */
export function pcapMagic(buf: Uint8Array, off: number): { littleEndian: boolean; nanosecond: boolean; modified: boolean } | null {
  const be = ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
  const le = ((buf[off + 3] << 24) | (buf[off + 2] << 16) | (buf[off + 1] << 8) | buf[off]) >>> 0;
  for (const [v, littleEndian] of [[be, false], [le, true]] as const) {
    if (v === 0xa1b2c3d4) return { littleEndian, nanosecond: false, modified: false };
    if (v === 0xa1b23c4d) return { littleEndian, nanosecond: true, modified: false };
    if (v === 0xa1b2cd34) return { littleEndian, nanosecond: false, modified: true };
  }
  return null;
}

export class PcapParser {
  header: PcapHeader | null = null;
  private recordNumber = 0;
  private limit = 0;
  private recordHeader = RECORD_HEADER_STANDARD;
  private lengthOrder: LengthOrder = 'normal';
  private dv: DataView | null = null;
  private dvBuf: Uint8Array | null = null;

  constructor(
    private readonly record: PacketRecord,
    private readonly onInterface: (info: InterfaceInfo) => void,
  ) {}

  private view(buf: Uint8Array): DataView {
    if (this.dvBuf !== buf) {
      this.dvBuf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.dv!;
  }

  /** Bytes the next unit needs, for the message when the stream ends early. */
  pendingUnit(q: ByteQueue): string {
    if (this.header === null) return `file header (needs ${FILE_HEADER} bytes, has ${q.length})`;
    const hl = this.recordHeader;
    if (q.length < hl) return `record header (needs ${hl} bytes, has ${q.length})`;
    q.contiguous(hl);
    const caplen = this.caplen(this.view(q.buf), q.off);
    return `record data (needs ${hl + caplen} bytes, has ${q.length})`;
  }

  get nextRecordNumber(): number {
    return this.recordNumber + 1;
  }

  parse(q: ByteQueue, emit: (r: PacketRecord) => void): void {
    if (this.header === null) {
      if (!q.contiguous(FILE_HEADER)) return;
      this.readFileHeader(q);
      q.consume(FILE_HEADER);
    }
    const hl = this.recordHeader;
    for (;;) {
      if (!q.contiguous(hl)) return;
      // Every record that lies whole in the buffer at hand is read in place, in one pass.
      if (this.inPlace(q, emit) > 0) continue;
      // The next record straddles chunks (or is damaged): gather it alone.
      const caplen = this.checkedCaplen(this.view(q.buf), q.off, q.position);
      if (!q.contiguous(hl + caplen)) return;
      this.emitAt(q.buf, q.off, caplen, q.position, emit);
      q.consume(hl + caplen);
    }
  }

  /**
   * Records wholly inside q.buf from q.off, handed out in order and consumed; returns the bytes
   * they took (0 when the first does not fit). Stops short of a damaged record, which the caller reports.
   */
  private inPlace(q: ByteQueue, emit: (r: PacketRecord) => void): number {
    const buf = q.buf;
    const dv = this.view(buf);
    const start = q.off;
    const end = buf.length;
    const base = q.position - start;
    const hl = this.recordHeader;
    const le = this.header!.littleEndian;
    const normal = this.lengthOrder === 'normal';
    let o = start;
    try {
      while (o + hl <= end) {
        const caplen = normal ? dv.getUint32(o + 8, le) : this.caplen(dv, o);
        if (caplen > this.limit || o + hl + caplen > end) break;
        this.emitAt(buf, o, caplen, base + o, emit);
        o += hl + caplen;
      }
    } finally {
      // A callback that throws leaves the records before it consumed, as one at a time would.
      q.consume(o - start);
    }
    return o - start;
  }

  private emitAt(buf: Uint8Array, o: number, caplen: number, position: number, emit: (r: PacketRecord) => void): void {
    const h = this.header!;
    const dv = this.view(buf);
    const rec = this.record;
    const sec = dv.getUint32(o, h.littleEndian);
    const frac = dv.getUint32(o + 4, h.littleEndian);
    rec.number = ++this.recordNumber;
    rec.fileOffset = position;
    rec.tsUs = sec * 1e6 + (h.nanosecond ? Math.floor(frac / 1000) : frac);
    rec.tsKnown = true;
    rec.linkType = h.linkType;
    rec.fcsLen = h.fcsLen;
    rec.interfaceIndex = 0;
    rec.caplen = caplen;
    rec.origLen = this.lengthOrder === 'normal' ? dv.getUint32(o + 12, h.littleEndian) : this.origLen(dv, o);
    rec.buf = buf;
    rec.offset = o + this.recordHeader;
    emit(rec);
  }

  /** The record's captured length, refused when it is over the limit. */
  private checkedCaplen(dv: DataView, o: number, position: number): number {
    const caplen = this.caplen(dv, o);
    if (caplen > this.limit) {
      throw new CaptureError(
        `captured length ${caplen} is larger than the limit of ${this.limit} bytes (snaplen ${this.header!.snaplen})`,
        position,
        this.recordNumber + 1,
      );
    }
    return caplen;
  }

  private caplen(dv: DataView, o: number): number {
    const le = this.header!.littleEndian;
    const incl = dv.getUint32(o + 8, le);
    if (this.lengthOrder === 'normal') return incl;
    const orig = dv.getUint32(o + 12, le);
    if (this.lengthOrder === 'maybe-swapped' && incl <= orig) return incl;
    return orig;
  }

  private origLen(dv: DataView, o: number): number {
    const le = this.header!.littleEndian;
    const orig = dv.getUint32(o + 12, le);
    if (this.lengthOrder === 'normal') return orig;
    const incl = dv.getUint32(o + 8, le);
    if (this.lengthOrder === 'maybe-swapped' && incl <= orig) return orig;
    return incl;
  }

  private readFileHeader(q: ByteQueue): void {
    const magic = pcapMagic(q.buf, q.off);
    if (magic === null) throw new CaptureError('not a pcap file header', q.position);
    const dv = this.view(q.buf);
    const o = q.off;
    const le = magic.littleEndian;
    const versionMajor = dv.getUint16(o + 4, le);
    const versionMinor = dv.getUint16(o + 6, le);
    if (versionMajor !== 2) {
      throw new CaptureError(`unsupported pcap version ${versionMajor}.${versionMinor} (only 2.x exists)`, q.position + 4);
    }
    const snaplen = dv.getUint32(o + 16, le);
    const linkField = dv.getUint32(o + 20, le);
    // Bits 0-15 link type, 16-25 reserved.
    if (linkField & 0x03ff0000) {
      throw new CaptureError(
        `link-type field has reserved bits set (0x${(linkField & 0x03ff0000).toString(16).padStart(8, '0')})`,
        q.position + 20,
      );
    }
    const linkType = linkField & 0xffff;
    // Bit 26 says bits 28-31 hold the length of the frame check sequence in 16-bit words.
    const fcsLen = linkField & 0x04000000 ? (linkField >>> 28) * 2 : 0;
    this.recordHeader = magic.modified ? RECORD_HEADER_MODIFIED : RECORD_HEADER_STANDARD;
    this.lengthOrder = versionMinor < 3 ? 'swapped' : versionMinor === 3 ? 'maybe-swapped' : 'normal';
    this.header = { littleEndian: le, nanosecond: magic.nanosecond, modified: magic.modified, versionMajor, versionMinor, snaplen, linkType, fcsLen };
    this.limit = packetLimit(snaplen);
    this.onInterface({
      index: 0,
      section: 0,
      linkType,
      snaplen,
      unitsPerSecond: magic.nanosecond ? 1e9 : 1e6,
      tsOffsetSeconds: 0,
      name: null,
    });
  }
}
