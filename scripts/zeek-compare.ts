/**
 * Runs the Zeek emulation over every trace of the Zeek oracle and compares
 * conn_state and history with Zeek's own baselines.
 *
 *   node dist/scripts/zeek-compare.js [--diffs] [oracle-dir]
 *
 * Exits 1 when overall agreement is below 98% (conn_state) or 95% (history).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareAll, type RowDiff, totals, type TraceResult } from './zeek-oracle.js';

const STATE_THRESHOLD = 0.98;
const HISTORY_THRESHOLD = 0.95;

function defaultOracleDir(): string {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const shared = process.env.TCPSTATE_SHARED ?? join(repo, '..', 'shared');
  return join(shared, 'oracle', 'zeek');
}

const pct = (agree: number, n: number) => (n === 0 ? '    -' : `${((100 * agree) / n).toFixed(1).padStart(5)}%`);

function describeRow(d: RowDiff): string {
  const e = d.expected;
  const o = d.ours;
  const tuple = o
    ? `${o.orig_h}:${o.orig_p} > ${o.resp_h}:${o.resp_p}`
    : `${e?.orig_h ?? '*'}:${e?.orig_p ?? '*'} > ${e?.resp_h ?? '*'}:${e?.resp_p ?? '*'}`;
  const zeek = e ? `${e.conn_state ?? '?'} ${e.history || '-'}` : '(no row)';
  const ours = o ? `${o.conn_state} ${o.history || '-'}` : '(no row)';
  return `    ${d.field.padEnd(10)} ${tuple}  zeek: ${zeek}  ours: ${ours}`;
}

function printTable(results: TraceResult[], showDiffs: boolean): void {
  console.log(`${'trace'.padEnd(40)} ${'rows z/o'.padStart(10)}  ${'conn_state'.padStart(14)}  ${'history'.padStart(14)}`);
  for (const r of results) {
    const name = r.entry.traceFile.replace(/^traces\//, '');
    const rows = `${r.expectedRows}/${r.ourRows}`.padStart(10);
    const state = r.stateCompared ? `${r.stateAgree}/${r.stateCompared} ${pct(r.stateAgree, r.stateCompared)}` : '-';
    const hist = r.historyCompared ? `${r.historyAgree}/${r.historyCompared} ${pct(r.historyAgree, r.historyCompared)}` : '-';
    console.log(`${name.padEnd(40)} ${rows}  ${state.padStart(14)}  ${hist.padStart(14)}`);
    if (showDiffs) for (const d of r.diffs.slice(0, 20)) console.log(describeRow(d));
    if (showDiffs && r.diffs.length > 20) console.log(`    ... ${r.diffs.length - 20} more`);
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const showDiffs = args.includes('--diffs');
  const dir = args.find((a) => !a.startsWith('--')) ?? defaultOracleDir();
  if (!existsSync(join(dir, 'INDEX.tsv'))) {
    console.error(`zeek-compare: no INDEX.tsv in ${dir}`);
    return 2;
  }
  const results = await compareAll(dir);
  printTable(results, showDiffs);
  const t = totals(results);
  const stateRate = t.stateAgree / t.stateCompared;
  const historyRate = t.historyAgree / t.historyCompared;
  console.log('');
  console.log(`overall conn_state ${t.stateAgree}/${t.stateCompared} ${pct(t.stateAgree, t.stateCompared)} (threshold ${STATE_THRESHOLD * 100}%)`);
  console.log(`overall history    ${t.historyAgree}/${t.historyCompared} ${pct(t.historyAgree, t.historyCompared)} (threshold ${HISTORY_THRESHOLD * 100}%)`);
  return stateRate >= STATE_THRESHOLD && historyRate >= HISTORY_THRESHOLD ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
