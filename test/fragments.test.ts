/**
 * IP reassembly (src/decode/fragments.ts): tshark 4.0.17 frame by frame on the
 * captures of scripts/golden/make-frag-scenarios.ts (goldens in test/golden/analysis,
 * made by scripts/kernel/tshark-golden.sh), the counters of what completed and what
 * did not, and the limits (timeout, caps, size) on hand-built fragments; the same for
 * 802.11 and CAPWAP fragments on hand-built frames (their tshark comparison is in
 * test/link-captures.test.ts).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import { DecodedPacket, FragmentReassembler, LinkType, Note, Status, decodeFrame } from '../src/decode/index.js';
import { openSource } from '../src/reader/index.js';
import { FIELD_BITS, analyseCapture, readGolden } from '../scripts/seq-compare.js';
import { LLC_SNAP, be16, bytes, ethernet, fragment6, ipv4, ipv6, tcp, udp, wlanHeader } from './frames.js';
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

// ---------------------------------------------------------------- 802.11 and CAPWAP fragments

const WLAN = 105;
const MSDU = bytes(LLC_SNAP(0x0800), ipv4(6, SEGMENT));

/** 802.11 fragment number `n` holding MSDU[start, end), sequence number `seq`; `ta`: the transmitter's last byte. */
function wlanFrag(n: number, start: number, end: number, o: { seq?: number; ta?: number; body?: Uint8Array } = {}): Uint8Array {
  const more = end < MSDU.length;
  const h = wlanHeader(0x08, 0x01 | (more ? 0x04 : 0), ((o.seq ?? 7) << 4) | n);
  if (o.ta !== undefined) h[15] = o.ta; // address 2, the transmitter
  return bytes(h, o.body ?? MSDU.subarray(start, end));
}

const CAPWAP_PAYLOAD = ethernet(0x0800, ipv4(6, SEGMENT));

/** CAPWAP data over UDP over IPv4 (raw IP link): the piece [start, end) of CAPWAP_PAYLOAD, fragment ID `id`. */
function capwapFrag(start: number, end: number, id = 9, body: Uint8Array = CAPWAP_PAYLOAD.subarray(start, end)): Uint8Array {
  const last = end >= CAPWAP_PAYLOAD.length;
  // HLEN 2 words, RID 1, WBID 1, T clear (802.3); F, and L on the last.
  const header = [0, 0x10, 0x42, 0x80 | (last ? 0x40 : 0), ...be16(id), ...be16((start / 8) << 3)];
  return ipv4(17, udp(40000, 5247, bytes(header, body)));
}

/** Feeds frames of a link type (each at a non-zero offset in a larger buffer) through decode and reassembly. */
function feedLink(r: FragmentReassembler, linkType: number, frames: Array<[tsUs: number, frame: Uint8Array]>, p = new DecodedPacket()): number[] {
  return frames.map(([ts, frame]) => {
    const buf = new Uint8Array(frame.length + 11).fill(0xee);
    buf.set(frame, 7);
    r.tick(ts);
    const status = decodeFrame(p, linkType, buf, 7, frame.length, frame.length);
    return status === Status.IP_FRAGMENT || status === Status.LINK_FRAGMENT ? r.packet(p, ts, status) : status;
  });
}

const LF = Status.LINK_FRAGMENT;

test('802.11: an MSDU in three fragments, out of order and one repeated, decodes whole at the last one missing', () => {
  const r = new FragmentReassembler();
  const p = new DecodedPacket();
  // (The last fragment may not come first: with nothing in progress it would be taken whole, below.)
  const frames: Array<[number, Uint8Array]> = [[0, wlanFrag(1, 40, 80)], [1, wlanFrag(0, 0, 40)], [2, wlanFrag(0, 0, 40)], [3, wlanFrag(2, 80, MSDU.length)]];
  assert.deepEqual(feedLink(r, WLAN, frames, p), [LF, LF, LF, Status.TCP]);
  assert.deepEqual([p.seq, p.ack, p.payloadLen, p.srcPort], [1000, 2000, 100, 40000]);
  assert.ok(p.notes & Note.LINK_REASSEMBLED);
  assert.ok(!(p.notes & Note.REASSEMBLED));
  assert.deepEqual([r.counters.wlan.reassembled, r.counters.wlan.overlapConflict, r.counters.reassembled, r.inProgress, r.held], [1, 0, 0, 0, 0]);
});

