/** One case's result, as the runner reports it. */
export interface CaseResult {
  file: string;
  name: string;
  failures: string[];
  /** Real time the case took. */
  ms: number;
}

const escape = (s: string) =>
  s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

/** The results as JUnit XML: a testsuite per file, a testcase per case, a failure with its differences. */
export function junitXml(results: readonly CaseResult[]): string {
  const files = [...new Set(results.map((r) => r.file))];
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const suites = files.map((file) => {
    const cases = results.filter((r) => r.file === file);
    const failed = cases.filter((c) => c.failures.length).length;
    const time = cases.reduce((t, c) => t + c.ms, 0);
    const body = cases.map((c) => {
      const open = `    <testcase classname="${escape(file)}" name="${escape(c.name)}" time="${seconds(c.ms)}"`;
      if (!c.failures.length) return `${open}/>`;
      const first = c.failures[0] ?? '';
      return `${open}>\n      <failure message="${escape(first.split('\n')[0] ?? '')}">${escape(c.failures.join('\n'))}</failure>\n    </testcase>`;
    });
    return [
      `  <testsuite name="${escape(file)}" tests="${cases.length}" failures="${failed}" errors="0" time="${seconds(time)}">`,
      ...body,
      '  </testsuite>',
    ].join('\n');
  });
  const failed = results.filter((r) => r.failures.length).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="mz test" tests="${results.length}" failures="${failed}" errors="0">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
