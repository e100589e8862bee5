/**
 * The fuzzer (issue 21): mutations of the samples and of the shared corpus run through the real
 * `tcpstate analyze`, checking what a hostile capture must never do to it.
 *
 *   node dist/scripts/fuzz.js [--cases N] [--seed N] [--case K] [--keep DIR] [--budget-ms MS] [--max-rss MB] [--corpus DIR]
 *
 * Each case takes one input (samples/, ../shared/corpus/formats and malformed, or --corpus DIR)
 * and applies one to three mutations, each chosen by a seeded generator (no Math.random), so that
 * `--seed S --case K` gives case K of a run again, byte for byte:
 *
 * - bytes: bit flips, bytes set to 0x00/0xff/0x7f/0x80, random bytes inserted, a cut (often at
 *   a record's edge, give or take a few bytes), the head of one input on the tail of another;
 * - lengths: a record's caplen or original length (pcap), a block's leading or trailing total
 *   length (pcapng), set to 0, a few bytes either side of the true value, the limits, 2^31...;
 * - blocks and records: one dropped, doubled, repeated up to 200 times, moved or swapped with the next;
 * - options: a pcapng option (SHB, IDB, EPB) with a chosen code and length, or a pcap header
 *   field (version, snaplen, link type, time zone);
 * - compression: the input wrapped in gzip or in hand-built zstd frames (raw and RLE blocks, a
 *   chosen window, single segment and content size, checksum on, off or wrong, several frames,
 *   skippable frames), then often damaged: flipped, cut, garbage after it.
 *
 * A case also picks analysis options (--verify-checksums, --stack rfc793, short timers, tiny
 * reassembly caps, --no-db-thread, --fail-on). Run in a worker thread with a heap ceiling, it
 * must: answer within --budget-ms (no hang), keep the process's RSS under --max-rss MB, exit
 * 0, 1 or 3 (never 4, an internal error), print no stack trace and nothing but `tcpstate: ` lines
 * on stderr, and print its JSON summary. A failing case's input is kept in --keep DIR (default a
 * temporary directory) with the command that replays it. Exits 1 if a case failed.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { gunzipSync, gzipSync } from 'node:zlib';
import { rawBlocks, skippableFrame, zstdFrame, type Block } from '../test/zstd-frames.js';
import type { FuzzAnswer, FuzzJob } from './fuzz-worker.js';

/** The repository root (this file runs from dist/scripts). */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Run only this case of the seed's sequence (0-based). */
  only?: number;
  /** Where failing inputs are kept. */
  keep?: string;
  /** A case answering later than this is a hang (ms). */
  budgetMs?: number;
  /** The process's resident memory must stay under this (MB). */
  maxRssMb?: number;
  /** Directories of inputs; default samples/ and the shared corpus. */
  inputs?: string[];
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface FuzzFailure {
  case: number;
  input: string;
  mutations: string[];
  options: string[];
  problem: string;
  /** Where the input was kept, and the command that runs this case again. */
  kept: string;
  replay: string;
}

export interface FuzzResult {
  cases: number;
  failures: FuzzFailure[];
  /** Cases by exit code. */
  exits: Record<number, number>;
  /** Mutations applied, by kind. */
  kinds: Record<string, number>;
  slowestMs: number;
  peakRssMb: number;
}

const HUNG = 'hung';
/** The heap a case may use in its worker (MB): a bound on everything the analysis keeps in objects. */
const WORKER_HEAP_MB = 384;
/** Inputs larger than this are left out: a case should take a fraction of a second. */
const MAX_INPUT = 256 * 1024;
/** The database is started afresh this often (it keeps each case's capture until the next replaces it). */
const DB_CASES = 64;
const DEFAULT_BUDGET_MS = 15_000;
const DEFAULT_MAX_RSS_MB = 1536;

/** mulberry32: a small seeded generator, the same numbers on every platform. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** 0 <= n < max. */
  int(max: number): number {
    return max <= 0 ? 0 : Math.floor((this.next() / 2 ** 32) * max);
  }

  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}

/** Case k of seed s: its own generator, so one case can be run alone. */
const caseRng = (seed: number, k: number) => new Rng(Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(k + 1, 0x85ebca6b));

interface Input {
  name: string;
  bytes: Buffer;
}

