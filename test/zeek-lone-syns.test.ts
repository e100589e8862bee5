// Zeek's lone SYNs in compact form (src/tcp/zeek/lone-syns.ts): every conn.log row, its serial and
// its row, the live count and the logging order are those of the same packets with every
// connection in a slot from its first packet (compactLoneSyns: false).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecodedPacket, LinkType, Status, decodeFrame } from '../src/decode/index.js';
import { ZeekConnTracker, type ZeekConn, type ZeekTuning } from '../src/tcp/zeek/conn.js';
import { LoneSyns } from '../src/tcp/zeek/lone-syns.js';
import { IPPROTO_TCP, TCP_FLAG, ipv4, tcp } from './scenario/writer.js';

const { SYN, ACK, FIN, RST } = TCP_FLAG;
const S = 1_000_000;
const T0 = 1_709_287_200 * S;
const SERVER = Uint8Array.of(192, 0, 2, 80);

/** One packet of connection `conn` (client 10.0.0.conn:40000+conn, server 192.0.2.80:80), `at` seconds in. */
interface Pkt {
  at: number;
  conn: number;
  /** Sent by the server. */
  back?: boolean;
  flags: number;
  seq: number;
  ack?: number;
  window?: number;
  len?: number;
  /** A broken TCP checksum. */
  bad?: boolean;
}
type Op = Pkt | { tick: number } | { evict: number };

interface Outcome {
  rows: Array<{ conn: ZeekConn; row: number; serial: number }>;
  /** Live connections after each op. */
  live: number[];
  /** Timers queued after each op. */
  queued: number[];
}

function frame(k: Pkt): Uint8Array {
  const client = Uint8Array.of(10, 0, 0, k.conn);
  const [src, dst] = k.back ? [SERVER, client] : [client, SERVER];
  const [sp, dp] = k.back ? [80, 40000 + k.conn] : [40000 + k.conn, 80];
  const seg = tcp({ srcPort: sp, dstPort: dp, seq: k.seq, ack: k.ack ?? 0, flags: k.flags, window: k.window ?? 64240, payload: new Uint8Array(k.len ?? 0) }, src, dst);
  if (k.bad) seg[16] ^= 0xff;
  return ipv4(src, dst, IPPROTO_TCP, seg, { id: 1, ttl: 64, df: true });
}

function run(ops: Op[], compactLoneSyns: boolean, tuning: Partial<ZeekTuning> = {}, verifyChecksums = false): Outcome {
  const out: Outcome = { rows: [], live: [], queued: [] };
  const tracker = new ZeekConnTracker({ verifyChecksums, tuning, compactLoneSyns, onConn: (conn, row, serial) => out.rows.push({ conn, row, serial }) });
  const p = new DecodedPacket();
  const rowOf = new Map<number, number>();
  let n = 0;
  for (const op of ops) {
    if ('tick' in op) tracker.tick(T0 + Math.round(op.tick * S));
    else if ('evict' in op) tracker.evict(rowOf.get(op.evict)!);
    else {
      const bytes = frame(op);
      assert.equal(decodeFrame(p, LinkType.RAW, bytes, 0, bytes.length, bytes.length), Status.TCP);
      const row = tracker.packet(T0 + Math.round(op.at * S), p, { frame: ++n, capturedEnd: bytes.length, frameEnd: bytes.length });
      rowOf.set(op.conn, row);
    }
    out.live.push(tracker.liveConnections);
    out.queued.push(tracker.queuedTimers);
  }
  tracker.finish();
  return out;
}

/** The same rows with and without the compact form; returns the rows (compact) for the test's own checks. */
function same(ops: Op[], tuning: Partial<ZeekTuning> = {}, verifyChecksums = false): Outcome {
  const compact = run(ops, true, tuning, verifyChecksums);
  const slots = run(ops, false, tuning, verifyChecksums);
  assert.deepEqual(compact.rows, slots.rows);
  assert.deepEqual(compact.live, slots.live);
  return compact;
}

