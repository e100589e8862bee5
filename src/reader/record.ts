/** One packet record as the reader hands it out. */
export interface PacketRecord {
  /** 1-based, across the whole file, in the order Wireshark numbers frames. */
  number: number;
  /** Absolute offset of the record (pcap) or block (pcapng) in the capture stream. */
  fileOffset: number;
  /** Timestamp in integer microseconds since the epoch (pcapng resolution and offset applied). */
  tsUs: number;
  /** False for pcapng Simple Packet Blocks, which carry no time: tsUs repeats the last known time. */
  tsKnown: boolean;
  linkType: number;
  /** Bytes of frame check sequence at the end of each frame (pcap link-type FCS bits, pcapng if_fcslen). */
  fcsLen: number;
  /** Index of the interface across the file (pcapng: every IDB of every section; pcap: 0). */
  interfaceIndex: number;
  caplen: number;
  origLen: number;
  /** The captured bytes are buf[offset, offset + caplen). Valid only until the callback returns. */
  buf: Uint8Array;
  offset: number;
}

/** What the reader learnt about an interface (one per pcap file, one per pcapng IDB). */
export interface InterfaceInfo {
  index: number;
  section: number;
  linkType: number;
  snaplen: number;
  /** Timestamp units per second (1e6 for pcap µs, 1e9 for ns, or pcapng if_tsresol). */
  unitsPerSecond: number;
  tsOffsetSeconds: number;
  name: string | null;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export function newRecord(): PacketRecord {
  return {
    number: 0,
    fileOffset: 0,
    tsUs: 0,
    tsKnown: true,
    linkType: 0,
    fcsLen: 0,
    interfaceIndex: 0,
    caplen: 0,
    origLen: 0,
    buf: new Uint8Array(0),
    offset: 0,
  };
}
