/**
 * The database in a hostile environment (issue 21): a disk that fills while a capture is analysed
 * again, a read-only file or file system, a lock held by another process, a truncated or
 * corrupt file, a directory on standard input. Each is one line naming the file, the cause and
 * the remedy, with its own exit code (5; 2 for the directory); the capture being written is
 * rolled back at the first error, on every path, and what the database held before stays as it was.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, readFileSync, rmSync, statfsSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { writeMix } from '../scripts/bench-capture.js';
import { analyzeInto } from '../src/cli/analyze-one.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { DbError } from '../src/sink/errors.js';
import { SqliteSink, type Sink, type SinkLimits } from '../src/sink/sqlite.js';
import { ThreadedSink } from '../src/sink/threaded.js';
import { repoRoot } from './helpers.js';
import { everything } from './db-rows.js';
import { cli, tempDir } from './report-io.js';

const SAMPLE = join(repoRoot, 'samples', 'kernel', 'refused', 'refused.pcap');
const settings = { flowOptions: {}, thresholds: {} };
const never = {};
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const isRoot = process.getuid?.() === 0;


const openSink = (threaded: boolean, file: string, limits: SinkLimits = {}, meta: Record<string, string> = {}): Sink =>
  threaded ? new ThreadedSink(file, meta, limits) : new SqliteSink(file, meta, limits);
const stackOf = (file: string) => {
  const d = new Database(file, { readonly: true });
  const v = d.prepare("SELECT value FROM meta WHERE key = 'stack'").pluck().get();
  d.close();
  return v;
};
const sinkName = (threaded: boolean) => (threaded ? 'threaded sink' : 'direct sink (--no-db-thread)');

/** `analyze -q` of `capture` into `db` through the CLI. */
const analyze = (db: string, capture: string, ...more: string[]) => cli(['analyze', '-q', '--db', db, ...more, capture]);

/** One line on stderr, naming `file`, matching `cause`. */
function oneLine(err: string, file: string, cause: RegExp): void {
  const lines = err.trim().split('\n');
  assert.equal(lines.length, 1, err);
  assert.ok(lines[0].includes(file), err);
  assert.match(lines[0], cause);
  assert.doesNotMatch(err, /internal error|\n\s+at /);
}

for (const threaded of [false, true]) {
  test(`disk full, simulated (SQLITE_FULL past max_page_count), ${sinkName(threaded)}: the capture analysed again is rolled back, the earlier analysis stays`, async () => {
    const dir = tempDir();
    const capture = join(dir, 'again.pcap');
    const db = join(dir, 'x.db');
    copyFileSync(SAMPLE, capture);
    const first = openSink(threaded, db, {}, { stack: 'linux' });
    try {
      await analyzeInto(first, capture, 'again.pcap', settings, process.stdin, never);
    } finally {
      first.close();
    }
    const before = everything(db);
    // The same file, longer now; the disk has room for 20 more pages (the new rows need hundreds).
    writeMix(capture, { scale: 0.01, floodSyns: 300, seed: 3 });
    const pages = (() => {
      const d = new Database(db, { readonly: true });
      const n = d.pragma('page_count', { simple: true }) as number;
      d.close();
      return n;
    })();
    const sink = openSink(threaded, db, { maxPages: pages + 20 }, { stack: 'rfc793' });
    try {
      await assert.rejects(analyzeInto(sink, capture, 'again.pcap', settings, process.stdin, never), (e: Error) => {
        assert.ok(e instanceof DbError, `${e.name}: ${e.message}`);
        assert.equal(e.problem, 'full');
        assert.ok(e.message.includes(db), e.message);
        assert.match(e.message, /disk full.*not kept.*intact: free some space/);
        return true;
      });
      // The settings of the run are recorded with a capture it writes: none yet.
      assert.equal(stackOf(db), 'linux');
      // The sink is usable again: the next capture is written.
      await analyzeInto(sink, SAMPLE, 'refused', settings, process.stdin, never);
    } finally {
      sink.close();
    }
    assert.equal(stackOf(db), 'rfc793');
    const after = everything(db);
    const earlierFlows = new Set((before.flows as Array<{ id: number }>).map((f) => f.id));
    const earlier = (r: { capture_id?: number; flow_id?: number }) => (r.capture_id === undefined ? earlierFlows.has(r.flow_id!) : r.capture_id === 1);
    for (const t of Object.keys(before)) {
      if (t !== 'captures') assert.deepEqual((after[t] as Array<{ capture_id?: number }>).filter(earlier), before[t], t);
    }
    assert.deepEqual((after.captures as Array<{ name: string; status: string }>).map((c) => [c.name, c.status]), [['again.pcap', 'complete'], ['refused', 'complete']]);
  });
}

