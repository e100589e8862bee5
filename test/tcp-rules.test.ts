/**
 * TCP as a kernel runs it (issue 18): which segments a receiver accepts, a FIN taken in
 * sequence, SYN_SENT's answer to a wrong ACK, receipts proven later, late SYN-cookie answers
 * and the timers a host runs without sending anything. Each case is a tiny capture built here
 * and analysed whole, as `analyze` does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import type { FlowRecord as Flow } from '../src/tcp/rfc793/flow.js';
import { STACK_PROFILES, type FlowTableOptions } from '../src/tcp/rfc793/table.js';
import { sourceFromChunks } from '../src/reader/source.js';
import { LINKTYPE, ethernet, ipv4, parseFlags, parseIPv4, parseMac, tcp, tcpOptions, writePcap } from './scenario/writer.js';

const C = parseIPv4('192.0.2.1');
const S = parseIPv4('192.0.2.2');
const CP = 40000;
const SP = 80;
const CISN = 1000;
const SISN = 900_000;

/** One packet: seconds after the start, who sends, flags, seq and ack (absolute), payload length, SACK blocks. */
type P = [t: number, from: 'c' | 's', flags: string, seq: number, ack: number, len?: number, sack?: Array<[number, number]>];

function capture(packets: P[]): Uint8Array {
  const start = 1_800_000_000n * 1_000_000_000n;
  return writePcap(
    { endian: 'le', precision: 'us', linkType: LINKTYPE.ETHERNET, snaplen: 256 },
    packets.map(([t, from, flags, seq, ack, len = 0, sack], i) => {
      const [src, dst, sport, dport] = from === 'c' ? [C, S, CP, SP] : [S, C, SP, CP];
      const seg = tcp(
        { srcPort: sport, dstPort: dport, seq, ack, flags: parseFlags(flags), window: 1000, options: sack ? tcpOptions({ sack }) : undefined, payload: new Uint8Array(len) },
        src,
        dst,
      );
      const frame = ethernet(parseMac('02:00:00:00:00:02'), parseMac('02:00:00:00:00:01'), 0x0800, ipv4(src, dst, 6, seg, { id: i, ttl: 64, df: true }));
      return { tsNs: start + BigInt(Math.round(t * 1e6)) * 1000n, bytes: frame };
    }),
  );
}

async function flows(packets: P[], flowOptions: Partial<FlowTableOptions> = {}): Promise<Flow[]> {
  const out: Flow[] = [];
  const bytes = capture(packets);
  await analyzeCapture('rules.pcap', sourceFromChunks((async function* () { yield bytes; })()), { flowOptions, onFlowEnd: (f) => out.push(f.snapshot()) });
  return out.sort((a, b) => a.id - b.id);
}

/** "side FROM>TO @frame" per change in time order, "timer" for none, "~" when inferred. */
function path(flow: Flow): string[] {
  return flow.transitionsInTimeOrder().map((t) => `${t.side[0]} ${t.from ?? '-'}>${t.to} @${t.packet ?? 'timer'}${t.inferred ? '~' : ''}`);
}

/** The state of one side at packet time t (seconds after the start), as census reads it. */
function stateAt(flow: Flow, side: 'client' | 'server', t: number): string {
  const at = 1_800_000_000 * 1e6 + t * 1e6;
  let s = 'CLOSED';
  for (const x of flow.transitionsInTimeOrder()) if (x.side === side && x.ts <= at) s = x.to;
  return s;
}

const handshake: P[] = [
  [0, 'c', 'S', CISN, 0],
  [0.001, 's', 'SA', SISN, CISN + 1],
  [0.002, 'c', 'A', CISN + 1, SISN + 1],
];
/** The client sends 100 bytes and the server acknowledges them. */
const exchange: P[] = [...handshake, [0.1, 'c', 'PA', CISN + 1, SISN + 1, 100], [0.101, 's', 'A', SISN + 1, CISN + 101]];
const fullClose: P[] = [
  [1, 'c', 'FA', CISN + 101, SISN + 1],
  [1.001, 's', 'A', SISN + 1, CISN + 102],
  [1.2, 's', 'FA', SISN + 1, CISN + 102],
  [1.201, 'c', 'A', CISN + 102, SISN + 2],
];

