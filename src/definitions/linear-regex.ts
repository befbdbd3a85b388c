import { RE2JS } from 're2js';

/**
 * The regular expressions of JSONata (`/pattern/flags` in `$match`, `$contains`, `$replace`,
 * `$split`, …) run on RE2, which matches in time linear in the input: no pattern, however
 * written, backtracks catastrophically. Patterns RE2 cannot run in linear time (backreferences,
 * lookaround) are refused with a syntax error. JSONata reads `exec`, `lastIndex` and the match's
 * `index` and groups, which this gives as a global RegExp would.
 */
export class LinearRegExp {
  lastIndex = 0;
  private readonly re: RE2JS;

  constructor(pattern: RegExp) {
    const flags =
      (pattern.flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) | (pattern.flags.includes('m') ? RE2JS.MULTILINE : 0);
    this.re = RE2JS.compile(RE2JS.translateRegExp(pattern.source), flags);
  }

  exec(text: string): ((string | undefined)[] & { index: number }) | null {
    const m = this.re.matcher(text);
    if (this.lastIndex > text.length || !m.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    const groups: (string | undefined)[] = [];
    for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i) ?? undefined);
    this.lastIndex = m.end();
    return Object.assign(groups, { index: m.start() });
  }
}

/** Why RE2 refuses a pattern, or undefined when it runs. */
export function regexProblem(pattern: RegExp): string | undefined {
  try {
    new LinearRegExp(pattern);
    return undefined;
  } catch (err) {
    return `regular expression /${pattern.source}/ is not supported (${err instanceof Error ? err.message : String(err)}); backreferences and lookaround cannot run in linear time`;
  }
}
