/**
 * IP reassembly (src/decode/fragments.ts): tshark 4.0.17 frame by frame on the
 * captures of scripts/golden/make-frag-scenarios.ts (goldens in test/golden/analysis,
 * made by scripts/kernel/tshark-golden.sh), the counters of what completed and what
 * did not, and the limits (timeout, caps, size) on hand-built fragments.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/analyze/capture.js';
import { DecodedPacket, FragmentReassembler, LinkType, Note, Status, decodeFrame } from '../src/decode/index.js';
import { openSource } from '../src/reader/index.js';
import { FIELD_BITS, analyseCapture, readGolden } from '../scripts/seq-compare.js';
import { be16, bytes, fragment6, ipv4, ipv6, tcp } from './frames.js';
import { repoRoot, sharedDir } from './helpers.js';
import { cli, tempDir } from './report-io.js';

const dir = join(repoRoot, 'test', 'golden', 'frag-scenarios');
const goldens = join(repoRoot, 'test', 'golden', 'analysis');
const captures = readdirSync(dir).filter((f) => f.endsWith('.pcap')).sort();

const flagNames = (bits: number) => FIELD_BITS.filter(([, b]) => bits & b).map(([n]) => n).join(',') || '-';

test('the fragment scenarios are all there, IPv4 and IPv6', () => {
  assert.equal(captures.length, 14);
  for (const v of ['v4', 'v6']) assert.equal(captures.filter((c) => c.startsWith(`frag-${v}-`)).length, 7);
});

for (const name of captures) {
  test(`tshark 4.0.17 agrees frame by frame: ${name}`, async () => {
    const golden = readGolden(join(goldens, `${name}.tsv`));
    const ours = await analyseCapture(join(dir, name));
    // The frames holding TCP: a fragmented segment is at the frame that completes its datagram.
    assert.deepEqual([...ours.keys()], [...golden.keys()], 'frames with TCP');
    for (const [frame, g] of golden) {
      const o = ours.get(frame)!;
      assert.deepEqual(
        { frame, len: o.len, seq: o.seq, ack: o.ack, stream: o.stream, flags: flagNames(o.flags) },
        { frame, len: g.len, seq: g.seq, ack: g.ack, stream: g.stream, flags: flagNames(g.flags) },
      );
    }
  });
}

/** The reassembly counters of a capture, as the summary and the database show them. */
async function counters(path: string): Promise<Record<string, number>> {
  const s = await analyzeCapture(path, openSource(path));
  return Object.fromEntries(s.counters.entries());
}

test('what each scenario counts: held fragments, reassembled datagrams, and the ones that never were', async () => {
  const c = (n: string) => counters(join(dir, n));
  for (const v of ['v4', 'v6']) {
    const split = await c(`frag-${v}-syn-header-split.pcap`);
    assert.deepEqual([split.ip_fragment, split.reassembled_datagrams, split.tcp_in_reassembled_datagram, split.tcp], [2, 2, 2, 8]);
    const lost = await c(`frag-${v}-never-completes.pcap`);
    assert.deepEqual([lost.ip_fragment, lost.reassembled_datagrams, lost.reassembly_incomplete_at_end], [1, undefined, 1]);
    const same = await c(`frag-${v}-overlap-identical.pcap`);
    // The last fragment again after its datagram completed: a datagram of its own, never completed.
    assert.deepEqual([same.reassembled_datagrams, same.reassembly_overlap_conflict, same.reassembly_incomplete_at_end], [1, undefined, 1]);
    const conflict = await c(`frag-${v}-overlap-conflict.pcap`);
    assert.deepEqual([conflict.reassembled_datagrams, conflict.reassembly_overlap_conflict, conflict.reassembly_incomplete_at_end], [2, 2, undefined]);
  }
});

test('the overlap rule is tshark\'s: the lower offset wins, and of two at one offset the earlier', async () => {
  const path = join(dir, 'frag-v4-overlap-conflict.pcap');
  const windows = new Map<number, number>();
  await analyzeCapture(path, openSource(path), { onPacket: (rec, status, p) => status === Status.TCP && windows.set(rec.number, p.window) });
  const golden = readGolden(join(goldens, 'frag-v4-overlap-conflict.pcap.tsv'));
  assert.equal(windows.get(7), 8192, 'the first of two first fragments gives the window (the second says 256)');
  // Frame 10's datagram: a fragment at offset 8 with a wrong ACK came first, the first fragment after it.
  const ours = await analyseCapture(path);
  assert.equal(ours.get(10)!.ack, golden.get(10)!.ack);
  assert.equal(ours.get(10)!.ack, 5001);
});