test('a RST out of the receiver window changes neither side; the connection closes normally later', async () => {
  const [flow, ...more] = await flows([...exchange, [0.5, 'c', 'R', CISN + 5_000_000, 0], ...fullClose]);
  assert.equal(more.length, 0, 'one connection, not a new flow after the RST');
  assert.equal(stateAt(flow, 'client', 0.6), 'ESTABLISHED');
  assert.equal(stateAt(flow, 'server', 0.6), 'ESTABLISHED');
  assert.equal(flow.reset, false);
  assert.deepEqual([flow.client.state, flow.server.state], ['TIME_WAIT', 'CLOSED']);
});

test('a RST in the window but not at rcv_nxt draws a challenge ACK on Linux, and is taken under --stack rfc793', async () => {
  const packets: P[] = [...exchange, [0.5, 'c', 'R', CISN + 101 + 300, 0], [0.5001, 's', 'A', SISN + 1, CISN + 101], ...fullClose];
  const [linux] = await flows(packets);
  assert.equal(stateAt(linux, 'server', 0.6), 'ESTABLISHED');
  assert.equal(stateAt(linux, 'client', 0.6), 'ESTABLISHED');
  assert.deepEqual([linux.client.state, linux.server.state], ['TIME_WAIT', 'CLOSED']);
  const [rfc] = await flows(packets, STACK_PROFILES.rfc793);
  assert.equal(stateAt(rfc, 'server', 0.6), 'CLOSED');
  assert.equal(stateAt(rfc, 'client', 0.6), 'CLOSED');
});

test('a RST exactly at rcv_nxt resets both sides', async () => {
  const [flow] = await flows([...exchange, [0.5, 'c', 'R', CISN + 101, 0]]);
  assert.deepEqual([stateAt(flow, 'client', 0.6), stateAt(flow, 'server', 0.6)], ['CLOSED', 'CLOSED']);
  assert.equal(flow.reset, true);
});

test('a FIN behind a hole leaves its receiver ESTABLISHED until its ACK covers the FIN', async () => {
  const packets: P[] = [
    ...exchange,
    [1, 'c', 'PA', CISN + 101, SISN + 1, 100], // lost after the capture point
    [1.0001, 'c', 'FA', CISN + 201, SISN + 1],
    [1.001, 's', 'A', SISN + 1, CISN + 101, 0, [[CISN + 201, CISN + 202]]], // SACK above the hole
    [1.3, 'c', 'PA', CISN + 101, SISN + 1, 100], // the hole filled
    [1.301, 's', 'A', SISN + 1, CISN + 202],
  ];
  const [flow] = await flows(packets);
  assert.equal(stateAt(flow, 'server', 1.2), 'ESTABLISHED');
  assert.equal(stateAt(flow, 'server', 1.302), 'CLOSE_WAIT');
  assert.ok(path(flow).includes('s ESTABLISHED>CLOSE_WAIT @10'), path(flow).join(', '));
  // Without the hole the FIN is taken at its own frame.
  const [plain] = await flows([...exchange, [1, 'c', 'FA', CISN + 101, SISN + 1], [1.001, 's', 'A', SISN + 1, CISN + 102]]);
  assert.ok(path(plain).includes('s ESTABLISHED>CLOSE_WAIT @6'), path(plain).join(', '));
});

test('SYN_SENT answers an ACK that does not acknowledge its SYN with a RST and stays; its retransmitted SYN is the same connection', async () => {
  const packets: P[] = [
    [0, 'c', 'S', CISN, 0],
    [0.001, 's', 'A', SISN + 77, 555], // from a stale (TIME_WAIT) socket: not an ACK of this SYN
    [0.0011, 'c', 'R', 555, 0],
    [1.0, 'c', 'S', CISN, 0],
    [1.001, 's', 'SA', SISN, CISN + 1],
    [1.002, 'c', 'A', CISN + 1, SISN + 1],
  ];
  const all = await flows(packets);
  assert.equal(all.length, 1, 'the retransmitted SYN continues the same connection');
  const [flow] = all;
  assert.equal(stateAt(flow, 'client', 0.5), 'SYN_SENT');
  assert.deepEqual([flow.client.state, flow.server.state], ['ESTABLISHED', 'ESTABLISHED']);
});

