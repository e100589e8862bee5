/** The database's views and the README's SQL, on a database of the kernel samples. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { TcpstateDb } from '../src/sink/read.js';
import { repoRoot } from './helpers.js';
import { cli, tempDir } from './report-io.js';

let file = '';
let db: Database.Database;

before(async () => {
  file = join(tempDir(), 'kernel.db');
  const dir = join(repoRoot, 'samples', 'kernel');
  const captures = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).flatMap((d) => readdirSync(join(dir, d)).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).map((f) => join('samples', 'kernel', d, f)));
  assert.ok(captures.length >= 10);
  const r = await cli(['analyze', '-q', '--db', file, ...captures]);
  assert.ok(r.code === 0 || r.code === 1, r.err);
  db = new Database(file, { readonly: true });
});

/** The statements of the README's ```sql blocks. */
function readmeStatements(): string[] {
  const md = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const out: string[] = [];
  for (const m of md.matchAll(/```sql\n([\s\S]*?)```/g)) {
    const body = m[1].split('\n').filter((l) => !l.trim().startsWith('--')).join('\n');
    for (const st of body.split(';')) if (st.trim() !== '') out.push(st.trim());
  }
  return out;
}

test("every README query runs and finds rows on the kernel samples' database", () => {
  const statements = readmeStatements();
  assert.ok(statements.length >= 10, `${statements.length} statements`);
  for (const st of statements) {
    const rows = db.prepare(st).all();
    assert.ok(rows.length > 0, `no rows: ${st}`);
  }
});

test('state_intervals at T agree with census --at T for every endpoint', () => {
  const reader = TcpstateDb.open(file);
  let compared = 0;
  try {
    for (const cap of reader.captures()) {
      if (cap.first_ts === null || cap.last_ts === null) continue;
      for (const frac of [0.1, 0.37, 0.5, 0.83, 1]) {
        const at = Math.round(cap.first_ts + frac * (cap.last_ts - cap.first_ts));
        const view = new Map<string, string>();
        for (const r of db
          .prepare('SELECT flow_index, side, state FROM state_intervals WHERE capture_id = ? AND ? BETWEEN from_ts AND to_ts')
          .all(cap.id, at) as Array<{ flow_index: number; side: string; state: string }>) {
          const k = `${r.flow_index}/${r.side}`;
          assert.equal(view.has(k), false, `two intervals hold ${k} at ${at}`);
          view.set(k, r.state);
        }
        for (const f of reader.flowsAt(cap.id, at)) {
          for (const [side, state] of [['client', f.client_at], ['server', f.server_at]] as const) {
            assert.equal(view.get(`${f.flow_index}/${side}`) ?? null, state, `${cap.name} flow ${f.flow_index} ${side} at ${at}`);
            compared++;
          }
        }
      }
    }
  } finally {
    reader.close();
  }
  assert.ok(compared > 1000, `${compared} endpoints compared`);
});

test('retransmission_rates, top_talkers, resets and close_wait_durations add up to the tables', () => {
  const one = (sql: string) => db.prepare(sql).pluck().get() as number;
  assert.equal(one('SELECT sum(retransmissions) FROM retransmission_rates'), one('SELECT sum(retransmissions) FROM flows'));
  assert.ok(one('SELECT sum(retransmissions) FROM retransmission_rates') > 0);
  assert.equal(one('SELECT sum(packets) FROM retransmission_rates'), one('SELECT sum(client_packets + server_packets) FROM flows'));
  assert.equal(one('SELECT sum(bytes) FROM top_talkers'), 2 * one('SELECT sum(client_bytes + server_bytes) FROM flows'));
  assert.equal(one('SELECT sum(connections) FROM top_talkers'), 2 * one('SELECT count(*) FROM flows'));
  assert.equal(one("SELECT count(*) FROM resets WHERE sent_by NOT IN ('client', 'server')"), 0);
  assert.equal(one('SELECT count(*) FROM resets'), one("SELECT count(*) FROM anomalies WHERE kind IN ('connection_reset', 'connection_refused')"));
  assert.equal(one('SELECT count(*) FROM close_wait_durations'), one("SELECT count(*) FROM transitions WHERE to_state = 'CLOSE_WAIT'"));
  // A CLOSE_WAIT still open at the end is exactly what stuck_close_wait reports.
  assert.equal(one('SELECT count(*) FROM close_wait_durations WHERE still_at_end'), one("SELECT count(*) FROM anomalies WHERE kind = 'stuck_close_wait' AND json_extract(details, '$.still_at_end')"));
});

test("the report's socket intervals are the state_intervals view's, capture by capture (kernel samples)", () => {
  const reader = TcpstateDb.open(file);
  try {
    const ids = db.prepare('SELECT id FROM captures ORDER BY id').pluck().all() as number[];
    let n = 0;
    const key = (r: unknown[]) => JSON.stringify(r);
    for (const id of ids) {
      const view = (
        db
          .prepare(`SELECT addr, state, from_ts, to_ts FROM state_intervals WHERE capture_id = ? AND state NOT IN ('CLOSED', 'LISTEN') AND to_ts >= from_ts`)
          .raw()
          .all(id) as unknown[][]
      )
        .map(key)
        .sort();
      const mine = [...reader.socketIntervals(id)].map(key).sort();
      assert.deepEqual(mine, view, `capture ${id}`);
      n += mine.length;
    }
    assert.ok(n > 1000, `${n} intervals`);
  } finally {
    reader.close();
  }
});
