/** Per-flow figures of the sequence analysis (filled by src/detect/packet-flags.ts). */
import type { Side } from './flow.js';
import type { NumberReader, NumberWriter } from '../util/number.js';

/** How many tcp.analysis fields there are (TSHARK_FIELDS in src/analysis/flags.ts). */
const FIELDS = 15;

const NONE: readonly number[] = Object.freeze([]);

/** Per-flow figures of the sequence analysis. */
export class FlowAnalysis {
  /** Count per tshark field, in TSHARK_FIELDS order (retransmission counts the whole family, as tshark). */
  readonly counts: number[] = new Array<number>(FIELDS).fill(0); // small integers: no typed array (and its buffer) per flow
  /** tshark's iRTT (SYN to the ACK that completes the handshake), µs; -1 unknown. */
  initialRttUs = -1;
  /** RTT samples (µs) of data sent by the client / by the server (decimated beyond 4096), made at the first. */
  private rttClient: number[] | null = null;
  private rttServer: number[] | null = null;

  /** The RTT samples of data `side` sent. */
  rtt(side: Side): readonly number[] {
    return (side === 'client' ? this.rttClient : this.rttServer) ?? NONE;
  }

  /** Append the figures as numbers (see Flow.freeze): counts, iRTT, then each side's samples (-1: none yet). */
  freezeInto(out: NumberWriter): void {
    out.addAll(this.counts);
    out.add(this.initialRttUs);
    for (const s of [this.rttClient, this.rttServer]) {
      if (s === null) out.add(-1);
      else {
        out.add(s.length);
        out.addAll(s);
      }
    }
  }

  /** The figures freezeInto wrote, read from `r`. */
  static thaw(r: NumberReader): FlowAnalysis {
    const a = new FlowAnalysis();
    for (let i = 0; i < FIELDS; i++) a.counts[i] = r.next();
    a.initialRttUs = r.next();
    a.rttClient = thawSamples(r);
    a.rttServer = thawSamples(r);
    return a;
  }

  sample(side: Side, us: number): void {
    let s = side === 'client' ? this.rttClient : this.rttServer;
    if (s === null) {
      s = [us];
      if (side === 'client') this.rttClient = s;
      else this.rttServer = s;
      return;
    }
    s.push(us);
    if (s.length >= 4096) {
      // Keep every other sample: bounded memory, the median barely moves.
      let j = 0;
      for (let i = 0; i < s.length; i += 2) s[j++] = s[i];
      s.length = j;
    }
  }
}

function thawSamples(r: NumberReader): number[] | null {
  const n = r.next();
  if (n < 0) return null;
  const s: number[] = [];
  for (let i = 0; i < n; i++) s.push(r.next());
  return s;
}