const brief = (o: Outcome) => o.rows.map((r) => `${r.conn.orig_p - 40000}:${r.conn.conn_state}:${r.conn.history}:${r.conn.orig_pkts}/${r.conn.resp_pkts}`);

test('a lone SYN that times out: S0 with history S, logged at 5 s, and no timer queued while it waits', () => {
  const ops: Op[] = [{ at: 0, conn: 1, flags: SYN, seq: 1000 }, { tick: 4.9 }, { tick: 5 }, { tick: 5.000001 }, { tick: 12 }];
  const o = same(ops);
  assert.deepEqual(brief(o), ['1:S0:S:1/0']);
  assert.equal(o.rows[0].conn.duration, 0);
  assert.deepEqual(o.live, [1, 1, 0, 0, 0], 'logged when its attempt timer comes due');
  assert.deepEqual(o.queued, [0, 0, 0, 0, 0]);
  // Without the compact form the SYN queues its expire, inactivity and attempt timers.
  assert.equal(run(ops, false).queued[0], 3);
});

test('a SYN then its retransmissions: one connection, every SYN counted, the last one its end', () => {
  const o = same([
    { at: 0, conn: 1, flags: SYN, seq: 7 },
    { at: 1, conn: 1, flags: SYN, seq: 7 },
    { at: 3, conn: 1, flags: SYN, seq: 7 },
    { tick: 4.5 },
    { tick: 6 },
  ]);
  assert.deepEqual(brief(o), ['1:S0:S:3/0']);
  assert.equal(o.rows[0].conn.duration, 3 * S);
  assert.deepEqual([o.rows[0].conn.first_frame, o.rows[0].conn.last_frame], [1, 3]);
  assert.equal(o.rows[0].conn.orig_ip_bytes, 3 * 40);
});

test('a SYN answered after N seconds, before, at and after its attempt timer', () => {
  for (const n of [0.00005, 1, 4.999999, 5, 5.000001, 7, 70]) {
    const o = same([
      { at: 0, conn: 1, flags: SYN, seq: 100 },
      { at: n / 2, conn: 1, flags: SYN, seq: 100 },
      { at: n, conn: 1, back: true, flags: SYN | ACK, seq: 9000, ack: 101 },
      { at: n + 0.001, conn: 1, flags: ACK, seq: 101, ack: 9001 },
      { at: n + 0.002, conn: 1, flags: ACK, seq: 101, ack: 9001, len: 100 },
      { at: n + 0.003, conn: 1, flags: FIN | ACK, seq: 201, ack: 9001 },
      { at: n + 0.004, conn: 1, back: true, flags: FIN | ACK, seq: 9001, ack: 202 },
      { at: n + 0.005, conn: 1, flags: ACK, seq: 202, ack: 9002 },
      { tick: n + 20 },
    ]);
    if (n < 5) assert.deepEqual(brief(o), ['1:SF:ShADFf:6/2'], `answered after ${n} s`);
    else assert.equal(o.rows[0].conn.conn_state, 'S0', `answered after ${n} s: the attempt was logged first`);
  }
});

test('a SYN at a new sequence number, a second SYN from the server, a RST: the lone SYN takes its slot first', () => {
  const reuse = same([{ at: 0, conn: 1, flags: SYN, seq: 100 }, { at: 2, conn: 1, flags: SYN, seq: 5000 }, { tick: 10 }]);
  assert.deepEqual(brief(reuse), ['1:S0:S:1/0', '1:S0:S:1/0']);
  const simultaneous = same([{ at: 0, conn: 1, flags: SYN, seq: 100 }, { at: 0.5, conn: 1, back: true, flags: SYN, seq: 9000 }, { tick: 400 }]);
  // A SYN from the other end at another number is a new connection for Zeek (connection_reused).
  assert.deepEqual(brief(simultaneous), ['1:S0:S:1/0', '-39920:S0:S:1/0'], 'the second from port 80');
  const reset = same([{ at: 0, conn: 1, flags: SYN, seq: 100 }, { at: 1, conn: 1, flags: RST, seq: 101 }, { tick: 30 }]);
  assert.deepEqual(brief(reset), ['1:RSTOS0:SR:2/0']);
});

