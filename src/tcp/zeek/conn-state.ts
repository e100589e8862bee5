/**
 * Zeek's conn_state for a TCP connection, decided once, when the connection is
 * removed, from both endpoint states (base/protocols/conn/main.zeek).
 */
import { EndpointState, type EndpointStateValue } from './endpoint.js';

export type ZeekConnState = 'S0' | 'S1' | 'SF' | 'REJ' | 'S2' | 'S3' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'OTH';

export interface ConnStateInput {
  orig: EndpointStateValue;
  resp: EndpointStateValue;
  origSize: number;
  respSize: number;
  history: string;
}

/** "Inactive" in the conn_state sense: never sent anything, or only mid-stream. */
function inactive(s: EndpointStateValue): boolean {
  return s === EndpointState.INACTIVE || s === EndpointState.PARTIAL;
}

/** The whole history: optional ^, S, letters other than H A F G I Q, then R, then anything. */
const ORIGINATOR_SYN_THEN_RST = /^\^?S[^HAFGIQ]*R.*$/s;

function responderReset(c: ConnStateInput): ZeekConnState {
  const synOnly = c.orig === EndpointState.SYN_SENT || c.orig === EndpointState.SYN_ACK_SENT;
  if (synOnly || (c.orig === EndpointState.RESET && c.origSize === 0 && c.respSize === 0)) return 'REJ';
  return inactive(c.orig) ? 'RSTRH' : 'RSTR';
}

function originatorReset(c: ConnStateInput): ZeekConnState {
  if (!inactive(c.resp)) return 'RSTO';
  return ORIGINATOR_SYN_THEN_RST.test(c.history) ? 'RSTOS0' : 'OTH';
}

export function zeekConnState(c: ConnStateInput): ZeekConnState {
  const { orig, resp } = c;
  if (resp === EndpointState.RESET) return responderReset(c);
  if (orig === EndpointState.RESET) return originatorReset(c);
  if (orig === EndpointState.CLOSED && resp === EndpointState.CLOSED) return 'SF';
  if (orig === EndpointState.CLOSED) return inactive(resp) ? 'SH' : 'S2';
  if (resp === EndpointState.CLOSED) return inactive(orig) ? 'SHR' : 'S3';
  if (orig === EndpointState.SYN_SENT && resp === EndpointState.INACTIVE) return 'S0';
  if (orig === EndpointState.ESTABLISHED && resp === EndpointState.ESTABLISHED) return 'S1';
  return 'OTH';
}
