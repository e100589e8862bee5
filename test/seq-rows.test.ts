/**
 * The sequence analysis on the rows of a shared connection table (what the frozen
 * conversations and the conversation hints of the object version guarded, now that a
 * conversation is a row):
 * - the analysis on a table that other analyzers share gives, field by field, what it
 *   gives on a table of its own, while those others hold rows longer or shorter than it
 *   does: a conversation it forgot on a row still held, or a row freed and reused for
 *   another endpoint pair, starts afresh and never sees the old numbers;
 * - memory follows what is live: once everything is closed and the quiet timeout has
 *   passed, the rows and the pooled segment and SACK records are given back.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AnalysisResult, SequenceAnalyzer } from '../src/tcp/wireshark/index.js';
import { analyzeCapture } from '../src/pipeline.js';
import { HOLDER } from '../src/tcp/wireshark/conversation.js';
import { ConnTable } from '../src/conn/table.js';
import { DecodedPacket } from '../src/decode/index.js';
import { openSource } from '../src/reader/index.js';
import { writeMix } from '../scripts/bench-capture.js';
import { goldenCaptures } from '../scripts/seq-compare.js';
import { scratchDir } from './helpers.js';

type Fields = Omit<AnalysisResult, 'clear'>;
const FIELDS = Object.keys(new AnalysisResult()) as Array<keyof Fields>;
/** Another analyzer's holder bit on the shared table. */
const OTHER = 0;

interface Outcome {
  packets: number;
  diff: string | null;
  /** Packets whose conversation was opened on a row the other analyzer still held. */
  openedOnHeld: number;
  own: SequenceAnalyzer;
  shared: SequenceAnalyzer;
  sharedTable: ConnTable;
}

/**
 * One analyzer with a table of its own, one on a table where another "analyzer" holds a
 * row from some packets on and lets go of it at others (a pattern that has nothing to do
 * with the conversation's own life); both compact a closed conversation after 1 s, forget an open one after 2 s and keep 200
 * quiet ones at most.
 */
async function compareShared(path: string): Promise<Outcome> {
  const opts = { trackBytesInFlight: true, quietTimeoutSec: 1, idleTimeoutSec: 2, maxQuietConversations: 200 };
  const own = new SequenceAnalyzer(opts);
  const sharedTable = new ConnTable();
  const shared = new SequenceAnalyzer(opts, sharedTable);
  let packets = 0;
  let openedOnHeld = 0;
  let diff: string | null = null;
  await analyzeCapture(path, openSource(path), {
    onPacket: (rec, status, p) => {
      if (status !== 0 || diff !== null) return;
      packets++;
      const a: Fields = { ...own.packet(rec.number, rec.tsUs, p) };
      const row = sharedTable.lookup(p);
      const dir = sharedTable.dir;
      // A row that was there but not the analysis's: another analyzer held it.
      if (!sharedTable.isNew && !sharedTable.isHeld(row, HOLDER)) openedOnHeld++;
      if (rec.number % 3 !== 0) sharedTable.hold(row, OTHER);
      const b: Fields = { ...shared.packetAt(row, dir, rec.number, rec.tsUs, p) };
      if (rec.number % 5 === 0 && sharedTable.isHeld(row, OTHER)) sharedTable.release(row, OTHER);
      sharedTable.releaseIfIdle(row);
      for (const f of FIELDS) if (a[f] !== b[f]) diff = `frame ${rec.number}: ${f} ${String(b[f])} on the shared table, ${String(a[f])} on its own`;
    },
  });
  return { packets, diff, openedOnHeld, own, shared, sharedTable };
}

