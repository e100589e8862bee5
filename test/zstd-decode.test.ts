/**
 * Our zstd decoder (src/reader/zstd-blocks.ts) against the zstd CLI: files it made at levels 1 to
 * 22, with --long=27, small blocks, tiny windows, no checksum, empty and several frames decode to
 * the very bytes they were made from (test/zstd-fixtures.ts says how each was made). Then what
 * no CLI makes: RLE literals, a match 100 MiB back (which fzstd got wrong), tables and offsets
 * that do not hold, and damaged files by the hundred: only DecompressError, never another throw.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DecompressError } from '../src/reader/errors.js';
import { sourceFromChunks } from '../src/reader/index.js';
import { Pull } from '../src/reader/pull.js';
import { unzstd } from '../src/reader/zstd.js';
import { LL_PREDEFINED, ZstdBlocks, ZstdCorrupt } from '../src/reader/zstd-blocks.js';
import { Rng } from '../scripts/fuzz.js';
import { pieces, sharedDir } from './helpers.js';
import { ZSTD_FIXTURES, ZSTD_FIXTURE_DIR, fixtureSource } from './zstd-fixtures.js';
import { skippableFrame } from './zstd-frames.js';

/** Everything the byte source makes of `file` fed in pieces of `piece` bytes (0: whole), copied as it comes. */
async function decompress(file: Uint8Array, piece = 0): Promise<Buffer> {
  const source = sourceFromChunks(pieces(file, piece));
  const parts: Buffer[] = [];
  for await (const chunk of source.chunks) parts.push(Buffer.from(chunk));
  assert.equal(source.compression, 'zstd');
  assert.equal(source.warning, null);
  return Buffer.concat(parts);
}

/** unzstd on bytes held whole: the output's length, or what it threw. */
async function attempt(file: Uint8Array): Promise<{ bytes: number; error: unknown }> {
  let bytes = 0;
  try {
    for await (const chunk of unzstd(new Pull(null, file, (c) => c), () => undefined)) bytes += chunk.length;
    return { bytes, error: null };
  } catch (e) {
    return { bytes, error: e };
  }
}

const fixture = (name: string) => readFileSync(join(ZSTD_FIXTURE_DIR, name));

test('zstd CLI files decode to the bytes they were made from, whole and in pieces', async () => {
  for (const f of ZSTD_FIXTURES) {
    const original = fixtureSource(f);
    const file = fixture(f.name);
    for (const piece of [0, 7, 4096]) {
      const out = await decompress(file, piece);
      assert.equal(out.length, original.length, `${f.name} (${f.why}), pieces of ${piece}`);
      assert.ok(out.equals(original), `${f.name} (${f.why}), pieces of ${piece}: bytes differ`);
    }
  }
});

test('several frames, an empty one and a skippable one between, are one stream', async () => {
  const names = ['abortive-close.pcap.1.zst', 'empty.zst', 'bulk-loss.pcap.blocks.zst', 'text.3.zst'];
  const file = Buffer.concat([fixture(names[0]), fixture(names[1]), skippableFrame(9), fixture(names[2]), fixture(names[3])]);
  const want = Buffer.concat(names.map((n) => fixtureSource(ZSTD_FIXTURES.find((f) => f.name === n)!)));
  assert.ok((await decompress(file, 1000)).equals(want));
});

test("the shared corpus's zstd pcapng decodes to its pcapng", async () => {
  const dir = join(sharedDir(), 'corpus', 'formats');
  const out = await decompress(readFileSync(join(dir, 'pcapng-example.pcapng.zst')), 513);
  assert.ok(out.equals(readFileSync(join(dir, 'pcapng-example.pcapng'))));
});

