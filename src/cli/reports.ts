/** The report commands on the command line: census, flow, anomalies (each in its own module). */
import type { Command } from 'commander';
import { KINDS } from '../detect/catalogue.js';
import { EXPORT_FORMATS } from '../report/export.js';
import { CONN_SORTS, EXPORT_TABLES } from '../sink/read.js';
import { anomaliesCommand } from './anomalies.js';
import { censusCommand } from './census.js';
import { END_REASONS, connsCommand } from './conns.js';
import { exportCommand } from './export.js';
import { DEFAULT_LADDERS, DEFAULT_REREAD_MB, reportCommand } from './report.js';
import { flowCommand } from './flow.js';
import { DEFAULT_DB, inputOrDefault } from './input.js';
import type { Io } from './io.js';
import { resolve } from 'node:path';
import { printableLines } from '../reader/index.js';
import { dbError } from '../sink/errors.js';
import { ExitCode } from './exit-codes.js';
import { parseChoice, parseChoices, parseCount, parseSize, parseHost, parsePort, parseStates, parseTimeText } from './options.js';
import { summaryCommand } from './summary.js';

const INPUT = 'a database written by `tcpstate analyze`, or a capture (analysed first)';
const INPUT_OR_DEFAULT = `${INPUT}; default: ${DEFAULT_DB} in the working directory`;
const DB = 'when given a capture: analyse it into this database and keep it (default: a temporary one)';
const CAPTURE = 'which capture of a database holding several (its name, path or file name)';
const NO_COLOR = 'plain text even on a terminal (also: NO_COLOR=1)';
const TIME = "ISO time (UTC unless an offset is given), epoch seconds, or +SECONDS from the capture's start";
const STATE = "a state, as ss names it (established, syn-sent, close-wait, time-wait, ESTAB...) or RFC 793 (CLOSE_WAIT...); repeatable, or comma-separated";

/** The options every report command shares. */
function common(c: Command): Command {
  return c.option('--capture <name>', CAPTURE).option('--db <file>', DB).option('--json', 'print JSON').option('--no-color', NO_COLOR);
}

