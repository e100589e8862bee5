/** `tcpstate export <db|capture> --format zeek|csv|ndjson [--table T]`: a table's rows for other tools, streamed. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { csvLine, ndjsonLine, zeekFooter, zeekHeader, zeekLine, type ExportFormat } from '../report/export.js';
import type { ExportTable } from '../sink/read.js';
import { printable, printableLines } from '../reader/index.js';
import { UsageError } from './analyze.js';
import { ExitCode } from './exit-codes.js';
import { openInput, type InputOptions } from './input.js';
import type { Io } from './io.js';

export interface ExportCliOptions extends InputOptions {
  format: ExportFormat;
  table?: ExportTable | 'conns';
  output?: string;
}

/** Output is written in pieces about this long. */
const CHUNK = 1 << 16;

export async function exportCommand(arg: string, opts: ExportCliOptions, io: Io): Promise<number> {
  const table: ExportTable = opts.table === undefined ? (opts.format === 'zeek' ? 'zeek_conns' : 'flows') : opts.table === 'conns' ? 'flows' : opts.table;
  if (opts.format === 'zeek' && table !== 'zeek_conns') throw new UsageError(`--format zeek writes Zeek's conn.log, from the zeek_conns table; for ${table} use --format csv or ndjson`);
  let fd: number | null = null;
  if (opts.output !== undefined) {
    try {
      fd = openSync(resolve(io.cwd, opts.output), 'w');
    } catch (e) {
      io.stderr.write(`tcpstate: error: cannot write ${printable(opts.output)}: ${printableLines((e as Error).message)}\n`);
      return ExitCode.DATABASE;
    }
  }
  const write = (s: string) => (fd === null ? io.stdout.write(s) : writeSync(fd, s));
  const input = await openInput(arg, opts, io);
  if (typeof input === 'number') {
    if (fd !== null) closeSync(fd);
    return input;
  }
  try {
    const { db, capture } = input;
    const { columns, rows } = db.exportRows(table, capture.id);
    let buf = '';
    const put = (s: string) => {
      buf += s;
      if (buf.length >= CHUNK) {
        write(buf);
        buf = '';
      }
    };
    if (opts.format === 'zeek') {
      put(zeekHeader(capture.first_ts));
      for (const values of rows) {
        const r: Record<string, unknown> = {};
        columns.forEach((c, i) => (r[c] = values[i]));
        put(zeekLine(capture.path, r));
      }
      put(zeekFooter(capture.last_ts));
    } else if (opts.format === 'csv') {
      put(csvLine(columns));
      for (const values of rows) put(csvLine(values));
    } else {
      for (const values of rows) put(ndjsonLine(columns, values));
    }
    if (buf.length > 0) write(buf);
    return input.code;
  } finally {
    input.close();
    if (fd !== null) closeSync(fd);
  }
}
