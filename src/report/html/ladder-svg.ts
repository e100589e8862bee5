/**
 * A connection as a sequence diagram in SVG: the client and the server as two vertical lines,
 * one arrow per packet with its flags, seq, ack and length, each side's state written beside
 * its line where it changes, findings marked on their packet. The same SVG goes into the HTML
 * report and, with `--svg DIR`, into a file of its own.
 */
import { formatEndpoint } from '../../util/address.js';
import type { FlowRow } from '../../sink/read.js';
import { Cause, causeTexts } from '../../tcp/rfc793/causes.js';
import type { Ladder, LadderFinding, LadderTransition } from '../ladder.js';
import { ssName } from '../text.js';
import { esc } from './escape.js';
import { PACKET_KINDS } from './model.js';

const PACKET_KIND_SET = new Set(PACKET_KINDS);

export interface LadderStep {
  frame: number | null;
  /** Seconds from the flow's first packet. */
  t: number;
  /** Who sent it; null for a row without a packet (a timer, an inference). */
  dir: 'c2s' | 's2c' | null;
  label: string;
  changes: Array<{ side: 'client' | 'server'; to: string; cause: string; inferred: boolean }>;
  /** Finding kinds on the packet. */
  findings: string[];
}

export interface LadderView {
  flow: number;
  client: string;
  server: string;
  /** How the packets were had, and what is missing (null: every packet of the flow, from the capture). */
  note: string | null;
  steps: LadderStep[];
  /** Steps left out past the cap. */
  omitted: number;
  findings: Array<{ kind: string; severity: string; message: string }>;
}

/** Packets drawn per ladder at most: a diagram past this is no longer read (`tcpstate flow` lists them all). */
export const LADDER_ROWS = 200;

function endpoints(f: FlowRow): { client: string; server: string } {
  return { client: formatEndpoint(f.client_addr, f.client_port), server: formatEndpoint(f.server_addr, f.server_port) };
}

const change = (t: LadderTransition) => ({ side: t.side, to: t.to, cause: t.cause, inferred: t.inferred });

function cap(steps: LadderStep[]): { steps: LadderStep[]; omitted: number } {
  return steps.length <= LADDER_ROWS ? { steps, omitted: 0 } : { steps: steps.slice(0, LADDER_ROWS), omitted: steps.length - LADDER_ROWS };
}

/** The ladder of `tcpstate flow` (every packet, read from the capture) as steps. */
export function fromLadder(l: Ladder, findings: readonly LadderFinding[]): LadderView {
  const t0 = l.rows.find((r) => r.frame !== null)?.ts ?? l.flow.first_ts;
  const steps = l.rows.map((r): LadderStep => {
    const p = r.packet;
    return {
      frame: r.frame,
      t: (r.ts - t0) / 1e6,
      dir: p === null ? null : p.dir === '->' ? 'c2s' : 's2c',
      label: p === null ? (r.frame === null ? '(timer)' : '(ICMP)') : `${p.flags} seq=${p.seq}${p.ack === null ? '' : ` ack=${p.ack}`} len=${p.len}`,
      changes: r.changes.map(change),
      findings: r.anomalies,
    };
  });
  return { flow: l.flow.flow_index, ...endpoints(l.flow), note: null, ...cap(steps), findings: connFindings(findings) };
}

