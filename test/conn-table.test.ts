import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { Pool, NONE } from '../src/conn/pool.js';
import { ConnTable } from '../src/conn/table.js';
import { TimerHeap } from '../src/conn/timers.js';
import { DecodedPacket } from '../src/decode/packet.js';

/** A packet with only what the table reads: addresses (IPv4 a.b.c.d or 16 bytes) and ports. */
function pkt(src: number[], sport: number, dst: number[], dport: number): DecodedPacket {
  const p = new DecodedPacket();
  p.ipVersion = src.length === 4 ? 4 : 6;
  // Addresses at an offset inside a larger buffer, as a decoder leaves them.
  p.buf = new Uint8Array([9, 9, 9, ...src, ...dst, 9]);
  p.srcOff = 3;
  p.dstOff = 3 + src.length;
  p.srcPort = sport;
  p.dstPort = dport;
  return p;
}

const A = [192, 0, 2, 1];
const B = [192, 0, 2, 2];
const A6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const B6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

test('both directions of a pair find one row; dir tells which way', () => {
  for (const [a, b] of [[A, B], [A6, B6]]) {
    const t = new ConnTable();
    const r = t.lookup(pkt(a, 40000, b, 80));
    assert.equal(t.isNew, true);
    assert.equal(t.dir, 0);
    assert.equal(t.lookup(pkt(b, 80, a, 40000)), r);
    assert.equal(t.isNew, false);
    assert.equal(t.dir, 1);
    assert.notEqual(t.lookup(pkt(a, 40001, b, 80)), r);
    assert.equal(t.isNew, true);
    assert.equal(t.address(r, 0), a === A ? '192.0.2.1' : '2001:db8::1');
    assert.equal(t.address(r, 1), a === A ? '192.0.2.2' : '2001:db8::2');
    assert.equal(t.port(r, 0), 40000);
    assert.equal(t.port(r, 1), 80);
  }
});

test('the same ports on another address family or address are another row', () => {
  const t = new ConnTable();
  const r4 = t.lookup(pkt(A, 1, B, 2));
  const r6 = t.lookup(pkt(A6, 1, B6, 2));
  const other6 = [...B6];
  other6[15] = 3;
  const r6b = t.lookup(pkt(A6, 1, other6, 2));
  assert.equal(new Set([r4, r6, r6b]).size, 3);
  assert.equal(t.live, 3);
  // 0.0.0.0 makes an IPv4 endpoint's number its port, as an IPv6 key holds its ports: with every
  // key on one hash, the families still keep the rows apart, and each row tells its own ends.
  const one = new ConnTable(() => 7);
  const Z = [0, 0, 0, 0];
  const Z6 = new Array(16).fill(0);
  const z4 = one.lookup(pkt(Z, 80, Z, 443));
  const z6 = one.lookup(pkt(Z6, 80, Z6, 443));
  assert.notEqual(z4, z6);
  assert.equal(one.lookup(pkt(Z, 443, Z, 80)), z4);
  assert.equal(one.lookup(pkt(Z6, 443, Z6, 80)), z6);
  for (const r of [z4, z6]) assert.deepEqual([one.port(r, 0), one.port(r, 1)], [80, 443]);
  assert.deepEqual([one.address(z4, 0), one.address(z6, 1), one.addressV4(z4, 1), one.addressV4(z6, 0)], ['0.0.0.0', '::', 0, 0]);
});

test('every row is found again after growth, heavy collisions and deletions in between', () => {
  for (const mix of [(h: number) => h, () => 7, (h: number) => h & 3]) {
    const t = new ConnTable(mix);
    const cols = t.columns({ port: Uint32Array, ts: Float64Array });
    const n = mix.length === 0 ? 300 : 5000;
    const rows: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = t.lookup(pkt(A, 1024 + i, B, 443));
      t.hold(r, 0);
      cols.ensure(t.capacity);
      cols.c.port[r] = 1024 + i;
      cols.c.ts[r] = i / 2;
      rows.push(r);
    }
    assert.ok(cols.capacity >= n);
    // Free every third row: backward shift must keep the others reachable.
    for (let i = 0; i < n; i += 3) assert.equal(t.release(rows[i], 0), true);
    for (let i = 0; i < n; i++) {
      const r = t.lookup(pkt(B, 443, A, 1024 + i));
      if (i % 3 === 0) {
        assert.equal(t.isNew, true, `row ${i} was freed`);
        t.releaseIfIdle(r);
      } else {
        assert.equal(r, rows[i]);
        assert.equal(cols.c.port[r], 1024 + i);
        assert.equal(cols.c.ts[r], i / 2);
      }
    }
    assert.equal(t.live, n - Math.ceil(n / 3));
  }
});

