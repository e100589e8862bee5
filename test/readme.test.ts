/**
 * Every command line the README shows in a ```sh block runs: each `tcpstate ...` or
 * `npx tcpstate ...` command (also after `&&`), in README order, through run() in a
 * scratch directory where samples/ is the repository's. A line exits 0 unless it says
 * otherwise in its comment ("# exit 2: ..." or "# exits 1: ..."). Synopses with <placeholders>
 * and commands fed by a pipe are not runnable as written and are left out. Where a plain ```
 * block follows a ```sh block, it shows the output of that block's first command: its lines
 * ("..." for lines left out) are that output's, in order.
 */
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers.js';
import { cli, tempDir } from './report-io.js';

interface Example {
  line: number;
  text: string;
  argv: string[];
  code: number;
  /** The output shown right after this command's block, when it is the block's first command. */
  shown?: string[];
}

/** Words of a shell command: blanks separate, single and double quotes group. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (const ch of command) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else word = (word ?? '') + ch;
  }
  if (word !== null) words.push(word);
  return words;
}

interface Block {
  lang: string;
  /** Line number of the first line inside. */
  line: number;
  lines: string[];
  /** Only blank lines between the previous block and this one. */
  follows: boolean;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  let open: Block | null = null;
  let between = false;
  markdown.split('\n').forEach((raw, i) => {
    if (/^```/.test(raw)) {
      if (open === null) open = { lang: raw.slice(3).trim(), line: i + 2, lines: [], follows: out.length > 0 && !between };
      else {
        out.push(open);
        open = null;
        between = false;
      }
    } else if (open !== null) open.lines.push(raw);
    else if (raw.trim() !== '') between = true;
  });
  return out;
}

function examples(markdown: string): Example[] {
  const out: Example[] = [];
  const all = blocks(markdown);
  all.forEach((block, b) => {
    if (block.lang !== 'sh') return;
    const first = out.length;
    block.lines.forEach((raw, i) => {
      const hash = raw.search(/\s#\s/);
      const command = (hash < 0 ? raw : raw.slice(0, hash)).trim();
      const comment = hash < 0 ? '' : raw.slice(hash);
      if (/<[a-z]/i.test(command) || command.includes('|')) return;
      for (const part of command.split('&&').map((p) => p.trim())) {
        const words = shellWords(part);
        if (words[0] === 'npx') words.shift();
        if (words[0] !== 'tcpstate') continue;
        const code = /\bexits? (\d+)/.exec(comment);
        out.push({ line: block.line + i, text: part, argv: words.slice(1), code: code ? Number(code[1]) : 0 });
      }
    });
    const next = all[b + 1];
    if (out.length > first && next !== undefined && next.lang === '' && next.follows) out[first].shown = next.lines;
  });
  return out;
}

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const all = examples(readme);

test('the README shows commands to run, the report commands among them', () => {
  for (const cmd of ['analyze', 'explain', 'census', 'flow', 'anomalies', 'conns', 'summary', 'export']) assert.ok(all.some((e) => e.argv[0] === cmd), cmd);
  assert.deepEqual(shellWords(`a "b c" 'd>5%' e`), ['a', 'b c', 'd>5%', 'e']);
});

test('every tcpstate command line in the README runs with the exit code it documents', async () => {
  const dir = tempDir();
  symlinkSync(join(repoRoot, 'samples'), join(dir, 'samples'));
  let checked = 0;
  for (const e of all) {
    const r = await cli(e.argv, { cwd: dir });
    assert.equal(r.code, e.code, `README.md:${e.line}: ${e.text}\n${r.err}`);
    if (e.code === 0) assert.ok(r.out.length > 0, `README.md:${e.line}: ${e.text} printed nothing`);
    if (e.shown === undefined) continue;
    // The output shown is the command's, line for line ("..." skips lines).
    const actual = r.out.split('\n').map((l) => l.trimEnd());
    let at = 0;
    for (const want of e.shown.map((l) => l.trimEnd())) {
      if (want === '...') continue;
      const found = actual.indexOf(want, at);
      assert.ok(found >= at, `README.md:${e.line}: ${e.text}: the output shown has "${want}", the command printed:\n${r.out}`);
      at = found + 1;
    }
    checked++;
  }
  assert.ok(checked >= 3, `outputs checked: ${checked}`);
});
