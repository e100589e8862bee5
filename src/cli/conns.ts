/** `tcpstate conns <db|capture>`: the connections, one line each, filtered and sorted in one query and streamed. */
import { ConnTable, connCells, connJson, connsTitle } from '../report/conns.js';
import { makeChalk } from '../report/summary.js';
import { plural, thousands } from '../report/text.js';
import type { ConnFilter, ConnRow, ConnSort } from '../sink/read.js';
import type { TcpStateName } from '../tcp/rfc793/tcp-state.js';
import { parseKinds } from './anomalies.js';
import { openInput, parseAt, type InputOptions } from './input.js';
import type { Io } from './io.js';

export interface ConnsCliOptions extends InputOptions {
  host?: string;
  port?: number;
  state?: TcpStateName[];
  reason?: string[];
  kind?: string;
  since?: string;
  until?: string;
  sort?: ConnSort;
  limit?: number;
  json?: boolean;
  color?: boolean;
}

/** Rows whose widths set the columns; later rows are padded to them (wider cells push their line). */
const SAMPLE_ROWS = 1000;
/** Output is written in pieces about this long. */
const CHUNK = 1 << 16;

export const END_REASONS = ['closed', 'reset', 'timeout', 'reuse', 'end_of_capture'] as const;

export async function connsCommand(arg: string, opts: ConnsCliOptions, io: Io): Promise<number> {
  const kinds = opts.kind === undefined ? undefined : parseKinds(opts.kind);
  const input = await openInput(arg, opts, io);
  if (typeof input === 'number') return input;
  try {
    const { db, capture } = input;
    const filter: ConnFilter = {
      host: opts.host,
      port: opts.port,
      states: opts.state,
      reasons: opts.reason,
      kinds,
      since: opts.since === undefined ? undefined : parseAt(opts.since, capture.first_ts),
      until: opts.until === undefined ? undefined : parseAt(opts.until, capture.first_ts),
    };
    const rows = db.conns(capture.id, filter, opts.sort ?? 'time', opts.limit);
    let buf = '';
    const put = (s: string) => {
      buf += s;
    };
    /**
     * Written a chunk at a time; between chunks the event loop runs, so that a reader gone away
     * (`conns DB | head`: EPIPE) is noticed and the query stops instead of reading every row.
     */
    const flushed = async (): Promise<boolean> => {
      if (buf.length < CHUNK) return true;
      io.stdout.write(buf);
      buf = '';
      await new Promise((res) => setImmediate(res));
      return io.stdout.closed !== true;
    };
    let n = 0;
    if (opts.json) {
      put('[');
      for (const r of rows) {
        put(`${n++ === 0 ? '\n' : ',\n'}  ${JSON.stringify(connJson(r))}`);
        if (!(await flushed())) return input.code;
      }
      put(n === 0 ? ']\n' : '\n]\n');
    } else {
      const c = makeChalk(Boolean(io.stdout.isTTY), io.env, opts.color !== false);
      const t0 = capture.first_ts ?? 0;
      const sample: string[][] = [];
      let table: ConnTable | null = null;
      const start = () => {
        table = new ConnTable(sample);
        put(connsTitle(capture, c).join('\n') + '\n\n' + table.header(c) + '\n');
        for (const cells of sample) put(table.line(cells) + '\n');
      };
      for (const r of rows as IterableIterator<ConnRow>) {
        n++;
        if (table === null) {
          sample.push(connCells(r, t0));
          if (sample.length === SAMPLE_ROWS) start();
        } else put((table as ConnTable).line(connCells(r, t0)) + '\n');
        if (!(await flushed())) return input.code;
      }
      if (table === null) {
        if (n === 0) put(`${c.bold('Connections')} in ${capture.name}: none${filtered(opts) ? ' match' : ''}\n`);
        else start();
      }
      if (n > 0) {
        const total = opts.limit !== undefined && n === opts.limit ? db.connCount(capture.id, filter) : n;
        const of = total > n ? `${thousands(n)} of ${plural(total, 'connection')} (--limit ${opts.limit})` : plural(n, 'connection');
        put(`\n${of}${filtered(opts) ? ' matching the filters' : ''}\n`);
      }
    }
    if (buf.length > 0) io.stdout.write(buf);
    return input.code;
  } finally {
    input.close();
  }
}

function filtered(o: ConnsCliOptions): boolean {
  return [o.host, o.port, o.state, o.reason, o.kind, o.since, o.until].some((v) => v !== undefined);
}
