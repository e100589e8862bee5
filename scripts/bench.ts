/**
 * npm run bench: how fast and how lean `tcpstate analyze` is on a capture like a post-mortem's
 * (issue #8), next to tshark and tcptrace when they are installed, and on a flood of spoofed
 * SYNs (issue #6).
 *
 * A deterministic generator (scripts/bench-capture.ts) writes a pcap of about 2M packets and
 * 150k connections: short request/response connections, lossy bulk transfers, a SYN flood.
 * Every measurement runs in its own process, so its peak resident memory (maxRSS) is its own:
 *   - a bare record walk in JS (read in large chunks, hop the record headers, count),
 *   - tcpstate's reader alone (readCapture with a callback that only counts),
 *   - `tcpstate analyze --db X.db --json` (everything on: state machines, Zeek emulation,
 *     sequence analysis, detectors, SQLite),
 *   - its two halves apart: the analysis writing nothing, and the rows it wrote inserted again
 *     into an empty database with nothing else to do (the floor of the writing: no program that
 *     writes this database here is faster than that),
 *   - `tshark -r FILE -q -z conv,tcp` and `tcptrace -n FILE`, under /usr/bin/time for their peak
 *     memory (without GNU time: wall time only).
 * Then the same analysis on a capture 5 times longer (same traffic, same concurrency) for the
 * growth of peak memory, a flood of 1M spoofed SYNs, 200,000 connections left open (what a live
 * connection costs), and four captures analysed with -j 1 and -j 2.
 * Targets are printed beside the figures (PASS/MISS); the exit code is 0 regardless.
 *
 *   node dist/scripts/bench.js [--scale 1] [--long 5] [--flood 1000000] [--idle 200000] [--batch 4] [--no-tools]
 *                              [--flood-in-mix 150000] [--seed 8] [--ipv6] [--dir DIR] [--keep]
 *                              [--rss-limit 4096] [--time-limit 180] [--runs 3] [--capture FILE]
 *   node dist/scripts/bench.js --generate FILE [--scale S] [--flood-in-mix N]   only write the capture
 *   node dist/scripts/bench.js --syn-flood N      only the flood of N spoofed SYNs
 *   node dist/scripts/bench.js --batch N --only   only the batch of N captures
 * `--capture FILE` measures that capture instead of the generated mix (and no longer one); `--runs N`
 * is how many turns the analysis alone and tcptrace take, alternated (the best of each is compared).
 * `--long 0`, `--flood 0`, `--idle 0`, `--batch 0` leave that part out. `--ipv6` writes the mix (and the
 * longer one, and the batch's) with IPv6 headers: the same traffic from 2001:db8::a.b.c.d. A child of ours that passes
 * --rss-limit MB of resident memory or runs longer than --time-limit seconds is stopped, and its
 * targets judged on what was seen by then (a miss when that is already past the goal).
 */
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RowValue } from '../src/sink/sqlite.js';
import { DEFAULT_MIX, writeFlood, writeIdle, writeMix, type CaptureStats } from './bench-capture.js';

