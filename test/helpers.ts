/** Shared test helpers: where things are, TSV indexes, feeding bytes in pieces. */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureError, CaptureParser, records, sourceFromChunks, type PacketRecord, type ReadOutcome } from '../src/reader/index.js';

/** The repository root (tests run from dist/test). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const scratch: string[] = [];

/** A new empty directory under the system's temporary one, removed with what is in it when the test process exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (scratch.push(dir) === 1) {
    process.on('exit', () => {
      for (const d of scratch) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

/** ../shared beside the repository (CI puts it there); TCPSTATE_SHARED overrides. */
export function sharedDir(): string {
  const dir = process.env.TCPSTATE_SHARED ?? join(repoRoot, '..', 'shared');
  if (!existsSync(join(dir, 'corpus'))) {
    throw new Error(`shared corpus not found at ${dir}: clone the project with shared/ beside it or set TCPSTATE_SHARED`);
  }
  return dir;
}

/** Rows of a tab-separated file with a header line, as objects keyed by column name. */
export function readTsv(path: string): Array<Record<string, string>> {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
  const header = lines[0].split('\t');
  return lines.slice(1).map((l) => {
    const cells = l.split('\t');
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

/** Yield `bytes` in pieces of `size` (0: whole). */
export async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  if (size <= 0) {
    yield bytes;
    return;
  }
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export interface RecordDigest {
  lines: string[];
  outcome: ReadOutcome;
}

/** A record as a comparable line: its fields and a hash of its bytes. */
export function digestLine(rec: PacketRecord): string {
  const h = createHash('sha1').update(rec.buf.subarray(rec.offset, rec.offset + rec.caplen)).digest('hex');
  return [rec.number, rec.fileOffset, rec.tsUs, rec.tsKnown, rec.linkType, rec.interfaceIndex, rec.caplen, rec.origLen, rec.fcsLen, h].join(' ');
}

/**
 * Every record of a capture fed in pieces of `size` (0: whole), as comparable lines
 * (fields + hash of the bytes). Plain captures go straight into the parser; gzip and
 * zstd captures go through the streaming source, cut before decompression.
 */
export async function digestRecords(bytes: Uint8Array, size: number, opts: { borrowed?: boolean } = {}): Promise<RecordDigest> {
  const lines: string[] = [];
  const compressed = (bytes[0] === 0x1f && bytes[1] === 0x8b) || (bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd);
  if (compressed) {
    const it = records(sourceFromChunks(pieces(bytes, size)));
    for (;;) {
      const r = await it.next();
      if (r.done) return { lines, outcome: r.value };
      lines.push(digestLine(r.value));
    }
  }
  const parser = new CaptureParser((rec) => lines.push(digestLine(rec)));
  let error: CaptureError | null = null;
  try {
    const step = size <= 0 ? bytes.length : size;
    // Borrowed: every piece in one buffer, scribbled over once the parser has let go of it.
    const scratch = new Uint8Array(step);
    for (let i = 0; i < bytes.length; i += step) {
      const piece = bytes.subarray(i, i + step);
      if (opts.borrowed !== true) parser.push(piece);
      else {
        scratch.set(piece);
        parser.push(scratch.subarray(0, piece.length), true);
        scratch.fill(0xee);
      }
    }
    error = parser.end();
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    error = e;
  }
  return {
    lines,
    outcome: { format: parser.format, compression: null, interfaces: parser.interfaces, records: parser.records, bytes: parser.bytesParsed, error },
  };
}
