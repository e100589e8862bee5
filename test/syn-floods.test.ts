/**
 * SYN floods settled as packet time passes them (SynFloods), against the whole-capture
 * computation they replace: connections end in any order (half-open ones up to a handshake
 * timeout after their SYN, completed ones hours later), settle() is called between them as the
 * pipeline calls it, and the episodes, their counts and which held half-open findings they
 * cover come out as if everything had been judged at the end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ATTEMPT, COMPLETED, COOKIE, HALF_OPEN, REFUSED, SLOT_US, SYN_ACKED, SynFloods, type Episode } from '../src/detect/floods.js';
import { Rng } from '../scripts/bench-capture.js';

interface Flow {
  listener: number;
  ts: number;
  client: number;
  flags: number;
  /** When its connection ends (the order the detector sees them). */
  endTs: number;
}

/** The whole-capture computation (hosts.ts before SynFloods): one listener's flows. */
function reference(flows: Flow[], rate: number): Episode[] {
  const rows = [...flows].sort((a, b) => a.ts - b.ts);
  const slots = new Map<number, number>();
  let halfOpen = 0;
  for (const r of rows) {
    if (!(r.flags & HALF_OPEN)) continue;
    halfOpen++;
    const k = Math.floor(r.ts / SLOT_US);
    slots.set(k, (slots.get(k) ?? 0) + 1);
  }
  if (halfOpen < rate) return [];
  const second = (k: number) => {
    let sum = 0;
    for (let i = k - 9; i <= k; i++) sum += slots.get(i) ?? 0;
    return sum;
  };
  const hot: Array<{ first: number; last: number; peak: number }> = [];
  for (const k of [...slots.keys()].sort((x, y) => x - y)) {
    const n = second(k);
    if (n < rate) continue;
    const cur = hot[hot.length - 1];
    if (cur !== undefined && k - cur.last <= 10) {
      cur.last = k;
      cur.peak = Math.max(cur.peak, n);
    } else hot.push({ first: k, last: k, peak: n });
  }
  return hot.map(({ first, last, peak }) => {
    const start = (first - 9) * SLOT_US;
    const end = (last + 1) * SLOT_US;
    const e: Episode = { start, end, firstTs: -1, lastTs: -1, peak, halfOpen: 0, synAcked: 0, refused: 0, cookies: 0, completed: 0, sources: 0 };
    const sources = new Set<number>();
    for (const r of rows) {
      if (r.ts < start || r.ts >= end || !(r.flags & ATTEMPT)) continue;
      if (r.flags & REFUSED) e.refused++;
      if (r.flags & COOKIE) e.cookies++;
      if (r.flags & COMPLETED) e.completed++;
      if (!(r.flags & HALF_OPEN)) continue;
      e.halfOpen++;
      if (r.flags & SYN_ACKED) e.synAcked++;
      if (e.firstTs < 0) e.firstTs = r.ts;
      e.lastTs = r.ts;
      sources.add(r.client);
    }
    e.sources = sources.size;
    return e;
  });
}

/** The bench's seeded generator (mulberry32), so a failure can be replayed: an integer in [0, n). */
function rng(seed: number): (n: number) => number {
  const g = new Rng(seed);
  return (n) => g.int(0, n);
}

const T0 = 1_700_000_000_000_000;
const HANDSHAKE_US = 180_000_000;

/** Flows at two listeners over `minutes`: floods of random length and rate, sparse half-open attempts, completed and refused ones, some long-lived. */
function traffic(r: (n: number) => number, minutes: number): Flow[] {
  const flows: Flow[] = [];
  for (let listener = 0; listener < 2; listener++) {
    // Background: an attempt every 10-200 ms.
    for (let ts = T0 + r(1_000_000); ts < T0 + minutes * 60e6; ts += 10_000 + r(190_000)) {
      const k = r(20);
      const flags = k === 0 ? ATTEMPT | HALF_OPEN | (r(2) ? SYN_ACKED : 0) : k === 1 ? ATTEMPT | REFUSED : ATTEMPT | COMPLETED | SYN_ACKED | (r(30) === 0 ? COOKIE : 0);
      // Completed: most end within seconds, some hours later (long-lived), a few before their SYN's time was settled.
      const endTs = flags & HALF_OPEN ? ts + r(HANDSHAKE_US) : ts + (r(50) === 0 ? 3600e6 * (1 + r(3)) : r(10e6));
      flows.push({ listener, ts, client: 1 + r(50), flags, endTs });
    }
    // Floods: bursts of 80 to 3000 half-open attempts at 50 to 2000 a second, some close together (episodes that merge or not).
    for (let f = 0; f < minutes / 2; f++) {
      const at = T0 + r(minutes * 60e6);
      const n = 80 + r(3000);
      const gap = 500 + r(20_000);
      for (let i = 0; i < n; i++) {
        const ts = at + i * gap + r(gap);
        const cookie = r(10) === 0 ? COOKIE : 0;
        // One in 20 a SYN-ACK whose SYN was not captured, left unanswered: a held finding, but no attempt.
        const flags = r(20) === 0 ? 0 : ATTEMPT | HALF_OPEN | (r(4) ? SYN_ACKED : 0) | cookie;
        // (Those end sooner: evicted, or their tuple reused.)
        const endTs = flags === 0 ? ts + r(5_000_000) : ts + HANDSHAKE_US - r(1_000_000);
        flows.push({ listener, ts, client: 2 ** 24 + r(100_000), flags, endTs: Math.min(T0 + minutes * 60e6 + 1, endTs) });
      }
    }
  }
  return flows;
}

