/**
 * The capture parser: fed chunks in any sizes, it sniffs the format from the
 * leading bytes (never the file name) and hands out every complete record.
 */
import { ByteQueue } from './byte-queue.js';
import { CaptureError } from './errors.js';
import { PcapParser, pcapMagic } from './pcap.js';
import { BLOCK_SHB, PcapngParser } from './pcapng.js';
import { newRecord, type CaptureFormat, type InterfaceInfo, type PacketRecord } from './record.js';

/** Leading bytes of formats we recognise but do not read, so the error can say what the file is. */
const FOREIGN_MAGICS: Array<[number[], string]> = [
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd data inside compressed data'],
  [[0x1f, 0x8b], 'gzip data inside gzip data'],
  [[0x42, 0x5a, 0x68], 'bzip2-compressed data (decompress it first: bunzip2 FILE)'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz-compressed data (decompress it first: xz -d FILE)'],
  [[0x04, 0x22, 0x4d, 0x18], 'lz4-compressed data (decompress it first: lz4 -d FILE)'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive (extract the capture first)'],
];

export class CaptureParser {
  format: CaptureFormat | null = null;
  readonly interfaces: InterfaceInfo[] = [];
  private readonly queue = new ByteQueue();
  private impl: PcapParser | PcapngParser | null = null;
  private readonly record = newRecord();
  private failed: CaptureError | null = null;

  /** `interfacesBefore`: interfaces described by files read before this one as the same capture. */
  constructor(
    private readonly onRecord: (r: PacketRecord) => void,
    private readonly interfacesBefore = 0,
  ) {}

  /** Bytes of the stream taken in so far. */
  get bytesIn(): number {
    return this.queue.position + this.queue.length;
  }

  /** Bytes of the stream consumed by complete records and blocks (the start of any damage). */
  get bytesParsed(): number {
    return this.queue.position;
  }

  /** Records handed out so far. */
  get records(): number {
    return this.impl === null ? 0 : this.impl.nextRecordNumber - 1;
  }

  /**
   * Feed the next chunk. Throws CaptureError on damage; records before it were already handed out.
   * A `borrowed` chunk is not read after push() returns (what is left of it is copied): its owner may reuse it.
   */
  push(chunk: Uint8Array, borrowed = false): void {
    if (this.failed !== null) throw this.failed;
    this.queue.push(chunk, borrowed);
    try {
      if (this.impl === null && !this.sniff()) return;
      this.impl!.parse(this.queue, this.onRecord);
    } catch (e) {
      if (e instanceof CaptureError) this.failed = e;
      throw e;
    } finally {
      this.queue.release();
    }
  }

  /** The stream has ended: returns the error for a cut-short tail, if any. */
  end(): CaptureError | null {
    if (this.failed !== null) return this.failed;
    const q = this.queue;
    if (this.impl === null) {
      if (q.length === 0) return new CaptureError('empty file: not a capture', 0);
      // Fewer than 4 bytes: sniff what we can.
      q.contiguous(q.length);
      return new CaptureError(`only ${q.length} byte(s): too short to be a capture`, 0);
    }
    if (q.length === 0) return null;
    return new CaptureError(
      `capture is cut short inside record ${this.impl.nextRecordNumber}: ${this.impl.pendingUnit(q)}`,
      q.position,
      this.impl.nextRecordNumber,
      'truncated',
    );
  }

  private sniff(): boolean {
    const q = this.queue;
    if (!q.contiguous(4)) {
      // Two-byte magics (gzip) can be told early.
      return false;
    }
    const b = q.buf;
    const o = q.off;
    const onInterface = (info: InterfaceInfo) => this.interfaces.push(info);
    const word = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
    if (word === BLOCK_SHB) {
      this.format = 'pcapng';
      this.impl = new PcapngParser(this.record, onInterface, this.interfacesBefore);
      return true;
    }
    if (pcapMagic(b, o) !== null) {
      this.format = 'pcap';
      this.impl = new PcapParser(this.record, onInterface);
      return true;
    }
    for (const [magic, what] of FOREIGN_MAGICS) {
      if (magic.length <= 4 && magic.every((v, i) => b[o + i] === v)) {
        throw new CaptureError(`unsupported format: ${what}`, 0, null, 'unsupported');
      }
    }
    const hex = Array.from(b.subarray(o, o + 4), (v) => v.toString(16).padStart(2, '0')).join(' ');
    throw new CaptureError(`not a pcap or pcapng file (unknown magic ${hex})`, 0, null, 'unsupported');
  }
}
