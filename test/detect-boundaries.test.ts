/**
 * Every connection and host finding at its thresholds (issue #6), on captures built in
 * memory by the scenario writer (test/scenario): just under a threshold there is no
 * finding, just over it there is one, and it carries the details a user needs (port,
 * counts, side, states, bytes, episode figures...).
 *
 * The boundaries are those of the documented defaults (stuck_close_wait 5 s, unresponsive_peer
 * 3 retransmissions over 10 s, syn_flood 100 half-open per second, time_wait_pileup 200,
 * port_exhaustion_risk half of 28232 ports within 60 s): no threshold is lowered to get them.
 * Options are given only (a) to check that a threshold given is the one applied, and (b) in the
 * port-exhaustion time-window and one-destination checks, where `ephemeralPorts: 20` (10 ports)
 * keeps each case to a dozen connections instead of 14116. Where the documentation says which
 * side of a threshold counts ("longer than", "at least", "that make"), the exact value is
 * tested too.
 *
 * Single connections come from the scenario language (describe.ts: client 192.0.2.10, server
 * 192.0.2.20:80, capture next to the client); captures with many hosts and ports from `Capture`
 * below, on the same wire writers (writer.ts). Nothing is written to disk.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TSHARK_FIELDS } from '../src/tcp/wireshark/flags.js';
import { analyzeCapture, type CaptureSummary } from '../src/pipeline.js';
import type { ConnectionThresholds } from '../src/detect/connection.js';
import type { Finding } from '../src/detect/finding.js';
import type { HostThresholds } from '../src/detect/hosts.js';
import { KINDS } from '../src/detect/catalogue.js';
import { evaluate, parseChecks } from '../src/detect/checks.js';
import type { FlowRecord as Flow } from '../src/tcp/rfc793/flow.js';
import { sourceFromChunks } from '../src/reader/index.js';
import { hash32, runConversation, type Conversation, type Step } from './scenario/describe.js';
import { frameOf } from './scenario/scenarios.js';
import { LINKTYPE, writePcap, type PcapOptions } from './scenario/writer.js';
import { Capture, shortConnection, type Addr, type Side } from './scenario/conns.js';

// ---------------------------------------------------------------- running the analysis

const PCAP: PcapOptions = { endian: 'le', precision: 'us', linkType: LINKTYPE.ETHERNET, snaplen: 262144 };
/** tshark's per-packet kinds: left out where a test lists "the findings" of a capture. */
const PACKET_KINDS = new Set(TSHARK_FIELDS.map(([k]) => k));

interface Run {
  summary: CaptureSummary;
  all: Finding[];
  /** Connection and host findings (per-packet kinds left out). */
  findings: Finding[];
  flows: Flow[];
}

async function analyze(bytes: Uint8Array, thresholds: Partial<ConnectionThresholds & HostThresholds> = {}): Promise<Run> {
  const all: Finding[] = [];
  const flows: Flow[] = [];
  async function* whole(): AsyncGenerator<Uint8Array> {
    yield bytes;
  }
  const summary = await analyzeCapture('boundaries.pcap', sourceFromChunks(whole()), {
    onFinding: (f) => all.push(f),
    onFlowEnd: (f) => flows.push(f.snapshot()),
    thresholds,
  });
  assert.equal(summary.status, 'complete');
  return { summary, all, findings: all.filter((f) => !PACKET_KINDS.has(f.kind)), flows };
}

const ofKind = (r: Run, kind: string) => r.all.filter((f) => f.kind === kind);
/** The kinds of a run's connection and host findings, sorted, with their counts. */
function kindCounts(r: Run): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of [...r.findings].sort((a, b) => a.kind.localeCompare(b.kind))) out[f.kind] = (out[f.kind] ?? 0) + 1;
  return out;
}

// ---------------------------------------------------------------- one conversation (describe.ts)

/** A whole second, so that every time below is exact in a microsecond pcap. */
const START = '2025-01-06T12:00:00.000000000Z';
const START_US = Date.UTC(2025, 0, 6, 12) * 1000;
const SERVER = '192.0.2.20:80';

