/**
 * Rules of Linux's TCP beyond RFC 793 that the state machine follows, on hand-built captures.
 * Segments from outside a connection's own exchange: ICMP and ICMPv6 errors quoting a TCP segment
 * (tcp_v4_err/tcp_v6_err: a connect in SYN-SENT fails at once, a request socket is dropped only
 * by the kinds that abort it, an established connection takes the error as soft); a SYN of a new
 * ISN into a synchronized connection (a challenge ACK, nothing changes until what follows shows a
 * new connection: RFC 5961 4.2); a SYN a TIME_WAIT only answers with an ACK. And silences: an end
 * that stops retransmitting before tcp_retries2 gave up (TCP_USER_TIMEOUT). samples/kernel's icmp-*,
 * syn-in-established, syn-to-time-wait-low-isn, tcp-fast-open and user-timeout captures are the
 * kernel's own word on the same rules.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeCapture } from '../src/pipeline.js';
import { DecodedPacket, Status, decodeFrame } from '../src/decode/index.js';
import { Icmp, ICMP_ABORTS_REQUEST } from '../src/decode/icmp.js';
import type { FlowRecord } from '../src/tcp/rfc793/flow.js';
import { STACK_PROFILES, type FlowTableOptions } from '../src/tcp/rfc793/table.js';
import type { Finding } from '../src/detect/finding.js';
import { sourceFromChunks } from '../src/reader/index.js';
import { pieces } from './helpers.js';
import { ETHERTYPE, IPPROTO_TCP, LINKTYPE, TCP_FLAG, concat, ethernet, ipv4, ipv6, parseIPv4, parseIPv6, parseMac, tcp, writePcap, type Frame } from './scenario/writer.js';

const { SYN, ACK, PSH, FIN } = TCP_FLAG;
const mac = parseMac('02:00:00:00:02:01');
const C4 = parseIPv4('192.0.2.1');
const S4 = parseIPv4('192.0.2.2');
const ROUTER4 = parseIPv4('198.51.100.1');
const C6 = parseIPv6('2001:db8::1');
const S6 = parseIPv6('2001:db8::2');

interface Seg {
  from: 'c' | 's';
  /** The client's port (40000). */
  port?: number;
  flags: number;
  seq: number;
  ack?: number;
  len?: number;
}

/** A segment between C and S (ports 40000 and 9150) as its IP packet. */
function ip(s: Seg, v6 = false): Uint8Array {
  const [src, dst] = s.from === 'c' ? (v6 ? [C6, S6] : [C4, S4]) : v6 ? [S6, C6] : [S4, C4];
  const [sp, dp] = s.from === 'c' ? [s.port ?? 40000, 9150] : [9150, s.port ?? 40000];
  const t = tcp({ srcPort: sp, dstPort: dp, seq: s.seq, ack: s.ack ?? 0, flags: s.flags, window: 64240, payload: new Uint8Array(s.len ?? 0) }, src, dst);
  return v6 ? ipv6(src, dst, IPPROTO_TCP, t, { hopLimit: 64, flowLabel: 0 }) : ipv4(src, dst, IPPROTO_TCP, t, { ttl: 64, id: 1, df: true });
}

/** An ICMP error from `from` to `to` quoting the first bytes of `quoted` (an IP packet). */
function icmp4(from: Uint8Array, to: Uint8Array, type: number, code: number, quoted: Uint8Array, keep = 28): Uint8Array {
  return ipv4(from, to, 1, concat([Uint8Array.of(type, code, 0, 0, 0, 0, 0, 0), quoted.subarray(0, keep)]), { ttl: 64, id: 2, df: false });
}
function icmp6(from: Uint8Array, to: Uint8Array, type: number, code: number, quoted: Uint8Array): Uint8Array {
  return ipv6(from, to, 58, concat([Uint8Array.of(type, code, 0, 0, 0, 0, 0, 0), quoted.subarray(0, 48)]), { hopLimit: 64, flowLabel: 0 });
}

