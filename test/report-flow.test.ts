/**
 * `tcpstate flow`: the seeds' story as a ladder, with each transition at the packet
 * that caused it in the order the seeds tell it; the packets and their numbers are
 * tshark's; findings are marked on their packets; the flow is picked by index or tuple.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { readTsv, repoRoot } from './helpers.js';
import { bulkLoss, cli, kernelSamples, seeds, tempDir } from './report-io.js';

interface LadderJson {
  capture: string;
  flow: { id: number; flow_index: number; client: string; server: string; first_packet: number; last_packet: number };
  relative: boolean;
  rows: Array<{
    frame: number | null;
    time: number;
    dir: string | null;
    flags: string | null;
    seq: number | null;
    ack: number | null;
    len: number | null;
    win: number | null;
    client_state: string;
    server_state: string;
    transitions: Array<{ side: string; from: string | null; to: string; cause: string; inferred: boolean }>;
    anomalies: string[];
  }>;
  findings: Array<{ kind: string; severity: string; packet: number | null; message: string }>;
}

async function ladder(args: string[]): Promise<LadderJson> {
  const r = await cli(['flow', ...args, '--json']);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as LadderJson;
}

test('the seeds\' story: every transition at its packet, in the order the seeds tell it', async () => {
  const l = await ladder([seeds, '1']);
  assert.equal(l.flow.client, '192.0.2.1:40001');
  assert.equal(l.flow.server, '192.0.2.2:9090');
  const story = l.rows.flatMap((r) => r.transitions.filter((t) => !t.inferred).map((t) => `${r.frame} ${t.side} ${t.to}`));
  assert.deepEqual(story, [
    '3 client SYN_SENT', // the client sends SYN
    '3 server SYN_RECEIVED', // the server receives it (and answers)
    '4 client ESTABLISHED', // the SYN-ACK
    '5 server ESTABLISHED', // the client's ACK
    '10 server FIN_WAIT_1', // the server closes first
    '10 client CLOSE_WAIT',
    '11 server FIN_WAIT_2', // the client ACKs the FIN
    '12 client LAST_ACK', // the client closes too
    '12 server TIME_WAIT',
    '13 client CLOSED', // the last ACK
  ]);
  // The rows carry the states after each packet, and the segments as Wireshark shows them.
  const row = (frame: number) => l.rows.find((r) => r.frame === frame)!;
  assert.deepEqual(
    l.rows.map((r) => `${r.frame} ${r.dir} ${r.flags} ${r.client_state} ${r.server_state}`),
    [
      '3 -> S SYN_SENT SYN_RECEIVED',
      '4 <- SA ESTABLISHED SYN_RECEIVED',
      '5 -> A ESTABLISHED ESTABLISHED',
      '6 <- PA ESTABLISHED ESTABLISHED',
      '7 -> A ESTABLISHED ESTABLISHED',
      '8 -> PA ESTABLISHED ESTABLISHED',
      '9 <- A ESTABLISHED ESTABLISHED',
      '10 <- FA CLOSE_WAIT FIN_WAIT_1',
      '11 -> A CLOSE_WAIT FIN_WAIT_2',
      '12 -> FA LAST_ACK TIME_WAIT',
      '13 <- A CLOSED TIME_WAIT',
    ],
  );
  assert.deepEqual([row(3).seq, row(3).ack, row(3).win], [0, null, 64240]);
  assert.deepEqual([row(6).seq, row(6).ack, row(6).len, row(6).win], [1, 1, 6, 65536]); // "Hello\n", 64 << 10
  assert.deepEqual([row(12).seq, row(12).ack], [5, 8]);
  assert.equal(row(13).time, 0.912896);
  const listen = row(3).transitions.find((t) => t.to === 'LISTEN')!;
  assert.equal(listen.inferred, true);
  assert.deepEqual(l.findings, []);
});

test('the ladder as text: one line per packet, state changes marked and spelled out under it', async () => {
  const r = await cli(['flow', seeds, '1']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.match(lines[0], /^Flow 1 of .*seeds-server-closes\.pcap: 192\.0\.2\.1:40001 \(client\) -> 192\.0\.2\.2:9090 \(server\)$/);
  assert.match(r.out, /^frame +time +client +flags +seq +ack +len +win +server$/m);
  // ss's names in the text (the JSON keeps RFC 793's).
  assert.doesNotMatch(r.out, /SYN_SENT|ESTABLISHED|TIME_WAIT/);
  assert.match(r.out, /^ +3 +0\.000000 +SYN-SENT\* +-> +S +0 +0 +64240 +SYN-RECV\*$/m);
  assert.match(r.out, /^ +10 +0\.605652 +CLOSE-WAIT\* +<- +FA +7 +5 +0 +65536 +FIN-WAIT-1\*$/m);
  assert.match(r.out, /^ +\^ server ESTAB -> FIN-WAIT-1: sent FIN \(active close\)$/m);
  assert.match(r.out, /^ +\^ client LAST-ACK -> CLOSED: received ACK of its FIN$/m);
  assert.match(r.out, /^ +7 +0\.205074 +ESTAB +-> +A +1 +7 +0 +64512 +ESTAB$/m, 'no change: no mark');
  assert.doesNotMatch(r.out, /\x1b\[/);
  const tty = await cli(['flow', seeds, '1'], { tty: true, env: { FORCE_COLOR: '1' } });
  assert.match(tty.out, /\x1b\[1m +3 +/, 'a line with a change is bold on a terminal');
  assert.doesNotMatch((await cli(['flow', seeds, '1', '--no-color'], { tty: true, env: { FORCE_COLOR: '1' } })).out, /\x1b\[/);
});

test('the same flow by its 4-tuple, either way round, and raw numbers with --raw', async () => {
  const a = await ladder([seeds, '192.0.2.1:40001-192.0.2.2:9090']);
  const b = await ladder([seeds, '192.0.2.2:9090-192.0.2.1:40001']);
  assert.equal(a.flow.flow_index, 1);
  assert.deepEqual(a.rows, b.rows);
  const raw = await ladder([seeds, '1', '--raw']);
  assert.equal(raw.relative, false);
  assert.deepEqual([raw.rows[0].seq, raw.rows[1].seq, raw.rows[1].ack], [712509813, 1014884872, 712509814]);
  const v6 = await ladder(['samples/kernel/ipv6-seeds-server-closes/ipv6-seeds-server-closes.pcap', '[2001:db8::1]:40011-[2001:db8::2]:9090']);
  assert.equal(v6.flow.server, '[2001:db8::2]:9090');
  assert.equal(v6.rows.at(-1)!.client_state, 'CLOSED');
});

for (const s of kernelSamples.filter((x) => ['bulk-loss', 'abortive-close', 'zero-window', 'keepalive', 'sll2-any'].includes(x.name))) {
  test(`ladder of ${s.name} flow 1: the packets, raw numbers, lengths and scaled windows are tshark's`, async () => {
    const golden = readTsv(join(repoRoot, 'samples', 'kernel', s.name, 'tshark.tsv')).filter((g) => g['tcp.stream'] === '0');
    const l = await ladder([s.capture, '1', '--raw']);
    const rows = l.rows.filter((r) => r.frame !== null);
    assert.deepEqual(rows.map((r) => r.frame), golden.map((g) => Number(g['frame.number'])));
    rows.forEach((r, i) => {
      const g = golden[i];
      const scale = Number(g['tcp.window_size_scalefactor'] || '1');
      const ackFlag = (parseInt(g['tcp.flags'], 16) & 0x10) !== 0;
      assert.deepEqual(
        [r.seq, r.ack, r.len, r.win],
        [Number(g['tcp.seq_raw']), ackFlag ? Number(g['tcp.ack_raw']) : null, Number(g['tcp.len']), Number(g['tcp.window_size_value']) * (scale > 0 ? scale : 1)],
        `frame ${r.frame}`,
      );
    });
  });
}

let db = '';
before(async () => {
  db = join(tempDir(), 'bulk.db');
  const r = await cli(['analyze', bulkLoss, '--db', db, '--quiet']);
  assert.equal(r.code, 0, r.err);
});

test('every finding of the flow is marked on its packet (a fast retransmission not also as a plain one)', async () => {
  const l = await ladder([db, '1']);
  const d = new Database(db, { readonly: true });
  const rows = d.prepare('SELECT packet, kind FROM anomalies WHERE flow_index = 1 ORDER BY packet').all() as Array<{ packet: number; kind: string }>;
  d.close();
  assert.ok(rows.length > 100);
  const marked = new Map(l.rows.map((r) => [r.frame, r.anomalies]));
  for (const a of rows) {
    const kinds = marked.get(a.packet) ?? [];
    if (a.kind === 'retransmission' && (kinds.includes('fast_retransmission') || kinds.includes('spurious_retransmission'))) continue;
    assert.ok(kinds.includes(a.kind), `frame ${a.packet} ${a.kind}`);
  }
  const total = l.rows.reduce((n, r) => n + r.anomalies.length, 0);
  const plainOfFast = rows.filter((a) => a.kind === 'retransmission' && marked.get(a.packet)!.some((k) => k !== 'retransmission' && k.endsWith('retransmission'))).length;
  assert.equal(total, rows.length - plainOfFast);
  const text = (await cli(['flow', db, '1'])).out;
  assert.match(text, /^ +\d+ .* \[fast_retransmission\]$/m);
  assert.match(text, /^ +\d+ .* \[duplicate_ack\]$/m);
});

test('the ladder shows the states analyze recorded, with its thresholds: a TIME_WAIT expiry is a (timer) line', async () => {
  const short = join(tempDir(), 'short.db');
  assert.equal((await cli(['analyze', seeds, '--time-wait', '10us', '--db', short, '--quiet'])).code, 0);
  const l = await ladder([short, '1']);
  const timer = l.rows.findIndex((r) => r.frame === null);
  assert.deepEqual([l.rows[timer - 1].frame, l.rows[timer + 1].frame], [12, 13]);
  assert.deepEqual(l.rows[timer].transitions.map((t) => `${t.side} ${t.from} -> ${t.to}: ${t.cause}`), ['server TIME_WAIT -> CLOSED: TIME_WAIT expired (0.00001 s)']);
  assert.deepEqual([l.rows[timer].client_state, l.rows[timer].server_state, l.rows[timer].dir], ['LAST_ACK', 'CLOSED', null]);
  const text = (await cli(['flow', short, '1'])).out;
  assert.match(text, /^ +0\.912883 +LAST-ACK +\(timer\) +CLOSED\*$/m);
});

test('connection findings are listed under the ladder with their message', async () => {
  const l = await ladder(['samples/kernel/refused/refused.pcap', '1']);
  assert.deepEqual(l.rows.map((r) => `${r.frame} ${r.flags} ${r.client_state} ${r.server_state} ${r.anomalies.join(',')}`), [
    `${l.rows[0].frame} S SYN_SENT CLOSED `,
    `${l.rows[1].frame} RA CLOSED CLOSED connection_refused`,
  ]);
  assert.equal(l.findings.length, 1);
  assert.match(l.findings[0].message, /refused: RST answered the SYN/);
});

test('flow: bad selectors and unknown flows are usage errors; a capture read from stdin cannot be read again', async () => {
  for (const [sel, re] of [
    ['99', /has no flow 99/],
    ['0', /has no flow 0/],
    ['abc', /expected a flow_index \(1, 2\.\.\.\) or addr:port-addr:port/],
    ['192.0.2.1:40001', /expected a flow_index/],
    ['192.0.2.1:40001-192.0.2.9:9090', /has no connection between 192\.0\.2\.1:40001 and 192\.0\.2\.9:9090/],
  ] as const) {
    const r = await cli(['flow', db, sel]);
    assert.equal(r.code, 2, sel);
    assert.match(r.err, re, sel);
  }
  const dash = await cli(['flow', '-', '1']);
  assert.equal(dash.code, 2);
  assert.match(dash.err, /reads the capture a second time, which standard input cannot give/);
  const stdinDb = join(tempDir(), 'stdin.db');
  const a = await cli(['analyze', '-', '--db', stdinDb, '--quiet'], { stdin: createReadStream(join(repoRoot, seeds)) });
  assert.equal(a.code, 0, a.err);
  const r = await cli(['flow', stdinDb, '1']);
  assert.equal(r.code, 2);
  assert.match(r.err, /was read from standard input and cannot be read again; save the capture to a file/);
});

test('flow reads the capture again without analysing it: the frames of the flow only, a SYN whose first fragment came a frame earlier included, and no packet past the last frame', async () => {
  for (const v of ['v4', 'v6']) {
    const capture = `test/golden/frag-scenarios/frag-${v}-syn-header-split.pcap`;
    const r = await cli(['flow', capture, '1', '--json']);
    assert.equal(r.code, 0, r.err);
    const l = JSON.parse(r.out) as { flow: { first_packet: number; last_packet: number }; rows: Array<{ frame: number; flags: string }> };
    // Frame 1 is the SYN's first fragment: the SYN is decoded at frame 2, which completes it, as the analysis did.
    assert.deepEqual([l.flow.first_packet, l.rows[0].frame, l.rows[0].flags], [2, 2, 'S'], v);
    assert.equal(l.rows[l.rows.length - 1].frame, l.flow.last_packet, v);
  }
  // The first and the last flow of a capture of 129: each its own frames, first to last.
  const flood = 'samples/kernel/syn-flood/syn-flood.pcap';
  for (const n of ['1', '129']) {
    const l = JSON.parse((await cli(['flow', flood, n, '--json'])).out) as { flow: { first_packet: number; last_packet: number }; rows: Array<{ frame: number }> };
    assert.deepEqual([l.rows[0].frame, l.rows[l.rows.length - 1].frame], [l.flow.first_packet, l.flow.last_packet], n);
  }
});
