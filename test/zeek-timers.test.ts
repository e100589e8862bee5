/** Zeek's timers: earliest first, and timers due at the same time in the order they were set, as Zeek's manager fires them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecodedPacket, LinkType, decodeFrame } from '../src/decode/index.js';
import { ZeekConnTracker, type ZeekConn } from '../src/tcp/zeek/conn.js';
import { ZeekTimerHeap } from '../src/tcp/zeek/timers.js';
import { runConversation } from './scenario/describe.js';

/** Pops every entry; returns their rows (the tests use the row as a name). */
function drain(h: ZeekTimerHeap): number[] {
  const out: number[] = [];
  while (h.size > 0) {
    out.push(h.topRow());
    h.pop();
  }
  return out;
}

test('timers fire by due time, ties in the order they were set; compaction drops canceled ones and keeps that order', () => {
  const h = new ZeekTimerHeap();
  // Many ties at a few due times, set in an order that makes the heap move them around.
  const dues = [30, 10, 20, 10, 30, 20, 10, 30, 20, 10, 20, 30, 10, 10, 20, 30, 30, 10, 20, 20];
  dues.forEach((due, i) => h.push(due, i, 1, 0, 0));
  const byTime = dues
    .map((due, i) => ({ due, i }))
    .sort((a, b) => a.due - b.due || a.i - b.i)
    .map(({ i }) => i);
  const copy = new ZeekTimerHeap();
  dues.forEach((due, i) => copy.push(due, i, 1, 0, 0));
  assert.deepEqual(drain(copy), byTime);

  // Entries 4 and 9 were canceled: they no longer stand.
  h.stale = 2;
  h.compact((row) => row !== 4 && row !== 9);
  assert.equal(h.size, 18);
  assert.equal(h.stale, 0);
  assert.deepEqual(
    drain(h),
    byTime.filter((i) => i !== 4 && i !== 9),
  );
});

test('timers of many delays set as the clock runs, with pops and compactions between: always the earliest (due, order) first', () => {
  // More delays than the queue keeps in order by themselves, ties among them, and out-of-order
  // stragglers (a connection's last packet time + a delay): every entry comes out as a sorted list says.
  const h = new ZeekTimerHeap();
  const queued: Array<{ due: number; order: number; row: number }> = [];
  let seed = 7;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const delays = [5, 6, 60, 300, 3600, 5, 5, 6, 1, 2, 3, 4, 7];
  let now = 0;
  let popped = 0;
  for (let i = 0; i < 20000; i++) {
    now += rand(3);
    const due = now - rand(2) * rand(20) + delays[rand(delays.length)];
    const order = h.push(due, i, 1, 0, 0);
    queued.push({ due, order, row: i });
    if (rand(3) === 0) {
      queued.sort((a, b) => a.due - b.due || a.order - b.order);
      while (queued.length > 0 && queued[0].due <= now) {
        assert.equal(h.peek(), queued[0].due);
        assert.equal(h.topRow(), queued[0].row);
        h.pop();
        queued.shift();
        popped++;
      }
    }
    if (i % 5000 === 4999) {
      // Cancel every third entry queued.
      h.compact((row) => row % 3 !== 0);
      for (let k = queued.length - 1; k >= 0; k--) if (queued[k].row % 3 === 0) queued.splice(k, 1);
      assert.equal(h.size, queued.length);
    }
  }
  queued.sort((a, b) => a.due - b.due || a.order - b.order);
  assert.deepEqual(drain(h), queued.map((q) => q.row));
  assert.ok(popped > 1000);
});

/** Lone SYNs from `n` clients at time 0, each its own connection. */
function loneSyns(n: number, gapSec = 0): Array<{ ts: number; ip: Uint8Array }> {
  const out: Array<{ ts: number; ip: Uint8Array }> = [];
  for (let i = 0; i < n; i++) {
    const conv = runConversation({ seed: `syn${i}`, start: '2024-03-01T10:00:00Z', steps: [{ from: 'client', flags: 'S', t: (i * gapSec).toFixed(3) }] });
    for (const seg of conv.segments) out.push({ ts: Number(seg.tsNs / 1000n), ip: seg.ip });
  }
  return out;
}

