/**
 * `tcpstate flow`: one connection filmed in slow motion. One line per packet with
 * both endpoints' states after it, the segment between them, and the findings on
 * it; the state changes each packet caused are spelled out under it.
 */
import type { ChalkInstance } from 'chalk';
import { TSHARK_FIELDS } from '../tcp/wireshark/flags.js';
import { TcpFlag } from '../decode/packet.js';
import { formatEndpoint } from '../util/address.js';
import type { Side } from '../tcp/rfc793/flow.js';
import { printable } from '../reader/index.js';
import type { Segment } from '../tcp/rfc793/machine.js';
import type { FlowRow } from '../sink/read.js';
import { formatTime } from './summary.js';
import { ssName } from './text.js';

/** One TCP segment of the flow, as read from the capture. */
/** A segment as the state machine sees it, and which side sent it. */
export interface LadderPacket extends Segment {
  fromClient: boolean;
}

/** A state change (as in the transitions table). */
export interface LadderTransition {
  /** The frame that caused it, or null (a timer, an inference). */
  packet: number | null;
  ts: number;
  side: Side;
  from: string | null;
  to: string;
  cause: string;
  inferred: boolean;
}

/** A finding on the flow (as in the anomalies table). */
export interface LadderFinding {
  kind: string;
  severity: string;
  packet: number | null;
  ts: number;
  side: Side | null;
  message: string;
}

export interface LadderRow {
  /** null: a timer (TIME_WAIT expiry) or an inference between packets; with no `packet`: an ICMP error about the flow. */
  frame: number | null;
  ts: number;
  packet: {
    dir: '->' | '<-';
    flags: string;
    seq: number;
    /** null when the ACK flag is off. */
    ack: number | null;
    len: number;
    /** Scaled as Wireshark's "Win=" when both SYNs carried a window scale. */
    win: number;
  } | null;
  client: string;
  server: string;
  changes: LadderTransition[];
  /** Finding kinds on this packet (a fast or spurious retransmission is not repeated as a plain one). */
  anomalies: string[];
}

export interface Ladder {
  capture: string;
  flow: FlowRow;
  raw: boolean;
  rows: LadderRow[];
  /** Connection-level findings (reset, refused, stuck CLOSE_WAIT...), with their messages. */
  findings: LadderFinding[];
}

const PACKET_KINDS = new Set(TSHARK_FIELDS.map(([name]) => name));

const FLAG_LETTERS: Array<[number, string]> = [
  [TcpFlag.SYN, 'S'],
  [TcpFlag.FIN, 'F'],
  [TcpFlag.RST, 'R'],
  [TcpFlag.PSH, 'P'],
  [TcpFlag.URG, 'U'],
  [TcpFlag.ACK, 'A'],
  [TcpFlag.ECE, 'E'],
  [TcpFlag.CWR, 'C'],
];

/** S, SA, A, PA, FA, R, RA...: SYN, FIN, RST first, then PSH, URG, ACK, ECE, CWR. */
export function flagLetters(flags: number): string {
  return FLAG_LETTERS.filter(([bit]) => flags & bit).map(([, l]) => l).join('') || '.';
}

/**
 * Relative sequence numbers as Wireshark counts them: from the sender's SYN, or, when
 * no SYN was seen, from one before its first sequence number (an ACK may set the
 * peer's base first: its acknowledgement number minus one).
 */
class RelativeSeq {
  private readonly base: { client: number | null; server: number | null } = { client: null, server: null };

  seq(side: Side, p: LadderPacket): number {
    this.base[side] ??= p.flags & TcpFlag.SYN ? p.seq : (p.seq - 1) >>> 0;
    return (p.seq - this.base[side]!) >>> 0;
  }

  ack(peer: Side, p: LadderPacket): number {
    this.base[peer] ??= (p.ack - 1) >>> 0;
    return (p.ack - this.base[peer]!) >>> 0;
  }
}

export function buildLadder(
  capture: string,
  flow: FlowRow,
  packets: LadderPacket[],
  transitions: readonly LadderTransition[],
  findings: readonly LadderFinding[],
  opts: { raw?: boolean } = {},
): Ladder {
  const raw = opts.raw === true;
  const rel = new RelativeSeq();
  const scale = { client: -1, server: -1 };
  for (const p of packets) if (p.flags & TcpFlag.SYN) scale[p.fromClient ? 'client' : 'server'] = p.windowScale;
  const scaling = scale.client >= 0 && scale.server >= 0;

  const rows: LadderRow[] = packets.map((p) => {
    const side: Side = p.fromClient ? 'client' : 'server';
    const isSyn = (p.flags & TcpFlag.SYN) !== 0;
    const hasAck = (p.flags & TcpFlag.ACK) !== 0;
    return {
      frame: p.frame,
      ts: p.ts,
      packet: {
        dir: p.fromClient ? '->' : '<-',
        flags: flagLetters(p.flags),
        seq: raw ? p.seq : rel.seq(side, p),
        ack: !hasAck ? null : raw ? p.ack : rel.ack(p.fromClient ? 'server' : 'client', p),
        len: p.len,
        win: scaling && !isSyn ? p.window * 2 ** scale[side] : p.window,
      },
      client: '',
      server: '',
      changes: [],
      anomalies: [],
    };
  });

  // Each transition goes to the packet that caused it; one without a packet (a timer, an
  // inference) to the packet of the same instant, or to a row of its own.
  const byFrame = new Map(rows.map((r) => [r.frame, r]));
  const ordered = [...transitions].sort((a, b) => a.ts - b.ts); // stable: recording order within an instant
  for (const t of ordered) {
    let row = t.packet !== null ? byFrame.get(t.packet) : undefined;
    row ??= rows.find((r) => r.ts === t.ts && r.frame !== null);
    if (row === undefined) {
      // A timer, or a frame not of the flow's packets: an ICMP error about one of them.
      row = { frame: t.packet, ts: t.ts, packet: null, client: '', server: '', changes: [], anomalies: [] };
      const at = rows.findIndex((r) => r.ts > t.ts);
      rows.splice(at < 0 ? rows.length : at, 0, row);
      if (t.packet !== null) byFrame.set(t.packet, row);
    }
    row.changes.push(t);
  }

  const state = { client: 'CLOSED', server: 'CLOSED' };
  for (const r of rows) {
    for (const t of r.changes) state[t.side] = t.to;
    r.client = state.client;
    r.server = state.server;
  }

  for (const f of findings) {
    const row = f.packet !== null ? byFrame.get(f.packet) : undefined;
    if (row !== undefined && !row.anomalies.includes(f.kind)) row.anomalies.push(f.kind);
  }
  for (const r of rows) {
    if (r.anomalies.includes('fast_retransmission') || r.anomalies.includes('spurious_retransmission')) {
      r.anomalies = r.anomalies.filter((k) => k !== 'retransmission');
    }
  }
  return { capture, flow, raw, rows, findings: findings.filter((f) => !PACKET_KINDS.has(f.kind)) };
}

