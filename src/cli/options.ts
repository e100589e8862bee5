/** Parsers for option values: a bad number or duration is a usage error with a clear message. */
import { InvalidArgumentError } from 'commander';
import { parseChecks, type Check } from '../detect/checks.js';

const UNITS: Record<string, number> = { us: 1, µs: 1, ms: 1e3, s: 1e6, m: 60e6, min: 60e6, h: 3600e6 };

/** "60s", "500ms", "2m", "1.5h" or a bare number of seconds -> integer microseconds (> 0). */
export function parseDuration(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|min|h)?\s*$/.exec(value);
  if (m === null) throw new InvalidArgumentError(`"${value}" is not a duration (examples: 60s, 500ms, 2m, 1.5h)`);
  const us = Math.round(Number(m[1]) * UNITS[m[2] ?? 's']);
  if (us <= 0) throw new InvalidArgumentError(`"${value}" must be longer than zero`);
  return us;
}

/** A whole number >= 1. */
export function parseCount(value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`"${value}" is not a whole number of at least 1`);
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
