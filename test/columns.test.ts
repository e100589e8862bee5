/** util/columns.ts: rows of typed columns in chunks, copied from one store to another. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Columns, F64, U8, U16, U32 } from '../src/util/columns.js';

test('rows added by column, and pushFrom copies a row of another store, across chunks and after its front was dropped', () => {
  const types = { kind: U8, ts: F64, port: U16, id: U32 };
  const from = new Columns(types, 4);
  const to = new Columns(types, 8);
  for (let r = 0; r < 19; r++) {
    const i = from.add();
    assert.equal(i, r);
    const c = from.at(i);
    const j = from.index(i);
    c.ts[j] = 1.5e15 + r;
    c.id[j] = 4e9 + r;
    c.kind[j] = r % 7;
    c.port[j] = 65535 - r;
  }
  // Rows below 8 are gone from `from`; the rest keep their indexes.
  from.dropFront(8);
  for (let r = 8; r < 19; r++) assert.equal(to.pushFrom(from, r), r - 8);
  const f = from.columns();
  const t = to.columns();
  for (let r = 8; r < 19; r++) {
    assert.deepEqual([t.ts(r - 8), t.id(r - 8), t.kind(r - 8), t.port(r - 8)], [f.ts(r), f.id(r), f.kind(r), f.port(r)]);
    assert.deepEqual([t.ts(r - 8), t.id(r - 8), t.kind(r - 8), t.port(r - 8)], [1.5e15 + r, 4e9 + r, r % 7, 65535 - r]);
  }
  assert.equal(to.length, 11);
});
