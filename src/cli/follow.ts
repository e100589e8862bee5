/**
 * analyze --follow: each finding printed as it is made, a one-line census of the sockets every
 * --every (10 s), and the database committed as often, so that `census`, `conns` and sqlite3 read
 * it while the capture goes on. It is the default on a pipe that carries a live capture: standard
 * input is a pipe or a socket and its first packet is within LIVE_SKEW_US of the wall clock.
 */
import { fstatSync } from 'node:fs';
import type { LiveCounts } from '../pipeline.js';
import { censusLine, findingLine } from '../report/follow.js';
import type { AnalyzeHooks } from './analyze-one.js';

/** How near the wall clock a first packet must be for a pipe to count as a live capture. */
export const LIVE_SKEW_US = 300_000_000;

/** 'on' (--follow), 'auto' (standard input alone, and a pipe or socket: on if the packets are live), or off. */
export function followMode(follow: boolean | undefined, captures: string[], stdin: NodeJS.ReadableStream): 'on' | 'auto' | null {
  if (follow !== undefined) return follow ? 'on' : null;
  if (captures.length !== 1 || captures[0] !== '-') return null;
  const fd = (stdin as { fd?: number }).fd;
  if (typeof fd !== 'number') return null;
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket() ? 'auto' : null;
  } catch {
    return null;
  }
}

export class Follow {
  private read: (() => LiveCounts) | null = null;
  private census: (() => Record<string, number>) | null = null;
  private checkpoint: ((packets: number) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Decided once the first packet is seen (auto), or from the start (on). */
  private active: boolean | null;

  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly everyMs: number,
    mode: 'on' | 'auto',
    /** Called before each line (a progress line is taken off the terminal). */
    private readonly before: () => void = () => undefined,
    private readonly now: () => number = () => Date.now() * 1000,
  ) {
    this.active = mode === 'on' ? true : null;
  }

  /** The hooks of one capture, with this watching it. */
  hooks(h: AnalyzeHooks): AnalyzeHooks {
    return {
      ...h,
      onFinding: (f, ends) => {
        h.onFinding?.(f, ends);
        if (this.following()) {
          this.before();
          this.out.write(findingLine(f, ends()));
        }
      },
      probe: (read, census) => {
        h.probe?.(read, census);
        this.read = read;
        this.census = census;
      },
      onBegin: (checkpoint) => {
        h.onBegin?.(checkpoint);
        this.checkpoint = checkpoint;
        this.timer ??= setInterval(() => this.tick(), this.everyMs);
        this.timer.unref();
      },
    };
  }

  /** Following: on, or (auto) the first packet came within LIVE_SKEW_US of now. */
  private following(): boolean {
    if (this.active !== null) return this.active;
    const ts = this.read?.().lastTs ?? null;
    if (ts === null) return false;
    this.active = Math.abs(this.now() - ts) <= LIVE_SKEW_US;
    return this.active;
  }

  /** Every --every: the census line, and a commit of what is written so far. */
  tick(): void {
    if (!this.following() || this.read === null) return;
    const counts = this.read();
    this.before();
    this.out.write(censusLine(counts, this.census?.() ?? {}));
    this.checkpoint?.(counts.packets);
  }

  /** The capture ended (its transaction is committed or rolled back next): no more ticks. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.checkpoint = null;
  }
}
