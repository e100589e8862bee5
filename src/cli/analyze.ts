/** `tcpstate analyze <capture...>`: read captures and record what they hold in SQLite. */
import { DEFAULT_FLOW_OPTIONS, STACK_PROFILES } from '../tcp/rfc793/table.js';
import { DEFAULT_CONNECTION_THRESHOLDS } from '../detect/connection.js';
import { DEFAULT_HOST_THRESHOLDS } from '../detect/hosts.js';
import { DEFAULT_REASSEMBLY_OPTIONS } from '../decode/index.js';
import { toolVersion } from './version.js';
import { existsSync, fstatSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CaptureStatus, CaptureSummary } from '../pipeline.js';
import { DEFAULT_MAX_CONNECTIONS } from '../pipeline.js';
import type { CheckResult } from '../detect/checks.js';
import { analyzeInto, reviveSummary, type AnalysisSettings, type AnalyzeHooks, STOP } from './analyze-one.js';
import { Follow, followMode } from './follow.js';
import { Progress, progressWanted, snapshotOf, type ProgressSource, type Snapshot } from './progress.js';
import { RotatedReader, firstTimestamp, openSource } from '../reader/index.js';
import type { LiveCounts } from '../pipeline.js';
import type { WorkerAnswer, WorkerJob } from './analyze-worker.js';
import { makeChalk, renderSummary, summaryJson } from '../report/summary.js';
import { SqliteSink, type Sink } from '../sink/sqlite.js';
import { DbError } from '../sink/errors.js';
import { ThreadedSink } from '../sink/threaded.js';
import { writeFileSync } from 'node:fs';
import { evaluate, type Check } from '../detect/checks.js';
import { renderJunit, type CaptureChecks } from '../report/junit.js';
import { ExitCode, exitCodeFor, type StopSignal } from './exit-codes.js';
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
  progress?: boolean;
  follow?: boolean;
  every?: number;
  continuous?: boolean;
  rotated?: boolean;
  stack?: 'linux' | 'rfc793';
  timeWait?: number;
  finTimeout?: number;
  synRetries?: number;
  retries2?: number;
  orphanRetries?: number;
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
  maxConnections?: number;
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

/** The hooks, with the progress line (if any) watching capture `i`. */
function watched(live: Progress | null, i: number, name: string, hooks: AnalyzeHooks): AnalyzeHooks {
  if (live === null) return hooks;
  let source: ProgressSource | null = null;
  let read: (() => LiveCounts) | null = null;
  live.begin(i, name, snapshotOf(() => source, () => read));
  return { ...hooks, onSource: (s) => (source = s), probe: (r) => (read = r) };
}

/**
 * The files of a --continuous run as one capture: in order of their first packet (files without one
 * last, by name). Its identity in the database is the directory when one was given, else the first
 * file; its name is the arguments as given.
 */
