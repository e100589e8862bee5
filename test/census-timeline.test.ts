/**
 * The census against the kernel over time (issue 18): for every kernel sample and every moment
 * `ss` was taken in both namespaces (samples/kernel/<name>/moments/ during the scenario, and the
 * end-of-capture ss), `tcpstate census --at T` (T: just before that host's ss ran) shows each
 * host's sockets exactly as ss did: same endpoints, same states. The only exceptions are the
 * endpoints the wire cannot show at T, each listed in the manifest's `unseen` with its reason;
 * an `unseen` entry that excuses nothing fails too. `node dist/scripts/kernel/timeline.js`
 * prints the same comparison in full.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareSample, loadSamples, repoRoot } from '../scripts/kernel/timeline.js';

const samples = loadSamples();

test('every kernel sample has its moments; the timeline scenarios have 2-4 during the scenario', () => {
  for (const s of samples) {
    assert.ok(s.moments.length >= 1, s.name);
    const during = s.moments.filter((m) => m.client.file.includes('/moments/'));
    if (during.length > 0) assert.ok(during.length >= 2 && during.length <= 4, `${s.name}: ${during.length} moments`);
    for (const m of s.moments) {
      for (const h of [m.client, m.server]) {
        assert.ok(existsSync(join(repoRoot, h.file)), h.file);
        assert.match(h.before, /^\d{10}\.\d{9}$/, `${s.name} moment ${m.moment}: epoch with nanoseconds`);
      }
    }
  }
  assert.ok(samples.filter((s) => s.moments.length >= 3).length >= 10, 'at least ten samples with moments during the scenario');
});

/**
 * Rule errors of tcpstate's own that are known and not yet fixed (issue 18 stays open while
 * any is listed): not excuses of the wire, so they are named here, not in the manifest, and
 * the test fails as soon as one is fixed (take it out) or another appears. The earlier ones
 * (a SYN to a TIME_WAIT tuple, a persist timer giving up, a SYN with another ISN to a server in
 * SYN_RECEIVED) are fixed by FlowTable.park, probeGiveUp and synRecvDrops.
 *
 * simultaneous-close-with-data: both ends send data and a FIN that cross; the server (captured
 * where it receives) takes the client's data and FIN at once (CLOSING), but its own crossing
 * segments acknowledge neither the client's data nor its FIN, and the machine applies that FIN's
 * receipt only at the server's ACK of it, 200 ms later (the crossing rule that places a FIN at
 * its own frame covers a FIN alone, not one behind crossing data).
 */
const RULE_GAPS: Record<string, string[]> = {
  'simultaneous-close-with-data': ['moment 3 server: ss CLOSING, tcpstate FIN-WAIT-1'],
};

for (const s of samples) {
  test(`census of ${s.name} at each ss moment equals ss on both hosts`, async () => {
    const r = await compareSample(s);
    const wrong = r.moments.flatMap((m) =>
      m.endpoints
        .filter((e) => e.verdict === 'disagree')
        .map((e) => `moment ${m.moment} (${m.label}) ${e.host} ${e.local} ${e.peer} at ${e.at}: ss ${e.ss}, tcpstate ${e.tcpstate}`),
    );
    const gaps = r.moments.flatMap((m) =>
      m.endpoints.filter((e) => e.verdict === 'disagree').map((e) => `moment ${m.moment} ${e.host}: ss ${e.ss}, tcpstate ${e.tcpstate}`),
    );
    assert.deepEqual(gaps, RULE_GAPS[s.name] ?? [], wrong.join('\n'));
    assert.deepEqual(r.staleUnseen, [], 'unseen entries that excuse nothing');
  });
}
