/**
 * The report as one HTML file: styles, uPlot, the page's script and its data inlined, nothing
 * fetched. The overview and the tables are HTML made here; the charts are drawn in the page from
 * the data; the ladders are SVG made here (ladder-svg.ts), one section each, shown one at a time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { formatEndpoint } from '../../util/address.js';
import { SS_NAMES } from '../../tcp/rfc793/tcp-state.js';
import { formatTime } from '../summary.js';
import { ssName, thousands } from '../text.js';
import { CLIENT_JS } from './client.js';
import { esc, scriptJson } from './escape.js';
import { ladderSvg, type LadderView } from './ladder-svg.js';
import { SOCKET_STATES, type ReportModel } from './model.js';

const require = createRequire(import.meta.url);

/** uPlot's script and styles, as installed (package uplot). */
function uplot(): { js: string; css: string } {
  return {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 24px 48px; color: #223; max-width: 1100px; }
h1 { font-size: 20px; margin: 16px 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 1px solid #dde; }
.dim { color: #667; } table { border-collapse: collapse; } td, th { padding: 2px 8px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; } tr:nth-child(even) td { background: #f5f6fa; }
.glance { display: flex; gap: 32px; flex-wrap: wrap; } .glance div b { display: block; font-size: 18px; }
.error { color: #d7263d; } .warning { color: #f08a24; } .note { color: #7a7a9d; }
#census tr.picked td { font-weight: bold; } #census td { text-align: right; } #census td:first-child { text-align: left; }
#tip { position: absolute; max-width: 520px; background: #fffbe6; border: 1px solid #cc9; padding: 4px 8px; font-size: 12px; pointer-events: none; }
#errors { color: #d7263d; } section.ladder { overflow-x: auto; } .msg { max-width: 560px; }
`;

function overview(m: ReportModel): string {
  const c = m.capture;
  const span = c.first_ts !== null && c.last_ts !== null ? `${((c.last_ts - c.first_ts) / 1e6).toFixed(3)} s` : '-';
  const glance = [
    ['packets', thousands(c.packets)],
    ['TCP packets', thousands(c.tcp_packets)],
    ['connections', thousands(m.connections)],
    ['time span', span],
    ...['error', 'warning', 'note', 'info'].map((s) => [`${s} findings`, thousands(m.severities[s] ?? 0)]),
  ];
  const outcomes = m.outcomes.map(([s, n]) => `<tr><td>${esc(s)}</td><td class="n">${thousands(n)}</td></tr>`).join('');
  const kinds = m.kinds
    .map((k) => `<tr><td>${esc(k.kind)}</td><td class="${esc(k.severity)}">${esc(k.severity)}</td><td class="n">${thousands(k.n)}</td></tr>`)
    .join('');
  return `
<h1>${esc(c.name)}</h1>
<div class="dim">${esc(c.format ?? 'unreadable')}${c.compression ? `, ${esc(c.compression)}` : ''}, ${esc(c.status)}${c.error ? `: ${esc(c.error)}` : ''}; ${formatTime(c.first_ts)} .. ${formatTime(c.last_ts)}</div>
<div class="glance">${glance.map(([k, v]) => `<div><b>${v}</b>${k}</div>`).join('')}</div>
<div class="glance">
<div><h2>Outcomes (Zeek conn_state)</h2><table>${outcomes || '<tr><td>none</td></tr>'}</table></div>
<div><h2>Findings by kind</h2><table>${kinds || '<tr><td>none</td></tr>'}</table></div>
</div>`;
}

function link(flow: number | null, ladders: Set<number>): string {
  if (flow === null) return '';
  return ladders.has(flow) ? `<a href="#flow=${flow}">ladder ${flow}</a>` : `<span class="dim">flow ${flow}</span>`;
}

function worstTable(m: ReportModel, ladders: Set<number>): string {
  const rows = m.worst.map(
    (w) => `<tr><td class="n">${link(w.flow_index, ladders)}</td><td>${esc(formatEndpoint(w.client_addr, w.client_port))} &rarr; ${esc(formatEndpoint(w.server_addr, w.server_port))}</td>
<td class="n">+${((w.first_ts - m.t0) / 1e6).toFixed(3)}</td><td class="n">${((w.last_ts - w.first_ts) / 1e6).toFixed(3)}</td>
<td class="n">${thousands(w.client_packets + w.server_packets)}</td><td>${ssName(w.client_state)} / ${ssName(w.server_state)}</td><td>${esc(w.end_reason)}</td>
<td class="n error">${w.errors || ''}</td><td class="n warning">${w.warnings || ''}</td><td class="n">${w.findings || ''}</td></tr>`,
  );
  return `<table id="worst"><tr><th>flow</th><th>client &rarr; server</th><th class="n">start (s)</th><th class="n">duration (s)</th><th class="n">packets</th><th>states at the end</th><th>ended</th><th class="n">errors</th><th class="n">warnings</th><th class="n">findings</th></tr>${rows.join('')}</table>`;
}

function episodesTable(m: ReportModel, ladders: Set<number>): string {
  if (m.episodes.length === 0) return '<p class="dim">No flood, TIME_WAIT pile-up or port exhaustion was found.</p>';
  const rows = m.episodes.map(
    (e) => `<tr><td>${esc(e.kind)}</td><td class="${esc(e.severity)}">${esc(e.severity)}</td><td>${esc(e.where)}</td><td class="n">+${e.t.toFixed(3)}</td><td class="msg">${esc(e.message)}</td><td>${link(e.flow, ladders)}</td></tr>`,
  );
  return `<table id="episodes"><tr><th>kind</th><th>severity</th><th>where</th><th class="n">time (s)</th><th>what</th><th>a connection of it</th></tr>${rows.join('')}</table>`;
}

function ladderSection(v: LadderView): string {
  const findings = v.findings.map((f) => `<li><span class="${esc(f.severity)}">${esc(f.kind)}</span>: ${esc(f.message)}</li>`).join('');
  return `<section class="ladder" data-flow="${v.flow}" hidden>
<h2>Flow ${v.flow}: ${esc(v.client)} (client) &rarr; ${esc(v.server)} (server)</h2>
${v.note !== null ? `<p class="dim">${esc(v.note)}</p>` : ''}${findings ? `<ul>${findings}</ul>` : ''}
${ladderSvg(v)}
</section>`;
}

/** The page's data: numbers for the charts and the census at the cursor. */
function pageData(m: ReportModel): unknown {
  return {
    t0: m.t0,
    step: m.step,
    times: m.times,
    rfc: SOCKET_STATES,
    states: SOCKET_STATES.map((s) => SS_NAMES[s]),
    hosts: m.hosts.map((h) => ({ host: h.host, peak: h.peak, counts: h.counts })),
    events: m.events,
    marks: m.marks,
  };
}

export function reportHtml(m: ReportModel, ladders: LadderView[]): string {
  const { js, css } = uplot();
  const have = new Set(ladders.map((l) => l.flow));
  const step = m.step >= 1e6 ? `${m.step / 1e6} s` : `${m.step / 1000} ms`;
  const others = m.hostsTotal - (m.hosts.length - 1);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>tcpstate report: ${esc(m.capture.name)}</title>
<style>${css}</style><style>${STYLE}</style>
</head><body>
<pre id="errors" hidden></pre>
${overview(m)}
<h2>Sockets by state over time</h2>
<p class="dim">What <code>ss -tan</code> would have counted on a host, by state, every ${step} (as <code>tcpstate census --at</code> gives it). Host:
<select id="host"></select>${others > 0 ? ` (the ${m.hosts.length - 1} busiest of ${thousands(m.hostsTotal)} hosts; "all hosts" counts every one)` : ''}</p>
${m.episodes.some((e) => e.kind === 'syn_flood') ? '<p class="dim">"All hosts" counts the SYN-SENT attempts of a SYN flood\'s (usually spoofed) sources, which <code>census</code> leaves out.</p>' : ''}
<div id="states"></div>
<h2>Events</h2>
<p class="dim">New connections, resets (refused included) and retransmitted packets per second, counted per ${step}; findings marked on top (hover: what; click: its connection)${m.marksTotal > m.marks.length ? `; the ${thousands(m.marks.length)} most severe of ${thousands(m.marksTotal)}` : ''}.</p>
<div id="events"></div>
<div id="tip" hidden></div>
<h2>Census at <span id="census-at"></span></h2>
<p class="dim">Move over a chart to choose the moment; a click keeps it in the address (#t=SECONDS).</p>
<table id="census"></table>
<h2>Worst connections</h2>
${worstTable(m, have)}
<h2>Floods and pile-ups</h2>
${episodesTable(m, have)}
<p id="no-ladder" class="dim" hidden></p>
${ladders.map(ladderSection).join('\n')}
<script type="application/json" id="data">${scriptJson(pageData(m))}</script>
<script>${js}</script>
<script>${CLIENT_JS}</script>
</body></html>
`;
}
