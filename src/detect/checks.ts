/**
 * `--fail-on`: checks a CI job sets on each capture's findings. A check is a kind
 * (any finding of it), `kind>N` (more than N findings) or `kind>N%` (more than N% of
 * the capture's TCP packets for per-packet kinds, of its connections otherwise),
 * or a severity (`warning`, `error`: any finding that severe or more).
 */
import { TSHARK_FIELDS } from '../tcp/wireshark/flags.js';
import { KINDS } from './catalogue.js';

const SEVERITIES = ['info', 'note', 'warning', 'error'] as const;
const PER_PACKET = new Set(TSHARK_FIELDS.map(([k]) => k));
/** Kinds whose info findings are attempts cut by the end of the capture (undetermined): a check on the kind does not count them. */
const CUT_AT_END = new Set(['syn_unanswered', 'synack_unanswered']);

export interface Check {
  text: string;
  kind: string;
  /** Fails when the count (or share, in percent) is above this; -1: any. */
  above: number;
  percent: boolean;
}

export interface CheckResult {
  check: Check;
  failed: boolean;
  /** What was measured, in words. */
  measured: string;
}

export function parseChecks(value: string, previous: Check[] = []): Check[] {
  const out = [...previous];
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z_]+)\s*(?:>\s*(\d+(?:\.\d+)?)\s*(%)?)?$/.exec(part);
    if (m === null) throw new Error(`"${part}" is not a check (examples: syn_flood, connection_reset>3, retransmission>1%, error)`);
    const [, kind, n, pct] = m;
    if (!(kind in KINDS) && !(SEVERITIES as readonly string[]).includes(kind)) {
      throw new Error(`"${kind}" is neither a finding kind nor a severity (see \`tcpstate explain\`)`);
    }
    out.push({ text: part, kind, above: n === undefined ? -1 : Number(n), percent: pct !== undefined });
  }
  return out;
}

/** What a check looks at in a capture's summary. */
export interface CheckedCapture {
  findings: Record<string, number>;
  /** Kind -> severity -> findings: the undetermined half-open attempts (info) are left out of their kind's count. */
  findingSeverities?: Record<string, Partial<Record<string, number>>>;
  findingsBySeverity: Record<string, number>;
  tcpPackets: number;
  flows: number;
}

export function evaluate(check: Check, s: CheckedCapture): CheckResult {
  const sev = (SEVERITIES as readonly string[]).indexOf(check.kind);
  const count =
    sev >= 0
      ? SEVERITIES.slice(sev).reduce((n, x) => n + (s.findingsBySeverity[x] ?? 0), 0)
      : (s.findings[check.kind] ?? 0) - (CUT_AT_END.has(check.kind) ? (s.findingSeverities?.[check.kind]?.info ?? 0) : 0);
  if (check.percent) {
    const base = PER_PACKET.has(check.kind) ? s.tcpPackets : s.flows;
    const share = base === 0 ? 0 : (100 * count) / base;
    const unit = PER_PACKET.has(check.kind) ? 'TCP packets' : 'connections';
    return { check, failed: share > check.above, measured: `${count} of ${base} ${unit} (${share.toFixed(2)}%)` };
  }
  const what = sev >= 0 ? `${count} finding${count === 1 ? '' : 's'} of severity ${check.kind} or above` : `${count} ${check.kind}`;
  return { check, failed: check.above < 0 ? count > 0 : count > check.above, measured: what };
}
