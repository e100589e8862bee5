import { printable } from './names.js';

/**
 * Errors raised by the capture reader. Every one names where the damage is:
 * the byte offset in the (decompressed) capture stream and, when a record was
 * being read, its 1-based record number (the frame number Wireshark would show).
 */
export class CaptureError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly record: number | null = null,
    readonly kind: 'format' | 'unsupported' | 'truncated' | 'io' | 'interrupted' = 'format',
  ) {
    super(reason);
    this.name = 'CaptureError';
  }

  /** One line for a user: "FILE: byte offset N (record R): reason" (the name made printable). */
  describe(file: string, decompressed = false): string {
    const where = `${decompressed ? 'decompressed ' : ''}byte offset ${this.offset}`;
    const rec = this.record === null ? '' : `, record ${this.record}`;
    return `${printable(file)}: ${where}${rec}: ${this.reason}`;
  }
}

/**
 * Damage found while decompressing: where in the decompressed stream (everything before
 * `offset` was handed out and is kept), and whether it is only a cut-short end ('truncated').
 */
export class DecompressError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly kind: 'truncated' | 'io' = 'io',
  ) {
    super(reason);
    this.name = 'DecompressError';
  }
}
