/**
 * The census against the kernel over time (issue 18): for every kernel sample and every moment
 * at which `ss` was taken in both namespaces (samples/kernel/<name>/moments/, and the end-of-capture
 * ss), what `tcpstate census --at T` says each host had then, endpoint by endpoint (state, local,
 * peer; LISTEN rows left out, as a capture shows a listener only while it answers SYNs).
 *
 *   node dist/scripts/kernel/timeline.js [--sample NAME] [--json]
 *
 * T is the epoch time taken just before that host's ss ran (`date +%s.%N`, the clock tcpdump stamps
 * packets with). An endpoint the wire cannot show at T is listed in the manifest's `unseen` with its
 * reason and is excused; every other difference is a disagreement. Prints, per sample and moment,
 * agreed/total and every disagreement (ss vs tcpstate), then "N of M moments agree, E of F endpoints
 * agree". Exit 1 when anything disagrees (or an `unseen` entry matches nothing).
 */
import type { FlowTableOptions } from '../../src/tcp/rfc793/table.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export type Host = 'client' | 'server';

export interface SsRow {
  state: string;
  local: string;
  peer: string;
}

export interface Snapshot {
  /** `ss -tan` (end of capture, with a header) or `ss -tanoH` (a moment, `#` lines around it). */
  file: string;
  /** Epoch seconds as text (nine decimals), taken just before ss ran. */
  before: string;
  after?: string;
}

export interface Moment {
  moment: number;
  label: string;
  client: Snapshot;
  server: Snapshot;
}

export interface Unseen {
  moment: number;
  host: Host;
  local: string;
  peer: string;
  reason: string;
}

export interface TimelineSample {
  name: string;
  capture: string;
  client: { addr: string };
  server: { addr: string };
  moments: Moment[];
  unseen?: Unseen[];
  sysctls?: Sysctls;
}

export interface EndpointResult {
  moment: number;
  host: Host;
  at: string;
  local: string;
  peer: string;
  /** What ss showed ("CLOSED" for no row) and what tcpstate's census says. */
  ss: string;
  tcpstate: string;
  verdict: 'agree' | 'disagree' | 'unseen';
  reason?: string;
}

export interface MomentResult {
  moment: number;
  label: string;
  endpoints: EndpointResult[];
}

export interface SampleResult {
  name: string;
  capture: string;
  moments: MomentResult[];
  /** `unseen` entries of the manifest that matched no endpoint that differs. */
  staleUnseen: Unseen[];
}

export function loadSamples(): TimelineSample[] {
  return JSON.parse(readFileSync(join(repoRoot, 'samples', 'kernel', 'manifest.json'), 'utf8')) as TimelineSample[];
}

/** The rows of an ss file: state, local, peer (header, `#` lines and -i's indented lines skipped). */
export function readSsRows(path: string): SsRow[] {
  const rows: SsRow[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '' || line.startsWith('#') || line.startsWith('State') || /^\s/.test(line)) continue;
    const cells = line.split(/\s+/);
    rows.push({ state: cells[0], local: cells[3], peer: cells[4] });
  }
  return rows;
}

/** `tcpstate ARGV` in process, in the repository, its output collected. */
async function tcpstate(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: { write: (s: string) => (out += s), isTTY: false },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    stdin: new PassThrough(),
    env: {},
    cwd: repoRoot,
    onInterrupt: () => () => undefined,
  };
  const code = await run(argv, io);
  return { code, out, err };
}

interface CensusJson {
  hosts: Array<{ host: string; sockets: Array<{ state: string; local: string; peer: string }> }>;
}

/** Sysctls a scenario set on a host (manifest `sysctls`), per host. */
export type Sysctls = Partial<Record<'client' | 'server', Record<string, number>>>;

/** Each host sysctl a scenario may shorten: its analyze option, and the flow-table option it sets (scaled). */
const SYSCTL_OPTIONS: Record<string, { flag: string; unit: string; key: 'finTimeoutUs' | 'synRetries' | 'retries2' | 'orphanRetries'; scale: number }> = {
  'net.ipv4.tcp_fin_timeout': { flag: '--fin-timeout', unit: 's', key: 'finTimeoutUs', scale: 1e6 },
  'net.ipv4.tcp_syn_retries': { flag: '--syn-retries', unit: '', key: 'synRetries', scale: 1 },
  'net.ipv4.tcp_retries2': { flag: '--retries2', unit: '', key: 'retries2', scale: 1 },
  'net.ipv4.tcp_orphan_retries': { flag: '--orphan-retries', unit: '', key: 'orphanRetries', scale: 1 },
};

function knownSysctls(sysctls: Sysctls | undefined): Array<[(typeof SYSCTL_OPTIONS)[string], number]> {
  return Object.values(sysctls ?? {}).flatMap((host) =>
    Object.entries(host ?? {}).flatMap(([k, v]) => (SYSCTL_OPTIONS[k] ? [[SYSCTL_OPTIONS[k], v] as [(typeof SYSCTL_OPTIONS)[string], number]] : [])),
  );
}

/**
 * The analyze options that tell tcpstate the hosts' timer settings, as a user who set them
 * would give them (a scenario that shortens a timer says so in its manifest).
 */
export function stackOptions(sysctls: Sysctls | undefined): string[] {
  return knownSysctls(sysctls).flatMap(([o, v]) => [o.flag, `${v}${o.unit}`]);
}

/** The same settings as flow-table options, for tests that analyse through the library. */
export function stackFlowOptions(sysctls: Sysctls | undefined): Partial<FlowTableOptions> {
  return Object.fromEntries(knownSysctls(sysctls).map(([o, v]) => [o.key, v * o.scale]));
}

