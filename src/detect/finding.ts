/**
 * Findings: what the detectors report, one per anomaly, with a stable snake_case
 * kind. Detectors know nothing of SQLite or the terminal.
 */
import type { Side } from '../tcp/rfc793/flow.js';

export type Severity = 'info' | 'note' | 'warning' | 'error';

export interface Finding {
  kind: string;
  severity: Severity;
  /** The connection's flow_index within the capture, or null for host-level findings. */
  flow: number | null;
  /** Frame number where it shows, or null. */
  packet: number | null;
  ts: number;
  side: Side | null;
  message: string;
  details: Record<string, unknown>;
  /** A connection's finding decided after the connection ended (at the end of the capture) names its ends here. */
  ends?: { client: string; server: string };
}

export type Emit = (f: Finding) => void;
