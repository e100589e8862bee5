/**
 * `tcpstate conns`: the connections, one line each, as tshark's `-z conv,tcp` and Zeek's conn.log
 * give them, with both ends' states at the end (ss's names), how the connection ended, Zeek's
 * conn_state and history, and its findings. Rows are rendered one at a time (the list streams):
 * column widths come from the first rows and the rest are padded to them.
 */
import type { ChalkInstance } from 'chalk';
import { formatEndpoint } from '../util/address.js';
import type { ConnRow } from '../sink/read.js';
import { formatTime } from './summary.js';
import { ssName, thousands } from './text.js';

const HEADER = ['flow', 'start', 'duration', 'client', 'server', 'pkts>', 'bytes>', 'pkts<', 'bytes<', 'client st', 'server st', 'end', 'zeek', 'findings', 'history'];
/** Right-aligned columns (numbers). */
const RIGHT = new Set([0, 1, 2, 5, 6, 7, 8, 13]);

export function connCells(r: ConnRow, t0: number): string[] {
  return [
    String(r.flow_index),
    ((r.first_ts - t0) / 1e6).toFixed(6),
    ((r.last_ts - r.first_ts) / 1e6).toFixed(6),
    formatEndpoint(r.client_addr, r.client_port),
    formatEndpoint(r.server_addr, r.server_port),
    thousands(r.client_packets),
    thousands(r.client_bytes),
    thousands(r.server_packets),
    thousands(r.server_bytes),
    ssName(r.client_state),
    ssName(r.server_state),
    r.end_reason,
    r.conn_state ?? '-',
    r.findings === 0 ? '-' : thousands(r.findings),
    r.history || '-',
  ];
}

/** Lays rows out in columns as wide as the widest cell seen when it was made (header included). */
export class ConnTable {
  private readonly widths: number[];

  constructor(sample: string[][]) {
    this.widths = HEADER.map((h, i) => Math.max(h.length, ...sample.map((r) => r[i].length)));
  }

  line(cells: string[]): string {
    return cells
      .map((c, i) => (i === cells.length - 1 ? c : RIGHT.has(i) ? c.padStart(this.widths[i]) : c.padEnd(this.widths[i])))
      .join('  ')
      .trimEnd();
  }

  header(c: ChalkInstance): string {
    return c.dim(this.line(HEADER));
  }
}

export function connsTitle(capture: { name: string; first_ts: number | null }, c: ChalkInstance): string[] {
  return [
    `${c.bold('Connections')} in ${capture.name}`,
    c.dim(
      `start and duration in seconds (start from the capture's first packet, ${formatTime(capture.first_ts)}); > client to server, < server to client (TCP payload bytes);` +
        ' states at the end as ss names them; `tcpstate flow DB N` shows one',
    ),
  ];
}

/** The JSON object of a row: the database's names (RFC states), times in µs. */
export function connJson(r: ConnRow): Record<string, unknown> {
  return {
    flow_index: r.flow_index,
    client: formatEndpoint(r.client_addr, r.client_port),
    server: formatEndpoint(r.server_addr, r.server_port),
    first_ts: r.first_ts,
    last_ts: r.last_ts,
    duration: (r.last_ts - r.first_ts) / 1e6,
    client_packets: r.client_packets,
    client_bytes: r.client_bytes,
    server_packets: r.server_packets,
    server_bytes: r.server_bytes,
    client_state: r.client_state,
    server_state: r.server_state,
    end_reason: r.end_reason,
    conn_state: r.conn_state,
    history: r.history,
    findings: r.findings,
  };
}
