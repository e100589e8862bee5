/**
 * The SQLite sink. One connection, prepared statements, and one transaction per
 * capture: analysing a capture again replaces its rows atomically, and a run that
 * is interrupted or crashes leaves the previous rows (or none), never half.
 *
 * What is stored is coded (issue 20): states, sides, roles, end reasons, severities and Zeek's
 * conn_state as small integers with static lookup tables; causes, kinds, Zeek histories,
 * repeated messages and non-IPv4 addresses through per-database dictionaries; an IPv4 address
 * as its 32 bits. A flow's state changes are one row of `path_steps` per step of its path (most
 * connections take one of a few dozen) plus the flow's own frames and times. The documented
 * names (flows, transitions, anomalies, zeek_conns) are views that show today's text.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { availableParallelism } from 'node:os';
import Database from 'better-sqlite3';
import type { CaptureSummary } from '../pipeline.js';
import type { Finding } from '../detect/finding.js';
import { COUNT_COLUMNS } from '../detect/packet-flags.js';
import type { FlowView, Side, TransitionVisitor } from '../tcp/rfc793/flow.js';
import type { ZeekConn } from '../tcp/zeek/conn.js';
import type { ZeekLink } from '../tcp/rfc793/table.js';
import { wellFormed } from '../reader/names.js';
import {
  ADDRESS_BASE,
  CODE_TABLES,
  CONN_STATES,
  Dictionary,
  END_REASONS,
  ROLES,
  SEVERITIES,
  SIDES,
  STATES,
  addressText,
  code,
  codeOf,
  codeTableSql,
  dictionarySql,
  ipv4Code,
  textOf,
} from './codes.js';
import { DbError, cannotOpen, dbError, dbProblem, rebuild } from './errors.js';

export const SCHEMA_VERSION = 4;

/** Per-database dictionaries: table, text column. */
const DICTIONARIES = [
  ['causes', 'cause'],
  ['kinds', 'kind'],
  ['histories', 'history'],
  ['messages', 'message'],
  ['addresses', 'addr'],
] as const;

/**
 * Tables that only store what the documented views show (coded rows, and the lookup tables
 * the codes point into): a user reads the views, and so does `npm run digest`.
 */
export const STORAGE_TABLES: ReadonlySet<string> = new Set<string>([
  'flow_data',
  'path_steps',
  'anomaly_data',
  'zeek_conn_data',
  ...CODE_TABLES.map((t) => t.table),
  ...DICTIONARIES.map(([t]) => t),
]);

