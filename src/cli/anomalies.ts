/** `tcpstate anomalies <db|capture>`: the findings, grouped by kind with counts, then one row each. */
import { KINDS } from '../detect/catalogue.js';
import type { Severity } from '../detect/finding.js';
import { SEVERITIES, anomaliesJson, buildAnomalyReport, renderAnomalies } from '../report/anomalies.js';
import { makeChalk } from '../report/summary.js';
import { terminalWidth } from '../report/text.js';
import { UsageError } from './analyze.js';
import { didYouMean } from './options.js';
import { openInput, parseAt, type InputOptions } from './input.js';
import type { Io } from './io.js';

export interface AnomaliesCliOptions extends InputOptions {
  /** Comma-separated kinds. */
  kind?: string;
  severity?: string;
  /** Parsed by parseHost. */
  host?: string;
  flow?: number;
  since?: string;
  until?: string;
  limit?: number;
  json?: boolean;
  color?: boolean;
}

/** --kind a,b: known kinds only, so that a typo is not an empty report. */
export function parseKinds(value: string): string[] {
  const kinds = value.split(',').map((k) => k.trim()).filter((k) => k.length > 0);
  const unknown = kinds.filter((k) => KINDS[k] === undefined);
  if (unknown.length > 0) {
    const named = unknown.map((k) => `"${k}"${didYouMean(k, Object.keys(KINDS))}`).join(', ');
    throw new UsageError(`--kind: unknown kind ${named}; run \`tcpstate explain\` for the list`);
  }
  return kinds;
}

export function parseSeverity(value: string): Severity {
  if (!(SEVERITIES as readonly string[]).includes(value)) throw new UsageError(`--severity "${value}": expected one of ${SEVERITIES.join(' < ')}`);
  return value as Severity;
}

export async function anomaliesCommand(arg: string, opts: AnomaliesCliOptions, io: Io): Promise<number> {
  const severity = opts.severity === undefined ? undefined : parseSeverity(opts.severity);
  const kinds = opts.kind === undefined ? undefined : parseKinds(opts.kind);
  const input = await openInput(arg, opts, io);
  if (typeof input === 'number') return input;
  try {
    const { db, capture } = input;
    if (opts.flow !== undefined && db.flowByIndex(capture.id, opts.flow) === undefined) {
      throw new UsageError(`${capture.name} has no flow ${opts.flow}: its flows are 1 to ${db.flowCount(capture.id)}`);
    }
    const since = opts.since === undefined ? undefined : parseAt(opts.since, capture.first_ts);
    const until = opts.until === undefined ? undefined : parseAt(opts.until, capture.first_ts);
    const scope = [
      opts.host !== undefined ? `host ${opts.host}` : null,
      opts.flow !== undefined ? `flow ${opts.flow}` : null,
      opts.since !== undefined ? `since ${opts.since}` : null,
      opts.until !== undefined ? `until ${opts.until}` : null,
    ].filter((x): x is string => x !== null);
    const rows = db.anomalies(capture.id, { host: opts.host, flowIndex: opts.flow, since, until });
    const total = db.findingCounts(capture.id).reduce((n, k) => n + k.n, 0);
    const report = buildAnomalyReport(capture, rows, { kinds, severity, scope, limit: opts.limit }, total);
    if (opts.json) io.stdout.write(JSON.stringify(anomaliesJson(report), null, 2) + '\n');
    else io.stdout.write(renderAnomalies(report, makeChalk(Boolean(io.stdout.isTTY), io.env, opts.color !== false), terminalWidth(io.stdout, io.env)));
    return input.code;
  } finally {
    input.close();
  }
}
