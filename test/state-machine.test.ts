/**
 * Every arc of the RFC 793 state diagram (figure 6), the RST arcs and the TIME_WAIT
 * timer is taken by at least one capture (scenario writer or kernel), and the
 * one arc no capture shows is driven directly.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/analyze/capture.js';
import { Endpoint, Flow } from '../src/flow/flow.js';
import { openSource } from '../src/reader/index.js';
import { segment, type Segment } from '../src/state/machine.js';
import { repoRoot } from './helpers.js';

const ARCS = [
  'CLOSED>SYN_SENT', // active open, snd SYN
  'LISTEN>SYN_RECEIVED', // rcv SYN, snd SYN,ACK
  'SYN_SENT>SYN_RECEIVED', // rcv SYN (simultaneous open)
  'SYN_SENT>ESTABLISHED', // rcv SYN,ACK
  'SYN_RECEIVED>ESTABLISHED', // rcv ACK of SYN
  'SYN_RECEIVED>LISTEN', // rcv RST (passive open)
  'ESTABLISHED>FIN_WAIT_1', // close, snd FIN
  'ESTABLISHED>CLOSE_WAIT', // rcv FIN
  'FIN_WAIT_1>FIN_WAIT_2', // rcv ACK of FIN
  'FIN_WAIT_1>CLOSING', // rcv FIN (simultaneous close)
  'FIN_WAIT_1>TIME_WAIT', // rcv FIN with ACK of FIN
  'FIN_WAIT_2>TIME_WAIT', // rcv FIN
  'CLOSING>TIME_WAIT', // rcv ACK of FIN
  'CLOSE_WAIT>LAST_ACK', // close, snd FIN
  'LAST_ACK>CLOSED', // rcv ACK of FIN
  'TIME_WAIT>CLOSED', // timeout 2MSL (or a new SYN)
  // RST in each synchronized state
  'SYN_SENT>CLOSED',
  'ESTABLISHED>CLOSED',
  'FIN_WAIT_1>CLOSED',
  'FIN_WAIT_2>CLOSED',
  'CLOSE_WAIT>CLOSED',
  'CLOSING>CLOSED',
];

test('every arc of the RFC 793 diagram is taken by some capture', async () => {
  const seen = new Set<string>();
  const captures: string[] = [];
  const scen = join(repoRoot, 'samples', 'scenarios');
  for (const f of readdirSync(scen)) if (/\.pcap(ng)?$/.test(f)) captures.push(join(scen, f));
  const kernel = join(repoRoot, 'samples', 'kernel');
  for (const d of readdirSync(kernel, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of readdirSync(join(kernel, d.name))) if (/\.pcap(ng)?$/.test(f)) captures.push(join(kernel, d.name, f));
  }
  for (const c of captures) {
    await analyzeCapture(c, openSource(c), {
      flowOptions: { timeWaitUs: 1_000 },
      onFlowEnd: (flow) => flow.transitions.forEach((t) => seen.add(`${t.from}>${t.to}`)),
    });
  }
  const missing = ARCS.filter((a) => !seen.has(a));
  assert.deepEqual(missing, []);
});

function seg(frame: number, flags: string, seq: number, ack: number, len = 0): Segment {
  const bits = { F: 1, S: 2, R: 4, P: 8, A: 16 } as Record<string, number>;
  return { frame, ts: frame * 1000, flags: [...flags].reduce((n, c) => n | bits[c], 0), seq, ack, len, window: 65535, windowScale: -1 };
}

test('SYN_RECEIVED -> FIN_WAIT_1: close() on a simultaneously opened socket before it is established', () => {
  const flow = new Flow(1, 4, new Endpoint('client', '192.0.2.1', 40000), new Endpoint('server', '192.0.2.2', 40001));
  const c = flow.client;
  const s = flow.server;
  segment(flow, c, s, seg(1, 'S', 1000, 0)); // client SYN, crossing
  segment(flow, s, c, seg(2, 'S', 5000, 0)); // server SYN
  segment(flow, c, s, seg(3, 'SA', 1000, 5001)); // client acknowledges the server's SYN: it had arrived
  segment(flow, c, s, seg(4, 'FA', 1001, 5001)); // and closes before its own SYN is acknowledged
  const path = flow.transitions.filter((t) => t.side === 'client').map((t) => `${t.from}>${t.to}@${t.packet}`);
  assert.deepEqual(path, ['CLOSED>SYN_SENT@1', 'SYN_SENT>SYN_RECEIVED@2', 'SYN_RECEIVED>FIN_WAIT_1@4']);
});

test('an out-of-window RST changes nothing; an in-window one closes', () => {
  const flow = new Flow(1, 4, new Endpoint('client', '192.0.2.1', 40000), new Endpoint('server', '192.0.2.2', 80));
  const c = flow.client;
  const s = flow.server;
  segment(flow, c, s, seg(1, 'S', 1000, 0));
  segment(flow, s, c, seg(2, 'SA', 5000, 1001));
  segment(flow, c, s, seg(3, 'A', 1001, 5001));
  segment(flow, s, c, seg(4, 'R', 5001 + 10_000_000, 0)); // blind RST far outside the window
  assert.equal(c.state, 'ESTABLISHED');
  segment(flow, s, c, seg(5, 'R', 5001, 0));
  assert.equal(c.state, 'CLOSED');
  assert.equal(flow.reset, true);
});

test('a RST to a SYN that does not acknowledge it is ignored in SYN_SENT', () => {
  const flow = new Flow(1, 4, new Endpoint('client', '192.0.2.1', 40000), new Endpoint('server', '192.0.2.2', 80));
  segment(flow, flow.client, flow.server, seg(1, 'S', 1000, 0));
  segment(flow, flow.server, flow.client, seg(2, 'RA', 0, 999));
  assert.equal(flow.client.state, 'SYN_SENT');
  segment(flow, flow.server, flow.client, seg(3, 'RA', 0, 1001));
  assert.equal(flow.client.state, 'CLOSED');
});

test('the flow index finds each flow from both directions, even when every key collides', async () => {
  const { FlowIndex } = await import('../src/flow/table.js');
  const { DecodedPacket } = await import('../src/decode/index.js');
  // Just the addresses, back to back, and the ports.
  const between = (version: 4 | 6, src: number[], sport: number, dst: number[], dport: number) => {
    const p = new DecodedPacket();
    p.reset(Uint8Array.from([...src, ...dst]), 2 * src.length);
    p.ipVersion = version;
    p.srcOff = 0;
    p.dstOff = src.length;
    p.srcPort = sport;
    p.dstPort = dport;
    return p;
  };
  const packet = (src: number[], sport: number, dst: number[], dport: number) => between(4, src, sport, dst, dport);
  for (const index of [new FlowIndex(), new FlowIndex(() => 7)]) {
    const flows = [1, 2, 3].map((i) => new Flow(i, 4, new Endpoint('client', `192.0.2.${i}`, 40000 + i), new Endpoint('server', '192.0.2.200', 80)));
    flows.forEach((f, i) => index.add(packet([192, 0, 2, i + 1], 40001 + i, [192, 0, 2, 200], 80), f));
    assert.equal(index.get(packet([192, 0, 2, 200], 80, [192, 0, 2, 2], 40002)), flows[1]);
    assert.equal(index.get(packet([192, 0, 2, 3], 40003, [192, 0, 2, 200], 80)), flows[2]);
    assert.equal(index.get(packet([192, 0, 2, 3], 40004, [192, 0, 2, 200], 80)), undefined);
    index.delete(flows[0]);
    assert.equal(index.get(packet([192, 0, 2, 1], 40001, [192, 0, 2, 200], 80)), undefined);
    assert.equal(index.get(packet([192, 0, 2, 2], 40002, [192, 0, 2, 200], 80)), flows[1]);
    assert.equal(index.size, 2);
  }
  // IPv6: the same, hashed from the 36 bytes of the pair (no string key).
  const addr6 = (host: number) => [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), host];
  const packet6 = (src: number, sport: number, dst: number, dport: number) => between(6, addr6(src), sport, addr6(dst), dport);
  for (const index of [new FlowIndex(), new FlowIndex(undefined, () => 7)]) {
    const flows = [1, 2, 3].map((i) => new Flow(i, 6, new Endpoint('client', `2001:db8::${i}`, 40000 + i), new Endpoint('server', '2001:db8::c8', 80)));
    flows.forEach((f, i) => index.add(packet6(i + 1, 40001 + i, 200, 80), f));
    // A client above the server (the pair's order flips) and a port-only difference.
    const high = new Flow(4, 6, new Endpoint('client', '2001:db8::fa', 80), new Endpoint('server', '2001:db8::c8', 81));
    index.add(packet6(250, 80, 200, 81), high);
    assert.equal(index.get(packet6(200, 80, 2, 40002)), flows[1]);
    assert.equal(index.get(packet6(3, 40003, 200, 80)), flows[2]);
    assert.equal(index.get(packet6(200, 81, 250, 80)), high);
    assert.equal(index.get(packet6(250, 81, 200, 80)), undefined);
    assert.equal(index.get(packet6(3, 40004, 200, 80)), undefined);
    assert.equal(index.get(packet6(4, 40003, 200, 80)), undefined);
    index.delete(flows[0]);
    assert.equal(index.get(packet6(1, 40001, 200, 80)), undefined);
    assert.equal(index.get(packet6(2, 40002, 200, 80)), flows[1]);
    index.delete(high);
    assert.equal(index.get(packet6(250, 80, 200, 81)), undefined);
    // Both ends on one address (loopback): the ports order the pair.
    const loop = new Flow(5, 6, new Endpoint('client', '2001:db8::9', 40009), new Endpoint('server', '2001:db8::9', 80));
    index.add(packet6(9, 40009, 9, 80), loop);
    assert.equal(index.get(packet6(9, 80, 9, 40009)), loop);
    assert.equal(index.get(packet6(9, 40009, 9, 80)), loop);
    index.delete(loop);
    assert.equal(index.size, 2);
  }
});

test('transitions in packet-time order: a change recorded late for an earlier frame moves up, ties keep recording order', () => {
  const flow = new Flow(1, 4, new Endpoint('client', '192.0.2.1', 40000), new Endpoint('server', '192.0.2.2', 80));
  flow.recordTransition(1, 100, 'client', 'CLOSED', 'SYN_SENT', 'sent SYN', false);
  flow.recordTransition(3, 300, 'client', 'SYN_SENT', 'ESTABLISHED', 'received SYN-ACK', false);
  // A receipt proven by a later ACK: recorded now, for frame 2's time.
  flow.recordTransition(2, 200, 'server', 'LISTEN', 'SYN_RECEIVED', 'received SYN', true);
  flow.recordTransition(null, 200, 'server', 'SYN_RECEIVED', 'ESTABLISHED', 'tie at 200', false);
  const seen: unknown[] = [];
  flow.forEachInTimeOrder((packet, ts, side, from, to, cause, inferred) => seen.push([packet, ts, side, from, to, cause, inferred]));
  assert.deepEqual(seen, [
    [1, 100, 'client', 'CLOSED', 'SYN_SENT', 'sent SYN', false],
    [2, 200, 'server', 'LISTEN', 'SYN_RECEIVED', 'received SYN', true],
    [null, 200, 'server', 'SYN_RECEIVED', 'ESTABLISHED', 'tie at 200', false],
    [3, 300, 'client', 'SYN_SENT', 'ESTABLISHED', 'received SYN-ACK', false],
  ]);
  assert.deepEqual(flow.transitionsInTimeOrder().map((t) => [t.packet, t.ts, t.side, t.from, t.to, t.cause, t.inferred]), seen);
  // Already in order: as recorded.
  const inOrder = new Flow(2, 4, new Endpoint('client', '192.0.2.1', 40001), new Endpoint('server', '192.0.2.2', 80));
  inOrder.recordTransition(5, 10, 'client', null, 'SYN_SENT', 'sent SYN', false);
  inOrder.recordTransition(6, 10, 'server', null, 'LISTEN', 'listening', true);
  const two: unknown[] = [];
  inOrder.forEachInTimeOrder((packet, ts, side, from, to) => two.push([packet, ts, side, from, to]));
  assert.deepEqual(two, [[5, 10, 'client', null, 'SYN_SENT'], [6, 10, 'server', null, 'LISTEN']]);
});
