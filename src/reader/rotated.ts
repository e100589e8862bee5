/**
 * Rotated captures (`tcpdump -C` / `-G`, or any files that continue one another) read as ONE
 * capture: the files in turn, each with its own parser (a pcap file's header, a pcapng file's
 * sections), frame numbers and interface indexes running on across them, so what comes after
 * sees one stream of records. Where each file's frames are, and any overlap or gap in time
 * between one file and the next, are part of the outcome.
 */
import { CaptureError } from './errors.js';
import { ReadInterrupted, readCapture, type ReadOptions, type ReadOutcome } from './index.js';
import { printable } from './names.js';
import type { InterfaceInfo, PacketRecord } from './record.js';
import { openSource, type ByteSource } from './source.js';

/** One file of a rotated capture, as read. */
export interface CapturePart {
  /** As given (or as listed from a directory). */
  name: string;
  /** The path it was opened by. */
  path: string;
  /** Frames of the whole capture that came from this file (0 and -1 when it held none). */
  firstFrame: number;
  lastFrame: number;
  packets: number;
  /** Bytes of the (decompressed) file parsed. */
  bytes: number;
  firstTs: number | null;
  lastTs: number | null;
  format: string | null;
  compression: string | null;
  /** One line when the file is damaged or cut short (the next file is still read). */
  error: string | null;
}

export interface RotatedOutcome extends ReadOutcome {
  parts: CapturePart[];
  /** Overlaps and gaps between consecutive files, one line each. */
  notes: string[];
}

/** A silence longer than this between one file's last packet and the next file's first is reported. */
export const ROTATION_GAP_US = 1_000_000;

/** Reads several files as one capture (give them in the order they were written: see firstTimestamp). */
export class RotatedReader {
  readonly parts: Array<{ name: string; path: string }>;
  /** The file being read, and the raw bytes of those before it (for a progress line). */
  private current: ByteSource | null = null;
  private before = 0;

  /** `size`: the files' sizes summed, when known (for a progress line). */
  constructor(
    parts: Array<{ name: string; path: string }>,
    private readonly open: (path: string) => ByteSource = (p) => openSource(p),
    readonly size: number | null = null,
  ) {
    this.parts = parts;
  }

  get rawBytes(): number {
    return this.before + (this.current?.rawBytes ?? 0);
  }

  get compression(): string | null {
    return this.current?.compression ?? null;
  }

  async read(onRecord: (r: PacketRecord) => void, opts: ReadOptions = {}): Promise<RotatedOutcome> {
    let frames = 0;
    let interfacesBefore = 0;
    const interfaces: InterfaceInfo[] = [];
    const parts: CapturePart[] = [];
    let first: CaptureError | null = null;
    let bytes = 0;
    let format: ReadOutcome['format'] = null;
    let compression: ReadOutcome['compression'] = null;
    for (const { name, path } of this.parts) {
      const part: CapturePart = { name, path, firstFrame: 0, lastFrame: -1, packets: 0, bytes: 0, firstTs: null, lastTs: null, format: null, compression: null, error: null };
      const offset = frames;
      const ifOffset = interfacesBefore;
      // The record is the parser's own, refilled per record: renumbered in place, nothing allocated.
      this.current = this.open(path);
      const o = await readCapture(
        this.current,
        (r) => {
          r.number += offset;
          r.interfaceIndex += ifOffset;
          if (r.tsKnown) {
            if (part.firstTs === null || r.tsUs < part.firstTs) part.firstTs = r.tsUs;
            if (part.lastTs === null || r.tsUs > part.lastTs) part.lastTs = r.tsUs;
          }
          onRecord(r);
        },
        { ...opts, interfacesBefore: ifOffset },
      );
      part.packets = o.records;
      part.bytes = o.bytes;
      part.format = o.format;
      part.compression = o.compression;
      if (o.records > 0) {
        part.firstFrame = offset + 1;
        part.lastFrame = offset + o.records;
      }
      frames += o.records;
      bytes += o.bytes;
      format ??= o.format;
      compression ??= o.compression;
      for (const itf of o.interfaces) interfaces.push({ ...itf, index: itf.index + ifOffset });
      interfacesBefore += o.interfaces.length;
      if (o.error !== null) {
        part.error = o.error.describe(name, o.compression !== null);
        // The capture's error: the first file's damage (a later one only when none before), in the whole capture's frames.
        const e = new CaptureError(`in ${printable(name)}: ${o.error.reason}`, o.error.offset, o.error.record === null ? null : o.error.record + offset, o.error.kind);
        if (first === null || (first.kind === 'truncated' && e.kind !== 'truncated')) first = e;
      }
      parts.push(part);
      this.before += this.current.rawBytes;
      this.current = null;
      if (o.error?.kind === 'interrupted') break;
    }
    return { format, compression, interfaces, records: frames, bytes, error: first, parts, notes: boundaries(parts) };
  }
}

/** Overlaps and gaps between consecutive files that hold packets. */
export function boundaries(parts: CapturePart[]): string[] {
  const notes: string[] = [];
  let prev: CapturePart | null = null;
  for (const p of parts) {
    if (p.firstTs === null || p.lastTs === null) continue;
    if (prev !== null && prev.lastTs !== null) {
      const d = p.firstTs - prev.lastTs;
      if (d < 0) notes.push(`${printable(p.name)} begins ${(-d / 1e6).toFixed(6)} s before ${printable(prev.name)} ends: the files overlap (read in turn, time goes back)`);
      else if (d > ROTATION_GAP_US) notes.push(`gap of ${(d / 1e6).toFixed(6)} s between ${printable(prev.name)} and ${printable(p.name)}: packets may be missing`);
    }
    prev = p;
  }
  return notes;
}

/**
 * The time of a file's first packet, reading no more than its first chunk or so (null when it
 * has none, or cannot be read: its error comes when it is read as part of the capture).
 */
export async function firstTimestamp(source: ByteSource): Promise<number | null> {
  let first: number | null = null;
  try {
    await readCapture(source, (r) => {
      if (first === null && r.tsKnown) first = r.tsUs;
    }, { shouldStop: () => first !== null });
  } catch (e) {
    if (!(e instanceof ReadInterrupted)) throw e;
  }
  return first;
}
