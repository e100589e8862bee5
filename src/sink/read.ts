/**
 * Reading a database written by `tcpstate analyze`, for the reports. With the sink,
 * the only module that imports better-sqlite3; queries only, never a write.
 */
import Database from 'better-sqlite3';
import { openSync, readSync, closeSync } from 'node:fs';
import { DbError, dbError, rebuild } from './errors.js';
import { SCHEMA_VERSION } from './sqlite.js';
import { ADDRESS_BASE, END_REASONS, STATES, ipv4Code } from './codes.js';

export { DbError };

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


export interface CaptureRow {
  id: number;
  path: string;
  name: string;
  format: string | null;
  compression: string | null;
  link_types: string;
  bytes: number;
  error: string | null;
  error_offset: number | null;
  error_record: number | null;
  status: string;
  packets: number;
  tcp_packets: number;
  first_ts: number | null;
  last_ts: number | null;
  /** JSON array of the summary's warning lines (a link type or encapsulation not decoded...), NULL when none. */
  warnings: string | null;
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

/** What a census needs of a flow (flowsAt reads only these columns). */
export type CensusFlow = Pick<FlowAt, 'flow_index' | 'client_addr' | 'client_port' | 'server_addr' | 'server_port' | 'first_ts' | 'client_at' | 'server_at'>;

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

/** What `conns` filters connections by; every field optional. */
export interface ConnFilter {
  /** Either end's address. */
  host?: string;
  /** Either end's port. */
  port?: number;
  /** Either side's state at the end, RFC names (as stored). */
  states?: string[];
  /** end_reason values. */
  reasons?: string[];
  /** Has a finding of one of these kinds. */
  kinds?: string[];
  /** Overlaps the window: ends at or after `since`, begins at or before `until` (µs). */
  since?: number;
  until?: number;
}

export const CONN_SORTS = ['time', 'bytes', 'packets', 'duration', 'findings'] as const;
export type ConnSort = (typeof CONN_SORTS)[number];

/** One connection as `conns` lists it: a flow's columns with its packet and byte counts and findings. */
export interface ConnRow extends Omit<FlowRow, 'id' | 'capture_id' | 'first_packet' | 'last_packet'> {
  client_packets: number;
  client_bytes: number;
  server_packets: number;
  server_bytes: number;
  findings: number;
}

/** Which findings `anomalies` reads (kind and severity are applied after, to count what was left out). */
export interface AnomalyScope {
  flowIndex?: number;
  /** Findings of this host's connections, and host-level findings naming it. */
  host?: string;
  since?: number;
  until?: number;
}

/** The tables `export` writes, each with its rows' order. */
export const EXPORT_TABLES = ['flows', 'transitions', 'anomalies', 'zeek_conns'] as const;
export type ExportTable = (typeof EXPORT_TABLES)[number];

const EXPORT_SQL: Record<ExportTable, string> = {
  flows: 'SELECT * FROM flows WHERE capture_id = ? ORDER BY flow_index',
  transitions: `SELECT f.capture_id, f.flow_index, t.* FROM flows f JOIN transitions t ON t.flow_id = f.id
                WHERE f.capture_id = ? ORDER BY f.flow_index, t.seq`,
  anomalies: 'SELECT * FROM anomalies WHERE capture_id = ? ORDER BY ts, id',
  // In the order Zeek's log would have them: as each connection was removed.
  zeek_conns: 'SELECT * FROM zeek_conns WHERE capture_id = ? ORDER BY ts, first_frame, orig_h, orig_p, resp_h, resp_p',
};

const CONN_ORDER: Record<ConnSort, string> = {
  time: 'f.flow_index',
  bytes: 'f.client_bytes + f.server_bytes DESC, f.flow_index',
  packets: 'f.client_packets + f.server_packets DESC, f.flow_index',
  duration: 'f.last_ts - f.first_ts DESC, f.flow_index',
  findings: 'findings DESC, f.flow_index',
};

/** "?, ?, ?" for a list bound as positional parameters. */
const marks = (n: number) => new Array(n).fill('?').join(', ');

/** The WHERE clause of a connection filter, with its parameters in order. */
function connWhere(captureId: number, f: ConnFilter): { sql: string; params: Array<string | number> } {
  // With a host: found through the address indexes (flows_client, flows_server), not by walking
  // the capture's flows in order ('+' keeps SQLite from using capture_id's index): 0.2 ms, not 165.
  const terms = [f.host !== undefined ? '+f.capture_id = ?' : 'f.capture_id = ?'];
  const params: Array<string | number> = [captureId];
  if (f.host !== undefined) {
    terms.push('(f.client_addr = ? OR f.server_addr = ?)');
    params.push(f.host, f.host);
  }
  if (f.port !== undefined) {
    terms.push('(f.client_port = ? OR f.server_port = ?)');
    params.push(f.port, f.port);
  }
  if (f.states !== undefined && f.states.length > 0) {
    terms.push(`(f.client_state IN (${marks(f.states.length)}) OR f.server_state IN (${marks(f.states.length)}))`);
    params.push(...f.states, ...f.states);
  }
  if (f.reasons !== undefined && f.reasons.length > 0) {
    terms.push(`f.end_reason IN (${marks(f.reasons.length)})`);
    params.push(...f.reasons);
  }
  if (f.kinds !== undefined && f.kinds.length > 0) {
    terms.push(`f.id IN (SELECT a.flow_id FROM anomalies a WHERE a.capture_id = ? AND a.kind IN (${marks(f.kinds.length)}) AND a.flow_id IS NOT NULL)`);
    params.push(captureId, ...f.kinds);
  }
  if (f.since !== undefined) {
    terms.push('f.last_ts >= ?');
    params.push(f.since);
  }
  if (f.until !== undefined) {
    terms.push('f.first_ts <= ?');
    params.push(f.until);
  }
  return { sql: terms.join(' AND '), params };
}

const FLOW_COLUMNS = `f.id, f.capture_id, f.flow_index, f.ip_version, f.client_addr, f.client_port, f.server_addr, f.server_port,
  f.first_ts, f.last_ts, f.first_packet, f.last_packet, f.client_state, f.server_state, f.end_reason, f.conn_state, f.history`;

const stateAt = (side: string) =>
  `(SELECT t.to_state FROM transitions t WHERE t.flow_id = f.id AND t.side = '${side}' AND t.ts <= @at ORDER BY t.seq DESC LIMIT 1)`;

/** How long a report waits for a writer's lock (ms) before it says the file is locked. */
const READ_BUSY_TIMEOUT_MS = 5000;

export class TcpstateDb {
  private constructor(private readonly db: Database.Database) {}

