/**
 * The SQLite sink in its own thread writes exactly what the direct sink writes,
 * reports a write that failed (and rolls the capture back), and refuses a
 * database it cannot use at once, as the direct sink does.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { analyzeInto } from '../src/cli/analyze-one.js';
import { SqliteSink, type Sink } from '../src/sink/sqlite.js';
import { ThreadedSink } from '../src/sink/threaded.js';
import { repoRoot, scratchDir } from './helpers.js';
import { everything } from './db-rows.js';

const kernel = (name: string) => join(repoRoot, 'samples', 'kernel', name, `${name}.pcap`);
const settings = { flowOptions: {}, thresholds: {} };
const never = () => false;


async function load(sink: Sink, captures: string[]): Promise<void> {
  try {
    for (const c of captures) await analyzeInto(sink, c, c, settings, process.stdin, { shouldStop: never });
  } finally {
    sink.close();
  }
}

test('threaded sink: the same rows as the direct sink, capture after capture', async () => {
  const dir = scratchDir('tcpstate-threaded-');
  // syn-flood and bulk-loss have the most rows: several batches, thousands of findings.
  const captures = ['bulk-loss', 'syn-flood', 'time-wait-pileup', 'refused', 'bulk-loss'].map(kernel);
  await load(new SqliteSink(join(dir, 'direct.db')), captures);
  await load(new ThreadedSink(join(dir, 'threaded.db')), captures);
  const direct = everything(join(dir, 'direct.db'));
  const threaded = everything(join(dir, 'threaded.db'));
  assert.ok((direct.transitions as unknown[]).length > 1000, 'enough rows for several batches');
  assert.ok((direct.anomalies as unknown[]).length > 100);
  for (const t of Object.keys(direct)) assert.deepEqual(threaded[t], direct[t], t);
});

/** A new tcpstate database, then `sql` run on it from outside. */
function databaseWith(name: string, sql: string): string {
  const file = join(scratchDir('tcpstate-threaded-'), name);
  new SqliteSink(file).close();
  const db = new Database(file);
  db.exec(sql);
  db.close();
  return file;
}

test('threaded sink: a write that fails fails the capture, leaves nothing of it, and the next capture is written', async () => {
  // Every finding of the refused sample (connection_refused) fails to insert.
  const file = databaseWith(
    'fail.db',
    "CREATE TRIGGER no_refusals BEFORE INSERT ON anomaly_data WHEN NEW.kind = (SELECT id FROM kinds WHERE kind = 'connection_refused') BEGIN SELECT RAISE(ABORT, 'refusals not welcome'); END",
  );
  const sink = new ThreadedSink(file);
  try {
    await assert.rejects(analyzeInto(sink, kernel('refused'), 'refused', settings, process.stdin, { shouldStop: never }), /refusals not welcome/);
    await analyzeInto(sink, kernel('client-closes'), 'client-closes', settings, process.stdin, { shouldStop: never });
  } finally {
    sink.close();
  }
  const rows = everything(file);
  assert.deepEqual((rows.captures as Array<{ name: string }>).map((c) => c.name), ['client-closes']);
  assert.ok((rows.flows as unknown[]).length > 0);
});

test('threaded sink: a database of another schema version is refused when opened, with the direct sink\'s message', () => {
  const file = databaseWith('old.db', "UPDATE meta SET value = '0' WHERE key = 'schema_version'");
  let direct = '';
  assert.throws(() => new SqliteSink(file), (e: Error) => ((direct = e.message), true));
  assert.match(direct, /schema version 0/);
  assert.throws(() => new ThreadedSink(file), (e: Error) => e.message === direct);
});
