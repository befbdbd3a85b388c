import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** A file that cannot be read as data: missing, too large, not JSON or YAML (exit code 2 in `mz`). */
export class DataFileError extends Error {
  readonly exitCode = 2;
}

/** A file larger than this is refused unread. */
const MAX_FILE_BYTES = 5 * 1024 * 1024;
/** A directory holds at most this many files of ours, its subdirectories included. */
const MAX_FILES = 5000;
const EXTENSIONS = new Set(['.json', '.yaml', '.yml']);

/** Test files (`*.test.yaml`, `*.test.json`) belong to `mz test`, not to `mz apply`. */
export const isTestFile = (path: string) => /\.test\.(json|ya?ml)$/.test(path);

/** The JSON and YAML files given: a file as is, a directory searched (dot folders and node_modules skipped). */
export async function listFiles(paths: readonly string[], accept: (path: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules') await walk(path);
      else if (entry.isFile() && EXTENSIONS.has(extname(entry.name)) && accept(path)) found.push(path);
      if (found.length > MAX_FILES) throw new DataFileError(`more than ${MAX_FILES} files under ${dir}`);
    }
  };
  for (const given of paths) {
    const info = await stat(given).catch(() => undefined);
    if (!info) throw new DataFileError(`${given}: no such file or directory`);
    if (info.isDirectory()) await walk(given);
    else found.push(given);
  }
  return [...new Set(found.map((p) => resolve(p)))];
}

/** A JSON or YAML file's content (YAML by its extension; JSON is YAML too, but read strictly). */
export async function readDataFile(path: string): Promise<unknown> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new DataFileError(`${path}: no such file`);
  if (info.size > MAX_FILE_BYTES) throw new DataFileError(`${path} is larger than ${MAX_FILE_BYTES} bytes`);
  const text = await readFile(path, 'utf8');
  try {
    return extname(path) === '.json' ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new DataFileError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A definition given as a path (relative to the file naming it) is read from there; an object is itself. */
export async function definitionAt(
  definition: string | Record<string, unknown>,
  from: string,
): Promise<{ definition: Record<string, unknown>; path?: string }> {
  if (typeof definition !== 'string') return { definition };
  const path = resolve(dirname(from), definition);
  const value = await readDataFile(path);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DataFileError(`${path} (named by ${from}) is not a workflow definition`);
  return { definition: Object.fromEntries(Object.entries(value)), path };
}
