/**
 * Every arc of the RFC 793 state diagram (figure 6), the RST arcs and the TIME_WAIT
 * timer is taken by at least one capture (scenario writer or kernel), and the
 * one arc no capture shows is driven directly.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import { ConnTable } from '../src/conn/table.js';
import { DecodedPacket } from '../src/decode/packet.js';
import { FlowStore, FlowView } from '../src/tcp/rfc793/flow.js';
import { openSource } from '../src/reader/index.js';
import { Cause, causeTexts } from '../src/tcp/rfc793/causes.js';
import { segment, settle, type Segment } from '../src/tcp/rfc793/machine.js';
import { St } from '../src/tcp/rfc793/tcp-state.js';
import { repoRoot } from './helpers.js';
import { sourceFromChunks } from '../src/reader/source.js';
import type { FlowTableOptions } from '../src/tcp/rfc793/table.js';
import { LINKTYPE, ethernet, ipv4, parseFlags, parseIPv4, parseMac, tcp, writePcap } from './scenario/writer.js';

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
      onFlowEnd: (flow) => flow.forEachInTimeOrder((_packet, _ts, _side, from, to) => seen.add(`${from}>${to}`)),
    });
  }
  const missing = ARCS.filter((a) => !seen.has(a));
  assert.deepEqual(missing, []);
});

function seg(frame: number, flags: string, seq: number, ack: number, len = 0): Segment {
  const bits = { F: 1, S: 2, R: 4, P: 8, A: 16 } as Record<string, number>;
  return { frame, ts: frame * 1000, flags: [...flags].reduce((n, c) => n | bits[c], 0), seq, ack, len, window: 65535, windowScale: -1 };
}

/**
 * A flow of its own on a one-row table (192.0.2.1:40000 -> 192.0.2.2:`serverPort`): the store,
 * its client and server endpoints (2 * row and 2 * row + 1), and a view on it.
 */
function newFlow(serverPort = 80): { st: FlowStore; c: number; s: number; row: number; view: FlowView } {
  const table = new ConnTable();
  const p = new DecodedPacket();
  p.buf = new Uint8Array([192, 0, 2, 1, 192, 0, 2, 2]);
  p.ipVersion = 4;
  p.srcOff = 0;
  p.dstOff = 4;
  p.srcPort = 40000;
  p.dstPort = serverPort;
  const row = table.lookup(p);
  const st = new FlowStore(table, causeTexts(60_000_000, 60_000_000));
  st.open(row, 1, row);
  st.f.c.clientEnd[row] = table.dir;
  return { st, c: 2 * row, s: 2 * row + 1, row, view: new FlowView(st).at(row) };
}

test('SYN_RECEIVED -> FIN_WAIT_1: close() on a simultaneously opened socket before it is established', () => {
  const { st, c, s, view } = newFlow(40001);
  segment(st, c, s, seg(1, 'S', 1000, 0)); // client SYN, crossing
  segment(st, s, c, seg(2, 'S', 5000, 0)); // server SYN
  segment(st, c, s, seg(3, 'SA', 1000, 5001)); // client acknowledges the server's SYN: it had arrived
  segment(st, c, s, seg(4, 'FA', 1001, 5001)); // and closes before its own SYN is acknowledged
  const path = view.snapshot().transitions.filter((t) => t.side === 'client').map((t) => `${t.from}>${t.to}@${t.packet}`);
  assert.deepEqual(path, ['CLOSED>SYN_SENT@1', 'SYN_SENT>SYN_RECEIVED@2', 'SYN_RECEIVED>FIN_WAIT_1@4']);
});

test('an out-of-window RST changes nothing; an in-window one closes', () => {
  const { st, c, s, view } = newFlow();
  segment(st, c, s, seg(1, 'S', 1000, 0));
  segment(st, s, c, seg(2, 'SA', 5000, 1001));
  segment(st, c, s, seg(3, 'A', 1001, 5001));
  segment(st, s, c, seg(4, 'R', 5001 + 10_000_000, 0)); // blind RST far outside the window
  assert.equal(view.client.state, 'ESTABLISHED');
  segment(st, s, c, seg(5, 'R', 5001, 0));
  assert.equal(view.client.state, 'CLOSED');
  assert.equal(view.reset, true);
  assert.equal(view.resetInfo?.sentBy, 'server');
  assert.equal(view.resetInfo?.receiverState, 'ESTABLISHED');
});