test('a RST/ACK acknowledging the SYN-ACK proves it arrived: ESTABLISHED from the SYN-ACK on', async () => {
  const [flow] = await flows([[0, 'c', 'S', CISN, 0], [0.001, 's', 'SA', SISN, CISN + 1], [0.5, 'c', 'RA', CISN + 1, SISN + 1]]);
  assert.equal(stateAt(flow, 'client', 0.1), 'ESTABLISHED');
  assert.equal(stateAt(flow, 'client', 0.6), 'CLOSED');
});

test('a SYN-cookie answered late: the server had no socket between its SYN-ACK and the ACK', async () => {
  const [flow] = await flows([[0, 'c', 'S', CISN, 0], [0.001, 's', 'SA', SISN, CISN + 1], [4, 'c', 'PA', CISN + 1, SISN + 1, 10], [4.001, 's', 'A', SISN + 1, CISN + 11]]);
  assert.equal(stateAt(flow, 'server', 0.0005), 'SYN_RECEIVED');
  assert.equal(stateAt(flow, 'server', 2), 'LISTEN', path(flow).join(', '));
  assert.equal(stateAt(flow, 'server', 4.0005), 'ESTABLISHED');
  // Answered within the first retransmission timeout: a request socket waited (SYN-RECV).
  const [prompt] = await flows([[0, 'c', 'S', CISN, 0], [0.001, 's', 'SA', SISN, CISN + 1], [0.5, 'c', 'PA', CISN + 1, SISN + 1, 10]]);
  assert.equal(stateAt(prompt, 'server', 0.3), 'SYN_RECEIVED');
});

test('an orphaned FIN_WAIT_2 ends after tcp_fin_timeout; not before, and not when it reads on', async () => {
  const close: P[] = [...exchange, [1, 'c', 'FA', CISN + 101, SISN + 1], [1.001, 's', 'A', SISN + 1, CISN + 102]];
  const [flow] = await flows([...close, [70, 's', 'PA', SISN + 1, CISN + 102, 10], [70.001, 'c', 'R', CISN + 102, 0]], { finTimeoutUs: 3_000_000 });
  assert.equal(stateAt(flow, 'client', 3.9), 'FIN_WAIT_2');
  assert.equal(stateAt(flow, 'client', 4.002), 'CLOSED');
  assert.ok(path(flow).includes('c FIN_WAIT_2>CLOSED @timer~'), path(flow).join(', '));
  // The capture ends before the timer is due: the state at the end stays.
  const [early] = await flows([...close, [2, 's', 'PA', SISN + 1, CISN + 102, 10], [2.001, 'c', 'A', CISN + 102, SISN + 11]], { finTimeoutUs: 3_000_000 });
  assert.equal(early.client.state, 'FIN_WAIT_2');
  // It acknowledged new data after its FIN: a half-close, no timer.
  const [reads] = await flows([...close, [2, 's', 'PA', SISN + 1, CISN + 102, 10], [2.001, 'c', 'A', CISN + 102, SISN + 11], [9, 's', 'PA', SISN + 11, CISN + 102, 10]], { finTimeoutUs: 3_000_000 });
  assert.equal(stateAt(reads, 'client', 8), 'FIN_WAIT_2');
});

test('SYN_SENT gives up when its SYN retransmissions stop (tcp_syn_retries)', async () => {
  const syns: P[] = [[0, 'c', 'S', CISN, 0], [1, 'c', 'S', CISN, 0], [3, 'c', 'S', CISN, 0]];
  // tcp_syn_retries 2: the third SYN is the last; gone when the fourth would have been due (7 s).
  const [flow] = await flows([...syns, [20, 's', 'A', 1, 1]], { synRetries: 2 });
  assert.equal(stateAt(flow, 'client', 6.9), 'SYN_SENT');
  assert.equal(stateAt(flow, 'client', 7.1), 'CLOSED', path(flow).join(', '));
  // With the default of 6, the pattern shows the count once the capture goes on long enough.
  const [inferred] = await flows([...syns, [20, 'c', 'S', CISN + 9999, 0]]);
  assert.equal(stateAt(inferred, 'client', 7.1), 'CLOSED', path(inferred).join(', '));
  // The capture ends before that: still SYN_SENT.
  const [short] = await flows([...syns, [5, 's', 'A', 1, 1]]);
  assert.equal(short.client.state, 'SYN_SENT');
});