test('SYNs that are more than a plain SYN: a zero window, a payload, ACK or FIN with it, and such a retransmission', () => {
  const cases: Pkt[][] = [
    [{ at: 0, conn: 1, flags: SYN, seq: 1, window: 0 }],
    [{ at: 0, conn: 1, flags: SYN, seq: 1, len: 10 }],
    [{ at: 0, conn: 1, flags: SYN | FIN, seq: 1 }],
    [{ at: 0, conn: 1, flags: SYN | ACK, seq: 1, ack: 5 }],
    [{ at: 0, conn: 1, flags: SYN, seq: 1 }, { at: 1, conn: 1, flags: SYN, seq: 1, window: 0 }],
    [{ at: 0, conn: 1, flags: SYN, seq: 1 }, { at: 1, conn: 1, flags: SYN, seq: 1, len: 10 }],
    [{ at: 0, conn: 1, flags: SYN, seq: 1 }, { at: 1, conn: 1, flags: SYN | ACK, seq: 1, ack: 3 }],
    [{ at: 0, conn: 1, flags: SYN, seq: 0xffffffff }, { at: 1, conn: 1, flags: ACK, seq: 0, ack: 3 }],
  ];
  const histories = cases.map((ops) => same([...ops, { tick: 400 }]).rows.map((r) => r.conn.history).join(','));
  assert.deepEqual(histories, ['SW', 'ST', 'Q', 'H', 'SW', 'S', 'S', 'SA']);
});

test('SYNs whose timers come due in one packet past max_timer_expires: the same firing, split or not', () => {
  for (const maxTimerExpires of [1, 2, 3, 4, 5, 0]) {
    const ops: Op[] = [];
    for (let c = 1; c <= 7; c++) ops.push({ at: c < 4 ? 0 : 0.000001 * c, conn: c, flags: SYN, seq: c * 11 });
    // Answers after the gap: the timers due before them fire first, as many as the cap lets.
    ops.push({ at: 6, conn: 2, back: true, flags: SYN | ACK, seq: 9, ack: 23 });
    ops.push({ at: 6.0001, conn: 5, back: true, flags: SYN | ACK, seq: 9, ack: 56 });
    ops.push({ at: 6.0002, conn: 6, flags: ACK, seq: 67, ack: 10 });
    for (let k = 1; k <= 12; k++) ops.push({ tick: 6.001 + k * 0.000001 });
    ops.push({ tick: 30 });
    const o = same(ops, { maxTimerExpires });
    assert.equal(o.rows.length, maxTimerExpires === 0 ? 10 : o.rows.length);
    assert.ok(o.rows.every((r) => r.conn.history.length > 0));
  }
});

test('an evicted lone SYN is logged as it stands; a SYN after it is a new connection', () => {
  const o = same([
    { at: 0, conn: 1, flags: SYN, seq: 1 },
    { at: 0.1, conn: 2, flags: SYN, seq: 2 },
    { at: 0.5, conn: 1, flags: SYN, seq: 1 },
    { evict: 1 },
    { at: 1, conn: 1, flags: SYN, seq: 1 },
    { evict: 2 },
    { tick: 10 },
  ]);
  assert.deepEqual(brief(o), ['1:S0:S:2/0', '2:S0:S:1/0', '1:S0:S:1/0']);
  assert.deepEqual(o.live, [1, 2, 2, 1, 2, 1, 0]);
});

