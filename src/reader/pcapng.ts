/**
 * pcapng: a sequence of blocks (type, total length, body, total length again).
 * Each Section Header Block sets the byte order for its section and restarts
 * interface numbering; packets (EPB, SPB, OPB) are numbered across the file.
 */
import type { ByteQueue } from './byte-queue.js';
import { CaptureError } from './errors.js';
import { MAX_BLOCK, MAX_INTERFACES, packetLimit } from './limits.js';
import type { InterfaceInfo, PacketRecord } from './record.js';
import { scaleFor, unitsPerSecondFromTsresol, unitsToMicros, type TsScale } from './timestamp.js';

export const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_OPB = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_FCSLEN = 13;
const IF_TSOFFSET = 14;

const utf8 = new TextDecoder();

interface Interface {
  info: InterfaceInfo;
  scale: TsScale;
  tsOffsetUs: number;
  fcsLen: number;
  limit: number;
}

export class PcapngParser {
  /** Link types of every interface seen, in order. */
  sections = 0;
  private littleEndian = true;
  private interfaces: Interface[] = [];
  private interfaceCount = 0;
  private recordNumber = 0;
  private lastTsUs = 0;
  private dv: DataView | null = null;
  private dvBuf: Uint8Array | null = null;

  constructor(
    private readonly record: PacketRecord,
    private readonly onInterface: (info: InterfaceInfo) => void,
    /** Interfaces described by the files before this one, read as the same capture: they count towards the limit. */
    private readonly interfacesBefore = 0,
  ) {}

  private view(buf: Uint8Array): DataView {
    if (this.dvBuf !== buf) {
      this.dvBuf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.dv!;
  }

  get nextRecordNumber(): number {
    return this.recordNumber + 1;
  }

  pendingUnit(q: ByteQueue): string {
    if (q.length < 12) return `block header (needs 12 bytes, has ${q.length})`;
    q.contiguous(12);
    const len = this.blockLength(q);
    return `block (needs ${len} bytes, has ${q.length})`;
  }

  /** Total length of the block at the queue head; for an SHB, fixes the byte order first. */
  private blockLength(q: ByteQueue): number {
    const dv = this.view(q.buf);
    const o = q.off;
    if (dv.getUint32(o, true) === BLOCK_SHB) {
      const bom = dv.getUint32(o + 8, true);
      if (bom === BYTE_ORDER_MAGIC) this.littleEndian = true;
      else if (bom === 0x4d3c2b1a) this.littleEndian = false;
      else throw new CaptureError(`section header has a bad byte-order magic 0x${bom.toString(16)}`, q.position + 8, this.recordNumber + 1);
    }
    return dv.getUint32(o + 4, this.littleEndian);
  }

  parse(q: ByteQueue, emit: (r: PacketRecord) => void): void {
    for (;;) {
      if (!q.contiguous(12)) return;
      const pos = q.position;
      const type = this.view(q.buf).getUint32(q.off, this.littleEndian);
      if (this.sections === 0 && type !== BLOCK_SHB) {
        throw new CaptureError('pcapng file does not start with a section header block', pos);
      }
      const len = this.blockLength(q);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
        throw new CaptureError(
          `block of type 0x${type.toString(16)} has an invalid total length ${len} (must be a multiple of 4, at least 12, at most ${MAX_BLOCK})`,
          pos,
          this.recordNumber + 1,
        );
      }
      if (!q.contiguous(len)) return;
      const dv = this.view(q.buf);
      const o = q.off;
      const trailer = dv.getUint32(o + len - 4, this.littleEndian);
      if (trailer !== len) {
        throw new CaptureError(
          `block of type 0x${type.toString(16)} has total length ${len} at its start but ${trailer} at its end`,
          pos,
          this.recordNumber + 1,
        );
      }
      switch (type) {
        case BLOCK_SHB:
          this.readSectionHeader(dv, o, len, pos);
          break;
        case BLOCK_IDB:
          this.readInterface(dv, o, len, pos);
          break;
        case BLOCK_EPB:
          this.readEnhancedPacket(q.buf, dv, o, len, pos, emit);
          break;
        case BLOCK_SPB:
          this.readSimplePacket(q.buf, dv, o, len, pos, emit);
          break;
        case BLOCK_OPB:
          this.readObsoletePacket(q.buf, dv, o, len, pos, emit);
          break;
        default:
          break; // NRB, ISB, DSB, custom and unknown blocks carry no packets
      }
      q.consume(len);
    }
  }

