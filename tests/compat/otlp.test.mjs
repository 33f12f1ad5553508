// OTLP ingest with the real OpenTelemetry JS SDK: the protobuf and JSON
// OTLP/HTTP exporters and the gRPC exporter send spans to `roentgen serve`;
// @aws-sdk/client-xray reads the translated X-Ray segments back. A mixed trace
// (aws-xray-sdk-core + OpenTelemetry with the X-Ray propagator) is one trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import {
  trace, context, ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter,
} from '@opentelemetry/api';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { BatchGetTracesCommand, GetTraceSummariesCommand } from '@aws-sdk/client-xray';
import { startServer, freePort } from './lib/server.mjs';
import { xrayClient, eventually } from './lib/clients.mjs';
import { AWSXRay, useDaemon } from './lib/sdk.mjs';
import { otel, xrayTraceId } from './lib/otel.mjs';

let server;
let client;
let grpcPort;
before(async () => {
  grpcPort = await freePort();
  server = await startServer({ args: ['--otlp-grpc-listen', `127.0.0.1:${grpcPort}`] });
  client = xrayClient(server.endpoint);
  useDaemon(server.port);
});
after(async () => {
  const r = await server.stop();
  assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${server.output()}`);
});


// An export is answered once its spans are durable; they are indexed moments
// later, span by span (SimpleSpanProcessor exports each on its own), so wait
// until the trace is complete: `count` segments, and `ready(documents)`.
async function documentsOf(traceId, count, ready = () => true) {
  return eventually(async () => {
    const out = await client.send(new BatchGetTracesCommand({ TraceIds: [traceId] }));
    const segments = out.Traces[0]?.Segments ?? [];
    if (segments.length < count) return undefined;
    const docs = segments.map((s) => JSON.parse(s.Document));
    return ready(docs) ? docs : undefined;
  });
}
const subsegmentCount = (doc) => doc?.subsegments?.length ?? 0;

test('OTLP/HTTP protobuf: a server span and its children become one segment with subsegments', async () => {
  const t0 = Date.now();
  const o = otel('otel-checkout', new ProtoExporter({ url: `${server.endpoint}/v1/traces` }), {
    'cloud.provider': 'aws', 'cloud.platform': 'aws_ec2', 'service.version': '2.4.0',
  });
  const root = o.tracer.startSpan('GET /cart', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET', 'url.full': 'https://shop.example.com/cart', 'http.response.status_code': 200,
      'user_agent.original': 'compat/1.0', 'client.address': '198.51.100.7',
      'aws.xray.annotations': ['customer_tier'], customer_tier: 'gold', 'enduser.id': 'alice', 'cart.items': 3,
    },
  });
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  const call = o.tracer.startSpan('GET', {
    kind: SpanKind.CLIENT,
    attributes: { 'http.method': 'GET', 'http.url': 'http://inventory.internal/items', 'http.status_code': 200 },
  }, ctx);
  const ddb = o.tracer.startSpan('DynamoDB.GetItem', {
    kind: SpanKind.CLIENT,
    attributes: { 'rpc.system': 'aws-api', 'rpc.service': 'DynamoDB', 'rpc.method': 'GetItem', 'aws.region': 'us-east-1' },
  }, ctx);
  ddb.end();
  call.end();
  root.end();
  await o.flush();

  const traceId = xrayTraceId(root.spanContext().traceId);
  const [doc] = await documentsOf(traceId, 1, ([d]) => subsegmentCount(d) === 2);
  assert.equal(doc.name, 'otel-checkout');
  assert.equal(doc.id, root.spanContext().spanId);
  assert.equal(doc.trace_id, traceId);
  assert.equal(doc.origin, 'AWS::EC2::Instance');
  assert.deepEqual(doc.service, { version: '2.4.0' });
  assert.equal(doc.user, 'alice');
  assert.deepEqual(doc.annotations, { customer_tier: 'gold' });
  assert.equal(doc.metadata.default['cart.items'], 3);
  assert.deepEqual(doc.http, {
    request: { method: 'GET', url: 'https://shop.example.com/cart', user_agent: 'compat/1.0', client_ip: '198.51.100.7' },
    response: { status: 200 },
  });
  assert.deepEqual(doc.subsegments.map((s) => [s.id, s.name, s.namespace]).sort(), [
    [call.spanContext().spanId, 'inventory.internal', 'remote'],
    [ddb.spanContext().spanId, 'DynamoDB', 'aws'],
  ].sort());
  const aws = doc.subsegments.find((s) => s.namespace === 'aws');
  assert.deepEqual(aws.aws, { operation: 'GetItem', region: 'us-east-1' });
  assert.ok(doc.start_time >= t0 / 1000 - 1 && doc.end_time >= doc.start_time);

  // The SimpleSpanProcessor exports each span as it ends, children first, so
  // the trace has earlier summaries without the root's HTTP fields. The
  // ClickHouse engine inserts a write's documents before the summaries it
  // derives from them, so for a moment the complete document above can be
  // read beside the previous summary (Http without HttpStatus): wait for the
  // summary with the root's.
  const summaries = await eventually(async () => {
    const out = await client.send(new GetTraceSummariesCommand({
      StartTime: new Date(t0 - 60_000), EndTime: new Date(Date.now() + 60_000),
    }));
    return out.TraceSummaries.find((s) => s.Id === traceId && s.Http?.HttpStatus !== undefined);
  });
  assert.equal(summaries.Http.HttpStatus, 200);
  await o.shutdown();
});

test('OTLP/HTTP JSON: errors, throttles and exceptions map to fault, throttle and cause', async () => {
  const o = otel('otel-payments', new JsonExporter({ url: `${server.endpoint}/v1/traces` }));
  const root = o.tracer.startSpan('POST /pay', {
    kind: SpanKind.SERVER, attributes: { 'http.method': 'POST', 'http.status_code': 503 },
  });
  root.recordException(new TypeError('card service is down'));
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'card service is down' });
  const limited = o.tracer.startSpan('POST', {
    kind: SpanKind.CLIENT, attributes: { 'server.address': 'cards.example.com', 'http.response.status_code': 429 },
  }, trace.setSpan(ROOT_CONTEXT, root));
  limited.end();
  root.end();
  await o.flush();

  const [doc] = await documentsOf(xrayTraceId(root.spanContext().traceId), 1,
    ([d]) => subsegmentCount(d) === 1);
  assert.equal(doc.fault, true);
  assert.equal(doc.error, undefined);
  const [ex] = doc.cause.exceptions;
  assert.equal(ex.type, 'TypeError');
  assert.equal(ex.message, 'card service is down');
  assert.match(ex.id, /^[0-9a-f]{16}$/);
  assert.ok(ex.stack.length > 0);
  assert.match(ex.stack[0].path, /otlp\.test\.mjs$/);
  assert.equal(typeof ex.stack[0].line, 'number');
  const sub = doc.subsegments[0];
  assert.equal(sub.name, 'cards.example.com');
  assert.equal(sub.error, true);
  assert.equal(sub.throttle, true);
  await o.shutdown();
});

test('OTLP/gRPC: spans exported over gRPC are stored', async () => {
  const o = otel('otel-grpc-service', new GrpcExporter({ url: `http://127.0.0.1:${grpcPort}` }));
  const span = o.tracer.startSpan('consume orders', { kind: SpanKind.CONSUMER });
  span.end();
  await o.flush();
  const [doc] = await documentsOf(xrayTraceId(span.spanContext().traceId), 1);
  assert.equal(doc.name, 'otel-grpc-service');
  assert.equal(doc.id, span.spanContext().spanId);
  await o.shutdown();
});

