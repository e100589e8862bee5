/**
 * The zstd files in test/golden/zstd/, made by the zstd CLI (1.5.4) from samples and from
 * synthetic data made here, each chosen for a part of the format (test/zstd-decode.test.ts
 * decodes them and compares every byte with the original). Written by
 * `node dist/scripts/make-zstd-fixtures.js` (needs the zstd CLI; the tests do not).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';

export interface ZstdFixture {
  /** File name under test/golden/zstd/. */
  name: string;
  /** A sample's path under the repository root, or a synthetic input's name (see synthetic()). */
  source: string;
  /** zstd's options. */
  args: string[];
  /** Compress from standard input: the frame has a window descriptor, not a content size. */
  stdin: boolean;
  /** What it exercises. */
  why: string;
}

const KERNEL = 'samples/kernel';

export const ZSTD_FIXTURES: ZstdFixture[] = [
  { name: 'abortive-close.pcap.1.zst', source: `${KERNEL}/abortive-close/abortive-close.pcap`, args: ['-1'], stdin: true, why: 'level 1, streamed: a 512 KiB window' },
  { name: 'abortive-close.pcap.nocheck.zst', source: `${KERNEL}/abortive-close/abortive-close.pcap`, args: ['-3', '--no-check'], stdin: false, why: 'no content checksum, single segment' },
  { name: 'bulk-loss.pcap.9.zst', source: `${KERNEL}/bulk-loss/bulk-loss.pcap`, args: ['-9'], stdin: false, why: 'level 9' },
  {
    name: 'bulk-loss.pcap.blocks.zst',
    source: `${KERNEL}/bulk-loss/bulk-loss.pcap`,
    args: ['-12', '--zstd=wlog=12', '--target-compressed-block-size=1340'],
    stdin: true,
    why: 'small blocks in a 4 KiB window: tables and repeat offsets carried from block to block',
  },
  { name: 'bulk-loss.pcap.long27.zst', source: `${KERNEL}/bulk-loss/bulk-loss.pcap`, args: ['-3', '--long=27'], stdin: true, why: '--long=27: a declared 128 MiB window' },
  { name: 'syn-flood.pcap.19.zst', source: `${KERNEL}/syn-flood/syn-flood.pcap`, args: ['-19'], stdin: true, why: 'level 19' },
  { name: 'syn-flood.pcap.wlog10.zst', source: `${KERNEL}/syn-flood/syn-flood.pcap`, args: ['-6', '--zstd=wlog=10'], stdin: true, why: 'a 1 KiB window: matches reach into the previous piece of the window' },
  { name: 'time-wait-pileup.pcap.22.zst', source: `${KERNEL}/time-wait-pileup/time-wait-pileup.pcap`, args: ['--ultra', '-22'], stdin: false, why: '--ultra -22' },
  { name: 'time-wait-pileup.pcap.3.zst', source: `${KERNEL}/time-wait-pileup/time-wait-pileup.pcap`, args: ['-3'], stdin: true, why: 'level 3, the default' },
  {
    name: 'tshark.tsv.blocks.zst',
    source: `${KERNEL}/bulk-loss/tshark.tsv`,
    args: ['-3', '--target-compressed-block-size=2000'],
    stdin: true,
    why: 'text in small blocks: literals with the previous block\'s Huffman tree',
  },
  { name: 'empty.zst', source: 'empty', args: ['-3'], stdin: true, why: 'an empty frame' },
  { name: 'text.3.zst', source: 'text', args: ['-3'], stdin: false, why: 'Huffman literals and no sequences' },
  { name: 'nibbles.19.zst', source: 'nibbles', args: ['-19'], stdin: false, why: 'Huffman weights written directly (16 symbols)' },
  { name: 'runs.3.zst', source: 'runs', args: ['-3'], stdin: false, why: 'RLE sequence tables, matches of offset 1' },
  { name: 'records.3.zst', source: 'records', args: ['-3'], stdin: false, why: 'fixed records: repeat offsets' },
  { name: 'skewed.19.zst', source: 'skewed', args: ['-19'], stdin: false, why: 'one frequent byte: long Huffman codes' },
];

/** A small seeded generator (an LCG's high bits): the same bytes everywhere. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16);
}

/** The synthetic inputs, by name. */
export function synthetic(name: string): Buffer {
  const r = lcg(12345);
  switch (name) {
    case 'empty':
      return Buffer.alloc(0);
    case 'text':
      return Buffer.from(Array.from({ length: 300 }, () => 97 + (r() % 26)));
    case 'nibbles':
      return Buffer.from(Array.from({ length: 20_000 }, () => r() & 15));
    case 'runs': {
      const b = Buffer.alloc(100_000, 0x41);
      for (let i = 0; i < b.length; i += 97) b[i] = 0x42;
      return b;
    }
    case 'records': {
      const b = Buffer.alloc(64 * 4000);
      for (let i = 0; i < 4000; i++) {
        for (let j = 0; j < 4; j++) b[i * 64 + j] = r() & 255;
        for (let j = 4; j < 64; j++) b[i * 64 + j] = j;
      }
      return b;
    }
    case 'skewed':
      return Buffer.from(Array.from({ length: 50_000 }, () => (r() % 10 < 8 ? 0x65 : 0x61 + (r() % 20))));
    default:
      throw new Error(`no synthetic input ${name}`);
  }
}

/** The bytes a fixture was made from. */
export function fixtureSource(f: ZstdFixture): Buffer {
  return f.source.includes('/') ? readFileSync(join(repoRoot, f.source)) : synthetic(f.source);
}

export const ZSTD_FIXTURE_DIR = join(repoRoot, 'test', 'golden', 'zstd');
