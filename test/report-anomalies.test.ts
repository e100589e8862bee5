/**
 * `tcpstate anomalies`: counts by kind equal the anomalies table's, --kind and --severity
 * keep exactly the rows they name, bad values are usage errors, and the JSON shape.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, tempDir } from './report-io.js';

interface AnomaliesJson {
  capture: string;
  filter: { kinds: string[]; severity: string };
  total: number;
  shown: number;
  kinds: Array<{ kind: string; count: number; severities: Record<string, number>; title: string | null }>;
  anomalies: Array<{
    id: number;
    ts: number;
    time: number;
    packet: number | null;
    flow_index: number | null;
    flow_id: number | null;
    client: string | null;
    server: string | null;
    side: string | null;
    kind: string;
    severity: string;
    message: string;
    details: Record<string, unknown>;
  }>;
}

const captures = ['samples/kernel/bulk-loss/bulk-loss.pcap', 'samples/kernel/abortive-close/abortive-close.pcap', 'samples/kernel/syn-flood/syn-flood.pcap'];
let db = '';

before(async () => {
  db = join(tempDir(), 'three.db');
  const r = await cli(['analyze', ...captures, '--db', db, '--quiet']);
  assert.equal(r.code, 0, r.err);
});

function table(sql: string, ...params: unknown[]): Array<Record<string, unknown>> {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all(...params) as Array<Record<string, unknown>>;
  } finally {
    d.close();
  }
}

async function report(...args: string[]): Promise<AnomaliesJson> {
  const r = await cli(['anomalies', db, ...args, '--json']);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as AnomaliesJson;
}

test('anomalies: every finding, counted by kind and severity exactly as the table holds them', async () => {
  const j = await report('--capture', 'bulk-loss.pcap');
  const rows = table("SELECT a.kind, a.severity, count(*) n FROM anomalies a JOIN captures c ON c.id = a.capture_id WHERE c.name LIKE '%bulk-loss.pcap' GROUP BY 1, 2");
  assert.equal(j.total, rows.reduce((n, r) => n + (r.n as number), 0));
  assert.equal(j.shown, j.total);
  assert.equal(j.anomalies.length, j.total);
  for (const r of rows) assert.equal(j.kinds.find((k) => k.kind === r.kind)?.severities[r.severity as string], r.n, `${r.kind} ${r.severity}`);
  // Most severe first, then by count.
  assert.deepEqual(j.kinds.map((k) => k.kind), ['out_of_order', 'duplicate_ack', 'retransmission', 'fast_retransmission', 'window_update']);
  assert.deepEqual(j.kinds[2], { kind: 'retransmission', count: 28, severities: { note: 28 }, title: 'Retransmission (Wireshark: TCP Retransmission)' });
  const first = j.anomalies[0];
  assert.deepEqual(Object.keys(first), ['id', 'ts', 'time', 'packet', 'flow_index', 'flow_id', 'client', 'server', 'side', 'kind', 'severity', 'message', 'details']);
  assert.equal(first.client, '192.0.2.1:40006');
  assert.equal(first.server, '192.0.2.2:9095');
  assert.ok(j.anomalies.every((a, i) => i === 0 || a.ts >= j.anomalies[i - 1].ts), 'in time order');
});

test('anomalies --kind keeps the kinds named, --severity that level and above', async () => {
  const retrans = await report('--capture', 'bulk-loss.pcap', '--kind', 'retransmission,fast_retransmission');
  assert.deepEqual(retrans.filter, { kinds: ['retransmission', 'fast_retransmission'], severity: 'info', scope: [], limit: null });
  assert.deepEqual(retrans.kinds.map((k) => [k.kind, k.count]), [
    ['retransmission', 28],
    ['fast_retransmission', 20],
  ]);
  assert.equal(retrans.shown, 48);
  assert.ok(retrans.total > 48);

  const warnings = await report('--capture', 'abortive-close.pcap', '--severity', 'warning');
  assert.deepEqual(new Set(warnings.anomalies.map((a) => a.severity)), new Set(['warning']));
  assert.deepEqual(warnings.kinds.map((k) => [k.kind, k.count]), [
    ['window_full', 19],
    ['zero_window', 10],
    ['connection_reset', 1],
  ]);
  const notes = await report('--capture', 'abortive-close.pcap', '--severity', 'note');
  assert.ok(notes.anomalies.every((a) => a.severity !== 'info'));
  assert.ok(notes.shown > warnings.shown);
  assert.equal((await report('--capture', 'abortive-close.pcap', '--severity', 'info')).shown, notes.total);

  const errors = await report('--capture', 'syn-flood.pcap', '--severity', 'error');
  assert.deepEqual(errors.kinds.map((k) => k.kind), ['syn_flood']);
  const flood = errors.anomalies[0];
  assert.equal(flood.flow_index, null, 'a host-level finding has no flow');
  assert.equal(flood.client, null);
  assert.equal((await report('--capture', 'syn-flood.pcap', '--kind', 'syn_flood', '--severity', 'warning')).shown, 1);
  assert.equal((await report('--capture', 'bulk-loss.pcap', '--kind', 'window_update', '--severity', 'note')).shown, 0);
});

test('anomalies as text: the kinds with counts, severity and title, then one row each', async () => {
  const r = await cli(['anomalies', db, '--capture', 'abortive-close.pcap', '--severity', 'warning']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.match(lines[0], /^Findings in .*abortive-close\.pcap: 30 of 41 findings \(severity warning and above\)$/);
  assert.match(r.out, /^kind +count +severity +what it is$/m);
  assert.match(r.out, /^window_full +19 +warning +Window full$/m);
  assert.match(r.out, /^connection_reset +1 +warning +Connection reset$/m);
  assert.match(r.out, /^ +time +frame +flow +client -> server +side +kind +message$/m);
  assert.match(r.out, /^0\.513450 +282 +1 +192\.0\.2\.1:40005 -> 192\.0\.2\.2:9094 +server +connection_reset +server 192\.0\.2\.2:9094 reset the connection in ESTABLISHED/m);
  assert.equal(lines.filter((l) => /^\d+\.\d{6} /.test(l)).length, 30);
  const none = await cli(['anomalies', 'samples/kernel/seeds-server-closes/seeds-server-closes.pcap']);
  assert.equal(none.code, 0, none.err);
  assert.match(none.out, /^Findings in .*seeds-server-closes\.pcap: 0 findings\n$/);
});

test('anomalies: an unknown kind or severity is exit 2 naming what is accepted; several captures need --capture', async () => {
  const kind = await cli(['anomalies', db, '--capture', 'bulk-loss.pcap', '--kind', 'retransmission,retransmissions']);
  assert.equal(kind.code, 2);
  assert.match(kind.err, /--kind: unknown kind "retransmissions" \(did you mean "retransmission"\?\); run `tcpstate explain` for the list/);
  const sev = await cli(['anomalies', db, '--capture', 'bulk-loss.pcap', '--severity', 'warn']);
  assert.equal(sev.code, 2);
  assert.match(sev.err, /--severity "warn": expected one of info < note < warning < error/);
  const which = await cli(['anomalies', db]);
  assert.equal(which.code, 2);
  assert.match(which.err, /holds 3 captures; pick one with --capture NAME/);
});
