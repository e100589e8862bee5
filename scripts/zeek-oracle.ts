/**
 * Comparing the Zeek emulation with Zeek's own output: the corpus in
 * shared/oracle/zeek (INDEX.tsv, traces/, expected/), how each trace was run
 * (checksums, scripts loaded, redefs), parsing conn.log / cut / print
 * baselines, running the tracker over our decoder, and matching rows as a
 * multiset by connection endpoints (SEMANTICS.md §1.3).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { analyzeCapture } from '../src/pipeline.js';
import { Status } from '../src/decode/index.js';
import { openSource } from '../src/reader/index.js';
import { type ZeekConn, ZeekConnTracker, type ZeekTuning } from '../src/tcp/zeek/conn.js';
import { ZEEK_DEFAULT_LIKELY_SERVER_PORTS, zeekLikelyServerPorts } from '../src/tcp/zeek/ports.js';

export interface OracleEntry {
  traceFile: string;
  expectedFile: string;
  kind: 'full' | 'cut' | 'print';
  scriptMode: string;
  checksums: string;
  notes: string;
}

/** One expected row; absent columns are undefined (cut and print baselines). */
export interface ExpectedRow {
  orig_h?: string;
  orig_p?: number;
  resp_h?: string;
  resp_p?: number;
  conn_state?: string;
  history?: string;
  orig_pkts?: number;
  resp_pkts?: number;
}

export interface RowDiff {
  expected: ExpectedRow | null;
  ours: ZeekConn | null;
  field: 'conn_state' | 'history' | 'row';
}

export interface TraceResult {
  entry: OracleEntry;
  expectedRows: number;
  ourRows: number;
  matched: number;
  /** Comparisons made for the column, and how many agreed (unmatched rows on either side count as disagreements). */
  stateCompared: number;
  stateAgree: number;
  historyCompared: number;
  historyAgree: number;
  diffs: RowDiff[];
}

// ---------------------------------------------------------------- how each trace was run

/**
 * Protocol scripts loaded in bare mode (-b), from the INDEX notes: they decide
 * likely_server_ports and so the creation-time flip.
 */
const BARE_MODE_PROTOCOLS: Record<string, string[]> = {
  'teredo.pcap': ['http', 'dns'],
  'pop3.pcap': ['pop3'],
  'mixed-vlan-mpls.pcap': ['http'],
  'gtp2-different-udp-port.pcap': ['http'],
  'http-connect-smtp.pcap': ['http', 'smtp'],
  'missing-syn.pcap': ['http'],
  'ftp-ipv6.pcap': ['ftp'],
  'pop3-bad-list-retr-crafted.pcap': ['pop3'],
  'irc-starttls-sll.pcap': ['ssl', 'irc'],
  'krb-optional-service-name.pcap': ['krb'],
  'ftp-cwd-navigation.pcap': ['ftp'],
  'redis-django-cloud.pcapng': ['redis'],
  'pop3-starttls-null.pcap': ['ssl', 'pop3'],
};

/** Extra likely-server ports from the test scripts' redefs. */
const EXTRA_PORTS: Record<string, number[]> = {
  'redis-django-cloud.pcapng': [10625], // redef Redis::ports += 10625/tcp
};

/** Script constants the test scripts redefine. */
const TUNING: Record<string, Partial<ZeekTuning>> = {
  'bigtransfer.pcap': { tcpExcessiveDataWithoutFurtherAcks: 0 },
  'retransmit-timeout.pcapng': { maxTimerExpires: 0 },
};

/** likely_server_ports the test empties explicitly. */
const EMPTY_LIKELY_PORTS = new Set(['handshake-reorder.pcap']);

