/**
 * IPv6 against IPv4: the benchmark's mix written with IPv6 headers (2001:db8::/96 plus the IPv4
 * address, the same TCP segments) must give the same connections, states, packet counts and
 * findings. The capture is larger than the file reader's two 1 MB buffers, so anything that keeps
 * a view into a packet's bytes instead of a copy sees them overwritten.
 */
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import type { FlowRecord as Flow } from '../src/tcp/rfc793/flow.js';
import { openSource } from '../src/reader/index.js';
import { writeMix } from '../scripts/bench-capture.js';
import { scratchDir } from './helpers.js';

interface Seen {
  flows: string[];
  findings: string[];
}

async function analyse(file: string): Promise<Seen> {
  const flows: string[] = [];
  const findings: string[] = [];
  const row = (f: Flow) =>
    [f.id, f.client.port, f.server.port, f.client.state, f.server.state, f.endReason, f.client.packets, f.server.packets, f.client.payloadBytes, f.server.payloadBytes, f.transitions.length].join(' ');
  await analyzeCapture(file, openSource(file), { onFlowEnd: (f) => flows.push(row(f.snapshot())), onFinding: (x) => findings.push(`${x.kind} ${x.flow} ${x.packet} ${x.side}`) });
  return { flows, findings };
}

test('an IPv6 capture gives the same connections, states and findings as the same traffic over IPv4', async () => {
  const dir = scratchDir('tcpstate-v6-');
  try {
    const v4 = join(dir, 'mix4.pcap');
    const v6 = join(dir, 'mix6.pcap');
    writeMix(v4, { scale: 0.02, floodSyns: 300, seed: 5 });
    writeMix(v6, { scale: 0.02, floodSyns: 300, seed: 5, ipv6: true });
    assert.ok(statSync(v6).size > 3 << 20, `${statSync(v6).size} bytes: more than the reader's two buffers`);
    const a = await analyse(v4);
    const b = await analyse(v6);
    assert.ok(a.flows.length > 2000, `${a.flows.length} flows`);
    assert.equal(b.flows.length, a.flows.length);
    const differing = a.flows.filter((f, i) => f !== b.flows[i]);
    assert.deepEqual(differing.slice(0, 3), [], `${differing.length} flows differ`);
    assert.deepEqual(b.findings, a.findings);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
