import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** What the worker's OpenTelemetry plugin and the API share: one resource and one span processor. */
export interface Tracing {
  resource: Resource;
  spanProcessor: SpanProcessor;
  shutdown(): Promise<void>;
}

/**
 * Sets up OpenTelemetry tracing for this process: a global tracer provider (so API spans and the
 * Temporal client interceptor join one trace) exporting to `processor`, or over OTLP/HTTP to
 * `otlpEndpoint`. Traces flow API request → start workflow → workflow → every activity.
 */
export function setupTracing(
  serviceName: string,
  opts: { otlpEndpoint?: string; processor?: SpanProcessor },
): Tracing | undefined {
  const spanProcessor =
    opts.processor ??
    (opts.otlpEndpoint ? new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.otlpEndpoint })) : undefined);
  if (!spanProcessor) return undefined;
  const resource = new Resource({ 'service.name': serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  return { resource, spanProcessor, shutdown: () => provider.shutdown() };
}
