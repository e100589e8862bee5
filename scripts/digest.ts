/**
 * npm run digest: proof that a change leaves the results alone (issue 19). Each capture is
 * analysed exactly as `tcpstate analyze CAPTURE --db TEMP` analyses it (the CLI's run(), every
 * analyzer and detector on, default thresholds), and every table of the database it wrote is
 * reduced to one line: its row count and a hash of its rows in a canonical order.
 *
 *   node dist/scripts/digest.js [--write FILE | --check FILE] [--bench-mix SCALE] [CAPTURE|DIR...]
 *   node dist/scripts/digest.js --rows CAPTURE...   the rows that are hashed, to diff two runs row by row
 *
 * Without captures: the samples (samples/), the Zeek traces (shared/oracle/zeek/traces) and the
 * corpus (shared/corpus/formats, shared/corpus/malformed). A directory stands for the captures
 * below it (the CLI's rule: .pcap, .pcapng, .cap and .gz of them) and, when it has an INDEX.tsv
 * with a `file` column (the shared corpus), every file that lists. `--bench-mix 0.2` generates
 * the bench's mix at that scale in a temporary directory (as `bench.js --generate FILE --scale
 * 0.2` does), digests it and deletes it. Output: one line per capture and table, sorted,
 *
 *   <capture>\t<table>\t<rows>\t<sha256 of the rows, 12 hex digits>
 *
 * plus two lines per capture that are not tables: `(file)` (bytes and hash of the capture file
 * itself: when they differ, the input changed, not the program) and `(exit)` (the exit code of
 * analyze, with '-' for a digest). `--write FILE` records the lines, `--check FILE` compares with
 * a record, prints every difference and exits 1 when there is one. See docs/digests.md.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { expandCaptures } from '../src/cli/analyze.js';
import type { Io } from '../src/cli/io.js';
import { run } from '../src/cli/main.js';
import { STORAGE_TABLES } from '../src/sink/sqlite.js';
import { DEFAULT_MIX, writeMix } from './bench-capture.js';

/** The repository root (this file runs from dist/scripts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** ../shared beside the repository, or TCPSTATE_SHARED (as the tests find it). */
export function sharedDir(): string {
  return resolve(process.env.TCPSTATE_SHARED ?? join(repoRoot, '..', 'shared'));
}

/** The captures digested when none are named. */
export function defaultInputs(): string[] {
  const shared = sharedDir();
  return [
    join(repoRoot, 'samples'),
    join(shared, 'oracle', 'zeek', 'traces'),
    join(shared, 'corpus', 'formats'),
    join(shared, 'corpus', 'malformed'),
  ];
}

/** Hex digits of sha256 kept in a digest. */
const DIGEST_HEX = 12;
/** The lines of a capture that are not tables of the database. */
export const FILE_LINE = '(file)';
export const EXIT_LINE = '(exit)';

export interface DigestLine {
  capture: string;
  table: string;
  rows: number;
  digest: string;
}

export interface Capture {
  /** Absolute path of the file. */
  path: string;
  /** How it is named in the digest: repository-relative, shared/..., or its file name. */
  label: string;
  /** Where analyze runs and what it is given (the `name` column and error messages hold that). */
  cwd: string;
  arg: string;
}

/** Where a capture is and what it is called: the same names on every machine. */
export function describeCapture(path: string): Capture {
  const abs = resolve(path);
  const inside = (root: string) => {
    const rel = relative(root, abs);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : null;
  };
  const inRepo = inside(repoRoot);
  if (inRepo !== null) return { path: abs, label: inRepo, cwd: repoRoot, arg: inRepo };
  const shared = sharedDir();
  const inShared = inside(shared);
  if (inShared !== null) return { path: abs, label: `shared/${inShared}`, cwd: shared, arg: inShared };
  return { path: abs, label: basename(abs), cwd: dirname(abs), arg: basename(abs) };
}

