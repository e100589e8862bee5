/**
 * `tcpstate report <db|capture> -o report.html`: one self-contained HTML file to look at (report/html),
 * and with `--svg DIR` the same charts as SVG files. The ladders' packets are read again from the
 * capture only when it is small (one pass for all of them, as `flow` reads one): the database
 * keeps no packet and no byte offset, so at scale the ladders show what the database names.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fsPath, openSource, printable, printableLines } from '../reader/index.js';
import { ExitCode } from './exit-codes.js';
import { buildLadder, type LadderFinding, type LadderTransition } from '../report/ladder.js';
import { svgFiles } from '../report/html/charts-svg.js';
import { fromDatabase, fromLadder, type LadderView } from '../report/html/ladder-svg.js';
import { buildModel } from '../report/html/model.js';
import { reportHtml } from '../report/html/page.js';
import { plural } from '../report/text.js';
import type { CaptureRow, FlowRow, TcpstateDb } from '../sink/read.js';
import { readFlowPackets } from './flow.js';
import { openInput, type InputOptions } from './input.js';
import type { Io } from './io.js';

export interface ReportCliOptions extends InputOptions {
  output: string;
  ladders?: number;
  svg?: string;
  /** Read the capture again for the ladders' packets when it is at most this many MB; 0: never. */
  reread?: number;
}

export const DEFAULT_LADDERS = 20;
export const DEFAULT_REREAD_MB = 512;

interface LadderSource {
  row: FlowRow & { client_packets?: number; server_packets?: number };
  transitions: LadderTransition[];
  findings: LadderFinding[];
}

function ladderSources(db: TcpstateDb, capture: CaptureRow, flows: number[]): LadderSource[] {
  return flows.map((n) => {
    const row = db.flowByIndex(capture.id, n)!;
    return {
      row,
      transitions: db.transitions(row.id).map((t) => ({ ...t, from: t.from_state, to: t.to_state, inferred: t.inferred === 1 })),
      findings: db.anomalies(capture.id, { flowIndex: n }).map((a) => ({ ...a, side: a.side as LadderFinding['side'] })),
    };
  });
}

/** Why the capture is not read again for the ladders, or null when it is. */
function noReread(capture: CaptureRow, limitMb: number): string | null {
  if (limitMb === 0) return 'the capture is not read again (--reread 0)';
  if (capture.path === '-') return 'the capture came from standard input and cannot be read again';
  if (!existsSync(fsPath(capture.path))) return `the capture is no longer at ${capture.path}`;
  if (capture.compression !== null) return `the capture is ${capture.compression}-compressed: no ladder reads it again`;
  const size = statSync(fsPath(capture.path)).size;
  if (size > limitMb * 1e6) return `the capture (${(size / 1e6).toFixed(0)} MB) is larger than --reread ${limitMb} MB, and the database keeps no packet to seek to`;
  return null;
}

export async function reportCommand(arg: string, opts: ReportCliOptions, io: Io): Promise<number> {
  const input = await openInput(arg, opts, io);
  if (typeof input === 'number') return input;
  let html: string;
  let files: Map<string, string> | null = null;
  let ladders: LadderView[];
  try {
    const { db, capture } = input;
    const model = buildModel(db, capture, { worst: opts.ladders ?? DEFAULT_LADDERS });
    const wanted = [...new Set([...model.worst.map((w) => w.flow_index), ...model.episodes.map((e) => e.flow).filter((f): f is number => f !== null)])];
    const counts = new Map(model.worst.map((w) => [w.flow_index, w]));
    const sources = ladderSources(db, capture, wanted);
    for (const s of sources) {
      const c = counts.get(s.row.flow_index);
      if (c !== undefined) Object.assign(s.row, { client_packets: c.client_packets, server_packets: c.server_packets });
    }
    const why = sources.length === 0 ? null : noReread(capture, opts.reread ?? DEFAULT_REREAD_MB);
    const packets = why === null && sources.length > 0 ? await readFlowPackets(() => openSource(capture.path, io.stdin), sources.map((s) => s.row)) : null;
    ladders = sources.map((s) => {
      const p = packets?.get(s.row.flow_index);
      if (p !== undefined && p.length > 0 && p[0].frame === s.row.first_packet && p[p.length - 1].frame === s.row.last_packet) {
        return fromLadder(buildLadder(capture.name, s.row, p, s.transitions, s.findings), s.findings);
      }
      const reason = why ?? `${capture.path} no longer holds this flow as analysed`;
      return fromDatabase(s.row, s.transitions, s.findings, reason);
    });
    html = reportHtml(model, ladders);
    if (opts.svg !== undefined) files = svgFiles(model, ladders);
  } finally {
    input.close();
  }
  let target = opts.output;
  try {
    writeFileSync(fsPath(resolve(io.cwd, opts.output)), html);
    if (files !== null) {
      const dir = resolve(io.cwd, opts.svg!);
      target = opts.svg!;
      mkdirSync(fsPath(dir), { recursive: true });
      for (const [name, svg] of files) writeFileSync(fsPath(join(dir, (target = name))), svg);
    }
  } catch (e) {
    io.stderr.write(`tcpstate: cannot write ${printable(target)}: ${printableLines((e as Error).message)}\n`);
    return ExitCode.DATABASE;
  }
  io.stdout.write(
    `wrote ${opts.output} (${(Buffer.byteLength(html) / 1e6).toFixed(2)} MB, ${plural(ladders.length, 'ladder')})` +
      (files !== null ? `; ${plural(files.size, 'SVG file')} in ${opts.svg}` : '') +
      '\n',
  );
  return input.code;
}
