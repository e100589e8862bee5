/**
 * Caps on lengths read from a capture. A length field is checked against these
 * before anything is allocated or awaited, so a crafted 4 GB length is an error,
 * not a hang or an out-of-memory.
 */

/** Largest packet we accept whatever the snaplen says (Wireshark's standard maximum). */
export const MAX_PACKET_STANDARD = 262_144;
/** Largest packet we accept when the file's snaplen asks for more than the standard. */
export const MAX_PACKET_HARD = 16 * 1024 * 1024;
/** Largest pcapng block of any type. */
export const MAX_BLOCK = MAX_PACKET_HARD + 4096;
/**
 * Most pcapng interface description blocks in one capture (all sections, and all files read as
 * one with --continuous): what the obsolete Packet Block's 16-bit interface id can name. Each IDB
 * is 20 bytes on disk but an object here (and a database row), so without a cap 2,000,000 of
 * them in 40 MB took over 1 GB.
 */
export const MAX_INTERFACES = 65_536;

export function packetLimit(snaplen: number): number {
  if (snaplen > MAX_PACKET_STANDARD) return Math.min(snaplen, MAX_PACKET_HARD);
  return MAX_PACKET_STANDARD;
}
