/**
 * Finding things after analyze (issue #22): `conns` (counts against direct SQL on the same
 * database, every filter and sort), `census` filters, counts-only mode and a spoofed flood's
 * sources, `anomalies` filters and fitting to a terminal's width, and bad option values.
 * The flood is a small capture built here: 300 SYNs from 300 addresses in 0.3 s to one listener,
 * beside two real connections.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { parseStates } from '../src/cli/options.js';
import { fitRow, wrap } from '../src/report/text.js';
import { repoRoot } from './helpers.js';
import { cli, tempDir } from './report-io.js';
import { ETHERTYPE, IPPROTO_TCP, LINKTYPE, TCP_FLAG, ethernet, ipv4, parseIPv4, parseMac, tcp, writePcap, type Frame } from './scenario/writer.js';

const captures = ['samples/kernel/syn-flood/syn-flood.pcap', 'samples/kernel/abortive-close/abortive-close.pcap'];
let db = '';
let spoofDb = '';

function sql<T = Record<string, unknown>>(file: string, query: string, ...params: unknown[]): T[] {
  const d = new Database(file, { readonly: true });
  try {
    return d.prepare(query).all(...params) as T[];
  } finally {
    d.close();
  }
}
const count = (file: string, query: string, ...params: unknown[]) => Number(Object.values(sql(file, query, ...params)[0])[0]);

/** 300 spoofed SYNs (none answered) at 192.0.2.80:80, a real client that stays connected, and one in TIME_WAIT. */
function spoofedFlood(): Uint8Array {
  const mac = parseMac('02:00:00:00:00:01');
  const server = parseIPv4('192.0.2.80');
  const frames: Frame[] = [];
  let t = 1_700_000_000_000_000n;
  const v4 = (src: Uint8Array, dst: Uint8Array, sport: number, dport: number, flags: number, seq: number, ack: number) =>
    frames.push({ tsNs: t * 1000n, bytes: ethernet(mac, mac, ETHERTYPE.IPV4, ipv4(src, dst, IPPROTO_TCP, tcp({ srcPort: sport, dstPort: dport, seq, ack, flags, window: 64240 }, src, dst), { ttl: 64, id: 1, df: true })) });
  const { SYN, ACK, FIN } = TCP_FLAG;
  const real = parseIPv4('198.51.100.7');
  v4(real, server, 40000, 80, SYN, 1000, 0);
  t += 100n;
  v4(server, real, 80, 40000, SYN | ACK, 5000, 1001);
  t += 100n;
  v4(real, server, 40000, 80, ACK, 1001, 5001);
  for (let i = 0; i < 300; i++) {
    t += 1000n;
    v4(parseIPv4(`10.1.${i >> 8}.${i & 255}`), server, 1024 + i, 80, SYN, i * 7919, 0);
  }
  // A second client closes first: TIME_WAIT on its side, its peer closed.
  const other = parseIPv4('198.51.100.8');
  t += 1000n;
  v4(other, server, 41000, 443, SYN, 1, 0);
  t += 100n;
  v4(server, other, 443, 41000, SYN | ACK, 9, 2);
  t += 100n;
  v4(other, server, 41000, 443, ACK, 2, 10);
  v4(other, server, 41000, 443, FIN | ACK, 2, 10);
  t += 100n;
  v4(server, other, 443, 41000, FIN | ACK, 10, 3);
  v4(other, server, 41000, 443, ACK, 3, 11);
  return writePcap({ endian: 'le', precision: 'us', linkType: LINKTYPE.ETHERNET, snaplen: 65535 }, frames);
}

before(async () => {
  const dir = tempDir();
  db = join(dir, 'two.db');
  assert.equal((await cli(['analyze', captures[0], '--db', db, '--quiet'])).code, 0);
  const flood = join(dir, 'spoofed.pcap');
  writeFileSync(flood, spoofedFlood());
  spoofDb = join(dir, 'spoofed.db');
  const r = await cli(['analyze', flood, '--db', spoofDb, '--quiet']);
  assert.equal(r.code, 0, r.err);
});

interface Conn {
  flow_index: number;
  client: string;
  server: string;
  first_ts: number;
  last_ts: number;
  client_bytes: number;
  server_bytes: number;
  client_packets: number;
  server_packets: number;
  client_state: string;
  server_state: string;
  end_reason: string;
  conn_state: string | null;
  findings: number;
}

