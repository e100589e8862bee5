/** The short terminal summary printed after each capture. Only report rendering imports chalk. */
import { Chalk, supportsColor, type ChalkInstance } from 'chalk';
import type { CaptureSummary } from '../pipeline.js';
import { linkTypeName } from '../decode/link-names.js';
import { KINDS } from '../detect/catalogue.js';
import type { Severity } from '../detect/finding.js';
import { printable } from '../reader/index.js';
import { plural, ssName, thousands } from './text.js';

/**
 * What the summary shows of a capture: all of an analysis's summary but its memory figures, so
 * that one rebuilt from a database (`tcpstate summary`) renders the same way.
 */
export type SummaryInput = Omit<CaptureSummary, 'counters' | 'interfaces' | 'peakLiveFlows' | 'findingsBySeverity'> & {
  counters: { entries(): Array<[string, number]> };
};

/**
 * Colour when writing to a terminal, unless NO_COLOR is set (https://no-color.org) or FORCE_COLOR
 * says otherwise; `enabled` false (--no-color) turns it off whatever the environment says.
 */
export function makeChalk(isTTY: boolean, env: NodeJS.ProcessEnv, enabled = true): ChalkInstance {
  let level: 0 | 1 | 2 | 3 = 0;
  if (!enabled) level = 0;
  else if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') {
    level = (Math.min(3, Math.max(1, Number(env.FORCE_COLOR) || 1)) as 1 | 2 | 3);
  } else if (isTTY && !env.NO_COLOR && env.TERM !== 'dumb') {
    level = supportsColor ? supportsColor.level : 1;
  }
  return new Chalk({ level });
}

