/**
 * zstd, one block at a time. The frame and block headers are read here (RFC 8878 3.1):
 * every frame's window (a single-segment frame's content size stands for it) is checked
 * against the limit before anything is allocated for it, every block's size against the block
 * maximum, and each whole block is decoded into the window (zstd-blocks.ts; Node 20 has no
 * zstd). Its output, at most 128 KiB and a view of the window, goes to the consumer before the
 * next block is read, so memory stays bounded whatever the ratio (an RLE block of 4 bytes makes
 * 128 KiB). The content checksum (XXH64, low 32 bits) and the declared content size are
 * verified at each frame's end.
 */
import { DecompressError } from './errors.js';
import type { Pull } from './pull.js';
import { Xxh64 } from './xxh64.js';
import { BLOCK_MAX, ZstdBlocks, ZstdCorrupt } from './zstd-blocks.js';

export const ZSTD_MAGIC = 0xfd2fb528;
/** A zstd window (or single-segment content size) larger than this is refused before anything is allocated for it. */
export const ZSTD_MAX_WINDOW = 128 * 1024 * 1024;
/**
 * Decompressed bytes after which the event loop gets a turn: blocks from buffered input are
 * decoded without any I/O to wait for, and a signal's handler (Ctrl-C) must still run.
 */
const BREATHE = 16 * 1024 * 1024;
/** Skippable frames: magic 0x184D2A50 to 0x184D2A5F. */
export const ZSTD_SKIPPABLE = 0x184d2a50;

const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/**
 * The frames of `input`, decompressed. Throws DecompressError at damage (after handing out
 * everything before it); bytes after the last frame that are not a frame go to `warn`. Each
 * piece is a view of the window, good until the next is asked for.
 */
export async function* unzstd(input: Pull, warn: (e: DecompressError) => void): AsyncGenerator<Uint8Array> {
  /** Decompressed bytes handed out. */
  let out = 0;
  let breathed = 0;
  let frame = 0;
  const hash = new Xxh64();
  const blocks = new ZstdBlocks();
  const cutShort = (what: string) => new DecompressError(`zstd data is cut short ${what}`, out, 'truncated');
  for (;;) {
    const have = await input.fill(4);
    if (have === 0) return;
    if (have < 4) throw cutShort(`after frame ${frame} (${have} byte(s) of a next frame)`);
    const magic = input.u32(0);
    if ((magic & 0xfffffff0) >>> 0 === ZSTD_SKIPPABLE) {
      if ((await input.fill(8)) < 8) throw cutShort('inside a skippable frame');
      const size = input.u32(4);
      input.take(8);
      if (!(await input.skip(size))) throw cutShort('inside a skippable frame');
      continue;
    }
    if (magic !== ZSTD_MAGIC) {
      const at = input.position;
      let n = 0;
      while ((await input.fill(1)) > 0) n += input.takeSome(Infinity).length;
      warn(new DecompressError(`${n} byte(s) after the last zstd frame (compressed offset ${at}) are not zstd data; ignored`, out, 'truncated'));
      return;
    }
    frame++;
    const frameStart = out;

    // Frame header: magic, descriptor, [window descriptor], [dictionary id], [content size].
    if ((await input.fill(5)) < 5) throw cutShort(`in the header of frame ${frame}`);
    const descriptor = input.at(4);
    const single = (descriptor & 0x20) !== 0;
    const hasChecksum = (descriptor & 0x04) !== 0;
    const dictBytes = [0, 1, 2, 4][descriptor & 3];
    const fcsBytes = [single ? 1 : 0, 2, 4, 8][descriptor >> 6];
    const headerLen = 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
    if ((await input.fill(headerLen)) < headerLen) throw cutShort(`in the header of frame ${frame}`);
    const corrupt = (what: string) => new DecompressError(`zstd data is corrupt: frame ${frame} ${what}`, out);
    if (descriptor & 0x08) throw corrupt('sets the reserved bit of its header');
    let p = single ? 5 : 6;
    let dict = 0;
    for (let i = 0; i < dictBytes; i++) dict += input.at(p + i) * 2 ** (8 * i);
    p += dictBytes;
    let contentSize = -1;
    if (fcsBytes > 0) {
      contentSize = 0;
      for (let i = 0; i < fcsBytes; i++) contentSize += input.at(p + i) * 2 ** (8 * i);
      if (fcsBytes === 2) contentSize += 256;
    }
    let window = contentSize;
    if (!single) {
      const wd = input.at(5);
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    if (window > ZSTD_MAX_WINDOW) {
      const which = single ? `frame ${frame}, single segment: its declared content size` : `frame ${frame}`;
      throw new DecompressError(`zstd data is too large: zstd window of ${window} bytes is larger than the limit of ${ZSTD_MAX_WINDOW} (${which})`, out);
    }
    if (dict !== 0) throw new DecompressError(`zstd frame ${frame} needs dictionary ${dict}, which is not in the file`, out);
    input.take(headerLen);

    // Blocks, each decoded whole and its output handed on before the next is read.
    const blockMax = Math.min(window, BLOCK_MAX);
    let frameOut = 0;
    hash.reset();
    blocks.beginFrame(window);
    for (let last = false, n = 1; !last; n++) {
      if ((await input.fill(3)) < 3) throw cutShort(`inside frame ${frame}`);
      const h = input.at(0) | (input.at(1) << 8) | (input.at(2) << 16);
      last = (h & 1) === 1;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      if (type === 3) throw corrupt('has a block of the reserved type 3');
      if (size > blockMax) throw corrupt(`has a block of ${size} bytes, over its maximum of ${blockMax}`);
      const len = 3 + (type === 1 ? 1 : size);
      if ((await input.fill(len)) < len) throw cutShort(`inside frame ${frame}`);
      const block = input.take(len);
      let data: Uint8Array;
      try {
        data = type === 0 ? blocks.raw(block, 3, size) : type === 1 ? blocks.rle(block[3], size) : blocks.compressed(block, 3, size);
      } catch (e) {
        if (e instanceof ZstdCorrupt) throw new DecompressError(`zstd data is corrupt: frame ${frame}, block ${n}: ${e.message}`, out);
        throw e;
      }
      frameOut += data.length;
      if (contentSize >= 0 && frameOut > contentSize) throw corrupt(`holds more than the ${contentSize} bytes its header declares`);
      hash.update(data);
      out += data.length;
      yield data;
      if (out - breathed >= BREATHE) {
        breathed = out;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    if (contentSize >= 0 && frameOut !== contentSize) throw corrupt(`holds ${frameOut} bytes, not the ${contentSize} its header declares`);
    if (hasChecksum) {
      if ((await input.fill(4)) < 4) throw cutShort(`before the checksum of frame ${frame}`);
      const stored = input.u32(0);
      input.take(4);
      const computed = hash.digest()[1] >>> 0;
      if (stored !== computed) {
        throw new DecompressError(
          `zstd data is damaged: frame ${frame} (decompressed bytes ${frameStart} to ${out}) does not match its checksum (stored ${hex(stored)}, computed ${hex(computed)})`,
          out,
        );
      }
    }
  }
}
