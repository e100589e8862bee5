/**
 * Analysing one capture: reader -> decoders -> (flow table, state machines and
 * detectors as they arrive). Knows nothing of SQLite, the terminal or the CLI.
 */
import { DecodeCounters, DecodedPacket, FragmentReassembler, Status, decodeRecord, type ReassemblyOptions } from './decode/index.js';
import { sameAddressAt } from './decode/packet.js';
import type { EndpointView, FlowView } from './tcp/rfc793/flow.js';
import { DEFAULT_FLOW_OPTIONS, FlowTable, newZeekLink, type FlowTableOptions, type ZeekLink } from './tcp/rfc793/table.js';
import { STATE_NAMES, isGone } from './tcp/rfc793/tcp-state.js';
import { formatEndpoint } from './util/address.js';
import { DEFAULT_CONNECTION_THRESHOLDS, type ConnectionThresholds } from './detect/connection.js';
import type { Finding, Severity } from './detect/finding.js';
import { ipv4HeaderChecksum, tcpChecksum } from './decode/checksum.js';
import { ZeekConnTracker, type ZeekConn, type ZeekPacketInfo } from './tcp/zeek/conn.js';
import { SequenceAnalyzer } from './tcp/wireshark/seq-analysis.js';
import { ConnTable, PACKET_HOLDER } from './conn/table.js';
import { hasFigures } from './detect/packet-flags.js';
import { DEFAULT_HOST_THRESHOLDS, type HostThresholds } from './detect/hosts.js';
import { standardDetectors } from './detect/registry.js';
import { readCapture, type ByteSource, type CaptureFormat, type CapturePart, type InterfaceInfo, type PacketRecord, type ReadOutcome, type RotatedOutcome, type RotatedReader } from './reader/index.js';

/** `interrupted`: stopped by Ctrl-C or SIGTERM; what was read is analysed as a capture cut short there. */
export type CaptureStatus = 'complete' | 'truncated' | 'error' | 'interrupted';

export interface CaptureSummary {
  /** As given by the user ("-" for standard input). */
  name: string;
  format: CaptureFormat | null;
  compression: 'gzip' | 'zstd' | null;
  interfaces: InterfaceInfo[];
  /** Distinct link types of the interfaces, in order of first appearance. */
  linkTypes: number[];
  packets: number;
  tcpPackets: number;
  /** Bytes of the (decompressed) capture read. */
  bytes: number;
  /** Integer microseconds since the epoch; null when no packet carried a time. */
  firstTs: number | null;
  lastTs: number | null;
  status: CaptureStatus;
  /** One line naming the byte offset (and record) of the damage, or null. */
  error: string | null;
  errorOffset: number | null;
  errorRecord: number | null;
  counters: DecodeCounters;
  /** One line per thing that kept packets from being decoded (a link type, an encapsulation); status stays about reading the file. */
  warnings: string[];
  /** Rotated files read as this one capture (--continuous): where each file's frames are; null for one file. */
  parts: CapturePart[] | null;
  /** TCP connections found, and the most alive at one moment. */
  flows: number;
  peakLiveFlows: number;
  /** Endpoints (both sides of every flow) by their state at the end, sockets only (no CLOSED/LISTEN). */
  endStates: Record<string, number>;
  /** Findings by kind, and by severity. */
  findings: Record<string, number>;
  findingsBySeverity: Record<string, number>;
  /** Host address -> state -> sockets at the end (CLOSED and LISTEN left out: ss shows no row), for the first HOSTS_TRACKED hosts. */
  hostEndStates: Record<string, Record<string, number>>;
  /** Sockets at the end on hosts beyond the first HOSTS_TRACKED (a flood from spoofed sources); the flows table has them all. */
  hostEndStatesOmitted: number;
  /** Kind -> severity -> findings. */
  findingSeverities: Record<string, Partial<Record<Severity, number>>>;
  /** The connections with the most serious findings (errors first, then warnings), at most five. */
  worstFlows: WorstFlow[];
  /** Zeek's conn.log rows by conn_state. */
  zeekConnStates: Record<string, number>;
}

export interface WorstFlow {
  flow: number;
  client: string;
  server: string;
  errors: number;
  warnings: number;
  /** Its findings' kinds, most frequent first. */
  kinds: string[];
}

