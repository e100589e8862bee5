/**
 * Outcomes of decoding one packet. A packet that does not reach a TCP header is
 * counted under one of these reasons; nothing is ever thrown.
 */
export const Status = {
  TCP: 0,
  NON_IP: 1,
  NON_TCP: 2,
  IP_FRAGMENT: 3,
  TRUNCATED_LINK: 4,
  TRUNCATED_IP: 5,
  TRUNCATED_TCP: 6,
  BAD_IP_HEADER: 7,
  BAD_TCP_HEADER: 8,
  UNSUPPORTED_LINK_TYPE: 9,
  UNSUPPORTED_ENCAPSULATION: 10,
  ENCRYPTED: 11,
  TOO_MANY_LAYERS: 12,
  /** An 802.11 or CAPWAP fragment: held by the reassembler (fragments.ts) until its frame is whole. */
  LINK_FRAGMENT: 13,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

/** Stable snake_case names, as stored in SQLite and shown in reports. */
export const STATUS_NAMES: readonly string[] = [
  'tcp',
  'non_ip',
  'non_tcp',
  'ip_fragment',
  'truncated_link_header',
  'truncated_ip_header',
  'truncated_tcp_header',
  'bad_ip_header',
  'bad_tcp_header',
  'unsupported_link_type',
  'unsupported_encapsulation',
  'encrypted',
  'too_many_layers',
  'link_fragment',
];

/**
 * Encapsulations recognised but not decoded: a packet returning UNSUPPORTED_ENCAPSULATION names
 * one in DecodedPacket.unsupportedEncap (0 when the bytes only looked like the encapsulation,
 * e.g. a UDP payload on a tunnel's port that is plain UDP). The analyze summary warns about them.
 * A packet returning ENCRYPTED names there the encryption it met when that is one whose
 * packets likely carry TCP (ENCRYPTIONS), and the summary warns about those too.
 */
export const Encap = {
  NONE: 0,
  MPLS_PAYLOAD: 1,
  GRE_VERSION: 2,
  /** 3 and 5 were 802.11 and CAPWAP fragments: they are reassembled now (fragments.ts). */
  WLAN_AMSDU: 4,
  CAPWAP_BINDING: 6,
  PPI_LINK_TYPE: 7,
  /** With ENCRYPTED: an 802.11 data frame with the Protected bit (WEP, TKIP, CCMP, GCMP). */
  WLAN_PROTECTED: 8,
  /** With ENCRYPTED: a CAPWAP data packet in DTLS. */
  CAPWAP_DTLS: 9,
} as const;

/** What each Encap code stands for, in one line. */
export const ENCAP_NAMES: readonly string[] = [
  '',
  'MPLS payload neither IP nor Ethernet',
  'GRE with routing or a version other than 0 and 1',
  '',
  '802.11 A-MSDU',
  '',
  'CAPWAP wireless binding other than 802.11',
  'PPI around a link type not decoded',
  '802.11 protected data frame',
  'CAPWAP data in DTLS',
];

/**
 * Encryptions whose packets likely carry TCP, each its own counted condition (its name in the
 * counters) and one warning line in the summary. ESP is not among them: it stays `encrypted`.
 */
export const ENCRYPTIONS: ReadonlyArray<{ encap: number; counter: string; warning: (n: number) => string }> = [
  {
    encap: Encap.WLAN_PROTECTED,
    counter: 'wlan_protected',
    warning: (n) => `802.11: ${n} protected (encrypted) data frame${n === 1 ? '' : 's'} not decoded: any TCP they carry is not analysed`,
  },
  {
    encap: Encap.CAPWAP_DTLS,
    counter: 'capwap_dtls',
    warning: (n) => `CAPWAP: ${n} DTLS-encrypted data packet${n === 1 ? '' : 's'} not decoded: any TCP they carry is not analysed`,
  },
];

/** Conditions noted on a packet that still decodes (bit flags on DecodedPacket.notes). */
export const Note = {
  IP_LENGTH_EXCEEDS_FRAME: 1,
  TCP_OPTIONS_MALFORMED: 2,
  TCP_OPTIONS_TRUNCATED: 4,
  ENCAPSULATED: 8,
  PAYLOAD_TRUNCATED: 16,
  /** The packet was decoded from an IP datagram reassembled from fragments (at the frame of its last fragment). */
  REASSEMBLED: 32,
  /** The packet was decoded from an 802.11 frame or CAPWAP packet reassembled from fragments. */
  LINK_REASSEMBLED: 64,
} as const;

export const NOTE_NAMES: ReadonlyArray<[number, string]> = [
  [Note.IP_LENGTH_EXCEEDS_FRAME, 'ip_length_exceeds_frame'],
  [Note.TCP_OPTIONS_MALFORMED, 'tcp_options_malformed'],
  [Note.TCP_OPTIONS_TRUNCATED, 'tcp_options_truncated'],
  [Note.ENCAPSULATED, 'tcp_in_tunnel'],
  [Note.PAYLOAD_TRUNCATED, 'payload_not_captured'],
  [Note.REASSEMBLED, 'tcp_in_reassembled_datagram'],
  [Note.LINK_REASSEMBLED, 'tcp_in_reassembled_link_frame'],
];
