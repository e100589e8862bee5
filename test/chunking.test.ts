/**
 * Every test capture gives identical records - numbers, offsets, times, lengths,
 * bytes - and the identical outcome whether it arrives whole, in 1-byte pieces or
 * in 321-byte pieces (gzip and zstd files are cut before decompression), and when
 * every piece arrives in one buffer that its owner reuses (the file reader's way).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { digestRecords, repoRoot, sharedDir } from './helpers.js';

function captureFiles(): string[] {
  const shared = sharedDir();
  const files: string[] = [];
  const add = (dir: string, filter: (f: string) => boolean = () => true) => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) add(p, filter);
      else if (filter(f)) files.push(p);
    }
  };
  const isCapture = (f: string) => /\.(pcap|pcapng|gz|zst|cap)$/.test(f);
  add(join(shared, 'corpus', 'formats'), isCapture);
  add(join(shared, 'oracle', 'zeek', 'traces'), isCapture);
  add(join(shared, 'corpus', 'malformed'), (f) => f !== 'INDEX.tsv');
  add(join(repoRoot, 'samples'), isCapture);
  return files;
}

const files = captureFiles();

test('there are captures to check', () => {
  assert.ok(files.length > 300, `${files.length} files`);
});

for (const file of files) {
  const name = file.slice(file.indexOf('/', file.lastIndexOf('shared') + 1) + 1);
  test(`pieces: ${name}`, async () => {
    const bytes = readFileSync(file);
    const whole = await digestRecords(bytes, 0);
    const outcome = (d: typeof whole) => ({
      format: d.outcome.format,
      records: d.outcome.records,
      bytes: d.outcome.bytes,
      error: d.outcome.error && [d.outcome.error.reason, d.outcome.error.offset, d.outcome.error.record, d.outcome.error.kind],
    });
    for (const size of bytes.length <= 400_000 ? [1, 321] : [321, 7777]) {
      const cut = await digestRecords(bytes, size);
      assert.deepEqual(cut.lines, whole.lines, `records differ in ${size}-byte pieces`);
      assert.deepEqual(outcome(cut), outcome(whole), `outcome differs in ${size}-byte pieces`);
      const reused = await digestRecords(bytes, size, { borrowed: true });
      assert.deepEqual(reused.lines, whole.lines, `records differ in ${size}-byte pieces of one reused buffer`);
      assert.deepEqual(outcome(reused), outcome(whole), `outcome differs in ${size}-byte pieces of one reused buffer`);
    }
  });
}
