/**
 * Port exhaustion judged as connections start (PortWindows), against the whole-capture
 * computation it replaces: every pair's connections sorted by first packet time, the distinct
 * source ports of any window of one TIME_WAIT length, the first window at the peak.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PortWindows } from '../src/detect/port-windows.js';
import { Rng } from '../scripts/bench-capture.js';

type Conn = { key: number; port: number; ts: number };

/** The whole-capture computation (hosts.ts before PortWindows). */
function reference(conns: Conn[], windowUs: number, limit: number): Array<{ key: number; peak: number; peakTs: number }> {
  const byKey = new Map<number, Conn[]>();
  for (const c of conns) {
    let l = byKey.get(c.key);
    if (l === undefined) byKey.set(c.key, (l = []));
    l.push(c);
  }
  const out: Array<{ key: number; peak: number; peakTs: number }> = [];
  for (const [key, l] of byKey) {
    if (l.length < limit) continue;
    const rows = [...l].sort((a, b) => a.ts - b.ts);
    const inWindow = new Map<number, number>();
    let peak = 0;
    let peakTs = 0;
    let lo = 0;
    for (let hi = 0; hi < rows.length; hi++) {
      inWindow.set(rows[hi].port, (inWindow.get(rows[hi].port) ?? 0) + 1);
      while (rows[hi].ts - rows[lo].ts > windowUs) {
        const p = rows[lo++].port;
        const n = inWindow.get(p)! - 1;
        if (n === 0) inWindow.delete(p);
        else inWindow.set(p, n);
      }
      if (inWindow.size > peak) {
        peak = inWindow.size;
        peakTs = rows[hi].ts;
      }
    }
    if (peak >= limit) out.push({ key, peak, peakTs });
  }
  return out.sort((a, b) => a.key - b.key);
}

function judged(conns: Conn[], windowUs: number, limit: number, lagUs?: number): { peaks: Array<{ key: number; peak: number; peakTs: number }>; late: number } {
  const w = new PortWindows(windowUs, limit, lagUs);
  for (const c of conns) w.add(c.key, c.port, c.ts);
  return { peaks: w.peaks().sort((a, b) => a.key - b.key), late: w.late };
}

/** The bench's seeded generator (mulberry32), so a failure can be replayed: an integer in [0, n). */
function rng(seed: number): (n: number) => number {
  const g = new Rng(seed);
  return (n) => g.int(0, n);
}

const W = 60_000_000;

test('port windows: busy pairs over many windows (bursts that cross the limit again and again, quiet gaps, ports reused) give the whole-capture peaks', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = rng(seed);
    const conns: Conn[] = [];
    let ts = 1_000_000;
    // 40 windows' worth of traffic: three busy pairs with bursts, and background pairs (spoofed-like, one connection each).
    for (let i = 0; i < 6000; i++) {
      ts += r(4) === 0 ? r(3 * W) / 50 : r(40_000);
      const busy = r(3);
      const key = r(5) === 0 ? (1000 + i) * 2 ** 20 + 7 : (10 + busy) * 2 ** 20 + busy;
      conns.push({ key, port: 1024 + r(busy === 2 ? 40 : 400), ts });
    }
    const want = reference(conns, W, 30);
    assert.ok(want.length >= 2, `seed ${seed}: the case holds findings (${want.length})`);
    const got = judged(conns, W, 30);
    assert.deepEqual(got.peaks, want, `seed ${seed}`);
    assert.equal(got.late, 0);
  }
});

test('port windows: a limit that collides in the hash table (every pair counted in few buckets) changes nothing', () => {
  const r = rng(77);
  const conns: Conn[] = [];
  let ts = 0;
  for (let i = 0; i < 20_000; i++) {
    ts += r(5_000);
    conns.push({ key: r(3000) * 2 ** 20 + r(4), port: r(200), ts });
  }
  // A limit of 2: nearly every pair is looked at exactly, and many share a bucket.
  const want = reference(conns, W, 2);
  assert.ok(want.length > 1000);
  assert.deepEqual(judged(conns, W, 2).peaks, want);
});

test('port windows: first packets whose times go backwards, by less than the lag, give the same peaks; by more, they are counted as late', () => {
  const r = rng(5);
  const inOrder: Conn[] = [];
  let ts = 0;
  for (let i = 0; i < 5000; i++) {
    ts += r(50_000);
    inOrder.push({ key: (1 + r(2)) * 2 ** 20 + 1, port: r(300), ts });
  }
  const want = reference(inOrder, W, 40);
  assert.ok(want.length === 2);
  // Each connection moved back by up to 30 s in the order they come (a merge of two interfaces' clocks).
  const shuffled = inOrder.map((c, i) => ({ c, at: c.ts + (i % 7 === 0 ? 30_000_000 : r(1_000_000)) })).sort((a, b) => a.at - b.at);
  const got = judged(
    shuffled.map((x) => x.c),
    W,
    40,
  );
  assert.deepEqual(got.peaks, want);
  assert.equal(got.late, 0);
  // A jump back of more than the lag (a capture appended to a later one) is seen.
  const jumped = judged([...inOrder.slice(2500), ...inOrder.slice(0, 2500)], W, 40);
  assert.ok(jumped.late > 0);
});