test('a RST to a SYN that does not acknowledge it is ignored in SYN_SENT', () => {
  const { st, c, s, view } = newFlow();
  segment(st, c, s, seg(1, 'S', 1000, 0));
  segment(st, s, c, seg(2, 'RA', 0, 999));
  assert.equal(view.client.state, 'SYN_SENT');
  segment(st, s, c, seg(3, 'RA', 0, 1001));
  assert.equal(view.client.state, 'CLOSED');
});

test('transitions in packet-time order: a change recorded late for an earlier frame moves up, ties keep recording order', () => {
  const text = causeTexts(60_000_000, 60_000_000);
  const { st, row, view } = newFlow();
  st.record(row, 1, 100, 0, St.CLOSED, St.SYN_SENT, Cause.SENT_SYN, false);
  st.record(row, 3, 300, 0, St.SYN_SENT, St.ESTABLISHED, Cause.RECEIVED_SYN_ACK, false);
  // A receipt proven by a later ACK: recorded now, for frame 2's time.
  st.record(row, 2, 200, 1, St.LISTEN, St.SYN_RECEIVED, Cause.RECEIVED_SYN_PASSIVE, true);
  st.record(row, 0, 200, 1, St.SYN_RECEIVED, St.ESTABLISHED, Cause.RECEIVED_ACK_OF_SYN, false);
  const seen: unknown[] = [];
  view.forEachInTimeOrder((packet, ts, side, from, to, cause, inferred) => seen.push([packet, ts, side, from, to, cause, inferred]));
  assert.deepEqual(seen, [
    [1, 100, 'client', 'CLOSED', 'SYN_SENT', text[Cause.SENT_SYN], false],
    [2, 200, 'server', 'LISTEN', 'SYN_RECEIVED', text[Cause.RECEIVED_SYN_PASSIVE], true],
    [null, 200, 'server', 'SYN_RECEIVED', 'ESTABLISHED', text[Cause.RECEIVED_ACK_OF_SYN], false],
    [3, 300, 'client', 'SYN_SENT', 'ESTABLISHED', text[Cause.RECEIVED_SYN_ACK], false],
  ]);
  const snap = view.snapshot();
  assert.deepEqual(snap.transitionsInTimeOrder().map((t) => [t.packet, t.ts, t.side, t.from, t.to, t.cause, t.inferred]), seen);
  assert.deepEqual(snap.transitions.map((t) => t.packet), [1, 3, 2, null], 'recording order');
  // Hindsight takes back the server's last change only when it is the one named.
  assert.equal(st.revokeLast(row, 1, St.LISTEN, St.ESTABLISHED), -1);
  assert.equal(st.revokeLast(row, 1, St.SYN_RECEIVED, St.ESTABLISHED), 200);
  assert.deepEqual(view.snapshot().transitions.map((t) => t.packet), [1, 3, 2]);
  // The causes are codes: found by code, their text from the one table.
  const i = view.findTransition('client', null, 'ESTABLISHED');
  assert.equal(view.causeAt(i), Cause.RECEIVED_SYN_ACK);
  assert.equal(view.tsAt(i), 300);
  assert.equal(view.findTransition('client', null, null, Cause.SYN_COOKIE), -1);
});

test('every cause has its text, and the timers are in the timer causes', () => {
  const text = causeTexts(240_000_000, Infinity);
  assert.equal(text.length, Object.keys(Cause).length);
  assert.equal(new Set(text).size, text.length);
  assert.equal(text[Cause.TIME_WAIT_EXPIRED], 'TIME_WAIT expired (240 s)');
  assert.equal(text[Cause.FIN_WAIT_2_TIMED_OUT], 'FIN_WAIT_2 timed out (tcp_fin_timeout Infinity s)');
});

