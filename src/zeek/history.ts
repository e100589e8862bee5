/**
 * Zeek's connection history string: the letters, the "already seen" bitmask
 * behind the once-per-direction letters, and the log-scaled counters behind
 * C/G/T/W (a letter at the 1st, 10th, 100th... event).
 */

/** Bits of the seen-mask, per letter; a responder's bits are shifted left by 16. */
export const HistBit = {
  SYN: 0x1,
  FIN: 0x2,
  RST: 0x4,
  FIN_RST: 0x8,
  DATA: 0x10,
  ACK: 0x20,
  MULTI_FLAG: 0x40,
} as const;

export class ConnHistory {
  text = '';
  private seen = 0;

  add(code: string): void {
    this.text += code;
  }

  /** Zeek's CheckHistory: true when the letter was already seen, else records it and returns false. */
  check(mask: number, code: string): boolean {
    if ((this.seen & mask) !== 0) return true;
    this.seen |= mask;
    this.add(code);
    return false;
  }

  /** Used by the SYN-ACK-first flip: the letters change, the seen-mask does not. */
  replace(text: string): void {
    this.text = text;
  }
}

/** One log-scaled history counter (ScaledHistoryEntry with base 10). */
export class ScaledCounter {
  private count = 0;
  private threshold = 1;

  /** Counts one event; true when this event crosses the next power of ten (a letter is due). */
  bump(): boolean {
    if (++this.count !== this.threshold) return false;
    const next = (this.threshold * 10) % 0x100000000;
    if (next <= this.threshold) this.count = 0;
    else this.threshold = next;
    return true;
  }
}