const seconds = (us: number) => (us / 1e6).toFixed(6);

export function renderLadder(l: Ladder, c: ChalkInstance): string {
  const f = l.flow;
  const client = formatEndpoint(f.client_addr, f.client_port);
  const server = formatEndpoint(f.server_addr, f.server_port);
  const t0 = l.rows.find((r) => r.frame !== null)?.ts ?? f.first_ts;
  const packets = l.rows.filter((r) => r.packet !== null).length;
  const out = [
    `${c.bold(`Flow ${f.flow_index}`)} of ${printable(l.capture)}: ${c.bold(client)} (client) -> ${c.bold(server)} (server)`,
    c.dim(
      `${packets} packets, frames ${f.first_packet}..${f.last_packet}, from ${formatTime(t0)}; ended: ${f.end_reason}` +
        (f.conn_state !== null ? `; Zeek: ${f.conn_state} ${f.history ?? ''}` : ''),
    ),
    c.dim(l.raw ? 'seq and ack as sent (raw)' : "seq and ack relative to each side's initial sequence number (--raw: as sent); win scaled"),
    '',
  ];
  const header = ['frame', 'time', 'client', '', 'flags', 'seq', 'ack', 'len', 'win', 'server', ''];
  const cells = l.rows.map((r) => {
    const p = r.packet;
    const mark = (side: Side) => (r.changes.some((t) => t.side === side) ? '*' : '');
    return [
      r.frame === null ? '' : String(r.frame),
      seconds(r.ts - t0),
      ssName(r.client) + mark('client'),
      p === null ? '' : p.dir,
      p === null ? (r.frame === null ? '(timer)' : '(ICMP)') : p.flags,
      p === null ? '' : String(p.seq),
      p === null || p.ack === null ? '' : String(p.ack),
      p === null ? '' : String(p.len),
      p === null ? '' : String(p.win),
      ssName(r.server) + mark('server'),
      r.anomalies.map((k) => `[${k}]`).join(' '),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  const right = new Set([0, 1, 5, 6, 7, 8]);
  const line = (row: string[]) => row.map((cell, i) => (right.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  out.push(c.dim(line(header)));
  const indent = ' '.repeat(widths[0] + widths[1] + 4);
  l.rows.forEach((r, i) => {
    const row = cells[i];
    let text = line(row);
    if (r.anomalies.length > 0) text = text.replace(row[10], c.yellow(row[10]));
    out.push(r.changes.length > 0 ? c.bold(text) : text);
    for (const t of r.changes) {
      const change = `${t.side} ${ssName(t.from ?? 'CLOSED')} -> ${ssName(t.to)}`;
      out.push(`${indent}${c.cyan('^ ' + change)}${c.dim(`: ${t.cause}${t.inferred ? ' (inferred)' : ''}`)}`);
    }
  });
  if (l.findings.length > 0) {
    out.push('', c.bold('Findings:'));
    for (const x of l.findings) out.push(`  ${seconds(x.ts - t0)}  frame ${x.packet ?? '-'}  ${c.yellow(x.kind)} (${x.severity}): ${x.message}`);
  }
  return out.join('\n') + '\n';
}

export function ladderJson(l: Ladder): Record<string, unknown> {
  const f = l.flow;
  const t0 = l.rows.find((r) => r.frame !== null)?.ts ?? f.first_ts;
  return {
    capture: l.capture,
    flow: {
      id: f.id,
      flow_index: f.flow_index,
      client: formatEndpoint(f.client_addr, f.client_port),
      server: formatEndpoint(f.server_addr, f.server_port),
      first_packet: f.first_packet,
      last_packet: f.last_packet,
      end_reason: f.end_reason,
      conn_state: f.conn_state,
      history: f.history,
    },
    relative: !l.raw,
    rows: l.rows.map((r) => ({
      frame: r.frame,
      ts: r.ts,
      time: (r.ts - t0) / 1e6,
      ...(r.packet ?? { dir: null, flags: null, seq: null, ack: null, len: null, win: null }),
      client_state: r.client,
      server_state: r.server,
      transitions: r.changes.map((t) => ({ side: t.side, from: t.from, to: t.to, cause: t.cause, inferred: t.inferred })),
      anomalies: r.anomalies,
    })),
    findings: l.findings.map((x) => ({ kind: x.kind, severity: x.severity, packet: x.packet, ts: x.ts, side: x.side, message: x.message })),
  };
}
