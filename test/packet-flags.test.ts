/**
 * tshark's per-packet flags reach the anomalies and the flows: on every kernel
 * sample, the anomaly rows per kind and packet are exactly the frames the tshark
 * golden flags, and the flow counts add up to them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TSHARK_FIELDS } from '../src/tcp/wireshark/flags.js';
import { analyzeCapture } from '../src/pipeline.js';
import type { Finding } from '../src/detect/finding.js';
import { COUNT_COLUMNS } from '../src/detect/packet-flags.js';
import { ANALYSIS_FIELDS, type FlowRecord as Flow } from '../src/tcp/rfc793/flow.js';
import { openSource } from '../src/reader/index.js';
import { readTsv, repoRoot } from './helpers.js';

const manifest = JSON.parse(readFileSync(join(repoRoot, 'samples', 'kernel', 'manifest.json'), 'utf8')) as Array<{ name: string; capture: string; tshark: string }>;

test('one count column per tshark field', () => {
  assert.equal(COUNT_COLUMNS.length, TSHARK_FIELDS.length);
  assert.equal(ANALYSIS_FIELDS, TSHARK_FIELDS.length);
});

for (const s of manifest) {
  test(`kernel sample ${s.name}: anomaly rows are the frames tshark flags`, async () => {
    const findings: Finding[] = [];
    const flows: Flow[] = [];
    await analyzeCapture(s.name, openSource(join(repoRoot, s.capture)), { onFinding: (f) => findings.push(f), onFlowEnd: (f) => flows.push(f.snapshot()) });
    const golden = readTsv(join(repoRoot, s.tshark));
    for (const [name] of TSHARK_FIELDS) {
      const theirs = golden.filter((r) => r[`tcp.analysis.${name}`] !== '').map((r) => Number(r['frame.number']));
      const ours = findings.filter((f) => f.kind === name).map((f) => f.packet);
      assert.deepEqual(ours, theirs, name);
      const counted = flows.reduce((n, f) => n + (f.analysis ? f.analysis.counts[TSHARK_FIELDS.findIndex(([k]) => k === name)] : 0), 0);
      assert.equal(counted, theirs.length, `${name} counted on flows`);
    }
  });
}

test('bulk loss: handshake RTT and RTT samples per direction', async () => {
  const flows: Flow[] = [];
  const file = join(repoRoot, 'samples', 'kernel', 'bulk-loss', 'bulk-loss.pcap');
  await analyzeCapture(file, openSource(file), { onFlowEnd: (f) => flows.push(f.snapshot()) });
  const a = flows[0].analysis!;
  const golden = readTsv(join(repoRoot, 'samples', 'kernel', 'bulk-loss', 'tshark.tsv'));
  const irtt = golden.find((r) => r['tcp.analysis.initial_rtt'] !== '')!['tcp.analysis.initial_rtt'];
  assert.equal(a.initialRttUs, Math.round(Number(irtt) * 1e6));
  assert.ok(a.rttClient.length > 100, 'the client sent the bulk data: many samples');
  assert.ok(a.rttClient.every((x) => x > 0));
});