test('a connection gives up after tcp_retries2 retransmissions of unacknowledged data', async () => {
  const packets: P[] = [
    ...exchange,
    [1, 'c', 'PA', CISN + 101, SISN + 1, 50],
    [1.2, 'c', 'PA', CISN + 101, SISN + 1, 50],
    [1.6, 'c', 'PA', CISN + 101, SISN + 1, 50],
    [2.4, 'c', 'PA', CISN + 101, SISN + 1, 50],
    [30, 's', 'A', SISN + 1, CISN + 101],
  ];
  const [flow] = await flows(packets, { retries2: 3 });
  assert.equal(stateAt(flow, 'client', 3.9), 'ESTABLISHED');
  assert.equal(stateAt(flow, 'client', 4.01), 'CLOSED', path(flow).join(', '));
  // tcp_retries2 15 is minutes away; but no retransmission came when the next was due (4.0 s) while
  // the capture went on: it gave up there (TCP_USER_TIMEOUT, or a smaller tcp_retries2).
  const [linux] = await flows(packets);
  assert.equal(stateAt(linux, 'client', 3.9), 'ESTABLISHED');
  assert.equal(stateAt(linux, 'client', 4.01), 'CLOSED', path(linux).join(', '));
  assert.match(linux.transitions.filter((t) => t.side === 'client').at(-1)?.cause ?? '', /TCP_USER_TIMEOUT/);
  // A capture that ends before the next wait is over proves nothing.
  const [cut] = await flows([...packets.slice(0, -1), [5, 's', 'A', SISN + 1, CISN + 101]]);
  assert.equal(cut.client.state, 'ESTABLISHED', 'a retransmission may still come');
});

test('an orphan gives up on unacknowledged data after tcp_orphan_retries, as Linux models its time', async () => {
  // The client writes 50 bytes and closes (FIN_WAIT_1); nothing is acknowledged. Its RTO
  // retransmissions at 1.2, 1.6 and 2.4 s: the next timer, at 4.0 s, is 2.8 s after the first
  // retransmission, past tcp_orphan_retries 2's budget (0.2 + 0.4 + 0.8 = 1.4 s): it gives up then.
  const packets: P[] = [
    ...exchange,
    [1, 'c', 'PA', CISN + 101, SISN + 1, 50],
    [1.001, 'c', 'FA', CISN + 151, SISN + 1],
    [1.2, 'c', 'PA', CISN + 101, SISN + 1, 50],
    [1.6, 'c', 'PA', CISN + 101, SISN + 1, 50],
    [2.4, 'c', 'PA', CISN + 101, SISN + 1, 50],
    [30, 's', 'A', SISN + 1, CISN + 101],
  ];
  const [flow] = await flows(packets, { orphanRetries: 2 });
  assert.equal(stateAt(flow, 'client', 3.9), 'FIN_WAIT_1');
  assert.equal(stateAt(flow, 'client', 4.01), 'CLOSED', path(flow).join(', '));
  const [linux] = await flows(packets);
  assert.equal(stateAt(linux, 'client', 3.9), 'FIN_WAIT_1', 'tcp_orphan_retries 0 means 8: 102.2 s');
  // A half-close that reads on (it acknowledges new data after its FIN) is no orphan: tcp_retries2
  // rules it (the capture ends before a silence could say more).
  const [reads] = await flows([...packets.slice(0, -4), [1.1, 's', 'PA', SISN + 1, CISN + 101, 10], [1.101, 'c', 'A', CISN + 152, SISN + 11], ...packets.slice(-4, -1), [5, 's', 'A', SISN + 11, CISN + 101]], { orphanRetries: 2 });
  assert.equal(reads.client.state, 'FIN_WAIT_1', path(reads).join(', '));
});