test('the predefined literals length table is RFC 8878 Appendix A', () => {
  // [state, symbol, bits, base] rows from the appendix.
  const rows = [
    [0, 0, 4, 0],
    [1, 0, 4, 16],
    [2, 1, 5, 32],
    [10, 14, 6, 0],
    [22, 0, 4, 32],
    [38, 25, 4, 0],
    [39, 25, 4, 16],
    [43, 0, 4, 48],
    [60, 35, 6, 0],
    [63, 32, 6, 0],
  ];
  for (const [state, symbol, bits, base] of rows) {
    assert.deepEqual([LL_PREDEFINED.symbol[state], LL_PREDEFINED.nbBits[state], LL_PREDEFINED.nextBase[state]], [symbol, bits, base], `state ${state}`);
  }
});

/**
 * A backward bit stream as zstd's decoder reads it: fields given in reading order are written
 * last first, then the closing 1-bit.
 */
function bitStream(fields: Array<[value: number, bits: number]>): number[] {
  let acc = 0n;
  let n = 0n;
  for (const [value, bits] of [...fields].reverse()) {
    acc |= BigInt(value) << n;
    n += BigInt(bits);
  }
  acc |= 1n << n;
  const out: number[] = [];
  for (let i = 0n; i <= n; i += 8n) out.push(Number((acc >> i) & 0xffn));
  return out;
}

/**
 * A compressed block of one sequence, every table in RLE mode (so only extra bits are in the
 * stream): raw literals `lits`, then a match of the given offset value and match length code.
 */
function oneSequence(lits: number[], ofCode: number, ofExtra: number, mlCode: number, mlExtra = 0, mlBits = 0): Uint8Array {
  assert.ok(lits.length < 32);
  const llCode = lits.length; // codes 0-15 are the length itself
  return Uint8Array.from([(lits.length << 3) | 0, ...lits, 1, 0x54, llCode, ofCode, mlCode, ...bitStream([[ofExtra, ofCode], [mlExtra, mlBits]])]);
}

test('RLE literals and a block of literals alone', () => {
  const z = new ZstdBlocks();
  z.beginFrame(1024);
  // Literals section: RLE, 20 bytes of 0x5a; sequences: none.
  const out = z.compressed(Uint8Array.from([0xee, (20 << 3) | 1, 0x5a, 0]), 1, 3);
  assert.deepEqual([...out], new Array(20).fill(0x5a));
});

test('a match 100 MiB back in a 128 MiB window (fzstd decoded one wrongly) and one spanning two blocks', () => {
  const z = new ZstdBlocks();
  z.beginFrame(2 ** 27);
  const blockMax = 128 * 1024;
  const blocks = 800; // 100 MiB: block i is all (i * 7) & 0xff
  for (let i = 0; i < blocks; i++) z.rle((i * 7) & 0xff, blockMax);
  const total = blocks * blockMax;
  const byteAt = (pos: number) => ((Math.floor(pos / blockMax) * 7) & 0xff);
  // Offset value = 2^26 + extra; offset = value - 3: from 4 bytes before the end of block 1 on.
  const start = blockMax - 4;
  const offset = total + 3 - start; // the match starts at `start`, 3 literals after the end
  const value = offset + 3;
  const ofCode = 31 - Math.clz32(value);
  const ml = 34; // match length code 31
  const block = oneSequence([1, 2, 3], ofCode, value - 2 ** ofCode, 31);
  const out = z.compressed(block, 0, block.length);
  const want = [1, 2, 3, ...Array.from({ length: ml }, (_, i) => byteAt(start + i))];
  assert.deepEqual([...out], want);
  assert.ok(offset > 96 * 1024 * 1024);
});

