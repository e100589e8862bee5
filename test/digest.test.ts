/**
 * Same results (issue 19): every table `tcpstate analyze` writes for the samples, the Zeek
 * traces and the valid corpus captures hashes as recorded in test/digests/samples.tsv. A change
 * of any row of any table fails here, naming the capture and the table. The malformed corpus is
 * recorded in the same file but checked by `npm run digest -- --check test/digests/samples.tsv`
 * only (277 files: 15-35 s more; test/corpus-malformed.test.ts already runs them). Refreshing the
 * record is deliberate: docs/digests.md.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareDigests, digestCapture, expandInputs, parseDigests, type DigestLine } from '../scripts/digest.js';
import { repoRoot, scratchDir, sharedDir } from './helpers.js';

const record = join(repoRoot, 'test', 'digests', 'samples.tsv');
/** What this test digests, and the labels those captures have in the record. */
const inputs = [join(repoRoot, 'samples'), join(sharedDir(), 'oracle', 'zeek', 'traces'), join(sharedDir(), 'corpus', 'formats')];
const covered = (label: string) => ['samples/', 'shared/oracle/zeek/traces/', 'shared/corpus/formats/'].some((p) => label.startsWith(p));

test('digests: samples, Zeek traces and the valid corpus give the recorded tables', async () => {
  const recorded = parseDigests(readFileSync(record, 'utf8'));
  const captures = expandInputs(inputs, repoRoot);
  // Every capture of the record this test covers is still there to digest (none dropped silently).
  const labels = new Set(captures.map((c) => c.label));
  const missing = [...new Set(recorded.map((l) => l.capture).filter(covered))].filter((c) => !labels.has(c));
  assert.deepEqual(missing, [], 'captures in the record that were not found');
  assert.ok(captures.length >= 130, `${captures.length} captures found`);

  const tmp = scratchDir('tcpstate-digest-test-');
  const now: DigestLine[] = [];
  try {
    for (const c of captures) now.push(...(await digestCapture(c, tmp)));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const { differences } = compareDigests(recorded, now);
  assert.equal(
    differences.length,
    0,
    `results differ from test/digests/samples.tsv (a deliberate change: regenerate it, see docs/digests.md):\n${differences.join('\n')}`,
  );
});

test('digests: a changed row, a lost row and a new table are differences', () => {
  const base: DigestLine[] = [
    { capture: 'a.pcap', table: 'flows', rows: 2, digest: '000000000001' },
    { capture: 'a.pcap', table: 'transitions', rows: 9, digest: '000000000002' },
    { capture: 'b.pcap', table: 'flows', rows: 1, digest: '000000000003' },
  ];
  assert.deepEqual(compareDigests(base, base), { differences: [], notRun: 0 });
  const changed = [base[0], { ...base[1], digest: '00000000000f' }, { ...base[2], rows: 0 }, { capture: 'b.pcap', table: 'extra', rows: 0, digest: 'e3b0c44298fc' }];
  const { differences } = compareDigests(base, changed);
  assert.deepEqual(differences, [
    'a.pcap\ttransitions\trows 9 -> 9, 000000000002 -> 00000000000f (same count, other rows)',
    'b.pcap\textra\tnew: rows 0 e3b0c44298fc',
    'b.pcap\tflows\trows 1 -> 0, 000000000003 -> 000000000003',
  ]);
  // Captures of the record left out of a run are not compared, only counted.
  assert.deepEqual(compareDigests(base, base.slice(0, 2)), { differences: [], notRun: 1 });
});
