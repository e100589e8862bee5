/**
 * The link-layer captures of samples/link (scripts/make-link-captures.ts): the files are what
 * the generator writes; tcpstate decodes every frame as tshark 4.0.17 does (goldens in
 * samples/link/golden, scripts/golden/tshark-link.sh); the one link type we do not decode
 * gives a warning in the summary, in text and JSON, and the capture's status stays complete.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/analyze/capture.js';
import { openSource } from '../src/reader/index.js';
import { makeChalk, renderSummary, summaryJson } from '../src/report/summary.js';
import { buildLinkCapture, buildUnsupported, linkCaptures, readme, unsupportedCapture } from '../scripts/make-link-captures.js';
import { readTsv, repoRoot } from './helpers.js';
import { compare } from './tshark-compare.js';

const dir = join(repoRoot, 'samples', 'link');
const PACKETS = 13;

test('samples/link holds what the generator writes', () => {
  for (const c of linkCaptures) assert.ok(Buffer.from(buildLinkCapture(c)).equals(readFileSync(join(dir, `${c.name}.pcap`))), `${c.name}.pcap differs from the generator's`);
  assert.ok(Buffer.from(buildUnsupported()).equals(readFileSync(join(dir, `${unsupportedCapture.name}.pcap`))));
  assert.equal(readFileSync(join(dir, 'README.md'), 'utf8'), readme());
});

for (const c of linkCaptures) {
  test(`tshark agrees frame by frame: ${c.name} (link type ${c.linkType})`, async () => {
    const golden = join(dir, 'golden', `${c.name}.pcap.tsv`);
    const rows = readTsv(golden);
    assert.equal(rows.length, PACKETS, 'tshark finds TCP in every frame');
    await compare(join(dir, `${c.name}.pcap`), golden);
    // One conversation: tshark's streams are tcpstate's connections.
    const summary = await analyzeCapture(c.name, openSource(join(dir, `${c.name}.pcap`)));
    assert.equal(summary.flows, new Set(rows.map((r) => r['tcp.stream'])).size);
    assert.equal(summary.tcpPackets, PACKETS);
    assert.deepEqual(summary.warnings, []);
    assert.deepEqual(summary.zeekConnStates, { SF: 1 });
  });
}

test('a link type not decoded gives a one-line warning naming it and the count; status stays complete', async () => {
  const file = join(dir, `${unsupportedCapture.name}.pcap`);
  assert.equal(readTsv(join(dir, 'golden', `${unsupportedCapture.name}.pcap.tsv`)).length, 0, 'tshark does not decode LINKTYPE_USER0 either');
  const s = await analyzeCapture(file, openSource(file));
  assert.equal(s.status, 'complete');
  assert.equal(s.tcpPackets, 0);
  assert.deepEqual(s.warnings, [`link type LINKTYPE_147 (147) is not decoded: ${PACKETS} packets skipped, any TCP they carry is not analysed`]);
  const text = renderSummary(s, makeChalk(false, {}));
  assert.match(text, /\n {2}warning: link type LINKTYPE_147 \(147\) is not decoded: 13 packets skipped/);
  assert.deepEqual(summaryJson(s).warnings, s.warnings);
});
