/**
 * `tcpstate summary` prints what `analyze` printed, text and JSON, from the database alone;
 * `tcpstate export` writes Zeek's conn.log (read here as zeek-cut reads it, and its header laid
 * out as Zeek's own in ../shared/oracle/zeek), CSV (parsed back, RFC 4180) and NDJSON, each
 * row equal to the table's.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parseCsv } from '../src/report/export.js';
import { sharedDir } from './helpers.js';
import { rows } from './db-rows.js';
import { cli, tempDir } from './report-io.js';

const samples = [
  'samples/kernel/syn-flood/syn-flood.pcap',
  'samples/kernel/abortive-close/abortive-close.pcap',
  'samples/kernel/stuck-close-wait/stuck-close-wait.pcap',
  'samples/kernel/ipv6-seeds-server-closes/ipv6-seeds-server-closes.pcap',
];
let dir = '';
let db = '';


/** analyze's output without its last line, which says where it wrote (summary reads that database). */
const withoutWhere = (out: string) => out.replace(/written to [^\n]*\n$/, '');

before(async () => {
  dir = tempDir();
  db = join(dir, 'flood.db');
  assert.equal((await cli(['analyze', samples[1], '--db', db, '--quiet'])).code, 0);
});

test('summary DB prints what analyze printed, text and --json, for each capture', async () => {
  for (const capture of samples) {
    const file = join(dir, `${capture.split('/').pop()}.db`);
    const text = await cli(['analyze', capture, '--db', file]);
    const json = await cli(['analyze', capture, '--db', join(dir, 'again.db'), '--json']);
    assert.equal(text.code, 0, text.err);
    const again = await cli(['summary', file]);
    assert.equal(again.code, 0, again.err);
    assert.equal(again.out, withoutWhere(text.out), capture);
    const againJson = await cli(['summary', file, '--json']);
    assert.deepEqual(JSON.parse(againJson.out), JSON.parse(json.out), capture);
  }
});

test('summary of a database of several captures: each, as analyze printed them; --capture picks one', async () => {
  const two = join(dir, 'two.db');
  const analyzed = await cli(['analyze', samples[0], samples[2], '--db', two, '-j', '1']);
  assert.equal(analyzed.code, 0, analyzed.err);
  const all = await cli(['summary', two]);
  assert.equal(all.code, 0, all.err);
  assert.equal(all.out, withoutWhere(analyzed.out));
  assert.equal((JSON.parse((await cli(['summary', two, '--json'])).out) as unknown[]).length, 2);
  const r = await cli(['summary', two, '--capture', 'stuck-close-wait.pcap']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^samples\/kernel\/stuck-close-wait\/stuck-close-wait\.pcap {2}pcap, ETHERNET {2}complete$/m);
});

test('summary DB prints the warning lines analyze printed: a link type not decoded, protected 802.11 frames, checksums dropped; imported from workers too', async () => {
  const captures = ['samples/link/user0-ethernet.pcap', 'samples/link/wlan-protected.pcap'];
  for (const jobs of ['1', '2']) {
    const file = join(dir, `warnings-${jobs}.db`);
    const analyzed = await cli(['analyze', ...captures, '--db', file, '-j', jobs]);
    assert.equal(analyzed.code, 0, analyzed.err);
    const lines = analyzed.out.split('\n').filter((l) => l.includes('warning:'));
    assert.deepEqual(lines, [
      '  warning: link type LINKTYPE_147 (147) is not decoded: 13 packets skipped, any TCP they carry is not analysed',
      '  warning: 802.11: 13 protected (encrypted) data frames not decoded: any TCP they carry is not analysed',
    ]);
    const again = await cli(['summary', file]);
    assert.equal(again.out, withoutWhere(analyzed.out), `-j ${jobs}`);
    const json = JSON.parse((await cli(['summary', file, '--json'])).out) as Array<{ warnings: string[] }>;
    assert.deepEqual(json.map((s) => s.warnings), [[lines[0].replace('  warning: ', '')], [lines[1].replace('  warning: ', '')]]);
  }
  // A capture without warnings stores none (NULL), and its summary has no warning line.
  assert.deepEqual(rows(db, 'SELECT warnings FROM captures'), [{ warnings: null }]);
});

/** A conn.log read as zeek-cut reads it: the separator from #separator, columns by #fields, "-" unset. */
function zeekCut(text: string, ...want: string[]): Array<Array<string | null>> {
  const lines = text.split('\n');
  const sepLine = lines.find((l) => l.startsWith('#separator '))!;
  const sep = sepLine.slice('#separator '.length).replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const fields = lines.find((l) => l.startsWith(`#fields${sep}`))!.split(sep).slice(1);
  const unset = lines.find((l) => l.startsWith(`#unset_field${sep}`))!.split(sep)[1];
  const at = want.map((w) => fields.indexOf(w));
  assert.ok(at.every((i) => i >= 0), `fields ${want.join(' ')} in ${fields.join(' ')}`);
  return lines
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const cells = l.split(sep);
      assert.equal(cells.length, fields.length, l);
      return at.map((i) => (cells[i] === unset ? null : cells[i]));
    });
}

