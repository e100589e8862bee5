/**
 * `tcpstate summary`: the summary `analyze` printed, rebuilt from what the database holds.
 * Everything it shows is stored or derived from stored rows (the `warning:` lines are stored
 * as analyze made them), except one thing (README, "summary"): the per-host socket counts,
 * which analyze caps at its first 10,000 hosts while the database has every host (so here no
 * socket is "on hosts past the first 10,000").
 */
import type { CaptureStatus, CaptureSummary } from '../pipeline.js';
import type { Severity } from '../detect/finding.js';
import { formatEndpoint } from '../util/address.js';
import type { CaptureRow, TcpstateDb } from '../sink/read.js';
import type { SummaryInput } from './summary.js';

/** As analyze ranks its worst connections: errors, then warnings, then the earlier flow; five at most. */
const WORST_SHOWN = 5;

export function storedSummary(db: TcpstateDb, capture: CaptureRow): SummaryInput {
  const endStates: Record<string, number> = {};
  const hostEndStates: Record<string, Record<string, number>> = {};
  for (const { addr, state, n } of db.endStatesByHost(capture.id)) {
    endStates[state] = (endStates[state] ?? 0) + n;
    (hostEndStates[addr] ??= {})[state] = n;
  }
  const findings: Record<string, number> = {};
  const findingSeverities: Record<string, Partial<Record<Severity, number>>> = {};
  for (const { kind, severity, n } of db.findingCounts(capture.id)) {
    findings[kind] = (findings[kind] ?? 0) + n;
    (findingSeverities[kind] ??= {})[severity as Severity] = n;
  }
  const zeekConnStates: Record<string, number> = {};
  for (const { conn_state, n } of db.zeekConnStates(capture.id)) zeekConnStates[conn_state] = n;

  const perFlow = new Map<number, { client: string; server: string; errors: number; warnings: number; kinds: Map<string, number> }>();
  for (const a of db.seriousFindings(capture.id)) {
    let w = perFlow.get(a.flow_index);
    if (w === undefined) {
      w = { client: formatEndpoint(a.client_addr, a.client_port), server: formatEndpoint(a.server_addr, a.server_port), errors: 0, warnings: 0, kinds: new Map() };
      perFlow.set(a.flow_index, w);
    }
    if (a.severity === 'error') w.errors++;
    else w.warnings++;
    w.kinds.set(a.kind, (w.kinds.get(a.kind) ?? 0) + 1);
  }
  const worstFlows = [...perFlow]
    .map(([flow, w]) => ({ flow, client: w.client, server: w.server, errors: w.errors, warnings: w.warnings, kinds: [...w.kinds].sort((a, b) => b[1] - a[1]).map(([k]) => k) }))
    .sort((a, b) => b.errors - a.errors || b.warnings - a.warnings || a.flow - b.flow)
    .slice(0, WORST_SHOWN);

  const counters = db.decodeCounters(capture.id);
  // analyze's own lines, as it printed them.
  const warnings = capture.warnings === null ? [] : (JSON.parse(capture.warnings) as string[]);

  return {
    name: capture.name,
    format: capture.format as CaptureSummary['format'],
    compression: capture.compression as 'gzip' | 'zstd' | null,
    linkTypes: capture.link_types === '' ? [] : capture.link_types.split(',').map(Number),
    packets: capture.packets,
    tcpPackets: capture.tcp_packets,
    bytes: capture.bytes,
    firstTs: capture.first_ts,
    lastTs: capture.last_ts,
    status: capture.status as CaptureStatus,
    error: capture.error,
    errorOffset: capture.error_offset,
    errorRecord: capture.error_record,
    parts: null,
    counters: { entries: () => counters },
    warnings,
    flows: db.flowCount(capture.id),
    endStates,
    findings,
    hostEndStates,
    hostEndStatesOmitted: 0,
    findingSeverities,
    worstFlows,
    zeekConnStates,
  };
}
