/**
 * Lone SYNs kept compactly (src/flow/half-open.ts) and idle flows frozen (Flow.freeze)
 * must change nothing but memory: every capture we have, analysed with each forced
 * (every lone SYN kept; every flow frozen at every sweep, once a second of packet time)
 * and with it off, gives the same flows, transitions, findings, Zeek rows and summary.
 * A synthetic flood adds what the samples lack: SYNs retransmitted across Zeek's
 * attempt timer, answered by SYN-ACK and by RST, expired by the handshake timeout
 * mid-capture and their tuples used again, IPv6 and SYNs with options.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Chalk } from 'chalk';
import { HOSTS_TRACKED, analyzeCapture } from '../src/analyze/capture.js';
import { renderSummary } from '../src/report/summary.js';
import { HalfOpenStore, keepable } from '../src/flow/half-open.js';
import type { FlowTableOptions } from '../src/flow/table.js';
import { Endpoint, Flow } from '../src/flow/flow.js';
import { TcpState } from '../src/state/tcp-state.js';
import { FrozenStore } from '../src/util/number.js';
import { writeMix } from '../scripts/bench-capture.js';
import { DecodedPacket, decodeFrame } from '../src/decode/index.js';
import { openSource, sourceFromChunks } from '../src/reader/index.js';
import { repoRoot, sharedDir, pieces } from './helpers.js';
import { ETHERTYPE, IPPROTO_TCP, LINKTYPE, TCP_FLAG, ethernet, ipv4, ipv6, parseIPv4, parseIPv6, parseMac, tcp, tcpOptions, writePcap, type Frame } from './scenario/writer.js';

interface Outcome {
  flows: string[];
  findings: string[];
  zeek: string[];
  summary: string;
  /** Lone SYNs that were held compactly, and times an idle flow was frozen. */
  held: number;
  frozen: number;
}

/** Each compaction forced, and both off. */
const FORCED = {
  'lone SYNs': { compactHalfOpenAfter: 0, freezeAfterUs: Infinity },
  'idle flows': { compactHalfOpenAfter: Infinity, freezeAfterUs: 0 },
};
type Compaction = keyof typeof FORCED;
const OFF = { compactHalfOpenAfter: Infinity, freezeAfterUs: Infinity };

async function analyse(name: string, bytes: Uint8Array | null, flowOptions: Partial<FlowTableOptions>, verifyChecksums = false): Promise<Outcome> {
  const flows: string[] = [];
  const findings: string[] = [];
  const zeek: string[] = [];
  const summary = await analyzeCapture(name, bytes === null ? openSource(name) : sourceFromChunks(pieces(bytes, 0)), {
    flowOptions,
    verifyChecksums,
    onFlowEnd: (f) =>
      flows.push(
        JSON.stringify({
          id: f.id,
          first: [f.firstTs, f.firstPacket],
          last: [f.lastTs, f.lastPacket],
          end: [f.endReason, f.endTs],
          roles: f.rolesBy,
          client: { ...f.client, pending: f.client.pending.length },
          server: { ...f.server, pending: f.server.pending.length },
          transitions: f.transitions,
          analysis: f.hasAnalysis ? f.analysis : null,
          reset: f.resetInfo,
        }),
      ),
    onFinding: (f) => findings.push(JSON.stringify(f)),
    onZeekConn: (c) => zeek.push(JSON.stringify(c)),
  });
  const { heldSyns, frozenFlows, ...rest } = summary;
  if (flowOptions.compactHalfOpenAfter === Infinity) assert.equal(heldSyns, 0);
  if (flowOptions.freezeAfterUs === Infinity) assert.equal(frozenFlows, 0);
  return { flows: flows.sort(), findings: findings.sort(), zeek: zeek.sort(), summary: JSON.stringify(rest), held: heldSyns, frozen: frozenFlows };
}

