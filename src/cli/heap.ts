/**
 * The garbage collector's growth policy for long analyses. V8 lets its heap grow to as much as
 * four times what was live after a full collection before it collects again, and a capture's
 * connection state dies old (a connection is held through TIME_WAIT): on the bench capture
 * 590 MB live at most made a peak of 1.7 GB resident, and 2.6 GB on a capture five times longer
 * with the same live peak. A growth of half what is live bounds that: 1.1 GB for both, for about a
 * tenth more time (README, Performance). Set when one capture is analysed at a time: the policy is
 * the process's, and with several workers busy their collections compete for the same cores.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 50;

/** Once per process, unless node was started with a growth policy of its own (node flags or NODE_OPTIONS). */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  if (bounded) return false;
  bounded = true;
  if ([...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}

let bounded = false;
