// The OpenTelemetry web SDK set up for X-Ray-compatible traces sent to
// Roentgen (or any OTLP/HTTP endpoint):
// - trace ids with the epoch in their first 8 hex digits (AWSXRayIdGenerator),
//   so they are valid X-Ray trace ids;
// - the page's fetch calls traced as CLIENT spans (FetchInstrumentation);
// - the API told about them in `X-Amzn-Trace-Id: Root=…;Parent=<fetch span
//   id>;Sampled=1` (AWSXRayPropagator), which X-Ray SDKs and AWS services read;
// - spans batched and sent as OTLP/JSON to `exporterUrl` (OTLPTraceExporter).
import { context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, WebTracerProvider } from '@opentelemetry/sdk-trace-web';

export { context, trace };

// serviceName: the segment name the service map shows.
// exporterUrl: where spans go: your backend's relay (same origin, no keys in
//   the page) or Roentgen's /v1/traces when it runs without --keys.
// propagateTo: URLs of other origins that get X-Amzn-Trace-Id (regular
//   expressions or strings); the page's own origin always does.
export function startTracing({ serviceName, exporterUrl, propagateTo = [], scheduledDelayMillis = 1000 }) {
  const provider = new WebTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    idGenerator: new AWSXRayIdGenerator(),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: exporterUrl }), { scheduledDelayMillis }),
    ],
  });
  provider.register({ propagator: new AWSXRayPropagator() });
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new FetchInstrumentation({
        propagateTraceHeaderCorsUrls: propagateTo,
        // The exporter's own requests are not traced (it calls the unwrapped
        // fetch); this also keeps a relay on another path out.
        ignoreUrls: [exporterUrl],
        // The URL without query or fragment, as the X-Ray SDKs record it:
        // query strings carry personal data (emails, tokens) more often than
        // not. The span is still open when this runs.
        applyCustomAttributesOnSpan: (span) => {
          const url = span.attributes?.['url.full'];
          if (typeof url === 'string') span.setAttribute('url.full', url.replace(/[?#].*$/, ''));
        },
      }),
    ],
  });
  return {
    provider,
    tracer: provider.getTracer('web-app'),
    shutdown: async () => {
      unregister();
      await provider.shutdown();
    },
  };
}

// Runs fn inside a new root span carrying the signed-in user's email as an
// X-Ray annotation (listed in `aws.xray.annotations`, so Roentgen and AWS
// X-Ray's OTLP endpoint index it: `annotation.email = "…"` finds the trace)
// and as `enduser.id` (the segment's user). fetch calls made synchronously
// in fn become the span's children: the web SDK's default context manager
// does not follow `await`; call fetch before the first await, or use
// @opentelemetry/context-zone.
export function withUserSpan(tracer, name, email, fn) {
  return tracer.startActiveSpan(name, {
    attributes: { email, 'enduser.id': email, 'aws.xray.annotations': ['email'] },
  }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err);
      span.setStatus({ code: 2, message: String(err?.message ?? err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
