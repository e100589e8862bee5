/**
 * The fuzzer (scripts/fuzz.ts) as CI runs it: a fixed number of cases with a fixed seed, each
 * mutated capture through the real `tcpstate analyze` in a worker: no stack trace, no hang, RSS
 * under its ceiling, exit 0, 1 or 3. A developer runs it longer: node dist/scripts/fuzz.js --cases 10000 --seed N.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fuzz, makeCase, Rng } from '../scripts/fuzz.js';
import { repoRoot } from './helpers.js';
import { tempDir } from './report-io.js';

/** Cases and seed of the CI run (about 15 s on a quiet machine). */
const CASES = 200;
const SEED = 21;

test(`fuzz: ${CASES} mutated captures (seed ${SEED}) fail safely`, async () => {
  const keep = tempDir();
  const r = await fuzz({ cases: CASES, seed: SEED, keep });
  assert.equal(r.cases, CASES);
  assert.deepEqual(r.failures, [], r.failures.map((f) => `case ${f.case} (${f.input}: ${f.mutations.join('; ')}): ${f.problem}\n  ${f.replay}`).join('\n'));
  // Every kind of mutation was tried, and the cases reached both ends: read whole, and refused as damaged.
  for (const kind of ['flip', 'set', 'insert', 'cut', 'splice', 'length', 'block', 'option', 'gzip', 'zstd']) assert.ok((r.kinds[kind] ?? 0) > 0, kind);
  assert.ok((r.exits[0] ?? 0) > 10 && (r.exits[3] ?? 0) > 10, JSON.stringify(r.exits));
  assert.ok(r.peakRssMb < 1536, `peak RSS ${r.peakRssMb} MB`);
});

test('fuzz: a case is the same bytes whenever it is made, and the seed changes it', () => {
  const inputs = [{ name: 'a.pcap', bytes: Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex') }];
  const a = makeCase(5, 17, inputs);
  const b = makeCase(5, 17, inputs);
  assert.deepEqual(a, b);
  const seeds = new Set(Array.from({ length: 8 }, (_, s) => makeCase(s, 17, inputs).bytes.toString('hex') + makeCase(s, 17, inputs).mutations.join()));
  assert.ok(seeds.size > 4, 'different seeds, different cases');
  // mulberry32's numbers for seed 1 (0.6270739405881613 as a fraction): the same on every platform.
  const r = new Rng(1);
  assert.deepEqual([r.next(), r.next(), r.next()], [2693262067, 11749833, 2265367787]);
});

test('fuzz: the command line the README shows runs, and a bad argument is exit 2', () => {
  const script = join(repoRoot, 'dist', 'scripts', 'fuzz.js');
  const ok = spawnSync(process.execPath, [script, '--cases', '3', '--seed', '7'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^3 cases \(seed 7\) in [\d.]+ s: 0 failed; .*peak RSS \d+ MB$/m);
  const one = spawnSync(process.execPath, [script, '--seed', '7', '--case', '2'], { encoding: 'utf8' });
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /^1 cases \(seed 7\)/m);
  const bad = spawnSync(process.execPath, [script, '--cases', 'many'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--cases takes a whole number/);
});