/** Files named, directories expanded (the CLI's rule, and every file an INDEX.tsv lists). */
export function expandInputs(inputs: string[], cwd: string): Capture[] {
  const files = new Set<string>();
  for (const input of inputs) {
    const abs = resolve(cwd, input);
    for (const f of expandCaptures([abs], cwd)) files.add(resolve(cwd, f));
    const index = join(abs, 'INDEX.tsv');
    if (existsSync(index) && statSync(abs).isDirectory()) {
      const [head, ...rows] = readFileSync(index, 'utf8').split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
      const col = head.split('\t').indexOf('file');
      if (col >= 0) for (const r of rows) files.add(join(abs, r.split('\t')[col]));
    }
  }
  const captures = [...files].map(describeCapture).sort((a, b) => cmp(a.label, b.label));
  for (let i = 1; i < captures.length; i++) {
    if (captures[i].label === captures[i - 1].label) throw new Error(`two captures named ${captures[i].label}: ${captures[i - 1].path}, ${captures[i].path}`);
  }
  return captures;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * How each table is read. Left out everywhere: the surrogate keys (`id`, `capture_id`: row ids
 * in the order rows were inserted, which says nothing about the analysis) and, of `captures`,
 * `path` (the absolute path: where the checkout is). A reference to a flow (`flow_id`) is
 * replaced by that flow's `flow_index`, so that a link is still checked. Rows are ordered as a
 * user reads them, then by every column, so that the order never depends on insertion.
 * `meta` (the schema version) is not per capture and is not digested.
 */
interface TableSpec {
  /** Columns left out. */
  omit: string[];
  /** SELECT expressions standing in for a column (by name), over the table aliased `t`. */
  replace?: Record<string, string>;
  /** Leading ORDER BY terms, before every column. */
  order: string[];
  /** FROM clause beyond `<table> t`, and the capture filter (defaults: none, t.capture_id = ?). */
  join?: string;
  where?: string;
}

const FLOW_INDEX_OF = (col: string) => `(SELECT f.flow_index FROM flows f WHERE f.id = t.${col})`;

const TABLES: Record<string, TableSpec> = {
  captures: { omit: ['id', 'path'], order: [], where: 't.id = ?' },
  interfaces: { omit: ['capture_id'], order: ['idx'] },
  decode_counters: { omit: ['capture_id'], order: ['reason'] },
  flows: { omit: ['id', 'capture_id'], order: ['flow_index'] },
  transitions: {
    omit: [],
    replace: { flow_id: FLOW_INDEX_OF('flow_id') },
    order: ['flow_id', 'seq'],
    where: 't.flow_id IN (SELECT id FROM flows WHERE capture_id = ?)',
  },
  anomalies: { omit: ['id', 'capture_id'], replace: { flow_id: FLOW_INDEX_OF('flow_id') }, order: ['packet', 'ts', 'kind', 'flow_index', 'side'] },
  zeek_conns: { omit: ['capture_id'], order: ['ts', 'first_frame', 'orig_h', 'orig_p', 'resp_h', 'resp_p'] },
};
/**
 * Tables that are not per capture, and capture_files: filled only for rotated files read as one
 * capture (analyze --continuous), which a digest (one capture per file) never does; test/rotated.test.ts checks it.
 */
const NOT_DIGESTED = new Set(['meta', 'capture_files']);

/**
 * One value, canonically: its SQLite type and its value. Integers come as BigInt (exact at any
 * size); a REAL prints as ECMAScript's Number#toString (the shortest decimal that reads back as
 * the same double: one spelling on every machine) with an `r` so that 1.0 and 1 differ.
 */
export function encodeValue(v: unknown): string {
  if (v === null) return 'N';
  if (typeof v === 'bigint') return `i${v}`;
  if (typeof v === 'number') return `r${Object.is(v, -0) ? '-0' : String(v)}`;
  if (typeof v === 'string') return `t${JSON.stringify(v)}`;
  if (Buffer.isBuffer(v)) return `b${v.toString('hex')}`;
  throw new Error(`unexpected value ${String(v)}`);
}

/** The tables' lines of one capture of a database `analyze` wrote. */
export function digestDatabase(file: string, label: string, show?: (line: string) => void): DigestLine[] {
  const db = new Database(file, { readonly: true });
  try {
    db.defaultSafeIntegers(true);
    const captures = db.prepare('SELECT id FROM captures').pluck().all() as bigint[];
    if (captures.length > 1) throw new Error(`${file}: ${captures.length} captures, expected at most one`);
    const captureId = captures[0] ?? -1n;
    // The relations a user reads: the documented names (tables today, views over coded storage
    // tomorrow) and any table this script does not know; derived views (state_intervals, ...) and
    // the storage behind the documented views are not digested themselves.
    const relations = db.prepare("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string; type: string }>;
    const tables = relations
      .filter((r) => (r.type === 'table' ? !STORAGE_TABLES.has(r.name) : r.name in TABLES))
      .map((r) => r.name)
      .filter((t) => !NOT_DIGESTED.has(t));
    const lines: DigestLine[] = [];
    for (const table of tables) {
      const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string; cid: bigint }>).map((c) => c.name);
      // A table this script does not know (a new one): every column but the surrogate keys, in column order.
      const spec: TableSpec = TABLES[table] ?? {
        omit: ['id', 'capture_id'],
        order: [],
        where: columns.includes('capture_id') ? undefined : '1 = 1 OR ? IS NULL',
      };
      const kept = columns.filter((c) => !spec.omit.includes(c));
      const exprs = kept.map((c) => spec.replace?.[c] ?? `t.${c}`);
      const orderBy = [...spec.order.map((c) => exprs[kept.indexOf(c)] ?? `t.${c}`), ...exprs].map((e) => `${e} ASC NULLS FIRST`);
      const sql = `SELECT ${exprs.join(', ')} FROM ${table} t ${spec.join ?? ''} WHERE ${spec.where ?? 't.capture_id = ?'} ORDER BY ${orderBy.join(', ')}`;
      const hash = createHash('sha256');
      const head = kept.map((c) => (spec.replace?.[c] === undefined ? c : `${c}->flow_index`)).join('\t');
      hash.update(`${head}\n`);
      show?.(`${label}\t${table}\t#\t${head}`);
      let rows = 0;
      for (const row of db.prepare(sql).raw().iterate(captureId) as Iterable<unknown[]>) {
        const text = row.map(encodeValue).join('\t');
        hash.update(`${text}\n`);
        rows++;
        show?.(`${label}\t${table}\t${rows}\t${text}`);
      }
      lines.push({ capture: label, table, rows, digest: hash.digest('hex').slice(0, DIGEST_HEX) });
    }
    return lines;
  } finally {
    db.close();
  }
}

