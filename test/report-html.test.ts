/**
 * `tcpstate report`: the HTML file opened in a real browser (Debian's headless Chromium, driven
 * by its own --dump-dom and --screenshot): no console message or script error, the census the
 * page shows at a moment is `census --at` at that moment, the seeds' ladder shows the states in
 * the order the seeds tell them, and a screenshot is kept (dist/test/artifacts/). Without a
 * browser the test fails and says how to install one: it is not skipped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { SS_NAMES, type TcpStateName } from '../src/tcp/rfc793/tcp-state.js';
import { repoRoot, scratchDir } from './helpers.js';
import { cli, seeds, tempDir } from './report-io.js';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const artifacts = join(repoRoot, 'dist', 'test', 'artifacts');

/** Chromium's binary: $CHROMIUM, or chromium / chromium-browser on PATH. */
function chromium(): string {
  const candidates = [process.env.CHROMIUM, 'chromium', 'chromium-browser'].filter((c): c is string => c !== undefined && c !== '');
  for (const c of candidates) {
    if (spawnSync(c, ['--version'], { encoding: 'utf8' }).status === 0) return c;
  }
  assert.fail('no headless browser: this test needs Chromium (Debian: apt-get install -y chromium; or set CHROMIUM to its path)');
}

/**
 * Chromium on the page, headless, with nothing that reaches the network and a profile of its own
 * (as root it needs --no-sandbox; without a fresh profile it can hang on a closed network).
 * Returns what it printed and its stderr, where console messages show as ":CONSOLE" lines.
 */
function browse(url: string, action: string[], windowSize = '1200,1600'): { out: string; err: string } {
  const profile = scratchDir('tcpstate-chromium-');
  try {
    const r = spawnSync(
      chromium(),
      [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0',
        '--virtual-time-budget=5000', `--window-size=${windowSize}`, ...action, url,
      ],
      { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 },
    );
    assert.equal(r.error, undefined, `chromium did not run: ${r.error?.message}`);
    assert.equal(r.status, 0, `chromium exited ${r.status}: ${r.stderr.slice(-2000)}`);
    return { out: r.stdout, err: r.stderr };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The page after its scripts ran, checked for errors and console messages. */
function dom(file: string, hash: string): string {
  const { out, err } = browse(`${pathToFileURL(file).href}#${hash}`, ['--dump-dom']);
  const console = err.split('\n').filter((l) => l.includes(':CONSOLE'));
  assert.deepEqual(console, [], 'the page wrote to the console');
  assert.match(out, /<body[^>]*data-ready="1"/, 'the page script did not finish');
  assert.doesNotMatch(out, /data-errors=/, 'the page caught a script error');
  return out;
}

/** The census table the page shows: host ("*" for all) -> RFC state -> sockets. */
function pageCensus(html: string): { t: number; hosts: Map<string, Record<string, number>> } {
  const table = /<table id="census" data-t="([0-9.]+)"[^>]*>([\s\S]*?)<\/table>/.exec(html);
  assert.ok(table, 'no census table in the page');
  const hosts = new Map<string, Record<string, number>>();
  for (const row of table[2].matchAll(/<tr data-host="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/g)) {
    const counts: Record<string, number> = {};
    for (const cell of row[2].matchAll(/<td data-state="([A-Z_0-9]+)">([0-9,]*)<\/td>/g)) if (cell[2] !== '') counts[cell[1]] = Number(cell[2].replace(/,/g, ''));
    hosts.set(row[1], counts);
  }
  return { t: Number(table[1]), hosts };
}

const RFC = new Map(Object.entries(SS_NAMES).map(([rfc, ss]) => [ss, rfc as TcpStateName]));

async function report(capture: string, name: string, extra: string[] = []): Promise<string> {
  const file = join(dir, `${name}.html`);
  const r = await cli(['report', capture, '-o', file, ...extra]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`));
  return file;
}

test('the census at a chosen second is census --at at that second, host by host', async () => {
  for (const [capture, moments] of [
    ['samples/kernel/syn-flood/syn-flood.pcap', ['0.2', '1', '2']],
    ['samples/kernel/time-wait-pileup/time-wait-pileup.pcap', ['0.02']],
    ['samples/kernel/stuck-close-wait/stuck-close-wait.pcap', ['1', '5']],
  ] as const) {
    const file = await report(capture, capture.split('/')[2]);
    for (const at of moments) {
      const page = pageCensus(dom(file, `t=${at}`));
      assert.equal(page.t, Number(at), `${capture}: the page's moment`);
      const r = await cli(['census', capture, '--at', `+${at}`, '--json']);
      assert.equal(r.code, 0, r.err);
      const census = JSON.parse(r.out) as { counts: Record<string, number>; hosts: Array<{ host: string; counts: Record<string, number> }>; flood_sources: unknown[] };
      assert.ok(census.hosts.length > 0, `${capture} +${at}: census lists no host`);
      const rfc = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).map(([ss, n]) => [RFC.get(ss)!, n]));
      for (const h of census.hosts) assert.deepEqual(page.hosts.get(h.host) ?? {}, rfc(h.counts), `${capture} +${at}: host ${h.host}`);
      // Every host the page counts a socket on is one census lists.
      for (const [host, counts] of page.hosts) if (host !== '*' && Object.keys(counts).length > 0) assert.ok(census.hosts.some((h) => h.host === host), `${capture} +${at}: ${host} is no host of census`);
      if (census.flood_sources.length === 0) assert.deepEqual(page.hosts.get('*'), rfc(census.counts), `${capture} +${at}: all hosts`);
    }
  }
});

