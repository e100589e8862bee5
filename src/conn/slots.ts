/**
 * Dense slots for an analyzer's per-connection state: its columns are indexed by a slot of
 * its own, not by the connection row, so they are as long as the connections the analyzer
 * holds, not as the whole table. Under a SYN flood the table has a row per spoofed SYN; an
 * analyzer that lets go of them early (Zeek after its attempt timer, Wireshark's bounded
 * quiet conversations) or keeps only a little for them then costs nothing for those rows
 * beyond the 4 bytes of the row's slot number.
 *
 *   const s = new Slots(table, { nextSeq: Uint32Array, ... }, 2);  // 2 records a slot (two directions)
 *   const slot = s.bind(row);     // when the analyzer starts holding the row
 *   s.c.nextSeq[2 * slot + dir]   // its fields
 *   s.unbind(row);                // when it lets go: the slot is reused
 *
 * A row may instead name a record of the analyzer's own compact form (Zeek's lone SYNs,
 * tcp/zeek/lone-syns.ts), in the same column: `mark(row, record)`, `markOf(row)`.
 */
import { ColumnSet, type ColumnArrays, type ColumnSpec } from './columns.js';
import type { ConnTable } from './table.js';

export const NO_SLOT = -1;

export class Slots<S extends ColumnSpec> {
  /** The columns, `perSlot` records per slot. Re-read after bind(): they grow. */
  readonly set: ColumnSet<S>;
  /** Per row: its slot + 1 (0: none), or -(record + 1) for a compact record (`mark`). A column of the table. */
  private readonly rowSlot: ColumnSet<{ slot: Int32ArrayConstructor }>;
  /** Per slot: the next free slot, or NO_SLOT. */
  private nextFree = new Int32Array(64);
  private free = NO_SLOT;
  private top = 0;
  private used = 0;

  constructor(
    table: ConnTable,
    spec: S,
    private readonly perSlot = 1,
    capacity = 64,
  ) {
    this.rowSlot = table.columns({ slot: Int32Array });
    this.set = new ColumnSet(spec, capacity * perSlot);
    this.nextFree = new Int32Array(capacity);
  }

  get c(): ColumnArrays<S> {
    return this.set.c;
  }

  /** Slots in use. */
  get size(): number {
    return this.used;
  }

  /** Slots the columns have room for (bytes: capacity * perSlot * set.rowBytes). */
  get capacity(): number {
    return this.nextFree.length;
  }

  /** The row's slot, or NO_SLOT. */
  slotOf(row: number): number {
    const v = this.rowSlot.c.slot[row];
    return v > 0 ? v - 1 : NO_SLOT;
  }

  /** The compact record the row names (`mark`), or NO_SLOT. */
  markOf(row: number): number {
    const v = this.rowSlot.c.slot[row];
    return v < 0 ? -v - 1 : NO_SLOT;
  }

  /** The row names compact record `record` (>= 0) instead of a slot, or nothing (NO_SLOT). The row must have no slot. */
  mark(row: number, record: number): void {
    this.rowSlot.c.slot[row] = -record - 1;
  }

  /** A slot for the row (its own if it has one; a compact mark is replaced); a new slot's fields are whatever its last user left: set them. */
  bind(row: number): number {
    const have = this.rowSlot.c.slot[row] - 1;
    if (have >= 0) return have;
    let s = this.free;
    if (s !== NO_SLOT) this.free = this.nextFree[s];
    else {
      s = this.top++;
      if (s >= this.nextFree.length) {
        const grown = new Int32Array(this.nextFree.length * 2);
        grown.set(this.nextFree);
        this.nextFree = grown;
        this.set.ensure(grown.length * this.perSlot);
      }
    }
    this.rowSlot.c.slot[row] = s + 1;
    this.used++;
    return s;
  }

  /** The row lets go of its slot (nothing when it has none). */
  unbind(row: number): void {
    const s = this.rowSlot.c.slot[row] - 1;
    if (s < 0) return; // none, or a compact mark (left as it is)
    this.rowSlot.c.slot[row] = 0;
    this.nextFree[s] = this.free;
    this.free = s;
    this.used--;
  }
}
