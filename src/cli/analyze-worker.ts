/**
 * A worker of `tcpstate analyze` on several captures: analyses one capture at a
 * time into a database of its own, which the main thread then imports into the
 * user's database in one transaction (SQLite has one writer at a time).
 */
import { parentPort } from 'node:worker_threads';
import { PassThrough } from 'node:stream';
import type { CaptureSummary } from '../pipeline.js';
import { DbError, type DbProblem } from '../sink/errors.js';
import { SqliteSink } from '../sink/sqlite.js';
import { STOP, analyzeInto, type AnalysisSettings } from './analyze-one.js';
import { snapshotOf, type ProgressSource } from './progress.js';
import type { LiveCounts } from '../pipeline.js';

/** How often a worker tells the main thread where it stands (the terminal line is redrawn every 250 ms). */
const PROGRESS_MS = 200;

export interface WorkerJob {
  path: string;
  name: string;
  db: string;
  settings: AnalysisSettings;
  /** Post `{ progress: Snapshot }` a few times a second while reading. */
  progress?: boolean;
}

/** The summary, or why the capture failed (problem: a DbError's, the worker's database could not be written). */
export type WorkerAnswer = { ok: true; summary: CaptureSummary } | { ok: false; error: string; problem: DbProblem | null };

const stop = new AbortController();

parentPort?.on('message', async (job: WorkerJob | typeof STOP) => {
  if (job === STOP) {
    stop.abort();
    return;
  }
  try {
    // A worker's own database: nobody reads it before the import.
    const sink = new SqliteSink(job.db, {}, { noEarlyReaders: true });
    let summary;
    let source: ProgressSource | null = null;
    let read: (() => LiveCounts) | null = null;
    const snapshot = snapshotOf(() => source, () => read);
    const timer = job.progress ? setInterval(() => parentPort!.postMessage({ progress: snapshot() }), PROGRESS_MS) : null;
    try {
      summary = await analyzeInto(sink, job.path, job.name, job.settings, new PassThrough(), {
        signal: stop.signal,
        onSource: (s) => (source = s),
        probe: (r) => (read = r),
      });
    } finally {
      if (timer !== null) clearInterval(timer);
      // Closed before the main thread is told: it imports the file, and may end this worker, at once.
      sink.close();
    }
    parentPort!.postMessage({ ok: true, summary } satisfies WorkerAnswer);
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).message, problem: e instanceof DbError ? e.problem : null } satisfies WorkerAnswer);
  }
});