/** Packets 10 ms apart, or at `at` seconds from the first. */
function capture(packets: Array<{ ip: Uint8Array; v6?: boolean; at?: number }>): Uint8Array {
  const frames: Frame[] = packets.map((p, i) => ({ tsNs: BigInt(1_700_000_000_000_000 + Math.round((p.at ?? i / 100) * 1e6)) * 1000n, bytes: ethernet(mac, mac, p.v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4, p.ip) }));
  return writePcap({ endian: 'le', precision: 'us', linkType: LINKTYPE.ETHERNET, snaplen: 65535 }, frames);
}

async function run(packets: Array<{ ip: Uint8Array; v6?: boolean; at?: number }>, flowOptions: Partial<FlowTableOptions> = {}): Promise<{ flows: FlowRecord[]; findings: Finding[] }> {
  const flows: FlowRecord[] = [];
  const findings: Finding[] = [];
  await analyzeCapture('icmp.pcap', sourceFromChunks(pieces(capture(packets), 0)), { onFlowEnd: (f) => flows.push(f.snapshot()), onFinding: (f) => findings.push(f), flowOptions });
  return { flows, findings };
}

const path = (f: FlowRecord) => f.transitions.map((t) => `${t.side}:${t.from ?? '-'}>${t.to}@${t.packet ?? 'timer'}`);

test('the decoder reads the quoted segment of the ICMP errors TCP takes, and nothing of the others', () => {
  const syn = ip({ from: 'c', flags: SYN, seq: 0x01020304 });
  const p = new DecodedPacket();
  const decode = (b: Uint8Array, v6 = false) => decodeFrame(p, LINKTYPE.ETHERNET, ethernet(mac, mac, v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4, b), 0, 14 + b.length, 14 + b.length);
  assert.equal(decode(icmp4(S4, C4, 3, 3, syn)), Status.NON_TCP);
  assert.deepEqual([p.icmp, p.icmpType, p.icmpCode, p.icmpSrcPort, p.icmpDstPort, p.icmpSeq, p.icmpBits], [Icmp.PORT_UNREACHABLE, 3, 3, 40000, 9150, 0x01020304, 0]);
  decode(icmp4(ROUTER4, C4, 3, 1, syn));
  assert.deepEqual([p.icmp, p.icmpBits], [Icmp.HOST_UNREACHABLE, ICMP_ABORTS_REQUEST]);
  for (const [type, code, kind] of [
    [3, 0, Icmp.NET_UNREACHABLE],
    [3, 13, Icmp.PROHIBITED],
    [3, 2, Icmp.OTHER_UNREACHABLE],
    [11, 0, Icmp.TIME_EXCEEDED],
    [12, 0, Icmp.PARAMETER_PROBLEM],
    // Path MTU, codes past 15, source quench, redirect, echo: not about the connection's state.
    [3, 4, Icmp.NONE],
    [3, 16, Icmp.NONE],
    [4, 0, Icmp.NONE],
    [5, 1, Icmp.NONE],
    [8, 0, Icmp.NONE],
  ]) {
    decode(icmp4(S4, C4, type, code, syn));
    assert.equal(p.icmp, kind, `type ${type} code ${code}`);
  }
  // A quote too short for the sequence number, or of a later fragment, says nothing.
  decode(icmp4(S4, C4, 3, 3, syn, 24));
  assert.equal(p.icmp, Icmp.NONE);
  const later = Uint8Array.from(syn);
  later[7] = 8; // fragment offset 64
  decode(icmp4(S4, C4, 3, 3, later));
  assert.equal(p.icmp, Icmp.NONE);
  // The next packet starts clean.
  decode(syn);
  assert.equal(p.icmp, Icmp.NONE);

  const syn6 = ip({ from: 'c', flags: SYN, seq: 77 }, true);
  for (const [type, code, kind, bits] of [
    [1, 1, Icmp.PROHIBITED, ICMP_ABORTS_REQUEST],
    [1, 4, Icmp.PORT_UNREACHABLE, ICMP_ABORTS_REQUEST],
    [1, 3, Icmp.HOST_UNREACHABLE, 0],
    [1, 0, Icmp.NET_UNREACHABLE, 0],
    [3, 0, Icmp.TIME_EXCEEDED, 0],
    [2, 0, Icmp.NONE, 0],
  ]) {
    decode(icmp6(S6, C6, type, code, syn6), true);
    assert.equal(p.icmp, kind, `ICMPv6 type ${type} code ${code}`);
    if (kind !== Icmp.NONE) assert.deepEqual([p.icmpSeq, p.icmpBits], [77, bits]);
  }
});