/** Capture-like files under `dirs` (the corpus's INDEX and README left out), at most MAX_INPUT bytes each, in name order. */
function loadInputs(dirs: string[]): Input[] {
  const out: Input[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !/\.(md|tsv|json|txt)$/i.test(e.name) && statSync(p).size <= MAX_INPUT) {
        out.push({ name: relative(repoRoot, p), bytes: readFileSync(p) });
      }
    }
  };
  for (const d of dirs) {
    try {
      if (statSync(d).isDirectory()) walk(d);
    } catch {
      // absent (no shared corpus beside the repository): the others will do
    }
  }
  return out;
}

export function defaultInputDirs(): string[] {
  const shared = resolve(process.env.TCPSTATE_SHARED ?? join(repoRoot, '..', 'shared'));
  return [join(repoRoot, 'samples'), join(shared, 'corpus', 'formats'), join(shared, 'corpus', 'malformed')];
}

/** A record or block: where it starts and ends, and where its length fields are. */
interface Span {
  start: number;
  end: number;
  /** Offsets of 32-bit length fields (pcap: caplen, origlen; pcapng: leading and trailing total length). */
  lengths: number[];
  /** pcapng: the block type. */
  type?: number;
  little: boolean;
}

/** The records of a pcap or the blocks of a pcapng, as far as they are consistent (none: neither). */
function spans(b: Buffer): { format: 'pcap' | 'pcapng' | null; header: number; little: boolean; list: Span[] } {
  if (b.length < 24) return { format: null, header: 0, little: true, list: [] };
  const m = b.readUInt32LE(0);
  const list: Span[] = [];
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d || m === 0xd4c3b2a1 || m === 0x4d3cb2a1) {
    const little = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
    const u32 = (o: number) => (little ? b.readUInt32LE(o) : b.readUInt32BE(o));
    for (let o = 24; o + 16 <= b.length; ) {
      const end = o + 16 + u32(o + 8);
      if (end > b.length) break;
      list.push({ start: o, end, lengths: [o + 8, o + 12], little });
      o = end;
    }
    return { format: 'pcap', header: 24, little, list };
  }
  if (m === 0x0a0d0d0a) {
    let little = true;
    for (let o = 0; o + 12 <= b.length; ) {
      const type = b.readUInt32LE(o) === 0x0a0d0d0a ? 0x0a0d0d0a : little ? b.readUInt32LE(o) : b.readUInt32BE(o);
      if (type === 0x0a0d0d0a) little = b.readUInt32LE(o + 8) === 0x1a2b3c4d;
      const len = little ? b.readUInt32LE(o + 4) : b.readUInt32BE(o + 4);
      if (len < 12 || len % 4 !== 0 || o + len > b.length) break;
      list.push({ start: o, end: o + len, lengths: [o + 4, o + len - 4], type, little });
      o += len;
    }
    return { format: 'pcapng', header: 0, little: true, list };
  }
  return { format: null, header: 0, little: true, list: [] };
}

function writeU32(b: Buffer, o: number, v: number, little: boolean): void {
  if (o < 0 || o + 4 > b.length) return;
  if (little) b.writeUInt32LE(v >>> 0, o);
  else b.writeUInt32BE(v >>> 0, o);
}

function writeU16(b: Buffer, o: number, v: number, little: boolean): void {
  if (o < 0 || o + 2 > b.length) return;
  if (little) b.writeUInt16LE(v & 0xffff, o);
  else b.writeUInt16BE(v & 0xffff, o);
}

/** 32-bit values a length field is tried with, around its true value `v`. */
function lengthValue(r: Rng, v: number): number {
  return r.pick([0, 1, 4, 11, 12, 13, v - 4, v - 1, v + 1, v + 3, v + 4, v * 2, 65535, 65536, 262144, 262145, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff, r.next()]);
}

type Mutator = (r: Rng, b: Buffer, inputs: Input[]) => { bytes: Buffer; what: string };

/** Where a byte mutation lands: mostly past the file header, which a flip there only makes unreadable. */
const anywhere = (r: Rng, length: number) => (length > 64 && r.chance(0.8) ? 32 + r.int(length - 32) : r.int(length));

