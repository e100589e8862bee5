/** The short terminal summary printed after each capture. Only report rendering imports chalk. */
import { Chalk, supportsColor, type ChalkInstance } from 'chalk';
import type { CaptureSummary } from '../analyze/capture.js';
import { linkTypeName } from '../decode/link-names.js';

/** Colour when writing to a terminal, unless NO_COLOR is set (https://no-color.org) or FORCE_COLOR says otherwise. */
export function makeChalk(isTTY: boolean, env: NodeJS.ProcessEnv): ChalkInstance {
  let level: 0 | 1 | 2 | 3 = 0;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') {
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

export function renderSummary(s: CaptureSummary, c: ChalkInstance): string {
  const label = s.name === '-' ? '<stdin>' : s.name;
  const statusText =
    s.status === 'complete' ? c.green('complete') : s.status === 'truncated' ? c.yellow('truncated') : c.red('error');
  const kind = [s.format ?? 'unreadable', s.compression, s.linkTypes.map(linkTypeName).join('+') || null].filter(Boolean).join(', ');
  const lines = [`${c.bold(label)}  ${c.dim(kind)}  ${statusText}`];
  if (s.format !== null) {
    lines.push(
      `  ${s.packets} packets, ${c.bold(String(s.tcpPackets))} TCP` +
        (s.firstTs !== null ? `  ${formatTime(s.firstTs)} .. ${formatTime(s.lastTs)} (${duration(s.firstTs, s.lastTs)})` : ''),
    );
  }
  if (s.flows > 0) {
    const states = Object.entries(s.endStates).sort((a, b) => b[1] - a[1]);
    lines.push(
      `  ${c.bold(String(s.flows))} TCP connection${s.flows === 1 ? '' : 's'}` +
        (states.length > 0 ? `; sockets at the end: ${states.map(([k, n]) => `${k} ${n}`).join(', ')}` : '; no socket left at the end'),
    );
  }
  const kinds = Object.entries(s.findings).sort((a, b) => b[1] - a[1]);
  if (kinds.length > 0) lines.push(`  ${c.yellow('findings:')} ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const skipped = s.counters.entries().filter(([k]) => k !== 'tcp');
  if (skipped.length > 0) lines.push(`  ${c.dim('decode:')} ${skipped.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return lines.join('\n') + '\n';
}

/** The JSON form of a summary (stable keys, snake_case like the database). */
export function summaryJson(s: CaptureSummary): Record<string, unknown> {
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
    flows: s.flows,
    end_states: s.endStates,
    findings: s.findings,
  };
}
