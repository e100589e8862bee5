/**
 * The SQLite sink: coded rows behind the documented views, no secondary index to build, and
 * the same rows per capture whichever order captures come in (the dictionaries and paths are
 * shared).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { analyzeInto } from '../src/cli/analyze-one.js';
import type { CaptureSummary } from '../src/pipeline.js';
import { COUNT_COLUMNS } from '../src/detect/packet-flags.js';
import { SqliteSink } from '../src/sink/sqlite.js';
import { SIDES, STATES } from '../src/sink/codes.js';
import { St } from '../src/tcp/rfc793/tcp-state.js';
import { repoRoot, scratchDir } from './helpers.js';

const sample = (name: string) => join(repoRoot, 'samples', 'kernel', name, `${name}.pcap`);
const settings = { flowOptions: {}, thresholds: {} };
const never = () => false;

function indexes(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").pluck().all() as string[]);
  } finally {
    db.close();
  }
}

/** The rows of each documented view, per capture (by name), without the ids. */
function dump(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    for (const name of db.prepare('SELECT name FROM captures').pluck().all() as string[]) {
      out[name] = [
        db.prepare('SELECT f.* FROM flows f JOIN captures c ON c.id = f.capture_id WHERE c.name = ? ORDER BY f.flow_index').all(name),
        db.prepare('SELECT f.flow_index, t.seq, t.packet, t.ts, t.side, t.from_state, t.to_state, t.cause, t.inferred FROM transitions t JOIN flows f ON f.id = t.flow_id JOIN captures c ON c.id = f.capture_id WHERE c.name = ? ORDER BY f.flow_index, t.seq').all(name),
        db.prepare('SELECT a.flow_index, f.flow_index AS linked, a.packet, a.ts, a.kind, a.severity, a.side, a.message, a.details FROM anomalies a LEFT JOIN flows f ON f.id = a.flow_id JOIN captures c ON c.id = a.capture_id WHERE c.name = ? ORDER BY a.id').all(name),
        db.prepare('SELECT z.* FROM zeek_conns z JOIN captures c ON c.id = z.capture_id WHERE c.name = ? ORDER BY z.ts, z.first_frame').all(name),
      ].map((rows) => rows.map((r) => ({ ...(r as object), id: undefined, capture_id: undefined })));
    }
    return out;
  } finally {
    db.close();
  }
}

test('two captures in either order: the same rows per capture, and no secondary index', async () => {
  const dir = scratchDir('tcpstate-sink-');
  const a = sample('bulk-loss');
  const b = sample('refused');

  const first = join(dir, 'first.db');
  const sink = new SqliteSink(first);
  sink.beginCapture(a, 'a');
  sink.rollbackCapture();
  assert.deepEqual(indexes(first), []);
  await analyzeInto(sink, a, 'a', settings, process.stdin, { shouldStop: never });
  await analyzeInto(sink, b, 'b', settings, process.stdin, { shouldStop: never });
  sink.close();
  assert.deepEqual(indexes(first), [], 'no secondary index: the views are read whole or by flow id');

  const second = join(dir, 'second.db');
  const other = new SqliteSink(second);
  await analyzeInto(other, b, 'b', settings, process.stdin, { shouldStop: never });
  await analyzeInto(other, a, 'a', settings, process.stdin, { shouldStop: never });
  other.close();
  const one = dump(first);
  const two = dump(second);
  assert.ok((one.a[0] as unknown[]).length > 0 && (one.a[1] as unknown[]).length > 0 && (one.b[2] as unknown[]).length > 0);
  assert.deepEqual(two, one);
});

test('rows held for multi-row inserts: written in order at commit (not a multiple of a batch), dropped by a rollback', () => {
  const dir = scratchDir('tcpstate-sink-');
  const file = join(dir, 'rows.db');
  const sink = new SqliteSink(file);
  const flowRow = (capture: number, index: number) => [
    capture, index, 4, '192.0.2.1', 40000 + index, '192.0.2.2', 80, 1, 2, 1, 2, 'TIME_WAIT', 'CLOSED', 'syn', 0, 'closed',
    null, null, 1, 0, 40, 1, 0, 40, null, null, null, null, null, 0, 0, 0, ...COUNT_COLUMNS.map(() => 0),
  ];
  const transition = (i: number) => [i % 5 === 0 ? null : i, 1000 + i, i % 2 ? 'client' : 'server', i === 0 ? null : 'SYN_SENT', 'ESTABLISHED', `cause ${i}`, i % 3 === 0 ? 1 : 0];
  const zeek = (capture: number, i: number) => [capture, 2000 + i, '192.0.2.1', 40000 + i, '192.0.2.2', 80, i, 0, 0, 'S0', 0, 'S', 1, 40, 0, 0, i + 1, i + 1];

  // A rolled-back capture's held rows never reach the next one.
  const dropped = sink.beginCapture('/x/dropped.pcap', 'dropped');
  const id0 = sink.insertFlowRow(flowRow(dropped, 1));
  for (let i = 0; i < 40; i++) sink.insertTransitionRow(id0, i + 1, transition(i));
  for (let i = 0; i < 5; i++) sink.insertZeekRow(zeek(dropped, i));
  sink.rollbackCapture();

  const capture = sink.beginCapture('/x/kept.pcap', 'kept');
  const expected: unknown[][] = [];
  let n = 0;
  for (let f = 1; f <= 3; f++) {
    const id = sink.insertFlowRow(flowRow(capture, f));
    // 70 transitions in all: two full batches of 32 and 6 more.
    for (let seq = 1; seq <= (f === 3 ? 70 - 2 * 25 : 25); seq++, n++) {
      sink.insertTransitionRow(id, seq, transition(n));
      expected.push([id, seq, ...transition(n)]);
    }
  }
  const zeekRows = Array.from({ length: 45 }, (_, i) => zeek(capture, i));
  for (const z of zeekRows) sink.insertZeekRow(z);
  sink.commitCapture(capture, { format: 'pcap', compression: null, linkTypes: [1], packets: 0, tcpPackets: 0, bytes: 0, firstTs: null, lastTs: null, status: 'complete', error: null, errorOffset: null, errorRecord: null, interfaces: [], counters: new Map() } as unknown as CaptureSummary);
  sink.close();

  const db = new Database(file, { readonly: true });
  try {
    const got = db.prepare('SELECT flow_id, seq, packet, ts, side, from_state, to_state, cause, inferred FROM transitions ORDER BY flow_id, seq').raw().all();
    assert.equal(expected.length, 70);
    assert.deepEqual(got, expected);
    const z = db.prepare('SELECT * FROM zeek_conns ORDER BY ts').raw().all();
    assert.deepEqual(z, zeekRows);
    assert.deepEqual(db.prepare('SELECT path FROM captures').pluck().all(), ['/x/kept.pcap']);
  } finally {
    db.close();
  }
});

test("the writer thread's numbers for sides and states are the database's codes", () => {
  // StepVisitor hands over St numbers and sides as 0/1; the writer stores them as they are.
  for (const [name, n] of Object.entries(St)) assert.equal(STATES.names[n], name, `St.${name}`);
  assert.deepEqual(SIDES.names, ['client', 'server']);
});
