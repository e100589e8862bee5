/**
 * The sequence analysis (src/analysis) against tshark 4.0.17's `tcp.analysis.*`:
 * per-flag precision and recall over every golden, the one-rule scenarios of
 * test/seq-scenarios.ts (their expectations come from the rules document; tshark
 * confirms them through test/golden/analysis/seq-*.tsv), and focused tests on
 * hand-made packets for the order of the checks and the quirks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AnalysisFlag as A, SequenceAnalyzer, flagNames, type SequenceAnalyzerOptions } from '../src/tcp/wireshark/index.js';
import { gtSeq, leSeq, ltSeq } from '../src/tcp/wireshark/seq.js';
import { DecodedPacket, decodeFrame } from '../src/decode/index.js';
import { FIELD_BITS, KNOWN_DIFFERENCES, Tally, compareCapture, goldenCaptures } from '../scripts/seq-compare.js';
import { frameOf } from './scenario/scenarios.js';
import { LINKTYPE } from './scenario/writer.js';
import { seqScenarios, segmentsOf, type SeqScenario } from './seq-scenarios.js';

// ---------------------------------------------------------------- agreement with the goldens

const RETRANSMISSION_FAMILY = ['retransmission', 'fast_retransmission', 'spurious_retransmission'];

describe('agreement with tshark 4.0.17 over every golden', async () => {
  const captures = goldenCaptures();
  const all = new Tally();
  const documented = new Tally();
  const kernel = new Tally();
  for (const c of captures) {
    const t = await compareCapture(c);
    all.add(t.all);
    documented.add(t.documented);
    if (c.group === 'kernel') kernel.add(t.all);
  }

  test('the goldens are all there', () => {
    const groups = new Set(captures.map((c) => c.group));
    for (const g of ['kernel', 'scenarios', 'zeek-traces', 'corpus-formats', 'seq-scenarios']) assert.ok(groups.has(g), `golden group ${g}`);
    assert.ok(all.frames > 20000, `${all.frames} frames compared`);
  });

  for (const [i, [name]] of FIELD_BITS.entries()) {
    test(`${name}: precision and recall >= 99.5% (documented differences left out)`, () => {
      const { tp, fp, fn } = documented.perField[i];
      assert.ok(tp > 0, `no ${name} in any golden`);
      assert.ok(tp / (tp + fp) >= 0.995, `${name} precision ${tp}/${tp + fp}`);
      assert.ok(tp / (tp + fn) >= 0.995, `${name} recall ${tp}/${tp + fn}`);
    });
  }

  test('the retransmission family agrees exactly on the kernel samples', () => {
    for (const name of RETRANSMISSION_FAMILY) {
      const { fp, fn } = kernel.perField[FIELD_BITS.findIndex(([n]) => n === name)];
      assert.deepEqual({ name, fp, fn }, { name, fp: 0, fn: 0 });
    }
  });

  test('dup-ACK numbers and frames, tcp.stream and the window scale factor agree everywhere', () => {
    assert.equal(all.dupAckDetailDiffs, 0);
    assert.equal(all.streamDiffs, 0);
    assert.equal(all.scaleDiffs, 0);
    assert.equal(all.missing, 0, 'frames tshark analysed that we did not');
  });

  test('the documented differences are still differences', () => {
    assert.equal(documented.excluded, KNOWN_DIFFERENCES.reduce((n, k) => n + k.frames.length, 0));
    assert.equal(documented.excludedStillDiffer, documented.excluded, 'a documented difference went away: update KNOWN_DIFFERENCES and DIFFERENCES.md');
  });
});

// ---------------------------------------------------------------- the one-rule scenarios

interface Row {
  flags: number;
  dupAckNum: number;
  dupAckFrame: number;
  stream: number;
}

function runScenario(s: SeqScenario, opts: SequenceAnalyzerOptions = {}): Row[] {
  const a = new SequenceAnalyzer(opts);
  const p = new DecodedPacket();
  return segmentsOf(s).map((seg, i) => {
    const bytes = frameOf({ type: 'ethernet' }, seg.from, seg.etherType, seg.ip);
    assert.equal(decodeFrame(p, LINKTYPE.ETHERNET, bytes, 0, bytes.length, bytes.length), 0);
    const r = a.packet(i + 1, Number(seg.tsNs / 1000n), p, Number(seg.tsNs % 1000n));
    return { flags: r.flags, dupAckNum: r.dupAckNum, dupAckFrame: r.dupAckFrame, stream: r.stream };
  });
}

/** 'duplicate_ack#1@2 window_update' style, as SeqScenario.expect writes it. */
function describeRow(r: Row): string {
  return flagNames(r.flags)
    .map((n) => (n === 'duplicate_ack' ? `duplicate_ack#${r.dupAckNum}@${r.dupAckFrame}` : n))
    .join(' ');
}

