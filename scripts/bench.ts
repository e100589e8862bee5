/**
 * npm run bench: throughput and memory of `tcpstate analyze` on synthetic captures
 * of growing size. Each size runs in its own process so its peak resident memory
 * (maxRSS) is its own; flat memory across sizes is the streaming claim.
 *
 *   node dist/scripts/bench.js [--packets 100000,400000,1600000] [--keep]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PAYLOAD = 100;

/** Little-endian microsecond pcap file header, Ethernet. */
function pcapHeader(): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  return header;
}

/**
 * A little-endian µs pcap of `n` Ethernet/IPv4 TCP packets over 1000 long connections:
 * the client sends 100-byte segments and the server acknowledges every second one,
 * as a bulk transfer looks on the wire.
 */
function writeCapture(path: string, n: number): void {
  const fd = openSync(path, 'w');
  writeSync(fd, pcapHeader());
  const recLen = 16 + 14 + 20 + 20 + PAYLOAD;
  const batch = 4096;
  const buf = Buffer.alloc(recLen * batch);
  const t0 = 1_700_000_000;
  // Per connection: packets sent so far (data and ACKs alternate: D D A D D A...).
  const sent = new Uint32Array(1000);
  for (let done = 0; done < n; ) {
    const k = Math.min(batch, n - done);
    let o = 0;
    for (let i = 0; i < k; i++) {
      const pkt = done + i;
      const conn = pkt % 1000;
      const step = sent[conn]++;
      const isAck = step % 3 === 2;
      const dataBefore = step - Math.floor(step / 3); // data segments sent before this step
      const len = isAck ? 0 : PAYLOAD;
      const frameLen = 14 + 20 + 20 + len;
      buf.fill(0, o, o + 16 + frameLen);
      buf.writeUInt32LE(t0 + Math.floor(pkt / 100_000), o);
      buf.writeUInt32LE((pkt % 100_000) * 10, o + 4);
      buf.writeUInt32LE(frameLen, o + 8);
      buf.writeUInt32LE(frameLen, o + 12);
      const f = o + 16;
      buf.writeUInt16BE(0x0800, f + 12);
      buf[f + 14] = 0x45;
      buf.writeUInt16BE(20 + 20 + len, f + 16);
      buf[f + 22] = 64;
      buf[f + 23] = 6;
      const client = 0xc0000201;
      const server = 0xc0000202;
      buf.writeUInt32BE(isAck ? server : client, f + 26);
      buf.writeUInt32BE(isAck ? client : server, f + 30);
      buf.writeUInt16BE(isAck ? 443 : 40000 + conn, f + 34);
      buf.writeUInt16BE(isAck ? 40000 + conn : 443, f + 36);
      const clientSeq = (1000 + dataBefore * PAYLOAD) >>> 0;
      buf.writeUInt32BE(isAck ? 5000 : clientSeq, f + 38);
      buf.writeUInt32BE(isAck ? clientSeq : 5000, f + 42);
      buf[f + 46] = 0x50;
      buf[f + 47] = isAck ? 0x10 : 0x18;
      buf.writeUInt16BE(65535, f + 48);
      o += 16 + frameLen;
    }
    writeSync(fd, buf, 0, o);
    done += k;
  }
  closeSync(fd);
}

/** A SYN flood: `n` SYNs from spoofed sources (10.x.y.z style spread over 192.0.2.0/24 and ports) to one listener, 100k/s. */
function writeFlood(path: string, n: number): void {
  const fd = openSync(path, 'w');
  writeSync(fd, pcapHeader());
  const frameLen = 14 + 20 + 20;
  const recLen = 16 + frameLen;
  const batch = 4096;
  const buf = Buffer.alloc(recLen * batch);
  for (let i = 0; i < batch; i++) {
    const o = i * recLen;
    buf.writeUInt32LE(frameLen, o + 8);
    buf.writeUInt32LE(frameLen, o + 12);
    const f = o + 16;
    buf.writeUInt16BE(0x0800, f + 12);
    buf[f + 14] = 0x45;
    buf.writeUInt16BE(40, f + 16);
    buf[f + 22] = 64;
    buf[f + 23] = 6;
    buf.writeUInt32BE(0xc0000202, f + 30);
    buf.writeUInt16BE(80, f + 36);
    buf[f + 46] = 0x50;
    buf[f + 47] = 0x02;
    buf.writeUInt16BE(64240, f + 48);
  }
  const t0 = 1_700_000_000;
  for (let done = 0; done < n; ) {
    const k = Math.min(batch, n - done);
    for (let i = 0; i < k; i++) {
      const pkt = done + i;
      const o = i * recLen;
      buf.writeUInt32LE(t0 + Math.floor(pkt / 100_000), o);
      buf.writeUInt32LE((pkt % 100_000) * 10, o + 4);
      const f = o + 16;
      // Spoofed sources: a different (address, port) for every SYN.
      buf.writeUInt32BE((0x0a000000 + pkt) >>> 0, f + 26);
      buf.writeUInt16BE(1024 + (pkt % 60000), f + 34);
      buf.writeUInt32BE((pkt * 2654435761) >>> 0, f + 38);
    }
    writeSync(fd, buf, 0, k * recLen);
    done += k;
  }
  closeSync(fd);
}

