/**
 * The SQLite sink. One connection, prepared statements, and one transaction per
 * capture: analysing a capture again replaces its rows atomically, and a run that
 * is interrupted or crashes leaves the previous rows (or none), never half.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import Database from 'better-sqlite3';
import type { CaptureSummary } from '../analyze/capture.js';
import type { Finding } from '../detect/finding.js';
import { COUNT_COLUMNS, rttSummary } from '../detect/packet-flags.js';
import type { FlowView, TransitionVisitor } from '../flow/flow.js';
import type { ZeekConn } from '../zeek/conn.js';

export const SCHEMA_VERSION = 1;

/**
 * Tables that only store what the documented tables and views show (coded rows behind a view of
 * the documented name): a user reads the views, and so does `npm run digest`. None yet.
 */
export const STORAGE_TABLES: ReadonlySet<string> = new Set<string>();

/** Per-flow counts of Wireshark's analysis flags: retransmissions counts the whole family, as tshark does. */
const COUNTS = COUNT_COLUMNS.map((c) => `${c} INTEGER NOT NULL DEFAULT 0`).join(',\n  ');

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS captures (
  id            INTEGER PRIMARY KEY,
  path          TEXT NOT NULL UNIQUE,   -- absolute path, or '-' for standard input
  name          TEXT NOT NULL,          -- as given on the command line
  format        TEXT,                   -- 'pcap' | 'pcapng' | NULL when unreadable
  compression   TEXT,                   -- 'gzip' | NULL
  link_types    TEXT NOT NULL,          -- LINKTYPE numbers, comma-separated, in order of appearance
  packets       INTEGER NOT NULL,
  tcp_packets   INTEGER NOT NULL,
  bytes         INTEGER NOT NULL,       -- bytes of the (decompressed) capture read
  first_ts      INTEGER,                -- microseconds since the epoch
  last_ts       INTEGER,
  status        TEXT NOT NULL CHECK (status IN ('complete', 'truncated', 'error')),
  error         TEXT,                   -- one line naming the byte offset and record
  error_offset  INTEGER,
  error_record  INTEGER
);
CREATE TABLE IF NOT EXISTS interfaces (
  capture_id        INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  idx               INTEGER NOT NULL,   -- across the file (pcapng: every IDB of every section)
  section           INTEGER NOT NULL,
  link_type         INTEGER NOT NULL,
  snaplen           INTEGER NOT NULL,
  ts_units_per_sec  REAL NOT NULL,
  ts_offset_sec     INTEGER NOT NULL,
  name              TEXT,
  PRIMARY KEY (capture_id, idx)
);
CREATE TABLE IF NOT EXISTS flows (
  id              INTEGER PRIMARY KEY,
  capture_id      INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  flow_index      INTEGER NOT NULL,   -- 1, 2, 3... in order of first packet within the capture
  ip_version      INTEGER NOT NULL,
  client_addr     TEXT NOT NULL,
  client_port     INTEGER NOT NULL,
  server_addr     TEXT NOT NULL,
  server_port     INTEGER NOT NULL,
  first_ts        INTEGER NOT NULL,   -- microseconds since the epoch
  last_ts         INTEGER NOT NULL,
  first_packet    INTEGER NOT NULL,   -- frame numbers, as Wireshark numbers them
  last_packet     INTEGER NOT NULL,
  client_state    TEXT NOT NULL,      -- each side's state at the end of the capture (or of the flow)
  server_state    TEXT NOT NULL,
  roles_by        TEXT NOT NULL,      -- syn | syn_ack | port | first_packet
  midstream       INTEGER NOT NULL,   -- 1: picked up mid-connection, states inferred
  end_reason      TEXT NOT NULL,      -- closed | reset | timeout | reuse | end_of_capture
  conn_state      TEXT,               -- Zeek's conn_state and history
  history         TEXT,
  client_packets  INTEGER NOT NULL,
  client_bytes    INTEGER NOT NULL,   -- TCP payload bytes
  client_ip_bytes INTEGER NOT NULL,
  server_packets  INTEGER NOT NULL,
  server_bytes    INTEGER NOT NULL,
  server_ip_bytes INTEGER NOT NULL,
  irtt_us         INTEGER,            -- handshake RTT as tshark's iRTT (SYN to the ACK completing it)
  client_rtt_min_us    INTEGER,       -- RTT samples of data the client sent (ACK RTT, as tshark's ack_rtt)
  client_rtt_median_us INTEGER,
  server_rtt_min_us    INTEGER,
  server_rtt_median_us INTEGER,
  ${COUNTS}
);
CREATE TABLE IF NOT EXISTS transitions (
  flow_id     INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,       -- order within the flow
  packet      INTEGER,                -- frame that caused it; NULL for a timer (TIME_WAIT expiry) or an inference
  ts          INTEGER NOT NULL,
  side        TEXT NOT NULL,          -- client | server
  from_state  TEXT,
  to_state    TEXT NOT NULL,
  cause       TEXT NOT NULL,
  inferred    INTEGER NOT NULL,       -- 1: deduced, not seen (mid-connection start, missing SYN, SYN cookie)
  PRIMARY KEY (flow_id, seq)
);
CREATE TABLE IF NOT EXISTS anomalies (
  id          INTEGER PRIMARY KEY,
  capture_id  INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  flow_id     INTEGER REFERENCES flows(id) ON DELETE CASCADE,   -- NULL for host-level findings
  flow_index  INTEGER,
  packet      INTEGER,                -- frame where it shows
  ts          INTEGER NOT NULL,
  kind        TEXT NOT NULL,          -- stable snake_case: connection_refused, stuck_close_wait, ... (tcpstate explain KIND)
  severity    TEXT NOT NULL,          -- info | note | warning | error
  side        TEXT,                   -- client | server
  message     TEXT NOT NULL,
  details     TEXT NOT NULL           -- JSON
);
CREATE TABLE IF NOT EXISTS zeek_conns (
  capture_id     INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  ts             INTEGER NOT NULL,     -- as Zeek's conn.log, one row per connection Zeek would log
  orig_h         TEXT NOT NULL,
  orig_p         INTEGER NOT NULL,
  resp_h         TEXT NOT NULL,
  resp_p         INTEGER NOT NULL,
  duration       INTEGER NOT NULL,     -- microseconds
  orig_bytes     INTEGER NOT NULL,
  resp_bytes     INTEGER NOT NULL,
  conn_state     TEXT NOT NULL,
  missed_bytes   INTEGER NOT NULL,
  history        TEXT NOT NULL,
  orig_pkts      INTEGER NOT NULL,
  orig_ip_bytes  INTEGER NOT NULL,
  resp_pkts      INTEGER NOT NULL,
  resp_ip_bytes  INTEGER NOT NULL,
  first_frame    INTEGER NOT NULL,
  last_frame     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS decode_counters (
  capture_id  INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  reason      TEXT NOT NULL,            -- 'tcp', 'non_ip', 'truncated_tcp_header', ... (see README)
  packets     INTEGER NOT NULL,
  PRIMARY KEY (capture_id, reason)
);
`;

/**
 * Views for the questions of a post-mortem (README, "Views"): plain SQL over the tables, so a
 * user's own query can start from them.
 */
const VIEWS = `
-- Each endpoint's states as intervals: in \`state\` from \`from_ts\` to \`to_ts\` (microseconds, both
-- included; the last one runs to the end of the capture). "What ss -tan showed at T" is
-- T BETWEEN from_ts AND to_ts, as census --at T. A state entered and left within one microsecond
-- has to_ts < from_ts.
CREATE VIEW IF NOT EXISTS state_intervals AS
SELECT f.capture_id, f.id AS flow_id, f.flow_index, t.seq, t.side,
       CASE t.side WHEN 'client' THEN f.client_addr ELSE f.server_addr END AS addr,
       CASE t.side WHEN 'client' THEN f.client_port ELSE f.server_port END AS port,
       CASE t.side WHEN 'client' THEN f.server_addr ELSE f.client_addr END AS peer_addr,
       CASE t.side WHEN 'client' THEN f.server_port ELSE f.client_port END AS peer_port,
       t.to_state AS state, t.ts AS from_ts,
       coalesce(lead(t.ts) OVER (PARTITION BY t.flow_id, t.side ORDER BY t.seq) - 1, c.last_ts) AS to_ts,
       t.packet, t.cause, t.inferred
FROM transitions t JOIN flows f ON f.id = t.flow_id JOIN captures c ON c.id = f.capture_id;

-- Connections ended by a RST (refused ones included), who sent it and in which states.
CREATE VIEW IF NOT EXISTS resets AS
SELECT a.capture_id, a.flow_id, a.flow_index, f.client_addr, f.client_port, f.server_addr, f.server_port,
       a.packet, a.ts, a.kind, coalesce(json_extract(a.details, '$.sent_by'), a.side) AS sent_by,
       json_extract(a.details, '$.sender_state') AS sender_state,
       json_extract(a.details, '$.receiver_state') AS receiver_state, a.message
FROM anomalies a JOIN flows f ON f.id = a.flow_id
WHERE a.kind IN ('connection_reset', 'connection_refused');

-- Every stay in CLOSE_WAIT: how long the application took to close() after its peer's FIN.
CREATE VIEW IF NOT EXISTS close_wait_durations AS
SELECT capture_id, flow_id, flow_index, side, addr, port, peer_addr, peer_port, from_ts, to_ts,
       (to_ts - from_ts + 1) / 1e6 AS seconds,
       NOT EXISTS (SELECT 1 FROM transitions n WHERE n.flow_id = s.flow_id AND n.side = s.side AND n.seq > s.seq) AS still_at_end
FROM state_intervals s WHERE state = 'CLOSE_WAIT';

-- Retransmitted packets over packets sent, per server and direction. A fast or spurious
-- retransmission also has its 'retransmission' row (tshark's family), so that kind alone counts each once.
CREATE VIEW IF NOT EXISTS retransmission_rates AS
WITH r AS (
  SELECT flow_id, side, count(*) AS n FROM anomalies
  WHERE flow_id IS NOT NULL AND kind = 'retransmission'
  GROUP BY flow_id, side)
SELECT f.capture_id, f.server_addr, f.server_port,
       CASE d.side WHEN 'client' THEN 'to_server' ELSE 'to_client' END AS direction,
       count(*) AS flows,
       sum(CASE d.side WHEN 'client' THEN f.client_packets ELSE f.server_packets END) AS packets,
       sum(coalesce(r.n, 0)) AS retransmissions,
       round(1.0 * sum(coalesce(r.n, 0)) / max(1, sum(CASE d.side WHEN 'client' THEN f.client_packets ELSE f.server_packets END)), 6) AS rate
FROM flows f CROSS JOIN (SELECT 'client' AS side UNION ALL SELECT 'server') d
LEFT JOIN r ON r.flow_id = f.id AND r.side = d.side
GROUP BY f.capture_id, f.server_addr, f.server_port, d.side;

-- Hosts by the bytes they sent and received (TCP payload), with their connections.
CREATE VIEW IF NOT EXISTS top_talkers AS
SELECT capture_id, addr, sum(sent) AS bytes_sent, sum(received) AS bytes_received,
       sum(sent) + sum(received) AS bytes, sum(packets) AS packets_sent, count(*) AS connections
FROM (SELECT capture_id, client_addr AS addr, client_bytes AS sent, server_bytes AS received, client_packets AS packets FROM flows
      UNION ALL
      SELECT capture_id, server_addr, server_bytes, client_bytes, server_packets FROM flows)
GROUP BY capture_id, addr;
`;

/**
 * Secondary indexes. Into a database with no rows yet they are built after the
 * capture's rows are in (one sorted pass each, not a B-tree insert per row).
 */
const INDEXES = [
  'CREATE INDEX IF NOT EXISTS flows_capture ON flows (capture_id, flow_index)',
  'CREATE INDEX IF NOT EXISTS flows_server ON flows (server_addr, server_port)',
  'CREATE INDEX IF NOT EXISTS flows_client ON flows (client_addr, client_port)',
  'CREATE INDEX IF NOT EXISTS transitions_packet ON transitions (packet)',
  'CREATE INDEX IF NOT EXISTS anomalies_capture ON anomalies (capture_id, kind)',
  'CREATE INDEX IF NOT EXISTS anomalies_flow ON anomalies (flow_id)',
  'CREATE INDEX IF NOT EXISTS zeek_conns_tuple ON zeek_conns (capture_id, orig_h, orig_p, resp_h, resp_p, first_frame)',
];
/**
 * Helper threads SQLite may use for one sort: building the transitions' index after the bench
 * mix's load took 1.21 s alone, 0.86-0.91 s with one helper on two cores (and no less with two).
 */
const SORT_HELPERS = Math.min(8, Math.max(0, availableParallelism() - 1));
/** Page cache while a capture's rows are appended to tables without secondary indexes (KiB, as SQLite's negative cache_size). */
const LOAD_CACHE_SIZE = -2048;
const INDEX_NAMES = INDEXES.map((sql) => /EXISTS (\w+)/.exec(sql)![1]);
/**
 * Rows of the big tables (transitions, zeek_conns) go in this many to a statement: for a row of
 * a dozen values the call into SQLite costs about as much as the insert (1.77M transitions:
 * 6.1 s one by one, 3.9 s 32 at a time).
 */
const ROWS_PER_INSERT = 32;
/** Values of a transitions row after flow_id and seq (packet, ts, side, from, to, cause, inferred), and of a zeek_conns row. */
const TRANSITION_WIDTH = 7;
const ZEEK_WIDTH = 18;

/**
 * Rows for one INSERT, held until ROWS_PER_INSERT of them can go in one statement call;
 * `flush` writes the rest one by one. Rows are written in the order they were added.
 */
export class RowBuffer {
  private readonly many: Database.Statement;
  private readonly one: Database.Statement;
  private readonly values: RowValue[];
  private n = 0;

  constructor(
    db: Database.Database,
    insert: string,
    private readonly width: number,
  ) {
    const row = `(${new Array(width).fill('?').join(', ')})`;
    this.one = db.prepare(`${insert} VALUES ${row}`);
    this.many = db.prepare(`${insert} VALUES ${new Array(ROWS_PER_INSERT).fill(row).join(', ')}`);
    this.values = new Array(width * ROWS_PER_INSERT);
  }

  /** Room for one more row: its values go in at the returned index, `width` of them. */
  slot(): number {
    if (this.n === this.values.length) {
      this.many.run(this.values);
      this.n = 0;
    }
    const at = this.n;
    this.n += this.width;
    return at;
  }

  get row(): RowValue[] {
    return this.values;
  }

  flush(): void {
    const v = this.values;
    for (let i = 0; i < this.n; i += this.width) this.one.run(v.slice(i, i + this.width));
    this.n = 0;
  }

  discard(): void {
    this.n = 0;
  }
}

/** Where a capture's analysis is written: SqliteSink, or the same in a thread of its own (ThreadedSink). */
export interface Sink {
  /** Open the capture's transaction (replacing an earlier analysis of the same path); returns its id. */
  beginCapture(path: string, name: string): number;
  writeFlow(captureId: number, f: FlowView): void;
  writeFinding(captureId: number, f: Finding): void;
  writeZeekConn(captureId: number, z: ZeekConn): void;
  commitCapture(id: number, s: CaptureSummary): void;
  rollbackCapture(): void;
  close(): void;
}

/** The database named by --db cannot be written: it is another program's file, or of another schema. Nothing was written. */
export class DbRefused extends Error {}

/**
 * Refuse, before anything is written, a file that is not an empty file or a tcpstate database
 * of this schema: another application's SQLite file, or any other file, stays byte-identical.
 */
export function checkWritableTarget(file: string): void {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new DbRefused(`${file} is a directory; give --db a file name`);
    size = st.size;
  } catch (e) {
    if (e instanceof DbRefused) throw e;
    return; // it does not exist (or cannot be read): opening it says what is wrong
  }
  if (size === 0) return;
  const head = Buffer.alloc(16);
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    readSync(fd, head, 0, 16, 0);
  } catch {
    return;
  } finally {
    if (fd !== null) closeSync(fd);
  }
  if (head.toString('latin1') !== 'SQLite format 3\0') {
    throw new DbRefused(`${file} exists and is not an SQLite database; tcpstate writes only its own databases: give --db another file`);
  }
  let version: string | undefined;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
    const row = hasMeta ? (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined) : undefined;
    version = row?.value;
  } catch {
    version = undefined; // read-only media, a lock, a damaged file: opening it for writing says which
    return;
  } finally {
    db?.close();
  }
  if (version === undefined) {
    throw new DbRefused(`${file} is an SQLite database of another application (no tcpstate schema in it); it was left untouched: give --db another file`);
  }
  if (Number(version) !== SCHEMA_VERSION) {
    throw new DbRefused(
      `${file} is a tcpstate database of schema version ${version}; this tcpstate writes version ${SCHEMA_VERSION}. Rebuild it: rm ${file} and run tcpstate analyze --db ${file} on the captures again`,
    );
  }
}

export class SqliteSink implements Sink {
  private readonly db: Database.Database;
  private readonly deleteCapture: Database.Statement;
  private readonly insertCapture: Database.Statement;
  private readonly updateCapture: Database.Statement;
  private readonly insertInterface: Database.Statement;
  private readonly insertCounter: Database.Statement;
  private readonly insertFlow: Database.Statement;
  private readonly transitions: RowBuffer;
  private readonly insertFinding: Database.Statement;
  private readonly linkFindings: Database.Statement;
  private readonly zeekConns: RowBuffer;
  private readonly linkZeek: Database.Statement[];
  private readonly isEmpty: Database.Statement;
  /** The indexes were dropped by beginCapture, to be built by commitCapture. */
  private indexesDeferred = false;
  /** The connection's page cache setting, and a small one for loads that only append. */
  private readonly cacheSize: number;

  /** `meta`: entries to record in the meta table (the tool's version, the run's settings). */
  constructor(file: string, meta: Record<string, string> = {}) {
    checkWritableTarget(file);
    this.db = new Database(file);
    // WAL while the analysis runs (readers are not blocked); close() leaves the file in rollback-journal mode.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 10000');
    // Sorts (the deferred indexes, ORDER BY) may take helper threads: one per other core.
    this.db.pragma(`threads = ${SORT_HELPERS}`);
    this.db.exec(SCHEMA);
    this.db.exec(VIEWS);
    for (const sql of INDEXES) this.db.exec(sql);
    this.cacheSize = this.db.pragma('cache_size', { simple: true }) as number;
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    if (row === undefined) {
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    } else if (Number(row.value) !== SCHEMA_VERSION) {
      this.db.close();
      throw new Error(`${file}: database schema version ${row.value}, this tcpstate writes version ${SCHEMA_VERSION}; use a new --db file`);
    }
    const setMeta = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    for (const [k, v] of Object.entries(meta)) setMeta.run(k, v);
    this.deleteCapture = this.db.prepare('DELETE FROM captures WHERE path = ?');
    this.isEmpty = this.db.prepare('SELECT NOT EXISTS (SELECT 1 FROM flows) AND NOT EXISTS (SELECT 1 FROM anomalies) AND NOT EXISTS (SELECT 1 FROM zeek_conns) AS empty').pluck();
    this.insertCapture = this.db.prepare(
      "INSERT INTO captures (path, name, link_types, packets, tcp_packets, bytes, status) VALUES (?, ?, '', 0, 0, 0, 'error')",
    );
    this.updateCapture = this.db.prepare(
      `UPDATE captures SET format = ?, compression = ?, link_types = ?, packets = ?, tcp_packets = ?, bytes = ?,
         first_ts = ?, last_ts = ?, status = ?, error = ?, error_offset = ?, error_record = ?
       WHERE id = ?`,
    );
    this.insertInterface = this.db.prepare(
      'INSERT INTO interfaces (capture_id, idx, section, link_type, snaplen, ts_units_per_sec, ts_offset_sec, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertCounter = this.db.prepare('INSERT INTO decode_counters (capture_id, reason, packets) VALUES (?, ?, ?)');
    this.insertFlow = this.db.prepare(
      `INSERT INTO flows (capture_id, flow_index, ip_version, client_addr, client_port, server_addr, server_port,
         first_ts, last_ts, first_packet, last_packet, client_state, server_state, roles_by, midstream, end_reason,
         conn_state, history, client_packets, client_bytes, client_ip_bytes, server_packets, server_bytes, server_ip_bytes,
         irtt_us, client_rtt_min_us, client_rtt_median_us, server_rtt_min_us, server_rtt_median_us, ${COUNT_COLUMNS.join(', ')})
       VALUES (${new Array(29 + COUNT_COLUMNS.length).fill('?').join(', ')})`,
    );
    this.insertFinding = this.db.prepare(
      'INSERT INTO anomalies (capture_id, flow_index, packet, ts, kind, severity, side, message, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.linkFindings = this.db.prepare(
      `UPDATE anomalies SET flow_id = (SELECT f.id FROM flows f WHERE f.capture_id = anomalies.capture_id AND f.flow_index = anomalies.flow_index)
       WHERE capture_id = ? AND flow_index IS NOT NULL`,
    );
    this.zeekConns = new RowBuffer(
      this.db,
      `INSERT INTO zeek_conns (capture_id, ts, orig_h, orig_p, resp_h, resp_p, duration, orig_bytes, resp_bytes, conn_state,
         missed_bytes, history, orig_pkts, orig_ip_bytes, resp_pkts, resp_ip_bytes, first_frame, last_frame)`,
      ZEEK_WIDTH,
    );
    // A flow takes Zeek's summary from the conn.log row holding its first packet, whichever
    // way Zeek oriented it; two statements so that each lookup is one index seek.
    const link = (orig: string, resp: string, onlyUnset: boolean) =>
      this.db.prepare(
        `UPDATE flows SET (conn_state, history) = (
           SELECT z.conn_state, z.history FROM zeek_conns z
           WHERE z.capture_id = flows.capture_id AND z.orig_h = flows.${orig}_addr AND z.orig_p = flows.${orig}_port
             AND z.resp_h = flows.${resp}_addr AND z.resp_p = flows.${resp}_port
             AND z.first_frame <= flows.first_packet AND z.last_frame >= flows.first_packet
           ORDER BY z.first_frame LIMIT 1)
         WHERE capture_id = ?${onlyUnset ? ' AND conn_state IS NULL' : ''}`,
      );
    this.linkZeek = [link('client', 'server', false), link('server', 'client', true)];
    this.transitions = new RowBuffer(this.db, 'INSERT INTO transitions (flow_id, seq, packet, ts, side, from_state, to_state, cause, inferred)', 2 + TRANSITION_WIDTH);
  }

  /** Write one row of Zeek's conn.log. */
  writeZeekConn(captureId: number, z: ZeekConn): void {
    this.insertZeekRow(zeekValues(captureId, z));
  }

  /** Write one finding (its flow is linked by flow_index when the capture commits). */
  writeFinding(captureId: number, f: Finding): void {
    this.insertFindingRow(findingValues(captureId, f));
  }

  /** Write one ended flow and its transitions (inside the capture's transaction). */
  writeFlow(captureId: number, f: FlowView): void {
    this.flowId = this.insertFlowRow(flowValues(captureId, f));
    this.seq = 0;
    f.forEachInTimeOrder(this.transitionRow);
  }

  /** The flow whose transitions are being written, and the order of the next. */
  private flowId = 0;
  private seq = 0;
  private readonly transitionRow: TransitionVisitor = (packet, ts, side, from, to, cause, inferred) => {
    const at = this.transitions.slot();
    const row = this.transitions.row;
    row[at] = this.flowId;
    row[at + 1] = ++this.seq;
    row[at + 2] = packet;
    row[at + 3] = ts;
    row[at + 4] = side;
    row[at + 5] = from;
    row[at + 6] = to;
    row[at + 7] = cause;
    row[at + 8] = inferred ? 1 : 0;
  };

  /** The row-level writes, with values as flowValues & co. make them (also what the writer thread replays). */
  insertFlowRow(values: RowValue[]): number {
    return Number(this.insertFlow.run(values).lastInsertRowid);
  }

  /** `values`: the row after the flow id and the order within the flow (packet, ts, side, from_state, to_state, cause, inferred). */
  insertTransitionRow(flowId: number, seq: number, values: RowValue[]): void {
    const at = this.transitions.slot();
    const row = this.transitions.row;
    row[at] = flowId;
    row[at + 1] = seq;
    for (let i = 0; i < TRANSITION_WIDTH; i++) row[at + 2 + i] = values[i];
  }

  insertFindingRow(values: RowValue[]): void {
    this.insertFinding.run(values);
  }

  insertZeekRow(values: RowValue[]): void {
    const at = this.zeekConns.slot();
    const row = this.zeekConns.row;
    for (let i = 0; i < ZEEK_WIDTH; i++) row[at + i] = values[i];
  }

  /** Write the rows still held for a multi-row insert (before anything reads the tables). */
  private flushRows(): void {
    this.transitions.flush();
    this.zeekConns.flush();
  }

  /**
   * Open the capture's transaction, drop any earlier analysis of the same path and
   * return the new capture id. Rows written before `commitCapture` land all at once.
   */
  beginCapture(path: string, name: string): number {
    this.db.exec('BEGIN IMMEDIATE');
    this.deleteCapture.run(path);
    // Nothing else in the database: build the indexes once at the end (rolled back with the rest).
    this.indexesDeferred = this.isEmpty.get() === 1;
    if (this.indexesDeferred) {
      for (const name of INDEX_NAMES) this.db.exec(`DROP INDEX IF EXISTS ${name}`);
      // Appends only until the indexes are built: a small page cache will do (memory under a flood).
      this.db.pragma(`cache_size = ${LOAD_CACHE_SIZE}`);
    }
    return Number(this.insertCapture.run(path, name).lastInsertRowid);
  }

  /** Fill in the capture's row and counters, and commit. */
  commitCapture(id: number, s: CaptureSummary): void {
    this.commitCaptureRow(id, captureRow(s));
  }

  /** commitCapture with the capture's row as captureRow makes it (plain data: it crosses to the writer thread). */
  commitCaptureRow(id: number, c: CaptureRow): void {
    this.flushRows();
    this.updateCapture.run(c.values, id);
    for (const itf of c.interfaces) this.insertInterface.run(id, itf);
    for (const [reason, n] of c.counters) this.insertCounter.run(id, reason, n);
    if (this.indexesDeferred) {
      // Each index is one sort; with the small cache its runs spill to temporary files, not memory.
      for (const sql of INDEXES) this.db.exec(sql);
      this.db.pragma(`cache_size = ${this.cacheSize}`);
    }
    this.indexesDeferred = false;
    this.linkFindings.run(id);
    for (const st of this.linkZeek) st.run(id);
    this.db.exec('COMMIT');
  }

  /**
   * Move one capture's rows from another tcpstate database (a worker's) into this one,
   * replacing any earlier analysis of the same path, in one transaction. Row ids are
   * shifted past this database's, so flows, transitions and anomalies stay linked.
   */
  importCapture(file: string): number {
    const db = this.db;
    this.flushRows();
    db.prepare('ATTACH DATABASE ? AS src').run(file);
    try {
      db.exec('BEGIN IMMEDIATE');
      const path = (db.prepare('SELECT path FROM src.captures').get() as { path: string }).path;
      this.deleteCapture.run(path);
      const flowOff = (db.prepare('SELECT coalesce(max(id), 0) n FROM main.flows').get() as { n: number }).n;
      const anomalyOff = (db.prepare('SELECT coalesce(max(id), 0) n FROM main.anomalies').get() as { n: number }).n;
      const copy = (table: string, expr: Record<string, string>) => {
        const cols = (db.prepare(`PRAGMA main.table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name).filter((c) => !(c === 'id' && !(c in expr)));
        db.exec(`INSERT INTO main.${table} (${cols.join(', ')}) SELECT ${cols.map((c) => expr[c] ?? c).join(', ')} FROM src.${table}`);
      };
      copy('captures', {});
      const id = Number((db.prepare('SELECT last_insert_rowid() id').get() as { id: number }).id);
      copy('interfaces', { capture_id: String(id) });
      copy('decode_counters', { capture_id: String(id) });
      copy('flows', { id: `id + ${flowOff}`, capture_id: String(id) });
      copy('transitions', { flow_id: `flow_id + ${flowOff}` });
      copy('anomalies', { id: `id + ${anomalyOff}`, capture_id: String(id), flow_id: `flow_id + ${flowOff}` });
      copy('zeek_conns', { capture_id: String(id) });
      db.exec('COMMIT');
      return id;
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    } finally {
      db.exec('DETACH DATABASE src');
    }
  }

  /** Drop everything written since beginCapture. */
  rollbackCapture(): void {
    this.transitions.discard();
    this.zeekConns.discard();
    if (this.indexesDeferred) this.db.pragma(`cache_size = ${this.cacheSize}`);
    this.indexesDeferred = false;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  close(): void {
    this.rollbackCapture();
    try {
      // Back to a rollback journal: one file, readable on read-only media, nothing left beside it.
      // Another connection still open (a second writer) keeps it in WAL; that one's close switches it.
      this.db.pragma('busy_timeout = 0');
      this.db.pragma('journal_mode = DELETE');
    } catch {
      // busy: the other connection finishes the job
    }
    this.db.close();
  }
}

