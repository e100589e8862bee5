/**
 * Frozen conversations (SequenceAnalyzer's freezeAfterSec): an idle conversation is kept as one
 * array of numbers until its next packet, for memory only. Proof that nothing is lost: one
 * analyzer that never freezes and one that freezes every conversation after every packet give
 * the same result, field by field, for every packet of every golden capture and of a slice of
 * the benchmark's mix (loss, retransmissions, a SYN flood), with bytes in flight and SACK on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AnalysisResult, SequenceAnalyzer } from '../src/analysis/index.js';
import { analyzeCapture } from '../src/analyze/capture.js';
import { TcpConversation } from '../src/analysis/conversation.js';
import { FrozenStore } from '../src/util/number.js';
import { openSource } from '../src/reader/index.js';
import { writeMix } from '../scripts/bench-capture.js';
import { goldenCaptures } from '../scripts/seq-compare.js';

type Fields = Omit<AnalysisResult, 'clear'>;
const FIELDS = Object.keys(new AnalysisResult()) as Array<keyof Fields>;

/** Packets compared, and the first difference (null: none). */
async function compareFrozen(path: string): Promise<{ packets: number; frozen: number; thawed: number; diff: string | null }> {
  const plain = new SequenceAnalyzer({ trackBytesInFlight: true, freezeAfterSec: Infinity });
  const frozen = new SequenceAnalyzer({ trackBytesInFlight: true, freezeAfterSec: 0 });
  let packets = 0;
  let diff: string | null = null;
  await analyzeCapture(path, openSource(path), {
    onPacket: (rec, status, p) => {
      if (status !== 0 || diff !== null) return;
      packets++;
      const a: Fields = { ...plain.packet(rec.number, rec.tsUs, p) };
      const b = frozen.packet(rec.number, rec.tsUs, p);
      for (const f of FIELDS) {
        if (a[f] !== b[f]) diff = `frame ${rec.number}: ${f} ${String(b[f])}, without freezing ${String(a[f])}`;
      }
      frozen.freezeIdle();
    },
  });
  assert.equal(plain.frozen, 0);
  return { packets, frozen: frozen.frozen, thawed: frozen.thawed, diff };
}

describe('a conversation frozen while idle comes back as it was', () => {
  for (const c of goldenCaptures()) {
    test(`${c.group}/${c.name}: every packet's analysis as without freezing`, async () => {
      const r = await compareFrozen(c.capture);
      assert.equal(r.diff, null);
      assert.ok(r.packets === 0 || r.frozen > 0, 'conversations were frozen');
    });
  }

  test("the benchmark's mix: the same, and most packets found their conversation frozen", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpstate-freeze-'));
    try {
      const file = join(dir, 'mix.pcap');
      writeMix(file, { scale: 0.01, floodSyns: 500, seed: 11 });
      const r = await compareFrozen(file);
      assert.equal(r.diff, null);
      assert.ok(r.packets > 10_000, `${r.packets} packets`);
      // Every packet after a conversation's first finds it frozen (freezeIdle after each packet).
      assert.ok(r.thawed > r.packets / 2, `${r.thawed} thawed of ${r.packets} packets`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('a frozen conversation comes back with every field of its own and of both directions, SACK blocks and unacked segments', () => {
  const conv = new TcpConversation(42, 'key', 7);
  // Every number and flag away from its initial value, so that one not carried over shows.
  let v = 1;
  const vary = (o: object) => {
    const fields = o as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (k === 'stream' || k === 'firstFrame' || k === 'sackCount') continue;
      if (typeof fields[k] === 'number') fields[k] = v++ * 1_000_003_579;
      else if (typeof fields[k] === 'boolean') fields[k] = !fields[k];
    }
  };
  vary(conv);
  conv.finMask = 5;
  for (const f of [conv.flow1, conv.flow2]) {
    vary(f);
    f.sackCount = 2;
  }
  conv.flow1.sack = Uint32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  conv.flow2.pushUnacked(10, 100, 200, 1.7e15, 3);
  conv.flow2.pushUnacked(11, 200, 300, 1.7e15 + 9, 4);
  const seen = (c: TcpConversation) =>
    JSON.stringify({ c: { ...c, flow1: null, flow2: null }, flows: [c.flow1, c.flow2].map((f) => ({ ...f, sack: f.sack && [...f.sack], unacked: Array.from({ length: f.unacked.count }, (_, i) => [f.unacked.frame(i), f.unacked.seq(i), f.unacked.nextSeq(i), f.unacked.tsUs(i), f.unacked.tsNs(i)]) })) });
  const before = seen(conv);
  // Rows long enough, and too short (an array of its own). A freeze gives the unacked lists back: go on with the thawed one.
  let c = conv;
  for (const store of [new FrozenStore(128), new FrozenStore(8)]) {
    const f = c.freeze(store);
    assert.equal(typeof f === 'number', store.width === 128);
    c = TcpConversation.thaw('key', store, f);
    assert.equal(seen(c), before);
  }
});
