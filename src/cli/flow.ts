/**
 * `tcpstate flow <capture|db> <flow>`: one connection as a ladder of packets and states.
 * The database holds no packets, so the capture is read again (captures.path), framed only
 * up to the flow's last frame, and the packets of that flow (its 4-tuple, between its first
 * and last frame) are decoded and kept; the states and findings are the database's.
 */
import { existsSync } from 'node:fs';
import { DecodedPacket, FragmentReassembler, ReassemblyCounters, Status, decodeRecord } from '../decode/index.js';
import { formatAddress } from '../util/address.js';
import { ReadInterrupted, RotatedReader, fsPath, openSource, printable, readCapture, type ByteSource, type PacketRecord } from '../reader/index.js';
import { buildLadder, ladderJson, renderLadder, type LadderFinding, type LadderPacket, type LadderTransition } from '../report/ladder.js';
import { makeChalk } from '../report/summary.js';
import type { CaptureRow, FlowRow, TcpstateDb } from '../sink/read.js';
import { UsageError } from './analyze.js';
import { ExitCode } from './exit-codes.js';
import { openInput, type InputOptions } from './input.js';
import type { Io } from './io.js';

export interface FlowCliOptions extends InputOptions {
  raw?: boolean;
  json?: boolean;
  color?: boolean;
}

/** "addr:port", IPv6 in brackets. */
function parseEndpoint(text: string): [string, number] | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  if (m === null || Number(m[3]) > 65535) return null;
  return [(m[1] ?? m[2]).toLowerCase(), Number(m[3])];
}

/** A flow_index (1, 2, 3... within the capture) or "addr:port-addr:port" in either order. */
export function findFlow(db: TcpstateDb, capture: CaptureRow, selector: string): FlowRow {
  if (/^\d+$/.test(selector)) {
    const row = db.flowByIndex(capture.id, Number(selector));
    if (row === undefined) {
      const n = db.flowCount(capture.id);
      throw new UsageError(`${capture.name} has no flow ${selector}: ${n === 0 ? 'it has no TCP connection' : `its flows are 1 to ${n} (tcpstate conns lists them)`}`);
    }
    return row;
  }
  const dash = selector.match(/^(.+:\d+)-(.+:\d+)$/);
  const a = dash ? parseEndpoint(dash[1]) : null;
  const b = dash ? parseEndpoint(dash[2]) : null;
  if (a === null || b === null) {
    throw new UsageError(`flow "${selector}": expected a flow_index (1, 2...) or addr:port-addr:port (IPv6 in brackets: [2001:db8::1]:40001-[2001:db8::2]:9090)`);
  }
  const rows = db.flowsByTuple(capture.id, a[0], a[1], b[0], b[1]);
  if (rows.length === 1) return rows[0];
  if (rows.length === 0) throw new UsageError(`${capture.name} has no connection between ${dash![1]} and ${dash![2]}`);
  throw new UsageError(`${rows.length} connections used ${selector} in ${capture.name} (flow_index ${rows.map((r) => r.flow_index).join(', ')}); give the flow_index`);
}

export async function flowCommand(arg: string, selector: string, opts: FlowCliOptions, io: Io): Promise<number> {
  if (arg === '-') throw new UsageError('the ladder reads the capture a second time, which standard input cannot give: save the capture to a file');
  const input = await openInput(arg, opts, io);
  if (typeof input === 'number') return input;
  let row: FlowRow;
  let capture: CaptureRow;
  let transitions: LadderTransition[];
  let findings: LadderFinding[];
  let files: Array<{ path: string; name: string }>;
  try {
    capture = input.capture;
    files = input.db.captureFiles(capture.id);
    row = findFlow(input.db, capture, selector);
    transitions = input.db.transitions(row.id).map((t) => ({ ...t, from: t.from_state, to: t.to_state, inferred: t.inferred === 1 }));
    findings = input.db.anomalies(capture.id, { flowIndex: row.flow_index }).map((a) => ({ ...a, side: a.side as LadderFinding['side'] }));
  } finally {
    input.close();
  }
  if (capture.path === '-') {
    throw new UsageError(`${capture.name} in ${arg} was read from standard input and cannot be read again; save the capture to a file and analyse that`);
  }
  // Rotated files analysed as one capture are read again as one, in the same order.
  for (const path of files.length > 0 ? files.map((f) => f.path) : [capture.path]) {
    if (!existsSync(fsPath(path))) {
      io.stderr.write(`tcpstate: error: ${printable(path)}: no such file; the ladder reads the capture again (moved since it was analysed?)\n`);
      return ExitCode.INPUT;
    }
  }

  const open = () => (files.length > 0 ? new RotatedReader(files) : openSource(capture.path, io.stdin));
  const packets = (await readFlowPackets(open, [row])).get(row.flow_index) ?? [];
  if (packets.length === 0 || packets[0].frame !== row.first_packet || packets[packets.length - 1].frame !== row.last_packet) {
    io.stderr.write(`tcpstate: error: ${printable(capture.path)} no longer holds flow ${row.flow_index} as analysed (frames ${row.first_packet}..${row.last_packet}); analyse it again\n`);
    return ExitCode.INPUT;
  }
  const ladder = buildLadder(capture.name, row, packets, transitions, findings, { raw: opts.raw });
  if (opts.json) io.stdout.write(JSON.stringify(ladderJson(ladder), null, 2) + '\n');
  else io.stdout.write(renderLadder(ladder, makeChalk(Boolean(io.stdout.isTTY), io.env, opts.color !== false)));
  return input.code;
}