async function conns(...args: string[]): Promise<Conn[]> {
  const r = await cli(['conns', db, '--json', ...args]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Conn[];
}

test('conns: one row per flow, as the flows table holds them, with its findings counted', async () => {
  const all = await conns();
  const rows = sql<{ flow_index: number; client_state: string; n: number }>(
    db,
    'SELECT f.flow_index, f.client_state, (SELECT count(*) FROM anomalies a WHERE a.flow_id = f.id) AS n FROM flows f ORDER BY f.flow_index',
  );
  assert.equal(all.length, rows.length);
  assert.ok(all.length > 400);
  assert.deepEqual(
    all.map((c) => [c.flow_index, c.client_state, c.findings]),
    rows.map((r) => [r.flow_index, r.client_state, r.n]),
  );
  assert.ok(all.some((c) => c.findings > 0));
});

test('conns filters: each keeps exactly the rows the same condition selects in SQL', async () => {
  assert.equal((await conns('--port', '9096')).length, count(db, 'SELECT count(*) FROM flows WHERE client_port = 9096 OR server_port = 9096'));
  assert.equal((await conns('--host', '192.0.2.130')).length, count(db, "SELECT count(*) FROM flows WHERE client_addr = '192.0.2.130' OR server_addr = '192.0.2.130'"));
  const recv = await conns('--state', 'syn-recv');
  assert.equal(recv.length, count(db, "SELECT count(*) FROM flows WHERE client_state = 'SYN_RECEIVED' OR server_state = 'SYN_RECEIVED'"));
  assert.ok(recv.length > 0 && recv.every((c) => c.client_state === 'SYN_RECEIVED' || c.server_state === 'SYN_RECEIVED'));
  // ss's words, ss's printed names and RFC names name the same state; repeated --state is a union.
  assert.equal((await conns('--state', 'SYN-RECV')).length, recv.length);
  assert.equal((await conns('--state', 'SYN_RECEIVED')).length, recv.length);
  assert.equal(
    (await conns('--state', 'syn-recv', '--state', 'time-wait')).length,
    count(db, "SELECT count(*) FROM flows WHERE client_state IN ('SYN_RECEIVED', 'TIME_WAIT') OR server_state IN ('SYN_RECEIVED', 'TIME_WAIT')"),
  );
  assert.equal((await conns('--reason', 'end_of_capture')).length, count(db, "SELECT count(*) FROM flows WHERE end_reason = 'end_of_capture'"));
  const retrans = await conns('--kind', 'retransmission');
  assert.equal(retrans.length, count(db, "SELECT count(DISTINCT flow_id) FROM anomalies WHERE kind = 'retransmission'"));
  assert.ok(retrans.length > 0);
  // A window: connections overlapping it.
  const [{ first_ts: t0 }] = sql<{ first_ts: number }>(db, 'SELECT first_ts FROM captures');
  const since = t0 + 500_000;
  const until = t0 + 1_000_000;
  const window = await conns('--since', '+0.5', '--until', '+1');
  assert.equal(window.length, count(db, 'SELECT count(*) FROM flows WHERE last_ts >= ? AND first_ts <= ?', since, until));
  assert.ok(window.length > 0 && window.length < (await conns()).length);
  // Filters combine.
  assert.equal(
    (await conns('--port', '9096', '--state', 'syn-recv', '--kind', 'retransmission')).length,
    count(db, "SELECT count(*) FROM flows f WHERE (client_port = 9096 OR server_port = 9096) AND (client_state = 'SYN_RECEIVED' OR server_state = 'SYN_RECEIVED') AND id IN (SELECT flow_id FROM anomalies WHERE kind = 'retransmission')"),
  );
});

test('conns --sort and --limit: largest first, at most N, and the footer says how many there were', async () => {
  for (const [key, value] of [
    ['bytes', (c: Conn) => c.client_bytes + c.server_bytes],
    ['packets', (c: Conn) => c.client_packets + c.server_packets],
    ['duration', (c: Conn) => c.last_ts - c.first_ts],
    ['findings', (c: Conn) => c.findings],
  ] as const) {
    const rows = await conns('--sort', key);
    for (let i = 1; i < rows.length; i++) assert.ok(value(rows[i - 1]) >= value(rows[i]), `${key} row ${i}`);
  }
  const time = await conns('--sort', 'time');
  for (let i = 1; i < time.length; i++) assert.ok(time[i - 1].flow_index < time[i].flow_index);
  const top = await conns('--sort', 'findings', '--limit', '5');
  assert.equal(top.length, 5);
  const text = await cli(['conns', db, '--sort', 'findings', '--limit', '5']);
  const total = count(db, 'SELECT count(*) FROM flows');
  assert.match(text.out, new RegExp(`^5 of ${total.toLocaleString('en-US')} connections \\(--limit 5\\)$`, 'm'));
});

test('conns text: one line per connection with ss state names, Zeek state and findings', async () => {
  const r = await cli(['conns', db, '--state', 'time-wait']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.match(lines[0], /^Connections in samples\/kernel\/syn-flood\/syn-flood\.pcap$/);
  const header = lines.findIndex((l) => /^ *flow +start +duration +client +server +pkts> +bytes> +pkts< +bytes< +client st +server st +end +zeek +findings +history$/.test(l));
  assert.ok(header > 0, r.out);
  const rows = lines.slice(header + 1).filter((l) => /^ *\d+ /.test(l) && !/connections/.test(l));
  assert.equal(rows.length, count(db, "SELECT count(*) FROM flows WHERE client_state = 'TIME_WAIT' OR server_state = 'TIME_WAIT'"));
  for (const row of rows) assert.match(row, /TIME-WAIT/);
  assert.doesNotMatch(r.out, /TIME_WAIT/);
  assert.match(r.out, /^3 connections matching the filters$/m);
  const none = await cli(['conns', db, '--host', '10.9.9.9']);
  assert.equal(none.code, 0);
  assert.match(none.out, /: none match$/m);
});

test('conns, census, anomalies: bad option values are exit 2 with the value and what is expected', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['conns', db, '--port', '70000'], /"70000" is not a port number/],
    [['conns', db, '--state', 'half-open'], /"half-open" is not a TCP state \(ss's names: .*ESTAB/],
    [['conns', db, '--sort', 'size'], /"size" is not one of time, bytes, packets, duration, findings/],
    [['conns', db, '--limit', '0'], /"0" is not a whole number of at least 1/],
    [['conns', db, '--since', 'noon'], /--since.*expected an ISO time/],
    [['conns', db, '--reason', 'crashed'], /"crashed" is not one of closed, reset, timeout, reuse, end_of_capture/],
    [['conns', db, '--host', 'example.com'], /"example\.com" is not an IPv4 or IPv6 address/],
    [['conns', db, '--kind', 'nope'], /unknown kind "nope"/],
    [['census', db, '--state', 'open'], /"open" is not a TCP state/],
    [['census', db, '--port', 'http'], /"http" is not a port number/],
    [['anomalies', db, '--flow', 'x'], /"x" is not a whole number/],
    [['anomalies', db, '--flow', '99999'], /has no flow 99999: its flows are 1 to \d+/],
    [['anomalies', db, '--until', '5pm'], /--until.*expected an ISO time/],
  ];
  for (const [argv, message] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, message, argv.join(' '));
    assert.equal(r.out, '', argv.join(' '));
  }
});

