/** sink/sqlite.ts RowBuffer: rows of a known shape go in through a statement with its values written in, and are stored as the others are. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { RowBuffer } from '../src/sink/sqlite.js';

test('rows of a known shape are stored exactly as when every value is bound', () => {
  const make = (shapes: Array<Array<number | string | null | undefined>>) => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (a INTEGER, b INTEGER, c TEXT, d, e TEXT)');
    return { db, buffer: new RowBuffer(db, 'INSERT INTO t (a, b, c, d, e)', 5, shapes) };
  };
  // 32 rows of the shape, 32 with one row off it (b = 1), 32 of the second shape only, 6 left for flush.
  const rows: Array<Array<number | string | null>> = [];
  for (let i = 0; i < 102; i++) rows.push([i, i === 40 || (i >= 64 && i < 96) ? 1 : 0, null, i % 3 === 0 ? 2.5 : i, i < 64 ? "it's" : 'x']);
  const shapes = [
    [undefined, 0, null, undefined, "it's"],
    [undefined, undefined, null, undefined, 'x'],
  ];
  const results = [make([]), make(shapes)].map(({ db, buffer }) => {
    for (const r of rows) {
      const at = buffer.slot();
      for (let k = 0; k < 5; k++) buffer.row[at + k] = r[k];
    }
    buffer.flush();
    const out = db.prepare('SELECT a, b, typeof(b) tb, c, typeof(c) tc, d, typeof(d) td, e FROM t ORDER BY rowid').raw().all();
    return { out, lean: buffer.leanSets };
  });
  assert.equal(results[0].lean, 0);
  // The first set by the first shape, the second by none (its row 40 is off both), the third by the second.
  assert.equal(results[1].lean, 2);
  assert.deepEqual(results[1].out, results[0].out);
  assert.equal(results[0].out.length, 102);
});

test('a shape must give a value for every column', () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (a, b)');
  assert.throws(() => new RowBuffer(db, 'INSERT INTO t (a, b)', 2, [[0]]), /a row shape of 1 values for 2 columns/);
});
