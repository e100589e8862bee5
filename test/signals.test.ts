/**
 * Ctrl-C and SIGTERM on the real bin, sent by the test: the first stops the read at once, even on
 * an idle pipe, keeps what was read (status `interrupted`) and exits 130 (SIGINT) or 143 (SIGTERM);
 * a second one leaves at once without writing.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeFlood, writeMix } from '../scripts/bench-capture.js';
import { repoRoot, scratchDir, sharedDir } from './helpers.js';
import { rows } from './db-rows.js';

const bin = join(repoRoot, 'bin', 'tcpstate.js');
const formats = join(sharedDir(), 'corpus', 'formats');

/** Every run started, ended at the end whatever happened (a failed assertion must not leave one waiting on its pipe). */
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(args: string[], cwd: string): { child: ChildProcess; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; err: string; out: string }> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  children.push(child);
  let err = '';
  let out = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.on('data', (d) => (out += d));
  let signalled = 0;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; err: string; out: string }>((res) => {
    child.on('exit', (code, signal) => res({ code, signal, ms: signalled === 0 ? 0 : Date.now() - signalled, err, out }));
  });
  const kill = child.kill.bind(child);
  child.kill = (s?: NodeJS.Signals | number) => {
    if (signalled === 0) signalled = Date.now();
    return kill(s);
  };
  return { child, exit };
}

/** Wait until the run has opened its database (it is then past start-up and reading). */
async function opened(db: string): Promise<void> {
  for (let waited = 0; !existsSync(db); waited += 20) {
    assert.ok(waited < 30_000, 'analyze never opened its database');
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 200));
}


for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} on an idle stdin (sleep | tcpstate analyze -) stops at once: exit ${code}`, async () => {
    const cwd = scratchDir('tcpstate-sig-');
    const { child, exit } = start(['analyze', '-', '--db', 's.db'], cwd);
    await opened(join(cwd, 's.db'));
    child.kill(signal);
    const r = await exit;
    assert.equal(r.code, code, r.err);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.match(r.err, new RegExp(`interrupted by ${signal}`));
    assert.deepEqual(rows(join(cwd, 's.db'), 'SELECT name, status, packets FROM captures'), [{ name: '-', status: 'interrupted', packets: 0 }]);
  });
}

test('SIGTERM after a whole capture came down a pipe still open: every packet kept, the summary printed, exit 143', async () => {
  const cwd = scratchDir('tcpstate-sig-');
  const { child, exit } = start(['analyze', '-', '--db', 's.db'], cwd);
  child.stdin!.write(readFileSync(join(formats, 'three_http_streams.pcap')));
  await opened(join(cwd, 's.db'));
  child.kill('SIGTERM');
  const r = await exit;
  assert.equal(r.code, 143, r.err);
  assert.match(r.out, /<stdin>  pcap, ETHERNET  interrupted\n  28 packets, 28 TCP/);
  assert.deepEqual(rows(join(cwd, 's.db'), 'SELECT status, packets, tcp_packets FROM captures'), [{ status: 'interrupted', packets: 28, tcp_packets: 28 }]);
  assert.equal(rows(join(cwd, 's.db'), 'SELECT count(*) n FROM flows')[0].n, 3);
});

test('Ctrl-C in a long file keeps the packets read so far; a second Ctrl-C leaves at once without writing', async () => {
  const cwd = scratchDir('tcpstate-sig-');
  const file = join(cwd, 'mix.pcap');
  writeMix(file, { scale: 0.3, floodSyns: 0, seed: 7 });
  // One Ctrl-C: stopped mid-file, what was read is written.
  const once = start(['analyze', file, '--db', 'one.db'], cwd);
  await opened(join(cwd, 'one.db'));
  once.child.kill('SIGINT');
  const r1 = await once.exit;
  assert.equal(r1.code, 130, r1.err);
  assert.ok(r1.ms < 10_000, `took ${r1.ms} ms`);
  const [cap] = rows(join(cwd, 'one.db'), 'SELECT status, packets FROM captures');
  assert.equal(cap.status, 'interrupted');
  assert.ok((cap.packets as number) > 0, 'some packets were read');
  assert.ok(rows(join(cwd, 'one.db'), 'SELECT count(*) n FROM flows')[0].n as number > 0);
  // With workers (-j 2): each capture being read ends there and is written.
  copyFileSync(file, join(cwd, 'mix2.pcap'));
  const jobs = start(['analyze', file, join(cwd, 'mix2.pcap'), '-j', '2', '--db', 'jobs.db'], cwd);
  await opened(join(cwd, 'jobs.db'));
  jobs.child.kill('SIGINT');
  const rj = await jobs.exit;
  assert.equal(rj.code, 130, rj.err);
  const caps = rows(join(cwd, 'jobs.db'), 'SELECT status, packets FROM captures ORDER BY id');
  assert.equal(caps.length, 2);
  assert.ok(caps.some((c) => c.status === 'interrupted'), JSON.stringify(caps));
  // Two: the second arrives while the first is being honoured (ending 200,000 half-open
  // connections and committing them takes seconds): it leaves at once, nothing written.
  const flood = join(cwd, 'flood.pcap');
  writeFlood(flood, 200_000, 3);
  const twice = start(['analyze', '-', '--db', 'two.db'], cwd);
  await new Promise((r) => twice.child.stdin!.write(readFileSync(flood), r));
  await opened(join(cwd, 'two.db'));
  await new Promise((r) => setTimeout(r, 500));
  twice.child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 100));
  twice.child.kill('SIGINT');
  const r2 = await twice.exit;
  // Ended by the signal's default action (a shell reports 130), or by our exit 130 when both came at once.
  assert.ok((r2.code === null && r2.signal === 'SIGINT') || r2.code === 130, `${r2.code} ${r2.signal} ${r2.err}`);
  assert.ok(r2.ms < 1000, `took ${r2.ms} ms`);
  assert.doesNotMatch(r2.out, /interrupted\n/, 'no summary: it left without finishing');
  assert.equal(rows(join(cwd, 'two.db'), 'SELECT count(*) n FROM captures')[0].n, 0);
});
