/** `tcpstate analyze <capture...>`: read captures and record what they hold in SQLite. */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyzeCapture, type CaptureStatus } from '../analyze/capture.js';
import { ReadInterrupted, openSource } from '../reader/index.js';
import { makeChalk, renderSummary, summaryJson } from '../report/summary.js';
import { SqliteSink } from '../sink/sqlite.js';
import { writeFileSync } from 'node:fs';
import { evaluate, type Check } from '../detect/checks.js';
import { renderJunit, type CaptureChecks } from '../report/junit.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import type { Io } from './io.js';

export interface AnalyzeCliOptions {
  db: string;
  json?: boolean;
  quiet?: boolean;
  allowTruncated?: boolean;
  verifyChecksums?: boolean;
  failOn?: Check[];
  junit?: string;
  timeWait?: number;
  idleTimeout?: number;
  closeWait?: number;
  unresponsiveAfter?: number;
  unresponsiveRetransmissions?: number;
  synFloodRate?: number;
  timeWaitPileup?: number;
  ephemeralPorts?: number;
  portExhaustionShare?: number;
}

/** Only the options given: the analysis keeps its documented defaults for the rest. */
function given<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export class UsageError extends Error {}

/** Capture files in a directory tree, by name: .pcap, .pcapng, .cap, and those gzipped. */
const CAPTURE_NAME = /\.(pcap|pcapng|cap)(\.gz)?$/i;

/** Directories given on the command line stand for the captures below them, in name order. */
export function expandCaptures(args: string[], cwd: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, shown: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(dir, e.name);
      const label = join(shown, e.name);
      if (e.isDirectory()) walk(p, label);
      else if (e.isFile() && CAPTURE_NAME.test(e.name)) out.push(label);
    }
  };
  for (const a of args) {
    let isDir = false;
    try {
      isDir = a !== '-' && statSync(resolve(cwd, a)).isDirectory();
    } catch {
      isDir = false; // missing: reported when it is read
    }
    if (isDir) walk(resolve(cwd, a), a);
    else out.push(a);
  }
  return out;
}

export async function analyzeCommand(args: string[], opts: AnalyzeCliOptions, io: Io): Promise<number> {
  const captures = expandCaptures(args, io.cwd);
  if (captures.filter((c) => c === '-').length > 1) throw new UsageError('standard input ("-") can be read only once');
  if (captures.length === 0) throw new UsageError(`no capture files (.pcap, .pcapng, .cap, or .gz of them) in ${args.join(', ')}`);
  const chalk = makeChalk(Boolean(io.stdout.isTTY), io.env);
  const warn = makeChalk(Boolean(io.stderr.isTTY), io.env);
  let sink: SqliteSink;
  try {
    sink = new SqliteSink(resolve(io.cwd, opts.db));
  } catch (e) {
    io.stderr.write(`tcpstate: cannot open database ${opts.db}: ${(e as Error).message}\n`);
    return ExitCode.FAILURE;
  }

  let interrupted = false;
  const unsubscribe = io.onInterrupt(() => {
    if (interrupted) process.exit(ExitCode.INTERRUPTED); // second Ctrl-C: leave now; SQLite rolls back
    interrupted = true;
  });
  const statuses: CaptureStatus[] = [];
  const json: unknown[] = [];
  const checked: CaptureChecks[] = [];
  let checkFailed = false;
  try {
    for (const name of captures) {
      const path = name === '-' ? '-' : resolve(io.cwd, name);
      const id = sink.beginCapture(path, name);
      let summary;
      try {
        summary = await analyzeCapture(name, openSource(path, io.stdin), {
          shouldStop: () => interrupted,
          onFlowEnd: (flow) => sink.writeFlow(id, flow),
          onFinding: (f) => sink.writeFinding(id, f),
          onZeekConn: (z) => sink.writeZeekConn(id, z),
          verifyChecksums: opts.verifyChecksums,
          flowOptions: given({ timeWaitUs: opts.timeWait, idleTimeoutUs: opts.idleTimeout }),
          thresholds: given({
            closeWaitUs: opts.closeWait,
            unresponsiveUs: opts.unresponsiveAfter,
            unresponsiveRetransmissions: opts.unresponsiveRetransmissions,
            synFloodRate: opts.synFloodRate,
            timeWaitPileup: opts.timeWaitPileup,
            ephemeralPorts: opts.ephemeralPorts,
            portExhaustionShare: opts.portExhaustionShare,
          }),
        });
      } catch (e) {
        sink.rollbackCapture();
        if (e instanceof ReadInterrupted) {
          io.stderr.write(`tcpstate: interrupted; ${name} was not written to ${opts.db}\n`);
          return ExitCode.INTERRUPTED;
        }
        throw e;
      }
      sink.commitCapture(id, summary);
      statuses.push(summary.status);
      if (summary.error !== null) {
        const tag = summary.status === 'truncated' ? warn.yellow('warning: ') : warn.red('error: ');
        io.stderr.write(`tcpstate: ${tag}${summary.error}\n`);
      }
      if (opts.json) json.push(summaryJson(summary));
      else if (!opts.quiet) io.stdout.write(renderSummary(summary, chalk));
      const results = (opts.failOn ?? []).map((c) => evaluate(c, summary));
      for (const r of results.filter((x) => x.failed)) {
        checkFailed = true;
        io.stderr.write(`tcpstate: ${warn.red('check failed:')} ${r.check.text} in ${name === '-' ? '<stdin>' : name}: ${r.measured}\n`);
      }
      checked.push({ summary, results, allowTruncated: opts.allowTruncated === true });
    }
  } finally {
    unsubscribe();
    sink.close();
  }
  if (opts.json) io.stdout.write(JSON.stringify(json, null, 2) + '\n');
  if (opts.junit !== undefined) {
    try {
      writeFileSync(resolve(io.cwd, opts.junit), renderJunit(checked));
    } catch (e) {
      io.stderr.write(`tcpstate: cannot write ${opts.junit}: ${(e as Error).message}\n`);
      return ExitCode.FAILURE;
    }
  }
  return exitCodeFor(statuses, { allowTruncated: opts.allowTruncated, checkFailed });
}