const WORST_SHOWN = 5;
/** How much longer than the flow table the sequence analysis keeps a closed conversation's unacknowledged segments (s). */
const QUIET_MARGIN_SEC = 10;
/** Ended connections between two calls of the detectors' progress (at least; see there). */
const PROGRESS_EVERY = 4096;

/** Hosts whose sockets the summary counts one by one (a spoofed flood has a "host" per SYN). */
export const HOSTS_TRACKED = 10_000;

/** Errors and warnings per flow (only flows that have some), to name the worst at the end. */
class WorstFlows {
  private readonly counts = new Map<number, { errors: number; warnings: number; kinds: Map<string, number> }>();
  private readonly worst: WorstFlow[] = [];

  finding(f: Finding): void {
    if (f.flow === null || (f.severity !== 'error' && f.severity !== 'warning')) return;
    if (f.ends !== undefined) return this.late(f.flow, f.ends, f);
    let c = this.counts.get(f.flow);
    if (c === undefined) this.counts.set(f.flow, (c = { errors: 0, warnings: 0, kinds: new Map() }));
    if (f.severity === 'error') c.errors++;
    else c.warnings++;
    c.kinds.set(f.kind, (c.kinds.get(f.kind) ?? 0) + 1);
  }

  /** After the flow's own findings: keep it if it ranks among the worst. */
  ended(flow: FlowView): void {
    const c = this.counts.get(flow.id);
    if (c === undefined) return;
    this.counts.delete(flow.id);
    const kinds = [...c.kinds].sort((a, b) => b[1] - a[1]).map(([k]) => k);
    this.worst.push({ flow: flow.id, client: formatEndpoint(flow.client.addr, flow.client.port), server: formatEndpoint(flow.server.addr, flow.server.port), errors: c.errors, warnings: c.warnings, kinds });
    this.worst.sort((a, b) => b.errors - a.errors || b.warnings - a.warnings || a.flow - b.flow);
    this.worst.length = Math.min(this.worst.length, WORST_SHOWN);
  }

  /** A finding decided after its flow ended (a refusal, a half-open attempt): added to the flow's entry, or ranked on its own. */
  private late(flow: number, ends: { client: string; server: string }, f: Finding): void {
    let w = this.worst.find((x) => x.flow === flow);
    if (w === undefined) this.worst.push((w = { flow, ...ends, errors: 0, warnings: 0, kinds: [] }));
    if (f.severity === 'error') w.errors++;
    else w.warnings++;
    if (!w.kinds.includes(f.kind)) w.kinds.push(f.kind);
    this.worst.sort((a, b) => b.errors - a.errors || b.warnings - a.warnings || a.flow - b.flow);
    this.worst.length = Math.min(this.worst.length, WORST_SHOWN);
  }

  list(): WorstFlow[] {
    return this.worst;
  }
}

export interface AnalyzeOptions {
  /** Polled between chunks; true stops the read with ReadInterrupted. */
  shouldStop?: () => boolean;
  /**
   * Called once, before the first record, with a function that reads the analysis's counts as they
   * stand (for a progress line, polled a few times a second; nothing is done per packet for it).
   */
  probe?: (read: () => LiveCounts, census: () => Record<string, number>) => void;
  /** Aborting it ends the read at once (even while waiting for input): the capture is analysed up to there, status `interrupted`. */
  signal?: AbortSignal;
  /** Sees every record with its decoded packet (status and fields) before the next one is read. */
  onPacket?: (rec: PacketRecord, status: number, p: DecodedPacket) => void;
  /**
   * Receives each connection when it ends (closed, reset, timeout, reuse or end of capture):
   * the table's one view, valid during the call (`snapshot()` copies it out).
   */
  onFlowEnd?: (flow: FlowView) => void;
  /**
   * Receives each finding of the detectors; `ends()` names its connection's two ends
   * ("client -> server") when it has one, for a line printed at once (valid during the call only).
   */
  onFinding?: (f: Finding, ends: () => string | null) => void;
  thresholds?: Partial<ConnectionThresholds & HostThresholds>;
  /** Drop packets whose IPv4 header or TCP checksum is wrong (and count them), as Zeek does without -C. */
  verifyChecksums?: boolean;
  /**
   * Receives each connection as Zeek would log it in conn.log, and the live flow that starts at
   * its first frame as it stands (`link`, refilled: valid during the call).
   */
  onZeekConn?: (c: ZeekConn, link: ZeekLink) => void;
  flowOptions?: Partial<FlowTableOptions>;
  /** Caps and timeouts of IP reassembly (decode/fragments.ts: DEFAULT_REASSEMBLY_OPTIONS). */
  reassembly?: Partial<ReassemblyOptions>;
  /**
   * The memory budget: connections followed at once (default DEFAULT_MAX_CONNECTIONS). At it, the
   * least recently seen are evicted (end reason `evicted`, one `connections_evicted` finding).
   */
  maxConnections?: number;
  /**
   * Ended connections between two calls of the detectors' progress, at least (default
   * PROGRESS_EVERY; tests settle often, or never with Infinity, to show it changes nothing).
   */
  progressEvery?: number;
}

