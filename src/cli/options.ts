/** Parsers for option values: a bad number or duration is a usage error with a clear message. */
import { InvalidArgumentError } from 'commander';
import { isIP } from 'node:net';
import { parseChecks, type Check } from '../detect/checks.js';
import { SS_NAMES, TcpState, type TcpStateName } from '../tcp/rfc793/tcp-state.js';
import { parseAt } from './input.js';

const UNITS: Record<string, number> = { us: 1, µs: 1, ms: 1e3, s: 1e6, m: 60e6, min: 60e6, h: 3600e6 };

/** "60s", "500ms", "2m", "1.5h" or a bare number of seconds -> integer microseconds (> 0). */
export function parseDuration(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|min|h)?\s*$/.exec(value);
  if (m === null) throw new InvalidArgumentError(`"${value}" is not a duration (examples: 60s, 500ms, 2m, 1.5h)`);
  const us = Math.round(Number(m[1]) * UNITS[m[2] ?? 's']);
  if (us <= 0) throw new InvalidArgumentError(`"${value}" must be longer than zero`);
  return us;
}

/** A duration that may be 0 (off): "3s", "0". */
export function parseGrace(value: string): number {
  return /^\s*0+(\.0*)?\s*(us|µs|ms|s|m|min|h)?\s*$/.test(value) ? 0 : parseDuration(value);
}

/** A whole number >= 1. */
export function parseCount(value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`"${value}" is not a whole number of at least 1`);
  return Number(value);
}

/** A whole number of at least 0 (a size where 0 turns a thing off). */
export function parseSize(value: string): number {
  if (!/^\s*\d+\s*$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a whole number`);
  return Number(value);
}

/** --stack: the name of a stack profile. */
export function parseStack(value: string): 'linux' | 'rfc793' {
  if (value !== 'linux' && value !== 'rfc793') throw new InvalidArgumentError(`"${value}" is not a stack profile (linux or rfc793)`);
  return value;
}

/** A share between 0 and 1, as 0.5 or 50%. */
export function parseShare(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%)?\s*$/.exec(value);
  const v = m === null ? Number.NaN : Number(m[1]) / (m[2] ? 100 : 1);
  if (!(v > 0 && v <= 1)) throw new InvalidArgumentError(`"${value}" is not a share between 0 and 1 (examples: 0.5, 50%)`);
  return v;
}

/** --fail-on, repeatable: the checks of every occurrence. */
export function parseFailOn(value: string, previous?: Check[]): Check[] {
  try {
    return parseChecks(value, previous ?? []);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** A whole number >= 0 (--limit 0 is refused by parseCount; a port may be 0). */
export function parsePort(value: string): number {
  if (!/^\s*\d{1,5}\s*$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`"${value}" is not a port number (0 to 65535)`);
  return Number(value);
}

/** An IPv4 or IPv6 address (brackets allowed), as the database spells it: lower case, no brackets. */
export function parseHost(value: string): string {
  const addr = value.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (isIP(addr) === 0) throw new InvalidArgumentError(`"${value}" is not an IPv4 or IPv6 address`);
  return addr;
}

/**
 * ss's state filter words (established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait, closed,
 * close-wait, last-ack, listening, closing), the names ss prints (ESTAB, SYN-RECV, UNCONN...) and
 * RFC 793's (ESTABLISHED, SYN_RECEIVED...), in any case, '-' or '_' alike; also ss's groups:
 * connected (all but LISTEN and CLOSED), synchronized (connected but SYN-SENT), bucket (SYN-RECV, TIME-WAIT).
 */
const STATE_WORDS: Record<string, TcpStateName[]> = {
  ...Object.fromEntries(Object.values(TcpState).map((s) => [s, [s]])),
  ...Object.fromEntries(Object.entries(SS_NAMES).map(([rfc, ss]) => [ss.replace(/-/g, '_'), [rfc as TcpStateName]])),
  SYN_RECV: [TcpState.SYN_RECEIVED],
  LISTENING: [TcpState.LISTEN],
  CONNECTED: ['SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT'],
  SYNCHRONIZED: ['SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT'],
  BUCKET: ['SYN_RECEIVED', 'TIME_WAIT'],
};

/** --state, repeatable (and comma-separated): the RFC names, as the database stores them. */
export function parseStates(value: string, previous?: TcpStateName[]): TcpStateName[] {
  const out = [...(previous ?? [])];
  for (const word of value.split(',').map((w) => w.trim()).filter((w) => w.length > 0)) {
    const states = STATE_WORDS[word.toUpperCase().replace(/-/g, '_')];
    if (states === undefined) {
      throw new InvalidArgumentError(
        `"${word}" is not a TCP state (ss's names: ${Object.values(SS_NAMES).join(', ')}; RFC 793's: ${Object.values(TcpState).join(', ')}; or connected, synchronized, bucket)`,
      );
    }
    for (const s of states) if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** A choice among fixed words, e.g. --sort. */
export function parseChoice<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${choices.join(', ')}`);
    return value as T;
  };
}

/** Several choices among fixed words, comma-separated and repeatable, e.g. --reason. */
export function parseChoices<T extends string>(choices: readonly T[]): (value: string, previous?: T[]) => T[] {
  return (value: string, previous?: T[]) => {
    const out = [...(previous ?? [])];
    for (const w of value.split(',').map((x) => x.trim()).filter((x) => x.length > 0)) {
      if (!(choices as readonly string[]).includes(w)) throw new InvalidArgumentError(`"${w}" is not one of ${choices.join(', ')}`);
      if (!out.includes(w as T)) out.push(w as T);
    }
    return out;
  };
}

/** --since/--until: checked here (the forms of --at); turned into a time once the capture's start is known. */
export function parseTimeText(value: string): string {
  try {
    parseAt(value, 0);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message.replace(/^--at "[^"]*": /, ''));
  }
  return value;
}

/** Edit distance (insertions, deletions, substitutions; a swap of neighbours counts one). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** ' (did you mean "x"?)' for a word close to one of the candidates (a typo, or a part of one), else ''. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.includes(w) && w.length >= 3 ? 1 : distance(w, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(w.length / 4)) ? ` (did you mean "${best}"?)` : '';
}