/** Which end sent the packet that caused a change (self: the side that changed), and what it carried. */
const PACKET_CAUSES = new Map<number, ['self' | 'peer', string]>([
  [Cause.SENT_SYN, ['self', 'SYN']],
  [Cause.SENT_SYN_ACK_SYN_UNSEEN, ['self', 'SYN-ACK']],
  [Cause.SENT_FIN_ACTIVE, ['self', 'FIN']],
  [Cause.SENT_FIN_PASSIVE, ['self', 'FIN']],
  [Cause.SENT_RST, ['self', 'RST']],
  [Cause.RECEIVED_SYN_ACK, ['peer', 'SYN-ACK']],
  [Cause.RECEIVED_SYN_ACK_SIMULTANEOUS, ['peer', 'SYN-ACK']],
  [Cause.RECEIVED_SYN_SIMULTANEOUS, ['peer', 'SYN']],
  [Cause.RECEIVED_SYN_PASSIVE, ['peer', 'SYN']],
  [Cause.TIME_WAIT_REUSED, ['peer', 'SYN']],
  [Cause.RECEIVED_FIN_AFTER_HOLE, ['peer', 'FIN']],
  [Cause.RECEIVED_FIN, ['peer', 'FIN']],
  [Cause.RECEIVED_FIN_WITH_ACK_OF_FIN, ['peer', 'FIN (with the ACK of a FIN)']],
  [Cause.RECEIVED_FIN_SIMULTANEOUS, ['peer', 'FIN']],
  [Cause.RECEIVED_RST_BACK_TO_LISTEN, ['peer', 'RST']],
  [Cause.RECEIVED_RST_IN_TIME_WAIT, ['peer', 'RST']],
  [Cause.RECEIVED_RST_REFUSED, ['peer', 'RST']],
  [Cause.RECEIVED_RST, ['peer', 'RST']],
  [Cause.RECEIVED_ACK_SYN_COOKIE, ['peer', 'ACK']],
  [Cause.RECEIVED_ACK_OF_SYN, ['peer', 'ACK']],
  [Cause.RECEIVED_ACK_OF_FIN, ['peer', 'ACK']],
  [Cause.RECEIVED_ACK_OF_FIN_RETRANSMITTED, ['peer', 'ACK']],
  // An ICMP error comes towards the end that changed (from its peer or a router on the way).
  [Cause.RECEIVED_ICMP_NET_UNREACHABLE, ['peer', 'ICMP']],
  [Cause.RECEIVED_ICMP_HOST_UNREACHABLE, ['peer', 'ICMP']],
  [Cause.RECEIVED_ICMP_PORT_UNREACHABLE, ['peer', 'ICMP']],
  [Cause.RECEIVED_ICMP_PROHIBITED, ['peer', 'ICMP']],
  [Cause.RECEIVED_ICMP_ERROR, ['peer', 'ICMP']],
  [Cause.RECEIVED_ICMP_REQUEST_DROPPED, ['peer', 'ICMP']],
]);
/** The stored cause texts back to their codes (the texts of packet causes carry no timer value). */
const CAUSE_CODES = new Map(causeTexts(0, 0).map((text, code) => [text, code]));

/**
 * A ladder from the database alone, when the capture is not read again: the packets the
 * transitions and findings name, their sender told by the cause of the change they made (or the
 * finding's side), their flags by that cause; sequence numbers and lengths are not stored.
 */
export function fromDatabase(
  flow: FlowRow & { client_packets?: number; server_packets?: number },
  transitions: readonly LadderTransition[],
  findings: readonly LadderFinding[],
  why: string,
): LadderView {
  interface Draft {
    frame: number | null;
    ts: number;
    dir: 'c2s' | 's2c' | null;
    flags: string;
    changes: LadderStep['changes'];
    findings: string[];
  }
  const byFrame = new Map<number, Draft>();
  const drafts: Draft[] = [];
  const draft = (frame: number | null, ts: number): Draft => {
    if (frame !== null && byFrame.has(frame)) return byFrame.get(frame)!;
    const d: Draft = { frame, ts, dir: null, flags: '', changes: [], findings: [] };
    drafts.push(d);
    if (frame !== null) byFrame.set(frame, d);
    return d;
  };
  for (const t of transitions) {
    const d = draft(t.packet, t.ts);
    d.changes.push(change(t));
    const how = PACKET_CAUSES.get(CAUSE_CODES.get(t.cause) ?? -1);
    if (t.packet !== null && how !== undefined && d.dir === null) {
      const sender = how[0] === 'self' ? t.side : t.side === 'client' ? 'server' : 'client';
      d.dir = sender === 'client' ? 'c2s' : 's2c';
      d.flags = how[1];
    }
  }
  for (const f of findings) {
    if (f.packet === null) continue;
    const d = draft(f.packet, f.ts);
    if (!d.findings.includes(f.kind)) d.findings.push(f.kind);
    if (d.dir === null && f.side !== null) d.dir = f.side === 'client' ? 'c2s' : 's2c';
  }
  drafts.sort((a, b) => a.ts - b.ts || (a.frame ?? Infinity) - (b.frame ?? Infinity));
  const t0 = flow.first_ts;
  const steps = drafts.map(
    (d): LadderStep => ({
      frame: d.frame,
      t: (d.ts - t0) / 1e6,
      dir: d.frame === null ? null : d.dir,
      label: d.frame === null ? '(timer)' : d.flags === '' ? `frame ${d.frame}` : d.flags,
      changes: d.changes,
      findings: d.findings,
    }),
  );
  const packets = flow.client_packets !== undefined && flow.server_packets !== undefined ? flow.client_packets + flow.server_packets : null;
  const shown = steps.filter((s) => s.frame !== null).length;
  const note = `${shown}${packets === null ? '' : ` of ${packets}`} packets: only those the database names (a state change or a finding), without seq, ack or length; ${why}`;
  return { flow: flow.flow_index, ...endpoints(flow), note, ...cap(steps), findings: connFindings(findings) };
}

