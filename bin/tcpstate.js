#!/usr/bin/env node
// Thin shim: all behaviour lives in src/cli (compiled to dist/ by `npm install` in a clone; the package ships it built).
let cli;
try {
  cli = await import('../dist/src/cli/main.js');
} catch (e) {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('tcpstate: not built: dist/ is missing; run `npm install` (or `npm run build`) in the tcpstate folder, or install the packed package (npm pack)\n');
    process.exit(1);
  }
  throw e;
}
// processArgv: the arguments with their bytes (a file name need not be UTF-8).
process.exitCode = await cli.run(cli.processArgv());
