/**
 * What the HTML report shows, built from the database: the capture at a glance, each busy
 * host's sockets by state sampled over time (the state_intervals view, as `census --at` reads
 * it), events per time bucket, the findings to mark, the worst connections and the host-level
 * episodes. Numbers only: the page and the SVG files are drawn from this.
 */
import { TSHARK_FIELDS } from '../../tcp/wireshark/flags.js';
import type { CaptureRow, ConnRow, TcpstateDb } from '../../sink/read.js';
import { SS_NAMES, TcpState, type TcpStateName } from '../../tcp/rfc793/tcp-state.js';

/** Sample points over the capture: about this many (the step is a round figure, 1 ms at least). */
export const SAMPLES = 600;
/** Hosts with a chart of their own (the busiest); the others are in "all hosts". */
export const HOSTS_CHARTED = 30;
/** Findings marked on the time axis at most (the most severe first). */
export const MARKS = 1000;

const NICE_STEPS_US = [1, 2, 5, 10, 20, 50, 100, 200, 500].map((ms) => ms * 1000).concat([1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((s) => s * 1e6));

/** The smallest round step that covers `span` µs in about SAMPLES samples. */
export function sampleStep(spanUs: number): number {
  const want = spanUs / SAMPLES;
  return NICE_STEPS_US.find((s) => s >= want) ?? Math.ceil(want / 3600e6) * 3600e6;
}

/** The states ss shows, in ss's order (CLOSED and LISTEN have no socket of a connection). */
export const SOCKET_STATES = (Object.keys(SS_NAMES) as TcpStateName[]).filter((s) => s !== TcpState.CLOSED && s !== TcpState.LISTEN);
const STATE_INDEX = new Map<string, number>(SOCKET_STATES.map((s, i) => [s, i]));

export interface HostSeries {
  /** An address, or "" for all hosts together. */
  host: string;
  /** Sockets in each state (SOCKET_STATES order; null where the host never had one) at each sample. */
  counts: Array<number[] | null>;
  /** The most sockets held at one sample. */
  peak: number;
}

export interface Mark {
  /** Seconds from t0. */
  t: number;
  kind: string;
  severity: string;
  message: string;
  flow: number | null;
}

export interface Episode extends Mark {
  /** Where it happened: a listener, a host. */
  where: string;
}

export type WorstConn = ConnRow & { errors: number; warnings: number };

export interface ReportModel {
  capture: CaptureRow;
  connections: number;
  outcomes: Array<[string, number]>;
  severities: Record<string, number>;
  kinds: Array<{ kind: string; severity: string; n: number }>;
  /** µs: the first sample (the capture's first packet) and the step between samples. */
  t0: number;
  step: number;
  /** Sample times, seconds from t0: k * step, and the capture's last packet when it falls between. */
  times: number[];
  hosts: HostSeries[];
  hostsTotal: number;
  /** Per sample: events in [times[k], times[k] + step). */
  events: { connections: number[]; resets: number[]; retransmissions: number[] };
  marks: Mark[];
  marksTotal: number;
  worst: WorstConn[];
  episodes: Episode[];
}

/** Per-packet tags (tshark's tcp.analysis flags): counted per bucket, never marked one by one. */
export const PACKET_KINDS = TSHARK_FIELDS.map(([name]) => name);

/** The first index of sorted `a` with a[i] >= x (a.length when none). */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function buildModel(db: TcpstateDb, capture: CaptureRow, opts: { worst: number }): ReportModel {
  const t0 = capture.first_ts ?? 0;
  const last = capture.last_ts ?? t0;
  const step = sampleStep(Math.max(1, last - t0));
  const n = Math.floor((last - t0) / step) + 1;
  const at = new Float64Array(n + (t0 + (n - 1) * step < last ? 1 : 0));
  for (let k = 0; k < n; k++) at[k] = t0 + k * step;
  if (at.length > n) at[n] = last;

  // Sockets per state at each sample: +1 where a stay starts covering samples, -1 past its last.
  const { hosts: busiest, total: hostsTotal } = db.busiestHosts(capture.id, HOSTS_CHARTED);
  const S = SOCKET_STATES.length;
  const width = at.length + 1;
  const diffs = new Map<string, Int32Array>([['', new Int32Array(width * S)], ...busiest.map((h): [string, Int32Array] => [h, new Int32Array(width * S)])]);
  const all = diffs.get('')!;
  for (const [addr, state, from, to] of db.socketIntervals(capture.id)) {
    const k0 = lowerBound(at, from);
    const k1 = lowerBound(at, to + 1); // first sample past the stay
    if (k1 <= k0) continue;
    const s = STATE_INDEX.get(state)!;
    all[s * width + k0]++;
    all[s * width + k1]--;
    const own = diffs.get(addr);
    if (own !== undefined) {
      own[s * width + k0]++;
      own[s * width + k1]--;
    }
  }
  const hosts: HostSeries[] = [];
  for (const [host, d] of diffs) {
    const counts: Array<number[] | null> = [];
    const totals = new Array<number>(at.length).fill(0);
    for (let s = 0; s < S; s++) {
      let run = 0;
      let any = false;
      const row = new Array<number>(at.length);
      for (let k = 0; k < at.length; k++) {
        run += d[s * width + k];
        row[k] = run;
        totals[k] += run;
        if (run !== 0) any = true;
      }
      counts.push(any ? row : null);
    }
    hosts.push({ host, counts, peak: Math.max(0, ...totals) });
  }

  const perBucket = (what: 'connections' | 'resets' | 'retransmissions') => {
    const out = new Array<number>(at.length).fill(0);
    for (const [b, count] of db.eventsPerBucket(capture.id, what, t0, step)) out[Math.min(b, at.length - 1)] += count;
    return out;
  };
  const seconds = (us: number) => (us - t0) / 1e6;

  const found = db.eventFindings(capture.id, PACKET_KINDS, MARKS);
  const marks: Mark[] = found.rows
    .map((a) => ({ t: seconds(a.ts), kind: a.kind, severity: a.severity, message: a.message, flow: a.flow_index }))
    .sort((a, b) => a.t - b.t);

  // Host-level findings (a flood, a pile-up, ports running out): linked to one of their connections.
  const episodes: Episode[] = [];
  for (const a of db.hostFindings(capture.id)) {
    const d = JSON.parse(a.details) as Record<string, unknown>;
    const endpoint = typeof d.listener === 'string' ? d.listener : typeof d.destination === 'string' ? d.destination : null;
    const host = endpoint !== null ? endpoint.slice(0, endpoint.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1') : String(d.host ?? d.client ?? '');
    const port = endpoint !== null ? Number(endpoint.slice(endpoint.lastIndexOf(':') + 1)) : null;
    const from = typeof d.start_ts === 'number' ? d.start_ts : t0;
    const to = typeof d.end_ts === 'number' ? d.end_ts : typeof d.peak_ts === 'number' ? d.peak_ts : last;
    const flow = db.firstFlowTo(capture.id, host, port, from, to) ?? null;
    episodes.push({ t: seconds(a.ts), kind: a.kind, severity: a.severity, message: a.message, flow, where: endpoint ?? host });
  }

  const severities: Record<string, number> = {};
  const kinds = db.findingCounts(capture.id).sort((a, b) => b.n - a.n || (a.kind < b.kind ? -1 : 1));
  for (const k of kinds) severities[k.severity] = (severities[k.severity] ?? 0) + k.n;

  return {
    capture,
    connections: db.flowCount(capture.id),
    outcomes: db
      .zeekConnStates(capture.id)
      .map((r): [string, number] => [r.conn_state, r.n])
      .sort((a, b) => b[1] - a[1]),
    severities,
    kinds,
    t0,
    step,
    times: Array.from(at, seconds),
    hosts,
    hostsTotal,
    events: { connections: perBucket('connections'), resets: perBucket('resets'), retransmissions: perBucket('retransmissions') },
    marks,
    marksTotal: found.total,
    worst: db.worstConns(capture.id, opts.worst),
    episodes,
  };
}
