/**
 * The CLI as a user meets it: `run(argv, io)` in-process for exit codes, output and
 * the database; the real bin for stdin, help and a kill in the middle of a write.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { run } from '../src/cli/main.js';
import type { Io } from '../src/cli/io.js';
import { repoRoot, scratchDir, sharedDir } from './helpers.js';
import { rows } from './db-rows.js';

const formats = join(sharedDir(), 'corpus', 'formats');
const bin = join(repoRoot, 'bin', 'tcpstate.js');

function fakeIo(opts: { stdin?: NodeJS.ReadableStream; env?: NodeJS.ProcessEnv; cwd?: string; interruptAfterMs?: number } = {}) {
  const io = {
    out: '',
    err: '',
    interrupts: [] as Array<() => void>,
  };
  const value: Io = {
    stdout: { write: (s: string) => (io.out += s), isTTY: false },
    stderr: { write: (s: string) => (io.err += s), isTTY: false },
    stdin: opts.stdin ?? new PassThrough(),
    env: opts.env ?? {},
    cwd: opts.cwd ?? scratchDir('tcpstate-cli-'),
    onInterrupt(fn) {
      io.interrupts.push(fn);
      return () => undefined;
    },
  };
  return { io, value };
}


test('analyze writes one captures row with counts, times, link types and decode counters', async () => {
  const { io, value } = fakeIo();
  const code = await run(['analyze', join(formats, 'pcapng-example.pcapng'), join(formats, 'VlanPackets.pcap')], value);
  assert.equal(code, 0, io.err);
  const db = join(value.cwd, 'tcpstate.db');
  const caps = rows(db, 'SELECT * FROM captures ORDER BY id');
  assert.equal(caps.length, 2);
  assert.equal(caps[0].format, 'pcapng');
  assert.equal(caps[0].link_types, '1,113');
  assert.equal(caps[0].packets, 159);
  assert.equal(caps[0].tcp_packets, 159);
  assert.equal(caps[0].first_ts, 1422527998578402);
  assert.equal(caps[0].status, 'complete');
  assert.equal(caps[1].packets, 26);
  assert.equal(caps[1].first_ts, 1277840495135052);
  assert.equal(caps[1].last_ts, 1277840530538713);
  const counters = rows(db, `SELECT reason, packets FROM decode_counters WHERE capture_id = ${caps[1].id} ORDER BY reason`);
  assert.deepEqual(counters, [
    { reason: 'non_ip', packets: 6 },
    { reason: 'non_tcp', packets: 20 },
  ]);
  assert.equal(rows(db, 'SELECT count(*) n FROM interfaces')[0].n, 3);
  assert.match(io.out, /159 packets, 159 TCP/);
  assert.doesNotMatch(io.out, /\x1b\[/, 'no colour when not a TTY');
});

test('analysing the same capture again replaces its rows', async () => {
  const { value } = fakeIo();
  const file = join(value.cwd, 'a.pcap');
  copyFileSync(join(formats, 'one_tcp_stream.pcap'), file);
  assert.equal(await run(['analyze', 'a.pcap'], value), 0);
  const db = join(value.cwd, 'tcpstate.db');
  const first = rows(db, 'SELECT id, packets FROM captures');
  // Same path, different content: the new analysis replaces the old one.
  copyFileSync(join(formats, 'three_http_streams.pcap'), file);
  assert.equal(await run(['analyze', file], value), 0);
  const second = rows(db, 'SELECT id, packets FROM captures');
  assert.equal(second.length, 1);
  assert.equal(first[0].packets, 36);
  assert.equal(second[0].packets, 28);
  assert.equal(rows(db, 'SELECT count(*) n FROM decode_counters')[0].n, 1);
});

test('a damaged capture: exit 3, one-line error with offset and record, packets before the damage kept', async () => {
  const { io, value } = fakeIo();
  const good = readFileSync(join(formats, 'one_tcp_stream.pcap'));
  // Keep 10 whole records (24-byte header, then records), then write an impossible caplen.
  let off = 24;
  for (let i = 0; i < 10; i++) off += 16 + good.readUInt32LE(off + 8);
  const bad = Buffer.concat([good.subarray(0, off), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f])]);
  writeFileSync(join(value.cwd, 'bad.pcap'), bad);
  const code = await run(['analyze', 'bad.pcap', '--db', 'x.db'], value);
  assert.equal(code, 3);
  assert.equal(io.err.trim().split('\n').length, 1);
  assert.match(io.err, new RegExp(`bad.pcap: byte offset ${off}, record 11: captured length 2147483647 is larger than the limit`));
  const [cap] = rows(join(value.cwd, 'x.db'), 'SELECT * FROM captures');
  assert.equal(cap.status, 'error');
  assert.equal(cap.packets, 10);
  assert.equal(cap.tcp_packets, 10);
  assert.equal(cap.error_offset, off);
  assert.equal(cap.error_record, 11);
});

test('a capture cut short: status truncated, warning, exit 3 (0 with --allow-truncated)', async () => {
  const { io, value } = fakeIo();
  const good = readFileSync(join(formats, 'one_tcp_stream.pcap'));
  writeFileSync(join(value.cwd, 'cut.pcap'), good.subarray(0, good.length - 5));
  assert.equal(await run(['analyze', 'cut.pcap'], value), 3);
  assert.match(io.err, /warning: .*cut\.pcap: byte offset \d+, record 36: capture is cut short inside record 36: .* \(exit 3; --allow-truncated accepts a capture cut short at its end\)\n$/);
  const allowed = fakeIo({ cwd: value.cwd });
  assert.equal(await run(['analyze', '--allow-truncated', 'cut.pcap'], allowed.value), 0);
  assert.match(allowed.io.err, /record 36: capture is cut short inside record 36: record data \(needs \d+ bytes, has \d+\)\n$/);
  const [cap] = rows(join(value.cwd, 'tcpstate.db'), 'SELECT status, packets FROM captures');
  assert.deepEqual(cap, { status: 'truncated', packets: 35 });
});

test('a missing file: exit 2 as tshark, "doesn\'t exist", before anything is read or written (no captures row)', async () => {
  const { io, value } = fakeIo();
  const code = await run(['analyze', 'nope.pcap', join(formats, 'sll2.pcap')], value);
  assert.equal(code, 2);
  assert.equal(io.err, 'tcpstate: the file "nope.pcap" doesn\'t exist\n');
  assert.equal(existsSync(join(value.cwd, 'tcpstate.db')), false);
  // Into a database that exists: still no row for it, nor for the other capture.
  assert.equal(await run(['analyze', '-q', join(formats, 'sll2.pcap')], value), 0);
  assert.equal(await run(['analyze', join(formats, 'VlanPackets.pcap'), 'nope.pcap', 'gone.pcap'], value), 2);
  assert.match(io.err, /the file "nope\.pcap", the file "gone\.pcap" don't exist\n$/);
  assert.deepEqual(rows(join(value.cwd, 'tcpstate.db'), 'SELECT name FROM captures'), [{ name: join(formats, 'sll2.pcap') }]);
});

test('the summary ends saying where it wrote, and what reads it; not with --json or -q', async () => {
  const { io, value } = fakeIo();
  assert.equal(await run(['analyze', join(formats, 'sll2.pcap')], value), 0);
  assert.match(io.out, /\nwritten to tcpstate\.db \(read it again with: tcpstate summary, or conns, census, anomalies, flow\)\n$/);
  const other = fakeIo({ cwd: value.cwd });
  assert.equal(await run(['analyze', '--db', 'x.db', join(formats, 'sll2.pcap')], other.value), 0);
  assert.match(other.io.out, /\nwritten to x\.db \(read it again with: tcpstate summary x\.db, or conns, census, anomalies, flow\)\n$/);
  for (const flag of ['--json', '-q']) {
    const f = fakeIo({ cwd: value.cwd });
    assert.equal(await run(['analyze', flag, join(formats, 'sll2.pcap')], f.value), 0);
    assert.doesNotMatch(f.io.out, /written to/, flag);
  }
});

test('--json prints machine-readable summaries', async () => {
  const { io, value } = fakeIo();
  assert.equal(await run(['analyze', '--json', join(formats, 'raw_ip.pcap')], value), 0);
  const [s] = JSON.parse(io.out);
  assert.equal(s.packets, 100);
  assert.equal(s.tcp_packets, 92);
  assert.deepEqual(s.link_types, [101]);
  assert.deepEqual(s.decode, { tcp: 92, non_tcp: 8 });
});

test('usage errors exit 2; --help and --version exit 0', async () => {
  for (const argv of [[], ['analyze'], ['frobnicate'], ['analyze', '--bogus', 'x.pcap'], ['analyze', '-', '-']]) {
    const { io, value } = fakeIo();
    assert.equal(await run(argv, value), 2, `${argv.join(' ')}: ${io.err}`);
    assert.ok(io.err.length > 0);
  }
  const help = fakeIo();
  assert.equal(await run(['analyze', '--help'], help.value), 0);
  assert.match(help.io.out, /Exit codes: 0 ok/);
  assert.match(help.io.out, /--db <file>/);
  const version = fakeIo();
  assert.equal(await run(['--version'], version.value), 0);
  assert.match(version.io.out, /^\d+\.\d+\.\d+/);
});

test('colour only for a terminal, and never with NO_COLOR', async () => {
  const tty = fakeIo({ env: { FORCE_COLOR: '1' } });
  await run(['analyze', join(formats, 'sll2.pcap')], tty.value);
  assert.match(tty.io.out, /\x1b\[/);
  const noColor = fakeIo({ env: { NO_COLOR: '1' } });
  (noColor.value.stdout as { isTTY?: boolean }).isTTY = true;
  await run(['analyze', join(formats, 'sll2.pcap')], noColor.value);
  assert.doesNotMatch(noColor.io.out, /\x1b\[/);
});

test('Ctrl-C during a capture: exit 130, what was read is kept as interrupted, earlier rows intact', async () => {
  const { io, value } = fakeIo();
  assert.equal(await run(['analyze', join(formats, 'one_tcp_stream.pcap')], value), 0);
  // A stdin that delivers half a capture, then an interrupt, then waits forever.
  const bytes = readFileSync(join(formats, 'three_http_streams.pcap'));
  const stdin = new PassThrough();
  const second = fakeIo({ stdin, cwd: value.cwd });
  const done = run(['analyze', '-'], second.value);
  stdin.write(bytes.subarray(0, 2000));
  await new Promise((r) => setTimeout(r, 50));
  for (const fn of second.io.interrupts) fn();
  assert.equal(await done, 130);
  assert.match(second.io.err, /<stdin>: byte offset \d+: interrupted/);
  assert.match(second.io.err, /interrupted by SIGINT; what was read is in tcpstate.db/);
  assert.match(second.io.out, /<stdin>  pcap, ETHERNET  interrupted/);
  const caps = rows(join(value.cwd, 'tcpstate.db'), 'SELECT name, status, packets FROM captures ORDER BY id');
  assert.equal(caps.length, 2);
  assert.deepEqual(caps[0], { name: join(formats, 'one_tcp_stream.pcap'), status: 'complete', packets: 36 });
  assert.equal(caps[1].status, 'interrupted');
  assert.ok((caps[1].packets as number) > 0 && (caps[1].packets as number) < 28, `packets kept: ${caps[1].packets}`);
  // The flows read so far are there, ended by the end of what was read.
  const flows = rows(join(value.cwd, 'tcpstate.db'), "SELECT count(*) n FROM flows f JOIN captures c ON c.id = f.capture_id WHERE c.status = 'interrupted' AND f.end_reason = 'end_of_capture'");
  assert.ok((flows[0].n as number) > 0);
  assert.equal(io.err, '');
});

test('SIGTERM during a batch: 143, the capture being read kept, the rest not started', async () => {
  const stdin = new PassThrough();
  const { io, value } = fakeIo({ stdin });
  const done = run(['analyze', '-', join(formats, 'one_tcp_stream.pcap'), '-j', '1'], value);
  stdin.write(readFileSync(join(formats, 'three_http_streams.pcap')).subarray(0, 3000));
  await new Promise((r) => setTimeout(r, 50));
  for (const fn of io.interrupts) (fn as (s: string) => void)('SIGTERM');
  assert.equal(await done, 143);
  assert.match(io.err, /interrupted by SIGTERM; what was read is in tcpstate.db; 1 capture not analysed/);
  assert.deepEqual(rows(join(value.cwd, 'tcpstate.db'), 'SELECT name, status FROM captures'), [{ name: '-', status: 'interrupted' }]);
});

test('the real bin: stdin ("-") with gzip, exit code and summary', () => {
  const cwd = scratchDir('tcpstate-bin-');
  const r = spawnSync(process.execPath, [bin, 'analyze', '-', '--db', 'in.db'], {
    cwd,
    input: readFileSync(join(formats, 'one_tcp_stream.pcap.gz')),
    env: { ...process.env, NO_COLOR: '1' },
  });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.match(r.stdout.toString(), /<stdin>  pcap, gzip, ETHERNET  complete\n  36 packets, 36 TCP/);
  const [cap] = rows(join(cwd, 'in.db'), 'SELECT path, compression, packets FROM captures');
  assert.deepEqual(cap, { path: '-', compression: 'gzip', packets: 36 });
});

test('a process killed in the middle of a capture leaves no half-written capture', async () => {
  const cwd = scratchDir('tcpstate-kill-');
  const child = spawn(process.execPath, [bin, 'analyze', '-', '--db', 'k.db'], { cwd, stdio: ['pipe', 'ignore', 'pipe'] });
  const bytes = readFileSync(join(formats, 'three_http_streams.pcap'));
  child.stdin.write(bytes.subarray(0, 3000));
  // Kill once the capture's transaction is open (its first write made the WAL file), however
  // slowly this machine starts the process; rows may be pending.
  const wal = join(cwd, 'k.db-wal');
  for (let waited = 0; !existsSync(wal); waited += 20) {
    assert.ok(waited < 30_000, 'analyze never began writing its database');
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  // The database opens cleanly and holds no row for the killed capture.
  const caps = rows(join(cwd, 'k.db'), 'SELECT count(*) n FROM captures');
  assert.equal(caps[0].n, 0);
  const again = spawnSync(process.execPath, [bin, 'analyze', '-', '--db', 'k.db', '-q'], { cwd, input: bytes });
  assert.equal(again.status, 0, again.stderr.toString());
  assert.equal(rows(join(cwd, 'k.db'), 'SELECT packets FROM captures')[0].packets, 28);
});

test('stdin that is not a capture: exit 3 with a clear message', async () => {
  const { io, value } = fakeIo({ stdin: Readable.from([Buffer.from('hello, this is text\n')]) });
  assert.equal(await run(['analyze', '-'], value), 3);
  assert.match(io.err, /<stdin>: byte offset 0: not a pcap or pcapng file \(unknown magic 68 65 6c 6c\)/);
});

test('flows and transitions land in the database, in packet order', async () => {
  const { io, value } = fakeIo();
  const capture = join(repoRoot, 'samples', 'kernel', 'seeds-server-closes', 'seeds-server-closes.pcap');
  assert.equal(await run(['analyze', capture], value), 0, io.err);
  assert.match(io.out, /1 TCP connection; sockets at the end: TIME-WAIT 1/);
  const db = join(value.cwd, 'tcpstate.db');
  const [flow] = rows(db, 'SELECT * FROM flows');
  assert.equal(flow.client_addr, '192.0.2.1');
  assert.equal(flow.server_port, 9090);
  assert.equal(flow.client_state, 'CLOSED');
  assert.equal(flow.server_state, 'TIME_WAIT');
  assert.equal(flow.end_reason, 'end_of_capture');
  assert.equal(flow.roles_by, 'syn');
  assert.equal(flow.client_bytes, 4); // "Bye\n"
  const ts = rows(db, `SELECT seq, packet, side, from_state, to_state FROM transitions WHERE flow_id = ${flow.id} ORDER BY seq`);
  assert.deepEqual(
    ts.map((t) => `${t.side} ${t.from_state}>${t.to_state}@${t.packet}`),
    [
      'client CLOSED>SYN_SENT@3',
      'server CLOSED>LISTEN@null',
      'server LISTEN>SYN_RECEIVED@3',
      'client SYN_SENT>ESTABLISHED@4',
      'server SYN_RECEIVED>ESTABLISHED@5',
      'server ESTABLISHED>FIN_WAIT_1@10',
      'client ESTABLISHED>CLOSE_WAIT@10',
      'server FIN_WAIT_1>FIN_WAIT_2@11',
      'client CLOSE_WAIT>LAST_ACK@12',
      'server FIN_WAIT_2>TIME_WAIT@12',
      'client LAST_ACK>CLOSED@13',
    ],
  );
  // Analysing it again replaces flows and transitions too.
  assert.equal(await run(['analyze', capture], value), 0);
  assert.equal(rows(db, 'SELECT count(*) n FROM flows')[0].n, 1);
  assert.equal(rows(db, 'SELECT count(*) n FROM transitions')[0].n, 11);
});

test('explain: the list, one kind, and an unknown kind (exit 2)', async () => {
  const list = fakeIo();
  assert.equal(await run(['explain'], list.value), 0);
  assert.match(list.io.out, /^stuck_close_wait\s+Stuck in CLOSE_WAIT$/m);
  const one = fakeIo();
  assert.equal(await run(['explain', 'connection_refused'], one.value), 0);
  assert.match(one.io.out, /Likely causes:\n {2}- the service is down/);
  assert.match(one.io.out, /What to check:/);
  const bad = fakeIo();
  assert.equal(await run(['explain', 'nope'], bad.value), 2);
  assert.match(bad.io.err, /unknown kind "nope"/);
});

test("Zeek's conn.log rows and each flow's conn_state/history land in the database", async () => {
  const { io, value } = fakeIo();
  const trace = join(sharedDir(), 'oracle', 'zeek', 'traces', 'ssh.pcap');
  assert.equal(await run(['analyze', trace, '-q'], value), 0, io.err);
  const db = join(value.cwd, 'tcpstate.db');
  // Zeek's own baseline for this trace: 23 connections, 22 SF and one RSTR.
  assert.deepEqual(rows(db, 'SELECT conn_state, count(*) n FROM zeek_conns GROUP BY 1 ORDER BY 1'), [
    { conn_state: 'RSTR', n: 1 },
    { conn_state: 'SF', n: 22 },
  ]);
  assert.deepEqual(rows(db, 'SELECT conn_state, count(*) n FROM flows GROUP BY 1 ORDER BY 1'), [
    { conn_state: 'RSTR', n: 1 },
    { conn_state: 'SF', n: 22 },
  ]);
  assert.equal(rows(db, "SELECT count(*) n FROM flows WHERE history IS NULL OR history = ''")[0].n, 0);
});

test('--verify-checksums drops bad packets and counts them', async () => {
  const { io, value } = fakeIo();
  const trace = join(sharedDir(), 'oracle', 'zeek', 'traces', 'localhost-bad-chksum.pcap');
  assert.equal(await run(['analyze', '--verify-checksums', '--json', trace], value), 0, io.err);
  const [s] = JSON.parse(io.out);
  assert.equal(s.decode.bad_checksum_dropped, 6);
});

test('threshold options: durations, counts and shares are parsed or refused (exit 2)', async () => {
  const capture = join(repoRoot, 'samples', 'kernel', 'stuck-close-wait', 'stuck-close-wait.pcap');
  for (const bad of [['--close-wait', '5x'], ['--close-wait', '0s'], ['--syn-flood-rate', '-3'], ['--syn-flood-rate', '1.5'], ['--port-exhaustion-share', '150%'], ['--time-wait', 'soon']]) {
    const { io, value } = fakeIo();
    assert.equal(await run(['analyze', ...bad, capture], value), 2, bad.join(' '));
    assert.match(io.err, new RegExp(`${bad[0]} .*is invalid`));
  }
  const over = fakeIo();
  assert.equal(await run(['analyze', '--json', '--close-wait', '8s', capture], over.value), 0);
  // Still in CLOSE_WAIT at the end under the threshold: a note; over it: stuck, an error.
  assert.deepEqual(JSON.parse(over.io.out)[0].finding_kinds.map((k: { kind: string; severities: object }) => [k.kind, k.severities]), [['stuck_close_wait', { note: 1 }]]);
  const under = fakeIo();
  assert.equal(await run(['analyze', '--json', '--close-wait', '6500ms', capture], under.value), 0);
  assert.deepEqual(JSON.parse(under.io.out)[0].finding_kinds.map((k: { kind: string; severities: object }) => [k.kind, k.severities]), [['stuck_close_wait', { error: 1 }]]);
  // TIME_WAIT of 1 µs: the seeds' server has left it by the end of the capture.
  const tw = fakeIo();
  const seeds = join(repoRoot, 'samples', 'kernel', 'seeds-server-closes', 'seeds-server-closes.pcap');
  assert.equal(await run(['analyze', '--json', '--time-wait', '1us', seeds], tw.value), 0);
  assert.deepEqual(JSON.parse(tw.io.out)[0].end_states, {});
});

/** Enough of XML to tell a well-formed document: one root, balanced and properly nested tags, quoted attributes. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w:-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let roots = 0;
  while ((m = tag.exec(body)) !== null) {
    if (m[5] !== undefined) {
      assert.doesNotMatch(m[5], /&(?!(amp|lt|gt|quot|apos);)/, 'text escapes');
      continue;
    }
    const [, close, name, , selfClosing] = m;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes what was opened`);
    else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
  }
  assert.equal(tag.lastIndex === 0 ? body.length : tag.lastIndex, body.length, 'the whole document parsed');
  assert.deepEqual(stack, []);
  assert.equal(roots, 1);
}

test('--fail-on: kinds, counts, shares and severities set exit code 1; --junit writes well-formed XML', async () => {
  const bulk = join(repoRoot, 'samples', 'kernel', 'bulk-loss', 'bulk-loss.pcap');
  const seeds = join(repoRoot, 'samples', 'kernel', 'seeds-server-closes', 'seeds-server-closes.pcap');
  const cases: Array<[string, number]> = [
    ['retransmission>1%', 1], // 28 of 880 TCP packets: 3.18%
    ['retransmission>4%', 0],
    ['retransmission>27', 1],
    ['retransmission>28', 0],
    ['syn_flood', 0],
    ['duplicate_ack', 1],
    ['warning', 1], // out-of-order segments are warnings
    ['error', 0],
  ];
  for (const [check, code] of cases) {
    const { io, value } = fakeIo();
    assert.equal(await run(['analyze', '-q', '--fail-on', check, bulk], value), code, `${check}: ${io.err}`);
    if (code === 1) assert.match(io.err, /check failed: .* in .*bulk-loss\.pcap: /);
  }
  const { io, value } = fakeIo();
  const code = await run(['analyze', '-q', '--fail-on', 'syn_flood,retransmission>1%', '--junit', 'out.xml', bulk, seeds], value);
  assert.equal(code, 1, io.err);
  const xml = readFileSync(join(value.cwd, 'out.xml'), 'utf8');
  assertWellFormedXml(xml);
  assert.match(xml, /<testsuites name="tcpstate" tests="6" failures="1">/);
  assert.match(xml, /name="fail-on retransmission&gt;1%"><failure message="28 of 880 TCP packets \(3\.18%\)"/);
  assert.equal((xml.match(/<testcase /g) ?? []).length, 6);
  for (const bad of ['retransmision', 'retransmission>>1', 'warning>x']) {
    const b = fakeIo();
    assert.equal(await run(['analyze', '--fail-on', bad, bulk], b.value), 2, bad);
  }
});

/** The first `n` records of a little-endian microsecond pcap: a capture rotated (or a tcpdump stopped) there. */
function cutPcap(path: string, n: number): Buffer {
  const b = readFileSync(path);
  assert.equal(b.readUInt32LE(0), 0xa1b2c3d4);
  let at = 24;
  for (let i = 0; i < n; i++) at += 16 + b.readUInt32LE(at + 8);
  return b.subarray(0, at);
}

