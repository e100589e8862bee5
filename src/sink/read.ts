/**
 * Reading a database written by `tcpstate analyze`, for the reports. With the sink,
 * the only module that imports better-sqlite3; queries only, never a write.
 */
import Database from 'better-sqlite3';
import { openSync, readSync, closeSync } from 'node:fs';
import { SCHEMA_VERSION } from './sqlite.js';

const SQLITE_HEADER = 'SQLite format 3\0';

/** True when the file starts with SQLite's 16-byte header (the name is never looked at). */
export function isSqliteFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(16);
    return readSync(fd, head, 0, 16, 0) === 16 && head.toString('latin1') === SQLITE_HEADER;
  } catch {
    return false; // a directory, a pipe...: let the capture reader say what is wrong
  } finally {
    closeSync(fd);
  }
}

/** The database is missing, unreadable or not one of ours. */
export class DbError extends Error {}

export interface CaptureRow {
  id: number;
  path: string;
  name: string;
  format: string | null;
  status: string;
  packets: number;
  tcp_packets: number;
  first_ts: number | null;
  last_ts: number | null;
}

export interface FlowRow {
  id: number;
  capture_id: number;
  flow_index: number;
  ip_version: number;
  client_addr: string;
  client_port: number;
  server_addr: string;
  server_port: number;
  first_ts: number;
  last_ts: number;
  first_packet: number;
  last_packet: number;
  client_state: string;
  server_state: string;
  end_reason: string;
  conn_state: string | null;
  history: string | null;
}

/** A flow with each endpoint's state at a moment: its last transition's to_state then (null: none yet). */
export interface FlowAt extends FlowRow {
  client_at: string | null;
  server_at: string | null;
}

export interface AnomalyRow {
  id: number;
  flow_id: number | null;
  flow_index: number | null;
  packet: number | null;
  ts: number;
  kind: string;
  severity: string;
  side: string | null;
  message: string;
  details: string;
  client_addr: string | null;
  client_port: number | null;
  server_addr: string | null;
  server_port: number | null;
}

export interface TransitionRow {
  seq: number;
  packet: number | null;
  ts: number;
  side: 'client' | 'server';
  from_state: string | null;
  to_state: string;
  cause: string;
  inferred: number;
}

const FLOW_COLUMNS = `f.id, f.capture_id, f.flow_index, f.ip_version, f.client_addr, f.client_port, f.server_addr, f.server_port,
  f.first_ts, f.last_ts, f.first_packet, f.last_packet, f.client_state, f.server_state, f.end_reason, f.conn_state, f.history`;

const stateAt = (side: string) =>
  `(SELECT t.to_state FROM transitions t WHERE t.flow_id = f.id AND t.side = '${side}' AND t.ts <= @at ORDER BY t.seq DESC LIMIT 1)`;

export class TcpstateDb {
  private constructor(private readonly db: Database.Database) {}

  static open(file: string): TcpstateDb {
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
    } catch (e) {
      throw new DbError(`cannot open database ${file}: ${(e as Error).message}`);
    }
    try {
      const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
      if (row === undefined || Number(row.value) !== SCHEMA_VERSION) {
        throw new DbError(
          `${file}: database schema version ${row?.value ?? 'unknown'}, this tcpstate reads version ${SCHEMA_VERSION}. Rebuild it: rm ${file} and run tcpstate analyze --db ${file} on the captures again`,
        );
      }
    } catch (e) {
      db.close();
      if (e instanceof DbError) throw e;
      throw new DbError(`${file} is an SQLite database but not one written by tcpstate analyze (${(e as Error).message})`);
    }
    return new TcpstateDb(db);
  }

  captures(): CaptureRow[] {
    return this.db
      .prepare('SELECT id, path, name, format, status, packets, tcp_packets, first_ts, last_ts FROM captures ORDER BY id')
      .all() as CaptureRow[];
  }

  /** Every flow that had begun at `at`, with each endpoint's state then (by flow_index: within a capture, ids follow it). */
  flowsAt(captureId: number, at: number): FlowAt[] {
    return this.db
      .prepare(
        `SELECT ${FLOW_COLUMNS}, ${stateAt('client')} AS client_at, ${stateAt('server')} AS server_at
         FROM flows f WHERE f.capture_id = @cap AND f.first_ts <= @at ORDER BY f.id`,
      )
      .all({ cap: captureId, at }) as FlowAt[];
  }

  /** Listeners known by the end of `at`: servers that answered a SYN (their LISTEN transitions). */
  listenersAt(captureId: number, at: number): Array<{ addr: string; port: number }> {
    return this.db
      .prepare(
        `SELECT DISTINCT CASE t.side WHEN 'server' THEN f.server_addr ELSE f.client_addr END AS addr,
                         CASE t.side WHEN 'server' THEN f.server_port ELSE f.client_port END AS port
         FROM flows f JOIN transitions t ON t.flow_id = f.id
         WHERE f.capture_id = ? AND t.to_state = 'LISTEN' AND t.ts <= ? ORDER BY addr, port`,
      )
      .all(captureId, at) as Array<{ addr: string; port: number }>;
  }

  flowByIndex(captureId: number, flowIndex: number): FlowRow | undefined {
    return this.db.prepare(`SELECT ${FLOW_COLUMNS} FROM flows f WHERE f.capture_id = ? AND f.flow_index = ?`).get(captureId, flowIndex) as
      | FlowRow
      | undefined;
  }

  /** Flows between the two endpoints, either way round, in order. */
  flowsByTuple(captureId: number, a: string, aPort: number, b: string, bPort: number): FlowRow[] {
    return this.db
      .prepare(
        `SELECT ${FLOW_COLUMNS} FROM flows f WHERE f.capture_id = @cap AND (
           (f.client_addr = @a AND f.client_port = @ap AND f.server_addr = @b AND f.server_port = @bp) OR
           (f.client_addr = @b AND f.client_port = @bp AND f.server_addr = @a AND f.server_port = @ap))
         ORDER BY f.flow_index`,
      )
      .all({ cap: captureId, a, ap: aPort, b, bp: bPort }) as FlowRow[];
  }

  /** A flow's state changes, in order. */
  transitions(flowId: number): TransitionRow[] {
    return this.db
      .prepare('SELECT seq, packet, ts, side, from_state, to_state, cause, inferred FROM transitions WHERE flow_id = ? ORDER BY seq')
      .all(flowId) as TransitionRow[];
  }

  /** The capture's findings in time order, with their flow's endpoints (null for host-level ones). */
  anomalies(captureId: number, flowId?: number): AnomalyRow[] {
    return this.db
      .prepare(
        `SELECT a.id, a.flow_id, a.flow_index, a.packet, a.ts, a.kind, a.severity, a.side, a.message, a.details,
                f.client_addr, f.client_port, f.server_addr, f.server_port
         FROM anomalies a LEFT JOIN flows f ON f.id = a.flow_id
         WHERE a.capture_id = ? ${flowId === undefined ? '' : 'AND a.flow_id = ?'} ORDER BY a.ts, a.id`,
      )
      .all(...(flowId === undefined ? [captureId] : [captureId, flowId])) as AnomalyRow[];
  }

  close(): void {
    this.db.close();
  }
}
