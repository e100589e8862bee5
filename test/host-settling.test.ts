/**
 * The host-level detectors settle floods, held findings, TIME_WAIT pile-ups and port exhaustion
 * as packet time passes (issue #19): a capture analysed with the detectors' progress called
 * after nearly every ended connection gives exactly the findings, in the same order, of one
 * where it is never called (everything judged at the end). The captures are the cases an early
 * decision could get wrong: floods whose episodes span many progress calls and merge or not,
 * half-open SYNs a later part of a flood covers, a long-lived connection begun before a flood
 * and completed long after, timestamps that go backwards, TIME_WAIT pile-ups and port
 * exhaustion over many windows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import type { Finding } from '../src/detect/finding.js';
import type { ConnectionThresholds } from '../src/detect/connection.js';
import type { HostThresholds } from '../src/detect/hosts.js';
import { sourceFromChunks } from '../src/reader/index.js';
import type { FlowTableOptions } from '../src/tcp/rfc793/table.js';
import { Capture, shortConnection, type Addr, type Side } from './scenario/conns.js';

const T0 = Date.UTC(2025, 0, 6, 12) * 1000;

/** A short connection that `closer` closes first (its TIME_WAIT from t + 1200 µs). */
const short = (cap: Capture, client: Addr, server: Addr, t: number, closer: Side = 'server') => shortConnection(cap, client, server, t, closer);

/** `n` half-open SYNs at `listener` from `sources` spoofed hosts, `gapUs` apart from `t`; one in three answered by a SYN-ACK. */
function flood(cap: Capture, listener: Addr, t: number, n: number, gapUs: number, firstPort: number, sources = 500): void {
  for (let i = 0; i < n; i++) {
    const ts = t + i * gapUs;
    const c = cap.conn([`10.${(i % sources) >> 8}.${i % sources & 255}.9`, firstPort + (i % 40000)], listener).send('client', 'S', ts);
    if (i % 3 === 0) c.send('server', 'SA', ts + 100);
  }
}

/** The connection and host findings of an analysis, worded, in order; and how many progress calls it would make. */
type Options = { thresholds?: Partial<ConnectionThresholds & HostThresholds>; flowOptions?: Partial<FlowTableOptions> };

async function findings(bytes: Uint8Array, progressEvery: number, o: Options = {}): Promise<string[]> {
  const out: string[] = [];
  async function* whole(): AsyncGenerator<Uint8Array> {
    yield bytes;
  }
  await analyzeCapture('settling.pcap', sourceFromChunks(whole()), {
    progressEvery,
    ...o,
    onFinding: (f: Finding) => {
      if (f.flow === null || ['syn_unanswered', 'synack_unanswered', 'connection_refused'].includes(f.kind)) out.push(`${f.kind} ${f.ts} ${f.message} ${JSON.stringify(f.details)}`);
    },
  });
  return out;
}

async function sameEitherWay(bytes: Uint8Array, kinds: Record<string, number>, o: Options = {}): Promise<void> {
  const atEnd = await findings(bytes, Infinity, o);
  const counts: Record<string, number> = {};
  for (const f of atEnd) counts[f.split(' ')[0]] = (counts[f.split(' ')[0]] ?? 0) + 1;
  for (const [k, n] of Object.entries(kinds)) assert.equal(counts[k] ?? 0, n, `${k}: ${JSON.stringify(counts)}`);
  for (const every of [1, 7, 300]) assert.deepEqual(await findings(bytes, every, o), atEnd, `progress every ${every} ended connections`);
}

const WEB: Addr = ['192.0.2.20', 80];
const API: Addr = ['192.0.2.21', 443];