test('--end-grace: handshakes cut by the end of a rotated capture are undetermined (info), so --fail-on does not flap; --end-grace 0 makes them findings', async () => {
  const sample = join(repoRoot, 'samples', 'kernel', 'time-wait-pileup', 'time-wait-pileup.pcap');
  // Cut after frame 1203, a SYN; after 1204, its SYN-ACK: each handshake's answer is in the "next file".
  for (const [n, kind] of [
    [1203, 'syn_unanswered'],
    [1204, 'synack_unanswered'],
  ] as const) {
    const { io, value } = fakeIo();
    writeFileSync(join(value.cwd, 'cut.pcap'), cutPcap(sample, n));
    const checks = 'syn_unanswered,synack_unanswered,warning';
    assert.equal(await run(['analyze', '--json', '--fail-on', checks, 'cut.pcap'], value), 0, io.err);
    const [s] = JSON.parse(io.out);
    assert.equal(s.packets, n);
    assert.deepEqual(
      s.finding_kinds.filter((k: { kind: string }) => k.kind === kind).map((k: { severities: object }) => k.severities),
      [{ info: 1 }],
    );
    const [f] = rows(join(value.cwd, 'tcpstate.db'), `SELECT packet, severity, message, json_extract(details, '$.undetermined') AS u FROM anomalies WHERE kind = '${kind}'`);
    assert.equal(f.severity, 'info');
    assert.equal(f.u, 1);
    assert.match(String(f.message), /undetermined at end of capture: it began 0\.00 s before the capture ended \(within the 3\.00 s end grace\)/);

    const off = fakeIo({ cwd: value.cwd });
    assert.equal(await run(['analyze', '-q', '--end-grace', '0', '--fail-on', kind, 'cut.pcap'], off.value), 1, off.io.err);
    assert.match(off.io.err, new RegExp(`check failed: ${kind} in cut\\.pcap: 1 ${kind}`));
  }
  // The whole sample has no such finding, grace or not.
  const whole = fakeIo();
  assert.equal(await run(['analyze', '-q', '--end-grace', '0', '--fail-on', 'syn_unanswered,synack_unanswered', sample], whole.value), 0, whole.io.err);
  for (const bad of ['soon', '-1s']) {
    const b = fakeIo();
    assert.equal(await run(['analyze', '--end-grace', bad, sample], b.value), 2, bad);
    assert.match(b.io.err, /--end-grace .*is invalid/);
  }
});

