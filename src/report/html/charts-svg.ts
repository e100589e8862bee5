/**
 * The report's charts as standalone SVG files (`tcpstate report --svg DIR`): each charted host's
 * sockets by state as stacked areas, the events per second with the findings marked, and the
 * ladders. The same numbers as the page's charts, drawn without a script.
 */
import { SS_NAMES } from '../../tcp/rfc793/tcp-state.js';
import { esc } from './escape.js';
import { ladderSvg, type LadderView } from './ladder-svg.js';
import { SOCKET_STATES, type HostSeries, type ReportModel } from './model.js';

const COLOURS: Record<string, string> = {
  SYN_SENT: '#f2c14e', SYN_RECEIVED: '#f78154', ESTABLISHED: '#4d9078', FIN_WAIT_1: '#b4d6d3', FIN_WAIT_2: '#5fad56',
  CLOSE_WAIT: '#d7263d', CLOSING: '#8e6c8a', LAST_ACK: '#a288e3', TIME_WAIT: '#7aa5d2',
};
const SEVERITY: Record<string, string> = { error: '#d7263d', warning: '#f08a24', note: '#7a7a9d', info: '#99aaaa' };

const W = 900;
const H = 300;
const PAD = { left: 60, right: 170, top: 30, bottom: 40 };

/** A round upper bound for an axis and its tick step. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((f) => f * p >= v) ?? 10) * p;
}

function frame(title: string, times: number[], ymax: number, ylabel: string): { head: string[]; x: (t: number) => number; y: (v: number) => number } {
  const span = Math.max(times[times.length - 1], 1e-6);
  const x = (t: number) => PAD.left + (t / span) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / ymax) * (H - PAD.top - PAD.bottom);
  const head = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="#fff"/>',
    `<text x="${PAD.left}" y="18" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#889"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#889"/>`,
    `<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 8}" text-anchor="middle" fill="#556">seconds since the first packet</text>`,
    `<text x="14" y="${(PAD.top + H - PAD.bottom) / 2}" transform="rotate(-90 14 ${(PAD.top + H - PAD.bottom) / 2})" text-anchor="middle" fill="#556">${esc(ylabel)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (ymax * i) / 4;
    head.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#556">${Number(v.toPrecision(4))}</text>`);
    const t = (span * i) / 4;
    head.push(`<text x="${x(t)}" y="${H - PAD.bottom + 16}" text-anchor="middle" fill="#556">${Number(t.toPrecision(4))}</text>`);
  }
  return { head, x, y };
}

export function statesSvg(m: ReportModel, h: HostSeries): string {
  const present = SOCKET_STATES.map((s, i) => ({ s, c: h.counts[i] })).filter((p): p is { s: (typeof SOCKET_STATES)[number]; c: number[] } => p.c !== null);
  const { head, x, y } = frame(`Sockets by state: ${h.host || 'all hosts'}`, m.times, niceMax(h.peak), 'sockets');
  const out = head;
  let below = m.times.map(() => 0);
  present.forEach(({ s, c }, j) => {
    const above = below.map((v, k) => v + c[k]);
    const top = m.times.map((t, k) => `${x(t).toFixed(1)},${y(above[k]).toFixed(1)}`);
    const bottom = m.times.map((t, k) => `${x(t).toFixed(1)},${y(below[k]).toFixed(1)}`).reverse();
    out.push(`<polygon class="area" data-state="${s}" points="${top.concat(bottom).join(' ')}" fill="${COLOURS[s]}" stroke="${COLOURS[s]}"/>`);
    out.push(`<rect x="${W - PAD.right + 12}" y="${PAD.top + j * 18}" width="12" height="12" fill="${COLOURS[s]}"/><text x="${W - PAD.right + 30}" y="${PAD.top + j * 18 + 10}">${SS_NAMES[s]} (max ${Math.max(...c)})</text>`);
    below = above;
  });
  if (present.length === 0) out.push(`<text x="${PAD.left + 20}" y="${PAD.top + 30}" fill="#556">no socket open during the capture</text>`);
  out.push('</svg>');
  return out.join('\n');
}

export function eventsSvg(m: ReportModel): string {
  const perSecond = 1e6 / m.step;
  const series: Array<[string, number[], string]> = [
    ['new connections/s', m.events.connections, '#4d9078'],
    ['resets/s', m.events.resets, '#d7263d'],
    ['retransmissions/s', m.events.retransmissions, '#f08a24'],
  ];
  const ymax = niceMax(Math.max(0, ...series.flatMap(([, v]) => v)) * perSecond);
  const { head, x, y } = frame('Events per second, findings marked', m.times, ymax, 'per second');
  const out = head;
  series.forEach(([name, v, colour], j) => {
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${m.times.map((t, k) => `${x(t).toFixed(1)},${y(v[k] * perSecond).toFixed(1)}`).join(' ')}"/>`);
    out.push(`<rect x="${W - PAD.right + 12}" y="${PAD.top + j * 18}" width="12" height="3" fill="${colour}"/><text x="${W - PAD.right + 30}" y="${PAD.top + j * 18 + 6}">${name}</text>`);
  });
  for (const mk of m.marks) {
    const px = x(mk.t).toFixed(1);
    out.push(`<path d="M${px} ${PAD.top + 10}l-5 -10h10z" fill="${SEVERITY[mk.severity] ?? '#999'}"><title>${esc(`${mk.kind} (${mk.severity}) +${mk.t.toFixed(6)} s${mk.flow !== null ? `, flow ${mk.flow}` : ''}: ${mk.message}`)}</title></path>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** File name -> SVG text, for every chart of the report. */
export function svgFiles(m: ReportModel, ladders: LadderView[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const h of m.hosts) files.set(`states-${h.host === '' ? 'all' : h.host.replace(/:/g, '_')}.svg`, statesSvg(m, h));
  files.set('events.svg', eventsSvg(m));
  for (const l of ladders) files.set(`ladder-${l.flow}.svg`, ladderSvg(l, true));
  return files;
}
