/**
 * zstd frames built by hand (RFC 8878) for the reader's tests: raw and RLE blocks only, so no
 * encoder is needed, with the header fields an attacker chooses (window, single segment,
 * content size, checksum) set as asked.
 */
import { Xxh64 } from '../src/reader/xxh64.js';

export interface FrameOptions {
  /** Window_Descriptor byte (ignored for a single-segment frame); default 0x00 (1 KiB). */
  windowDescriptor?: number;
  /** Single_Segment_flag: the content size stands for the window. */
  singleSegment?: boolean;
  /** Frame_Content_Size to declare (written in 4 bytes, or 8 when it does not fit); default none. */
  contentSize?: number;
  /** Append the XXH64 content checksum (default true). */
  checksum?: boolean;
  /** XOR this into the checksum written (a damaged checksum). */
  flipChecksum?: number;
}

export type Block = { raw: Uint8Array } | { rle: number; size: number };

/** Blocks of raw content, at most `max` bytes each (the block maximum is 128 KiB, and the window). */
export function rawBlocks(content: Uint8Array, max = 1024): Block[] {
  const out: Block[] = [];
  for (let i = 0; i < content.length; i += max) out.push({ raw: content.subarray(i, i + max) });
  return out;
}

export function zstdFrame(blocks: Block[], opts: FrameOptions = {}): Buffer {
  const checksum = opts.checksum !== false;
  const parts: Buffer[] = [];
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0xfd2fb528);
  parts.push(magic);
  const fcs = opts.contentSize;
  let fcsBytes = 0;
  let fcsFlag = 0;
  if (fcs !== undefined) [fcsFlag, fcsBytes] = fcs < 2 ** 32 ? [2, 4] : [3, 8];
  else if (opts.singleSegment) throw new Error('a single-segment frame needs its content size');
  parts.push(Buffer.from([(fcsFlag << 6) | (opts.singleSegment ? 0x20 : 0) | (checksum ? 0x04 : 0)]));
  if (!opts.singleSegment) parts.push(Buffer.from([opts.windowDescriptor ?? 0]));
  if (fcs !== undefined) {
    const b = Buffer.alloc(fcsBytes);
    if (fcsBytes === 4) b.writeUInt32LE(fcs);
    else b.writeBigUInt64LE(BigInt(fcs));
    parts.push(b);
  }
  const hash = new Xxh64();
  blocks.forEach((block, i) => {
    const last = i === blocks.length - 1 ? 1 : 0;
    const h = Buffer.alloc(3);
    if ('raw' in block) {
      h.writeUIntLE(last | (0 << 1) | (block.raw.length << 3), 0, 3);
      parts.push(h, Buffer.from(block.raw));
      hash.update(block.raw);
    } else {
      h.writeUIntLE(last | (1 << 1) | (block.size << 3), 0, 3);
      parts.push(h, Buffer.from([block.rle]));
      // The checksum of a long run, a piece at a time.
      const piece = new Uint8Array(Math.min(block.size, 1 << 16)).fill(block.rle);
      for (let left = block.size; left > 0; left -= piece.length) hash.update(piece, 0, Math.min(left, piece.length));
    }
  });
  if (checksum) {
    const c = Buffer.alloc(4);
    c.writeUInt32LE((hash.digest()[1] ^ (opts.flipChecksum ?? 0)) >>> 0);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/** A skippable frame (magic 0x184D2A50..5F) of `size` bytes of user data. */
export function skippableFrame(size: number, data: Uint8Array = new Uint8Array(size)): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(0x184d2a50);
  h.writeUInt32LE(size, 4);
  return Buffer.concat([h, Buffer.from(data.subarray(0, size))]);
}
