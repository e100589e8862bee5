/** Zeek's timer queue: earliest first, and timers due at the same time in the order they were set, as Zeek's manager fires them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimerQueue } from '../src/zeek/timers.js';

test('timers fire by due time, ties in the order they were set, canceled ones not at all', () => {
  const q = new TimerQueue();
  const fired: string[] = [];
  // Many ties at a few due times, set in an order that makes the heap move them around.
  const dues = [30, 10, 20, 10, 30, 20, 10, 30, 20, 10, 20, 30, 10, 10, 20, 30, 30, 10, 20, 20];
  const timers = dues.map((due, i) => q.add(due, () => fired.push(`${due}:${i}`)));
  q.cancel(timers[4]);
  q.cancel(timers[9]);
  q.advance(100, 0);
  const expected = dues
    .map((due, i) => ({ due, i }))
    .filter(({ i }) => i !== 4 && i !== 9)
    .sort((a, b) => a.due - b.due || a.i - b.i)
    .map(({ due, i }) => `${due}:${i}`);
  assert.deepEqual(fired, expected);
});

test('reserved orders place a timer among its ties as if it had been set then; at most maxPerPacket fire per call', () => {
  const q = new TimerQueue();
  const fired: string[] = [];
  const early = q.reserve(1); // a timer that belongs before the next ones
  q.add(50, () => fired.push('b'));
  q.add(50, () => fired.push('c'));
  q.withOrders(early, 1, () => q.add(50, () => fired.push('a')));
  q.add(40, () => fired.push('first'));
  q.advance(60, 2);
  assert.deepEqual(fired, ['first', 'a']);
  q.advance(60, 0);
  assert.deepEqual(fired, ['first', 'a', 'b', 'c']);
});
