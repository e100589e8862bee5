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
