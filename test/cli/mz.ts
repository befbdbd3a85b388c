import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The package's `bin` (what `npm i -g` links as `mz`). */
export const MZ_BIN = fileURLToPath(new URL('../../bin/mz.js', import.meta.url));

export interface MzResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `mz` as a process with only the environment given (plus PATH), within two minutes. */
export function mz(
  args: string[],
  env: Record<string, string>,
  opts: { input?: string; cwd?: string } = {},
): Promise<MzResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MZ_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** The JSON `mz --json` printed. */
export function json<T = unknown>(r: MzResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`mz printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}