test('ICMP port unreachable for a SYN: the connect fails at the error, with its finding', async () => {
  const syn = ip({ from: 'c', flags: SYN, seq: 1000 });
  const { flows, findings } = await run([{ ip: syn }, { ip: icmp4(S4, C4, 3, 3, syn) }]);
  assert.equal(flows.length, 1);
  assert.deepEqual(path(flows[0]), ['client:CLOSED>SYN_SENT@1', 'client:SYN_SENT>CLOSED@2']);
  assert.match(flows[0].transitions[1].cause, /ICMP port unreachable .*ECONNREFUSED/);
  assert.deepEqual(
    findings.map((f) => [f.kind, f.severity, f.packet, f.side]),
    [['icmp_unreachable', 'warning', 2, 'client']],
  );
  assert.match(findings[0].message, /connect\(\) failed \(ECONNREFUSED\): ICMP port unreachable \(frame 2\) from the server's address answered its SYN/);
});

test('an ICMP error whose quote is outside the connect, or for an established connection, changes nothing', async () => {
  const syn = ip({ from: 'c', flags: SYN, seq: 1000 });
  const other = ip({ from: 'c', flags: SYN, seq: 9000 });
  const a = await run([{ ip: syn }, { ip: icmp4(ROUTER4, C4, 3, 1, other) }]);
  assert.deepEqual(path(a.flows[0]), ['client:CLOSED>SYN_SENT@1']);
  assert.deepEqual(
    a.findings.filter((f) => f.kind === 'icmp_unreachable'),
    [],
  );
  const data = ip({ from: 'c', flags: ACK | PSH, seq: 1001, ack: 5001, len: 100 });
  const b = await run([{ ip: syn }, { ip: ip({ from: 's', flags: SYN | ACK, seq: 5000, ack: 1001 }) }, { ip: ip({ from: 'c', flags: ACK, seq: 1001, ack: 5001 }) }, { ip: data }, { ip: icmp4(ROUTER4, C4, 3, 1, data) }]);
  assert.deepEqual(
    b.flows[0].transitions.filter((t) => t.packet === 5),
    [],
  );
  assert.equal(b.flows[0].client.state, 'ESTABLISHED');
});

test('a SYN sent again with its ISN after the error: the error never reached the client, taken back', async () => {
  const syn = ip({ from: 'c', flags: SYN, seq: 1000 });
  const { flows, findings } = await run([
    { ip: syn },
    { ip: icmp4(ROUTER4, C4, 3, 1, syn) },
    { ip: syn },
    { ip: ip({ from: 's', flags: SYN | ACK, seq: 5000, ack: 1001 }) },
    { ip: ip({ from: 'c', flags: ACK, seq: 1001, ack: 5001 }) },
  ]);
  assert.equal(flows.length, 1);
  assert.deepEqual(path(flows[0]).slice(0, 1), ['client:CLOSED>SYN_SENT@1']);
  assert.ok(!path(flows[0]).includes('client:SYN_SENT>CLOSED@2'), path(flows[0]).join(' '));
  assert.equal(flows[0].client.state, 'ESTABLISHED');
  assert.deepEqual(
    findings.filter((f) => f.kind === 'icmp_unreachable'),
    [],
  );
});

test('ICMPv6 administratively prohibited for a SYN: the connect fails', async () => {
  const syn = ip({ from: 'c', flags: SYN, seq: 1000 }, true);
  const { flows, findings } = await run([{ ip: syn, v6: true }, { ip: icmp6(S6, C6, 1, 1, syn), v6: true }]);
  assert.deepEqual(path(flows[0]), ['client:CLOSED>SYN_SENT@1', 'client:SYN_SENT>CLOSED@2']);
  assert.match(flows[0].transitions[1].cause, /administratively prohibited/);
  assert.match(findings.find((f) => f.kind === 'icmp_unreachable')?.message ?? '', /EACCES/);
});

test("a request socket is dropped by host unreachable for its SYN-ACK, not by port unreachable (IPv4's rule)", async () => {
  const syn = ip({ from: 'c', flags: SYN, seq: 1000 });
  const synAck = ip({ from: 's', flags: SYN | ACK, seq: 5000, ack: 1001 });
  const host = await run([{ ip: syn }, { ip: synAck }, { ip: icmp4(C4, S4, 3, 1, synAck) }]);
  assert.ok(path(host.flows[0]).includes('server:SYN_RECEIVED>LISTEN@3'), path(host.flows[0]).join(' '));
  assert.deepEqual(
    host.findings.filter((f) => f.kind === 'icmp_unreachable').map((f) => [f.severity, f.side]),
    [['note', 'server']],
  );
  const port = await run([{ ip: syn }, { ip: synAck }, { ip: icmp4(C4, S4, 3, 3, synAck) }]);
  assert.equal(port.flows[0].server.state, 'SYN_RECEIVED');
  // Not its SYN-ACK (another sequence number): nothing either.
  const other = await run([{ ip: syn }, { ip: synAck }, { ip: icmp4(C4, S4, 3, 1, ip({ from: 's', flags: SYN | ACK, seq: 7000, ack: 1001 })) }]);
  assert.equal(other.flows[0].server.state, 'SYN_RECEIVED');
});

/** A handshake on C:40000 -> S:9150 (ISNs 1000 and 5000) and one exchange of 10 bytes each way. */
function established(): Array<{ ip: Uint8Array }> {
  return [
    { ip: ip({ from: 'c', flags: SYN, seq: 1000 }) },
    { ip: ip({ from: 's', flags: SYN | ACK, seq: 5000, ack: 1001 }) },
    { ip: ip({ from: 'c', flags: ACK, seq: 1001, ack: 5001 }) },
    { ip: ip({ from: 'c', flags: ACK | PSH, seq: 1001, ack: 5001, len: 10 }) },
    { ip: ip({ from: 's', flags: ACK | PSH, seq: 5001, ack: 1011, len: 10 }) },
    { ip: ip({ from: 'c', flags: ACK, seq: 1011, ack: 5011 }) },
  ];
}

test('a SYN of another ISN into an established connection draws a challenge ACK and changes nothing (a forged SYN)', async () => {
  const { flows } = await run([
    ...established(),
    { ip: ip({ from: 'c', flags: SYN, seq: 777000 }) },
    { ip: ip({ from: 's', flags: ACK, seq: 5011, ack: 1011 }) },
    { ip: ip({ from: 'c', flags: ACK | PSH, seq: 1011, ack: 5011, len: 10 }) },
    { ip: ip({ from: 's', flags: ACK, seq: 5011, ack: 1021 }) },
  ]);
  assert.equal(flows.length, 1);
  assert.deepEqual([flows[0].client.state, flows[0].server.state], ['ESTABLISHED', 'ESTABLISHED']);
  // The SYN counts among the client's packets (5 of the exchange, the SYN, the data after).
  assert.equal(flows[0].client.packets, 6);
});

test("the challenged SYN's sender answers the challenge ACK with a RST: a new connect(), its old socket gone; the old connection is reset, the new one starts with that SYN", async () => {
  const { flows } = await run([
    ...established(),
    { ip: ip({ from: 'c', flags: SYN, seq: 777000 }) },
    { ip: ip({ from: 's', flags: ACK, seq: 5011, ack: 1011 }) },
    // RFC 793's answer of a socket in SYN_SENT to an ACK of something it never sent: RST, no ACK, at SEG.ACK.
    { ip: ip({ from: 'c', flags: 0x04, seq: 1011 }) },
    { ip: ip({ from: 'c', flags: SYN, seq: 777000 }) },
    { ip: ip({ from: 's', flags: SYN | ACK, seq: 9000, ack: 777001 }) },
    { ip: ip({ from: 'c', flags: ACK, seq: 777001, ack: 9001 }) },
  ]);
  assert.equal(flows.length, 2);
  assert.equal(flows[0].endReason, 'reset');
  assert.deepEqual(path(flows[0]).slice(-2), ['client:ESTABLISHED>CLOSED@9', 'server:ESTABLISHED>CLOSED@9']);
  assert.equal(flows[1].firstPacket, 7);
  assert.deepEqual(path(flows[1]).slice(0, 1), ['client:CLOSED>SYN_SENT@7']);
  assert.deepEqual([flows[1].client.state, flows[1].server.state], ['ESTABLISHED', 'ESTABLISHED']);
  // Not so for a RST/ACK (an application's abort of the old connection): the SYN stays held, the RST resets the old one.
  const abort = await run([...established(), { ip: ip({ from: 'c', flags: SYN, seq: 777000 }) }, { ip: ip({ from: 's', flags: ACK, seq: 5011, ack: 1011 }) }, { ip: ip({ from: 'c', flags: 0x14, seq: 1011, ack: 5011 }) }]);
  assert.equal(abort.flows.length, 1);
});

test('a SYN-ACK answering the challenged SYN shows a new connection: it starts with that SYN, the old one ends for reuse there', async () => {
  const { flows } = await run([
    ...established(),
    { ip: ip({ from: 'c', flags: SYN, seq: 777000 }) },
    { ip: ip({ from: 's', flags: SYN | ACK, seq: 9000, ack: 777001 }) },
    { ip: ip({ from: 'c', flags: ACK, seq: 777001, ack: 9001 }) },
  ]);
  assert.equal(flows.length, 2);
  assert.equal(flows[0].endReason, 'reuse');
  // The held SYN is the new flow's first packet, not the old one's last.
  assert.deepEqual([flows[0].lastPacket, flows[0].client.packets], [6, 4]);
  assert.equal(flows[1].firstPacket, 7);
  assert.equal(flows[1].rolesBy, 'syn');
  assert.deepEqual(path(flows[1]).slice(0, 1), ['client:CLOSED>SYN_SENT@7']);
  assert.deepEqual([flows[1].client.state, flows[1].server.state], ['ESTABLISHED', 'ESTABLISHED']);
});

test("a Fast Open SYN's data acknowledged by the SYN-ACK: the client is established", async () => {
  const { flows } = await run([
    { ip: ip({ from: 'c', flags: SYN, seq: 1000, len: 12 }) },
    { ip: ip({ from: 's', flags: SYN | ACK, seq: 5000, ack: 1013 }) },
    { ip: ip({ from: 'c', flags: ACK, seq: 1013, ack: 5001 }) },
  ]);
  assert.deepEqual([flows[0].client.state, flows[0].server.state], ['ESTABLISHED', 'ESTABLISHED']);
  assert.ok(path(flows[0]).includes('client:SYN_SENT>ESTABLISHED@2'), path(flows[0]).join(' '));
});

/** established(), then the server closes first: the server in TIME_WAIT, the client gone (frames 7-10). */
function serverTimeWait(): Array<{ ip: Uint8Array }> {
  return [
    ...established(),
    { ip: ip({ from: 's', flags: FIN | ACK, seq: 5011, ack: 1011 }) },
    { ip: ip({ from: 'c', flags: ACK, seq: 1011, ack: 5012 }) },
    { ip: ip({ from: 'c', flags: FIN | ACK, seq: 1011, ack: 5012 }) },
    { ip: ip({ from: 's', flags: ACK, seq: 5012, ack: 1012 }) },
  ];
}

test("a SYN without timestamps at or below a TIME_WAIT's rcv_nxt gets an ACK, not a new connection; the RST answering that ACK ends the TIME_WAIT", async () => {
  const { flows } = await run([
    ...serverTimeWait(),
    { ip: ip({ from: 'c', flags: SYN, seq: 500 }) },
    { ip: ip({ from: 's', flags: ACK, seq: 5012, ack: 1012 }) },
    { ip: ip({ from: 'c', flags: 0x04, seq: 1012 }) },
  ]);
  assert.equal(flows.length, 1);
  assert.ok(path(flows[0]).includes('server:TIME_WAIT>CLOSED@13'), path(flows[0]).join(' '));
  assert.match(flows[0].transitions.at(-1)?.cause ?? '', /RST in TIME_WAIT/);
  // The SYN counts among the client's packets (6 before it, the SYN, the RST), changing nothing.
  assert.equal(flows[0].client.packets, 8);
});

test('the TIME_WAIT host answering such a SYN with a SYN-ACK after all: a new connection, started with that SYN', async () => {
  const { flows } = await run([
    ...serverTimeWait(),
    { ip: ip({ from: 'c', flags: SYN, seq: 500 }) },
    { ip: ip({ from: 's', flags: SYN | ACK, seq: 90000, ack: 501 }) },
    { ip: ip({ from: 'c', flags: ACK, seq: 501, ack: 90001 }) },
  ]);
  assert.equal(flows.length, 2);
  assert.equal(flows[0].endReason, 'reuse');
  assert.ok(path(flows[0]).includes('server:TIME_WAIT>CLOSED@timer'), path(flows[0]).join(' '));
  assert.equal(flows[1].firstPacket, 11);
  assert.deepEqual([flows[1].client.state, flows[1].server.state], ['ESTABLISHED', 'ESTABLISHED']);
});

test('an end that stops retransmitting before tcp_retries2 gave up where its next retransmission was due, once the capture shows none came', async () => {
  const data = (at: number) => ({ ip: ip({ from: 'c', flags: ACK | PSH, seq: 1011, ack: 5011, len: 100 }), at });
  // Sent at 1 s, retransmitted after 0.2, 0.4 and 0.8 s: the next was due 1.6 s after the last (at 3 s).
  const lost = [...established(), data(1), data(1.2), data(1.6), data(2.4)];
  // The capture goes on (another connection) long past that: it gave up at 4 s.
  const on = await run([...lost, { ip: ip({ from: 'c', flags: SYN, seq: 1, port: 41000 }), at: 9 }]);
  const gone = on.flows.find((f) => f.client.port === 40000)!;
  assert.deepEqual(path(gone).slice(-1), ['client:ESTABLISHED>CLOSED@timer']);
  assert.equal(gone.transitions.at(-1)?.ts, 1_700_000_000_000_000 + 4_000_000);
  assert.match(gone.transitions.at(-1)?.cause ?? '', /TCP_USER_TIMEOUT/);
  assert.equal(gone.server.state, 'ESTABLISHED');
  // Ending before the evidence (the next retransmission's time and one more wait), nothing is said.
  const cut = await run([...lost, { ip: ip({ from: 'c', flags: SYN, seq: 1, port: 41000 }), at: 4.5 }]);
  assert.equal(cut.flows.find((f) => f.client.port === 40000)!.client.state, 'ESTABLISHED');
  // With one retransmission only there is no backoff to read: nothing either.
  const once = await run([...established(), data(1), data(1.2), { ip: ip({ from: 'c', flags: SYN, seq: 1, port: 41000 }), at: 9 }]);
  assert.equal(once.flows.find((f) => f.client.port === 40000)!.client.state, 'ESTABLISHED');
});

test("a RST in an end's name that it did not send: the end sends on in its own sequence space, so it was never gone", async () => {
  const { flows } = await run([
    ...established(),
    // Forged with the client's address and port, at the server's rcv_nxt: the server takes it.
    { ip: ip({ from: 'c', flags: 0x04, seq: 1011 }) },
    // The client's own data after it (a second later): its socket never sent that RST.
    { ip: ip({ from: 'c', flags: ACK | PSH, seq: 1011, ack: 5011, len: 10 }), at: 1.07 },
  ]);
  const p = path(flows[0]);
  assert.ok(p.includes('server:ESTABLISHED>CLOSED@7'), p.join(' '));
  assert.ok(!p.includes('client:ESTABLISHED>CLOSED@7'), p.join(' '));
  assert.equal(flows[0].client.state, 'ESTABLISHED');
});

test("a SYN sent again within 200 ms (Linux's resend at TCP_TIMEOUT_MIN after a RST to an ACK of nothing it sent) is no step of the backoff", async () => {
  const syn = (at: number) => ({ ip: ip({ from: 'c', flags: SYN, seq: 1000 }), at });
  const { flows } = await run([
    syn(0),
    { ip: ip({ from: 's', flags: ACK, seq: 5000, ack: 77 }), at: 0.0001 },
    { ip: ip({ from: 'c', flags: 0x04, seq: 77 }), at: 0.0002 },
    syn(0.012),
    syn(1.052),
    { ip: ip({ from: 's', flags: SYN | ACK, seq: 9000, ack: 1001 }), at: 1.0521 },
    { ip: ip({ from: 'c', flags: ACK, seq: 1001, ack: 9001 }), at: 1.0522 },
  ]);
  // Read as a backoff from 12 ms, the next SYN was due at 36 ms, and none by 1.036 s meant a give-up:
  // the SYN at 1.052 s would have started another flow.
  assert.equal(flows.length, 1);
  assert.deepEqual([flows[0].client.state, flows[0].server.state], ['ESTABLISHED', 'ESTABLISHED']);
});

test('a silent give-up is taken back when the end sends again; the rfc793 profile infers none', async () => {
  const data = (at: number) => ({ ip: ip({ from: 'c', flags: ACK | PSH, seq: 1011, ack: 5011, len: 100 }), at });
  const other = (at: number) => ({ ip: ip({ from: 'c', flags: SYN, seq: 1, port: 41000 }), at });
  // Its retransmission due at 4.0 s is missing from the capture; the next one (7.2 s) and an answer are in it.
  const back = await run([...established(), data(1), data(1.2), data(1.6), data(2.4), other(6.5), data(7.2), { ip: ip({ from: 's', flags: ACK, seq: 5011, ack: 1111 }), at: 7.25 }, other(20)]);
  const f = back.flows.find((x) => x.client.port === 40000)!;
  assert.equal(f.client.state, 'ESTABLISHED', path(f).join(' '));
  assert.ok(!f.transitions.some((t) => /TCP_USER_TIMEOUT/.test(t.cause)), path(f).join(' '));
  const rfc = await run([...established(), data(1), data(1.2), data(1.6), data(2.4), other(9)], STACK_PROFILES.rfc793);
  assert.equal(rfc.flows.find((x) => x.client.port === 40000)!.client.state, 'ESTABLISHED');
});

test('an ICMP error the client never took: its handshake goes on, and it is established, with no finding', async () => {
  const syn = ip({ from: 'c', flags: SYN, seq: 1000 });
  const { flows, findings } = await run([
    { ip: syn },
    { ip: icmp4(ROUTER4, C4, 11, 0, syn) },
    { ip: ip({ from: 's', flags: SYN | ACK, seq: 5000, ack: 1001 }) },
    { ip: ip({ from: 'c', flags: ACK, seq: 1001, ack: 5001 }) },
    { ip: ip({ from: 'c', flags: ACK | PSH, seq: 1001, ack: 5001, len: 10 }) },
  ]);
  assert.equal(flows.length, 1);
  assert.deepEqual([flows[0].client.state, flows[0].server.state], ['ESTABLISHED', 'ESTABLISHED'], path(flows[0]).join(' '));
  assert.deepEqual(
    findings.filter((x) => x.kind === 'icmp_unreachable'),
    [],
  );
});

test("a held SYN's connection shown by its sender's ACK (the SYN-ACK not captured), and a held SYN sent again", async () => {
  const lostAnswer = await run([
    ...established(),
    { ip: ip({ from: 'c', flags: SYN, seq: 777000 }), at: 100 },
    { ip: ip({ from: 'c', flags: ACK, seq: 777001, ack: 9001 }), at: 100.01 },
    { ip: ip({ from: 'c', flags: ACK | PSH, seq: 777001, ack: 9001, len: 10 }), at: 100.02 },
  ]);
  assert.equal(lostAnswer.flows.length, 2);
  assert.equal(lostAnswer.flows[1].firstPacket, 7);
  const again = await run([
    ...established(),
    { ip: ip({ from: 'c', flags: SYN, seq: 777000 }), at: 100 },
    { ip: ip({ from: 'c', flags: SYN, seq: 777000 }), at: 101 },
    { ip: ip({ from: 's', flags: SYN | ACK, seq: 9000, ack: 777001 }), at: 101.001 },
  ]);
  assert.equal(again.flows.length, 2);
  assert.deepEqual([again.flows[1].firstPacket, again.flows[1].client.synsSent, again.flows[1].client.packets], [7, 2, 2]);
  assert.equal(again.flows[0].client.packets, 4);
});
