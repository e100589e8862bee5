/** Reading a database the tests made: rows of a query, and every documented table in a stable order. */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';

/** The rows of `sql` on `file`, opened read-only. */
export function rows(file: string, sql: string): Array<Record<string, unknown>> {
  const d = new Database(file, { readonly: true });
  try {
    return d.prepare(sql).all() as Array<Record<string, unknown>>;
  } finally {
    d.close();
  }
}

/** Every row of every documented table and view, in a stable order; the file passes SQLite's integrity check. */
export function everything(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    for (const [t, order] of [
      ['captures', 'id'],
      ['interfaces', 'capture_id, idx'],
      ['decode_counters', 'capture_id, reason'],
      ['flows', 'id'],
      ['transitions', 'flow_id, seq'],
      ['anomalies', 'id'],
      ['zeek_conns', 'capture_id, ts, first_frame, orig_h, orig_p, resp_h, resp_p'],
    ]) {
      out[t] = db.prepare(`SELECT * FROM ${t} ORDER BY ${order}`).all();
    }
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    return out;
  } finally {
    db.close();
  }
}