for (const threaded of [false, true]) {
  test(`disk full at a --follow checkpoint, simulated, ${sinkName(threaded)}: "disk full" naming the database, not an internal error`, async () => {
    const dir = tempDir();
    const capture = join(dir, 'mix.pcap');
    const db = join(dir, 'x.db');
    writeMix(capture, { scale: 0.01, floodSyns: 300, seed: 3 });
    // An empty database, then room for 10 more pages (the capture's rows need hundreds).
    openSink(threaded, db, {}, { stack: 'linux' }).close();
    const d = new Database(db, { readonly: true });
    const pages = d.pragma('page_count', { simple: true }) as number;
    d.close();
    const sink = openSink(threaded, db, { maxPages: pages + 10 }, { stack: 'linux' });
    let checkpoint: ((packets: number) => void) | null = null;
    let findings = 0;
    const hooks = {
      onBegin: (cp: (packets: number) => void) => (checkpoint = cp),
      // A commit every 20 findings, as --follow's timer would make them.
      onFinding: () => {
        if (++findings % 20 === 0) checkpoint!(findings);
      },
    };
    try {
      await assert.rejects(analyzeInto(sink, capture, 'mix.pcap', settings, process.stdin, hooks), (e: Error) => {
        assert.ok(e instanceof DbError, `${e.name}: ${e.message}`);
        assert.equal(e.problem, 'full');
        assert.ok(e.message.includes(db), e.message);
        return true;
      });
    } finally {
      sink.close();
    }
    assert.ok(findings >= 20, `${findings} findings`);
  });
}

/** A tmpfs of `mb` MB at a new directory (root only); null when it cannot be mounted. */
function tmpfs(mb: number): { dir: string; done: () => void } | null {
  if (!isRoot) return null;
  const dir = join(tempDir(), 'mnt');
  mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', dir]);
  if (r.status !== 0) return null;
  return { dir, done: () => void spawnSync('umount', ['-l', dir]) };
}

/** Fill the file system of `dir` but for `freeKb` KB. */
function fill(dir: string, freeKb: number): string {
  const filler = join(dir, 'filler');
  const st = statfsSync(dir);
  const bytes = st.bavail * st.bsize - freeKb * 1024;
  const fd = openSync(filler, 'w');
  const block = Buffer.alloc(1 << 16, 0xa5);
  try {
    for (let left = bytes; left > 0; left -= block.length) writeSync(fd, block, 0, Math.min(left, block.length));
  } finally {
    closeSync(fd);
  }
  return filler;
}

test('disk full on a real 8 MB tmpfs (root only): analysing a capture again stops at the first error, says "disk full", keeps the earlier analysis', async (t) => {
  const fs = tmpfs(8);
  if (fs === null) {
    t.skip('needs root to mount a tmpfs (the simulated test above runs anywhere)');
    return;
  }
  try {
    // ~19 MB of capture, ~4.6 MB of database: the page cache spills to the WAL while the capture is read.
    const capture = join(tempDir(), 'mix.pcap');
    writeMix(capture, { scale: 0.1, floodSyns: 3000, seed: 5 });
    const db = join(fs.dir, 'x.db');
    const first = await analyze(db, capture, '--no-db-thread');
    assert.equal(first.code, 0, first.err);
    const before = everything(db);
    for (const thread of [['--no-db-thread'], []]) {
      const filler = fill(fs.dir, 512);
      const r = await analyze(db, capture, ...thread);
      unlinkSync(filler);
      assert.equal(r.code, ExitCode.DATABASE, `${thread.join(' ')}: ${r.err}`);
      oneLine(r.err, db, /disk full while writing the database; the capture being written was not kept/);
      // Not one row of the failed run: the earlier, complete analysis as it was.
      assert.deepEqual(everything(db), before, thread.join(' '));
    }
  } finally {
    fs.done();
  }
});

