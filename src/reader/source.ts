/**
 * Byte sources: a file or standard input ("-"), transparently gunzipped when the
 * stream starts with the gzip magic. Chunks are pulled one at a time, so a slow
 * consumer holds the producer back and memory does not grow with the input.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface ByteSource {
  /** Chunks of the (decompressed) capture. */
  chunks: AsyncIterable<Uint8Array>;
  /** Set once the first chunk has been seen. */
  compression: 'gzip' | null;
}

const CHUNK = 1 << 16;

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

async function* decompressed(raw: AsyncIterable<Uint8Array>, found: (c: 'gzip') => void): AsyncGenerator<Uint8Array> {
  const it = raw[Symbol.asyncIterator]();
  // Gather at least two bytes to look for the gzip magic.
  const head: Uint8Array[] = [];
  let headLen = 0;
  let done = false;
  while (headLen < 2) {
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