  private readSectionHeader(dv: DataView, o: number, len: number, pos: number): void {
    if (len < 28) throw new CaptureError(`section header block too short (${len} bytes)`, pos, this.recordNumber + 1);
    const major = dv.getUint16(o + 12, this.littleEndian);
    const minor = dv.getUint16(o + 14, this.littleEndian);
    if (!(major === 1 && (minor === 0 || minor === 2))) {
      throw new CaptureError(`unsupported pcapng section version ${major}.${minor}`, pos + 12, this.recordNumber + 1);
    }
    this.forEachOption(dv, o, o + 24, o + len - 4, pos, () => undefined);
    this.sections++;
    this.interfaces = [];
  }

  private readInterface(dv: DataView, o: number, len: number, pos: number): void {
    if (len < 20) throw new CaptureError(`interface description block too short (${len} bytes)`, pos, this.recordNumber + 1);
    if (this.interfacesBefore + this.interfaceCount >= MAX_INTERFACES) {
      const before = this.interfacesBefore > 0 ? ` (${this.interfacesBefore} of them in the files before this one)` : '';
      throw new CaptureError(
        `interface description block ${this.interfaceCount + 1} is one too many: a capture may describe at most ${MAX_INTERFACES} interfaces${before}`,
        pos,
        this.recordNumber + 1,
      );
    }
    const le = this.littleEndian;
    const linkType = dv.getUint16(o + 8, le);
    const snaplen = dv.getUint32(o + 12, le);
    let unitsPerSecond = 1e6;
    let tsOffsetSeconds = 0;
    let fcsLen = 0;
    let name: string | null = null;
    this.forEachOption(dv, o, o + 16, o + len - 4, pos, (code, vo, vlen) => {
      if (code === IF_TSRESOL && vlen >= 1) unitsPerSecond = unitsPerSecondFromTsresol(dv.getUint8(vo));
      else if (code === IF_TSOFFSET && vlen >= 8) tsOffsetSeconds = Number(dv.getBigInt64(vo, le));
      else if (code === IF_FCSLEN && vlen >= 1) fcsLen = dv.getUint8(vo);
      else if (code === IF_NAME) name = utf8.decode(new Uint8Array(dv.buffer, dv.byteOffset + vo, vlen)).replace(/\0+$/, '');
    });
    const info: InterfaceInfo = {
      index: this.interfaceCount++,
      section: this.sections - 1,
      linkType,
      snaplen,
      unitsPerSecond,
      tsOffsetSeconds,
      name,
    };
    this.interfaces.push({ info, scale: scaleFor(unitsPerSecond), tsOffsetUs: tsOffsetSeconds * 1e6, fcsLen, limit: packetLimit(snaplen) });
    this.onInterface(info);
  }

  private iface(id: number, pos: number, what: string): Interface {
    const itf = this.interfaces[id];
    if (itf === undefined) {
      throw new CaptureError(
        `${what} refers to interface ${id}, but this section has ${this.interfaces.length} interface description block(s)`,
        pos,
        this.recordNumber + 1,
      );
    }
    return itf;
  }

  private checkCaplen(caplen: number, room: number, itf: Interface, pos: number, what: string): void {
    if (caplen > room) {
      throw new CaptureError(`${what} captured length ${caplen} runs past the end of its block (room for ${room})`, pos, this.recordNumber + 1);
    }
    if (caplen > itf.limit) {
      throw new CaptureError(`${what} captured length ${caplen} is larger than the limit of ${itf.limit} bytes`, pos, this.recordNumber + 1);
    }
  }

  private emitPacket(itf: Interface, buf: Uint8Array, dataOff: number, caplen: number, origLen: number, tsUs: number, tsKnown: boolean, pos: number, emit: (r: PacketRecord) => void): void {
    const rec = this.record;
    this.recordNumber++;
    rec.number = this.recordNumber;
    rec.fileOffset = pos;
    rec.tsUs = tsUs;
    rec.tsKnown = tsKnown;
    rec.linkType = itf.info.linkType;
    rec.fcsLen = itf.fcsLen;
    rec.interfaceIndex = itf.info.index;
    rec.caplen = caplen;
    rec.origLen = origLen;
    rec.buf = buf;
    rec.offset = dataOff;
    emit(rec);
  }

