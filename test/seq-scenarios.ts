// One-behaviour conversations for the sequence analysis, each with the flags
// shared/design/tcp-analysis-rules.md says tshark 4.0.17 gives every frame.
// The unit tests (test/seq-analysis.test.ts) run them through the analyzer in
// memory; scripts/golden/make-seq-scenarios.ts writes them as captures to
// test/golden/seq-scenarios/ so that tshark itself can confirm the expectations
// (goldens in test/golden/analysis/, compared by scripts/seq-compare.ts).
//
// The capture is at the client (C); the server (S) answers after the RTT (20 ms
// unless stated), so the initial RTT is 20.1 ms. Both sides use window scale 7
// unless stated: a raw window of 502 after the handshake, 64240 on SYNs.

import { runConversation, type Conversation, type Segment, type Step } from './scenario/describe.js';

export const CLIENT_ISN = 0x10000000;
export const SERVER_ISN = 0x20000000;

export interface SeqScenario {
  name: string;
  description: string;
  conversation: Conversation;
  /**
   * Frame number -> the internal flags expected on it (AnalysisFlag names in lower case,
   * space-separated; `duplicate_ack#N@F` is a dup ACK numbered N duplicating frame F).
   * Frames not listed carry no flag.
   */
  expect: Record<number, string>;
  /** tcp.stream per frame, when it matters. */
  streams?: number[];
  /** Frame number -> raw ack field written into that frame whatever its flags (the writer leaves it 0 without ACK). */
  forceAck?: Record<number, number>;
  /**
   * Another conversation between the same hosts (another client port), its packets merged in by
   * time: traffic that moves packet time on while `conversation` is idle. Frame numbers (expect,
   * streams, forceAck) count the merged capture.
   */
  alongside?: Conversation;
}

/** The captured packets of a scenario, in capture order, with forceAck applied (the TCP checksum is left as it was). */
export function segmentsOf(s: SeqScenario): Segment[] {
  const segments = runConversation(s.conversation).segments;
  if (s.alongside) {
    segments.push(...runConversation(s.alongside).segments);
    segments.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
  }
  for (const [frame, ack] of Object.entries(s.forceAck ?? {})) {
    const seg = segments[Number(frame) - 1];
    const tcpOff = seg.ip[0] >> 4 === 4 ? (seg.ip[0] & 15) * 4 : 40;
    new DataView(seg.ip.buffer, seg.ip.byteOffset).setUint32(tcpOff + 8, ack);
    seg.ack = ack;
  }
  return segments;
}

const START = '2025-03-01T12:00:00.000000000Z';

function conv(seed: string, steps: Step[], more: Partial<Conversation> = {}): Conversation {
  return { seed, start: START, isn: { client: CLIENT_ISN, server: SERVER_ISN }, steps, ...more };
}

const handshake: Step[] = [
  { from: 'client', flags: 'S' },
  { from: 'server', flags: 'SA' },
  { from: 'client', flags: 'A' },
];

/** Wire ack numbers: the client's relative sequence `rel` as the server acknowledges it, and vice versa. */
const cAck = (rel: number) => (CLIENT_ISN + rel) >>> 0;
const sAck = (rel: number) => (SERVER_ISN + rel) >>> 0;