test("the seeds' ladder shows the states in the seeds' order; a screenshot is kept", async () => {
  const svg = join(dir, 'svg');
  const file = await report(seeds, 'seeds', ['--svg', svg]);
  const html = readFileSync(file, 'utf8');
  // One file: nothing is fetched (no src or href leaves the page but its own fragments).
  assert.doesNotMatch(html, /\s(?:src|href)="(?!#)/);
  const page = dom(file, 'flow=1');
  const section = /<section class="ladder" data-flow="1"(?<attrs>[^>]*)>(?<body>[\s\S]*?)<\/section>/.exec(page);
  assert.ok(section?.groups, 'no ladder for flow 1');
  assert.doesNotMatch(section.groups.attrs, /hidden/, '#flow=1 shows the ladder');
  const story: string[] = [];
  for (const g of section.groups.body.matchAll(/<g class="step" data-frame="(\d*)">([\s\S]*?)<\/g>/g)) {
    for (const s of g[2].matchAll(/<text class="state" data-side="(\w+)" data-state="(\w+)"( data-inferred="1")?/g)) if (s[3] === undefined) story.push(`${g[1]} ${s[1]} ${s[2]}`);
  }
  assert.deepEqual(story, [
    '3 client SYN_SENT',
    '3 server SYN_RECEIVED',
    '4 client ESTABLISHED',
    '5 server ESTABLISHED',
    '10 server FIN_WAIT_1',
    '10 client CLOSE_WAIT',
    '11 server FIN_WAIT_2',
    '12 client LAST_ACK',
    '12 server TIME_WAIT',
    '13 client CLOSED',
  ]);
  // Every packet has its arrow, with the flags and numbers tcpstate flow shows.
  assert.equal([...section.groups.body.matchAll(/<line x1="\d+" y1="[-\d.]+" x2="\d+" y2="[-\d.]+" stroke="#334"/g)].length, 11);
  assert.match(section.groups.body, />FA seq=7 ack=5 len=0</);
  // The same charts as SVG files.
  assert.deepEqual(readdirSync(svg).sort(), ['events.svg', 'ladder-1.svg', 'states-192.0.2.1.svg', 'states-192.0.2.2.svg', 'states-all.svg']);
  for (const f of readdirSync(svg)) assert.match(readFileSync(join(svg, f), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>$/);

  mkdirSync(artifacts, { recursive: true });
  const shot = join(artifacts, 'report-seeds.png');
  rmSync(shot, { force: true });
  browse(`${pathToFileURL(file).href}#t=0.7`, [`--screenshot=${shot}`], '1200,1400');
  assert.ok(existsSync(shot) && statSync(shot).size > 10_000, `no screenshot at ${shot}`);
  assert.equal(readFileSync(shot).subarray(1, 4).toString('latin1'), 'PNG');
});

test('report: a bad option is a usage error; a capture read again only when small', async () => {
  assert.equal((await cli(['report', seeds])).code, 2, '-o is required');
  assert.equal((await cli(['report', seeds, '-o', join(dir, 'x.html'), '--ladders', '0'])).code, 2);
  const unwritable = await cli(['report', seeds, '-o', join(dir, 'no-such-dir', 'x.html')]);
  assert.equal(unwritable.code, 5);
  assert.match(unwritable.err, /^tcpstate: cannot write .*no-such-dir.*x\.html: ENOENT[^\n]*\n$/);
  // --reread 0: the ladder is what the database names, and says so.
  const file = await report(seeds, 'seeds-db', ['--reread', '0']);
  const html = readFileSync(file, 'utf8');
  assert.match(html, /7 of 11 packets: only those the database names/);
  assert.match(html, />FIN</);
  assert.doesNotMatch(html, /seq=/);
});
