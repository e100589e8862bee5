#!/usr/bin/env node
// Thin shim: all behaviour lives in src/cli (compiled to dist/ by `npm install`).
let cli;
try {
  cli = await import('../dist/src/cli/main.js');
} catch (e) {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('tcpstate: not built yet; run `npm install` (or `npm run build`) in the tcpstate folder\n');
    process.exit(1);
  }
  throw e;
}
process.exitCode = await cli.run(process.argv.slice(2));