test('damage in hand-built blocks is named, never thrown as another error', () => {
  const cases: Array<[string, number, number[], RegExp]> = [
    ['a match before the frame', 1 << 20, [...oneSequence([1], 4, 0, 0)], /a match reaches 13 bytes back, before the frame begins/],
    ['a match before the window', 1024, [], /before the window begins/],
    ['treeless literals first', 1024, [(3 << 0) | (0 << 2) | (1 << 4), 0x10, 0x00, 0x80, 0], /reuse a Huffman tree, but none came before/],
    ['repeat tables first', 1024, [0, 1, 0xfc], /repeats the literals length table, but none came before/],
    ['reserved mode bits', 1024, [0, 1, 0x01], /reserved bits of its sequence modes/],
    ['an RLE symbol over the largest code', 1024, [0, 1, 0x40, 36], /literals length RLE symbol 36 is over the largest code, 35/],
    ['raw literals past the block', 1024, [(30 << 3) | 0, 1, 2], /raw literals run past the block/],
    ['bytes after no sequences', 1024, [0, 0, 0], /bytes after an empty sequences section/],
    ['no sequences section', 1024, [0], /no sequences section/],
    ['a stream without its closing bit', 1024, [0, 1, 0x54, 0, 0, 0, 0], /does not end with its closing bit/],
  ];
  for (const [what, window, bytes, message] of cases) {
    const z = new ZstdBlocks();
    z.beginFrame(window);
    let block: Uint8Array = Uint8Array.from(bytes);
    if (what === 'a match before the window') {
      // 2 KiB of history, then a match 1,500 bytes back in a 1 KiB window.
      for (let i = 0; i < 2; i++) z.raw(new Uint8Array(1024), 0, 1024);
      block = oneSequence([], 10, 1503 - 1024, 0);
    }
    assert.throws(() => z.compressed(block, 0, block.length), (e: unknown) => e instanceof ZstdCorrupt && message.test(e.message), what);
  }
});

test('a block decoding to more than the block maximum, and a dictionary, are errors at their offsets', async () => {
  // Single segment, content size 16: block maximum 16; one RLE literal run of 20.
  const frame = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 16, (3 << 3) | (2 << 1) | 1, 0, 0, (20 << 3) | 1, 0x5a, 0]);
  const r = await attempt(frame);
  assert.ok(r.error instanceof DecompressError);
  assert.match(r.error.message, /^zstd data is corrupt: frame 1, block 1: it has 20 literals, over the block maximum of 16$/);
  const dict = await attempt(Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x01, 0x00, 7, 1, 0, 0]));
  assert.ok(dict.error instanceof DecompressError);
  assert.match(dict.error.message, /needs dictionary 7, which is not in the file/);
});

test('damaged zstd files: DecompressError or the right bytes, never another exception, each in well under a second', async () => {
  const rng = new Rng(21);
  const names = ['time-wait-pileup.pcap.3.zst', 'syn-flood.pcap.wlog10.zst', 'bulk-loss.pcap.blocks.zst', 'nibbles.19.zst', 'tshark.tsv.blocks.zst', 'records.3.zst'];
  let errors = 0;
  let slowest = 0;
  for (const name of names) {
    const good = fixture(name);
    for (let k = 0; k < 150; k++) {
      const bad = Buffer.from(good);
      const flips = 1 + rng.int(4);
      for (let i = 0; i < flips; i++) {
        // Past the frame header mostly: the block headers, literals, tables and bit streams.
        const at = 6 + rng.int(bad.length - 6);
        if (rng.chance(0.5)) bad[at] ^= 1 << rng.int(8);
        else bad[at] = rng.pick([0x00, 0xff, 0x80, 0x7f, rng.int(256)]);
      }
      const t0 = performance.now();
      const r = await attempt(rng.chance(0.2) ? bad.subarray(0, rng.int(bad.length)) : bad);
      slowest = Math.max(slowest, performance.now() - t0);
      if (r.error !== null) {
        errors++;
        assert.ok(r.error instanceof DecompressError, `${name} case ${k}: ${(r.error as Error).stack}`);
      }
    }
  }
  assert.ok(errors > 600, `${errors} of 900 damaged files were found damaged`);
  assert.ok(slowest < 1000, `slowest ${slowest.toFixed(0)} ms`);
});
