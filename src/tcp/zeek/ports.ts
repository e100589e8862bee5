/**
 * Zeek's likely_server_ports (TCP part), which decides whether a connection
 * whose first packet is not a pure SYN starts flipped. Every protocol script
 * adds its well-known ports, so the set depends on the scripts loaded: all of
 * base/ with `zeek -r`, only the loaded protocols with `zeek -b`.
 */

/** TCP ports each base/protocols script registers (Zeek 7/8 era). */
export const ZEEK_PROTOCOL_TCP_PORTS: Readonly<Record<string, readonly number[]>> = {
  'dce-rpc': [135],
  dnp3: [20000],
  dns: [53],
  finger: [79],
  ftp: [21, 2811],
  http: [80, 81, 631, 1080, 3128, 8000, 8080, 8888],
  imap: [143],
  irc: [6666, 6667, 6668, 6669],
  krb: [88, 750],
  ldap: [389, 3268],
  modbus: [502],
  mqtt: [1883],
  mysql: [1434, 3306],
  pop3: [110],
  postgresql: [5432],
  rdp: [3389],
  redis: [6379],
  smb: [139, 445],
  smtp: [25, 587],
  socks: [1080],
  ssh: [22],
  ssl: [443, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223],
  xmpp: [5222, 5269],
};

/** likely_server_ports for the given protocol scripts (unknown names add nothing). */
export function zeekLikelyServerPorts(protocols: Iterable<string>, extra: Iterable<number> = []): Set<number> {
  const ports = new Set<number>(extra);
  for (const name of protocols) for (const p of ZEEK_PROTOCOL_TCP_PORTS[name] ?? []) ports.add(p);
  return ports;
}

/** `zeek -r` with the default scripts: every base protocol is loaded. */
export const ZEEK_DEFAULT_LIKELY_SERVER_PORTS: ReadonlySet<number> = zeekLikelyServerPorts(Object.keys(ZEEK_PROTOCOL_TCP_PORTS));
