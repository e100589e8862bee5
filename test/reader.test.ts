/**
 * Reader details on hand-built files: pcapng timestamp resolution and offset,
 * block checks, sections, and pcap header variants. (The corpus tests cover
 * real files; these pin down the cases no file in it has.)
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CaptureError, CaptureParser, openSource, readCapture, records, type PacketRecord } from '../src/reader/index.js';
import { writeMix } from '../scripts/bench-capture.js';
import { digestLine, digestRecords, scratchDir } from './helpers.js';
import { scaleFor, unitsToMicros } from '../src/reader/timestamp.js';

type Endian = 'le' | 'be';

function u16(v: number, e: Endian): number[] {
  return e === 'le' ? [v & 0xff, (v >> 8) & 0xff] : [(v >> 8) & 0xff, v & 0xff];
}
function u32(v: number, e: Endian): number[] {
  const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  return e === 'le' ? b.reverse() : b;
}
function pad4(b: number[]): number[] {
  while (b.length % 4 !== 0) b.push(0);
  return b;
}
function block(type: number, body: number[], e: Endian, trailer?: number): number[] {
  const len = 12 + pad4([...body]).length;
  return [...u32(type, e), ...u32(len, e), ...pad4([...body]), ...u32(trailer ?? len, e)];
}
function option(code: number, value: number[], e: Endian): number[] {
  return [...u16(code, e), ...u16(value.length, e), ...pad4([...value])];
}
function shb(e: Endian, version: [number, number] = [1, 0]): number[] {
  return block(0x0a0d0d0a, [...u32(0x1a2b3c4d, e), ...u16(version[0], e), ...u16(version[1], e), ...u32(0xffffffff, e), ...u32(0xffffffff, e)], e);
}
function idb(e: Endian, linkType: number, options: number[] = []): number[] {
  return block(1, [...u16(linkType, e), 0, 0, ...u32(0, e), ...options, ...(options.length ? [0, 0, 0, 0] : [])], e);
}
function epb(e: Endian, itf: number, hi: number, lo: number, data: number[]): number[] {
  return block(6, [...u32(itf, e), ...u32(hi, e), ...u32(lo, e), ...u32(data.length, e), ...u32(data.length, e), ...data], e);
}

function parse(bytes: number[]): { records: PacketRecord[]; error: CaptureError | null; parser: CaptureParser } {
  const records: PacketRecord[] = [];
  const parser = new CaptureParser((r) => records.push({ ...r }));
  let error: CaptureError | null = null;
  try {
    parser.push(Uint8Array.from(bytes));
    error = parser.end();
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    error = e;
  }
  return { records, error, parser };
}

test('pcapng if_tsresol: decimal and binary resolutions, and if_tsoffset', () => {
  const e: Endian = 'le';
  const bytes = [
    ...shb(e),
    ...idb(e, 1, option(9, [9], e)), // ns
    ...idb(e, 1, option(9, [0x80 | 20], e)), // 2^-20 s
    ...idb(e, 1, [...option(9, [3], e), ...option(14, [...u32(100, e), 0, 0, 0, 0], e)]), // ms, +100 s
    ...epb(e, 0, 0x17c6f8b1, 0xd2a4c3e5, [1]),
    ...epb(e, 1, 0, 3 * 2 ** 20 + 2 ** 19, [2]),
    ...epb(e, 2, 0, 1500, [3]),
  ];
  const { records, error } = parse(bytes);
  assert.equal(error, null);
  // 0x17c6f8b1d2a4c3e5 ns = 1713330150887965669 ns -> µs, exactly (a double would be off by 256 ns steps).
  assert.equal(records[0].tsUs, 1713330150887965);
  assert.equal(records[1].tsUs, 3_500_000);
  assert.equal(records[2].tsUs, 101_500_000);
});

test('exact µs from 64-bit unit counts, checked against BigInt', () => {
  for (const ups of [1e3, 1e6, 1e7, 1e9, 1e12, 2 ** 10, 2 ** 30, 1e15]) {
    const s = scaleFor(ups);
    for (const [hi, lo] of [
      [0, 1],
      [0x17c6f8b1, 0xd2a4c3e5],
      [0x12345, 0xffffffff],
      [0xffff, 0],
    ]) {
      const units = (BigInt(hi) << 32n) | BigInt(lo);
      const want = (units * 1_000_000n) / BigInt(ups);
      if (want > BigInt(Number.MAX_SAFE_INTEGER)) continue;
      assert.equal(unitsToMicros(hi, lo, s), Number(want), `${ups} units/s, ${hi}:${lo}`);
    }
  }
});

test('pcapng sections: byte order changes and interface ids restart', () => {
  const bytes = [...shb('le'), ...idb('le', 1), ...epb('le', 0, 0, 1, [1]), ...shb('be'), ...idb('be', 101), ...idb('be', 0), ...epb('be', 1, 0, 2, [2, 2])];
  const { records, error, parser } = parse(bytes);
  assert.equal(error, null);
  assert.deepEqual(
    records.map((r) => [r.number, r.interfaceIndex, r.linkType, r.caplen]),
    [
      [1, 0, 1, 1],
      [2, 2, 0, 2],
    ],
  );
  assert.deepEqual(
    parser.interfaces.map((i) => [i.section, i.linkType]),
    [
      [0, 1],
      [1, 101],
      [1, 0],
    ],
  );
});

test('pcapng damage is named with its byte offset and record number', () => {
  const head = [...shb('le'), ...idb('le', 1), ...epb('le', 0, 0, 1, [1, 2, 3])];
  // [what, bytes after a good packet, message, offset of the damage after those good bytes]
  const cases: Array<[string, number[], RegExp, number]> = [
    ['trailer differs', block(6, [0, 0, 0, 0], 'le', 99), /total length 16 at its start but 99 at its end/, 0],
    ['length not a multiple of 4', [...u32(6, 'le'), ...u32(21, 'le'), ...new Array(16).fill(0)], /invalid total length 21/, 0],
    ['huge length', [...u32(6, 'le'), ...u32(0xfffffff0, 'le'), 0, 0, 0, 0], /invalid total length 4294967280/, 0],
    ['unknown interface', epb('le', 7, 0, 1, [1]), /refers to interface 7, but this section has 1/, 0],
    ['caplen past the block', block(6, [...u32(0, 'le'), ...u32(0, 'le'), ...u32(0, 'le'), ...u32(200, 'le'), ...u32(200, 'le')], 'le'), /captured length 200 runs past the end of its block/, 0],
    ['option past the block', idb('le', 1, [...u16(2, 'le'), ...u16(400, 'le')]), /option 2 of length 400 runs past the end of its block/, 16],
    ['unknown version', shb('le', [2, 0]), /unsupported pcapng section version 2\.0/, 12],
  ];
  for (const [what, tail, message, at] of cases) {
    const { records, error } = parse([...head, ...tail]);
    assert.equal(records.length, 1, `${what}: the packet before the damage is kept`);
    assert.ok(error, what);
    assert.match(error.reason, message, what);
    assert.equal(error.offset, head.length + at, what);
    assert.equal(error.record, 2, what);
    assert.notEqual(error.kind, 'truncated');
  }
});

test('a pcapng cut inside a block is a truncation, not a format error', () => {
  const full = [...shb('le'), ...idb('le', 1), ...epb('le', 0, 0, 1, [1, 2, 3]), ...epb('le', 0, 0, 2, [4, 5, 6])];
  const { records, error } = parse(full.slice(0, full.length - 3));
  assert.equal(records.length, 1);
  assert.equal(error?.kind, 'truncated');
  assert.equal(error?.record, 2);
  assert.match(error!.reason, /cut short inside record 2: block \(needs 36 bytes, has 33\)/);
});

function pcap(e: Endian, opts: { magic?: number; minor?: number; snaplen?: number; linkField?: number } = {}): number[] {
  return [...u32(opts.magic ?? 0xa1b2c3d4, e), ...u16(2, e), ...u16(opts.minor ?? 4, e), 0, 0, 0, 0, 0, 0, 0, 0, ...u32(opts.snaplen ?? 65535, e), ...u32(opts.linkField ?? 1, e)];
}
function rec(e: Endian, sec: number, frac: number, data: number[], orig = data.length, modified = false): number[] {
  return [...u32(sec, e), ...u32(frac, e), ...u32(data.length, e), ...u32(orig, e), ...(modified ? new Array(8).fill(0) : []), ...data];
}

test('pcap: both byte orders and both precisions give the same µs', () => {
  for (const e of ['le', 'be'] as const) {
    const us = parse([...pcap(e), ...rec(e, 1700000000, 123456, [9])]).records[0];
    const ns = parse([...pcap(e, { magic: 0xa1b23c4d }), ...rec(e, 1700000000, 123456789, [9])]).records[0];
    assert.equal(us.tsUs, 1700000000123456);
    assert.equal(ns.tsUs, 1700000000123456);
  }
});

test('pcap variants: modified records, swapped lengths before 2.3, FCS bits, reserved bits', () => {
  const modified = parse([...pcap('le', { magic: 0xa1b2cd34 }), ...rec('le', 1, 2, [1, 2], 2, true), ...rec('le', 1, 3, [3], 1, true)]);
  assert.deepEqual(
    modified.records.map((r) => r.caplen),
    [2, 1],
  );
  // Version 2.2 wrote (orig, incl) where 2.4 writes (incl, orig).
  const old = parse([...pcap('le', { minor: 2 }), ...u32(1, 'le'), ...u32(0, 'le'), ...u32(1500, 'le'), ...u32(3, 'le'), 7, 7, 7]);
  assert.deepEqual([old.records[0].caplen, old.records[0].origLen], [3, 1500]);
  const fcs = parse([...pcap('be', { linkField: 0x04000000 | (2 << 28) | 1 }), ...rec('be', 1, 0, [1, 2, 3, 4, 5])]);
  assert.equal(fcs.records[0].fcsLen, 4);
  assert.equal(fcs.records[0].linkType, 1);
  const reserved = parse([...pcap('le', { linkField: 0x00300001 })]);
  assert.match(reserved.error!.reason, /reserved bits set \(0x00300000\)/);
  assert.equal(reserved.error!.offset, 20);
});

test('pcap: a record larger than the limit is an error at its offset; a short tail a truncation', () => {
  const head = [...pcap('le'), ...rec('le', 1, 0, [1, 2])];
  const big = parse([...head, ...u32(1, 'le'), ...u32(0, 'le'), ...u32(300000, 'le'), ...u32(300000, 'le')]);
  assert.equal(big.records.length, 1);
  assert.deepEqual([big.error!.offset, big.error!.record, big.error!.kind], [head.length, 2, 'format']);
  const short = parse([...head, ...rec('le', 2, 0, [1, 2, 3, 4]).slice(0, 18)]);
  assert.deepEqual([short.records.length, short.error!.offset, short.error!.kind], [1, head.length, 'truncated']);
  assert.match(short.error!.reason, /record data \(needs 20 bytes, has 18\)/);
});

test('what is not a capture is named, at offset 0', () => {
  // zstd is undone by the byte source; zstd bytes reaching the parser were nested in other compression.
  assert.match(parse([0x28, 0xb5, 0x2f, 0xfd, 0, 0]).error!.reason, /unsupported format: zstd data inside compressed data/);
  assert.match(parse([0x7b, 0x22, 0x61, 0x22]).error!.reason, /unknown magic 7b 22 61 22/);
  assert.match(parse([]).error!.reason, /empty file/);
  assert.match(parse([0xd4, 0xc3]).error!.reason, /only 2 byte\(s\)/);
  assert.match(parse([...pcap('le').slice(0, 4), ...u16(1, 'le'), ...u16(0, 'le'), ...new Array(16).fill(0)]).error!.reason, /unsupported pcap version 1\.0/);
});

test('a file read in pieces of its own reused buffers gives every record intact, plain and gzip', async () => {
  const dir = scratchDir('tcpstate-reader-');
  try {
    const file = join(dir, 'mix.pcap');
    writeMix(file, { scale: 0.01, floodSyns: 2000, seed: 3 });
    const bytes = readFileSync(file);
    assert.ok(bytes.length > 3 * (1 << 20), `${bytes.length} bytes: several of the reader's pieces`);
    writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 1 }));
    const whole = await digestRecords(bytes, 0);
    for (const path of [file, `${file}.gz`]) {
      const lines: string[] = [];
      const source = openSource(path);
      const outcome = await readCapture(source, (rec) => lines.push(digestLine(rec)));
      assert.equal(source.borrowed, path === file, `${path}: pieces reused only when read straight from the file`);
      assert.equal(outcome.error, null);
      assert.equal(outcome.records, whole.lines.length);
      assert.deepEqual(lines, whole.lines, path);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a named pipe is read as a stream (pieces of its own, never reused) and gives the same records', async () => {
  const dir = scratchDir('tcpstate-fifo-');
  try {
    const file = join(dir, 'mix.pcap');
    writeMix(file, { scale: 0.005, floodSyns: 500, seed: 4 });
    const whole = await digestRecords(readFileSync(file), 0);
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `cat "$0" > "$1"`, file, fifo], { stdio: 'ignore' });
    const written = new Promise((done) => writer.on('close', done));
    const lines: string[] = [];
    const source = openSource(fifo);
    const outcome = await readCapture(source, (rec) => lines.push(digestLine(rec)));
    assert.equal(await written, 0);
    assert.equal(source.borrowed, false);
    assert.equal(outcome.error, null);
    assert.deepEqual(lines, whole.lines);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('records() hands out owned copies: a record read first keeps its bytes after megabytes more are read', async () => {
  const dir = scratchDir('tcpstate-own-');
  try {
    const file = join(dir, 'mix.pcap');
    writeMix(file, { scale: 0.01, floodSyns: 0, seed: 3 });
    assert.ok(statSync(file).size > 3 << 20, 'larger than the file reader\'s two buffers');
    const kept: Array<{ rec: PacketRecord; digest: string }> = [];
    for await (const r of records(openSource(file))) {
      if (r.number % 1000 === 1) kept.push({ rec: r, digest: digestLine(r) });
    }
    assert.ok(kept.length > 10);
    for (const k of kept) assert.equal(digestLine(k.rec), k.digest, `record ${k.rec.number}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
