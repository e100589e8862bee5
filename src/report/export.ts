/**
 * `tcpstate export`: a table's rows in formats other tools read. Zeek's conn.log (TSV with its
 * `#separator`, `#fields` and `#types` header, so `zeek-cut` reads it), CSV (RFC 4180), NDJSON
 * (one JSON object per line). Each formatter turns one row at a time into text.
 */
import { createHash } from 'node:crypto';

export const EXPORT_FORMATS = ['zeek', 'csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** conn.log's columns and types as Zeek 6/7 writes them (base/protocols/conn/main.zeek). */
export const ZEEK_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['ts', 'time'],
  ['uid', 'string'],
  ['id.orig_h', 'addr'],
  ['id.orig_p', 'port'],
  ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'],
  ['proto', 'enum'],
  ['service', 'string'],
  ['duration', 'interval'],
  ['orig_bytes', 'count'],
  ['resp_bytes', 'count'],
  ['conn_state', 'string'],
  ['local_orig', 'bool'],
  ['local_resp', 'bool'],
  ['missed_bytes', 'count'],
  ['history', 'string'],
  ['orig_pkts', 'count'],
  ['orig_ip_bytes', 'count'],
  ['resp_pkts', 'count'],
  ['resp_ip_bytes', 'count'],
  ['tunnel_parents', 'set[string]'],
  ['ip_proto', 'count'],
];

/** Zeek's unset field. */
const UNSET = '-';

/** Integer µs as Zeek prints a time or an interval: seconds with six decimals. */
export function zeekSeconds(us: number): string {
  const s = Math.floor(us / 1e6);
  return `${s}.${String(us - s * 1e6).padStart(6, '0')}`;
}

/** "2026-11-21-05-55-37", as Zeek's #open and #close lines (UTC here: packet time, not the wall clock). */
function zeekStamp(us: number | null): string {
  if (us === null) return UNSET;
  return new Date(Math.floor(us / 1000)).toISOString().slice(0, 19).replace(/[T:]/g, '-');
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A uid in Zeek's shape ("C" and 17 base-62 characters), the same on every export of the same
 * analysis: a hash of the capture's path, the 4-tuple and the connection's first frame.
 */
export function stableUid(capturePath: string, row: Record<string, unknown>): string {
  const h = createHash('sha1').update(`${capturePath}\0${row.orig_h}\0${row.orig_p}\0${row.resp_h}\0${row.resp_p}\0${row.first_frame}`).digest();
  let uid = 'C';
  for (let i = 0; i < 17; i++) uid += BASE62[h[i] % 62];
  return uid;
}

export function zeekHeader(openTs: number | null): string {
  return [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    '#path\tconn',
    `#open\t${zeekStamp(openTs)}`,
    `#fields\t${ZEEK_FIELDS.map(([f]) => f).join('\t')}`,
    `#types\t${ZEEK_FIELDS.map(([, t]) => t).join('\t')}`,
  ].join('\n') + '\n';
}

export function zeekFooter(closeTs: number | null): string {
  return `#close\t${zeekStamp(closeTs)}\n`;
}

/**
 * One zeek_conns row as a conn.log line. As Zeek: duration unset when zero, and the byte counts
 * with it; an empty history unset. What tcpstate does not know (service, local_orig/resp,
 * tunnel_parents) is unset.
 */
export function zeekLine(capturePath: string, r: Record<string, unknown>): string {
  const duration = Number(r.duration);
  const cells = [
    zeekSeconds(Number(r.ts)),
    stableUid(capturePath, r),
    String(r.orig_h),
    String(r.orig_p),
    String(r.resp_h),
    String(r.resp_p),
    'tcp',
    UNSET,
    duration > 0 ? zeekSeconds(duration) : UNSET,
    duration > 0 ? String(r.orig_bytes) : UNSET,
    duration > 0 ? String(r.resp_bytes) : UNSET,
    String(r.conn_state),
    UNSET,
    UNSET,
    String(r.missed_bytes),
    r.history === '' || r.history === null ? UNSET : String(r.history),
    String(r.orig_pkts),
    String(r.orig_ip_bytes),
    String(r.resp_pkts),
    String(r.resp_ip_bytes),
    UNSET,
    '6',
  ];
  return cells.join('\t') + '\n';
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; NULL is empty. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV record, CRLF-terminated as RFC 4180 has it. */
export function csvLine(values: unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/** RFC 4180 parsing, for the tests and for anyone checking a round trip: records of fields. */
export function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      out.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  if (field !== '' || row.length > 0) out.push([...row, field]);
  return out;
}

/** One NDJSON line: the row as an object keyed by column name. */
export function ndjsonLine(columns: string[], values: unknown[]): string {
  const o: Record<string, unknown> = {};
  columns.forEach((c, i) => (o[c] = values[i]));
  return JSON.stringify(o) + '\n';
}
