// The real OpenTelemetry JS SDK set up for the compatibility tests.
import assert from 'node:assert/strict';
import { TracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';

// A tracer whose spans go out through `exporter`; every export result is kept.
export function otel(serviceName, exporter, extraResource = {}) {
  const results = [];
  const recording = {
    export(spans, done) {
      exporter.export(spans, (r) => { results.push(r); done(r); });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.(),
  };
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, ...extraResource }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: recording })],
  });
  return {
    tracer: provider.getTracer('roentgen-compat'),
    async flush() {
      await provider.forceFlush();
      for (const r of results) assert.equal(r.code, 0, `export failed: ${r.error}`);
      assert.ok(results.length > 0, 'nothing was exported');
    },
    shutdown: () => provider.shutdown(),
  };
}

// An OpenTelemetry trace id as X-Ray writes it.
export const xrayTraceId = (otelTraceId) => `1-${otelTraceId.slice(0, 8)}-${otelTraceId.slice(8)}`;