/** A value bound to a statement parameter. */
export type RowValue = number | string | null;

/** What commitCapture writes about the capture itself. */
export interface CaptureRow {
  /** The captures row from format to error_record. */
  values: RowValue[];
  /** interfaces rows without the capture id. */
  interfaces: RowValue[][];
  counters: Array<[string, number]>;
}

export function captureRow(s: CaptureSummary): CaptureRow {
  return {
    values: [s.format, s.compression, s.linkTypes.join(','), s.packets, s.tcpPackets, s.bytes, s.firstTs, s.lastTs, s.status, s.error, s.errorOffset, s.errorRecord],
    interfaces: s.interfaces.map((i) => [i.index, i.section, i.linkType, i.snaplen, i.unitsPerSecond, i.tsOffsetSeconds, i.name]),
    counters: [...s.counters.entries()],
  };
}

/** The flows row of an ended flow (Zeek's columns are filled in at commit). */
export function flowValues(captureId: number, f: FlowView): RowValue[] {
  const c = f.client;
  const s = f.server;
  const a = f.hasAnalysis ? f.analysis : null;
  const crtt = a ? rttSummary(a.sortedRtt('client')) : null;
  const srtt = a ? rttSummary(a.sortedRtt('server')) : null;
  const row: RowValue[] = [
    captureId,
    f.id,
    f.ipVersion,
    c.addr,
    c.port,
    s.addr,
    s.port,
    f.firstTs,
    f.lastTs,
    f.firstPacket,
    f.lastPacket,
    c.state,
    s.state,
    f.rolesBy,
    f.midstream ? 1 : 0,
    f.endReason ?? 'end_of_capture',
    null,
    null,
    c.packets,
    c.payloadBytes,
    c.ipBytes,
    s.packets,
    s.payloadBytes,
    s.ipBytes,
    a && a.initialRttUs >= 0 ? a.initialRttUs : null,
    crtt ? Math.round(crtt.min) : null,
    crtt ? Math.round(crtt.median) : null,
    srtt ? Math.round(srtt.min) : null,
    srtt ? Math.round(srtt.median) : null,
  ];
  for (let i = 0; i < COUNT_COLUMNS.length; i++) row.push(a ? a.count(i) : 0);
  return row;
}

export function findingValues(captureId: number, f: Finding): RowValue[] {
  return [captureId, f.flow, f.packet, f.ts, f.kind, f.severity, f.side, f.message, JSON.stringify(f.details)];
}

export function zeekValues(captureId: number, z: ZeekConn): RowValue[] {
  return [
    captureId,
    z.ts,
    z.orig_h,
    z.orig_p,
    z.resp_h,
    z.resp_p,
    z.duration,
    z.orig_bytes,
    z.resp_bytes,
    z.conn_state,
    z.missed_bytes,
    z.history,
    z.orig_pkts,
    z.orig_ip_bytes,
    z.resp_pkts,
    z.resp_ip_bytes,
    z.first_frame,
    z.last_frame,
  ];
}
