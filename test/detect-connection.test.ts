/**
 * Connection-level findings on the kernel samples: what a user must be shown, and
 * nothing of warning or error severity on the clean ones; thresholds at their boundary.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/analyze/capture.js';
import type { Finding } from '../src/detect/finding.js';
import { openSource } from '../src/reader/index.js';
import { repoRoot } from './helpers.js';

async function findings(sample: string, thresholds = {}): Promise<Finding[]> {
  const out: Finding[] = [];
  const file = join(repoRoot, 'samples', 'kernel', sample, `${sample}.pcap`);
  await analyzeCapture(file, openSource(file), { onFinding: (f) => out.push(f), thresholds });
  return out;
}

test('refused: one connection_refused per port, naming the port', async () => {
  const f = await findings('refused');
  assert.deepEqual(
    f.map((x) => [x.kind, x.details.port]),
    [9100, 9101, 9102, 9103, 9104].map((p) => ['connection_refused', p]),
  );
});

test('abortive close: one connection_reset by the server, in ESTABLISHED, blocked by a zero window', async () => {
  const [f, ...rest] = await findings('abortive-close');
  assert.equal(rest.length, 0);
  assert.equal(f.kind, 'connection_reset');
  assert.equal(f.side, 'server');
  assert.equal(f.details.sender_state, 'ESTABLISHED');
  assert.equal(f.details.receiver_window_zero, true);
  assert.ok((f.details.server_bytes as number) > 300_000);
  assert.match(f.message, /zero window/);
});

test('stuck CLOSE_WAIT: the server, still there at the end, its peer in FIN_WAIT_2', async () => {
  const f = await findings('stuck-close-wait');
  assert.equal(f.length, 1);
  assert.equal(f[0].kind, 'stuck_close_wait');
  assert.equal(f[0].severity, 'error');
  assert.equal(f[0].side, 'server');
  assert.equal(f[0].details.peer_state, 'FIN_WAIT_2');
  assert.equal(f[0].details.still_at_end, true);
  const seconds = f[0].details.seconds as number;
  assert.ok(seconds > 7 && seconds < 8, String(seconds));
  // The threshold, just over and just under what the capture shows.
  assert.equal((await findings('stuck-close-wait', { closeWaitUs: Math.ceil(seconds * 1e6) + 1 })).length, 0);
  assert.equal((await findings('stuck-close-wait', { closeWaitUs: Math.floor(seconds * 1e6) - 1 })).length, 1);
});

for (const clean of ['seeds-server-closes', 'client-closes', 'keepalive', 'bulk-loss', 'time-wait-pileup', 'ipv6-seeds-server-closes', 'sll2-any']) {
  test(`clean sample ${clean}: no finding of warning or error severity`, async () => {
    const f = await findings(clean);
    assert.deepEqual(
      f.filter((x) => x.severity === 'warning' || x.severity === 'error').map((x) => x.message),
      [],
    );
  });
}

test('every kind the detectors emit on the samples has an explanation', async () => {
  const { KINDS } = await import('../src/detect/catalogue.js');
  const kinds = new Set<string>();
  for (const s of ['refused', 'abortive-close', 'stuck-close-wait', 'syn-flood']) for (const f of await findings(s)) kinds.add(f.kind);
  assert.ok(kinds.size >= 4);
  for (const k of kinds) assert.ok(KINDS[k], `no explanation for ${k}`);
});
