import { readFileSync } from 'node:fs';

/** The binaries `scripts/ensure.mjs` provisioned (npm test runs it first). */
export function toolPaths(): { temporal: string; testServer: string } {
  return JSON.parse(readFileSync(new URL('../../.tools/paths.json', import.meta.url), 'utf8'));
}
