import { z } from 'zod';
import type { ConnectorDefaults } from './connector.js';
import { registry as defaultRegistry } from './registry.js';
import type { Registry } from './registry-checks.js';

/** One step type as `GET /v1/connectors` shows it. */
export interface CatalogueEntry {
  type: string;
  description: string;
  /** JSON Schema (draft 2020-12) of the step's `config`; a `{{ }}` template may stand for any value. */
  configSchema: Record<string, unknown>;
  defaults: ConnectorDefaults;
  /** A whole step of this type. */
  example: Record<string, unknown>;
  connection?: {
    type: string;
    required: boolean;
    description: string;
    configSchema: Record<string, unknown>;
    example: Record<string, unknown>;
  };
}

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' });

/**
 * Every connector step type with its config's JSON Schema, defaults, description, an example
 * step and the connection it takes, derived from the registry.
 * @example connectorCatalogue().find((c) => c.type === 'email')?.connection?.type // 'smtp'
 */
export function connectorCatalogue(registry: Registry = defaultRegistry): CatalogueEntry[] {
  return registry.types.flatMap((type) => {
    const c = registry.get(type);
    if (!c) return [];
    const { connection: name, config } = c.example;
    const entry: CatalogueEntry = {
      type,
      description: c.description,
      configSchema: jsonSchema(c.configSchema),
      defaults: c.defaults,
      example: { id: `my_${type}`, type, ...(name ? { connection: name } : {}), config },
    };
    const kind = c.connection?.kind;
    if (kind && c.connection) {
      entry.connection = {
        type: kind.type,
        required: c.connection.required,
        description: kind.description,
        configSchema: jsonSchema(kind.storedSchema),
        example: kind.example,
      };
    }
    return [entry];
  });
}
