/**
 * Port exhaustion, judged as connections start: the distinct source ports a client used towards
 * one destination (listener) within any window of one TIME_WAIT length. What a connection adds
 * (client, destination, port, first packet time) is known at its first packet, so the windows
 * slide over the connections in the order of their first packets, and only the last TIME_WAIT
 * length of them (plus as much again, `lagUs`, for first packets whose times go backwards) is
 * kept, whatever the length of the capture.
 *
 * A window's distinct ports are counted only for a pair with at least `limit` connections in it
 * (fewer connections cannot use `limit` ports). Which pairs those may be, a fixed table of counts
 * by a hash of the pair tells (a count there is at least the pair's own): the others cost nothing
 * but their connections in the ring, even a flood of spoofed sources, each a pair of its own.
 */
import type { ConnTable } from '../conn/table.js';

/** A pair that had `limit` connections in one window: its ports in the current window, and its peak so far. */
interface Busy {
  /** Connections of the pair in the current window. */
  n: number;
  /** Connections in the current window by source port (null once the window has none of the pair's). */
  ports: Uint32Array | null;
  distinct: number;
  peak: number;
  peakTs: number;
}

/** The pair a finding is about: client and destination as text, made once per pair that reaches the limit. */
export interface PortPeak {
  clientV4: number;
  clientV6: string | null;
  serverAddr: string;
  serverPort: number;
  peak: number;
  peakTs: number;
}

const BUCKETS = 1 << 16;

/** A pair's bucket: its key's bits folded (the client address is in the high bits, the destination in the low ones). */
function bucket(key: number): number {
  const hi = Math.floor(key / 2 ** 20);
  return (Math.imul(hi ^ (hi >>> 16), 0x45d9f3b) ^ Math.imul(key - hi * 2 ** 20, 0x27d4eb2d)) >>> 16;
}

export class PortWindows {
  /** Destinations (server address and port) as small integers, by key: IPv4 address * 65536 + port, or text for IPv6. */
  private readonly listenerIds = new Map<number | string, number>();
  private readonly listenerAddr: string[] = [];
  private readonly listenerPort: number[] = [];
  private readonly v6Ids = new Map<string, number>();
  private readonly v6Names: string[] = [];
  /**
   * Connections by first packet time, in a ring: [head, proc) are in the window (processed),
   * [proc, tail) wait `lagUs` in time order for any that start earlier.
   */
  private ts = new Float64Array(1024);
  private key = new Float64Array(1024);
  private port = new Uint16Array(1024);
  private head = 0;
  private proc = 0;
  private tail = 0;
  private latest = -Infinity;
  /** Connections in the window by a hash of their pair: at least each pair's own count. */
  private readonly buckets = new Int32Array(BUCKETS);
  private readonly busy = new Map<number, Busy>();
  /** First packets earlier than a connection already in the windows: their windows are judged as they come (see README). */
  late = 0;

  constructor(
    private readonly windowUs: number,
    private readonly limit: number,
    private readonly lagUs = windowUs,
  ) {}

  /** Bytes held now (rings and per-pair state, approximately): what tests and the memory figures read. */
  get retainedBytes(): number {
    let bytes = this.ts.length * 18 + this.buckets.byteLength;
    for (const b of this.busy.values()) bytes += 64 + (b.ports === null ? 0 : b.ports.byteLength);
    return bytes;
  }

  /** A connection starts on `row` of `conn`, its client on end `clientEnd`, at `ts`. */
  start(conn: ConnTable, row: number, clientEnd: number, ts: number): void {
    const serverEnd = 1 - clientEnd;
    let client: number;
    let lkey: number | string;
    if (conn.family(row) === 4) {
      client = conn.addressV4(row, clientEnd);
      lkey = conn.addressV4(row, serverEnd) * 65536 + conn.port(row, serverEnd);
    } else {
      const name = conn.address(row, clientEnd);
      let id = this.v6Ids.get(name);
      if (id === undefined) this.v6Ids.set(name, (id = this.v6Names.push(name) - 1));
      client = 2 ** 32 + id;
      lkey = `${conn.address(row, serverEnd)} ${conn.port(row, serverEnd)}`;
    }
    let listener = this.listenerIds.get(lkey);
    if (listener === undefined) {
      this.listenerIds.set(lkey, (listener = this.listenerAddr.push(conn.address(row, serverEnd)) - 1));
      this.listenerPort.push(conn.port(row, serverEnd));
    }
    this.add(client * 2 ** 20 + listener, conn.port(row, clientEnd), ts);
  }

