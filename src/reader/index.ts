/**
 * The streaming capture reader: a byte source (file, stdin, gzip) feeding the
 * capture parser. `readCapture` drives a callback per record (the fast path the
 * analyzer uses); `records` is the same as an async iterator of copies.
 */
import { CaptureParser } from './capture.js';
import { CaptureError, DecompressError } from './errors.js';
import type { CaptureFormat, InterfaceInfo, PacketRecord } from './record.js';
import type { ByteSource, Compression } from './source.js';

export { CaptureError } from './errors.js';
export { CaptureParser } from './capture.js';
export { openSource, sourceFromChunks, type ByteSource } from './source.js';
export { decodeName, fsPath, printable, printableLines, wellFormed } from './names.js';
export type { CaptureFormat, InterfaceInfo, PacketRecord } from './record.js';
export { RotatedReader, firstTimestamp, type CapturePart, type RotatedOutcome } from './rotated.js';

export interface ReadOutcome {
  format: CaptureFormat | null;
  compression: Compression | null;
  interfaces: InterfaceInfo[];
  /** Records handed out (all of them were good). */
  records: number;
  /** Bytes of the (decompressed) stream parsed: all of it, or up to the damaged record or block. */
  bytes: number;
  /** Why reading stopped early, or null when the capture was read to its end. */
  error: CaptureError | null;
}

/** Thrown out of readCapture when `shouldStop` asked it to stop between chunks. */
export class ReadInterrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'ReadInterrupted';
  }
}

export interface ReadOptions {
  /** Polled between chunks; true throws ReadInterrupted (nothing read is kept). */
  shouldStop?: () => boolean;
  /**
   * Stops the read as soon as it is aborted, even while waiting for a chunk (an idle pipe): the
   * records read so far stand, and the outcome's error is of kind 'interrupted', as a cut-short capture.
   */
  signal?: AbortSignal;
  /** Interfaces the files before this one described, when several are read as one capture (they count towards the limit). */
  interfacesBefore?: number;
}

const INTERRUPTED = 'interrupted (Ctrl-C or SIGTERM); every record read before it is kept';

export async function readCapture(source: ByteSource, onRecord: (r: PacketRecord) => void, opts: ReadOptions = {}): Promise<ReadOutcome> {
  // What onRecord throws is the consumer's failure (a database write, a bug of the analysis), not
  // damage in the capture: it ends the read and goes to the caller as it is.
  let downstream: { error: unknown } | null = null;
  const parser = new CaptureParser((r) => {
    try {
      onRecord(r);
    } catch (e) {
      downstream = { error: e };
      throw e;
    }
  }, opts.interfacesBefore);
  let error: CaptureError | null = null;
  const signal = opts.signal;
  // Resolves to null when the signal aborts: raced against each pending chunk (one promise per chunk,
  // none per record). Its listener goes when the read ends: a run over many captures shares the signal.
  let onAbort: (() => void) | null = null;
  const aborted =
    signal === undefined
      ? null
      : new Promise<null>((res) => {
          onAbort = () => res(null);
          if (signal.aborted) res(null);
          else signal.addEventListener('abort', onAbort, { once: true });
        });
  const it = source.chunks[Symbol.asyncIterator]();
  // The source is closed (a file's handle) when the loop leaves early, as for-await would; not while a chunk is still pending.
  let open = true;
  try {
    for (;;) {
      if (signal?.aborted) {
        error = new CaptureError(INTERRUPTED, parser.bytesParsed, null, 'interrupted');
        break;
      }
      const pending = it.next();
      const r = aborted === null ? await pending : await Promise.race([pending, aborted]);
      if (r === null) {
        // The chunk may never come (stdin idle): let go of it; the source finishes when it does.
        pending.then(() => it.return?.(), () => undefined).catch(() => undefined);
        open = false;
        error = new CaptureError(INTERRUPTED, parser.bytesParsed, null, 'interrupted');
        break;
      }
      if (r.done) {
        open = false;
        break;
      }
      parser.push(r.value, source.borrowed);
      if (opts.shouldStop?.()) throw new ReadInterrupted();
    }
    if (error === null) error = parser.end() ?? warning(source, parser.bytesIn);
  } catch (e) {
    if (downstream !== null) throw (downstream as { error: unknown }).error;
    if (e instanceof ReadInterrupted) throw e;
    if (e instanceof CaptureError) error = e;
    else error = ioError(e, parser.bytesIn, parser.records);
  } finally {
    if (onAbort !== null) signal?.removeEventListener('abort', onAbort);
    if (open) await it.return?.()?.catch(() => undefined);
  }
  return {
    format: parser.format,
    compression: source.compression,
    interfaces: parser.interfaces,
    records: parser.records,
    bytes: parser.bytesParsed,
    error,
  };
}

/** Records as owned copies (their bytes no longer point into the reader's chunks). */
export async function* records(source: ByteSource): AsyncGenerator<PacketRecord, ReadOutcome> {
  const batch: PacketRecord[] = [];
  // new Uint8Array(view) copies; a Node Buffer's slice() would be a view of the chunk.
  const parser = new CaptureParser((r) => batch.push({ ...r, buf: new Uint8Array(r.buf.subarray(r.offset, r.offset + r.caplen)), offset: 0 }));
  let error: CaptureError | null = null;
  try {
    for await (const chunk of source.chunks) {
      try {
        parser.push(chunk, source.borrowed);
      } finally {
        yield* batch.splice(0);
      }
    }
    error = parser.end() ?? warning(source, parser.bytesIn);
  } catch (e) {
    error = e instanceof CaptureError ? e : ioError(e, parser.bytesIn, parser.records);
  }
  return { format: parser.format, compression: source.compression, interfaces: parser.interfaces, records: parser.records, bytes: parser.bytesParsed, error };
}

/** What the source ignored after the compressed data, as a warning (status `truncated`). */
function warning(source: ByteSource, offset: number): CaptureError | null {
  return source.warning === null ? null : new CaptureError(source.warning.reason, offset, null, 'truncated');
}

function ioError(e: unknown, offset: number, records: number): CaptureError {
  // Damage inside compressed data: everything decompressed before it was parsed.
  if (e instanceof DecompressError) return new CaptureError(e.reason, e.offset, records + 1, e.kind);
  const err = e as NodeJS.ErrnoException;
  const messages: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'is a directory, not a capture file',
  };
  const reason = (err.code && messages[err.code]) || `read failed: ${err.message ?? String(e)}`;
  return new CaptureError(reason, offset, typeof err.code === 'string' && err.code.startsWith('E') ? null : records + 1, 'io');
}
