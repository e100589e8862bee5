/**
 * The progress line of `analyze` on stderr: packets, bytes and share of the file (of the file as
 * stored: compressed for gzip and zstd), rate, elapsed time and ETA, connections live and findings so
 * far; in a batch, the capture's place and the batch's share and ETA. Redrawn in place a few times a
 * second on a terminal; with --progress into a pipe, one line a second. Nothing is done per packet:
 * the analysis's counts are read when the line is drawn.
 */
import type { LiveCounts } from '../pipeline.js';
import { printable } from '../reader/index.js';

export interface ProgressOut {
  write(s: string): unknown;
  columns?: number;
}

/** When to show it: a terminal outside CI, or asked for; never with --quiet or --no-progress. */
export function progressWanted(opt: boolean | undefined, quiet: boolean | undefined, isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  if (opt !== undefined) return opt;
  if (quiet) return false;
  return isTTY === true && !env.CI && env.TERM !== 'dumb';
}

/** 1234567 -> "1,234,567". */
const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

function mb(bytes: number): string {
  const m = bytes / 1e6;
  return m >= 100 ? m.toFixed(0) : m >= 10 ? m.toFixed(1) : m.toFixed(2);
}

/** Seconds as m:ss or h:mm:ss. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** One capture's progress as it stands: its raw bytes and size (as stored), and the analysis's counts. */
export interface Snapshot {
  rawBytes: number;
  size: number | null;
  compression: string | null;
  counts: LiveCounts | null;
}

/** What a progress line reads of a byte source (or of rotated files read as one). */
export interface ProgressSource {
  readonly rawBytes: number;
  readonly size: number | null;
  readonly compression: string | null;
}

/** A snapshot reader over an open source and the analysis's probe (either may come later). */
export function snapshotOf(source: () => ProgressSource | null, read: () => (() => LiveCounts) | null): () => Snapshot | null {
  return () => {
    const s = source();
    if (s === null) return null;
    const r = read();
    return { rawBytes: s.rawBytes, size: s.size, compression: s.compression, counts: r === null ? null : r() };
  };
}

interface Current {
  index: number;
  name: string;
  snapshot: () => Snapshot | null;
  started: number;
}

export class Progress {
  private readonly active = new Map<number, Current>();
  private timer: NodeJS.Timeout | null = null;
  private shown = false;
  private readonly batchStarted: number;
  /** Bytes (as stored) of the captures finished. */
  private batchDone = 0;

  /**
   * `sizes`: each capture's size as stored (null: unknown, e.g. standard input), for the batch's
   * share; `tty`: redraw in place, else a line at a time; `now`: the clock (tests pass their own).
   */
  constructor(
    private readonly out: ProgressOut,
    private readonly sizes: Array<number | null>,
    private readonly tty: boolean,
    private readonly now: () => number = () => performance.now(),
    intervalMs = tty ? 250 : 1000,
  ) {
    this.batchStarted = now();
    this.timer = setInterval(() => this.draw(), intervalMs);
    this.timer.unref();
  }

  /** A capture begins; `snapshot` reads where it stands (null until its source is open). */
  begin(index: number, name: string, snapshot: () => Snapshot | null): void {
    this.active.set(index, { index, name, snapshot, started: this.now() });
  }

  /** The capture ended: its part of the line goes (the summary takes its place). */
  end(index: number): void {
    const c = this.active.get(index);
    if (c === undefined) return;
    const last = c.snapshot();
    this.batchDone += this.sizes[index] ?? last?.rawBytes ?? 0;
    this.active.delete(index);
    this.clear();
  }

  /** Take the line off the terminal before other output. */
  clear(): void {
    if (this.shown && this.tty) this.out.write('\r\x1b[K');
    this.shown = false;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  /** One capture's part: everything when it is the only one, the essentials beside others. */
  private part(c: Current, now: number, full: boolean): string | null {
    const snap = c.snapshot();
    if (snap === null) return null;
    const elapsed = (now - c.started) / 1000;
    const { rawBytes: raw, size, counts } = snap;
    const total = this.sizes.length;
    const parts: string[] = [`${total > 1 ? `[${c.index + 1}/${total}] ` : ''}${c.name === '-' ? '<stdin>' : printable(c.name)}`];
    if (size !== null && size > 0) parts.push(`${Math.min(100, Math.floor((100 * raw) / size))}%`);
    if (counts !== null) parts.push(`${thousands(counts.packets)} packets`);
    const rate = elapsed > 0 ? raw / elapsed : 0;
    const eta = size !== null && rate > 0 && elapsed >= 1 ? `ETA ${clock((size - raw) / rate)}` : null;
    if (!full) return [...parts, ...(eta === null ? [] : [eta])].join(' ');
    const zipped = snap.compression === null ? '' : ` ${snap.compression}`;
    parts.push(size !== null ? `${mb(raw)}/${mb(size)} MB${zipped}` : `${mb(raw)} MB${zipped}`);
    if (elapsed >= 0.5) parts.push(`${mb(rate)} MB/s`);
    parts.push(clock(elapsed));
    if (eta !== null) parts.push(eta);
    if (counts !== null) parts.push(`${thousands(counts.liveFlows)} live`, `${thousands(counts.findings)} findings`);
    return parts.join('  ');
  }

  /** The line as it stands (null while no capture's source is open). */
  line(): string | null {
    const now = this.now();
    const current = [...this.active.values()];
    const parts = current.map((c) => this.part(c, now, current.length === 1)).filter((p): p is string => p !== null);
    if (parts.length === 0) return null;
    let text = parts.join('  |  ');
    const total = this.sizes.length;
    if (total > 1 && this.sizes.every((s) => s !== null)) {
      const all = this.sizes.reduce<number>((a, s) => a + (s ?? 0), 0);
      let done = this.batchDone;
      for (const c of current) done += c.snapshot()?.rawBytes ?? 0;
      const batchElapsed = (now - this.batchStarted) / 1000;
      const batchRate = batchElapsed > 0 ? done / batchElapsed : 0;
      text += `  | batch ${all > 0 ? Math.min(100, Math.floor((100 * done) / all)) : 100}%`;
      if (batchRate > 0 && batchElapsed >= 1) text += ` ETA ${clock((all - done) / batchRate)}`;
    }
    return text;
  }

  draw(): void {
    const text = this.line();
    if (text === null) return;
    if (this.tty) {
      const width = this.out.columns;
      const fitted = width !== undefined && width > 10 && text.length > width - 1 ? text.slice(0, width - 1) : text;
      this.out.write(`\r\x1b[K${fitted}`);
      this.shown = true;
    } else this.out.write(`tcpstate: ${text}\n`);
  }
}
