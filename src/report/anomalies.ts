/** `tcpstate anomalies`: the findings of a capture grouped by kind with counts, then one row each. */
import type { ChalkInstance } from 'chalk';
import { KINDS } from '../detect/catalogue.js';
import type { Severity } from '../detect/finding.js';
import { formatEndpoint } from '../util/address.js';
import { printable } from '../reader/index.js';
import type { AnomalyRow } from '../sink/read.js';
import { formatTime } from './summary.js';
import { append, fitRow, plural, thousands, widest, wrap } from './text.js';

export const SEVERITIES: readonly Severity[] = ['info', 'note', 'warning', 'error'];

export interface AnomalyFilter {
  /** Only these kinds (empty or undefined: all). */
  kinds?: string[];
  /** This severity and above. */
  severity?: Severity;
  /** The filters the database applied (host, flow, time window), as words for the title. */
  scope?: string[];
  /** Rows shown at most (the counts by kind are of every finding kept). */
  limit?: number;
}

export interface KindCount {
  kind: string;
  count: number;
  /** Findings of the kind by severity (most kinds have one). */
  severities: Partial<Record<Severity, number>>;
}

export interface AnomalyReport {
  capture: { name: string; firstTs: number | null };
  filter: AnomalyFilter;
  /** Findings of the capture, before filtering. */
  total: number;
  /** Findings the filters kept (rows may hold fewer: --limit). */
  kept: number;
  kinds: KindCount[];
  rows: AnomalyRow[];
}

/** `all`: the findings the database's filters kept; `total`: the capture's findings (default: all of `all`). */
export function buildAnomalyReport(capture: { name: string; first_ts: number | null }, all: AnomalyRow[], filter: AnomalyFilter, total = all.length): AnomalyReport {
  const min = SEVERITIES.indexOf(filter.severity ?? 'info');
  const kinds = filter.kinds !== undefined && filter.kinds.length > 0 ? new Set(filter.kinds) : null;
  const rows = all.filter((a) => SEVERITIES.indexOf(a.severity as Severity) >= min && (kinds === null || kinds.has(a.kind)));
  const byKind = new Map<string, KindCount>();
  for (const a of rows) {
    let k = byKind.get(a.kind);
    if (k === undefined) byKind.set(a.kind, (k = { kind: a.kind, count: 0, severities: {} }));
    k.count++;
    k.severities[a.severity as Severity] = (k.severities[a.severity as Severity] ?? 0) + 1;
  }
  const worst = (k: KindCount) => Math.max(...Object.keys(k.severities).map((s) => SEVERITIES.indexOf(s as Severity)));
  return {
    capture: { name: capture.name, firstTs: capture.first_ts },
    filter,
    total,
    kept: rows.length,
    kinds: [...byKind.values()].sort((a, b) => worst(b) - worst(a) || b.count - a.count || (a.kind < b.kind ? -1 : 1)),
    rows: filter.limit === undefined ? rows : rows.slice(0, filter.limit),
  };
}

/** "client -> server" of the finding's flow, or "-" for a host-level finding. */
function tuple(a: AnomalyRow): string {
  if (a.client_addr === null) return '-';
  return `${formatEndpoint(a.client_addr, a.client_port!)} -> ${formatEndpoint(a.server_addr!, a.server_port!)}`;
}

const severityText = (k: KindCount) =>
  SEVERITIES.filter((s) => k.severities[s] !== undefined)
    .reverse()
    .map((s) => (Object.keys(k.severities).length > 1 ? `${s} ${k.severities[s]}` : s))
    .join(', ');

function paint(c: ChalkInstance, severity: string, text: string): string {
  return severity === 'error' ? c.red(text) : severity === 'warning' ? c.yellow(text) : severity === 'note' ? text : c.dim(text);
}

