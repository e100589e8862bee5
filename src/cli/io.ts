import { readFileSync } from 'node:fs';
import { decodeName } from '../reader/index.js';

/** What a command may touch of the outside world; tests pass their own. */
export interface Io {
  /** `columns`: the terminal's width, when it is one; `closed`: its reader went away (`| head`). */
  stdout: { write(s: string): unknown; isTTY?: boolean; columns?: number; readonly closed?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Subscribe to Ctrl-C / SIGTERM (the signal's name is passed; absent: SIGINT); returns the unsubscribe function. */
  onInterrupt(fn: (signal?: 'SIGINT' | 'SIGTERM') => void): () => void;
}

/**
 * A terminal stream whose reader may go away (`tcpstate analyze x | head`): that is not an
 * error, and the work goes on (the database is still written); what is left to print is dropped.
 */
function tolerant(stream: NodeJS.WriteStream): Io['stdout'] {
  let closed = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    closed = true;
  });
  return {
    write: (s: string) => (closed ? true : stream.write(s)),
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.columns;
    },
    get closed() {
      return closed;
    },
  };
}

export function processIo(): Io {
  return {
    stdout: tolerant(process.stdout),
    stderr: tolerant(process.stderr),
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    onInterrupt(fn) {
      process.on('SIGINT', fn);
      process.on('SIGTERM', fn);
      return () => {
        process.off('SIGINT', fn);
        process.off('SIGTERM', fn);
      };
    },
  };
}

/**
 * The command line's arguments, with their bytes: Node decodes process.argv as UTF-8 and puts
 * U+FFFD for what is not, so a file name that is not UTF-8 would be lost. On Linux the bytes are
 * in /proc/self/cmdline, whose last entries are our arguments; each is decoded by decodeName
 * (which opens the file by its bytes), and used when it is the argument Node gave us.
 */
export function processArgv(): string[] {
  const given = process.argv.slice(2);
  if (!given.some((a) => a.includes('\ufffd'))) return given;
  let raw: Buffer[];
  try {
    const cmdline = readFileSync('/proc/self/cmdline');
    raw = [];
    for (let i = 0; i < cmdline.length; ) {
      const end = cmdline.indexOf(0, i);
      raw.push(cmdline.subarray(i, end < 0 ? cmdline.length : end));
      i = end < 0 ? cmdline.length : end + 1;
    }
  } catch {
    return given;
  }
  const tail = raw.slice(raw.length - given.length);
  if (tail.length !== given.length) return given;
  return given.map((a, i) => (tail[i].toString('utf8') === a ? decodeName(tail[i]) : a));
}
