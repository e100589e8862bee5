/**
 * A worker of `tcpstate analyze` on several captures: analyses one capture at a
 * time into a database of its own, which the main thread then imports into the
 * user's database in one transaction (SQLite has one writer at a time).
 */
import { parentPort } from 'node:worker_threads';
import { PassThrough } from 'node:stream';
import { SqliteSink } from '../sink/sqlite.js';
import { STOP, analyzeInto, type AnalysisSettings } from './analyze-one.js';

export interface WorkerJob {
  path: string;
  name: string;
  db: string;
  settings: AnalysisSettings;
}

const stop = new AbortController();

parentPort?.on('message', async (job: WorkerJob | typeof STOP) => {
  if (job === STOP) {
    stop.abort();
    return;
  }
  try {
    const sink = new SqliteSink(job.db);
    let summary;
    try {
      summary = await analyzeInto(sink, job.path, job.name, job.settings, new PassThrough(), () => false, stop.signal);
    } finally {
      // Closed before the main thread is told: it imports the file, and may end this worker, at once.
      sink.close();
    }
    parentPort!.postMessage({ ok: true, summary });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).message });
  }
});