export const seqScenarios: SeqScenario[] = [
  {
    name: 'seq-dup-ack-fast-retransmission',
    description:
      'first of four segments lost; the server ACKs three times: the first is a Window Update (raw window differs from the SYN-ACK), then Dup ACK #1 and #2 of the SYN-ACK frame; the client resends the hole within 20 ms: Fast Retransmission (also out-of-order by time: fast wins)',
    conversation: conv('seq-dup-ack-fast-retransmission', [
      ...handshake,
      { from: 'client', flags: 'PA', len: 100, lost: true },
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'A', t: '+0.001' },
      { from: 'server', flags: 'A' },
      { from: 'server', flags: 'A' },
      { from: 'client', flags: 'PA', len: 100, rseq: 1 },
      { from: 'server', flags: 'A' },
    ]),
    expect: { 8: 'window_update', 9: 'duplicate_ack#1@2', 10: 'duplicate_ack#2@2', 11: 'fast_retransmission' },
  },
  {
    name: 'seq-spurious-retransmission',
    description: 'the server ACKs a segment, the client sends it again: Spurious Retransmission',
    conversation: conv('seq-spurious-retransmission', [
      ...handshake,
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'A' },
      { from: 'client', flags: 'PA', len: 100, rseq: 1, t: '+0.200' },
    ]),
    expect: { 6: 'spurious_retransmission' },
  },
  {
    name: 'seq-lost-out-of-order',
    description:
      'a hole (Previous segment not captured) filled 1 ms later (Out-Of-Order, under the 20.1 ms iRTT); the last segment resent 1 ms later ends at nextSeq (Retransmission, not OOO); a middle one resent 30 ms later (Retransmission)',
    conversation: conv('seq-lost-out-of-order', [
      ...handshake,
      { from: 'client', flags: 'PA', len: 100, rseq: 101, t: '+0.001' },
      { from: 'client', flags: 'PA', len: 100, rseq: 1, t: '+0.001' },
      { from: 'client', flags: 'PA', len: 100, rseq: 201, t: '+0.001' },
      { from: 'client', flags: 'PA', len: 100, rseq: 201, t: '+0.001' },
      { from: 'client', flags: 'PA', len: 100, rseq: 101, t: '+0.030' },
    ]),
    expect: { 4: 'lost_segment', 5: 'out_of_order', 7: 'retransmission', 8: 'retransmission' },
  },
  {
    name: 'seq-epoch-zero-no-irtt',
    description:
      'SYN stamped at the Unix epoch: no iRTT, so the out-of-order window is 3 ms: a hole filled 4.1 ms later is a Retransmission, one filled 2 ms later Out-Of-Order',
    conversation: conv(
      'seq-epoch-zero-no-irtt',
      [
        ...handshake,
        { from: 'client', flags: 'PA', len: 100, rseq: 101, t: '+0.001' },
        { from: 'client', flags: 'PA', len: 100, rseq: 1, t: '+0.0041' },
        { from: 'client', flags: 'PA', len: 100, rseq: 201 },
        { from: 'client', flags: 'PA', len: 100, rseq: 301, t: '+0.001' },
        { from: 'client', flags: 'PA', len: 100, rseq: 101, t: '+0.002' },
      ],
      { start: '1970-01-01T00:00:00.000000000Z' },
    ),
    expect: { 4: 'lost_segment', 5: 'retransmission', 8: 'out_of_order' },
  },
  {
    name: 'seq-keep-alive',
    description:
      'zero-length and one-byte segments at nextSeq - 1 after idle time: Keep-Alive (the one-byte one is never a retransmission), each answered by a Keep-Alive ACK',
    conversation: conv('seq-keep-alive', [
      ...handshake,
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'A' },
      { from: 'client', flags: 'A', rseq: 100, t: '+1' },
      { from: 'server', flags: 'A' },
      { from: 'client', flags: 'A', len: 1, rseq: 100, t: '+1' },
      { from: 'server', flags: 'A' },
    ]),
    expect: { 6: 'keep_alive', 7: 'keep_alive_ack', 8: 'keep_alive', 9: 'keep_alive_ack' },
  },
  {
    name: 'seq-zero-window-probe',
    description:
      'the server advertises 0 (ZeroWindow); the client probes with one byte at nextSeq (ZeroWindowProbe), the server still at 0 (ZeroWindow + ZeroWindowProbeAck); the server opens a raw window of 8 (Window Update, 1024 bytes scaled); the client sends exactly 1024 bytes (Window Full)',
    conversation: conv('seq-zero-window-probe', [
      ...handshake,
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'A', win: 0 },
      { from: 'client', flags: 'A', len: 1, lost: true, t: '+0.200' },
      { from: 'server', flags: 'A', win: 0 },
      { from: 'server', flags: 'A', win: 8, t: '+0.500' },
      { from: 'client', flags: 'PA', len: 1024, rseq: 101 },
    ]),
    expect: { 5: 'zero_window', 6: 'zero_window_probe', 7: 'zero_window zero_window_probe_ack', 8: 'window_update', 9: 'window_full' },
  },
  {
    name: 'seq-zero-window-probe-accepted',
    description:
      'a probe the receiver accepts does not advance nextSeq (GitLab #10745): its ACK is ACKed unseen, the next segment Previous segment not captured',
    conversation: conv('seq-zero-window-probe-accepted', [
      ...handshake,
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'A', win: 0 },
      { from: 'client', flags: 'A', len: 1, t: '+0.200' },
      { from: 'server', flags: 'A', win: 0 },
      { from: 'server', flags: 'A', win: 8, t: '+0.500' },
      { from: 'client', flags: 'PA', len: 100 },
    ]),
    expect: { 5: 'zero_window', 6: 'zero_window_probe', 7: 'zero_window ack_lost_segment', 8: 'window_update', 9: 'lost_segment' },
  },
  {
    name: 'seq-reused-ports-syn',
    description: 'after a complete close, a SYN with a new ISN on the same ports: Port numbers reused and a new tcp.stream',
    conversation: conv('seq-reused-ports-syn', [
      ...handshake,
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'A' },
      { from: 'client', flags: 'FA', t: '+0.100' },
      { from: 'server', flags: 'FA' },
      { from: 'client', flags: 'A' },
      { from: 'client', flags: 'S', seq: CLIENT_ISN + 0x01000000, t: '+2' },
      { from: 'server', flags: 'SA', seq: SERVER_ISN + 0x01000000, ack: CLIENT_ISN + 0x01000001 },
      { from: 'client', flags: 'A', seq: CLIENT_ISN + 0x01000001, ack: SERVER_ISN + 0x01000001 },
    ]),
    expect: { 9: 'reused_ports' },
    streams: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
  },
  {
    name: 'seq-reused-ports-syn-ack',
    description:
      'a SYN-ACK with a new ISN and no SYN: Port numbers reused on the same tcp.stream, with Previous segment not captured and ACKed unseen',
    conversation: conv('seq-reused-ports-syn-ack', [
      ...handshake,
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'A' },
      { from: 'server', flags: 'SA', seq: SERVER_ISN + 0x00100000, ack: CLIENT_ISN + 5000, t: '+1' },
    ]),
    expect: { 6: 'lost_segment ack_lost_segment reused_ports' },
    streams: [0, 0, 0, 0, 0, 0],
  },
  {
    name: 'seq-syn-retransmission',
    description: 'the SYN sent again with the same ISN after 1 s: Retransmission (same stream)',
    conversation: conv('seq-syn-retransmission', [
      { from: 'client', flags: 'S' },
      { from: 'client', flags: 'S', t: '+1' },
      { from: 'server', flags: 'SA' },
      { from: 'client', flags: 'A' },
    ]),
    expect: { 2: 'retransmission' },
    streams: [0, 0, 0, 0],
  },
  {
    name: 'seq-dup-ack-without-ack-bit',
    description: 'a PSH-only empty segment repeating the ack number and window is a Dup ACK: the ACK bit is not looked at',
    conversation: conv('seq-dup-ack-without-ack-bit', [
      ...handshake,
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'A' },
      { from: 'server', flags: 'P', t: '+0.001' },
    ]),
    forceAck: { 6: cAck(101) },
    expect: { 6: 'duplicate_ack#1@5' },
  },
  {
    name: 'seq-zwp-follow-up',
    description: 'a multi-byte segment starting one byte below nextSeq is not a retransmission (GitLab #15427)',
    conversation: conv('seq-zwp-follow-up', [
      ...handshake,
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'A' },
      { from: 'client', flags: 'PA', len: 100, rseq: 100, t: '+0.001' },
    ]),
    expect: {},
  },
  {
    name: 'seq-acked-unseen-hole',
    description: 'the server ACKs past a hole the capture missed: ACKed unseen (the hole case, which resyncs)',
    conversation: conv('seq-acked-unseen-hole', [
      ...handshake,
      { from: 'client', flags: 'PA', len: 100, rseq: 101 },
      { from: 'server', flags: 'A', rack: 201 },
      { from: 'server', flags: 'A', rack: 201, t: '+0.001' },
    ]),
    expect: { 4: 'lost_segment', 5: 'ack_lost_segment', 6: 'duplicate_ack#1@5' },
  },
  {
    name: 'seq-acked-unseen-once',
    description:
      'the server ACKs beyond anything the client sent: ACKed unseen once; the repeats are Dup ACKs, not flagged again while the client\'s ack value does not change; new client data below that ack is Spurious',
    conversation: conv('seq-acked-unseen-once', [
      ...handshake,
      { from: 'server', flags: 'A', rack: 5000, t: '+0.001' },
      { from: 'server', flags: 'A', rack: 5000 },
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'A', rack: 5000 },
    ]),
    expect: { 4: 'ack_lost_segment', 5: 'duplicate_ack#1@4', 6: 'spurious_retransmission', 7: 'duplicate_ack#2@4' },
  },
  {
    name: 'seq-window-full-no-scaling',
    description: 'the SYN-ACK has no window-scale option: scaling is off both ways, raw windows; a segment ending exactly at the right edge is Window Full',
    conversation: conv('seq-window-full-no-scaling', [
      { from: 'client', flags: 'S' },
      { from: 'server', flags: 'SA', opts: { mss: 1460, sackOk: true, ts: true } },
      { from: 'client', flags: 'A' },
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'A', win: 1000 },
      { from: 'client', flags: 'PA', len: 1000 },
    ]),
    expect: { 6: 'window_full' },
  },
  {
    name: 'seq-window-full-unknown-scale',
    description: 'no handshake captured: the window scale is unknown, so Window Full is never raised',
    conversation: conv(
      'seq-window-full-unknown-scale',
      [
        { from: 'client', flags: 'PA', len: 100 },
        { from: 'server', flags: 'A', win: 1000 },
        { from: 'client', flags: 'PA', len: 1000 },
      ],
      { midstream: true },
    ),
    expect: {},
  },
  {
    name: 'seq-raw-seq-zero',
    description: 'raw seq 0 and ack 0 collide with "unset": a first empty segment with both at 0 is a Window Update',
    conversation: conv(
      'seq-raw-seq-zero',
      [
        { from: 'client', flags: 'P', len: 0 },
        { from: 'server', flags: 'A' },
      ],
      { midstream: true, isn: { client: 0xffffffff, server: SERVER_ISN } },
    ),
    expect: { 1: 'window_update' },
  },
  {
    name: 'seq-fin-retransmission',
    description: 'a FIN sent again: Retransmission; a RST with window 0 gets no flag',
    conversation: conv('seq-fin-retransmission', [
      ...handshake,
      { from: 'client', flags: 'FA', t: '+0.100' },
      { from: 'client', flags: 'FA', t: '+0.300' },
      { from: 'server', flags: 'R', seq: sAck(1), win: 0 },
    ]),
    expect: { 5: 'retransmission' },
  },
  {
    name: 'seq-acked-unseen-during-dup-acks',
    description:
      'the server ACKs beyond everything while the client is sending dup ACKs: not flagged (the client\'s dup-ACK count is not 0), but the count is replaced by the sentinel, so the next dup ACK is #1 again',
    conversation: conv('seq-acked-unseen-during-dup-acks', [
      ...handshake,
      { from: 'server', flags: 'PA', len: 100, t: '+0.001' },
      { from: 'client', flags: 'A' },
      { from: 'client', flags: 'A', t: '+0.001' },
      { from: 'client', flags: 'A', t: '+0.001' },
      { from: 'server', flags: 'A', rack: 5000, t: '+0.001' },
      { from: 'client', flags: 'A', t: '+0.001' },
    ]),
    expect: { 6: 'duplicate_ack#1@5', 7: 'duplicate_ack#2@5', 9: 'duplicate_ack#1@5' },
  },
  {
    name: 'seq-fast-retransmission-after-acked-unseen',
    description:
      'an ACK beyond everything leaves the sentinel in the other side\'s dup-ACK count, which counts as 2 or more: a resend at its ack number within 20 ms is a Fast Retransmission without any dup ACK',
    conversation: conv('seq-fast-retransmission-after-acked-unseen', [
      ...handshake,
      { from: 'server', flags: 'PA', len: 100, t: '+0.001' },
      { from: 'server', flags: 'PA', len: 100 },
      { from: 'client', flags: 'A', rack: 101 },
      { from: 'server', flags: 'A', rack: 5000, t: '+0.001' },
      { from: 'server', flags: 'PA', len: 100, rseq: 101 },
    ]),
    expect: { 7: 'ack_lost_segment', 8: 'fast_retransmission' },
  },
  {
    name: 'seq-one-sided-dup-ack-after-135s',
    description:
      'only the client\'s side is captured (its SYN, ACK and data; the server\'s packets take another path); 135 s later, while another connection to the server sends every 20 s, the client repeats its ACK: tshark keeps the one-sided conversation, so it is stream 0\'s Dup ACK #1 of frame 2 (issue #18: it used to be forgotten after 75 s and start stream 2)',
    conversation: conv('seq-one-sided-dup-ack-after-135s', [
      { from: 'client', flags: 'S' },
      { from: 'server', flags: 'SA', captured: false },
      { from: 'client', flags: 'A' },
      { from: 'client', flags: 'PA', len: 100, t: '+0.001' },
      { from: 'server', flags: 'A', captured: false },
      { from: 'client', flags: 'A', t: '135.0' },
    ]),
    alongside: conv('seq-one-sided-dup-ack-after-135s/alongside', [
      { from: 'client', flags: 'S', t: '0.5' },
      { from: 'server', flags: 'SA' },
      { from: 'client', flags: 'A' },
      ...[20, 40, 60, 80, 100, 120, 140].flatMap((t): Step[] => [
        { from: 'client', flags: 'PA', len: 10, t: `${t}.0` },
        { from: 'server', flags: 'A' },
      ]),
    ]),
    expect: { 19: 'duplicate_ack#1@2' },
    streams: [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1],
  },
];
