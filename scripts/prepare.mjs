// npm's `prepare` (a clone's `npm install`, and installing from git): build dist/ and the man page.
// Plain JavaScript, because it runs before anything is compiled.
//
// - TypeScript present (dev dependencies installed, as npm does for a git dependency): build.
// - TypeScript absent (npm install --omit=dev, NODE_ENV=production): keep dist/ if it is there;
//   else install the dev dependencies into this folder just to build (npm install -g from git needs
//   it: see below), and if that fails too, stop with what to do instead.
// - `npm pack` / `npm publish`: nothing here, `prepack` has just built, and fails if it cannot.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
if (process.env.npm_command === 'pack' || process.env.npm_command === 'publish') process.exit(0);

const resolveTsc = () => {
  try {
    return createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
};
let tsc = resolveTsc();
const built = existsSync(join(root, 'dist', 'src', 'cli', 'main.js'));
if (tsc === null && built) {
  process.stderr.write('tcpstate: TypeScript is not installed (dev dependencies left out); using the build already in dist/\n');
  process.exit(0);
}
if (tsc === null) {
  // No build and nothing to build with: `npm install -g` from git (npm prepares the clone with the
  // outer install's --global and --prefix, so its dev dependencies never land in it), or a clone
  // installed with --omit=dev. Fetch the build's tools into this folder, scripts off, and build.
  process.stderr.write('tcpstate: TypeScript is not installed and dist/ holds no build; installing the dev dependencies here to build it\n');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(global|location|prefix|omit|include|production|only|dev)$/i.test(k)));
  const npm = process.env.npm_execpath;
  const [cmd, args] = npm !== undefined && npm.endsWith('.js') ? [process.execPath, [npm]] : ['npm', []];
  const r = spawnSync(cmd, [...args, 'install', '--no-save', '--ignore-scripts', '--include=dev', '--no-audit', '--no-fund', '--prefer-offline'], { stdio: ['ignore', 2, 2], cwd: root, env });
  tsc = resolveTsc();
  if (r.status !== 0 || tsc === null) {
    process.stderr.write(
      'tcpstate: cannot build: TypeScript (a dev dependency) is not installed and dist/ holds no build; ' +
        'install with dev dependencies (npm install --include=dev), or install the packed package (npm pack, then npm install -g tcpstate-VERSION.tgz)\n',
    );
    process.exit(1);
  }
}
for (const args of [[tsc, '-p', root], [join(root, 'dist', 'scripts', 'man.js')]]) {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
