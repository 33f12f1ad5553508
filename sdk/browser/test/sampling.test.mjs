import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOCAL_DEFAULT, RuleState, Sampler, usableRule, wildcardMatch } from '../dist/xray.js';

test('wildcards: * any run, ? one character, without regard to case', () => {
  const yes = [['*', ''], ['*', 'anything'], ['', ''], ['a?c', 'abc'], ['a*c', 'ac'], ['a*c', 'abbbc'], ['*.example.com', 'api.Example.com'],
    ['/api/*', '/api/notes/1'], ['GET', 'get'], ['a*b*c', 'axxbyyc'], ['*a', 'aaa'], ['??', 'ab'], ['a**', 'a']];
  const no = [['', 'a'], ['a?c', 'ac'], ['a*c', 'abd'], ['/api/*', '/app/x'], ['??', 'abc'], ['POST', 'GET'], ['a*b*c', 'axxbyy']];
  for (const [p, t] of yes) assert.ok(wildcardMatch(p, t), `${p} ~ ${t}`);
  for (const [p, t] of no) assert.ok(!wildcardMatch(p, t), `${p} !~ ${t}`);
});

const rule = (o) => ({ ...LOCAL_DEFAULT, RuleName: 'r', Priority: 1, FixedRate: 0, ReservoirSize: 0, ...o });

test('rules apply in priority order, Default last, and only those this SDK can use', () => {
  const s = new Sampler(async () => ({}), '0'.repeat(24), () => {});
  s.setRules([
    { SamplingRule: { ...LOCAL_DEFAULT, FixedRate: 0, ReservoirSize: 0 } },
    { SamplingRule: rule({ RuleName: 'all-notes', Priority: 20, ServiceName: 'notes-*', FixedRate: 1 }) },
    { SamplingRule: rule({ RuleName: 'no-admin', Priority: 10, ServiceName: 'notes-*', URLPath: '/admin*', FixedRate: 0 }) },
    { SamplingRule: rule({ RuleName: 'arn', Priority: 1, ResourceARN: 'arn:aws:x', FixedRate: 1 }) },
    { SamplingRule: rule({ RuleName: 'attrs', Priority: 1, Attributes: { a: 'b' }, FixedRate: 1 }) },
  ]);
  assert.deepEqual(s.rules.map((r) => r.rule.RuleName), ['no-admin', 'all-notes', 'Default']);
  assert.equal(s.shouldSample({ serviceName: 'notes-web', urlPath: '/notes' }), true);
  assert.equal(s.shouldSample({ serviceName: 'notes-web', urlPath: '/admin/users' }), false);
  assert.equal(s.shouldSample({ serviceName: 'other', urlPath: '/notes' }), false); // Default: nothing
  // A field the request does not have matches any rule.
  assert.equal(s.shouldSample({ serviceName: 'notes-web' }), false); // no-admin matches: URLPath unknown
  assert.ok(!usableRule(rule({ Version: 2 })));
  assert.ok(usableRule(rule({ Attributes: {} })));
});

test('every matcher counts: ServiceType, Host, HTTPMethod', () => {
  const r = new RuleState(rule({ ServiceType: 'AWS::*', Host: '*.example.com', HTTPMethod: 'POST' }));
  assert.ok(r.matches({ serviceType: 'AWS::AppSync::GraphQLAPI', host: 'app.example.com', httpMethod: 'post' }));
  assert.ok(!r.matches({ serviceType: 'client', host: 'app.example.com', httpMethod: 'POST' }));
  assert.ok(!r.matches({ host: 'example.org' }));
  assert.ok(!r.matches({ httpMethod: 'GET' }));
  assert.ok(r.matches({}));
});

test('reservoir: one borrowed a second until a quota arrives, then the quota a second, then FixedRate', () => {
  const r = new RuleState(rule({ ReservoirSize: 10, FixedRate: 0.5 }));
  const never = () => 0.99;
  const t = 1_700_000_000_000;
  assert.equal(r.sample(t, never), true); // borrowed
  assert.equal(r.sample(t + 10, never), false);
  assert.equal(r.sample(t + 1000, never), true); // the next second
  assert.equal(r.sample(t + 1001, () => 0.1), true); // FixedRate 0.5
  assert.deepEqual([r.requests, r.sampled, r.borrowed], [4, 3, 2]);

  r.quota = 3;
  r.quotaUntil = t + 10_000;
  const decisions = Array.from({ length: 5 }, (_, i) => r.sample(t + 2000 + i, never));
  assert.deepEqual(decisions, [true, true, true, false, false]);
  assert.equal(r.borrowed, 2);
  // The quota expired: borrowing again.
  assert.deepEqual([r.sample(t + 11_000, never), r.sample(t + 11_001, never)], [true, false]);
  // A rule with no reservoir never borrows.
  const zero = new RuleState(rule({ ReservoirSize: 0, FixedRate: 0 }));
  assert.equal(zero.sample(t, never), false);
});

test('statistics go out with GetSamplingTargets; its targets set quota and rate; a newer rule change refetches', async () => {
  const calls = [];
  let rulesVersion = 0;
  const s = new Sampler(async (path, body) => {
    calls.push([path, body]);
    if (path === '/GetSamplingRules') {
      rulesVersion++;
      return { SamplingRuleRecords: [{ SamplingRule: rule({ RuleName: 'web', ReservoirSize: 5, FixedRate: 0 }) }, { SamplingRule: LOCAL_DEFAULT }] };
    }
    return { SamplingTargetDocuments: [{ RuleName: 'web', FixedRate: 0.25, ReservoirQuota: 2, ReservoirQuotaTTL: Date.now() / 1000 + 300, Interval: 10 }],
      LastRuleModification: Date.now() / 1000 + 5, UnprocessedStatistics: [] };
  }, 'ab'.repeat(12), (e) => assert.fail(e));
  await s.refreshRules();
  for (let i = 0; i < 3; i++) s.shouldSample({ serviceName: 'x' });
  await s.reportStatistics(1_700_000_000_000);
  const [, body] = calls.find(([p]) => p === '/SamplingTargets');
  assert.deepEqual(body.SamplingStatisticsDocuments, [{ RuleName: 'web', ClientID: 'ab'.repeat(12), Timestamp: 1_700_000_000,
    RequestCount: 3, SampledCount: 1, BorrowCount: 1 }]);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(rulesVersion, 2, 'LastRuleModification after the fetch refetches the rules');
  const web = s.rules[0];
  assert.deepEqual([web.rule.RuleName, web.fixedRate, web.quota, web.requests], ['web', 0.25, 2, 0], 'a refetch keeps the target');
  s.applyTargets({ SamplingTargetDocuments: [{ RuleName: 'web', FixedRate: 0.5, ReservoirQuota: 0, ReservoirQuotaTTL: 1 }] });
  assert.deepEqual([web.fixedRate, web.quota, web.quotaUntil], [0.5, 0, 1000]);
});