  static open(file: string): TcpstateDb {
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
    } catch (e) {
      throw dbError(file, e, false) ?? new DbError(`cannot open database ${file}: ${(e as Error).message}`, 'cannot_open');
    }
    try {
      // A writer's commit holds the file for a moment: wait for it rather than call the file locked.
      db.pragma(`busy_timeout = ${READ_BUSY_TIMEOUT_MS}`);
      const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
      if (row === undefined || Number(row.value) !== SCHEMA_VERSION) {
        throw new DbError(
          `${file}: database schema version ${row?.value ?? 'unknown'}, this tcpstate reads version ${SCHEMA_VERSION}. Rebuild it: ${rebuild(file)}`,
          'refused',
        );
      }
    } catch (e) {
      db.close();
      // A damaged file, a lock, a database left in WAL mode on read-only media: said as such.
      throw dbError(file, e, false) ?? new DbError(`${file} is an SQLite database but not one written by tcpstate analyze (${(e as Error).message})`, 'not_tcpstate');
    }
    return new TcpstateDb(db);
  }

  /** The files of a capture analysed --continuous, in the order read (none for one file). */
  captureFiles(captureId: number): Array<{ path: string; name: string }> {
    return this.db.prepare('SELECT path, name FROM capture_files WHERE capture_id = ? ORDER BY idx').all(captureId) as Array<{ path: string; name: string }>;
  }

  captures(): CaptureRow[] {
    return this.db
      .prepare(`SELECT id, path, name, format, compression, link_types, bytes, error, error_offset, error_record, status, packets, tcp_packets, first_ts, last_ts, warnings
         FROM captures ORDER BY id`)
      .all() as CaptureRow[];
  }

