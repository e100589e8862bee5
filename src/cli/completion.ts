/**
 * `tcpstate completion bash|zsh`: a completion script read from the command line itself (the
 * commands, their options and what each option's value is), so it cannot fall behind `--help`.
 */
import type { Command, Option } from 'commander';
import { KINDS } from '../detect/catalogue.js';
import { EXPORT_FORMATS } from '../report/export.js';
import { CONN_SORTS, EXPORT_TABLES } from '../sink/read.js';
import { END_REASONS } from './conns.js';

export const SHELLS = ['bash', 'zsh'] as const;

/** What an option's value is: a file, one of some words, or something to type (nothing offered). */
type Value = { files: true } | { words: readonly string[] } | null;

const SEVERITIES = ['info', 'note', 'warning', 'error'];
const KIND_NAMES = Object.keys(KINDS);

/** Options whose value is not free text, by long name; every other option with a value gets nothing offered. */
const VALUES: Record<string, Value> = {
  '--db': { files: true },
  '--junit': { files: true },
  '--output': { files: true },
  '--format': { words: EXPORT_FORMATS },
  '--table': { words: [...EXPORT_TABLES, 'conns'] },
  '--sort': { words: CONN_SORTS },
  '--reason': { words: END_REASONS },
  '--stack': { words: ['linux', 'rfc793'] },
  '--severity': { words: SEVERITIES },
  '--kind': { words: KIND_NAMES },
  '--state': { words: ['established', 'syn-sent', 'syn-recv', 'fin-wait-1', 'fin-wait-2', 'time-wait', 'closed', 'close-wait', 'last-ack', 'listening', 'closing'] },
};

/** Arguments that are not files, by command. */
const ARGUMENT_WORDS: Record<string, readonly string[]> = {
  explain: KIND_NAMES,
  completion: SHELLS,
};

interface Spec {
  name: string;
  summary: string;
  options: Array<{ flags: string[]; takesValue: boolean; value: Value; summary: string }>;
}

function specs(program: Command): Spec[] {
  return program.commands.map((c) => ({
    name: c.name(),
    summary: firstLine(c.description()),
    options: [...(c.options as readonly Option[]), helpOption()].map((o) => ({
      flags: [o.short, o.long].filter((f): f is string => f !== undefined),
      takesValue: o.required || o.optional,
      value: o.required || o.optional ? (VALUES[o.long ?? ''] ?? null) : null,
      summary: firstLine(o.description),
    })),
  }));
}

function helpOption(): Option {
  return { short: '-h', long: '--help', required: false, optional: false, description: 'display help for command' } as Option;
}

function firstLine(s: string): string {
  return s.split(/\n|; |\. /)[0];
}

export function completionScript(shell: (typeof SHELLS)[number], program: Command): string {
  return shell === 'bash' ? bash(specs(program)) : zsh(specs(program));
}

/** A word list for a shell: every word here is made of [-a-z0-9_], so nothing needs quoting. */
function words(list: readonly string[]): string {
  return list.join(' ');
}

function bash(commands: Spec[]): string {
  const valueCases: string[] = [];
  const optionCases: string[] = [];
  for (const c of commands) {
    for (const o of c.options.filter((x) => x.takesValue)) {
      const pattern = o.flags.map((f) => `"${c.name} ${f}"`).join('|');
      const action = o.value === null ? 'return 0' : 'files' in o.value ? 'COMPREPLY=($(compgen -f -- "$cur")); return 0' : `COMPREPLY=($(compgen -W "${words(o.value.words)}" -- "$cur")); return 0`;
      valueCases.push(`    ${pattern}) ${action} ;;`);
    }
    optionCases.push(`      ${c.name}) COMPREPLY=($(compgen -W "${words(c.options.flatMap((o) => o.flags))}" -- "$cur")) ;;`);
  }
  const argumentCases = Object.entries(ARGUMENT_WORDS).map(([c, list]) => `      ${c}) COMPREPLY=($(compgen -W "${words(list)}" -- "$cur")) ;;`);
  return `# bash completion for tcpstate: source <(tcpstate completion bash)
_tcpstate() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd= i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in -*) ;; *) cmd=\${COMP_WORDS[i]}; break ;; esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "${words(commands.map((c) => c.name))} --help --version" -- "$cur"))
    return 0
  fi
  case "$cmd $prev" in
${valueCases.join('\n')}
  esac
  if [[ $cur == -* ]]; then
    case $cmd in
${optionCases.join('\n')}
    esac
  else
    case $cmd in
${argumentCases.join('\n')}
      *) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
  fi
  return 0
}
complete -o filenames -F _tcpstate tcpstate
`;
}

/** Text inside a zsh single-quoted _arguments spec: no quote, and none of the spec's own brackets or colons. */
function zshText(s: string): string {
  return s.replace(/'/g, '').replace(/[[\]:\\]/g, ' ').replace(/`/g, '');
}

function zsh(commands: Spec[]): string {
  const describe = commands.map((c) => `    '${c.name}:${zshText(c.summary)}'`).join('\n');
  const cases = commands.map((c) => {
    const specsOf = c.options.flatMap((o) =>
      o.flags.map((f) => {
        const value = !o.takesValue ? '' : o.value === null ? ':value: ' : 'files' in o.value ? ':file:_files' : `:value:(${words(o.value.words)})`;
        return `'${f}[${zshText(o.summary)}]${value}'`;
      }),
    );
    const args = ARGUMENT_WORDS[c.name];
    specsOf.push(args === undefined ? "'*:file:_files'" : `':argument:(${words(args)})'`);
    return `    ${c.name})\n      _arguments -s \\\n        ${specsOf.join(' \\\n        ')} ;;`;
  });
  return `#compdef tcpstate
# zsh completion for tcpstate: tcpstate completion zsh > "\${fpath[1]}/_tcpstate"
_tcpstate() {
  local -a commands
  commands=(
${describe}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands command commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases.join('\n')}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _tcpstate "$@"
else
  compdef _tcpstate tcpstate
fi
`;
}
