/**
 * A connection costs one row of the connection table and a few pooled records, nothing else:
 * a lone SYN one row, a record of its one transition and one of the SYN awaiting an answer;
 * rows and records go back when the flow ends, so memory follows the live connections (this
 * replaces the lone-SYN store and the freezing of idle flows, which existed only for memory).
 * That the results are the same as with those is the digests' work (test/digest.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Chalk } from 'chalk';
import { HOSTS_TRACKED, analyzeCapture } from '../src/pipeline.js';
import { ConnTable } from '../src/conn/table.js';
import { DecodedPacket, TcpFlag } from '../src/decode/packet.js';
import { DEFAULT_FLOW_OPTIONS, FLOW_HOLDER, FlowTable } from '../src/tcp/rfc793/table.js';
import { renderSummary } from '../src/report/summary.js';
import { sourceFromChunks } from '../src/reader/index.js';
import { pieces } from './helpers.js';
import { ETHERTYPE, IPPROTO_TCP, LINKTYPE, TCP_FLAG, ethernet, ipv4, ipv6, parseIPv4, parseIPv6, parseMac, tcp, tcpOptions, writePcap, type Frame } from './scenario/writer.js';

/** A TCP packet with what the flow table reads: 10.x.y.z:port -> 192.0.2.80:80 (or back). */
function packet(p: DecodedPacket, client: number, port: number, flags: number, seq: number, ack: number, fromClient = true): DecodedPacket {
  const c = [10, (client >> 16) & 255, (client >> 8) & 255, client & 255];
  const s = [192, 0, 2, 80];
  p.buf = Uint8Array.from(fromClient ? [...c, ...s] : [...s, ...c]);
  p.ipVersion = 4;
  p.ipOff = 0;
  p.ipEnd = 40;
  p.srcOff = 0;
  p.dstOff = 4;
  p.srcPort = fromClient ? port : 80;
  p.dstPort = fromClient ? 80 : port;
  p.flags = flags;
  p.seq = seq;
  p.ack = ack;
  p.window = 1000;
  p.payloadLen = 0;
  return p;
}

test('a SYN flood: one row per lone SYN, given back at the handshake timeout; the rows stay near the live peak', () => {
  const conn = new ConnTable();
  let ended = 0;
  const flows = new FlowTable(conn, () => ended++, { ...DEFAULT_FLOW_OPTIONS, handshakeTimeoutUs: 5_000_000 });
  const p = new DecodedPacket();
  const n = 20_000;
  // 1,000 spoofed SYNs a second for 20 s, every 100th answered and closed.
  for (let i = 0; i < n; i++) {
    const ts = 1_000_000 + i * 1000;
    flows.tick(ts);
    const row = conn.lookup(packet(p, i, 1024 + (i % 50_000), TcpFlag.SYN, i, 0));
    flows.packet(row, conn.dir, i + 1, ts, p);
    if (i === 0) {
      // A lone SYN: one row and its SYN's numbers; no flow slot, nothing in the pools yet.
      assert.equal(conn.live, 1);
      assert.equal(flows.live, 1);
      assert.equal(flows.store.log.size, 0);
      assert.equal(flows.store.receipts.size, 0);
      assert.ok(conn.isHeld(row, FLOW_HOLDER));
      // The census of live sockets (--follow) counts it as its flow will be.
      const before = new Int32Array(16);
      flows.census(before);
      // Its flow, made when asked for, is what the SYN would have made: one transition, one SYN awaiting an answer.
      const slot = flows.slotFor(row);
      const after = new Int32Array(16);
      flows.census(after);
      assert.deepEqual([...before], [...after]);
      assert.equal(after[2], 1, 'one SYN_SENT');
      assert.ok(slot >= 0);
      assert.equal(flows.store.log.size, 1);
      assert.equal(flows.store.receipts.size, 1);
      assert.equal(flows.store.e.c.synFrame[2 * slot], 1);
    }
    if (i % 100 === 0) {
      const r2 = conn.lookup(packet(p, i, 1024 + (i % 50_000), TcpFlag.RST | TcpFlag.ACK, 0, i + 1, false));
      assert.equal(r2, row, 'both directions find the row');
      flows.packet(r2, conn.dir, i + 1, ts, p);
    }
  }
  // At most ~5 s of SYNs (the handshake timeout, plus a sweep) were ever live at once.
  assert.ok(flows.peakLive <= 6_100, String(flows.peakLive));
  assert.ok(conn.capacity <= 8_192, `${conn.capacity} rows for a peak of ${flows.peakLive}`);
  // A lone SYN takes a flow slot only when a sweep times it out, and gives it back at once: the
  // SYNs a sweep times out together take one slot after another, not a slot each (about 1,000).
  assert.ok(flows.store.f.capacity <= 64, `${flows.store.f.capacity} flow slots`);
  assert.ok(ended > 13_000, `${ended} ended before the end`);
  flows.finish(1_000_000 + n * 1000);
  assert.equal(ended, n);
  assert.equal(flows.live, 0);
  assert.equal(conn.live, 0, 'every row given back');
  assert.equal(flows.store.log.size, 0);
  assert.equal(flows.store.receipts.size, 0);
  assert.equal(flows.store.rtt.size, 0);
});

