/**
 * SYN floods per listener, settled as packet time passes them. A listener's half-open attempts are
 * counted per 100 ms slot; a flood is where a sliding second (ten slots) holds at least the rate.
 * Whether an attempt was half-open is known when its connection ends, and only a connection whose
 * client may still end in SYN_SENT can still add one: so below the earliest such connection's start
 * (and the packet time, less `lateUs` for first packets whose times go backwards) the counts are
 * final. Attempts ten empty slots apart never meet in one second or one episode, so a run of them
 * followed by ten final empty slots is decided then: its episodes made, its attempts let go.
 * Completed, refused and SYN-cookie attempts only count inside an episode: they wait while an
 * episode could still cover them, and are added to it (or let go) when it is known, however late
 * their connection ends (a long-lived one). What is kept is what is recent, and the episodes.
 */
export const SLOT_US = 100_000;

export const ATTEMPT = 1;
export const HALF_OPEN = 2;
export const SYN_ACKED = 4;
export const REFUSED = 8;
export const COOKIE = 16;
export const COMPLETED = 32;

/** One flood episode at a listener: its range of slots, and what its attempts show. */
export interface Episode {
  /** µs: the range [start, end) over which its attempts are counted (from the first hot slot's second to its last hot slot). */
  start: number;
  end: number;
  /** The first and last half-open attempt in it (what covers a held half-open finding). */
  firstTs: number;
  lastTs: number;
  peak: number;
  halfOpen: number;
  synAcked: number;
  refused: number;
  cookies: number;
  completed: number;
  sources: number;
}

/** Attempts of one listener waiting to be settled: time, client, flags. */
class Attempts {
  n = 0;
  ts = new Float64Array(8);
  client = new Float64Array(8);
  flags = new Uint8Array(8);
  /** The earliest ts among them (Infinity: none). */
  minTs = Infinity;

  push(ts: number, client: number, flags: number): void {
    if (this.n === this.ts.length) {
      const grow = <T extends Float64Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(2 * a.length);
        b.set(a);
        return b;
      };
      this.ts = grow(this.ts);
      this.client = grow(this.client);
      this.flags = grow(this.flags);
    }
    this.ts[this.n] = ts;
    this.client[this.n] = client;
    this.flags[this.n++] = flags;
    if (ts < this.minTs) this.minTs = ts;
  }

  /** Keep the attempts `keep` says yes to, in their order. */
  filter(keep: (i: number) => boolean): void {
    let k = 0;
    let min = Infinity;
    for (let i = 0; i < this.n; i++) {
      if (!keep(i)) continue;
      this.ts[k] = this.ts[i];
      this.client[k] = this.client[i];
      this.flags[k++] = this.flags[i];
      if (this.ts[i] < min) min = this.ts[i];
    }
    this.n = k;
    this.minTs = min;
    // Let a drained flood's arrays go.
    if (this.ts.length > 64 && 4 * k < this.ts.length) {
      const size = Math.max(8, 2 * k);
      this.ts = this.ts.slice(0, size);
      this.client = this.client.slice(0, size);
      this.flags = this.flags.slice(0, size);
    }
  }

  get bytes(): number {
    return this.ts.length * 17;
  }
}

class Listener {
  /** Half-open attempts not yet settled. */
  readonly halfOpen = new Attempts();
  /** Other attempts (completed, refused, cookie) that an episode may yet cover. */
  readonly others = new Attempts();
  /** Slots below this are settled: no episode will begin below it but those in `episodes`. */
  settledSlot = -Infinity;
  readonly episodes: Episode[] = [];
}

export class SynFloods {
  private readonly listeners = new Map<number, Listener>();
  /** No half-open attempt still to come began before this (µs). */
  settled = -Infinity;
  /** Half-open attempts that came from before `settled` (times that went back more than `lateUs`): judged as they come. */
  late = 0;

  constructor(
    private readonly rate: number,
    private readonly lateUs: number,
  ) {}

  /** An ended connection's attempt at listener `id` (flags: ATTEMPT and what became of it). */
  attempt(id: number, ts: number, client: number, flags: number): void {
    let l = this.listeners.get(id);
    if (flags & HALF_OPEN) {
      if (ts < this.settled) this.late++;
      if (l === undefined) this.listeners.set(id, (l = new Listener()));
      l.halfOpen.push(ts, client, flags);
      return;
    }
    if (!(flags & (REFUSED | COOKIE | COMPLETED))) return;
    const slot = Math.floor(ts / SLOT_US);
    if (l === undefined) {
      // No episode here, nor one to come below the settled slots' second.
      if (slot < Math.floor(this.settled / SLOT_US) - 9) return;
      this.listeners.set(id, (l = new Listener()));
    }
    if (slot < l.settledSlot) addTo(l.episodes, ts, flags);
    else l.others.push(ts, client, flags);
  }

  /** The episodes of listener `id` so far, in time order (settled ones final but for late attempts' counts). */
  episodes(id: number): readonly Episode[] {
    return this.listeners.get(id)?.episodes ?? [];
  }

  /** Whether an attempt at `ts` to listener `id` is settled: no episode to come can cover it. */
  isSettled(id: number, ts: number): boolean {
    return ts < this.settled && ts < (this.listeners.get(id)?.halfOpen.minTs ?? Infinity);
  }

  /** Attempts before `w` (µs) are all known: settle what they decide. */
  settle(synSentSince: number, now: number): void {
    const w = Math.min(synSentSince, now - this.lateUs);
    if (w > this.settled) this.settleTo(w);
  }