test('802.11: a fragment number seen twice with other bytes keeps the first, counted as a conflict', () => {
  const r = new FragmentReassembler();
  const p = new DecodedPacket();
  const wrong = MSDU.slice(0, 40);
  wrong[39] ^= 0xff;
  assert.deepEqual(feedLink(r, WLAN, [[0, wlanFrag(0, 0, 40)], [1, wlanFrag(0, 0, 40, { body: wrong })], [2, wlanFrag(1, 40, MSDU.length)]], p), [LF, LF, Status.TCP]);
  assert.equal(p.seq, 1000);
  assert.deepEqual([r.counters.wlan.reassembled, r.counters.wlan.overlapConflict], [1, 1]);
});

test('802.11: a last fragment with nothing before it in progress is a whole frame (Wireshark\'s 802.11 hack)', () => {
  const r = new FragmentReassembler();
  const p = new DecodedPacket();
  assert.deepEqual(feedLink(r, WLAN, [[0, wlanFrag(1, 0, MSDU.length)]], p), [Status.TCP]);
  assert.equal(p.notes & Note.LINK_REASSEMBLED, 0);
  assert.deepEqual([r.counters.wlan.reassembled, r.inProgress], [0, 0]);
});

test('802.11: two transmitters with the same sequence number are kept apart', () => {
  const r = new FragmentReassembler();
  const frames: Array<[number, Uint8Array]> = [[0, wlanFrag(0, 0, 40, { ta: 0x0a })], [1, wlanFrag(0, 0, 40, { ta: 0x0c })], [2, wlanFrag(1, 40, MSDU.length, { ta: 0x0c })], [3, wlanFrag(1, 40, MSDU.length, { ta: 0x0a })]];
  assert.deepEqual(feedLink(r, WLAN, frames), [LF, LF, Status.TCP, Status.TCP]);
  assert.equal(r.counters.wlan.reassembled, 2);
});

test('802.11: fragments time out after 1 s of packet time, and unfinished ones are counted at the end', () => {
  const r = new FragmentReassembler();
  // The first fragment is dropped; the last then has nothing before it and is taken whole: not IP.
  assert.deepEqual(feedLink(r, WLAN, [[0, wlanFrag(0, 0, 40)], [1_000_001, wlanFrag(1, 40, MSDU.length)]]), [LF, Status.NON_IP]);
  assert.equal(r.counters.wlan.timedOut, 1);
  feedLink(r, WLAN, [[2_000_000, wlanFrag(0, 0, 40, { seq: 8 })]]);
  r.finish();
  assert.deepEqual([r.counters.wlan.incompleteAtEnd, r.counters.incompleteAtEnd, r.inProgress, r.held], [1, 0, 0, 0]);
  const long = new FragmentReassembler(undefined, { timeoutWlanUs: 5_000_000 });
  assert.deepEqual(feedLink(long, WLAN, [[0, wlanFrag(0, 0, 40)], [4_000_000, wlanFrag(1, 40, MSDU.length)]]), [LF, Status.TCP]);
});

test('802.11 around an IPv4 fragment: the MSDU, then the datagram, are put together in turn', () => {
  const r = new FragmentReassembler();
  const p = new DecodedPacket();
  const first = bytes(LLC_SNAP(0x0800), frag4(0, 64));
  const second = bytes(LLC_SNAP(0x0800), frag4(64, SEGMENT.length));
  const a0 = bytes(wlanHeader(0x08, 0x05, (3 << 4) | 0), first.subarray(0, 30));
  const a1 = bytes(wlanHeader(0x08, 0x01, (3 << 4) | 1), first.subarray(30));
  const b = bytes(wlanHeader(0x08, 0x01, 4 << 4), second);
  assert.deepEqual(feedLink(r, WLAN, [[0, a0], [1, a1], [2, b]], p), [LF, Status.IP_FRAGMENT, Status.TCP]);
  assert.deepEqual([p.seq, p.payloadLen], [1000, 100]);
  assert.deepEqual([r.counters.wlan.reassembled, r.counters.reassembled], [1, 1]);
});

