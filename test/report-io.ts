/** For the report tests: run the CLI in-process with a fake io, and the kernel samples' manifest. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { run } from '../src/cli/main.js';
import type { Io } from '../src/cli/io.js';
import { repoRoot, scratchDir } from './helpers.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export function tempDir(): string {
  return scratchDir('tcpstate-report-');
}

/** `tcpstate ARGV` in `cwd` (default: the repository, where samples/ is). */
export async function cli(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; tty?: boolean; stdin?: NodeJS.ReadableStream } = {}): Promise<CliResult> {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: { write: (s: string) => (out += s), isTTY: opts.tty ?? false },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    stdin: opts.stdin ?? new PassThrough(),
    env: opts.env ?? {},
    cwd: opts.cwd ?? repoRoot,
    onInterrupt: () => () => undefined,
  };
  const code = await run(argv, io);
  return { code, out, err };
}

export interface KernelSample {
  name: string;
  capture: string;
  client: { addr: string };
  server: { addr: string };
  ss: { client: string; server: string };
}

export const kernelSamples = JSON.parse(readFileSync(join(repoRoot, 'samples', 'kernel', 'manifest.json'), 'utf8')) as KernelSample[];

export const seeds = 'samples/kernel/seeds-server-closes/seeds-server-closes.pcap';
export const bulkLoss = 'samples/kernel/bulk-loss/bulk-loss.pcap';
