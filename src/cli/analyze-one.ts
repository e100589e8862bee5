/**
 * One capture into one database: the work the analyze command does per capture,
 * in the main thread or in a worker (which writes to its own database first).
 */
import { analyzeCapture, type CaptureSummary, type LiveCounts } from '../pipeline.js';
import type { Finding } from '../detect/finding.js';
import type { RotatedReader } from '../reader/index.js';
import type { ProgressSource } from './progress.js';
import { DecodeCounters } from '../decode/index.js';
import { ReadInterrupted, openSource, wellFormed } from '../reader/index.js';
import type { Sink } from '../sink/sqlite.js';

/** What the analysis needs of the command line (plain data: it crosses to workers). */
export interface AnalysisSettings {
  verifyChecksums?: boolean;
  flowOptions: Record<string, number>;
  /** Caps of IP reassembly (decode/fragments.ts); absent ones keep their defaults. */
  reassembly?: Record<string, number>;
  thresholds: Record<string, number>;
  /** The memory budget: connections followed at once (absent: DEFAULT_MAX_CONNECTIONS). */
  maxConnections?: number;
}

/** What the command watches of one analysis (all optional). */
export interface AnalyzeHooks {
  /** Polled between chunks: true throws ReadInterrupted, nothing written. */
  shouldStop?: () => boolean;
  /** Aborting it ends the read where it is: what was read is analysed and written, status `interrupted`. */
  signal?: AbortSignal;
  /** Rotated files to read as this one capture instead of `path` (--continuous). */
  reader?: RotatedReader;
  /** The byte source, once opened (its raw byte count and size, for a progress line). */
  onSource?: (source: ProgressSource) => void;
  /** The analysis's counts and its census of live sockets as they stand (see AnalyzeOptions.probe). */
  probe?: (read: () => LiveCounts, census: () => Record<string, number>) => void;
  /** Once the capture's transaction is open: a function committing what is written so far (--follow). */
  onBegin?: (checkpoint: (packets: number) => void) => void;
  /** Each finding as it is made, after it was handed to the database. */
  onFinding?: (f: Finding, ends: () => string | null) => void;
}

/**
 * Analyse `path` into `sink` in one transaction; see AnalyzeHooks for stopping it and watching it.
 * The file is opened by its bytes; the database gets its name as UTF-8 text (U+FFFD for a byte that is not).
 */
export async function analyzeInto(
  sink: Sink,
  path: string,
  name: string,
  settings: AnalysisSettings,
  stdin: NodeJS.ReadableStream,
  hooks: AnalyzeHooks = {},
): Promise<CaptureSummary> {
  const id = sink.beginCapture(wellFormed(path), wellFormed(name));
  hooks.onBegin?.((packets) => sink.checkpointCapture(id, packets));
  try {
    const source = hooks.reader ?? openSource(path, stdin);
    hooks.onSource?.(source);
    const watch = hooks.onFinding;
    const summary = await analyzeCapture(name, source, {
      shouldStop: hooks.shouldStop,
      signal: hooks.signal,
      probe: hooks.probe,
      onFlowEnd: (flow) => sink.writeFlow(id, flow),
      onFinding: watch === undefined ? (f) => sink.writeFinding(id, f) : (f, ends) => (sink.writeFinding(id, f), watch(f, ends)),
      onZeekConn: (z, link) => sink.writeZeekConn(id, z, link),
      verifyChecksums: settings.verifyChecksums,
      flowOptions: settings.flowOptions,
      reassembly: settings.reassembly,
      thresholds: settings.thresholds,
      maxConnections: settings.maxConnections,
    });
    sink.commitCapture(id, summary);
    return summary;
  } catch (e) {
    try {
      sink.rollbackCapture();
    } catch {
      // the first error is the one to report (a rollback after a full disk may fail too)
    }
    throw e;
  }
}

export { ReadInterrupted };

/** The message a worker gets on Ctrl-C or SIGTERM: the capture it is reading ends there (kept, `interrupted`). */
export const STOP = 'stop';

/** A summary after a trip through postMessage (class instances arrive as plain objects). */
export function reviveSummary(s: CaptureSummary): CaptureSummary {
  // Plain data after the crossing: the counters (and every part of them) get their methods back.
  return { ...s, counters: DecodeCounters.revive(s.counters) };
}
