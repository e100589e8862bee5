/**
 * Byte sources: a file or standard input ("-"), transparently decompressed when the
 * stream starts with the gzip or the zstd magic. Chunks are pulled one at a time, so a slow
 * consumer holds the producer back and memory does not grow with the input.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

export type Compression = 'gzip' | 'zstd';

export interface ByteSource {
  /** Chunks of the (decompressed) capture. */
  chunks: AsyncIterable<Uint8Array>;
  /** Set once the first chunk has been seen. */
  compression: Compression | null;
}

/**
 * Read (and gunzip) in 256 KiB pieces: the reader alone on the 376 MB bench capture takes 0.34 s
 * against 0.49 s with 64 KiB (fewer async hops and records split across pieces); 1 MiB gains
 * another 15 ms for 6 MB more resident memory.
 */
const CHUNK = 1 << 18;

/** Open a capture for streaming; `-` is standard input. Errors surface when iterating. */
export function openSource(path: string, stdin: NodeJS.ReadableStream = process.stdin): ByteSource {
  const raw: AsyncIterable<Uint8Array> = path === '-' ? (stdin as AsyncIterable<Uint8Array>) : createReadStream(path, { highWaterMark: CHUNK });
  const source: ByteSource = { compression: null, chunks: decompressed(raw, (c) => (source.compression = c)) };
  return source;
}

/** Wrap chunks from any async iterable (for tests: arbitrary piece sizes). */
export function sourceFromChunks(raw: AsyncIterable<Uint8Array>): ByteSource {
  const source: ByteSource = { compression: null, chunks: decompressed(raw, (c) => (source.compression = c)) };
  return source;
}

async function* decompressed(raw: AsyncIterable<Uint8Array>, found: (c: Compression) => void): AsyncGenerator<Uint8Array> {
  const it = raw[Symbol.asyncIterator]();
  // Gather enough bytes to look for the gzip magic and the zstd frame header.
  const head: Uint8Array[] = [];
  let headLen = 0;
  let done = false;
  while (headLen < ZSTD_HEADER) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    headLen += r.value.length;
  }
  const first = Buffer.concat(head);
  const gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  const zstd = first.length >= 4 && first.readUInt32LE(0) === ZSTD_MAGIC;
  if (zstd) {
    found('zstd');
    yield* unzstd(first, done ? null : it);
    return;
  }
  if (!gzip) {
    if (first.length > 0) yield first;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  found('gzip');
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield first;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const gunzip = createGunzip({ chunkSize: CHUNK });
  const input = Readable.from(rest(), { objectMode: false });
  input.on('error', (e) => gunzip.destroy(e));
  input.pipe(gunzip);
  yield* gunzip as AsyncIterable<Uint8Array>;
}

const ZSTD_MAGIC = 0xfd2fb528;
/** Magic, frame header descriptor and window descriptor: enough to judge the first frame. */
const ZSTD_HEADER = 6;
/** A zstd window larger than this is refused before anything is allocated for it. */
const ZSTD_MAX_WINDOW = 128 * 1024 * 1024;

/** The window a zstd frame asks for (RFC 8878 3.1.1.1.2), or -1 when it only gives its content size. */
function zstdWindow(b: Uint8Array): number {
  const descriptor = b[4];
  if (descriptor & 0x20) return -1; // single segment: the window is the content, bounded by the data
  const wd = b[5];
  const base = 2 ** (10 + (wd >> 3));
  return base + (base / 8) * (wd & 7);
}

export class ZstdWindowError extends Error {}

/** zstd frames decompressed as they arrive (fzstd: pure JavaScript; Node 20 has no zstd). */
async function* unzstd(first: Uint8Array, rest: AsyncIterator<Uint8Array> | null): AsyncGenerator<Uint8Array> {
  const window = zstdWindow(first);
  if (window > ZSTD_MAX_WINDOW) throw new ZstdWindowError(`zstd window of ${window} bytes is larger than the limit of ${ZSTD_MAX_WINDOW}`);
  const out: Uint8Array[] = [];
  const z = new Decompress((data) => {
    out.push(data);
  });
  z.push(first);
  yield* out.splice(0);
  if (rest !== null) {
    for (;;) {
      const r = await rest.next();
      if (r.done) break;
      z.push(r.value);
      yield* out.splice(0);
    }
  }
  z.push(new Uint8Array(0), true);
  yield* out.splice(0);
}
