/**
 * The analyze summary: outcomes (Zeek conn_state), each host's sockets at the end (equal to
 * what ss counted on the kernel samples), findings by kind with severity and one line of
 * explanation, and the same as JSON.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture, type CaptureSummary } from '../src/pipeline.js';
import { KINDS } from '../src/detect/catalogue.js';
import { openSource } from '../src/reader/index.js';
import { makeChalk, renderSummary, summaryJson } from '../src/report/summary.js';
import { SS_NAMES, type TcpStateName } from '../src/tcp/rfc793/tcp-state.js';
import { repoRoot } from './helpers.js';
import { stackFlowOptions, type Sysctls } from '../scripts/kernel/timeline.js';
import { cli, kernelSamples, tempDir } from './report-io.js';

const plain = makeChalk(false, {});

async function summarise(capture: string, sysctls?: Sysctls): Promise<CaptureSummary> {
  return analyzeCapture(capture, openSource(join(repoRoot, capture)), { flowOptions: stackFlowOptions(sysctls) });
}

function ssCounts(path: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of readFileSync(join(repoRoot, path), 'utf8').split('\n').slice(1)) {
    const state = line.trim().split(/\s+/)[0];
    if (state && state !== 'LISTEN') counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}

/**
 * Rule errors of tcpstate's own that are known and not yet fixed, the end-of-capture ones of
 * RULE_GAPS in test/census-timeline.test.ts: the counts the summary shows now on that host
 * instead of ss's. The test fails as soon as one is fixed (take it out) or changes.
 */
const KNOWN_GAPS: Record<string, Partial<Record<'client' | 'server', Record<string, number>>>> = {};

for (const s of kernelSamples) {
  test(`summary of ${s.name}: each host's sockets at the end are what ss counted there`, async () => {
    const sum = await summarise(s.capture, (s as { sysctls?: Sysctls }).sysctls);
    for (const [role, host] of [
      ['client', s.client.addr],
      ['server', s.server.addr],
    ] as const) {
      const ours = Object.fromEntries(Object.entries(sum.hostEndStates?.[host] ?? {}).map(([st, n]) => [SS_NAMES[st as TcpStateName], n]));
      const gap = KNOWN_GAPS[s.name]?.[role];
      if (gap) assert.notDeepEqual(gap, ssCounts(s.ss[role]), `${role} ${host}: the known gap is not one`);
      assert.deepEqual(ours, gap ?? ssCounts(s.ss[role]), `${role} ${host}${gap ? ' (known gap)' : ''}`);
    }
  });
}

test('summary text: outcomes, sockets per host, findings with severity and one line of explanation', async () => {
  const text = renderSummary(await summarise('samples/kernel/stuck-close-wait/stuck-close-wait.pcap'), plain);
  const lines = text.split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  assert.match(text, /^ {2}1 TCP connection; sockets at the end: CLOSE-WAIT 1, FIN-WAIT-2 1$/m);
  assert.ok(at(/^ {2}outcomes \(Zeek conn_state\):$/) > 0, text);
  assert.match(text, /^ {4}S2 +1 +established, close attempt by originator seen, no reply from responder$/m);
  assert.ok(at(/^ {2}sockets at the end, per host:$/) > at(/outcomes/));
  assert.match(text, /^ {4}192\.0\.2\.1 +FIN-WAIT-2 1$/m);
  assert.match(text, /^ {4}192\.0\.2\.2 +CLOSE-WAIT 1$/m);
  assert.ok(at(/^ {2}findings:$/) > at(/per host/));
  assert.match(text, /^ {4}stuck_close_wait +1 +error +The peer closed its side \(its FIN arrived\) and the local application did not close its socket for too long\.$/m);
  assert.ok(KINDS.stuck_close_wait.meaning.startsWith('The peer closed its side (its FIN arrived) and the local application did not close its socket for too long:'));
});

test('summary text: many hosts are cut at ten, most sockets first; several severities show the worst', async () => {
  const flood = await summarise('samples/kernel/syn-flood/syn-flood.pcap');
  const text = renderSummary(flood, plain);
  const hostLines = text.split('\n').filter((l) => /^ {4}192\.0\.2\.\d+ /.test(l));
  assert.equal(hostLines.length, 10);
  assert.match(hostLines[0], /^ {4}192\.0\.2\.2 +SYN-RECV 129, TIME-WAIT 3$/);
  assert.match(text, /^ {4}\.\.\. and 15 more hosts \(tcpstate census lists them all\)$/m);
  assert.match(text, /^ {4}syn_flood +1 +error +Many half-open connection attempts at one listener within a second\.$/m);
  const abort = renderSummary(await summarise('samples/kernel/abortive-close/abortive-close.pcap'), plain);
  assert.match(abort, /^ {4}window_full +19 +warning +The sender filled the receiver's whole advertised window\.$/m);
  assert.match(abort, /^ {4}window_update +\d+ +info +A pure ACK that only moves the advertised window\.$/m);
});

test('summary JSON: the keys it had, plus warnings, conn_states, host_end_states, worst_flows and finding_kinds', async () => {
  const j = summaryJson(await summarise('samples/kernel/stuck-close-wait/stuck-close-wait.pcap'));
  assert.deepEqual(Object.keys(j), [
    'name', 'format', 'compression', 'link_types', 'packets', 'tcp_packets', 'bytes', 'first_ts', 'last_ts', 'status', 'error', 'error_offset', 'error_record',
    'decode', 'warnings', 'flows', 'end_states', 'findings', 'conn_states', 'host_end_states', 'host_end_states_omitted', 'worst_flows', 'finding_kinds',
  ]);
  assert.equal(j.host_end_states_omitted, 0);
  assert.deepEqual(j.warnings, []);
  assert.deepEqual(j.worst_flows, [{ flow: 1, client: '192.0.2.1:40003', server: '192.0.2.2:9092', errors: 1, warnings: 0, kinds: ['stuck_close_wait'] }]);
  assert.deepEqual(j.conn_states, { S2: 1 });
  assert.deepEqual(j.host_end_states, { '192.0.2.1': { FIN_WAIT_2: 1 }, '192.0.2.2': { CLOSE_WAIT: 1 } });
  assert.deepEqual(j.finding_kinds, [
    {
      kind: 'stuck_close_wait',
      count: 1,
      severities: { error: 1 },
      title: 'Stuck in CLOSE_WAIT',
      meaning: 'The peer closed its side (its FIN arrived) and the local application did not close its socket for too long.',
    },
  ]);
});

test('analyze prints the outcomes and findings sections, and --json the same keys', async () => {
  const db = join(tempDir(), 'a.db');
  const r = await cli(['analyze', 'samples/kernel/refused/refused.pcap', '--db', db]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^ {4}REJ +5 +attempt rejected$/m);
  assert.match(r.out, /^ {4}connection_refused +5 +(warning +)?A SYN was answered by a RST\.$/m);
  const j = await cli(['analyze', 'samples/kernel/refused/refused.pcap', '--db', db, '--json']);
  const [s] = JSON.parse(j.out) as Array<Record<string, unknown>>;
  assert.deepEqual(s.conn_states, { REJ: 5 });
  assert.equal((s.finding_kinds as Array<{ kind: string; count: number }>)[0].count, 5);
  assert.ok('host_end_states' in s);
});