test('a connection is a row of columns: a few hundred bytes for both endpoints and the flow', () => {
  const flows = new FlowTable(new ConnTable(), () => {});
  const bytes = flows.store.f.rowBytes + 2 * flows.store.e.rowBytes;
  assert.ok(bytes < 700, `${bytes} bytes a row`);
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

test('a synthetic flood: the flood detected, every flow ended', async () => {
  const bytes = floodCapture();
  const ends: Record<string, number> = {};
  const summary = await analyzeCapture('flood.pcap', sourceFromChunks(pieces(bytes, 0)), { onFlowEnd: (f) => (ends[f.endReason ?? '-'] = (ends[f.endReason ?? '-'] ?? 0) + 1) });
  assert.ok(summary.flows > 2000, String(summary.flows));
  assert.equal(summary.findings.syn_flood, 1);
  assert.ok(ends.timeout > 2000, JSON.stringify(ends));
  assert.equal(Object.values(ends).reduce((a, b) => a + b, 0), summary.flows);
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


test('lone SYNs stamped earlier than the one before still time out on time', () => {
  const conn = new ConnTable();
  const ended: Array<{ port: number; reason: string; endTs: number }> = [];
  const flows = new FlowTable(conn, (f) => ended.push({ port: f.client.port, reason: f.endReason ?? '', endTs: f.endTs }), { ...DEFAULT_FLOW_OPTIONS, handshakeTimeoutUs: 5_000_000 });
  const p = new DecodedPacket();
  // SYNs at 10 s, 5 s, 12 s and 3 s (the capture's clock going back and forth), one from each port.
  const syns = [10, 5, 12, 3];
  syns.forEach((s, i) => {
    const ts = s * 1_000_000;
    flows.tick(ts);
    const row = conn.lookup(packet(p, i, 2000 + i, TcpFlag.SYN, i, 0));
    flows.packet(row, conn.dir, i + 1, ts, p);
  });
  for (let ts = 12_500_000; ts <= 30_000_000; ts += 500_000) flows.tick(ts);
  assert.equal(ended.length, 4);
  for (const e of ended) {
    const syn = syns[e.port - 2000] * 1_000_000;
    assert.equal(e.reason, 'timeout');
    // Ended by the first sweep past its 5 s (the sweeps here run every 1 to 1.5 s of packet time).
    assert.ok(e.endTs > syn + 5_000_000 && e.endTs <= Math.max(syn + 5_000_000, 12_500_000) + 1_500_000, `port ${e.port}: SYN at ${syn / 1e6} s, ended at ${e.endTs / 1e6} s`);
  }
});