const MUTATORS: Record<string, Mutator> = {
  flip(r, b) {
    const out = Buffer.from(b);
    const n = 1 + r.int(8);
    for (let i = 0; i < n && out.length > 0; i++) out[anywhere(r, out.length)] ^= 1 << r.int(8);
    return { bytes: out, what: `flip ${n} bit(s)` };
  },
  set(r, b) {
    const out = Buffer.from(b);
    const n = 1 + r.int(4);
    for (let i = 0; i < n && out.length > 0; i++) out[anywhere(r, out.length)] = r.pick([0x00, 0xff, 0x7f, 0x80]);
    return { bytes: out, what: `set ${n} byte(s)` };
  },
  insert(r, b) {
    const at = r.int(b.length + 1);
    const junk = Buffer.alloc(1 + r.int(64));
    for (let i = 0; i < junk.length; i++) junk[i] = r.int(256);
    return { bytes: Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]), what: `insert ${junk.length} byte(s) at ${at}` };
  },
  cut(r, b) {
    const s = spans(b).list;
    const at = s.length > 0 && r.chance(0.6) ? Math.max(0, Math.min(b.length, r.pick(s).end + r.int(9) - 4)) : r.int(b.length + 1);
    return { bytes: Buffer.from(b.subarray(0, at)), what: `cut at ${at}` };
  },
  splice(r, b, inputs) {
    const other = r.pick(inputs).bytes;
    const at = r.int(b.length + 1);
    const from = r.int(other.length + 1);
    return { bytes: Buffer.concat([b.subarray(0, at), other.subarray(from)]), what: `splice at ${at} from ${from} of another` };
  },
  length(r, b) {
    const out = Buffer.from(b);
    const s = spans(b).list;
    if (s.length === 0) {
      const o = r.int(Math.max(1, b.length - 3)) & ~3;
      writeU32(out, o, r.pick([0, 0xffffffff, 0x7fffffff, 0x10000]), true);
      return { bytes: out, what: `word at ${o}` };
    }
    const span = r.pick(s);
    const field = r.pick(span.lengths);
    const v = lengthValue(r, span.end - span.start);
    writeU32(out, field, v, span.little);
    return { bytes: out, what: `length at ${field} = ${v >>> 0}` };
  },
  block(r, b) {
    const { header, list } = spans(b);
    if (list.length === 0) return MUTATORS.flip(r, b, []);
    const pieces = [b.subarray(0, list[0].start)].concat(list.map((s) => b.subarray(s.start, s.end)));
    const tail = b.subarray(list[list.length - 1].end);
    const i = 1 + r.int(list.length);
    const op = r.pick(['drop', 'double', 'repeat', 'move', 'swap'] as const);
    if (op === 'drop') pieces.splice(i, 1);
    else if (op === 'double') pieces.splice(i, 0, pieces[i]);
    else if (op === 'repeat') pieces.splice(i, 0, ...new Array<Buffer>(2 + r.int(199)).fill(pieces[i]));
    else if (op === 'move') pieces.splice(1 + r.int(pieces.length - 1), 0, ...pieces.splice(i, 1));
    else if (i + 1 < pieces.length) [pieces[i], pieces[i + 1]] = [pieces[i + 1], pieces[i]];
    return { bytes: Buffer.concat([...pieces, tail]), what: `${op} ${header === 24 ? 'record' : 'block'} ${i}` };
  },
  option(r, b) {
    const out = Buffer.from(b);
    const { format, little, list } = spans(b);
    if (format === 'pcap') {
      // The file header's fields: version, time zone, snaplen, link type.
      const [o, size, name] = r.pick([[4, 2, 'major'], [6, 2, 'minor'], [8, 4, 'thiszone'], [16, 4, 'snaplen'], [20, 4, 'linktype']] as const);
      const v = r.pick([0, 1, 0xffff, 0xffffffff, 0x7fffffff, 262145, r.next()]);
      if (size === 2) writeU16(out, o, v, little);
      else writeU32(out, o, v, little);
      return { bytes: out, what: `pcap ${name} = ${size === 2 ? v & 0xffff : v >>> 0}` };
    }
    // pcapng: an option where the block's options begin (SHB after 24 bytes, IDB after 16, EPB after its packet).
    const withOptions = list.filter((s) => s.type === 0x0a0d0d0a || s.type === 1 || s.type === 6);
    if (withOptions.length === 0) return MUTATORS.set(r, b, []);
    const s = r.pick(withOptions);
    // An EPB's captured length (at +20) says where its packet ends; a block too short for it has its options nowhere.
    const caplen = s.start + 24 <= s.end ? (s.little ? out.readUInt32LE(s.start + 20) : out.readUInt32BE(s.start + 20)) : s.end;
    let at = s.type === 0x0a0d0d0a ? s.start + 24 : s.type === 1 ? s.start + 16 : s.start + 28 + ((caplen + 3) & ~3);
    if (at + 4 > s.end - 4) at = s.start + 8;
    const code = r.pick([0, 1, 2, 3, 4, 9, 10, 14, 0x8000, 0xffff, r.int(65536)]);
    const len = r.pick([0, 1, 4, 8, 9, 255, 0xfff0, 0xffff, r.int(65536)]);
    writeU16(out, at, code, s.little);
    writeU16(out, at + 2, len, s.little);
    if (r.chance(0.5) && at + 12 <= s.end - 4) writeU32(out, at + 4, r.next(), s.little);
    return { bytes: out, what: `option code ${code} length ${len} at ${at}` };
  },
  gzip(r, b) {
    const [how, z] = damage(r, gzipSync(b, { level: 1 + r.int(9) }));
    return { bytes: z, what: `gzip${how}` };
  },
  zstd(r, b) {
    const frames: Buffer[] = [];
    if (r.chance(0.2)) frames.push(skippableFrame(r.int(64)));
    const nFrames = r.chance(0.2) ? 2 : 1;
    const cut = nFrames === 2 ? r.int(b.length + 1) : b.length;
    const parts = nFrames === 2 ? [b.subarray(0, cut), b.subarray(cut)] : [b];
    const desc: string[] = [];
    for (const part of parts) {
      // Raw blocks of the content; a run of one byte as an RLE block now and then.
      const blocks: Block[] = rawBlocks(part, r.pick([64, 1024, 4096]));
      if (r.chance(0.3)) blocks.splice(r.int(blocks.length + 1), 0, { rle: r.int(256), size: 1 + r.int(4096) });
      const single = r.chance(0.3);
      const size = blocks.reduce((n, x) => n + ('raw' in x ? x.raw.length : x.size), 0);
      const opts = {
        windowDescriptor: r.pick([0x00, 0x08, 0x50, 0x58, 0x60, 0x88, r.int(256)]),
        singleSegment: single,
        contentSize: single || r.chance(0.3) ? (r.chance(0.8) ? size : r.pick([0, size + 1, 0xffffffff])) : undefined,
        checksum: r.chance(0.7),
        flipChecksum: r.chance(0.15) ? 1 << r.int(32) : 0,
      };
      desc.push(`w${opts.windowDescriptor}${single ? ' single' : ''}${opts.contentSize === undefined ? '' : ` size ${opts.contentSize}`}${opts.checksum ? (opts.flipChecksum ? ' bad-checksum' : ' checksum') : ''}`);
      frames.push(zstdFrame(blocks.length > 0 ? blocks : [{ raw: new Uint8Array(0) }], opts));
    }
    const [how, z] = damage(r, Buffer.concat(frames));
    return { bytes: z, what: `zstd ${desc.join(' + ')}${how}` };
  },
};