const self = fileURLToPath(import.meta.url);
const binTcpstate = fileURLToPath(new URL('../../bin/tcpstate.js', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Children: each prints one line of JSON on stdout.

interface ChildReport {
  /** Time of the work itself, inside the process (no start-up), ms. */
  ms: number;
  maxRssMb: number;
  packets: number;
  flows?: number;
  /** Rows inserted (the floor of the writing). */
  rows?: number;
  /** Time spent in garbage collection during the work, ms (PerformanceObserver 'gc' entries). */
  gcMs?: number;
}

/** Sum the durations of the garbage collections from now on; read the total with the returned function. */
async function gcClock(): Promise<() => number> {
  const { PerformanceObserver } = await import('node:perf_hooks');
  let ms = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) ms += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
  return () => {
    // Entries are delivered asynchronously: take the ones queued so far, then stop.
    for (const e of obs.takeRecords()) ms += e.duration;
    obs.disconnect();
    return ms;
  };
}

/** Read the file in 4 MB chunks and hop from record header to record header: the floor for any reader in JS. */
function bareWalk(file: string): ChildReport {
  const t0 = performance.now();
  const fd = openSync(file, 'r');
  const CHUNK = 4 << 20;
  const buf = Buffer.allocUnsafe(CHUNK + 262144 + 16);
  let have = 0;
  let o = 24; // the pcap file header
  let packets = 0;
  for (;;) {
    const n = readSync(fd, buf, have, CHUNK, null);
    if (n === 0) break;
    have += n;
    while (o + 16 <= have) {
      const incl = buf.readUInt32LE(o + 8);
      if (o + 16 + incl > have) break;
      packets++;
      o += 16 + incl;
    }
    buf.copyWithin(0, o, have);
    have -= o;
    o = 0;
  }
  closeSync(fd);
  return { ms: performance.now() - t0, maxRssMb: process.resourceUsage().maxRSS / 1024, packets };
}

async function readerAlone(file: string): Promise<ChildReport> {
  const { openSource, readCapture } = await import('../src/reader/index.js');
  const t0 = performance.now();
  let packets = 0;
  const outcome = await readCapture(openSource(file), () => {
    packets++;
  });
  if (outcome.error !== null) throw new Error(outcome.error.message);
  return { ms: performance.now() - t0, maxRssMb: process.resourceUsage().maxRSS / 1024, packets };
}

/** `tcpstate analyze --db DB --json FILE` through run(), as bin/tcpstate.js does. */
async function analyze(file: string, db: string): Promise<ChildReport> {
  const { run } = await import('../src/cli/main.js');
  let out = '';
  const io = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => process.stderr.write(s) },
    stdin: process.stdin,
    env: {},
    cwd: process.cwd(),
    onInterrupt: () => () => undefined,
  };
  const t0 = performance.now();
  const code = await run(['analyze', '--json', '--db', db, file], io);
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`analyze exited ${code}`);
  const [summary] = JSON.parse(out) as Array<{ packets: number; flows: number }>;
  return { ms, maxRssMb: process.resourceUsage().maxRSS / 1024, packets: summary.packets, flows: summary.flows };
}

/** analyzeCapture with every tracker and detector on and nothing written: the analysis's share of `analyze`. */
async function analysisAlone(file: string): Promise<ChildReport> {
  const { analyzeCapture } = await import('../src/pipeline.js');
  const { openSource } = await import('../src/reader/index.js');
  const { boundHeapGrowth } = await import('../src/cli/heap.js');
  boundHeapGrowth(); // as analyze does
  const gc = await gcClock();
  const t0 = performance.now();
  // Receivers as analyze has (without one, Zeek's rows would pile up for finish() to return).
  const drop = () => undefined;
  const s = await analyzeCapture(file, openSource(file), { onFlowEnd: drop, onFinding: drop, onZeekConn: drop });
  const ms = performance.now() - t0;
  return { ms, maxRssMb: process.resourceUsage().maxRSS / 1024, packets: s.packets, flows: s.flows, gcMs: gc() };
}

/** The tables that grow with the capture: what `analyze` writes row by row. */
/** The tables that hold the rows (the documented names are views over them). */
const BIG_TABLES = ['flow_data', 'path_steps', 'anomaly_data', 'zeek_conn_data'];

/**
 * The floor of the database's part: the rows `analyze` wrote to DB, read back into memory
 * first, then inserted into an empty database of the same tables the way the sink inserts them
 * (RowBuffer: 32 rows to a statement), with no secondary index, no journal, no sync. Only the inserts
 * are timed: no analysis, no thread, no index build, no commit to a journal.
 */
