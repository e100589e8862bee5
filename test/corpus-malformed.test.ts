/**
 * Every fuzzed or broken file of ../shared/corpus/malformed: no stack trace, no
 * hang (15 s each), no unbounded memory, exit code 0 or 3, a clear one-line error
 * naming the byte offset when the container is damaged, and every packet before
 * the damage kept.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { readTsv, sharedDir } from './helpers.js';
import type { WorkerReport } from './malformed-worker.js';

const dir = join(sharedDir(), 'corpus', 'malformed');
const index = readTsv(join(dir, 'INDEX.tsv'));
/**
 * Each file takes well under a second; a hang never answers at all. The budget is generous because
 * a CI run once stalled past 2 s on one 119-byte file that takes 0.5 s (a busy virtual machine).
 */
const BUDGET_MS = 15_000;

/** Run every file through the CLI in a worker with a memory ceiling; a file over budget kills it. */
async function runAll(): Promise<Map<string, WorkerReport>> {
  const worker = new Worker(new URL('./malformed-worker.js', import.meta.url), {
    resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
  });
  const reports = new Map<string, WorkerReport>();
  try {
    for (const row of index) {
      const file = join(dir, row.file);
      const report = await new Promise<WorkerReport>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${row.file}: no answer within ${BUDGET_MS} ms (hang?)`)), BUDGET_MS);
        const done = (fn: () => void) => {
          clearTimeout(timer);
          worker.removeAllListeners('message');
          worker.removeAllListeners('error');
          fn();
        };
        worker.once('message', (m: WorkerReport) => done(() => resolve(m)));
        worker.once('error', (e) => done(() => reject(new Error(`${row.file}: worker died: ${e.message}`))));
        worker.postMessage(file);
      });
      reports.set(row.file, report);
    }
  } finally {
    await worker.terminate();
  }
  return reports;
}

test('malformed corpus: 277 files', () => {
  assert.equal(index.length, 277);
});

test('malformed corpus: every file fails safely and keeps what came before the damage', async (t) => {
  const reports = await runAll();
  for (const row of index) {
    await t.test(row.file, () => {
      const r = reports.get(row.file)!;
      assert.ok(r.exit === 0 || r.exit === 3, `exit code ${r.exit}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.ok(r.ms < BUDGET_MS, `took ${r.ms} ms`);
      assert.ok(r.heapGrowthMb < 64, `heap grew ${r.heapGrowthMb.toFixed(1)} MB`);
      const s = r.summary;
      assert.ok(s !== null, 'a JSON summary was written');
      assert.equal((s.decode as Record<string, number>).internal_error, undefined, 'no decoder exception');
      const capinfos = parseInt(row.capinfos_packets, 10);
      if (r.exit === 3) {
        // One line, naming the file and the byte offset.
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.ok(lines[0].includes(row.file), lines[0]);
        assert.match(lines[0], /byte offset \d+/);
        assert.ok(s.status === 'error' || s.status === 'truncated');
      }
      if (row.category === 'packet-content' || row.category === 'header-oddity' || row.category === 'unsupported-linktype') {
        // The container is sound: every record is read, per-packet trouble is counted, not thrown.
        assert.equal(r.exit, 0, r.stderr);
        if (!Number.isNaN(capinfos)) assert.equal(s.packets, capinfos, 'packets');
      } else if (row.category === 'file-structure' && !Number.isNaN(capinfos)) {
        // Everything Wireshark read before the damage, we read too (our limits match its 262 144-byte cap),
        // unless Wireshark read it as another format: capinfos calls pcarp__4d6b... a "Bluetooth HCI dump".
        if (row.file !== 'pcarp__4d6b0152553d99a3dfc82bb2713bd8671fdc7b09') {
          assert.ok((s.packets as number) >= capinfos, `packets ${s.packets} < ${capinfos}`);
        } else assert.equal(r.exit, 3);
      } else if (row.category.startsWith('not-a-capture')) {
        assert.equal(r.exit, 3, 'refused');
      }
    });
  }
});
