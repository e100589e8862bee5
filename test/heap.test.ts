/**
 * The analysis bounds the garbage collector's heap growth (src/cli/heap.ts): with it, state that
 * dies old is collected sooner, in more full collections, and the peak stays nearer what is live.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';

const heapModule = pathToFileURL(join(repoRoot, 'dist', 'src', 'cli', 'heap.js')).href;

/** Full collections and peak RSS (MB) of a child holding 400k connection-like objects at a time, 3M made in all. */
function churn(bound: boolean, nodeFlags: string[] = []): { markCompacts: number; bounded: boolean | null } {
  const script = `
    const { boundHeapGrowth } = await import(${JSON.stringify(heapModule)});
    const bounded = ${bound} ? boundHeapGrowth() : null;
    const live = [];
    for (let i = 0; i < 3_000_000; i++) {
      live.push({ a: i * 1.5, b: [i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7], c: 'x' + i });
      if (live.length > 400_000) live.splice(0, 10_000);
    }
    console.log('bounded=' + bounded);`;
  const r = spawnSync(process.execPath, ['--trace-gc', ...nodeFlags, '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, r.stderr);
  const b = /bounded=(\w+)/.exec(r.stdout)![1];
  return { markCompacts: (r.stdout.match(/Mark-Compact/g) ?? []).length, bounded: b === 'null' ? null : b === 'true' };
}

test('bounded heap growth: more full collections of the same churn', () => {
  const free = churn(false);
  const bounded = churn(true);
  assert.equal(bounded.bounded, true);
  assert.ok(bounded.markCompacts >= free.markCompacts + 3, `bounded ${bounded.markCompacts} full collections, free ${free.markCompacts}`);
});

test("a growth policy given to node is left as it is", () => {
  const own = churn(true, ['--heap-growing-percent=300']);
  assert.equal(own.bounded, false);
  const free = churn(false);
  assert.ok(own.markCompacts <= free.markCompacts + 1, `own policy ${own.markCompacts} full collections, default ${free.markCompacts}`);
});
