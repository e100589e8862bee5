/**
 * The memory budget (issue #21, item 5): at most `maxConnections` connections are followed at
 * once; at the budget the least recently seen are evicted, each analyzer letting go of them, their
 * open flows ending `evicted`, with one `connections_evicted` finding. Memory then stays near
 * what the budget holds, whatever the capture.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ConnTable } from '../src/conn/table.js';
import { TcpstateDb } from '../src/sink/read.js';
import { DecodedPacket } from '../src/decode/packet.js';
import type { Finding } from '../src/detect/finding.js';
import { KINDS } from '../src/detect/catalogue.js';
import { analyzeCapture, type LiveCounts } from '../src/pipeline.js';
import { sourceFromChunks } from '../src/reader/index.js';
import type { ZeekConn } from '../src/tcp/zeek/conn.js';
import { writeIdle } from '../scripts/bench-capture.js';
import { pieces, scratchDir } from './helpers.js';
import { Capture, type Addr, type Conn } from './scenario/conns.js';

const CLI = join(process.cwd(), 'bin', 'tcpstate.js');
const SERVER: Addr = ['192.0.2.80', 80];
const T0 = 1_700_000_000_000_000;

/** A packet 10.0.a.b:port -> 192.0.2.80:80 as the table's lookup reads it. */
function packetOf(p: DecodedPacket, client: number, port: number): DecodedPacket {
  p.buf = Uint8Array.from([10, 0, (client >> 8) & 255, client & 255, 192, 0, 2, 80]);
  p.ipVersion = 4;
  p.srcOff = 0;
  p.dstOff = 4;
  p.srcPort = port;
  p.dstPort = 80;
  return p;
}

test('oldest(): the least recently seen live rows, ties in row order, as a full sort would give', () => {
  const conn = new ConnTable();
  const p = new DecodedPacket();
  let seed = 7;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % 5000;
  const rows: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const row = conn.lookup(packetOf(p, i, 1000 + (i % 7)));
    conn.hold(row, 0);
    conn.touch(row, rand()); // many equal times
    rows.push(row);
  }
  // Free every third row: a free row is never taken.
  for (let i = 0; i < rows.length; i += 3) conn.release(rows[i], 0);
  const live = rows.filter((_, i) => i % 3 !== 0);
  const seen = new Map<number, number>();
  // touch() again so that the reference knows each live row's time.
  for (const r of live) {
    const t = rand();
    conn.touch(r, t);
    seen.set(r, t);
  }
  const expected = [...live].sort((a, b) => seen.get(a)! - seen.get(b)! || a - b);
  for (const k of [1, 2, 17, 500, 1999, 2000, 5000]) {
    const out = new Int32Array(k);
    const n = conn.oldest(k, out);
    assert.equal(n, Math.min(k, live.length));
    assert.deepEqual([...out.subarray(0, n)], expected.slice(0, n), `k=${k}`);
  }
});

/** Connections to 192.0.2.80:80, each opened, then some refreshed by data, then more opened. */
function budgetCapture(): Uint8Array {
  const cap = new Capture();
  let t = T0;
  const next = () => (t += 1000);
  const conns: Conn[] = [];
  for (let c = 1; c <= 17; c++) conns[c] = cap.conn([`10.0.0.${c}`, 40000 + c], SERVER);
  const open = (c: number) => conns[c].send('client', 'S', next()).send('server', 'SA', next()).send('client', 'A', next());
  // Connections 1-16 open in turn; 1-8 then exchange data (seen again); 17 opens: the budget of 16 is full.
  for (let c = 1; c <= 16; c++) open(c);
  for (let c = 1; c <= 8; c++) conns[c].send('client', 'PA', next(), { len: 10 });
  open(17);
  // Connection 9, the least recently seen, was evicted at 17's SYN; its next packet starts a new flow.
  conns[9].send('client', 'PA', next(), { len: 10 });
  // Connection 1 closes normally.
  conns[1].send('client', 'FA', next()).send('server', 'FA', next()).send('client', 'A', next());
  return cap.bytes();
}

interface Ended {
  client: string;
  endReason: string | null;
  midstream: boolean;
  endTs: number;
}

