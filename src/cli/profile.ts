import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { UsageError } from './output.js';

/** Where `mz` finds an API, and the token it sends. */
export interface Target {
  url: string;
  token?: string;
}

const ProfileSchema = z.object({ url: z.url(), token: z.string().max(20_000).optional() });
const ConfigFileSchema = z.object({
  current: z.string().optional(),
  profiles: z.record(z.string(), ProfileSchema).default({}),
});
type ConfigFile = z.infer<typeof ConfigFileSchema>;

export const DEFAULT_URL = 'http://localhost:3000';

/** `$XDG_CONFIG_HOME/mz/config.json`, else `~/.config/mz/config.json`. */
export function configPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'mz', 'config.json');
}

async function readConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} };
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not JSON`);
  }
  const parsed = ConfigFileSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * The API to talk to: `--url`/`--token` first, then `MZ_URL`/`MZ_TOKEN`, then the profile named by
 * `--profile` or `MZ_PROFILE` or the config file's current one, then http://localhost:3000.
 */
export async function resolveTarget(
  flags: { url?: string; token?: string; profile?: string },
  env: NodeJS.ProcessEnv,
): Promise<Target> {
  const file = await readConfig(configPath(env));
  const name = flags.profile ?? env.MZ_PROFILE ?? file.current;
  const profile = name ? file.profiles[name] : undefined;
  if (name && !profile && (flags.profile ?? env.MZ_PROFILE))
    throw new UsageError(`no profile '${name}'; mz login makes one`);
  const url = flags.url ?? env.MZ_URL ?? profile?.url ?? DEFAULT_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    throw new UsageError(`'${url}' is not an http(s) URL`);
  const token = flags.token ?? env.MZ_TOKEN ?? profile?.token;
  return { url: url.replace(/\/+$/, ''), ...(token ? { token } : {}) };
}

/** Stores a profile (readable by its owner only) and makes it the current one. */
export async function saveProfile(env: NodeJS.ProcessEnv, name: string, profile: Target): Promise<string> {
  const path = configPath(env);
  const file = await readConfig(path);
  file.profiles[name] = profile;
  file.current = name;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
  return path;
}