  /** A connection of pair `key` (client id * 2^20 + destination id) from source port `port` starts at `ts`. */
  add(key: number, port: number, ts: number): void {
    if (this.tail - this.head === this.ts.length) this.grow();
    const m = this.ts.length - 1;
    // In time order among those waiting; equal times keep their arrival order.
    let i = this.tail++;
    while (i > this.proc && this.ts[(i - 1) & m] > ts) {
      const j = (i - 1) & m;
      this.ts[i & m] = this.ts[j];
      this.key[i & m] = this.key[j];
      this.port[i & m] = this.port[j];
      i--;
    }
    if (i === this.proc && this.proc > this.head && this.ts[(i - 1) & m] > ts) this.late++;
    this.ts[i & m] = ts;
    this.key[i & m] = key;
    this.port[i & m] = port;
    if (ts > this.latest) this.latest = ts;
    while (this.proc < this.tail && this.ts[this.proc & m] <= this.latest - this.lagUs) this.step();
  }

  private grow(): void {
    const n = this.ts.length;
    const m = n - 1;
    const ts = new Float64Array(2 * n);
    const key = new Float64Array(2 * n);
    const port = new Uint16Array(2 * n);
    for (let i = this.head, k = 0; i < this.tail; i++, k++) {
      ts[k] = this.ts[i & m];
      key[k] = this.key[i & m];
      port[k] = this.port[i & m];
    }
    this.proc -= this.head;
    this.tail -= this.head;
    this.head = 0;
    this.ts = ts;
    this.key = key;
    this.port = port;
  }

  /** The next waiting connection enters the window: the oldest leave it, and its pair's ports are counted. */
  private step(): void {
    const m = this.ts.length - 1;
    const hi = this.proc++ & m;
    const ts = this.ts[hi];
    while (ts - this.ts[this.head & m] > this.windowUs) {
      const lo = this.head++ & m;
      const k = this.key[lo];
      this.buckets[bucket(k)]--;
      const b = this.busy.get(k);
      if (b === undefined || b.ports === null) continue;
      if (--b.ports[this.port[lo]] === 0) b.distinct--;
      if (--b.n > 0) continue;
      // The pair left the windows: only a peak that makes a finding is worth keeping.
      if (b.peak >= this.limit) b.ports = null;
      else this.busy.delete(k);
    }
    const k = this.key[hi];
    const n = ++this.buckets[bucket(k)];
    let b = this.busy.get(k);
    if (b !== undefined && b.ports !== null) {
      b.n++;
      if (b.ports[this.port[hi]]++ === 0) b.distinct++;
    } else if (n >= this.limit) {
      // Perhaps enough connections in one window to use `limit` ports: count this pair's exactly from now on.
      if (b === undefined) this.busy.set(k, (b = { n: 0, ports: null, distinct: 0, peak: 0, peakTs: 0 }));
      const ports = (b.ports = new Uint32Array(65536));
      b.n = 0;
      b.distinct = 0;
      for (let i = this.head; i < this.proc; i++) {
        if (this.key[i & m] !== k) continue;
        b.n++;
        if (ports[this.port[i & m]]++ === 0) b.distinct++;
      }
    }
    if (b !== undefined && b.ports !== null && b.distinct > b.peak) {
      b.peak = b.distinct;
      b.peakTs = ts;
    }
  }

  /** The end of the capture: the waiting connections enter the windows; the pairs (by key) that used `limit` ports or more. */
  peaks(): Array<{ key: number; peak: number; peakTs: number }> {
    while (this.proc < this.tail) this.step();
    const out: Array<{ key: number; peak: number; peakTs: number }> = [];
    for (const [key, b] of this.busy) if (b.peak >= this.limit) out.push({ key, peak: b.peak, peakTs: b.peakTs });
    return out;
  }

  /** peaks(), with each pair's client and destination. */
  finish(): PortPeak[] {
    const out: PortPeak[] = [];
    for (const { key: k, peak, peakTs } of this.peaks()) {
      const client = Math.floor(k / 2 ** 20);
      const listener = k - client * 2 ** 20;
      out.push({
        clientV4: client < 2 ** 32 ? client : -1,
        clientV6: client < 2 ** 32 ? null : this.v6Names[client - 2 ** 32],
        serverAddr: this.listenerAddr[listener],
        serverPort: this.listenerPort[listener],
        peak,
        peakTs,
      });
    }
    return out;
  }
}