/** Compressed bytes, often damaged after: flipped, cut or followed by garbage. */
function damage(r: Rng, z: Buffer): [string, Buffer] {
  const k = r.int(5);
  if (k === 0 || z.length === 0) return ['', z];
  const out = Buffer.from(z);
  if (k === 1) {
    const at = r.int(out.length);
    out[at] ^= 1 << r.int(8);
    return [`, bit flipped at ${at}`, out];
  }
  if (k === 2) {
    const at = r.int(out.length);
    return [`, cut at ${at}`, out.subarray(0, at)];
  }
  if (k === 3) return [', garbage after', Buffer.concat([out, Buffer.from('garbage after the stream\n')])];
  return [`, trailer word ${out.length - 8}`, (writeU32(out, out.length - 8, r.next(), true), out)];
}

/** Analysis options a case runs with (one set each). */
const OPTION_SETS: string[][] = [
  [],
  [],
  ['--no-db-thread'],
  ['--verify-checksums'],
  ['--stack', 'rfc793'],
  ['--time-wait', '1ms', '--fin-timeout', '1ms', '--idle-timeout', '1s'],
  ['--frag-memory', '1', '--frag-datagrams', '1'],
  ['--close-wait', '1ms', '--unresponsive-after', '1ms', '--syn-flood-rate', '1', '--time-wait-pileup', '1'],
  ['--fail-on', 'retransmission>1%,connection_reset', '--no-db-thread'],
];

/** Mutations by weight: the structured ones more often than plain bytes. */
const KINDS = ['flip', 'set', 'insert', 'cut', 'splice', 'length', 'length', 'block', 'block', 'option', 'option', 'gzip', 'zstd'];

