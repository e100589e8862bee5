/**
 * The progress line: on a terminal (a pseudo-terminal made by `script`), never into a pipe or in
 * CI unless --progress; what it shows, on a clock the test drives.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeMix } from '../scripts/bench-capture.js';
import { Progress, clock, progressWanted, type Snapshot } from '../src/cli/progress.js';
import { repoRoot, scratchDir } from './helpers.js';

const bin = join(repoRoot, 'bin', 'tcpstate.js');
const hasScript = spawnSync('sh', ['-c', 'command -v script']).status === 0;
let mix: string | null = null;
/** A capture that takes a few seconds to analyse: long enough for several redraws. */
function capture(): string {
  if (mix === null) {
    mix = join(scratchDir('tcpstate-progress-'), 'mix.pcap');
    writeMix(mix, { scale: 0.25, floodSyns: 0, seed: 11 });
  }
  return mix;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs analyze on a pseudo-terminal; returns what the terminal received. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; text: string } {
  const cwd = scratchDir('tcpstate-pty-');
  const command = [process.execPath, bin, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd, encoding: 'utf8', env: { ...process.env, CI: '', ...env, TERM: 'xterm' } });
  return { status: r.status, text: r.stdout };
}

test('when to show it: a terminal outside CI, or --progress; never with --quiet or --no-progress', () => {
  assert.equal(progressWanted(undefined, false, true, {}), true);
  assert.equal(progressWanted(undefined, false, false, {}), false);
  assert.equal(progressWanted(undefined, false, true, { CI: 'true' }), false);
  assert.equal(progressWanted(undefined, false, true, { TERM: 'dumb' }), false);
  assert.equal(progressWanted(undefined, true, true, {}), false);
  assert.equal(progressWanted(true, false, false, { CI: '1' }), true);
  assert.equal(progressWanted(false, false, true, {}), false);
  assert.equal(clock(3725), '1:02:05');
  assert.equal(clock(65), '1:05');
});

test('the line: share of the file as stored, packets, bytes, rate, elapsed, ETA, live connections, findings; the batch total', () => {
  let now = 0;
  let written = '';
  const p = new Progress({ write: (s: string) => (written += s), columns: 300 }, [100e6, 50e6], true, () => now, 1e9);
  const snap: Snapshot = { rawBytes: 0, size: 100e6, compression: 'gzip', counts: { packets: 0, flows: 0, liveFlows: 0, findings: 0, lastTs: null } };
  p.begin(0, 'a.pcap.gz', () => snap);
  now = 10_000;
  Object.assign(snap, { rawBytes: 25e6, counts: { packets: 1_234_567, flows: 9000, liveFlows: 2871, findings: 1204, lastTs: null } });
  assert.equal(
    p.line(),
    '[1/2] a.pcap.gz  25%  1,234,567 packets  25.0/100 MB gzip  2.50 MB/s  0:10  ETA 0:30  2,871 live  1,204 findings  | batch 16% ETA 0:50',
  );
  p.draw();
  assert.match(written, /^\r\x1b\[K\[1\/2\] a\.pcap\.gz {2}25%/);
  // Its end takes the line off the terminal; the next capture counts from the batch's done bytes.
  p.end(0);
  assert.ok(written.endsWith('\r\x1b[K'));
  p.begin(1, 'b.pcap', () => ({ rawBytes: 25e6, size: 50e6, compression: null, counts: null }));
  now = 20_000;
  assert.match(p.line()!, /^\[2\/2\] b\.pcap {2}50%  25\.0\/50\.0 MB .* \| batch 83% ETA 0:04$/);
  p.stop();
});

test('on a terminal the line is redrawn in place while the capture is read', { skip: !hasScript && 'script (util-linux) not installed' }, () => {
  const r = onTerminal(['analyze', capture(), '--db', 'p.db']);
  assert.equal(r.status, 0, r.text);
  const lines = r.text.split('\r\x1b[K').filter((l) => /packets {2}[\d.]+\/[\d.]+ MB/.test(l));
  assert.ok(lines.length >= 2, `redraws: ${lines.length}\n${JSON.stringify(r.text.slice(0, 2000))}`);
  assert.match(lines.at(-1)!, /mix\.pcap {2}\d+% {2}[\d,]+ packets {2}[\d.]+\/[\d.]+ MB {2}.*MB\/s {2}\d+:\d\d.* [\d,]+ live {2}[\d,]+ findings/);
  // The summary follows on a clean line.
  assert.match(r.text, /\r\x1b\[K\S*mix\.pcap\S* {2}\S*pcap, ETHERNET/);
});

test('never into a pipe, nor on a terminal in CI; --progress into a pipe writes a line a second', { skip: !hasScript && 'script (util-linux) not installed' }, () => {
  const cwd = scratchDir('tcpstate-pipe-');
  const piped = spawnSync(process.execPath, [bin, 'analyze', capture(), '--db', 'p.db'], { cwd, encoding: 'utf8', env: { ...process.env, CI: '' } });
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(piped.stderr, '');
  assert.doesNotMatch(piped.stdout, /\r/);
  const ci = onTerminal(['analyze', capture(), '--db', 'p.db'], { CI: 'true' });
  assert.doesNotMatch(ci.text, /packets {2}[\d.]+\/[\d.]+ MB/);
  // Half the capture, a pause longer than the line's second, the rest: a line is due however fast the analysis.
  const half = Math.floor(statSync(capture()).size / 2);
  const feed = `(head -c ${half} ${quote(capture())}; sleep 1.5; tail -c +${half + 1} ${quote(capture())})`;
  const forced = spawnSync('/bin/sh', ['-c', `${feed} | ${quote(process.execPath)} ${quote(bin)} analyze - --db f.db --progress`], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stderr, /^tcpstate: <stdin> {2}[\d,]+ packets/m);
  assert.doesNotMatch(forced.stderr, /\r/);
});