test('parseStates: ss words, ss names, RFC names and ss groups, without duplicates', () => {
  assert.deepEqual(parseStates('established'), ['ESTABLISHED']);
  assert.deepEqual(parseStates('ESTAB,close-wait', ['ESTABLISHED']), ['ESTABLISHED', 'CLOSE_WAIT']);
  assert.deepEqual(parseStates('bucket'), ['SYN_RECEIVED', 'TIME_WAIT']);
  assert.deepEqual(parseStates('listening'), ['LISTEN']);
  assert.equal(parseStates('connected').length, 9);
});

interface CensusJson {
  counts: Record<string, number>;
  filters: string[];
  flood_sources: Array<{ listener: string; addresses: number; sockets: number }>;
  hosts: Array<{ host: string; counts: Record<string, number>; sockets: unknown; listeners: unknown[] }>;
}

test('census --state/--port/--host keep the sockets ss would show with the same filter', async () => {
  const r = await cli(['census', db, '--state', 'syn-recv', '--port', '9096', '--json']);
  assert.equal(r.code, 0, r.err);
  const c = JSON.parse(r.out) as CensusJson;
  assert.deepEqual(c.counts, { 'SYN-RECV': count(db, "SELECT count(*) FROM flows WHERE server_state = 'SYN_RECEIVED' AND server_port = 9096") + count(db, "SELECT count(*) FROM flows WHERE client_state = 'SYN_RECEIVED' AND client_port = 9096") });
  assert.deepEqual(c.filters, ['port 9096', 'state SYN-RECV']);
  assert.ok(c.hosts.every((h) => h.listeners.length === 0), 'LISTEN not asked for: no listeners');
  const t = await cli(['census', db, '--state', 'CLOSE_WAIT']);
  assert.match(t.out, /^Total: 0 sockets on 0 hosts$/m);
  const sent = JSON.parse((await cli(['census', db, '--host', '192.0.2.130', '--json'])).out) as CensusJson;
  assert.deepEqual(sent.hosts.map((h) => h.host), ['192.0.2.130']);
  assert.deepEqual(sent.counts, { 'SYN-SENT': count(db, "SELECT count(*) FROM flows WHERE client_addr = '192.0.2.130' AND client_state = 'SYN_SENT'") });
});

