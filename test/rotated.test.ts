/**
 * --continuous (--rotated): rotated pieces of a capture analysed as ONE capture give what the whole
 * file gives (connections, states, findings, Zeek's rows, frame numbers included), whatever the
 * pieces' names; the database says which file each frame came from; overlaps and gaps are reported.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { repoRoot, scratchDir } from './helpers.js';
import { cli } from './report-io.js';

/** A classic pcap cut into pieces of `per` records each, every piece with the file's header (as tcpdump -C writes them). */
function split(pcap: Buffer, per: number): Buffer[] {
  assert.equal(pcap.readUInt32LE(0), 0xa1b2c3d4, 'a little-endian microsecond pcap');
  const header = pcap.subarray(0, 24);
  const pieces: Buffer[] = [];
  let records: Buffer[] = [];
  for (let at = 24; at < pcap.length; ) {
    const len = 16 + pcap.readUInt32LE(at + 8);
    records.push(pcap.subarray(at, at + len));
    at += len;
    if (records.length === per) {
      pieces.push(Buffer.concat([header, ...records]));
      records = [];
    }
  }
  if (records.length > 0) pieces.push(Buffer.concat([header, ...records]));
  return pieces;
}

/** Every row of the analysis's tables, without the ids that depend on the database. */
function tables(db: string): Record<string, unknown[]> {
  const d = new Database(db, { readonly: true });
  try {
    const strip = (rows: Array<Record<string, unknown>>) => rows.map(({ id, capture_id, flow_id, ...rest }) => (void id, void capture_id, void flow_id, rest));
    return {
      flows: strip(d.prepare('SELECT * FROM flows ORDER BY flow_index').all() as Array<Record<string, unknown>>),
      transitions: strip(d.prepare('SELECT f.flow_index, t.* FROM transitions t JOIN flows f ON f.id = t.flow_id ORDER BY f.flow_index, t.seq').all() as Array<Record<string, unknown>>),
      anomalies: strip(d.prepare('SELECT * FROM anomalies ORDER BY packet, kind, flow_index, side').all() as Array<Record<string, unknown>>),
      zeek: strip(d.prepare('SELECT * FROM zeek_conns ORDER BY first_frame, ts').all() as Array<Record<string, unknown>>),
      capture: strip(d.prepare('SELECT packets, tcp_packets, bytes, first_ts, last_ts, status FROM captures').all() as Array<Record<string, unknown>>),
    };
  } finally {
    d.close();
  }
}

for (const sample of ['time-wait-pileup', 'bulk-loss', 'syn-flood']) {
  test(`${sample}: three rotated pieces read --continuous give the whole file's connections, states and findings`, async () => {
    const whole = join(repoRoot, 'samples', 'kernel', sample, `${sample}.pcap`);
    const bytes = readFileSync(whole);
    const cwd = scratchDir('tcpstate-rotated-');
    const records = countRecords(bytes);
    const pieces = split(bytes, Math.ceil(records / 3));
    assert.equal(pieces.length, 3);
    // Names out of time order: the order read is by first packet, not by name.
    mkdirSync(join(cwd, 'dumps'));
    const names = ['b.pcap', 'c.pcap', 'a.pcap'];
    pieces.forEach((p, i) => writeFileSync(join(cwd, 'dumps', names[i]), p));
    const one = await cli(['analyze', whole, '--db', 'whole.db', '-q'], { cwd });
    assert.equal(one.code, 0, one.err);
    const rot = await cli(['analyze', '--continuous', 'dumps', '--db', 'rotated.db'], { cwd });
    assert.equal(rot.code, 0, rot.err);
    assert.match(rot.out, /^dumps {2}pcap, ETHERNET {2}complete/);
    const a = tables(join(cwd, 'whole.db'));
    const b = tables(join(cwd, 'rotated.db'));
    assert.ok(a.flows.length > 0 && a.anomalies.length > 0);
    // The same rows everywhere; the bytes read are the whole file's and the two more files' headers.
    const { bytes: wholeBytes, ...wholeCapture } = a.capture[0] as { bytes: number };
    const { bytes: rotatedBytes, ...rotatedCapture } = b.capture[0] as { bytes: number };
    assert.deepEqual(rotatedCapture, wholeCapture);
    assert.equal(rotatedBytes, wholeBytes + 2 * 24);
    for (const t of ['flows', 'transitions', 'anomalies', 'zeek']) assert.deepEqual(b[t], a[t], t);
    // Which file each frame came from.
    const d = new Database(join(cwd, 'rotated.db'), { readonly: true });
    const files = d.prepare('SELECT idx, name, first_frame, last_frame, packets FROM capture_files ORDER BY idx').all() as Array<Record<string, unknown>>;
    d.close();
    const per = Math.ceil(records / 3);
    assert.deepEqual(files, [
      { idx: 1, name: join('dumps', 'b.pcap'), first_frame: 1, last_frame: per, packets: per },
      { idx: 2, name: join('dumps', 'c.pcap'), first_frame: per + 1, last_frame: 2 * per, packets: per },
      { idx: 3, name: join('dumps', 'a.pcap'), first_frame: 2 * per + 1, last_frame: records, packets: records - 2 * per },
    ]);
    // The flow ladder reads the pieces again, as one capture.
    const ladder = (db: string) => cli(['flow', db, '1'], { cwd }).then((r) => (assert.equal(r.code, 0, r.err), r.out.split('\n').slice(1).join('\n')));
    assert.equal(await ladder('rotated.db'), await ladder('whole.db'));
    // The same files named one by one, and with --rotated: the same analysis.
    const named = await cli(['analyze', '--rotated', ...names.map((n) => join('dumps', n)).reverse(), '--db', 'named.db', '-q'], { cwd });
    assert.equal(named.code, 0, named.err);
    assert.deepEqual(tables(join(cwd, 'named.db')), b);
  });
}

