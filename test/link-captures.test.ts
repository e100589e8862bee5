/**
 * The link-layer captures of samples/link (scripts/make-link-captures.ts): the files are what
 * the generator writes; tcpstate decodes every frame as tshark 4.0.17 does (goldens in
 * samples/link/golden, scripts/golden/tshark-link.sh), 802.11 and CAPWAP fragments reassembled
 * at the frame tshark reassembles them; what we cannot read (a link type we do not decode, 802.11
 * frames all protected) gives a warning in the summary, in text and JSON, and the capture's status
 * stays complete.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import { openSource } from '../src/reader/index.js';
import { makeChalk, renderSummary, summaryJson } from '../src/report/summary.js';
import { buildLinkCapture, buildUnsupported, linkCaptures, lossyCaptures, protectedCapture, readme, unsupportedCapture } from '../scripts/make-link-captures.js';
import { readTsv, repoRoot } from './helpers.js';
import { compare } from './tshark-compare.js';

const dir = join(repoRoot, 'samples', 'link');
const PACKETS = 13;

test('samples/link holds what the generator writes', () => {
  for (const c of [...linkCaptures, ...lossyCaptures]) assert.ok(Buffer.from(buildLinkCapture(c)).equals(readFileSync(join(dir, `${c.name}.pcap`))), `${c.name}.pcap differs from the generator's`);
  assert.ok(Buffer.from(buildUnsupported()).equals(readFileSync(join(dir, `${unsupportedCapture.name}.pcap`))));
  assert.ok(Buffer.from(buildLinkCapture(protectedCapture)).equals(readFileSync(join(dir, `${protectedCapture.name}.pcap`))));
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
    if (c.name.endsWith('-fragments') || c.name.includes('-fragments-')) {
      // Every segment came in fragments but one (wlan-fragments: a lone last fragment, whole by itself), all reassembled.
      const n = Object.fromEntries(summary.counters.entries());
      const kind = c.name.startsWith('wlan') ? 'wlan' : 'capwap';
      const lone = c.name === 'wlan-fragments' ? 1 : 0;
      assert.equal(n[`${kind}_reassembled`], PACKETS - lone);
      assert.equal(n.tcp_in_reassembled_link_frame, PACKETS - lone);
      assert.equal(n.link_fragment + n.tcp, summary.packets);
      assert.deepEqual(
        Object.keys(n).filter((k) => k.includes('reassembly')),
        [],
        'no reassembly failures',
      );
    }
  });
}

/** What the lossy captures leave, by counter: tshark finds TCP in the same frames (the golden), and these say why not in the others. */
const lossy: Record<string, Record<string, number>> = {
  // 13 segments: 11 whole; the 2nd never (fragment 1 missing) and the 3rd never (its last fragment, first,
  // is taken whole and is no IP; its fragments 0 and 1 wait): 2 unfinished; the 6th's last fragment again, alone: no IP.
  'wlan-fragments-lossy': { tcp: 11, wlan_reassembled: 11, wlan_reassembly_overlap_conflict: 1, wlan_reassembly_incomplete_at_end: 2, non_ip: 2 },
  // 12 whole (the 4th with the overlapping piece's window, as tshark); the 2nd never; the 6th's first piece again starts one that never completes.
  'capwap-fragments-lossy': { tcp: 12, capwap_reassembled: 12, capwap_reassembly_overlap_conflict: 1, capwap_reassembly_incomplete_at_end: 2 },
};

for (const c of lossyCaptures) {
  test(`tshark agrees frame by frame on lost, reordered and conflicting fragments: ${c.name}`, async () => {
    const golden = join(dir, 'golden', `${c.name}.pcap.tsv`);
    await compare(join(dir, `${c.name}.pcap`), golden);
    const s = await analyzeCapture(c.name, openSource(join(dir, `${c.name}.pcap`)));
    const n = Object.fromEntries(s.counters.entries());
    const expected = lossy[c.name];
    assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, n[k]])), expected);
    assert.equal(s.tcpPackets, readTsv(golden).length);
  });
}

test('802.11 frames all protected: one warning line with the count, and their own counter; status stays complete', async () => {
  const file = join(dir, `${protectedCapture.name}.pcap`);
  assert.equal(readTsv(join(dir, 'golden', `${protectedCapture.name}.pcap.tsv`)).length, 0, 'tshark reads no TCP either');
  const s = await analyzeCapture(file, openSource(file));
  assert.equal(s.status, 'complete');
  assert.equal(s.tcpPackets, 0);
  assert.deepEqual(s.warnings, [`802.11: ${PACKETS} protected (encrypted) data frames not decoded: any TCP they carry is not analysed`]);
  const n = Object.fromEntries(s.counters.entries());
  assert.deepEqual([n.encrypted, n.wlan_protected], [PACKETS, PACKETS]);
  assert.match(renderSummary(s, makeChalk(false, {})), /\n {2}warning: 802\.11: 13 protected \(encrypted\) data frames not decoded/);
  assert.deepEqual(summaryJson(s).warnings, s.warnings);
});

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