/** The outcome with compaction off; `forced`, when given, receives the one with it forced. */
async function assertSame(name: string, bytes: Uint8Array | null = null, verify = false, what: Compaction = 'lone SYNs', forced?: (o: Outcome) => void): Promise<Outcome> {
  const off = await analyse(name, bytes, OFF, verify);
  const on = await analyse(name, bytes, FORCED[what], verify);
  forced?.(on);
  assert.deepEqual(on.flows, off.flows, `${name}: flows`);
  assert.deepEqual(on.findings, off.findings, `${name}: findings`);
  assert.deepEqual(on.zeek, off.zeek, `${name}: Zeek rows`);
  assert.deepEqual(JSON.parse(on.summary), JSON.parse(off.summary), `${name}: summary`);
  return off;
}

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...captures(p));
    else if (/\.(pcap|pcapng|cap|trace)$/.test(e)) out.push(p);
  }
  return out.sort();
}

for (const what of Object.keys(FORCED) as Compaction[]) {
  test(`kernel and scenario samples: the same results with ${what} kept compactly`, async () => {
    const files = [...captures(join(repoRoot, 'samples', 'kernel')), ...captures(join(repoRoot, 'samples', 'scenarios'))];
    assert.ok(files.length >= 45, `only ${files.length} samples`);
    let frozen = 0;
    for (const f of files) await assertSame(f, null, false, what, (o) => (frozen += o.frozen));
    if (what === 'idle flows') assert.ok(frozen > 500, `${frozen} flows frozen`);
  });

  test(`Zeek oracle traces: the same results with ${what} kept compactly, checksums verified or not`, async () => {
    const files = captures(join(sharedDir(), 'oracle', 'zeek', 'traces'));
    assert.ok(files.length >= 40, `only ${files.length} traces`);
    for (const f of files) {
      await assertSame(f, null, false, what);
      await assertSame(f, null, true, what);
    }
  });
}

