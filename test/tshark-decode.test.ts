/**
 * Per-frame agreement with tshark 4.0.17 on every real capture we have: the
 * frames where it finds TCP are exactly ours, with the same innermost addresses,
 * ports, raw sequence and acknowledgement numbers, flags, payload length and
 * window. Goldens: test/golden/decode (scripts/golden/tshark-decode.sh) and the
 * kernel samples' tshark.tsv (scripts/kernel/tshark-golden.sh).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import { openSource } from '../src/reader/index.js';
import { repoRoot, sharedDir } from './helpers.js';
import { compare } from './tshark-compare.js';

const shared = sharedDir();
const decodeGoldens = join(repoRoot, 'test', 'golden', 'decode');
for (const g of readdirSync(decodeGoldens).sort()) {
  const name = g.replace(/\.tsv$/, '');
  const capture = [join(shared, 'corpus', 'formats', name), join(shared, 'oracle', 'zeek', 'traces', name)].find(existsSync);
  test(`tshark agrees frame by frame: ${name}`, async () => {
    assert.ok(capture, `capture for golden ${g}`);
    await compare(capture, join(decodeGoldens, g));
  });
}

const manifest = (await import(join(repoRoot, 'samples', 'kernel', 'manifest.json'), { with: { type: 'json' } })).default as Array<{
  name: string;
  capture: string;
  tshark: string;
  packets: number;
}>;
for (const s of manifest) {
  test(`tshark agrees frame by frame: kernel sample ${s.name}`, async () => {
    await compare(join(repoRoot, s.capture), join(repoRoot, s.tshark));
    const summary = await analyzeCapture(s.name, openSource(join(repoRoot, s.capture)));
    assert.equal(summary.packets, s.packets);
  });
}

const scenarioDir = join(repoRoot, 'samples', 'scenarios');
for (const g of readdirSync(join(scenarioDir, 'golden')).sort()) {
  const name = g.replace(/\.tsv$/, '');
  test(`tshark agrees frame by frame: scenario ${name}`, async () => {
    await compare(join(scenarioDir, name), join(scenarioDir, 'golden', g));
  });
}
