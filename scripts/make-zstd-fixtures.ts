// Writes test/golden/zstd/: the files of test/zstd-fixtures.ts, made by the zstd CLI from samples
// and synthetic inputs (see there for what each exercises). Needs `zstd` on PATH (1.5.4 made them).
//   node dist/scripts/make-zstd-fixtures.js

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZSTD_FIXTURES, ZSTD_FIXTURE_DIR, fixtureSource } from '../test/zstd-fixtures.js';
import { repoRoot } from '../test/helpers.js';

mkdirSync(ZSTD_FIXTURE_DIR, { recursive: true });
let total = 0;
for (const f of ZSTD_FIXTURES) {
  const input = fixtureSource(f);
  let out: Buffer;
  if (f.stdin) out = execFileSync('zstd', ['-q', '-c', ...f.args], { input, maxBuffer: 1 << 26 });
  else if (f.source.includes('/')) out = execFileSync('zstd', ['-q', '-c', ...f.args, join(repoRoot, f.source)], { maxBuffer: 1 << 26 });
  else {
    // A synthetic input as a file, so that zstd knows its size (a single-segment frame).
    const tmp = join(ZSTD_FIXTURE_DIR, `.${f.source}.tmp`);
    writeFileSync(tmp, input);
    try {
      out = execFileSync('zstd', ['-q', '-c', ...f.args, tmp], { maxBuffer: 1 << 26 });
    } finally {
      rmSync(tmp);
    }
  }
  writeFileSync(join(ZSTD_FIXTURE_DIR, f.name), out);
  total += out.length;
  console.log(`${f.name}: ${input.length} -> ${out.length} bytes (${f.why})`);
}
console.log(`${ZSTD_FIXTURES.length} files, ${total} bytes`);

