/** What every human report shares: counts with thousands separators, ss's state names, lines fitted to a terminal. */
import { SS_NAMES, type TcpStateName } from '../tcp/rfc793/tcp-state.js';

/** 1234567 -> "1,234,567" (en-US grouping whatever the locale: outputs stay comparable). */
export function thousands(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 socket", "2,048 sockets". */
export function plural(n: number, word: string): string {
  return `${thousands(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** The widest cell of column `i` (a loop: a spread of a million rows overflows the stack). */
export function widest(rows: readonly string[][], i: number): number {
  let w = 0;
  for (const r of rows) if (r[i].length > w) w = r[i].length;
  return w;
}

/** Append `lines` to `out` one by one (a spread of a million lines overflows the stack). */
export function append(out: string[], lines: readonly string[]): void {
  for (const l of lines) out.push(l);
}

/** A state as ss prints it (ESTAB, TIME-WAIT...); the database keeps RFC 793's names. */
export function ssName(state: string): string {
  // ss prints a closed socket UNCONN (it lists none for TCP); a connection's end state reads better as CLOSED.
  return state === 'CLOSED' ? 'CLOSED' : (SS_NAMES[state as TcpStateName] ?? state);
}

/**
 * One logical line fitted to `width` columns: broken at blanks into lines no wider than the
 * width, continuation lines indented by `indent` spaces. A word is never cut: one longer
 * than the room left goes on a line of its own, whole. Runs of blanks inside a line are kept
 * (table columns stay aligned); at a break they are dropped.
 */
export function wrap(line: string, width: number, indent: number): string[] {
  if (line.length <= width) return [line];
  const pad = ' '.repeat(Math.min(indent, Math.max(0, width - 20)));
  const out: string[] = [];
  // Tokens: each word with the blanks before it.
  const tokens = line.match(/\s*\S+/g) ?? [line];
  let cur = '';
  for (const t of tokens) {
    if (cur === '') {
      cur = (out.length === 0 ? '' : pad) + (out.length === 0 ? t : t.trimStart());
      continue;
    }
    if (cur.length + t.length <= width) cur += t;
    else {
      out.push(cur);
      cur = pad + t.trimStart();
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}

/**
 * A table row whose last cell is free text: kept on one line when it fits, else the text is
 * wrapped in a hanging indent under its column; when the columns before it leave too little
 * room, they are wrapped on their own and the text follows, indented by four.
 */
export function fitRow(prefix: string, text: string, width: number): string[] {
  const line = prefix + text;
  if (line.length <= width) return [line];
  const room = width - prefix.length;
  if (room >= 30) return wrap(line, width, prefix.length);
  return [...wrap(prefix.trimEnd(), width, 4), ...wrap('    ' + text, width, 4)];
}

/** The width to fit: the terminal's columns when writing to one (else null: full lines for a pipe). */
export function terminalWidth(stdout: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv): number | null {
  if (!stdout.isTTY) return null;
  const w = stdout.columns ?? Number(env.COLUMNS);
  return Number.isFinite(w) && w >= 20 ? w : 80;
}
