/**
 * Why a state changed, as a code: the transition log stores the code, detectors compare
 * codes, and the text lives here, in one table, for the edges (sinks, reports). Nothing
 * matches on a cause's words.
 */
export const Cause = {
  MIDSTREAM: 0,
  TIME_WAIT_EXPIRED: 1,
  FIN_WAIT_2_TIMED_OUT: 2,
  SYN_GAVE_UP: 3,
  DATA_GAVE_UP: 4,
  SYN_COOKIE: 5,
  TIME_WAIT_REUSED: 6,
  RECEIVED_SYN_ACK: 7,
  RECEIVED_SYN_ACK_SIMULTANEOUS: 8,
  RECEIVED_SYN_SIMULTANEOUS: 9,
  LISTENING_ANSWERED_THE_SYN: 10,
  RECEIVED_SYN_PASSIVE: 11,
  RECEIVED_FIN_AFTER_HOLE: 12,
  RECEIVED_FIN: 13,
  RECEIVED_FIN_WITH_ACK_OF_FIN: 14,
  RECEIVED_FIN_SIMULTANEOUS: 15,
  SENT_RST: 16,
  SENT_SYN: 17,
  LISTENING_ANSWERED_A_SYN: 18,
  SENT_SYN_ACK_SYN_UNSEEN: 19,
  SENT_SYN_UNSEEN: 20,
  SENT_FIN_ACTIVE: 21,
  SENT_FIN_PASSIVE: 22,
  RECEIVED_RST_BACK_TO_LISTEN: 23,
  RECEIVED_RST_IN_TIME_WAIT: 24,
  RECEIVED_RST_REFUSED: 25,
  RECEIVED_RST: 26,
  RECEIVED_ACK_SYN_COOKIE: 27,
  RECEIVED_ACK_OF_SYN: 28,
  RECEIVED_ACK_OF_FIN: 29,
  RECEIVED_ACK_OF_FIN_RETRANSMITTED: 30,
  SENT_AFTER_ACK_OF_SYN_DROPPED: 31,
  ORPHAN_GAVE_UP: 32,
  PROBE_GAVE_UP: 33,
  // An ICMP error for its handshake (their order is decode/icmp.ts's Icmp codes 1 to 4, then the rest).
  RECEIVED_ICMP_NET_UNREACHABLE: 34,
  RECEIVED_ICMP_HOST_UNREACHABLE: 35,
  RECEIVED_ICMP_PORT_UNREACHABLE: 36,
  RECEIVED_ICMP_PROHIBITED: 37,
  RECEIVED_ICMP_ERROR: 38,
  RECEIVED_ICMP_REQUEST_DROPPED: 39,
  SILENT_GAVE_UP: 40,
} as const;
export type CauseCode = (typeof Cause)[keyof typeof Cause];

/** The cause of a handshake ended by an ICMP error of kind `icmp` (decode/icmp.ts's Icmp codes). */
export function icmpCause(icmp: number): CauseCode {
  return (icmp >= 1 && icmp <= 4 ? Cause.RECEIVED_ICMP_NET_UNREACHABLE + icmp - 1 : Cause.RECEIVED_ICMP_ERROR) as CauseCode;
}

/** A handshake ended by an ICMP error (icmpCause's codes). */
export function isIcmpCause(cause: number): boolean {
  return cause >= Cause.RECEIVED_ICMP_NET_UNREACHABLE && cause <= Cause.RECEIVED_ICMP_ERROR;
}

/** The text of each cause, by code; `{timeWait}` and `{finTimeout}` are the table's timers in seconds. */
const CAUSE_TEXT: readonly string[] = [
  'capture starts mid-connection',
  'TIME_WAIT expired ({timeWait} s)',
  'FIN_WAIT_2 timed out (tcp_fin_timeout {finTimeout} s)',
  'gave up connecting: no answer to its SYN retransmissions (tcp_syn_retries)',
  'gave up retransmitting: its data was never acknowledged (tcp_retries2)',
  'SYN-ACK never retransmitted: a SYN cookie, no socket kept',
  'TIME_WAIT ended by a new SYN on the tuple (reuse)',
  'received SYN-ACK',
  'received SYN-ACK (simultaneous open)',
  'received SYN (simultaneous open)',
  'listening (it answered the SYN)',
  'received SYN (passive open)',
  'received FIN (in sequence, once the hole before it was filled)',
  'received FIN',
  'received FIN with the ACK of its FIN',
  'received FIN (simultaneous close)',
  'sent RST',
  'sent SYN (active open)',
  'listening (it answered a SYN)',
  'sent SYN-ACK (its SYN was not captured)',
  'sent SYN (not captured)',
  'sent FIN (active close)',
  'sent FIN (passive close)',
  'received RST (back to LISTEN)',
  'received RST in TIME_WAIT (TIME_WAIT assassination, RFC 1337)',
  'received RST (connection refused)',
  'received RST',
  'received ACK with a valid SYN cookie',
  'received ACK of its SYN',
  'received ACK of its FIN',
  'received ACK of its FIN (an earlier ACK never arrived: it retransmitted its FIN)',
  'received ACK of its SYN (one was dropped before: it retransmitted its SYN-ACK; its own segment shows this one was taken)',
  'gave up retransmitting after close(): an orphan, its data never acknowledged (tcp_orphan_retries)',
  'gave up probing a zero window: its probes went unanswered (tcp_retries2; an orphan: tcp_orphan_retries)',
  'received ICMP network unreachable for its handshake: connect() failed (ENETUNREACH)',
  'received ICMP host unreachable for its handshake: connect() failed (EHOSTUNREACH)',
  'received ICMP port unreachable for its handshake: connect() failed (ECONNREFUSED)',
  'received ICMP administratively prohibited for its handshake: connect() failed (EHOSTUNREACH; over IPv6 EACCES)',
  'received an ICMP error for its handshake (time exceeded, parameter problem, or unreachable): connect() failed',
  'received an ICMP error for its SYN-ACK: the request was dropped (back to LISTEN)',
  'gave up retransmitting before tcp_retries2 (TCP_USER_TIMEOUT, or a smaller tcp_retries2): no retransmission came when the next was due',
];

/** Every cause's text for a table with these timers (made once per table, read at the edges). */
export function causeTexts(timeWaitUs: number, finTimeoutUs: number): readonly string[] {
  return CAUSE_TEXT.map((t) => t.replace('{timeWait}', String(timeWaitUs / 1e6)).replace('{finTimeout}', String(finTimeoutUs / 1e6)));
}