async function loadFloor(db: string): Promise<ChildReport> {
  // Loaded here, not at the top: the other children stay as lean as they were.
  const { default: Database } = await import('better-sqlite3');
  const { RowBuffer } = await import('../src/sink/sqlite.js');
  const src = new Database(db, { readonly: true });
  const dest = join(dirname(db), 'floor.db');
  rmSync(dest, { force: true });
  const out = new Database(dest);
  out.pragma('journal_mode = OFF');
  out.pragma('synchronous = OFF');
  out.pragma('foreign_keys = OFF'); // better-sqlite3 turns them on; the rows are whole already
  // Every table (the big ones name the others in REFERENCES), no index.
  for (const sql of src.prepare("SELECT sql FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]) out.exec(sql);
  const tables = BIG_TABLES.map((name) => ({ name, rows: src.prepare(`SELECT * FROM ${name}`).raw().all() as RowValue[][] }));
  src.close();
  let rows = 0;
  const t0 = performance.now();
  out.exec('BEGIN');
  // The sink's own multi-row inserts (RowBuffer), for every table.
  for (const { name, rows: all } of tables) {
    if (all.length === 0) continue;
    const width = all[0].length;
    const buffer = new RowBuffer(out, `INSERT INTO ${name}`, width);
    const values = buffer.row;
    for (const r of all) {
      const at = buffer.slot();
      for (let c = 0; c < width; c++) values[at + c] = r[c];
    }
    buffer.flush();
    rows += all.length;
  }
  out.exec('COMMIT');
  const ms = performance.now() - t0;
  // The floor counts only if every row went in once.
  for (const { name, rows: all } of tables) {
    const n = out.prepare(`SELECT count(*) FROM ${name}`).pluck().get() as number;
    if (n !== all.length) throw new Error(`floor: ${name} has ${n} rows, ${all.length} were read`);
  }
  out.close();
  rmSync(dest, { force: true });
  return { ms, maxRssMb: process.resourceUsage().maxRSS / 1024, packets: 0, rows };
}

async function child(args: string[]): Promise<void> {
  const [what, file, db] = args;
  const r =
    what === 'walk' ? bareWalk(file)
    : what === 'reader' ? await readerAlone(file)
    : what === 'analysis' ? await analysisAlone(file)
    : what === 'load' ? await loadFloor(file)
    : await analyze(file, db);
  process.stdout.write(JSON.stringify(r) + '\n');
}

// ---------------------------------------------------------------------------------------------
// The parent: runs the children and the other tools, measures them.

interface Measured {
  label: string;
  /** Wall time of the whole process (start-up included), s. */
  wallS: number;
  /** Time of the work inside the process, s (our own children only). */
  innerS: number | null;
  rssMb: number | null;
  packets: number | null;
  flows: number | null;
  rows: number | null;
  gcMs: number | null;
  /** Why the figures are missing or partial. */
  note: string | null;
}

function vmRssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

interface Limits {
  rssMb: number;
  seconds: number;
}

/**
 * One of our children. A child that passes the memory or the time limit is stopped, and one that
 * fails is reported with the last line of its error: then its figures are what was seen until then.
 */
function runChild(label: string, args: string[], limits: Limits): Promise<Measured> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [self, '--child', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let stopped: string | null = null;
    let seenMb = 0;
    p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-20000)));
    const watch = setInterval(() => {
      const mb = vmRssMb(p.pid ?? -1);
      if (mb !== null) seenMb = Math.max(seenMb, mb);
      const s = (performance.now() - t0) / 1000;
      if (stopped !== null) return;
      if (mb !== null && mb > limits.rssMb) stopped = `stopped: resident memory passed ${int(limits.rssMb)} MB after ${s.toFixed(0)} s`;
      else if (s > limits.seconds) stopped = `stopped after ${limits.seconds} s`;
      if (stopped !== null) p.kill('SIGKILL');
    }, 100);
    p.on('close', (code, signal) => {
      clearInterval(watch);
      const wallS = (performance.now() - t0) / 1000;
      const line = out.trim().split('\n').pop() ?? '';
      if (stopped !== null || code !== 0 || line === '') {
        const lines = err.split('\n').map((l) => l.trim()).filter((l) => l !== '');
        const why = lines.find((l) => l.startsWith('FATAL ERROR')) ?? lines.find((l) => /Error/.test(l)) ?? lines.pop() ?? '';
        const note = stopped ?? `${signal !== null ? `killed by ${signal}` : `exited ${code}`} after ${wallS.toFixed(0)} s${why === '' ? '' : `: ${why}`}`;
        resolve({ label, wallS, innerS: null, rssMb: seenMb || null, packets: null, flows: null, rows: null, gcMs: null, note });
        return;
      }
      if (err.trim() !== '') process.stderr.write(err);
      const r = JSON.parse(line) as ChildReport;
      resolve({ label, wallS, innerS: r.ms / 1000, rssMb: r.maxRssMb, packets: r.packets, flows: r.flows ?? null, rows: r.rows ?? null, gcMs: r.gcMs ?? null, note: null });
    });
  });
}

