import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { validate as configMap } from 'kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap';
import { validate as service } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Service';
import { validate as deployment } from 'kubernetes-models/_schemas/IoK8sApiAppsV1Deployment';
import { validate as job } from 'kubernetes-models/_schemas/IoK8sApiBatchV1Job';
import { validate as pdb } from 'kubernetes-models/_schemas/IoK8sApiPolicyV1PodDisruptionBudget';
import { validate as hpa } from 'kubernetes-models/_schemas/IoK8sApiAutoscalingV2HorizontalPodAutoscaler';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

// The validators are Ajv's compiled form of the Kubernetes OpenAPI schemas (npm `kubernetes-models`), so this runs offline.
const SCHEMAS: Record<string, (data: unknown) => boolean> = {
  'v1/ConfigMap': configMap,
  'v1/Service': service,
  'apps/v1/Deployment': deployment,
  'batch/v1/Job': job,
  'policy/v1/PodDisruptionBudget': pdb,
  'autoscaling/v2/HorizontalPodAutoscaler': hpa,
};

const DIR = join(import.meta.dirname, '..', '..', 'deploy', 'k8s');

/** The fields these tests read; the schemas check the rest. */
const ManifestSchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.object({ name: z.string() }),
  spec: z
    .object({
      selector: z.object({ matchLabels: z.record(z.string(), z.string()).optional() }).optional(),
      scaleTargetRef: z.object({ name: z.string() }).optional(),
      template: z
        .object({
          spec: z.object({
            terminationGracePeriodSeconds: z.number().optional(),
            containers: z.array(
              z.object({
                readinessProbe: z.unknown().optional(),
                livenessProbe: z.unknown().optional(),
                resources: z.object({ requests: z.unknown(), limits: z.unknown() }).partial().optional(),
              }),
            ),
          }),
        })
        .optional(),
    })
    .optional(),
});
type Manifest = z.infer<typeof ManifestSchema> & { file: string; raw: unknown };

function manifests(): Manifest[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => {
        const raw: unknown = doc.toJS();
        return { ...ManifestSchema.parse(raw), file, raw };
      }),
    );
}

/** Schema errors of one object, as `path: message` lines. */
function schemaErrors(m: { apiVersion: string; kind: string; raw: unknown }): string[] {
  const validate = SCHEMAS[`${m.apiVersion}/${m.kind}`];
  if (!validate) return [`no schema for ${m.apiVersion} ${m.kind}`];
  if (validate(m.raw)) return [];
  const errors: unknown = Reflect.get(validate, 'errors');
  const parsed = z
    .array(z.object({ instancePath: z.string(), keyword: z.string(), params: z.unknown() }))
    .safeParse(errors);
  return parsed.success
    ? parsed.data.map((e) => `${e.instancePath}: ${e.keyword} ${JSON.stringify(e.params)}`)
    : ['invalid'];
}

test('every manifest under deploy/k8s validates against the Kubernetes OpenAPI schema of its kind', () => {
  const all = manifests();
  assert.ok(all.length >= 10, `found ${all.length} objects`);
  for (const m of all) assert.deepEqual(schemaErrors(m), [], `${m.file}: ${m.kind} ${m.metadata.name}`);
});

test('the schema check refuses a malformed Deployment (a string replica count)', () => {
  const api = manifests().find((m) => m.kind === 'Deployment');
  assert.ok(api);
  const broken = z
    .object({ spec: z.record(z.string(), z.unknown()) })
    .passthrough()
    .parse(structuredClone(api.raw));
  broken.spec.replicas = 'two';
  assert.notDeepEqual(schemaErrors({ ...api, raw: broken }), []);
});

test('kustomization.yaml lists every manifest file', () => {
  const { resources } = z
    .object({ resources: z.array(z.string()) })
    .parse(parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]?.toJS());
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  assert.deepEqual(resources.sort(), files.sort());
});

test('each Deployment has probes and resources on every container, a PodDisruptionBudget, and the worker outlives its drain', () => {
  const all = manifests();
  const deployments = all.filter((m) => m.kind === 'Deployment');
  assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), [
    'mini-zaps-api',
    'mini-zaps-triggers',
    'mini-zaps-worker',
  ]);
  const drain = Number(
    /shutdownGraceTime: '(\d+)s'/.exec(
      readFileSync(join(import.meta.dirname, '..', '..', 'src', 'worker', 'worker.ts'), 'utf8'),
    )?.[1],
  );
  assert.ok(drain > 0, 'the worker drain is found in src/worker/worker.ts');
  for (const d of deployments) {
    const pod = d.spec?.template?.spec;
    assert.ok(pod, `${d.metadata.name}: a pod template`);
    for (const c of pod.containers) {
      assert.ok(c.readinessProbe && c.livenessProbe, `${d.metadata.name}: probes`);
      assert.ok(c.resources?.requests && c.resources.limits, `${d.metadata.name}: resources`);
    }
    assert.ok(
      (pod.terminationGracePeriodSeconds ?? 30) > drain,
      `${d.metadata.name}: terminationGracePeriodSeconds > ${drain} s drain`,
    );
    const labels = JSON.stringify(d.spec?.selector?.matchLabels);
    const covered = all.some(
      (m) => m.kind === 'PodDisruptionBudget' && JSON.stringify(m.spec?.selector?.matchLabels) === labels,
    );
    assert.ok(covered, `${d.metadata.name}: a PodDisruptionBudget selects it`);
  }
  const autoscaler = all.find((m) => m.kind === 'HorizontalPodAutoscaler');
  assert.equal(autoscaler?.spec?.scaleTargetRef?.name, 'mini-zaps-worker');
  assert.ok(
    all.some((m) => m.kind === 'Job' && m.metadata.name === 'mini-zaps-migrate'),
    'the migration runs as a Job',
  );
});

test('the backlog-autoscaling component scales the worker on its task queue backlog, and validates', () => {
  const file = join(DIR, 'backlog-autoscaling', 'worker-hpa.yaml');
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => doc.toJS());
  assert.equal(docs.length, 1);
  const raw: unknown = docs[0];
  const m = ManifestSchema.parse(raw);
  assert.deepEqual(schemaErrors({ ...m, raw }), []);
  assert.equal(m.spec?.scaleTargetRef?.name, 'mini-zaps-worker');
  const { metrics } = z
    .object({ spec: z.object({ metrics: z.array(z.object({ type: z.string() }).passthrough()) }) })
    .parse(raw).spec;
  assert.deepEqual(
    metrics.map((x) => x.type),
    ['External'],
  );
  assert.match(JSON.stringify(metrics), /backlog/);
});
