import { readFileSync } from 'node:fs';
import { validate } from 'kubernetes-models/_schemas/IoK8sApiAutoscalingV2HorizontalPodAutoscaler';
import { parseAllDocuments } from 'yaml';
for (const f of process.argv.slice(2)) for (const d of parseAllDocuments(readFileSync(f, 'utf8'))) {
  const o = d.toJS(); if (o?.kind !== 'HorizontalPodAutoscaler') continue;
  console.log(f, validate(o), JSON.stringify(Reflect.get(validate, 'errors')));
}