function measure(capture: string, db: string): { ms: number; maxRssMb: number; packets: number } {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, [self, '--run', capture, db], { encoding: 'utf8' });
  return JSON.parse(out) as { ms: number; maxRssMb: number; packets: number };
}

async function runOne(capture: string, db: string): Promise<void> {
  const { run } = await import('../src/cli/main.js');
  let out = '';
  const io = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => process.stderr.write(s) },
    stdin: process.stdin,
    env: {},
    cwd: process.cwd(),
    onInterrupt: () => () => undefined,
  };
  const t0 = performance.now();
  const code = await run(['analyze', '--json', '--db', db, capture], io);
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`analyze exited ${code}`);
  const [summary] = JSON.parse(out) as Array<{ packets: number }>;
  process.stdout.write(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, packets: summary.packets }));
}

/** Several captures in one run: one worker versus one per core. */
function batch(n: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'tcpstate-bench-'));
  try {
    const files: string[] = [];
    for (let i = 0; i < n; i++) {
      files.push(join(dir, `batch-${i}.pcap`));
      writeCapture(files[i], 300_000);
    }
    const self = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
    const bin = join(self, '..', '..', '..', '..', 'bin', 'tcpstate.js');
    const time = (jobs: number) => {
      const t0 = performance.now();
      execFileSync(process.execPath, [bin, 'analyze', '-q', '-j', String(jobs), '--db', join(dir, `j${jobs}.db`), ...files]);
      return (performance.now() - t0) / 1000;
    };
    const one = time(1);
    const all = time(2);
    console.log(`batch of ${n} captures of 300,000 packets: ${one.toFixed(2)} s with -j 1, ${all.toFixed(2)} s with -j 2 (${(one / all).toFixed(2)}x)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--run') return runOne(args[1], args[2]);
  const floodArg = args.indexOf('--syn-flood');
  if (floodArg >= 0) {
    const n = Number(args[floodArg + 1] ?? 1_000_000);
    const dir = mkdtempSync(join(tmpdir(), 'tcpstate-bench-'));
    const capture = join(dir, 'flood.pcap');
    writeFlood(capture, n);
    const r = measure(capture, join(dir, 'flood.db'));
    console.log(`SYN flood: ${n} SYNs from ${n} spoofed sources to one listener at 100k/s: ${(r.ms / 1000).toFixed(2)} s, peak RSS ${r.maxRssMb.toFixed(0)} MB`);
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const batchArg = args.indexOf('--batch');
  if (batchArg >= 0) return batch(Number(args[batchArg + 1] ?? 4));
  const sizesArg = args.indexOf('--packets');
  const sizes = sizesArg >= 0 ? args[sizesArg + 1].split(',').map(Number) : [100_000, 400_000, 1_600_000];
  const dir = mkdtempSync(join(tmpdir(), 'tcpstate-bench-'));
  console.log(`tcpstate analyze on synthetic Ethernet/IPv4/TCP pcaps (1000 connections, ${PAYLOAD}-byte segments, an ACK for every two), Node ${process.version}`);
  console.log('packets      MB   seconds   packets/s     MB/s   peak RSS MB');
  try {
    for (const n of sizes) {
      const capture = join(dir, `bench-${n}.pcap`);
      writeCapture(capture, n);
      const mb = statSync(capture).size / 2 ** 20;
      const r = measure(capture, join(dir, `bench-${n}.db`));
      if (r.packets !== n) throw new Error(`read ${r.packets} packets of ${n}`);
      const s = r.ms / 1000;
      console.log(
        `${String(n).padStart(9)} ${mb.toFixed(0).padStart(7)} ${s.toFixed(2).padStart(9)} ${Math.round(n / s).toLocaleString('en-US').padStart(11)} ${(mb / s).toFixed(0).padStart(8)} ${r.maxRssMb.toFixed(0).padStart(13)}`,
      );
      if (!args.includes('--keep')) rmSync(capture);
    }
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
  if (sizesArg < 0) batch(4);
}

await main();
