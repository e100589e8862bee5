/**
 * The command line: `run(argv, io)` parses and dispatches, returning the exit code.
 * Only this module imports commander; bin/tcpstate.js only calls it.
 */
import { Command, CommanderError } from 'commander';
import { explain, KINDS } from '../detect/catalogue.js';
import { analyzeCommand, UsageError } from './analyze.js';
import { ExitCode } from './exit-codes.js';
import { completionScript, SHELLS } from './completion.js';
import { didYouMean, parseChoice, parseCount, parseSize, parseStack, parseDuration, parseFailOn, parseGrace, parseShare } from './options.js';
import { processIo, type Io } from './io.js';
export { processArgv } from './io.js';
import { printableLines } from '../reader/index.js';
import { registerReports } from './reports.js';
import { toolVersion } from './version.js';

/**
 * The whole command line as commander sees it; actions set the exit code through `setCode`.
 * The help, the man page (man.ts) and the shell completions (completion.ts) are all read from it.
 */
export function makeProgram(io: Io, setCode: (code: number) => void): Command {
  const program = new Command('tcpstate')
    .description("Reconstruct both endpoints' TCP state from packet captures, and explain what went wrong.")
    .version(toolVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(printableLines(s)) })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('analyze')
    .description('read captures and record what they hold in a SQLite database')
    .argument('<capture...>', 'pcap or pcapng files, gzip-compressed or not, or directories of them (searched recursively); "-" reads standard input')
    .option('--db <file>', 'SQLite database to write (created if missing)', 'tcpstate.db')
    .option('--json', 'print the capture summaries as JSON instead of text')
    .option('-q, --quiet', 'print nothing but warnings and errors')
    .option('--no-color', 'plain text even on a terminal')
    .option('--progress', 'a progress line on stderr even when it is not a terminal, or in CI (one line a second there)')
    .option('--no-progress', 'no progress line, even on a terminal')
    .option('--follow', 'print each finding as it is made, a census of the sockets and a commit of the database every --every (default on a pipe carrying a live capture)')
    .option('--no-follow', 'not even on a live pipe: the summary at the end only')
    .option('--every <duration>', 'with --follow: how often the census is printed and the database committed (default 10s)', parseDuration)
    .option('--continuous', 'the captures given (files, or a directory\'s) are rotated pieces of ONE capture (tcpdump -C/-G): read in order of first packet, frames, connections and timers running on across them')
    .option('--rotated', 'the same as --continuous')
    .option('--allow-truncated', 'exit 0 when a capture is only cut short at its end')
    .option('--verify-checksums', 'drop packets with a wrong IPv4 or TCP checksum, as Zeek does (off: offloading makes a host\'s own packets look bad)')
    .option('--fail-on <checks>', 'exit 1 when a check holds: kinds, kind>N, kind>N% or a severity (e.g. syn_flood,connection_reset or "retransmission>1%")', parseFailOn)
    .option('--junit <file>', 'write JUnit XML: one test case per capture and check')
    .option('-j, --jobs <n>', 'captures analysed at once, in worker threads (default: one per core)', parseCount)
    .option('--no-db-thread', 'with one capture at a time, write the database on the analysis\'s own thread instead of a thread of its own (slower by about a sixth on two cores; a second thread costs 10 MB at rest, 15-20 MB more at a 1M-SYN flood\'s peak)')
    .option('--stack <profile>', 'the hosts\' TCP rules and timer defaults: linux (RFC 5961 exact RSTs, SYN cookies, the timers below) or rfc793 (any RST in the window, TIME_WAIT 240s, no give-up timers)', parseStack)
    .option('--time-wait <duration>', 'how long TIME_WAIT lasts before CLOSED (linux: 60s; rfc793 2MSL: 240s)', parseDuration)
    .option('--fin-timeout <duration>', 'an orphaned FIN_WAIT_2 ends after this (linux tcp_fin_timeout: 60s)', parseDuration)
    .option('--syn-retries <n>', 'SYN_SENT gives up after this many SYN retransmissions (linux tcp_syn_retries: 6)', parseCount)
    .option('--retries2 <n>', 'a connection gives up after this many retransmissions of unacknowledged data or unanswered zero-window probes (linux tcp_retries2: 15)', parseCount)
    .option('--orphan-retries <n>', 'a closed (orphaned) connection gives up on unacknowledged data after this many retransmission timeouts\' time (linux tcp_orphan_retries: 0, meaning 8)', parseSize)
    .option('--idle-timeout <duration>', 'end a connection silent this long (default 2h)', parseDuration)
    .option('--close-wait <duration>', 'CLOSE_WAIT longer than this is stuck_close_wait (default 5s)', parseDuration)
    .option('--unresponsive-after <duration>', 'unacknowledged retransmissions for this long are unresponsive_peer (default 10s)', parseDuration)
    .option('--unresponsive-retransmissions <n>', '...with at least this many retransmissions (default 3)', parseCount)
    .option('--syn-flood-rate <n>', 'half-open attempts per second at one listener that make a syn_flood (default 100)', parseCount)
    .option('--time-wait-pileup <n>', 'TIME_WAIT sockets at once on one host that make a time_wait_pileup (default 200)', parseCount)
    .option('--ephemeral-ports <n>', 'size of a client\'s ephemeral port range (default 28232, Linux 32768-60999)', parseCount)
    .option('--frag-memory <kb>', 'KiB of IP fragments held for reassembly, oldest datagram dropped first (default 4096)', parseCount)
    .option('--frag-datagrams <n>', 'IP datagrams in reassembly at once, oldest dropped first (default 4096)', parseCount)
    .option('--max-connections <n>', 'the memory budget: connections followed at once, about 2 KB each at most; past it the least recently seen are evicted (end reason evicted, a connections_evicted finding) (default 1000000)', parseCount)
    .option('--end-grace <duration>', 'a SYN or SYN-ACK unanswered when the capture ends, sent less than this before its end, is undetermined (info), not syn_unanswered or synack_unanswered (default 3s; 0: off)', parseGrace)
    .option('--port-exhaustion-share <share>', 'share of that range used towards one destination within TIME_WAIT that is port_exhaustion_risk (default 0.5)', parseShare)
    .addHelpText(
      'after',
      `
Exit codes: 0 ok; 1 a --fail-on check held; 2 usage error;
3 a capture is unreadable or damaged (what was read before the damage is written);
4 internal error (a bug); 5 the database cannot be used (disk full, read-only, locked, damaged:
the message says which, and what to do); 130 Ctrl-C, 143 SIGTERM (what was read is written,
status interrupted; a second one stops at once, writing nothing).

Examples:
  tcpstate analyze trace.pcapng
  tcpdump -i eth0 -U -w - | tcpstate analyze - --db incident.db   # live: follows (--follow)
  tcpstate analyze --fail-on "syn_flood,connection_reset,retransmission>1%" --junit report.xml captures/
  tcpstate analyze --continuous dumps/          # dump0.pcap dump1.pcap ... as one capture`,
    )
    .action(async (captures: string[], opts) => {
      setCode(await analyzeCommand(captures, opts, io));
    });

  program
    .command('explain')
    .description('what a finding kind means, its likely causes and what to check')
    .argument('[kind]', `one of: ${Object.keys(KINDS).join(', ')}`)
    .action((kind: string | undefined) => {
      if (kind === undefined) {
        const width = Math.max(...Object.keys(KINDS).map((k) => k.length));
        for (const [k, info] of Object.entries(KINDS)) io.stdout.write(`${k.padEnd(width)}  ${info.title}\n`);
        return;
      }
      const text = explain(kind);
      if (text === null) throw new UsageError(`unknown kind "${kind}"${didYouMean(kind, Object.keys(KINDS))}; run \`tcpstate explain\` for the list`);
      io.stdout.write(text);
    });

  registerReports(program, io, setCode);

  program
    .command('completion')
    .description('print a completion script for bash or zsh')
    .argument('<shell>', 'bash or zsh', parseChoice(SHELLS))
    .addHelpText(
      'after',
      `
Examples:
  source <(tcpstate completion bash)                       # in ~/.bashrc
  tcpstate completion zsh > "\${fpath[1]}/_tcpstate"       # then start a new zsh`,
    )
    .action((shell: (typeof SHELLS)[number]) => {
      io.stdout.write(completionScript(shell, program));
    });
  return program;
}

export async function run(argv: string[], io: Io = processIo()): Promise<number> {
  let code: number = ExitCode.OK;
  const program = makeProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    if (argv.length === 0) {
      io.stderr.write(program.helpInformation());
      return ExitCode.USAGE;
    }
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    if (e instanceof UsageError) {
      io.stderr.write(`tcpstate: ${printableLines(e.message)}\n`);
      return ExitCode.USAGE;
    }
    io.stderr.write(`tcpstate: internal error: ${printableLines((e as Error).message ?? String(e))}\n`);
    if (io.env.TCPSTATE_DEBUG) io.stderr.write(`${(e as Error).stack}\n`);
    return ExitCode.FAILURE;
  }
}