test('gtp1-outer-ip-frag: outer fragments are reassembled before the tunnel is undone', async () => {
  const path = join(sharedDir(), 'oracle', 'zeek', 'traces', 'gtp1-outer-ip-frag.pcap');
  const s = await analyzeCapture(path, openSource(path));
  const n = Object.fromEntries(s.counters.entries());
  // 76 fragments (tshark with reassembly off): 36 datagrams complete, four never get their second fragment.
  assert.deepEqual([n.reassembled_datagrams, n.reassembly_incomplete_at_end, n.ip_fragment], [36, 4, 40]);
  assert.equal(n.tcp_in_reassembled_datagram, 36);
});

// ---------------------------------------------------------------- hand-built fragments

const SEGMENT = tcp({ sport: 40000, dport: 443, seq: 1000, ack: 2000, flags: 0x18, payload: 100 });

/** IPv4 fragments of SEGMENT: [start, end) of its bytes, with an identification. */
function frag4(start: number, end: number, id = 0x1234, data: Uint8Array = SEGMENT.subarray(start, end)): Uint8Array {
  const more = end < SEGMENT.length ? 0x2000 : 0;
  const b = ipv4(6, data, { fragment: more | (start / 8) });
  b.set(be16(id), 4);
  return b;
}

function frag6(start: number, end: number): Uint8Array {
  return ipv6(44, bytes(fragment6(6, start / 8, end < SEGMENT.length), SEGMENT.subarray(start, end)));
}

/** Feeds raw-IP frames (each at a non-zero offset in a larger buffer) at the given times; returns each one's status. */
function feed(r: FragmentReassembler, frames: Array<[tsUs: number, frame: Uint8Array]>, p = new DecodedPacket()): number[] {
  return frames.map(([ts, frame]) => {
    const buf = new Uint8Array(frame.length + 17).fill(0xee);
    buf.set(frame, 9);
    r.tick(ts);
    const status = decodeFrame(p, LinkType.RAW, buf, 9, frame.length, frame.length);
    return status === Status.IP_FRAGMENT ? r.packet(p, ts) : status;
  });
}

test('a segment in three IPv4 fragments, out of order, decodes whole at the last one to arrive', () => {
  const r = new FragmentReassembler();
  const p = new DecodedPacket();
  const statuses = feed(r, [[0, frag4(64, SEGMENT.length)], [1, frag4(0, 32)], [2, frag4(32, 64)]], p);
  assert.deepEqual(statuses, [Status.IP_FRAGMENT, Status.IP_FRAGMENT, Status.TCP]);
  assert.deepEqual([p.seq, p.ack, p.payloadLen, p.srcPort, p.ipEnd - p.ipOff], [1000, 2000, 100, 40000, 20 + SEGMENT.length]);
  assert.ok(p.notes & Note.REASSEMBLED);
  assert.deepEqual([r.counters.reassembled, r.inProgress, r.held], [1, 0, 0]);
});

test('IPv6: a segment in two fragments behind the fixed header', () => {
  const r = new FragmentReassembler();
  const p = new DecodedPacket();
  assert.deepEqual(feed(r, [[0, frag6(0, 48)], [5, frag6(48, SEGMENT.length)]], p), [Status.IP_FRAGMENT, Status.TCP]);
  assert.deepEqual([p.ipVersion, p.seq, p.payloadLen, p.ipEnd], [6, 1000, 100, 40 + SEGMENT.length]);
});

test('two datagrams interleaved are kept apart by their identification', () => {
  const r = new FragmentReassembler();
  const statuses = feed(r, [[0, frag4(0, 64, 1)], [1, frag4(0, 64, 2)], [2, frag4(64, SEGMENT.length, 2)], [3, frag4(64, SEGMENT.length, 1)]]);
  assert.deepEqual(statuses, [Status.IP_FRAGMENT, Status.IP_FRAGMENT, Status.TCP, Status.TCP]);
  assert.equal(r.counters.reassembled, 2);
});

