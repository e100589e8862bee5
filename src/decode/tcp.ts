/** TCP header and options (MSS, window scale, SACK-permitted, SACK blocks, timestamps). */
import { type DecodedPacket, u16, u32 } from './packet.js';
import { ipProtocols } from './registry.js';
import { Note, Status } from './status.js';

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMP = 8;

export function decodeTcp(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 20 > end) return Status.TRUNCATED_TCP;
  const hdrLen = (b[off + 12] >> 4) * 4;
  if (hdrLen < 20) return Status.BAD_TCP_HEADER;
  const segLen = p.ipEnd - off;
  if (hdrLen > segLen) return Status.BAD_TCP_HEADER;
  p.tcpOff = off;
  p.srcPort = u16(b, off);
  p.dstPort = u16(b, off + 2);
  p.seq = u32(b, off + 4);
  p.ack = u32(b, off + 8);
  p.flags = ((b[off + 12] & 1) << 8) | b[off + 13];
  p.window = u16(b, off + 14);
  p.urgent = u16(b, off + 18);
  p.tcpHeaderLen = hdrLen;
  p.payloadLen = segLen - hdrLen;
  if (p.encapDepth > 0) p.notes |= Note.ENCAPSULATED;
  let optEnd = off + hdrLen;
  if (optEnd > end) {
    p.notes |= Note.TCP_OPTIONS_TRUNCATED;
    optEnd = end;
  } else if (optEnd + p.payloadLen > end) {
    p.notes |= Note.PAYLOAD_TRUNCATED;
  }
  if (hdrLen > 20) decodeOptions(p, b, off + 20, optEnd);
  return Status.TCP;
}

function decodeOptions(p: DecodedPacket, b: Uint8Array, o: number, end: number): void {
  while (o < end) {
    const kind = b[o];
    if (kind === OPT_EOL) return;
    if (kind === OPT_NOP) {
      o++;
      continue;
    }
    if (o + 2 > end) {
      p.notes |= Note.TCP_OPTIONS_MALFORMED;
      return;
    }
    const len = b[o + 1];
    if (len < 2 || o + len > end) {
      p.notes |= Note.TCP_OPTIONS_MALFORMED;
      return;
    }
    switch (kind) {
      case OPT_MSS:
        if (len === 4) p.mss = u16(b, o + 2);
        else p.notes |= Note.TCP_OPTIONS_MALFORMED;
        break;
      case OPT_WSCALE:
        if (len === 3) p.windowScale = b[o + 2];
        else p.notes |= Note.TCP_OPTIONS_MALFORMED;
        break;
      case OPT_SACK_PERMITTED:
        if (len === 2) p.sackPermitted = true;
        else p.notes |= Note.TCP_OPTIONS_MALFORMED;
        break;
      case OPT_SACK: {
        if ((len - 2) % 8 !== 0) {
          p.notes |= Note.TCP_OPTIONS_MALFORMED;
          break;
        }
        const n = Math.min((len - 2) / 8, 4);
        for (let i = 0; i < n; i++) {
          p.sack[2 * i] = u32(b, o + 2 + 8 * i);
          p.sack[2 * i + 1] = u32(b, o + 6 + 8 * i);
        }
        p.sackCount = n;
        break;
      }
      case OPT_TIMESTAMP:
        if (len === 10) {
          p.hasTimestamp = true;
          p.tsVal = u32(b, o + 2);
          p.tsEcr = u32(b, o + 6);
        } else p.notes |= Note.TCP_OPTIONS_MALFORMED;
        break;
      default:
        break; // TFO, MPTCP, MD5, experimental...: skipped by length
    }
    o += len;
  }
}

ipProtocols.set(6, decodeTcp);
