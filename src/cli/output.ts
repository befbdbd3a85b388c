/**
 * What `mz` prints and how it exits. Exit codes: 0 done; 1 the command failed (the API refused,
 * a workflow test failed, a run did not complete); 2 a usage mistake or an invalid file; 3 the API
 * could not be reached; 4 the API refused the token (401/403); 5 `mz diff` found differences.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, denied: 4, differences: 5 } as const;

/** A mistake in the command line or in a file: nothing was sent. */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

/** The API could not be reached. */
export class UnreachableError extends Error {
  readonly exitCode = EXIT.unreachable;
}

/** A problem+json the API answered. */
export class ApiProblem extends Error {
  readonly exitCode: number;
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; code?: string; errors?: unknown },
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.exitCode = status === 401 || status === 403 ? EXIT.denied : EXIT.failed;
  }
}

/** A command that ran but did not succeed (its output says why). */
export class CommandFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

/** The error as a person reads it: the problem's code and detail, and each invalid field on its own line. */
export function describeError(err: unknown): string {
  if (err instanceof ApiProblem) {
    const { code, title } = err.problem;
    const head = `error: ${err.message} (HTTP ${err.status}${code ? ` ${code}` : title ? ` ${title}` : ''})`;
    const details = Array.isArray(err.problem.errors) ? err.problem.errors : [];
    const lines = details.map((d: unknown) =>
      typeof d === 'object' && d !== null && 'message' in d
        ? `  ${'pointer' in d && d.pointer ? `${String(d.pointer)}: ` : ''}${String(d.message)}`
        : `  ${JSON.stringify(d)}`,
    );
    return [head, ...lines].join('\n');
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

export function exitCodeOf(err: unknown): number {
  return typeof err === 'object' && err !== null && 'exitCode' in err && typeof err.exitCode === 'number'
    ? err.exitCode
    : EXIT.failed;
}

/** Rows as aligned columns under a header, for people; cells cut at 60 characters. */
export function table(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 59)}…` : s;
  };
  const body = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...body.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((s, i) => s.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...body.map(line)].join('\n');
}

/** Where a command writes: JSON for scripts with `--json`, text for people otherwise. */
export interface Output {
  json: boolean;
  print(text: string): void;
  /** The value as JSON with `--json`, else what `human` makes of it. */
  show<T>(value: T, human: (value: T) => string): void;
}

export function createOutput(json: boolean, write: (s: string) => void = (s) => process.stdout.write(s)): Output {
  return {
    json,
    print: (text) => write(`${text}\n`),
    show: (value, human) => write(`${json ? JSON.stringify(value, null, 2) : human(value)}\n`),
  };
}
