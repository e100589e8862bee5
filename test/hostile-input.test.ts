/**
 * Hostile input (issue #21), on captures made here: a pcapng of 2,000,000 interface description
 * blocks; and compressed input (items 2 and 3): a zstd RLE bomb,
 * zstd windows over the limit in a single-segment frame and in a second frame, a flipped zstd
 * checksum, gzip with a bad CRC, a bad length, trailing garbage and a damaged deflate stream.
 * What was decompressed before the damage is kept, and the damage is named at its offset.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { CaptureError, CaptureParser, RotatedReader, readCapture, sourceFromChunks, type PacketRecord, type ReadOutcome } from '../src/reader/index.js';
import { MAX_INTERFACES } from '../src/reader/limits.js';
import { rows } from './db-rows.js';
import { Xxh64 } from '../src/reader/xxh64.js';
import { bytes, ethernet, ipv4, le32, tcp } from './frames.js';
import { pieces, repoRoot, scratchDir } from './helpers.js';
import { rawBlocks, skippableFrame, zstdFrame, type Block } from './zstd-frames.js';

const PCAP_HEADER = bytes(le32(0xa1b2c3d4), [2, 0, 4, 0], le32(0), le32(0), le32(65535), le32(1));

/** A little-endian µs pcap of n TCP packets of varied payload (so deflate has work to do). */
function pcap(n: number): Uint8Array {
  const parts: Uint8Array[] = [PCAP_HEADER];
  for (let i = 0; i < n; i++) {
    const frame = ethernet(0x0800, ipv4(6, tcp({ seq: i * 1000, payload: 40 + ((i * 37) % 200) })));
    frame[frame.length - 1] = i & 0xff;
    parts.push(bytes(le32(1_700_000_000 + i), le32(i), le32(frame.length), le32(frame.length)), frame);
  }
  return Buffer.concat(parts);
}

async function read(file: Uint8Array, piece = 0): Promise<ReadOutcome> {
  return readCapture(sourceFromChunks(pieces(file, piece)), () => undefined);
}

const CAPTURE = pcap(300);
const FULL = { records: 300, bytes: CAPTURE.length };

/**
 * A little-endian pcapng: a section header, `n` interface description blocks (20 bytes each; link
 * type i % 3 for IDB i: Ethernet, raw IP 101... so each packet shows which one it was read by),
 * then `tail` (whole blocks).
 */
function manyInterfaces(n: number, linkTypes: number[], tail: Uint8Array = new Uint8Array(0)): Buffer {
  const buf = Buffer.alloc(28 + n * 20 + tail.length);
  buf.writeUInt32LE(0x0a0d0d0a, 0);
  buf.writeUInt32LE(28, 4);
  buf.writeUInt32LE(0x1a2b3c4d, 8);
  buf.writeUInt16LE(1, 12);
  buf.writeInt32LE(-1, 16);
  buf.writeInt32LE(-1, 20);
  buf.writeUInt32LE(28, 24);
  for (let i = 0, o = 28; i < n; i++, o += 20) {
    buf.writeUInt32LE(1, o);
    buf.writeUInt32LE(20, o + 4);
    buf.writeUInt16LE(linkTypes[i % linkTypes.length], o + 8);
    buf.writeUInt32LE(65535, o + 12);
    buf.writeUInt32LE(20, o + 16);
  }
  buf.set(tail, 28 + n * 20);
  return buf;
}

/** An enhanced packet block on interface `itf` at `sec` seconds (µs units), holding `data`. */
function epb(itf: number, sec: number, data: number[]): Uint8Array {
  const len = 32 + ((data.length + 3) & ~3);
  const b = Buffer.alloc(len);
  b.writeUInt32LE(6, 0);
  b.writeUInt32LE(len, 4);
  b.writeUInt32LE(itf, 8);
  const us = BigInt(sec) * 1_000_000n;
  b.writeUInt32LE(Number(us >> 32n), 12);
  b.writeUInt32LE(Number(us & 0xffffffffn), 16);
  b.writeUInt32LE(data.length, 20);
  b.writeUInt32LE(data.length, 24);
  b.set(data, 28);
  b.writeUInt32LE(len, len - 4);
  return b;
}

