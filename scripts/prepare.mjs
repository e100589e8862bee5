// npm's `prepare` (a clone's `npm install`, and installing from git): build dist/ and the man page.
// Plain JavaScript, because it runs before anything is compiled.
//
// - TypeScript present (dev dependencies installed, as npm does for a git dependency): build.
// - TypeScript absent (npm install --omit=dev, NODE_ENV=production): keep dist/ if it is there,
//   else stop with what to do instead; tcpstate cannot run without a build.
// - `npm pack` / `npm publish`: nothing here, `prepack` has just built, and fails if it cannot.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
if (process.env.npm_command === 'pack' || process.env.npm_command === 'publish') process.exit(0);

let tsc = null;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  tsc = null;
}
const built = existsSync(join(root, 'dist', 'src', 'cli', 'main.js'));
if (tsc === null) {
  if (built) {
    process.stderr.write('tcpstate: TypeScript is not installed (dev dependencies left out); using the build already in dist/\n');
    process.exit(0);
  }
  process.stderr.write(
    'tcpstate: cannot build: TypeScript (a dev dependency) is not installed and dist/ holds no build; ' +
      'install with dev dependencies (npm install --include=dev), or install the packed package (npm pack, then npm install -g tcpstate-VERSION.tgz)\n',
  );
  process.exit(1);
}
for (const args of [[tsc, '-p', root], [join(root, 'dist', 'scripts', 'man.js')]]) {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
