/** `tcpstate census <capture|db>`: what `ss -tan` would have printed on each host at one moment. */
import { buildCensus, censusJson, filterHosts, renderCensus } from '../report/census.js';
import { makeChalk } from '../report/summary.js';
import { UsageError } from './analyze.js';
import { openInput, parseAt, type InputOptions } from './input.js';
import type { Io } from './io.js';

export interface CensusCliOptions extends InputOptions {
  at?: string;
  host?: string;
  json?: boolean;
  color?: boolean;
}

export async function censusCommand(arg: string, opts: CensusCliOptions, io: Io): Promise<number> {
  const input = await openInput(arg, opts, io);
  if (typeof input === 'number') return input;
  try {
    const { db, capture } = input;
    if (capture.last_ts === null && opts.at === undefined) throw new UsageError(`${capture.name} has no packet with a time; nothing to take a census of`);
    const at = opts.at === undefined ? capture.last_ts! : parseAt(opts.at, capture.first_ts);
    let census = buildCensus(capture, at, db.flowsAt(capture.id, at), db.listenersAt(capture.id, at));
    if (opts.host !== undefined) census = filterHosts(census, opts.host.replace(/^\[(.*)\]$/, '$1').toLowerCase());
    if (opts.json) io.stdout.write(JSON.stringify(censusJson(census), null, 2) + '\n');
    else io.stdout.write(renderCensus(census, makeChalk(Boolean(io.stdout.isTTY), io.env, opts.color !== false)));
    return input.code;
  } finally {
    input.close();
  }
}