/**
 * Feeds the flows to SynFloods in the order they end, settling every `every` flows as the
 * pipeline does (no flow still to end as half-open began before synSentSince); held half-open
 * findings (one per half-open flow) decided in order as soon as isSettled says so.
 */
function judged(flows: Flow[], rate: number, every: number, lateUs: number) {
  const byEnd = [...flows].sort((a, b) => a.endTs - b.endTs);
  // For each position, the earliest SYN of the half-open flows that end from there on.
  const since = new Float64Array(byEnd.length + 1).fill(Infinity);
  for (let i = byEnd.length - 1; i >= 0; i--) since[i] = Math.min(since[i + 1], byEnd[i].flags & HALF_OPEN ? byEnd[i].ts : Infinity);
  const floods = new SynFloods(rate, lateUs);
  const held: Flow[] = [];
  let heldFrom = 0;
  const covered = new Map<Flow, boolean>();
  let settles = 0;
  let maxRetained = 0;
  const decide = () => {
    for (; heldFrom < held.length; heldFrom++) {
      const h = held[heldFrom];
      if (!floods.isSettled(h.listener, h.ts)) break;
      covered.set(h, floods.episodes(h.listener).some((e) => h.ts >= e.firstTs && h.ts <= e.lastTs));
    }
  };
  for (let i = 0; i < byEnd.length; i++) {
    const f = byEnd[i];
    floods.attempt(f.listener, f.ts, f.client, f.flags);
    if (f.flags & HALF_OPEN || f.flags === 0) held.push(f);
    if ((i + 1) % every === 0) {
      floods.settle(since[i + 1], f.endTs);
      settles++;
      decide();
      maxRetained = Math.max(maxRetained, floods.retainedBytes);
    }
  }
  floods.finish();
  decide();
  return { floods, covered, settles, late: floods.late, maxRetained, decidedEarly: [...covered.keys()].length };
}

test('syn floods: settled as time passes, episodes (spanning several settles, merging, close to each other), their counts and the held findings they cover are those of the whole capture', () => {
  for (let seed = 1; seed <= 18; seed++) {
    const r = rng(seed);
    const flows = traffic(r, 20);
    const rate = 100;
    // Settled often or seldom, with or without a lag for clocks that go back.
    const got = judged(flows, rate, seed % 2 ? 500 : 37, seed % 3 ? 60e6 : 0);
    let episodes = 0;
    for (let listener = 0; listener < 2; listener++) {
      const want = reference(
        flows.filter((f) => f.listener === listener),
        rate,
      );
      episodes += want.length;
      assert.deepEqual(got.floods.episodes(listener), want, `seed ${seed}, listener ${listener}`);
      for (const [h, c] of got.covered) {
        if (h.listener !== listener) continue;
        assert.equal(c, want.some((e) => h.ts >= e.firstTs && h.ts <= e.lastTs), `seed ${seed}: held at ${h.ts}`);
      }
    }
    assert.ok(episodes >= 4, `seed ${seed}: the case holds floods (${episodes})`);
    assert.equal(got.covered.size, flows.filter((f) => f.flags & HALF_OPEN || f.flags === 0).length);
    assert.equal(got.late, 0);
    assert.ok(got.settles > 10);
  }
});

test('syn floods: what is held stays that of the recent minutes whatever the length of the traffic', () => {
  const short = judged(traffic(rng(3), 10), 100, 500, 60e6);
  const long = judged(traffic(rng(3), 60), 100, 500, 60e6);
  // Six times the traffic, at most about twice the bytes (floods of different sizes, the handshake timeout's worth).
  assert.ok(long.maxRetained < 2.5 * short.maxRetained, `${long.maxRetained} vs ${short.maxRetained}`);
});

test('syn floods: a half-open attempt from before the settled time (a clock that went back further than the lag) is counted as late', () => {
  const floods = new SynFloods(100, 60e6);
  floods.attempt(0, T0, 1, ATTEMPT | HALF_OPEN);
  floods.settle(Infinity, T0 + 600e6);
  assert.equal(floods.late, 0);
  floods.attempt(0, T0 + 100e6, 2, ATTEMPT | HALF_OPEN);
  assert.equal(floods.late, 1);
});
