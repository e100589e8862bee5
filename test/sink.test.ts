/**
 * The SQLite sink: into an empty database the secondary indexes are built after the
 * capture's rows (and a rolled-back capture leaves them as they were); into one that
 * holds other captures they are kept and maintained row by row. Either way the rows
 * and the query plans are the same.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { analyzeInto } from '../src/cli/analyze-one.js';
import type { CaptureSummary } from '../src/analyze/capture.js';
import { COUNT_COLUMNS } from '../src/detect/packet-flags.js';
import { SqliteSink } from '../src/sink/sqlite.js';
import { repoRoot } from './helpers.js';

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

function dump(file: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return [
      db.prepare('SELECT flow_index, client_addr, client_port, server_addr, server_port, client_state, server_state, conn_state, history FROM flows ORDER BY capture_id, flow_index').all(),
      db.prepare('SELECT f.flow_index, t.seq, t.packet, t.side, t.to_state FROM transitions t JOIN flows f ON f.id = t.flow_id ORDER BY f.capture_id, f.flow_index, t.seq').all(),
      db.prepare('SELECT a.kind, a.packet, f.flow_index FROM anomalies a LEFT JOIN flows f ON f.id = a.flow_id ORDER BY a.id').all(),
      db.prepare("EXPLAIN QUERY PLAN SELECT * FROM flows WHERE server_addr = '192.0.2.1' AND server_port = 80").all().map((r) => (r as { detail: string }).detail),
    ];
  } finally {
    db.close();
  }
}

const ALL = ['anomalies_capture', 'anomalies_flow', 'flows_capture', 'flows_client', 'flows_server', 'transitions_packet', 'zeek_conns_tuple'];

test('indexes: built after the load into an empty database, kept into a full one, the same rows either way', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpstate-sink-'));
  const a = sample('bulk-loss');
  const b = sample('refused');

  // Empty database: the indexes go during the load and are all there after it.
  const first = join(dir, 'first.db');
  const sink = new SqliteSink(first);
  sink.beginCapture(a, 'a');
  sink.rollbackCapture();
  assert.deepEqual(indexes(first), ALL, 'a rolled-back capture leaves the indexes');
  await analyzeInto(sink, a, 'a', settings, process.stdin, never);
  assert.deepEqual(indexes(first), ALL);
  // A second capture into it: the indexes stay (and are kept up to date row by row).
  await analyzeInto(sink, b, 'b', settings, process.stdin, never);
  sink.close();
  assert.deepEqual(indexes(first), ALL);

  // The same two captures, the other one first: the same rows per capture.
  const second = join(dir, 'second.db');
  const other = new SqliteSink(second);
  await analyzeInto(other, b, 'b', settings, process.stdin, never);
  await analyzeInto(other, a, 'a', settings, process.stdin, never);
  other.close();
  const [fa, ta, aa, plan] = dump(first) as [unknown[], unknown[], unknown[], string[]];
  const [fb, tb, ab] = dump(second) as [unknown[], unknown[], unknown[], string[]];
  assert.equal(fa.length, fb.length);
  assert.equal(ta.length, tb.length);
  assert.equal(aa.length, ab.length);
  assert.ok(fa.length > 0 && ta.length > 0);
  assert.match(plan.join(' '), /USING INDEX flows_server/);
});

test('rows held for multi-row inserts: written in order at commit (not a multiple of a batch), dropped by a rollback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpstate-sink-'));
  const file = join(dir, 'rows.db');
  const sink = new SqliteSink(file);
  const flowRow = (capture: number, index: number) => [
    capture, index, 4, '192.0.2.1', 40000 + index, '192.0.2.2', 80, 1, 2, 1, 2, 'TIME_WAIT', 'CLOSED', 'syn', 0, 'closed',
    null, null, 1, 0, 40, 1, 0, 40, null, null, null, null, null, ...COUNT_COLUMNS.map(() => 0),
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
    const got = db.prepare('SELECT flow_id, seq, packet, ts, side, from_state, to_state, cause, inferred FROM transitions ORDER BY rowid').raw().all();
    assert.equal(expected.length, 70);
    assert.deepEqual(got, expected);
    const z = db.prepare('SELECT * FROM zeek_conns ORDER BY rowid').raw().all();
    assert.deepEqual(z, zeekRows);
    assert.deepEqual(db.prepare('SELECT path FROM captures').pluck().all(), ['/x/kept.pcap']);
  } finally {
    db.close();
  }
});
