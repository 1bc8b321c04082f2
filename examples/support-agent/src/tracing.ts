/**
 * Send the agent's GenAI spans to an OTLP/HTTP endpoint (protobuf), e.g. Sluice's ingest at
 * `http://127.0.0.1:7700`. The SDK only uses `@opentelemetry/api`; this is the one place the
 * example picks an OpenTelemetry SDK and exporter, as any agent would.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface TracingOptions {
  /** Base URL of the collector; spans go to `<url>/v1/traces`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` (Sluice ingest needs a token with the agent role). */
  token?: string;
  serviceName?: string;
}

/** Install a global tracer provider exporting in batches; returns a shutdown that flushes. */
export function installOtlpTracing(opts: TracingOptions): () => Promise<void> {
  const exporter = new OTLPTraceExporter({
    url: `${opts.url.replace(/\/+$/, '')}/v1/traces`,
    ...(opts.token ? { headers: { Authorization: `Bearer ${opts.token}` } } : {}),
  });
  // Short delay: a rollout's analysis window is seconds long, so spans should not sit in a buffer.
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 200, maxExportBatchSize: 512, maxQueueSize: 8192 });
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'support-agent' }), spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return () => provider.shutdown();
}