/** Analyse one capture as `tcpstate analyze` does, into a database of its own in `tmp`, and digest it. */
export async function digestCapture(c: Capture, tmp: string, show?: (line: string) => void): Promise<DigestLine[]> {
  const bytes = readFileSync(c.path);
  const lines: DigestLine[] = [
    { capture: c.label, table: FILE_LINE, rows: bytes.length, digest: createHash('sha256').update(bytes).digest('hex').slice(0, DIGEST_HEX) },
  ];
  const db = join(tmp, 'digest.db');
  const io: Io = {
    stdout: { write: () => true, isTTY: false },
    stderr: { write: () => true, isTTY: false },
    stdin: new PassThrough(),
    env: { NO_COLOR: '1' },
    cwd: c.cwd,
    onInterrupt: () => () => undefined,
  };
  let code: string;
  try {
    code = String(await run(['analyze', '--quiet', '--db', db, c.arg], io));
  } catch (e) {
    // run() answers every error with an exit code; this is a crash of the digest itself, recorded as such.
    code = `crash: ${(e as Error).message}`.replace(/\s+/g, ' ');
  }
  lines.push({ capture: c.label, table: EXIT_LINE, rows: Number.isNaN(Number(code)) ? -1 : Number(code), digest: Number.isNaN(Number(code)) ? code : '-' });
  try {
    if (existsSync(db)) lines.push(...digestDatabase(db, c.label, show));
  } finally {
    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
  }
  return lines;
}

export function formatLine(l: DigestLine): string {
  return `${l.capture}\t${l.table}\t${l.rows}\t${l.digest}`;
}