test('a row is freed when its last holder lets go, and its generation changes', () => {
  const t = new ConnTable();
  const r = t.lookup(pkt(A, 1, B, 2));
  t.hold(r, 0);
  t.hold(r, 3);
  const g = t.gen(r);
  assert.equal(t.release(r, 0), false);
  assert.equal(t.isHeld(r, 3), true);
  assert.equal(t.release(r, 3), true);
  assert.notEqual(t.gen(r), g);
  assert.equal(t.live, 0);
  // The freed row is the next one made.
  assert.equal(t.lookup(pkt(A, 5, B, 6)), r);
  assert.equal(t.created, 2);
  assert.equal(t.peakLive, 1);
});

test('a pool chains records into lists and reuses what is given back', () => {
  const pool = new Pool({ seq: Uint32Array, len: Uint16Array }, 2);
  let head = NONE;
  for (let i = 0; i < 10; i++) {
    const r = pool.alloc();
    pool.c.seq[r] = i;
    pool.next[r] = head;
    head = r;
  }
  const seen: number[] = [];
  for (let r = head; r !== NONE; r = pool.next[r]) seen.push(pool.c.seq[r]);
  assert.deepEqual(seen, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  assert.equal(pool.size, 10);
  head = pool.releaseList(head);
  assert.equal(pool.size, 0);
  const again = pool.alloc();
  assert.ok(again < 10);
  assert.equal(pool.c.seq[again], 0, 'a reused record starts at 0');
});

test('the timer heap gives entries in time order with their row, generation and tag', () => {
  const h = new TimerHeap();
  const dues = Array.from({ length: 3000 }, (_, i) => ((i * 7919) % 3001) + 0.5);
  dues.forEach((d, i) => h.push(d, i, i * 2, i % 7));
  let last = -Infinity;
  let n = 0;
  while (h.size > 0) {
    const d = h.peek();
    assert.ok(d >= last);
    const row = h.topRow();
    assert.equal(dues[row], d);
    assert.equal(h.topGen(), row * 2);
    assert.equal(h.topTag(), row % 7);
    last = d;
    h.pop();
    n++;
  }
  assert.equal(n, 3000);
  assert.equal(h.peek(), Infinity);
});

test('slots: an analyzer columns are as long as the rows it binds, reused when it lets go', async () => {
  const { Slots, NO_SLOT } = await import('../src/conn/slots.js');
  const t = new ConnTable();
  const s = new Slots(t, { v: Uint32Array }, 2, 4);
  const rows: number[] = [];
  for (let i = 0; i < 10000; i++) rows.push(t.lookup(pkt(A, 1024 + (i % 60000), B, 80 + Math.floor(i / 60000))));
  // Only every 100th row is bound: the analyzer's columns stay small whatever the table's size.
  for (let i = 0; i < rows.length; i += 100) {
    const slot = s.bind(rows[i]);
    assert.equal(s.bind(rows[i]), slot, 'binding twice gives the same slot');
    s.c.v[2 * slot] = i;
    s.c.v[2 * slot + 1] = i + 1;
  }
  assert.equal(s.size, 100);
  assert.ok(s.capacity <= 128, `${s.capacity} slots for 100 bound rows`);
  for (let i = 0; i < rows.length; i++) {
    const slot = s.slotOf(rows[i]);
    if (i % 100 !== 0) assert.equal(slot, NO_SLOT);
    else assert.deepEqual([s.c.v[2 * slot], s.c.v[2 * slot + 1]], [i, i + 1]);
  }
  const freed = s.slotOf(rows[0]);
  s.unbind(rows[0]);
  assert.equal(s.slotOf(rows[0]), NO_SLOT);
  assert.equal(s.bind(rows[1]), freed, 'a freed slot is reused');
  assert.equal(s.size, 100);
});

test('a set of many columns keeps fast properties, before and after it grows', () => {
  // V8 turns an object given many properties one by one under computed names into a hash table;
  // every column read then is a dictionary lookup. Only V8's own check (behind a flag) sees it.
  const columns = new URL('../src/conn/columns.js', import.meta.url).href;
  const script = `
    const { ColumnSet } = await import(${JSON.stringify(columns)});
    const spec = {};
    for (let i = 0; i < 60; i++) spec['f' + i] = i % 2 ? Float64Array : Uint8Array;
    const s = new ColumnSet(spec, 4);
    const before = %HasFastProperties(s.c);
    s.ensure(100);
    console.log(JSON.stringify([before, %HasFastProperties(s.c)]));`;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), [true, true]);
});
