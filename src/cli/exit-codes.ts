/** Exit codes, documented in the README. One pure function decides them. */
import type { CaptureStatus } from '../pipeline.js';

export const ExitCode = {
  OK: 0,
  /** A --fail-on check held on some capture. */
  CHECK_FAILED: 1,
  /** Bad command line. */
  USAGE: 2,
  /** A capture was unreadable or damaged (cut short included); what was read before the damage was written. */
  INPUT: 3,
  /** Internal failure: a bug of tcpstate's (TCPSTATE_DEBUG=1 prints its stack). */
  FAILURE: 4,
  /**
   * The database (or an output file) cannot be used: a full disk, a read-only file or file system, a lock
   * held by another process, a damaged file, another program's file or an older schema. One line names
   * the file, the cause and the remedy; the capture being written was not kept, what the database held before is intact.
   */
  DATABASE: 5,
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
