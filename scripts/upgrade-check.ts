// `npm run upgrade-check [-- --limit 5000]`: before rolling out new worker code, replays the histories
// of the open runs on TEMPORAL_ADDRESS / TEMPORAL_TASK_QUEUE against this checkout's workflow code
// (or WORKFLOW_BUNDLE_PATH) and lists every run the new code would break. Exits 1 when any would.
// Claim-checked and encrypted payloads are decoded as the workers do (DATABASE_URL, PAYLOAD_KEYS).
// With WORKER_DEPLOYMENT_NAME (and WORKER_BUILD_ID, if the workers set one), a clean check prints
// the command that makes the new build current once its workers poll.
import { parseArgs } from 'node:util';
import { createClaimsRepo } from '../src/db/claims-repo.js';
import { createPool } from '../src/db/pool.js';
import { loadConfig } from '../src/shared/config.js';
import { keyRings } from '../src/shared/crypto.js';
import { createLogger } from '../src/shared/logger.js';
import { connectClient, createCodecs, dataConverter } from '../src/temporal/connection.js';
import { deploymentOptions, loadWorkflowBundle } from '../src/worker/versioning.js';
import { replayOpenRuns } from './upgrade-replay.js';

const { values } = parseArgs({ options: { limit: { type: 'string', default: '10000' } } });
const config = loadConfig();
const logger = createLogger('warn', 'upgrade-check');
const pool = config.DATABASE_URL ? createPool(config.DATABASE_URL, logger, 2) : undefined;
const codecs = pool ? createCodecs(config, createClaimsRepo(pool), keyRings(config).payloadRing) : {};
const client = await connectClient(config);
// The very code the new workers will run, so the build id printed below is theirs.
const code = await loadWorkflowBundle(config);
try {
  const report = await replayOpenRuns(client, {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflows: { workflowBundle: { code }, dataConverter: dataConverter(codecs) },
    limit: Number(values.limit),
  });
  for (const b of report.broken) process.stdout.write(`BREAKS ${b.type} ${b.workflowId} (${b.runId}): ${b.error}\n`);
  process.stdout.write(`${report.replayed} open executions replayed, ${report.broken.length} would break\n`);
  process.exitCode = report.broken.length ? 1 : 0;
  const version = deploymentOptions(config, code)?.version;
  if (version && !report.broken.length) process.stdout.write(setCurrentHint(version.deploymentName, version.buildId));
} finally {
  await client.connection.close();
  await pool?.end();
}

function setCurrentHint(deploymentName: string, buildId: string): string {
  const target = `--address ${config.TEMPORAL_ADDRESS} --namespace ${config.TEMPORAL_NAMESPACE}`;
  return [
    `build ${buildId} of worker deployment ${deploymentName}: roll out its workers, then make it current with`,
    `  temporal worker deployment set-current-version ${target} --deployment-name ${deploymentName} --build-id ${buildId}`,
    '',
  ].join('\n');
}