/** seg() at time `ts` (µs) instead of 1 ms per frame. */
function segAt(ts: number, frame: number, flags: string, seq: number, ack: number, len = 0): Segment {
  return { ...seg(frame, flags, seq, ack, len), ts };
}

function handshake(st: FlowStore, c: number, s: number): void {
  segment(st, c, s, segAt(0, 1, 'S', 1000, 0));
  segment(st, s, c, segAt(1_000, 2, 'SA', 5000, 1001));
  segment(st, c, s, segAt(2_000, 3, 'A', 1001, 5001));
}

test('a SYN-ACK sent again after the ACK of it passed: that ACK was dropped (full accept queue), and so is the same ACK after', () => {
  const { st, c, s, view } = newFlow();
  handshake(st, c, s);
  assert.equal(view.server.state, 'ESTABLISHED');
  segment(st, s, c, segAt(1_030_000, 4, 'SA', 5000, 1001)); // retransmitted a second after: the server never took frame 3
  assert.equal(view.server.state, 'SYN_RECEIVED');
  segment(st, c, s, segAt(1_031_000, 5, 'A', 1001, 5001)); // the same ACK again proves nothing
  assert.equal(view.server.state, 'SYN_RECEIVED');
  assert.equal(view.client.state, 'ESTABLISHED');
  const server = () => view.snapshot().transitions.filter((t) => t.side === 'server').map((t) => `${t.from}>${t.to}@${t.packet}`);
  assert.deepEqual(server(), ['CLOSED>LISTEN@null', 'LISTEN>SYN_RECEIVED@1']);
  segment(st, s, c, segAt(1_500_000, 6, 'PA', 5001, 1001, 10)); // its own data: an ACK of its SYN was taken
  assert.equal(view.server.state, 'ESTABLISHED');
  assert.deepEqual(server(), ['CLOSED>LISTEN@null', 'LISTEN>SYN_RECEIVED@1', 'SYN_RECEIVED>ESTABLISHED@6']);
});

test('a SYN-ACK crossing the ACK of it (sent before it arrived) takes nothing back', () => {
  const { st, c, s, view } = newFlow();
  handshake(st, c, s);
  segment(st, s, c, segAt(3_000, 4, 'SA', 5000, 1001));
  assert.equal(view.server.state, 'ESTABLISHED');
});

test('a FIN sent again a timeout later, its receiver silent since: not taken as arrived, even at the end', () => {
  const { st, c, s, row, view } = newFlow();
  handshake(st, c, s);
  segment(st, s, c, segAt(10_000, 4, 'FA', 5001, 1001)); // server closes
  segment(st, s, c, segAt(15_000, 5, 'FA', 5001, 1001)); // a tail loss probe: says nothing
  assert.equal(view.client.state, 'CLOSE_WAIT');
  segment(st, s, c, segAt(1_300_000, 6, 'FA', 5001, 1001)); // its retransmission timeout: the client never acknowledged it
  assert.equal(view.client.state, 'ESTABLISHED');
  assert.equal(view.server.state, 'FIN_WAIT_1');
  settle(st, row);
  assert.equal(view.client.state, 'ESTABLISHED');
  assert.deepEqual(view.snapshot().transitions.filter((t) => t.side === 'client').map((t) => `${t.from}>${t.to}`), ['CLOSED>SYN_SENT', 'SYN_SENT>ESTABLISHED']);
});

test('an unanswered FIN the receiver acknowledges at last takes effect at its own frame', () => {
  const { st, c, s, view } = newFlow();
  handshake(st, c, s);
  segment(st, s, c, segAt(10_000, 4, 'FA', 5001, 1001));
  segment(st, s, c, segAt(1_300_000, 5, 'FA', 5001, 1001));
  assert.equal(view.client.state, 'ESTABLISHED');
  segment(st, c, s, segAt(1_301_000, 6, 'A', 1001, 5002)); // its ACK was lost before the capture point, or the first copy
  assert.equal(view.client.state, 'CLOSE_WAIT');
  assert.equal(view.server.state, 'FIN_WAIT_2');
  const t = view.snapshot().transitions.find((x) => x.side === 'client' && x.to === 'CLOSE_WAIT');
  assert.equal(t?.packet, 4);
});