test('--junit: a directory that does not exist fails before the analysis (nothing written); an unreadable capture\'s checks fail', async () => {
  const bulk = join(repoRoot, 'samples', 'kernel', 'bulk-loss', 'bulk-loss.pcap');
  const { io, value } = fakeIo();
  assert.equal(await run(['analyze', '-q', '--junit', 'reports/out.xml', bulk], value), 5);
  assert.equal(io.err, `tcpstate: cannot write reports/out.xml: the directory ${join(value.cwd, 'reports')} does not exist\n`);
  assert.equal(existsSync(join(value.cwd, 'tcpstate.db')), false, 'not analysed');
  // A file that is not a capture: "readable" fails, and so does each check, as not checked.
  writeFileSync(join(value.cwd, 'notes.pcap'), 'not a capture\n');
  const bad = fakeIo({ cwd: value.cwd });
  assert.equal(await run(['analyze', '-q', '--fail-on', 'error,syn_flood', '--junit', 'out.xml', 'notes.pcap', bulk], bad.value), 3);
  const xml = readFileSync(join(value.cwd, 'out.xml'), 'utf8');
  assertWellFormedXml(xml);
  assert.match(xml, /<testsuites name="tcpstate" tests="6" failures="3">/);
  assert.match(xml, /classname="notes\.pcap" name="fail-on error"><failure message="not checked: the capture was not read to its end \(notes\.pcap: byte offset 0: not a pcap or pcapng file [^"]*\); of what was read: 0 findings of severity error or above" type="unreadable"\/>/);
  assert.match(xml, /classname="notes\.pcap" name="fail-on syn_flood"><failure message="not checked: /);
  // The readable capture's checks are as they were.
  assert.match(xml, /bulk-loss\.pcap" name="fail-on syn_flood"><system-out>0 syn_flood<\/system-out>/);
});

test('directories stand for the captures below them; an empty one is a usage error', async () => {
  const { io, value } = fakeIo({ cwd: repoRoot });
  assert.equal(await run(['analyze', '--json', '--db', join(scratchDir('tcpstate-dir-'), 'd.db'), 'samples/kernel'], value), 0, io.err);
  const names = (JSON.parse(io.out) as Array<{ name: string }>).map((s) => s.name);
  assert.equal(names.length, 71);
  assert.equal(names[0], join('samples/kernel', 'abort-on-overflow', 'abort-on-overflow.pcap'));
  assert.ok(names.includes(join('samples/kernel', 'pcapng-nanosecond', 'pcapng-nanosecond.pcapng')));
  const empty = fakeIo();
  assert.equal(await run(['analyze', empty.value.cwd], empty.value), 2);
  assert.match(empty.io.err, /no capture files/);
});

test('several captures in worker threads give the same database, ids included, as one at a time', async () => {
  const dump = (db: string) =>
    ['captures', 'interfaces', 'decode_counters', 'flows', 'transitions', 'anomalies', 'zeek_conns'].map((t) =>
      rows(db, `SELECT * FROM ${t}`).map((r) => JSON.stringify({ ...r, path: undefined })),
    );
  const one = fakeIo({ cwd: repoRoot });
  const two = fakeIo({ cwd: repoRoot });
  const dir = scratchDir('tcpstate-jobs-');
  assert.equal(await run(['analyze', '--json', '-j', '1', '--db', join(dir, '1.db'), 'samples/kernel'], one.value), 0, one.io.err);
  assert.equal(await run(['analyze', '--json', '-j', '2', '--db', join(dir, '2.db'), 'samples/kernel'], two.value), 0, two.io.err);
  assert.deepEqual(dump(join(dir, '2.db')), dump(join(dir, '1.db')));
  assert.equal(two.io.out, one.io.out);
  assert.equal(rows(join(dir, '2.db'), 'SELECT count(*) n FROM flows')[0].n, 881);
});

test('progress: a line per capture into a pipe, the live line on a terminal (test/progress.test.ts), nothing with --quiet', async () => {
  const args = ['analyze', '-j', '1', '--db', join(scratchDir('tcpstate-p-'), 'p.db'), 'samples/kernel/refused', 'samples/kernel/keepalive'];
  const lines = fakeIo({ cwd: repoRoot });
  assert.equal(await run(args, lines.value), 0);
  assert.deepEqual(
    lines.io.err.trim().split('\n'),
    ['tcpstate: [1/2] samples/kernel/refused/refused.pcap', 'tcpstate: [2/2] samples/kernel/keepalive/keepalive.pcap'],
  );
  const tty = fakeIo({ cwd: repoRoot });
  (tty.value.stderr as { isTTY?: boolean }).isTTY = true;
  assert.equal(await run(args, tty.value), 0);
  // No more bar moving only when a capture ends: the live line (redrawn while a capture is read) takes its place.
  assert.doesNotMatch(tty.io.err, /\[#+-*\]/);
  assert.doesNotMatch(tty.io.err, /tcpstate: \[1\/2\]/);
  const quiet = fakeIo({ cwd: repoRoot });
  assert.equal(await run([...args, '-q'], quiet.value), 0);
  assert.equal(quiet.io.err, '');
});

test('output into a closed pipe (| head) ends quietly, without a stack trace', () => {
  const r = spawnSync('bash', ['-c', `node ${JSON.stringify(bin)} explain | head -1; node ${JSON.stringify(bin)} census --help | head -2`], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /);
  assert.match(r.stdout, /^connection_refused/);
});

test('the writer thread (the default) gives the database --no-db-thread gives, and a damaged capture keeps what was read before the damage', async () => {
  const { value } = fakeIo();
  const capture = join(repoRoot, 'samples', 'kernel', 'bulk-loss', 'bulk-loss.pcap');
  assert.equal(await run(['analyze', '-q', '--no-db-thread', capture, '--db', 'plain.db'], value), 0);
  assert.equal(await run(['analyze', '-q', capture, '--db', 'thread.db'], value), 0);
  for (const sql of ['SELECT * FROM flows ORDER BY id', 'SELECT * FROM transitions ORDER BY flow_id, seq', 'SELECT * FROM anomalies ORDER BY id', 'SELECT * FROM zeek_conns ORDER BY capture_id, ts, first_frame, orig_h, orig_p, resp_h, resp_p']) {
    assert.deepEqual(rows(join(value.cwd, 'thread.db'), sql), rows(join(value.cwd, 'plain.db'), sql), sql);
  }
  const good = readFileSync(join(formats, 'one_tcp_stream.pcap'));
  writeFileSync(join(value.cwd, 'cut.pcap'), good.subarray(0, good.length - 5));
  assert.equal(await run(['analyze', '-q', 'cut.pcap', '--db', 'cut.db'], value), 3);
  assert.deepEqual(rows(join(value.cwd, 'cut.db'), 'SELECT status, packets FROM captures'), [{ status: 'truncated', packets: 35 }]);
});