  /** The end of the capture: every attempt is known. */
  finish(): void {
    this.settleTo(Infinity);
  }

  private settleTo(w: number): void {
    this.settled = w;
    const b = w === Infinity ? Infinity : Math.floor(w / SLOT_US);
    for (const [id, l] of this.listeners) {
      const h = l.halfOpen;
      if (h.n > 0 && Math.floor(h.minTs / SLOT_US) + 10 < b) this.runs(l, b);
      const next = h.n > 0 ? Math.floor(h.minTs / SLOT_US) : Infinity;
      l.settledSlot = Math.max(l.settledSlot, Math.min(b, next) - 9);
      const o = l.others;
      o.filter((i) => {
        if (Math.floor(o.ts[i] / SLOT_US) >= l.settledSlot) return true;
        addTo(l.episodes, o.ts[i], o.flags[i]);
        return false;
      });
      if (h.n === 0 && o.n === 0 && l.episodes.length === 0) this.listeners.delete(id);
    }
  }

  /** Settle the runs of half-open attempts followed by ten empty slots below slot `b`. */
  private runs(l: Listener, b: number): void {
    const h = l.halfOpen;
    const order = new Uint32Array(h.n);
    let sorted = true;
    for (let i = 0; i < h.n; i++) {
      order[i] = i;
      if (i > 0 && h.ts[i] < h.ts[i - 1]) sorted = false;
    }
    // Attempts mostly come in time order (connections end in the order they began): then the
    // order is already the stable sort's, and a sort with a comparator of a flood's million is saved.
    if (!sorted) order.sort((x, y) => h.ts[x] - h.ts[y]);
    let from = 0;
    let done = 0;
    for (let j = 0; j < order.length; j++) {
      const slot = Math.floor(h.ts[order[j]] / SLOT_US);
      if (j + 1 < order.length && Math.floor(h.ts[order[j + 1]] / SLOT_US) <= slot + 10) continue;
      if (slot + 10 >= b) break;
      this.run(l, h, order.subarray(from, j + 1));
      from = done = j + 1;
    }
    if (done === 0) return;
    const left = new Uint8Array(h.n);
    for (let j = done; j < order.length; j++) left[order[j]] = 1;
    h.filter((i) => left[i] === 1);
  }

  /** One run of half-open attempts (`rows`, in time order), apart from any other: its episodes. */
  private run(l: Listener, h: Attempts, rows: Uint32Array): void {
    if (rows.length < this.rate) return;
    // Attempts per slot: the rows are in time order, so their slots come in order.
    const keys: number[] = [];
    const counts: number[] = [];
    for (let q = 0; q < rows.length; q++) {
      const k = Math.floor(h.ts[rows[q]] / SLOT_US);
      if (keys.length > 0 && keys[keys.length - 1] === k) counts[counts.length - 1]++;
      else {
        keys.push(k);
        counts.push(1);
      }
    }
    // A window's count only rises at a slot with attempts, so those are the ones to look at: the
    // second ending at slot keys[m] holds the slots from keys[m] - 9 on (a sliding sum).
    const hot: Array<{ first: number; last: number; peak: number }> = [];
    let sum = 0;
    for (let m = 0, p = 0; m < keys.length; m++) {
      const k = keys[m];
      sum += counts[m];
      while (keys[p] < k - 9) sum -= counts[p++];
      const n = sum;
      if (n < this.rate) continue;
      const cur = hot[hot.length - 1];
      if (cur !== undefined && k - cur.last <= 10) {
        cur.last = k;
        cur.peak = Math.max(cur.peak, n);
      } else hot.push({ first: k, last: k, peak: n });
    }
    for (const { first, last, peak } of hot) {
      const start = (first - 9) * SLOT_US;
      const end = (last + 1) * SLOT_US;
      let halfOpen = 0;
      let synAcked = 0;
      let cookies = 0;
      let firstTs = -1;
      let lastTs = -1;
      const sources = new Float64Array(rows.length);
      for (const r of rows) {
        const ts = h.ts[r];
        if (ts < start || ts >= end) continue;
        const fl = h.flags[r];
        if (fl & COOKIE) cookies++;
        if (fl & SYN_ACKED) synAcked++;
        if (firstTs < 0) firstTs = ts;
        lastTs = ts;
        sources[halfOpen++] = h.client[r];
      }
      if (firstTs < 0) [firstTs, lastTs] = [start, end];
      const seen = sources.subarray(0, halfOpen).sort();
      let distinct = 0;
      for (let k = 0; k < seen.length; k++) if (k === 0 || seen[k - 1] !== seen[k]) distinct++;
      l.episodes.push({ start, end, firstTs, lastTs, peak, halfOpen, synAcked, refused: 0, cookies, completed: 0, sources: distinct });
    }
  }

  /** Bytes held for attempts not yet settled (approximately). */
  get retainedBytes(): number {
    let bytes = 0;
    for (const l of this.listeners.values()) bytes += 64 + l.halfOpen.bytes + l.others.bytes + 96 * l.episodes.length;
    return bytes;
  }
}

/** A completed, refused or cookie attempt at `ts`: counted in the episode whose range holds it, if any. */
function addTo(episodes: Episode[], ts: number, flags: number): void {
  for (const e of episodes) {
    if (ts < e.start || ts >= e.end) continue;
    if (flags & REFUSED) e.refused++;
    if (flags & COOKIE) e.cookies++;
    if (flags & COMPLETED) e.completed++;
    return;
  }
}
