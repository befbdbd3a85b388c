import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { Command } from 'commander';
import { isTestFile, listFiles } from '../../shared/data-files.js';
import { createOutput, CommandFailed, UsageError } from '../output.js';
import { seconds } from './parse.js';

/**
 * `mz test <files|dirs>`: runs workflow tests (`*.test.yaml`, `*.test.json`) on Temporal's
 * time-skipping test server, no API needed. Exit 1 when a case fails.
 */
export function testCommand(mz: Command, env: NodeJS.ProcessEnv): void {
  mz.command('test <paths...>')
    .description('run workflow tests (*.test.yaml, *.test.json) on a time-skipping Temporal test server')
    .option('--junit <file>', 'also write the results as JUnit XML')
    .option('--allowlist <hosts>', 'HTTP_ALLOWLIST for steps mocked `real`', env.HTTP_ALLOWLIST ?? '')
    .option('--test-server <path>', "the time-skipping test server's binary (default: MZ_TEST_SERVER, the project's)")
    .option('--case-timeout <seconds>', 'real time a case may take', seconds, 60)
    .action(
      async (
        paths: string[],
        opts: { junit?: string; allowlist: string; testServer?: string; caseTimeout: number },
        cmd: Command,
      ) => {
        const out = createOutput(cmd.optsWithGlobals<{ json?: boolean }>().json === true);
        const files = await listFiles(paths, isTestFile);
        if (!files.length) throw new UsageError(`no test files (*.test.yaml, *.test.json) in ${paths.join(', ')}`);
        // Loaded only here: the other commands never load Temporal's worker.
        const { runTests } = await import('../../workflow-tests/runner.js');
        const { junitXml } = await import('../../workflow-tests/junit.js');
        const started = Date.now();
        const results = await runTests(files, {
          allowlist: opts.allowlist,
          testServer: opts.testServer ?? env.MZ_TEST_SERVER,
          caseTimeoutMs: opts.caseTimeout * 1000,
          onResult: (r) => {
            if (out.json) return;
            const name = `${relative(process.cwd(), r.file)} › ${r.name}`;
            out.print(r.failures.length ? `✗ ${name}\n${r.failures.map((f) => `    ${f}`).join('\n')}` : `✓ ${name}`);
          },
        });
        if (opts.junit) await writeFile(opts.junit, junitXml(results));
        const failed = results.filter((r) => r.failures.length).length;
        const line = `${results.length - failed} passed, ${failed} failed, ${results.length} total (${((Date.now() - started) / 1000).toFixed(1)}s)`;
        out.show({ passed: results.length - failed, failed, results }, () => line);
        if (failed) throw new CommandFailed(`${failed} test${failed === 1 ? '' : 's'} failed`);
      },
    );
}
