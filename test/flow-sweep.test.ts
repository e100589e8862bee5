/**
 * The flow table's sweep, on busy traffic: connections end when their time is up, mid-capture,
 * not at the end of it. With short timers (TIME_WAIT 2 s, linger 0.5 s, handshake 3 s, idle 4 s)
 * on 10 s of the benchmark's mix, TIME_WAIT ends at its time, connections end only once their
 * linger or timeout has passed, idle ones within a sweep (1 s of packet time, plus the gap to the
 * next packet) of their timeout, and none is still live at the end that was due long before.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import type { FlowRecord as Flow } from '../src/tcp/rfc793/flow.js';
import { openSource } from '../src/reader/index.js';
import { TcpState } from '../src/tcp/rfc793/tcp-state.js';
import { writeMix } from '../scripts/bench-capture.js';
import { scratchDir } from './helpers.js';

const TIME_WAIT = 2_000_000;
const LINGER = 500_000;
const HANDSHAKE = 3_000_000;
const IDLE = 4_000_000;
/** A sweep runs at the first packet at least 1 s after the last one; traffic here leaves no gap near that long. */
const SWEEP_SLACK = 1_100_000;

test('the sweep ends connections mid-capture: TIME_WAIT runs out, closed ones linger, idle ones time out', async () => {
  const dir = scratchDir('tcpstate-sweep-');
  try {
    const file = join(dir, 'mix.pcap');
    writeMix(file, { scale: 0.1, floodSyns: 3000, seed: 5 });
    const ended: Flow[] = [];
    let lastTs = 0;
    const summary = await analyzeCapture(file, openSource(file), {
      flowOptions: { timeWaitUs: TIME_WAIT, lingerUs: LINGER, handshakeTimeoutUs: HANDSHAKE, idleTimeoutUs: IDLE },
      onPacket: (rec) => (lastTs = rec.tsUs),
      onFlowEnd: (f) => ended.push(f.snapshot()),
    });
    assert.equal(summary.status, 'complete');
    const end = summary.lastTs!;
    let expired = 0;
    let lingered = 0;
    let timedOut = 0;
    for (const f of ended) {
      // Every TIME_WAIT that had run out by the end was left: at its expiry time, by a timer.
      for (const side of ['client', 'server'] as const) {
        const into = f.transitions.find((t) => t.side === side && t.to === TcpState.TIME_WAIT);
        if (into === undefined || into.ts + TIME_WAIT > end) continue;
        const out = f.transitions.find((t) => t.side === side && t.from === TcpState.TIME_WAIT);
        assert.ok(out !== undefined, `flow ${f.id}: ${side} still in TIME_WAIT at the end, entered ${(end - into.ts) / 1e6} s before it`);
        if (out.cause.startsWith('TIME_WAIT expired')) {
          assert.equal(out.ts, into.ts + TIME_WAIT);
          expired++;
        }
      }
      if (f.endTs === end) {
        // Ended with the capture: nothing was due long before (both gone past the linger, or idle past the timeout).
        assert.ok(f.goneAt < 0 || end - f.goneAt <= LINGER + SWEEP_SLACK, `flow ${f.id}: gone ${(end - f.goneAt) / 1e6} s before the end, still live`);
        assert.ok(end - f.lastTs <= IDLE + SWEEP_SLACK, `flow ${f.id}: idle ${(end - f.lastTs) / 1e6} s at the end, still live`);
      } else if (f.endReason === 'closed' || f.endReason === 'reset') {
        // Both sides gone: kept for the linger, then ended by a sweep. (No upper bound here: a side
        // can be found gone late, at an earlier time, when a later ACK proves its FIN had arrived.)
        assert.ok(f.endTs - f.goneAt > LINGER, `flow ${f.id}: ended ${(f.endTs - f.goneAt) / 1e6} s after both sides were gone`);
        lingered++;
      } else if (f.endReason === 'timeout') {
        const limit = f.client.state === TcpState.SYN_SENT || f.server.state === TcpState.SYN_RECEIVED ? HANDSHAKE : IDLE;
        assert.ok(f.endTs - f.lastTs > Math.min(HANDSHAKE, IDLE) && f.endTs - f.lastTs <= limit + SWEEP_SLACK, `flow ${f.id}: timed out ${(f.endTs - f.lastTs) / 1e6} s after its last packet`);
        timedOut++;
      }
    }
    assert.equal(lastTs, end);
    assert.ok(expired > 100 && lingered > 100 && timedOut > 100, `expired ${expired}, lingered ${lingered}, timed out ${timedOut}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
