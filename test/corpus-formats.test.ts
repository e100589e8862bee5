/**
 * Every valid capture of ../shared/corpus/formats gives the packet and TCP
 * counts that capinfos and tshark gave (INDEX.tsv), and the properties its notes describe.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import { Note } from '../src/decode/index.js';
import { openSource, records } from '../src/reader/index.js';
import { readTsv, sharedDir } from './helpers.js';

const dir = join(sharedDir(), 'corpus', 'formats');
const index = readTsv(join(dir, 'INDEX.tsv'));
/** Rows the reader may refuse with a clear "unsupported format" error (we read both). */
const OPTIONAL = new Set<string>();

test('the formats INDEX lists 40 captures', () => {
  assert.equal(index.length, 40);
});

for (const row of index) {
  test(`formats/${row.file}: packets, TCP packets and plain TCP packets match capinfos/tshark`, async () => {
    let plain = 0;
    const s = await analyzeCapture(row.file, openSource(join(dir, row.file)), {
      onPacket: (_rec, status, p) => {
        if (status === 0 && (p.notes & Note.ENCAPSULATED) === 0) plain++;
      },
    });
    if (OPTIONAL.has(row.file) && s.status === 'error') {
      assert.match(s.error ?? '', /unsupported format/);
      assert.match(s.error ?? '', /byte offset 0/);
      return;
    }
    assert.equal(s.status, 'complete', s.error ?? '');
    assert.equal(s.packets, Number(row.packets_capinfos), 'packets');
    // We decode PPPoE and tunnels, so every TCP header tshark finds is ours too...
    assert.equal(s.tcpPackets, Number(row.tcp_packets_tshark), 'TCP packets (tshark)');
    // ...and those reached without any encapsulation are exactly the INDEX's tcp_plain.
    assert.equal(plain, Number(row.tcp_plain), 'TCP packets straight over the link');
    assert.equal(s.counters.internalErrors, 0);
    const expectedFormat = row.file_format.includes('pcapng') ? 'pcapng' : 'pcap';
    assert.equal(s.format, expectedFormat);
    assert.equal(s.compression, row.file_format.startsWith('gzip') ? 'gzip' : row.file_format.startsWith('zstd') ? 'zstd' : null);
  });
}

async function allRecords(file: string) {
  const out = [];
  for await (const r of records(openSource(join(dir, file)))) out.push(r);
  return out;
}

test('time_2106_max.pcap: seconds = 0xFFFFFFFF is read unsigned', async () => {
  const [r] = await allRecords('time_2106_max.pcap');
  assert.equal(Math.floor(r.tsUs / 1e6), 0xffffffff);
});

test('pcapng-example.pcapng: if_tsresol 9 on interface 0 and 6 on interface 1', async () => {
  const s = await analyzeCapture('x', openSource(join(dir, 'pcapng-example.pcapng')));
  assert.deepEqual(
    s.interfaces.map((i) => [i.linkType, i.unitsPerSecond]),
    [
      [1, 1e9],
      [113, 1e6],
    ],
  );
  const recs = await allRecords('pcapng-example.pcapng');
  // Frame 1 per tshark: 1422527998.578402404 (ns resolution, truncated to µs).
  assert.equal(recs[0].tsUs, 1422527998578402);
  assert.equal(recs.filter((r) => r.caplen < r.origLen).length, 39);
});

test('bigtcp-ipv6-hbh.pcap: an 80 094-byte frame whose TCP length comes from the jumbo option', async () => {
  let payload = -1;
  await analyzeCapture('x', openSource(join(dir, 'bigtcp-ipv6-hbh.pcap')), {
    onPacket: (rec, status, p) => {
      assert.equal(rec.caplen, 80094);
      assert.equal(status, 0);
      payload = p.payloadLen;
    },
  });
  // 80094 - 14 (Ethernet) - 40 (IPv6) - 8 (hop-by-hop) - 32 (TCP with timestamps)
  assert.equal(payload, 80094 - 14 - 40 - 8 - 32);
});

test('pngtg_be_test012.pcapng: an SPB is cut to the interface snaplen (315) and carries no time', async () => {
  const recs = await allRecords('pngtg_be_test012.pcapng');
  assert.deepEqual(
    recs.map((r) => [r.caplen, r.origLen, r.tsKnown]),
    [
      [314, 314, false],
      [315, 342, false],
      [314, 314, true],
      [315, 342, true],
    ],
  );
});

test('pngtg test202 (LE and BE): sections change byte order and interface ids restart', async () => {
  for (const f of ['pngtg_le_test202.pcapng', 'pngtg_be_test202.pcapng']) {
    const recs = await allRecords(f);
    const s = await analyzeCapture(f, openSource(join(dir, f)));
    assert.deepEqual(
      s.interfaces.map((i) => [i.index, i.section, i.linkType]),
      [
        [0, 0, 1],
        [1, 0, 0],
        [2, 1, 1],
        [3, 2, 1],
        [4, 2, 0],
      ],
    );
    // tshark numbers the same packets 2,3,4,5,6,8,9,11 (custom blocks take the other numbers) on interfaces 0,0,1,0,0,0,0,1 of their sections.
    assert.deepEqual(
      recs.map((r) => [r.interfaceIndex, r.caplen, r.origLen]),
      [
        [0, 96, 314],
        [0, 96, 342],
        [1, 168, 168],
        [2, 128, 314],
        [2, 128, 342],
        [2, 128, 314],
        [2, 128, 342],
        [4, 168, 168],
      ],
    );
  }
});

test('one_tcp_stream_max_seq.pcap: sequence numbers wrap through 2^32', async () => {
  const seqs: number[] = [];
  await analyzeCapture('x', openSource(join(dir, 'one_tcp_stream_max_seq.pcap')), {
    onPacket: (_r, _s, p) => seqs.push(p.seq),
  });
  assert.ok(seqs.some((s) => s > 0xffff0000));
  assert.ok(seqs.some((s) => s < 0x10000));
});

test('zstd: a window too large is refused before allocating; corrupt data is a clear error', async () => {
  const { sourceFromChunks } = await import('../src/reader/index.js');
  const one = async function* (b: number[]) {
    yield Uint8Array.from(b);
  };
  const huge = await analyzeCapture('huge.zst', sourceFromChunks(one([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 1, 2, 3])));
  assert.equal(huge.status, 'error');
  assert.match(huge.error ?? '', /zstd window of \d+ bytes is larger than the limit/);
  const bad = await analyzeCapture('bad.zst', sourceFromChunks(one([0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x00, 9, 9, 9, 9, 9, 9, 9, 9])));
  assert.equal(bad.status, 'error');
  assert.match(bad.error ?? '', /^bad\.zst: decompressed byte offset 0, record 1: zstd data is corrupt/);
});