function normalise(expect: string): string {
  return expect.split(' ').filter(Boolean).sort().join(' ');
}

describe('one-rule scenarios (expectations from the rules, confirmed by tshark)', () => {
  for (const s of seqScenarios) {
    test(`${s.name}: ${s.description}`, () => {
      const rows = runScenario(s);
      const got = Object.fromEntries(rows.map((r, i) => [i + 1, normalise(describeRow(r))]).filter(([, d]) => d !== ''));
      const want = Object.fromEntries(Object.entries(s.expect).map(([f, d]) => [Number(f), normalise(d)]));
      assert.deepEqual(got, want);
      if (s.streams) assert.deepEqual(rows.map((r) => r.stream), s.streams);
    });
  }

  test('tcp.fastrt_supersedes_ooo off: the tie between fast retransmission and out-of-order goes to out-of-order', () => {
    const s = seqScenarios.find((x) => x.name === 'seq-dup-ack-fast-retransmission')!;
    assert.equal(runScenario(s)[10].flags, A.FAST_RETRANSMISSION);
    assert.equal(runScenario(s, { fastRetransmissionSupersedesOutOfOrder: false })[10].flags, A.OUT_OF_ORDER);
  });
});

// ---------------------------------------------------------------- hand-made packets

const C = 'c';
const S = 's';

interface PacketSpec {
  seq: number;
  ack?: number;
  /** Letters F S R P A. */
  flags?: string;
  win?: number;
  len?: number;
  ws?: number;
  /** µs since the start. */
  t: number;
}

/** Packets of one conversation between 10.0.0.1:40000 (c) and 10.0.0.2:80 (s), or over IPv6. */
class Packets {
  readonly a: SequenceAnalyzer;
  private frame = 0;
  private readonly p = new DecodedPacket();

  constructor(
    opts: SequenceAnalyzerOptions = {},
    private readonly v6 = false,
    private readonly startUs = 1_700_000_000_000_000,
  ) {
    this.a = new SequenceAnalyzer(opts);
    this.p.buf = new Uint8Array(32);
  }

  send(from: 'c' | 's', s: PacketSpec, ports: [number, number] = [40000, 80]) {
    const p = this.p;
    const addr = (host: number) => (this.v6 ? [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), host] : [10, 0, 0, host]);
    const [src, dst] = from === C ? [addr(1), addr(2)] : [addr(2), addr(1)];
    p.buf.set(src, 0);
    p.buf.set(dst, 16);
    p.ipVersion = this.v6 ? 6 : 4;
    p.srcOff = 0;
    p.dstOff = 16;
    [p.srcPort, p.dstPort] = from === C ? ports : [ports[1], ports[0]];
    p.seq = s.seq >>> 0;
    p.ack = (s.ack ?? 0) >>> 0;
    p.flags = [...(s.flags ?? 'A')].reduce((f, c) => f | { F: 1, S: 2, R: 4, P: 8, A: 16 }[c]!, 0);
    p.window = s.win ?? 1000;
    p.payloadLen = s.len ?? 0;
    p.windowScale = s.ws ?? -1;
    p.sackCount = 0;
    return this.a.packet(++this.frame, this.startUs + s.t, p, 0);
  }

  /** Handshake with window scale 0 both ways; the client's next sequence number is cIsn + 1. */
  handshake(cIsn: number, sIsn: number, t = 0) {
    this.send(C, { seq: cIsn, flags: 'S', ws: 0, t });
    this.send(S, { seq: sIsn, ack: cIsn + 1, flags: 'SA', ws: 0, t: t + 100 });
    return this.send(C, { seq: cIsn + 1, ack: sIsn + 1, t: t + 200 });
  }
}

