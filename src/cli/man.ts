/**
 * The man page, tcpstate(1), made from the command line's own help: each command's usage,
 * description, options with their descriptions and the text after them (exit codes, examples)
 * are exactly what `tcpstate COMMAND --help` prints, laid out in roff.
 */
import type { Command } from 'commander';

/** Text as roff reads it: a backslash is escaped, a dash is a minus (options copy and paste), a line may not start a request. */
function roff(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

/** What a command prints after its options (addHelpText 'after'): its full help minus the generated part. */
function afterText(c: Command): string {
  let full = '';
  let base = '';
  const saved = { ...(c.configureOutput() as object) };
  c.configureOutput({ writeOut: (s) => (full += s), writeErr: (s) => (full += s) });
  try {
    c.outputHelp();
    base = c.helpInformation();
  } finally {
    c.configureOutput(saved);
  }
  const at = full.indexOf(base);
  return (at < 0 ? '' : full.slice(at + base.length)).replace(/^\n+/, '').trimEnd();
}

function section(c: Command, heading: string): string[] {
  const help = c.createHelp();
  const out = [heading, `.B ${roff(help.commandUsage(c))}`, '.PP', roff(c.description())];
  const args = help.visibleArguments(c);
  if (args.length > 0) {
    out.push('.PP', 'Arguments:');
    for (const a of args) out.push('.TP', `.I ${roff(help.argumentTerm(a))}`, roff(help.argumentDescription(a)));
  }
  out.push('.PP', 'Options:');
  for (const o of help.visibleOptions(c)) out.push('.TP', `.B ${roff(help.optionTerm(o))}`, roff(help.optionDescription(o)));
  const after = afterText(c);
  if (after !== '') out.push('.PP', '.nf', roff(after), '.fi');
  return out;
}

export function manPage(program: Command, version: string): string {
  const lines = [
    `.TH TCPSTATE 1 "" "tcpstate ${roff(version)}" "User Commands"`,
    '.SH NAME',
    `tcpstate \\- ${roff(program.description())}`,
    '.SH SYNOPSIS',
    '.B tcpstate',
    '.I command',
    '[options] [arguments]',
    '.PP',
    '.B tcpstate',
    '.I command',
    '.B \\-\\-help',
    '.SH DESCRIPTION',
    roff(program.description()),
    'Each command below is documented as its',
    '.B \\-\\-help',
    'prints it. The project README holds the whole manual: the database, the findings and how each is checked.',
    '.SH COMMANDS',
  ];
  for (const c of program.commands) lines.push(...section(c, `.SS ${c.name()}`));
  lines.push('.SH ENVIRONMENT', '.TP', '.B NO_COLOR', 'plain text even on a terminal.', '.SH SEE ALSO', '.BR tcpdump (1),', '.BR tshark (1),', '.BR ss (8)');
  return lines.join('\n') + '\n';
}