/** Case k: its input, mutations and options (all from its own generator). */
export function makeCase(seed: number, k: number, inputs: Input[]): { input: string; bytes: Buffer; mutations: string[]; kinds: string[]; options: string[] } {
  const r = caseRng(seed, k);
  const input = r.pick(inputs);
  let bytes = input.name.endsWith('.gz') ? gunzipOr(input.bytes) : input.bytes;
  const mutations: string[] = [];
  const kinds: string[] = [];
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    let kind = r.pick(KINDS);
    // Compression wraps what the other mutations made: last, once.
    if ((kind === 'gzip' || kind === 'zstd') && i < n - 1) kind = r.pick(['length', 'block', 'option']);
    const m = MUTATORS[kind](r, bytes, inputs);
    bytes = m.bytes;
    mutations.push(m.what);
    kinds.push(kind);
  }
  return { input: input.name, bytes, mutations, kinds, options: r.pick(OPTION_SETS) };
}

function gunzipOr(b: Buffer): Buffer {
  try {
    return gunzipSync(b);
  } catch {
    return b;
  }
}

/** What a case's answer breaks of the rules, or null. */
function judge(a: FuzzAnswer, budgetMs: number): string | null {
  if (a.thrown !== null) return `run() threw: ${a.thrown.split('\n')[0]}`;
  if (a.exit === 4) return `exit 4 (internal error): ${a.stderr.trim()}`;
  if (![0, 1, 3].includes(a.exit)) return `exit ${a.exit}: ${a.stderr.trim()}`;
  if (/\n\s+at /.test(a.stderr) || /internal error/.test(a.stderr)) return `stack trace or internal error on stderr: ${a.stderr.trim()}`;
  const stray = a.stderr.split('\n').filter((l) => l.length > 0 && !l.startsWith('tcpstate: '));
  if (stray.length > 0) return `stderr line not tcpstate's: ${stray[0]}`;
  if (a.ms > budgetMs) return `took ${Math.round(a.ms)} ms`;
  try {
    const s = JSON.parse(a.stdout) as unknown[];
    if (!Array.isArray(s) || s.length !== 1) return 'the JSON summary is not one capture';
  } catch {
    return `no JSON summary: ${a.stdout.slice(0, 200)}`;
  }
  return null;
}

