/**
 * Every scenario capture ends with each endpoint in the state the RFC 793 diagram
 * gives for exactly that packet sequence (samples/scenarios/manifest.json), and the
 * rare transitions happen at the packets that cause them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import type { FlowRecord as Flow } from '../src/tcp/rfc793/flow.js';
import { openSource } from '../src/reader/index.js';
import { repoRoot } from './helpers.js';

const dir = join(repoRoot, 'samples', 'scenarios');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
  scenarios: Array<{ name: string; file: string; expect: { client: string; server: string } }>;
};

async function flowsOf(file: string): Promise<Flow[]> {
  const flows: Flow[] = [];
  await analyzeCapture(file, openSource(join(dir, file)), { onFlowEnd: (f) => flows.push(f.snapshot()) });
  return flows;
}

/** "side:FROM>TO@frame" for each transition, in order. */
function path(flow: Flow): string[] {
  return flow.transitions.map((t) => `${t.side}:${t.from ?? '-'}>${t.to}@${t.packet ?? 'timer'}`);
}

for (const s of manifest.scenarios) {
  test(`scenario ${s.name}: end states ${s.expect.client} / ${s.expect.server}`, async () => {
    const flows = await flowsOf(s.file);
    const last = flows[flows.length - 1];
    assert.deepEqual({ client: last.client.state, server: last.server.state }, s.expect, path(last).join(' '));
  });
}

test('normal close: every transition at the packet that causes it', async () => {
  const [flow] = await flowsOf('normal.pcap');
  assert.equal(flow.rolesBy, 'syn');
  assert.equal(flow.midstream, false);
  assert.deepEqual(path(flow), [
    'client:CLOSED>SYN_SENT@1',
    'server:CLOSED>LISTEN@timer',
    'server:LISTEN>SYN_RECEIVED@1',
    'client:SYN_SENT>ESTABLISHED@2',
    'server:SYN_RECEIVED>ESTABLISHED@3',
    'client:ESTABLISHED>FIN_WAIT_1@10',
    'server:ESTABLISHED>CLOSE_WAIT@10',
    'client:FIN_WAIT_1>FIN_WAIT_2@11',
    'server:CLOSE_WAIT>LAST_ACK@12',
    'client:FIN_WAIT_2>TIME_WAIT@12',
    'server:LAST_ACK>CLOSED@13',
  ]);
});

test('three-way close: FIN_WAIT_1 goes straight to TIME_WAIT on FIN+ACK of its FIN', async () => {
  const [flow] = await flowsOf('three-way-close.pcap');
  const p = path(flow);
  assert.ok(p.some((x) => /^client:FIN_WAIT_1>TIME_WAIT@\d+$/.test(x)), p.join(' '));
  assert.ok(!p.some((x) => x.startsWith('client:FIN_WAIT_1>FIN_WAIT_2')), p.join(' '));
});

test('simultaneous open: SYN_SENT -> SYN_RECEIVED -> ESTABLISHED on both sides', async () => {
  const [flow] = await flowsOf('simultaneous-open.pcap');
  const p = path(flow);
  for (const side of ['client', 'server']) {
    assert.ok(p.some((x) => x.startsWith(`${side}:SYN_SENT>SYN_RECEIVED`)), p.join(' '));
    assert.ok(p.some((x) => x.startsWith(`${side}:SYN_RECEIVED>ESTABLISHED`)), p.join(' '));
  }
});

test('simultaneous close: both sides pass through CLOSING', async () => {
  const [flow] = await flowsOf('simultaneous-close.pcap');
  const p = path(flow);
  for (const side of ['client', 'server']) {
    assert.ok(p.some((x) => x.startsWith(`${side}:FIN_WAIT_1>CLOSING`)), p.join(' '));
    assert.ok(p.some((x) => x.startsWith(`${side}:CLOSING>TIME_WAIT`)), p.join(' '));
  }
});

test('mid-connection start: both ESTABLISHED, inferred, roles from the ports', async () => {
  const [flow] = await flowsOf('midstream.pcap');
  assert.equal(flow.midstream, true);
  assert.equal(flow.rolesBy, 'port');
  assert.equal(flow.server.port, 80);
  assert.deepEqual(
    flow.transitions.slice(0, 2).map((t) => [t.to, t.inferred]),
    [
      ['ESTABLISHED', true],
      ['ESTABLISHED', true],
    ],
  );
});

test('SYN-ACK before SYN: roles still right', async () => {
  const flows = await flowsOf('synack-before-syn.pcap');
  const flow = flows[flows.length - 1];
  assert.equal(flow.server.port, 80);
});

test('retransmitted SYNs and FINs change nothing', async () => {
  const [syn] = await flowsOf('syn-retransmit.pcap');
  assert.equal(syn.transitions.filter((t) => t.side === 'client' && t.to === 'SYN_SENT').length, 1);
  const [fin] = await flowsOf('fin-retransmit.pcap');
  assert.equal(fin.transitions.filter((t) => t.to === 'FIN_WAIT_1').length, 1);
});

test('RST in SYN_SENT is a refused connection; the server had no listener', async () => {
  const [flow] = await flowsOf('rst-syn-sent.pcap');
  assert.equal(flow.endReason, 'reset');
  assert.ok(flow.transitions.some((t) => t.side === 'client' && t.cause === 'received RST (connection refused)'));
  assert.ok(!flow.transitions.some((t) => t.side === 'server' && t.to === 'LISTEN'));
});

test('TIME_WAIT expires after the configured time, in packet time', async () => {
  const flows: Flow[] = [];
  await analyzeCapture('x', openSource(join(dir, 'normal.pcap')), { onFlowEnd: (f) => flows.push(f.snapshot()), flowOptions: { timeWaitUs: 1 } });
  const tw = flows[0].transitions.find((t) => t.from === 'TIME_WAIT');
  assert.ok(tw, 'TIME_WAIT ended');
  assert.equal(tw.to, 'CLOSED');
  assert.equal(tw.packet, null);
  assert.equal(flows[0].client.state, 'CLOSED');
});
