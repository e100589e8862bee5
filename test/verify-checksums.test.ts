/**
 * --verify-checksums drops exactly the TCP packets whose IPv4 header or TCP
 * checksum tshark finds wrong (golden: test/golden/checksums.tsv), on every Zeek trace.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/analyze/capture.js';
import { openSource } from '../src/reader/index.js';
import { readTsv, repoRoot, sharedDir } from './helpers.js';

const traces = join(sharedDir(), 'oracle', 'zeek', 'traces');
const golden = readTsv(join(repoRoot, 'test', 'golden', 'checksums.tsv'));

test('the golden covers every trace and has bad checksums to find', () => {
  assert.equal(golden.length, 43);
  assert.ok(golden.filter((r) => Number(r.bad_checksum_frames) > 0).length >= 5);
});

/**
 * The one deliberate difference: in pppoe-over-qinq six frames have an IPv4 length of 46
 * inside a PPPoE payload of 42 bytes. tshark sums the TCP checksum over the IPv4 length,
 * running into the Ethernet padding, and calls it wrong; we stop at the PPPoE length,
 * where the 20-byte segment's checksum is right, so we keep those packets.
 */
const DIFFERENT: Record<string, number> = { 'pppoe-over-qinq.pcap': 0 };

for (const row of golden) {
  test(`verify checksums: ${row.trace} drops ${row.bad_checksum_frames} packets, as tshark finds`, async () => {
    const file = join(traces, row.trace);
    const on = await analyzeCapture(file, openSource(file), { verifyChecksums: true });
    assert.equal(on.counters.badChecksums, DIFFERENT[row.trace] ?? Number(row.bad_checksum_frames));
    const off = await analyzeCapture(file, openSource(file));
    assert.equal(off.counters.badChecksums, 0);
  });
}