export function sortLines(lines: DigestLine[]): DigestLine[] {
  return [...lines].sort((a, b) => cmp(a.capture, b.capture) || cmp(a.table, b.table));
}

/** The lines of a recorded file (comments, starting with #, left out). */
export function parseDigests(text: string): DigestLine[] {
  const out: DigestLine[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const [capture, table, rows, digest] = line.split('\t');
    if (digest === undefined) throw new Error(`not a digest line: ${line}`);
    out.push({ capture, table, rows: Number(rows), digest });
  }
  return out;
}

/**
 * The differences between a record and a run, one line each, over the captures of the run
 * (a record may hold more captures than one run digests: those are left alone, and counted).
 */
export function compareDigests(recorded: DigestLine[], now: DigestLine[]): { differences: string[]; notRun: number } {
  const key = (l: DigestLine) => `${l.capture}\t${l.table}`;
  const before = new Map(recorded.map((l) => [key(l), l]));
  const after = new Map(now.map((l) => [key(l), l]));
  const ran = new Set(now.map((l) => l.capture));
  const what = (table: string) => (table === FILE_LINE ? 'bytes' : table === EXIT_LINE ? 'exit code' : 'rows');
  const differences: string[] = [];
  for (const k of [...new Set([...before.keys(), ...after.keys()])].sort(cmp)) {
    const b = before.get(k);
    const a = after.get(k);
    if (b !== undefined && !ran.has(b.capture)) continue;
    const [capture, table] = k.split('\t');
    if (b === undefined) differences.push(`${capture}\t${table}\tnew: ${what(table)} ${a!.rows} ${a!.digest}`);
    else if (a === undefined) differences.push(`${capture}\t${table}\tgone: ${what(table)} ${b.rows} ${b.digest}`);
    else if (a.rows !== b.rows || a.digest !== b.digest) {
      const note = table === FILE_LINE ? ' (the capture file itself changed)' : a.rows === b.rows ? ' (same count, other rows)' : '';
      differences.push(`${capture}\t${table}\t${what(table)} ${b.rows} -> ${a.rows}, ${b.digest} -> ${a.digest}${note}`);
    }
  }
  const notRun = new Set(recorded.filter((l) => !ran.has(l.capture)).map((l) => l.capture)).size;
  return { differences, notRun };
}

interface Options {
  write?: string;
  check?: string;
  benchMix?: number;
  quiet: boolean;
  /** Print the rows that are hashed instead of the digests (to diff two runs row by row). */
  rows: boolean;
  inputs: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quiet: false, rows: false, inputs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--write') o.write = value();
    else if (a === '--check') o.check = value();
    else if (a === '--bench-mix') {
      o.benchMix = Number(value());
      if (!(o.benchMix > 0)) throw new Error('--bench-mix needs a scale above 0, e.g. 0.2');
    } else if (a === '--quiet' || a === '-q') o.quiet = true;
    else if (a === '--rows') o.rows = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run digest -- [--write FILE | --check FILE] [--bench-mix SCALE] [--rows] [-q] [CAPTURE|DIR...]\n(see docs/digests.md)\n');
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else o.inputs.push(a);
  }
  if (o.write !== undefined && o.check !== undefined) throw new Error('--write or --check, not both');
  if (o.rows && (o.write !== undefined || o.check !== undefined)) throw new Error('--rows prints rows; it does not go with --write or --check');
  return o;
}

/** A path on the command line as seen from the repository (the same on every checkout when it is in it or beside it). */
function shown(p: string, cwd: string): string {
  return relative(repoRoot, resolve(cwd, p)).split(sep).join('/') || '.';
}