test('pcapng: 2,000,000 interface description blocks are refused past the limit, in bounded memory', () => {
  // Issue #21: 40 MB of IDBs took 857 MB. A heap of 64 MB is far less than they took, and enough for the limit's worth.
  const dir = scratchDir('tcpstate-idbs-');
  try {
    const file = join(dir, 'idbs.pcapng');
    writeFileSync(file, manyInterfaces(2_000_000, [1]));
    const db = join(dir, 'x.db');
    const r = spawnSync(process.execPath, ['--max-old-space-size=64', join(repoRoot, 'bin', 'tcpstate.js'), 'analyze', file, '--db', db, '-q'], { encoding: 'utf8' });
    assert.equal(r.status, 3, r.stderr);
    const at = 28 + MAX_INTERFACES * 20;
    assert.equal(
      r.stderr.trim(),
      `tcpstate: error: ${file}: byte offset ${at}, record 1: interface description block ${MAX_INTERFACES + 1} is one too many: a capture may describe at most ${MAX_INTERFACES} interfaces`,
    );
    assert.deepEqual(rows(db, 'SELECT status, error_offset, link_types FROM captures'), [{ status: 'error', error_offset: at, link_types: '1' }]);
    assert.deepEqual(rows(db, 'SELECT count(*) AS n, max(idx) AS last FROM interfaces'), [{ n: MAX_INTERFACES, last: MAX_INTERFACES - 1 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pcapng: at the interface limit, packets on the first, a middle and the last interface read by their own', () => {
  const linkTypes = [1, 101, 113];
  const last = MAX_INTERFACES - 1;
  const packets = Buffer.concat([epb(last, 1, [0x45, 1]), epb(0, 2, [3]), epb(40_000, 3, [4, 5, 6, 7, 8])]);
  const extra = manyInterfaces(1, [1]).subarray(28); // one more IDB, after the packets
  const file = manyInterfaces(MAX_INTERFACES, linkTypes, Buffer.concat([packets, extra]));
  const got: Array<[number, number, number, number, number]> = [];
  const parser = new CaptureParser((r: PacketRecord) => got.push([r.number, r.interfaceIndex, r.linkType, r.caplen, r.tsUs]));
  let error: CaptureError | null = null;
  try {
    for (let i = 0; i < file.length; i += 65_521) parser.push(file.subarray(i, i + 65_521));
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    error = e;
  }
  assert.deepEqual(got, [
    [1, last, linkTypes[last % 3], 2, 1_000_000],
    [2, 0, 1, 1, 2_000_000],
    [3, 40_000, linkTypes[40_000 % 3], 5, 3_000_000],
  ]);
  assert.equal(parser.interfaces.length, MAX_INTERFACES);
  assert.deepEqual(parser.interfaces[last], { index: last, section: 0, linkType: linkTypes[last % 3], snaplen: 65535, unitsPerSecond: 1e6, tsOffsetSeconds: 0, name: null });
  assert.ok(error);
  assert.equal(error.offset, 28 + MAX_INTERFACES * 20 + packets.length);
  assert.equal(error.record, 4);
  assert.match(error.reason, /^interface description block 65537 is one too many: a capture may describe at most 65536 interfaces$/);
});

test('pcapng: files read as one capture share the interface limit; the packets before the one too many are kept', async () => {
  const first = manyInterfaces(60_000, [1], epb(59_999, 1, [1, 2]));
  const second = manyInterfaces(6_000, [101], epb(5_999, 2, [3]));
  const reader = new RotatedReader(
    [
      { name: 'a.pcapng', path: 'a' },
      { name: 'b.pcapng', path: 'b' },
    ],
    (p) => sourceFromChunks(pieces(p === 'a' ? first : second, 100_000)),
  );
  const got: Array<[number, number, number]> = [];
  const o = await reader.read((r) => got.push([r.number, r.interfaceIndex, r.linkType]));
  // b.pcapng's 5,537th IDB would be the capture's 65,537th; its packet after them is not read.
  assert.deepEqual(got, [[1, 59_999, 1]]);
  assert.equal(o.interfaces.length, MAX_INTERFACES);
  assert.deepEqual(o.interfaces.at(-1), { index: MAX_INTERFACES - 1, section: 0, linkType: 101, snaplen: 65535, unitsPerSecond: 1e6, tsOffsetSeconds: 0, name: null });
  assert.equal(o.error?.offset, 28 + 5_536 * 20);
  assert.equal(o.error?.reason, 'in b.pcapng: interface description block 5537 is one too many: a capture may describe at most 65536 interfaces (60000 of them in the files before this one)');
});

test('XXH64 gives the reference values, whatever the pieces', () => {
  const h = new Xxh64();
  const hex = ([hi, lo]: [number, number]) => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
  assert.equal(hex(h.digest()), 'ef46db3751d8e999');
  h.update(new TextEncoder().encode('abc'));
  assert.equal(hex(h.digest()), '44bc2cf5ad770999');
  const whole = new Xxh64();
  whole.update(CAPTURE);
  for (const size of [1, 7, 31, 33, 1000]) {
    h.reset();
    for (let i = 0; i < CAPTURE.length; i += size) h.update(CAPTURE, i, Math.min(CAPTURE.length, i + size));
    assert.deepEqual(h.digest(), whole.digest(), `pieces of ${size}`);
  }
});

test('zstd: frames of raw and RLE blocks, skippable frames between, read whole and in pieces', async () => {
  const file = Buffer.concat([
    skippableFrame(5),
    zstdFrame(rawBlocks(CAPTURE.subarray(0, 5000), 1000)),
    skippableFrame(0),
    zstdFrame(rawBlocks(CAPTURE.subarray(5000), 777), { windowDescriptor: 0x08, contentSize: CAPTURE.length - 5000 }),
    zstdFrame([{ raw: new Uint8Array(0) }], { checksum: false }),
  ]);
  for (const piece of [0, 1, 13, 4096]) {
    const o = await read(file, piece);
    assert.equal(o.error, null, `pieces of ${piece}`);
    assert.equal(o.compression, 'zstd');
    assert.deepEqual({ records: o.records, bytes: o.bytes }, FULL);
  }
});

test('zstd: an RLE bomb is decompressed a block at a time, never a whole input chunk at once', async () => {
  // 4 bytes of input per 128 KiB of empty records (16 zero bytes each: a valid pcap record).
  const blocks: Block[] = [{ raw: PCAP_HEADER }];
  for (let i = 0; i < 4096; i++) blocks.push({ rle: 0, size: 128 * 1024 });
  const bomb = zstdFrame(blocks, { windowDescriptor: 0x50 /* 1 MiB */ });
  assert.ok(bomb.length < 20_000);
  const source = sourceFromChunks(pieces(bomb, 0)); // one input chunk that makes 512 MiB
  let largest = 0;
  let total = 0;
  for await (const chunk of source.chunks) {
    largest = Math.max(largest, chunk.length);
    total += chunk.length;
    if (total > 64 * 1024 * 1024) break;
  }
  assert.ok(largest <= 128 * 1024, `largest piece handed out: ${largest} bytes`);
  assert.ok(total > 64 * 1024 * 1024);
  // The reader stops between blocks when asked to.
  let seen = 0;
  await assert.rejects(
    readCapture(sourceFromChunks(pieces(bomb, 0)), () => seen++, { shouldStop: () => seen > 100_000 }),
    /interrupted/,
  );
});

test('zstd: a single-segment frame declaring 2 GB is refused before allocating', async () => {
  const file = zstdFrame(rawBlocks(CAPTURE), { singleSegment: true, contentSize: 2_000_000_000 });
  const o = await read(file);
  assert.equal(o.records, 0);
  assert.equal(o.error?.kind, 'io');
  assert.match(o.error!.reason, /zstd window of 2000000000 bytes is larger than the limit of 134217728 \(frame 1, single segment/);
});

test('zstd: a second frame asking a 1.9 GB window is refused; the first frame is kept', async () => {
  const first = zstdFrame(rawBlocks(CAPTURE.subarray(0, 5000)));
  const second = zstdFrame(rawBlocks(CAPTURE.subarray(5000)), { windowDescriptor: (20 << 3) | 7 });
  const o = await read(Buffer.concat([first, skippableFrame(3), second]), 100);
  assert.match(o.error!.reason, /zstd window of 2013265920 bytes is larger than the limit of 134217728 \(frame 2\)/);
  assert.equal(o.error!.offset, 5000);
  assert.ok(o.records > 10, `${o.records} records kept`);
  assert.ok(o.bytes <= 5000);
});

test('zstd: a wrong content checksum is damage at the end of its frame; the records before are kept', async () => {
  const file = Buffer.concat([zstdFrame(rawBlocks(CAPTURE.subarray(0, 5000))), zstdFrame(rawBlocks(CAPTURE.subarray(5000)), { flipChecksum: 0x100 })]);
  const o = await read(file, 333);
  assert.equal(o.error?.kind, 'io');
  assert.match(o.error!.reason, /zstd data is damaged: frame 2 \(decompressed bytes 5000 to \d+\) does not match its checksum/);
  assert.equal(o.error!.offset, CAPTURE.length);
  assert.equal(o.records, 300);
});

test('zstd: a content size that does not match, a cut-short frame, trailing bytes', async () => {
  const lying = await read(zstdFrame(rawBlocks(CAPTURE), { contentSize: CAPTURE.length + 1 }));
  assert.match(lying.error!.reason, /holds \d+ bytes, not the \d+ its header declares/);
  assert.equal(lying.records, 300);
  const frame = zstdFrame(rawBlocks(CAPTURE));
  const cut = await read(frame.subarray(0, frame.length - 2000));
  assert.equal(cut.error?.kind, 'truncated');
  assert.match(cut.error!.reason, /zstd data is cut short inside frame 1/);
  assert.ok(cut.records > 250);
  const trailing = await read(Buffer.concat([frame, Buffer.from('garbage')]));
  assert.equal(trailing.error?.kind, 'truncated');
  assert.match(trailing.error!.reason, /7 byte\(s\) after the last zstd frame .* are not zstd data; ignored/);
  assert.deepEqual({ records: trailing.records, bytes: trailing.bytes }, FULL);
});

const GZ = gzipSync(CAPTURE);

test('gzip: a bad CRC or length keeps every record and names the offset of the last good byte', async () => {
  for (const [at, what] of [
    [GZ.length - 8, /does not match its CRC/],
    [GZ.length - 4, /holds \d+ bytes, its trailer says \d+/],
  ] as const) {
    const file = Buffer.from(GZ);
    file[at] ^= 1;
    const o = await read(file, 1000);
    assert.match(o.error!.reason, what);
    assert.equal(o.error!.kind, 'io');
    assert.equal(o.error!.offset, CAPTURE.length);
    assert.deepEqual({ records: o.records, bytes: o.bytes }, FULL);
  }
});

test('gzip: trailing garbage is a warning; several members are one stream', async () => {
  const garbage = await read(Buffer.concat([GZ, Buffer.from('not gzip at all')]), 4096);
  assert.equal(garbage.error?.kind, 'truncated');
  assert.match(garbage.error!.reason, /15 byte\(s\) of trailing garbage after the gzip data \(compressed offset \d+\); ignored/);
  assert.deepEqual({ records: garbage.records, bytes: garbage.bytes }, FULL);
  const members = Buffer.concat([gzipSync(CAPTURE.subarray(0, 3001)), gzipSync(CAPTURE.subarray(3001, 3002)), gzipSync(CAPTURE.subarray(3002))]);
  for (const piece of [0, 1, 777]) {
    const o = await read(members, piece);
    assert.equal(o.error, null);
    assert.deepEqual({ records: o.records, bytes: o.bytes }, FULL);
  }
});

test('gzip: damaged deflate data and a cut-short member keep what came before', async () => {
  // Stored deflate blocks (no compression) of 200 KB of capture, then a block of the reserved type.
  // zlib drops the output of the piece that fails: what the pieces before it made is kept.
  const big = pcap(1500);
  const stored: Uint8Array[] = [Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])];
  for (let i = 0; i < 200_000; i += 50_000) {
    const n = Math.min(50_000, big.length - i);
    stored.push(bytes(0, n & 0xff, n >> 8, ~n & 0xff, (~n >> 8) & 0xff), big.subarray(i, i + n));
  }
  stored.push(bytes(0x07, 0, 0, 0));
  const o = await read(Buffer.concat(stored));
  assert.equal(o.error?.kind, 'io');
  assert.match(o.error!.reason, /gzip data is corrupt: member 1 cannot be inflated \(invalid block type\)/);
  assert.ok(o.records > 500 && o.error!.offset >= 131_072, `${o.records} records, offset ${o.error!.offset}`);
  const cut = await read(GZ.subarray(0, GZ.length - 100));
  assert.equal(cut.error?.kind, 'truncated');
  assert.match(cut.error!.reason, /gzip data is cut short inside member 1/);
  assert.ok(cut.records > 200, `${cut.records} records`);
});
