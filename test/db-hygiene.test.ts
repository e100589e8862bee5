/** The database as a user finds it after analyze: its own file only, one file, and what it was made with. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, tempDir } from './report-io.js';

const SAMPLE = 'samples/scenarios/rst-established.pcap';
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

for (const thread of [true, false]) {
  test(`analyze leaves one file in rollback-journal mode, and census writes nothing beside it${thread ? '' : ' (--no-db-thread)'}`, async () => {
    const dir = tempDir();
    const db = join(dir, 'x.db');
    const r = await cli(['analyze', '-q', '--db', db, ...(thread ? [] : ['--no-db-thread']), SAMPLE]);
    assert.equal(r.code, 0, r.err);
    // Bytes 18-19 of the header: 1 for a rollback journal, 2 for WAL.
    const head = readFileSync(db).subarray(18, 20);
    assert.deepEqual([...head], [1, 1]);
    assert.equal(existsSync(`${db}-wal`), false);
    assert.equal(existsSync(`${db}-shm`), false);
    const before = sha(db);
    const c = await cli(['census', db]);
    assert.equal(c.code, 0, c.err);
    assert.match(c.out, /ESTAB|CLOSED|TIME|LISTEN|hosts?/i);
    assert.equal(existsSync(`${db}-wal`), false);
    assert.equal(existsSync(`${db}-shm`), false);
    assert.equal(sha(db), before, 'a report writes nothing');
  });
}

test('meta records the tool version and every setting of the run', async () => {
  const dir = tempDir();
  const db = join(dir, 'x.db');
  const r = await cli(['analyze', '-q', '--db', db, '--close-wait', '7s', '--stack', 'rfc793', SAMPLE]);
  assert.equal(r.code, 0, r.err);
  const d = new Database(db, { readonly: true });
  const meta = Object.fromEntries((d.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((m) => [m.key, m.value]));
  d.close();
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  assert.equal(meta.tool_version, pkg.version);
  assert.equal(meta.schema_version, '4');
  assert.equal(meta.stack, 'rfc793');
  assert.equal(JSON.parse(meta.thresholds).closeWaitUs, 7_000_000);
  // Defaults are written out too, not only what was given.
  assert.equal(typeof JSON.parse(meta.thresholds).synFloodRate, 'number');
  assert.equal(typeof JSON.parse(meta.flow_options).timeWaitUs, 'number');
  assert.equal(typeof JSON.parse(meta.reassembly).maxBytes, 'number');
});

test("--db refuses another application's SQLite file and any other file, and leaves them byte-identical", async () => {
  const dir = tempDir();
  const foreign = join(dir, 'app.sqlite');
  const d = new Database(foreign);
  d.exec('CREATE TABLE flows (x INTEGER); INSERT INTO flows VALUES (1);');
  d.close();
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'my notes\n');
  for (const [file, why] of [
    [foreign, /another application/],
    [text, /not an SQLite database/],
  ] as const) {
    const before = sha(file);
    for (const thread of [[], ['--no-db-thread']]) {
      const r = await cli(['analyze', '-q', '--db', file, ...thread, SAMPLE]);
      assert.notEqual(r.code, 0);
      assert.match(r.err, why);
      assert.ok(r.err.includes(file), r.err);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.equal(sha(file), before);
      assert.equal(existsSync(`${file}-wal`), false);
    }
  }
});

test('an empty file and a tcpstate database are written; an older schema is refused with the way to rebuild it', async () => {
  const dir = tempDir();
  const empty = join(dir, 'empty.db');
  writeFileSync(empty, '');
  assert.equal((await cli(['analyze', '-q', '--db', empty, SAMPLE])).code, 0);
  // Again into the same database: the capture's rows are replaced.
  assert.equal((await cli(['analyze', '-q', '--db', empty, SAMPLE])).code, 0);
  const d = new Database(empty);
  d.prepare("UPDATE meta SET value = '0' WHERE key = 'schema_version'").run();
  d.pragma('journal_mode = DELETE');
  d.close();
  const before = sha(empty);
  const r = await cli(['analyze', '-q', '--db', empty, SAMPLE]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /schema version 0.*rm .*empty\.db/);
  assert.equal(sha(empty), before);
  // The reports say the same.
  const c = await cli(['census', empty]);
  assert.equal(c.code, 5);
  assert.match(c.err, /schema version 0.*rm .*empty\.db and run tcpstate analyze --db/);
  assert.equal(sha(empty), before);
});
