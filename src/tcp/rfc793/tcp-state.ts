/** The RFC 793 connection states, with the names `ss` and `netstat` use for them. */

export const TcpState = {
  CLOSED: 'CLOSED',
  LISTEN: 'LISTEN',
  SYN_SENT: 'SYN_SENT',
  SYN_RECEIVED: 'SYN_RECEIVED',
  ESTABLISHED: 'ESTABLISHED',
  FIN_WAIT_1: 'FIN_WAIT_1',
  FIN_WAIT_2: 'FIN_WAIT_2',
  CLOSE_WAIT: 'CLOSE_WAIT',
  CLOSING: 'CLOSING',
  LAST_ACK: 'LAST_ACK',
  TIME_WAIT: 'TIME_WAIT',
} as const;
export type TcpStateName = (typeof TcpState)[keyof typeof TcpState];

/** How `ss -tan` prints each state (LISTEN, ESTAB, SYN-SENT...). */
export const SS_NAMES: Record<TcpStateName, string> = {
  CLOSED: 'UNCONN',
  LISTEN: 'LISTEN',
  SYN_SENT: 'SYN-SENT',
  SYN_RECEIVED: 'SYN-RECV',
  ESTABLISHED: 'ESTAB',
  FIN_WAIT_1: 'FIN-WAIT-1',
  FIN_WAIT_2: 'FIN-WAIT-2',
  CLOSE_WAIT: 'CLOSE-WAIT',
  CLOSING: 'CLOSING',
  LAST_ACK: 'LAST-ACK',
  TIME_WAIT: 'TIME-WAIT',
};

/** States in which a host has no socket for the connection's tuple (ss shows no row for it). */
export function isGone(s: TcpStateName): boolean {
  return s === TcpState.CLOSED || s === TcpState.LISTEN;
}

/** The states as the columns hold them (src/tcp/rfc793/flow.ts), numbered in TcpState's order. */
export const St = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  ESTABLISHED: 4,
  FIN_WAIT_1: 5,
  FIN_WAIT_2: 6,
  CLOSE_WAIT: 7,
  CLOSING: 8,
  LAST_ACK: 9,
  TIME_WAIT: 10,
} as const satisfies Record<TcpStateName, number>;

/** State names by number. */
export const STATE_NAMES: readonly TcpStateName[] = Object.values(TcpState);

/** isGone for a state number: CLOSED or LISTEN. */
export function goneState(s: number): boolean {
  return s <= St.LISTEN;
}
