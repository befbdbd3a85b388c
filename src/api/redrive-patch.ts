import { registry } from '../activities/registry.js';
import type { DeadLetterRow } from '../db/dead-letters-repo.js';
import { findStep, type Step } from '../definitions/schema.js';
import { validateStep } from '../definitions/validate.js';
import { AppError, invalidDefinition } from '../shared/errors.js';
import type { ApiDeps } from './env.js';

export interface RedrivePatch {
  config?: Record<string, unknown>;
  version?: number;
}

/**
 * The failed step as it should run again: from another version, and/or with config merged in.
 * The result may not reach secrets the failed step could not: a re-drive is a runs:write action,
 * and a patch that could name any secret would let it send that secret anywhere.
 */
export async function patchedStep(
  deps: ApiDeps,
  tenantId: string,
  dl: DeadLetterRow,
  patch: RedrivePatch,
): Promise<Step> {
  const failed = await stepOf(deps, tenantId, dl, dl.version);
  const step =
    patch.version === undefined || patch.version === dl.version
      ? failed
      : await stepOf(deps, tenantId, dl, patch.version);
  const base: Record<string, unknown> = { ...step };
  const config = 'config' in step && typeof step.config === 'object' ? step.config : {};
  const checked = validateStep(patch.config ? { ...base, config: { ...config, ...patch.config } } : base, registry);
  if (!checked.ok) throw invalidDefinition(checked.problems.map((p) => ({ ...p, pointer: `/step${p.pointer}` })));
  const allowed = secretSites(failed);
  const added = [...secretSites(checked.step)].filter((site) => !allowed.has(site));
  if (added.length) {
    throw new AppError({
      code: 'REDRIVE_ADDS_SECRET',
      message: `a re-drive may not reference secrets the failed step did not (${added.join(', ')}); save a new version and trigger a new run instead`,
      httpStatus: 400,
    });
  }
  return checked.step;
}

async function stepOf(deps: ApiDeps, tenantId: string, dl: DeadLetterRow, version: number): Promise<Step> {
  const wf = await deps.workflows.get(tenantId, dl.workflowId, version);
  const step = findStep(wf.definition.steps, dl.stepId);
  if (!step)
    throw new AppError({
      code: 'STEP_NOT_IN_VERSION',
      message: `version ${wf.version} has no step '${dl.stepId}'`,
      httpStatus: 409,
    });
  return step;
}

/**
 * Every place in a step's strings that can reach a secret: each `$secret(...)` call with its
 * argument, a bare `$secret` (bound to a variable and called later) and each `$eval(...)` (which
 * can build either from text). Spacing and quote style are normalised, so only new references count.
 */
export function secretSites(value: unknown): Set<string> {
  const sites = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(SITE)) sites.add(m[0].replace(/\s+/g, '').replaceAll('"', "'"));
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, inner] of Object.entries(v)) {
        visit(k);
        visit(inner);
      }
    }
  };
  visit(value);
  return sites;
}

/** `$secret` or `$eval`, with the call's parentheses when called (one level of nesting inside). */
const SITE = /\$(?:secret|eval)(?![\w$])(?:\s*\((?:[^()'"]|'[^']*'|"[^"]*"|\((?:[^()'"]|'[^']*'|"[^"]*")*\))*\))?/g;