test('settling: floods spanning many progress calls, close episodes, half-open SYNs covered by a later part, a long-lived connection from before, and background traffic', async () => {
  const cap = new Capture();
  // A long-lived connection opened before everything and closed at the very end.
  cap.conn(['192.0.2.99', 50000], WEB).send('client', 'S', T0).send('server', 'SA', T0 + 100).send('client', 'A', T0 + 200).send('client', 'PA', T0 + 900e6, { len: 10 }).send('server', 'A', T0 + 900e6 + 100);
  // Background: connections to both listeners every 50 ms for 15 minutes, some refused, some unanswered.
  for (let i = 0; i < 18_000; i++) {
    const t = T0 + 1e6 + i * 50_000;
    const client: Addr = [`198.51.100.${1 + (i % 200)}`, 1024 + (i % 60000)];
    if (i % 97 === 0) cap.conn(client, WEB).send('client', 'S', t);
    else if (i % 89 === 0) cap.conn(client, API).send('client', 'S', t).send('server', 'RA', t + 100);
    else short(cap, client, i % 2 ? WEB : API, t, i % 5 ? 'server' : 'client');
  }
  // Floods at WEB: a long one (20 s at 300/s), two 1.1 s apart (one episode), one 1.2 s apart (two), one just under the rate.
  flood(cap, WEB, T0 + 60e6, 6000, 3333, 2000);
  flood(cap, WEB, T0 + 300e6, 150, 5000, 10000);
  flood(cap, WEB, T0 + 300e6 + 1_000_000, 150, 5000, 11000);
  flood(cap, WEB, T0 + 500e6, 150, 5000, 12000);
  flood(cap, WEB, T0 + 500e6 + 1_950_000, 150, 5000, 13000);
  flood(cap, WEB, T0 + 700e6, 99, 10_000, 14000);
  // A flood at API whose first half-open SYNs come before a quiet second: covered only once the rest is known.
  flood(cap, API, T0 + 400e6, 60, 20_000, 20000);
  flood(cap, API, T0 + 400e6 + 1_200_000, 400, 2500, 21000);
  await sameEitherWay(cap.bytes(), { syn_flood: 5, time_wait_pileup: 2, connection_refused: 200, syn_unanswered: 259, synack_unanswered: 40 });
});

test('settling: timestamps that go backwards (by 5 s here and there, and by 50 s for a capture appended) give the same findings settled early or at the end', async () => {
  const cap = new Capture();
  for (let i = 0; i < 8000; i++) {
    // Every 100th connection is written 5 s after its own times (a second interface's clock).
    cap.writeLate = i % 100 === 0 ? 5e6 : 0;
    short(cap, [`198.51.100.${1 + (i % 50)}`, 2000 + (i % 30000)], WEB, T0 + i * 40_000);
  }
  cap.writeLate = 0;
  flood(cap, WEB, T0 + 100e6, 1500, 2000, 40000);
  flood(cap, WEB, T0 + 300e6, 1500, 2000, 44000);
  // Then a second capture's worth appended, its clock 50 s behind the end of the first (within the
  // minute the detectors wait for clocks that go back: a jump further back is counted as late).
  cap.writeLate = 1e12;
  for (let i = 0; i < 2000; i++) short(cap, [`203.0.113.${1 + (i % 50)}`, 2000 + i], API, T0 + 270e6 + i * 40_000);
  flood(cap, API, T0 + 280e6, 400, 2000, 50000);
  flood(cap, WEB, T0 + 290e6, 400, 2000, 52000);
  await sameEitherWay(cap.bytes(), { syn_flood: 4, time_wait_pileup: 2 });
});

test('settling: port exhaustion and TIME_WAIT pile-ups over many windows', async () => {
  const cap = new Capture();
  // One client opening to one destination in bursts (10 ports of 20 "ephemeral" ones make a risk), across 40 windows of 60 s.
  for (let w = 0; w < 40; w++) {
    const ports = w % 3 === 0 ? 12 : w % 3 === 1 ? 9 : 10;
    for (let i = 0; i < ports; i++) short(cap, ['198.51.100.7', 30000 + ((w * 7 + i) % 25)], API, T0 + w * 61e6 + i * 1000, 'client');
    // Other clients all along, so that progress is called between the windows.
    for (let i = 0; i < 150; i++) short(cap, [`203.0.113.${1 + (i % 100)}`, 40000 + w * 150 + i], WEB, T0 + w * 61e6 + 5e6 + i * 300_000);
  }
  const bytes = cap.bytes();
  await sameEitherWay(bytes, { port_exhaustion_risk: 1, time_wait_pileup: 1 }, { thresholds: { ephemeralPorts: 20, timeWaitPileup: 120 } });
  // RFC 793's TIME_WAIT of 240 s: pile-ups of connections still in TIME_WAIT long after they closed.
  await sameEitherWay(bytes, { port_exhaustion_risk: 1, time_wait_pileup: 1 }, { thresholds: { ephemeralPorts: 20, timeWaitPileup: 400 }, flowOptions: { timeWaitUs: 240_000_000 } });
});
