/** `tcpstate analyze <capture...>`: read captures and record what they hold in SQLite. */
import { DEFAULT_FLOW_OPTIONS, STACK_PROFILES } from '../flow/table.js';
import { DEFAULT_CONNECTION_THRESHOLDS } from '../detect/connection.js';
import { DEFAULT_HOST_THRESHOLDS } from '../detect/hosts.js';
import { DEFAULT_REASSEMBLY_OPTIONS } from '../decode/index.js';
import { toolVersion } from './version.js';
import { existsSync, fstatSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CaptureStatus, CaptureSummary } from '../analyze/capture.js';
import type { CheckResult } from '../detect/checks.js';
import { ReadInterrupted, analyzeInto, reviveSummary, type AnalysisSettings } from './analyze-one.js';
import type { WorkerAnswer, WorkerJob } from './analyze-worker.js';
import { makeChalk, renderSummary, summaryJson } from '../report/summary.js';
import { SqliteSink, type Sink } from '../sink/sqlite.js';
import { DbError } from '../sink/errors.js';
import { ThreadedSink } from '../sink/threaded.js';
import { writeFileSync } from 'node:fs';
import { evaluate, type Check } from '../detect/checks.js';
import { renderJunit, type CaptureChecks } from '../report/junit.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import type { Io } from './io.js';
import { boundHeapGrowth } from './heap.js';
import { decodeName, fsPath, printable, printableLines } from '../reader/index.js';

export interface AnalyzeCliOptions {
  db: string;
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
  allowTruncated?: boolean;
  verifyChecksums?: boolean;
  failOn?: Check[];
  junit?: string;
  jobs?: number;
  dbThread?: boolean;
  stack?: 'linux' | 'rfc793';
  timeWait?: number;
  finTimeout?: number;
  synRetries?: number;
  retries2?: number;
  idleTimeout?: number;
  closeWait?: number;
  unresponsiveAfter?: number;
  unresponsiveRetransmissions?: number;
  endGrace?: number;
  synFloodRate?: number;
  timeWaitPileup?: number;
  ephemeralPorts?: number;
  portExhaustionShare?: number;
  fragMemory?: number;
  fragDatagrams?: number;
}

/** Only the options given: the analysis keeps its documented defaults for the rest. */
function given<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export class UsageError extends Error {}

/** The summary's last line: where the results are, and what reads them. */
export function written(db: string): string {
  const arg = db === 'tcpstate.db' ? '' : ` ${printable(db)}`;
  return `written to ${printable(db)} (read it again with: tcpstate summary${arg}, or conns, census, anomalies, flow)`;
}

/** Capture files in a directory tree, by name: .pcap, .pcapng, .cap, and those gzipped. */
const CAPTURE_NAME = /\.(pcap|pcapng|cap)(\.gz)?$/i;

/**
 * Directories given on the command line stand for the captures below them, in name order.
 * Entries are listed as bytes, so a name that is not UTF-8 is still opened (see reader/names.ts).
 */
export function expandCaptures(args: string[], cwd: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, shown: string) => {
    const entries = readdirSync(fsPath(dir), { withFileTypes: true, encoding: 'buffer' })
      .map((e) => ({ e, name: decodeName(e.name) }))
      .sort((a, b) => Buffer.compare(a.e.name, b.e.name));
    for (const { e, name } of entries) {
      const p = join(dir, name);
      const label = join(shown, name);
      if (e.isDirectory()) walk(p, label);
      else if (e.isFile() && CAPTURE_NAME.test(name)) out.push(label);
    }
  };
  for (const a of args) {
    let isDir = false;
    try {
      isDir = a !== '-' && statSync(fsPath(resolve(cwd, a))).isDirectory();
    } catch {
      isDir = false; // missing: reported when it is read
    }
    if (isDir) walk(resolve(cwd, a), a);
    else out.push(a);
  }
  return out;
}

