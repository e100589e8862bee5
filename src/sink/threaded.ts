/**
 * The SQLite sink in a thread of its own. The analysis hands its rows over in
 * batches (numbers in a transferred Float64Array, each distinct string once) and
 * goes on while the writer thread binds and inserts them: on two cores the two
 * halves of the work overlap. The interface is SqliteSink's and is synchronous:
 * control calls (begin, commit, rollback, close) wait for the writer's
 * answer, and a write error surfaces at the next batch or at the commit.
 *
 * Batches in flight are bounded (MAX_INFLIGHT): when the writer falls behind, the
 * analysis waits for it instead of queueing rows in memory.
 */
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { CaptureSummary } from '../pipeline.js';
import type { Finding } from '../detect/finding.js';
import type { FlowView, StepVisitor } from '../tcp/rfc793/flow.js';
import type { ZeekConn } from '../tcp/zeek/conn.js';
import type { ZeekLink } from '../tcp/rfc793/table.js';
import { DbError } from './errors.js';
import {
  FINDING_VALUES,
  FLOW_VALUES,
  ZEEK_VALUES,
  captureRow,
  writeFindingValues,
  writeFlowValues,
  writeZeekValues,
  type RowOut,
  type RowValue,
  type Sink,
  type SinkLimits,
} from './sqlite.js';
import { BATCH_VALUES, Op, Signal, Tag, type Batch, type Control, type Reply, type Spare } from './batch.js';

/**
 * Batches posted and not yet written (~288 KB each). Rows come in bursts (a wave of TIME_WAIT
 * expiries, every flow at the end of the capture): with 2 the analysis waited 3.2-4.1 s of a run
 * of the bench mix for the writer, with 16 (4.6 MB at most) 1.2-2.1 s.
 */
const MAX_INFLIGHT = 16;
/**
 * The writer's young generation (MB): it only makes short-lived row arrays, and V8's default
 * lets them take tens of MB of resident memory (a SYN flood's peak is judged to the MB).
 */
const WRITER_YOUNG_GENERATION_MB = 2;
/** How long one wait lasts before the writer's liveness is checked again (ms). */
const WAIT_SLICE_MS = 1000;

export class ThreadedSink implements Sink, RowOut {
  private readonly worker: Worker;
  private readonly signal: Int32Array;
  private readonly replies: MessagePort;
  /** Batches' arrays the writer is done with, sent back to be filled again (no new 300 KB a batch). */
  private readonly spares: MessagePort;
  private nums = new Float64Array(BATCH_VALUES);
  private tags = new Uint8Array(BATCH_VALUES);
  private n = 0;
  private strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();
  /** Where the row being written has its count (see begin). */
  private countAt = 0;
  private closed = false;

  constructor(file: string, meta: Record<string, string> = {}, limits: SinkLimits = {}) {
    const { port1, port2 } = new MessageChannel();
    const spares = new MessageChannel();
    this.signal = new Int32Array(new SharedArrayBuffer(Signal.SIZE * 4));
    this.replies = port1;
    this.spares = spares.port1;
    this.worker = new Worker(new URL('./writer-thread.js', import.meta.url), {
      workerData: { signal: this.signal.buffer, replies: port2, spares: spares.port2 },
      transferList: [port2, spares.port2],
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
    });
    this.worker.unref();
    try {
      this.call({ op: 'open', file, meta, limits });
    } catch (e) {
      this.closed = true;
      void this.worker.terminate();
      throw e;
    }
  }

  beginCapture(path: string, name: string): number {
    return this.call({ op: 'begin', path, name }) as number;
  }

  // Each row's values go straight into the batch (RowOut): no array, no number boxed.
  writeFlow(captureId: number, f: FlowView): void {
    this.begin(Op.FLOW, FLOW_VALUES);
    writeFlowValues(captureId, f, this);
    this.end();
    // In packet-time order (a change found later may concern an earlier frame), straight into the batch.
    f.forEachStepInTimeOrder(this.transitionRow);
  }

  writeFinding(captureId: number, f: Finding): void {
    this.begin(Op.FINDING, FINDING_VALUES);
    writeFindingValues(captureId, f, this);
    this.end();
  }

  writeZeekConn(captureId: number, z: ZeekConn, link?: ZeekLink): void {
    this.begin(Op.ZEEK, ZEEK_VALUES);
    writeZeekValues(captureId, z, link, this);
    this.end();
  }

  commitCapture(id: number, s: CaptureSummary): void {
    this.call({ op: 'commit', id, row: captureRow(s) });
  }

  checkpointCapture(id: number, packets: number): void {
    this.call({ op: 'checkpoint', id, packets });
  }

  rollbackCapture(): void {
    this.discard();
    this.call({ op: 'rollback' }, false);
  }