test('a disk that fills at the close (root only): the capture is written, and a warning says the database stays in WAL mode with its -wal', async (t) => {
  const fs = tmpfs(2);
  if (fs === null) {
    t.skip('needs root to mount a tmpfs');
    return;
  }
  try {
    // ~11 MB of capture whose committed rows fill the 2 MB disk's WAL: no room to fold it back. The
    // database holds a capture already (a new one is loaded with a rollback journal, no WAL).
    const capture = join(tempDir(), 'mix.pcap');
    writeMix(capture, { scale: 0.03, floodSyns: 300, seed: 4 });
    const db = join(fs.dir, 'x.db');
    assert.equal((await analyze(db, SAMPLE)).code, 0);
    const r = await analyze(db, capture);
    assert.equal(r.code, 0, r.err);
    oneLine(r.err, db, /warning: .* could not be put back in rollback-journal mode \(the disk is full\): it stays in WAL mode with .*x\.db-wal beside it/);
    const d = new Database(db, { readonly: true });
    assert.equal(d.prepare("SELECT status FROM captures").pluck().get(), 'complete');
    assert.ok((d.prepare('SELECT count(*) FROM flows').pluck().get() as number) > 1000);
    d.close();
  } finally {
    fs.done();
  }
});

test('a full temporary directory with -j 2 (root only): the workers\' databases are named as the place that needs room', async (t) => {
  const fs = tmpfs(1);
  if (fs === null) {
    t.skip('needs root to mount a tmpfs');
    return;
  }
  const tmp = process.env.TMPDIR;
  try {
    const db = join(tempDir(), 'x.db');
    const filler = fill(fs.dir, 64);
    process.env.TMPDIR = fs.dir;
    const r = await cli(['analyze', '-q', '-j', '2', '--db', db, SAMPLE, join(repoRoot, 'samples', 'kernel', 'bulk-loss', 'bulk-loss.pcap')]);
    unlinkSync(filler);
    assert.equal(r.code, ExitCode.DATABASE, r.err);
    oneLine(r.err, fs.dir, /disk full in the temporary directory .*, where each worker writes its capture first; nothing of it was written to the database: give TMPDIR a directory with room, or run with -j 1/);
  } finally {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
    fs.done();
  }
});

/** A directory holding a tcpstate database (rollback journal) and one left in WAL mode, made read-only. */
async function readOnlyPlace(t: { after: (fn: () => void) => void }): Promise<{ dir: string; db: string; wal: string } | null> {
  const fs = tmpfs(4);
  // Root writes through file modes: without a file system to make read-only there is no test.
  if (fs === null && isRoot) return null;
  const dir = fs?.dir ?? join(tempDir(), 'ro');
  if (fs === null) mkdirSync(dir);
  const db = join(dir, 'ok.db');
  const wal = join(dir, 'wal.db');
  assert.equal((await analyze(db, SAMPLE)).code, 0);
  copyFileSync(db, wal);
  const d = new Database(wal);
  d.pragma('journal_mode = WAL');
  d.close();
  if (fs !== null) {
    assert.equal(spawnSync('mount', ['-o', 'remount,ro', dir]).status, 0);
    t.after(fs.done);
  } else {
    chmodSync(db, 0o444);
    chmodSync(wal, 0o444);
    chmodSync(dir, 0o555);
    t.after(() => chmodSync(dir, 0o755));
  }
  return { dir, db, wal };
}

test('a read-only database, directory or file system: analyze says read-only (exit 5), a report reads it or says why not', async (t) => {
  const place = await readOnlyPlace(t);
  if (place === null) {
    t.skip('root without a tmpfs to mount read-only');
    return;
  }
  const { dir, db, wal } = place;
  const before = sha(db);
  for (const thread of [[], ['--no-db-thread']]) {
    const r = await analyze(db, SAMPLE, ...thread);
    assert.equal(r.code, ExitCode.DATABASE, r.err);
    oneLine(r.err, db, /is read-only \(the file, its directory or its file system\); nothing was written: make it writable, or give --db another file/);
    const n = await analyze(join(dir, 'new.db'), SAMPLE, ...thread);
    assert.equal(n.code, ExitCode.DATABASE, n.err);
    oneLine(n.err, join(dir, 'new.db'), /is read-only/);
  }
  assert.equal(sha(db), before);
  // A report only reads: a database in rollback-journal mode (as analyze leaves it) reads on read-only media...
  const c = await cli(['census', db]);
  assert.equal(c.code, 0, c.err);
  // ...one left in WAL mode cannot (SQLite needs its -shm beside it): said so, with the way out.
  const w = await cli(['census', wal]);
  assert.equal(w.code, ExitCode.DATABASE, w.err);
  oneLine(w.err, wal, /cannot be read where it is: it was left in WAL mode .* its directory is read-only: copy it/);
});

