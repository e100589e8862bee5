/**
 * What goes wrong with a database that is not tcpstate's fault: a full disk, a read-only file
 * or file system, a lock held by another process, a damaged file. Each is one line naming the
 * file, the cause and the remedy (a DbError); the command line gives them their own exit code.
 * Anything else a database call throws is left as it is: an error of ours.
 */
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Why a database could not be used. `refused`: not a file tcpstate writes (another program's, an older schema). */
export type DbProblem = 'full' | 'read_only' | 'locked' | 'damaged' | 'io' | 'cannot_open' | 'refused' | 'not_tcpstate';

/** The database is missing, unwritable, unreadable, damaged, locked or not one of ours: the message says which, and what to do. */
export class DbError extends Error {
  constructor(
    message: string,
    readonly problem: DbProblem,
  ) {
    super(message);
    this.name = 'DbError';
  }
}

/** The problem an error of SQLite (its extended code) or of the file system (its errno) stands for; null: none of the environment's. */
export function dbProblem(e: unknown): DbProblem | null {
  if (e instanceof DbError) return e.problem;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'full';
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return 'read_only';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'locked';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'damaged';
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return 'io';
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'EACCES' || code === 'EPERM' || code === 'ENOENT' || code === 'ENOTDIR') {
    return 'cannot_open';
  }
  return null;
}

const readOnly = (file: string) => `${file} is read-only (the file, its directory or its file system); nothing was written: make it writable, or give --db another file`;

/** The rebuild every damaged or outdated database gets. */
export const rebuild = (file: string) => `rm ${file} and run tcpstate analyze --db ${file} on the captures again`;

/**
 * `e` as a DbError about `file` (`e` itself if it is one), or null when it is not the
 * environment's doing. `writing`: analyze (what the capture being written becomes is said);
 * else a report reading the database.
 */
export function dbError(file: string, e: unknown, writing: boolean): DbError | null {
  if (e instanceof DbError) return e;
  const problem = dbProblem(e);
  if (problem === null) return null;
  const detail = (e as Error).message;
  const kept = 'the capture being written was not kept; what the database held before is intact';
  switch (problem) {
    case 'full':
      return new DbError(
        writing
          ? `${file}: disk full while writing the database; ${kept}: free some space, or give --db a file on another disk`
          : `${file}: disk full while reading the database (SQLite needs room for its temporary files): free some space`,
        problem,
      );
    case 'read_only':
      return new DbError(writing ? readOnly(file) : unreadableInPlace(file), problem);
    case 'locked':
      return new DbError(
        writing
          ? `${file} is locked by another process (another tcpstate analyze writing it?); nothing of this capture was written: wait for it to finish, or give --db another file`
          : `${file} is locked by another process writing it: wait for it to finish`,
        problem,
      );
    case 'damaged':
      return new DbError(
        `${file} is damaged (${detail}: cut short or overwritten?); ${writing ? 'nothing of this capture was written' : 'nothing can be read from it'}: rebuild it: ${rebuild(file)}`,
        problem,
      );
    case 'io':
      return new DbError(
        `${file}: I/O error ${writing ? 'writing' : 'reading'} the database (${detail}); ${writing ? `${kept}: ` : ''}check the disk, or use a copy of the database on another one`,
        problem,
      );
    case 'cannot_open':
      return cannotOpen(file, detail, writing);
    default:
      return new DbError(`${file}: ${detail}`, problem);
  }
}

/** Why a database file cannot be opened, found out from the file system: SQLite only says "unable to open database file". */
export function cannotOpen(file: string, detail: string, writing: boolean): DbError {
  const dir = dirname(file);
  const fail = (message: string, problem: DbProblem = 'cannot_open') => new DbError(message, problem);
  if (!existsSync(dir)) return fail(`cannot open database ${file}: its directory ${dir} does not exist: create it, or give ${writing ? '--db' : 'the command'} another file`);
  const exists = existsSync(file);
  if (!writing) {
    if (!exists) return fail(`cannot open database ${file}: no such file`);
    if (!canWrite(dir)) return fail(unreadableInPlace(file), 'read_only');
    return fail(`cannot open database ${file} (${detail}): check that it can be read`);
  }
  if (!canWrite(exists ? file : dir) || (exists && !canWrite(dir))) {
    return fail(readOnly(file), 'read_only');
  }
  if (exists && statSync(file).isDirectory()) return fail(`${file} is a directory; give --db a file name`);
  return fail(`cannot open database ${file} (${detail}): check that it and its directory can be written, or give --db another file`);
}

/**
 * A database SQLite cannot read without writing beside it, in a directory it cannot write: one
 * left in WAL mode (its -shm is needed) or with a rollback journal to play back.
 */
function unreadableInPlace(file: string): string {
  const why = walMode(file)
    ? 'it was left in WAL mode (an analysis did not finish closing it)'
    : 'it needs recovering (an analysis was stopped while writing it)';
  return `${file} cannot be read where it is: ${why} and its directory is read-only: copy it, with any ${file}-wal or -journal beside it, to a writable directory and read the copy`;
}

/** Bytes 18 and 19 of an SQLite header: 2 in WAL mode. */
function walMode(file: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(20);
    return readSync(fd, head, 0, 20, 0) === 20 && head[18] === 2;
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
