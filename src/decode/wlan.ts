/**
 * IEEE 802.11 data frames and the headers radios put in front of them: bare 802.11
 * (LINKTYPE_IEEE802_11, 105), radiotap (127) and PPI (192). Only data frames carry IP:
 * QoS and non-QoS, three- and four-address; a protected frame is counted as encrypted (named,
 * for the summary's warning); a fragment goes to the reassembler (fragments.ts); the body is
 * LLC/SNAP. Multi-byte fields of 802.11 and of its radio headers are little-endian.
 */
import { decodeLlc } from './link.js';
import { type DecodedPacket, LinkFragment, LinkNext } from './packet.js';
import { linkTypes, unsupported } from './registry.js';
import { Encap, Status } from './status.js';

export const WlanLinkType = {
  IEEE802_11: 105,
  IEEE802_11_RADIOTAP: 127,
  PPI: 192,
} as const;

const TYPE_DATA = 2;
const SUBTYPE_NO_DATA = 0x4; // null function, CF-Ack/Poll without data
const SUBTYPE_QOS = 0x8;
const FLAG_DS_BOTH = 0x03; // to DS and from DS: the four-address form
const FLAG_MORE_FRAGMENTS = 0x04;
const FLAG_PROTECTED = 0x40;
const FLAG_ORDER = 0x80; // in a QoS data frame: an HT/VHT/HE control field follows
const QOS_AMSDU = 0x80;

const le16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const le32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

/**
 * An 802.11 frame at [off, end), without FCS. `swapped`: the two frame control bytes are
 * in the other order (CAPWAP from Cisco access points); `datapad`: the header is padded
 * to a multiple of 4 bytes (radiotap's data-pad flag).
 */
export function wlanFrame(p: DecodedPacket, b: Uint8Array, off: number, end: number, swapped: boolean, datapad: boolean): number {
  if (off + 2 > end) return Status.TRUNCATED_LINK;
  const fc0 = swapped ? b[off + 1] : b[off];
  const fc1 = swapped ? b[off] : b[off + 1];
  if ((fc0 & 3) !== 0 || ((fc0 >> 2) & 3) !== TYPE_DATA) return Status.NON_IP; // management, control, extension
  const subtype = fc0 >> 4;
  if (subtype & SUBTYPE_NO_DATA) return Status.NON_IP;
  let h = (fc1 & FLAG_DS_BOTH) === FLAG_DS_BOTH ? 30 : 24;
  const qos = (subtype & SUBTYPE_QOS) !== 0;
  const qosOff = h;
  if (qos) h += 2;
  if (qos && fc1 & FLAG_ORDER) h += 4;
  if (off + h > end) return Status.TRUNCATED_LINK;
  if (fc1 & FLAG_PROTECTED) {
    p.unsupportedEncap = Encap.WLAN_PROTECTED;
    return Status.ENCRYPTED;
  }
  if (qos && b[off + qosOff] & QOS_AMSDU) return unsupported(p, Encap.WLAN_AMSDU);
  if (datapad) h = (h + 3) & ~3;
  const fragNo = b[off + 22] & 0x0f;
  if (fc1 & FLAG_MORE_FRAGMENTS || fragNo !== 0) {
    // A fragment of an MSDU: known by the transmitter and receiver (addresses 2 and 1) and the sequence number.
    p.linkFragKind = LinkFragment.WLAN;
    p.fragKeyOff = off + 4;
    p.fragKeyLen = 12;
    p.fragId = le16(b, off + 22) >> 4;
    p.fragOffset = fragNo;
    p.fragMore = (fc1 & FLAG_MORE_FRAGMENTS) !== 0;
    p.fragDataOff = off + h;
    p.fragDataEnd = end;
    p.fragCut = end < p.wireEnd;
    p.linkNext = LinkNext.LLC;
    return Status.LINK_FRAGMENT;
  }
  return decodeLlc(p, b, off + h, end);
}

function decodeWlan(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  return wlanFrame(p, b, off, end, false, false);
}

/** The frame ends in a 4-byte FCS: it is neither payload nor part of the wire length IP may claim. */
function dropFcs(p: DecodedPacket, end: number): number {
  p.wireEnd -= 4;
  return Math.min(end, p.wireEnd);
}

const RADIOTAP_TSFT = 0x1;
const RADIOTAP_FLAGS = 0x2;
const RADIOTAP_EXT = 0x80000000;
const RADIOTAP_F_FCS = 0x10;
const RADIOTAP_F_DATAPAD = 0x20;

/**
 * Radiotap: version, pad, length (the whole header), then present bitmaps (another follows
 * while bit 31 is set). Fields come in bit order, each aligned to its size from the header's
 * start: TSFT (8 bytes) then Flags (1 byte), both of the first bitmap, are all we need.
 */
function decodeRadiotap(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 8 > end) return Status.TRUNCATED_LINK;
  const len = le16(b, off + 2);
  if (len < 8 || off + len > end) return Status.TRUNCATED_LINK;
  const present = le32(b, off + 4);
  let o = 8;
  for (let word = present; word & RADIOTAP_EXT; o += 4) {
    if (o + 4 > len) return Status.TRUNCATED_LINK;
    word = le32(b, off + o);
  }
  let flags = 0;
  if (present & RADIOTAP_TSFT) o = ((o + 7) & ~7) + 8;
  if (present & RADIOTAP_FLAGS) {
    if (o + 1 > len) return Status.TRUNCATED_LINK;
    flags = b[off + o];
  }
  if (flags & RADIOTAP_F_FCS) end = dropFcs(p, end);
  return wlanFrame(p, b, off + len, end, false, (flags & RADIOTAP_F_DATAPAD) !== 0);
}

const PPI_FLAG_ALIGN = 0x01;
const PPI_80211_COMMON = 2;
const PPI_80211_COMMON_LEN = 20;
const PPI_COMMON_FCS = 0x0001;

/**
 * PPI (Per-Packet Information): version, flags, length (the whole header), the link type of
 * what follows, then typed fields; the 802.11-common field's flags say whether an FCS ends
 * the 802.11 frame.
 */
function decodePpi(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 8 > end) return Status.TRUNCATED_LINK;
  const aligned = (b[off + 1] & PPI_FLAG_ALIGN) !== 0;
  const len = le16(b, off + 2);
  const dlt = le32(b, off + 4);
  if (len < 8 || off + len > end) return Status.TRUNCATED_LINK;
  let fcs = false;
  for (let o = off + 8; o + 4 <= off + len; ) {
    const flen = le16(b, o + 2);
    if (le16(b, o) === PPI_80211_COMMON && flen === PPI_80211_COMMON_LEN && o + 4 + flen <= off + len) fcs = (le16(b, o + 12) & PPI_COMMON_FCS) !== 0;
    o += 4 + flen + (aligned ? (4 - (flen % 4)) % 4 : 0);
  }
  if (dlt === WlanLinkType.IEEE802_11) return wlanFrame(p, b, off + len, fcs ? dropFcs(p, end) : end, false, false);
  const inner = dlt === WlanLinkType.PPI ? undefined : linkTypes.get(dlt);
  return inner === undefined ? unsupported(p, Encap.PPI_LINK_TYPE) : inner(p, b, off + len, end);
}

linkTypes.set(WlanLinkType.IEEE802_11, decodeWlan);
linkTypes.set(WlanLinkType.IEEE802_11_RADIOTAP, decodeRadiotap);
linkTypes.set(WlanLinkType.PPI, decodePpi);
