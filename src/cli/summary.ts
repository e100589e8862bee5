/** `tcpstate summary <db|capture>`: the summary `analyze` prints, again, from a database. */
import { storedSummary } from '../report/stored-summary.js';
import { makeChalk, renderSummary, summaryJson } from '../report/summary.js';
import { openInput, type InputOptions } from './input.js';
import type { Io } from './io.js';

export interface SummaryCliOptions extends InputOptions {
  json?: boolean;
  color?: boolean;
}

export async function summaryCommand(arg: string, opts: SummaryCliOptions, io: Io): Promise<number> {
  const input = await openInput(arg, opts, io);
  if (typeof input === 'number') return input;
  try {
    const s = storedSummary(input.db, input.capture);
    // As analyze --json: an array with one object per capture.
    if (opts.json) io.stdout.write(JSON.stringify([summaryJson(s)], null, 2) + '\n');
    else io.stdout.write(renderSummary(s, makeChalk(Boolean(io.stdout.isTTY), io.env, opts.color !== false)));
    return input.code;
  } finally {
    input.close();
  }
}