/** The fastest of `n` runs (for the short ones, where a blip would count). */
async function best(n: number, label: string, args: string[], limits: Limits): Promise<Measured> {
  let b: Measured | null = null;
  for (let i = 0; i < n; i++) {
    const m = await runChild(label, args, limits);
    if (m.note !== null) return m;
    if (b === null || (m.innerS ?? m.wallS) < (b.innerS ?? b.wallS)) b = m;
  }
  return { ...b!, label: `${label} (best of ${n})` };
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return null;
}

/** GNU time, for another program's peak memory (Node cannot read a child's rusage). */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/** Another tool, its output to a file; its wall time, and its peak RSS when GNU time is there. */
function runTool(label: string, cmd: string, args: string[], outFile: string): Promise<Measured & { out: string }> {
  return new Promise((resolve) => {
    const timeFile = outFile + '.time';
    const fd = openSync(outFile, 'w');
    const argv = GNU_TIME !== null ? [GNU_TIME, '-f', '%e %M', '-o', timeFile, cmd, ...args] : [cmd, ...args];
    const t0 = performance.now();
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, 'pipe'] });
    let err = '';
    p.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
    p.on('close', (code) => {
      const wallS = (performance.now() - t0) / 1000;
      closeSync(fd);
      let rssMb: number | null = null;
      if (GNU_TIME !== null) {
        const m = /(\d+(?:\.\d+)?) (\d+)\s*$/.exec(readFileSync(timeFile, 'utf8'));
        if (m) rssMb = Number(m[2]) / 1024;
      }
      const out = readFileSync(outFile, 'utf8');
      const note = code !== 0 ? `exited ${code}: ${err.trim().split('\n').slice(-1)[0] ?? ''}` : GNU_TIME === null ? 'no /usr/bin/time: peak RSS unknown' : null;
      resolve({ label, wallS, innerS: null, rssMb, packets: null, flows: null, rows: null, gcMs: null, note, out });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Printing.

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mbOf = (bytes: number) => bytes / 2 ** 20;

function row(m: Measured, packets: number, bytes: number): string {
  const s = m.wallS;
  // Rates only for a run that got to the end.
  const done = packets > 0 && (m.note === null || m.note.startsWith('no /usr/bin/time'));
  const cells = [
    m.label.padEnd(34),
    s.toFixed(2).padStart(8),
    (m.innerS === null ? '' : m.innerS.toFixed(2)).padStart(8),
    (done ? int(packets / s) : '-').padStart(11),
    (done ? mbOf(bytes / s).toFixed(0) : '-').padStart(7),
    (m.rssMb === null ? 'n/a' : int(m.rssMb)).padStart(9),
  ];
  return cells.join(' ') + (m.note ? `  (${m.note})` : '');
}
const HEADER = `${'program'.padEnd(34)} ${'wall s'.padStart(8)} ${'work s'.padStart(8)} ${'packets/s'.padStart(11)} ${'MB/s'.padStart(7)} ${'peak RSS MB'.padStart(9)}`;

const verdicts: string[] = [];
function target(what: string, measured: string, goal: string, pass: boolean | null): void {
  const v = pass === null ? 'n/a' : pass ? 'PASS' : 'MISS';
  verdicts.push(`${what.padEnd(46)} ${measured.padStart(12)}   ${goal.padEnd(10)} ${v}`);
}

function describe(stats: CaptureStats): string {
  return (
    `${int(stats.packets)} packets, ${int(mbOf(stats.bytes))} MB, ${stats.durationS} s of traffic: ${int(stats.connections)} connections ` +
    `(${int(stats.shortConnections)} short request/response, ${int(stats.bulkTransfers)} lossy bulk transfers with ${int(stats.retransmissions)} retransmissions), ` +
    `${int(stats.floodSyns)} spoofed SYNs; at most ${int(stats.peakConcurrent)} connections at once` +
    (stats.sha256 === null ? '' : `; sha256 ${stats.sha256}`)
  );
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, (performance.now() - t0) / 1000];
}

// ---------------------------------------------------------------------------------------------

interface Options {
  scale: number;
  long: number;
  flood: number;
  idle: number;
  floodInMix: number;
  batch: number;
  tools: boolean;
  dir: string | null;
  keep: boolean;
  seed: number;
  ipv6: boolean;
  /** A capture to measure instead of the generated mix. */
  capture: string | null;
  /** Turns each of the analysis alone and tcptrace take. */
  runs: number;
  limits: Limits;
}

function parse(args: string[]): Options {
  const num = (name: string, dflt: number) => {
    const i = args.indexOf(name);
    if (i < 0) return dflt;
    const v = Number(args[i + 1]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${name} wants a number, not ${args[i + 1]}`);
    return v;
  };
  const dirAt = args.indexOf('--dir');
  const captureAt = args.indexOf('--capture');
  return {
    scale: num('--scale', DEFAULT_MIX.scale),
    long: num('--long', 5),
    flood: num('--flood', 1_000_000),
    idle: num('--idle', 200_000),
    floodInMix: num('--flood-in-mix', DEFAULT_MIX.floodSyns),
    batch: num('--batch', 4),
    tools: !args.includes('--no-tools'),
    dir: dirAt >= 0 ? args[dirAt + 1] : null,
    keep: args.includes('--keep'),
    seed: num('--seed', DEFAULT_MIX.seed),
    ipv6: args.includes('--ipv6'),
    capture: captureAt >= 0 ? args[captureAt + 1] : null,
    runs: Math.max(1, Math.floor(num('--runs', 3))),
    limits: { rssMb: num('--rss-limit', 4096), seconds: num('--time-limit', 180) },
  };
}

async function mixed(o: Options, dir: string): Promise<void> {
  let capture: string;
  let packets: number;
  let bytes: number;
  if (o.capture !== null) {
    // A capture of the user's (say one made between two kernels: scripts/kernel/make-bench-capture.sh).
    capture = o.capture;
    bytes = statSync(capture).size;
    const counted = await runChild('count', ['reader', capture], o.limits);
    if (counted.packets === null) throw new Error(`cannot read ${capture}: ${counted.note ?? 'no packets'}`);
    packets = counted.packets;
    console.log(`capture ${capture}: ${int(packets)} packets, ${int(mbOf(bytes))} MB`);
  } else {
    capture = join(dir, 'mix.pcap');
    const [stats, genS] = timed(() => writeMix(capture, { scale: o.scale, floodSyns: o.floodInMix, seed: o.seed, ipv6: o.ipv6 }));
    ({ packets, bytes } = stats);
    console.log(`capture${o.ipv6 ? " over IPv6" : ""} (written in ${genS.toFixed(1)} s): ${describe(stats)}`);
  }
  console.log('');
  console.log(HEADER);
  await runChild('warm-up', ['walk', capture], o.limits); // the same page cache for everyone
  const walk = await best(3, 'bare record walk (JS)', ['walk', capture], o.limits);
  console.log(row(walk, packets, bytes));
  const reader = await best(3, 'tcpstate reader alone', ['reader', capture], o.limits);
  console.log(row(reader, packets, bytes));
  const db = join(dir, 'mix.db');
  const ours = await runChild('tcpstate analyze --db (SQLite)', ['analyze', capture, db], o.limits);
  console.log(row(ours, packets, bytes));
  const load = ours.note === null ? await runChild('  its rows alone, into SQLite', ['load', db], o.limits) : null;
  // Rates per packet mean nothing here: the rows were read back before the clock started.
  if (load !== null) console.log(row(load, 0, 0) + (load.rows === null ? '' : `  (${int(load.rows)} rows; work s: the inserts)`));
  const dbBytes = ours.note === null && existsSync(db) ? statSync(db).size : null;
  if (dbBytes !== null) console.log(`database: ${(dbBytes / 1e6).toFixed(1)} MB, ${(dbBytes / bytes).toFixed(2)}x the capture's ${(bytes / 1e6).toFixed(1)} MB`);
  rmSync(db, { force: true });

  let tshark: (Measured & { out: string }) | null = null;
  let tcptrace: (Measured & { out: string }) | null = null;
  const missing: string[] = [];
  const tcptraceBin = o.tools ? onPath('tcptrace') : null;
  if (o.tools && tcptraceBin === null) missing.push('tcptrace');
  // The analysis alone and tcptrace take turns, `--runs` times each, so that a busy spell of this
  // shared machine falls on both; the best run of each is compared.
  let alone: Measured | null = null;
  for (let i = 0; i < o.runs; i++) {
    const a = await runChild('  its analysis alone (no db)', ['analysis', capture], o.limits);
    if (alone === null || (a.note === null && (alone.note !== null || a.wallS < alone.wallS))) alone = a;
    if (tcptraceBin !== null) {
      const t = await runTool('tcptrace -n', tcptraceBin, ['-n', capture], join(dir, 'tcptrace.out'));
      if (tcptrace === null || (t.note === null && (tcptrace.note !== null || t.wallS < tcptrace.wallS))) tcptrace = t;
    }
  }
  const runs = o.runs > 1 ? ` (best of ${o.runs})` : '';
  alone = { ...alone!, label: alone!.label + runs };
  console.log(row(alone, packets, bytes));
  if (tcptrace !== null) {
    tcptrace = { ...tcptrace, label: tcptrace.label + runs };
    console.log(row(tcptrace, packets, bytes));
  }
  if (o.runs > 1) console.log(`  (the analysis alone and tcptrace ran ${o.runs} times each, taking turns)`);
  for (const m of [walk, reader, ours, alone]) if (m.packets !== null && m.packets !== packets) console.log(`  !! ${m.label} counted ${m.packets} packets of ${packets}`);
  if (o.tools) {
    const tsharkBin = onPath('tshark');
    if (tsharkBin !== null) {
      tshark = await runTool('tshark -q -z conv,tcp', tsharkBin, ['-r', capture, '-q', '-z', 'conv,tcp'], join(dir, 'tshark.out'));
      console.log(row(tshark, packets, bytes));
    } else missing.push('tshark');
  }
  if (missing.length > 0) console.log(`(${missing.join(' and ')} not on PATH: not compared)`);
  const conns: string[] = [];
  if (ours.flows !== null) conns.push(`tcpstate ${int(ours.flows)} flows`);
  if (tshark !== null) conns.push(`tshark ${int(tshark.out.split('\n').filter((l) => l.includes('<->')).length)} conversations`);
  if (tcptrace !== null) conns.push(`tcptrace ${int(tcptrace.out.split('\n').filter((l) => /^\s*\d+: /.test(l)).length)} connections`);
  if (conns.length > 0) console.log(`connections seen: ${conns.join(', ')}`);
  console.log(`wall s: the whole process, start-up included; work s: inside it, from opening the capture to the end`);

  // A run of ours stopped early took at least its wall time and used at least the memory seen.
  const ok = ours.note === null;
  const at = ok ? '' : '> ';
  const below = ok ? '' : '< ';
  if (tcptrace !== null && tcptrace.note === null) {
    const r = ours.wallS / tcptrace.wallS;
    target('tcpstate / tcptrace wall time', `${at}${r.toFixed(2)}`, '< 1.0', ok ? r < 1 : r >= 1 ? false : null);
  } else target('tcpstate / tcptrace wall time', 'n/a', '< 1.0', null);
  if (tshark !== null && tshark.note === null) {
    const r = tshark.wallS / ours.wallS;
    target('tshark / tcpstate wall time', `${below}${r.toFixed(2)}`, '>= 8', ok ? r >= 8 : r < 8 ? false : null);
  } else target('tshark / tcpstate wall time', 'n/a', '>= 8', null);
  if (alone.note === null && tcptrace !== null && tcptrace.note === null) {
    const r = alone.wallS / tcptrace.wallS;
    target('analysis alone / tcptrace wall time', r.toFixed(2), '<= 0.5', r <= 0.5);
  } else target('analysis alone / tcptrace wall time', alone.note === null ? 'n/a' : 'failed', '<= 0.5', alone.note === null ? null : false);
  if (alone.note === null && alone.gcMs !== null && alone.innerS !== null) {
    const share = (100 * alone.gcMs) / 1000 / alone.innerS;
    console.log(`garbage collection: ${(alone.gcMs / 1000).toFixed(2)} s of the analysis's ${alone.innerS.toFixed(2)} s`);
    target('garbage collection / analysis time', `${share.toFixed(1)}%`, '< 5%', share < 5);
  } else target('garbage collection / analysis time', 'n/a', '< 5%', null);
  target('database / capture size', dbBytes === null ? 'n/a' : (dbBytes / bytes).toFixed(2), '<= 0.35', dbBytes === null ? null : dbBytes / bytes <= 0.35);
  const rss = ours.rssMb;
  target('tcpstate analyze peak RSS', rss === null ? 'n/a' : `${at}${int(rss)} MB`, '<= 200 MB', rss === null ? null : ok ? rss <= 200 : rss > 200 ? false : null);
  // What no program that writes this database can beat on this machine: the bare insert of its rows.
  if (load !== null && load.innerS !== null) {
    const floor = load.innerS;
    const vs: string[] = [];
    if (tcptrace !== null && tcptrace.note === null) vs.push(`${(floor / tcptrace.wallS).toFixed(2)}x tcptrace's whole run`);
    if (tshark !== null && tshark.note === null) vs.push(`${(floor / (tshark.wallS / 8)).toFixed(2)}x an eighth of tshark's`);
    console.log(`floor: inserting the database's rows alone takes ${floor.toFixed(2)} s${vs.length > 0 ? `, ${vs.join(' and ')}` : ''}`);
  }
  if (reader.innerS !== null && walk.innerS !== null) target('reader / bare record walk (work time)', (reader.innerS / walk.innerS).toFixed(2), '<= 2.0', reader.innerS / walk.innerS <= 2);
  else target('reader / bare record walk (work time)', 'n/a', '<= 2.0', null);
  if (!o.keep && o.capture === null) rmSync(capture, { force: true });

  if (o.long > 0 && o.capture === null) {
    console.log('');
    const longCapture = join(dir, 'long.pcap');
    const [longStats, longGenS] = timed(() => writeMix(longCapture, { scale: o.scale * o.long, floodSyns: o.floodInMix, seed: o.seed, ipv6: o.ipv6 }));
    console.log(`capture ${o.long} times longer (written in ${longGenS.toFixed(1)} s): ${describe(longStats)}`);
    console.log(HEADER);
    const long = await runChild('tcpstate analyze --db (SQLite)', ['analyze', longCapture, join(dir, 'long.db')], o.limits);
    console.log(row(long, longStats.packets, longStats.bytes));
    rmSync(join(dir, 'long.db'), { force: true });
    if (!o.keep) rmSync(longCapture, { force: true });
    const what = `peak RSS growth, capture ${o.long} times longer`;
    if (ok && ours.rssMb !== null && long.rssMb !== null) {
      const growth = (100 * (long.rssMb - ours.rssMb)) / ours.rssMb;
      const shown = `${long.note === null ? '' : '> '}${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%`;
      console.log(`peak RSS ${int(ours.rssMb)} MB -> ${long.note === null ? '' : 'more than '}${int(long.rssMb)} MB for ${o.long} times the capture: ${shown}`);
      // A run stopped early has grown at least that much: a miss if already past the goal, else unknown.
      target(what, shown, '< 10%', long.note === null ? growth < 10 : growth >= 10 ? false : null);
    } else target(what, 'n/a', '< 10%', null);
  }
}

async function flood(n: number, dir: string, o: Options): Promise<void> {
  const capture = join(dir, 'flood.pcap');
  const [w, genS] = timed(() => writeFlood(capture, n, o.seed));
  console.log(`SYN flood (written in ${genS.toFixed(1)} s): ${int(n)} SYNs, each from its own spoofed 10.x.y.z and port, to 192.0.2.80:80 at about 100,000 a second, ${int(mbOf(w.bytes))} MB`);
  console.log(HEADER);
  const r = await runChild('tcpstate analyze --db (SQLite)', ['analyze', capture, join(dir, 'flood.db')], o.limits);
  console.log(row(r, w.packets, w.bytes));
  rmSync(join(dir, 'flood.db'), { force: true });
  if (!o.keep) rmSync(capture, { force: true });
  const label = `${int(n)} spoofed SYNs: peak RSS`;
  const rss = r.rssMb;
  target(label, rss === null ? 'n/a' : `${r.note === null ? '' : '> '}${int(rss)} MB`, '<= 150 MB', rss === null ? null : r.note === null ? rss <= 150 : rss > 150 ? false : null);
}

/** Connections that stay open to the end: what one live connection costs (the memory issue's 200,000). */
async function idle(n: number, dir: string, o: Options): Promise<void> {
  const capture = join(dir, 'idle.pcap');
  const [w, genS] = timed(() => writeIdle(capture, n, o.seed));
  console.log(`open connections (written in ${genS.toFixed(1)} s): ${int(n)} connections that open, carry a request and a response, and never close, ${int(mbOf(w.bytes))} MB`);
  console.log(HEADER);
  const r = await runChild('tcpstate analyze --db (SQLite)', ['analyze', capture, join(dir, 'idle.db')], o.limits);
  console.log(row(r, w.packets, w.bytes));
  rmSync(join(dir, 'idle.db'), { force: true });
  if (!o.keep) rmSync(capture, { force: true });
  if (r.rssMb !== null) console.log(`peak RSS per open connection: ${int((r.rssMb * 1048576) / n)} B (the whole process's peak over ${int(n)})`);
}

/** Several captures in one run: one worker versus one per core. */
function batch(n: number, dir: string, o: Options): Promise<void> {
  const files: string[] = [];
  let packets = 0;
  for (let i = 0; i < n; i++) {
    files.push(join(dir, `batch-${i}.pcap`));
    packets = writeMix(files[i], { scale: 0.15, floodSyns: 0, seed: o.seed + 1 + i, ipv6: o.ipv6 }).packets;
  }
  const time = (jobs: number) =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const p = spawn(process.execPath, [binTcpstate, 'analyze', '-q', '-j', String(jobs), '--db', join(dir, `j${jobs}.db`), ...files], { stdio: 'inherit' });
      p.on('close', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`analyze -j ${jobs} exited ${code}`))));
    });
  return (async () => {
    const one = await time(1);
    const all = await time(2);
    console.log(`batch of ${n} captures of about ${int(packets)} packets: ${one.toFixed(2)} s with -j 1, ${all.toFixed(2)} s with -j 2 (${(one / all).toFixed(2)}x)`);
    for (const f of [...files, join(dir, 'j1.db'), join(dir, 'j2.db')]) rmSync(f, { force: true });
  })();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args.slice(1));
  const o = parse(args);
  const gen = args.indexOf('--generate');
  if (gen >= 0) {
    const stats = writeMix(args[gen + 1], { scale: o.scale, floodSyns: o.floodInMix, seed: o.seed, hash: true, ipv6: o.ipv6 });
    console.log(`${args[gen + 1]}: ${describe(stats)}`);
    return;
  }
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'tcpstate-bench-'));
  const started = performance.now();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`tcpstate bench: Node ${process.version}, ${availableParallelism()} cores (${cpu}), ${new Date().toISOString().slice(0, 10)}`);
  try {
    const floodOnly = args.indexOf('--syn-flood');
    if (floodOnly >= 0) {
      await flood(Number(args[floodOnly + 1] ?? 1_000_000), dir, o);
    } else if (args.includes('--only') && args.includes('--batch')) {
      await batch(o.batch, dir, o);
    } else {
      await mixed(o, dir);
      if (o.flood > 0) {
        console.log('');
        await flood(o.flood, dir, o);
      }
      if (o.idle > 0) {
        console.log('');
        await idle(o.idle, dir, o);
      }
      if (o.batch > 0) {
        console.log('');
        await batch(o.batch, dir, o);
      }
    }
    console.log('');
    if (verdicts.length > 0) {
      console.log(`${'target'.padEnd(46)} ${'measured'.padStart(12)}   ${'goal'.padEnd(10)}`);
      for (const v of verdicts) console.log(v);
    }
    console.log(`(benchmark run in ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    if (!o.keep && o.dir === null) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
