import { trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

export type { Logger };

/** The root logger; everything else uses `logger.child({ runId, workflowId, stepId, ... })`. */
export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    // Every line written inside a traced request or activity carries its trace id.
    mixin() {
      const span = trace.getActiveSpan();
      return span ? { traceId: span.spanContext().traceId } : {};
    },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'headers.Authorization', '*.secret', '*.password'],
      censor: '[redacted]',
    },
  });
}
