/**
 * Each kernel-made sample shows exactly the anomalies its manifest names: every
 * named kind is found (with the manifest's count where it gives one), and no
 * finding of note severity or above appears that the manifest does not name.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import type { Finding } from '../src/detect/finding.js';
import { openSource } from '../src/reader/index.js';
import { repoRoot } from './helpers.js';

const manifest = JSON.parse(readFileSync(join(repoRoot, 'samples', 'kernel', 'manifest.json'), 'utf8')) as Array<{
  name: string;
  capture: string;
  anomalies: Record<string, number | boolean>;
}>;

/** Manifest names that are our kinds under another name. */
const ALIASES: Record<string, string> = { abortive_close: 'connection_reset', stalled_by_zero_window: 'zero_window' };
/** Manifest entries that are facts about the traffic, not findings (packet counts, kernel counters). */
const FACTS = new Set(['rst', 'sack', 'syn', 'syn_ack', 'syncookies_sent', 'dropped_by_tbf', 'dropped_by_nft']);
/** Kinds tshark counts on every frame of the family (a fast retransmission is also a retransmission). */

/**
 * Findings that come of a known rule gap of tcpstate's own (RULE_GAPS in
 * test/census-timeline.test.ts), not of the traffic: the test fails once the gap is fixed
 * (take it out) or it changes.
 */
const KNOWN_GAPS: Record<string, string[]> = {};

for (const s of manifest) {
  test(`kernel sample ${s.name}: exactly the anomalies its manifest names`, async () => {
    const found: Finding[] = [];
    await analyzeCapture(s.name, openSource(join(repoRoot, s.capture)), { onFinding: (f) => found.push(f) });
    const counts = new Map<string, number>();
    for (const f of found) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
    const named = new Set<string>();
    for (const [name, value] of Object.entries(s.anomalies)) {
      if (FACTS.has(name)) continue;
      const kind = ALIASES[name] ?? name;
      named.add(kind);
      assert.ok(counts.has(kind), `${name}: not found (found ${[...counts.keys()].join(', ') || 'nothing'})`);
      if (typeof value === 'number' && ALIASES[name] === undefined) assert.equal(counts.get(kind), value, name);
    }
    const unnamed = found.filter((f) => f.severity !== 'info' && !named.has(f.kind)).map((f) => `${f.kind}: ${f.message}`);
    assert.deepEqual([...new Set(unnamed)], KNOWN_GAPS[s.name] ?? []);
  });
}
