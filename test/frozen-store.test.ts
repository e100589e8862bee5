/**
 * FrozenStore: the rows that idle flows and conversations are frozen into. Records come back
 * number for number, from rows or (when longer than a row) arrays of their own; rows freed are
 * reused, so the store grows with the most records frozen at once, not with all ever frozen.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrozenStore, NumberWriter, smallInt, type Frozen } from '../src/util/number.js';

function write(w: NumberWriter, values: number[]): void {
  for (const v of values) w.add(v);
}

function readBack(store: FrozenStore, f: Frozen, n: number): number[] {
  const r = store.reader(f);
  return Array.from({ length: n }, () => r.next());
}

test('records come back as written, in rows across chunks or as arrays when longer than a row', () => {
  const store = new FrozenStore(4);
  const w = new NumberWriter();
  const kept: Array<[Frozen, number[]]> = [];
  for (let i = 0; i < 2500; i++) {
    const values = i % 7 === 0 ? [i, 1.5e15 + i, -1, 2 ** 32 - i, 0.25, 9] : [i, 1.5e15 + i, -1, 2 ** 32 - i];
    write(w, values);
    kept.push([store.put(w), values]);
    assert.equal(w.length, 0);
  }
  for (const [f, values] of kept) {
    assert.equal(typeof f === 'number', values.length <= 4);
    assert.deepEqual(readBack(store, f, values.length), values);
    assert.equal(store.at(f, 1), values[1]);
  }
});

test('a released row is used again before the store grows', () => {
  const store = new FrozenStore(3);
  const w = new NumberWriter();
  const rows: Frozen[] = [];
  for (let i = 0; i < 10; i++) {
    write(w, [i, i, i]);
    rows.push(store.put(w));
  }
  store.release(rows[4]);
  store.release(rows[7]);
  write(w, [70, 71, 72]);
  const again = store.put(w);
  assert.ok(again === rows[7] || again === rows[4], `row ${String(again)}`);
  assert.deepEqual(readBack(store, again, 3), [70, 71, 72]);
  write(w, [1, 2, 3]);
  assert.ok([rows[4], rows[7]].includes(store.put(w)));
  write(w, [1, 2, 3]);
  assert.equal(store.put(w), 10, 'only then a new row');
});

test('smallInt gives integers back as such and leaves other numbers alone', () => {
  for (const v of [0, 7, -1, 2 ** 31 - 1, -(2 ** 31)]) assert.equal(smallInt(v), v);
  for (const v of [2 ** 31, 2 ** 32 - 1, 1.5e15, 0.5, -2.25, NaN]) assert.ok(Object.is(smallInt(v), v));
});