async function rotatedCapture(args: string[], files: string[], io: Io): Promise<{ name: string; path: string; reader: RotatedReader }> {
  if (files.includes('-')) throw new UsageError('--continuous reads files; standard input ("-") cannot be one of them');
  const timed: Array<{ name: string; path: string; first: number | null }> = [];
  for (const name of files) {
    const path = resolve(io.cwd, name);
    let first: number | null = null;
    try {
      first = await firstTimestamp(openSource(path));
    } catch {
      first = null; // unreadable: its error comes when it is read
    }
    timed.push({ name, path, first });
  }
  timed.sort((a, b) => (a.first ?? Infinity) - (b.first ?? Infinity) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const sizes = timed.map((f) => fileSize(f.name, io.cwd));
  const size = sizes.every((s) => s !== null) ? sizes.reduce<number>((a, s) => a + (s ?? 0), 0) : null;
  const dir = args.length === 1 && files.length > 0 && files[0] !== args[0] ? resolve(io.cwd, args[0]) : null;
  return { name: args.join(' '), path: dir ?? timed[0]?.path ?? resolve(io.cwd, args[0]), reader: new RotatedReader(timed, undefined, size) };
}

/** A capture's size as stored, for the batch's share; null for standard input or what cannot be read (reported when it is read). */
function fileSize(name: string, cwd: string): number | null {
  if (name === '-') return null;
  try {
    const st = statSync(fsPath(resolve(cwd, name)));
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

/** Capture files in a directory tree, by name: .pcap, .pcapng, .cap, and those gzipped; tcpdump -C's pieces too (dump.pcap1, dump.pcap2...). */
const CAPTURE_NAME = /\.(pcap|pcapng|cap)\d*(\.gz)?$/i;

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
  const files = expandCaptures(args, io.cwd);
  if (files.filter((c) => c === '-').length > 1) throw new UsageError('standard input ("-") can be read only once');
  if (files.includes('-') && isDirectory(io.stdin)) {
    throw new UsageError('standard input is a directory, not a capture (tcpstate analyze - < DIR?): give the directory as an argument, tcpstate analyze DIR');
  }
  // --continuous: every file one capture, read in order of first packet.
  const rotated = opts.continuous || opts.rotated ? await rotatedCapture(args, files, io) : null;
  const captures = rotated === null ? files : [rotated.name];
  if (captures.length === 0) throw new UsageError(`no capture files (.pcap, .pcapng, .cap, or .gz of them) in ${args.map(printable).join(', ')}`);
  // As tshark: a capture named that does not exist is a usage error, before anything is read or written.
  const missing = files.filter((c) => c !== '-' && !existsSync(fsPath(resolve(io.cwd, c))));
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
  const jobs = rotated !== null || opts.follow === true ? 1 : Math.max(1, Math.min(opts.jobs ?? availableParallelism(), captures.filter((c) => c !== '-').length));
  // One capture at a time: memory stays near what is live. Several: the workers' collections would
  // compete for the cores they analyse on (4 captures at -j 2 took 44 s bounded, 35 s not).
  if (jobs === 1) boundHeapGrowth();
  const settings: AnalysisSettings = {
    verifyChecksums: opts.verifyChecksums,
    // The profile's defaults, then each option given.
    flowOptions: {
      ...STACK_PROFILES[opts.stack ?? 'linux'],
      ...given({ timeWaitUs: opts.timeWait, finTimeoutUs: opts.finTimeout, synRetries: opts.synRetries, retries2: opts.retries2, orphanRetries: opts.orphanRetries, idleTimeoutUs: opts.idleTimeout }),
    } as Record<string, number>,
    reassembly: given({ maxBytes: opts.fragMemory === undefined ? undefined : opts.fragMemory * 1024, maxDatagrams: opts.fragDatagrams }) as Record<string, number>,
    maxConnections: opts.maxConnections,
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
    max_connections: String(settings.maxConnections ?? DEFAULT_MAX_CONNECTIONS),
  };
  let sink: Sink;
  let direct: SqliteSink | null = null;
  // --follow (or a live capture on a pipe): findings as they are made, a census and a commit every --every.
  const mode = followMode(opts.follow, captures, io.stdin);
  // Without it nobody reads a new database before its first capture is in.
  const limits = { noEarlyReaders: mode === null };
  try {
    // One capture at a time: the database is written in a thread of its own while the analysis goes
    // on (unless --no-db-thread). Several at once: workers write their own databases and this thread only imports them.
    sink =
      opts.dbThread !== false && jobs === 1
        ? new ThreadedSink(resolve(io.cwd, opts.db), meta, limits)
        : (direct = new SqliteSink(resolve(io.cwd, opts.db), meta, limits));
  } catch (e) {
    // A refusal, a read-only file, a lock...: the message names the file and the remedy itself.
    if (!(e instanceof DbError)) throw e;
    io.stderr.write(`tcpstate: error: ${printableLines(e.message)}\n`);
    return ExitCode.DATABASE;
  }

  // The first Ctrl-C or SIGTERM ends the read where it is: the capture is analysed and written up to
  // there (status `interrupted`), its summary printed, and no further capture started. Its handler is
  // then removed, so a second signal finds the default action and ends the process at once, even in
  // the middle of a long synchronous step (JS handlers run only between them): the transaction in
  // progress is never committed, and SQLite rolls it back when the file is next opened.
  const stop = new AbortController();
  let stoppedBy: StopSignal | null = null;
  const unsubscribe = io.onInterrupt((signal) => {
    // A second one already queued when the handler went: the same, leave now.
    if (stoppedBy !== null) process.exit(exitCodeFor([], { stoppedBy: signal ?? 'SIGINT' }));
    stoppedBy = signal ?? 'SIGINT';
    stop.abort();
    unsubscribe();
    // A read waiting on an idle pipe has let go of it; closing it lets the process end.
    if (captures.includes('-')) (io.stdin as { destroy?: () => void }).destroy?.();
  });
  const interrupted = () => stoppedBy !== null;
  // The live progress line: the capture being read, or each worker's.
  const live =
    progressWanted(opts.progress, opts.quiet, io.stderr.isTTY, io.env)
      ? new Progress(io.stderr, rotated !== null ? [rotated.reader.size] : captures.map((c) => fileSize(c, io.cwd)), io.stderr.isTTY === true)
      : null;
  const follow = mode === null ? null : new Follow(opts.json ? io.stderr : io.stdout, (opts.every ?? 10_000_000) / 1000, mode, () => live?.clear());
  // Results in input order, whatever order the captures finish in.
  const results: Array<{ summary: CaptureSummary; checks: CheckResult[] } | undefined> = new Array(captures.length);
  let done = 0;
  // Into a pipe or a file, a line per capture of a batch as it is written (the live line stands for it on a terminal).
  const progress = (given: string) => {
    done++;
    if (opts.quiet || captures.length < 2 || live !== null || io.stderr.isTTY) return;
    io.stderr.write(`tcpstate: [${done}/${captures.length}] ${printable(given)}\n`);
  };
  const report = (i: number, name: string, summary: CaptureSummary) => {
    live?.end(i);
    const checks = (opts.failOn ?? []).map((c) => evaluate(c, summary));
    results[i] = { summary, checks };
    if (summary.error !== null) {
      const tag = summary.status === 'truncated' || summary.status === 'interrupted' ? warn.yellow('warning: ') : warn.red('error: ');
      // Cut short at its end: every whole packet is kept, and the exit code need not fail the job.
      const hint = summary.status === 'truncated' && !opts.allowTruncated ? ' (exit 3; --allow-truncated accepts a capture cut short at its end)' : '';
      io.stderr.write(`tcpstate: ${tag}${summary.error}${hint}\n`);
    }
    for (const r of checks.filter((x) => x.failed)) {
      io.stderr.write(`tcpstate: ${warn.red('check failed:')} ${r.check.text} in ${name === '-' ? '<stdin>' : printable(name)}: ${r.measured}\n`);
    }
    if (!opts.json && !opts.quiet) io.stdout.write(renderSummary(summary, chalk));
    // Quiet keeps what the analysis could not see (a link type, protected frames, checksums) on stderr.
    else if (opts.quiet && !opts.json) for (const w of summary.warnings ?? []) io.stderr.write(`tcpstate: ${warn.yellow('warning: ')}${printable(name)}: ${printableLines(w)}\n`);
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
      try {
        await inWorkers(captures, jobs, settings, io, direct, report, stop.signal, live);
      } catch (e) {
        if (!(e instanceof DbError)) throw e;
        return dbFailure(e);
      }
    } else {
      for (const [i, name] of captures.entries()) {
        if (interrupted()) break;
        const path = rotated !== null ? rotated.path : name === '-' ? '-' : resolve(io.cwd, name);
        const hooks = watched(live, i, name, { signal: stop.signal, reader: rotated?.reader });
        try {
          report(i, name, await analyzeInto(sink, path, name, settings, io.stdin, follow?.hooks(hooks) ?? hooks));
        } catch (e) {
          if (e instanceof DbError) return dbFailure(e);
          throw e;
        } finally {
          follow?.stop();
        }
      }
    }
    if (interrupted()) {
      const left = captures.length - results.filter((r) => r !== undefined).length;
      io.stderr.write(`tcpstate: interrupted by ${stoppedBy}; what was read is in ${printable(opts.db)}${left > 0 ? `; ${left} capture${left === 1 ? '' : 's'} not analysed` : ''}\n`);
    }
  } finally {
    live?.stop();
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
  return exitCodeFor(statuses, { allowTruncated: opts.allowTruncated, checkFailed, stoppedBy });
}

/**
 * Several captures at once: each worker analyses a capture into its own temporary
 * database, and the main thread imports it into the user's database when it is done
 * (one short transaction each). Standard input, if given, is read here first.
 * When `signal` aborts, each worker ends the capture it is reading there (written, `interrupted`) and
 * no other capture is started.
 */
async function inWorkers(
  captures: string[],
  jobs: number,
  settings: AnalysisSettings,
  io: Io,
  sink: SqliteSink,
  report: (i: number, name: string, s: CaptureSummary) => void,
  signal: AbortSignal,
  live: Progress | null,
): Promise<void> {
  const stdinAt = captures.indexOf('-');
  if (stdinAt >= 0) {
    const hooks = watched(live, stdinAt, '-', { signal });
    report(stdinAt, '-', await analyzeInto(sink, '-', '-', settings, io.stdin, hooks));
  }
  if (signal.aborted) return;
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
      const onStop = () => worker.postMessage(STOP);
      signal.addEventListener('abort', onStop, { once: true });
      try {
        for (let job = queue.shift(); job !== undefined && !signal.aborted; job = queue.shift()) {
          const { name, i } = job;
          const db = join(tmp, `${i}.db`);
          const message: WorkerJob = { path: resolve(io.cwd, name), name, db, settings, progress: live !== null };
          let last: Snapshot | null = null;
          live?.begin(i, name, () => last);
          const answer = await new Promise<WorkerAnswer>((res, rej) => {
            const onMessage = (m: { progress?: Snapshot } | WorkerAnswer) => {
              if ('progress' in m && m.progress !== undefined) {
                last = m.progress;
                return;
              }
              worker.off('message', onMessage);
              res(m as WorkerAnswer);
            };
            worker.on('message', onMessage);
            worker.once('error', rej);
            worker.postMessage(message);
          });
          live?.end(i);
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
        signal.removeEventListener('abort', onStop);
        await worker.terminate();
      }
    };
    await Promise.all(Array.from({ length: jobs }, runWorker));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    rmSync(tmp, { recursive: true, force: true });
  }
}
