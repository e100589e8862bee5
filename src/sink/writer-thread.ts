/**
 * The writer thread of ThreadedSink: replays the batches of rows into a SqliteSink,
 * in the order they were written, and answers the control calls.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { Op, Signal, Tag, type Batch, type Control, type Reply, type Spare } from './batch.js';
import { DbError } from './errors.js';
import { SqliteSink, type RowValue } from './sqlite.js';

const { signal, replies, spares } = workerData as { signal: SharedArrayBuffer; replies: MessagePort; spares: MessagePort };
const sig = new Int32Array(signal);
let sink: SqliteSink | null = null;
/** The first write of the capture that failed (the sink has rolled the capture back): its commit fails with it. */
let failed: Error | null = null;
/** The flow that TRANSITION rows belong to, and their order within it. */
let flowId = 0;
let seq = 0;

process.on('exit', () => {
  Atomics.store(sig, Signal.DEAD, 1);
  Atomics.notify(sig, Signal.REPLIES);
  Atomics.notify(sig, Signal.INFLIGHT);
});

parentPort!.on('message', (m: Batch | Control) => {
  if ('nums' in m) {
    if (failed === null) {
      try {
        write(m);
      } catch (e) {
        failed = e as Error;
        Atomics.store(sig, Signal.FAILED, 1);
      }
    }
    // Its arrays go back to be filled again.
    const spare: Spare = { nums: m.nums, tags: m.tags };
    spares.postMessage(spare, [m.nums.buffer, m.tags.buffer]);
    Atomics.sub(sig, Signal.INFLIGHT, 1);
    Atomics.notify(sig, Signal.INFLIGHT);
    return;
  }
  let reply: Reply;
  try {
    reply = { ok: true, value: control(m) };
  } catch (e) {
    reply = { ok: false, error: (e as Error).message, problem: e instanceof DbError ? e.problem : null };
  }
  replies.postMessage(reply);
  Atomics.add(sig, Signal.REPLIES, 1);
  Atomics.notify(sig, Signal.REPLIES);
  if (m.op === 'close') {
    parentPort!.close();
    replies.close();
    spares.close();
  }
});

function control(m: Control): unknown {
  if (m.op === 'open') {
    sink = new SqliteSink(m.file, m.meta, m.limits);
    return null;
  }
  const s = sink;
  if (s === null) throw new Error('database not open');
  switch (m.op) {
    case 'begin':
      clearFailure();
      return s.beginCapture(m.path, m.name);
    case 'commit':
      if (failed !== null) throw failed;
      s.commitCaptureRow(m.id, m.row);
      return null;
    case 'checkpoint':
      if (failed !== null) throw failed;
      s.checkpointCapture(m.id, m.packets);
      return null;
    case 'rollback':
      clearFailure();
      s.rollbackCapture();
      return null;
    case 'failure':
      throw failed ?? new Error('no write failed');
    case 'close':
      sink = null;
      return s.close();
  }
}

function clearFailure(): void {
  failed = null;
  Atomics.store(sig, Signal.FAILED, 0);
}

function write(b: Batch): void {
  const s = sink;
  if (s === null) throw new Error('database not open');
  const { nums, tags, n, strings } = b;
  let i = 0;
  while (i < n) {
    const op = nums[i++] as Op;
    const count = nums[i++];
    const values: RowValue[] = new Array(count);
    for (let k = 0; k < count; k++, i++) {
      const t = tags[i];
      values[k] = t === Tag.NUM ? nums[i] : t === Tag.STR ? strings[nums[i]] : null;
    }
    switch (op) {
      case Op.FLOW:
        flowId = s.insertFlowRow(values);
        seq = 0;
        break;
      case Op.TRANSITION:
        s.insertTransitionRow(flowId, ++seq, values);
        break;
      case Op.FINDING:
        s.insertFindingRow(values);
        break;
      case Op.ZEEK:
        s.insertZeekRow(values);
        break;
      default:
        throw new Error(`unknown row kind ${op as number} in a batch`);
    }
  }
}
