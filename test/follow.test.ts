/**
 * analyze --follow on the real bin, its input a pipe the test keeps open: findings are printed as
 * they are made, a census comes every --every, the database is readable (WAL, status `running`)
 * while it runs and back in rollback-journal mode, complete, at the end. A pipe carrying a live
 * capture (packets stamped now) follows without being asked; an old capture on a pipe does not.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { censusLine, findingLine } from '../src/report/follow.js';
import { repoRoot, scratchDir } from './helpers.js';
import { rows } from './db-rows.js';
import { cli } from './report-io.js';

const bin = join(repoRoot, 'bin', 'tcpstate.js');
const bulkLoss = readFileSync(join(repoRoot, 'samples', 'kernel', 'bulk-loss', 'bulk-loss.pcap'));

/** Starts analyze on a pipe; `until(re)` waits for stdout to match, the pipe still open. */
function analyzePipe(args: string[], cwd: string) {
  const child = spawn(process.execPath, [bin, 'analyze', '-', ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const until = async (re: RegExp, ms = 20_000): Promise<string> => {
    for (let waited = 0; !re.test(out); waited += 20) {
      assert.ok(waited < ms, `no ${re} after ${ms} ms; stdout:\n${out}\nstderr:\n${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return out;
  };
  return { child, exit, until, out: () => out, err: () => err };
}

function query<T>(db: string, sql: string): T {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).get() as T;
  } finally {
    d.close();
  }
}

/** The capture with its packets moved so that the first is stamped `firstSec` (epoch seconds). */
function restamped(pcap: Buffer, firstSec: number): Buffer {
  const out = Buffer.from(pcap);
  const shift = firstSec - out.readUInt32LE(24);
  for (let at = 24; at < out.length; at += 16 + out.readUInt32LE(at + 8)) out.writeUInt32LE(out.readUInt32LE(at) + shift, at);
  return out;
}

test('the lines: a finding with its time, kind, connection and message; the census of live sockets', () => {
  assert.equal(
    findingLine({ kind: 'retransmission', severity: 'note', flow: 3, packet: 12, ts: 1795240538348269, side: 'client', message: '[TCP Retransmission]', details: {} }),
    '2026-11-21 05:55:38.348269Z  retransmission  flow 3 client  [TCP Retransmission]\n',
  );
  assert.equal(
    findingLine({ kind: 'retransmission', severity: 'note', flow: 3, packet: 12, ts: 1795240538348269, side: 'client', message: '[TCP Retransmission]', details: {} }, '198.51.100.7:40000 -> 192.0.2.80:443'),
    '2026-11-21 05:55:38.348269Z  retransmission  flow 3 client (198.51.100.7:40000 -> 192.0.2.80:443)  [TCP Retransmission]\n',
  );
  assert.equal(
    censusLine({ packets: 12345, flows: 40, liveFlows: 12, findings: 35, lastTs: 1795240540000000 }, { ESTABLISHED: 20, TIME_WAIT: 3, CLOSE_WAIT: 1 }),
    '2026-11-21 05:55:40.000000Z  census: 12 connections live: ESTAB 20, TIME-WAIT 3, CLOSE-WAIT 1; 12,345 packets, 35 findings\n',
  );
  assert.equal(
    censusLine({ packets: 12345, flows: 40, liveFlows: 12, findings: 35, lastTs: 1795240540000000, evicted: 1500 }, { ESTABLISHED: 20 }),
    '2026-11-21 05:55:40.000000Z  census: 12 connections live: ESTAB 20; 12,345 packets, 35 findings; 1,500 evicted at the memory budget (--max-connections)\n',
  );
});

test('--follow prints findings while its input pipe is still open; the database is read meanwhile', async (t) => {
  const cwd = scratchDir('tcpstate-follow-');
  const run = analyzePipe(['--follow', '--every', '500ms', '--db', 'f.db'], cwd);
  t.after(() => run.child.kill()); // a failed assertion must not leave it waiting on its pipe
  run.child.stdin.write(bulkLoss);
  // Each line names the connection's two ends.
  await run.until(/^2026-11-21 05:55:51\.\d{6}Z {2}retransmission {2}flow 1 (client|server) \(\d+\.\d+\.\d+\.\d+:\d+ -> \d+\.\d+\.\d+\.\d+:\d+\) {2}\[TCP Retransmission\]$/m);
  await run.until(/census: 1 connection live: TIME-WAIT 1; 882 packets, 148 findings/);
  // The pipe is still open: no summary yet; what was committed reads.
  assert.doesNotMatch(run.out(), /pcap, ETHERNET/);
  const db = join(cwd, 'f.db');
  for (let waited = 0; query<{ status: string }>(db, 'SELECT status FROM captures').status !== 'running'; waited += 50) {
    assert.ok(waited < 10_000, 'never committed as running');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(query(db, 'SELECT status, packets FROM captures'), { status: 'running', packets: 882 });
  assert.equal(query<{ n: number }>(db, 'SELECT count(*) n FROM anomalies').n, 148);
  assert.equal(query<{ journal_mode: string }>(db, 'PRAGMA journal_mode').journal_mode, 'wal');
  // The reports read it meanwhile.
  const summary = await cli(['summary', 'f.db'], { cwd });
  assert.equal(summary.code, 0, summary.err);
  assert.match(summary.out, /^<stdin> {2}\S+ {2}running\n/);
  assert.match(summary.out, /retransmission +28 +note/);
  const anomalies = await cli(['anomalies', 'f.db', '--kind', 'retransmission', '--json'], { cwd });
  assert.equal((JSON.parse(anomalies.out) as { kept: number }).kept, 28);
  run.child.stdin.end();
  assert.equal(await run.exit, 0, run.err());
  assert.match(run.out(), /<stdin> {2}pcap, ETHERNET {2}complete/);
  assert.deepEqual(query(db, 'SELECT status, packets FROM captures'), { status: 'complete', packets: 882 });
  assert.equal(query<{ n: number }>(db, 'SELECT count(*) n FROM flows').n, 1);
  assert.equal(query<{ journal_mode: string }>(db, 'PRAGMA journal_mode').journal_mode, 'delete');
  // The commits along the way change nothing of the result: the same rows as without --follow.
  const plain = analyzePipe(['--no-follow', '--db', 'plain.db'], cwd);
  plain.child.stdin.end(bulkLoss);
  assert.equal(await plain.exit, 0, plain.err());
  for (const sql of ['SELECT * FROM flows', 'SELECT * FROM transitions ORDER BY flow_id, seq', 'SELECT * FROM anomalies ORDER BY id', 'SELECT * FROM zeek_conns', 'SELECT * FROM captures']) {
    assert.deepEqual(rows(join(cwd, 'plain.db'), sql), rows(db, sql), sql);
  }
});

test('--follow: a connection that ended, with its Zeek row, is in the database before the end; the result is a plain run\'s', async (t) => {
  const cwd = scratchDir('tcpstate-follow-');
  // Five refused connections, then the same again 30 s later: by then the first five have ended
  // (reset, then 5 s of linger) and Zeek has let go of them; the second five are still open.
  const refused = readFileSync(join(repoRoot, 'samples', 'kernel', 'refused', 'refused.pcap'));
  const capture = Buffer.concat([refused, restamped(refused, refused.readUInt32LE(24) + 30).subarray(24)]);
  const run = analyzePipe(['--follow', '--every', '200ms', '--db', 'f.db'], cwd);
  t.after(() => run.child.kill());
  run.child.stdin.write(capture);
  const db = join(cwd, 'f.db');
  const flows = () => query<{ n: number; status: string }>(db, 'SELECT (SELECT count(*) FROM flows) n, (SELECT status FROM captures) status');
  // The file may exist before its tables do (the writer is creating them): then, not yet.
  const flowsSoFar = () => {
    try {
      return flows();
    } catch (e) {
      if (/no such table/.test((e as Error).message)) return null;
      throw e;
    }
  };
  for (let waited = 0; ; waited += 50) {
    const now = existsSync(db) ? flowsSoFar() : null;
    if (now !== null && now.status === 'running' && now.n > 0) break;
    assert.ok(waited < 10_000, `no flow while running: ${JSON.stringify(now)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // The pipe is still open: the first five, each with Zeek's summary; census reads them.
  assert.doesNotMatch(run.out(), /pcap, ETHERNET/);
  assert.deepEqual(rows(db, 'SELECT flow_index, end_reason, conn_state, history FROM flows ORDER BY flow_index'), [1, 2, 3, 4, 5].map((i) => ({ flow_index: i, end_reason: 'reset', conn_state: 'REJ', history: 'Sr' })));
  const conns = await cli(['conns', 'f.db', '--json'], { cwd });
  assert.equal(conns.code, 0, conns.err);
  run.child.stdin.end();
  assert.equal(await run.exit, 0, run.err());
  assert.equal(flows().n, 10);
  const plain = analyzePipe(['--no-follow', '--db', 'plain.db'], cwd);
  plain.child.stdin.end(capture);
  assert.equal(await plain.exit, 0, plain.err());
  for (const sql of ['SELECT * FROM flows', 'SELECT * FROM transitions ORDER BY flow_id, seq', 'SELECT * FROM anomalies ORDER BY id', 'SELECT * FROM zeek_conns', 'SELECT * FROM captures']) {
    assert.deepEqual(rows(join(cwd, 'plain.db'), sql), rows(db, sql), sql);
  }
});


test('a live capture on a pipe is followed without --follow; an old one is not', async (t) => {
  const cwd = scratchDir('tcpstate-follow-');
  const now = Math.floor(Date.now() / 1000);
  const live = analyzePipe(['--db', 'live.db'], cwd);
  t.after(() => live.child.kill());
  live.child.stdin.write(restamped(bulkLoss, now));
  await live.until(/ {2}retransmission {2}flow 1 /);
  live.child.stdin.end();
  assert.equal(await live.exit, 0, live.err());

  const old = analyzePipe(['--db', 'old.db', '--every', '200ms'], cwd);
  old.child.stdin.end(bulkLoss);
  assert.equal(await old.exit, 0, old.err());
  assert.doesNotMatch(old.out(), /retransmission {2}flow 1 /);
  assert.match(old.out(), /^<stdin> {2}pcap, ETHERNET {2}complete/);
  const forcedOff = analyzePipe(['--db', 'off.db', '--no-follow'], cwd);
  forcedOff.child.stdin.end(restamped(bulkLoss, now));
  assert.equal(await forcedOff.exit, 0);
  assert.doesNotMatch(forcedOff.out(), /retransmission {2}flow 1 /);
});