test('timeouts in packet time: 30 s for IPv4, 60 s for IPv6, counted', () => {
  const r = new FragmentReassembler();
  const statuses = feed(r, [[0, frag4(0, 64)], [0, frag6(0, 48)], [30_000_001, frag4(64, SEGMENT.length)], [30_000_002, frag6(48, SEGMENT.length)]]);
  // IPv4's first fragment was dropped at 30 s; IPv6's still completes.
  assert.deepEqual(statuses, [Status.IP_FRAGMENT, Status.IP_FRAGMENT, Status.IP_FRAGMENT, Status.TCP]);
  assert.equal(r.counters.timedOut, 1);
  r.tick(90_000_000);
  assert.equal(r.counters.timedOut, 2, 'the lone last fragment times out in turn');
  assert.equal(r.inProgress, 0);
  const short = new FragmentReassembler(undefined, { timeoutV4Us: 1_000_000 });
  assert.deepEqual(feed(short, [[0, frag4(0, 64)], [1_500_000, frag4(64, SEGMENT.length)]]), [Status.IP_FRAGMENT, Status.IP_FRAGMENT]);
  assert.equal(short.counters.timedOut, 1);
});

test('the caps on bytes held and on datagrams in progress drop the oldest, counted', () => {
  const bytesCap = new FragmentReassembler(undefined, { maxBytes: 100 });
  const statuses = feed(bytesCap, [[0, frag4(0, 64, 1)], [1, frag4(0, 64, 2)], [2, frag4(64, SEGMENT.length, 1)], [3, frag4(64, SEGMENT.length, 2)]]);
  // 64 + 64 > 100: datagram 1 goes to make room for datagram 2; 1's last fragment (a new
  // datagram) then pushes out 2, and 2's last fragment pushes out that one.
  assert.deepEqual(statuses, [Status.IP_FRAGMENT, Status.IP_FRAGMENT, Status.IP_FRAGMENT, Status.IP_FRAGMENT]);
  assert.equal(bytesCap.counters.memoryCap, 3);
  assert.ok(bytesCap.held <= 100);
  const countCap = new FragmentReassembler(undefined, { maxDatagrams: 1 });
  assert.deepEqual(feed(countCap, [[0, frag4(0, 64, 1)], [1, frag4(0, 64, 2)], [2, frag4(64, SEGMENT.length, 2)]]), [Status.IP_FRAGMENT, Status.IP_FRAGMENT, Status.TCP]);
  assert.deepEqual([countCap.counters.memoryCap, countCap.counters.reassembled], [1, 1]);
  countCap.finish();
  assert.equal(countCap.counters.incompleteAtEnd, 0);
});

test('data past 65,535 bytes is refused and counted', () => {
  const r = new FragmentReassembler();
  const p = new DecodedPacket();
  const far = ipv4(6, SEGMENT.subarray(0, 40), { fragment: 0x2000 | 8188 }); // 65,504 + 40 + 20 > 65,535
  assert.deepEqual(feed(r, [[0, far]], p), [Status.IP_FRAGMENT]);
  assert.deepEqual([r.counters.tooLarge, r.inProgress], [1, 0]);
});

test('a fragment cut short by the snaplen is not used, and counted', () => {
  const r = new FragmentReassembler();
  const p = new DecodedPacket();
  const f = frag4(0, 64);
  const buf = new Uint8Array(f.length + 5);
  buf.set(f, 5);
  assert.equal(decodeFrame(p, LinkType.RAW, buf, 5, f.length - 10, f.length), Status.IP_FRAGMENT);
  assert.equal(r.packet(p, 0), Status.IP_FRAGMENT);
  assert.deepEqual([r.counters.fragmentNotCaptured, r.inProgress], [1, 0]);
});

test('unfinished datagrams are counted at the end', () => {
  const r = new FragmentReassembler();
  feed(r, [[0, frag4(0, 64, 1)], [1, frag6(0, 48)]]);
  r.finish();
  assert.deepEqual([r.counters.incompleteAtEnd, r.inProgress, r.held], [2, 0, 0]);
});

test('the command line sets the caps: --frag-datagrams 1 drops the older of interleaved datagrams', async () => {
  const db = join(tempDir(), 'frag.db');
  const capture = 'test/golden/frag-scenarios/frag-v4-interleaved.pcap';
  const one = await cli(['analyze', '--json', '-j', '1', '--db', db, '--frag-datagrams', '1', capture]);
  assert.equal(one.code, 0, one.err);
  const decode = JSON.parse(one.out)[0].decode as Record<string, number>;
  // A1 B1 A2 B2 R1 S1 S2 R2: with room for one, each first fragment but S1's pushes out the
  // datagram before it (5 times); only S, whose fragments are adjacent, completes; R2 is left.
  assert.deepEqual([decode.reassembled_datagrams, decode.reassembly_memory_cap, decode.reassembly_incomplete_at_end], [1, 5, 1]);
  const bad = await cli(['analyze', '--db', db, '--frag-memory', '0', capture]);
  assert.equal(bad.code, 2);
});