test('census --count: per host its sockets by state and the total, no socket rows (as ss -s)', async () => {
  const full = await cli(['census', db]);
  const r = await cli(['census', db, '--count']);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.out, /Local Address:Port/);
  assert.match(r.out, /^192\.0\.2\.2: +132 sockets \(SYN-RECV 129, TIME-WAIT 3\), 1 listener inferred$/m);
  const total = /^Total: .*$/m.exec(full.out)![0];
  assert.match(r.out, new RegExp(`^${total.replace(/[().]/g, '\\$&')}$`, 'm'));
  const js = JSON.parse((await cli(['census', db, '-s', '--json'])).out) as CensusJson;
  assert.equal(js.hosts.find((h) => h.host === '192.0.2.2')!.sockets, 132);
  // Counted without listing, host by host, as the full census lists them.
  const all = JSON.parse((await cli(['census', db, '--json'])).out) as { counts: unknown; hosts: Array<{ host: string; counts: unknown; sockets: unknown[] }> };
  const counted = JSON.parse((await cli(['census', db, '--count', '--json'])).out) as { counts: unknown; hosts: Array<{ host: string; counts: unknown; sockets: number }> };
  assert.deepEqual(counted.counts, all.counts);
  assert.deepEqual(counted.hosts.map((h) => [h.host, h.counts, h.sockets]), all.hosts.map((h) => [h.host, h.counts, h.sockets.length]));
});

test('census: a spoofed flood\'s sources are grouped, not counted as hosts with sockets', async () => {
  const floods = sql<{ details: string }>(spoofDb, "SELECT details FROM anomalies WHERE kind = 'syn_flood'");
  assert.equal(floods.length, 1);
  const r = await cli(['census', spoofDb]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^SYN flood on 192\.0\.2\.80:80: 300 SYN-SENT attempts from 300 source addresses left out: the sources of a flood are usually spoofed/m);
  // The real hosts: the client still connected, the server with its socket, the client in TIME-WAIT.
  assert.match(r.out, /^Total: 3 sockets \(ESTAB 2, TIME-WAIT 1\) on 3 hosts$/m);
  assert.doesNotMatch(r.out, /^10\.1\./m);
  const js = JSON.parse((await cli(['census', spoofDb, '--json'])).out) as CensusJson;
  assert.deepEqual(js.flood_sources, [{ listener: '192.0.2.80:80', addresses: 300, sockets: 300 }]);
  // Asked for by name, a source's socket is shown.
  const one = await cli(['census', spoofDb, '--host', '10.1.0.5']);
  assert.match(one.out, /^SYN-SENT +10\.1\.0\.5:1029 +192\.0\.2\.80:80$/m);
});

test('anomalies --host, --flow, --since/--until, --limit: the rows SQL selects, counts by kind of all kept', async () => {
  const a = async (...args: string[]) => {
    const r = await cli(['anomalies', db, '--json', ...args]);
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out) as { total: number; kept: number; shown: number; kinds: Array<{ kind: string; count: number }>; anomalies: Array<{ flow_index: number | null; ts: number; kind: string }> };
  };
  const host = await a('--host', '192.0.2.130');
  const expected =
    count(db, "SELECT count(*) FROM anomalies a JOIN flows f ON f.id = a.flow_id WHERE f.client_addr = '192.0.2.130' OR f.server_addr = '192.0.2.130'");
  assert.equal(host.kept, expected);
  assert.ok(expected > 0);
  // The listener's host also gets the host-level flood finding (it names 192.0.2.2:9096).
  const server = await a('--host', '192.0.2.2', '--kind', 'syn_flood');
  assert.equal(server.kept, 1);
  const flow = await a('--flow', '2');
  assert.equal(flow.kept, count(db, 'SELECT count(*) FROM anomalies WHERE flow_index = 2'));
  assert.ok(flow.anomalies.every((x) => x.flow_index === 2));
  const [{ first_ts: t0 }] = sql<{ first_ts: number }>(db, 'SELECT first_ts FROM captures');
  const win = await a('--since', '+1', '--until', '+2');
  assert.equal(win.kept, count(db, 'SELECT count(*) FROM anomalies WHERE ts BETWEEN ? AND ?', t0 + 1_000_000, t0 + 2_000_000));
  assert.ok(win.anomalies.every((x) => x.ts >= t0 + 1_000_000 && x.ts <= t0 + 2_000_000));
  const limited = await a('--limit', '7');
  assert.equal(limited.shown, 7);
  assert.equal(limited.kept, limited.total);
  assert.equal(limited.kinds.reduce((n, k) => n + k.count, 0), limited.total, 'counts by kind are of every finding kept');
  const text = await cli(['anomalies', db, '--limit', '7']);
  assert.match(text.out, new RegExp(`^7 of ${limited.total} shown \\(--limit 7\\)$`, 'm'));
});