const names = (flags: number) => flagNames(flags).join(' ');

describe('hand-made packets', () => {
  test('Wireshark sequence comparisons: a distance of exactly 2^31 is both greater and less', () => {
    assert.ok(gtSeq(0x80000000, 0) && ltSeq(0x80000000, 0));
    assert.ok(gtSeq(0, 0x80000000) && ltSeq(0, 0x80000000));
    assert.ok(gtSeq(5, 0xfffffffb) && ltSeq(0xfffffffb, 5));
    assert.ok(leSeq(7, 7) && !gtSeq(7, 7));
  });

  test('a zero window probe skips the other sender checks (no ZeroWindow though its window is 0)', () => {
    const k = new Packets();
    k.handshake(1000, 5000);
    k.send(C, { seq: 1001, ack: 5001, len: 10, t: 300 });
    assert.equal(names(k.send(S, { seq: 5001, ack: 1011, win: 0, t: 400 }).flags), 'zero_window');
    assert.equal(names(k.send(C, { seq: 1011, ack: 5001, len: 1, win: 0, t: 500 }).flags), 'zero_window_probe');
  });

  test('sequence numbers that wrap around 2^32 are followed; a gap across the wrap is a lost segment', () => {
    const k = new Packets();
    k.handshake(0xffffff00, 5000);
    assert.equal(k.send(C, { seq: 0xffffff01, ack: 5001, len: 0xff, t: 300 }).flags, 0);
    assert.equal(k.send(C, { seq: 0, ack: 5001, len: 100, t: 310 }).flags, 0);
    assert.equal(names(k.send(C, { seq: 200, ack: 5001, len: 100, t: 320 }).flags), 'lost_segment');
    assert.equal(names(k.send(C, { seq: 100, ack: 5001, len: 100, t: 330 }).flags), 'out_of_order');
  });

  test('time going backwards: the unsigned time difference is huge, so a filled hole is a plain retransmission', () => {
    const k = new Packets();
    k.handshake(1000, 5000);
    k.send(C, { seq: 1101, ack: 5001, len: 100, t: 10_000 });
    assert.equal(names(k.send(C, { seq: 1001, ack: 5001, len: 100, t: 9_000 }).flags), 'retransmission');
  });

  test('a window-scale shift above 14 counts as 14 for Window Full', () => {
    const k = new Packets();
    k.send(C, { seq: 1000, flags: 'S', ws: 15, t: 0 });
    k.send(S, { seq: 5000, ack: 1001, flags: 'SA', ws: 15, t: 100 });
    k.send(C, { seq: 1001, ack: 5001, win: 1, t: 200 });
    // The server's right edge: 5001 + (1 << 14).
    assert.equal(names(k.send(S, { seq: 5001, ack: 1001, len: 1 << 14, t: 300 }).flags), 'window_full');
  });

  test('a window in a SYN is not scaled until that side has sent an ACK (isFirstAck)', () => {
    const k = new Packets();
    // The SYN's raw ack field (5001) is recorded although its ACK bit is clear.
    k.send(C, { seq: 1000, ack: 5001, flags: 'S', ws: 2, win: 100, t: 0 });
    k.send(S, { seq: 5000, ack: 1001, flags: 'SA', ws: 2, win: 100, t: 100 });
    // The client has sent no ACK yet: its window 100 is taken unscaled.
    assert.equal(names(k.send(S, { seq: 5001, ack: 1001, len: 100, win: 100, t: 150 }).flags), 'window_full');
    k.send(C, { seq: 1001, ack: 5101, win: 100, t: 200 });
    // Now it is scaled: 100 << 2.
    assert.equal(k.send(S, { seq: 5101, ack: 1001, len: 100, win: 100, t: 250 }).flags, 0);
    assert.equal(names(k.send(S, { seq: 5201, ack: 1001, len: 300, win: 100, t: 260 }).flags), 'window_full');
  });

  test('IPv6 conversations: both directions are one stream, another port pair is another', () => {
    const k = new Packets({}, true);
    assert.equal(k.handshake(1000, 5000).stream, 0);
    assert.equal(k.send(S, { seq: 5001, ack: 1001, len: 10, t: 300 }).stream, 0);
    assert.equal(k.send(C, { seq: 1, flags: 'S', t: 400 }, [40001, 80]).stream, 1);
    assert.equal(k.send(C, { seq: 1001, ack: 5011, t: 500 }).stream, 0);
  });

  test('acks_frame and the ack RTT: an ack cutting a segment trims it, the ack of its end names it', () => {
    const k = new Packets({ trackBytesInFlight: true });
    k.handshake(1000, 5000);
    const data = k.send(C, { seq: 1001, ack: 5001, len: 100, t: 1000 });
    assert.equal(data.bytesInFlight, 100);
    assert.equal(k.send(S, { seq: 5001, ack: 1051, t: 1500 }).acksFrame, 0);
    const r = k.send(S, { seq: 5001, ack: 1101, t: 2000 });
    assert.deepEqual([r.acksFrame, r.ackRttNs], [4, 1_000_000]);
    assert.equal(r.hasAnalysis, true);
  });

  test('a plain retransmission names the oldest unacknowledged segment (rto_frame) and the time since it', () => {
    const k = new Packets();
    k.handshake(1000, 5000);
    k.send(C, { seq: 1001, ack: 5001, len: 100, t: 1000 });
    k.send(C, { seq: 1101, ack: 5001, len: 100, t: 1010 });
    const r = k.send(C, { seq: 1001, ack: 5001, len: 100, t: 300_000 });
    assert.deepEqual([names(r.flags), r.rtoFrame, r.rtoNs], ['retransmission', 4, 299_000_000]);
  });

  test('the initial RTT runs from the last SYN to the first packet with ACK and no SYN', () => {
    const k = new Packets();
    assert.equal(k.send(C, { seq: 1000, flags: 'S', ws: 0, t: 0 }).initialRttNs, 0);
    k.send(C, { seq: 1000, flags: 'S', ws: 0, t: 1_000_000 });
    k.send(S, { seq: 5000, ack: 1001, flags: 'SA', ws: 0, t: 1_000_300 });
    assert.equal(k.send(C, { seq: 1001, ack: 5001, t: 1_000_350 }).initialRttNs, 350_000);
  });

  test('when the list of unacked segments is full, a FIN no longer counts one: the next packet is "previous segment not captured"', () => {
    const k = new Packets();
    k.send(C, { seq: 1000, flags: 'S', t: 0 });
    let seq = 1001;
    for (let i = 0; i < 10_000; i++, seq++) k.send(C, { seq, ack: 5001, len: 1, t: 100 + i });
    k.send(C, { seq, ack: 5001, flags: 'FA', t: 20_000 });
    assert.equal(names(k.send(C, { seq: seq + 1, ack: 5001, len: 10, t: 30_000 }).flags), 'lost_segment');
  });

  test('a FIN counts one while the list has room', () => {
    const k = new Packets();
    k.handshake(1000, 5000);
    k.send(C, { seq: 1001, ack: 5001, flags: 'FA', t: 20_000 });
    assert.equal(k.send(C, { seq: 1002, ack: 5001, len: 10, t: 30_000 }).flags, 0);
  });

  test('a port-reuse SYN starts from fresh state: the old connection\'s numbers leave no trace', () => {
    const k = new Packets();
    k.handshake(1000, 5000);
    k.send(C, { seq: 1001, ack: 5001, len: 100, t: 300 });
    const syn = k.send(C, { seq: 90_000, flags: 'S', t: 1_000_000 });
    assert.deepEqual([names(syn.flags), syn.stream], ['reused_ports', 1]);
    assert.equal(k.send(S, { seq: 70_000, ack: 90_001, flags: 'SA', t: 1_000_100 }).flags, 0);
    assert.equal(k.send(C, { seq: 90_001, ack: 70_001, t: 1_000_200 }).flags, 0);
  });

  test('a port-reuse SYN restarts the row: the old stream\'s unacked segments and SACK blocks go back to the pools', () => {
    const k = new Packets({ trackBytesInFlight: true });
    k.handshake(1000, 5000);
    assert.equal(k.send(C, { seq: 1001, ack: 5001, len: 10, t: 300 }).stream, 0);
    assert.equal(k.a.pooled.segments, 1);
    assert.equal(k.send(C, { seq: 90_000, flags: 'S', t: 1_000_000 }).stream, 1);
    assert.equal(k.a.pooled.segments, 1, 'only the new SYN');
    assert.equal(k.a.held, 1);
    const synAck = k.send(S, { seq: 70_000, ack: 90_001, flags: 'SA', t: 1_000_100 });
    assert.deepEqual([synAck.flags, synAck.stream, synAck.acksFrame], [0, 1, 5]);
  });

  describe('memory: the conversation table is swept by packet time', () => {
    test('a closed conversation idle beyond the quiet timeout is kept, as tshark keeps it, without its unacked segments', () => {
      const k = new Packets({ quietTimeoutSec: 30 });
      k.handshake(1000, 5000);
      k.send(C, { seq: 1001, ack: 5001, len: 100, t: 500 });
      k.send(C, { seq: 1101, ack: 5001, flags: 'RA', t: 1000 });
      assert.equal(k.a.pooled.segments, 1, 'the unacknowledged data');
      // Other traffic moves the clock on (at most 60 s per packet).
      for (let s = 1; s <= 40; s++) k.send(C, { seq: 1, flags: 'S', t: s * 1_000_000 }, [41000 + s, 80]);
      assert.equal(k.a.swept, 0);
      assert.ok(k.a.compacted >= 1);
      assert.ok(k.a.pooled.segments <= 31, `${k.a.pooled.segments} segments: the SYNs of the last 30 s, and of 30-40 s ago until the next sweep`);
      const late = k.send(S, { seq: 5001, ack: 1101, t: 41_000_000 });
      assert.equal(late.stream, 0);
      assert.equal(late.acksFrame, 0, 'the segment it would have acknowledged is forgotten');
      // Seen again, it is compacted again once idle again, and its data is recorded meanwhile.
      const compacted = k.a.compacted;
      k.send(C, { seq: 1101, ack: 5001, len: 10, t: 41_000_100 }); // frame 47
      assert.equal(k.send(S, { seq: 5001, ack: 1111, t: 41_000_200 }).acksFrame, 47);
      for (let s = 42; s <= 80; s++) k.send(C, { seq: 1, flags: 'S', t: s * 1_000_000 }, [41000 + s, 80]);
      assert.ok(k.a.compacted > compacted + 30, `${k.a.compacted - compacted} compacted since`);
      assert.equal(k.send(C, { seq: 1111, ack: 5001, len: 10, t: 81_000_000 }).stream, 0);
    });

    test('a conversation that never got past its handshake (an answered SYN flood) is kept after the quiet timeout; an open idle one too', () => {
      const k = new Packets({ quietTimeoutSec: 30 });
      k.send(C, { seq: 1000, flags: 'S', t: 0 });
      k.send(S, { seq: 5000, ack: 1001, flags: 'SA', t: 100 });
      const open = [40001, 80] as [number, number]; // on other ports: open, then idle as long
      k.send(C, { seq: 2000, flags: 'S', t: 300 }, open);
      k.send(S, { seq: 3000, ack: 2001, flags: 'SA', t: 400 }, open);
      assert.equal(k.send(C, { seq: 2001, ack: 3001, t: 500 }, open).stream, 1);
      for (let s = 1; s <= 40; s++) k.send(C, { seq: 1, flags: 'S', t: s * 1_000_000 }, [41000 + s, 80]);
      assert.equal(k.send(C, { seq: 2001, ack: 3001, t: 41_000_000 }, open).stream, 1, 'the open conversation is kept');
      const again = k.send(S, { seq: 5000, ack: 1001, flags: 'SA', t: 41_000_100 });
      assert.deepEqual([again.stream, names(again.flags)], [0, 'retransmission'], 'the half-open one too: its SYN-ACK again is a retransmission');
    });

    test('past maxQuietConversations the least recently seen quiet one goes, one that never got past its handshake first', () => {
      const k = new Packets({ maxQuietConversations: 3 });
      k.handshake(1000, 5000); // stream 0: open, not quiet
      k.send(C, { seq: 2000, flags: 'S', t: 300 }, [40001, 80]); // 1: a lone SYN
      k.send(C, { seq: 3000, flags: 'S', t: 400 }, [40002, 80]); // 2
      k.send(C, { seq: 4000, flags: 'S', t: 500 }, [40003, 80]); // 3
      k.send(C, { seq: 1001, ack: 5001, flags: 'FA', t: 600 });
      assert.equal(k.send(S, { seq: 5001, ack: 1002, flags: 'FA', t: 700 }).stream, 0); // closed: quiet, past its handshake
      assert.deepEqual([k.a.quiet, k.a.evicted], [3, 1], 'the oldest lone SYN (40001) went');
      assert.equal(k.send(C, { seq: 3000, flags: 'S', t: 800 }, [40002, 80]).stream, 2, 'a retransmitted SYN: seen again, kept');
      k.send(C, { seq: 9000, flags: 'S', t: 900 }, [40009, 80]); // 4: the lone SYN of 40003 goes
      assert.equal(k.send(C, { seq: 4000, flags: 'S', t: 1000 }, [40003, 80]).stream, 5, 'forgotten: a new stream');
      assert.equal(k.send(C, { seq: 1002, ack: 5002, t: 1100 }).stream, 0, 'the closed one is kept while lone SYNs go first');
      // 40003's new SYN made a fourth quiet one: the oldest lone SYN (40002, seen at 800) went.
      assert.deepEqual([k.a.held, k.a.quiet, k.a.evicted], [3, 3, 3]);
    });

    test('without timeouts nothing is forgotten (Wireshark keeps every conversation)', () => {
      const k = new Packets({ quietTimeoutSec: Infinity, idleTimeoutSec: Infinity });
      k.handshake(1000, 5000);
      k.send(C, { seq: 1001, ack: 5001, flags: 'RA', t: 1000 });
      for (let s = 1; s <= 40; s++) k.send(C, { seq: 1, flags: 'S', t: s * 1_000_000_000 }, [41000 + s, 80]);
      assert.equal(k.a.swept, 0);
      assert.equal(k.send(C, { seq: 1001, ack: 5001, t: 41_000_000_000 }).stream, 0);
    });

    test('one far-future timestamp does not age the whole table', () => {
      const k = new Packets({ quietTimeoutSec: 300 });
      k.handshake(1000, 5000);
      k.send(C, { seq: 1, flags: 'S', t: 1_000 }, [41000, 80]);
      k.send(C, { seq: 1, flags: 'S', t: 1e15 }, [41001, 80]); // 31 years later
      for (let i = 0; i < 5; i++) k.send(S, { seq: 5001, ack: 1001, t: 2_000 + i });
      assert.equal(k.a.swept, 0);
      assert.equal(k.send(C, { seq: 1, flags: 'S', t: 3_000 }, [41000, 80]).stream, 1);
    });

    test('a live conversation is kept while it has traffic, however long', () => {
      const k = new Packets({ idleTimeoutSec: 60, quietTimeoutSec: 10 });
      k.handshake(1000, 5000);
      for (let m = 1; m <= 30; m++) {
        // A keep-alive exchange every 50 s: never 60 s idle.
        assert.equal(names(k.send(C, { seq: 1000, ack: 5001, t: m * 50_000_000 }).flags), 'keep_alive');
        assert.equal(k.send(S, { seq: 5001, ack: 1001, t: m * 50_000_000 + 100 }).stream, 0);
      }
      assert.equal(k.a.swept, 0);
    });
  });
});
