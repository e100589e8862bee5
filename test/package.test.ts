/**
 * The package as a user installs it: `npm pack` ships the build, the man page and the bin; the
 * tarball installs into a prefix of its own and its `tcpstate` analyses a sample; `prepare` builds
 * a clone, or keeps an existing build when TypeScript is left out; the man page and the shell
 * completions are the help's own text.
 *
 * better-sqlite3 compiles from source on install (57 s here; npx of the tarball 83 s), so the
 * install skips install scripts and takes the native module this checkout already built (same
 * version, same Node). TCPSTATE_FULL_INSTALL=1 installs with scripts, compiling it, as a user would.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tcpstateManPage } from '../scripts/man.js';
import { repoRoot, scratchDir } from './helpers.js';
import { cli } from './report-io.js';

const sample = join(repoRoot, 'samples', 'kernel', 'seeds-server-closes', 'seeds-server-closes.pcap');
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** Every command's options, as its --help lists them. */
async function helpOptions(): Promise<Map<string, string[]>> {
  const top = await cli(['--help']);
  const commands = [...top.out.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
  const out = new Map<string, string[]>();
  for (const c of commands) {
    const h = await cli([c, '--help']);
    out.set(c, [...h.out.matchAll(/^ {2}(?:-\w, )?(--[a-z0-9-]+)/gm)].map((m) => m[1]));
  }
  return out;
}

test('the man page holds every command and option of --help, with the text after it, and man reads it cleanly', async () => {
  const page = tcpstateManPage();
  const options = await helpOptions();
  assert.ok(options.size >= 9, [...options.keys()].join(' '));
  for (const [command, opts] of options) {
    assert.match(page, new RegExp(`^\\.SS ${command}$`, 'm'), command);
    for (const o of opts) assert.ok(page.includes(`.B ${o.replace(/-/g, '\\-')}`) || page.includes(`, ${o.replace(/-/g, '\\-')}`), `${command} ${o}`);
  }
  // The text after the options (exit codes, examples) is there too.
  assert.match(page, /Exit codes: 0 ok/);
  assert.match(page, /tcpstate census tcpstate\.db \\-\\-count/);
  if (has('groff')) {
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: page });
    assert.equal(r.stderr.toString(), '', 'groff warnings');
  }
});

test('tcpstate completion bash completes commands, options and their values', async () => {
  const r = await cli(['completion', 'bash']);
  assert.equal(r.code, 0);
  const complete = (words: string[]) =>
    execFileSync('bash', ['-c', `${r.out}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tcpstate; printf '%s\\n' "\${COMPREPLY[@]}"`]).toString().trim().split('\n');
  assert.deepEqual(complete(['tcpstate', 'an']), ['analyze', 'anomalies']);
  assert.deepEqual(complete(['tcpstate', 'analyze', '--time-w']), ['--time-wait', '--time-wait-pileup']);
  assert.deepEqual(complete(['tcpstate', 'export', 'x.db', '--format', '']), ['zeek', 'csv', 'ndjson']);
  assert.deepEqual(complete(['tcpstate', 'explain', 'stuck']), ['stuck_close_wait']);
  assert.deepEqual(complete(['tcpstate', 'analyze', '--stack', '']), ['linux', 'rfc793']);
  // Every option of --help is offered.
  for (const [command, opts] of await helpOptions()) assert.deepEqual(complete(['tcpstate', command, '--']).filter((o) => opts.includes(o)).sort(), [...opts].sort(), command);
  assert.equal((await cli(['completion', 'fish'])).code, 2);
});

