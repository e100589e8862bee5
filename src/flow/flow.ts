/** A TCP connection as seen in a capture: two endpoints, their states over time, and why it ended. */
import { FlowAnalysis } from './figures.js';
import { TcpState, type TcpStateName } from '../state/tcp-state.js';

export type Side = 'client' | 'server';

/** How the client and server roles were decided. */
export type RolesBy =
  | 'syn' // the SYN's sender is the client
  | 'syn_ack' // the capture starts at the SYN-ACK: its receiver is the client
  | 'port' // picked up mid-connection: the endpoint on the lower (service) port is the server
  | 'first_packet'; // mid-connection with equal ports: the first packet's sender is the client

/** The RST that an endpoint accepted first, and what surrounded it. */
export interface ResetInfo {
  frame: number;
  ts: number;
  sentBy: Side;
  senderState: TcpStateName;
  receiverState: TcpStateName;
  /** The segment just before it came from the RST's receiver and carried data. */
  afterPeerData: boolean;
  /** The sender had sent data its peer had not acknowledged yet. */
  senderHadDataInFlight: boolean;
  /** The RST's receiver advertised a zero window: the sender was blocked with data to send. */
  receiverWindowZero: boolean;
}

export type EndReason = 'closed' | 'reset' | 'timeout' | 'reuse' | 'end_of_capture';

export interface Transition {
  /** Frame number of the packet that caused it, or null (a timer: TIME_WAIT expiry). */
  packet: number | null;
  ts: number;
  side: Side;
  from: TcpStateName | null;
  to: TcpStateName;
  cause: string;
  /** Not seen but deduced (mid-connection start, a missing SYN, a SYN cookie). */
  inferred: boolean;
}

/**
 * A SYN, SYN-ACK or FIN from the peer, seen at the capture point. Whether and when it reached
 * this endpoint shows in what the endpoint sends next: an ACK covering it, or a
 * segment of its own that does not (the two crossed).
 */
export interface Receipt {
  kind: 'syn' | 'synack' | 'fin';
  frame: number;
  ts: number;
  /** The acknowledgement number that proves it arrived (its sequence number + 1). */
  ackedBy: number;
  /** The FIN segment also acknowledged this endpoint's own FIN. */
  acksOwnFin: boolean;
}

export class Endpoint {
  state: TcpStateName = TcpState.CLOSED;
  /** Packet time at which the current state was entered. */
  since = 0;
  /** Initial sequence number (of its SYN), or -1 when no SYN was seen. */
  isn = -1;
  /** Highest sequence number sent plus the SYN/FIN/data it carried (what the peer expects next). */
  sndNxt = 0;
  hasSent = false;
  finSent = false;
  finSeq = 0;
  /** The peer's FIN has been received. */
  peerFinReceived = false;
  /** This endpoint was opened passively (it answered a SYN): a RST sends it back to LISTEN. */
  passive = false;
  /** Window scale shift from its SYN, and its last advertised window (scaled). */
  windowScale = -1;
  window = 0;
  synFrame = 0;
  synTs = 0;
  /** The peer's SYN and FIN as they passed the capture point, not yet known to have arrived here. */
  readonly pending: Receipt[] = [];
  /** Frame and time of this endpoint's last segment. */
  lastSendFrame = 0;
  lastSendTs = 0;
  synAcks = 0;
  lastSynAckTs = 0;
  synsSent = 0;
  /** Highest acknowledgement number it has sent (how far it acknowledged the peer's data). */
  ackedUpTo = 0;
  hasAcked = false;
  /** When it entered and left CLOSE_WAIT (-1: not yet), and the frame that put it there. */
  closeWaitSince = -1;
  closeWaitUntil = -1;
  closeWaitFrame = 0;
  /** Data sent and not acknowledged since (µs, -1: all acknowledged), and retransmissions since. */
  unackedSince = -1;
  unackedFrame = 0;
  retransmissionsUnacked = 0;
  lastRetransmissionTs = 0;
  packets = 0;
  payloadBytes = 0;
  ipBytes = 0;

  constructor(
    readonly side: Side,
    readonly addr: string,
    readonly port: number,
  ) {}
}

export class Flow {
  readonly transitions: Transition[] = [];
  firstTs = 0;
  lastTs = 0;
  firstPacket = 0;
  lastPacket = 0;
  /** Picked up mid-connection: no handshake seen, states inferred. */
  midstream = false;
  rolesBy: RolesBy = 'syn';
  /** A RST was accepted by an endpoint. */
  reset = false;
  /** Packet time at which both endpoints had no socket left, or -1. */
  goneAt = -1;
  endReason: EndReason | null = null;
  /** Packet time at which the flow ended. */
  endTs = 0;
  resetInfo: ResetInfo | null = null;
  /** Who sent the previous segment, and whether it carried data. */
  lastSender: Side | null = null;
  lastPayload = 0;
  /** The client's address, to tell the direction of a packet without building strings: IPv4 as a number, IPv6 as bytes. */
  clientAddrV4 = 0;
  clientAddrV6: Uint8Array | null = null;

  /** Wireshark-style sequence analysis figures (made on first need: a lone SYN has none). */
  private figures: FlowAnalysis | null = null;
  get analysis(): FlowAnalysis {
    return (this.figures ??= new FlowAnalysis());
  }
  get hasAnalysis(): boolean {
    return this.figures !== null;
  }
  /** The flow table's key (owned by the table): the two IPv4 endpoints as numbers, or the IPv6 key. */
  keyLo = 0;
  keyHi = 0;
  keyV6: string | null = null;

  constructor(
    readonly id: number,
    readonly ipVersion: 4 | 6,
    readonly client: Endpoint,
    readonly server: Endpoint,
  ) {}

  peer(e: Endpoint): Endpoint {
    return e === this.client ? this.server : this.client;
  }
}