test('at most max_timer_expires timers fire per packet; the rest wait for the next one, in order', () => {
  const syns = loneSyns(5);
  const p = new DecodedPacket();
  const run = (maxTimerExpires: number) => {
    const rows: ZeekConn[] = [];
    const tracker = new ZeekConnTracker({ verifyChecksums: false, tuning: { maxTimerExpires }, onConn: (c) => rows.push(c) });
    for (const s of syns) {
      decodeFrame(p, LinkType.RAW, s.ip, 0, s.ip.length, s.ip.length);
      tracker.packet(s.ts, p);
    }
    // Each lone SYN's expire timer (5 s, set first: it re-arms) and then its attempt timer (5 s: S0) come due.
    const logged: number[] = [];
    for (let k = 1; k <= 6; k++) {
      tracker.tick(syns[0].ts + 6_000_000 + k);
      logged.push(rows.length);
    }
    return { logged, ports: rows.map((r) => r.orig_p) };
  };
  const capped = run(2);
  assert.deepEqual(capped.logged, [1, 2, 3, 4, 5, 5]);
  const free = run(0);
  assert.deepEqual(free.logged, [5, 5, 5, 5, 5, 5]);
  assert.deepEqual(capped.ports, free.ports, 'the same connections, in the same order');
});

test('memory follows live timers: the timers of removed connections do not pile up', () => {
  // 6,000 lone SYNs 10 ms apart: each is logged 5 s later, leaving its 60 s inactivity timer canceled in the heap.
  const syns = loneSyns(6000, 0.01);
  const p = new DecodedPacket();
  let logged = 0;
  const tracker = new ZeekConnTracker({ verifyChecksums: false, onConn: () => logged++ });
  let most = 0;
  for (const s of syns) {
    decodeFrame(p, LinkType.RAW, s.ip, 0, s.ip.length, s.ip.length);
    tracker.packet(s.ts, p);
    most = Math.max(most, tracker.queuedTimers);
  }
  assert.ok(logged > 5000);
  // About 500 connections alive at a time, 3 timers each, plus at most about as many canceled ones.
  assert.ok(most < 4000, `${most} timers queued at most`);
  assert.equal(tracker.liveConnections, 6000 - logged);
  tracker.finish();
  assert.equal(logged, 6000);
});

test('timers queued later with orders reserved earlier (lone SYNs taking their slots) come out in (due, order) too', () => {
  const h = new ZeekTimerHeap();
  const queued: Array<{ due: number; order: number; row: number }> = [];
  // Reserved now, queued a few steps later: [due, order, row, queue at step].
  const waiting: Array<[number, number, number, number]> = [];
  let seed = 11;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
  let now = 0;
  let inserted = 0;
  for (let i = 0; i < 30000; i++) {
    now += rand(3);
    if (rand(2) === 0) {
      const due = now + [5, 6, 60, 300][rand(4)];
      queued.push({ due, order: h.push(due, i, 1, 0, 0), row: i });
    } else {
      // A lone SYN: its three orders now, its timers (5 s, 60 s, 5 s) queued when a packet comes, or never.
      const order = h.reserve(3);
      if (rand(3) !== 0) {
        const at = i + rand(4);
        waiting.push([now + 5, order, i, at], [now + 60, order + 1, i, at], [now + 5, order + 2, i, at]);
      }
    }
    for (let k = waiting.length - 1; k >= 0; k--) {
      const [due, order, row, at] = waiting[k];
      if (at > i || due <= now) continue;
      h.insert(due, order, row, 1, 0, 0);
      queued.push({ due, order, row });
      waiting.splice(k, 1);
      inserted++;
    }
    if (rand(4) === 0) {
      queued.sort((a, b) => a.due - b.due || a.order - b.order);
      while (queued.length > 0 && queued[0].due <= now) {
        assert.equal(h.peek(), queued[0].due);
        assert.equal(h.topOrder(), queued[0].order);
        h.pop();
        queued.shift();
      }
    }
  }
  queued.sort((a, b) => a.due - b.due || a.order - b.order);
  assert.deepEqual(drain(h), queued.map((q) => q.row));
  assert.ok(inserted > 10000, `${inserted} inserted`);
});
