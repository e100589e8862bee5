/**
 * Analysing one capture: reader -> decoders -> (flow table, state machines and
 * detectors as they arrive). Knows nothing of SQLite, the terminal or the CLI.
 */
import { DecodeCounters, DecodedPacket, FragmentReassembler, LinkType, Status, decodeFrame, decodeRecord, type ReassemblyOptions } from '../decode/index.js';
import { HalfOpenStore, SLOT, keepable, type HalfOpenMeta } from '../flow/half-open.js';
import type { Flow } from '../flow/flow.js';
import { DEFAULT_FLOW_OPTIONS, FlowTable, type FlowTableOptions } from '../flow/table.js';
import { isGone } from '../state/tcp-state.js';
import { formatEndpoint } from '../flow/address.js';
import { DEFAULT_CONNECTION_THRESHOLDS, connectionFindings, type ConnectionThresholds } from '../detect/connection.js';
import type { Finding, Severity } from '../detect/finding.js';
import { ipv4HeaderChecksum, tcpChecksum } from '../decode/checksum.js';
import { ZeekConnTracker, type ZeekConn, type ZeekPacketInfo } from '../zeek/conn.js';
import { ConnTable } from '../conn/table.js';
import { SequenceAnalyzer } from '../analysis/seq-analysis.js';
import { recordAnalysis } from '../detect/packet-flags.js';
import { DEFAULT_HOST_THRESHOLDS, HostDetectors, type HostThresholds } from '../detect/hosts.js';
import { readCapture, type ByteSource, type CaptureFormat, type InterfaceInfo, type PacketRecord } from '../reader/index.js';

export type CaptureStatus = 'complete' | 'truncated' | 'error';

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
  /** Lone SYNs held compactly (a flood; see flow/half-open.ts): what they cost, not what they show. */
  heldSyns: number;
  /** Times an idle flow was frozen (Flow.freeze): likewise memory, not results. */
  frozenFlows: number;
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
/** How much longer than the flow table the sequence analysis keeps a closed conversation (s). */
const QUIET_MARGIN_SEC = 10;
/** Hosts whose sockets the summary counts one by one (a spoofed flood has a "host" per SYN). */
export const HOSTS_TRACKED = 10_000;

/** Errors and warnings per flow (only flows that have some), to name the worst at the end. */
class WorstFlows {
  private readonly counts = new Map<number, { errors: number; warnings: number; kinds: Map<string, number> }>();
  private readonly worst: WorstFlow[] = [];

  finding(f: Finding): void {
    if (f.flow === null || (f.severity !== 'error' && f.severity !== 'warning')) return;
    let c = this.counts.get(f.flow);
    if (c === undefined) this.counts.set(f.flow, (c = { errors: 0, warnings: 0, kinds: new Map() }));
    if (f.severity === 'error') c.errors++;
    else c.warnings++;
    c.kinds.set(f.kind, (c.kinds.get(f.kind) ?? 0) + 1);
  }