test('fast retransmissions and SACK recovery are not retransmission timeouts (tcp_retries2)', async () => {
  // A bulk sender resends 20 different lost segments within 40 ms, its peer's cumulative ACK
  // stuck below them (SACK blocks above): Linux's recovery, not 20 timeouts of one segment.
  const packets: P[] = [...exchange];
  for (let i = 0; i < 20; i++) packets.push([1 + i * 0.002, 'c', 'PA', CISN + 101 + i * 100, SISN + 1, 100]);
  for (let i = 0; i < 20; i++) {
    packets.push([1.05 + i * 0.002, 's', 'A', SISN + 1, CISN + 101, 0, [[CISN + 201 + i * 100, CISN + 2101]]]);
    packets.push([1.051 + i * 0.002, 'c', 'PA', CISN + 101 + i * 100, SISN + 1, 100]);
  }
  packets.push([5, 's', 'A', SISN + 1, CISN + 2101]);
  const [flow] = await flows(packets, { retries2: 3 });
  assert.equal(stateAt(flow, 'client', 4.9), 'ESTABLISHED', path(flow).join(', '));
  assert.equal(flow.client.state, 'ESTABLISHED');
  // The same head segment resent with growing waits still counts.
  const timeouts: P[] = [...exchange, [1, 'c', 'PA', CISN + 101, SISN + 1, 50]];
  for (let i = 0, t = 1, rto = 0.2; i < 4; i++, rto *= 2) timeouts.push([(t += rto), 'c', 'PA', CISN + 101, SISN + 1, 50]);
  const [gaveUp] = await flows([...timeouts, [30, 's', 'A', SISN + 1, CISN + 151]], { retries2: 3 });
  assert.equal(gaveUp.client.state === 'CLOSED' || stateAt(gaveUp, 'client', 29) === 'CLOSED', true, path(gaveUp).join(', '));
});

/** The server closes first: it ends in TIME_WAIT from 1.2 s, the client CLOSED at 1.201 s. */
const serverCloses: P[] = [
  [1, 's', 'FA', SISN + 1, CISN + 101],
  [1.001, 'c', 'A', CISN + 101, SISN + 2],
  [1.2, 'c', 'FA', CISN + 101, SISN + 2],
  [1.201, 's', 'A', SISN + 2, CISN + 102],
];
const NEW_ISN = 50_000;

test('a SYN to a TIME_WAIT server ends its TIME_WAIT at the copy the server answers (a SYN-ACK), not at the first one', async () => {
  const [old, next, ...more] = await flows([
    ...exchange,
    ...serverCloses,
    [2, 'c', 'S', NEW_ISN, 0], // lost after the capture point: the TIME_WAIT socket never saw it
    [2.5, 's', 'A', SISN + 2, CISN + 102], // TIME_WAIT still answers the old connection
    [3, 'c', 'S', NEW_ISN, 0], // the retransmission is taken
    [3.001, 's', 'SA', 70_000, NEW_ISN + 1],
    [3.002, 'c', 'A', NEW_ISN + 1, 70_001],
  ]);
  assert.equal(more.length, 0);
  assert.equal(stateAt(old, 'server', 2.9), 'TIME_WAIT');
  assert.equal(stateAt(old, 'server', 3), 'CLOSED');
  assert.equal(old.endReason, 'reuse');
  assert.equal(old.endTs, 1_800_000_000 * 1e6 + 3e6);
  const end = old.transitions.at(-1)!;
  assert.deepEqual([end.side, end.from, end.to, end.packet, end.cause], ['server', 'TIME_WAIT', 'CLOSED', null, 'TIME_WAIT ended by a new SYN on the tuple (reuse)']);
  assert.equal(next.firstPacket, 10, 'the new connection starts at its first SYN, as before');
  assert.deepEqual([next.client.state, next.server.state], ['ESTABLISHED', 'ESTABLISHED']);
});

test('a SYN to a TIME_WAIT server answered at once by a RST: the TIME_WAIT ends at that SYN', async () => {
  const [old, next] = await flows([...exchange, ...serverCloses, [2, 'c', 'S', NEW_ISN, 0], [2.001, 's', 'RA', 0, NEW_ISN + 1]]);
  assert.equal(stateAt(old, 'server', 1.999), 'TIME_WAIT');
  assert.equal(stateAt(old, 'server', 2), 'CLOSED');
  assert.equal(old.endReason, 'reuse');
  assert.equal(next.client.state, 'CLOSED');
  assert.equal(next.resetInfo?.receiverState, 'SYN_SENT');
});

test('a SYN to a TIME_WAIT server never answered: the TIME_WAIT runs out by its timer', async () => {
  const retries = [2, 3, 5, 9, 17, 33, 65].map((t): P => [t, 'c', 'S', NEW_ISN, 0]);
  const [old, next] = await flows([...exchange, ...serverCloses, ...retries]);
  assert.equal(stateAt(old, 'server', 61.1), 'TIME_WAIT');
  assert.equal(stateAt(old, 'server', 61.2), 'CLOSED');
  assert.equal(old.transitions.at(-1)!.cause, 'TIME_WAIT expired (60 s)');
  assert.equal(old.endReason, 'closed');
  assert.equal(next.client.state, 'SYN_SENT');
});
