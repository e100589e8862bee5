/**
 * The analysis links each flow to Zeek's connection holding its first packet (the row knows both),
 * so that the database need not look it up: the link must be the one the lookup would find.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import { openSource } from '../src/reader/index.js';
import { writeMix } from '../scripts/bench-capture.js';
import { repoRoot, scratchDir, sharedDir } from './helpers.js';

interface Linked {
  tuple: string;
  first: number;
  state: string | null;
  history: string | null;
}

test("each flow's Zeek summary is that of Zeek's connection on its tuple holding its first packet", async () => {
  const kernel = join(repoRoot, 'samples', 'kernel');
  const traces = join(sharedDir(), 'oracle', 'zeek', 'traces');
  const mix = join(scratchDir('tcpstate-zeek-link-'), 'mix.pcap');
  writeMix(mix, { scale: 0.01, floodSyns: 1000, seed: 3 });
  const captures = [
    ...readdirSync(kernel).map((d) => join(kernel, d, `${d}.pcap`)),
    ...readdirSync(traces).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(traces, f)),
    mix,
  ];
  let linked = 0;
  let flows = 0;
  let mixLinked = 0;
  let mixFlows = 0;
  for (const file of captures) {
    const ended: Linked[] = [];
    const conns: Array<{ tuple: string; first: number; last: number; state: string; history: string }> = [];
    const key = (a: string, ap: number, b: string, bp: number) => (`${a}:${ap}` < `${b}:${bp}` ? `${a}:${ap} ${b}:${bp}` : `${b}:${bp} ${a}:${ap}`);
    await analyzeCapture(file, openSource(file), {
      onFlowEnd: (f) => ended.push({ tuple: key(f.client.addr, f.client.port, f.server.addr, f.server.port), first: f.firstPacket, state: f.zeekConnState, history: f.zeekHistory }),
      onZeekConn: (z) => conns.push({ tuple: key(z.orig_h, z.orig_p, z.resp_h, z.resp_p), first: z.first_frame, last: z.last_frame, state: z.conn_state, history: z.history }),
    });
    if (file === mix) {
      mixFlows = ended.length;
      mixLinked = ended.filter((f) => f.state !== null).length;
    }
    for (const f of ended) {
      flows++;
      // What the database's lookup finds: the Zeek row on the tuple whose frames hold the flow's first packet.
      const z = conns.find((c) => c.tuple === f.tuple && c.first <= f.first && f.first <= c.last);
      // Left to the lookup: a flow that ended while Zeek's connection went on (a port reuse Zeek does not split).
      if (f.state === null) continue;
      linked++;
      assert.ok(z !== undefined, `${file}: flow at frame ${f.first} linked to no Zeek row the lookup would find`);
      assert.deepEqual([f.state, f.history], [z.state, z.history], `${file}: flow at frame ${f.first}`);
    }
  }
  // In traffic as a server sees it nearly every flow is linked by the analysis (Zeek's rows are logged
  // before the flows at the end of the capture too); the traces' reused ports leave more to the lookup.
  assert.ok(mixLinked > 0.99 * mixFlows, `mix: ${mixLinked} of ${mixFlows} flows linked`);
  assert.ok(linked > 0.6 * flows, `${linked} of ${flows} flows linked`);
});