/** Comment lines at the head of a record: what it is and how to make it again. */
function header(o: Options, cwd: string, mix: { file: string; sha256: string; packets: number } | null): string[] {
  const lines = [
    '# tcpstate digests: <capture>\\t<table>\\t<rows>\\t<sha256[:12] of the rows>; (file): bytes and hash of the capture file, (exit): exit code of analyze.',
    '# Left out of the hashes: surrogate ids (id, capture_id; flow_id is replaced by the flow\'s flow_index) and captures.path. See docs/digests.md.',
    `# Regenerate (in the repository): npm run digest -- --write ${shown(o.write!, cwd)}${o.benchMix !== undefined ? ` --bench-mix ${o.benchMix}` : ''}${o.inputs.map((a) => ` ${shown(a, cwd)}`).join('')}` +
      (o.inputs.length === 0 && o.benchMix === undefined ? '   (no captures named: samples/, shared/oracle/zeek/traces, shared/corpus/{formats,malformed})' : ''),
  ];
  if (mix !== null) {
    lines.push(
      `# The bench mix is generated, not committed: node dist/scripts/bench.js --generate ${mix.file} --scale ${o.benchMix} writes the same file`,
      `# (seed ${DEFAULT_MIX.seed}, ${DEFAULT_MIX.floodSyns} flood SYNs, IPv4; ${mix.packets} packets, sha256 ${mix.sha256}).`,
    );
  }
  return lines;
}

async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  // npm run starts scripts in the package's folder; paths on the command line are the user's.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const tmp = mkdtempSync(join(tmpdir(), 'tcpstate-digest-'));
  const t0 = performance.now();
  const log = (s: string) => {
    if (!o.quiet) process.stderr.write(s);
  };
  let mix: { file: string; sha256: string; packets: number } | null = null;
  try {
    const captures = o.inputs.length > 0 || o.benchMix !== undefined ? expandInputs(o.inputs, cwd) : expandInputs(defaultInputs(), cwd);
    if (o.benchMix !== undefined) {
      const file = join(tmp, `bench-mix-${o.benchMix}.pcap`);
      log(`digest: writing the bench mix at scale ${o.benchMix}...\n`);
      const stats = writeMix(file, { ...DEFAULT_MIX, scale: o.benchMix, hash: true });
      mix = { file: basename(file), sha256: stats.sha256 ?? '', packets: stats.packets };
      captures.push(describeCapture(file));
    }
    if (captures.length === 0) throw new Error(`no captures in ${o.inputs.join(', ')}`);
    const lines: DigestLine[] = [];
    for (const [i, c] of captures.entries()) {
      const t = performance.now();
      lines.push(...(await digestCapture(c, tmp, o.rows ? (l) => process.stdout.write(`${l}\n`) : undefined)));
      const ms = performance.now() - t;
      if (!o.quiet && (process.stderr.isTTY || ms > 2000 || i + 1 === captures.length)) {
        log(`${process.stderr.isTTY ? '\r\x1b[K' : ''}digest: [${i + 1}/${captures.length}] ${c.label} (${(ms / 1000).toFixed(1)} s)${process.stderr.isTTY && i + 1 < captures.length ? '' : '\n'}`);
      }
    }
    if (o.rows) return 0;
    const sorted = sortLines(lines);
    log(`digest: ${captures.length} captures, ${sorted.length} lines in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    if (o.write !== undefined) {
      const out = resolve(cwd, o.write);
      writeFileSync(out, [...header(o, cwd, mix), ...sorted.map(formatLine)].join('\n') + '\n');
      log(`digest: wrote ${o.write}\n`);
      return 0;
    }
    if (o.check !== undefined) {
      const recorded = parseDigests(readFileSync(resolve(cwd, o.check), 'utf8'));
      const { differences, notRun } = compareDigests(recorded, sorted);
      if (notRun > 0) log(`digest: ${notRun} captures of ${o.check} not digested in this run (not compared)\n`);
      if (differences.length === 0) {
        process.stdout.write(`digest: same as ${o.check} (${captures.length} captures)\n`);
        return 0;
      }
      const changed = new Set(differences.map((d) => d.split('\t')[0])).size;
      process.stdout.write(`${differences.join('\n')}\ndigest: ${differences.length} differences in ${changed} captures from ${o.check}\n`);
      return 1;
    }
    process.stdout.write(sorted.map(formatLine).join('\n') + '\n');
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      process.stderr.write(`digest: ${e.message}\n`);
      process.exitCode = 2;
    },
  );
}
