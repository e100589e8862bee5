/**
 * Connection-level findings on the kernel samples: what a user must be shown, and
 * nothing of warning or error severity on the clean ones; thresholds at their boundary.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import { TSHARK_FIELDS } from '../src/tcp/wireshark/flags.js';
import type { Finding } from '../src/detect/finding.js';
import { openSource } from '../src/reader/index.js';
import { repoRoot } from './helpers.js';

/** tshark's per-packet kinds (checked against its goldens in packet-flags.test); left out here. */
const PACKET_KINDS = new Set(TSHARK_FIELDS.map(([k]) => k));

async function findings(sample: string, thresholds = {}, all = false): Promise<Finding[]> {
  const out: Finding[] = [];
  const dir = join(repoRoot, 'samples', 'kernel', sample);
  const file = join(dir, readdirSync(dir).find((f) => /\.pcap(ng)?$/.test(f))!);
  await analyzeCapture(file, openSource(file), { onFinding: (f) => (all || !PACKET_KINDS.has(f.kind)) && out.push(f), thresholds });
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
  // Still there at the end: under the threshold it is a note, over it an error.
  assert.deepEqual((await findings('stuck-close-wait', { closeWaitUs: Math.ceil(seconds * 1e6) + 1 })).map((x) => x.severity), ['note']);
  assert.deepEqual((await findings('stuck-close-wait', { closeWaitUs: Math.floor(seconds * 1e6) - 1 })).map((x) => x.severity), ['error']);
});

for (const clean of ['seeds-server-closes', 'client-closes', 'keepalive', 'ipv6-seeds-server-closes', 'sll2-any', 'pcapng-nanosecond']) {
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
  for (const s of ['refused', 'abortive-close', 'stuck-close-wait', 'syn-flood', 'time-wait-pileup', 'bulk-loss', 'zero-window', 'keepalive'])
    for (const f of await findings(s, { ephemeralPorts: 600 }, true)) kinds.add(f.kind);
  for (const f of await findings('syn-flood', { synFloodRate: 1e9 })) kinds.add(f.kind);
  for (const k of PACKET_KINDS) kinds.add(k);
  assert.ok(kinds.size >= 7, [...kinds].join(' '));
  for (const k of kinds) assert.ok(KINDS[k], `no explanation for ${k}`);
});

test('SYN flood: one episode at the listener, with sources, answers, cookies and the legitimate connections; no per-flow noise', async () => {
  const f = await findings('syn-flood');
  assert.deepEqual(
    f.map((x) => x.kind),
    ['syn_flood'],
  );
  const d = f[0].details;
  assert.equal(d.listener, '192.0.2.2:9096');
  assert.equal(d.half_open, 480);
  assert.equal(d.sources, 24);
  assert.equal(d.answered_synack, 480);
  assert.equal(d.completed, 3);
  assert.ok((d.syn_cookies as number) > 300);
  const peak = d.peak_per_second as number;
  // Rate threshold at the boundary: at the peak it is a flood, one above it is not
  // (and then each half-open connection is reported on its own).
  assert.equal((await findings('syn-flood', { synFloodRate: peak })).filter((x) => x.kind === 'syn_flood').length, 1);
  const under = await findings('syn-flood', { synFloodRate: peak + 1 });
  assert.equal(under.filter((x) => x.kind === 'syn_flood').length, 0);
  assert.equal(under.filter((x) => x.kind === 'synack_unanswered').length, 480);
});

test('TIME_WAIT pile-up: 300 on the server, which closed first; boundary at 300', async () => {
  const f = await findings('time-wait-pileup', { timeWaitPileup: 300 });
  assert.deepEqual(
    f.map((x) => [x.kind, x.details.host, x.details.peak, x.side]),
    [['time_wait_pileup', '192.0.2.2', 300, 'server']],
  );
  assert.equal((await findings('time-wait-pileup', { timeWaitPileup: 301 })).length, 0);
});

test('port exhaustion risk: 300 ports towards one destination within the TIME_WAIT time', async () => {
  const risk = await findings('time-wait-pileup', { ephemeralPorts: 600, portExhaustionShare: 0.5 });
  const p = risk.filter((x) => x.kind === 'port_exhaustion_risk');
  assert.equal(p.length, 1);
  assert.equal(p[0].details.ports, 300);
  assert.equal(p[0].details.destination, '192.0.2.2:9099');
  assert.equal((await findings('time-wait-pileup', { ephemeralPorts: 602, portExhaustionShare: 0.5 })).filter((x) => x.kind === 'port_exhaustion_risk').length, 0);
});

test('unresponsive peer: data retransmitted with backoff, never acknowledged; thresholds at the boundary', async () => {
  const file = join(repoRoot, 'samples', 'scenarios', 'unresponsive-peer.pcap');
  const run = async (thresholds = {}) => {
    const out: Finding[] = [];
    await analyzeCapture(file, openSource(file), { onFinding: (f) => out.push(f), thresholds });
    return out.filter((f) => f.kind === 'unresponsive_peer');
  };
  const [f, ...rest] = await run();
  assert.equal(rest.length, 0);
  assert.equal(f.side, 'client');
  assert.equal(f.details.retransmissions, 6);
  assert.equal(f.details.seconds, 12.6);
  assert.equal((await run({ unresponsiveUs: 12_600_001 })).length, 0);
  assert.equal((await run({ unresponsiveUs: 12_600_000 })).length, 1);
  assert.equal((await run({ unresponsiveRetransmissions: 7 })).length, 0);
  // The bulk transfer with loss recovers every time: no finding there.
  assert.equal((await findings('bulk-loss')).filter((x) => x.kind === 'unresponsive_peer').length, 0);
});