describe('the analysis on a shared table is the analysis on a table of its own', () => {
  for (const c of goldenCaptures()) {
    test(`${c.group}/${c.name}: every packet's analysis as on its own table`, async () => {
      const r = await compareShared(c.capture);
      assert.equal(r.diff, null);
    });
  }

  test("the benchmark's mix: the same; conversations were forgotten and started again on rows held by another", async () => {
    const dir = scratchDir('tcpstate-rows-');
    try {
      const file = join(dir, 'mix.pcap');
      writeMix(file, { scale: 0.01, floodSyns: 500, seed: 11 });
      const r = await compareShared(file);
      assert.equal(r.diff, null);
      assert.ok(r.packets > 10_000, `${r.packets} packets`);
      assert.ok(r.own.swept + r.own.evicted > 100, `${r.own.swept} + ${r.own.evicted} forgotten`);
      assert.deepEqual([r.shared.swept, r.shared.evicted, r.shared.compacted], [r.own.swept, r.own.evicted, r.own.compacted]);
      assert.ok(r.openedOnHeld > 20, `${r.openedOnHeld} opened on a row another analyzer held`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('memory follows what is live: pooled records go back once idle; quiet conversations are kept up to their budget', async () => {
  const dir = scratchDir('tcpstate-rows-');
  try {
    const file = join(dir, 'mix.pcap');
    writeMix(file, { scale: 0.01, floodSyns: 500, seed: 11 });
    const table = new ConnTable();
    const a = new SequenceAnalyzer({ trackBytesInFlight: true, quietTimeoutSec: 1, idleTimeoutSec: 30, maxQuietConversations: 300 }, table);
    let peak = 0;
    let lastTs = 0;
    let lastFrame = 0;
    // A copy of the last TCP packet (the pipeline refills its own for every record).
    const last = new DecodedPacket();
    await analyzeCapture(file, openSource(file), {
      onPacket: (rec, status, p) => {
        if (status !== 0) return;
        a.packet(rec.number, rec.tsUs, p);
        peak = Math.max(peak, a.held);
        lastTs = rec.tsUs;
        lastFrame = rec.number;
        last.buf = p.buf.slice();
        last.ipVersion = p.ipVersion;
        for (const k of ['srcOff', 'dstOff', 'srcPort', 'dstPort', 'seq', 'ack', 'flags', 'window', 'payloadLen'] as const) last[k] = p[k];
      },
    });
    assert.ok(a.evicted > 100, `${a.evicted} quiet conversations forgotten past the budget`);
    assert.ok(a.quiet <= 300);
    assert.equal(table.live, a.held, 'the analysis is the only holder: a row per conversation');
    // Two minutes later (the clock moves at most 60 s a packet), one more packet of the last pair.
    for (let i = 1; i <= 3; i++) a.packet(lastFrame + i, lastTs + i * 60_000_000, last);
    assert.ok(a.held - a.quiet <= 1, `${a.held} held, ${a.quiet} quiet: what is left is quiet, and the last pair's`);
    assert.ok(a.pooled.segments <= 3 && a.pooled.sackBlocks <= 4, JSON.stringify(a.pooled));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('1,000,000 spoofed SYNs keep the columns and pools of the analysis under 40 MB', () => {
  const a = new SequenceAnalyzer();
  const p = new DecodedPacket();
  p.ipVersion = 4;
  p.buf = new Uint8Array(8);
  p.srcOff = 0;
  p.dstOff = 4;
  p.buf.set([192, 0, 2, 80], 4);
  p.dstPort = 80;
  p.flags = 0x02;
  p.window = 1024;
  const t0 = 1_700_000_000_000_000;
  for (let i = 0; i < 1_000_000; i++) {
    // A random-looking source per SYN, 10,000 SYNs a second.
    const src = Math.imul(i + 1, 0x9e3779b1) >>> 0;
    p.buf[0] = 10;
    p.buf[1] = src >>> 24;
    p.buf[2] = (src >>> 16) & 255;
    p.buf[3] = (src >>> 8) & 255;
    p.srcPort = 1024 + (src & 0x7fff);
    p.seq = src;
    a.packet(i + 1, t0 + i * 100, p);
  }
  assert.equal(a.held, a.quiet);
  assert.ok(a.evicted >= 1_000_000 - 100_000 - 1, `${a.evicted} forgotten`);
  assert.ok(a.columnBytes < 40e6, `${(a.columnBytes / 1e6).toFixed(1)} MB`);
});

test('on a table whose rows another analyzer keeps, the analysis pays for the conversations it holds, not for the rows', () => {
  // 300,000 spoofed SYNs; the other analyzer holds every row, so the table has 300,000 live rows
  // (524,288 rows of capacity). The analysis keeps at most 1,000 quiet conversations.
  const table = new ConnTable();
  const a = new SequenceAnalyzer({ maxQuietConversations: 1000 }, table);
  const p = new DecodedPacket();
  p.ipVersion = 4;
  p.buf = new Uint8Array(8);
  p.srcOff = 0;
  p.dstOff = 4;
  p.buf.set([192, 0, 2, 80], 4);
  p.dstPort = 80;
  p.flags = 0x02;
  p.window = 1024;
  const t0 = 1_700_000_000_000_000;
  for (let i = 0; i < 300_000; i++) {
    const src = Math.imul(i + 1, 0x9e3779b1) >>> 0;
    p.buf[0] = 10;
    p.buf[1] = src >>> 24;
    p.buf[2] = (src >>> 16) & 255;
    p.buf[3] = (src >>> 8) & 255;
    p.srcPort = 1024 + (src & 0x7fff);
    p.seq = src;
    const row = table.lookup(p);
    table.hold(row, OTHER);
    a.packetAt(row, table.dir, i + 1, t0 + i * 100, p);
  }
  assert.equal(table.live, 300_000);
  assert.equal(a.held, 1000);
  // Columns at 1,024 slots (about 0.2 MB) and the row-to-slot column of the table (4 bytes a row: 2 MB);
  // as long as the table they would be over 100 MB.
  assert.ok(a.columnBytes < 4e6, `${(a.columnBytes / 1e6).toFixed(1)} MB`);
});