test('export --format zeek: zeek-cut reads it, and its rows are the zeek_conns table', async () => {
  const r = await cli(['export', db, '--format', 'zeek']);
  assert.equal(r.code, 0, r.err);
  const got = zeekCut(r.out, 'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'duration', 'orig_bytes', 'conn_state', 'history', 'orig_pkts', 'resp_ip_bytes', 'proto');
  const table = rows(db, 'SELECT * FROM zeek_conns ORDER BY ts, first_frame, orig_h, orig_p, resp_h, resp_p');
  assert.equal(got.length, table.length);
  assert.ok(table.length > 0);
  const sec = (us: number) => `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
  table.forEach((z, i) => {
    const [ts, uid, oh, op, rh, rp, duration, origBytes, state, history, pkts, ipBytes, proto] = got[i];
    assert.equal(ts, sec(Number(z.ts)));
    assert.match(uid!, /^C[0-9A-Za-z]{17}$/);
    assert.deepEqual([oh, Number(op), rh, Number(rp)], [z.orig_h, z.orig_p, z.resp_h, z.resp_p]);
    assert.equal(duration, Number(z.duration) === 0 ? null : sec(Number(z.duration)));
    assert.equal(origBytes, Number(z.duration) === 0 ? null : String(z.orig_bytes));
    assert.equal(state, z.conn_state);
    assert.equal(history ?? '', z.history);
    assert.equal(Number(pkts), z.orig_pkts);
    assert.equal(Number(ipBytes), z.resp_ip_bytes);
    assert.equal(proto, 'tcp');
  });
  // Stable: the same uids on every export.
  assert.equal((await cli(['export', db, '--format', 'zeek'])).out, r.out);
  assert.equal(new Set(got.map((g) => g[1])).size, got.length, 'uids are distinct');
  assert.match(r.out.trimEnd().split('\n').pop()!, /^#close\t\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
});

test('export --format zeek: the header lines are laid out as Zeek writes them', { skip: !existsSync(join(sharedDir(), 'oracle/zeek/expected/bigtransfer.conn.log')) }, async () => {
  const zeek = readFileSync(join(sharedDir(), 'oracle/zeek/expected/bigtransfer.conn.log'), 'utf8').split('\n').filter((l) => l.startsWith('#') && !l.startsWith('##'));
  const ours = (await cli(['export', db, '--format', 'zeek'])).out.split('\n').filter((l) => l.startsWith('#'));
  const key = (l: string) => l.split(/[\t ]/)[0];
  assert.deepEqual(ours.map(key), zeek.map(key));
  for (const k of ['#separator', '#set_separator', '#empty_field', '#unset_field', '#path', '#fields', '#types']) {
    assert.equal(ours.find((l) => key(l) === k), zeek.find((l) => key(l) === k), k);
  }
});

test('export --format csv: RFC 4180, read back it is the table, quotes and commas included', async () => {
  for (const table of ['flows', 'anomalies', 'transitions', 'zeek_conns'] as const) {
    const r = await cli(['export', db, '--format', 'csv', '--table', table]);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.endsWith('\r\n'));
    const [header, ...records] = parseCsv(r.out);
    const order = { flows: 'flow_index', anomalies: 'ts, id', transitions: 'flow_id, seq', zeek_conns: 'ts, first_frame, orig_h, orig_p, resp_h, resp_p' }[table];
    const want = rows(db, table === 'transitions' ? `SELECT f.capture_id, f.flow_index, t.* FROM transitions t JOIN flows f ON f.id = t.flow_id ORDER BY f.flow_index, t.seq` : `SELECT * FROM ${table} ORDER BY ${order}`);
    assert.deepEqual(header, Object.keys(want[0]));
    assert.equal(records.length, want.length, table);
    records.forEach((rec, i) => assert.deepEqual(rec, Object.values(want[i]).map((v) => (v === null ? '' : String(v))), `${table} row ${i}`));
  }
  const out = join(dir, 'anomalies.csv');
  const written = await cli(['export', db, '--format', 'csv', '--table', 'anomalies', '-o', out]);
  assert.equal(written.code, 0, written.err);
  assert.equal(written.out, '');
  const back = parseCsv(readFileSync(out, 'utf8'));
  assert.ok(back.some((rec) => rec.some((cell) => cell.includes('"') && cell.includes(','))), 'a details cell with quotes and commas came back whole');
});

test('export: a bad --format or --table is exit 2 naming what is accepted', async () => {
  for (const [argv, message] of [
    [['export', db, '--format', 'xml'], /"xml" is not one of zeek, csv, ndjson/],
    [['export', db, '--format', 'csv', '--table', 'packets'], /"packets" is not one of flows, transitions, anomalies, zeek_conns, conns/],
    [['export', db, '--format', 'zeek', '--table', 'anomalies'], /--format zeek writes Zeek's conn\.log, from the zeek_conns table/],
    [['export', db], /required option '--format <format>' not specified/],
  ] as Array<[string[], RegExp]>) {
    const r = await cli(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, message);
    assert.equal(r.out, '');
  }
});

test('export --format ndjson: one JSON object per line, equal to the row', async () => {
  const r = await cli(['export', db, '--format', 'ndjson', '--table', 'conns']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  const want = rows(db, 'SELECT * FROM flows ORDER BY flow_index');
  assert.equal(lines.length, want.length);
  lines.forEach((l, i) => assert.deepEqual(JSON.parse(l), want[i]));
});