  /**
   * A packet with a 64-bit timestamp. Times beyond what integer microseconds hold
   * exactly (after the year 2255) are garbage in practice: the packet is kept, untimed.
   */
  private emitTimed(itf: Interface, buf: Uint8Array, dataOff: number, caplen: number, origLen: number, hi: number, lo: number, pos: number, emit: (r: PacketRecord) => void): void {
    const tsUs = unitsToMicros(hi, lo, itf.scale) + itf.tsOffsetUs;
    if (Number.isSafeInteger(tsUs) && tsUs >= 0) {
      this.lastTsUs = tsUs;
      this.emitPacket(itf, buf, dataOff, caplen, origLen, tsUs, true, pos, emit);
    } else {
      this.emitPacket(itf, buf, dataOff, caplen, origLen, this.lastTsUs, false, pos, emit);
    }
  }

  private readEnhancedPacket(buf: Uint8Array, dv: DataView, o: number, len: number, pos: number, emit: (r: PacketRecord) => void): void {
    if (len < 32) throw new CaptureError(`enhanced packet block too short (${len} bytes)`, pos, this.recordNumber + 1);
    const le = this.littleEndian;
    const itf = this.iface(dv.getUint32(o + 8, le), pos, 'enhanced packet block');
    const caplen = dv.getUint32(o + 20, le);
    this.checkCaplen(caplen, len - 32, itf, pos, 'enhanced packet block');
    this.emitTimed(itf, buf, o + 28, caplen, dv.getUint32(o + 24, le), dv.getUint32(o + 12, le), dv.getUint32(o + 16, le), pos, emit);
  }

  private readSimplePacket(buf: Uint8Array, dv: DataView, o: number, len: number, pos: number, emit: (r: PacketRecord) => void): void {
    if (len < 16) throw new CaptureError(`simple packet block too short (${len} bytes)`, pos, this.recordNumber + 1);
    const itf = this.iface(0, pos, 'simple packet block');
    const origLen = dv.getUint32(o + 8, this.littleEndian);
    let caplen = Math.min(origLen, len - 16);
    if (itf.info.snaplen > 0) caplen = Math.min(caplen, itf.info.snaplen);
    this.checkCaplen(caplen, len - 16, itf, pos, 'simple packet block');
    this.emitPacket(itf, buf, o + 12, caplen, origLen, this.lastTsUs, false, pos, emit);
  }

  private readObsoletePacket(buf: Uint8Array, dv: DataView, o: number, len: number, pos: number, emit: (r: PacketRecord) => void): void {
    if (len < 32) throw new CaptureError(`packet block too short (${len} bytes)`, pos, this.recordNumber + 1);
    const le = this.littleEndian;
    const itf = this.iface(dv.getUint16(o + 8, le), pos, 'packet block');
    const caplen = dv.getUint32(o + 20, le);
    this.checkCaplen(caplen, len - 32, itf, pos, 'packet block');
    this.emitTimed(itf, buf, o + 28, caplen, dv.getUint32(o + 24, le), dv.getUint32(o + 12, le), dv.getUint32(o + 16, le), pos, emit);
  }

  /** Walk options in [start, end); an option running past `end` damages the block. */
  private forEachOption(dv: DataView, blockOff: number, start: number, end: number, pos: number, fn: (code: number, valueOff: number, valueLen: number) => void): void {
    let p = start;
    while (p + 4 <= end) {
      const code = dv.getUint16(p, this.littleEndian);
      const vlen = dv.getUint16(p + 2, this.littleEndian);
      if (code === OPT_ENDOFOPT) return;
      if (p + 4 + vlen > end) {
        throw new CaptureError(
          `option ${code} of length ${vlen} runs past the end of its block`,
          pos + (p - blockOff),
          this.recordNumber + 1,
        );
      }
      fn(code, p + 4, vlen);
      p += 4 + ((vlen + 3) & ~3);
    }
  }
}