/** Run the cases; resolves with what failed (an empty list: none). */
export async function fuzz(o: FuzzOptions): Promise<FuzzResult> {
  const budgetMs = o.budgetMs ?? DEFAULT_BUDGET_MS;
  const maxRssMb = o.maxRssMb ?? DEFAULT_MAX_RSS_MB;
  const inputs = loadInputs(o.inputs ?? defaultInputDirs());
  if (inputs.length === 0) throw new Error('no inputs to mutate (samples/ and the shared corpus missing?)');
  const work = mkdtempSync(join(tmpdir(), 'tcpstate-fuzz-'));
  const keep = o.keep ?? join(tmpdir(), 'tcpstate-fuzz-failures');
  const result: FuzzResult = { cases: 0, failures: [], exits: {}, kinds: {}, slowestMs: 0, peakRssMb: 0 };
  let worker: Worker | null = null;
  const replace = async () => {
    await worker?.terminate();
    worker = null;
  };
  /** One run of the CLI in the worker: its answer, or what went wrong (HUNG: no answer within the budget). */
  const attempt = (job: FuzzJob) =>
    new Promise<FuzzAnswer | string>((res) => {
      const w = (worker ??= new Worker(new URL('./fuzz-worker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } }));
      let peak = 0;
      const sample = setInterval(() => {
        const rss = process.memoryUsage.rss() / 2 ** 20;
        peak = Math.max(peak, rss);
        if (rss > maxRssMb) finish(`resident memory ${Math.round(rss)} MB, over ${maxRssMb} MB`);
      }, 25);
      const timer = setTimeout(() => finish(HUNG), budgetMs);
      const finish = (a: FuzzAnswer | string) => {
        clearInterval(sample);
        clearTimeout(timer);
        w.removeAllListeners('message');
        w.removeAllListeners('error');
        result.peakRssMb = Math.max(result.peakRssMb, peak, process.memoryUsage.rss() / 2 ** 20);
        res(a);
      };
      w.once('message', (a: FuzzAnswer) => finish(a));
      w.once('error', (e) => finish(`worker died: ${e.message}`));
      w.postMessage(job);
    });
  try {
    const first = o.only ?? 0;
    const last = o.only ?? o.cases - 1;
    for (let k = first; k <= last; k++) {
      const c = makeCase(o.seed, k, inputs);
      for (const kind of c.kinds) result.kinds[kind] = (result.kinds[kind] ?? 0) + 1;
      const file = join(work, `case.${c.kinds.includes('gzip') ? 'pcap.gz' : 'pcap'}`);
      writeFileSync(file, c.bytes);
      const db = join(work, `fuzz-${Math.floor(k / DB_CASES)}.db`);
      if (k % DB_CASES === 0) rmSync(join(work, `fuzz-${Math.floor(k / DB_CASES) - 1}.db`), { force: true });
      const job: FuzzJob = { argv: ['analyze', '--json', '--db', db, ...c.options, file] };
      let answer = await attempt(job);
      if (answer === HUNG) {
        // Once more in a fresh worker: a loaded machine can starve one run; a real hang hangs again.
        await replace();
        answer = await attempt(job);
        if (typeof answer !== 'string') o.log?.(`case ${k}: no answer within ${budgetMs} ms once, ${Math.round(answer.ms)} ms on the second try (a loaded machine?)`);
      }
      result.cases++;
      let problem: string | null;
      if (typeof answer === 'string') {
        problem = answer === HUNG ? `no answer within ${budgetMs} ms, twice (hang?)` : answer;
        // A hung or dead worker is replaced; its database may be half-written.
        await replace();
        rmSync(db, { force: true });
      } else {
        result.exits[answer.exit] = (result.exits[answer.exit] ?? 0) + 1;
        result.slowestMs = Math.max(result.slowestMs, answer.ms);
        problem = judge(answer, budgetMs);
      }
      if (problem !== null) {
        mkdirSync(keep, { recursive: true });
        const kept = join(keep, `seed-${o.seed}-case-${k}.${c.kinds.includes('gzip') ? 'pcap.gz' : 'pcap'}`);
        writeFileSync(kept, c.bytes);
        const failure: FuzzFailure = {
          case: k,
          input: c.input,
          mutations: c.mutations,
          options: c.options,
          problem: problem.length > 600 ? `${problem.slice(0, 600)}...` : problem,
          kept,
          replay: `node dist/scripts/fuzz.js --seed ${o.seed} --case ${k}   # or: tcpstate analyze ${c.options.join(' ')} ${kept}`.replace(/ +/g, ' '),
        };
        result.failures.push(failure);
        o.log?.(`FAIL case ${k}: ${c.input}: ${c.mutations.join('; ')}${c.options.length > 0 ? ` [${c.options.join(' ')}]` : ''}\n  ${failure.problem}\n  kept: ${kept}`);
      } else if (o.log !== undefined && (k + 1) % 100 === 0) o.log(`${k + 1} cases, ${result.failures.length} failed`);
    }
  } finally {
    await replace();
    rmSync(work, { recursive: true, force: true });
  }
  return result;
}

function parseArgs(argv: string[]): FuzzOptions {
  const o: FuzzOptions = { cases: 1000, seed: 1 };
  const number = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${name} takes a whole number, not ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--cases') o.cases = number(a, argv[++i]);
    else if (a === '--seed') o.seed = number(a, argv[++i]);
    else if (a === '--case') o.only = number(a, argv[++i]);
    else if (a === '--budget-ms') o.budgetMs = number(a, argv[++i]);
    else if (a === '--max-rss') o.maxRssMb = number(a, argv[++i]);
    else if (a === '--keep') o.keep = resolve(argv[++i] ?? '.');
    else if (a === '--corpus') (o.inputs ??= []).push(resolve(argv[++i] ?? '.'));
    else throw new Error(`unknown argument ${a}; usage: node dist/scripts/fuzz.js [--cases N] [--seed N] [--case K] [--keep DIR] [--budget-ms MS] [--max-rss MB] [--corpus DIR]`);
  }
  return o;
}

async function main(argv: string[]): Promise<number> {
  let o: FuzzOptions;
  try {
    o = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`fuzz: ${(e as Error).message}\n`);
    return 2;
  }
  const t0 = performance.now();
  const r = await fuzz({ ...o, log: (l) => process.stdout.write(`${l}\n`) });
  const exits = Object.entries(r.exits).map(([c, n]) => `${n} exit ${c}`).join(', ') || 'no exit';
  process.stdout.write(
    `${r.cases} cases (seed ${o.seed}) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${r.failures.length} failed; ${exits}; slowest ${Math.round(r.slowestMs)} ms; peak RSS ${Math.round(r.peakRssMb)} MB\n`,
  );
  return r.failures.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      process.stderr.write(`fuzz: ${e.stack ?? e.message}\n`);
      process.exitCode = 1;
    },
  );
}
