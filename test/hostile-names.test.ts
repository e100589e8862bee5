/**
 * Hostile file names (issue #21, item 4): a directory of captures whose names hold ESC, BEL and
 * CR, U+FFFE, and bytes that are not UTF-8. Nothing of them reaches a terminal raw, the JUnit
 * file stays well-formed XML, and every file is opened by its bytes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Io } from '../src/cli/io.js';
import { run } from '../src/cli/main.js';
import { decodeName, fsPath, printable } from '../src/reader/index.js';
import { bytes, ethernet, ipv4, le32, tcp } from './frames.js';
import { repoRoot, scratchDir } from './helpers.js';

const bin = join(repoRoot, 'bin', 'tcpstate.js');

/** A pcap of one SYN. */
const PCAP = (() => {
  const frame = ethernet(0x0800, ipv4(6, tcp({ flags: 0x02 })));
  return Buffer.from(bytes(le32(0xa1b2c3d4), [2, 0, 4, 0], le32(0), le32(0), le32(65535), le32(1), le32(1_700_000_000), le32(0), le32(frame.length), le32(frame.length), frame));
})();

const CONTROL = 'esc\x1b[2Jbel\x07cr\rx.pcap';
const NONCHAR = 'nonchar\ufffe.pcap';
const NOT_UTF8 = Buffer.from([...Buffer.from('latin1-'), 0xe9, ...Buffer.from('t'), 0xe9, ...Buffer.from('.pcap')]);
/** What may not reach a terminal, or XML 1.0. */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f\ufffe\uffff]|[\ud800-\udfff]/;

function fakeIo(cwd: string) {
  const io = { out: '', err: '' };
  const value: Io = {
    stdout: { write: (s: string) => (io.out += s), isTTY: false },
    stderr: { write: (s: string) => (io.err += s), isTTY: false },
    stdin: new PassThrough(),
    env: {},
    cwd,
    onInterrupt: () => () => undefined,
  };
  return { io, value };
}

test('printable: controls, non-characters, lone surrogates and bidi marks are escaped, the rest kept', () => {
  assert.equal(printable(CONTROL), 'esc\\x1b[2Jbel\\x07cr\\x0dx.pcap');
  assert.equal(printable(NONCHAR), 'nonchar\\u{fffe}.pcap');
  assert.equal(printable(decodeName(NOT_UTF8)), 'latin1-\\xe9t\\xe9.pcap');
  assert.equal(printable('evil\u202egnp.exe \u0085'), 'evil\\u{202e}gnp.exe \\x85');
  assert.equal(printable('café 😀 données.pcap'), 'café 😀 données.pcap');
});

test('decodeName and fsPath: a name that is not UTF-8 keeps its bytes; one that is stays a plain string', () => {
  assert.equal(decodeName(Buffer.from('café.pcap')), 'café.pcap');
  assert.equal(fsPath('café.pcap'), 'café.pcap');
  for (const b of [NOT_UTF8, Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xe2, 0x82]), Buffer.from([0xff, 0x41])]) {
    const name = decodeName(b);
    assert.ok(Buffer.isBuffer(fsPath(name)));
    assert.deepEqual(fsPath(name), b);
  }
});

test('a directory of hostile names: analysed, printed escaped, JUnit well-formed', async () => {
  const cwd = scratchDir('tcpstate-names-');
  mkdirSync(join(cwd, 'incident'));
  writeFileSync(join(cwd, 'incident', CONTROL), PCAP);
  writeFileSync(join(cwd, 'incident', NONCHAR), PCAP);
  writeFileSync(Buffer.concat([Buffer.from(join(cwd, 'incident') + '/'), NOT_UTF8]), PCAP);
  const { io, value } = fakeIo(cwd);
  assert.equal(await run(['analyze', 'incident', '--junit', 'report.xml', '--fail-on', 'syn_flood', '-j', '1'], value), 0, io.err);
  assert.doesNotMatch(io.out + io.err, RAW);
  for (const shown of ['incident/esc\\x1b[2Jbel\\x07cr\\x0dx.pcap', 'incident/nonchar\\u{fffe}.pcap', 'incident/latin1-\\xe9t\\xe9.pcap']) {
    assert.ok(io.out.includes(`${shown}  pcap, ETHERNET  complete`), io.out);
  }
  const raw = readFileSync(join(cwd, 'report.xml'));
  const xml = raw.toString('utf8');
  assert.ok(Buffer.from(xml, 'utf8').equals(raw), 'the XML is UTF-8');
  assert.doesNotMatch(xml.replace(/\n/g, ''), RAW);
  assert.equal(xml.match(/<testcase classname="incident\/[^"]*" name="readable"><\/testcase>/g)?.length, 3);
  // In several workers too.
  const jobs = fakeIo(cwd);
  assert.equal(await run(['analyze', 'incident', '--db', 'j.db', '-j', '2'], jobs.value), 0, jobs.io.err);
  assert.doesNotMatch(jobs.io.out + jobs.io.err, RAW);
});

test('the real bin: a name that is not UTF-8 is read, a missing name is escaped in the error', () => {
  const cwd = scratchDir('tcpstate-names-');
  writeFileSync(Buffer.concat([Buffer.from(cwd + '/'), NOT_UTF8]), PCAP);
  // Arguments with bytes that are not UTF-8 can only be given through a shell.
  const sh = (args: string) => spawnSync('/bin/sh', ['-c', `exec "${process.execPath}" "${bin}" ${args}`], { cwd });
  const ok = sh(`analyze "$(printf 'latin1-\\351t\\351.pcap')" --db a.db`);
  assert.equal(ok.status, 0, ok.stderr.toString());
  assert.match(ok.stdout.toString(), /^latin1-\\xe9t\\xe9\.pcap {2}pcap, ETHERNET {2}complete\n {2}1 packet,/);
  const census = sh(`census "$(printf 'latin1-\\351t\\351.pcap')" --db a.db`);
  assert.equal(census.status, 0, census.stderr.toString());
  const missing = sh(`analyze "$(printf 'gone\\033]0;pwned\\007\\r.pcap')" --db a.db`);
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr.toString(), 'tcpstate: the file "gone\\x1b]0;pwned\\x07\\x0d.pcap" doesn\'t exist\n');
  assert.doesNotMatch(missing.stdout.toString(), RAW);
});
