/** `tcpstate census <capture|db>`: what `ss -tan` would have printed on each host at one moment. */
import { buildCensus, censusJson, renderCensus } from '../report/census.js';
import { makeChalk } from '../report/summary.js';
import type { TcpStateName } from '../tcp/rfc793/tcp-state.js';
import { UsageError } from './analyze.js';
import { openInput, parseAt, type InputOptions } from './input.js';
import type { Io } from './io.js';

export interface CensusCliOptions extends InputOptions {
  at?: string;
  /** Parsed by parseHost: no brackets, lower case. */
  host?: string;
  port?: number;
  state?: TcpStateName[];
  count?: boolean;
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
    const flows = db.flowsAt(capture.id, at, { host: opts.host, port: opts.port, atEnd: at === capture.last_ts });
    const filter = { host: opts.host, port: opts.port, states: opts.state };
    const census = buildCensus(capture, at, flows, db.listenersAt(capture.id, at), filter, db.synFloods(capture.id), opts.count === true);
    if (opts.json) io.stdout.write(JSON.stringify(censusJson(census, opts.count === true), null, 2) + '\n');
    else io.stdout.write(renderCensus(census, makeChalk(Boolean(io.stdout.isTTY), io.env, opts.color !== false), opts.count === true));
    return input.code;
  } finally {
    input.close();
  }
}
