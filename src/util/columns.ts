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
  /** Each chunk's columns by element type (pushFrom), beside `chunks`. */
  private readonly typed: TypedLists[] = [];

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

  /**
   * Append a row; returns its index. Its values go in through `at` (the row's chunk) at
   * `index`: `const r = cols.add(); cols.at(r).ts[cols.index(r)] = ts;`. Stores under the
   * column's own name stay monomorphic, where a loop over the names would not.
   */
  add(): number {
    this.lastChunk();
    return this.length++;
  }

  /** The columns of the chunk holding row `row`. */
  at(row: number): Record<K, Column> {
    return this.chunks[(row >>> this.shift) - this.dropped];
  }

  /** Row `row`'s index in its chunk's columns. */
  index(row: number): number {
    return row & this.mask;
  }

  /** Append a copy of row `row` of `from` (a store of the same columns); returns its index. */
  pushFrom(from: Columns<K>, row: number): number {
    this.lastChunk();
    const i = this.length & this.mask;
    const j = row & from.mask;
    // One loop per element type (the chunk's columns by type, in the same order in both stores).
    const to = this.typed[(this.length >>> this.shift) - this.dropped];
    const src = from.typed[(row >>> from.shift) - from.dropped];
    for (let k = 0; k < to.f64.length; k++) to.f64[k][i] = src.f64[k][j];
    for (let k = 0; k < to.u32.length; k++) to.u32[k][i] = src.u32[k][j];
    for (let k = 0; k < to.u16.length; k++) to.u16[k][i] = src.u16[k][j];
    for (let k = 0; k < to.u8.length; k++) to.u8[k][i] = src.u8[k][j];
    return this.length++;
  }

  /** The chunk the next row goes into (a new one when the last is full). */
  private lastChunk(): Record<K, Column> {
    if ((this.length >>> this.shift) - this.dropped === this.chunks.length) this.chunk();
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
    this.typed.splice(0, n);
    this.dropped += n;
  }

  /** Bytes of the chunks held. */
  get bytes(): number {
    return this.chunks.length * this.chunkRows * this.rowBytes;
  }

  /** A new chunk at the end. */
  private chunk(): void {
    const n = this.chunkRows;
    const buf = new ArrayBuffer(n * this.rowBytes);
    const lists: TypedLists = { f64: [], u32: [], u16: [], u8: [] };
    let at = 0;
    // Made in one go (Object.fromEntries): properties added one by one under computed names may turn the object into a hash table.
    const c = Object.fromEntries(
      this.order.map((k) => {
        const col = new this.types[k](buf, at, n);
        at += n * this.types[k].BYTES_PER_ELEMENT;
        if (col instanceof Float64Array) lists.f64.push(col);
        else if (col instanceof Uint32Array) lists.u32.push(col);
        else if (col instanceof Uint16Array) lists.u16.push(col);
        else lists.u8.push(col);
        return [k, col];
      }),
    ) as Record<K, Column>;
    this.chunks.push(c);
    this.typed.push(lists);
  }
}

/** A chunk's columns by element type, for copying a row without a store that sees every type. */
interface TypedLists {
  f64: Float64Array[];
  u32: Uint32Array[];
  u16: Uint16Array[];
  u8: Uint8Array[];
}