async function run(bytes: Uint8Array, maxConnections?: number) {
  const ended: Ended[] = [];
  const findings: Finding[] = [];
  const zeek: ZeekConn[] = [];
  let read: (() => LiveCounts) | null = null;
  let mostLive = 0;
  const summary = await analyzeCapture('budget.pcap', sourceFromChunks(pieces(bytes, 0)), {
    maxConnections,
    onFlowEnd: (f) => ended.push({ client: `${f.client.addr}:${f.client.port}`, endReason: f.endReason, midstream: f.midstream, endTs: f.endTs ?? -1 }),
    onFinding: (f) => findings.push(f),
    onZeekConn: (c) => zeek.push(c),
    probe: (r) => (read = r),
    onPacket: () => (mostLive = Math.max(mostLive, read!().liveFlows)),
  });
  return { summary, ended, findings, zeek, mostLive, evictedSoFar: read!().evicted };
}

test('at the budget the least recently seen connection is evicted: its flow ends evicted, a later packet starts a new one', async () => {
  const bytes = budgetCapture();
  const free = await run(bytes);
  assert.equal(free.summary.flows, 17);
  assert.equal(free.findings.filter((f) => f.kind === 'connections_evicted').length, 0);
  assert.ok(free.ended.every((e) => e.endReason !== 'evicted'));

  const r = await run(bytes, 16);
  // 16 at once at most: 17's SYN made room by evicting 16/16 = 1 connection, the least recently seen (9);
  // 9's data after it made room again, evicting 10.
  assert.ok(r.mostLive <= 16, String(r.mostLive));
  const evicted = r.ended.filter((e) => e.endReason === 'evicted');
  assert.deepEqual(evicted.map((e) => e.client), ['10.0.0.9:40009', '10.0.0.10:40010']);
  // What --follow's census line says as it goes.
  assert.equal(r.evictedSoFar, 2);
  assert.equal(free.evictedSoFar, 0);
  // 9's data after it: a flow picked up mid-stream; every other connection as without a budget.
  const nine = r.ended.filter((e) => e.client === '10.0.0.9:40009');
  assert.equal(nine.length, 2);
  assert.equal(nine[1].midstream, true);
  assert.equal(r.summary.flows, 18);
  const rest = (list: Ended[]) => list.filter((e) => !/^10\.0\.0\.(9|10):/.test(e.client)).map((e) => `${e.client} ${e.endReason}`).sort();
  assert.deepEqual(rest(r.ended), rest(free.ended));
  // Zeek logs 9 at its eviction, and again for the packet after it.
  assert.equal(r.zeek.filter((z) => z.orig_h === '10.0.0.9').length, 2);
  // One finding says so, at the frame where the budget was reached (17's SYN, frame 3 * 16 + 8 + 1).
  const f = r.findings.filter((x) => x.kind === 'connections_evicted');
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'warning');
  assert.equal(f[0].packet, 57);
  assert.deepEqual({ evicted: f[0].details.evicted, open: f[0].details.open, max: f[0].details.max_connections }, { evicted: 2, open: 2, max: 16 });
  assert.ok(KINDS.connections_evicted !== undefined);
  // The summary's sockets at the end leave the evicted flows out (their sockets then are unknown): 10's two.
  assert.equal(r.summary.endStates.ESTABLISHED, free.summary.endStates.ESTABLISHED - 2);
});

test('a budget far below the live connections: never more followed at once, every flow still ended once', async () => {
  const dir = scratchDir('tcpstate-budget-');
  const file = join(dir, 'idle.pcap');
  writeIdle(file, 3000, 1);
  const bytes = new Uint8Array(readFileSync(file));
  const r = await run(bytes, 200);
  assert.ok(r.mostLive <= 200, String(r.mostLive));
  const evicted = r.ended.filter((e) => e.endReason === 'evicted').length;
  const f = r.findings.find((x) => x.kind === 'connections_evicted')!;
  assert.equal(f.details.open, evicted);
  assert.ok(evicted >= 3000 - 200, String(evicted));
  assert.equal(r.ended.length, r.summary.flows);
  // Every Zeek connection is logged once per flow (none lost at eviction).
  assert.equal(r.zeek.length, r.summary.flows);
});

