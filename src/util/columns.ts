/**
 * Rows of numbers kept as typed columns, a few bytes a row and no object per row.
 * Rows live in chunks of a fixed number of rows, each chunk one buffer for all its
 * columns: appending never copies what is there, and the chunks are of a size the
 * allocator can serve from memory given back by other chunked stores (the held
 * SYNs of a flood drain while these fill).
 */

export type ColumnType = Float64ArrayConstructor | Uint32ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor;
type Column = Float64Array | Uint32Array | Uint16Array | Uint8Array;

export const F64 = Float64Array;
export const U32 = Uint32Array;
export const U16 = Uint16Array;
export const U8 = Uint8Array;

export class Columns<K extends string> {
  /** Rows filled by push(). */
  length = 0;
  private readonly chunks: Array<Record<K, Column>> = [];
  private readonly shift: number;
  private readonly mask: number;
  /** Column names, widest element first (each column starts aligned in the chunk's buffer). */
  private readonly order: K[];
  private readonly rowBytes: number;

  /** `chunkRows`: rows per chunk, a power of two. */
  constructor(
    private readonly types: Record<K, ColumnType>,
    private readonly chunkRows = 8192,
  ) {
    if (!(chunkRows > 0 && (chunkRows & (chunkRows - 1)) === 0)) throw new RangeError(`chunkRows must be a power of two, not ${chunkRows}`);
    this.shift = Math.log2(chunkRows);
    this.mask = chunkRows - 1;
    this.order = (Object.keys(types) as K[]).sort((a, b) => types[b].BYTES_PER_ELEMENT - types[a].BYTES_PER_ELEMENT);
    this.rowBytes = this.order.reduce((n, k) => n + types[k].BYTES_PER_ELEMENT, 0);
  }

  /** Chunks let go from the front (dropFront): rows below dropped * chunkRows are gone. */
  private dropped = 0;

  /** Append a row; returns its index. */
  push(values: Record<K, number>): number {
    const c = this.lastChunk();
    const i = this.length & this.mask;
    for (const k of this.order) c[k][i] = values[k];
    return this.length++;
  }

  /** Append a copy of row `row` of `from` (a store of the same columns); returns its index. */
  pushFrom(from: Columns<K>, row: number): number {
    const c = this.lastChunk();
    const f = from.chunks[(row >>> from.shift) - from.dropped];
    const i = this.length & this.mask;
    const j = row & from.mask;
    for (const k of this.order) c[k][i] = f[k][j];
    return this.length++;
  }

  /** The chunk the next row goes into (a new one when the last is full). */
  private lastChunk(): Record<K, Column> {
    if ((this.length >>> this.shift) - this.dropped === this.chunks.length) this.chunks.push(this.chunk());
    return this.chunks[(this.length >>> this.shift) - this.dropped];
  }

  /** Every column as a function of the row (for the passes over all rows at the end). */
  columns(): Record<K, (row: number) => number> {
    const { chunks, shift, mask } = this;
    const out = {} as Record<K, (row: number) => number>;
    for (const k of this.order) out[k] = (row) => chunks[(row >>> shift) - this.dropped][k][row & mask];
    return out;
  }

  /** Let go of the chunks whose rows are all below `row` (a queue read from the front); rows keep their indexes. */
  dropFront(row: number): void {
    const n = Math.min(row >>> this.shift, this.length >>> this.shift) - this.dropped;
    if (n <= 0) return;
    this.chunks.splice(0, n);
    this.dropped += n;
  }

  /** Bytes of the chunks held. */
  get bytes(): number {
    return this.chunks.length * this.chunkRows * this.rowBytes;
  }

  private chunk(): Record<K, Column> {
    const n = this.chunkRows;
    const buf = new ArrayBuffer(n * this.rowBytes);
    const c = {} as Record<K, Column>;
    let at = 0;
    for (const k of this.order) {
      c[k] = new this.types[k](buf, at, n);
      at += n * this.types[k].BYTES_PER_ELEMENT;
    }
    return c;
  }
}