test('tcpstate completion zsh is a completion function zsh loads', { skip: !has('zsh') && 'zsh not installed' }, async () => {
  const r = await cli(['completion', 'zsh']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^#compdef tcpstate\n/);
  const dir = scratchDir('tcpstate-zsh-');
  writeFileSync(join(dir, '_tcpstate'), r.out);
  assert.equal(spawnSync('zsh', ['-n', join(dir, '_tcpstate')]).status, 0);
  const z = spawnSync('zsh', ['-fc', `fpath=(${dir} $fpath); autoload -U compinit; compinit -u -D; print -r -- $_comps[tcpstate]`]);
  assert.equal(z.stdout.toString().trim(), '_tcpstate', z.stderr.toString());
});

test('prepare keeps an existing build when TypeScript is left out, and says what to do without either', () => {
  const dir = scratchDir('tcpstate-prepare-');
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(repoRoot, 'scripts', 'prepare.mjs'), join(dir, 'scripts', 'prepare.mjs'));
  writeFileSync(join(dir, 'package.json'), '{"name":"tcpstate","type":"module"}');
  const prepare = () => spawnSync(process.execPath, [join(dir, 'scripts', 'prepare.mjs')], { cwd: dir, env: { ...process.env, npm_command: 'install' } });
  const none = prepare();
  assert.equal(none.status, 1);
  assert.match(none.stderr.toString(), /cannot build: TypeScript \(a dev dependency\) is not installed and dist\/ holds no build; install with dev dependencies/);
  mkdirSync(join(dir, 'dist', 'src', 'cli'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'src', 'cli', 'main.js'), '');
  const built = prepare();
  assert.equal(built.status, 0);
  assert.match(built.stderr.toString(), /using the build already in dist\//);
});

test('npm pack ships the build; installed from the tarball into a prefix, tcpstate runs, with its man page', { timeout: 600_000 }, async () => {
  const tmp = scratchDir('tcpstate-pack-');
  // What prepack's build writes beside the compiled code (the test runs on a build that did not).
  mkdirSync(join(repoRoot, 'dist', 'man'), { recursive: true });
  writeFileSync(join(repoRoot, 'dist', 'man', 'tcpstate.1'), tcpstateManPage());
  const npm = (args: string[], cwd: string) => {
    const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
    assert.equal(r.status, 0, `npm ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const t0 = Date.now();
  npm(['pack', '--ignore-scripts', '--pack-destination', tmp], repoRoot);
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball !== undefined);
  const files = execFileSync('tar', ['tzf', join(tmp, tarball)]).toString().split('\n');
  for (const f of ['package/bin/tcpstate.js', 'package/dist/src/cli/main.js', 'package/dist/src/sink/writer-thread.js', 'package/dist/man/tcpstate.1', 'package/README.md']) assert.ok(files.includes(f), f);
  assert.ok(!files.some((f) => f.startsWith('package/dist/test/') || f.startsWith('package/src/') || f.endsWith('.map')), 'no tests, sources or maps');
  const packed = Date.now() - t0;

  const prefix = join(tmp, 'prefix');
  const full = process.env.TCPSTATE_FULL_INSTALL === '1';
  npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', ...(full ? [] : ['--ignore-scripts']), join(tmp, tarball)], tmp);
  const installed = join(prefix, 'lib', 'node_modules', 'tcpstate');
  if (!full) {
    // The native module this checkout built, for the same better-sqlite3 and Node.
    const version = (p: string) => (JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')) as { version: string }).version;
    const ours = join(repoRoot, 'node_modules', 'better-sqlite3');
    const theirs = join(installed, 'node_modules', 'better-sqlite3');
    if (version(ours) === version(theirs)) {
      mkdirSync(join(theirs, 'build', 'Release'), { recursive: true });
      copyFileSync(join(ours, 'build', 'Release', 'better_sqlite3.node'), join(theirs, 'build', 'Release', 'better_sqlite3.node'));
    } else npm(['rebuild', 'better-sqlite3'], installed);
  }
  const took = Date.now() - t0;
  assert.ok(existsSync(join(prefix, 'share', 'man', 'man1', 'tcpstate.1')), 'man page linked');
  const bin = join(prefix, 'bin', 'tcpstate');
  const cwd = scratchDir('tcpstate-installed-');
  const r = spawnSync(bin, ['analyze', sample, '--db', 'x.db'], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /13 packets, 11 TCP/);
  assert.equal(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim(), JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
  const census = spawnSync(bin, ['census', 'x.db'], { cwd, encoding: 'utf8' });
  assert.match(census.stdout, /TIME-WAIT +192\.0\.2\.2:9090 +192\.0\.2\.1:40001/);
  console.log(`packed in ${packed} ms, installed${full ? ' (compiling better-sqlite3)' : ''} in ${took - packed} ms`);
});
