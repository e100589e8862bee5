/**
 * Wireshark's per-packet analysis (src/analysis) as findings and per-flow
 * figures: each tcp.analysis flag becomes an anomaly row, the flow counts them,
 * and keeps the handshake RTT and RTT samples per direction.
 */
import { AnalysisFlag, FLAG_TAGS, TSHARK_FIELDS } from '../tcp/wireshark/flags.js';
import type { AnalysisResult } from '../tcp/wireshark/seq-analysis.js';
import { ANALYSIS_FIELDS, type FlowStore, type Side } from '../tcp/rfc793/flow.js';
import type { Emit, Severity } from './finding.js';

const F = AnalysisFlag;

/** Wireshark's expert severities: Note -> note, Warn -> warning, Chat -> info. */
const SEVERITY: Record<string, Severity> = {
  retransmission: 'note',
  fast_retransmission: 'note',
  spurious_retransmission: 'note',
  out_of_order: 'warning',
  lost_segment: 'warning',
  ack_lost_segment: 'warning',
  duplicate_ack: 'note',
  keep_alive: 'note',
  keep_alive_ack: 'note',
  zero_window: 'warning',
  zero_window_probe: 'note',
  zero_window_probe_ack: 'note',
  window_update: 'info',
  window_full: 'warning',
  reused_ports: 'note',
};

/** The smallest and the median of sorted RTT samples, or null when there are none. */
export function rttSummary(sorted: ArrayLike<number>): { min: number; median: number } | null {
  if (sorted.length === 0) return null;
  return { min: sorted[0], median: sorted[Math.floor((sorted.length - 1) / 2)] };
}

/** The packet's analysis gives its flow something to record (a flag, the handshake's RTT, an RTT sample). */
export function hasFigures(r: AnalysisResult): boolean {
  return r.flags !== 0 || r.initialRttNs !== 0 || r.acksFrame !== 0;
}

/** The packet's analysis into its flow's figures (the flow in slot `row` of `st`), and each flag as a finding. */
export function recordAnalysis(st: FlowStore, row: number, side: Side, frame: number, ts: number, r: AnalysisResult, emit: Emit | null): void {
  if (!hasFigures(r)) return;
  const c = st.f.c;
  c.hasAnalysis[row] = 1;
  if (r.initialRttNs > 0 && c.initialRttUs[row] < 0) c.initialRttUs[row] = Math.round(r.initialRttNs / 1000);
  // This packet acknowledges the peer's segment: an RTT sample of the peer's data.
  if (r.acksFrame > 0 && r.ackRttNs > 0) st.sample(row, side === 'client' ? 1 : 0, r.ackRttNs / 1000);
  if (r.flags === 0) return;
  for (let i = 0; i < TSHARK_FIELDS.length; i++) {
    const [name, mask] = TSHARK_FIELDS[i];
    if ((r.flags & mask) === 0) continue;
    st.counts[ANALYSIS_FIELDS * row + i]++;
    if (emit === null) continue;
    emit({
      kind: name,
      severity: SEVERITY[name],
      flow: c.id[row],
      packet: frame,
      ts,
      side,
      message: message(name, mask, r),
      details: details(name, r),
    });
  }
}

function message(name: string, mask: number, r: AnalysisResult): string {
  if (name === 'duplicate_ack') return `[TCP Dup ACK ${r.dupAckFrame}#${r.dupAckNum}]`;
  if (name === 'retransmission' && r.flags & (F.FAST_RETRANSMISSION | F.SPURIOUS_RETRANSMISSION)) return '[TCP Retransmission] (also counted as its kind)';
  const tag = FLAG_TAGS.find(([m]) => m & mask);
  return `[${tag ? tag[1] : name}]`;
}

function details(name: string, r: AnalysisResult): Record<string, unknown> {
  const d: Record<string, unknown> = { stream: r.stream };
  if (name === 'duplicate_ack') {
    d.duplicate_ack_num = r.dupAckNum;
    d.duplicate_ack_frame = r.dupAckFrame;
  }
  if (name === 'retransmission' && r.rtoFrame > 0) {
    d.rto_frame = r.rtoFrame;
    d.rto_ms = r.rtoNs / 1e6;
  }
  return d;
}

/** Column names of the per-flow counts on `flows`, in TSHARK_FIELDS order. */
export const COUNT_COLUMNS: readonly string[] = [
  'retransmissions',
  'fast_retransmissions',
  'spurious_retransmissions',
  'out_of_order',
  'lost_segments',
  'acked_unseen',
  'duplicate_acks',
  'keep_alives',
  'keep_alive_acks',
  'zero_windows',
  'zero_window_probes',
  'zero_window_probe_acks',
  'window_updates',
  'window_full',
  'reused_ports',
];
