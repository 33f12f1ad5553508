// OpenTelemetry's X-Ray remote sampler (@opentelemetry/sampler-aws-xray, as
// the ADOT distributions use it) pointed at Roentgen as its X-Ray proxy: with
// its own poll intervals (rules every 5 minutes, targets every 10 s) it
// follows a rule created through @aws-sdk/client-xray after it started (the
// targets' LastRuleModification makes it fetch the rules again), then the
// rule's update, and its statistics reach GetSamplingStatisticSummaries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AWSXRayRemoteSampler } from '@opentelemetry/sampler-aws-xray';
import {
  CreateSamplingRuleCommand, UpdateSamplingRuleCommand, GetSamplingStatisticSummariesCommand,
} from '@aws-sdk/client-xray';
import { startServer } from './lib/server.mjs';
import { xrayClient, eventually, sleep } from './lib/clients.mjs';

const SERVICE = 'otel-checkout';
let server;
let client;
let sampler;
before(async () => {
  server = await startServer();
  client = xrayClient(server.endpoint);
  sampler = new AWSXRayRemoteSampler({
    endpoint: server.endpoint,
    resource: resourceFromAttributes({ 'service.name': SERVICE }),
  });
});
after(async () => {
  sampler?.stopPollers();
  await server?.stop();
});

// `n` decisions for GET /cart spans of the service, spread over `ms`.
async function decisions(n, ms) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = sampler.shouldSample(ROOT_CONTEXT, randomBytes(16).toString('hex'), 'GET /cart', SpanKind.SERVER,
      { 'http.request.method': 'GET', 'url.path': '/cart', 'server.address': 'shop.example' }, []);
    out.push(r.decision === SamplingDecision.RECORD_AND_SAMPLED);
    await sleep(ms / n);
  }
  return out;
}

const rule = (fixedRate) => ({
  RuleName: 'otel-checkout', ResourceARN: '*', Priority: 10, FixedRate: fixedRate, ReservoirSize: 0,
  ServiceName: SERVICE, ServiceType: '*', Host: '*', HTTPMethod: 'GET', URLPath: '/cart', Version: 1,
});

test('the OpenTelemetry X-Ray sampler follows a rule created after it started, and its update', { timeout: 120000 }, async () => {
  await sleep(1000); // the sampler's first GetSamplingRules (the Default rule only)
  await client.send(new CreateSamplingRuleCommand({ SamplingRule: rule(0) }));
  const created = Date.now();
  // Under Default (1 per second, then 5%), 3 s of calls sample some; under
  // the new rule (no reservoir, rate 0) none.
  await eventually(async () => (await decisions(30, 3000)).every((s) => !s) || undefined, { timeoutMs: 40000, intervalMs: 0 });
  const followedCreateMs = Date.now() - created;

  await client.send(new UpdateSamplingRuleCommand({ SamplingRuleUpdate: { RuleName: 'otel-checkout', FixedRate: 1 } }));
  const updated = Date.now();
  await eventually(async () => (await decisions(20, 1000)).every((s) => s) || undefined, { timeoutMs: 40000, intervalMs: 0 });
  const followedUpdateMs = Date.now() - updated;
  // One target poll (10 s, + up to 0.1 s jitter) each, plus the calls' own time.
  assert.ok(followedCreateMs < 30000, `followed the new rule after ${followedCreateMs} ms`);
  assert.ok(followedUpdateMs < 30000, `followed the update after ${followedUpdateMs} ms`);

  // The sampler's statistics for the rule are kept for the summaries.
  const summaries = await eventually(async () => {
    const out = await client.send(new GetSamplingStatisticSummariesCommand({}));
    const mine = out.SamplingStatisticSummaries.filter((s) => s.RuleName === 'otel-checkout');
    const sampled = mine.reduce((n, s) => n + s.SampledCount, 0);
    return sampled > 0 ? mine : undefined;
  }, { timeoutMs: 25000, intervalMs: 1000 });
  assert.ok(summaries.reduce((n, s) => n + s.RequestCount, 0) >= summaries.reduce((n, s) => n + s.SampledCount, 0));
});