export function trackerOptionsFor(entry: OracleEntry): { verifyChecksums: boolean; likelyServerPorts: ReadonlySet<number>; tuning: Partial<ZeekTuning> } {
  const name = basename(entry.traceFile);
  let likely: ReadonlySet<number>;
  if (EMPTY_LIKELY_PORTS.has(name)) likely = new Set();
  else if (entry.scriptMode.startsWith('bare')) likely = zeekLikelyServerPorts(BARE_MODE_PROTOCOLS[name] ?? [], EXTRA_PORTS[name] ?? []);
  else likely = new Set([...ZEEK_DEFAULT_LIKELY_SERVER_PORTS, ...(EXTRA_PORTS[name] ?? [])]);
  return { verifyChecksums: entry.checksums === 'validated', likelyServerPorts: likely, tuning: TUNING[name] ?? {} };
}

// ---------------------------------------------------------------- reading the corpus

export function readOracleIndex(dir: string): OracleEntry[] {
  const lines = readFileSync(join(dir, 'INDEX.tsv'), 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0].split('\t');
  const col = (cells: string[], name: string) => cells[header.indexOf(name)] ?? '';
  return lines.slice(1).map((l) => {
    const cells = l.split('\t');
    return {
      traceFile: col(cells, 'trace_file'),
      expectedFile: col(cells, 'expected_file'),
      kind: col(cells, 'kind') as OracleEntry['kind'],
      scriptMode: col(cells, 'script_mode'),
      checksums: col(cells, 'checksums'),
      notes: col(cells, 'notes'),
    };
  });
}

const num = (s: string | undefined) => (s === undefined || s === '-' || s === '' ? undefined : Number(s));
const str = (s: string | undefined) => (s === undefined ? undefined : s === '-' || s === '(empty)' ? '' : s);

/** TCP rows of a conn.log (full) or of a zeek-cut extract (cut). */
export function parseConnLog(text: string, kind: 'full' | 'cut'): ExpectedRow[] {
  const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('###'));
  let fields: string[] = [];
  const rows: ExpectedRow[] = [];
  for (const line of lines) {
    if (kind === 'full' && line.startsWith('#fields\t')) {
      fields = line.split('\t').slice(1);
      continue;
    }
    if (line.startsWith('#')) continue;
    if (kind === 'cut' && fields.length === 0) {
      fields = line.split('\t');
      continue;
    }
    const cells = line.split('\t');
    const get = (name: string) => (fields.includes(name) ? cells[fields.indexOf(name)] : undefined);
    const proto = get('proto');
    if (proto !== undefined && proto !== 'tcp') continue;
    rows.push({
      orig_h: get('id.orig_h'),
      orig_p: num(get('id.orig_p')),
      resp_h: get('id.resp_h'),
      resp_p: num(get('id.resp_p')),
      conn_state: get('conn_state'),
      history: str(get('history')),
      orig_pkts: num(get('orig_pkts')),
      resp_pkts: num(get('resp_pkts')),
    });
  }
  return rows;
}

/** The expected rows of a print baseline, as the INDEX notes describe it. */
export function parsePrintOut(text: string, entry: OracleEntry): ExpectedRow[] {
  const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('###'));
  const lineNo = /line (\d+) of the out file/.exec(entry.notes);
  if (lineNo) {
    // "history, conn_state" per trace, one line each.
    const [history, state] = lines[Number(lineNo[1]) - 1].split(', ');
    return [{ history, conn_state: state }];
  }
  const rows: ExpectedRow[] = [];
  for (const line of lines) {
    if (!/connection_state_remove|^REMOVE:/.test(line)) continue;
    const id = /\[orig_h=([^,]+), orig_p=(\d+)\/tcp, resp_h=([^,]+), resp_p=(\d+)\/tcp/.exec(line);
    // The history is the first field after the closing bracket of the id record.
    const history = /\], ([A-Za-z^]+)(?:,|$)/.exec(line);
    if (id && history) rows.push({ orig_h: id[1], orig_p: Number(id[2]), resp_h: id[3], resp_p: Number(id[4]), history: history[1] });
  }
  return rows;
}

export function readExpected(dir: string, entry: OracleEntry): ExpectedRow[] {
  const text = readFileSync(join(dir, entry.expectedFile), 'utf8');
  return entry.kind === 'print' ? parsePrintOut(text, entry) : parseConnLog(text, entry.kind);
}

// ---------------------------------------------------------------- running and matching