function countRecords(pcap: Buffer): number {
  let n = 0;
  for (let at = 24; at < pcap.length; at += 16 + pcap.readUInt32LE(at + 8)) n++;
  return n;
}

test('overlap and gap between rotated files are reported; a damaged piece names itself and the next is still read', async () => {
  const whole = readFileSync(join(repoRoot, 'samples', 'kernel', 'bulk-loss', 'bulk-loss.pcap'));
  const [p1, p2, p3] = split(whole, Math.ceil(countRecords(whole) / 3));
  const cwd = scratchDir('tcpstate-rotated-');
  // A gap: the third piece moved 5 s later; an overlap: the second piece also holds the first's last two records.
  const later = Buffer.from(p3);
  for (let at = 24; at < later.length; at += 16 + later.readUInt32LE(at + 8)) later.writeUInt32LE(later.readUInt32LE(at) + 5, at);
  const last1 = p1.subarray(recordsFrom(p1, 2));
  writeFileSync(join(cwd, '1.pcap'), p1);
  writeFileSync(join(cwd, '2.pcap'), Buffer.concat([p2.subarray(0, 24), last1, p2.subarray(24)]));
  writeFileSync(join(cwd, '3.pcap'), later);
  const r = await cli(['analyze', '--continuous', '1.pcap', '2.pcap', '3.pcap', '--db', 'x.db'], { cwd });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /warning: 2\.pcap begins 0\.\d{6} s before 1\.pcap ends: the files overlap/);
  assert.match(r.out, /warning: gap of 5\.\d{6} s between 2\.pcap and 3\.pcap: packets may be missing/);
  // A piece cut short in the middle: named, kept up to the damage, and the next piece read.
  writeFileSync(join(cwd, '2.pcap'), p2.subarray(0, p2.length - 10));
  writeFileSync(join(cwd, '3.pcap'), p3);
  const cut = await cli(['analyze', '--continuous', '1.pcap', '2.pcap', '3.pcap', '--db', 'y.db'], { cwd });
  assert.equal(cut.code, 3);
  assert.match(cut.err, /1\.pcap 2\.pcap 3\.pcap: byte offset \d+, record \d+: in 2\.pcap: capture is cut short inside record/);
  const d = new Database(join(cwd, 'y.db'), { readonly: true });
  const files = d.prepare('SELECT name, packets, error IS NOT NULL AS damaged FROM capture_files ORDER BY idx').all();
  d.close();
  const per = Math.ceil(countRecords(whole) / 3);
  assert.deepEqual(files, [
    { name: '1.pcap', packets: per, damaged: 0 },
    { name: '2.pcap', packets: per - 1, damaged: 1 },
    { name: '3.pcap', packets: countRecords(p3), damaged: 0 },
  ]);
  assert.equal((await cli(['analyze', '--continuous', '-'], { cwd })).code, 2);
});

/** Where the last `n` records of a pcap begin. */
function recordsFrom(pcap: Buffer, n: number): number {
  const starts: number[] = [];
  for (let at = 24; at < pcap.length; at += 16 + pcap.readUInt32LE(at + 8)) starts.push(at);
  return starts[starts.length - n];
}