export function formatTime(us: number | null): string {
  if (us === null) return '-';
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return `${us} us`;
  const frac = String(us % 1_000_000).padStart(6, '0');
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${frac}Z`;
}

function duration(first: number | null, last: number | null): string {
  if (first === null || last === null) return '';
  const s = (last - first) / 1e6;
  return s < 60 ? `${s.toFixed(3)} s` : s < 3600 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;
}

/** Zeek's conn_state values, in Zeek's words (base/protocols/conn/main.zeek). */
export const CONN_STATES: Record<string, string> = {
  SF: 'normal establishment and termination',
  S0: 'attempt seen, no reply',
  REJ: 'attempt rejected',
  S1: 'established, not terminated',
  S2: 'established, close attempt by originator seen, no reply from responder',
  S3: 'established, close attempt by responder seen, no reply from originator',
  RSTO: 'established, originator aborted (RST)',
  RSTR: 'responder sent a RST',
  RSTOS0: 'originator sent a SYN then a RST, no SYN-ACK seen',
  RSTRH: 'responder sent a SYN-ACK then a RST, no SYN seen',
  SH: 'originator sent a SYN then a FIN, no SYN-ACK seen (half open)',
  SHR: 'responder sent a SYN-ACK then a FIN, no SYN seen',
  OTH: 'no SYN seen, midstream traffic',
};

const SEVERITY_ORDER: readonly Severity[] = ['info', 'note', 'warning', 'error'];

const byCount = (o: Record<string, number>) => Object.entries(o).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
const counted = (o: Record<string, number>) => byCount(o).map(([k, n]) => `${k} ${thousands(n)}`).join(', ');
/** State -> sockets with ss's names (the JSON keeps the database's RFC names). */
const ssCounts = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, n]) => [ssName(k), n]));
/** The first sentence of a kind's meaning: one line of explanation. */
const firstSentence = (text: string) => /^.*?[.:](?=\s|$)/.exec(text)?.[0].replace(/:$/, '.') ?? text;
const HOSTS_SHOWN = 10;

function worstSeverity(sev: Partial<Record<Severity, number>> | undefined): Severity | null {
  if (sev === undefined) return null;
  return [...SEVERITY_ORDER].reverse().find((s) => sev[s] !== undefined) ?? null;
}

function hostsBySockets(hosts: Record<string, Record<string, number>>): Array<[string, Record<string, number>, number]> {
  return Object.entries(hosts)
    .map(([h, st]) => [h, st, Object.values(st).reduce((a, b) => a + b, 0)] as [string, Record<string, number>, number])
    .sort((a, b) => b[2] - a[2] || (a[0] < b[0] ? -1 : 1));
}

export function renderSummary(s: SummaryInput, c: ChalkInstance): string {
  const label = s.name === '-' ? '<stdin>' : printable(s.name);
  // A database read while analyze --follow writes it holds `running` (no CaptureStatus: never a finished capture's).
  const status: string = s.status;
  const statusText = status === 'complete' ? c.green(status) : status === 'error' ? c.red(status) : c.yellow(status);
  const kind = [s.format ?? 'unreadable', s.compression, s.linkTypes.map(linkTypeName).join('+') || null].filter(Boolean).join(', ');
  const lines = [`${c.bold(label)}  ${c.dim(kind)}  ${statusText}`];
  if (s.format !== null) {
    lines.push(
      `  ${plural(s.packets, 'packet')}, ${c.bold(thousands(s.tcpPackets))} TCP` +
        (s.firstTs !== null ? `  ${formatTime(s.firstTs)} .. ${formatTime(s.lastTs)} (${duration(s.firstTs, s.lastTs)})` : ''),
    );
  }
  if (s.flows > 0) {
    lines.push(
      `  ${c.bold(thousands(s.flows))} TCP connection${s.flows === 1 ? '' : 's'}` +
        (Object.keys(s.endStates).length > 0 ? `; sockets at the end: ${counted(ssCounts(s.endStates))}` : '; no socket left at the end'),
    );
  }
  const outcomes = byCount(s.zeekConnStates);
  if (outcomes.length > 0) {
    lines.push(`  ${c.dim('outcomes (Zeek conn_state):')}`);
    for (const [state, n] of outcomes) lines.push(`    ${state.padEnd(6)} ${thousands(n).padStart(6)}  ${c.dim(CONN_STATES[state] ?? '')}`.trimEnd());
  }
  if (Object.keys(s.hostEndStates).length > 0) {
    const hosts = hostsBySockets(s.hostEndStates);
    lines.push(`  ${c.dim('sockets at the end, per host:')}`);
    const width = Math.max(...hosts.slice(0, HOSTS_SHOWN).map(([h]) => h.length));
    for (const [h, states] of hosts.slice(0, HOSTS_SHOWN)) lines.push(`    ${h.padEnd(width)}  ${counted(ssCounts(states))}`);
    if (hosts.length > HOSTS_SHOWN || s.hostEndStatesOmitted > 0) {
      const more =
        s.hostEndStatesOmitted > 0
          ? `over ${thousands(hosts.length - HOSTS_SHOWN)} more hosts, and ${plural(s.hostEndStatesOmitted, 'socket')} on hosts past the first ${thousands(hosts.length)}`
          : `${thousands(hosts.length - HOSTS_SHOWN)} more hosts`;
      lines.push(c.dim(`    ... and ${more} (tcpstate census lists them all)`));
    }
  }
  const kinds = byCount(s.findings);
  if (kinds.length > 0) {
    lines.push(`  ${c.yellow('findings:')}`);
    const width = Math.max(...kinds.map(([k]) => k.length));
    for (const [k, n] of kinds) {
      const sev = worstSeverity(s.findingSeverities[k]);
      const sevText = sev === null ? '' : sev === 'error' ? c.red(sev.padEnd(7)) : sev === 'warning' ? c.yellow(sev.padEnd(7)) : sev.padEnd(7);
      const meaning = KINDS[k] ? firstSentence(KINDS[k].meaning) : '';
      lines.push(`    ${k.padEnd(width)} ${thousands(n).padStart(6)}  ${sevText}${sev === null ? '' : '  '}${c.dim(meaning)}`.trimEnd());
    }
  }
  if (s.worstFlows.length > 0) {
    lines.push(`  ${c.dim('worst connections (tcpstate flow CAPTURE N shows one):')}`);
    for (const w of s.worstFlows) {
      const sev = [w.errors > 0 ? c.red(`${w.errors} error${w.errors === 1 ? '' : 's'}`) : '', w.warnings > 0 ? c.yellow(`${w.warnings} warning${w.warnings === 1 ? '' : 's'}`) : '']
        .filter(Boolean)
        .join(', ');
      lines.push(`    #${w.flow} ${w.client} -> ${w.server}  ${sev}: ${w.kinds.join(', ')}`);
    }
  }
  const skipped = s.counters.entries().filter(([k]) => k !== 'tcp');
  if (skipped.length > 0) lines.push(`  ${c.dim('decode:')} ${skipped.map(([k, n]) => `${k} ${thousands(n)}`).join(', ')}`);
  for (const w of s.warnings ?? []) lines.push(`  ${c.yellow('warning:')} ${w}`);
  return lines.join('\n') + '\n';
}

/** The JSON form of a summary (stable keys, snake_case like the database); documented in the README. */
export function summaryJson(s: SummaryInput): Record<string, unknown> {
  return {
    name: s.name,
    format: s.format,
    compression: s.compression,
    link_types: s.linkTypes,
    packets: s.packets,
    tcp_packets: s.tcpPackets,
    bytes: s.bytes,
    first_ts: s.firstTs,
    last_ts: s.lastTs,
    status: s.status,
    error: s.error,
    error_offset: s.errorOffset,
    error_record: s.errorRecord,
    decode: Object.fromEntries(s.counters.entries()),
    warnings: s.warnings ?? [],
    flows: s.flows,
    end_states: s.endStates,
    findings: s.findings,
    conn_states: s.zeekConnStates,
    host_end_states: Object.fromEntries(hostsBySockets(s.hostEndStates).map(([h, st]) => [h, st])),
    host_end_states_omitted: s.hostEndStatesOmitted,
    worst_flows: s.worstFlows,
    finding_kinds: byCount(s.findings).map(([kind, count]) => ({
      kind,
      count,
      severities: s.findingSeverities[kind] ?? null,
      title: KINDS[kind]?.title ?? null,
      meaning: KINDS[kind] ? firstSentence(KINDS[kind].meaning) : null,
    })),
  };
}