  /** After the flow's own findings: keep it if it ranks among the worst. */
  ended(flow: Flow): void {
    const c = this.counts.get(flow.id);
    if (c === undefined) return;
    this.counts.delete(flow.id);
    const kinds = [...c.kinds].sort((a, b) => b[1] - a[1]).map(([k]) => k);
    this.worst.push({ flow: flow.id, client: formatEndpoint(flow.client.addr, flow.client.port), server: formatEndpoint(flow.server.addr, flow.server.port), errors: c.errors, warnings: c.warnings, kinds });
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
  /** Sees every record with its decoded packet (status and fields) before the next one is read. */
  onPacket?: (rec: PacketRecord, status: number, p: DecodedPacket) => void;
  /** Receives each connection when it ends (closed, reset, timeout, reuse or end of capture). */
  onFlowEnd?: (flow: Flow) => void;
  /** Receives each finding of the detectors. */
  onFinding?: (f: Finding) => void;
  thresholds?: Partial<ConnectionThresholds & HostThresholds>;
  /** Drop packets whose IPv4 header or TCP checksum is wrong (and count them), as Zeek does without -C. */
  verifyChecksums?: boolean;
  /** Receives each connection as Zeek would log it in conn.log. */
  onZeekConn?: (c: ZeekConn) => void;
  flowOptions?: Partial<FlowTableOptions>;
  /** Caps and timeouts of IP reassembly (decode/fragments.ts: DEFAULT_REASSEMBLY_OPTIONS). */
  reassembly?: Partial<ReassemblyOptions>;
}

export async function analyzeCapture(name: string, source: ByteSource, opts: AnalyzeOptions = {}): Promise<CaptureSummary> {
  const counters = new DecodeCounters();
  const p = new DecodedPacket();
  // IP fragments are held here; a datagram is decoded at the frame of the fragment that completes it.
  const fragments = new FragmentReassembler(counters.reassembly, opts.reassembly);
  let firstTs: number | null = null;
  let lastTs: number | null = null;
  const onPacket = opts.onPacket;
  const endStates: Record<string, number> = {};
  const findings: Record<string, number> = {};
  const findingsBySeverity: Record<string, number> = {};
  const hostEndStates: Record<string, Record<string, number>> = {};
  let hostsTracked = 0;
  let hostEndStatesOmitted = 0;
  const findingSeverities: Record<string, Partial<Record<Severity, number>>> = {};
  const worst = new WorstFlows();
  const flowOptions = { ...DEFAULT_FLOW_OPTIONS, ...opts.flowOptions };
  const thresholds = { ...DEFAULT_CONNECTION_THRESHOLDS, ...DEFAULT_HOST_THRESHOLDS, timeWaitUs: flowOptions.timeWaitUs, ...opts.thresholds };
  const emit = (f: Finding) => {
    findings[f.kind] = (findings[f.kind] ?? 0) + 1;
    findingsBySeverity[f.severity] = (findingsBySeverity[f.severity] ?? 0) + 1;
    const k = (findingSeverities[f.kind] ??= {});
    k[f.severity] = (k[f.severity] ?? 0) + 1;
    worst.finding(f);
    opts.onFinding?.(f);
  };
  const hosts = new HostDetectors(emit, thresholds);
  const zeekConnStates: Record<string, number> = {};
  const verify = opts.verifyChecksums === true;
  // A closed conversation is kept as long as the flow table keeps its connection (TIME_WAIT, then the
  // linger for late packets), and a little longer: not for the whole capture (see analysis/DIFFERENCES.md).
  const sequence = new SequenceAnalyzer({ quietTimeoutSec: (flowOptions.timeWaitUs + flowOptions.lingerUs) / 1e6 + QUIET_MARGIN_SEC });
  // One connection table: the packet's row and direction, found once (issue #19; Zeek's is on it so far).
  const conns = new ConnTable();
  const zeek = new ZeekConnTracker({
    table: conns,
    verifyChecksums: verify,
    onConn: (c) => {
      zeekConnStates[c.conn_state] = (zeekConnStates[c.conn_state] ?? 0) + 1;
      opts.onZeekConn?.(c);
    },
  });
  const table = new FlowTable(
    (flow) => {
      for (const e of [flow.client, flow.server]) {
        if (isGone(e.state)) continue;
        endStates[e.state] = (endStates[e.state] ?? 0) + 1;
        let h = hostEndStates[e.addr];
        if (h === undefined) {
          if (hostsTracked >= HOSTS_TRACKED) {
            hostEndStatesOmitted++;
            continue;
          }
          hostEndStates[e.addr] = h = {};
          hostsTracked++;
        }
        h[e.state] = (h[e.state] ?? 0) + 1;
      }
      opts.onFlowEnd?.(flow);
      connectionFindings(flow, flow.endTs, emit, thresholds, (h) => hosts.defer(h));
      hosts.flowEnded(flow);
      worst.ended(flow);
    },
    flowOptions,
  );

  // Lone SYNs kept compactly once many connections are live (a SYN flood), replayed
  // into every tracker when something follows them, they time out, or the capture ends.
  const halfOpen = new HalfOpenStore();
  table.heldOutside = () => halfOpen.size;
  let heldSyns = 0;
  const replayed = new DecodedPacket();
  const datagram = new Uint8Array(SLOT);
  const meta: HalfOpenMeta = { frame: 0, ts: 0, flowId: 0, stream: 0, seqClock: 0, zeekOrder: -1, zeekDone: false, length: 0 };
  const zeekReplay = () => zeek.replay(meta.ts, replayed, { frame: meta.frame, capturedEnd: meta.length, frameEnd: meta.length }, meta.zeekOrder);
  // Zeek's first timer for the oldest held SYN it has not had is due (its attempt timer, 5 s):
  // Zeek gets the SYN now and logs it as it would have.
  zeek.held = {
    nextTs: () => {
      const slot = halfOpen.nextForZeek();
      return slot < 0 ? Infinity : halfOpen.tsOf(slot);
    },
    nextOrders: () => halfOpen.zeekOrderOf(halfOpen.nextForZeek()),
    bringIn: () => {
      const slot = halfOpen.nextForZeek();
      halfOpen.read(slot, datagram, meta);
      decodeFrame(replayed, LinkType.RAW, datagram, 0, meta.length, meta.length);
      zeekReplay();
      halfOpen.setZeekDone(slot);
    },
  };
  const revive = (slot: number, atEnd = false): Flow => {
    halfOpen.take(slot, datagram, meta);
    decodeFrame(replayed, LinkType.RAW, datagram, 0, meta.length, meta.length);
    if (!meta.zeekDone) zeekReplay();
    const flow = table.replay(meta.frame, meta.ts, replayed, meta.flowId);
    // At the end nothing follows: the first SYN of a new conversation has no tcp.analysis record, and its stream is not shown.
    if (atEnd) return flow;
    const side = table.lastFromClient ? 'client' : 'server';
    recordAnalysis(flow, side, meta.frame, meta.ts, sequence.replay(meta.frame, meta.ts, replayed, meta.stream, meta.seqClock), emit);
    return flow;
  };
  table.onSweep = (now) => {
    for (let slot = halfOpen.oldest(); slot >= 0 && now - halfOpen.tsOf(slot) > flowOptions.handshakeTimeoutUs; slot = halfOpen.oldest()) {
      table.timeOut(revive(slot), now);
    }
  };
  /** Keep the packet compactly if it is a lone SYN of a new connection while many are live; false otherwise. */
  const keep = (rec: PacketRecord, capturedEnd: number): boolean => {
    if (!rec.tsKnown || rec.tsUs !== lastTs || table.live + halfOpen.size < flowOptions.compactHalfOpenAfter) return false;
    if (!keepable(p, capturedEnd) || !halfOpen.accepts(rec.number, zeek.heldOrdersEnd) || table.find(p) !== undefined || zeek.has(p) || sequence.has(p)) return false;
    zeek.tick(rec.tsUs);
    table.tick(rec.tsUs);
    const { stream, clock } = sequence.reserve(rec.tsUs);
    halfOpen.add(p, rec.number, rec.tsUs, table.reserveId(), stream, clock, zeek.holdLoneSyn());
    heldSyns++;
    table.notePeak();
    return true;
  };

  // What Zeek needs of the packet beyond its headers: one object, refilled for each packet.
  const info: ZeekPacketInfo = { frame: 0, capturedEnd: 0, frameEnd: 0, ipChecksum: undefined, tcpChecksum: undefined };
  const outcome = await readCapture(
    source,
    (rec) => {
      if (rec.tsKnown) {
        if (firstTs === null || rec.tsUs < firstTs) firstTs = rec.tsUs;
        if (lastTs === null || rec.tsUs > lastTs) lastTs = rec.tsUs;
      } else counters.untimed++;
      let status: number;
      try {
        if (rec.tsKnown) fragments.tick(rec.tsUs);
        status = decodeRecord(p, rec);
        if (status === Status.IP_FRAGMENT) status = fragments.packet(p, rec.tsUs);
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
        if (halfOpen.size > 0) {
          const slot = halfOpen.find(p);
          if (slot >= 0) revive(slot);
        }
        info.frame = rec.number;
        info.capturedEnd = capturedEnd;
        info.frameEnd = frameEnd;
        const row = conns.lookup(p);
        const dir = conns.dir;
        if (verify) {
          info.ipChecksum = ipv4HeaderChecksum(p);
          info.tcpChecksum = tcpChecksum(p, capturedEnd);
          if (info.ipChecksum === 'bad' || info.tcpChecksum === 'bad') {
            // Zeek sees it (and drops it); nothing else does.
            zeek.packet(rec.tsUs, p, info, row, dir);
            conns.releaseIfIdle(row);
            counters.badChecksums++;
            onPacket?.(rec, status, p);
            return;
          }
        }
        if (keep(rec, capturedEnd)) {
          conns.releaseIfIdle(row);
          onPacket?.(rec, status, p);
          return;
        }
        // The trackers are independent of each other; the flow carries what the sequence
        // analysis found for its last packet, to spare it the lookup.
        const flow = table.packet(rec.number, rec.tsUs, p);
        const side = table.lastFromClient ? 'client' : 'server';
        zeek.packet(rec.tsUs, p, info, row, dir);
        conns.releaseIfIdle(row);
        const analysis = sequence.packet(rec.number, rec.tsUs, p, 0, flow.conversationHint);
        flow.conversationHint = sequence.conversation;
        recordAnalysis(flow, side, rec.number, rec.tsUs, analysis, emit);
      } else if (rec.tsKnown) zeek.tick(rec.tsUs);
      onPacket?.(rec, status, p);
    },
    { shouldStop: opts.shouldStop },
  );

  fragments.finish();
  table.finish(lastTs ?? 0);
  halfOpen.drain();
  for (let slot = halfOpen.oldest(); slot >= 0; slot = halfOpen.oldest()) {
    table.finishFlow(revive(slot, true), lastTs ?? 0);
    if (!meta.zeekDone) zeek.forget(replayed);
  }
  hosts.finish();
  zeek.finish();
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
    firstTs,
    lastTs,
    status: err === null ? 'complete' : err.kind === 'truncated' ? 'truncated' : 'error',
    error: err === null ? null : err.describe(label, outcome.compression !== null),
    errorOffset: err?.offset ?? null,
    errorRecord: err?.record ?? null,
    counters,
    warnings: counters.warnings(),
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
    heldSyns,
    frozenFlows: table.frozen,
  };
}
