/** Exit codes, documented in the README. One pure function decides them. */
import type { CaptureStatus } from '../analyze/capture.js';

export const ExitCode = {
  OK: 0,
  /** A --fail-on check held on some capture. */
  CHECK_FAILED: 1,
  /** Bad command line. */
  USAGE: 2,
  /** A capture was unreadable or damaged (cut short included); what was read before the damage was written. */
  INPUT: 3,
  /** Internal failure (a bug), or the database could not be opened: reported with a one-line message. */
  FAILURE: 4,
  /** Interrupted by Ctrl-C (SIGINT): what was read is written (status `interrupted`). 128 + the signal's number, as shells report it. */
  INTERRUPTED: 130,
  /** The same, by SIGTERM. */
  TERMINATED: 143,
} as const;

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Damaged input outranks a failed check: its findings may be incomplete. */
export function exitCodeFor(statuses: readonly CaptureStatus[], opts: { allowTruncated?: boolean; checkFailed?: boolean; stoppedBy?: StopSignal | null } = {}): number {
  // An interrupted run says so first, whatever it read: the user stopped it.
  if (opts.stoppedBy) return opts.stoppedBy === 'SIGTERM' ? ExitCode.TERMINATED : ExitCode.INTERRUPTED;
  for (const s of statuses) {
    if (s === 'error') return ExitCode.INPUT;
    if (s === 'truncated' && !opts.allowTruncated) return ExitCode.INPUT;
  }
  return opts.checkFailed ? ExitCode.CHECK_FAILED : ExitCode.OK;
}