/** The counts of `flows` with a value other than 0 are stored as one JSON array (NULL: all 0). */
const COUNT_VIEW = COUNT_COLUMNS.map((c, i) => `coalesce(json_extract(f.counts, '$[${i}]'), 0) AS ${c}`).join(',\n       ');

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
  status        TEXT NOT NULL CHECK (status IN ('complete', 'truncated', 'error', 'interrupted', 'running')),
  error         TEXT,                   -- one line naming the byte offset and record
  error_offset  INTEGER,
  error_record  INTEGER,
  warnings      TEXT                    -- JSON array of the summary's warning lines; NULL: none
);
-- Rotated files analysed as one capture (analyze --continuous): which file each frame came from.
CREATE TABLE IF NOT EXISTS capture_files (
  capture_id   INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  idx          INTEGER NOT NULL,        -- 1, 2, 3... in the order read (by first packet time)
  path         TEXT NOT NULL,
  name         TEXT NOT NULL,
  first_frame  INTEGER,                 -- frames of the whole capture from this file; NULL when it held none
  last_frame   INTEGER,
  packets      INTEGER NOT NULL,
  bytes        INTEGER NOT NULL,
  first_ts     INTEGER,
  last_ts      INTEGER,
  error        TEXT,                    -- its damage or cut-short end, if any (the next file is still read)
  PRIMARY KEY (capture_id, idx)
) WITHOUT ROWID;
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
CREATE TABLE IF NOT EXISTS decode_counters (
  capture_id  INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  reason      TEXT NOT NULL,            -- 'tcp', 'non_ip', 'truncated_tcp_header', ... (see README)
  packets     INTEGER NOT NULL,
  PRIMARY KEY (capture_id, reason)
);
-- One row per flow (id: the capture's first id + flow_index). Times and frames as offsets from
-- the flow's first; its state changes are the steps of path_id, at its moments: a JSON array of
-- (frame - first_packet, ts - first_ts) pairs, moment 0 being (first_packet, first_ts).
CREATE TABLE IF NOT EXISTS flow_data (
  id              INTEGER PRIMARY KEY,
  capture_id      INTEGER NOT NULL,
  flow_index      INTEGER NOT NULL,
  path_id         INTEGER NOT NULL,     -- path_steps.path_id (0: no state change)
  ip_version      INTEGER NOT NULL,
  client_addr     INTEGER NOT NULL,     -- IPv4: the address's 32 bits (signed); else addresses.id (>= 2^32)
  client_port     INTEGER NOT NULL,
  server_addr     INTEGER NOT NULL,
  server_port     INTEGER NOT NULL,
  first_ts        INTEGER NOT NULL,
  duration        INTEGER NOT NULL,     -- last_ts - first_ts
  first_packet    INTEGER NOT NULL,
  packet_span     INTEGER NOT NULL,     -- last_packet - first_packet
  moments         TEXT,                 -- JSON, see above; NULL: every change at moment 0
  client_state    INTEGER NOT NULL,     -- states.code
  server_state    INTEGER NOT NULL,
  roles_by        INTEGER NOT NULL,     -- roles.code
  midstream       INTEGER NOT NULL,
  end_reason      INTEGER NOT NULL,     -- end_reasons.code
  conn_state      INTEGER,              -- conn_states.code
  history         INTEGER,              -- histories.id
  client_packets  INTEGER NOT NULL,
  client_bytes    INTEGER NOT NULL,
  client_ip_bytes INTEGER NOT NULL,
  server_packets  INTEGER NOT NULL,
  server_bytes    INTEGER NOT NULL,
  server_ip_bytes INTEGER NOT NULL,
  irtt_us         INTEGER,
  client_rtt_min_us    INTEGER,
  client_rtt_median_us INTEGER,
  server_rtt_min_us    INTEGER,
  server_rtt_median_us INTEGER,
  counts          TEXT                  -- JSON array of the analysis counts, NULL when all are 0
);
-- The paths through the states: each step's side, states, cause and the moment of its flow it happened at.
CREATE TABLE IF NOT EXISTS path_steps (
  path_id     INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  side        INTEGER NOT NULL,         -- sides.code
  from_state  INTEGER,                  -- states.code
  to_state    INTEGER NOT NULL,
  cause       INTEGER NOT NULL,         -- causes.id
  inferred    INTEGER NOT NULL,
  moment      INTEGER NOT NULL,         -- index into the flow's moments
  no_packet   INTEGER NOT NULL,         -- 1: a timer or an inference (packet NULL)
  PRIMARY KEY (path_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS anomaly_data (
  id          INTEGER PRIMARY KEY,
  capture_id  INTEGER NOT NULL,
  flow_id     INTEGER,                  -- the capture's first flow id + flow_index (NULL at commit if no such flow)
  flow_index  INTEGER,
  packet      INTEGER,
  ts          INTEGER NOT NULL,
  kind        INTEGER NOT NULL,         -- kinds.id
  severity    INTEGER NOT NULL,         -- severities.code
  side        INTEGER,                  -- sides.code
  message,                              -- text; messages.id; NULL: a Dup ACK's, made from its details (no type: no conversion)
  details     TEXT NOT NULL
);
-- Zeek's rows. One that starts where a flow starts, on its tuple (most: Zeek and tcpstate agree),
-- is stored as that flow's id and the differences from its values, nearly all 0 (0 bytes each);
-- the others as they are (flow_id NULL). The view adds them back: coalesce(the flow's value, 0) + stored.
CREATE TABLE IF NOT EXISTS zeek_conn_data (
  capture_id     INTEGER NOT NULL,
  flow_id        INTEGER,               -- flow_data.id, or NULL: the values below are the row's own
  orient         INTEGER NOT NULL,      -- 1: Zeek's originator is the flow's server
  ts             INTEGER NOT NULL,      -- less the flow's first_ts
  orig_h         INTEGER NOT NULL,      -- coded as flow_data's addresses; less the flow's
  orig_p         INTEGER NOT NULL,
  resp_h         INTEGER NOT NULL,
  resp_p         INTEGER NOT NULL,
  duration       INTEGER NOT NULL,      -- less the flow's last_ts - first_ts
  orig_bytes     INTEGER NOT NULL,      -- less the originator's payload bytes in the flow, and so on
  resp_bytes     INTEGER NOT NULL,
  conn_state     INTEGER NOT NULL,      -- conn_states.code
  missed_bytes   INTEGER NOT NULL,
  history        INTEGER NOT NULL,      -- histories.id
  orig_pkts      INTEGER NOT NULL,
  orig_ip_bytes  INTEGER NOT NULL,
  resp_pkts      INTEGER NOT NULL,
  resp_ip_bytes  INTEGER NOT NULL,
  first_frame    INTEGER NOT NULL,      -- less the flow's first_packet
  frame_span     INTEGER NOT NULL       -- last_frame - first_frame, less the flow's packet_span
);
${CODE_TABLES.map(codeTableSql).join('\n')}
${DICTIONARIES.map(([t, c]) => dictionarySql(t, c)).join('\n')}
`;

/**
 * A capture's flows that came without Zeek's summary wait here for its commit to look it up, among
 * Zeek's rows as they are (rowid: the place in conn.log), which also serve a row to be made again.
 */
const STAGING = `
CREATE TEMP TABLE IF NOT EXISTS flow_stage AS SELECT * FROM main.flow_data WHERE 0;
-- analyze --follow: the staged flows a checkpoint already wrote (they stay staged for Zeek's rows), and those it is writing.
CREATE TEMP TABLE IF NOT EXISTS flow_written (id INTEGER PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS flow_writing (id INTEGER PRIMARY KEY, zid INTEGER NOT NULL);
CREATE TEMP TABLE IF NOT EXISTS zeek_stage (capture_id INTEGER, ts INTEGER, orig_h INTEGER, orig_p INTEGER, resp_h INTEGER,
  resp_p INTEGER, duration INTEGER, orig_bytes INTEGER, resp_bytes INTEGER, conn_state INTEGER, missed_bytes INTEGER,
  history INTEGER, orig_pkts INTEGER, orig_ip_bytes INTEGER, resp_pkts INTEGER, resp_ip_bytes INTEGER, first_frame INTEGER,
  frame_span INTEGER);
`;
const FLOW_DATA_COLUMNS = [
  'id', 'capture_id', 'flow_index', 'path_id', 'ip_version', 'client_addr', 'client_port', 'server_addr', 'server_port',
  'first_ts', 'duration', 'first_packet', 'packet_span', 'moments', 'client_state', 'server_state', 'roles_by', 'midstream',
  'end_reason', 'conn_state', 'history', 'client_packets', 'client_bytes', 'client_ip_bytes', 'server_packets', 'server_bytes',
  'server_ip_bytes', 'irtt_us', 'client_rtt_min_us', 'client_rtt_median_us', 'server_rtt_min_us', 'server_rtt_median_us', 'counts',
];
const ZEEK_DATA_COLUMNS = [
  'capture_id', 'ts', 'orig_h', 'orig_p', 'resp_h', 'resp_p', 'duration', 'orig_bytes', 'resp_bytes', 'conn_state',
  'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'first_frame', 'frame_span',
];
const ANOMALY_DATA_COLUMNS = ['capture_id', 'flow_id', 'flow_index', 'packet', 'ts', 'kind', 'severity', 'side', 'message', 'details'];

/**
 * What a Zeek row linked to a flow is stored as the difference from: its column, the flow's
 * column when Zeek's originator is the flow's client (orient 0), and when it is the server (1).
 */
const ZEEK_DIFFS: ReadonlyArray<readonly [string, string, string]> = [
  ['ts', 'first_ts', 'first_ts'],
  ['orig_h', 'client_addr', 'server_addr'],
  ['resp_h', 'server_addr', 'client_addr'],
  ['orig_p', 'client_port', 'server_port'],
  ['resp_p', 'server_port', 'client_port'],
  ['duration', 'duration', 'duration'],
  ['orig_bytes', 'client_bytes', 'server_bytes'],
  ['resp_bytes', 'server_bytes', 'client_bytes'],
  ['orig_pkts', 'client_packets', 'server_packets'],
  ['resp_pkts', 'server_packets', 'client_packets'],
  ['orig_ip_bytes', 'client_ip_bytes', 'server_ip_bytes'],
  ['resp_ip_bytes', 'server_ip_bytes', 'client_ip_bytes'],
  ['first_frame', 'first_packet', 'first_packet'],
  ['frame_span', 'packet_span', 'packet_span'],
];
/** The same as SQL over the flow f (`o`: the row's orient). */
const ZEEK_BASES: ReadonlyArray<readonly [string, string]> = ZEEK_DIFFS.map(([c, a, b]) => [c, a === b ? `f.${a}` : `CASE z.orient WHEN 1 THEN f.${b} ELSE f.${a} END`]);
/**
 * A flow's values a Zeek row is stored against, as the writer keeps them (after its id), in the
 * order ZeekLink's values come in (zeekValues).
 */
const FLOW_BASE = ['id', 'client_addr', 'client_port', 'server_addr', 'server_port', 'first_ts', 'duration', 'first_packet', 'packet_span',
  'client_packets', 'client_bytes', 'client_ip_bytes', 'server_packets', 'server_bytes', 'server_ip_bytes'];
/** Each of FLOW_BASE in flow_data's row, each Zeek difference's column in zeek_stage's row and in FLOW_BASE either way. */
const FLOW_BASE_AT = FLOW_BASE.map((c) => FLOW_DATA_COLUMNS.indexOf(c));
const DIFF_ZEEK_AT = ZEEK_DIFFS.map(([c]) => ZEEK_DATA_COLUMNS.indexOf(c));
const DIFF_BASE_AT = [0, 1].map((o) => ZEEK_DIFFS.map((d) => FLOW_BASE.indexOf(d[1 + o])));
/** Zeek's originator is a flow's server: the row is stored that way round (as SQL's `orig_h <> client_addr OR orig_p <> client_port`). */
const ORIG_H = ZEEK_DATA_COLUMNS.indexOf('orig_h');
const ORIG_P = ZEEK_DATA_COLUMNS.indexOf('orig_p');
const RESP_H = ZEEK_DATA_COLUMNS.indexOf('resp_h');
const RESP_P = ZEEK_DATA_COLUMNS.indexOf('resp_p');
const FIRST_FRAME = ZEEK_DATA_COLUMNS.indexOf('first_frame');
/** Zeek's row (zeek_stage's values at z of `staged`) and the flow `base` have the same two ends. */
function sameEnds(staged: RowValue[], z: number, base: number[]): boolean {
  const oh = staged[z + ORIG_H];
  const op = staged[z + ORIG_P];
  const rh = staged[z + RESP_H];
  const rp = staged[z + RESP_P];
  return (oh === base[1] && op === base[2] && rh === base[3] && rp === base[4]) || (oh === base[3] && op === base[4] && rh === base[1] && rp === base[2]);
}
/** Zeek rows made again (their flow had packets after Zeek logged them) held for one statement each at the next flush. */
const RESTORES_HELD = 1024;

/** A step's packet and time: moment 0 is the flow's first packet, moment k the k-th pair of its moments. */
const momentAt = (k: 0 | 1) =>
  `CASE WHEN s.moment = 0 THEN f.${k === 0 ? 'first_packet' : 'first_ts'} ELSE f.${k === 0 ? 'first_packet' : 'first_ts'} + json_extract(f.moments, '$[' || (2 * s.moment - ${2 - k}) || ']') END`;

/** zeek_conns shows a row stored against a flow once the flow is written (analyze --follow's checkpoints come between). */
const ZEEK_VIEW_HIDES = 'z.flow_id IS NULL OR f.id IS NOT NULL';

/** The documented names, as views over the coded tables: today's columns, today's text. */
const DOCUMENTED_VIEWS = `
CREATE VIEW IF NOT EXISTS flows AS
SELECT f.id, f.capture_id, f.flow_index, f.ip_version,
       ${addressText('f.client_addr')} AS client_addr, f.client_port,
       ${addressText('f.server_addr')} AS server_addr, f.server_port,
       f.first_ts, f.first_ts + f.duration AS last_ts, f.first_packet, f.first_packet + f.packet_span AS last_packet,
       ${textOf(STATES, 'f.client_state')} AS client_state, ${textOf(STATES, 'f.server_state')} AS server_state,
       ${textOf(ROLES, 'f.roles_by')} AS roles_by, f.midstream, ${textOf(END_REASONS, 'f.end_reason')} AS end_reason,
       ${textOf(CONN_STATES, 'f.conn_state')} AS conn_state, (SELECT h.history FROM histories h WHERE h.id = f.history) AS history,
       f.client_packets, f.client_bytes, f.client_ip_bytes, f.server_packets, f.server_bytes, f.server_ip_bytes,
       f.irtt_us, f.client_rtt_min_us, f.client_rtt_median_us, f.server_rtt_min_us, f.server_rtt_median_us,
       ${COUNT_VIEW}
FROM flow_data f;

CREATE VIEW IF NOT EXISTS transitions AS
SELECT f.id AS flow_id, s.seq,
       CASE WHEN s.no_packet THEN NULL ELSE ${momentAt(0)} END AS packet,
       ${momentAt(1)} AS ts,
       ${textOf(SIDES, 's.side')} AS side, ${textOf(STATES, 's.from_state')} AS from_state, ${textOf(STATES, 's.to_state')} AS to_state,
       (SELECT c.cause FROM causes c WHERE c.id = s.cause) AS cause, s.inferred
FROM flow_data f JOIN path_steps s ON s.path_id = f.path_id;

CREATE VIEW IF NOT EXISTS anomalies AS
SELECT a.id, a.capture_id, a.flow_id, a.flow_index, a.packet, a.ts,
       (SELECT k.kind FROM kinds k WHERE k.id = a.kind) AS kind, ${textOf(SEVERITIES, 'a.severity')} AS severity,
       ${textOf(SIDES, 'a.side')} AS side,
       CASE typeof(a.message) WHEN 'text' THEN a.message
         WHEN 'integer' THEN (SELECT m.message FROM messages m WHERE m.id = a.message)
         ELSE '[TCP Dup ACK ' || json_extract(a.details, '$.duplicate_ack_frame') || '#' || json_extract(a.details, '$.duplicate_ack_num') || ']' END AS message,
       a.details
FROM anomaly_data a;

CREATE VIEW IF NOT EXISTS zeek_conns AS
SELECT z.capture_id, z.ts, ${addressText('z.orig_h')} AS orig_h, z.orig_p, ${addressText('z.resp_h')} AS resp_h, z.resp_p,
       z.duration, z.orig_bytes, z.resp_bytes, ${textOf(CONN_STATES, 'z.conn_state')} AS conn_state, z.missed_bytes,
       (SELECT h.history FROM histories h WHERE h.id = z.history) AS history,
       z.orig_pkts, z.orig_ip_bytes, z.resp_pkts, z.resp_ip_bytes, z.first_frame, z.first_frame + z.frame_span AS last_frame
FROM (SELECT z.capture_id, z.conn_state, z.missed_bytes, z.history,
             ${ZEEK_BASES.map(([c, base]) => `coalesce(${base}, 0) + z.${c} AS ${c}`).join(',\n             ')}
      FROM zeek_conn_data z LEFT JOIN flow_data f ON f.id = z.flow_id
      WHERE ${ZEEK_VIEW_HIDES}) z;
`;

/**
 * Views for the questions of a post-mortem (README, "Views"): plain SQL over the tables, so a
 * user's own query can start from them.
 */
const VIEWS = `
-- Each endpoint's states as intervals: in \`state\` from \`from_ts\` to \`to_ts\` (microseconds, both
-- included; the last one runs to the end of the capture, or to the last packet of a connection
-- evicted at the memory budget: its states after are unknown). "What ss -tan showed at T" is
-- T BETWEEN from_ts AND to_ts, as census --at T. A state entered and left within one microsecond
-- has to_ts < from_ts.
CREATE VIEW IF NOT EXISTS state_intervals AS
SELECT f.capture_id, f.id AS flow_id, f.flow_index, t.seq, t.side,
       CASE t.side WHEN 'client' THEN f.client_addr ELSE f.server_addr END AS addr,
       CASE t.side WHEN 'client' THEN f.client_port ELSE f.server_port END AS port,
       CASE t.side WHEN 'client' THEN f.server_addr ELSE f.client_addr END AS peer_addr,
       CASE t.side WHEN 'client' THEN f.server_port ELSE f.client_port END AS peer_port,
       t.to_state AS state, t.ts AS from_ts,
       coalesce(lead(t.ts) OVER (PARTITION BY t.flow_id, t.side ORDER BY t.seq) - 1, CASE f.end_reason WHEN 'evicted' THEN f.last_ts ELSE c.last_ts END) AS to_ts,
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
/**
 * Helper threads SQLite may use for one sort (the ordered appends at commit, ORDER BY): one
 * per other core.
 */
const SORT_HELPERS = Math.min(8, Math.max(0, availableParallelism() - 1));
/** Page cache while a capture's rows are appended (KiB, as SQLite's negative cache_size): appends need little. */
const LOAD_CACHE_SIZE = -2048;
/**
 * Rows go in this many to a statement: for a row of a dozen values the call into SQLite
 * costs about as much as the insert (1.77M transitions: 6.1 s one by one, 3.9 s 32 at a time).
 */
const ROWS_PER_INSERT = 32;
/** Flows left for the commit to link up to which a scan of the staged Zeek rows each is cheaper than indexing them. */
const FEW_UNLINKED = 64;
/** Values of a transition as handed over (packet, ts, side, from, to, cause, inferred). */
const TRANSITION_WIDTH = 7;
/** In flowValues' row: the end of the figures, the conn.log row stored against the flow (zeekRow, stale, pending), the first count. */
const FIGURES_END = 29;
const ZEEK_ROW_AT = FIGURES_END;
const FIRST_COUNT = ZEEK_ROW_AT + 3;
/** In zeekValues' row: its own values, then (ZeekLink) its place, the flow it starts with and that flow's values. */
const ZEEK_WIDTH = ZEEK_DATA_COLUMNS.length;

/**
 * Rows for one INSERT, held until ROWS_PER_INSERT of them can go in one statement call;
 * `flush` writes the rest one by one. Rows are written in the order they were added.
 *
 * With `leanFrom`, values from that column on are often all 0 (a Zeek row no different from its
 * flow): a full set of rows whose values there are all 0 goes through a statement that has those
 * zeros written in, binding only the values before them (binding is most of an insert's cost).
 */
export class RowBuffer {
  private readonly many: Database.Statement;
  private readonly one: Database.Statement;
  private readonly values: RowValue[];
  private n = 0;
  private readonly lean: Database.Statement | null = null;
  private readonly leanValues: RowValue[] = [];

  constructor(
    db: Database.Database,
    insert: string,
    private readonly width: number,
    private readonly leanFrom = width,
  ) {
    const row = `(${new Array(width).fill('?').join(', ')})`;
    this.one = db.prepare(`${insert} VALUES ${row}`);
    this.many = db.prepare(`${insert} VALUES ${new Array(ROWS_PER_INSERT).fill(row).join(', ')}`);
    this.values = new Array(width * ROWS_PER_INSERT);
    if (leanFrom < width) {
      const leanRow = `(${[...new Array<string>(leanFrom).fill('?'), ...new Array<string>(width - leanFrom).fill('0')].join(', ')})`;
      this.lean = db.prepare(`${insert} VALUES ${new Array(ROWS_PER_INSERT).fill(leanRow).join(', ')}`);
      this.leanValues = new Array(leanFrom * ROWS_PER_INSERT);
    }
  }

  /** Room for one more row: its values go in at the returned index, `width` of them. */
  slot(): number {
    if (this.n === this.values.length) {
      if (!this.runLean()) this.many.run(this.values);
      this.n = 0;
    }
    const at = this.n;
    this.n += this.width;
    return at;
  }

  /** The full set of rows through the lean statement, when every one of them has only 0 from leanFrom on. */
  private runLean(): boolean {
    if (this.lean === null) return false;
    const v = this.values;
    const w = this.width;
    const k = this.leanFrom;
    for (let at = 0; at < v.length; at += w) for (let i = at + k; i < at + w; i++) if (v[i] !== 0) return false;
    const out = this.leanValues;
    for (let r = 0; r < ROWS_PER_INSERT; r++) for (let i = 0; i < k; i++) out[r * k + i] = v[r * w + i];
    this.lean.run(out);
    return true;
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
  /** `link`: the flow the row starts with, as it stands (the pipeline's; without it, the row is stored as it is). */
  writeZeekConn(captureId: number, z: ZeekConn, link?: ZeekLink): void;
  commitCapture(id: number, s: CaptureSummary): void;
  /**
   * analyze --follow: commit what can be read so far (the findings, the connections that ended
   * and whose Zeek row is written, Zeek's rows whose flow is written or that have none, and the
   * capture's row as `running` with its packets so far) and go on in a new transaction. The flows
   * whose Zeek row is not there yet stay staged until commitCapture.
   */
  checkpointCapture(id: number, packets: number): void;
  rollbackCapture(): void;
  /** Returns a warning to show, or null (see SqliteSink.close). */
  close(): string | null;
}

/** The database named by --db cannot be written: it is another program's file, or of another schema. Nothing was written. */
export class DbRefused extends DbError {
  constructor(message: string) {
    super(message, 'refused');
  }
}

/** Limits of the sink's connection, for tests: a disk that fills after `maxPages` pages, a shorter wait for a lock. */
export interface SinkLimits {
  /** PRAGMA max_page_count: past it, a write fails as on a full disk (SQLITE_FULL). */
  maxPages?: number;
  /** How long a write waits for another process's lock (ms; default 10 s). */
  busyTimeoutMs?: number;
  /**
   * Nobody reads a new database before its first capture is in (analyze without --follow): it is
   * then loaded with a rollback journal, which writes each page once where WAL writes it twice (into
   * the -wal file, then into the database at the checkpoint after the commit: 0.2-0.5 s of the
   * mix's commit). WAL from its first commit on, for readers while the next captures go in.
   */
  noEarlyReaders?: boolean;
}

/** How long a write waits for another writer (a second tcpstate analyze on the same file) before the file is reported locked. */
const BUSY_TIMEOUT_MS = 10_000;

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
      `${file} is a tcpstate database of schema version ${version}; this tcpstate writes version ${SCHEMA_VERSION}. Rebuild it: ${rebuild(file)}`,
    );
  }
}

export class SqliteSink implements Sink {
  private readonly db: Database.Database;
  /** The database's file, as errors name it. */
  private readonly file: string;
  /** What the run was made with (meta rows), recorded with each capture it writes: a run that writes none changes nothing. */
  private readonly meta: Array<[string, string]>;
  private readonly setMeta: Database.Statement;
  /** The first error of the capture being written: every later write of it fails with it, and nothing more reaches the database. */
  private failure: Error | null = null;
  private readonly captureOf: Database.Statement;
  private readonly deleteCapture: Database.Statement;
  private readonly deleteRows: Database.Statement[];
  private readonly insertCapture: Database.Statement;
  private readonly updateCapture: Database.Statement;
  private readonly insertInterface: Database.Statement;
  private readonly insertCounter: Database.Statement;
  private readonly insertFile: Database.Statement;
  private readonly markRunning: Database.Statement;
  private readonly maxFlowId: Database.Statement;
  private readonly flows: RowBuffer;
  /** Flows that come with their Zeek summary go straight into flow_data too (the commit has only the others to link). */
  private readonly linkedFlows: RowBuffer;
  /** Staged flows without their Zeek summary (the commit links them). */
  private readonly unlinkedFlows: Database.Statement;
  private readonly anomalies: RowBuffer;
  /** Zeek's rows as they are, for the flows the commit links (and for a row to be made again). */
  private readonly zeekConns: RowBuffer;
  /** Zeek's rows as stored: the differences from the flow they start with, in conn.log order (rowid zeekBase + place). */
  private readonly zeekData: RowBuffer;
  private readonly stagedZeek: Database.Statement;
  private readonly restoreZeek: Database.Statement;
  /** The last zeek_conn_data rowid before the capture's, and the place of its last conn.log row. */
  private zeekBase = 0;
  private zeekSeq = 0;
  private readonly maxZeekRow: Database.Statement;
  /**
   * Flows that ended while Zeek's connection holding their first packet was not logged yet
   * (FlowView.zeekPending), by first packet: their id and values, for a Zeek row that starts there.
   */
  private readonly pendingFlows = new Map<number, number[]>();
  /** The flow a ZeekLink names (refilled). */
  private readonly linkBase: number[] = new Array(FLOW_BASE.length).fill(0);
  /** Zeek rows to make again, as the restore statement's values (see restoreZeekRows). */
  private readonly restores: RowValue[] = [];
  private readonly insertStep: Database.Statement;
  private readonly appendStaged: Database.Statement[];
  /** analyze --follow's checkpoint: the staged flows whose Zeek row is staged too go in (see checkpointCapture). */
  private readonly appendLinked: Database.Statement[];
  private readonly dict: Record<(typeof DICTIONARIES)[number][0], Dictionary>;
  private readonly stateCode = codeOf(STATES);
  private readonly sideCode = codeOf(SIDES);
  private readonly roleCode = codeOf(ROLES);
  private readonly endCode = codeOf(END_REASONS);
  private readonly severityCode = codeOf(SEVERITIES);
  private readonly connStateCode = codeOf(CONN_STATES);
  /** Paths through the states by their steps' codes; 0 is the empty path. */
  private readonly paths = new Map<string, number>();
  private nextPath = 1;
  /** The capture's first flow id less one: a flow's id is flowBase + its flow_index. */
  private flowBase = 0;
  /** The last anomaly id before the capture's: its findings' flow links are checked at commit. */
  private anomalyBase = 0;
  private readonly maxAnomalyId: Database.Statement;
  private readonly unlinkFindings: Database.Statement;
  /** The flow whose transitions are coming (flowValues' row), and its transitions so far. */
  private pending: RowValue[] | null = null;
  private pendingId = 0;
  private readonly steps: RowValue[] = [];
  /** A new database loaded with a rollback journal takes WAL at its first commit (SinkLimits.noEarlyReaders). */
  private walAfterCommit = false;
  /** The connection's page cache setting, and a small one for loads that only append. */
  private readonly cacheSize: number;

  /**
   * `meta`: entries to record in the meta table (the tool's version, the run's settings).
   * A file that cannot be used throws a DbError saying why (DbRefused: not one tcpstate writes).
   */
  constructor(file: string, meta: Record<string, string> = {}, limits: SinkLimits = {}) {
    this.file = file;
    checkWritableTarget(file);
    try {
      this.db = new Database(file);
    } catch (e) {
      // better-sqlite3 itself refuses a file in a directory that does not exist (no SQLite code).
      throw dbError(file, e, true) ?? (existsSync(dirname(file)) ? e : cannotOpen(file, (e as Error).message, true));
    }
    try {
      this.db.pragma(`busy_timeout = ${limits.busyTimeoutMs ?? BUSY_TIMEOUT_MS}`);
      if (limits.maxPages !== undefined) this.db.pragma(`max_page_count = ${limits.maxPages}`);
      const hasMeta = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
      const row = hasMeta ? (this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined) : undefined;
      if (row !== undefined && Number(row.value) !== SCHEMA_VERSION) {
        throw new DbRefused(`${file} is a tcpstate database of schema version ${row.value}; this tcpstate writes version ${SCHEMA_VERSION}. Rebuild it: ${rebuild(file)}`);
      }
      // WAL while the analysis runs (readers are not blocked), unless nobody can read it yet (see
      // SinkLimits.noEarlyReaders); close() leaves the file in rollback-journal mode.
      this.walAfterCommit = row === undefined && limits.noEarlyReaders === true;
      this.db.pragma(this.walAfterCommit ? 'journal_mode = DELETE' : 'journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma(`threads = ${SORT_HELPERS}`);
      // The tables and views in one transaction (with a rollback journal, each commit is a sync).
      this.db.exec('BEGIN');
      this.db.exec(SCHEMA);
      // zeek_conns hides a row whose flow is not written yet (a checkpoint's): an older file's is made again.
      const zeekView = this.db.prepare("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'zeek_conns'").pluck().get() as string | undefined;
      if (zeekView !== undefined && !zeekView.includes(ZEEK_VIEW_HIDES)) this.db.exec('DROP VIEW zeek_conns');
      this.db.exec(DOCUMENTED_VIEWS);
      this.db.exec(VIEWS);
      this.db.exec(STAGING);
      if (row === undefined) this.db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
      this.db.exec('COMMIT');
      this.cacheSize = this.db.pragma('cache_size', { simple: true }) as number;
      this.meta = Object.entries(meta);
      this.setMeta = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
      this.dict = Object.fromEntries(
        DICTIONARIES.map(([t, c]) => [t, new Dictionary(this.db, t, c, t === 'addresses' ? ADDRESS_BASE : 1)]),
      ) as SqliteSink['dict'];
      this.loadPaths();
      this.captureOf = this.db.prepare('SELECT id FROM captures WHERE path = ?').pluck();
      this.deleteCapture = this.db.prepare('DELETE FROM captures WHERE id = ?');
      this.deleteRows = ['flow_data', 'anomaly_data', 'zeek_conn_data'].map((t) => this.db.prepare(`DELETE FROM ${t} WHERE capture_id = ?`));
      this.insertCapture = this.db.prepare(
        "INSERT INTO captures (path, name, link_types, packets, tcp_packets, bytes, status) VALUES (?, ?, '', 0, 0, 0, 'error')",
      );
      this.updateCapture = this.db.prepare(
        `UPDATE captures SET format = ?, compression = ?, link_types = ?, packets = ?, tcp_packets = ?, bytes = ?,
           first_ts = ?, last_ts = ?, status = ?, error = ?, error_offset = ?, error_record = ?, warnings = ?
         WHERE id = ?`,
      );
      this.insertInterface = this.db.prepare(
        'INSERT INTO interfaces (capture_id, idx, section, link_type, snaplen, ts_units_per_sec, ts_offset_sec, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      this.insertCounter = this.db.prepare('INSERT INTO decode_counters (capture_id, reason, packets) VALUES (?, ?, ?)');
      this.markRunning = this.db.prepare("UPDATE captures SET status = 'running', packets = ? WHERE id = ?");
      this.insertFile = this.db.prepare(
        'INSERT INTO capture_files (capture_id, idx, path, name, first_frame, last_frame, packets, bytes, first_ts, last_ts, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      this.maxFlowId = this.db.prepare('SELECT coalesce(max(id), 0) FROM flow_data').pluck();
      this.maxAnomalyId = this.db.prepare('SELECT coalesce(max(id), 0) FROM anomaly_data').pluck();
      // A finding's flow_id is set when it is written; one naming a flow_index no flow has links to none.
      this.unlinkFindings = this.db.prepare(
        `UPDATE anomaly_data SET flow_id = NULL
         WHERE id > ? AND flow_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM flow_data f WHERE f.id = anomaly_data.flow_id)`,
      );
      this.flows = new RowBuffer(this.db, `INSERT INTO temp.flow_stage (${FLOW_DATA_COLUMNS.join(', ')})`, FLOW_DATA_COLUMNS.length);
      this.unlinkedFlows = this.db.prepare('SELECT count(*) FROM temp.flow_stage WHERE conn_state IS NULL').pluck();
      this.linkedFlows = new RowBuffer(this.db, `INSERT INTO main.flow_data (${FLOW_DATA_COLUMNS.join(', ')})`, FLOW_DATA_COLUMNS.length);
      this.zeekConns = new RowBuffer(this.db, `INSERT INTO temp.zeek_stage (rowid, ${ZEEK_DATA_COLUMNS.join(', ')})`, ZEEK_DATA_COLUMNS.length + 1);
      this.zeekData = new RowBuffer(
        this.db,
        `INSERT INTO main.zeek_conn_data (rowid, capture_id, conn_state, missed_bytes, history, flow_id, orient, ${ZEEK_DIFFS.map(([c]) => c).join(', ')})`,
        7 + ZEEK_BASES.length,
        7, // the differences: all 0 for a row no different from its flow
      );
      this.stagedZeek = this.db.prepare(`SELECT ${ZEEK_DATA_COLUMNS.join(', ')} FROM temp.zeek_stage WHERE rowid = ?`).raw();
      this.restoreZeek = this.db.prepare(
        `UPDATE main.zeek_conn_data SET flow_id = ?, orient = ?, ${ZEEK_DIFFS.map(([c]) => `${c} = ?`).join(', ')} WHERE rowid = ?`,
      );
      this.maxZeekRow = this.db.prepare('SELECT coalesce(max(rowid), 0) FROM zeek_conn_data').pluck();
      this.anomalies = new RowBuffer(this.db, `INSERT INTO anomaly_data (${ANOMALY_DATA_COLUMNS.join(', ')})`, ANOMALY_DATA_COLUMNS.length);
      this.insertStep = this.db.prepare(
        'INSERT INTO path_steps (path_id, seq, side, from_state, to_state, cause, inferred, moment, no_packet) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      // At commit, a flow takes Zeek's summary from the conn.log row holding its first packet,
      // whichever way Zeek oriented it (the client's way first); the flows go in, in order.
      const zeekRow = (orig: string, resp: string) =>
        `(SELECT z.rowid FROM temp.zeek_stage z
           WHERE z.orig_h = f.${orig}_addr AND z.orig_p = f.${orig}_port AND z.resp_h = f.${resp}_addr AND z.resp_p = f.${resp}_port
             AND z.first_frame <= f.first_packet AND z.first_frame + z.frame_span >= f.first_packet
           ORDER BY z.first_frame LIMIT 1)`;
      // A flow the analysis linked already (Zeek logged its connection before the flow ended) comes with
      // its conn_state and history; the others take them from the staged Zeek row found here.
      const linked = FLOW_DATA_COLUMNS.map((c) => (c === 'conn_state' || c === 'history' ? `coalesce(l.${c}, z.${c})` : `l.${c}`));
      const zid = `CASE WHEN f.conn_state IS NULL THEN coalesce(${zeekRow('client', 'server')}, ${zeekRow('server', 'client')}) END`;
      this.appendStaged = [
        this.db.prepare('CREATE INDEX IF NOT EXISTS temp.zeek_stage_tuple ON zeek_stage (orig_h, orig_p, resp_h, resp_p, first_frame)'),
        this.db.prepare(
          `INSERT INTO main.flow_data (${FLOW_DATA_COLUMNS.join(', ')})
           SELECT ${linked.join(', ')}
           FROM (SELECT f.*, ${zid} AS zid FROM temp.flow_stage f
                 WHERE f.conn_state IS NULL AND NOT EXISTS (SELECT 1 FROM temp.flow_written w WHERE w.id = f.id)) l
           LEFT JOIN temp.zeek_stage z ON z.rowid = l.zid
           ORDER BY l.id`,
        ),
        this.db.prepare('DROP INDEX IF EXISTS temp.zeek_stage_tuple'),

        this.db.prepare('DELETE FROM temp.flow_stage'),
        this.db.prepare('DELETE FROM temp.zeek_stage'),
        this.db.prepare('DELETE FROM temp.flow_written'),
      ];
      // A flow whose Zeek row is staged takes the summary it will take at the end (a frame is in one
      // Zeek connection only); the others wait.
      this.appendLinked = [
        this.db.prepare('CREATE INDEX IF NOT EXISTS temp.zeek_stage_tuple ON zeek_stage (orig_h, orig_p, resp_h, resp_p, first_frame)'),
        this.db.prepare('DELETE FROM temp.flow_writing'),
        this.db.prepare(
          `INSERT INTO temp.flow_writing (id, zid)
           SELECT id, zid FROM (SELECT f.id, ${zid} AS zid FROM temp.flow_stage f
                                WHERE f.conn_state IS NULL AND NOT EXISTS (SELECT 1 FROM temp.flow_written w WHERE w.id = f.id))
           WHERE zid IS NOT NULL`,
        ),
        this.db.prepare(
          `INSERT INTO main.flow_data (${FLOW_DATA_COLUMNS.join(', ')})
           SELECT ${linked.join(', ')}
           FROM temp.flow_writing m JOIN temp.flow_stage l ON l.id = m.id JOIN temp.zeek_stage z ON z.rowid = m.zid
           ORDER BY l.id`,
        ),
        this.db.prepare('INSERT INTO temp.flow_written (id) SELECT id FROM temp.flow_writing'),
        this.db.prepare('DELETE FROM temp.flow_writing'),
        this.db.prepare('DROP INDEX IF EXISTS temp.zeek_stage_tuple'),
      ];
    } catch (e) {
      if (this.db.open) this.db.close();
      throw dbError(file, e, true) ?? e;
    }
  }

  /**
   * Stop at the first error: the capture's transaction is rolled back at once (SQLite may have
   * ended it itself, on a full disk: a later write would then be committed on its own), and
   * this write and every later one of the capture fail with the first error, as a DbError
   * when the environment caused it. beginCapture or rollbackCapture starts afresh.
   */
  private fail(e: unknown): never {
    if (this.failure === null) {
      this.failure = dbError(this.file, e, true) ?? (e as Error);
      this.discardRows();
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        this.reloadCodes();
      } catch {
        // the transaction is gone either way; the next beginCapture reloads the codes
      }
    }
    throw this.failure;
  }

  /** Write one row of Zeek's conn.log. */
  writeZeekConn(captureId: number, z: ZeekConn, link?: ZeekLink): void {
    this.insertZeekRow(zeekValues(captureId, z, link));
  }

  /** Write one finding (its flow is linked by flow_index). */
  writeFinding(captureId: number, f: Finding): void {
    this.insertFindingRow(findingValues(captureId, f));
  }

  /** Write one ended flow and its transitions (inside the capture's transaction). */
  writeFlow(captureId: number, f: FlowView): void {
    this.insertFlowRow(flowValues(captureId, f));
    f.forEachInTimeOrder(this.transitionStep);
    try {
      this.finishFlow();
    } catch (e) {
      this.fail(e);
    }
  }

  /** One change of the flow being written, into its path (no closure per flow). */
  private readonly transitionStep: TransitionVisitor = (packet, ts, side, from, to, cause, inferred) => {
    this.steps.push(packet, ts, side, from, to, cause, inferred ? 1 : 0);
  };

  /**
   * The row-level writes, with values as flowValues & co. make them (also what the writer
   * thread replays). A flow's row is held until its transitions are in (the next flow, or the
   * commit): its path is known then. Returns the flow's id.
   */
  insertFlowRow(values: RowValue[]): number {
    if (this.failure !== null) throw this.failure;
    try {
      this.finishFlow();
    } catch (e) {
      this.fail(e);
    }
    this.pending = values;
    this.pendingId = this.flowBase + (values[1] as number);
    return this.pendingId;
  }

  /** `values`: the transition (packet, ts, side, from_state, to_state, cause, inferred) of the flow `flowId`, the seq-th. */
  insertTransitionRow(flowId: number, seq: number, values: RowValue[]): void {
    if (this.failure !== null) throw this.failure;
    if (flowId !== this.pendingId || this.pending === null || seq !== this.steps.length / TRANSITION_WIDTH + 1) {
      throw new Error(`transition ${seq} of flow ${flowId} does not follow its flow`);
    }
    for (let i = 0; i < TRANSITION_WIDTH; i++) this.steps.push(values[i]);
  }

  insertFindingRow(v: RowValue[]): void {
    if (this.failure !== null) throw this.failure;
    try {
      this.findingRow(v);
    } catch (e) {
      this.fail(e);
    }
  }

  private findingRow(v: RowValue[]): void {
    const at = this.anomalies.slot();
    const row = this.anomalies.row;
    const kind = v[4] as string;
    const message = v[7] as string;
    const details = v[8] as string;
    row[at] = v[0];
    row[at + 1] = v[1] === null ? null : this.flowBase + (v[1] as number);
    row[at + 2] = v[1];
    row[at + 3] = v[2];
    row[at + 4] = v[3];
    row[at + 5] = this.dict.kinds.id(kind);
    row[at + 6] = code(this.severityCode, SEVERITIES, v[5]);
    row[at + 7] = code(this.sideCode, SIDES, v[6]);
    row[at + 8] = messageCode(this.dict.messages, kind, message, details);
    row[at + 9] = details;
  }

  insertZeekRow(v: RowValue[]): void {
    if (this.failure !== null) throw this.failure;
    try {
      this.zeekRow(v);
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * A conn.log row: staged as it is (for the flows the commit links; not a final one), and stored at once as its
   * differences from the flow it starts with: the live flow ZeekLink named (as it stood then), or
   * one that ended before (pendingFlows), or none.
   */
  /** A final Zeek row's values, as a staged one's would be (zeekRow). */
  private readonly finalZeek: RowValue[] = new Array<RowValue>(ZEEK_WIDTH + 1);

  private zeekRow(v: RowValue[]): void {
    // The flow held for its transitions has them all (the writer thread's rows come in order): its values count here.
    this.finishFlow();
    const linked = v.length > ZEEK_WIDTH;
    const seq = linked ? (v[ZEEK_WIDTH] as number) : this.zeekSeq + 1;
    this.zeekSeq = seq;
    // A final row (ZeekLink.final) is never looked up again: not staged, only stored.
    const final = linked && v[ZEEK_WIDTH + 1] === 1;
    const at = final ? 0 : this.zeekConns.slot();
    const row = final ? this.finalZeek : this.zeekConns.row;
    row[at] = seq;
    const z = at + 1;
    for (let i = 0; i < 17; i++) row[z + i] = v[i];
    row[z + 2] = this.address(v[2]);
    row[z + 4] = this.address(v[4]);
    row[z + 9] = code(this.connStateCode, CONN_STATES, v[9]);
    row[z + 11] = this.dict.histories.id(v[11] as string);
    row[z + 17] = (v[17] as number) - (v[16] as number);
    let base: number[] | undefined;
    if (linked && v[ZEEK_WIDTH + 2] !== null) {
      base = this.linkBase;
      const from = ZEEK_WIDTH + 2;
      base[0] = this.flowBase + (v[from] as number);
      for (let k = 1; k < FLOW_BASE.length; k++) base[k] = v[from + k] as number;
      base[1] = this.address(v[from + 1]);
      base[3] = this.address(v[from + 3]);
    } else {
      const frame = row[z + FIRST_FRAME] as number;
      base = this.pendingFlows.get(frame);
      if (base !== undefined) {
        this.pendingFlows.delete(frame);
        if (!sameEnds(row, z, base)) base = undefined;
      }
    }
    const out = this.zeekData.slot();
    this.storedZeek(this.zeekData.row, out, row, z, base);
  }

  /** Zeek's row (zeek_stage's values at z of `staged`) as zeek_conn_data stores it, at `out` of `to`: the differences from the flow `base`, or itself. */
  private storedZeek(to: RowValue[], out: number, staged: RowValue[], z: number, base: number[] | undefined): void {
    to[out] = this.zeekBase + this.zeekSeq;
    to[out + 1] = staged[z];
    to[out + 2] = staged[z + 9];
    to[out + 3] = staged[z + 10];
    to[out + 4] = staged[z + 11];
    this.zeekDifferences(to, out + 5, staged, z, base);
  }

  /** flow_id, orient and the differences of ZEEK_DIFFS, at `out` of `to`. */
  private zeekDifferences(to: RowValue[], out: number, staged: RowValue[], z: number, base: number[] | undefined): void {
    if (base === undefined) {
      to[out] = null;
      to[out + 1] = 0;
      for (let k = 0; k < DIFF_ZEEK_AT.length; k++) to[out + 2 + k] = staged[z + DIFF_ZEEK_AT[k]];
      return;
    }
    const orient = staged[z + ORIG_H] !== base[1] || staged[z + ORIG_P] !== base[2] ? 1 : 0;
    const from = DIFF_BASE_AT[orient];
    to[out] = base[0];
    to[out + 1] = orient;
    for (let k = 0; k < DIFF_ZEEK_AT.length; k++) to[out + 2 + k] = (staged[z + DIFF_ZEEK_AT[k]] as number) - base[from[k]];
  }

  /** An address's code (see codes.ts). */
  private address(v: RowValue): number {
    // An IPv4 address comes as its code (flowValues), another as text.
    return typeof v === 'number' ? v : (ipv4Code(v as string) ?? this.dict.addresses.id(v as string));
  }

  /** Write the flow held for its transitions: its path's id (a new path's steps with it) and its moments. */
  private finishFlow(): void {
    const v = this.pending;
    if (v === null) return;
    this.pending = null;
    const p0 = v[9] as number;
    const t0 = v[7] as number;
    const st = this.steps;
    const moments: number[] = [];
    let key = '';
    for (let i = 0; i < st.length; i += TRANSITION_WIDTH) {
      const packet = st[i] as number | null;
      const ts = st[i + 1] as number;
      const dp = packet === null ? 0 : packet - p0;
      const dt = ts - t0;
      let m = -1;
      if (dt === 0 && (packet === null || dp === 0)) m = 0;
      for (let k = 0; m < 0 && k < moments.length; k += 2) if (moments[k + 1] === dt && (packet === null || moments[k] === dp)) m = k / 2 + 1;
      if (m < 0) {
        moments.push(dp, dt);
        m = moments.length / 2;
      }
      // Side and states come as codes from the writer thread (StepVisitor), as text from writeFlow.
      const side = typeof st[i + 2] === 'number' ? st[i + 2] : code(this.sideCode, SIDES, st[i + 2]);
      const from = typeof st[i + 3] === 'number' ? st[i + 3] : code(this.stateCode, STATES, st[i + 3]);
      const to = typeof st[i + 4] === 'number' ? st[i + 4] : code(this.stateCode, STATES, st[i + 4]);
      key += `${side},${from ?? ''},${to},${this.dict.causes.id(st[i + 5] as string)},${st[i + 6]},${m},${packet === null ? 1 : 0};`;
    }
    st.length = 0;
    let path = this.paths.get(key);
    if (path === undefined) {
      path = this.nextPath++;
      this.paths.set(key, path);
      this.writePath(path, key);
    }
    // Linked by the analysis (it came with Zeek's summary): into flow_data now; the others are staged for the commit to link.
    const rows = v[16] !== null ? this.linkedFlows : this.flows;
    const at = rows.slot();
    const row = rows.row;
    row[at] = this.pendingId;
    row[at + 1] = v[0];
    row[at + 2] = v[1];
    row[at + 3] = path;
    row[at + 4] = v[2];
    row[at + 5] = this.address(v[3]);
    row[at + 6] = v[4];
    row[at + 7] = this.address(v[5]);
    row[at + 8] = v[6];
    row[at + 9] = t0;
    row[at + 10] = (v[8] as number) - t0;
    row[at + 11] = p0;
    row[at + 12] = (v[10] as number) - p0;
    row[at + 13] = moments.length === 0 ? null : `[${moments.join(',')}]`;
    row[at + 14] = code(this.stateCode, STATES, v[11]);
    row[at + 15] = code(this.stateCode, STATES, v[12]);
    row[at + 16] = code(this.roleCode, ROLES, v[13]);
    row[at + 17] = v[14];
    row[at + 18] = code(this.endCode, END_REASONS, v[15]);
    // conn_state and history: the analysis's link to Zeek's row, or (null) found at commit.
    row[at + 19] = code(this.connStateCode, CONN_STATES, v[16]);
    row[at + 20] = v[17] === null ? null : this.dict.histories.id(v[17] as string);
    for (let i = 18; i < FIGURES_END; i++) row[at + 21 + i - 18] = v[i];
    let counts: string | null = null;
    for (let i = FIRST_COUNT; i < v.length; i++) {
      if (v[i] !== 0) {
        counts = `[${v.slice(FIRST_COUNT).join(',')}]`;
        break;
      }
    }
    row[at + 32] = counts;
    // Zeek's row stored against this flow as it stood then is made again; a Zeek row to come may start where it starts.
    const zeekRow = v[ZEEK_ROW_AT] as number;
    if (zeekRow !== 0 && v[ZEEK_ROW_AT + 1] === 1) this.restoreZeekRow(zeekRow, row, at);
    if (v[ZEEK_ROW_AT + 2] === 1) this.pendingFlows.set(p0, FLOW_BASE_AT.map((k) => row[at + k] as number));
  }

  /**
   * Zeek's row `seq` of the capture was stored against the flow (values at `at` of `row`) before
   * the flow's last packets: its differences are made again from the row as staged, at the next
   * flush, RESTORES_HELD to a flush at most.
   */
  private restoreZeekRow(seq: number, row: RowValue[], at: number): void {
    const r = this.restores;
    r.push(seq);
    for (const k of FLOW_BASE_AT) r.push(row[at + k]);
    if (r.length >= RESTORES_HELD * (1 + FLOW_BASE.length)) {
      this.zeekConns.flush();
      this.zeekData.flush();
      this.restoreZeekRows();
    }
  }

  /** The held restores (the rows they name are written: after the buffers' flush). */
  private restoreZeekRows(): void {
    const r = this.restores;
    const width = 1 + FLOW_BASE.length;
    const values: RowValue[] = new Array(2 + ZEEK_DIFFS.length + 1);
    for (let i = 0; i < r.length; i += width) {
      const seq = r[i] as number;
      const staged = this.stagedZeek.get(seq) as RowValue[] | undefined;
      if (staged === undefined) throw new Error(`Zeek row ${seq} of the capture is not staged`);
      this.zeekDifferences(values, 0, staged, 0, r.slice(i + 1, i + width) as number[]);
      values[values.length - 1] = this.zeekBase + seq;
      this.restoreZeek.run(values);
    }
    r.length = 0;
  }

  /** The steps of a new path (its key as finishFlow makes it). */
  private writePath(path: number, key: string): void {
    const steps = key.split(';');
    for (let i = 0; i < steps.length - 1; i++) {
      const [side, from, to, cause, inferred, moment, noPacket] = steps[i].split(',');
      this.insertStep.run(path, i + 1, Number(side), from === '' ? null : Number(from), Number(to), Number(cause), Number(inferred), Number(moment), Number(noPacket));
    }
  }

  /** The paths already in the database, by key. */
  private loadPaths(): void {
    this.paths.clear();
    this.paths.set('', 0);
    this.nextPath = 1;
    let key = '';
    let path = -1;
    const done = () => {
      if (path < 0) return;
      this.paths.set(key, path);
      if (path >= this.nextPath) this.nextPath = path + 1;
    };
    for (const s of this.db
      .prepare('SELECT path_id, side, from_state, to_state, cause, inferred, moment, no_packet FROM path_steps ORDER BY path_id, seq')
      .raw()
      .iterate() as Iterable<number[]>) {
      if (s[0] !== path) {
        done();
        path = s[0];
        key = '';
      }
      key += `${s[1]},${s[2] ?? ''},${s[3]},${s[4]},${s[5]},${s[6]},${s[7]};`;
    }
    done();
  }

  /** Write the rows still held for a multi-row insert (before anything reads the tables). */
  private flushRows(): void {
    this.finishFlow();
    this.flows.flush();
    this.linkedFlows.flush();
    this.anomalies.flush();
    this.zeekConns.flush();
    this.zeekData.flush();
    this.restoreZeekRows();
  }

  /** Drop any earlier analysis of `path` (its rows go with it). */
  private dropCapture(path: string): void {
    const old = this.captureOf.get(path) as number | undefined;
    if (old === undefined) return;
    for (const st of this.deleteRows) st.run(old);
    this.deleteCapture.run(old);
  }

  /**
   * Open the capture's transaction, drop any earlier analysis of the same path and
   * return the new capture id. Rows written before `commitCapture` land all at once.
   */
  beginCapture(path: string, name: string): number {
    this.failure = null;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      // What a run that failed after a checkpoint left staged.
      this.db.exec('DELETE FROM temp.flow_stage; DELETE FROM temp.zeek_stage; DELETE FROM temp.flow_written');
      this.dropCapture(path);
      for (const [k, v] of this.meta) this.setMeta.run(k, v);
      this.flowBase = this.maxFlowId.get() as number;
      this.anomalyBase = this.maxAnomalyId.get() as number;
      this.zeekBase = this.maxZeekRow.get() as number;
      this.zeekSeq = 0;
      // A flow of an earlier capture left waiting for its Zeek row never gets it.
      this.pendingFlows.clear();
      // Appends only: a small page cache will do (memory under a flood).
      this.db.pragma(`cache_size = ${LOAD_CACHE_SIZE}`);
      return Number(this.insertCapture.run(path, name).lastInsertRowid);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Fill in the capture's row and counters, and commit. */
  commitCapture(id: number, s: CaptureSummary): void {
    this.commitCaptureRow(id, captureRow(s));
  }

  /** commitCapture with the capture's row as captureRow makes it (plain data: it crosses to the writer thread). */
  commitCaptureRow(id: number, c: CaptureRow): void {
    if (this.failure !== null) throw this.failure;
    try {
      // Only inside the capture's own transaction: outside it each statement would commit on its own.
      if (!this.db.inTransaction) throw new Error(`capture ${id}: its transaction ended before its commit`);
      this.flushRows();
      this.updateCapture.run(c.values, id);
      for (const itf of c.interfaces) this.insertInterface.run(id, itf);
      for (const [reason, n] of c.counters) this.insertCounter.run(id, reason, n);
      for (const f of c.files ?? []) this.insertFile.run(id, f);
      // The staged Zeek rows are indexed for the flows left to link, unless they are a handful.
      const few = (this.unlinkedFlows.get() as number) <= FEW_UNLINKED;
      for (const st of this.appendStaged) if (!(few && st === this.appendStaged[0])) st.run();
      this.unlinkFindings.run(this.anomalyBase);
      this.db.pragma(`cache_size = ${this.cacheSize}`);
      this.db.exec('COMMIT');
      this.walOnceCommitted();
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * Move one capture's rows from another tcpstate database (a worker's) into this one,
   * replacing any earlier analysis of the same path, in one transaction. Flow ids are
   * shifted past this database's, and the codes of the worker's dictionaries and paths are
   * mapped to this one's.
   */
  importCapture(file: string): number {
    const db = this.db;
    this.failure = null;
    try {
      this.flushRows();
      db.prepare('ATTACH DATABASE ? AS src').run(file);
    } catch (e) {
      this.fail(e);
    }
    try {
      db.exec('BEGIN IMMEDIATE');
      const path = (db.prepare('SELECT path FROM src.captures').get() as { path: string }).path;
      this.dropCapture(path);
      for (const [k, v] of this.meta) this.setMeta.run(k, v);
      const flowOff = this.maxFlowId.get() as number;
      const copy = (table: string, expr: Record<string, string>, from = `src.${table}`) => {
        const cols = (db.prepare(`PRAGMA main.table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name).filter((c) => !(c === 'id' && !(c in expr)));
        db.exec(`INSERT INTO main.${table} (${cols.join(', ')}) SELECT ${cols.map((c) => expr[c] ?? c).join(', ')} FROM ${from}`);
      };
      // Each dictionary's and path's src id -> this database's.
      db.exec('CREATE TEMP TABLE IF NOT EXISTS code_map (dict TEXT NOT NULL, src INTEGER NOT NULL, dst INTEGER NOT NULL, PRIMARY KEY (dict, src)) WITHOUT ROWID');
      db.exec('DELETE FROM temp.code_map');
      const map = db.prepare('INSERT INTO temp.code_map (dict, src, dst) VALUES (?, ?, ?)');
      for (const [t, c] of DICTIONARIES) {
        for (const r of db.prepare(`SELECT id, ${c} AS text FROM src.${t}`).all() as Array<{ id: number; text: string }>) map.run(t, r.id, this.dict[t].id(r.text));
      }
      const causes = new Map((db.prepare("SELECT src, dst FROM temp.code_map WHERE dict = 'causes'").raw().all() as number[][]).map(([s, d]) => [s, d]));
      let key = '';
      let srcPath = -1;
      const done = () => {
        if (srcPath < 0) return;
        let id = this.paths.get(key);
        if (id === undefined) {
          id = this.nextPath++;
          this.paths.set(key, id);
          this.writePath(id, key);
        }
        map.run('paths', srcPath, id);
      };
      for (const s of db.prepare('SELECT path_id, side, from_state, to_state, cause, inferred, moment, no_packet FROM src.path_steps ORDER BY path_id, seq').raw().all() as number[][]) {
        if (s[0] !== srcPath) {
          done();
          srcPath = s[0];
          key = '';
        }
        key += `${s[1]},${s[2] ?? ''},${s[3]},${causes.get(s[4])},${s[5]},${s[6]},${s[7]};`;
      }
      done();
      map.run('paths', 0, 0);
      const remap = (dict: string, col: string) => `(SELECT m.dst FROM temp.code_map m WHERE m.dict = '${dict}' AND m.src = ${col})`;
      const addr = (col: string) => `CASE WHEN ${col} >= ${ADDRESS_BASE} THEN ${remap('addresses', col)} ELSE ${col} END`;
      copy('captures', {});
      const id = Number((db.prepare('SELECT last_insert_rowid() id').get() as { id: number }).id);
      copy('interfaces', { capture_id: String(id) });
      copy('decode_counters', { capture_id: String(id) });
      copy('capture_files', { capture_id: String(id) });
      copy('flow_data', {
        id: `id + ${flowOff}`,
        capture_id: String(id),
        path_id: remap('paths', 'path_id'),
        client_addr: addr('client_addr'),
        server_addr: addr('server_addr'),
        history: remap('histories', 'history'),
      }, 'src.flow_data ORDER BY id');
      copy('anomaly_data', {
        capture_id: String(id),
        flow_id: `flow_id + ${flowOff}`,
        kind: remap('kinds', 'kind'),
        message: `CASE WHEN typeof(message) = 'integer' THEN ${remap('messages', 'message')} ELSE message END`,
      }, 'src.anomaly_data ORDER BY id');
      // A linked row's addresses are differences from its flow's (0), remapped with the flow's.
      const own = (col: string) => `CASE WHEN flow_id IS NULL THEN ${addr(col)} ELSE ${col} END`;
      copy('zeek_conn_data', {
        capture_id: String(id),
        flow_id: `flow_id + ${flowOff}`,
        orig_h: own('orig_h'),
        resp_h: own('resp_h'),
        history: remap('histories', 'history'),
      }, 'src.zeek_conn_data ORDER BY rowid');
      db.exec('COMMIT');
      this.walOnceCommitted();
      return id;
    } catch (e) {
      return this.fail(e);
    } finally {
      this.failure = null;
      try {
        db.exec('DETACH DATABASE src');
      } catch {
        // it goes with the connection
      }
    }
  }

  /** The in-memory dictionaries and paths, as the database has them (after a rollback). */
  private reloadCodes(): void {
    for (const d of Object.values(this.dict)) d.reload();
    this.loadPaths();
  }

  /** A new database loaded with a rollback journal takes WAL once a capture is in (SinkLimits.noEarlyReaders). */
  private walOnceCommitted(): void {
    if (!this.walAfterCommit) return;
    this.walAfterCommit = false;
    try {
      this.db.pragma('journal_mode = WAL');
    } catch {
      // A reader has it open already: the next captures go in with the rollback journal, as this one did.
    }
  }

  /** analyze --follow: commit what can be read so far, and go on (see Sink.checkpointCapture). */
  checkpointCapture(id: number, packets: number): void {
    if (this.failure !== null) throw this.failure;
    try {
      this.flushRows();
      for (const st of this.appendLinked) st.run();
      this.markRunning.run(packets, id);
      this.db.exec('COMMIT');
      this.db.exec('BEGIN IMMEDIATE');
    } catch (e) {
      this.fail(e);
    }
  }

  rollbackCapture(): void {
    this.failure = null;
    this.discardRows();
    try {
      if (this.db.inTransaction) {
        this.db.exec('ROLLBACK');
        this.reloadCodes();
      }
      this.db.pragma(`cache_size = ${this.cacheSize}`);
    } catch (e) {
      throw dbError(this.file, e, true) ?? e;
    }
  }

  /** The rows held for a multi-row insert, and the flow held for its transitions, go. */
  private discardRows(): void {
    this.pending = null;
    this.steps.length = 0;
    this.flows.discard();
    this.linkedFlows.discard();
    this.anomalies.discard();
    this.zeekConns.discard();
    this.zeekData.discard();
    this.restores.length = 0;
    this.pendingFlows.clear();
  }

  /**
   * Roll back what is not committed and close. Returns a warning when the file could not be
   * put back in rollback-journal mode for a reason of its own (a full disk): what was committed
   * is then in the -wal file beside it, and only the two together hold it.
   */
  close(): string | null {
    let warning: string | null = null;
    try {
      this.rollbackCapture();
      // Back to a rollback journal: one file, readable on read-only media, nothing left beside it.
      // Another connection still open (a second writer) keeps it in WAL; that one's close switches it.
      this.db.pragma('busy_timeout = 0');
      this.db.pragma('journal_mode = DELETE');
    } catch (e) {
      const problem = dbProblem(e);
      if (problem !== 'locked') {
        const why = problem === 'full' ? 'the disk is full' : (e as Error).message;
        warning = `${this.file} could not be put back in rollback-journal mode (${why}): it stays in WAL mode with ${this.file}-wal beside it, which may hold what was written; keep the two together until a tcpstate analyze --db ${this.file} with room on the disk puts it back`;
      }
    } finally {
      this.db.close();
    }
    return warning;
  }
}

/**
 * How a finding's message is stored: NULL when the view makes it from the details (a Dup ACK's),
 * the id of a dictionary entry for a per-packet tag ('[TCP Retransmission]'), else the text.
 */
function messageCode(messages: Dictionary, kind: string, message: string, details: string): RowValue {
  if (kind === 'duplicate_ack') {
    const d = JSON.parse(details) as { duplicate_ack_frame?: unknown; duplicate_ack_num?: unknown };
    if (message === `[TCP Dup ACK ${String(d.duplicate_ack_frame)}#${String(d.duplicate_ack_num)}]` && Number.isInteger(d.duplicate_ack_frame) && Number.isInteger(d.duplicate_ack_num)) return null;
  }
  // A BigInt binds as an integer (a number would go in as a REAL: the column has no type, so that a text stays text).
  if (message.startsWith('[TCP ') && message.length <= 64) return BigInt(messages.id(message)) as unknown as RowValue;
  return message;
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
  /** capture_files rows without the capture id (rotated files read as one capture). */
  files?: RowValue[][];
}

export function captureRow(s: CaptureSummary): CaptureRow {
  return {
    values: [
      s.format, s.compression, s.linkTypes.join(','), s.packets, s.tcpPackets, s.bytes, s.firstTs, s.lastTs, s.status, s.error, s.errorOffset, s.errorRecord,
      // (a summary made by hand, in a test, may have no warnings at all)
      (s.warnings ?? []).length === 0 ? null : JSON.stringify(s.warnings),
    ],
    interfaces: s.interfaces.map((i) => [i.index, i.section, i.linkType, i.snaplen, i.unitsPerSecond, i.tsOffsetSeconds, i.name]),
    counters: [...s.counters.entries()],
    files: (s.parts ?? []).map((p, i) => [
      i + 1,
      wellFormed(p.path),
      wellFormed(p.name),
      p.packets > 0 ? p.firstFrame : null,
      p.packets > 0 ? p.lastFrame : null,
      p.packets,
      p.bytes,
      p.firstTs,
      p.lastTs,
      p.error === null ? null : wellFormed(p.error),
    ]),
  };
}

/**
 * Where a row's values go, one at a time, in the order of its table's columns: ThreadedSink puts
 * them straight into its batch (a number stays unboxed), ArrayOut into an array.
 */
export interface RowOut {
  num(v: number): void;
  text(v: string): void;
  none(): void;
  value(v: RowValue): void;
}

/** A row's values into an array. */
export class ArrayOut implements RowOut {
  readonly row: RowValue[] = [];
  num(v: number): void {
    this.row.push(v);
  }
  text(v: string): void {
    this.row.push(v);
  }
  none(): void {
    this.row.push(null);
  }
  value(v: RowValue): void {
    this.row.push(v);
  }
}

/** The sides whose RTT figures a flow's row holds, in its columns' order. */
const RTT_SIDES: readonly Side[] = ['client', 'server'];

/** Values in a flow's row as writeFlowValues writes them. */
export const FLOW_VALUES = FIRST_COUNT + COUNT_COLUMNS.length;

/** The flows row of an ended flow (Zeek's columns are filled in at commit). */
export function writeFlowValues(captureId: number, f: FlowView, out: RowOut): void {
  const c = f.client;
  const s = f.server;
  const a = f.hasAnalysis ? f.analysis : null;
  out.num(captureId);
  out.num(f.id);
  out.num(f.ipVersion);
  // An IPv4 address as its code (the 32 bits as a signed integer, see codes.ts): no text made and parsed again.
  const cv4 = c.addrV4;
  if (cv4 >= 0) out.num(cv4 | 0);
  else out.text(c.addr);
  out.num(c.port);
  const sv4 = s.addrV4;
  if (sv4 >= 0) out.num(sv4 | 0);
  else out.text(s.addr);
  out.num(s.port);
  out.num(f.firstTs);
  out.num(f.lastTs);
  out.num(f.firstPacket);
  out.num(f.lastPacket);
  out.text(c.state);
  out.text(s.state);
  out.text(f.rolesBy);
  out.num(f.midstream ? 1 : 0);
  out.text(f.endReason ?? 'end_of_capture');
  out.value(f.zeekConnState);
  out.value(f.zeekHistory);
  out.num(c.packets);
  out.num(c.payloadBytes);
  out.num(c.ipBytes);
  out.num(s.packets);
  out.num(s.payloadBytes);
  out.num(s.ipBytes);
  if (a !== null && a.initialRttUs >= 0) out.num(a.initialRttUs);
  else out.none();
  for (const side of RTT_SIDES) {
    const sorted = a === null ? null : a.sortedRtt(side);
    if (sorted === null || sorted.length === 0) {
      out.none();
      out.none();
    } else {
      // As rttSummary: the smallest and the median.
      out.num(Math.round(sorted[0]));
      out.num(Math.round(sorted[(sorted.length - 1) >> 1]));
    }
  }
  out.num(f.zeekRow);
  out.num(f.zeekRowStale ? 1 : 0);
  out.num(f.zeekPending ? 1 : 0);
  for (let i = 0; i < COUNT_COLUMNS.length; i++) out.num(a === null ? 0 : a.count(i));
}

export function flowValues(captureId: number, f: FlowView): RowValue[] {
  const out = new ArrayOut();
  writeFlowValues(captureId, f, out);
  return out.row;
}

/** Values in a finding's row. */
export const FINDING_VALUES = 9;

export function writeFindingValues(captureId: number, f: Finding, out: RowOut): void {
  out.num(captureId);
  out.value(f.flow);
  out.value(f.packet);
  out.num(f.ts);
  out.text(f.kind);
  out.text(f.severity);
  out.value(f.side);
  out.text(f.message);
  out.text(JSON.stringify(f.details));
}

export function findingValues(captureId: number, f: Finding): RowValue[] {
  const out = new ArrayOut();
  writeFindingValues(captureId, f, out);
  return out.row;
}

/** Values in a Zeek row at most (with its ZeekLink). */
export const ZEEK_VALUES = ZEEK_WIDTH + 3 + FLOW_BASE.length - 1;

/** A conn.log row; with `link`, its place and the flow it starts with, as it stands (see SqliteSink.zeekRow). */
export function writeZeekValues(captureId: number, z: ZeekConn, link: ZeekLink | undefined, out: RowOut): void {
  out.num(captureId);
  out.num(z.ts);
  if (link === undefined) out.text(z.orig_h);
  else out.value(link.origAddr);
  out.num(z.orig_p);
  if (link === undefined) out.text(z.resp_h);
  else out.value(link.respAddr);
  out.num(z.resp_p);
  out.num(z.duration);
  out.num(z.orig_bytes);
  out.num(z.resp_bytes);
  out.text(z.conn_state);
  out.num(z.missed_bytes);
  out.text(z.history);
  out.num(z.orig_pkts);
  out.num(z.orig_ip_bytes);
  out.num(z.resp_pkts);
  out.num(z.resp_ip_bytes);
  out.num(z.first_frame);
  out.num(z.last_frame);
  if (link === undefined) return;
  // Its place, whether it is final (ZeekLink.final), then the flow it starts with (FLOW_BASE's order, the flow's index for its id), or null.
  out.num(link.seq);
  out.num(link.final ? 1 : 0);
  if (link.flow === 0) {
    out.none();
    return;
  }
  out.num(link.flow);
  out.value(link.clientAddr);
  out.num(link.clientPort);
  out.value(link.serverAddr);
  out.num(link.serverPort);
  out.num(link.firstTs);
  out.num(link.lastTs - link.firstTs);
  out.num(link.firstPacket);
  out.num(link.lastPacket - link.firstPacket);
  out.num(link.clientPackets);
  out.num(link.clientBytes);
  out.num(link.clientIpBytes);
  out.num(link.serverPackets);
  out.num(link.serverBytes);
  out.num(link.serverIpBytes);
}

export function zeekValues(captureId: number, z: ZeekConn, link?: ZeekLink): RowValue[] {
  const out = new ArrayOut();
  writeZeekValues(captureId, z, link, out);
  return out.row;
}