/** Our rows for one trace, in the order the tracker logged them. */
export async function runTracker(path: string, opts: ReturnType<typeof trackerOptionsFor>): Promise<ZeekConn[]> {
  const tracker = new ZeekConnTracker(opts);
  await analyzeCapture(path, openSource(path), {
    onPacket: (rec, status, p) => {
      if (status !== Status.TCP) {
        tracker.tick(rec.tsUs);
        return;
      }
      tracker.packet(rec.tsUs, p, {
        frame: rec.number,
        capturedEnd: rec.offset + rec.caplen,
        frameEnd: rec.offset + Math.max(rec.origLen, rec.caplen) - rec.fcsLen,
      });
    },
  });
  return tracker.finish();
}

/** Same connection endpoints, in either direction; columns absent from the baseline match anything. */
function sameEndpoints(e: ExpectedRow, o: ZeekConn): boolean {
  const fits = (h: string | undefined, p: number | undefined, oh: string, op: number) => (h === undefined || h === oh) && (p === undefined || p === op);
  const forward = fits(e.orig_h, e.orig_p, o.orig_h, o.orig_p) && fits(e.resp_h, e.resp_p, o.resp_h, o.resp_p);
  const reverse = fits(e.orig_h, e.orig_p, o.resp_h, o.resp_p) && fits(e.resp_h, e.resp_p, o.orig_h, o.orig_p);
  return forward || reverse;
}

export function compareRows(entry: OracleEntry, expected: ExpectedRow[], ours: ZeekConn[]): TraceResult {
  const r: TraceResult = {
    entry,
    expectedRows: expected.length,
    ourRows: ours.length,
    matched: 0,
    stateCompared: 0,
    stateAgree: 0,
    historyCompared: 0,
    historyAgree: 0,
    diffs: [],
  };
  const used = new Array<boolean>(ours.length).fill(false);
  for (const e of expected) {
    const i = ours.findIndex((o, k) => !used[k] && sameEndpoints(e, o));
    const o = i >= 0 ? ours[i] : null;
    if (o === null) {
      r.diffs.push({ expected: e, ours: null, field: 'row' });
      if (e.conn_state !== undefined) r.stateCompared++;
      if (e.history !== undefined) r.historyCompared++;
      continue;
    }
    used[i] = true;
    r.matched++;
    if (e.conn_state !== undefined) {
      r.stateCompared++;
      if (e.conn_state === o.conn_state) r.stateAgree++;
      else r.diffs.push({ expected: e, ours: o, field: 'conn_state' });
    }
    if (e.history !== undefined) {
      r.historyCompared++;
      if (e.history === o.history) r.historyAgree++;
      else r.diffs.push({ expected: e, ours: o, field: 'history' });
    }
  }
  const hasState = expected.some((e) => e.conn_state !== undefined);
  const hasHistory = expected.some((e) => e.history !== undefined);
  ours.forEach((o, k) => {
    if (used[k]) return;
    r.diffs.push({ expected: null, ours: o, field: 'row' });
    if (hasState) r.stateCompared++;
    if (hasHistory) r.historyCompared++;
  });
  return r;
}

export async function compareTrace(dir: string, entry: OracleEntry): Promise<TraceResult> {
  const ours = await runTracker(join(dir, entry.traceFile), trackerOptionsFor(entry));
  return compareRows(entry, readExpected(dir, entry), ours);
}

export async function compareAll(dir: string): Promise<TraceResult[]> {
  const out: TraceResult[] = [];
  for (const entry of readOracleIndex(dir)) out.push(await compareTrace(dir, entry));
  return out;
}

export function totals(results: TraceResult[]): { stateCompared: number; stateAgree: number; historyCompared: number; historyAgree: number } {
  const t = { stateCompared: 0, stateAgree: 0, historyCompared: 0, historyAgree: 0 };
  for (const r of results) {
    t.stateCompared += r.stateCompared;
    t.stateAgree += r.stateAgree;
    t.historyCompared += r.historyCompared;
    t.historyAgree += r.historyAgree;
  }
  return t;
}