/** Microseconds after the start as the step language's absolute time ('5.990000'). */
const at = (us: number) => `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;

function conversation(steps: Step[], more: Partial<Conversation> = {}): Uint8Array {
  const run = runConversation({ seed: 'boundaries', start: START, steps, ...more });
  return writePcap(
    PCAP,
    run.segments.map((s) => ({ tsNs: s.tsNs, bytes: frameOf({ type: 'ethernet' }, s.from, s.etherType, s.ip) })),
  );
}

/** Handshake, a 117-byte request, a 1448-byte response, all acknowledged: frames 1-7, over by 0.05 s. */
const opened: Step[] = [
  { from: 'client', flags: 'S', t: '0' },
  { from: 'server', flags: 'SA', t: '0.020' },
  { from: 'client', flags: 'A', t: '0.020100' },
  { from: 'client', flags: 'PA', len: 117, t: '0.020200' },
  { from: 'server', flags: 'A', t: '0.040200' },
  { from: 'server', flags: 'PA', len: 1448, t: '0.041' },
  { from: 'client', flags: 'A', t: '0.041100' },
];
const REQUEST = 117;
const RESPONSE = 1448;

// ---------------------------------------------------------------- many connections (writer.ts)

/** µs since the epoch of a whole second (slot-aligned for the SYN-flood windows). */
const T0 = Date.UTC(2025, 0, 6, 12) * 1000;
const CLIENT_IP = '192.0.2.10';
const SERVER_IP = '192.0.2.20';
const LISTENER: Addr = [SERVER_IP, 80];

// ---------------------------------------------------------------- stuck_close_wait (default 5 s, "longer than")

/** The client closes at 1 s; the server (CLOSE_WAIT from that FIN) sends its own FIN `heldUs` later. */
const closeWaitLate = (heldUs: number) =>
  conversation([
    ...opened,
    { from: 'client', flags: 'FA', t: '1' },
    { from: 'server', flags: 'A', t: '1.020' },
    { from: 'server', flags: 'FA', t: at(1e6 + heldUs) },
    { from: 'client', flags: 'A', t: at(1e6 + heldUs + 100) },
  ]);

/** The client closes at 1 s; the server never does, and its last data ends the capture `heldUs` later. */
const closeWaitStill = (heldUs: number) =>
  conversation([
    ...opened,
    { from: 'client', flags: 'FA', t: '1' },
    { from: 'server', flags: 'A', t: '1.020' },
    { from: 'server', flags: 'PA', len: 10, t: at(1e6 + heldUs) },
  ]);

test('stuck_close_wait, FIN sent late: 4.99 s and exactly 5 s are not stuck, 5.000001 s and 5.01 s are (default 5 s, "longer than")', async () => {
  for (const held of [4_990_000, 4_999_999, 5_000_000]) {
    const r = await analyze(closeWaitLate(held));
    assert.deepEqual(kindCounts(r), {}, `held ${held} µs`);
  }
  for (const held of [5_000_001, 5_010_000]) {
    const r = await analyze(closeWaitLate(held));
    assert.deepEqual(kindCounts(r), { stuck_close_wait: 1 }, `held ${held} µs`);
    const [f] = r.findings;
    assert.equal(f.side, 'server');
    assert.equal(f.severity, 'warning');
    assert.equal(f.flow, 1);
    assert.equal(f.packet, 8, 'the frame of the FIN that put it in CLOSE_WAIT');
    assert.equal(f.ts, START_US + 1_000_000);
    assert.equal(f.details.seconds, held / 1e6);
    assert.equal(f.details.still_at_end, false);
    assert.equal(f.details.threshold_seconds, 5);
    // The peer's state is its state at the end: it left FIN_WAIT_2 for TIME_WAIT when the late FIN came.
    assert.equal(f.details.peer_state, 'TIME_WAIT');
    assert.match(f.message, /^server 192\.0\.2\.20:80 was in CLOSE_WAIT 5\.0[01] s after the peer's FIN: the application was late to call close\(\)$/);
  }
});

test('stuck_close_wait, still in CLOSE_WAIT at the end: 4.99 s and exactly 5 s are a note, 5.01 s is stuck, naming the peer in FIN_WAIT_2', async () => {
  for (const held of [4_990_000, 5_000_000]) {
    const r = await analyze(closeWaitStill(held));
    assert.deepEqual(kindCounts(r), { stuck_close_wait: 1 }, `held ${held} µs`);
    assert.equal(r.findings[0].severity, 'note');
    assert.match(r.findings[0].message, /is still in CLOSE_WAIT when the capture ends, (4\.99|5\.00) s after the peer's FIN, its peer waiting in FIN_WAIT_2 \(under the 5\.00? s threshold\): the application had not called close\(\) yet/);
    assert.equal(r.flows[0].server.state, 'CLOSE_WAIT');
  }
  const r = await analyze(closeWaitStill(5_010_000));
  assert.deepEqual(kindCounts(r), { stuck_close_wait: 1 });
  const [f] = r.findings;
  assert.equal(f.side, 'server');
  assert.equal(f.severity, 'error');
  assert.equal(f.packet, 8);
  assert.equal(f.details.seconds, 5.01);
  assert.equal(f.details.still_at_end, true);
  assert.equal(f.details.peer_state, 'FIN_WAIT_2');
  assert.match(f.message, /is still in CLOSE_WAIT 5\.01 s after the peer's FIN, its peer waiting in FIN_WAIT_2: the application never called close\(\)/);
  // With the threshold given, the same capture is judged against it.
  assert.deepEqual(ofKind(await analyze(closeWaitStill(5_010_000), { closeWaitUs: 5_010_000 }), 'stuck_close_wait').map((x) => x.severity), ['note']);
  assert.deepEqual(ofKind(await analyze(closeWaitStill(5_010_000), { closeWaitUs: 5_009_999 }), 'stuck_close_wait').map((x) => x.severity), ['error']);
});

// ---------------------------------------------------------------- unresponsive_peer (3 retransmissions, 10 s)

/** New data at 1 s, never acknowledged, retransmitted at these offsets (µs) after it. */
const unresponsive = (retransmittedAfter: number[]) =>
  conversation([
    ...opened,
    { from: 'client', flags: 'PA', len: 100, t: '1', lost: true },
    ...retransmittedAfter.map((d): Step => ({ from: 'client', flags: 'PA', len: 100, rseq: REQUEST + 1, t: at(1e6 + d), lost: true })),
  ]);

test('unresponsive_peer: 3 retransmissions over 10.1 s and exactly 10 s are unresponsive; 9.9 s, or 2 retransmissions, are not', async () => {
  const cases: Array<[number[], boolean, string]> = [
    [[1_000_000, 3_000_000, 10_100_000], true, '3 over 10.1 s'],
    [[1_000_000, 3_000_000, 10_000_000], true, '3 over exactly 10 s ("for this long")'],
    [[1_000_000, 3_000_000, 9_999_999], false, '3 over 9.999999 s'],
    [[1_000_000, 3_000_000, 9_900_000], false, '3 over 9.9 s'],
    [[3_000_000, 10_100_000], false, '2 over 10.1 s'],
    [[1_000_000, 3_000_000, 7_000_000, 15_000_000], true, '4 over 15 s'],
  ];
  for (const [after, found, what] of cases) {
    const r = await analyze(unresponsive(after));
    assert.deepEqual(kindCounts(r), found ? { unresponsive_peer: 1 } : {}, what);
    if (!found) continue;
    const [f] = r.findings;
    assert.equal(f.side, 'client', what);
    assert.equal(f.severity, 'error');
    assert.equal(f.packet, 8, 'the first unacknowledged segment');
    assert.equal(f.ts, START_US + 1_000_000);
    assert.equal(f.details.retransmissions, after.length, what);
    assert.equal(f.details.seconds, after[after.length - 1] / 1e6, what);
    assert.equal(f.details.peer, SERVER);
    assert.match(f.message, new RegExp(`^client 192\\.0\\.2\\.10:\\d+ retransmitted ${after.length} times over .* and 192\\.0\\.2\\.20:80 never acknowledged`));
  }
  // The thresholds given: 3 retransmissions over 10.1 s are not enough for 4, or for 10.100001 s.
  assert.equal(ofKind(await analyze(unresponsive([1_000_000, 3_000_000, 10_100_000]), { unresponsiveRetransmissions: 4 }), 'unresponsive_peer').length, 0);
  assert.equal(ofKind(await analyze(unresponsive([1_000_000, 3_000_000, 10_100_000]), { unresponsiveUs: 10_100_001 }), 'unresponsive_peer').length, 0);
  assert.equal(ofKind(await analyze(unresponsive([3_000_000, 10_100_000]), { unresponsiveRetransmissions: 2 }), 'unresponsive_peer').length, 1);
});

// ---------------------------------------------------------------- connection_refused

test('connection_refused: a RST answering the SYN, with the port, the host and the SYNs it took; a RST that does not acknowledge the SYN refuses nothing', async () => {
  const once = await analyze(conversation([{ from: 'client', flags: 'S', t: '0' }, { from: 'server', flags: 'RA', seq: 0, win: 0, t: '0.020' }]));
  assert.deepEqual(kindCounts(once), { connection_refused: 1 });
  const [f] = once.findings;
  assert.equal(f.side, 'server');
  assert.equal(f.severity, 'warning');
  assert.equal(f.packet, 2);
  assert.deepEqual(f.details, { client: '192.0.2.10', server: '192.0.2.20', port: 80, syns: 1, accepted: 0, answered: 0 });
  assert.match(f.message, /^192\.0\.2\.10:\d+ -> 192\.0\.2\.20:80 refused: RST answered the SYN; nothing listens on port 80$/);

  // The SYN sent three times (two retransmissions lost) before the RST: counted.
  const retried = await analyze(
    conversation([
      { from: 'client', flags: 'S', t: '0', lost: true },
      { from: 'client', flags: 'S', t: '1', lost: true },
      { from: 'client', flags: 'S', t: '3' },
      { from: 'server', flags: 'RA', seq: 0, win: 0, t: '3.020' },
    ]),
  );
  assert.deepEqual(kindCounts(retried), { connection_refused: 1 });
  assert.equal(retried.findings[0].details.syns, 3);
  assert.equal(retried.findings[0].packet, 4);
  assert.match(retried.findings[0].message, /refused: RST answered the SYN \(after 3 SYNs\); nothing listens on port 80/);

  // Just under: the RST acknowledges something else than the SYN; SYN_SENT ignores it.
  const stray = await analyze(
    conversation([{ from: 'client', flags: 'S', t: '0' }, { from: 'server', flags: 'RA', seq: 0, ack: 1_000_002, win: 0, t: '0.020' }], {
      isn: { client: 1_000_000, server: 7_000_000 },
    }),
  );
  assert.deepEqual(kindCounts(stray), { syn_unanswered: 1 });
  assert.equal(stray.flows[0].client.state, 'SYN_SENT');
});

test('connection_refused: each refused attempt is one finding naming the host and port; three attempts at :8080 give three, one at :8081 one', async () => {
  const cap = new Capture();
  const client: Addr = [CLIENT_IP, 40000];
  for (let i = 0; i < 3; i++) {
    cap
      .conn(client, [SERVER_IP, 8080], `attempt ${i}`)
      .send('client', 'S', T0 + i * 1_000_000)
      .send('server', 'RA', T0 + i * 1_000_000 + 200, { seq: 0 });
  }
  cap.conn([CLIENT_IP, 40001], [SERVER_IP, 8081]).send('client', 'S', T0 + 5_000_000).send('server', 'RA', T0 + 5_000_200, { seq: 0 });
  const r = await analyze(cap.bytes());
  assert.deepEqual(kindCounts(r), { connection_refused: 4 });
  assert.deepEqual(
    r.findings.map((f) => [f.flow, f.packet, f.details.client, f.details.server, f.details.port, f.details.syns]),
    [
      [1, 2, CLIENT_IP, SERVER_IP, 8080, 1],
      [2, 4, CLIENT_IP, SERVER_IP, 8080, 1],
      [3, 6, CLIENT_IP, SERVER_IP, 8080, 1],
      [4, 8, CLIENT_IP, SERVER_IP, 8081, 1],
    ],
  );
});

test('connection_refused: a port that accepted connections in the capture, before the refusal or after it, is not said to have no listener', async () => {
  const cap = new Capture();
  // Refused at 0.5 s; the same server:port completes a connection at 0.1 s and two after the refusal, and answers one SYN that goes no further.
  cap.conn([CLIENT_IP, 40000], LISTENER).send('client', 'S', T0 + 500_000).send('server', 'RA', T0 + 500_200, { seq: 0 });
  for (const [j, t] of [100_000, 1_000_000, 1_100_000].entries()) shortConnection(cap, [CLIENT_IP, 41000 + j], LISTENER, T0 + t, 'client');
  cap.conn([CLIENT_IP, 42000], LISTENER).send('client', 'S', T0 + 1_200_000).send('server', 'SA', T0 + 1_200_200);
  // Another port of the same host answers SYNs only with RSTs: nothing listens there.
  cap.conn([CLIENT_IP, 43000], [SERVER_IP, 81]).send('client', 'S', T0 + 1_300_000).send('server', 'RA', T0 + 1_300_200, { seq: 0 });
  // A third port answered a SYN with a SYN-ACK (never acknowledged) and refused the next.
  cap.conn([CLIENT_IP, 44000], [SERVER_IP, 82]).send('client', 'S', T0 + 1_400_000).send('server', 'SA', T0 + 1_400_200);
  cap.conn([CLIENT_IP, 44001], [SERVER_IP, 82]).send('client', 'S', T0 + 9_000_000).send('server', 'RA', T0 + 9_000_200, { seq: 0 });
  const r = await analyze(cap.bytes());
  const refused = ofKind(r, 'connection_refused');
  assert.deepEqual(
    refused.map((f) => [f.details.port, f.details.accepted, f.details.answered, f.severity]),
    [
      [80, 3, 4, 'warning'],
      [81, 0, 0, 'warning'],
      [82, 0, 1, 'warning'],
    ],
  );
  assert.match(refused[0].message, /^192\.0\.2\.10:40000 -> 192\.0\.2\.20:80 refused: RST answered the SYN, although port 80 accepted 3 connections in this capture: a full backlog, a firewall RST, or the service restarting$/);
  assert.match(refused[1].message, /refused: RST answered the SYN; nothing listens on port 81$/);
  assert.match(refused[2].message, /refused: RST answered the SYN, although port 82 answered 1 other SYN with a SYN-ACK in this capture: /);
  // The refused connection is among the summary's worst (a warning), with its ends.
  assert.deepEqual(
    r.summary.worstFlows.filter((w) => w.kinds.includes('connection_refused')).map((w) => [w.client, w.server]),
    [
      ['192.0.2.10:40000', '192.0.2.20:80'],
      ['192.0.2.10:43000', '192.0.2.20:81'],
      ['192.0.2.10:44001', '192.0.2.20:82'],
    ],
  );
});

// ---------------------------------------------------------------- connection_reset

test('connection_reset: from nowhere vs after the peer\'s data, with side, states and bytes; a RST outside the window resets nothing', async () => {
  const nowhere = await analyze(conversation([...opened, { from: 'server', flags: 'RA', t: '2' }]));
  assert.deepEqual(kindCounts(nowhere), { connection_reset: 1 });
  const [n] = nowhere.findings;
  assert.equal(n.side, 'server');
  assert.equal(n.severity, 'warning');
  assert.equal(n.packet, 8);
  assert.deepEqual(n.details, {
    sent_by: 'server',
    sender_state: 'ESTABLISHED',
    receiver_state: 'ESTABLISHED',
    client_bytes: REQUEST,
    server_bytes: RESPONSE,
    after_peer_data: false,
    sender_had_data_in_flight: false,
    receiver_window_zero: false,
    sender_had_no_socket: false,
  });
  assert.match(n.message, /^server 192\.0\.2\.20:80 reset the connection in ESTABLISHED \(peer in ESTABLISHED\) after 117 bytes from the client and 1448 from the server; it came from nowhere/);

  const abortive = await analyze(conversation([...opened, { from: 'client', flags: 'PA', len: 50, t: '2' }, { from: 'server', flags: 'RA', t: '2.020' }]));
  assert.deepEqual(kindCounts(abortive), { connection_reset: 1 });
  const [a] = abortive.findings;
  assert.equal(a.side, 'server');
  assert.equal(a.packet, 9);
  assert.equal(a.details.after_peer_data, true);
  assert.equal(a.details.client_bytes, REQUEST + 50);
  assert.equal(a.details.server_bytes, RESPONSE);
  assert.match(a.message, /after 167 bytes from the client and 1448 from the server; it followed data from the peer: an abortive close/);

  // The same data acknowledged first by the RST's own sender (a bare ACK), then the RST: its
  // application closed without reading it (close-with-unread-data); not from nowhere.
  const unread = await analyze(conversation([...opened, { from: 'client', flags: 'PA', len: 50, t: '2' }, { from: 'server', flags: 'A', t: '2.010' }, { from: 'server', flags: 'RA', t: '2.020' }]));
  assert.equal(unread.findings[0].details.after_peer_data, true);
  assert.match(unread.findings[0].message, /it followed data from the peer: an abortive close/);

  // A RST without ACK answering the peer's data, from an end that never closed: its host had no
  // socket for the connection (server-lost-socket), not an application's abort.
  const lost = await analyze(conversation([...opened, { from: 'client', flags: 'PA', len: 50, t: '2' }, { from: 'server', flags: 'R', t: '2.010' }]));
  assert.deepEqual([lost.findings[0].details.after_peer_data, lost.findings[0].details.sender_had_no_socket], [false, true]);
  assert.match(lost.findings[0].message, /it answered a segment for a connection its sender had no socket for/);

  // The sender still had data unacknowledged: an abort while sending.
  const sending = await analyze(conversation([...opened, { from: 'server', flags: 'PA', len: 500, t: '2' }, { from: 'server', flags: 'RA', t: '2.000100' }]));
  assert.deepEqual(kindCounts(sending), { connection_reset: 1 });
  assert.equal(sending.findings[0].details.sender_had_data_in_flight, true);
  assert.equal(sending.findings[0].details.after_peer_data, false);
  assert.match(sending.findings[0].message, /it came while the sender was still sending/);

  // Just under: the same RST 10 MB beyond what the client expects is not accepted.
  const blind = await analyze(conversation([...opened, { from: 'server', flags: 'RA', rseq: RESPONSE + 1 + 10_000_000, t: '2' }]));
  assert.deepEqual(kindCounts(blind), {});
  assert.equal(blind.flows[0].client.state, 'ESTABLISHED');
});

test('connection_reset in closing states: from CLOSE_WAIT (warning, peer in FIN_WAIT_2), from FIN_WAIT_2 (note)', async () => {
  const closeWait = await analyze(
    conversation([...opened, { from: 'client', flags: 'FA', t: '1' }, { from: 'server', flags: 'A', t: '1.020' }, { from: 'server', flags: 'RA', t: '2' }]),
  );
  assert.deepEqual(kindCounts(closeWait), { connection_reset: 1 });
  assert.equal(closeWait.findings[0].severity, 'warning');
  assert.equal(closeWait.findings[0].side, 'server');
  assert.equal(closeWait.findings[0].details.sender_state, 'CLOSE_WAIT');
  assert.equal(closeWait.findings[0].details.receiver_state, 'FIN_WAIT_2');

  const finWait2 = await analyze(
    conversation([...opened, { from: 'client', flags: 'FA', t: '1' }, { from: 'server', flags: 'A', t: '1.020' }, { from: 'client', flags: 'R', t: '2' }]),
  );
  assert.deepEqual(kindCounts(finWait2), { connection_reset: 1 });
  assert.equal(finWait2.findings[0].severity, 'note');
  assert.equal(finWait2.findings[0].side, 'client');
  assert.equal(finWait2.findings[0].details.sender_state, 'FIN_WAIT_2');
  assert.equal(finWait2.findings[0].details.receiver_state, 'CLOSE_WAIT');
});

// ---------------------------------------------------------------- syn_unanswered, synack_unanswered

/** A SYN at 0 and retransmissions at 1, 3, 7 and 15 s (Linux's backoff). */
const synBackoff: Step[] = ['0', '1', '3', '7', '15'].map((t): Step => ({ from: 'client', flags: 'S', t, lost: true }));

test('syn_unanswered: with the SYNs sent and the time they took; the same SYNs answered at the last one are not', async () => {
  const r = await analyze(conversation(synBackoff));
  assert.deepEqual(kindCounts(r), { syn_unanswered: 1 });
  const [f] = r.findings;
  assert.equal(f.side, 'client');
  assert.equal(f.severity, 'warning');
  assert.equal(f.packet, 1);
  assert.equal(f.ts, START_US);
  assert.deepEqual(f.details, { syns: 5, seconds: 15, server: SERVER_IP, port: 80 });
  assert.match(f.message, /^192\.0\.2\.10:\d+ -> 192\.0\.2\.20:80: 5 SYNs over 15 s, never answered/);

  // One SYN and nothing after it: the capture ended with it, its answer is not in the capture (the end grace).
  const one = await analyze(conversation([synBackoff[0]]));
  assert.deepEqual(kindCounts(one), { syn_unanswered: 1 });
  assert.equal(one.findings[0].details.syns, 1);
  assert.equal(one.findings[0].severity, 'info');
  assert.match(one.findings[0].message, /: 1 SYN over 0\.00 s, undetermined at end of capture: it began 0\.00 s before the capture ended/);
  // The same SYN with the end grace off: unanswered.
  const noGrace = await analyze(conversation([synBackoff[0]]), { endGraceUs: 0 });
  assert.equal(noGrace.findings[0].severity, 'warning');
  assert.match(noGrace.findings[0].message, /: 1 SYN over 0\.00 s, never answered/);

  // Just under: the fifth SYN gets its SYN-ACK.
  const answered = await analyze(
    conversation([...synBackoff.slice(0, 4), { from: 'client', flags: 'S', t: '15' }, { from: 'server', flags: 'SA', t: '15.020' }, { from: 'client', flags: 'A', t: '15.020100' }]),
  );
  assert.deepEqual(kindCounts(answered), {});
  // Answered by a RST instead: refused, not unanswered.
  const refused = await analyze(
    conversation([...synBackoff.slice(0, 4), { from: 'client', flags: 'S', t: '15' }, { from: 'server', flags: 'RA', seq: 0, win: 0, t: '15.020' }]),
  );
  assert.deepEqual(kindCounts(refused), { connection_refused: 1 });
  assert.equal(refused.findings[0].details.syns, 5);
});

test('end grace: a handshake begun less than 3 s before the capture ends is undetermined (info), at 3 s or more it is unanswered; --fail-on a kind leaves the undetermined out', async () => {
  /** A SYN to :80 `before` µs before a last packet (a finished connection on another port, so that the capture goes on). */
  const cut = (before: number, synack: boolean) => {
    const cap = new Capture();
    const c = cap.conn([CLIENT_IP, 40000], LISTENER).send('client', 'S', T0 + 5_000_000 - before);
    if (synack) c.send('server', 'SA', T0 + 5_000_000 - before + 200);
    shortConnection(cap, [CLIENT_IP, 40001], [SERVER_IP, 8080], T0 + 5_000_000 - 1300, 'client');
    return cap.bytes();
  };
  const cases: Array<[before: number, synack: boolean, severity: string]> = [
    [2_999_999, false, 'info'],
    [3_000_000, false, 'warning'],
    [2_999_999, true, 'info'],
    [3_000_000, true, 'note'],
  ];
  for (const [before, synack, severity] of cases) {
    const r = await analyze(cut(before, synack));
    const what = `${synack ? 'SYN-ACK' : 'SYN'} ${before} µs before the end`;
    const kind = synack ? 'synack_unanswered' : 'syn_unanswered';
    assert.deepEqual(kindCounts(r), { [kind]: 1 }, what);
    const [f] = r.findings;
    assert.equal(f.severity, severity, what);
    if (severity === 'info') {
      assert.equal(f.details.undetermined, true, what);
      assert.equal(f.details.before_end_seconds, before / 1e6, what);
      assert.match(f.message, /undetermined at end of capture: it began 3\.00 s before the capture ended \(within the 3\.00 s end grace\), so its answer may have come after$/, what);
      // --fail-on: neither the kind nor a severity of note and above counts it; info does.
      const checks = parseChecks(`${kind},${kind}>0%,note,info`);
      assert.deepEqual(
        checks.map((c) => evaluate(c, r.summary).failed),
        [false, false, false, true],
        what,
      );
    } else {
      assert.equal(f.details.undetermined, undefined, what);
      assert.equal(evaluate(parseChecks(kind)[0], r.summary).failed, true, what);
    }
  }
  // The grace given is the one applied.
  assert.equal((await analyze(cut(3_500_000, false), { endGraceUs: 4_000_000 })).findings[0].severity, 'info');
  assert.equal((await analyze(cut(1_000_000, false), { endGraceUs: 1_000_000 })).findings[0].severity, 'warning');
  // A handshake that timed out long before the end (3 min in the handshake) is never cut by it.
  const old = new Capture();
  old.conn([CLIENT_IP, 40000], LISTENER).send('client', 'S', T0);
  shortConnection(old, [CLIENT_IP, 40001], [SERVER_IP, 8080], T0 + 200_000_000, 'client');
  const o = await analyze(old.bytes(), { endGraceUs: 1_000_000_000 });
  assert.equal(o.flows.find((f) => f.server.port === 80)?.endReason, 'timeout');
  assert.equal(ofKind(o, 'syn_unanswered')[0].severity, 'warning');
});

test('synack_unanswered: SYN-ACKs never acknowledged, counted; acknowledged, or answered by the client\'s RST, they are not', async () => {
  const r = await analyze(
    conversation([
      { from: 'client', flags: 'S', t: '0' },
      { from: 'server', flags: 'SA', t: '0.020' },
      { from: 'server', flags: 'SA', t: '1.020' },
      { from: 'server', flags: 'SA', t: '3.020' },
    ]),
  );
  assert.deepEqual(kindCounts(r), { synack_unanswered: 1 });
  const [f] = r.findings;
  assert.equal(f.side, 'server');
  assert.equal(f.severity, 'note');
  assert.deepEqual(f.details, { synacks: 3, client: CLIENT_IP, server: SERVER_IP, port: 80 });
  assert.match(f.message, /^192\.0\.2\.20:80 answered 192\.0\.2\.10:\d+ with 3 SYN-ACKs and never got the ACK/);

  const acked = await analyze(conversation(opened.slice(0, 3)));
  assert.deepEqual(kindCounts(acked), {});
  const gaveUp = await analyze(
    conversation([{ from: 'client', flags: 'S', t: '0' }, { from: 'server', flags: 'SA', t: '0.020' }, { from: 'client', flags: 'R', t: '0.020060' }]),
  );
  assert.equal(ofKind(gaveUp, 'synack_unanswered').length, 0);
});

// ---------------------------------------------------------------- syn_flood (default 100 half-open attempts per second)

interface FloodOptions {
  /** Half-open attempts, `spacingUs` apart from `startUs`. */
  halfOpen: number;
  spacingUs?: number;
  startUs?: number;
  /** First source port (several floods in one capture must not reuse tuples). */
  firstPort?: number;
}

const FLOOD_SOURCES = 13;

/**
 * Half-open attempts at 192.0.2.20:80 from 13 spoofed sources: one in four never answered,
 * one in four answered by a SYN-ACK that is retransmitted 1 s later (a real SYN-RECV),
 * the rest by a single SYN-ACK (a SYN cookie once 1.5 s pass without a retransmission).
 */
function flood(cap: Capture, o: FloodOptions): void {
  const start = o.startUs ?? T0;
  const spacing = o.spacingUs ?? 9000;
  for (let i = 0; i < o.halfOpen; i++) {
    const t = start + i * spacing;
    const c = cap.conn([`198.51.100.${1 + (i % FLOOD_SOURCES)}`, (o.firstPort ?? 20000) + i], LISTENER).send('client', 'S', t);
    if (i % 4 === 0) continue;
    c.send('server', 'SA', t + 100);
    if (i % 4 === 1) c.send('server', 'SA', t + 1_000_100);
  }
}

/** Three legitimate connections completing during the flood (closed at 3 s, so the capture lasts long enough to see cookies), two refused attempts. */
function bystanders(cap: Capture): void {
  for (let j = 0; j < 3; j++) {
    const t = T0 + 100_000 + j * 300_000;
    cap
      .conn([CLIENT_IP, 40000 + j], LISTENER)
      .send('client', 'S', t)
      .send('server', 'SA', t + 200)
      .send('client', 'A', t + 300)
      .send('client', 'PA', t + 400, { len: 100 })
      .send('server', 'PA', t + 600, { len: 500 })
      .send('client', 'A', t + 700)
      .send('client', 'FA', T0 + 3_000_000 + j * 1000)
      .send('server', 'FA', T0 + 3_000_200 + j * 1000)
      .send('client', 'A', T0 + 3_000_300 + j * 1000);
  }
  for (let j = 0; j < 2; j++) {
    const t = T0 + 200_000 + j * 300_000;
    cap.conn(['203.0.113.7', 45000 + j], LISTENER).send('client', 'S', t).send('server', 'RA', t + 150, { seq: 0 });
  }
}

test('syn_flood: 99 half-open attempts in a second are no flood (each reported on its own), 100 are one, with its episode, sources, answers and cookies; legitimate connections are not blamed', async () => {
  const under = new Capture();
  flood(under, { halfOpen: 99 });
  bystanders(under);
  const u = await analyze(under.bytes());
  // 25 never answered, 74 answered by SYN-ACK; the refused attempts are refused.
  assert.deepEqual(kindCounts(u), { connection_refused: 2, syn_unanswered: 25, synack_unanswered: 74 });

  const over = new Capture();
  flood(over, { halfOpen: 100 });
  bystanders(over);
  const r = await analyze(over.bytes());
  // The half-open attempts are folded into the flood; the legitimate connections have no finding at all.
  assert.deepEqual(kindCounts(r), { connection_refused: 2, syn_flood: 1 });
  const legit = new Set(r.flows.filter((f) => f.client.addr === CLIENT_IP).map((f) => f.id));
  assert.equal(legit.size, 3);
  assert.deepEqual(
    r.all.filter((f) => f.flow !== null && legit.has(f.flow)).map((f) => `${f.kind}: ${f.message}`),
    [],
  );
  const [f] = ofKind(r, 'syn_flood');
  assert.equal(f.side, 'server');
  assert.equal(f.severity, 'error');
  assert.equal(f.flow, null);
  assert.equal(f.ts, T0);
  assert.deepEqual(f.details, {
    listener: SERVER,
    start_ts: T0,
    end_ts: T0 + 99 * 9000,
    half_open: 100,
    peak_per_second: 100,
    sources: FLOOD_SOURCES,
    answered_synack: 75,
    answered_rst: 2,
    syn_cookies: 50,
    completed: 3,
    episode: 1,
  });
  assert.equal(
    f.message,
    'SYN flood on 192.0.2.20:80: 100 half-open attempts from 13 sources over 0.89 s, peak 100/s; 75% answered by SYN-ACK, 2% refused by RST, 50 SYN cookies seen (the listen queue was full); 3 legitimate connections completed meanwhile',
  );
});

test('syn_flood: the rate is per sliding second: 100 half-open attempts spread over 1.09 s (91 in any second) are no flood', async () => {
  const cap = new Capture();
  flood(cap, { halfOpen: 100, spacingUs: 11_000 });
  const r = await analyze(cap.bytes());
  assert.equal(ofKind(r, 'syn_flood').length, 0);
  assert.equal(ofKind(r, 'syn_unanswered').length + ofKind(r, 'synack_unanswered').length, 100);
  // Lowered to what a second holds, it is one.
  const at91 = await analyze(cap.bytes(), { synFloodRate: 91 });
  assert.deepEqual(
    ofKind(at91, 'syn_flood').map((f) => f.details.peak_per_second),
    [91],
  );
});

test('syn_flood: one finding per episode, each with its own start, end and peak', async () => {
  const cap = new Capture();
  flood(cap, { halfOpen: 100 });
  flood(cap, { halfOpen: 120, startUs: T0 + 5_000_000, spacingUs: 5000, firstPort: 30000 });
  const r = await analyze(cap.bytes());
  assert.deepEqual(kindCounts(r), { syn_flood: 2 });
  assert.deepEqual(
    ofKind(r, 'syn_flood').map((f) => [f.details.episode, f.details.start_ts, f.details.end_ts, f.details.half_open, f.details.peak_per_second, f.ts]),
    [
      [1, T0, T0 + 99 * 9000, 100, 100, T0],
      [2, T0 + 5_000_000, T0 + 5_000_000 + 119 * 5000, 120, 120, T0 + 5_000_000],
    ],
  );
});

// ---------------------------------------------------------------- time_wait_pileup (default 200 at once, "that make")

/** `n` connections 5 ms apart from `startUs`, from ports `firstPort`... of the client, each closed first by `closer`. */
function closedConnections(cap: Capture, n: number, closer: Side, startUs = T0, firstPort = 32768): void {
  for (let i = 0; i < n; i++) shortConnection(cap, [CLIENT_IP, firstPort + i], LISTENER, startUs + i * 5000, closer);
}

test('time_wait_pileup: 199 in TIME_WAIT at once are none, 200 are one, on the host that closed first, with its side', async () => {
  const under = new Capture();
  closedConnections(under, 199, 'server');
  assert.deepEqual(kindCounts(await analyze(under.bytes())), {});

  const server = new Capture();
  closedConnections(server, 200, 'server');
  const r = await analyze(server.bytes());
  assert.deepEqual(kindCounts(r), { time_wait_pileup: 1 });
  const [f] = r.findings;
  assert.equal(f.side, 'server');
  assert.equal(f.severity, 'warning');
  assert.equal(f.flow, null);
  assert.equal(f.ts, T0 + 199 * 5000 + 1200, 'when the 200th entered TIME_WAIT');
  assert.deepEqual(f.details, { host: SERVER_IP, peak: 200, peak_ts: T0 + 199 * 5000 + 1200, as_server: 200, as_client: 0, reused_ports: 0, threshold: 200 });
  assert.match(f.message, /^192\.0\.2\.20 had 200 connections in TIME_WAIT at once; it closed first as the server in 200 of 200 \(a server that closes first keeps the TIME_WAIT/);

  const client = new Capture();
  closedConnections(client, 200, 'client');
  const c = await analyze(client.bytes());
  assert.deepEqual(kindCounts(c), { time_wait_pileup: 1 });
  assert.equal(c.findings[0].side, 'client');
  assert.deepEqual(c.findings[0].details, { host: CLIENT_IP, peak: 200, peak_ts: T0 + 199 * 5000 + 1200, as_server: 0, as_client: 200, reused_ports: 0, threshold: 200 });
  assert.match(c.findings[0].message, /^192\.0\.2\.10 had 200 connections in TIME_WAIT at once; it closed first as the client in 200 of 200$/);
});

test('time_wait_pileup: "at once" means overlapping TIME_WAITs (60 s each): the 200th entering 1 µs before the first one expires makes a pile-up, entering as it expires does not', async () => {
  for (const [lastUs, found] of [
    [T0 + 60_000_000 - 1, true],
    [T0 + 60_000_000, false],
  ] as const) {
    const cap = new Capture();
    shortConnection(cap, [CLIENT_IP, 32768], LISTENER, T0, 'server'); // TIME_WAIT from T0 + 1200 µs to T0 + 60.0012 s
    closedConnections(cap, 198, 'server', T0 + 1_000_000, 32769);
    shortConnection(cap, [CLIENT_IP, 50000], LISTENER, lastUs, 'server'); // TIME_WAIT from lastUs + 1200 µs
    const r = await analyze(cap.bytes());
    assert.deepEqual(kindCounts(r), found ? { time_wait_pileup: 1 } : {}, `last at T0 + ${lastUs - T0} µs`);
    if (found) assert.deepEqual([r.findings[0].details.peak, r.findings[0].ts], [200, lastUs + 1200]);
  }
});

/**
 * 200 connections closed first by the server, then five clients reconnect from ports still in
 * TIME_WAIT there, each with an ISN after the old connection's last sequence number (the ISN
 * clock ran on): a TIME_WAIT socket takes such a SYN as a new connection (Linux's
 * tcp_timewait_state_process; one at or below it, without timestamps, only gets an ACK).
 */
function pileupWithReuse(): Capture {
  const cap = new Capture();
  for (let i = 0; i < 200; i++) shortConnection(cap, [CLIENT_IP, 32768 + i], LISTENER, T0 + i * 5000, 'server', `old ${i}`);
  for (let i = 0; i < 5; i++) {
    // The old client sent its SYN, 100 bytes and its FIN: the TIME_WAIT expects ISN + 102 next.
    const expected = (hash32(`old ${i}/client`) + 102) >>> 0;
    let n = 0;
    while (((hash32(`reuse ${i} ${n}/client`) - expected) | 0) <= 0) n++;
    shortConnection(cap, [CLIENT_IP, 32768 + i], LISTENER, T0 + 2_000_000 + i * 5000, 'server', `reuse ${i} ${n}`);
  }
  return cap;
}

test('time_wait_pileup with reused ports: each new SYN on a tuple in TIME_WAIT is a reused_ports finding, and cuts that TIME_WAIT short', async () => {
  const r = await analyze(pileupWithReuse().bytes());
  const reused = ofKind(r, 'reused_ports');
  assert.equal(reused.length, 5);
  const byId = new Map(r.flows.map((f) => [f.id, f]));
  for (const [i, f] of reused.entries()) {
    const flow = byId.get(f.flow!)!;
    assert.equal(flow.client.port, 32768 + i);
    assert.equal(f.packet, flow.firstPacket, 'on the new SYN');
    assert.equal(f.ts, T0 + 2_000_000 + i * 5000);
  }
  // The old connections' TIME_WAIT ends at the new SYN; the new ones' TIME_WAIT replaces it: still 200 at once at most.
  const old = r.flows.filter((f) => f.endReason === 'reuse');
  assert.equal(old.length, 5);
  for (const f of old) assert.ok(f.transitions.some((x) => x.side === 'server' && x.from === 'TIME_WAIT' && x.cause.includes('reuse')));
  const [p] = ofKind(r, 'time_wait_pileup');
  assert.equal(p.details.peak, 200);
  assert.equal(p.details.as_server, 205);
  // What the reused_ports explanation sends the reader to.
  assert.ok(KINDS.reused_ports.check.some((c) => c.includes('time_wait_pileup')));
});

// Issue #6 asks for reused-port episodes linked to the pile-up; the finding has no such link yet
// (only the reused_ports explanation points to time_wait_pileup). Kept as a TODO so that it is
// seen failing until the detector says which reused ports the pile-up explains.
test('time_wait_pileup links the reused-port episodes it caused (issue #6)', async () => {
  const r = await analyze(pileupWithReuse().bytes());
  const [p] = ofKind(r, 'time_wait_pileup');
  const reused = ofKind(r, 'reused_ports');
  const link = Object.entries(p.details).filter(([k]) => /reuse/i.test(k));
  assert.ok(link.length > 0, `no reused-port field in ${JSON.stringify(p.details)}`);
  assert.ok(link.some(([, v]) => v === reused.length || (Array.isArray(v) && v.length === reused.length)));
});

// ---------------------------------------------------------------- port_exhaustion_risk (half of 28232 ports towards one destination within 60 s)

/** `n` connections from distinct client ports 32768... to `dest`, `spacingUs` apart: opened, then closed by the client (no data: six packets). */
function portSweep(cap: Capture, n: number, dest: Addr, spacingUs: number, firstPort = 32768, startUs = T0): void {
  for (let i = 0; i < n; i++) {
    const t = startUs + i * spacingUs;
    cap
      .conn([CLIENT_IP, firstPort + i], dest)
      .send('client', 'S', t)
      .send('server', 'SA', t + 200)
      .send('client', 'A', t + 300)
      .send('client', 'FA', t + 400)
      .send('server', 'FA', t + 600)
      .send('client', 'A', t + 700);
  }
}

test('port_exhaustion_risk with the defaults: 14115 ports towards one destination within 60 s are no risk, 14116 (half of 28232) are', async () => {
  const under = new Capture();
  portSweep(under, 14115, LISTENER, 4000);
  assert.equal(ofKind(await analyze(under.bytes()), 'port_exhaustion_risk').length, 0);

  const over = new Capture();
  portSweep(over, 14116, LISTENER, 4000);
  const r = await analyze(over.bytes());
  const [f, ...rest] = ofKind(r, 'port_exhaustion_risk');
  assert.equal(rest.length, 0);
  assert.equal(f.side, 'client');
  assert.equal(f.severity, 'warning');
  assert.equal(f.flow, null);
  assert.equal(f.ts, T0 + 14115 * 4000, 'the first packet of the connection that reached the share');
  assert.deepEqual(f.details, { client: CLIENT_IP, destination: SERVER, ports: 14116, share: 0.5, window_seconds: 60 });
  assert.equal(f.message, '192.0.2.10 used 14116 source ports towards 192.0.2.20:80 within 60 s: 50% of its ephemeral range; new connections will fail with EADDRNOTAVAIL');
});

test('port_exhaustion_risk: distinct ports within one TIME_WAIT length (60 s, inclusive), towards one destination (ephemeralPorts 20: 10 ports)', async () => {
  const small = { ephemeralPorts: 20 };
  // Ten ports, the tenth 60 s after the first: a risk; 1 µs later: not.
  for (const [lastUs, found] of [
    [T0 + 60_000_000, true],
    [T0 + 60_000_001, false],
  ] as const) {
    const cap = new Capture();
    portSweep(cap, 9, LISTENER, 1_000_000);
    portSweep(cap, 1, LISTENER, 0, 40000, lastUs);
    const r = await analyze(cap.bytes(), small);
    assert.equal(ofKind(r, 'port_exhaustion_risk').length, found ? 1 : 0, `last at T0 + ${lastUs - T0} µs`);
    if (found) assert.deepEqual(ofKind(r, 'port_exhaustion_risk')[0].details, { client: CLIENT_IP, destination: SERVER, ports: 10, share: 0.5, window_seconds: 60 });
  }
  // Ten connections but one port used twice: nine ports.
  const again = new Capture();
  portSweep(again, 9, LISTENER, 1_000_000);
  portSweep(again, 1, LISTENER, 0, 32768, T0 + 20_000_000);
  assert.equal(ofKind(await analyze(again.bytes(), small), 'port_exhaustion_risk').length, 0);
  // Eighteen ports, nine towards each of two destinations: no destination reaches ten.
  const split = new Capture();
  portSweep(split, 9, LISTENER, 1_000_000);
  portSweep(split, 9, [SERVER_IP, 443], 1_000_000, 33000);
  assert.equal(ofKind(await analyze(split.bytes(), small), 'port_exhaustion_risk').length, 0);
  // ...and ten towards one of them are a risk there only.
  portSweep(split, 1, [SERVER_IP, 443], 1_000_000, 33009, T0 + 9_000_000);
  assert.deepEqual(
    ofKind(await analyze(split.bytes(), small), 'port_exhaustion_risk').map((f) => [f.details.destination, f.details.ports]),
    [['192.0.2.20:443', 10]],
  );
});
