/**
 * The per-packet findings of the sequence analysis, in Wireshark's words
 * (tshark 4.0.17 `tcp.analysis.*`). Bit values are ours; the names, and which
 * tshark field each one feeds, are Wireshark's.
 *
 * Internally, RETRANSMISSION, FAST_RETRANSMISSION, SPURIOUS_RETRANSMISSION and
 * OUT_OF_ORDER are mutually exclusive, as in Wireshark. tshark's
 * `tcp.analysis.retransmission` field is also shown for fast and spurious
 * retransmissions: see TSHARK_FIELDS.
 */
export const AnalysisFlag = {
  RETRANSMISSION: 0x0001,
  FAST_RETRANSMISSION: 0x0002,
  SPURIOUS_RETRANSMISSION: 0x0004,
  OUT_OF_ORDER: 0x0008,
  /** "Previous segment not captured". */
  LOST_SEGMENT: 0x0010,
  /** "ACKed unseen segment". */
  ACK_LOST_SEGMENT: 0x0020,
  DUPLICATE_ACK: 0x0040,
  KEEP_ALIVE: 0x0080,
  KEEP_ALIVE_ACK: 0x0100,
  ZERO_WINDOW: 0x0200,
  ZERO_WINDOW_PROBE: 0x0400,
  ZERO_WINDOW_PROBE_ACK: 0x0800,
  WINDOW_UPDATE: 0x1000,
  WINDOW_FULL: 0x2000,
  /** "Port numbers reused". */
  REUSED_PORTS: 0x4000,
} as const;

const F = AnalysisFlag;

/** Any member of the retransmission family: what tshark's `tcp.analysis.retransmission` shows. */
export const ANY_RETRANSMISSION = F.RETRANSMISSION | F.FAST_RETRANSMISSION | F.SPURIOUS_RETRANSMISSION;

/**
 * tshark field name (after `tcp.analysis.`) -> the flags that make tshark print it.
 * In the order of the golden TSV columns.
 */
export const TSHARK_FIELDS: ReadonlyArray<readonly [name: string, mask: number]> = [
  ['retransmission', ANY_RETRANSMISSION],
  ['fast_retransmission', F.FAST_RETRANSMISSION],
  ['spurious_retransmission', F.SPURIOUS_RETRANSMISSION],
  ['out_of_order', F.OUT_OF_ORDER],
  ['lost_segment', F.LOST_SEGMENT],
  ['ack_lost_segment', F.ACK_LOST_SEGMENT],
  ['duplicate_ack', F.DUPLICATE_ACK],
  ['keep_alive', F.KEEP_ALIVE],
  ['keep_alive_ack', F.KEEP_ALIVE_ACK],
  ['zero_window', F.ZERO_WINDOW],
  ['zero_window_probe', F.ZERO_WINDOW_PROBE],
  ['zero_window_probe_ack', F.ZERO_WINDOW_PROBE_ACK],
  ['window_update', F.WINDOW_UPDATE],
  ['window_full', F.WINDOW_FULL],
  ['reused_ports', F.REUSED_PORTS],
];

/** Wireshark's Info-column tags, for display (`[TCP Dup ACK 12#3]` is built by the caller). */
export const FLAG_TAGS: ReadonlyArray<readonly [mask: number, tag: string]> = [
  [F.REUSED_PORTS, 'TCP Port numbers reused'],
  [F.LOST_SEGMENT, 'TCP Previous segment not captured'],
  [F.ACK_LOST_SEGMENT, 'TCP ACKed unseen segment'],
  [F.KEEP_ALIVE, 'TCP Keep-Alive'],
  [F.KEEP_ALIVE_ACK, 'TCP Keep-Alive ACK'],
  [F.RETRANSMISSION, 'TCP Retransmission'],
  [F.FAST_RETRANSMISSION, 'TCP Fast Retransmission'],
  [F.SPURIOUS_RETRANSMISSION, 'TCP Spurious Retransmission'],
  [F.OUT_OF_ORDER, 'TCP Out-Of-Order'],
  [F.DUPLICATE_ACK, 'TCP Dup ACK'],
  [F.ZERO_WINDOW_PROBE, 'TCP ZeroWindowProbe'],
  [F.ZERO_WINDOW_PROBE_ACK, 'TCP ZeroWindowProbeAck'],
  [F.ZERO_WINDOW, 'TCP ZeroWindow'],
  [F.WINDOW_UPDATE, 'TCP Window Update'],
  [F.WINDOW_FULL, 'TCP Window Full'],
];

/** Flag names (snake_case, tshark's) of a flag set, for messages and tests. Not for the hot path. */
export function flagNames(flags: number): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(AnalysisFlag)) if (flags & v) out.push(k.toLowerCase());
  return out;
}
