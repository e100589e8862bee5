/** What a command may touch of the outside world; tests pass their own. */
export interface Io {
  /** `columns`: the terminal's width, when it is one; `closed`: its reader went away (`| head`). */
  stdout: { write(s: string): unknown; isTTY?: boolean; columns?: number; readonly closed?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Subscribe to Ctrl-C / SIGTERM; returns the unsubscribe function. */
  onInterrupt(fn: () => void): () => void;
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
