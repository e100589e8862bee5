/**
 * A worker of `tcpstate analyze` on several captures: analyses one capture at a
 * time into a database of its own, which the main thread then imports into the
 * user's database in one transaction (SQLite has one writer at a time).
 */
import { parentPort } from 'node:worker_threads';
import { PassThrough } from 'node:stream';
import type { CaptureSummary } from '../analyze/capture.js';
import { DbError, type DbProblem } from '../sink/errors.js';
import { SqliteSink } from '../sink/sqlite.js';
import { analyzeInto, type AnalysisSettings } from './analyze-one.js';

export interface WorkerJob {
  path: string;
  name: string;
  db: string;
  settings: AnalysisSettings;
}

/** The summary, or why the capture failed (problem: a DbError's, the worker's database could not be written). */
export type WorkerAnswer = { ok: true; summary: CaptureSummary } | { ok: false; error: string; problem: DbProblem | null };

parentPort?.on('message', async (job: WorkerJob) => {
  try {
    const sink = new SqliteSink(job.db);
    let summary;
    try {
      summary = await analyzeInto(sink, job.path, job.name, job.settings, new PassThrough(), () => false);
    } finally {
      // Closed before the main thread is told: it imports the file, and may end this worker, at once.
      sink.close();
    }
    parentPort!.postMessage({ ok: true, summary } satisfies WorkerAnswer);
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).message, problem: e instanceof DbError ? e.problem : null } satisfies WorkerAnswer);
  }
});
