// `npm run upgrade-check [-- --limit 5000]`: before rolling out new worker code, replays the histories
// of the open runs on TEMPORAL_ADDRESS / TEMPORAL_TASK_QUEUE against this checkout's workflow code
// (or WORKFLOW_BUNDLE_PATH) and lists every run the new code would break. Exits 1 when any would.
// Claim-checked and encrypted payloads are decoded as the workers do (DATABASE_URL, PAYLOAD_KEYS).
// With WORKER_DEPLOYMENT_NAME (and WORKER_BUILD_ID, if the workers set one), runs pinned to another
// build are listed apart (they stay there), and a clean check prints the command that makes the new
// build current once its workers poll.
import { parseArgs } from 'node:util';
import proto from '@temporalio/proto';
import { createClaimsRepo } from '../src/db/claims-repo.js';
import { createPool } from '../src/db/pool.js';
import { loadConfig } from '../src/shared/config.js';
import { keyRings } from '../src/shared/crypto.js';
import { createLogger } from '../src/shared/logger.js';
import { connectClient, createCodecs, dataConverter } from '../src/temporal/connection.js';
import { deploymentOptions, loadWorkflowBundle } from '../src/worker/versioning.js';
import { replayOpenRuns } from './upgrade-replay.js';

const { VersioningBehavior } = proto.temporal.api.enums.v1;
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
  const version = deploymentOptions(config, code)?.version;
  let breaks = 0;
  for (const b of report.broken) {
    // A run pinned to another build never meets the new code, unless an operator moves it.
    const pin = version && (await pinnedBuild(b.workflowId, b.runId));
    if (pin && pin !== version.buildId)
      process.stdout.write(`PINNED ${b.type} ${b.workflowId} (${b.runId}) to ${pin}, unaffected: ${b.error}\n`);
    else {
      breaks += 1;
      process.stdout.write(`BREAKS ${b.type} ${b.workflowId} (${b.runId}): ${b.error}\n`);
    }
  }
  process.stdout.write(`${report.replayed} open executions replayed, ${breaks} would break\n`);
  process.exitCode = breaks ? 1 : 0;
  if (version && !breaks) process.stdout.write(setCurrentHint(version.deploymentName, version.buildId));
} finally {
  await client.connection.close();
  await pool?.end();
}

/** The build a run is pinned to, by an operator's override or by its own versioning behaviour. */
async function pinnedBuild(workflowId: string, runId: string): Promise<string | undefined> {
  const { raw } = await client.workflow.getHandle(workflowId, runId).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  const override = info?.versioningOverride?.pinned?.version?.buildId;
  const pinned = info?.behavior === VersioningBehavior.VERSIONING_BEHAVIOR_PINNED;
  return override ?? (pinned ? (info.deploymentVersion?.buildId ?? undefined) : undefined);
}

function setCurrentHint(deploymentName: string, buildId: string): string {
  const target = `--address ${config.TEMPORAL_ADDRESS} --namespace ${config.TEMPORAL_NAMESPACE}`;
  return [
    `build ${buildId} of worker deployment ${deploymentName}: roll out its workers, then make it current with`,
    `  temporal worker deployment set-current-version ${target} --deployment-name ${deploymentName} --build-id ${buildId}`,
    '',
  ].join('\n');
}