/**
/**
 * The packets of these flows (each its tuple, between its first and last frame), by flow_index,
 * read again from the capture `open` gives without analysing anything: records are only framed
 * (the reader alone is cheap) up to the last flow's last frame, and only those from the first flow's first frame on are decoded and kept when they are
 * a flow's tuple's. `fromStart`: decode every record (an IP datagram of a flow whose fragments
 * came before its first frame is put together only so); taken by itself when a flow's first
 * packet is missing otherwise.
 */
export async function readFlowPackets(open: () => ByteSource | RotatedReader, rows: readonly FlowRow[], fromStart = false): Promise<Map<number, LadderPacket[]>> {
  const out = new Map<number, LadderPacket[]>(rows.map((r) => [r.flow_index, []]));
  if (rows.length === 0) return out;
  let first = Infinity;
  let last = 0;
  for (const r of rows) {
    first = Math.min(first, r.first_packet);
    last = Math.max(last, r.last_packet);
  }
  // The flows by their ports, either way round: a packet looks at those of its ports only.
  const byPorts = new Map<number, FlowRow[]>();
  for (const r of rows) {
    for (const key of [r.client_port * 65536 + r.server_port, r.server_port * 65536 + r.client_port]) {
      const list = byPorts.get(key);
      if (list === undefined) byPorts.set(key, [r]);
      else if (!list.includes(r)) list.push(r);
    }
  }
  const p = new DecodedPacket();
  const fragments = new FragmentReassembler(new ReassemblyCounters());
  let past = false;
  try {
    const source = open();
    const onRecord = (rec: PacketRecord) => {
        if (past || (!fromStart && rec.number < first)) return;
        if (rec.number > last) {
          past = true;
          return;
        }
        if (rec.tsKnown) fragments.tick(rec.tsUs);
        let status = decodeRecord(p, rec);
        if (status === Status.IP_FRAGMENT || status === Status.LINK_FRAGMENT) status = fragments.packet(p, rec.tsUs, status);
        if (status !== Status.TCP || rec.number < first) return;
        const candidates = byPorts.get(p.srcPort * 65536 + p.dstPort);
        if (candidates === undefined) return;
        let src: string | null = null;
        let dst: string | null = null;
        for (const row of candidates) {
          if (rec.number < row.first_packet || rec.number > row.last_packet || p.ipVersion !== row.ip_version) continue;
          const fromClient = p.srcPort === row.client_port && p.dstPort === row.server_port;
          if (!fromClient && !(p.srcPort === row.server_port && p.dstPort === row.client_port)) continue;
          src ??= formatAddress(p.buf, p.srcOff, row.ip_version as 4 | 6);
          dst ??= formatAddress(p.buf, p.dstOff, row.ip_version as 4 | 6);
          if (fromClient ? src !== row.client_addr || dst !== row.server_addr : src !== row.server_addr || dst !== row.client_addr) continue;
          out.get(row.flow_index)!.push({ frame: rec.number, ts: rec.tsUs, fromClient, flags: p.flags, seq: p.seq, ack: p.ack, len: p.payloadLen, window: p.window, windowScale: p.windowScale });
        }
      };
    // Past the last flow's last frame nothing more is needed: stop at the next chunk.
    const opts = { shouldStop: () => past };
    if (source instanceof RotatedReader) await source.read(onRecord, opts);
    else await readCapture(source, onRecord, opts);
  } catch (e) {
    if (!(e instanceof ReadInterrupted)) throw e;
  }
  if (!fromStart && rows.some((r) => (out.get(r.flow_index)![0]?.frame ?? -1) !== r.first_packet)) return readFlowPackets(open, rows, true);
  return out;
}
