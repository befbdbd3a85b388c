// `npm run build`: copies the SQL migrations next to the compiled code and prebuilds the workflow
// bundle, so a production worker starts without bundling (set WORKFLOW_BUNDLE_PATH to it).
import { cp, writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../src/worker/bundle.js';

const root = new URL('../', import.meta.url);
await cp(new URL('src/db/migrations/', root), new URL('dist/src/db/migrations/', root), { recursive: true });
const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, preloadModules: SHARED_WORKFLOW_MODULES });
await writeFile(new URL('dist/workflow-bundle.js', root), code);
process.stdout.write(`workflow bundle: dist/workflow-bundle.js (${Math.round(code.length / 1024)} KiB)\n`);
