/**
 * The detectors behind one interface, called by the pipeline in a fixed order: for each packet
 * the sequence analysis gave something to record, for each connection as it ends, and once at
 * the end of the capture. Each reports through the `emit` it was made with. A connection's state
 * changes are read at its end from its log (FlowView), so no detector needs a call per change.
 *
 * The standard set, in the order they run:
 *   packet flags  tshark's tcp.analysis flags of each packet as findings, and the flow's counts
 *   connection    what a connection's end shows (resets, stuck CLOSE_WAIT, unanswered SYNs...)
 *   hosts         what many connections of one host show (SYN floods, TIME_WAIT pile-ups...)
 */
import type { ConnTable } from '../conn/table.js';
import type { AnalysisResult } from '../tcp/wireshark/seq-analysis.js';
import type { FlowStore, FlowView, Side } from '../tcp/rfc793/flow.js';
import { connectionFindings, type ConnectionThresholds } from './connection.js';
import type { Emit } from './finding.js';
import { HostDetectors, type HostThresholds } from './hosts.js';
import { recordAnalysis } from './packet-flags.js';

export interface Detector {
  readonly name: string;
  /** A packet's sequence analysis, on the flow in `slot` of `store`, sent by `side`. */
  onPacket?(store: FlowStore, slot: number, side: Side, frame: number, ts: number, r: AnalysisResult): void;
  /** A connection starts: its row of `conn`, the end of the pair that is its client, its first packet's time. */
  onConnStart?(conn: ConnTable, row: number, clientEnd: number, ts: number): void;
  /** A connection ends: the flow table's view, valid during the call. */
  onConnEnd?(flow: FlowView): void;
  /**
   * Packet time has reached `now`; no live connection that could still end in SYN_SENT began
   * before `synSentSince`, none entered TIME_WAIT before `timeWaitSince` (Infinity: none): what
   * only those could change may be settled. Called every so many ended connections, not per packet.
   */
  onProgress?(synSentSince: number, timeWaitSince: number, now: number): void;
  /** The capture ended: what was held back is reported. */
  finish?(): void;
}

/** The detectors of a run, called in their order. */
export class Detectors {
  private readonly packets: Detector[];
  private readonly starts: Detector[];
  private readonly ends: Detector[];
  private readonly progressing: Detector[];
  private readonly finishing: Detector[];

  constructor(readonly list: readonly Detector[]) {
    this.packets = list.filter((d) => d.onPacket !== undefined);
    this.starts = list.filter((d) => d.onConnStart !== undefined);
    this.ends = list.filter((d) => d.onConnEnd !== undefined);
    this.progressing = list.filter((d) => d.onProgress !== undefined);
    this.finishing = list.filter((d) => d.finish !== undefined);
  }

  packet(store: FlowStore, slot: number, side: Side, frame: number, ts: number, r: AnalysisResult): void {
    for (let i = 0; i < this.packets.length; i++) this.packets[i].onPacket!(store, slot, side, frame, ts, r);
  }

  connStart(conn: ConnTable, row: number, clientEnd: number, ts: number): void {
    for (let i = 0; i < this.starts.length; i++) this.starts[i].onConnStart!(conn, row, clientEnd, ts);
  }

  connEnd(flow: FlowView): void {
    for (let i = 0; i < this.ends.length; i++) this.ends[i].onConnEnd!(flow);
  }

  progress(synSentSince: number, timeWaitSince: number, now: number): void {
    for (let i = 0; i < this.progressing.length; i++) this.progressing[i].onProgress!(synSentSince, timeWaitSince, now);
  }

  finish(): void {
    for (const d of this.finishing) d.finish!();
  }
}

/** The standard detectors, reporting through `emit`. */
export function standardDetectors(emit: Emit, thresholds: ConnectionThresholds & HostThresholds): Detectors {
  const hosts = new HostDetectors(emit, thresholds);
  return new Detectors([
    { name: 'packet flags', onPacket: (st, slot, side, frame, ts, r) => recordAnalysis(st, slot, side, frame, ts, r, emit) },
    // A half-open connection's finding waits for the host detectors (they know whether its listener took others).
    { name: 'connection', onConnEnd: (flow) => connectionFindings(flow, flow.endTs, emit, thresholds, (h) => hosts.defer(h)) },
    {
      name: 'hosts',
      onConnStart: (conn, row, clientEnd, ts) => hosts.flowStarted(conn, row, clientEnd, ts),
      onConnEnd: (flow) => hosts.flowEnded(flow),
      onProgress: (synSentSince, timeWaitSince, now) => hosts.progress(synSentSince, timeWaitSince, now),
      finish: () => hosts.finish(),
    },
  ]);
}