/** Standard input is a directory (`< /tmp`): reading it would give nothing, as an empty file does. */
function isDirectory(stdin: NodeJS.ReadableStream): boolean {
  const fd = (stdin as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return false;
  try {
    return fstatSync(fd).isDirectory();
  } catch {
    return false;
  }
}

export async function analyzeCommand(args: string[], opts: AnalyzeCliOptions, io: Io): Promise<number> {
  const captures = expandCaptures(args, io.cwd);
  if (captures.filter((c) => c === '-').length > 1) throw new UsageError('standard input ("-") can be read only once');
  if (captures.includes('-') && isDirectory(io.stdin)) {
    throw new UsageError('standard input is a directory, not a capture (tcpstate analyze - < DIR?): give the directory as an argument, tcpstate analyze DIR');
  }
  if (captures.length === 0) throw new UsageError(`no capture files (.pcap, .pcapng, .cap, or .gz of them) in ${args.map(printable).join(', ')}`);
  // As tshark: a capture named that does not exist is a usage error, before anything is read or written.
  const missing = captures.filter((c) => c !== '-' && !existsSync(fsPath(resolve(io.cwd, c))));
  if (missing.length > 0) throw new UsageError(`${missing.map((c) => `the file "${printable(c)}"`).join(', ')} ${missing.length === 1 ? "doesn't" : "don't"} exist`);
  // The JUnit report's directory must be there before an analysis that may take minutes.
  if (opts.junit !== undefined) {
    const dir = dirname(resolve(io.cwd, opts.junit));
    if (!existsSync(fsPath(dir)) || !statSync(fsPath(dir)).isDirectory()) {
      io.stderr.write(`tcpstate: cannot write ${printable(opts.junit)}: the directory ${printable(dir)} does not exist\n`);
      return ExitCode.DATABASE;
    }
  }
  const chalk = makeChalk(Boolean(io.stdout.isTTY), io.env, opts.color !== false);
  const warn = makeChalk(Boolean(io.stderr.isTTY), io.env, opts.color !== false);
  const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), captures.filter((c) => c !== '-').length));
  // One capture at a time: memory stays near what is live. Several: the workers' collections would
  // compete for the cores they analyse on (4 captures at -j 2 took 44 s bounded, 35 s not).
  if (jobs === 1) boundHeapGrowth();
  const settings: AnalysisSettings = {
    verifyChecksums: opts.verifyChecksums,
    // The profile's defaults, then each option given.
    flowOptions: {
      ...STACK_PROFILES[opts.stack ?? 'linux'],
      ...given({ timeWaitUs: opts.timeWait, finTimeoutUs: opts.finTimeout, synRetries: opts.synRetries, retries2: opts.retries2, idleTimeoutUs: opts.idleTimeout }),
    } as Record<string, number>,
    reassembly: given({ maxBytes: opts.fragMemory === undefined ? undefined : opts.fragMemory * 1024, maxDatagrams: opts.fragDatagrams }) as Record<string, number>,
    thresholds: given({
      closeWaitUs: opts.closeWait,
      unresponsiveUs: opts.unresponsiveAfter,
      unresponsiveRetransmissions: opts.unresponsiveRetransmissions,
      endGraceUs: opts.endGrace,
      synFloodRate: opts.synFloodRate,
      timeWaitPileup: opts.timeWaitPileup,
      ephemeralPorts: opts.ephemeralPorts,
      portExhaustionShare: opts.portExhaustionShare,
    }) as Record<string, number>,
  };
  // What the findings were made with, recorded beside them: the tool, and every setting of the run.
  const meta = {
    tool_version: toolVersion(),
    stack: opts.stack ?? 'linux',
    flow_options: JSON.stringify({ ...DEFAULT_FLOW_OPTIONS, ...settings.flowOptions }),
    thresholds: JSON.stringify({ ...DEFAULT_CONNECTION_THRESHOLDS, ...DEFAULT_HOST_THRESHOLDS, ...settings.thresholds }),
    reassembly: JSON.stringify({ ...DEFAULT_REASSEMBLY_OPTIONS, ...settings.reassembly }),
    verify_checksums: settings.verifyChecksums === true ? '1' : '0',
  };
  let sink: Sink;
  let direct: SqliteSink | null = null;
  try {
    // One capture at a time: the database is written in a thread of its own while the analysis goes
    // on (unless --no-db-thread). Several at once: workers write their own databases and this thread only imports them.
    sink = opts.dbThread !== false && jobs === 1 ? new ThreadedSink(resolve(io.cwd, opts.db), meta) : (direct = new SqliteSink(resolve(io.cwd, opts.db), meta));
  } catch (e) {
    // A refusal, a read-only file, a lock...: the message names the file and the remedy itself.
    if (!(e instanceof DbError)) throw e;
    io.stderr.write(`tcpstate: error: ${printableLines(e.message)}\n`);
    return ExitCode.DATABASE;
  }

  let interrupted = false;
  const unsubscribe = io.onInterrupt(() => {
    if (interrupted) process.exit(ExitCode.INTERRUPTED); // second Ctrl-C: leave now; SQLite rolls back
    interrupted = true;
  });
  // Results in input order, whatever order the captures finish in.
  const results: Array<{ summary: CaptureSummary; checks: CheckResult[] } | undefined> = new Array(captures.length);
  let done = 0;
  const progress = (given: string) => {
    const name = printable(given);
    done++;
    if (opts.quiet || captures.length < 2) return;
    if (io.stderr.isTTY) {
      const width = 20;
      const filled = Math.round((width * done) / captures.length);
      const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
      io.stderr.write(`\r\x1b[K[${bar}] ${done}/${captures.length} ${name}${done === captures.length ? '\n' : ''}`);
    }
    else io.stderr.write(`tcpstate: [${done}/${captures.length}] ${name}\n`);
  };
  const report = (i: number, name: string, summary: CaptureSummary) => {
    const checks = (opts.failOn ?? []).map((c) => evaluate(c, summary));
    results[i] = { summary, checks };
    if (summary.error !== null) {
      const tag = summary.status === 'truncated' ? warn.yellow('warning: ') : warn.red('error: ');
      // Cut short at its end: every whole packet is kept, and the exit code need not fail the job.
      const hint = summary.status === 'truncated' && !opts.allowTruncated ? ' (exit 3; --allow-truncated accepts a capture cut short at its end)' : '';
      io.stderr.write(`tcpstate: ${tag}${summary.error}${hint}\n`);
    }
    for (const r of checks.filter((x) => x.failed)) {
      io.stderr.write(`tcpstate: ${warn.red('check failed:')} ${r.check.text} in ${name === '-' ? '<stdin>' : printable(name)}: ${r.measured}\n`);
    }
    if (!opts.json && !opts.quiet) io.stdout.write(renderSummary(summary, chalk));
    progress(name);
  };
  // A database that cannot be written (disk full, a lock...) ends the run: one line says why and what to do.
  let dbFailed = false;
  const dbFailure = (e: DbError) => {
    dbFailed = true;
    io.stderr.write(`tcpstate: error: ${printableLines(e.message)}\n`);
    return ExitCode.DATABASE;
  };
  try {
    if (direct !== null && jobs > 1) { // jobs > 1: always the direct sink, which the workers' databases are imported into
      let ok: boolean;
      try {
        ok = await inWorkers(captures, jobs, settings, io, direct, report, () => interrupted);
      } catch (e) {
        if (!(e instanceof DbError)) throw e;
        return dbFailure(e);
      }
      if (!ok) {
        io.stderr.write(`tcpstate: interrupted; the captures not finished were not written to ${printable(opts.db)}\n`);
        return ExitCode.INTERRUPTED;
      }
    } else {
      for (const [i, name] of captures.entries()) {
        const path = name === '-' ? '-' : resolve(io.cwd, name);
        try {
          report(i, name, await analyzeInto(sink, path, name, settings, io.stdin, () => interrupted));
        } catch (e) {
          if (e instanceof ReadInterrupted) {
            io.stderr.write(`tcpstate: interrupted; ${printable(name)} was not written to ${printable(opts.db)}\n`);
            return ExitCode.INTERRUPTED;
          }
          if (e instanceof DbError) return dbFailure(e);
          throw e;
        }
      }
    }
  } finally {
    unsubscribe();
    const warning = sink.close();
    // After a failed write, its line already says to free space or use another file.
    if (warning !== null && !dbFailed) io.stderr.write(`tcpstate: ${warn.yellow('warning: ')}${printableLines(warning)}\n`);
  }
  const finished = results.filter((r) => r !== undefined);
  const json = finished.map((r) => summaryJson(r.summary));
  const checked: CaptureChecks[] = finished.map((r) => ({ summary: r.summary, results: r.checks, allowTruncated: opts.allowTruncated === true }));
  const statuses: CaptureStatus[] = finished.map((r) => r.summary.status);
  const checkFailed = finished.some((r) => r.checks.some((c) => c.failed));
  if (opts.json) io.stdout.write(JSON.stringify(json, null, 2) + '\n');
  else if (!opts.quiet && finished.length > 0) io.stdout.write(`${written(opts.db)}\n`);
  if (opts.junit !== undefined) {
    try {
      writeFileSync(resolve(io.cwd, opts.junit), renderJunit(checked));
    } catch (e) {
      io.stderr.write(`tcpstate: error: cannot write ${printable(opts.junit)}: ${printableLines((e as Error).message)}\n`);
      return ExitCode.DATABASE;
    }
  }
  return exitCodeFor(statuses, { allowTruncated: opts.allowTruncated, checkFailed });
}

