/** What the analysis and the writer thread (threaded.ts, writer-thread.ts) say to each other. */
import type { DbProblem } from './errors.js';
import type { CaptureRow, SinkLimits } from './sqlite.js';

/** Values per batch (8 bytes and a tag each: ~288 KB). */
export const BATCH_VALUES = 32_768;

/** Rows in a batch: [op, count, ...count values]. TRANSITION rows follow their FLOW row. */
export const enum Op {
  FLOW = 1,
  TRANSITION = 2,
  FINDING = 3,
  ZEEK = 4,
}

/** How a value is held in `nums`: the number itself, an index into `strings`, or nothing. */
export const enum Tag {
  NUM = 0,
  STR = 1,
  NULL = 2,
}

/** Slots of the shared Int32Array. */
export const enum Signal {
  /** Batches posted and not yet written. */
  INFLIGHT = 0,
  /** Control answers posted so far. */
  REPLIES = 1,
  /** A batch failed: the capture cannot commit (the message comes with the next answer). */
  FAILED = 2,
  /** The writer thread has exited. */
  DEAD = 3,
  SIZE = 4,
}

export interface Batch {
  nums: Float64Array<ArrayBuffer>;
  tags: Uint8Array<ArrayBuffer>;
  n: number;
  strings: string[];
}

/** A batch's arrays, back from the writer to be filled again. */
export interface Spare {
  nums: Float64Array<ArrayBuffer>;
  tags: Uint8Array<ArrayBuffer>;
}

export type Control =
  | { op: 'open'; file: string; meta: Record<string, string>; limits: SinkLimits }
  | { op: 'begin'; path: string; name: string }
  | { op: 'commit'; id: number; row: CaptureRow }
  | { op: 'checkpoint'; id: number; packets: number }
  | { op: 'rollback' }
  | { op: 'failure' }
  | { op: 'close' };

/** A failure's message, and its DbError problem when the environment caused it (a full disk...). */
export type Reply = { ok: true; value: unknown } | { ok: false; error: string; problem: DbProblem | null };
