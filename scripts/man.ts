/**
 * Writes the man page, tcpstate(1), from the command line's help (src/cli/man.ts); `npm run build`
 * runs it, so the page in the package is the help of the code beside it.
 *
 *   node dist/scripts/man.js [FILE]     default: dist/man/tcpstate.1
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { makeProgram } from '../src/cli/main.js';
import { manPage } from '../src/cli/man.js';
import { toolVersion } from '../src/cli/version.js';

/** The page, from a program that is never run (nothing is read or written). */
export function tcpstateManPage(): string {
  const sink = { write: () => true };
  const program = makeProgram({ stdout: sink, stderr: sink, stdin: new PassThrough(), env: {}, cwd: process.cwd(), onInterrupt: () => () => undefined }, () => undefined);
  return manPage(program, toolVersion());
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && resolve(process.argv[1]) === self) {
  const out = resolve(process.argv[2] ?? resolve(dirname(self), '..', 'man', 'tcpstate.1'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, tcpstateManPage());
}