/** Analyse the sample's capture once, then compare the census at every moment with ss, per host. */
export async function compareSample(s: TimelineSample): Promise<SampleResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tcpstate-timeline-'));
  try {
    const db = join(dir, 'timeline.db');
    const a = await tcpstate(['analyze', s.capture, '--db', db, '--quiet', ...stackOptions(s.sysctls)]);
    if (a.code !== 0) throw new Error(`${s.name}: analyze exited ${a.code}: ${a.err}`);
    const unseen = s.unseen ?? [];
    const used = new Set<Unseen>();
    const moments: MomentResult[] = [];
    for (const m of s.moments) {
      const endpoints: EndpointResult[] = [];
      for (const host of ['client', 'server'] as const) {
        const snap = m[host];
        const addr = s[host].addr;
        const r = await tcpstate(['census', db, '--at', snap.before, '--host', addr, '--json']);
        if (r.code !== 0) throw new Error(`${s.name} moment ${m.moment}: census exited ${r.code}: ${r.err}`);
        const ours = new Map<string, string>();
        for (const h of (JSON.parse(r.out) as CensusJson).hosts) for (const k of h.sockets) ours.set(`${k.local} ${k.peer}`, k.state);
        const truth = new Map<string, string>();
        for (const k of readSsRows(join(repoRoot, snap.file))) if (k.state !== 'LISTEN') truth.set(`${k.local} ${k.peer}`, k.state);
        const tuples = [...new Set([...truth.keys(), ...ours.keys()])].sort();
        for (const t of tuples) {
          const [local, peer] = t.split(' ');
          const e: EndpointResult = {
            moment: m.moment,
            host,
            at: snap.before,
            local,
            peer,
            ss: truth.get(t) ?? 'CLOSED',
            tcpstate: ours.get(t) ?? 'CLOSED',
            verdict: 'agree',
          };
          if (e.ss !== e.tcpstate) {
            const u = unseen.find((x) => x.moment === m.moment && x.host === host && x.local === local && x.peer === peer);
            if (u !== undefined) {
              used.add(u);
              e.verdict = 'unseen';
              e.reason = u.reason;
            } else e.verdict = 'disagree';
          }
          endpoints.push(e);
        }
      }
      moments.push({ moment: m.moment, label: m.label, endpoints });
    }
    return { name: s.name, capture: s.capture, moments, staleUnseen: unseen.filter((u) => !used.has(u)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Totals {
  moments: number;
  momentsAgree: number;
  endpoints: number;
  endpointsAgree: number;
  unseen: number;
}

export function totals(results: SampleResult[]): Totals {
  const t: Totals = { moments: 0, momentsAgree: 0, endpoints: 0, endpointsAgree: 0, unseen: 0 };
  for (const r of results) {
    for (const m of r.moments) {
      t.moments++;
      if (m.endpoints.every((e) => e.verdict !== 'disagree')) t.momentsAgree++;
      for (const e of m.endpoints) {
        t.endpoints++;
        if (e.verdict === 'agree') t.endpointsAgree++;
        if (e.verdict === 'unseen') t.unseen++;
      }
    }
  }
  return t;
}

function epochText(at: string): string {
  const ms = Math.round(Number(at) * 1000);
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}Z (${at})`;
}

export function renderResults(results: SampleResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    const agreed = r.moments.reduce((n, m) => n + m.endpoints.filter((e) => e.verdict !== 'disagree').length, 0);
    const total = r.moments.reduce((n, m) => n + m.endpoints.length, 0);
    out.push(`${r.name}: ${agreed}/${total} endpoints agree (${r.capture})`);
    for (const m of r.moments) {
      const ok = m.endpoints.filter((e) => e.verdict !== 'disagree').length;
      const unseen = m.endpoints.filter((e) => e.verdict === 'unseen').length;
      out.push(`  moment ${m.moment}: ${ok}/${m.endpoints.length}${unseen > 0 ? ` (${unseen} unseen)` : ''}  ${m.label}`);
      for (const e of m.endpoints) {
        if (e.verdict === 'agree') continue;
        const what = e.verdict === 'unseen' ? `unseen: ${e.reason}` : 'DISAGREE';
        out.push(`    ${e.host} ${e.local} ${e.peer} at ${epochText(e.at)}: ss ${e.ss}, tcpstate ${e.tcpstate}  [${what}]`);
      }
    }
    for (const u of r.staleUnseen) out.push(`  STALE unseen entry (matches no differing endpoint): moment ${u.moment} ${u.host} ${u.local} ${u.peer}`);
  }
  const t = totals(results);
  out.push('');
  out.push(`${t.momentsAgree} of ${t.moments} moments agree, ${t.endpointsAgree} of ${t.endpoints} endpoints agree (${t.unseen} more unseen at T, excused)`);
  return out.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const only = argv.includes('--sample') ? argv[argv.indexOf('--sample') + 1] : undefined;
  const samples = loadSamples().filter((s) => only === undefined || s.name === only);
  if (samples.length === 0) {
    process.stderr.write(`timeline: no sample ${only}\n`);
    return 2;
  }
  const results: SampleResult[] = [];
  for (const s of samples) results.push(await compareSample(s));
  if (argv.includes('--json')) process.stdout.write(JSON.stringify({ results, totals: totals(results) }, null, 2) + '\n');
  else process.stdout.write(renderResults(results));
  const t = totals(results);
  return t.momentsAgree === t.moments && results.every((r) => r.staleUnseen.length === 0) ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