  close(): string | null {
    if (this.closed) return null;
    this.discard();
    try {
      return this.call({ op: 'close' }, false) as string | null;
    } finally {
      this.closed = true;
      this.replies.close();
      this.spares.close();
      void this.worker.terminate();
    }
  }

  /** A TRANSITION row (the writer adds its flow's id and its order), as FlowView.forEachStepInTimeOrder hands it over. */
  private readonly transitionRow: StepVisitor = (packet, ts, side, from, to, cause, inferred) => {
    this.begin(Op.TRANSITION, 7);
    if (packet === null) this.none();
    else this.num(packet);
    this.num(ts);
    this.num(side);
    if (from < 0) this.none();
    else this.num(from);
    this.num(to);
    this.text(cause);
    this.num(inferred ? 1 : 0);
    this.end();
  };

  /** A row of at most `most` values starts (the batch handed over first if it could not hold them): its op, and room for its count. */
  private begin(op: Op, most: number): void {
    if (this.n + most + 2 > BATCH_VALUES) this.flush();
    const i = this.n;
    this.nums[i] = op;
    this.tags[i] = Tag.NUM;
    this.tags[i + 1] = Tag.NUM;
    this.countAt = i + 1;
    this.n = i + 2;
  }

  /** The row is complete: its count. */
  private end(): void {
    this.nums[this.countAt] = this.n - this.countAt - 1;
  }

  num(v: number): void {
    this.nums[this.n] = v;
    this.tags[this.n++] = Tag.NUM;
  }

  none(): void {
    this.tags[this.n++] = Tag.NULL;
  }

  /** A string goes as its index in the batch's strings. */
  text(v: string): void {
    let k = this.stringIndex.get(v);
    if (k === undefined) {
      k = this.strings.length;
      this.strings.push(v);
      this.stringIndex.set(v, k);
    }
    this.nums[this.n] = k;
    this.tags[this.n++] = Tag.STR;
  }

  value(v: RowValue): void {
    if (typeof v === 'number') this.num(v);
    else if (v === null) this.none();
    else this.text(v);
  }

  /** Hand the rows so far to the writer (waiting while it is MAX_INFLIGHT batches behind). */
  private flush(): void {
    this.throwIfFailed();
    if (this.n === 0) return;
    const s = this.signal;
    for (let v = Atomics.load(s, Signal.INFLIGHT); v >= MAX_INFLIGHT; v = Atomics.load(s, Signal.INFLIGHT)) {
      Atomics.wait(s, Signal.INFLIGHT, v, WAIT_SLICE_MS);
      this.throwIfDead();
    }
    const batch: Batch = { nums: this.nums, tags: this.tags, n: this.n, strings: this.strings };
    Atomics.add(s, Signal.INFLIGHT, 1);
    this.worker.postMessage(batch, [this.nums.buffer, this.tags.buffer]);
    const spare = receiveMessageOnPort(this.spares)?.message as Spare | undefined;
    this.nums = spare?.nums ?? new Float64Array(BATCH_VALUES);
    this.tags = spare?.tags ?? new Uint8Array(BATCH_VALUES);
    this.n = 0;
    this.strings = [];
    this.stringIndex.clear();
  }

  /** Rows not handed over yet are dropped (the capture is being rolled back). */
  private discard(): void {
    this.n = 0;
    this.strings = [];
    this.stringIndex.clear();
  }

  /** A write the writer could not do fails the capture at the next batch, not only at its commit. */
  private throwIfFailed(): void {
    if (Atomics.load(this.signal, Signal.FAILED) !== 0) this.call({ op: 'failure' }, false);
  }

  private throwIfDead(): void {
    if (Atomics.load(this.signal, Signal.DEAD) !== 0) throw new Error('the database writer thread stopped');
  }

  /** Send a control message after the pending rows, and wait for its answer. */
  private call(msg: Control, flushFirst = true): unknown {
    if (this.closed) throw new Error('database already closed');
    if (flushFirst) this.flush();
    const s = this.signal;
    const before = Atomics.load(s, Signal.REPLIES);
    this.worker.postMessage(msg);
    while (Atomics.load(s, Signal.REPLIES) === before) {
      Atomics.wait(s, Signal.REPLIES, before, WAIT_SLICE_MS);
      if (Atomics.load(s, Signal.REPLIES) === before) this.throwIfDead();
    }
    const reply = receiveMessageOnPort(this.replies)?.message as Reply | undefined;
    if (reply === undefined) throw new Error('the database writer thread did not answer');
    if (!reply.ok) throw reply.problem === null ? new Error(reply.error) : new DbError(reply.error, reply.problem);
    return reply.value;
  }
}
