/** What analyze --follow prints as it goes: a finding per line, and a one-line census of the sockets. */
import type { LiveCounts } from '../pipeline.js';
import type { Finding } from '../detect/finding.js';
import { printableLines } from '../reader/index.js';
import { formatTime } from './summary.js';
import { ssName, thousands } from './text.js';

/**
 * `2026-11-21 05:55:38.348269Z  retransmission  flow 3 client (198.51.100.7:40000 -> 192.0.2.80:443)  [TCP Retransmission]`;
 * `ends`: the connection's two ends, when known.
 */
export function findingLine(f: Finding, ends: string | null = null): string {
  const flow = f.flow === null ? 'host' : `flow ${f.flow}${f.side === null ? '' : ` ${f.side}`}`;
  const where = ends === null ? flow : `${flow} (${printableLines(ends)})`;
  return `${formatTime(f.ts)}  ${f.kind}  ${where}  ${printableLines(f.message).replace(/\n/g, ' ')}\n`;
}

/** `2026-11-21 05:55:40.000000Z  census: 12 connections live: ESTAB 20, TIME-WAIT 3; 1,234 packets, 35 findings` */
export function censusLine(counts: LiveCounts, states: Record<string, number>): string {
  const byState = Object.entries(states)
    .sort((a, b) => b[1] - a[1])
    .map(([s, n]) => `${ssName(s)} ${thousands(n)}`)
    .join(', ');
  const live = `${thousands(counts.liveFlows)} connection${counts.liveFlows === 1 ? '' : 's'} live${byState === '' ? '' : `: ${byState}`}`;
  // A live capture past its memory budget says so at each census, not only in the finding at its end.
  const evicted = (counts.evicted ?? 0) > 0 ? `; ${thousands(counts.evicted!)} evicted at the memory budget (--max-connections)` : '';
  return `${formatTime(counts.lastTs)}  census: ${live}; ${thousands(counts.packets)} packets, ${thousands(counts.findings)} findings${evicted}\n`;
}
