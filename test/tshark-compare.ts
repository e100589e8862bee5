/**
 * Frame-by-frame comparison of tcpstate's decode with a tshark golden (TSV of
 * scripts/golden/tshark-decode.sh): the frames where tshark finds TCP are exactly ours,
 * with the same innermost addresses, ports, raw sequence and acknowledgement numbers,
 * flags, payload length and window.
 */
import assert from 'node:assert/strict';
import { analyzeCapture } from '../src/pipeline.js';
import type { DecodedPacket } from '../src/decode/index.js';
import { formatAddress } from '../src/util/address.js';
import { openSource } from '../src/reader/index.js';
import { readTsv } from './helpers.js';

function address(p: DecodedPacket, off: number): string {
  return formatAddress(p.buf, off, p.ipVersion as 4 | 6);
}

/** What we decode per TCP frame, in tshark's columns (a fragmented datagram at the frame that completes it, as tshark with reassembly on). */
async function ourFrames(capture: string): Promise<Map<number, string>> {
  const frames = new Map<number, string>();
  await analyzeCapture(capture, openSource(capture), {
    onPacket: (rec, status, p) => {
      if (status !== 0) return;
      frames.set(
        rec.number,
        [address(p, p.srcOff), address(p, p.dstOff), p.srcPort, p.dstPort, p.seq, p.ack, `0x${p.flags.toString(16).padStart(4, '0')}`, p.payloadLen, p.window].join(' '),
      );
    },
  });
  return frames;
}

function goldenFrame(row: Record<string, string>): string {
  const src = row.src || row['ipv6.src'] || row['ip.src'];
  const dst = row.dst || row['ipv6.dst'] || row['ip.dst'];
  return [src, dst, row['tcp.srcport'] ?? row.srcport, row['tcp.dstport'] ?? row.dstport, row['tcp.seq_raw'], row['tcp.ack_raw'], row['tcp.flags'], row['tcp.len'], row['tcp.window_size_value']].join(' ');
}

export async function compare(capture: string, golden: string): Promise<void> {
  const ours = await ourFrames(capture);
  const rows = readTsv(golden);
  const theirs = new Map<number, string>();
  for (const row of rows) {
    // Where both IPv4 and IPv6 headers exist (a tunnel), the innermost is the version we decoded.
    const line = goldenFrame(row);
    const mine = ours.get(Number(row['frame.number']));
    if (mine !== undefined && row['ip.src'] && row['ipv6.src']) {
      const v4 = [row['ip.src'], row['ip.dst']].join(' ');
      const v6 = [row['ipv6.src'], row['ipv6.dst']].join(' ');
      const rest = line.split(' ').slice(2).join(' ');
      theirs.set(Number(row['frame.number']), `${mine.startsWith(row['ip.src'] + ' ') ? v4 : v6} ${rest}`);
    } else theirs.set(Number(row['frame.number']), line);
  }
  assert.deepEqual([...ours.keys()], [...theirs.keys()], 'frames with TCP');
  for (const [n, line] of theirs) {
    const mine = ours.get(n)!.split(' ');
    const golden = line.split(' ');
    // Payload length (column 7): tshark leaves it empty when the TCP header is cut.
    if (golden[7] === '') mine[7] = golden[7] = '?';
    assert.equal(mine.join(' '), golden.join(' '), `frame ${n}`);
  }
}
