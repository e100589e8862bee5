/** `tcpstate summary <db|capture>`: the summary `analyze` prints, again, from a database. */
import { resolve } from 'node:path';
import { storedSummary } from '../report/stored-summary.js';
import { makeChalk, renderSummary, summaryJson } from '../report/summary.js';
import { DbError, TcpstateDb, isSqliteFile, type CaptureRow } from '../sink/read.js';
import { printableLines } from '../reader/index.js';
import { ExitCode } from './exit-codes.js';
import { openInput, type InputOptions } from './input.js';
import type { Io } from './io.js';

export interface SummaryCliOptions extends InputOptions {
  json?: boolean;
  color?: boolean;
}

export async function summaryCommand(arg: string, opts: SummaryCliOptions, io: Io): Promise<number> {
  const print = (db: TcpstateDb, captures: CaptureRow[]) => {
    const summaries = captures.map((c) => storedSummary(db, c));
    // As analyze --json: an array with one object per capture; as analyze's text: one summary after the other.
    if (opts.json) io.stdout.write(JSON.stringify(summaries.map(summaryJson), null, 2) + '\n');
    else for (const s of summaries) io.stdout.write(renderSummary(s, makeChalk(Boolean(io.stdout.isTTY), io.env, opts.color !== false)));
  };
  const path = resolve(io.cwd, arg);
  if (arg !== '-' && opts.capture === undefined && opts.db === undefined && isSqliteFile(path)) {
    // A database: every capture in it, in the order analyze wrote them.
    let db: TcpstateDb;
    try {
      db = TcpstateDb.open(path);
    } catch (e) {
      if (!(e instanceof DbError)) throw e;
      io.stderr.write(`tcpstate: error: ${printableLines(e.message)}\n`);
      return ExitCode.DATABASE;
    }
    try {
      print(db, db.captures());
      return ExitCode.OK;
    } finally {
      db.close();
    }
  }
  const input = await openInput(arg, opts, io);
  if (typeof input === 'number') return input;
  try {
    print(input.db, [input.capture]);
    return input.code;
  } finally {
    input.close();
  }
}