for (const threaded of [false, true]) {
  test(`a database locked by another process, ${sinkName(threaded)}: "locked by another process", when opened and when a capture begins`, async () => {
    const dir = tempDir();
    const db = join(dir, 'x.db');
    new SqliteSink(db).close();
    const other = new Database(db);
    const limits = { busyTimeoutMs: 50 };
    const locked = (e: Error) => {
      assert.ok(e instanceof DbError, `${e.name}: ${e.message}`);
      assert.equal(e.problem, 'locked');
      assert.ok(e.message.includes(db), e.message);
      assert.match(e.message, /is locked by another process \(another tcpstate analyze writing it\?\); nothing of this capture was written: wait for it to finish, or give --db another file/);
      return true;
    };
    try {
      other.exec('BEGIN EXCLUSIVE');
      assert.throws(() => openSink(threaded, db, limits), locked);
      other.exec('ROLLBACK');
      const sink = openSink(threaded, db, limits);
      try {
        other.exec('BEGIN IMMEDIATE');
        await assert.rejects(analyzeInto(sink, SAMPLE, 'refused', settings, process.stdin, never), locked);
        other.exec('ROLLBACK');
        // The lock gone, the same sink writes.
        await analyzeInto(sink, SAMPLE, 'refused', settings, process.stdin, never);
      } finally {
        sink.close();
      }
    } finally {
      other.close();
    }
    assert.deepEqual((everything(db).captures as Array<{ status: string }>).map((c) => c.status), ['complete']);
  });
}

test('a report on a database another process holds locked waits 5 s, then says "locked by another process" (exit 5)', async () => {
  const dir = tempDir();
  const db = join(dir, 'x.db');
  assert.equal((await analyze(db, SAMPLE)).code, 0);
  const other = new Database(db);
  try {
    // A rollback-journal database (as analyze leaves it) under an exclusive lock: readers wait.
    other.exec('BEGIN EXCLUSIVE');
    const t0 = Date.now();
    const r = await cli(['census', db]);
    assert.ok(Date.now() - t0 >= 4000, 'waited for the lock first');
    assert.equal(r.code, ExitCode.DATABASE, r.err);
    oneLine(r.err, db, /is locked by another process writing it: wait for it to finish/);
    other.exec('ROLLBACK');
    assert.equal((await cli(['census', db])).code, 0);
  } finally {
    other.close();
  }
});

test('a truncated or corrupt tcpstate database: "damaged" with the way to rebuild it, from analyze and the reports (exit 5)', async () => {
  const dir = tempDir();
  const good = join(dir, 'good.db');
  assert.equal((await analyze(good, SAMPLE)).code, 0);
  // Cut short: half of it.
  const cut = join(dir, 'cut.db');
  copyFileSync(good, cut);
  truncateSync(cut, Math.floor(readFileSync(good).length / 2));
  // Corrupt: the flows' root page no longer a b-tree page. It opens, and the schema reads.
  const bad = join(dir, 'bad.db');
  copyFileSync(good, bad);
  const d = new Database(good, { readonly: true });
  const root = (d.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'flow_data'").pluck().get() as number) - 1;
  const pageSize = d.pragma('page_size', { simple: true }) as number;
  d.close();
  const bytes = readFileSync(bad);
  bytes[root * pageSize] = 0xff;
  writeFileSync(bad, bytes);
  for (const file of [cut, bad]) {
    const before = sha(file);
    for (const argv of [['census', file], ['conns', file], ['summary', file], ['analyze', '-q', '--db', file, SAMPLE], ['analyze', '-q', '--no-db-thread', '--db', file, SAMPLE]]) {
      const r = await cli(argv);
      assert.equal(r.code, ExitCode.DATABASE, `${argv.join(' ')}: ${r.err}`);
      oneLine(r.err, file, new RegExp(`is damaged \\(.*\\); nothing .*: rebuild it: rm .*${file.split('/').pop()} and run tcpstate analyze --db`));
      // A report writes nothing.
      if (argv[0] !== 'analyze') assert.equal(sha(file), before, argv.join(' '));
    }
  }
});

test('a directory on standard input (tcpstate analyze - < DIR) is a usage error saying so, not an empty file', () => {
  const dir = tempDir();
  const fd = openSync(dir, 'r');
  try {
    for (const argv of [['analyze', '-q', '--db', join(dir, 'x.db'), '-'], ['census', '-']]) {
      const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'tcpstate.js'), ...argv], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
      assert.equal(r.status, ExitCode.USAGE, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /standard input is a directory, not a capture .*give the directory as an argument/);
      assert.doesNotMatch(r.stderr, /empty file/);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
