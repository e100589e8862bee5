/**
 * Worker for corpus-malformed.test: runs the real CLI on each file it is sent and
 * reports exit code, stderr, the JSON summary, time and heap growth. Run in a worker
 * so the parent can stop a hang (worker.terminate interrupts even a busy loop).
 */
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { run } from '../src/cli/main.js';
import { scratchDir } from './helpers.js';

export interface WorkerReport {
  file: string;
  exit: number;
  stderr: string;
  summary: Record<string, unknown> | null;
  ms: number;
  heapGrowthMb: number;
}

const db = join(scratchDir('tcpstate-malformed-'), 'm.db');

parentPort?.on('message', async (file: string) => {
  let out = '';
  let err = '';
  const io = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    stdin: new PassThrough(),
    env: { NO_COLOR: '1' },
    cwd: process.cwd(),
    onInterrupt: () => () => undefined,
  };
  const before = process.memoryUsage();
  const t0 = performance.now();
  const exit = await run(['analyze', '--json', '--db', db, file], io);
  const ms = performance.now() - t0;
  const after = process.memoryUsage();
  let summary: Record<string, unknown> | null = null;
  try {
    summary = (JSON.parse(out) as Array<Record<string, unknown>>)[0] ?? null;
  } catch {
    summary = null;
  }
  const growth = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / 2 ** 20;
  const report: WorkerReport = { file, exit, stderr: err, summary, ms, heapGrowthMb: growth };
  parentPort!.postMessage(report);
});