/** Connections followed at once by default: about 2 KB each at most (an established one), so the analysis stays near 2 GB. */
export const DEFAULT_MAX_CONNECTIONS = 1_000_000;
/** At the budget, this share of it is evicted at once (the least recently seen), so eviction runs rarely. */
const EVICT_SHARE = 1 / 16;

/** The analysis so far, as a progress line shows it. */
export interface LiveCounts {
  packets: number;
  flows: number;
  liveFlows: number;
  findings: number;
  /** The latest packet time (µs), or null before the first. */
  lastTs: number | null;
  /** Connections evicted at the memory budget so far (absent: none). */
  evicted?: number;
}

/** `source`: one file or stream, or rotated files read as one capture (frames and timers running on across them). */
export async function analyzeCapture(name: string, source: ByteSource | RotatedReader, opts: AnalyzeOptions = {}): Promise<CaptureSummary> {
  const counters = new DecodeCounters();
  const p = new DecodedPacket();
  // IP fragments are held here; a datagram is decoded at the frame of the fragment that completes it.
  const fragments = new FragmentReassembler(counters.reassembly, opts.reassembly);
  // The first and last packet times (µs; NaN before the first): in a typed array, since a time
  // stored in a closure's variable is a new heap number at every packet.
  const span = new Float64Array([NaN, NaN]);
  const firstTs = () => (Number.isNaN(span[0]) ? null : span[0]);
  const lastTs = () => (Number.isNaN(span[1]) ? null : span[1]);
  const onPacket = opts.onPacket;
  const endStates: Record<string, number> = {};
  const findings: Record<string, number> = {};
  const findingsBySeverity: Record<string, number> = {};
  const hostEndStates: Record<string, Record<string, number>> = {};
  let hostEndStatesOmitted = 0;
  const findingSeverities: Record<string, Partial<Record<Severity, number>>> = {};
  const worst = new WorstFlows();
  const flowOptions = { ...DEFAULT_FLOW_OPTIONS, ...opts.flowOptions };
  const thresholds = { ...DEFAULT_CONNECTION_THRESHOLDS, ...DEFAULT_HOST_THRESHOLDS, timeWaitUs: flowOptions.timeWaitUs, ...opts.thresholds };
  let findingCount = 0;
  // The connection a finding being made is about, while it is made (its packet's, or the one ending).
  let about: FlowView | null = null;
  let aboutFinding: Finding | null = null;
  const ends = (): string | null => {
    const f = aboutFinding;
    if (f === null || f.flow === null) return null;
    if (about !== null && about.id === f.flow) return `${formatEndpoint(about.client.addr, about.client.port)} -> ${formatEndpoint(about.server.addr, about.server.port)}`;
    return f.ends === undefined ? null : `${f.ends.client} -> ${f.ends.server}`;
  };
  const emit = (f: Finding) => {
    findingCount++;
    findings[f.kind] = (findings[f.kind] ?? 0) + 1;
    findingsBySeverity[f.severity] = (findingsBySeverity[f.severity] ?? 0) + 1;
    const k = (findingSeverities[f.kind] ??= {});
    k[f.severity] = (k[f.severity] ?? 0) + 1;
    worst.finding(f);
    if (opts.onFinding !== undefined) {
      aboutFinding = f;
      opts.onFinding(f, ends);
      aboutFinding = null;
    }
  };
  const detectors = standardDetectors(emit, thresholds);
  const zeekConnStates: Record<string, number> = {};
  /** The conn.log row being logged against the flows (its place counts the capture's rows). */
  const zeekLink = newZeekLink();
  const verify = opts.verifyChecksums === true;
  // A closed conversation keeps its unacknowledged segments as long as the flow table keeps its connection
  // (TIME_WAIT, then the linger for late packets), and a little longer; then only its numbers (see analysis/DIFFERENCES.md).
  // One connection table: the packet's endpoint pair is looked up once, and each analyzer keeps its state on the row.
  const conn = new ConnTable();
  const sequence = new SequenceAnalyzer({ quietTimeoutSec: (flowOptions.timeWaitUs + flowOptions.lingerUs) / 1e6 + QUIET_MARGIN_SEC }, conn);
  const zeek = new ZeekConnTracker({
    table: conn,
    verifyChecksums: verify,
    onConn: (c, row, serial, origEnd) => {
      zeekConnStates[c.conn_state] = (zeekConnStates[c.conn_state] ?? 0) + 1;
      // The flow whose first packet this connection holds takes its summary now, and the one
      // starting where it starts is what its row is stored against (the row knows both).
      zeekLink.seq++;
      table.zeekLogged(row, serial, origEnd, c.first_frame, c.last_frame, c.conn_state, c.history, zeekLink);
      opts.onZeekConn?.(c, zeekLink);
    },
  });
  // Hosts keyed by IPv4 address as a number (a flood's spoofed sources make no text), IPv6 as text;
  // hostEndStates is filled from it at the end, in the same order.
  const hosts = new Map<number | string, Record<string, number>>();
  const countEnd = (e: EndpointView) => {
    const state = e.state;
    if (isGone(state)) return;
    endStates[state] = (endStates[state] ?? 0) + 1;
    const v4 = e.addrV4;
    const key = v4 >= 0 ? v4 : e.addr;
    let h = hosts.get(key);
    if (h === undefined) {
      if (hosts.size >= HOSTS_TRACKED) {
        hostEndStatesOmitted++;
        return;
      }
      hosts.set(key, (h = {}));
    }
    h[state] = (h[state] ?? 0) + 1;
  };
  const table = new FlowTable(
    conn,
    (flow) => {
      // An evicted connection's sockets at the end are unknown.
      if (flow.endReason !== 'evicted') {
        countEnd(flow.client);
        countEnd(flow.server);
      }
      opts.onFlowEnd?.(flow);
      about = flow;
      detectors.connEnd(flow);
      about = null;
      worst.ended(flow);
    },
    flowOptions,
    (row, clientEnd, ts) => detectors.connStart(conn, row, clientEnd, ts),
  );

  // The memory budget: past maxConnections rows, the least recently seen go, each analyzer letting go of them.
  const maxConnections = Math.max(1, opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
  const victims = new Int32Array(Math.max(1, Math.ceil(maxConnections * EVICT_SHARE)));
  let evicted = 0;
  let firstEviction = { ts: 0, frame: 0 };
  const evict = (ts: number, frame: number) => {
    const n = conn.oldest(victims.length, victims);
    if (evicted === 0) firstEviction = { ts, frame };
    evicted += n;
    for (let k = 0; k < n; k++) {
      const row = victims[k];
      table.evict(row, ts);
      sequence.evict(row);
      zeek.evict(row);
    }
  };

  opts.probe?.(
    () => {
      let packets = counters.internalErrors;
      for (const n of counters.byStatus) packets += n;
      return { packets, flows: table.created, liveFlows: table.live, findings: findingCount, lastTs: lastTs(), evicted };
    },
    () => {
      // The live connections' endpoints by state, sockets only (as the summary counts them at the end).
      const counts = new Int32Array(STATE_NAMES.length);
      table.census(counts);
      const out: Record<string, number> = {};
      counts.forEach((n, st) => n > 0 && !isGone(STATE_NAMES[st]) && (out[STATE_NAMES[st]] = n));
      return out;
    },
  );
  const progressEvery = opts.progressEvery ?? PROGRESS_EVERY;
  let nextProgress = progressEvery;
  // What Zeek needs of the packet beyond its headers: one object, refilled for each packet.
  const info: ZeekPacketInfo = { frame: 0, capturedEnd: 0, frameEnd: 0, ipChecksum: undefined, tcpChecksum: undefined };
  // An ICMP error's quoted segment, looked up as a packet of its own (never making a row): the end
  // that sent it may take the error as a failed handshake (only the RFC 793 flows see it).
  const q = new DecodedPacket();
  const icmpError = (frame: number, ts: number) => {
    q.buf = p.buf;
    q.ipVersion = p.ipVersion;
    q.srcOff = p.icmpSrcOff;
    q.dstOff = p.icmpDstOff;
    q.srcPort = p.icmpSrcPort;
    q.dstPort = p.icmpDstPort;
    const row = conn.lookup(q, false);
    if (row < 0) return;
    const dir = conn.dir;
    conn.hold(row, PACKET_HOLDER);
    table.tick(ts);
    table.icmp(row, dir, frame, ts, p.icmp, p.icmpBits, p.icmpSeq, sameAddressAt(p, p.srcOff, p.icmpDstOff));
    conn.release(row, PACKET_HOLDER);
  };
  const onRecord = (rec: PacketRecord) => {
      if (rec.tsKnown) {
        // (Comparisons with NaN are false: the first time is taken by both.)
        if (!(rec.tsUs >= span[0])) span[0] = rec.tsUs;
        if (!(rec.tsUs <= span[1])) span[1] = rec.tsUs;
      } else counters.untimed++;
      let status: number;
      try {
        if (rec.tsKnown) fragments.tick(rec.tsUs);
        status = decodeRecord(p, rec);
        if (status === Status.IP_FRAGMENT || status === Status.LINK_FRAGMENT) status = fragments.packet(p, rec.tsUs, status);
      } catch {
        // A decoder bug must not lose the capture: count it apart (tests hold it at 0).
        counters.internalErrors++;
        return;
      }
      counters.add(status, p.notes, rec.linkType, p.unsupportedEncap);
      if (status === Status.TCP) {
        // A reassembled datagram is whole in the reassembler's buffer.
        const reassembled = p.buf !== rec.buf;
        const capturedEnd = reassembled ? fragments.outLen : rec.offset + rec.caplen;
        const frameEnd = reassembled ? fragments.outLen : rec.offset + Math.max(rec.origLen, rec.caplen) - rec.fcsLen;
        info.frame = rec.number;
        info.capturedEnd = capturedEnd;
        info.frameEnd = frameEnd;
        if (verify) {
          info.ipChecksum = ipv4HeaderChecksum(p);
          info.tcpChecksum = tcpChecksum(p, capturedEnd);
          if (info.ipChecksum === 'bad' || info.tcpChecksum === 'bad') {
            // Zeek sees it (and drops it); nothing else does.
            const row = conn.lookup(p);
            conn.touch(row, rec.tsUs);
            conn.hold(row, PACKET_HOLDER);
            if (conn.isNew && conn.live > maxConnections) evict(rec.tsUs, rec.number);
            zeek.packet(rec.tsUs, p, info, row, conn.dir);
            conn.release(row, PACKET_HOLDER);
            counters.badChecksums++;
            onPacket?.(rec, status, p);
            return;
          }
        }
        // Timers due by now run before the packet; then its row, looked up once, goes to each analyzer,
        // pinned while it does so (an analyzer letting go of it mid-packet must not free it).
        table.tick(rec.tsUs);
        const row = conn.lookup(p);
        const dir = conn.dir;
        conn.touch(row, rec.tsUs);
        conn.hold(row, PACKET_HOLDER);
        // A new connection past the budget: room is made (never from the packet's own row, pinned).
        if (conn.isNew && conn.live > maxConnections) evict(rec.tsUs, rec.number);
        const side = table.packet(row, dir, rec.number, rec.tsUs, p) === 0 ? 'client' : 'server';
        zeek.packet(rec.tsUs, p, info, row, dir);
        if (table.started) table.linkZeek(row, zeek.serialOn(row));
        const analysis = sequence.packetAt(row, dir, rec.number, rec.tsUs, p);
        if (hasFigures(analysis)) {
          const slot = table.slotFor(row);
          if (opts.onFinding !== undefined) about = table.view.at(slot);
          detectors.packet(table.store, slot, side, rec.number, rec.tsUs, analysis);
          about = null;
        }
        conn.release(row, PACKET_HOLDER);
        // The host detectors settle what no live handshake can change any more, every so many ended
        // connections and no fewer than are live (the scan of the live ones costs O(1) a connection).
        if (table.created - table.live >= nextProgress) {
          nextProgress = table.created - table.live + Math.max(progressEvery, table.live);
          detectors.progress(table.oldestSynSent(), table.oldestTimeWait(), rec.tsUs);
        }
      } else if (rec.tsKnown) {
        zeek.tick(rec.tsUs);
        if (p.icmp !== 0) icmpError(rec.number, rec.tsUs);
      }
      onPacket?.(rec, status, p);
  };
  const readOpts = { shouldStop: opts.shouldStop, signal: opts.signal };
  const outcome: ReadOutcome & Partial<Pick<RotatedOutcome, 'notes' | 'parts'>> =
    'read' in source ? await source.read(onRecord, readOpts) : await readCapture(source, onRecord, readOpts);

  fragments.finish();
  conn.ending();
  // Zeek's connections are logged first: every flow then ends with its Zeek summary known.
  zeek.finish();
  table.finish(lastTs() ?? 0);
  detectors.finish();
  if (evicted > 0) emit(evictionFinding(evicted, table.evicted, maxConnections, firstEviction.ts, firstEviction.frame));
  for (const [k, h] of hosts) hostEndStates[typeof k === 'number' ? `${k >>> 24}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}` : k] = h;
  const linkTypes: number[] = [];
  for (const itf of outcome.interfaces) if (!linkTypes.includes(itf.linkType)) linkTypes.push(itf.linkType);
  const err = outcome.error;
  const label = name === '-' ? '<stdin>' : name;
  return {
    name,
    format: outcome.format,
    compression: outcome.compression,
    interfaces: outcome.interfaces,
    linkTypes,
    packets: outcome.records,
    tcpPackets: counters.byStatus[Status.TCP],
    bytes: outcome.bytes,
    firstTs: firstTs(),
    lastTs: lastTs(),
    status: err === null ? 'complete' : err.kind === 'truncated' || err.kind === 'interrupted' ? err.kind : 'error',
    error: err === null ? null : err.describe(label, outcome.compression !== null),
    errorOffset: err?.offset ?? null,
    errorRecord: err?.record ?? null,
    counters,
    warnings: [...(outcome.notes ?? []), ...counters.warnings()],
    parts: outcome.parts ?? null,
    flows: table.created,
    peakLiveFlows: table.peakLive,
    endStates,
    findings,
    findingsBySeverity,
    hostEndStates,
    hostEndStatesOmitted,
    findingSeverities,
    worstFlows: worst.list(),
    zeekConnStates,
  };
}

/**
 * The one finding of a capture whose connections did not all fit the memory budget: `rows`
 * connections evicted, `open` of them still open (their flows ended `evicted`; the others were
 * over and only kept for late packets).
 */
function evictionFinding(rows: number, open: number, maxConnections: number, ts: number, frame: number): Finding {
  const n = (v: number) => v.toLocaleString('en-US');
  return {
    kind: 'connections_evicted',
    severity: 'warning',
    flow: null,
    packet: frame,
    ts,
    side: null,
    message:
      `${n(rows)} connection${rows === 1 ? ' was' : 's were'} evicted to stay within the memory budget of ${n(maxConnections)} connections at once ` +
      `(--max-connections), the least recently seen first, from frame ${frame} on; ${n(open)} of them still open ended there with end_reason evicted: ` +
      `their endpoints' states after it are unknown, and a later packet of one starts a new connection picked up mid-stream`,
    details: { evicted: rows, open, max_connections: maxConnections, first_ts: ts, first_frame: frame },
  };
}