/** Peak RSS (MB) of a process analysing `file` alone with the budget, nothing written. */
function peakMb(file: string, maxConnections: number | undefined): number {
  const pipeline = join(process.cwd(), 'dist', 'src', 'pipeline.js');
  const reader = join(process.cwd(), 'dist', 'src', 'reader', 'index.js');
  const script = `
    const { analyzeCapture } = await import(${JSON.stringify(pipeline)});
    const { openSource } = await import(${JSON.stringify(reader)});
    await analyzeCapture('idle', openSource(${JSON.stringify(file)}), { maxConnections: ${maxConnections ?? 'undefined'}, onFlowEnd: () => {}, onZeekConn: () => {} });
    process.stdout.write(String(process.resourceUsage().maxRSS));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout) / 1024;
}

test('memory follows the budget, not the connections open at once', () => {
  const dir = scratchDir('tcpstate-budget-');
  const file = join(dir, 'idle.pcap');
  // 120,000 connections that open and never close: about 1.8 KB each when all are followed.
  writeIdle(file, 120_000, 1);
  const all = peakMb(file, undefined);
  const capped = peakMb(file, 10_000);
  assert.ok(capped < all - 100, `${capped.toFixed(0)} MB with a budget of 10,000 connections, ${all.toFixed(0)} MB without`);
});

test('analyze --max-connections: the budget in meta, evicted flows and the finding in the database', () => {
  const dir = scratchDir('tcpstate-budget-');
  const file = join(dir, 'idle.pcap');
  writeIdle(file, 5000, 1);
  const capped = join(dir, 'capped.db');
  const r = spawnSync(process.execPath, [CLI, 'analyze', file, '--db', capped, '--max-connections', '1000'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /connections_evicted +1 +warning/);
  const db = new Database(capped, { readonly: true });
  try {
    assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'max_connections'").pluck().get(), '1000');
    const evicted = db.prepare("SELECT count(*) FROM flows WHERE end_reason = 'evicted'").pluck().get() as number;
    assert.ok(evicted >= 4000, String(evicted));
    const finding = db.prepare("SELECT message FROM anomalies WHERE kind = 'connections_evicted'").pluck().all() as string[];
    assert.equal(finding.length, 1);
    assert.match(finding[0], new RegExp(`^${evicted.toLocaleString('en-US')} connections were evicted to stay within the memory budget of 1,000 connections at once`));
  } finally {
    db.close();
  }
  // Without a budget given, the default is recorded.
  const free = join(dir, 'free.db');
  assert.equal(spawnSync(process.execPath, [CLI, 'analyze', file, '--db', free, '-q']).status, 0);
  const db2 = new Database(free, { readonly: true });
  try {
    assert.equal(db2.prepare("SELECT value FROM meta WHERE key = 'max_connections'").pluck().get(), '1000000');
    assert.equal(db2.prepare("SELECT count(*) FROM flows WHERE end_reason = 'evicted'").pluck().get(), 0);
  } finally {
    db2.close();
  }
});

test('an evicted connection counts in the census up to its last packet only: census, summary, the view and the report agree', () => {
  const dir = scratchDir('tcpstate-budget-');
  const file = join(dir, 'flood.db');
  const flood = join(process.cwd(), 'samples', 'kernel', 'syn-flood', 'syn-flood.pcap');
  const r = spawnSync(process.execPath, [CLI, 'analyze', flood, '--db', file, '--max-connections', '100', '-q'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const db = new Database(file, { readonly: true });
  try {
    const evicted = db.prepare("SELECT count(*) FROM flows WHERE end_reason = 'evicted'").pluck().get() as number;
    assert.ok(evicted > 100, String(evicted));
    const end = db.prepare('SELECT last_ts FROM captures').pluck().get() as number;
    // At the end: the view's sockets, the census's and the summary's are the same, evicted ones left out.
    const viewAtEnd = db.prepare("SELECT count(*) FROM state_intervals WHERE ? BETWEEN from_ts AND to_ts AND state NOT IN ('CLOSED', 'LISTEN')").pluck().get(end) as number;
    const stillOpen = db.prepare("SELECT count(*) FROM flows WHERE end_reason <> 'evicted' AND client_state NOT IN ('CLOSED', 'LISTEN')").pluck().get() as number;
    const serverOpen = db.prepare("SELECT count(*) FROM flows WHERE end_reason <> 'evicted' AND server_state NOT IN ('CLOSED', 'LISTEN')").pluck().get() as number;
    assert.equal(viewAtEnd, stillOpen + serverOpen);
    const census = spawnSync(process.execPath, [CLI, 'census', file, '--count'], { encoding: 'utf8' });
    assert.equal(census.status, 0, census.stderr);
    assert.match(census.stdout, new RegExp(`^Total: ${viewAtEnd.toLocaleString('en-US')} sockets`, 'm'));
    const summary = spawnSync(process.execPath, [CLI, 'summary', file], { encoding: 'utf8' });
    const counts = /sockets at the end: (.*)$/m.exec(summary.stdout)![1].split(', ').map((x) => Number(x.split(' ').pop()!.replace(/,/g, '')));
    assert.equal(counts.reduce((a, b) => a + b, 0), viewAtEnd);
    // Before its last packet an evicted connection counts: at its last packet, its states are the view's.
    const one = db.prepare("SELECT flow_index, last_ts FROM flows WHERE end_reason = 'evicted' ORDER BY flow_index LIMIT 1").get() as { flow_index: number; last_ts: number };
    const at = db.prepare('SELECT count(*) FROM state_intervals WHERE flow_index = ? AND ? BETWEEN from_ts AND to_ts').pluck().get(one.flow_index, one.last_ts) as number;
    assert.equal(at, 2);
    const after = db.prepare('SELECT count(*) FROM state_intervals WHERE flow_index = ? AND ? BETWEEN from_ts AND to_ts').pluck().get(one.flow_index, one.last_ts + 1) as number;
    assert.equal(after, 0);
    // The HTML report's intervals are worked out apart from the view: the same.
    const reader = TcpstateDb.open(file);
    try {
      const key = (x: unknown[]) => JSON.stringify(x);
      const view = (db.prepare("SELECT addr, state, from_ts, to_ts FROM state_intervals WHERE state NOT IN ('CLOSED', 'LISTEN') AND to_ts >= from_ts").raw().all() as unknown[][]).map(key).sort();
      assert.deepEqual([...reader.socketIntervals(1)].map(key).sort(), view);
    } finally {
      reader.close();
    }
  } finally {
    db.close();
  }
});

test('evicting a tuple whose old connection was set aside in TIME_WAIT beside a new SYN ends both, and frees the row', async () => {
  const cap = new Capture();
  let t = T0;
  const next = () => (t += 1000);
  const tuple: Addr = ['10.0.1.1', 50000];
  // Connection 1: the server closes first, so it holds TIME_WAIT; the client's new SYN on the same ports sets the old flow aside.
  cap.conn(tuple, SERVER).send('client', 'S', next()).send('server', 'SA', next()).send('client', 'A', next())
    .send('server', 'FA', next()).send('client', 'FA', next()).send('server', 'A', next());
  cap.conn(tuple, SERVER, 'a new connect()').send('client', 'S', next());
  // Then four other connections' SYNs with a budget of 3: the first tuple, least recently seen, goes.
  for (let c = 2; c <= 5; c++) cap.conn([`10.0.1.${c}`, 50000], SERVER).send('client', 'S', next());
  const bytes = cap.bytes();
  const free = await run(bytes);
  const one = (r: Awaited<ReturnType<typeof run>>) => r.ended.filter((e) => e.client === '10.0.1.1:50000').map((e) => e.endReason);
  // Without a budget: the set-aside flow ends when the capture does (TIME_WAIT still running; a flow
  // not set aside would have ended `reuse` at the SYN), the new one too.
  assert.deepEqual(one(free), ['end_of_capture', 'end_of_capture']);
  const r = await run(bytes, 3);
  assert.deepEqual(one(r), ['evicted', 'evicted']);
  assert.ok(r.mostLive <= 3, String(r.mostLive));
  assert.equal(r.ended.length, r.summary.flows);
});
