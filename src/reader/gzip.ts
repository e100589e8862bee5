/**
 * gzip, member by member (RFC 1952). The header and the trailer are read here and zlib only
 * inflates the deflate data, given in pieces of at most GZIP_PIECE bytes: each piece's output
 * goes to the consumer before the next is given, so a bad CRC or length (checked here, at the
 * trailer) loses nothing, and a deflate error loses at most what its own piece would have made
 * (zlib drops the output of the write that fails). Members follow each other; bytes after the
 * last that are not a member are reported to `warn` and ignored, as gzip -d does.
 */
import { createInflateRaw, crc32 } from 'node:zlib';
import { DecompressError } from './errors.js';
import type { Pull } from './pull.js';

/** Compressed bytes given to zlib at a time (a deflate error loses this piece's output). */
const GZIP_PIECE = 64 * 1024;
/** Output pieces of zlib. */
const GZIP_OUT = 1 << 18;

const FHCRC = 0x02, FEXTRA = 0x04, FNAME = 0x08, FCOMMENT = 0x10;
const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

export async function* gunzip(input: Pull, warn: (e: DecompressError) => void): AsyncGenerator<Uint8Array> {
  /** Decompressed bytes handed out. */
  let out = 0;
  let member = 0;
  const cutShort = (what: string) => new DecompressError(`gzip data is cut short ${what}`, out, 'truncated');
  for (;;) {
    const have = await input.fill(2);
    if (have === 0) return;
    if (member > 0 && (have < 2 || input.at(0) !== 0x1f || input.at(1) !== 0x8b)) {
      const at = input.position;
      let n = 0;
      while ((await input.fill(1)) > 0) n += input.takeSome(Infinity).length;
      warn(new DecompressError(`${n} byte(s) of trailing garbage after the gzip data (compressed offset ${at}); ignored`, out, 'truncated'));
      return;
    }
    member++;
    const corrupt = (what: string) => new DecompressError(`gzip data is corrupt: member ${member} ${what}`, out);
    if ((await input.fill(10)) < 10) throw cutShort(`in the header of member ${member}`);
    if (input.at(2) !== 8) throw corrupt(`uses compression method ${input.at(2)}, not deflate`);
    const flags = input.at(3);
    if (flags & 0xe0) throw corrupt('sets reserved header flags');
    input.take(10);
    if (flags & FEXTRA) {
      if ((await input.fill(2)) < 2) throw cutShort(`in the header of member ${member}`);
      const xlen = input.at(0) | (input.at(1) << 8);
      input.take(2);
      if (!(await input.skip(xlen))) throw cutShort(`in the header of member ${member}`);
    }
    for (const field of [FNAME, FCOMMENT]) {
      if (!(flags & field)) continue;
      // A zero-terminated string, dropped as it is read.
      for (let b = -1; b !== 0; ) {
        if ((await input.fill(1)) < 1) throw cutShort(`in the header of member ${member}`);
        b = input.take(1)[0];
      }
    }
    if (flags & FHCRC && !(await input.skip(2))) throw cutShort(`in the header of member ${member}`);

    // The deflate data, a piece at a time; zlib says where it ends by leaving input unread.
    const inflate = createInflateRaw({ chunkSize: GZIP_OUT });
    const produced: Uint8Array[] = [];
    let failure: Error | null = null;
    let wake = () => {};
    inflate.on('data', (d: Uint8Array) => produced.push(d));
    inflate.on('error', (e: Error) => {
      failure = e;
      wake();
    });
    let crc = 0;
    let size = 0;
    let written = 0;
    try {
      for (;;) {
        if ((await input.fill(1)) === 0) throw cutShort(`inside member ${member}`);
        const piece = input.takeSome(GZIP_PIECE);
        written += piece.length;
        await new Promise<void>((resolve) => {
          wake = resolve;
          inflate.write(piece, () => resolve());
        });
        // 'data' events of this write come before its callback; one turn more for safety.
        await new Promise<void>((resolve) => setImmediate(resolve));
        for (const d of produced) {
          crc = crc32(d, crc);
          size += d.length;
          out += d.length;
          yield d;
        }
        produced.length = 0;
        if (failure !== null) throw corrupt(`cannot be inflated (${(failure as Error).message})`);
        const unread = written - inflate.bytesWritten;
        if (unread > 0) {
          input.unshift(piece.subarray(piece.length - unread));
          break;
        }
      }
    } finally {
      inflate.removeAllListeners('error');
      inflate.on('error', () => undefined);
      inflate.destroy();
    }
    if ((await input.fill(8)) < 8) throw cutShort(`before the CRC and length of member ${member}`);
    const storedCrc = input.u32(0);
    const storedSize = input.u32(4);
    input.take(8);
    if (storedCrc !== crc >>> 0) throw new DecompressError(`gzip data is damaged: member ${member} does not match its CRC (stored ${hex(storedCrc)}, computed ${hex(crc)})`, out);
    if (storedSize !== size % 2 ** 32) throw new DecompressError(`gzip data is damaged: member ${member} holds ${size} bytes, its trailer says ${storedSize} (mod 2^32)`, out);
  }
}