test('the end of the capture logs lone SYNs and connections in slots together, oldest first', () => {
  const o = same([
    { at: 0, conn: 1, flags: SYN, seq: 1 },
    { at: 0.1, conn: 2, flags: ACK, seq: 2, ack: 9 },
    { at: 0.2, conn: 3, flags: SYN, seq: 3 },
    { at: 0.3, conn: 1, back: true, flags: SYN | ACK, seq: 8, ack: 2 },
    { at: 0.4, conn: 4, flags: SYN, seq: 4 },
    { at: 0.5, conn: 5, flags: SYN, seq: 5, window: 0 },
  ]);
  assert.deepEqual(
    o.rows.map((r) => r.conn.orig_p - 40000),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(
    o.rows.map((r) => r.serial),
    [1, 2, 3, 4, 5],
  );
});

test('a SYN stamped before the network time, and a retransmission stamped before its SYN', () => {
  const o = same([
    { at: 10, conn: 1, flags: SYN, seq: 1 },
    { at: 9, conn: 2, flags: SYN, seq: 2 },
    { at: 9.5, conn: 1, flags: SYN, seq: 1 },
    { at: 11, conn: 3, flags: SYN, seq: 3 },
    { tick: 14.4 },
    { tick: 15 },
    { tick: 20 },
  ]);
  assert.deepEqual(brief(o), ['2:S0:S:1/0', '1:S0:S:2/0', '3:S0:S:1/0']);
});

test('checksums verified: a SYN with a bad one, and a bad retransmission of a lone SYN', () => {
  const o = same(
    [
      { at: 0, conn: 1, flags: SYN, seq: 1, bad: true },
      { at: 0.1, conn: 2, flags: SYN, seq: 2 },
      { at: 0.2, conn: 2, flags: SYN, seq: 2, bad: true },
      { at: 0.3, conn: 2, flags: SYN, seq: 2 },
      { tick: 20 },
    ],
    {},
    true,
  );
  assert.deepEqual(brief(o), ['1::C:0/0', '2:S0:SC:2/0'].map((s) => s.replace('::', ':OTH:')));
});

test('a capture of many lone SYNs with a gap: timers fire in the same order, every 300 a packet', () => {
  const ops: Op[] = [];
  for (let c = 0; c < 2000; c++) ops.push({ at: c * 0.001, conn: (c % 250) + 1, flags: SYN, seq: c });
  for (let k = 0; k < 20; k++) ops.push({ at: 30 + k * 0.0001, conn: (k % 250) + 1, flags: SYN, seq: 99999 + k });
  ops.push({ tick: 100 });
  const o = same(ops);
  assert.equal(o.rows.length, 2020);
});

test('the ring of lone SYNs grows with a flood and shrinks when it drains, each row told where its record went', () => {
  const marks = new Map<number, number>();
  const ring = new LoneSyns({ mark: (row, record) => (record < 0 ? marks.delete(row) : marks.set(row, record)) });
  const check = () => {
    for (const [row, r] of marks) assert.equal(ring.c.row[r], row, `row ${row}'s record`);
  };
  // A first one that stays, so that the ring wraps round as the flood comes and goes.
  ring.c.serial[ring.add(0)] = 0;
  for (let row = 1; row <= 20_000; row++) {
    ring.c.serial[ring.add(row)] = row;
    if (row % 3 === 0) {
      const r = marks.get(row - 1)!;
      ring.drop(r);
      marks.delete(row - 1);
    }
  }
  check();
  assert.equal(ring.capacity, 32_768);
  // The flood drains from the oldest on, all but the first and the last hundred.
  for (let row = 1; row <= 19_900; row++) {
    if (!marks.has(row)) continue;
    ring.drop(marks.get(row)!);
    marks.delete(row);
  }
  ring.drop(marks.get(0)!);
  marks.delete(0);
  assert.equal(ring.first(), marks.get(Math.min(...marks.keys())));
  assert.ok(ring.capacity <= 8_192, `${ring.capacity} places for ${marks.size} records`);
  check();
  const serials: number[] = [];
  ring.forEach((r) => serials.push(ring.c.serial[r]));
  assert.deepEqual(
    serials,
    [...marks.keys()].sort((a, b) => a - b),
  );
});
