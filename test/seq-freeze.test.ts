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
import { AnalysisResult, SequenceAnalyzer, type TcpSegmentView } from '../src/analysis/index.js';
import { analyzeCapture } from '../src/analyze/capture.js';
import { TcpConversation, conversationKey, endpointOrder } from '../src/analysis/conversation.js';
import { FrozenStore } from '../src/util/number.js';
import { openSource } from '../src/reader/index.js';
import { writeMix } from '../scripts/bench-capture.js';
import { goldenCaptures } from '../scripts/seq-compare.js';

type Fields = Omit<AnalysisResult, 'clear'>;
const FIELDS = Object.keys(new AnalysisResult()) as Array<keyof Fields>;

/**
 * Packets compared, and the first difference (null: none). The frozen analyzer, and a third that
 * never freezes, are given each endpoint pair's last conversation as a hint (as analyze/capture.ts
 * does per flow): a hint the table no longer holds (frozen, replaced, forgotten) must not be used.
 */
async function compareFrozen(path: string): Promise<{ packets: number; frozen: number; thawed: number; hinted: number; diff: string | null }> {
  const plain = new SequenceAnalyzer({ trackBytesInFlight: true, freezeAfterSec: Infinity });
  const frozen = new SequenceAnalyzer({ trackBytesInFlight: true, freezeAfterSec: 0 });
  // Two that forget a closed conversation after 1 s (a hint then points at a forgotten one), with hints and without.
  const quick = new SequenceAnalyzer({ trackBytesInFlight: true, freezeAfterSec: Infinity, quietTimeoutSec: 1 });
  const quickHinted = new SequenceAnalyzer({ trackBytesInFlight: true, freezeAfterSec: Infinity, quietTimeoutSec: 1 });
  const hints = [new Map<string, TcpConversation | null>(), new Map<string, TcpConversation | null>()];
  let packets = 0;
  let hinted = 0;
  let diff: string | null = null;
  const withHint = (s: SequenceAnalyzer, h: Map<string, TcpConversation | null>, frame: number, ts: number, p: TcpSegmentView) => {
    const key = conversationKey(p, endpointOrder(p));
    const hint = h.get(key) ?? null;
    if (hint?.inTable && s === quickHinted) hinted++;
    const r: Fields = { ...s.packet(frame, ts, p, 0, hint) };
    h.set(key, s.conversation);
    return r;
  };
  await analyzeCapture(path, openSource(path), {
    onPacket: (rec, status, p) => {
      if (status !== 0 || diff !== null) return;
      packets++;
      const a: Fields = { ...plain.packet(rec.number, rec.tsUs, p) };
      const b = withHint(frozen, hints[0], rec.number, rec.tsUs, p);
      const c: Fields = { ...quick.packet(rec.number, rec.tsUs, p) };
      const d = withHint(quickHinted, hints[1], rec.number, rec.tsUs, p);
      for (const f of FIELDS) {
        if (a[f] !== b[f]) diff = `frame ${rec.number}: ${f} ${String(b[f])}, without freezing ${String(a[f])}`;
        if (c[f] !== d[f]) diff = `frame ${rec.number}: ${f} ${String(d[f])} with hints, ${String(c[f])} without`;
      }
      frozen.freezeIdle();
    },
  });
  assert.equal(plain.frozen, 0);
  return { packets, frozen: frozen.frozen, thawed: frozen.thawed, hinted, diff };
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
      // And most found their conversation through the hint where nothing froze it.
      assert.ok(r.hinted > r.packets / 2, `${r.hinted} hinted of ${r.packets} packets`);
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
      // inTable is the table's bookkeeping (a thawed conversation is in the table), not carried.
      if (k === 'stream' || k === 'firstFrame' || k === 'sackCount' || k === 'inTable') continue;
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
