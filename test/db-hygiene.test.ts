/** The database as a user finds it after analyze: its own file only, one file, and what it was made with. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, tempDir } from './report-io.js';
import { repoRoot } from './helpers.js';
import { writeMix } from '../scripts/bench-capture.js';

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

test('a new database is loaded without a -wal file; readers get WAL from its first capture on', async () => {
  const dir = tempDir();
  const bulk = readFileSync(join(repoRoot, 'samples', 'kernel', 'bulk-loss', 'bulk-loss.pcap'));
  /** analyze of `captures` into `db`, '-' being a pipe given half of bulk-loss; `meanwhile` runs then, the pipe open. */
  const run = async (db: string, captures: string[], meanwhile: () => Promise<void>) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'tcpstate.js'), 'analyze', '-q', '--db', db, ...captures], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    child.stdin.write(bulk.subarray(0, bulk.length >> 1));
    try {
      await meanwhile();
    } catch (e) {
      child.kill();
      throw e;
    }
    child.stdin.end(bulk.subarray(bulk.length >> 1));
    assert.equal(await exit, 0, err);
    assert.equal(existsSync(`${db}-wal`), false);
    const after = new Database(db, { readonly: true });
    try {
      assert.equal(after.pragma('journal_mode', { simple: true }), 'delete');
      assert.equal(after.prepare("SELECT count(*) FROM captures WHERE status = 'complete'").pluck().get(), 2);
    } finally {
      after.close();
    }
  };
  const until = async (what: string, ok: () => boolean) => {
    for (let waited = 0; !ok(); waited += 50) {
      assert.ok(waited < 20_000, `${what}: not after 20 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const count = (db: string, sql: string) => {
    if (!existsSync(db)) return -1;
    const d = new Database(db, { readonly: true, timeout: 5000 });
    try {
      return d.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'captures'").pluck().get() === 1 ? (d.prepare(sql).pluck().get() as number) : -1;
    } finally {
      d.close();
    }
  };
  // The first capture (the pipe) goes into the new file with a rollback journal: no -wal beside it.
  const first = join(dir, 'first.db');
  await run(first, ['-', join(repoRoot, SAMPLE)], async () => {
    await until('the database made', () => count(first, 'SELECT count(*) FROM captures') >= 0 && existsSync(`${first}-journal`));
    assert.equal(existsSync(`${first}-wal`), false, 'no -wal while the first capture goes in');
  });
  // Once a capture is in, the next one goes in with WAL: a reader sees it so.
  const second = join(dir, 'second.db');
  await run(second, [join(repoRoot, SAMPLE), '-'], async () => {
    await until('the first capture in', () => count(second, "SELECT count(*) FROM captures WHERE status = 'complete'") === 1);
    const d = new Database(second, { readonly: true });
    try {
      assert.equal(d.pragma('journal_mode', { simple: true }), 'wal', 'WAL once the first capture is in');
      assert.ok((d.prepare('SELECT count(*) FROM flows').pluck().get() as number) > 0);
    } finally {
      d.close();
    }
  });
});

test('with -j 2, a new database takes WAL once the first capture is imported', async () => {
  const dir = tempDir();
  const db = join(dir, 'jobs.db');
  // A small capture and a longer one: the first is imported while the second is still read.
  const long = join(dir, 'mix.pcap');
  writeMix(long, { scale: 0.2, floodSyns: 0, seed: 9 });
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'tcpstate.js'), 'analyze', '-q', '-j', '2', '--db', db, join(repoRoot, SAMPLE), long], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  let exited = false;
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => ((exited = true), res(code))));
  const mode = () => {
    if (!existsSync(db)) return null;
    const d = new Database(db, { readonly: true, timeout: 5000 });
    try {
      const n = d.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'captures'").pluck().get() === 1 ? (d.prepare("SELECT count(*) FROM captures WHERE status = 'complete'").pluck().get() as number) : 0;
      return n === 0 ? null : (d.pragma('journal_mode', { simple: true }) as string);
    } finally {
      d.close();
    }
  };
  let seen: string | null = null;
  while (!exited && seen !== 'wal') {
    seen = mode();
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await exit, 0, err);
  assert.equal(seen, 'wal', 'a reader saw WAL while the second capture was being read');
  assert.equal(existsSync(`${db}-wal`), false);
});