test('802.11: a protected fragment is encrypted, never held', () => {
  const r = new FragmentReassembler();
  assert.deepEqual(feedLink(r, WLAN, [[0, bytes(wlanHeader(0x08, 0x45, 0x0070), MSDU.subarray(0, 40))]]), [Status.ENCRYPTED]);
  assert.equal(r.inProgress, 0);
});

test('CAPWAP: a frame in three fragments, out of order, decodes whole at the last one to arrive', () => {
  const r = new FragmentReassembler();
  const p = new DecodedPacket();
  const n = CAPWAP_PAYLOAD.length;
  assert.deepEqual(feedLink(r, LinkType.RAW, [[0, capwapFrag(128, n)], [1, capwapFrag(0, 64)], [2, capwapFrag(64, 128)]], p), [LF, LF, Status.TCP]);
  assert.deepEqual([p.seq, p.ack, p.payloadLen, p.dstPort], [1000, 2000, 100, 443]);
  assert.ok(p.notes & Note.LINK_REASSEMBLED && p.notes & Note.ENCAPSULATED);
  assert.deepEqual([r.counters.capwap.reassembled, r.counters.wlan.reassembled, r.inProgress], [1, 0, 0]);
});

test('CAPWAP: overlaps as for IP (the lower offset wins), fragment IDs kept apart, a cut fragment counted', () => {
  const r = new FragmentReassembler();
  const p = new DecodedPacket();
  const n = CAPWAP_PAYLOAD.length;
  const wrong = CAPWAP_PAYLOAD.slice(56, 128);
  wrong[0] ^= 0xff;
  const frames: Array<[number, Uint8Array]> = [[0, capwapFrag(0, 64, 1)], [1, capwapFrag(56, 128, 1, wrong)], [2, capwapFrag(0, 64, 2)], [3, capwapFrag(64, n, 2)], [4, capwapFrag(128, n, 1)]];
  assert.deepEqual(feedLink(r, LinkType.RAW, frames, p), [LF, LF, LF, Status.TCP, Status.TCP]);
  assert.equal(p.seq, 1000, 'the first fragment\'s bytes stay where the second overlaps them');
  assert.deepEqual([r.counters.capwap.reassembled, r.counters.capwap.overlapConflict], [2, 1]);
  const f = capwapFrag(0, 64, 3);
  const buf = new Uint8Array(f.length);
  buf.set(f);
  assert.equal(decodeFrame(p, LinkType.RAW, buf, 0, f.length - 10, f.length), LF);
  assert.equal(r.packet(p, 5, LF), LF);
  assert.deepEqual([r.counters.capwap.fragmentNotCaptured, r.inProgress], [1, 0]);
});

test('CAPWAP and 802.11 fragments share the caps; each kind counts its own drops', () => {
  const r = new FragmentReassembler(undefined, { maxDatagrams: 1 });
  feedLink(r, LinkType.RAW, [[0, capwapFrag(0, 64)]]);
  feedLink(r, WLAN, [[1, wlanFrag(0, 0, 40)]]);
  assert.deepEqual([r.counters.capwap.memoryCap, r.counters.wlan.memoryCap, r.inProgress], [1, 0, 1]);
  const bytesCap = new FragmentReassembler(undefined, { maxBytes: 50 });
  feedLink(bytesCap, LinkType.RAW, [[0, capwapFrag(0, 64)]]);
  assert.deepEqual([bytesCap.counters.capwap.memoryCap, bytesCap.held], [1, 0]);
  const entries = Object.fromEntries(bytesCap.counters.entries());
  assert.equal(entries.capwap_reassembly_memory_cap, 1);
});