export function registerReports(program: Command, io: Io, setCode: (code: number) => void): void {
  common(program.command('census'))
    .description('what `ss -tan` would have printed on each host at one moment of the capture')
    .argument('[input]', INPUT_OR_DEFAULT)
    .option('--at <time>', "the moment: ISO time (2026-11-21T05:55:38.1Z, UTC unless an offset is given), epoch seconds, or +SECONDS from the capture's start (default: its end)")
    .option('--host <addr>', "only this host's sockets", parseHost)
    .option('--port <n>', 'only sockets with this local or peer port (ss\'s sport or dport)', parsePort)
    .option('--state <state>', STATE, parseStates)
    .option('-s, --count', 'counts only: each host\'s sockets by state, and the totals (as ss -s)')
    .addHelpText(
      'after',
      `
States as ss prints them (ESTAB, SYN-SENT, TIME-WAIT...); a connection whose endpoint is CLOSED
has no row. Listening sockets are known only where a server answered a SYN (shown as inferred).

Examples:
  tcpstate census trace.pcap
  tcpstate census tcpstate.db --at +2.5 --host 192.0.2.2
  tcpstate census tcpstate.db --state close-wait --port 443
  tcpstate census tcpstate.db --count`,
    )
    .action(async (input: string | undefined, opts) => setCode(await reading(inputOrDefault(input, io), io, (arg) => censusCommand(arg, opts, io))));

  common(program.command('flow'))
    .description('one connection filmed in slow motion: every packet with both endpoints\' states')
    .argument('<input>', INPUT)
    .argument('<flow>', 'the flow_index (1, 2, 3... within the capture, as in the flows table) or addr:port-addr:port')
    .option('--raw', 'raw sequence and acknowledgement numbers (default: relative to each side\'s initial sequence number)')
    .addHelpText(
      'after',
      `
The database holds no packets: the capture is read again from the path it was analysed from.

Examples:
  tcpstate flow trace.pcap 1
  tcpstate flow tcpstate.db 192.0.2.1:40001-192.0.2.2:9090`,
    )
    .action(async (input: string, flow: string, opts) => setCode(await reading(input, io, (arg) => flowCommand(arg, flow, opts, io))));

  common(program.command('anomalies'))
    .description('the findings: counts by kind, then one row each')
    .argument('[input]', INPUT_OR_DEFAULT)
    .option('--kind <kinds>', 'only these kinds, comma-separated (tcpstate explain lists them)')
    .option('--severity <level>', 'this severity and above: info < note < warning < error')
    .option('--host <addr>', 'findings of connections with this address at either end, and host-level findings naming it', parseHost)
    .option('--flow <n>', 'findings of this connection (its flow_index, as conns lists it)', parseCount)
    .option('--since <time>', `findings at or after this time: ${TIME}`, parseTimeText)
    .option('--until <time>', 'findings at or before this time (same forms)', parseTimeText)
    .option('--limit <n>', 'show at most this many rows (the counts by kind are of all those kept)', parseCount)
    .addHelpText(
      'after',
      `
On a terminal, rows are fitted to its width (wrapped at blanks under the message column);
into a pipe or a file, each finding is one full line.

Examples:
  tcpstate anomalies tcpstate.db --severity warning
  tcpstate anomalies tcpstate.db --host 192.0.2.2 --since +10 --until +20 --limit 50
  tcpstate anomalies tcpstate.db --kind retransmission,duplicate_ack --json`,
    )
    .action(async (input: string | undefined, opts) => setCode(await reading(inputOrDefault(input, io), io, (arg) => anomaliesCommand(arg, opts, io))));

  common(program.command('conns'))
    .description('the connections, one line each (as tshark -z conv,tcp and Zeek\'s conn.log): both end states, Zeek\'s outcome, findings')
    .argument('[input]', INPUT_OR_DEFAULT)
    .option('--host <addr>', 'connections with this address at either end', parseHost)
    .option('--port <n>', 'connections with this port at either end', parsePort)
    .option('--state <state>', `either end in this state at the end: ${STATE}`, parseStates)
    .option('--reason <reason>', `how it ended: ${END_REASONS.join(', ')}; repeatable, or comma-separated`, parseChoices(END_REASONS))
    .option('--kind <kinds>', `connections with a finding of one of these kinds, comma-separated (${Object.keys(KINDS).length} kinds: tcpstate explain)`)
    .option('--since <time>', `connections still open at or after this time: ${TIME}`, parseTimeText)
    .option('--until <time>', 'connections begun at or before this time (same forms)', parseTimeText)
    .option('--sort <key>', `${CONN_SORTS.join(', ')} (time: by first packet; the others largest first)`, parseChoice(CONN_SORTS), 'time')
    .option('--limit <n>', 'at most this many', parseCount)
    .addHelpText(
      'after',
      `
Columns: flow (the N of tcpstate flow), start and duration (s), client and server, packets and
payload bytes each way (> client to server, < back), each end's state at the end (ss's names),
how it ended, Zeek's conn_state, findings, Zeek's history.

Examples:
  tcpstate conns tcpstate.db --sort bytes --limit 20
  tcpstate conns tcpstate.db --port 443 --state close-wait
  tcpstate conns tcpstate.db --kind connection_reset --json`,
    )
    .action(async (input: string | undefined, opts) => setCode(await reading(inputOrDefault(input, io), io, (arg) => connsCommand(arg, opts, io))));

  common(program.command('summary'))
    .description('the summary analyze printed, again, from a database (--json: the same JSON)')
    .argument('[input]', INPUT_OR_DEFAULT)
    .addHelpText(
      'after',
      `
Examples:
  tcpstate analyze -q capture.pcap && tcpstate summary tcpstate.db
  tcpstate summary tcpstate.db --json`,
    )
    .action(async (input: string | undefined, opts) => setCode(await reading(inputOrDefault(input, io), io, (arg) => summaryCommand(arg, opts, io))));

  program
    .command('report')
    .description('one self-contained HTML file to look at: states over time per host, events, findings, the worst connections as ladders')
    .argument('[input]', INPUT_OR_DEFAULT)
    .requiredOption('-o, --output <file>', 'the HTML file to write (scripts, styles and data inlined: it opens offline)')
    .option('--ladders <n>', `ladder diagrams of the worst connections (default ${DEFAULT_LADDERS}); a flood's or pile-up's connection is drawn too`, parseCount)
    .option('--svg <dir>', 'also write the charts and ladders as SVG files into this directory')
    .option('--reread <mb>', `read the capture again for the ladders' packets when it is at most this many MB (default ${DEFAULT_REREAD_MB}; 0: never, the ladders show the packets the database names)`, parseSize)
    .option('--capture <name>', CAPTURE)
    .option('--db <file>', DB)
    .addHelpText(
      'after',
      `
Examples:
  tcpstate report tcpstate.db -o report.html
  tcpstate report capture.pcap -o report.html --ladders 50 --svg charts/`,
    )
    .action(async (input: string | undefined, opts) => setCode(await reading(inputOrDefault(input, io), io, (arg) => reportCommand(arg, opts, io))));

  program
    .command('export')
    .description("a table's rows for other tools: Zeek's conn.log (zeek-cut reads it), CSV or NDJSON")
    .argument('[input]', INPUT_OR_DEFAULT)
    .requiredOption('--format <format>', EXPORT_FORMATS.join(', '), parseChoice(EXPORT_FORMATS))
    .option('--table <table>', `${EXPORT_TABLES.join(', ')} (conns: flows); default zeek_conns for zeek, else flows`, parseChoice([...EXPORT_TABLES, 'conns'] as const))
    .option('-o, --output <file>', 'write there instead of standard output')
    .option('--capture <name>', CAPTURE)
    .option('--db <file>', DB)
    .addHelpText(
      'after',
      `
Examples:
  tcpstate export tcpstate.db --format zeek -o conn.log && zeek-cut id.orig_h conn_state < conn.log
  tcpstate export tcpstate.db --format csv --table anomalies`,
    )
    .action(async (input: string | undefined, opts) => setCode(await reading(inputOrDefault(input, io), io, (arg) => exportCommand(arg, opts, io))));
}

/**
 * A report over `arg`: a database that turns out damaged, locked or unreadable part way through
 * (a query, not the opening, meets the damage) is one line naming it and the remedy, not an internal error.
 */
async function reading(arg: string, io: Io, report: (arg: string) => Promise<number>): Promise<number> {
  try {
    return await report(arg);
  } catch (e) {
    // SQLite's errors only: a file system error here is the capture's or the output's, said where it happens.
    const sqlite = String((e as { code?: unknown } | null)?.code).startsWith('SQLITE_');
    const err = sqlite ? dbError(resolve(io.cwd, arg), e, false) : null;
    if (err === null) throw e;
    io.stderr.write(`tcpstate: error: ${printableLines(err.message)}\n`);
    return ExitCode.DATABASE;
  }
}
