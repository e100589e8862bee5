/**
 * `v` as a small integer when it is one. A number read from an array of doubles is a
 * double even when it is 3; stored into a field that has only ever held small integers,
 * it makes V8 switch that field to a boxed number in every object of the shape (16 more
 * bytes each). State thawed from such arrays goes through this.
 */
export function smallInt(v: number): number {
  return (v | 0) === v ? v | 0 : v;
}

/**
 * Builds the arrays of numbers that idle state is frozen into: numbers are added to one
 * reused array of doubles, and `take` copies them out at exactly their size (one allocation,
 * no spare capacity). One writer serves every freeze; freezes do not nest.
 */
export class NumberWriter {
  private readonly d: number[] = [0.5]; // an array of doubles from the start
  private n = 0;

  add(v: number): void {
    if (this.n === this.d.length) this.d.push(v);
    else this.d[this.n] = v;
    this.n++;
  }

  addAll(values: readonly number[]): void {
    for (let i = 0; i < values.length; i++) this.add(values[i]);
  }

  take(): number[] {
    const out = this.d.slice(0, this.n);
    this.n = 0;
    return out;
  }
}

/** The writer freezes use. */
export const freezer = new NumberWriter();

/** Reads back, in order, the numbers a freeze wrote (small integers as such: see smallInt). */
export class NumberReader {
  at = 0;
  constructor(private readonly d: readonly number[]) {}

  next(): number {
    return smallInt(this.d[this.at++]);
  }
}