test('a segment from an endpoint a RST closed, long after it: that RST never arrived', () => {
  const { st, c, s, view } = newFlow();
  handshake(st, c, s);
  segment(st, c, s, segAt(4_000_000, 4, 'RA', 1001, 5001)); // the client gives up (keep-alive)
  assert.equal(view.server.state, 'CLOSED');
  segment(st, s, c, segAt(5_000_000, 5, 'FA', 5001, 1001)); // the server closes a connection it still has
  assert.equal(view.server.state, 'FIN_WAIT_1');
  assert.equal(view.reset, false);
  segment(st, c, s, segAt(5_000_100, 6, 'R', 1001, 0)); // no socket on the client
  assert.equal(view.server.state, 'CLOSED');
  assert.equal(view.resetInfo?.receiverState, 'FIN_WAIT_1');
  assert.deepEqual(
    view.snapshot().transitions.filter((t) => t.side === 'server').map((t) => `${t.from}>${t.to}@${t.packet}`),
    ['CLOSED>LISTEN@null', 'LISTEN>SYN_RECEIVED@1', 'SYN_RECEIVED>ESTABLISHED@3', 'ESTABLISHED>FIN_WAIT_1@5', 'FIN_WAIT_1>CLOSED@6'],
  );
});

test('a segment crossing the RST that closed its sender takes nothing back', () => {
  const { st, c, s, view } = newFlow();
  handshake(st, c, s);
  segment(st, c, s, segAt(4_000_000, 4, 'RA', 1001, 5001));
  segment(st, s, c, segAt(4_000_500, 5, 'PA', 5001, 1001, 10)); // sent before the RST arrived
  assert.equal(view.server.state, 'CLOSED');
  assert.equal(view.reset, true);
});

/** Packets of one flow through the whole table (its timers): [seconds, sender, flags, seq, ack, len, window]. */
async function tableFlow(packets: Array<[number, 'c' | 's', string, number, number, number, number]>, flowOptions: Partial<FlowTableOptions>) {
  const C = parseIPv4('192.0.2.1');
  const S = parseIPv4('192.0.2.2');
  const start = 1_800_000_000n * 1_000_000_000n;
  const bytes = writePcap(
    { endian: 'le', precision: 'us', linkType: LINKTYPE.ETHERNET, snaplen: 256 },
    packets.map(([t, from, flags, seq, ack, len, window], i) => {
      const [src, dst, sport, dport] = from === 'c' ? [C, S, 40000, 80] : [S, C, 80, 40000];
      const seg = tcp({ srcPort: sport, dstPort: dport, seq, ack, flags: parseFlags(flags), window, payload: new Uint8Array(len) }, src, dst);
      const frame = ethernet(parseMac('02:00:00:00:00:02'), parseMac('02:00:00:00:00:01'), 0x0800, ipv4(src, dst, 6, seg, { id: i, ttl: 64, df: true }));
      return { tsNs: start + BigInt(Math.round(t * 1e6)) * 1000n, bytes: frame };
    }),
  );
  const out: Array<ReturnType<FlowView['snapshot']>> = [];
  await analyzeCapture('probe.pcap', sourceFromChunks((async function* () { yield bytes; })()), { flowOptions, onFlowEnd: (f) => out.push(f.snapshot()) });
  const flow = out[0];
  const stateAt = (side: 'client' | 'server', t: number): string => {
    let st = 'CLOSED';
    for (const x of flow.transitionsInTimeOrder()) if (x.side === side && x.ts <= 1_800_000_000 * 1e6 + t * 1e6) st = x.to;
    return st;
  };
  return { flow, stateAt };
}