function columns(rows: string[][], rightAligned: Set<number>): string[] {
  const widths = rows[0].map((_, i) => widest(rows, i));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : rightAligned.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

/** `width`: fit every line to this many columns (a terminal's), wrapping at blanks; null: full lines. */
export function renderAnomalies(r: AnomalyReport, c: ChalkInstance, width: number | null = null): string {
  const filters = [
    ...(r.filter.scope ?? []),
    r.filter.kinds?.length ? `kind ${r.filter.kinds.join(', ')}` : null,
    r.filter.severity && r.filter.severity !== 'info' ? `severity ${r.filter.severity} and above` : null,
  ].filter(Boolean);
  const shown = filters.length > 0 ? `${thousands(r.kept)} of ${plural(r.total, 'finding')} (${filters.join('; ')})` : plural(r.total, 'finding');
  const fit = (line: string, indent: number) => (width === null ? [line] : wrap(line, width, indent));
  const out = [...fit(`${c.bold('Findings')} in ${printable(r.capture.name)}: ${shown}`, 4)];
  if (r.rows.length === 0) return out.join('\n') + '\n';
  out.push('');
  const kindRows = [['kind', 'count', 'severity', 'what it is'], ...r.kinds.map((k) => [k.kind, thousands(k.count), severityText(k), KINDS[k.kind]?.title ?? ''])];
  columns(kindRows, new Set([1])).forEach((line, i) => out.push(...fit(line, 4).map((l) => (i === 0 ? c.dim(l) : l))));
  out.push('', ...fit(`times in seconds since the capture's first packet (${formatTime(r.capture.firstTs)}); \`tcpstate explain KIND\` says what to check`, 4).map((l) => c.dim(l)));
  const t0 = r.capture.firstTs ?? 0;
  const rows = [
    ['time', 'frame', 'flow', 'client -> server', 'side', 'kind', 'message'],
    ...r.rows.map((a) => [((a.ts - t0) / 1e6).toFixed(6), a.packet === null ? '-' : String(a.packet), a.flow_index === null ? '-' : String(a.flow_index), tuple(a), a.side ?? '-', a.kind, a.message]),
  ];
  // The message column is free text: on a terminal it wraps under itself (or below the row when narrow).
  const widths = rows[0].slice(0, -1).map((_, i) => widest(rows, i));
  const prefixes = rows.map((row) => row.slice(0, -1).map((cell, i) => (i <= 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ') + '  ');
  rows.forEach((row, i) => {
    const lines = width === null ? [(prefixes[i] + row[6]).trimEnd()] : fitRow(prefixes[i], row[6], width).map((l) => l.trimEnd());
    append(out, lines.map((l) => (i === 0 ? c.dim(l) : paint(c, r.rows[i - 1].severity, l))));
  });
  if (r.rows.length < r.kept) out.push('', `${thousands(r.rows.length)} of ${thousands(r.kept)} shown (--limit ${r.filter.limit})`);
  return out.join('\n') + '\n';
}

export function anomaliesJson(r: AnomalyReport): Record<string, unknown> {
  const t0 = r.capture.firstTs ?? 0;
  return {
    capture: r.capture.name,
    filter: { kinds: r.filter.kinds ?? [], severity: r.filter.severity ?? 'info', scope: r.filter.scope ?? [], limit: r.filter.limit ?? null },
    total: r.total,
    kept: r.kept,
    shown: r.rows.length,
    kinds: r.kinds.map((k) => ({ kind: k.kind, count: k.count, severities: k.severities, title: KINDS[k.kind]?.title ?? null })),
    anomalies: r.rows.map((a) => ({
      id: a.id,
      ts: a.ts,
      time: (a.ts - t0) / 1e6,
      packet: a.packet,
      flow_index: a.flow_index,
      flow_id: a.flow_id,
      client: a.client_addr === null ? null : formatEndpoint(a.client_addr, a.client_port!),
      server: a.server_addr === null ? null : formatEndpoint(a.server_addr, a.server_port!),
      side: a.side,
      kind: a.kind,
      severity: a.severity,
      message: a.message,
      details: JSON.parse(a.details) as unknown,
    })),
  };
}