  /**
   * Every flow that had begun at `at`, with each endpoint's state then; `host` and `port` keep
   * the flows with that address or port at either end. `atEnd` (at is the capture's last packet):
   * the states are the flows' own end states, no per-flow lookup of transitions (equal there:
   * test/report-census.test.ts).
   */
  flowsAt(captureId: number, at: number, only: { host?: string; port?: number; atEnd?: boolean } = {}): CensusFlow[] {
    const states = only.atEnd
      ? 'f.client_state AS client_at, f.server_state AS server_at'
      : `${stateAt('client')} AS client_at, ${stateAt('server')} AS server_at`;
    // A connection evicted at the memory budget: its states are known up to its last packet only.
    const terms = ['f.capture_id = @cap', 'f.first_ts <= @at', "(f.end_reason <> 'evicted' OR f.last_ts >= @at)"];
    if (only.host !== undefined) terms.push('(f.client_addr = @host OR f.server_addr = @host)');
    if (only.port !== undefined) terms.push('(f.client_port = @port OR f.server_port = @port)');
    // Rows as arrays, made into objects here: better-sqlite3's row objects cost more, in time and
    // in collection, for every connection of a large capture.
    const rows = this.db
      .prepare(
        `SELECT f.flow_index, f.client_addr, f.client_port, f.server_addr, f.server_port, f.first_ts, ${states}
         FROM flows f WHERE ${terms.join(' AND ')} ORDER BY f.flow_index`,
      )
      .raw()
      .all({ cap: captureId, at, host: only.host, port: only.port }) as Array<[number, string, number, string, number, number, string | null, string | null]>;
    const out: CensusFlow[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      out[i] = { flow_index: r[0], client_addr: r[1], client_port: r[2], server_addr: r[3], server_port: r[4], first_ts: r[5], client_at: r[6], server_at: r[7] };
    }
    return out;
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
  anomalies(captureId: number, scope: AnomalyScope = {}): AnomalyRow[] {
    const terms = ['a.capture_id = @cap'];
    if (scope.flowIndex !== undefined) terms.push('a.flow_index = @flow');
    if (scope.since !== undefined) terms.push('a.ts >= @since');
    if (scope.until !== undefined) terms.push('a.ts <= @until');
    if (scope.host !== undefined) {
      // A host-level finding names its host in its details: host, client, or an endpoint addr:port.
      terms.push(`(f.client_addr = @host OR f.server_addr = @host OR (a.flow_id IS NULL AND (
        json_extract(a.details, '$.host') = @host OR json_extract(a.details, '$.client') = @host OR
        json_extract(a.details, '$.listener') LIKE @endpoint OR json_extract(a.details, '$.destination') LIKE @endpoint)))`);
    }
    const endpoint = scope.host === undefined ? null : `${scope.host.includes(':') ? `[${scope.host}]` : scope.host}:%`;
    return this.db
      .prepare(
        `SELECT a.id, a.flow_id, a.flow_index, a.packet, a.ts, a.kind, a.severity, a.side, a.message, a.details,
                f.client_addr, f.client_port, f.server_addr, f.server_port
         FROM anomalies a LEFT JOIN flows f ON f.id = a.flow_id
         WHERE ${terms.join(' AND ')} ORDER BY a.ts, a.id`,
      )
      .all({ cap: captureId, flow: scope.flowIndex, since: scope.since, until: scope.until, host: scope.host, endpoint }) as AnomalyRow[];
  }

  /**
   * The connections a filter keeps, in the order asked, as one statement read row by row
   * (the findings count is one index seek per row).
   */
  conns(captureId: number, filter: ConnFilter, sort: ConnSort = 'time', limit?: number): IterableIterator<ConnRow> {
    const { sql, params } = connWhere(captureId, filter);
    return this.db
      .prepare(
        `SELECT f.flow_index, f.ip_version, f.client_addr, f.client_port, f.server_addr, f.server_port, f.first_ts, f.last_ts,
                f.client_packets, f.client_bytes, f.server_packets, f.server_bytes, f.client_state, f.server_state,
                f.end_reason, f.conn_state, f.history,
                (SELECT count(*) FROM anomalies a WHERE a.flow_id = f.id) AS findings
         FROM flows f WHERE ${sql} ORDER BY ${CONN_ORDER[sort]}${limit === undefined ? '' : ` LIMIT ${Math.floor(limit)}`}`,
      )
      .iterate(...params) as IterableIterator<ConnRow>;
  }

  /** How many connections a filter keeps. */
  connCount(captureId: number, filter: ConnFilter): number {
    const { sql, params } = connWhere(captureId, filter);
    return this.db.prepare(`SELECT count(*) FROM flows f WHERE ${sql}`).pluck().get(...params) as number;
  }

  /** The query plan of conns(), for the tests: each step's detail. */
  connsPlan(captureId: number, filter: ConnFilter, sort: ConnSort = 'time'): string[] {
    const { sql, params } = connWhere(captureId, filter);
    return (this.db.prepare(`EXPLAIN QUERY PLAN SELECT f.flow_index FROM flows f WHERE ${sql} ORDER BY ${CONN_ORDER[sort].replace('findings', '1')}`).all(...params) as Array<{ detail: string }>).map(
      (r) => r.detail,
    );
  }

  /** Sockets at the end per host and state (RFC names; CLOSED and LISTEN are no socket; an evicted connection's are unknown), all hosts. */
  endStatesByHost(captureId: number): Array<{ addr: string; state: string; n: number }> {
    return this.db
      .prepare(
        `SELECT addr, state, count(*) AS n FROM (
           SELECT client_addr AS addr, client_state AS state FROM flows WHERE capture_id = @cap AND end_reason <> 'evicted'
           UNION ALL SELECT server_addr, server_state FROM flows WHERE capture_id = @cap AND end_reason <> 'evicted')
         WHERE state NOT IN ('CLOSED', 'LISTEN') GROUP BY addr, state`,
      )
      .all({ cap: captureId }) as Array<{ addr: string; state: string; n: number }>;
  }

  flowCount(captureId: number): number {
    return this.db.prepare('SELECT count(*) FROM flows WHERE capture_id = ?').pluck().get(captureId) as number;
  }

  /** Findings by kind and severity. */
  findingCounts(captureId: number): Array<{ kind: string; severity: string; n: number }> {
    return this.db.prepare('SELECT kind, severity, count(*) AS n FROM anomalies WHERE capture_id = ? GROUP BY kind, severity').all(captureId) as Array<{
      kind: string;
      severity: string;
      n: number;
    }>;
  }

  /** Error and warning findings of connections, in the order they were found. */
  seriousFindings(captureId: number): Array<{ flow_index: number; kind: string; severity: string; client_addr: string; client_port: number; server_addr: string; server_port: number }> {
    return this.db
      .prepare(
        `SELECT a.flow_index, a.kind, a.severity, f.client_addr, f.client_port, f.server_addr, f.server_port
         FROM anomalies a JOIN flows f ON f.id = a.flow_id
         WHERE a.capture_id = ? AND a.severity IN ('error', 'warning') ORDER BY a.id`,
      )
      .all(captureId) as Array<{ flow_index: number; kind: string; severity: string; client_addr: string; client_port: number; server_addr: string; server_port: number }>;
  }

  /** Zeek's conn.log rows by conn_state. */
  zeekConnStates(captureId: number): Array<{ conn_state: string; n: number }> {
    return this.db.prepare('SELECT conn_state, count(*) AS n FROM zeek_conns WHERE capture_id = ? GROUP BY conn_state').all(captureId) as Array<{
      conn_state: string;
      n: number;
    }>;
  }

  /** Decode counters in the order analyze wrote them. */
  decodeCounters(captureId: number): Array<[string, number]> {
    return (this.db.prepare('SELECT reason, packets FROM decode_counters WHERE capture_id = ? ORDER BY rowid').raw(true).all(captureId) as Array<[string, number]>);
  }

  /** Host-level SYN flood findings: the listener and when (details as the detector wrote them). */
  synFloods(captureId: number): Array<{ listener: string; start_ts: number; end_ts: number }> {
    return this.db
      .prepare(
        `SELECT json_extract(details, '$.listener') AS listener, json_extract(details, '$.start_ts') AS start_ts, json_extract(details, '$.end_ts') AS end_ts
         FROM anomalies WHERE capture_id = ? AND kind = 'syn_flood' AND flow_id IS NULL`,
      )
      .all(captureId) as Array<{ listener: string; start_ts: number; end_ts: number }>;
  }

  /**
   * For the HTML report: the hosts with the most connection ends (client or server), busiest first,
   * and how many distinct hosts there are.
   */
  busiestHosts(captureId: number, limit: number): { hosts: string[]; total: number } {
    const sql = `SELECT addr, count(*) AS n FROM (SELECT client_addr AS addr FROM flows WHERE capture_id = @cap
                   UNION ALL SELECT server_addr FROM flows WHERE capture_id = @cap) GROUP BY addr`;
    const total = this.db.prepare(`SELECT count(*) FROM (${sql})`).pluck().get({ cap: captureId }) as number;
    const hosts = this.db.prepare(`${sql} ORDER BY n DESC, addr LIMIT @limit`).pluck().all({ cap: captureId, limit }) as string[];
    return { hosts, total };
  }

  /**
   * Every stay of an endpoint in a state that ss shows (not CLOSED or LISTEN), from the
   * state_intervals view, as raw rows [addr, state, from_ts, to_ts], read one at a time.
   */
  *socketIntervals(captureId: number): IterableIterator<[string, string, number, number]> {
    // What the state_intervals view gives (WHERE state NOT IN ('CLOSED', 'LISTEN') AND to_ts >=
    // from_ts), worked out here from the stored paths, each step list read once per path: the
    // view's window runs over every connection's expanded transitions.
    const last = this.db.prepare('SELECT last_ts FROM captures WHERE id = ?').pluck().get(captureId) as number | null;
    const paths = new Map<number, number[]>(); // path_id -> side, to_state, moment per step, in seq order
    for (const [path, side, to, moment] of this.db.prepare('SELECT path_id, side, to_state, moment FROM path_steps ORDER BY path_id, seq').raw().iterate() as IterableIterator<number[]>) {
      let steps = paths.get(path);
      if (steps === undefined) paths.set(path, (steps = []));
      steps.push(side, to, moment);
    }
    const v6 = new Map(this.db.prepare('SELECT id, addr FROM addresses').raw().all() as Array<[number, string]>);
    const text = (code: number): string => (code >= ADDRESS_BASE ? (v6.get(code) ?? '') : `${(code >> 24) & 255}.${(code >> 16) & 255}.${(code >> 8) & 255}.${code & 255}`);
    const names = STATES.names;
    const evicted = END_REASONS.names.indexOf('evicted');
    const flows = this.db.prepare('SELECT path_id, first_ts, moments, client_addr, server_addr, end_reason, duration FROM flow_data WHERE capture_id = ? AND path_id IS NOT NULL').raw();
    for (const [path, first, momentsJson, client, server, endReason, duration] of flows.iterate(captureId) as IterableIterator<[number, number, string | null, number, number, number, number]>) {
      const steps = paths.get(path);
      if (steps === undefined) continue;
      let moments: number[] | null = null;
      const at = (m: number) => (m === 0 ? first : first + (moments ??= JSON.parse(momentsJson ?? '[]') as number[])[2 * m - 1]);
      for (let side = 0; side < 2; side++) {
        let addr: string | null = null;
        for (let i = 0; i < steps.length; i += 3) {
          if (steps[i] !== side) continue;
          const state = names[steps[i + 1]];
          if (state === 'CLOSED' || state === 'LISTEN') continue;
          const from = at(steps[i + 2]);
          let j = i + 3;
          while (j < steps.length && steps[j] !== side) j += 3;
          const to = j < steps.length ? at(steps[j + 2]) - 1 : endReason === evicted ? first + duration : last;
          if (to === null || to < from) continue;
          addr ??= text(side === 0 ? client : server);
          yield [addr, state, from, to];
        }
      }
    }
  }

  /**
   * Events counted per time bucket of \`step\` µs from \`t0\`: new connections (flows by their first
   * packet), resets (connection_reset and connection_refused findings, as the resets view) and
   * retransmitted packets (kind retransmission alone: a fast or spurious one also has that row).
   * Rows [bucket, n].
   */
  eventsPerBucket(captureId: number, what: 'connections' | 'resets' | 'retransmissions', t0: number, step: number): Array<[number, number]> {
    const sql = {
      connections: 'SELECT CAST((first_ts - @t0) / @step AS INTEGER) AS b, count(*) FROM flows WHERE capture_id = @cap GROUP BY b',
      resets: "SELECT CAST((ts - @t0) / @step AS INTEGER) AS b, count(*) FROM anomalies WHERE capture_id = @cap AND kind IN ('connection_reset', 'connection_refused') GROUP BY b",
      retransmissions: "SELECT CAST((ts - @t0) / @step AS INTEGER) AS b, count(*) FROM anomalies WHERE capture_id = @cap AND kind = 'retransmission' GROUP BY b",
    }[what];
    return this.db.prepare(sql).raw(true).all({ cap: captureId, t0, step }) as Array<[number, number]>;
  }

  /**
   * The findings that are not per-packet tags (connection and host findings: \`kinds\` are the
   * per-packet ones left out), most severe first, then in time order; at most \`limit\`, and how many
   * there are in all.
   */
  eventFindings(captureId: number, packetKinds: readonly string[], limit: number): { rows: AnomalyRow[]; total: number } {
    const where = `a.capture_id = ? AND a.kind NOT IN (${marks(packetKinds.length)})`;
    const total = this.db.prepare(`SELECT count(*) FROM anomalies a WHERE ${where}`).pluck().get(captureId, ...packetKinds) as number;
    const rows = this.db
      .prepare(
        `SELECT a.id, a.flow_id, a.flow_index, a.packet, a.ts, a.kind, a.severity, a.side, a.message, a.details,
                f.client_addr, f.client_port, f.server_addr, f.server_port
         FROM anomalies a LEFT JOIN flows f ON f.id = a.flow_id
         WHERE ${where}
         ORDER BY CASE a.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 WHEN 'note' THEN 2 ELSE 3 END, a.ts, a.id LIMIT ?`,
      )
      .all(captureId, ...packetKinds, limit) as AnomalyRow[];
    return { rows, total };
  }

  /** Host-level findings (no flow: a flood, a pile-up, ports running out), in time order. */
  hostFindings(captureId: number): AnomalyRow[] {
    return this.db
      .prepare(
        `SELECT a.id, a.flow_id, a.flow_index, a.packet, a.ts, a.kind, a.severity, a.side, a.message, a.details,
                NULL AS client_addr, NULL AS client_port, NULL AS server_addr, NULL AS server_port
         FROM anomalies a WHERE a.capture_id = ? AND a.flow_id IS NULL ORDER BY a.ts, a.id`,
      )
      .all(captureId) as AnomalyRow[];
  }

  /**
   * The worst connections: most errors, then warnings, then findings of any kind, then most
   * packets; flows without a finding fill the list (largest first) up to \`limit\`.
   */
  worstConns(captureId: number, limit: number): Array<ConnRow & { errors: number; warnings: number }> {
    return this.db
      .prepare(
        `WITH s AS (SELECT flow_id, sum(severity = 'error') AS errors, sum(severity = 'warning') AS warnings, count(*) AS findings
                    FROM anomalies WHERE capture_id = @cap AND flow_id IS NOT NULL GROUP BY flow_id)
         SELECT f.flow_index, f.ip_version, f.client_addr, f.client_port, f.server_addr, f.server_port, f.first_ts, f.last_ts,
                f.client_packets, f.client_bytes, f.server_packets, f.server_bytes, f.client_state, f.server_state,
                f.end_reason, f.conn_state, f.history,
                coalesce(s.findings, 0) AS findings, coalesce(s.errors, 0) AS errors, coalesce(s.warnings, 0) AS warnings
         FROM flows f LEFT JOIN s ON s.flow_id = f.id WHERE f.capture_id = @cap
         ORDER BY errors DESC, warnings DESC, findings DESC, f.client_packets + f.server_packets DESC, f.flow_index LIMIT @limit`,
      )
      .all({ cap: captureId, limit }) as Array<ConnRow & { errors: number; warnings: number }>;
  }

  /** The first connection with this server end that began within [from, to] (µs), or undefined. */
  firstFlowTo(captureId: number, addr: string, port: number | null, from: number, to: number): number | undefined {
    // On the stored table with the address's code: through the view, every row's address text is made.
    const code = ipv4Code(addr) ?? (this.db.prepare('SELECT id FROM addresses WHERE addr = ?').pluck().get(addr) as number | undefined);
    if (code === undefined) return undefined;
    return this.db
      .prepare(
        `SELECT flow_index FROM flow_data WHERE capture_id = @cap AND (server_addr = @code OR (@port IS NULL AND client_addr = @code))
           AND (@port IS NULL OR server_port = @port) AND first_ts BETWEEN @from AND @to ORDER BY first_ts, flow_index LIMIT 1`,
      )
      .pluck()
      .get({ cap: captureId, code, port, from, to }) as number | undefined;
  }

  /** A table's rows for `export`: its column names, then the rows as arrays, read one at a time. */
  exportRows(table: ExportTable, captureId: number): { columns: string[]; rows: IterableIterator<unknown[]> } {
    const st = this.db.prepare(EXPORT_SQL[table]).raw(true);
    return { columns: st.columns().map((c) => c.name), rows: st.iterate(captureId) as IterableIterator<unknown[]> };
  }

  close(): void {
    this.db.close();
  }
}
