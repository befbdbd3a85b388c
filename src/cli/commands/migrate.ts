import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { ApiProblem } from '../output.js';
import { positiveInt } from './parse.js';

/**
 * `mz migrate <workflowId> <version>`: offers the open runs of older versions the new one
 * (`POST /v1/workflows/{id}/versions/{version}/migrate`); `--dry-run` lists which runs could move.
 */
export function migrateCommand(mz: Command, env: NodeJS.ProcessEnv): void {
  mz.command('migrate <workflowId> <version>')
    .description('move the open runs of older versions to this version, where compatible')
    .option('--from <versions...>', 'only runs of these versions', (v: string, all: number[] = []) => [
      ...all,
      positiveInt(v),
    ])
    .option('--run <ids...>', 'only these runs')
    .option('--dry-run', 'list each run as compatible or not, moving none')
    .action(
      async (
        id: string,
        version: string,
        opts: { from?: number[]; run?: string[]; dryRun?: boolean },
        cmd: Command,
      ) => {
        const ctx = await contextOf(cmd, env);
        const url = `${ctx.target.url}/v1/workflows/${encodeURIComponent(id)}/versions/${positiveInt(version)}/migrate`;
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(ctx.target.token ? { authorization: `Bearer ${ctx.target.token}` } : {}),
          },
          body: JSON.stringify({ fromVersions: opts.from, runIds: opts.run, dryRun: opts.dryRun === true }),
        });
        const body: unknown = await res.json().catch(() => ({}));
        if (!res.ok) throw new ApiProblem(res.status, typeof body === 'object' && body !== null ? body : {});
        ctx.out.show(body, (b) => JSON.stringify(b, null, 2));
      },
    );
}
