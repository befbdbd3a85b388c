// `npm run connectors:generate`: writes src/activities/defaults.generated.ts, the zod-free map of
// connector defaults the workflow reads, from the connector registry.
import { writeFileSync } from 'node:fs';
import { defaultsSource } from '../src/activities/defaults-source.js';
import { registry } from '../src/activities/registry.js';

const target = new URL('../src/activities/defaults.generated.ts', import.meta.url);
writeFileSync(target, defaultsSource(registry));
console.log(`wrote ${target.pathname} (${registry.types.join(', ')})`);