test('a trace begun with aws-xray-sdk-core and continued by OpenTelemetry services is one trace', async () => {
  const propagator = new AWSXRayPropagator();
  const o = otel('otel-inventory', new ProtoExporter({ url: `${server.endpoint}/v1/traces` }));

  // X-Ray-instrumented front end calls the OpenTelemetry service…
  const front = new AWSXRay.Segment('xray-frontend');
  const outgoing = front.addNewSubsegment('otel-inventory');
  outgoing.namespace = 'remote';
  const header = `Root=${front.trace_id};Parent=${outgoing.id};Sampled=1`;

  const incoming = propagator.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': header }, defaultTextMapGetter);
  const stock = o.tracer.startSpan('GET /stock', { kind: SpanKind.SERVER }, incoming);
  // …which calls an X-Ray-instrumented service in turn.
  const call = o.tracer.startSpan('GET', {
    kind: SpanKind.CLIENT, attributes: { 'server.address': 'xray-pricing' },
  }, trace.setSpan(incoming, stock));
  const carrier = {};
  propagator.inject(trace.setSpan(context.active(), call), carrier, defaultTextMapSetter);
  const fields = Object.fromEntries(carrier['x-amzn-trace-id'].split(';').map((kv) => kv.split('=')));
  const pricing = new AWSXRay.Segment('xray-pricing', fields.Root, fields.Parent);
  pricing.close();
  call.end();
  stock.end();
  await o.flush();
  outgoing.close();
  front.close();

  assert.equal(xrayTraceId(stock.spanContext().traceId), front.trace_id);
  const docs = await documentsOf(front.trace_id, 3, (all) =>
    all.every((d) => d.name === 'xray-pricing' || subsegmentCount(d) === 1));
  const byName = new Map(docs.map((d) => [d.name, d]));
  assert.deepEqual([...byName.keys()].sort(), ['otel-inventory', 'xray-frontend', 'xray-pricing']);
  const otelSegment = byName.get('otel-inventory');
  assert.equal(otelSegment.trace_id, front.trace_id);
  assert.equal(otelSegment.parent_id, outgoing.id);
  assert.equal(byName.get('xray-frontend').subsegments[0].id, outgoing.id);
  assert.equal(otelSegment.subsegments[0].id, call.spanContext().spanId);
  assert.equal(byName.get('xray-pricing').parent_id, call.spanContext().spanId);
  await o.shutdown();
});

