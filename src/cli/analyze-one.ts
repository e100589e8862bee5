/**
 * One capture into one database: the work the analyze command does per capture,
 * in the main thread or in a worker (which writes to its own database first).
 */
import { analyzeCapture, type CaptureSummary } from '../analyze/capture.js';
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
}

/**
 * Analyse `path` into `sink` in one transaction; throws ReadInterrupted (nothing written) when `shouldStop`
 * says so. Aborting `signal` instead ends the read where it is: what was read is analysed and written, status `interrupted`.
 * The file is opened by its bytes; the database gets its name as UTF-8 text (U+FFFD for a byte that is not).
 */
export async function analyzeInto(
  sink: Sink,
  path: string,
  name: string,
  settings: AnalysisSettings,
  stdin: NodeJS.ReadableStream,
  shouldStop: () => boolean,
  signal?: AbortSignal,
): Promise<CaptureSummary> {
  const id = sink.beginCapture(wellFormed(path), wellFormed(name));
  try {
    const summary = await analyzeCapture(name, openSource(path, stdin), {
      shouldStop,
      signal,
      onFlowEnd: (flow) => sink.writeFlow(id, flow),
      onFinding: (f) => sink.writeFinding(id, f),
      onZeekConn: (z) => sink.writeZeekConn(id, z),
      verifyChecksums: settings.verifyChecksums,
      flowOptions: settings.flowOptions,
      reassembly: settings.reassembly,
      thresholds: settings.thresholds,
    });
    sink.commitCapture(id, summary);
    return summary;
  } catch (e) {
    sink.rollbackCapture();
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
