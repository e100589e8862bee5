/**
 * A worker of scripts/fuzz.ts: runs the real CLI (`run(argv, io)`, as bin/tcpstate.js does) on
 * each case it is sent and answers with the exit code and what was printed. In a worker so
 * that the fuzzer can stop a hang (terminate() interrupts even a busy loop) and cap the heap.
 */
import { PassThrough } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import type { Io } from '../src/cli/io.js';
import { run } from '../src/cli/main.js';

export interface FuzzJob {
  argv: string[];
}

export interface FuzzAnswer {
  exit: number;
  stdout: string;
  stderr: string;
  /** An exception run() let out (it should never: run() turns everything into an exit code). */
  thrown: string | null;
  ms: number;
}

/** Output kept per stream: a summary is small; a runaway printer is cut here, not in memory. */
const MAX_OUTPUT = 1 << 20;

parentPort?.on('message', async (job: FuzzJob) => {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (s: string) => void (stdout.length < MAX_OUTPUT && (stdout += s)), isTTY: false },
    stderr: { write: (s: string) => void (stderr.length < MAX_OUTPUT && (stderr += s)), isTTY: false },
    stdin: new PassThrough(),
    env: { NO_COLOR: '1' },
    cwd: process.cwd(),
    onInterrupt: () => () => undefined,
  };
  const t0 = performance.now();
  let exit = -1;
  let thrown: string | null = null;
  try {
    exit = await run(job.argv, io);
  } catch (e) {
    thrown = (e as Error).stack ?? String(e);
  }
  const answer: FuzzAnswer = { exit, stdout, stderr, thrown, ms: performance.now() - t0 };
  parentPort!.postMessage(answer);
});
