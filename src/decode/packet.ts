/**
 * The flat, caller-owned record the decoders fill. One instance is reused for
 * every packet: decoders store numbers and offsets into `buf`, never copies.
 * When tunnels nest, the IP and TCP fields describe the innermost packet.
 */
export class DecodedPacket {
  buf: Uint8Array = new Uint8Array(0);
  /** End of the frame as it was on the wire (record offset + original length - FCS); bounds IP lengths. */
  wireEnd = 0;
  /** Layers crossed so far (guards against crafted loops of tags). */
  layers = 0;
  /** Tunnels and encapsulations crossed (MPLS, PPPoE, PBB, GRE, VXLAN, GTP-U, Teredo, IP-in-IP...). */
  encapDepth = 0;
  /** 802.1Q/802.1ad tags seen, and the outermost VLAN id (-1 when untagged). */
  vlanCount = 0;
  vlanId = -1;
  /** Bit flags from Note. */
  notes = 0;
  /** With Status.UNSUPPORTED_ENCAPSULATION: which one (an Encap code; 0 when unnamed). */
  unsupportedEncap = 0;

  ipVersion: 0 | 4 | 6 = 0;
  ipOff = 0;
  /** Offsets of the source and destination addresses in buf (4 or 16 bytes). */
  srcOff = 0;
  dstOff = 0;
  /** End of the IP packet per its own length field (clamped to the wire length). */
  ipEnd = 0;
  ttl = 0;

  /**
   * Set with Status.IP_FRAGMENT: the fragment as the reassembler (fragments.ts) needs it.
   * The IP header starts at ipOff; the datagram's unfragmentable part is [ipOff, fragHeaderEnd)
   * (IPv4: its header; IPv6: the fixed header and the extension headers before the fragment
   * header, whose next-header byte is at fragNextOff); the fragment's data is
   * [fragDataOff, fragDataEnd) and sits at byte fragOffset of the datagram's payload.
   */
  fragId = 0;
  fragProto = 0;
  fragOffset = 0;
  fragMore = false;
  fragHeaderEnd = 0;
  fragNextOff = 0;
  fragDataOff = 0;
  fragDataEnd = 0;
  /** The fragment's data runs past what was captured (a small snaplen): it cannot be reassembled. */
  fragCut = false;
  /**
   * Set with Status.LINK_FRAGMENT, with fragId (802.11 sequence number, CAPWAP fragment ID),
   * fragOffset (802.11 fragment number, CAPWAP byte offset), fragMore, fragDataOff/End and
   * fragCut: which kind (LinkFragment), the bytes that name the sender and receiver
   * [fragKeyOff, fragKeyOff + fragKeyLen), and how the whole frame's data decodes on (LinkNext).
   */
  linkFragKind = 0;
  fragKeyOff = 0;
  fragKeyLen = 0;
  linkNext = 0;

  tcpOff = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  /** TCP flags including NS (bit 8), CWR, ECE, URG, ACK, PSH, RST, SYN, FIN. */
  flags = 0;
  window = 0;
  urgent = 0;
  tcpHeaderLen = 0;
  /** TCP payload length from the IP length, not the captured length. */
  payloadLen = 0;

  mss = -1;
  windowScale = -1;
  sackPermitted = false;
  /** SACK blocks as [left, right) pairs; sackCount pairs are valid. */
  readonly sack = new Uint32Array(8);
  sackCount = 0;
  hasTimestamp = false;
  tsVal = 0;
  tsEcr = 0;

  /**
   * With Status.NON_TCP: an ICMP or ICMPv6 error quoting a TCP segment (decode/icmp.ts): what it
   * says (an Icmp code; 0 for none), its type and code, ICMP_ABORTS_REQUEST, and the quoted
   * segment's addresses (offsets in buf, the outer packet's IP version), ports and sequence number.
   */
  icmp = 0;
  icmpType = 0;
  icmpCode = 0;
  icmpBits = 0;
  icmpSrcOff = 0;
  icmpDstOff = 0;
  icmpSrcPort = 0;
  icmpDstPort = 0;
  icmpSeq = 0;

  reset(buf: Uint8Array, wireEnd: number): void {
    this.buf = buf;
    this.wireEnd = wireEnd;
    this.layers = 0;
    this.encapDepth = 0;
    this.vlanCount = 0;
    this.vlanId = -1;
    this.notes = 0;
    this.unsupportedEncap = 0;
    this.ipVersion = 0;
    this.mss = -1;
    this.windowScale = -1;
    this.sackPermitted = false;
    this.sackCount = 0;
    this.hasTimestamp = false;
    this.icmp = 0;
  }
}

/** Kinds of link-layer fragments (DecodedPacket.linkFragKind). */
export const LinkFragment = { WLAN: 1, CAPWAP: 2 } as const;

/** What a reassembled link frame's data is (DecodedPacket.linkNext). */
export const LinkNext = {
  /** An 802.11 MSDU: LLC/SNAP. */
  LLC: 1,
  /** A CAPWAP payload: an 802.3 frame. */
  ETHERNET: 2,
  /** A CAPWAP payload: an 802.11 frame, frame control swapped (Wireshark's capwap.swap_fc). */
  WLAN_SWAPPED: 3,
} as const;

export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  NS: 0x100,
} as const;

/** The IP addresses at offsets `a` and `b` of p's buffer (of p's IP version's length) are one. */
export function sameAddressAt(p: DecodedPacket, a: number, b: number): boolean {
  const n = p.ipVersion === 4 ? 4 : 16;
  for (let i = 0; i < n; i++) if (p.buf[a + i] !== p.buf[b + i]) return false;
  return true;
}

export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