test('bad bodies: 400 for malformed, 415 for other content types, 413 for oversize; gzip accepted', async () => {
  const url = `${server.endpoint}/v1/traces`;
  let res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { code: 3, message: 'body is not valid JSON' });
  res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
  assert.equal(res.status, 415);
  await res.arrayBuffer();
  // 33 MiB once inflated: over the 32 MiB default body limit.
  res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipSync(Buffer.alloc(33 * 1024 * 1024, 'x')),
  });
  assert.equal(res.status, 413);
  await res.arrayBuffer();

  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const body = JSON.stringify({ resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'curl-like' } }] },
    scopeSpans: [{ spans: [
      { traceId, spanId: 'b7ad6b7169203331', name: 'GET /', kind: 2,
        startTimeUnixNano: String(BigInt(Date.now()) * 1000000n), endTimeUnixNano: String(BigInt(Date.now() + 5) * 1000000n) },
      { traceId, spanId: '00f067aa0ba902b7', name: 'no start' },
    ] }],
  }] });
  res = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(body),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { partialSuccess: {
    rejectedSpans: '1', errorMessage: '1 of 2 spans rejected: span 00f067aa0ba902b7: start_time_unix_nano is missing',
  } });
  const [doc] = await documentsOf(xrayTraceId(traceId), 1);
  assert.equal(doc.name, 'curl-like');

  const metrics = await (await fetch(`${server.endpoint}/metrics`)).text();
  assert.match(metrics, /roentgen_otlp_http_requests_total\{status="400"\} 1/);
  assert.match(metrics, /roentgen_otlp_http_requests_total\{status="415"\} 1/);
  assert.match(metrics, /roentgen_http_requests_total\{path="\/v1\/traces",status="413"\} 1/);
  assert.match(metrics, /roentgen_otlp_spans_rejected_total\{reason="invalid_span",transport="http"\} 1/);
});
