/**
 * IPv6 against IPv4: the benchmark's mix rewritten with IPv6 headers (2001:db8::/96 plus the IPv4
 * address, the same TCP segments) must give the same connections, states, packet counts and
 * findings. The capture is larger than the file reader's two 1 MB buffers, so anything that keeps
 * a view into a packet's bytes instead of a copy sees them overwritten.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/analyze/capture.js';
import type { Flow } from '../src/flow/flow.js';
import { openSource } from '../src/reader/index.js';
import { writeMix } from '../scripts/bench-capture.js';

/** Rewrite a little-endian Ethernet/IPv4 pcap's TCP packets as Ethernet/IPv6 (no options, same segment). */
function toIpv6(v4: Buffer): Buffer {
  const out: Buffer[] = [v4.subarray(0, 24)];
  for (let off = 24; off + 16 <= v4.length; ) {
    const incl = v4.readUInt32LE(off + 8);
    const orig = v4.readUInt32LE(off + 12);
    const header = v4.subarray(off, off + 16);
    const rec = v4.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (rec.length < 34 || rec.readUInt16BE(12) !== 0x0800 || rec[23] !== 6) {
      out.push(header, rec);
      continue;
    }
    const ihl = (rec[14] & 15) * 4;
    const segment = rec.subarray(14 + ihl);
    const pkt = Buffer.alloc(54 + segment.length);
    rec.copy(pkt, 0, 0, 12);
    pkt.writeUInt16BE(0x86dd, 12);
    pkt[14] = 0x60;
    pkt.writeUInt16BE(rec.readUInt16BE(16) - ihl, 18); // payload length: the TCP segment as the IPv4 header had it
    pkt[20] = 6;
    pkt[21] = rec[22];
    pkt.writeUInt32BE(0x20010db8, 22);
    rec.copy(pkt, 34, 26, 30);
    pkt.writeUInt32BE(0x20010db8, 38);
    rec.copy(pkt, 50, 30, 34);
    segment.copy(pkt, 54);
    const h = Buffer.from(header);
    h.writeUInt32LE(pkt.length, 8);
    h.writeUInt32LE(orig - ihl + 40, 12);
    out.push(h, pkt);
  }
  return Buffer.concat(out);
}

interface Seen {
  flows: string[];
  findings: string[];
}

async function analyse(file: string): Promise<Seen> {
  const flows: string[] = [];
  const findings: string[] = [];
  const row = (f: Flow) =>
    [f.id, f.client.port, f.server.port, f.client.state, f.server.state, f.endReason, f.client.packets, f.server.packets, f.client.payloadBytes, f.server.payloadBytes, f.transitionCount].join(' ');
  await analyzeCapture(file, openSource(file), { onFlowEnd: (f) => flows.push(row(f)), onFinding: (x) => findings.push(`${x.kind} ${x.flow} ${x.packet} ${x.side}`) });
  return { flows, findings };
}

test('an IPv6 capture gives the same connections, states and findings as the same traffic over IPv4', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpstate-v6-'));
  try {
    const v4 = join(dir, 'mix4.pcap');
    const v6 = join(dir, 'mix6.pcap');
    writeMix(v4, { scale: 0.02, floodSyns: 300, seed: 5 });
    const bytes = toIpv6(readFileSync(v4));
    assert.ok(bytes.length > 3 << 20, `${bytes.length} bytes: more than the reader's two buffers`);
    writeFileSync(v6, bytes);
    const a = await analyse(v4);
    const b = await analyse(v6);
    assert.ok(a.flows.length > 2000, `${a.flows.length} flows`);
    assert.equal(b.flows.length, a.flows.length);
    const differing = a.flows.filter((f, i) => f !== b.flows[i]);
    assert.deepEqual(differing.slice(0, 3), [], `${differing.length} flows differ`);
    assert.deepEqual(b.findings, a.findings);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