test('zero-window probes unanswered tcp_retries2 times: the persist timer gives up, without a packet', async () => {
  // The server acknowledges the client's 100 bytes with a zero window and reads no more. The
  // client probes at snd_una-1 with no data: the first probe (0.4 s) is answered, then three go
  // unanswered (0.9, 1.9, 3.9 s). With tcp_retries2 3 the next persist timer gives up: 4 probes
  // since the window closed, so the backoff stopped doubling at 3 (the wait is the last, 2 s): 5.9 s.
  const packets: Array<[number, 'c' | 's', string, number, number, number, number]> = [
    [0, 'c', 'S', 1000, 0, 0, 1000],
    [0.001, 's', 'SA', 5000, 1001, 0, 1000],
    [0.002, 'c', 'A', 1001, 5001, 0, 1000],
    [0.1, 'c', 'PA', 1001, 5001, 100, 1000],
    [0.101, 's', 'A', 5001, 1101, 0, 0],
    [0.4, 'c', 'A', 1100, 5001, 0, 1000],
    [0.401, 's', 'A', 5001, 1101, 0, 0],
    [0.9, 'c', 'A', 1100, 5001, 0, 1000],
    [1.9, 'c', 'A', 1100, 5001, 0, 1000],
    [3.9, 'c', 'A', 1100, 5001, 0, 1000],
  ];
  // The server's last word, after the give-up (answered by nothing: the client's socket is gone).
  const late: [number, 's', string, number, number, number, number] = [8, 's', 'A', 5001, 1101, 0, 0];
  const given = await tableFlow([...packets, late], { retries2: 3 });
  assert.equal(given.stateAt('client', 5.8), 'ESTABLISHED');
  assert.equal(given.stateAt('client', 5.95), 'CLOSED', given.flow.transitionsInTimeOrder().map((t) => `${t.side} ${t.to} ${t.cause}`).join('; '));
  assert.equal(given.stateAt('server', 7), 'ESTABLISHED');
  // tcp_retries2 15 (Linux's default): still probing.
  assert.equal((await tableFlow([...packets, late], {})).stateAt('client', 7), 'ESTABLISHED');
  // An ACK from the server after the third probe answers it: the count starts again.
  const answered = await tableFlow([...packets.slice(0, -1), [1.901, 's', 'A', 5001, 1101, 0, 0], packets[packets.length - 1], late], { retries2: 3 });
  assert.equal(answered.stateAt('client', 7), 'ESTABLISHED');
});

test('a SYN with another ISN outside the window of a server in SYN_RECEIVED changes neither end; inside it, a new connection', async () => {
  // The client's handshake ACK never reaches the wire; a SYN with another ISN (2^31 away) comes on
  // the tuple; the server answers it with an ACK of the first SYN and later resends its SYN-ACK;
  // the client's request acknowledges that SYN-ACK: one connection, established on both ends.
  const packets: Array<[number, 'c' | 's', string, number, number, number, number]> = [
    [0, 'c', 'S', 1000, 0, 0, 64240],
    [0.001, 's', 'SA', 5000, 1001, 0, 65160],
    [0.8, 'c', 'S', 1000 + 2 ** 31, 0, 0, 64240],
    [0.801, 's', 'A', 5001, 1001, 0, 63],
    [1.0, 's', 'SA', 5000, 1001, 0, 65160],
    [1.4, 'c', 'PA', 1001, 5001, 12, 63],
    [1.401, 's', 'A', 5001, 1013, 0, 64],
  ];
  const { flow, stateAt } = await tableFlow(packets, {});
  assert.equal(flow.endReason, 'end_of_capture', flow.transitionsInTimeOrder().map((t) => `${t.side} ${t.to} ${t.cause}`).join('; '));
  assert.equal(stateAt('client', 0.9), 'ESTABLISHED');
  assert.equal(stateAt('server', 0.9), 'SYN_RECEIVED');
  assert.equal(stateAt('server', 1.5), 'ESTABLISHED');
  // Inside the window (a few bytes past the first ISN), the SYN is a new connection: the first flow ends.
  const inside = packets.map((p, i): [number, 'c' | 's', string, number, number, number, number] => (i === 2 ? [0.8, 'c', 'S', 1010, 0, 0, 64240] : p));
  assert.equal((await tableFlow(inside, {})).flow.endReason, 'reuse');
});
