/**
 * Zeek's TCP-related script constants (init-bare.zeek defaults), in integer
 * microseconds and bytes. A trace run with `redef`s passes overrides.
 */
export interface ZeekTuning {
  /** First check of the expire timer after a connection is created. */
  tcpSynTimeout: number;
  /** Re-check period of the expire timer (closed or half-closed connections). */
  tcpSessionTimer: number;
  /** Idle time after a close before the expire timer removes a connection. */
  tcpConnectionLinger: number;
  /** A SYN with no answer is logged as an attempt after this. */
  tcpAttemptDelay: number;
  /** State is kept this long after a complete close. */
  tcpCloseDelay: number;
  /** Idle timeout once an endpoint leaves the handshake states. */
  tcpInactivityTimeout: number;
  /** Initial idle timeout of every TCP connection (udp_inactivity_timeout). */
  initialInactivityTimeout: number;
  /** base/protocols/conn/inactivity.zeek: 1 h for these responder ports once established. */
  portInactivityTimeouts: ReadonlyMap<number, number>;
  /** Reassembly trims data nobody acknowledged beyond this (0: never). */
  tcpMaxInitialWindow: number;
  /** Reassembly gives up above a hole with no ACK beyond this (0: never). */
  tcpMaxAboveHoleWithoutAnyAcks: number;
  /** Reassembly gives up with this much unacknowledged data buffered (0: never). */
  tcpExcessiveDataWithoutFurtherAcks: number;
  /** Timers processed per packet (0: no limit). */
  maxTimerExpires: number;
}

const S = 1_000_000;

export const ZEEK_DEFAULT_TUNING: ZeekTuning = {
  tcpSynTimeout: 5 * S,
  tcpSessionTimer: 6 * S,
  tcpConnectionLinger: 5 * S,
  tcpAttemptDelay: 5 * S,
  tcpCloseDelay: 5 * S,
  tcpInactivityTimeout: 300 * S,
  initialInactivityTimeout: 60 * S,
  portInactivityTimeouts: new Map([21, 22, 23, 513].map((port) => [port, 3600 * S])),
  tcpMaxInitialWindow: 16384,
  tcpMaxAboveHoleWithoutAnyAcks: 16384,
  tcpExcessiveDataWithoutFurtherAcks: 10 * 1024 * 1024,
  maxTimerExpires: 300,
};
