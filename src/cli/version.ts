/** tcpstate's version, from package.json ("unknown" when that cannot be read). */
import { readFileSync } from 'node:fs';

export function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}
