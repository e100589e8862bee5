/**
 * What the report commands read: a database made by `tcpstate analyze`, or a capture
 * that is analysed first (into --db, or a temporary database deleted afterwards).
 * Also the options they share: --capture NAME and --at TIME.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fsPath, printableLines, wellFormed } from '../reader/index.js';
import { DbError, TcpstateDb, isSqliteFile, type CaptureRow } from '../sink/read.js';
import { UsageError, analyzeCommand } from './analyze.js';
import { ExitCode } from './exit-codes.js';
import type { Io } from './io.js';

export interface InputOptions {
  /** Where to analyse a capture given as the argument (default: a temporary database). */
  db?: string;
  /** Which capture of a database holding several (its name as given to analyze, its path, or the file name). */
  capture?: string;
}

export interface Input {
  db: TcpstateDb;
  capture: CaptureRow;
  /** The analysis's exit code when a capture was analysed (3: damaged, what was read is there), else 0. */
  code: number;
  close(): void;
}

/**
 * Open the argument as a database, or analyse it as a capture; a number is an exit code to
 * return at once (what went wrong is on stderr).
 */
export async function openInput(arg: string, opts: InputOptions, io: Io): Promise<Input | number> {
  try {
    return await open(arg, opts, io);
  } catch (e) {
    if (!(e instanceof DbError)) throw e;
    io.stderr.write(`tcpstate: error: ${printableLines(e.message)}\n`);
    return ExitCode.DATABASE;
  }
}

async function open(arg: string, opts: InputOptions, io: Io): Promise<Input | number> {
  const path = arg === '-' ? '-' : resolve(io.cwd, arg);
  if (path !== '-' && isDirectory(path)) throw new UsageError(`${arg} is a directory; give one capture or database`);
  if (path !== '-' && isSqliteFile(path)) {
    if (opts.db !== undefined) throw new UsageError(`--db applies to a capture; ${arg} is already a database`);
    const db = TcpstateDb.open(path);
    try {
      return { db, capture: pickCapture(db.captures(), opts.capture, arg), code: ExitCode.OK, close: () => db.close() };
    } catch (e) {
      db.close();
      throw e;
    }
  }

  const temp = opts.db === undefined ? mkdtempSync(join(tmpdir(), 'tcpstate-')) : null;
  const dbFile = temp !== null ? join(temp, 'analysis.db') : resolve(io.cwd, opts.db!);
  const cleanup = () => {
    if (temp !== null) rmSync(temp, { recursive: true, force: true });
  };
  let db: TcpstateDb | null = null;
  try {
    const code = await analyzeCommand([arg], { db: dbFile, quiet: true }, io);
    if (code !== ExitCode.OK && code !== ExitCode.INPUT) {
      cleanup();
      return code;
    }
    db = TcpstateDb.open(dbFile);
    // The database holds names as UTF-8 text (see analyzeInto).
    const capture = db.captures().find((c) => c.path === wellFormed(path));
    if (capture === undefined || capture.format === null) {
      db.close();
      cleanup();
      return code === ExitCode.OK ? ExitCode.INPUT : code; // unreadable: analyze said why
    }
    const opened = db;
    return {
      db: opened,
      capture,
      code,
      close: () => {
        opened.close();
        cleanup();
      },
    };
  } catch (e) {
    db?.close();
    cleanup();
    throw e;
  }
}

/** Where analyze writes when given no --db: what the report commands read when given no input. */
export const DEFAULT_DB = 'tcpstate.db';

/** The input argument, or tcpstate.db in the working directory when there is one. */
export function inputOrDefault(arg: string | undefined, io: Io): string {
  if (arg !== undefined) return arg;
  if (!existsSync(resolve(io.cwd, DEFAULT_DB))) {
    throw new UsageError(`no database or capture given, and no ${DEFAULT_DB} here (tcpstate analyze CAPTURE writes one)`);
  }
  return DEFAULT_DB;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(fsPath(path)).isDirectory();
  } catch {
    return false;
  }
}

function pickCapture(captures: CaptureRow[], wanted: string | undefined, dbName: string): CaptureRow {
  const names = () => captures.map((c) => `  ${c.name}`).join('\n');
  if (wanted === undefined) {
    if (captures.length === 1) return captures[0];
    if (captures.length === 0) throw new UsageError(`${dbName} holds no capture yet; run \`tcpstate analyze CAPTURE --db ${dbName}\``);
    throw new UsageError(`${dbName} holds ${captures.length} captures; pick one with --capture NAME:\n${names()}`);
  }
  const found = captures.filter((c) => c.name === wanted || c.path === wanted || basename(c.path) === wanted);
  if (found.length === 1) return found[0];
  throw new UsageError(
    found.length === 0 ? `no capture named "${wanted}" in ${dbName}; it holds:\n${names()}` : `"${wanted}" names ${found.length} captures in ${dbName}; give the full path`,
  );
}

const TIME_HELP = 'an ISO time (2026-11-21T05:55:38.1Z), epoch seconds (1795240538.1) or +SECONDS from the capture\'s start (+0.5)';

/** Decimal seconds as integer microseconds, exactly (no float rounding); digits past the µs are dropped. */
function secondsToUs(whole: string, frac: string | undefined): number {
  return Number(whole) * 1_000_000 + Number(((frac ?? '') + '000000').slice(0, 6));
}

/**
 * `--at` as microseconds since the epoch: an ISO time (UTC unless it carries an offset;
 * a space may stand for the T, as the summaries print times), epoch seconds, or
 * `+SECONDS` after `start` (the capture's first packet).
 */
export function parseAt(text: string, start: number | null): number {
  const t = text.trim();
  let m = /^\+(\d+)(?:\.(\d+))?$/.exec(t);
  if (m) {
    if (start === null) throw new UsageError(`--at ${text}: the capture has no packet time to count from`);
    return start + secondsToUs(m[1], m[2]);
  }
  m = /^(\d+)(?:\.(\d+))?$/.exec(t);
  if (m) return secondsToUs(m[1], m[2]);
  m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/i.exec(t);
  if (m) {
    const zone = m[4] === undefined || m[4].toUpperCase() === 'Z' ? 'Z' : m[4].length === 5 ? `${m[4].slice(0, 3)}:${m[4].slice(3)}` : m[4];
    const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
    const [y, mo, d] = m[1].split('-').map(Number);
    const realDay = new Date(Date.UTC(y, mo - 1, d)).getUTCDate() === d; // Date.parse takes February 30
    if (!Number.isNaN(ms) && realDay) return ms * 1000 + secondsToUs('0', m[3]);
  }
  throw new UsageError(`--at "${text}": expected ${TIME_HELP}`);
}