test("a slice of the benchmark's mix (loss, retransmissions, a flood): the same results with every flow frozen at every sweep", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpstate-freeze-'));
  try {
    const file = join(dir, 'mix.pcap');
    writeMix(file, { scale: 0.03, floodSyns: 300, seed: 12 });
    let frozen = 0;
    const off = await assertSame(file, null, false, 'idle flows', (o) => (frozen = o.frozen));
    // Flows are frozen at the sweeps (once a second of packet time): most of them were, some more than once.
    const flows = (JSON.parse(off.summary) as { flows: number }).flows;
    assert.ok(frozen > flows * 0.8, `${frozen} times a flow was frozen, ${flows} flows`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A flood with everything a lone SYN can meet afterwards. */
function floodCapture(): Uint8Array {
  const mac = parseMac('02:00:00:00:00:01');
  const server = parseIPv4('192.0.2.80');
  const server6 = parseIPv6('2001:db8::80');
  const frames: Frame[] = [];
  let t = 1_700_000_000_000_000n; // µs
  const at = (us: bigint) => (t = us);
  const v4 = (src: Uint8Array, dst: Uint8Array, sport: number, dport: number, flags: number, seq: number, ack: number, opts = false) =>
    frames.push({
      tsNs: t * 1000n,
      bytes: ethernet(mac, mac, ETHERTYPE.IPV4, ipv4(src, dst, IPPROTO_TCP, tcp({ srcPort: sport, dstPort: dport, seq, ack, flags, window: 64240, options: opts ? tcpOptions({ mss: 1460, sackOk: true, ts: { val: 1, ecr: 0 }, ws: 7 }) : undefined }, src, dst), { ttl: 64, id: 1, df: true })),
    });
  const { SYN, ACK, RST, FIN } = TCP_FLAG;
  const spoofed = (i: number) => parseIPv4(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  // 2 s of spoofed SYNs at 1000/s, with legitimate clients among them.
  for (let i = 0; i < 2000; i++) {
    at(t + 1000n);
    v4(spoofed(i), server, 1024 + i, 80, SYN, i * 7919, 0, i % 3 === 0);
    if (i % 100 === 50) {
      // A client that completes and closes.
      const c = parseIPv4('198.51.100.7');
      const port = 40000 + i;
      v4(c, server, port, 80, SYN, 1000, 0, true);
      at(t + 200n);
      v4(server, c, 80, port, SYN | ACK, 5000, 1001, true);
      at(t + 200n);
      v4(c, server, port, 80, ACK, 1001, 5001);
      v4(c, server, port, 80, FIN | ACK, 1001, 5001);
      at(t + 100n);
      v4(server, c, 80, port, FIN | ACK, 5001, 1002);
      v4(c, server, port, 80, ACK, 1002, 5002);
    }
    if (i % 250 === 10) {
      // Refused by RST, and answered by a SYN-ACK that never gets its ACK.
      at(t + 50n);
      v4(server, spoofed(i), 80, 1024 + i, RST | ACK, 0, i * 7919 + 1);
      at(t + 50n);
      v4(server, spoofed(i - 1), 80, 1024 + i - 1, SYN | ACK, 777, (i - 1) * 7919 + 1);
    }
  }
  // Retransmitted SYNs (a real client whose SYN goes unanswered): 1 s, 3 s, 7 s, 15 s after, across Zeek's 5 s attempt timer.
  const slow = parseIPv4('203.0.113.9');
  const start = t;
  for (const s of [0n, 1n, 3n, 7n, 15n]) {
    at(start + s * 1_000_000n);
    v4(slow, server, 51000, 443, SYN, 424242, 0, true);
  }
  // IPv6 lone SYNs, one answered.
  for (let i = 0; i < 50; i++) {
    at(t + 1000n);
    const src = parseIPv6(`2001:db8:1::${(i + 1).toString(16)}`);
    frames.push({ tsNs: t * 1000n, bytes: ethernet(mac, mac, ETHERTYPE.IPV6, ipv6(src, server6, IPPROTO_TCP, tcp({ srcPort: 2000 + i, dstPort: 443, seq: i, ack: 0, flags: SYN, window: 1000 }, src, server6), { hopLimit: 64, flowLabel: 0 })) });
    if (i === 20) {
      at(t + 1000n);
      frames.push({ tsNs: t * 1000n, bytes: ethernet(mac, mac, ETHERTYPE.IPV6, ipv6(server6, src, IPPROTO_TCP, tcp({ srcPort: 443, dstPort: 2000 + i, seq: 9, ack: i + 1, flags: SYN | ACK, window: 1000 }, server6, src), { hopLimit: 64, flowLabel: 0 })) });
    }
  }
  // Past the handshake timeout (180 s): the flood expires; then two flood tuples are used again.
  at(t + 200_000_000n);
  v4(spoofed(5), server, 1024 + 5, 80, SYN, 99, 0);
  at(t + 1000n);
  v4(server, spoofed(5), 80, 1024 + 5, SYN | ACK, 1, 100);
  at(t + 1000n);
  v4(spoofed(6), server, 1024 + 6, 80, ACK, 6 * 7919 + 1, 1);
  at(t + 400_000_000n);
  v4(parseIPv4('198.51.100.8'), server, 33333, 80, SYN, 1, 0);
  return writePcap({ endian: 'le', precision: 'us', linkType: LINKTYPE.ETHERNET, snaplen: 65535 }, frames);
}

test('a synthetic flood: the same results, and the SYNs were kept compactly', async () => {
  const bytes = floodCapture();
  const off = await assertSame('flood.pcap', bytes);
  const summary = JSON.parse(off.summary) as { flows: number; findings: Record<string, number> };
  assert.ok(summary.flows > 2000, String(summary.flows));
  assert.equal(summary.findings.syn_flood, 1);
  // Compaction really happened: all spoofed and IPv6 SYNs held with it forced; with a
  // threshold of 100 live connections, all but the first ~100.
  const forced = await analyse('flood.pcap', bytes, FORCED['lone SYNs']);
  assert.ok(forced.held >= 2000 + 50, String(forced.held));
  const on = await analyse('flood.pcap', bytes, { ...OFF, compactHalfOpenAfter: 100 });
  assert.ok(on.held > 1900 && on.held < forced.held, String(on.held));
  assert.deepEqual(on.flows, off.flows);
  assert.deepEqual(on.zeek, off.zeek);
  assert.deepEqual(on.findings, off.findings);
});

test('the store: keeps only what replays exactly, finds either direction, frees and grows', () => {
  const mac = parseMac('02:00:00:00:00:01');
  const a = parseIPv4('192.0.2.1');
  const b = parseIPv4('192.0.2.2');
  const frame = (src: Uint8Array, dst: Uint8Array, sport: number, dport: number, flags: number, payload?: Uint8Array) =>
    ethernet(mac, mac, ETHERTYPE.IPV4, ipv4(src, dst, IPPROTO_TCP, tcp({ srcPort: sport, dstPort: dport, seq: 1, ack: 0, flags, window: 100, payload }, src, dst), { ttl: 64, id: 1, df: true }));
  const decode = (bytes: Uint8Array) => {
    const p = new DecodedPacket();
    decodeFrame(p, LINKTYPE.ETHERNET, bytes, 0, bytes.length, bytes.length);
    return { p, end: bytes.length };
  };
  const syn = decode(frame(a, b, 1000, 80, TCP_FLAG.SYN));
  assert.equal(keepable(syn.p, syn.end), true);
  assert.equal(keepable(syn.p, syn.end - 1), false, 'not wholly captured');
  const synAck = decode(frame(b, a, 80, 1000, TCP_FLAG.SYN | TCP_FLAG.ACK));
  assert.equal(keepable(synAck.p, synAck.end), false);
  const synData = decode(frame(a, b, 1000, 80, TCP_FLAG.SYN, new Uint8Array(10)));
  assert.equal(keepable(synData.p, synData.end), false, 'SYN with data (TFO)');

  const store = new HalfOpenStore(4);
  for (let i = 0; i < 100; i++) {
    const s = decode(frame(a, b, 2000 + i, 80, TCP_FLAG.SYN));
    store.add(s.p, i + 1, 1000 + i, i + 1, i, 0, 3 * i);
  }
  assert.equal(store.size, 100);
  // Either direction finds it; another port does not.
  assert.ok(store.find(decode(frame(b, a, 80, 2050, TCP_FLAG.RST)).p) >= 0);
  assert.equal(store.find(decode(frame(b, a, 80, 3000, TCP_FLAG.RST)).p), -1);
  // Take every other one, then the rest come out oldest first.
  const out = new Uint8Array(80);
  const meta = { frame: 0, ts: 0, flowId: 0, stream: 0, seqClock: 0, zeekOrder: -1, zeekDone: false, length: 0 };
  for (let i = 0; i < 100; i += 2) store.take(store.find(decode(frame(a, b, 2000 + i, 80, TCP_FLAG.SYN)).p), out, meta);
  assert.equal(store.size, 50);
  for (let i = 1; i < 100; i += 2) assert.ok(store.find(decode(frame(b, a, 80, 2000 + i, TCP_FLAG.RST)).p) >= 0, `port ${2000 + i}`);
  const order: number[] = [];
  for (let s = store.oldest(); s >= 0; s = store.oldest()) {
    store.take(s, out, meta);
    order.push(meta.flowId);
    assert.equal(meta.zeekOrder, 3 * (meta.flowId - 1));
    const back = new DecodedPacket();
    decodeFrame(back, LINKTYPE.RAW, out, 0, meta.length, meta.length);
    assert.equal(back.srcPort, 2000 + meta.flowId - 1);
  }
  assert.deepEqual(order, Array.from({ length: 50 }, (_, k) => 2 * k + 2));
  assert.equal(store.size, 0);
});

test('a flood from more hosts than the summary tracks: the first 10,000 hosts counted one by one, the rest summed', async () => {
  const mac = parseMac('02:00:00:00:00:01');
  const server = parseIPv4('192.0.2.80');
  const frames: Frame[] = [];
  const n = HOSTS_TRACKED + 7;
  for (let i = 0; i < n; i++) {
    const src = parseIPv4(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    frames.push({ tsNs: BigInt(1_700_000_000_000_000 + i * 10) * 1000n, bytes: ethernet(mac, mac, ETHERTYPE.IPV4, ipv4(src, server, IPPROTO_TCP, tcp({ srcPort: 1024, dstPort: 80, seq: i, ack: 0, flags: TCP_FLAG.SYN, window: 1000 }, src, server), { ttl: 64, id: 1, df: true })) });
  }
  const bytes = writePcap({ endian: 'le', precision: 'us', linkType: LINKTYPE.ETHERNET, snaplen: 65535 }, frames);
  const s = await analyzeCapture('hosts.pcap', sourceFromChunks(pieces(bytes, 0)));
  assert.equal(Object.keys(s.hostEndStates).length, HOSTS_TRACKED);
  assert.equal(s.hostEndStatesOmitted, 7);
  assert.equal(s.endStates.SYN_SENT, n);
  assert.match(renderSummary(s, new Chalk({ level: 0 })), /^ {4}\.\.\. and over 9,990 more hosts, and 7 sockets on hosts past the first 10,000 \(tcpstate census lists them all\)$/m);
});

test('the store gives memory back as a flood drains, and keeps what it still holds findable and in order', () => {
  const mac = parseMac('02:00:00:00:00:01');
  const server = parseIPv4('192.0.2.80');
  const syn = (i: number, flags: number = TCP_FLAG.SYN) => {
    const src = parseIPv4(`10.0.${i >> 8}.${i & 255}`);
    const bytes = flags === TCP_FLAG.SYN
      ? ethernet(mac, mac, ETHERTYPE.IPV4, ipv4(src, server, IPPROTO_TCP, tcp({ srcPort: 1024, dstPort: 80, seq: i, ack: 0, flags, window: 100 }, src, server), { ttl: 64, id: 1, df: true }))
      : ethernet(mac, mac, ETHERTYPE.IPV4, ipv4(server, src, IPPROTO_TCP, tcp({ srcPort: 80, dstPort: 1024, seq: 0, ack: i + 1, flags, window: 100 }, server, src), { ttl: 64, id: 1, df: true }));
    const p = new DecodedPacket();
    decodeFrame(p, LINKTYPE.ETHERNET, bytes, 0, bytes.length, bytes.length);
    return p;
  };
  const n = 20_000;
  const store = new HalfOpenStore(1024);
  for (let i = 0; i < n; i++) store.add(syn(i), i + 1, i, i + 1, i, 0, i);
  assert.equal(store.capacity, 20 * 1024, 'grows a page at a time');
  const out = new Uint8Array(80);
  const meta = { frame: 0, ts: 0, flowId: 0, stream: 0, seqClock: 0, zeekOrder: -1, zeekDone: false, length: 0 };
  // Zeek has had the SYNs of every 3rd (their placeholders came due); the lane skips them.
  for (let i = 0; i < n; i += 3) store.setZeekDone(store.find(syn(i)));
  for (const i of [1, 2, 4, 5, 7]) {
    assert.equal(store.nextForZeek(), store.find(syn(i)), `SYN ${i} next for Zeek`);
    store.setZeekDone(store.nextForZeek());
  }
  // Answers come for all but every 97th: the store shrinks on the way (slots move down, top pages go).
  for (let i = 0; i < n; i++) if (i % 97 !== 0) store.take(store.find(syn(i, TCP_FLAG.SYN | TCP_FLAG.ACK)), out, meta);
  const kept = Array.from({ length: n }, (_, i) => i).filter((i) => i % 97 === 0);
  assert.equal(store.size, kept.length);
  assert.equal(store.capacity, 1024, `${kept.length} SYNs left in one page`);
  for (const i of kept) {
    const slot = store.find(syn(i, TCP_FLAG.RST));
    assert.ok(slot >= 0, `SYN ${i} lost`);
    store.read(slot, out, meta);
    assert.equal(meta.flowId, i + 1);
    assert.equal(meta.zeekDone, i % 3 === 0);
  }
  // The lane now starts at the first kept SYN Zeek has not had.
  const first = kept.find((i) => i % 3 !== 0)!;
  store.read(store.nextForZeek(), out, meta);
  assert.equal(meta.flowId, first + 1);
  const order: number[] = [];
  for (let s = store.oldest(); s >= 0; s = store.oldest()) {
    store.take(s, out, meta);
    order.push(meta.flowId - 1);
  }
  assert.deepEqual(order, kept);
  assert.equal(store.pagesKept, 1, 'one page kept for what comes next');

  // The end of a capture: pages go as they empty, oldest first, nothing moves.
  const end = new HalfOpenStore(1024);
  for (let i = 0; i < 10 * 1024; i++) end.add(syn(i), i + 1, i, i + 1, i, 0, i);
  end.drain();
  assert.throws(() => end.add(syn(0), 1, 0, 1, 0, 0, 0), /after drain/);
  for (let i = 0; i < 10 * 1024; i++) {
    const s = end.oldest();
    end.take(s, out, meta);
    assert.equal(meta.flowId, i + 1);
    assert.equal(end.pagesKept, 10 - Math.floor((i + 1) / 1024), `after ${i + 1} taken`);
  }
});

test('a frozen flow comes back with every field of its endpoints, their pending receipts and the figures', () => {
  const endpoint = (side: 'client' | 'server', first: number): Endpoint => {
    const e = new Endpoint(side, side === 'client' ? '192.0.2.1' : '192.0.2.2', side === 'client' ? 40000 : 80);
    const fields = e as unknown as Record<string, unknown>;
    // Every number and flag away from its initial value, so that one not carried over shows.
    let v = first;
    for (const k of Object.keys(e)) {
      if (k === 'port') continue;
      if (typeof fields[k] === 'number') fields[k] = v++ * 1_000_003_579;
      else if (typeof fields[k] === 'boolean') fields[k] = !fields[k];
    }
    e.state = side === 'client' ? TcpState.FIN_WAIT_2 : TcpState.CLOSE_WAIT;
    return e;
  };
  const flow = new Flow(7, 4, endpoint('client', 1), endpoint('server', 100));
  flow.analysis.counts[3] = 5;
  flow.analysis.initialRttUs = 1234;
  flow.analysis.sample('server', 77);
  flow.analysis.sample('server', 78);
  const seen = () => JSON.stringify({ client: flow.client, server: flow.server, analysis: flow.analysis });
  // Rows long enough, and too short (the record gets an array of its own).
  const stores = [new FrozenStore(128), new FrozenStore(8)];
  const check = () => {
    for (const store of stores) {
      const before = seen();
      flow.freeze(store);
      assert.ok(flow.isFrozen);
      assert.equal(seen(), before);
      assert.ok(!flow.isFrozen);
    }
  };
  check();
  flow.server.pending = [
    { kind: 'synack', frame: 9, ts: 10, ackedBy: 4_000_000_011, acksOwnFin: false, behindHole: true },
    { kind: 'fin', frame: 12, ts: 13, ackedBy: 14, acksOwnFin: true, behindHole: false },
  ];
  check();
  assert.equal(flow.server.pending.length, 2);
});
