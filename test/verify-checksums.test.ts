/**
 * --verify-checksums drops exactly the TCP packets whose IPv4 header or TCP
 * checksum tshark finds wrong (golden: test/golden/checksums.tsv), on every Zeek trace.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import { openSource } from '../src/reader/index.js';
import { readTsv, repoRoot, scratchDir, sharedDir } from './helpers.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { badChecksumWarning } from '../src/decode/index.js';
import { cli } from './report-io.js';

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

/**
 * A sample as a host with checksum offload captures it: the TCP packets `from` sent carry a
 * wrong checksum (the NIC fills it in after the capture point). Ethernet, IPv4, microsecond pcap.
 */
function offloaded(path: string, from: string, only = Infinity): Buffer {
  const b = Buffer.from(readFileSync(path));
  const src = Buffer.from(from.split('.').map(Number));
  let spoiled = 0;
  for (let at = 24; at < b.length && spoiled < only; at += 16 + b.readUInt32LE(at + 8)) {
    const ip = at + 16 + 14;
    if (b.readUInt16BE(ip - 2) !== 0x0800 || b[ip + 9] !== 6 || !b.subarray(ip + 12, ip + 16).equals(src)) continue;
    const sum = ip + (b[ip] & 15) * 4 + 16;
    b.writeUInt16BE(b.readUInt16BE(sum) ^ 0x5a5a, sum);
    spoiled++;
  }
  return b;
}

test('--verify-checksums on a capture with checksum offload: one warning line with the count, the share and the usual cause; none when few are bad', async () => {
  const dir = scratchDir('tcpstate-offload-');
  // The refused sample captured on its client: its five SYNs fail the check, the server's RSTs pass.
  writeFileSync(join(dir, 'offload.pcap'), offloaded(join(repoRoot, 'samples', 'kernel', 'refused', 'refused.pcap'), '192.0.2.1'));
  const on = await cli(['analyze', '--verify-checksums', '--db', 'o.db', 'offload.pcap'], { cwd: dir });
  assert.equal(on.code, 0, on.err);
  const warning =
    'warning: 5 of 10 TCP packets (50%) had a wrong IPv4 or TCP checksum and were dropped (--verify-checksums): usually checksum offload on the capturing host (its own packets are captured before the NIC fills the checksum in), which leaves the analysis without them; rerun without --verify-checksums';
  assert.deepEqual(
    on.out.split('\n').filter((l) => /checksum/.test(l)),
    ['  decode: non_ip 2, bad_checksum_dropped 5', `  ${warning}`],
  );
  // With -q the summary goes, its warning stays: on stderr, naming the capture.
  const quiet = await cli(['analyze', '-q', '--verify-checksums', '--db', 'q.db', 'offload.pcap'], { cwd: dir });
  assert.deepEqual([quiet.code, quiet.out, quiet.err], [0, '', `tcpstate: ${warning.replace(/^warning: /, 'warning: offload.pcap: ')}\n`]);
  const json = await cli(['analyze', '--verify-checksums', '--json', '--db', 'j.db', 'offload.pcap'], { cwd: dir });
  assert.deepEqual(JSON.parse(json.out)[0].warnings, [warning.replace(/^warning: /, '')]);
  // Without --verify-checksums the same capture is whole: the refusals are refusals, and nothing is said.
  const off = await cli(['analyze', '--json', '--db', 'f.db', 'offload.pcap'], { cwd: dir });
  const [s] = JSON.parse(off.out);
  assert.deepEqual([s.warnings, s.findings], [[], { connection_refused: 5 }]);
  // One bad checksum in 2,400 TCP packets: dropped and counted, no warning (damage, not offload).
  writeFileSync(join(dir, 'one.pcap'), offloaded(join(repoRoot, 'samples', 'kernel', 'time-wait-pileup', 'time-wait-pileup.pcap'), '192.0.2.1', 1));
  const one = JSON.parse((await cli(['analyze', '--verify-checksums', '--json', '--db', 'one.db', 'one.pcap'], { cwd: dir })).out)[0];
  assert.deepEqual([one.decode.bad_checksum_dropped, one.warnings], [1, []]);
  // The share's boundary: a quarter of the TCP packets.
  assert.equal(badChecksumWarning(24, 100), null);
  assert.match(badChecksumWarning(25, 100) ?? '', /^25 of 100 TCP packets \(25%\)/);
  assert.match(badChecksumWarning(2_360, 2_380) ?? '', /^2,360 of 2,380 TCP packets \(99%\)/);
});