test('anomalies on a terminal: every line fits 80 columns, broken at blanks only; a pipe gets full lines', async () => {
  const abort = join(tempDir(), 'abort.db');
  assert.equal((await cli(['analyze', captures[1], '--db', abort, '--quiet'])).code, 0);
  const piped = await cli(['anomalies', abort, '--kind', 'connection_reset']);
  const long = piped.out.split('\n').find((l) => l.includes('reset the connection'))!;
  assert.ok(long.length > 200, 'the pipe gets the message on its row');
  const tty = await cli(['anomalies', abort, '--kind', 'connection_reset'], { tty: true, env: { COLUMNS: '80', NO_COLOR: '1' } });
  const lines = tty.out.split('\n');
  for (const l of lines) assert.ok(l.length <= 80, `${l.length}: ${l}`);
  // Nothing cut: the words of the message are all there, in order, none split.
  const words = (s: string) => s.split(/\s+/).filter(Boolean);
  assert.deepEqual(words(tty.out), words(piped.out));
  // The message's continuation lines are indented.
  const at = lines.findIndex((l) => /server 192\.0\.2\.2:9094 reset/.test(l));
  assert.ok(at > 0 && /^ {4}\S/.test(lines[at + 1]), tty.out);
});

test('wrap and fitRow: no line wider than asked unless one word is, words never split, hanging indent', () => {
  const text = 'the quick brown fox jumps over the lazy dog '.repeat(5).trim();
  for (const width of [30, 33, 80]) {
    const lines = wrap(text, width, 4);
    for (const l of lines) assert.ok(l.length <= width, `${width}: "${l}"`);
    assert.deepEqual(lines.join(' ').split(/\s+/).filter(Boolean), text.split(' '));
    for (const l of lines.slice(1)) assert.match(l, /^ {4}\S/);
  }
  const long = 'x'.repeat(50);
  assert.deepEqual(wrap(`a ${long} b`, 30, 2), ['a', `  ${long}`, '  b']);
  const prefix = '0.1  12  3  client -> server  ';
  const row = fitRow(prefix, 'one two three four five six seven eight nine ten eleven twelve', 60);
  assert.ok(row.length > 1 && row[0].startsWith(prefix + 'one'));
  for (const l of row) assert.ok(l.length <= 60);
  for (const l of row.slice(1)) assert.match(l, new RegExp(`^ {${prefix.length}}\\S`));
});

test('report commands read tcpstate.db in the working directory when given no input; flow N out of range says how many', async () => {
  const dir = tempDir();
  const none = await cli(['conns'], { cwd: dir });
  assert.equal(none.code, 2);
  assert.match(none.err, /no database or capture given, and no tcpstate\.db here \(tcpstate analyze CAPTURE writes one\)/);
  assert.equal((await cli(['analyze', join(repoRoot, captures[0]), '-q'], { cwd: dir })).code, 0);
  for (const argv of [['conns', '--limit', '1'], ['census', '--count'], ['anomalies', '--limit', '1'], ['summary'], ['export', '--format', 'csv']]) {
    const r = await cli(argv, { cwd: dir });
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
    assert.ok(r.out.length > 0);
  }
  const flow = await cli(['flow', join(dir, 'tcpstate.db'), '999']);
  assert.equal(flow.code, 2);
  assert.match(flow.err, /has no flow 999: its flows are 1 to 483 \(tcpstate conns lists them\)/);
});

test('explain: the list in two aligned columns; a near miss of a kind gets a "did you mean"', async () => {
  const list = await cli(['explain']);
  const starts = new Set(list.out.trimEnd().split('\n').map((l) => /^\S+ +/.exec(l)![0].length));
  assert.equal(starts.size, 1, 'every title starts in the same column');
  const typo = await cli(['explain', 'syn_flod']);
  assert.equal(typo.code, 2);
  assert.match(typo.err, /unknown kind "syn_flod" \(did you mean "syn_flood"\?\)/);
  assert.match((await cli(['conns', db, '--kind', 'retransmision'])).err, /unknown kind "retransmision" \(did you mean "retransmission"\?\)/);
  assert.doesNotMatch((await cli(['explain', 'nope'])).err, /did you mean/);
});