/**
 * Several captures at once: each worker analyses a capture into its own temporary
 * database, and the main thread imports it into the user's database when it is done
 * (one short transaction each). Standard input, if given, is read here first.
 * Returns false when interrupted (finished captures stay written).
 */
async function inWorkers(
  captures: string[],
  jobs: number,
  settings: AnalysisSettings,
  io: Io,
  sink: SqliteSink,
  report: (i: number, name: string, s: CaptureSummary) => void,
  stopped: () => boolean,
): Promise<boolean> {
  const stdinAt = captures.indexOf('-');
  if (stdinAt >= 0) {
    try {
      report(stdinAt, '-', await analyzeInto(sink, '-', '-', settings, io.stdin, stopped));
    } catch (e) {
      if (e instanceof ReadInterrupted) return false;
      throw e;
    }
  }
  const queue = captures.map((name, i) => ({ name, i })).filter((c) => c.name !== '-');
  const tmp = mkdtempSync(join(tmpdir(), 'tcpstate-'));
  const workers: Worker[] = [];
  // Finished captures are imported in input order, so the database (ids included) and
  // the output are the same whatever the number of workers.
  const ready = new Map<number, { name: string; db: string; summary: CaptureSummary }>();
  let next = 0;
  const flush = () => {
    for (;;) {
      if (captures[next] === '-') {
        next++;
        continue;
      }
      const r = ready.get(next);
      if (r === undefined) return;
      ready.delete(next);
      sink.importCapture(r.db);
      for (const f of [r.db, `${r.db}-wal`, `${r.db}-shm`]) rmSync(f, { force: true });
      report(next, r.name, r.summary);
      next++;
    }
  };
  try {
    const runWorker = async (): Promise<void> => {
      const worker = new Worker(new URL('./analyze-worker.js', import.meta.url));
      workers.push(worker);
      try {
        for (let job = queue.shift(); job !== undefined && !stopped(); job = queue.shift()) {
          const { name, i } = job;
          const db = join(tmp, `${i}.db`);
          const message: WorkerJob = { path: resolve(io.cwd, name), name, db, settings };
          const answer = await new Promise<WorkerAnswer>((res, rej) => {
            worker.once('message', res);
            worker.once('error', rej);
            worker.postMessage(message);
          });
          worker.removeAllListeners('error');
          if (!answer.ok) {
            if (answer.problem === null) throw new Error(`${name}: ${answer.error}`);
            // The worker's own database, in the temporary directory: that is where room is needed.
            const cause = answer.problem === 'full' ? `disk full in the temporary directory ${tmp}, where each worker writes its capture first` : answer.error;
            throw new DbError(`${printable(name)}: ${cause}; nothing of it was written to the database: give TMPDIR a directory with room, or run with -j 1`, answer.problem);
          }
          ready.set(i, { name, db, summary: reviveSummary(answer.summary) });
          flush();
        }
      } finally {
        await worker.terminate();
      }
    };
    await Promise.all(Array.from({ length: jobs }, runWorker));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    rmSync(tmp, { recursive: true, force: true });
  }
  return !stopped();
}