function connFindings(findings: readonly LadderFinding[]): LadderView['findings'] {
  return findings.filter((f) => !PACKET_KIND_SET.has(f.kind)).map((f) => ({ kind: f.kind, severity: f.severity, message: f.message }));
}

const ROW = 30;
const TOP = 64;
const CLIENT_X = 300;
const SERVER_X = 640;
const WIDTH = 1000;

/** The diagram. Every text is escaped; the states carry data-side and data-state (RFC names) for tools. */
export function ladderSvg(v: LadderView, standalone = false): string {
  const height = TOP + v.steps.length * ROW + 40 + (v.omitted > 0 ? 20 : 0);
  const out: string[] = [];
  out.push(
    `<svg class="ladder" data-flow="${v.flow}" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="12">`,
  );
  if (standalone) out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#334"/></marker></defs>',
    `<text x="${CLIENT_X}" y="20" text-anchor="middle" font-weight="bold">client ${esc(v.client)}</text>`,
    `<text x="${SERVER_X}" y="20" text-anchor="middle" font-weight="bold">server ${esc(v.server)}</text>`,
    `<text x="8" y="44" fill="#667">time (s)  frame</text>`,
    `<line x1="${CLIENT_X}" y1="30" x2="${CLIENT_X}" y2="${height - 20}" stroke="#99a" stroke-width="2"/>`,
    `<line x1="${SERVER_X}" y1="30" x2="${SERVER_X}" y2="${height - 20}" stroke="#99a" stroke-width="2"/>`,
  );
  v.steps.forEach((s, i) => {
    const y = TOP + i * ROW;
    out.push(`<g class="step" data-frame="${s.frame ?? ''}">`);
    out.push(`<text x="8" y="${y + 4}" fill="#667">${s.t.toFixed(6)}  ${s.frame ?? ''}</text>`);
    if (s.dir !== null) {
      const [x1, x2] = s.dir === 'c2s' ? [CLIENT_X, SERVER_X] : [SERVER_X, CLIENT_X];
      const colour = s.findings.length > 0 ? '#c60' : '#334';
      out.push(
        `<line x1="${x1}" y1="${y - 6}" x2="${x2}" y2="${y + 10}" stroke="${colour}" stroke-width="1.5" marker-end="url(#arrow)"/>`,
        `<text x="${(CLIENT_X + SERVER_X) / 2}" y="${y - 4}" text-anchor="middle" class="pkt">${esc(s.label)}</text>`,
      );
    } else {
      out.push(`<text x="${(CLIENT_X + SERVER_X) / 2}" y="${y + 4}" text-anchor="middle" fill="#667" font-style="italic">${esc(s.label)}</text>`);
    }
    for (const c of s.changes) {
      const client = c.side === 'client';
      const x = client ? CLIENT_X - 10 : SERVER_X + 10;
      out.push(
        `<text class="state" data-side="${c.side}" data-state="${esc(c.to)}"${c.inferred ? ' data-inferred="1"' : ''} x="${x}" y="${y + 4 + (s.changes.filter((o) => o.side === c.side).indexOf(c) * 13)}" text-anchor="${client ? 'end' : 'start'}" font-weight="bold" fill="#06c"><title>${esc(`${c.side}: ${c.cause}${c.inferred ? ' (inferred)' : ''}`)}</title>${esc(ssName(c.to))}</text>`,
      );
    }
    if (s.findings.length > 0) {
      out.push(`<text class="finding" x="${SERVER_X + 130}" y="${y + 4}" fill="#c60">${esc(s.findings.map((k) => `[${k}]`).join(' '))}</text>`);
    }
    out.push('</g>');
  });
  if (v.omitted > 0) out.push(`<text x="8" y="${TOP + v.steps.length * ROW + 10}" fill="#667">${v.omitted} more rows: tcpstate flow DB ${v.flow} lists them all</text>`);
  out.push('</svg>');
  return out.join('\n');
}
